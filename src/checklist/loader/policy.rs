//! Reading the launch policy: `[[signoffs]]` and `[[waivers]]` of the checklist, and the
//! `[[waivers]]` of its waivers file.
//!
//! A waiver that names an unknown item, has an invalid expiry, misses a field or is approved
//! by its requester is an error that stops the load. A waiver dropped without a word would turn
//! a GO into a NO-GO on launch day, and one accepted without a check would hide a risk.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::{Cx, LoadFailure, Value, check_id, closest, type_with_article};
use crate::checklist::{
    Checklist, ItemBody, LaunchPolicy, Risk, SignOffSpec, WaiverSpec, parse_rfc3339, same_person,
};
use crate::checks::CheckSpec;
use crate::checks::report::FindingWaiver;

const SIGNOFF_KEYS: &[&str] = &["id", "title", "role", "after"];
const WAIVER_KEYS: &[&str] = &[
    "item",
    "reason",
    "risk",
    "control",
    "expires",
    "requested_by",
    "approved_by",
    "findings",
];
const WAIVERS_FILE_KEYS: &[&str] = &["waivers"];

/// Suffix of the waivers file read beside a checklist when `[checklist] waivers_file` is not
/// set: `launch.toml` has `launch.waivers.toml`.
pub const WAIVERS_FILE_SUFFIX: &str = ".waivers.toml";

/// The waivers file of a checklist, and whether the checklist named it, in which case it must
/// exist.
pub(super) struct WaiversFile {
    pub path: PathBuf,
    pub named: bool,
}

/// Reads `[[signoffs]]` and `[[waivers]]` of the checklist. Problems go to `cx`.
pub(super) fn read_policy(
    cx: &mut Cx<'_>,
    root: &DeTable<'_>,
    checklist: &Checklist,
) -> LaunchPolicy {
    let signoffs = read_signoffs(cx, root.get("signoffs"), checklist);
    let mut seen = HashMap::new();
    let waivers = read_waivers(cx, root.get("waivers"), checklist, &mut seen);
    LaunchPolicy { signoffs, waivers }
}

/// Returns the waivers file of a checklist at `checklist_path`: `waivers_file` of
/// `[checklist]`, relative to the checklist's folder, or `<stem>.waivers.toml` beside it.
pub(super) fn waivers_file(
    cx: &mut Cx<'_>,
    root: &DeTable<'_>,
    checklist_path: &Path,
) -> Option<WaiversFile> {
    let folder = checklist_path.parent().unwrap_or(Path::new(""));
    let header = root
        .get("checklist")
        .and_then(|value| match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => None,
        });
    if let Some((name, _)) = header.and_then(|table| cx.string(table, "waivers_file")) {
        return Some(WaiversFile {
            path: folder.join(name),
            named: true,
        });
    }
    let stem = checklist_path.file_stem()?.to_string_lossy();
    Some(WaiversFile {
        path: folder.join(format!("{stem}{WAIVERS_FILE_SUFFIX}")),
        named: false,
    })
}

/// Reads the waivers file and appends its waivers to `policy`. A missing file is an error
/// only when the checklist named it.
///
/// # Errors
///
/// A [`LoadFailure`] whose diagnostics point into the waivers file.
pub(super) fn read_waivers_file(
    file: &WaiversFile,
    checklist: &Checklist,
    policy: &mut LaunchPolicy,
) -> Result<(), LoadFailure> {
    if !file.named && !file.path.is_file() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&file.path).map_err(|err| {
        LoadFailure::whole_file(
            &file.path,
            format!("cannot read waivers file: {err}"),
            Some("fix `waivers_file` in [checklist], or create the file".into()),
        )
    })?;
    let mut cx = Cx {
        path: &file.path,
        text: &text,
        diagnostics: Vec::new(),
    };
    let (document, parse_errors) = DeTable::parse_recoverable(&text);
    if let Some(first) = parse_errors
        .iter()
        .min_by_key(|err| err.span().map(|span| span.start))
    {
        let span = first.span().unwrap_or(0..0);
        cx.error(span, format!("invalid TOML: {}", first.message()), None);
        return Err(cx.failure(Some(&checklist.redactor)));
    }
    let root = document.get_ref();
    cx.check_keys(root, WAIVERS_FILE_KEYS, "a waivers file");
    // Waivers already read from the checklist count as seen, so that an item waived in both
    // places is reported.
    let mut seen: HashMap<String, String> = policy
        .waivers
        .iter()
        .flat_map(seen_keys)
        .map(|key| (key, "the checklist".to_string()))
        .collect();
    let waivers = read_waivers(&mut cx, root.get("waivers"), checklist, &mut seen);
    if cx.has_errors() {
        return Err(cx.failure(Some(&checklist.redactor)));
    }
    policy.waivers.extend(waivers);
    Ok(())
}

