//! Cockpit state and key handling, with no terminal: keys become state changes and
//! [`Action`]s, which the event loop carries out.

use std::cell::Cell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::checklist::{Checklist, Item, LaunchPolicy, Phase};
use crate::engine::EngineEvent;
use crate::journal::{EventKind, Journal};
use crate::sanitize::terminal_safe;
use crate::session::{Session, Status, WaiverRequest};

use super::export::{ExportIdentity, PassphraseInput};
use super::launch::{SignOffForm, WaiverForm};
use super::line_input::LineInput;
use super::manual::ManualRunResult;
use super::theme::Theme;

/// Actor recorded for check outcomes, which no person caused.
pub const ENGINE_ACTOR: &str = "golive";
/// Maximum number of event-log lines kept. Older lines are dropped.
pub const LOG_CAPACITY: usize = 1000;
/// Maximum length of a note, in characters.
pub const NOTE_MAX_CHARS: usize = 500;
/// Maximum length of the item filter, in characters.
pub const FILTER_MAX_CHARS: usize = 200;
/// Rows moved by PgUp and PgDn.
pub(super) const PAGE_ROWS: usize = 10;
/// Columns of the `HH:MM:SS ` time in front of each event-log line, and the indent of the rows
/// that a long line wraps onto.
pub const LOG_PREFIX_WIDTH: usize = 9;

/// A request that key handling leaves to the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Mark a manual item done.
    Tick(String),
    /// Take back a manual item's done or failed mark.
    Untick(String),
    /// Mark a manual item failed.
    MarkFailed(String),
    /// Attach a note to an item.
    AddNote { item: String, text: String },
    /// Re-run one check.
    Run(String),
    /// Re-run every check.
    RunAll,
    /// Send a manual item's request, for evidence only.
    SendRequest(String),
    /// Put the text on the terminal's clipboard.
    Copy(String),
    /// Waive an item, requested by the person at the keyboard.
    Waive(WaiverRequest),
    /// Revoke an item's waiver.
    RevokeWaiver(String),
    /// Give a sign-off in the role the person stated.
    SignOff { signoff: String, role: String },
    /// Write the launch record of the session into a new folder in the working directory.
    Export,
    /// Leave the cockpit.
    Quit,
}

/// The full-screen view of one item, for stepping through a phase item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaView {
    /// Id of the item shown.
    pub item: String,
    /// Lines scrolled down.
    pub scroll: u16,
}

/// The panes that can have keyboard focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Phases,
    Items,
    Detail,
    Blockers,
    Log,
}

impl Pane {
    const ORDER: [Pane; 5] = [
        Pane::Phases,
        Pane::Items,
        Pane::Detail,
        Pane::Blockers,
        Pane::Log,
    ];

    fn index(self) -> usize {
        Pane::ORDER
            .iter()
            .position(|pane| *pane == self)
            .unwrap_or(0)
    }

    /// Returns the pane after this one, wrapping around.
    pub fn next(self) -> Pane {
        Pane::ORDER[(self.index() + 1) % Pane::ORDER.len()]
    }

    /// Returns the pane before this one, wrapping around.
    pub fn previous(self) -> Pane {
        Pane::ORDER[(self.index() + Pane::ORDER.len() - 1) % Pane::ORDER.len()]
    }
}

/// A one-line text input that has the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Typing edits the item filter, which applies as it changes.
    Filter(LineInput),
    /// Typing edits a note for the item.
    Note { item: String, text: LineInput },
    /// The waiver form of an item has the keyboard.
    Waiver(WaiverForm),
    /// The sign-off popup has the keyboard.
    SignOff(SignOffForm),
    /// Typing enters the signing key's passphrase, never shown.
    Passphrase(PassphraseInput),
}

/// Severity of an event-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warning,
    Error,
}

/// One line of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Timestamp,
    pub level: LogLevel,
    /// Terminal-safe text on one line, without the time.
    pub text: String,
}

