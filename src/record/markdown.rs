//! The human-readable rendering of a launch record (`record.md`): the decision first, then
//! blockers and missing sign-offs, waivers, sign-offs, drift since sign-off, and every phase
//! with its items.
//!
//! Every string that came from the checklist, a person or the network is made terminal-safe
//! and escaped so that it shows as plain text. Inline markup characters (backticks, `*`, `_`,
//! brackets, `~`) are backslash-escaped, so `|` cannot end a table cell. `<`, `>` and `&` become
//! HTML entities, and a line break becomes a space so that it cannot end a table row. The
//! record's strings are already masked, and they are masked here again with the redactor given.

use std::fmt::Write as _;

use super::{LaunchRecord, Predicate, RecordItem};
use crate::redact::Redactor;
use crate::sanitize::terminal_safe;

/// Renders the record as Markdown.
pub fn render(record: &LaunchRecord, redactor: &Redactor) -> String {
    let text = |value: &str| escape(&redactor.redact(value));
    let predicate = &record.predicate;
    let mut out = String::new();
    let _ = writeln!(out, "# Launch record: {}", text(&predicate.checklist.title));
    out.push('\n');
    let _ = writeln!(
        out,
        "**Decision: {}**",
        predicate.decision.as_str().to_uppercase()
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "- Environment: {}",
        text(&predicate.checklist.environment)
    );
    if let Some(version) = &predicate.checklist.version {
        let _ = writeln!(out, "- Checklist version: {}", text(version));
    }
    if let Some(launch_at) = predicate.checklist.launch_at {
        let _ = writeln!(out, "- Launch at: {launch_at}");
    }
    let _ = writeln!(out, "- Generated at: {}", predicate.generated_at);
    let _ = writeln!(out, "- golive version: {}", text(&predicate.golive_version));
    for subject in &record.subject {
        let digest = subject.digest.get("sha256").map_or("", String::as_str);
        let _ = writeln!(
            out,
            "- Subject: {} (sha256 {})",
            text(&subject.name),
            text(digest)
        );
    }
    let _ = writeln!(
        out,
        "- Journal: {} ({} events, head {})",
        text(&predicate.journal.path),
        predicate.journal.length,
        text(&predicate.journal.head)
    );

    out.push_str("\n## Blockers\n\n");
    if predicate.blockers.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| item | title | status |\n| --- | --- | --- |\n");
        for blocker in &predicate.blockers {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                text(&blocker.item),
                text(&blocker.title),
                text(&blocker.status)
            );
        }
    }

    render_missing_sign_offs(&mut out, predicate, redactor);
    render_waivers(&mut out, predicate, redactor);
    render_sign_offs(&mut out, predicate, redactor);
    render_drift(&mut out, predicate, redactor);

    for phase in &predicate.phases {
        let _ = writeln!(
            out,
            "\n## Phase {}: {}\n",
            text(&phase.id),
            text(&phase.title)
        );
        out.push_str("| item | title | severity | required | kind | status | summary |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
        for item in &phase.items {
            render_item_row(&mut out, item, redactor);
        }
        for item in &phase.items {
            render_item_details(&mut out, item, redactor);
        }
    }
    out
}

fn render_item_row(out: &mut String, item: &RecordItem, redactor: &Redactor) {
    let text = |value: &str| escape(&redactor.redact(value));
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |",
        text(&item.id),
        text(&item.title),
        text(&item.severity),
        if item.required { "yes" } else { "no" },
        text(&item.kind),
        text(&item.status),
        text(item.summary.as_deref().unwrap_or("")),
    );
}

