//! Key handling of the full-screen item view, where QA steps through a phase item by item:
//! next and previous item, marks, notes, sending the request and copying it as `curl`.

use crossterm::event::{KeyCode, KeyEvent};

use crate::checks::CheckSpec;
use crate::checks::http::client::RequestParts;
use crate::journal::EventKind;
use crate::sanitize::terminal_safe;
use crate::session::Status;

use super::app::{Action, App, LogLevel, PAGE_ROWS, QaView, step};
use super::curl::{COPY_MAX_BYTES, curl_command};
use super::manual::ManualRunResult;

impl App {
    /// Opens the full-screen view of an item.
    pub fn open_qa(&mut self, item: String) {
        self.qa = Some(QaView { item, scroll: 0 });
        self.dirty = true;
    }

    /// Closes the full-screen view and selects its last item in the cockpit when the item list
    /// can show it.
    pub fn close_qa(&mut self) {
        let Some(view) = self.qa.take() else {
            return;
        };
        self.dirty = true;
        if let Some(position) = self
            .visible_items()
            .iter()
            .position(|item| item.id == view.item)
        {
            self.item = position;
            self.detail_scroll = 0;
            return;
        }
        if !self.filtering()
            && let Some(phase) = self.phase_of(&view.item)
        {
            self.phase = phase;
            self.item = self
                .visible_items()
                .iter()
                .position(|item| item.id == view.item)
                .unwrap_or(0);
            self.detail_scroll = 0;
        }
    }

    /// Returns the position of the full-screen view's item in its phase and the phase's size.
    pub fn qa_position(&self) -> Option<(usize, usize)> {
        let view = self.qa.as_ref()?;
        let phase = self.checklist().phases.get(self.phase_of(&view.item)?)?;
        let position = phase.items.iter().position(|item| item.id == view.item)?;
        Some((position, phase.items.len()))
    }

