//! Cockpit state and key handling, with no terminal: keys become state changes and
//! [`Action`]s, which the event loop carries out.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::checklist::{Checklist, Item, Phase};
use crate::engine::EngineEvent;
use crate::journal::{EventKind, Journal};
use crate::sanitize::terminal_safe;
use crate::session::{Session, Status};

use super::theme::Theme;

/// Actor recorded for check outcomes, which no person caused.
pub const ENGINE_ACTOR: &str = "golive";
/// Maximum number of event-log lines kept. Older lines are dropped.
pub const LOG_CAPACITY: usize = 1000;
/// Maximum length of a note, in characters.
pub const NOTE_MAX_CHARS: usize = 500;
/// Rows moved by PgUp and PgDn.
const PAGE_ROWS: usize = 10;

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
    /// Leave the cockpit.
    Quit,
}

/// The panes that can have keyboard focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Phases,
    Items,
    Detail,
    Log,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Phases, Pane::Items, Pane::Detail, Pane::Log];

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
    /// Typing edits the item filter.
    Filter,
    /// Typing edits a note for the item.
    Note { item: String, text: String },
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
    /// Terminal-safe text without the time.
    pub text: String,
}

/// Everything the cockpit shows, and the journal that manual actions are written to.
pub struct App {
    pub session: Session,
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
    /// Case-insensitive text that items of the selected phase must contain to be listed.
    pub filter: String,
    pub input: Option<Input>,
    pub show_help: bool,
    pub log: VecDeque<LogLine>,
    /// Lines scrolled up from the newest log line, where 0 follows new lines.
    pub log_scroll: usize,
    /// Lines scrolled down in the detail pane.
    pub detail_scroll: u16,
    /// The largest useful detail scroll, as measured by the last render.
    pub detail_max_scroll: Cell<u16>,
    /// A message about the last key, cleared by the next key.
    pub status_line: Option<String>,
    /// An error that stays visible until Esc or a later successful journal write.
    pub error_line: Option<String>,
    /// Whether the screen needs to be redrawn.
    pub dirty: bool,
}

impl App {
    /// Builds the state over a checklist and replays the journal's events into it.
    pub fn new(
        checklist: Arc<Checklist>,
        journal: Box<dyn Journal>,
        actor: String,
        theme: Theme,
    ) -> App {
        let mut session = Session::new(checklist);
        for event in journal.events() {
            session.apply_event(event);
        }
        let now = Timestamp::now();
        let warnings: Vec<String> = journal.warnings().to_vec();
        let mut app = App {
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
            detail_scroll: 0,
            detail_max_scroll: Cell::new(u16::MAX),
            status_line: None,
            error_line: None,
            dirty: true,
        };
        for warning in warnings {
            app.push_log(now, LogLevel::Warning, &warning);
        }
        app
    }

    /// Returns the checklist of the session.
    pub fn checklist(&self) -> &Arc<Checklist> {
        self.session.checklist()
    }

    /// Returns the selected phase, if the checklist has any.
    pub fn selected_phase(&self) -> Option<&Phase> {
        self.checklist().phases.get(self.phase)
    }

