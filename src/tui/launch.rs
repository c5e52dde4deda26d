//! Waivers, sign-offs and drift in the cockpit: the waiver form (`w`), revoking (`W`), the
//! sign-off popup (`s`), and journaling waiver expiries and drift as the clock and the checks
//! move on.

use crossterm::event::{KeyCode, KeyEvent};
use jiff::Timestamp;

use crate::checklist::{Risk, parse_rfc3339};
use crate::journal::EventKind;
use crate::sanitize::terminal_safe;
use crate::session::{Status, WaiverRequest};

use super::app::{Action, App, ENGINE_ACTOR, Input, LogLevel};
use super::line_input::LineInput;

/// Maximum length of one field of the waiver and sign-off forms, in characters.
pub const FORM_FIELD_MAX_CHARS: usize = 300;

/// Labels of the waiver form's fields, in order.
pub const WAIVER_FIELDS: [&str; 5] = [
    "reason",
    "risk (critical, high, medium, low)",
    "compensating control",
    "expires (RFC 3339 with offset)",
    "approved by (Name <email>)",
];
const REASON: usize = 0;
const RISK: usize = 1;
const CONTROL: usize = 2;
const EXPIRES: usize = 3;
const APPROVER: usize = 4;

/// Time from now that the waiver form proposes as expiry.
const PROPOSED_VALIDITY_HOURS: i64 = 24;

/// The waiver form of one item. The requester is the person at the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverForm {
    pub item: String,
    /// Text of each field, in the order of [`WAIVER_FIELDS`].
    pub fields: [LineInput; 5],
    /// Index of the field being edited.
    pub field: usize,
    /// The reason the last submission was rejected.
    pub error: Option<String>,
}

/// The sign-off popup: the pending sign-offs and the role the person states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffForm {
    /// Ids of the sign-offs not given yet, in checklist order.
    pub pending: Vec<String>,
    /// Index of the selected sign-off in `pending`.
    pub selected: usize,
    pub role: LineInput,
    /// The reason the last submission was rejected.
    pub error: Option<String>,
}

impl App {
    /// Opens the waiver form for the selected item (`w`).
    pub(super) fn open_waiver_form(&mut self) {
        if let Some(item) = self.selected_id() {
            self.open_waiver_form_for(item);
        }
    }

    /// Opens the waiver form for an item, or explains why the item cannot be waived.
    pub(super) fn open_waiver_form_for(&mut self, item: String) {
        let status = self.session.settled_status(&item);
        if status.is_satisfied() {
            self.status_line = Some(format!(
                "`{item}` is {}: only failed or unfinished items can be waived",
                status.word()
            ));
            return;
        }
        if status == Status::Waived {
            self.status_line = Some(format!(
                "`{item}` is already waived: press W to revoke the waiver first"
            ));
            return;
        }
        let proposed = self
            .now
            .checked_add(jiff::SignedDuration::from_hours(PROPOSED_VALIDITY_HOURS))
            .unwrap_or(self.now);
        let mut fields: [LineInput; 5] = Default::default();
        fields[RISK] = LineInput::with_text(Risk::Medium.as_str());
        fields[EXPIRES] = LineInput::with_text(format_time(proposed));
        self.input = Some(Input::Waiver(WaiverForm {
            item,
            fields,
            field: REASON,
            error: None,
        }));
    }

    /// Asks to revoke the selected item's waiver (`W`).
    pub(super) fn revoke_selected_waiver(&mut self) -> Vec<Action> {
        match self.selected_id() {
            Some(item) => self.revoke_waiver_of(item),
            None => Vec::new(),
        }
    }

    /// Asks to revoke an item's waiver, or explains that it has none.
    pub(super) fn revoke_waiver_of(&mut self, item: String) -> Vec<Action> {
        match self.session.revoke_waiver(&item) {
            Ok(_) => vec![Action::RevokeWaiver(item)],
            Err(err) => {
                self.status_line = Some(err.to_string());
                Vec::new()
            }
        }
    }