/// Everything the cockpit shows, and the journal that manual actions are written to.
pub struct App {
    pub session: Session,
    /// Items whose checks must run again because a finding waiver they relied on expired; the
    /// event loop takes them with [`App::take_reruns`].
    reruns: Vec<String>,
    pub journal: Box<dyn Journal>,
    /// The person at the keyboard, recorded with every manual event.
    pub actor: String,
    pub theme: Theme,
    /// The time the clocks show. The event loop advances it and tests fix it.
    pub now: Timestamp,
    /// The time zone of times shown on screen.
    pub time_zone: TimeZone,
    /// Index of the selected phase in the checklist.
    pub phase: usize,
    /// Index of the selected item among [`App::visible_items`].
    pub item: usize,
    pub focus: Pane,
    /// Case-insensitive text that items must contain to be listed. While it is not empty, items
    /// of every phase are listed.
    pub filter: String,
    pub input: Option<Input>,
    pub show_help: bool,
    pub log: VecDeque<LogLine>,
    /// Screen rows scrolled up from the newest log row, where 0 follows new lines.
    pub log_scroll: usize,
    /// Text width and height of the event log, as measured by the last render. A width of 0
    /// means not drawn yet, and then every line counts as one row.
    pub log_view: Cell<(u16, u16)>,
    /// Index of the selected entry among the verdict's blockers.
    pub blocker: usize,
    /// Lines scrolled down in the detail pane.
    pub detail_scroll: u16,
    /// The largest useful detail scroll, as measured by the last render.
    pub detail_max_scroll: Cell<u16>,
    /// A message about the last key, cleared by the next key.
    pub status_line: Option<String>,
    /// An error that stays visible until Esc, a later successful journal write or a later
    /// successful export.
    pub error_line: Option<String>,
    /// Whether the screen needs to be redrawn.
    pub dirty: bool,
    /// The full-screen item view, when open.
    pub qa: Option<QaView>,
    /// The largest useful scroll of the full-screen view, as measured by the last render.
    pub qa_max_scroll: Cell<u16>,
    /// Ids of manual items whose request is in flight.
    pub requests_in_flight: HashSet<String>,
    /// The latest result of each manual item's request sent in this process, with its evidence.
    pub manual_results: HashMap<String, ManualRunResult>,
    /// Whether the last write of a waiver expiry or drift event failed, so that the retry on
    /// every tick does not repeat the error.
    pub launch_write_failed: bool,
    /// The identity that signs records exported with `E`.
    pub export_identity: ExportIdentity,
    /// The passphrase typed for the next export, taken by [`App::export_record`].
    pub(super) export_passphrase: Option<zeroize::Zeroizing<String>>,
}

impl App {
    /// Builds the state over a checklist with no sign-offs and no waivers, and replays the
    /// journal's events into it.
    pub fn new(
        checklist: Arc<Checklist>,
        journal: Box<dyn Journal>,
        actor: String,
        theme: Theme,
    ) -> App {
        App::with_policy(checklist, LaunchPolicy::default(), journal, actor, theme)
    }

