//! The terminal cockpit: a full-screen view of the checklist that runs the checks live and
//! records manual actions in the journal.
//!
//! [`app`] contains the state and key handling, [`ui`] draws it, [`theme`] loads colours and
//! [`terminal`] sets up and restores the terminal. [`run`] ties them to the engine and the
//! keyboard in one event loop.

pub mod app;
pub mod curl;
pub mod export;
pub mod launch;
pub mod line_input;
pub mod manual;
mod qa;
pub mod terminal;
pub mod theme;
pub mod ui;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TerminalEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::checklist::Checklist;
use crate::engine::{Engine, EngineCommand};

pub use app::{Action, App};
pub use manual::{ManualRunResult, spawn_manual_run};
pub use theme::{Theme, ThemeError};

/// Everything the cockpit needs to start.
pub struct Cockpit {
    pub checklist: Arc<Checklist>,
    pub settings: crate::config::Settings,
    pub journal: Box<dyn crate::journal::Journal>,
    /// `Name <email>` of the person at the keyboard, recorded with manual events.
    pub actor: String,
    /// Loaded by [`theme::load`].
    pub theme: Theme,
    /// Messages to show in the event log at start, such as settings warnings.
    pub startup_warnings: Vec<String>,
}

/// The reason the cockpit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// The person quit with `q` or Ctrl-C, or the terminal's input ended.
    Quit,
    /// The process received this signal number.
    Signal(i32),
}

impl ExitReason {
    /// Returns the process exit code: 0 after a quit, 128 plus the signal number after a signal, as
    /// shells report it.
    pub fn exit_code(self) -> u8 {
        match self {
            ExitReason::Quit => 0,
            ExitReason::Signal(number) => u8::try_from(128 + number).unwrap_or(1),
        }
    }
}

/// Shortest clock redraw period accepted, in milliseconds, so a zero setting cannot spin.
const MIN_TICK_MS: u64 = 50;