/// Writes who marked the item and its notes, for items that have either.
fn render_item_details(out: &mut String, item: &RecordItem, redactor: &Redactor) {
    if item.mark.is_none() && item.notes.is_empty() {
        return;
    }
    let text = |value: &str| escape(&redactor.redact(value));
    let _ = writeln!(out, "\n{}:\n", text(&item.id));
    if let Some(mark) = &item.mark {
        let _ = writeln!(
            out,
            "- marked {} by {} at {}",
            text(&mark.state),
            text(&mark.by),
            mark.at
        );
    }
    for note in &item.notes {
        let _ = writeln!(
            out,
            "- note by {} at {}: {}",
            text(&note.by),
            note.at,
            text(&note.text)
        );
    }
}

fn render_missing_sign_offs(out: &mut String, predicate: &Predicate, redactor: &Redactor) {
    let text = |value: &str| escape(&redactor.redact(value));
    out.push_str("\n## Missing sign-offs\n\n");
    if predicate.missing_sign_offs.is_empty() {
        out.push_str("None.\n");
        return;
    }
    out.push_str("| sign-off | title | role | waiting for phases |\n| --- | --- | --- | --- |\n");
    for missing in &predicate.missing_sign_offs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            text(&missing.id),
            text(&missing.title),
            text(&missing.role),
            text(&missing.waiting_for.join(", "))
        );
    }
}

fn render_waivers(out: &mut String, predicate: &Predicate, redactor: &Redactor) {
    let text = |value: &str| escape(&redactor.redact(value));
    out.push_str("\n## Waivers\n\n");
    if predicate.waivers.is_empty() {
        out.push_str("None.\n");
        return;
    }
    for waiver in &predicate.waivers {
        let expired = if waiver.expired { " (expired)" } else { "" };
        let _ = writeln!(
            out,
            "- {}: {} risk, expires {}{expired}. Reason: {}. Control: {}. Requested by {}, \
             approved by {}, from the {}.",
            text(&waiver.item),
            text(&waiver.risk),
            waiver.expires,
            text(&waiver.reason),
            text(&waiver.control),
            text(&waiver.requested_by),
            text(&waiver.approved_by),
            text(&waiver.source),
        );
    }
}

fn render_sign_offs(out: &mut String, predicate: &Predicate, redactor: &Redactor) {
    let text = |value: &str| escape(&redactor.redact(value));
    out.push_str("\n## Sign-offs\n\n");
    if predicate.sign_offs.is_empty() {
        out.push_str("None.\n");
        return;
    }
    for given in &predicate.sign_offs {
        let _ = writeln!(
            out,
            "- {} ({}): given by {} as {} at {}; item verdict then {}, journal head {}",
            text(&given.id),
            text(&given.title),
            text(&given.by),
            text(&given.role),
            given.at,
            text(&given.state.verdict).to_uppercase(),
            text(&given.state.journal_head),
        );
    }
}

fn render_drift(out: &mut String, predicate: &Predicate, redactor: &Redactor) {
    let text = |value: &str| escape(&redactor.redact(value));
    out.push_str("\n## Drift since sign-off\n\n");
    if predicate.drift.is_empty() {
        out.push_str("None.\n");
        return;
    }
    out.push_str("| item | from | to | sign-off | at | still open |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for line in &predicate.drift {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            text(&line.item),
            text(&line.from),
            text(&line.to),
            text(&line.signoff),
            line.at,
            if line.unresolved { "yes" } else { "no" }
        );
    }
}

/// Escapes text so that Markdown shows it as written, on one line, inside or outside a table.
pub fn escape(text: &str) -> String {
    let safe = terminal_safe(text);
    let mut out = String::with_capacity(safe.len());
    for ch in safe.chars() {
        match ch {
            '\n' | '\t' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // Every string sits after other text on its line, so only inline markup needs
            // escaping: emphasis, code spans, links, images, strikethrough and cell ends.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("`x`"), "\\`x\\`");
        assert_eq!(escape("<script>"), "&lt;script&gt;");
        assert_eq!(escape("line\nbreak"), "line break");
        assert_eq!(escape("\x1b[2J"), "\\\\u{1b}\\[2J");
    }
}
