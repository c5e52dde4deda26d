//! The engine: schedules automated checks concurrently and streams their results.
//!
//! One scheduler task owns all state (latest outcomes, runs in flight, items waiting on
//! dependencies, interval timers) and reacts to commands, changes of the satisfied set and
//! finished runs. Each run is its own task; a semaphore bounds the attempts in flight. Nothing
//! runs until a command arrives.

mod attempt;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::{CancellationToken, DropGuard};

use self::attempt::{Shared, run_item};
use crate::checklist::{CheckDef, Checklist};
use crate::checks::{CheckResult, Evidence, Outcome};
use crate::config::EngineSettings;

/// A report from the engine to its listener.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "each event moves once through a channel; boxing would add an allocation per result"
)]
pub enum EngineEvent {
    /// An attempt of the item's check began.
    Started { item_id: String },
    /// The item's check produced a result (including blocked).
    Finished(CheckResult),
}

/// A request to the running engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineCommand {
    /// Runs every check whose dependencies are met.
    RunAll,
    /// Runs one check now.
    Run(String),
}

/// Handle to a running engine. Dropping it stops the engine and cancels checks in flight.
pub struct Engine {
    commands: mpsc::UnboundedSender<EngineCommand>,
    _stop: DropGuard,
}

impl Engine {
    /// Starts the engine on the current tokio runtime. `satisfied` carries the ids of items that
    /// are satisfied outside the engine (ticked manual items); results go to `events`.
    ///
    /// A requested check whose dependencies are unmet gets a blocked result and runs as soon as
    /// they are met. Checks with an `interval` re-run that long after each result. The engine
    /// stops when this handle is dropped or the receiver of `events` is dropped.
    pub fn start(
        checklist: Arc<Checklist>,
        settings: EngineSettings,
        satisfied: watch::Receiver<BTreeSet<String>>,
        events: mpsc::UnboundedSender<EngineEvent>,
    ) -> Engine {
        Self::start_with(checklist, settings, satisfied, events, true)
    }

    fn start_with(
        checklist: Arc<Checklist>,
        settings: EngineSettings,
        satisfied: watch::Receiver<BTreeSet<String>>,
        events: mpsc::UnboundedSender<EngineEvent>,
        repeat: bool,
    ) -> Engine {
        let (commands, receiver) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let scheduler = Scheduler::new(&checklist, &settings, events, repeat);
        tokio::spawn(scheduler.run(receiver, satisfied, stop.clone()));
        Engine {
            commands,
            _stop: stop.drop_guard(),
        }
    }

    /// Queues a command and returns at once, because commands go over an unbounded channel.
    pub fn send(&self, command: EngineCommand) {
        let _ = self.commands.send(command);
    }
}

/// Runs every automated check once, respecting dependencies, and returns the results in
/// checklist order. `satisfied` names the items satisfied outside the engine.
///
/// A check runs after every check it depends on has passed. A check ends blocked when it
/// depends on a check that did not pass or on an item missing from `satisfied`.
pub async fn run_once(
    checklist: Arc<Checklist>,
    settings: EngineSettings,
    satisfied: BTreeSet<String>,
) -> Vec<CheckResult> {
    let order: Vec<String> = checklist
        .items()
        .filter(|item| item.check().is_some())
        .map(|item| item.id.clone())
        .collect();
    if order.is_empty() {
        return Vec::new();
    }
    let (events, mut receiver) = mpsc::unbounded_channel();
    // The sender stays alive until the end so that the set does not count as closed.
    let (_satisfied_sender, satisfied) = watch::channel(satisfied);
    let engine = Engine::start_with(checklist, settings, satisfied, events, false);
    engine.send(EngineCommand::RunAll);

    let mut results: HashMap<String, CheckResult> = HashMap::new();
    while results.len() < order.len() {
        match receiver.recv().await {
            Some(EngineEvent::Finished(result)) => {
                results.insert(result.item_id.clone(), result);
            }
            Some(EngineEvent::Started { .. }) => {}
            None => break,
        }
    }
    drop(engine);
    order.iter().filter_map(|id| results.remove(id)).collect()
}

