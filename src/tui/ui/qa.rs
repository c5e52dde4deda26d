//! The full-screen item view: everything about one item on one screen, with the request it
//! sends, its `curl` form, the last evidence and the notes, and the view's keys in a footer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::checklist::{Item, ItemBody};
use crate::checks::CheckSpec;
use crate::session::{ItemState, Status};
use crate::tui::app::App;

use super::detail::{
    assertion_lines, check_lines, evidence_lines, heading, manual_lines, note_lines, result_lines,
    wrapped_height,
};
use super::{
    header_height, render_header, render_status_line, safe_line, safe_lines, status_height,
    status_span,
};

/// Keys of the full-screen view, shown in its footer.
const FOOTER: &str =
    " n/p next/prev · P pass · F fail · a note · r run · c copy curl · ? keys · Esc/q back";

/// Every key of the full-screen view with what it does, shown by the help overlay there.
pub const QA_KEYS: &[(&str, &str)] = &[
    ("n  p", "next / previous item of the phase, wrapping around"),
    ("Space", "mark the manual item done; take back a done mark"),
    ("P", "mark the manual item done (passed)"),
    ("x", "mark the manual item failed; take back a failed mark"),
    ("F", "mark the manual item failed"),
    ("a", "add a note to the item (Enter saves, Esc cancels)"),
    ("w  W", "waive the item (opens a form); revoke its waiver"),
    ("s", "give a pending sign-off in your role"),
    ("r", "send the manual item's request, or re-run the check"),
    ("c", "copy the request as a curl command (OSC 52)"),
    (
        "↑ k  ↓ j",
        "scroll; PgUp PgDn by 10 rows, Home g End G to the ends",
    ),
    ("?", "show this help"),
    ("Esc  q", "back to the cockpit"),
    ("Ctrl-C", "quit golive"),
];

/// Draws the full-screen view of the item in [`App::qa`].
pub fn render_qa(frame: &mut Frame, app: &App, area: Rect) {
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(header_height(app)),
        Constraint::Fill(1),
        Constraint::Length(status_height(app, area.width)),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(frame, app, header);

    let item = app
        .qa
        .as_ref()
        .and_then(|view| app.session.item(&view.item));
    let block = Block::bordered()
        .border_style(app.theme.focused_border)
        .title(qa_title(app, item));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    match item {
        Some(item) => render_item(frame, app, item, inner),
        None => {
            let text = Span::styled("this item is no longer in the checklist", app.theme.muted);
            frame.render_widget(Paragraph::new(text), inner);
        }
    }

    // The status row shows an open note, an error or the last message, and stays empty
    // otherwise because the footer already lists the keys.
    if app.input.is_some() || app.error_line.is_some() || app.status_line.is_some() {
        render_status_line(frame, app, status);
    }
    frame.render_widget(
        Paragraph::new(Span::styled(FOOTER, app.theme.muted)),
        footer,
    );
}

fn qa_title(app: &App, item: Option<&Item>) -> Line<'static> {
    let phase = item
        .and_then(|item| app.phase_of(&item.id))
        .and_then(|index| app.checklist().phases.get(index))
        .map(|phase| safe_line(&phase.title))
        .unwrap_or_default();
    let position = match app.qa_position() {
        Some((position, count)) => format!(" · item {} of {count}", position + 1),
        None => String::new(),
    };
    Line::from(format!(" QA · {phase}{position} "))
}

fn render_item(frame: &mut Frame, app: &App, item: &Item, area: Rect) {
    let lines = qa_lines(app, item, area.width);
    let rows = wrapped_height(&lines, area.width);
    app.qa_max_scroll.set(rows.saturating_sub(area.height));
    let paragraph = Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false });
    let scroll = app
        .qa
        .as_ref()
        .map_or(0, |view| view.scroll)
        .min(app.qa_max_scroll.get());
    frame.render_widget(paragraph.scroll((scroll, 0)), area);

    let hidden_rows = app.qa_max_scroll.get().saturating_sub(scroll);
    if hidden_rows > 0 && area.height > 0 {
        let noun = if hidden_rows == 1 { "row" } else { "rows" };
        let marker = format!(" ↓ {hidden_rows} more {noun} (j) ");
        let marker_area = Rect {
            y: area.y + area.height - 1,
            height: 1,
            ..area
        };
        let paragraph = Paragraph::new(Span::styled(marker, app.theme.muted))
            .alignment(ratatui::layout::Alignment::Right);
        frame.render_widget(paragraph, marker_area);
    }
}