    /// Builds the state over a checklist and its sign-offs and waivers, and replays the
    /// journal's events into it.
    pub fn with_policy(
        checklist: Arc<Checklist>,
        policy: LaunchPolicy,
        journal: Box<dyn Journal>,
        actor: String,
        theme: Theme,
    ) -> App {
        let now = Timestamp::now();
        let mut session = Session::with_policy(checklist, policy);
        session.set_now(now);
        for event in journal.events() {
            session.apply_event(event);
        }
        let warnings: Vec<String> = journal.warnings().to_vec();
        let mut app = App {
            reruns: Vec::new(),
            session,
            journal,
            actor,
            theme,
            now,
            time_zone: TimeZone::system(),
            phase: 0,
            item: 0,
            focus: Pane::Items,
            filter: String::new(),
            input: None,
            show_help: false,
            log: VecDeque::new(),
            log_scroll: 0,
            log_view: Cell::new((0, 0)),
            blocker: 0,
            detail_scroll: 0,
            detail_max_scroll: Cell::new(u16::MAX),
            status_line: None,
            error_line: None,
            dirty: true,
            qa: None,
            qa_max_scroll: Cell::new(u16::MAX),
            requests_in_flight: HashSet::new(),
            manual_results: HashMap::new(),
            launch_write_failed: false,
            export_identity: ExportIdentity::default(),
            export_passphrase: None,
        };
        let session_line = app.session_line();
        app.push_log(now, LogLevel::Info, &session_line);
        for warning in warnings {
            app.push_log(now, LogLevel::Warning, &warning);
        }
        app
    }

    /// Returns the event-log line that tells whether the session is new or resumed, where its
    /// journal is, and where a replaced journal was moved.
    fn session_line(&self) -> String {
        let events = self.journal.events();
        let location = self.journal.location();
        // A journal that holds only its start has recorded nothing to resume: `journal::file`
        // writes that event when it creates the file.
        let fresh = match events {
            [] => true,
            [only] => matches!(only.kind, EventKind::SessionStarted { .. }),
            _ => false,
        };
        if !fresh {
            let noun = if events.len() == 1 { "event" } else { "events" };
            return format!("resumed session: {} {noun} from {location}", events.len());
        }
        match self.journal.set_aside_location() {
            Some(previous) => {
                format!("new session: {location}; the previous journal was moved to {previous}")
            }
            None => format!("new session: {location}"),
        }
    }

    /// Returns the checklist of the session.
    pub fn checklist(&self) -> &Arc<Checklist> {
        self.session.checklist()
    }

    /// Returns the selected phase, if the checklist has any.
    pub fn selected_phase(&self) -> Option<&Phase> {
        self.checklist().phases.get(self.phase)
    }

    /// Items listed in the item pane, in checklist order: the items of the selected phase, or
    /// while a filter is set, the items of every phase that match it.
    pub fn visible_items(&self) -> Vec<&Item> {
        if self.filtering() {
            return self
                .checklist()
                .items()
                .filter(|item| self.matches_filter(item))
                .collect();
        }
        match self.selected_phase() {
            Some(phase) => phase.items.iter().collect(),
            None => Vec::new(),
        }
    }

    /// Returns whether a filter is set, so that the item pane lists matches from every phase.
    pub fn filtering(&self) -> bool {
        !self.filter.trim().is_empty()
    }

    /// Returns the index of the phase that contains an item.
    pub fn phase_of(&self, item_id: &str) -> Option<usize> {
        self.checklist()
            .phases
            .iter()
            .position(|phase| phase.items.iter().any(|item| item.id == item_id))
    }

    /// Returns whether an item matches the filter by id, title, owner, severity or status word.
    pub fn matches_filter(&self, item: &Item) -> bool {
        let needle = self.filter.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        let status = self.session.status(&item.id);
        [
            item.id.as_str(),
            item.title.as_str(),
            item.owner.as_deref().unwrap_or(""),
            item.severity.as_str(),
            status.word(),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(&needle))
    }

    /// Returns the item under the cursor.
    pub fn selected_item(&self) -> Option<&Item> {
        self.visible_items().get(self.item).copied()
    }

    /// Appends a line to the event log, dropping the oldest beyond [`LOG_CAPACITY`].
    pub fn push_log(&mut self, at: Timestamp, level: LogLevel, text: &str) {
        // One line per entry, so that the row count used for scrolling matches the drawing.
        // A secret typed by a person, such as in a note, is masked like everywhere else.
        let text = self.session.checklist().redactor.redact(text);
        let text = terminal_safe(&text).replace('\n', " ").replace('\t', "  ");
        self.log.push_back(LogLine { at, level, text });
        while self.log.len() > LOG_CAPACITY {
            self.log.pop_front();
        }
        if self.log_scroll > 0 {
            // Keep the rows a person scrolled to in place while new ones arrive.
            let added = self.log.back().map_or(0, |line| self.log_row_count(line));
            self.log_scroll = (self.log_scroll + added).min(self.log_max_scroll());
        }
        self.dirty = true;
    }