    /// Applies a key in the full-screen view. `n` and `p` move through the item's phase, with
    /// wrapping, and `q` closes the view instead of quitting.
    pub(super) fn handle_qa_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(view) = self.qa.as_ref() else {
            return Vec::new();
        };
        let id = view.item.clone();
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => self.close_qa(),
            KeyCode::Char('n') => self.step_qa(1),
            KeyCode::Char('p') => self.step_qa(-1),
            KeyCode::Char(' ') => return self.toggle_done_of(id),
            KeyCode::Char('P') => return self.set_mark(id, Status::Done),
            KeyCode::Char('x') => return self.toggle_failed_of(id),
            KeyCode::Char('F') => return self.set_mark(id, Status::Failed),
            KeyCode::Char('a') => self.open_note_for(id),
            KeyCode::Char('w') => self.open_waiver_form_for(id),
            KeyCode::Char('W') => return self.revoke_waiver_of(id),
            KeyCode::Char('s') => self.open_signoff_form(),
            KeyCode::Char('r') => return self.run_in_qa(id),
            KeyCode::Char('c') => return self.copy_curl(&id),
            KeyCode::Char('?') => self.show_help = true,
            KeyCode::Up | KeyCode::Char('k') => self.scroll_qa(-1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll_qa(1),
            KeyCode::PageUp => self.scroll_qa(-(PAGE_ROWS as isize)),
            KeyCode::PageDown => self.scroll_qa(PAGE_ROWS as isize),
            KeyCode::Home | KeyCode::Char('g') => self.scroll_qa(isize::MIN),
            KeyCode::End | KeyCode::Char('G') => self.scroll_qa(isize::MAX),
            _ => {}
        }
        Vec::new()
    }

    /// Shows the next (`delta` 1) or previous (`delta` -1) item of the phase, wrapping around.
    fn step_qa(&mut self, delta: isize) {
        let Some((position, count)) = self.qa_position() else {
            return;
        };
        let Some(view) = self.qa.as_ref() else {
            return;
        };
        let Some(phase) = self
            .phase_of(&view.item)
            .and_then(|index| self.checklist().phases.get(index))
        else {
            return;
        };
        let next = (position as isize + delta).rem_euclid(count as isize) as usize;
        let Some(item) = phase.items.get(next) else {
            return;
        };
        let item = item.id.clone();
        self.qa = Some(QaView { item, scroll: 0 });
    }

    fn scroll_qa(&mut self, delta: isize) {
        let max = usize::from(self.qa_max_scroll.get()) + 1;
        if let Some(view) = self.qa.as_mut() {
            let scroll = step(usize::from(view.scroll), delta, max);
            view.scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
        }
    }

    /// Marks a manual item done or failed, unless it already has that mark.
    fn set_mark(&mut self, id: String, mark: Status) -> Vec<Action> {
        if self.session.status(&id) == mark {
            self.status_line = Some(format!("{id} is already {}", mark.word()));
            return Vec::new();
        }
        if let Err(err) = self.session.check_manual_action(&id) {
            self.status_line = Some(err.to_string());
            return Vec::new();
        }
        match mark {
            Status::Failed => vec![Action::MarkFailed(id)],
            _ => vec![Action::Tick(id)],
        }
    }

    /// Sends a manual item's request, or re-runs an automated item's check.
    fn run_in_qa(&mut self, id: String) -> Vec<Action> {
        let Some(item) = self.checklist().item(&id) else {
            self.status_line = Some(format!("no item with id `{id}`"));
            return Vec::new();
        };
        if !item.is_manual() {
            self.status_line = Some(format!("re-running `{id}`"));
            return vec![Action::Run(id)];
        }
        if item.manual_request().is_none() {
            self.status_line = Some(format!(
                "`{id}` has no request to send: do the steps, then press P or F"
            ));
            return Vec::new();
        }
        if self.requests_in_flight.contains(&id) {
            self.status_line = Some(format!("the request of `{id}` is still in flight"));
            return Vec::new();
        }
        self.status_line = Some(format!("sending the request of `{id}`"));
        vec![Action::SendRequest(id)]
    }

    /// Returns the `curl` command for an item's request, or why there is none.
    pub fn curl_for(&self, id: &str) -> Result<String, String> {
        let checklist = self.checklist();
        let item = checklist
            .item(id)
            .ok_or_else(|| format!("no item with id `{id}`"))?;
        let spec = match (item.manual_request(), item.check()) {
            (Some(request), _) => &request.spec,
            (None, Some(check)) => &check.spec,
            (None, None) => return Err(format!("`{id}` has no request")),
        };
        let parts = single_request(spec)?;
        curl_command(&parts, &checklist.secret_refs, &checklist.redactor)
            .map_err(|err| err.to_string())
    }

    fn copy_curl(&mut self, id: &str) -> Vec<Action> {
        match self.curl_for(id) {
            Ok(command) if command.len() > COPY_MAX_BYTES => {
                self.status_line = Some(format!(
                    "curl command is {} bytes, over the {COPY_MAX_BYTES}-byte clipboard limit, \
                     so it was not copied",
                    command.len()
                ));
                Vec::new()
            }
            Ok(command) => {
                let what = self
                    .checklist()
                    .item(id)
                    .and_then(|item| item.check())
                    .and_then(|check| copied_part(&check.spec))
                    .unwrap_or("");
                self.status_line = Some(format!("copied{what} as curl ({} bytes)", command.len()));
                vec![Action::Copy(command)]
            }
            Err(reason) => {
                self.status_line = Some(format!("cannot copy as curl: {reason}"));
                Vec::new()
            }
        }
    }

    /// Applies the result of a manual item's request: keeps its evidence for the view, appends
    /// a [`EventKind::ManualRun`] event by the person at the keyboard and logs it. The item's
    /// status does not change. Returns whether the event was recorded.
    pub fn apply_manual_run(&mut self, result: ManualRunResult) -> bool {
        self.dirty = true;
        self.requests_in_flight.remove(&result.item_id);
        let item = result.item_id.clone();
        let outcome = result.probe.outcome;
        let summary = result.probe.summary.clone();
        self.manual_results.insert(item.clone(), result);
        let kind = EventKind::ManualRun {
            item: item.clone(),
            outcome,
            summary: summary.clone(),
        };
        match self.journal.append(&self.actor, kind) {
            Ok(event) => {
                self.session.apply_event(&event);
                self.error_line = None;
                let line = format!(
                    "{item} request sent by {}: {} · {summary}",
                    self.actor,
                    outcome.as_str()
                );
                // The result replaces the "sending the request" message.
                self.status_line = Some(line.clone());
                let level = match outcome {
                    crate::checks::Outcome::Pass => LogLevel::Info,
                    _ => LogLevel::Warning,
                };
                self.push_log(event.at, level, &line);
                true
            }
            Err(err) => {
                let message =
                    format!("journal write failed, request result of {item} not recorded: {err}");
                self.error_line = Some(terminal_safe(&message));
                self.push_log(self.now, LogLevel::Error, &message);
                false
            }
        }
    }
}

/// Returns the one request a check sends, or why it has no single `curl` command.
fn single_request(spec: &CheckSpec) -> Result<RequestParts, String> {
    match spec {
        CheckSpec::Http(http) => Ok(http.request_parts()),
        CheckSpec::Headers(headers) => Ok(headers.request_parts()),
        CheckSpec::Cors(cors) => Ok(cors.request_parts()),
        // Every request of the burst is the same, so one of them reproduces it.
        CheckSpec::RateLimit(rate_limit) => Ok(rate_limit.request_parts()),
        CheckSpec::Tls(_) => Err(
            "a `tls` check opens TLS connections and sends no HTTP request, so there is \
             nothing to copy"
                .into(),
        ),
        CheckSpec::Auth(_) => Err(
            "an `auth` check sends one request per credential case; copy is for single requests"
                .into(),
        ),
        CheckSpec::Rbac(_) => Err(
            "a `rbac` check sends one request per role and action; copy is for single requests"
                .into(),
        ),
        CheckSpec::Input(_) => Err(
            "an `input` check sends one request per payload; copy is for single requests".into(),
        ),
        CheckSpec::Report(_) => {
            Err("a `report` check reads a scanner report and sends no request".into())
        }
        other => Err(format!(
            "a `{}` check sends no single HTTP request; copy is for single requests",
            other.kind()
        )),
    }
}

/// Names which request was copied when a check sends more than the copied one.
fn copied_part(spec: &CheckSpec) -> Option<&'static str> {
    match spec {
        CheckSpec::Cors(cors) if cors.preflight => Some(" the request without its preflight"),
        CheckSpec::RateLimit(_) => Some(" one request of the burst"),
        _ => None,
    }
}