fn read_signoffs(
    cx: &mut Cx<'_>,
    value: Option<&Value<'_>>,
    checklist: &Checklist,
) -> Vec<SignOffSpec> {
    let mut signoffs = Vec::new();
    let Some(value) = value else {
        return signoffs;
    };
    let DeValue::Array(array) = value.get_ref() else {
        cx.wrong_type(
            "signoffs",
            value,
            "an array of tables written as [[signoffs]]",
        );
        return signoffs;
    };
    let phase_ids: Vec<&str> = checklist
        .phases
        .iter()
        .map(|phase| phase.id.as_str())
        .collect();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for element in array.iter() {
        let Some(table) = cx.table(element, "signoffs") else {
            continue;
        };
        let id = cx.required_string(table, "id", element.span(), "a sign-off");
        let context = match &id {
            Some((id, _)) => format!("sign-off `{id}`"),
            None => "a sign-off".to_string(),
        };
        cx.check_keys(table, SIGNOFF_KEYS, &context);
        let title = cx.required_string(table, "title", element.span(), &context);
        let role = cx.required_string(table, "role", element.span(), &context);
        if let Some((id, span)) = &id {
            check_id(cx, id, span.clone(), "sign-off");
            match lines.get(*id) {
                Some(line) => cx.error(
                    span.clone(),
                    format!("duplicate sign-off id `{id}`"),
                    Some(format!("the first sign-off with this id is on line {line}")),
                ),
                None => {
                    lines.insert(id.to_string(), cx.line_of(span.start));
                }
            }
        }
        if let Some((role, span)) = &role
            && role.trim().is_empty()
        {
            cx.error(
                span.clone(),
                format!("empty `role` in {context}"),
                Some("write the role that gives it, such as \"qa\" or \"lead\"".into()),
            );
        }
        let after = cx.string_list(table, "after");
        for (phase, span) in &after {
            if !phase_ids.contains(&phase.as_str()) {
                let help = match closest(phase, phase_ids.iter().copied()) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!("phase ids: {}", phase_ids.join(", ")),
                };
                cx.error(
                    span.clone(),
                    format!("unknown phase `{phase}` in `after` of {context}"),
                    Some(help),
                );
            }
        }
        if let (Some((id, _)), Some((title, _)), Some((role, _))) = (id, title, role) {
            signoffs.push(SignOffSpec {
                id: id.to_string(),
                title: title.to_string(),
                role: role.trim().to_string(),
                after: after.into_iter().map(|(phase, _)| phase).collect(),
            });
        }
    }
    signoffs
}

/// Gives each `report` check the finding waivers of its item, so that the check leaves those
/// findings uncounted until the waivers expire.
pub(super) fn attach_finding_waivers(checklist: &mut Checklist, policy: &LaunchPolicy) {
    for waiver in policy
        .waivers
        .iter()
        .filter(|waiver| waiver.is_for_findings())
    {
        let item = checklist
            .phases
            .iter_mut()
            .flat_map(|phase| phase.items.iter_mut())
            .find(|item| item.id == waiver.item);
        let Some(ItemBody::Check(check)) = item.map(|item| &mut item.body) else {
            continue;
        };
        let CheckSpec::Report(report) = &mut check.spec else {
            continue;
        };
        report
            .finding_waivers
            .extend(waiver.findings.iter().map(|key| FindingWaiver {
                key: key.clone(),
                approved_by: waiver.approved_by.clone(),
                expires: waiver.expires,
            }));
    }
}