    /// Returns the screen rows one log line takes at the measured width.
    fn log_row_count(&self, line: &LogLine) -> usize {
        let (width, _) = self.log_view.get();
        if width == 0 {
            return 1;
        }
        let text_width = usize::from(width).saturating_sub(LOG_PREFIX_WIDTH);
        wrap_text(&line.text, text_width).len()
    }

    /// Returns the largest useful log scroll: the one that shows the oldest row at the top.
    pub fn log_max_scroll(&self) -> usize {
        let (_, height) = self.log_view.get();
        let rows: usize = self.log.iter().map(|line| self.log_row_count(line)).sum();
        rows.saturating_sub(usize::from(height.max(1)))
    }

    /// Formats a time as `HH:MM:SS` in the display time zone.
    pub fn clock(&self, at: Timestamp) -> String {
        at.to_zoned(self.time_zone.clone())
            .strftime("%H:%M:%S")
            .to_string()
    }

    /// Returns the T-minus clock text, or `None` when the checklist sets no launch time.
    pub fn countdown(&self) -> Option<String> {
        let launch_at = self.checklist().launch_at?;
        Some(format_countdown(launch_at, self.now))
    }

    /// Returns and clears the items whose checks must run again.
    pub fn take_reruns(&mut self) -> Vec<String> {
        std::mem::take(&mut self.reruns)
    }

    /// Advances the clock, marking the screen dirty only when a visible clock changed or a
    /// waiver expired. Expired waivers and the drift they cause are journaled.
    pub fn set_now(&mut self, now: Timestamp) {
        let before = self.countdown();
        let decision_before = self.session.decision(self.session.now());
        for item in self
            .session
            .finding_waivers_expired_between(self.session.now(), now)
        {
            self.push_log(
                now,
                LogLevel::Warning,
                &format!("a finding waiver of {item} expired; running its check again"),
            );
            self.reruns.push(item);
        }
        self.now = now;
        self.session.set_now(now);
        if self.countdown() != before || self.session.decision(now) != decision_before {
            self.dirty = true;
        }
        if self.record_launch_changes() {
            self.dirty = true;
        }
    }