    /// Items of the selected phase that match the filter, in checklist order.
    pub fn visible_items(&self) -> Vec<&Item> {
        let Some(phase) = self.selected_phase() else {
            return Vec::new();
        };
        phase
            .items
            .iter()
            .filter(|item| self.matches_filter(item))
            .collect()
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
        self.log.push_back(LogLine {
            at,
            level,
            text: terminal_safe(text),
        });
        while self.log.len() > LOG_CAPACITY {
            self.log.pop_front();
        }
        if self.log_scroll > 0 {
            // Keep the lines a person scrolled to in place while new ones arrive.
            self.log_scroll = (self.log_scroll + 1).min(self.log.len().saturating_sub(1));
        }
        self.dirty = true;
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

    /// Advances the clock, marking the screen dirty only when a visible clock changed.
    pub fn set_now(&mut self, now: Timestamp) {
        let before = self.countdown();
        self.now = now;
        if self.countdown() != before {
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
            return match key.code {
                KeyCode::Char('q') => vec![Action::Quit],
                _ => {
                    self.show_help = false;
                    Vec::new()
                }
            };
        }
        match key.code {
            KeyCode::Char('q') => return vec![Action::Quit],
            KeyCode::Char('?') => self.show_help = true,
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.previous(),
            KeyCode::Left | KeyCode::Char('h') => self.focus = self.focus.previous(),
            KeyCode::Right | KeyCode::Char('l') => self.focus = self.focus.next(),
            KeyCode::Enter if self.focus == Pane::Phases => self.focus = Pane::Items,
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-(PAGE_ROWS as isize)),
            KeyCode::PageDown => self.move_by(PAGE_ROWS as isize),
            KeyCode::Home | KeyCode::Char('g') => self.move_by(isize::MIN),
            KeyCode::End | KeyCode::Char('G') => self.move_by(isize::MAX),
            KeyCode::Char(' ') => return self.toggle_done(),
            KeyCode::Char('x') => return self.toggle_failed(),
            KeyCode::Char('n') => self.open_note(),
            KeyCode::Char('r') => return self.run_selected(),
            KeyCode::Char('R') => {
                self.status_line = Some("re-running every check".into());
                return vec![Action::RunAll];
            }
            KeyCode::Char('/') => self.input = Some(Input::Filter),
            KeyCode::Esc => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                    self.clamp_item();
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
            Input::Filter => {
                match key.code {
                    KeyCode::Enter => self.input = None,
                    KeyCode::Esc => {
                        self.input = None;
                        self.filter.clear();
                    }
                    KeyCode::Backspace => {
                        self.filter.pop();
                    }
                    KeyCode::Char(ch) if !ch.is_control() => self.filter.push(ch),
                    _ => {}
                }
                self.clamp_item();
                self.detail_scroll = 0;
                Vec::new()
            }
            Input::Note { item, text } => match key.code {
                KeyCode::Enter => {
                    let item = item.clone();
                    let text = text.trim().to_string();
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
                KeyCode::Backspace => {
                    text.pop();
                    Vec::new()
                }
                KeyCode::Char(ch) if !ch.is_control() => {
                    if text.chars().count() < NOTE_MAX_CHARS {
                        text.push(ch);
                    }
                    Vec::new()
                }
                _ => Vec::new(),
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
            Pane::Log => {
                // The log scrolls from the newest line up, so moving up means scrolling back.
                let scroll = step(self.log_scroll, delta.saturating_neg(), self.log.len());
                self.log_scroll = scroll;
            }
        }
    }

    fn clamp_item(&mut self) {
        let count = self.visible_items().len();
        self.item = self.item.min(count.saturating_sub(1));
    }

    fn selected_id(&mut self) -> Option<String> {
        let id = self.selected_item().map(|item| item.id.clone());
        if id.is_none() {
            self.status_line = Some("no item selected".into());
        }
        id
    }

    fn toggle_done(&mut self) -> Vec<Action> {
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
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
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
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
            self.input = Some(Input::Note {
                item,
                text: String::new(),
            });
        }
    }

    fn run_selected(&mut self) -> Vec<Action> {
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
        let is_manual = self.checklist().item(&id).is_some_and(Item::is_manual);
        if is_manual {
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
        let (item, kind, verb) = match action {
            Action::Tick(item) => (item, EventKind::Ticked { item: item.clone() }, "ticked"),
            Action::Untick(item) => (item, EventKind::Unticked { item: item.clone() }, "unticked"),
            Action::MarkFailed(item) => (
                item,
                EventKind::MarkedFailed { item: item.clone() },
                "marked failed",
            ),
            Action::AddNote { item, text } => {
                let kind = EventKind::Note {
                    item: item.clone(),
                    text: text.clone(),
                };
                (item, kind, "noted")
            }
            Action::Run(_) | Action::RunAll | Action::Quit => return false,
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
                true
            }
            Err(err) => {
                let message = format!("journal write failed, {item} not {verb}: {err}");
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
                if let Err(err) = self.journal.append(ENGINE_ACTOR, kind) {
                    let message =
                        format!("journal write failed, outcome of {item} not recorded: {err}");
                    self.error_line = Some(terminal_safe(&message));
                    self.push_log(self.now, LogLevel::Error, &message);
                }
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

/// Moves an index by `delta` within `0..count`, clamping at both ends.
fn step(index: usize, delta: isize, count: usize) -> usize {
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
    fn pane_cycle_wraps() {
        assert_eq!(Pane::Log.next(), Pane::Phases);
        assert_eq!(Pane::Phases.previous(), Pane::Log);
    }
}