    /// Opens the popup of pending sign-offs (`s`).
    pub(super) fn open_signoff_form(&mut self) {
        if self.session.required_signoffs().is_empty() {
            self.status_line = Some("the checklist requires no sign-offs".into());
            return;
        }
        let pending: Vec<String> = self
            .session
            .pending_signoffs()
            .into_iter()
            .map(|spec| spec.id.clone())
            .collect();
        if pending.is_empty() {
            self.status_line = Some("every sign-off is given".into());
            return;
        }
        self.input = Some(Input::SignOff(SignOffForm {
            pending,
            selected: 0,
            role: LineInput::new(),
            error: None,
        }));
    }

    /// Applies a key to the open waiver form.
    pub(super) fn handle_waiver_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(Input::Waiver(form)) = self.input.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                self.input = None;
                self.status_line = Some("waiver cancelled".into());
            }
            KeyCode::Tab | KeyCode::Down => form.move_to((form.field + 1) % WAIVER_FIELDS.len()),
            KeyCode::BackTab | KeyCode::Up => {
                form.move_to((form.field + WAIVER_FIELDS.len() - 1) % WAIVER_FIELDS.len());
            }
            KeyCode::Enter if form.field + 1 < WAIVER_FIELDS.len() => {
                form.move_to(form.field + 1);
            }
            KeyCode::Enter => return self.submit_waiver(),
            _ => form.fields[form.field].handle_key(key, FORM_FIELD_MAX_CHARS),
        }
        Vec::new()
    }

    /// Checks the waiver form and returns the waive action, or keeps the form open with the
    /// reason it was rejected.
    fn submit_waiver(&mut self) -> Vec<Action> {
        let Some(Input::Waiver(form)) = self.input.as_ref() else {
            return Vec::new();
        };
        let request = form.request().and_then(|request| {
            self.session
                .waive(&request, &self.actor)
                .map(|_| request)
                .map_err(|err| err.to_string())
        });
        match request {
            Ok(request) => {
                self.input = None;
                vec![Action::Waive(request)]
            }
            Err(message) => {
                if let Some(Input::Waiver(form)) = self.input.as_mut() {
                    form.error = Some(message.clone());
                }
                self.status_line = Some(message);
                Vec::new()
            }
        }
    }

    /// Applies a key to the open sign-off popup.
    pub(super) fn handle_signoff_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(Input::SignOff(form)) = self.input.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                self.input = None;
                self.status_line = Some("sign-off cancelled".into());
            }
            KeyCode::Up => form.selected = form.selected.saturating_sub(1),
            KeyCode::Down => {
                form.selected = (form.selected + 1).min(form.pending.len().saturating_sub(1));
            }
            KeyCode::Enter => {
                let signoff = form.pending.get(form.selected).cloned().unwrap_or_default();
                let role = form.role.text().trim().to_string();
                let head = self.journal.head().to_string();
                match self.session.sign_off(&signoff, &role, &head) {
                    Ok(_) => {
                        self.input = None;
                        return vec![Action::SignOff { signoff, role }];
                    }
                    Err(err) => {
                        form.error = Some(err.to_string());
                        self.status_line = Some(err.to_string());
                    }
                }
            }
            _ => form.role.handle_key(key, FORM_FIELD_MAX_CHARS),
        }
        Vec::new()
    }

    /// Writes a waiver, revocation or sign-off to the journal and applies it. Returns `None`
    /// for other actions, and otherwise whether the session changed.
    pub(super) fn record_launch_action(&mut self, action: &Action) -> Option<bool> {
        let built = match action {
            Action::Waive(request) => self.session.waive(request, &self.actor),
            Action::RevokeWaiver(item) => self.session.revoke_waiver(item),
            Action::SignOff { signoff, role } => {
                let head = self.journal.head().to_string();
                self.session.sign_off(signoff, role, &head)
            }
            _ => return None,
        };
        self.dirty = true;
        let kind = match built {
            Ok(kind) => kind,
            Err(err) => {
                self.status_line = Some(err.to_string());
                return Some(false);
            }
        };
        let (done, not_done) = match action {
            Action::Waive(request) => (
                format!(
                    "{} waived ({} risk) until {}",
                    request.item,
                    request.risk.as_str(),
                    request.expires
                ),
                format!("{} not waived", request.item),
            ),
            Action::RevokeWaiver(item) => (
                format!("{item} waiver revoked"),
                format!("waiver of {item} not revoked"),
            ),
            Action::SignOff { signoff, role } => (
                format!("sign-off {signoff} given as {role}"),
                format!("sign-off {signoff} not given"),
            ),
            _ => return None,
        };
        match self.journal.append(&self.actor, kind) {
            Ok(event) => {
                self.session.apply_event(&event);
                self.error_line = None;
                self.status_line = Some(done.clone());
                let line = match action {
                    Action::Waive(request) => format!(
                        "{done}, requested by {} and approved by {}",
                        self.actor, request.approved_by
                    ),
                    _ => format!("{done} by {}", self.actor),
                };
                self.push_log(event.at, LogLevel::Info, &line);
                self.record_launch_changes();
                Some(true)
            }
            Err(err) => {
                let message = format!("journal write failed, {not_done}: {err}");
                self.error_line = Some(terminal_safe(&message));
                self.push_log(self.now, LogLevel::Error, &message);
                Some(false)
            }
        }
    }

    /// Journals waivers that expired and drift since sign-off that the journal has not
    /// recorded yet. Returns whether anything was recorded.
    pub fn record_launch_changes(&mut self) -> bool {
        let mut recorded = false;
        // Expiries go first because an expired waiver can itself be the drift.
        let expiries = self.session.pending_waiver_expiries();
        for kind in expiries {
            let line = match &kind {
                EventKind::WaiverExpired { item, expires } => {
                    format!("waiver of {item} expired at {expires}: the item is open again")
                }
                _ => String::new(),
            };
            if !self.append_engine_event(kind, &line, LogLevel::Warning) {
                return recorded;
            }
            recorded = true;
        }
        let drift = self.session.pending_drift();
        for kind in drift {
            let line = match &kind {
                EventKind::Drift {
                    item,
                    from,
                    to,
                    signoff,
                } => format!(
                    "DRIFT since sign-off {signoff}: {item} {} → {}",
                    from.word(),
                    to.word()
                ),
                _ => String::new(),
            };
            if !self.append_engine_event(kind, &line, LogLevel::Error) {
                return recorded;
            }
            recorded = true;
        }
        recorded
    }

    /// Appends an event that golive, not a person, causes, and applies it. A failed write is
    /// shown once until a later write succeeds, because the tick retries it.
    fn append_engine_event(&mut self, kind: EventKind, line: &str, level: LogLevel) -> bool {
        match self.journal.append(ENGINE_ACTOR, kind) {
            Ok(event) => {
                self.session.apply_event(&event);
                self.launch_write_failed = false;
                self.dirty = true;
                self.push_log(event.at, level, line);
                true
            }
            Err(err) => {
                if !self.launch_write_failed {
                    let message = format!("journal write failed, not recorded: {line}: {err}");
                    self.error_line = Some(terminal_safe(&message));
                    self.push_log(self.now, LogLevel::Error, &message);
                    self.launch_write_failed = true;
                }
                false
            }
        }
    }
}

impl WaiverForm {
    fn move_to(&mut self, field: usize) {
        self.field = field;
        self.fields[field].move_to_end();
    }

    /// Parses the fields into a request, or returns why they are invalid.
    fn request(&self) -> Result<WaiverRequest, String> {
        let risk_text = self.fields[RISK].text().trim();
        let risk = Risk::parse(risk_text).ok_or_else(|| {
            format!("invalid risk `{risk_text}`: write one of critical, high, medium, low")
        })?;
        let expires = parse_rfc3339(self.fields[EXPIRES].text())
            .map_err(|err| format!("invalid expiry: {err}"))?;
        Ok(WaiverRequest {
            item: self.item.clone(),
            reason: self.fields[REASON].text().trim().to_string(),
            risk,
            control: self.fields[CONTROL].text().trim().to_string(),
            expires,
            approved_by: self.fields[APPROVER].text().trim().to_string(),
        })
    }
}

/// Formats a time as RFC 3339 in UTC, to the second, as the waiver form proposes it.
pub fn format_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