/// Builds the view's lines: the item's facts, its steps or check settings, the request with
/// its `curl` form, the last evidence and the notes.
fn qa_lines(app: &App, item: &Item, width: u16) -> Vec<Line<'static>> {
    let state = app.session.state(&item.id);
    let status = app.session.status(&item.id);
    let mut lines = vec![
        Line::from(vec![
            status_span(app, status),
            Span::raw("  "),
            Span::styled(safe_line(&item.title), app.theme.header),
        ]),
        Line::from(Span::styled(
            format!(
                "id {} · severity {} · {} · owner {}",
                safe_line(&item.id),
                item.severity.as_str(),
                if item.required {
                    "required"
                } else {
                    "optional"
                },
                safe_line(item.owner.as_deref().unwrap_or("none")),
            ),
            app.theme.muted,
        )),
    ];
    if !item.depends_on.is_empty() {
        let mut spans = vec![Span::styled("depends on ", app.theme.muted)];
        for (index, dependency) in item.depends_on.iter().enumerate() {
            if index > 0 {
                spans.push(Span::raw(", "));
            }
            spans.push(Span::raw(format!("{} ", safe_line(dependency))));
            spans.push(status_span(app, app.session.status(dependency)));
        }
        lines.push(Line::from(spans));
    }
    if let Some(description) = &item.description {
        lines.push(Line::default());
        lines.extend(safe_lines(description).into_iter().map(Line::from));
    }
    lines.push(Line::default());
    match &item.body {
        ItemBody::Manual(manual) => {
            manual_lines(app, manual, state, &mut lines);
            if let Some(request) = &manual.request {
                for reason in &request.unavailable {
                    lines.push(cannot_send(app, reason));
                }
                request_lines(app, &item.id, &request.spec, &mut lines);
                manual_evidence_lines(app, &item.id, state, width, &mut lines);
            }
        }
        ItemBody::Check(check) => {
            for reason in &check.unavailable {
                lines.push(cannot_send(app, reason));
            }
            check_lines(app, check, &mut lines);
            request_lines(app, &item.id, &check.spec, &mut lines);
            lines.push(Line::default());
            result_lines(app, state, &mut lines);
            if let Some(result) = state.and_then(|state| state.result.as_ref()) {
                evidence_lines(app, &result.evidence, width, &mut lines);
            }
        }
    }
    lines.push(Line::default());
    note_lines(app, state, &mut lines);
    lines
}

fn cannot_send(app: &App, reason: &str) -> Line<'static> {
    Line::from(Span::styled(
        format!("cannot send: {}", safe_line(reason)),
        app.theme.error,
    ))
}

/// Adds the request exactly as golive sends it, secrets masked, and its `curl` form.
fn request_lines(app: &App, id: &str, spec: &CheckSpec, lines: &mut Vec<Line<'static>>) {
    let CheckSpec::Http(http) = spec else {
        return;
    };
    lines.push(Line::default());
    lines.push(heading(app, "Request (secrets masked)"));
    for part in http
        .request_parts()
        .request_lines(&app.checklist().redactor)
    {
        lines.push(Line::from(format!("  {}", safe_line(&part))));
    }
    lines.push(heading(
        app,
        "As curl (c copies; secrets read from their source)",
    ));
    match app.curl_for(id) {
        Ok(command) => lines.push(Line::from(format!("  {}", safe_line(&command)))),
        Err(reason) => lines.push(Line::from(Span::styled(
            format!("  {}", safe_line(&reason)),
            app.theme.muted,
        ))),
    }
}

/// Adds the evidence of the manual item's last request: the full evidence when it was sent in
/// this process, or the outcome the journal recorded.
fn manual_evidence_lines(
    app: &App,
    id: &str,
    state: Option<&ItemState>,
    width: u16,
    lines: &mut Vec<Line<'static>>,
) {
    lines.push(Line::default());
    if app.requests_in_flight.contains(id) {
        lines.push(Line::from(vec![
            Span::styled("Last request ", app.theme.header),
            status_span(app, Status::Running),
            Span::styled(" sending…", app.theme.muted),
        ]));
    }
    let recorded = state.and_then(|state| state.manual_run.as_ref());
    match (app.manual_results.get(id), recorded) {
        (Some(result), _) => {
            let by = recorded
                .map(|record| format!(" by {}", safe_line(&record.actor)))
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled("Last request ", app.theme.header),
                status_span(app, Status::from(result.probe.outcome)),
                Span::styled(
                    format!(
                        " at {} · {} ms{by}",
                        app.clock(result.started_at),
                        result.elapsed_ms
                    ),
                    app.theme.muted,
                ),
            ]));
            lines.push(Line::from(format!(
                "  {}",
                safe_line(&result.probe.summary)
            )));
            assertion_lines(app, &result.probe.evidence, lines);
            evidence_lines(app, &result.probe.evidence, width, lines);
        }
        (None, Some(record)) => {
            lines.push(Line::from(vec![
                Span::styled("Recorded request ", app.theme.header),
                status_span(app, Status::from(record.outcome)),
                Span::styled(
                    format!(
                        " at {} by {} (from the journal)",
                        app.clock(record.at),
                        safe_line(&record.actor)
                    ),
                    app.theme.muted,
                ),
            ]));
            lines.push(Line::from(format!("  {}", safe_line(&record.summary))));
        }
        (None, None) if !app.requests_in_flight.contains(id) => {
            lines.push(Line::from(Span::styled(
                "request not sent yet: press r to send it",
                app.theme.muted,
            )));
        }
        (None, None) => {}
    }
}