    /// Applies a key press: changes selection, inputs and overlays, and returns what the event
    /// loop must carry out. Key releases are ignored.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        self.dirty = true;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return vec![Action::Quit];
        }
        if self.input.is_some() {
            return self.handle_input_key(key);
        }
        self.status_line = None;
        if self.show_help {
            // The overlay promises that any key closes it, so no key acts while it is open.
            self.show_help = false;
            return Vec::new();
        }
        if self.qa.is_some() {
            return self.handle_qa_key(key);
        }
        match key.code {
            KeyCode::Char('q') => return vec![Action::Quit],
            KeyCode::Char('?') => self.show_help = true,
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.previous(),
            KeyCode::Left | KeyCode::Char('h') => self.focus = self.focus.previous(),
            KeyCode::Right | KeyCode::Char('l') => self.focus = self.focus.next(),
            KeyCode::Enter if self.focus == Pane::Phases => self.focus = Pane::Items,
            // The detail pane shows the selected item, so Enter opens its QA view there too.
            KeyCode::Enter if matches!(self.focus, Pane::Items | Pane::Detail) => {
                if let Some(id) = self.selected_id() {
                    self.open_qa(id);
                }
            }
            KeyCode::Enter if self.focus == Pane::Blockers => self.jump_to_blocker(),
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-(PAGE_ROWS as isize)),
            KeyCode::PageDown => self.move_by(PAGE_ROWS as isize),
            KeyCode::Home | KeyCode::Char('g') => self.move_by(isize::MIN),
            KeyCode::End | KeyCode::Char('G') => self.move_by(isize::MAX),
            KeyCode::Char(' ') => return self.toggle_done(),
            KeyCode::Char('x') => return self.toggle_failed(),
            KeyCode::Char('n') => self.open_note(),
            KeyCode::Char('w') => self.open_waiver_form(),
            KeyCode::Char('W') => return self.revoke_selected_waiver(),
            KeyCode::Char('s') => self.open_signoff_form(),
            KeyCode::Char('E') => {
                self.status_line = Some("exporting the launch record".into());
                return vec![Action::Export];
            }
            KeyCode::Char('r') => return self.run_selected(),
            KeyCode::Char('R') => {
                self.status_line = Some("re-running every check".into());
                return vec![Action::RunAll];
            }
            KeyCode::Char('/') => {
                self.input = Some(Input::Filter(LineInput::with_text(self.filter.clone())));
            }
            KeyCode::Esc => {
                if !self.filter.is_empty() {
                    self.clear_filter();
                } else {
                    self.error_line = None;
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn handle_input_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(input) = self.input.as_mut() else {
            return Vec::new();
        };
        match input {
            Input::Waiver(_) => self.handle_waiver_key(key),
            Input::SignOff(_) => self.handle_signoff_key(key),
            Input::Passphrase(_) => self.handle_passphrase_key(key),
            Input::Filter(line) => {
                match key.code {
                    KeyCode::Enter => self.input = None,
                    KeyCode::Esc => {
                        self.input = None;
                        self.clear_filter();
                    }
                    _ => {
                        line.handle_key(key, FILTER_MAX_CHARS);
                        self.filter = line.text().to_string();
                    }
                }
                self.clamp_item();
                self.detail_scroll = 0;
                Vec::new()
            }
            Input::Note { item, text } => match key.code {
                KeyCode::Enter => {
                    let item = item.clone();
                    let text = text.text().trim().to_string();
                    self.input = None;
                    if text.is_empty() {
                        self.status_line = Some("empty note discarded".into());
                        Vec::new()
                    } else {
                        vec![Action::AddNote { item, text }]
                    }
                }
                KeyCode::Esc => {
                    self.input = None;
                    self.status_line = Some("note cancelled".into());
                    Vec::new()
                }
                _ => {
                    text.handle_key(key, NOTE_MAX_CHARS);
                    Vec::new()
                }
            },
        }
    }

    /// Moves the cursor of the focused pane. `isize::MIN` and `isize::MAX` jump to the ends.
    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Phases => {
                let count = self.checklist().phases.len();
                let phase = step(self.phase, delta, count);
                if phase != self.phase {
                    self.phase = phase;
                    self.item = 0;
                    self.detail_scroll = 0;
                }
            }
            Pane::Items => {
                let item = step(self.item, delta, self.visible_items().len());
                if item != self.item {
                    self.item = item;
                    self.detail_scroll = 0;
                }
            }
            Pane::Detail => {
                let max = usize::from(self.detail_max_scroll.get()) + 1;
                let scroll = step(usize::from(self.detail_scroll), delta, max);
                self.detail_scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
            }
            Pane::Blockers => {
                let count = self.session.verdict().blockers.len();
                self.blocker = step(self.blocker, delta, count);
            }
            Pane::Log => {
                // The log scrolls from the newest row up, so moving up means scrolling back.
                let max = self.log_max_scroll();
                let scroll = step(self.log_scroll.min(max), delta.saturating_neg(), max + 1);
                self.log_scroll = scroll;
            }
        }
    }

    fn clamp_item(&mut self) {
        let count = self.visible_items().len();
        self.item = self.item.min(count.saturating_sub(1));
    }

    /// Clears the filter and lists the selected phase again, keeping the selected item when it
    /// belongs to that phase.
    fn clear_filter(&mut self) {
        let selected = self.selected_item().map(|item| item.id.clone());
        self.filter.clear();
        self.item = selected
            .and_then(|id| self.visible_items().iter().position(|item| item.id == id))
            .unwrap_or(0);
        self.detail_scroll = 0;
    }

    /// Selects the phase and the item of the selected blocker, and focuses the item pane.
    fn jump_to_blocker(&mut self) {
        let verdict = self.session.verdict();
        // The list may have shrunk since the selection moved, as the render also assumes.
        let index = self.blocker.min(verdict.blockers.len().saturating_sub(1));
        let Some(blocker) = verdict.blockers.get(index) else {
            self.status_line = Some("no blocker selected".into());
            return;
        };
        let id = blocker.item_id.clone();
        let Some(phase) = self.phase_of(&id) else {
            self.status_line = Some(format!("no item with id `{id}`"));
            return;
        };
        self.filter.clear();
        self.phase = phase;
        self.item = self
            .visible_items()
            .iter()
            .position(|item| item.id == id)
            .unwrap_or(0);
        self.detail_scroll = 0;
        self.focus = Pane::Items;
    }

    pub(super) fn selected_id(&mut self) -> Option<String> {
        let id = self.selected_item().map(|item| item.id.clone());
        if id.is_none() {
            self.status_line = Some("no item selected".into());
        }
        id
    }

    fn toggle_done(&mut self) -> Vec<Action> {
        match self.selected_id() {
            Some(id) => self.toggle_done_of(id),
            None => Vec::new(),
        }
    }

    pub(super) fn toggle_done_of(&mut self, id: String) -> Vec<Action> {
        if self.session.status(&id) == Status::Done {
            return vec![Action::Untick(id)];
        }
        match self.session.check_manual_action(&id) {
            Ok(_) => vec![Action::Tick(id)],
            Err(err) => {
                self.status_line = Some(err.to_string());
                Vec::new()
            }
        }
    }

    fn toggle_failed(&mut self) -> Vec<Action> {
        match self.selected_id() {
            Some(id) => self.toggle_failed_of(id),
            None => Vec::new(),
        }
    }

    pub(super) fn toggle_failed_of(&mut self, id: String) -> Vec<Action> {
        if self.session.status(&id) == Status::Failed {
            return vec![Action::Untick(id)];
        }
        match self.session.check_manual_action(&id) {
            Ok(_) => vec![Action::MarkFailed(id)],
            Err(err) => {
                self.status_line = Some(err.to_string());
                Vec::new()
            }
        }
    }

    fn open_note(&mut self) {
        if let Some(item) = self.selected_id() {
            self.open_note_for(item);
        }
    }

    pub(super) fn open_note_for(&mut self, item: String) {
        self.input = Some(Input::Note {
            item,
            text: LineInput::new(),
        });
    }

    fn run_selected(&mut self) -> Vec<Action> {
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
        let item = self.checklist().item(&id);
        let has_request = item.is_some_and(|item| item.manual_request().is_some());
        if has_request {
            self.status_line = Some(format!(
                "`{id}` is a manual step with a request: press Enter, then r to send it"
            ));
            return Vec::new();
        }
        if item.is_some_and(Item::is_manual) {
            self.status_line = Some(format!(
                "`{id}` is a manual step: press Space to tick it or x to mark it failed"
            ));
            return Vec::new();
        }
        self.status_line = Some(format!("re-running `{id}`"));
        vec![Action::Run(id)]
    }

    /// Writes a manual action to the journal and, once it is durable, applies it to the
    /// session. Returns whether the session changed. A journal error is shown in the error line
    /// and leaves the session as it was. Actions other than marks and notes are ignored.
    pub fn record(&mut self, action: &Action) -> bool {
        if let Some(changed) = self.record_launch_action(action) {
            return changed;
        }
        let (item, kind, verb, not_done) = match action {
            Action::Tick(item) => {
                let kind = EventKind::Ticked { item: item.clone() };
                (item, kind, "ticked", "not ticked")
            }
            // Taking back a failed mark is journaled as an untick, but reads as what it undoes.
            Action::Untick(item) if self.session.status(item) == Status::Failed => {
                let kind = EventKind::Unticked { item: item.clone() };
                (
                    item,
                    kind,
                    "failure mark cleared",
                    "failure mark not cleared",
                )
            }
            Action::Untick(item) => {
                let kind = EventKind::Unticked { item: item.clone() };
                (item, kind, "unticked", "not unticked")
            }
            Action::MarkFailed(item) => {
                let kind = EventKind::MarkedFailed { item: item.clone() };
                (item, kind, "marked failed", "not marked failed")
            }
            Action::AddNote { item, text } => {
                let kind = EventKind::Note {
                    item: item.clone(),
                    text: text.clone(),
                };
                (item, kind, "noted", "not noted")
            }
            Action::Run(_)
            | Action::RunAll
            | Action::SendRequest(_)
            | Action::Copy(_)
            | Action::Waive(_)
            | Action::RevokeWaiver(_)
            | Action::SignOff { .. }
            | Action::Export
            | Action::Quit => return false,
        };
        self.dirty = true;
        // Key handling validated the action, but check again so that this method is safe to
        // call on its own.
        let allowed = match action {
            Action::Tick(_) | Action::MarkFailed(_) => self
                .session
                .check_manual_action(item)
                .map(|_| ())
                .map_err(|err| err.to_string()),
            _ if self.checklist().item(item).is_none() => Err(format!("no item with id `{item}`")),
            _ => Ok(()),
        };
        if let Err(reason) = allowed {
            self.status_line = Some(reason);
            return false;
        }
        match self.journal.append(&self.actor, kind) {
            Ok(event) => {
                self.session.apply_event(&event);
                self.error_line = None;
                let line = match action {
                    Action::AddNote { text, .. } => {
                        format!("{item} note by {}: {text}", self.actor)
                    }
                    _ => format!("{item} {verb} by {}", self.actor),
                };
                self.status_line = Some(format!("{item} {verb}"));
                self.push_log(event.at, LogLevel::Info, &line);
                self.record_launch_changes();
                true
            }
            Err(err) => {
                let message = format!("journal write failed, {item} {not_done}: {err}");
                self.error_line = Some(terminal_safe(&message));
                self.push_log(self.now, LogLevel::Error, &message);
                false
            }
        }
    }

    /// Applies an engine event. A result whose outcome changed is appended to the journal and
    /// logged. Returns whether an item's status may have changed.
    pub fn apply_engine_event(&mut self, event: EngineEvent) -> bool {
        self.dirty = true;
        match event {
            EngineEvent::Started { item_id } => {
                self.session.mark_running(&item_id);
                true
            }
            EngineEvent::Finished(result) => {
                let previous = self
                    .session
                    .state(&result.item_id)
                    .and_then(|state| state.recorded.as_ref())
                    .map_or(Status::Pending, |recorded| Status::from(recorded.outcome));
                let item = result.item_id.clone();
                let at = result.started_at;
                let Some(kind) = self.session.apply_result(result) else {
                    return true;
                };
                if let EventKind::CheckOutcome {
                    outcome, summary, ..
                } = &kind
                {
                    let line = format!(
                        "{item} {} → {}: {summary}",
                        previous.word(),
                        Status::from(*outcome).word()
                    );
                    let level = match outcome {
                        crate::checks::Outcome::Pass => LogLevel::Info,
                        _ => LogLevel::Warning,
                    };
                    self.push_log(at, level, &line);
                }
                if let Err(err) = self.journal.append_unsynced(ENGINE_ACTOR, kind) {
                    let message =
                        format!("journal write failed, outcome of {item} not recorded: {err}");
                    self.error_line = Some(terminal_safe(&message));
                    self.push_log(self.now, LogLevel::Error, &message);
                }
                self.record_launch_changes();
                true
            }
        }
    }
}