/// Signal numbers on Linux and the BSDs, for exit codes.
const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Runs the cockpit until the person quits or the process receives SIGTERM, SIGHUP or SIGINT.
///
/// The terminal is restored on each of these ways out, on errors and on panics. Check results
/// arrive from the engine over a channel, so the loop never waits for a check.
// NOTE: journal appends run on the event loop, because an action is shown only once it is
// durable. A journal kept over the network would stall the screen while it writes.
pub async fn run(cockpit: Cockpit) -> anyhow::Result<ExitReason> {
    let Cockpit {
        checklist,
        settings,
        journal,
        actor,
        theme,
        startup_warnings,
    } = cockpit;
    // The cockpit receives only the checklist, so its sign-offs and waivers are read again
    // from the same file, which must still have the digest it was loaded with.
    let policy = crate::checklist::loader::load_policy(&checklist)
        .map_err(|failure| anyhow::anyhow!("cannot read sign-offs and waivers:\n{failure}"))?;
    let mut app = App::with_policy(Arc::clone(&checklist), policy, journal, actor, theme);
    app.export_identity = export::ExportIdentity {
        signing_key: settings.identity.signing_key.clone(),
        email: settings.identity.email.clone(),
    };
    for warning in &startup_warnings {
        app.push_log(app.now, app::LogLevel::Warning, warning);
    }

    let (satisfied_tx, satisfied_rx) = watch::channel(app.session.satisfied());
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let engine = Engine::start(
        Arc::clone(&checklist),
        settings.engine.clone(),
        satisfied_rx,
        events_tx,
    );
    engine.send(EngineCommand::RunAll);
    let (manual_tx, mut manual_rx) = mpsc::unbounded_channel();
    let helpers = Helpers {
        engine: &engine,
        satisfied: &satisfied_tx,
        checklist: &checklist,
        body_limit: settings.engine.body_limit,
        manual_results: &manual_tx,
    };

    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Ctrl-C arrives as a key in raw mode. This covers an interrupt sent by another process.
    let mut sigint = signal(SignalKind::interrupt())?;
    let tick = Duration::from_millis(settings.ui.tick_ms.max(MIN_TICK_MS));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    terminal::install_panic_hook();
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut keys = EventStream::new();
    let mut reason = ExitReason::Quit;

    let mut first_frame = true;
    loop {
        if app.dirty {
            guard.terminal().draw(|frame| ui::render(frame, &app))?;
            app.dirty = false;
            if first_frame {
                first_frame = false;
                tracing::info!(
                    since_start_ms = crate::process_uptime().as_millis() as u64,
                    "first frame drawn"
                );
            }
        }
        tokio::select! {
            terminal_event = keys.next() => match terminal_event {
                Some(Ok(TerminalEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    let actions = app.handle_key(key);
                    if carry_out(&mut app, &helpers, actions) {
                        break;
                    }
                }
                Some(Ok(TerminalEvent::Resize(_, _))) => app.dirty = true,
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(err.into()),
                None => break,
            },
            Some(event) = events_rx.recv() => {
                if app.apply_engine_event(event) {
                    publish_satisfied(&app, &satisfied_tx);
                }
            }
            Some(result) = manual_rx.recv() => {
                app.apply_manual_run(result);
            }
            _ = ticker.tick() => {
                app.set_now(jiff::Timestamp::now());
                for item in app.take_reruns() {
                    engine.send(EngineCommand::Run(item));
                }
            }
            _ = sigterm.recv() => {
                reason = ExitReason::Signal(SIGTERM);
                break;
            }
            _ = sighup.recv() => {
                reason = ExitReason::Signal(SIGHUP);
                break;
            }
            _ = sigint.recv() => {
                reason = ExitReason::Signal(SIGINT);
                break;
            }
        }
    }
    drop(guard);
    drop(engine);
    tracing::info!(?reason, "cockpit stopped");
    Ok(reason)
}

/// Channels and settings that [`carry_out`] uses besides the state.
struct Helpers<'a> {
    engine: &'a Engine,
    satisfied: &'a watch::Sender<BTreeSet<String>>,
    checklist: &'a Arc<Checklist>,
    /// Maximum response body bytes a manual request reads.
    body_limit: usize,
    manual_results: &'a mpsc::UnboundedSender<ManualRunResult>,
}

/// Carries out the actions of one key press. Returns true when the cockpit should quit.
fn carry_out(app: &mut App, helpers: &Helpers<'_>, actions: Vec<Action>) -> bool {
    for action in actions {
        match action {
            Action::Quit => return true,
            Action::Export => app.export_record(),
            Action::Run(item) => helpers.engine.send(EngineCommand::Run(item)),
            Action::RunAll => helpers.engine.send(EngineCommand::RunAll),
            Action::SendRequest(item) => {
                let results = helpers.manual_results.clone();
                match spawn_manual_run(helpers.checklist, &item, helpers.body_limit, results) {
                    Ok(()) => {
                        app.requests_in_flight.insert(item);
                    }
                    Err(err) => app.status_line = Some(err.to_string()),
                }
            }
            Action::Copy(text) => {
                if let Err(err) = copy_to_clipboard(&text) {
                    let message = format!("copy to the clipboard failed: {err}");
                    app.status_line = None;
                    app.error_line = Some(message.clone());
                    app.push_log(app.now, app::LogLevel::Error, &message);
                }
            }
            manual => {
                if app.record(&manual) {
                    publish_satisfied(app, helpers.satisfied);
                }
            }
        }
    }
    false
}

/// Writes the OSC 52 sequence that puts `text` on the clipboard of the terminal, which may be
/// a terminal on another machine across SSH. Terminals that do not support it ignore it.
fn copy_to_clipboard(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(curl::osc52(text).as_bytes())?;
    stdout.flush()
}

/// Sends the engine the satisfied items when they changed, so that dependent checks can run.
fn publish_satisfied(app: &App, satisfied: &watch::Sender<BTreeSet<String>>) {
    let current = app.session.satisfied();
    satisfied.send_if_modified(|known| {
        if *known == current {
            false
        } else {
            *known = current;
            true
        }
    });
}