/// A check item with the parts the scheduler uses.
struct Entry {
    id: String,
    depends_on: Vec<String>,
    def: CheckDef,
}

/// The value a task of the scheduler's task set returns.
enum TaskDone {
    /// A run ended; `None` when it stopped without a result.
    Run {
        item_id: String,
        outcome: Option<Outcome>,
    },
    /// An interval elapsed and the item is due again.
    Due { item_id: String },
}

struct Scheduler {
    /// Checks in checklist order.
    entries: Vec<Arc<Entry>>,
    position: HashMap<String, usize>,
    /// Ids of manual items, to explain why a dependency is unmet.
    manual: HashSet<String>,
    shared: Arc<Shared>,
    repeat: bool,
    satisfied: BTreeSet<String>,
    latest: HashMap<String, Outcome>,
    in_flight: HashSet<String>,
    /// Positions of requested checks that have not started because of dependencies.
    waiting: BTreeSet<usize>,
    /// The summary of the last blocked result sent per item, so that it is sent once.
    blocked_sent: HashMap<String, String>,
    timers: HashMap<String, AbortHandle>,
    tasks: JoinSet<TaskDone>,
    /// Item ids of run tasks, to report a run whose task panicked.
    run_tasks: HashMap<tokio::task::Id, String>,
}