/// Formats the time to launch as `T-HH:MM:SS` before it and `T+HH:MM:SS` after, with a day
/// count in front when a day or more away.
pub fn format_countdown(launch_at: Timestamp, now: Timestamp) -> String {
    let seconds = launch_at.as_second() - now.as_second();
    let sign = if seconds > 0 { '-' } else { '+' };
    let total = seconds.unsigned_abs();
    let days = total / 86_400;
    let hours = total % 86_400 / 3600;
    let minutes = total % 3600 / 60;
    let secs = total % 60;
    if days > 0 {
        format!("T{sign}{days}d {hours:02}:{minutes:02}:{secs:02}")
    } else {
        format!("T{sign}{hours:02}:{minutes:02}:{secs:02}")
    }
}

/// Splits text into rows of at most `width` columns, breaking at spaces where it can and inside
/// a word longer than a row. Always returns at least one row.
pub fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut row_width = 0;
    for word in text.split(' ') {
        let word_width = word.width();
        let gap = usize::from(!row.is_empty());
        if row_width + gap + word_width <= width {
            if gap == 1 {
                row.push(' ');
            }
            row.push_str(word);
            row_width += gap + word_width;
            continue;
        }
        if !row.is_empty() {
            rows.push(std::mem::take(&mut row));
            row_width = 0;
        }
        // A word wider than a row is cut at the row width.
        for ch in word.chars() {
            let ch_width = ch.width().unwrap_or(0);
            if row_width + ch_width > width && !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                row_width = 0;
            }
            row.push(ch);
            row_width += ch_width;
        }
    }
    rows.push(row);
    rows
}