/// Returns the keys under which a waiver is kept for the duplicate check: the item, or one
/// key per finding of the item.
fn seen_keys(waiver: &WaiverSpec) -> Vec<String> {
    if waiver.findings.is_empty() {
        vec![waiver.item.clone()]
    } else {
        waiver
            .findings
            .iter()
            .map(|finding| finding_seen_key(&waiver.item, finding))
            .collect()
    }
}

fn finding_seen_key(item: &str, finding: &str) -> String {
    format!("{item}\n{finding}")
}

/// Reads an array of waiver tables. `seen` maps each waived item, or item and finding, to
/// where its first waiver is, for the duplicate check.
fn read_waivers(
    cx: &mut Cx<'_>,
    value: Option<&Value<'_>>,
    checklist: &Checklist,
    seen: &mut HashMap<String, String>,
) -> Vec<WaiverSpec> {
    let mut waivers = Vec::new();
    let Some(value) = value else {
        return waivers;
    };
    let DeValue::Array(array) = value.get_ref() else {
        cx.wrong_type(
            "waivers",
            value,
            "an array of tables written as [[waivers]]",
        );
        return waivers;
    };
    for element in array.iter() {
        let Some(table) = cx.table(element, "waivers") else {
            continue;
        };
        if let Some(waiver) = read_waiver(cx, table, element.span(), checklist, seen) {
            waivers.push(waiver);
        }
    }
    waivers
}

fn read_waiver(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    checklist: &Checklist,
    seen: &mut HashMap<String, String>,
) -> Option<WaiverSpec> {
    let item = cx.required_string(table, "item", span.clone(), "a waiver");
    let context = match &item {
        Some((item, _)) => format!("the waiver of `{item}`"),
        None => "a waiver".to_string(),
    };
    cx.check_keys(table, WAIVER_KEYS, &context);
    let text = |cx: &mut Cx<'_>, key: &str| {
        let (value, value_span) = cx.required_string(table, key, span.clone(), &context)?;
        if value.trim().is_empty() {
            cx.error(
                value_span,
                format!("empty `{key}` in {context}"),
                Some(format!("write the {key}; a waiver needs every field")),
            );
            return None;
        }
        Some((value.trim().to_string(), value_span))
    };
    let reason = text(cx, "reason");
    let control = text(cx, "control");
    let requested_by = text(cx, "requested_by");
    let approved_by = text(cx, "approved_by");
    let risk = read_risk(cx, table, span.clone(), &context);
    let expires = read_expires(cx, table, span, &context);
    let findings = read_waived_findings(cx, table, &context)?;
    let item = item.and_then(|(item, item_span)| {
        if findings.is_empty() {
            check_waived_item(cx, item, item_span, checklist, seen)
        } else {
            check_waived_findings(cx, item, item_span, &findings, checklist, seen)
        }
    });
    if let (Some((requested_by, _)), Some((approved_by, approved_span))) =
        (&requested_by, &approved_by)
        && same_person(requested_by, approved_by)
    {
        cx.error(
            approved_span.clone(),
            format!("{context} is approved by its requester `{approved_by}`"),
            Some("a waiver needs the approval of another person than the requester".into()),
        );
        return None;
    }
    Some(WaiverSpec {
        item: item?,
        findings: findings.into_iter().map(|(finding, _)| finding).collect(),
        reason: reason?.0,
        risk: risk?,
        control: control?.0,
        expires: expires?,
        requested_by: requested_by?.0,
        approved_by: approved_by?.0,
    })
}

/// Reads the optional `findings` list of a waiver. Returns `None` after reporting an empty
/// list or an empty entry.
fn read_waived_findings(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    context: &str,
) -> Option<Vec<(String, Range<usize>)>> {
    let findings = cx.string_list(table, "findings");
    if let Some(value) = table.get("findings")
        && findings.is_empty()
        && matches!(value.get_ref(), DeValue::Array(array) if array.is_empty())
    {
        cx.error(
            value.span(),
            format!("empty `findings` in {context}"),
            Some(
                "list the finding keys it covers, or remove `findings` to waive the whole item"
                    .into(),
            ),
        );
        return None;
    }
    if let Some((_, span)) = findings
        .iter()
        .find(|(finding, _)| finding.trim().is_empty())
    {
        cx.error(
            span.clone(),
            format!("empty finding key in {context}"),
            Some("write a key as `rule@location`, or a rule id".into()),
        );
        return None;
    }
    Some(
        findings
            .into_iter()
            .map(|(finding, span)| (finding.trim().to_string(), span))
            .collect(),
    )
}