impl Scheduler {
    fn new(
        checklist: &Checklist,
        settings: &EngineSettings,
        events: mpsc::UnboundedSender<EngineEvent>,
        repeat: bool,
    ) -> Self {
        let mut entries = Vec::new();
        let mut manual = HashSet::new();
        for item in checklist.items() {
            match item.check() {
                Some(def) => entries.push(Arc::new(Entry {
                    id: item.id.clone(),
                    depends_on: item.depends_on.clone(),
                    def: def.clone(),
                })),
                None => {
                    manual.insert(item.id.clone());
                }
            }
        }
        let position = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| (entry.id.clone(), index));
        let shared = Shared {
            semaphore: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            redactor: Arc::clone(&checklist.redactor),
            body_limit: settings.body_limit,
            events,
        };
        Scheduler {
            position: position.collect(),
            entries,
            manual,
            shared: Arc::new(shared),
            repeat,
            satisfied: BTreeSet::new(),
            latest: HashMap::new(),
            in_flight: HashSet::new(),
            waiting: BTreeSet::new(),
            blocked_sent: HashMap::new(),
            timers: HashMap::new(),
            tasks: JoinSet::new(),
            run_tasks: HashMap::new(),
        }
    }

    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<EngineCommand>,
        mut satisfied: watch::Receiver<BTreeSet<String>>,
        stop: CancellationToken,
    ) {
        self.satisfied = satisfied.borrow_and_update().clone();
        let events = self.shared.events.clone();
        let mut watching = true;
        tracing::info!(checks = self.entries.len(), "engine started");
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = events.closed() => break,
                command = commands.recv() => match command {
                    Some(command) => self.handle_command(command),
                    None => break,
                },
                changed = satisfied.changed(), if watching => match changed {
                    Ok(()) => {
                        self.satisfied = satisfied.borrow_and_update().clone();
                        self.block_unmet();
                        self.reevaluate();
                    }
                    // Without a sender the set can no longer change; keep its last value.
                    Err(_) => watching = false,
                },
                Some(joined) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    self.handle_joined(joined);
                }
            }
        }
        // Dropping the task set aborts every run and timer still in flight.
        self.tasks.abort_all();
        tracing::info!(in_flight = self.in_flight.len(), "engine stopped");
    }

    fn handle_command(&mut self, command: EngineCommand) {
        match command {
            EngineCommand::RunAll => {
                for index in 0..self.entries.len() {
                    self.request(index);
                }
            }
            EngineCommand::Run(item_id) => match self.position.get(&item_id) {
                Some(&index) => self.request(index),
                None => {
                    let reason = "not a check item of this checklist";
                    tracing::warn!(item_id = %item_id, reason, "run request ignored")
                }
            },
        }
        self.reevaluate();
    }

    /// Marks a check as wanted; `reevaluate` starts it when its dependencies allow.
    fn request(&mut self, index: usize) {
        let id = self.entries[index].id.clone();
        if self.in_flight.contains(&id) {
            tracing::debug!(item_id = %id, "check already in flight, request ignored");
            return;
        }
        if let Some(timer) = self.timers.remove(&id) {
            timer.abort();
        }
        // An explicit request reports a block again even when it has not changed.
        self.blocked_sent.remove(&id);
        self.waiting.insert(index);
    }

    fn handle_joined(
        &mut self,
        joined: Result<(tokio::task::Id, TaskDone), tokio::task::JoinError>,
    ) {
        match joined {
            Ok((task_id, TaskDone::Run { item_id, outcome })) => {
                self.run_tasks.remove(&task_id);
                self.finish(item_id, outcome);
            }
            Ok((_, TaskDone::Due { item_id })) => {
                self.timers.remove(&item_id);
                if let Some(&index) = self.position.get(&item_id) {
                    self.request(index);
                }
            }
            Err(err) => {
                let Some(item_id) = self.run_tasks.remove(&err.id()) else {
                    // An aborted interval timer.
                    return;
                };
                tracing::error!(item_id = %item_id, error = %err, "check task failed");
                let result = CheckResult {
                    item_id: item_id.clone(),
                    outcome: Outcome::Error,
                    summary: "the check stopped unexpectedly (internal error)".into(),
                    evidence: Evidence::default(),
                    started_at: jiff::Timestamp::now(),
                    elapsed_ms: 0,
                    attempts: 1,
                };
                let _ = self.shared.events.send(EngineEvent::Finished(result));
                self.finish(item_id, Some(Outcome::Error));
            }
        }
        self.reevaluate();
    }

    fn finish(&mut self, item_id: String, outcome: Option<Outcome>) {
        self.in_flight.remove(&item_id);
        let Some(outcome) = outcome else {
            return;
        };
        self.latest.insert(item_id.clone(), outcome);
        let interval = self
            .position
            .get(&item_id)
            .and_then(|&index| self.entries[index].def.interval);
        if let Some(interval) = interval.filter(|_| self.repeat) {
            self.schedule(item_id, interval);
        }
    }

    fn schedule(&mut self, item_id: String, interval: Duration) {
        let handle = self.tasks.spawn({
            let item_id = item_id.clone();
            async move {
                tokio::time::sleep(interval).await;
                TaskDone::Due { item_id }
            }
        });
        if let Some(previous) = self.timers.insert(item_id, handle) {
            previous.abort();
        }
    }

    /// Starts every waiting check whose dependencies are met, and sends a blocked result for
    /// each one whose unmet dependencies cannot be met by a run now in flight.
    fn reevaluate(&mut self) {
        let ready: Vec<usize> = self
            .waiting
            .iter()
            .copied()
            .filter(|&index| self.unmet(&self.entries[index]).is_empty())
            .collect();
        for index in ready {
            self.waiting.remove(&index);
            self.launch(index);
        }

        // A check waits without a blocked result while every unmet dependency is a check in
        // flight or itself waiting for one. The set grows from runs in flight, so a dependency
        // cycle with nothing in flight never counts as waiting.
        let mut deferred: HashSet<usize> = HashSet::new();
        loop {
            let before = deferred.len();
            for &index in &self.waiting {
                if deferred.contains(&index) {
                    continue;
                }
                let pending = self.unmet(&self.entries[index]).iter().all(|dep| {
                    self.in_flight.contains(dep)
                        || self
                            .position
                            .get(dep)
                            .is_some_and(|other| deferred.contains(other))
                });
                if pending {
                    deferred.insert(index);
                }
            }
            if deferred.len() == before {
                break;
            }
        }

        let blocked: Vec<usize> = self
            .waiting
            .iter()
            .copied()
            .filter(|index| !deferred.contains(index))
            .collect();
        for index in blocked {
            self.send_blocked(index);
        }
    }

    /// Sends a blocked result at once for every check that has a result although its
    /// dependencies are no longer met, for example after a manual item was unticked. Each such
    /// check waits again, so it runs when the dependencies are met once more.
    // NOTE: a run already in flight is left alone. Its result arrives as usual and is kept
    // until the next change of the satisfied set or the next run.
    fn block_unmet(&mut self) {
        // A check blocked here stops counting as passed, so repeat until checks that depend on
        // it are blocked as well.
        loop {
            let newly_unmet: Vec<usize> = (0..self.entries.len())
                .filter(|index| !self.waiting.contains(index))
                .filter(|&index| {
                    let entry = &self.entries[index];
                    !self.in_flight.contains(&entry.id)
                        && self.latest.contains_key(&entry.id)
                        && !self.unmet(entry).is_empty()
                })
                .collect();
            if newly_unmet.is_empty() {
                break;
            }
            for index in newly_unmet {
                self.request(index);
                self.send_blocked(index);
            }
        }
    }

    fn unmet(&self, entry: &Entry) -> Vec<String> {
        entry
            .depends_on
            .iter()
            .filter(|dep| !self.is_satisfied(dep))
            .cloned()
            .collect()
    }

    fn is_satisfied(&self, id: &str) -> bool {
        self.satisfied.contains(id) || self.latest.get(id) == Some(&Outcome::Pass)
    }

    fn send_blocked(&mut self, index: usize) {
        let entry = Arc::clone(&self.entries[index]);
        let unmet = self.unmet(&entry);
        let summary = format!("blocked by unmet dependencies: {}", unmet.join(", "));
        if self.blocked_sent.get(&entry.id) == Some(&summary) {
            return;
        }
        let notes = unmet.iter().map(|dep| self.unmet_reason(dep)).collect();
        tracing::info!(item_id = %entry.id, unmet = %unmet.join(", "), "check blocked");
        let result = CheckResult {
            item_id: entry.id.clone(),
            outcome: Outcome::Blocked,
            summary: summary.clone(),
            evidence: Evidence {
                notes,
                ..Evidence::default()
            },
            started_at: jiff::Timestamp::now(),
            elapsed_ms: 0,
            attempts: 0,
        };
        let _ = self.shared.events.send(EngineEvent::Finished(result));
        self.latest.insert(entry.id.clone(), Outcome::Blocked);
        self.blocked_sent.insert(entry.id.clone(), summary);
    }

    fn unmet_reason(&self, dep: &str) -> String {
        if self.manual.contains(dep) {
            return format!("{dep} is not done");
        }
        if !self.position.contains_key(dep) {
            return format!("{dep} is not an item of this checklist");
        }
        match self.latest.get(dep) {
            Some(outcome) => format!("{dep} has not passed (latest result: {})", outcome.as_str()),
            None => format!("{dep} has not run yet"),
        }
    }

    fn launch(&mut self, index: usize) {
        let entry = Arc::clone(&self.entries[index]);
        self.in_flight.insert(entry.id.clone());
        self.blocked_sent.remove(&entry.id);
        let shared = Arc::clone(&self.shared);
        let item_id = entry.id.clone();
        let handle = self.tasks.spawn(async move {
            let outcome = run_item(entry.id.clone(), entry.def.clone(), shared).await;
            TaskDone::Run {
                item_id: entry.id.clone(),
                outcome,
            }
        });
        self.run_tasks.insert(handle.id(), item_id);
    }
}