/// Moves an index by `delta` within `0..count`, clamping at both ends.
pub(super) fn step(index: usize, delta: isize, count: usize) -> usize {
    if count == 0 {
        return 0;
    }
    let last = count - 1;
    if delta < 0 {
        index.saturating_sub(delta.unsigned_abs()).min(last)
    } else {
        index.saturating_add(delta.unsigned_abs()).min(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_before_and_after() {
        let launch: Timestamp = "2026-02-16T08:00:00Z".parse().unwrap();
        let before: Timestamp = "2026-02-16T05:45:55Z".parse().unwrap();
        let after: Timestamp = "2026-02-16T08:01:02Z".parse().unwrap();
        assert_eq!(format_countdown(launch, before), "T-02:14:05");
        assert_eq!(format_countdown(launch, after), "T+00:01:02");
    }

    #[test]
    fn countdown_shows_days() {
        let launch: Timestamp = "2026-02-18T08:00:00Z".parse().unwrap();
        let now: Timestamp = "2026-02-16T07:00:00Z".parse().unwrap();
        assert_eq!(format_countdown(launch, now), "T-2d 01:00:00");
    }

    #[test]
    fn step_clamps_at_ends() {
        assert_eq!(step(0, -1, 3), 0);
        assert_eq!(step(2, 1, 3), 2);
        assert_eq!(step(1, isize::MIN, 3), 0);
        assert_eq!(step(1, isize::MAX, 3), 2);
        assert_eq!(step(0, 1, 0), 0);
    }

    #[test]
    fn wrap_text_breaks_at_spaces() {
        assert_eq!(wrap_text("torn line kept", 9), ["torn line", "kept"]);
        assert_eq!(wrap_text("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap_text("", 5), [""]);
    }

    #[test]
    fn pane_cycle_wraps() {
        assert_eq!(Pane::Log.next(), Pane::Phases);
        assert_eq!(Pane::Phases.previous(), Pane::Log);
    }
}