/// Checks that a finding waiver's item is a `report` check and that none of its findings has
/// another waiver, returning the item's id.
fn check_waived_findings(
    cx: &mut Cx<'_>,
    item: &str,
    span: Range<usize>,
    findings: &[(String, Range<usize>)],
    checklist: &Checklist,
    seen: &mut HashMap<String, String>,
) -> Option<String> {
    let Some(found) = checklist.item(item) else {
        return check_waived_item(cx, item, span, checklist, seen);
    };
    let is_report = found
        .check()
        .is_some_and(|check| check.spec.kind() == "report");
    if !is_report {
        cx.error(
            span,
            format!("item `{item}` is not a `report` check, so it has no findings to waive"),
            Some("remove `findings` to waive the whole item".into()),
        );
        return None;
    }
    let position = format!("line {}", cx.line_of(span.start));
    let mut clean = true;
    for (finding, finding_span) in findings {
        let key = finding_seen_key(item, finding);
        if let Some(first) = seen.get(&key) {
            cx.error(
                finding_span.clone(),
                format!("finding `{finding}` of `{item}` is waived twice"),
                Some(format!(
                    "its first waiver is in {first}; keep one waiver per finding"
                )),
            );
            clean = false;
        } else {
            seen.insert(key, position.clone());
        }
    }
    clean.then(|| item.to_string())
}

/// Checks that a waiver's item exists and has no other waiver, returning its id.
fn check_waived_item(
    cx: &mut Cx<'_>,
    item: &str,
    span: Range<usize>,
    checklist: &Checklist,
    seen: &mut HashMap<String, String>,
) -> Option<String> {
    if checklist.item(item).is_none() {
        let help = match closest(item, checklist.items().map(|item| item.id.as_str())) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => "write the id of an item of the checklist".to_string(),
        };
        cx.error(
            span,
            format!("unknown item `{item}` in a waiver"),
            Some(help),
        );
        return None;
    }
    let here = format!("line {}", cx.line_of(span.start));
    if let Some(first) = seen.get(item) {
        cx.error(
            span,
            format!("item `{item}` is waived twice"),
            Some(format!(
                "its first waiver is in {first}; keep one waiver per item"
            )),
        );
        return None;
    }
    seen.insert(item.to_string(), here);
    Some(item.to_string())
}

fn read_risk(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    context: &str,
) -> Option<Risk> {
    let (text, value_span) = cx.required_string(table, "risk", span, context)?;
    let risk = Risk::parse(text);
    if risk.is_none() {
        cx.error(
            value_span,
            format!("invalid `risk` `{text}` in {context}"),
            Some("write one of critical, high, medium, low".into()),
        );
    }
    risk
}

fn read_expires(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    context: &str,
) -> Option<jiff::Timestamp> {
    let Some(value) = table.get("expires") else {
        cx.error(
            span,
            format!("missing required key `expires` in {context}"),
            Some("add `expires = \"2026-02-16T08:00:00+02:00\"`".into()),
        );
        return None;
    };
    let text = match value.get_ref() {
        DeValue::String(text) => text.to_string(),
        DeValue::Datetime(datetime) => datetime.to_string(),
        other => {
            let found = type_with_article(other);
            cx.error(
                value.span(),
                format!("invalid type for `expires` in {context}: expected an RFC 3339 time, found {found}"),
                None,
            );
            return None;
        }
    };
    match parse_rfc3339(&text) {
        Ok(expires) => Some(expires),
        Err(message) => {
            cx.error(
                value.span(),
                format!("invalid `expires` in {context}"),
                Some(message),
            );
            None
        }
    }
}
