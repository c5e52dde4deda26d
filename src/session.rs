//! Session state: the fold of journal events and check results into each item's status, the
//! counts and the go/no-go verdict. Front ends read it; nothing here touches a terminal.
//!
//! Waivers, sign-offs, the launch decision and drift after sign-off live in [`launch`].

mod launch;

pub use launch::{
    Decision, DriftLine, MissingSignOff, SignOff, Waiver, WaiverRequest, WaiverSource,
};

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::checklist::{Checklist, Item, LaunchPolicy};
use crate::checks::{CheckResult, FileDigest, Outcome};
use crate::journal::{Event, EventKind};

/// Number of past results kept per item for the latency sparkline.
pub const HISTORY_LEN: usize = 60;

/// The current state of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not run or not ticked yet.
    Pending,
    /// A check attempt is in flight.
    Running,
    /// A check met every expectation.
    Pass,
    /// A check's system responded and missed an expectation.
    Fail,
    /// A check could not be evaluated.
    Error,
    /// A dependency is not satisfied.
    Blocked,
    /// A person ticked a manual item.
    Done,
    /// A person marked a manual item failed.
    Failed,
    /// The item is not satisfied, but a waiver that has not expired accepts the risk.
    Waived,
}

impl Status {
    /// Returns the word shown beside the symbol, so that status never depends on colour alone.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Blocked => "blocked",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Waived => "waived",
        }
    }

    /// Returns a one-character symbol that differs for every status.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pending => "·",
            Status::Running => "↻",
            Status::Pass => "✔",
            Status::Fail => "✘",
            Status::Error => "!",
            Status::Blocked => "⊘",
            Status::Done => "☑",
            Status::Failed => "☒",
            Status::Waived => "≈",
        }
    }

    /// Returns whether the item is satisfied, so that items depending on it can run or be
    /// ticked. A waived item is not, because the waiver accepts the risk of that item alone.
    pub fn is_satisfied(self) -> bool {
        matches!(self, Status::Pass | Status::Done)
    }

    /// Returns whether the item counts toward GO: passed, done, or waived by a waiver that has
    /// not expired.
    pub fn counts_toward_go(self) -> bool {
        matches!(self, Status::Pass | Status::Done | Status::Waived)
    }
}

impl From<Outcome> for Status {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Pass => Status::Pass,
            Outcome::Fail => Status::Fail,
            Outcome::Error => Status::Error,
            Outcome::Blocked => Status::Blocked,
        }
    }
}

/// A person's mark on a manual item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualMark {
    pub done: bool,
    pub actor: String,
    pub at: jiff::Timestamp,
}

/// A note a person attached to an item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub actor: String,
    pub at: jiff::Timestamp,
    pub text: String,
}

/// One past check result, for trends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryPoint {
    pub at: jiff::Timestamp,
    pub outcome: Outcome,
    pub latency_ms: Option<u64>,
}

/// The last outcome a journal recorded for a check, shown until the check runs again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedOutcome {
    pub outcome: Outcome,
    pub summary: String,
    pub at: jiff::Timestamp,
    /// Files the check read, such as scanner reports.
    pub files: Vec<FileDigest>,
}

/// Everything known about one item in this session.
#[derive(Debug, Clone, Default)]
pub struct ItemState {
    pub mark: Option<ManualMark>,
    /// The latest result from the engine in this process.
    pub result: Option<CheckResult>,
    /// The latest outcome found in the journal, which may come from an earlier process.
    pub recorded: Option<RecordedOutcome>,
    pub running: bool,
    pub history: VecDeque<HistoryPoint>,
    pub notes: Vec<Note>,
    /// The latest outcome of a manual item's request, sent by a person. It never changes the
    /// item's status.
    pub manual_run: Option<ManualRunRecord>,
}

/// The latest send of a manual item's request, as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualRunRecord {
    pub outcome: Outcome,
    pub summary: String,
    /// The person who sent it.
    pub actor: String,
    pub at: jiff::Timestamp,
}

/// Number of items in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub pending: usize,
    pub running: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub blocked: usize,
    pub done: usize,
    pub failed: usize,
    #[serde(default)]
    pub waived: usize,
}

/// One reason the verdict is NO-GO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub item_id: String,
    pub title: String,
    pub status: Status,
}

/// The live go/no-go verdict over items: sign-offs are not part of it (see [`Decision`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub go: bool,
    /// Required items that are not passed, done or waived, in checklist order.
    pub blockers: Vec<Blocker>,
}

/// The reason a manual action was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("no item with id `{0}`")]
    UnknownItem(String),
    #[error("`{0}` is an automated check: press r to re-run it instead")]
    NotManual(String),
    #[error("`{item}` is blocked: it depends on {}", .waiting_for.join(", "))]
    Blocked {
        item: String,
        waiting_for: Vec<String>,
    },
    #[error("waiver of `{0}` rejected: the approver must be another person than the requester")]
    SelfApproval(String),
    #[error("waiver of `{item}` rejected: {reason}")]
    InvalidWaiver { item: String, reason: String },
    #[error("`{0}` has no waiver to revoke")]
    NotWaived(String),
    #[error("no sign-off with id `{0}`")]
    UnknownSignOff(String),
    #[error("sign-off `{signoff}` was already given by {actor}")]
    AlreadySigned { signoff: String, actor: String },
    #[error("sign-off `{signoff}` needs the role `{expected}`, not `{stated}`")]
    WrongRole {
        signoff: String,
        expected: String,
        stated: String,
    },
    #[error(
        "sign-off `{signoff}` must wait until phase {} is complete",
        .phases.join(", ")
    )]
    PhasesIncomplete {
        signoff: String,
        phases: Vec<String>,
    },
}

/// The state of a launch session over one checklist.
#[derive(Debug, Clone)]
pub struct Session {
    checklist: Arc<Checklist>,
    states: HashMap<String, ItemState>,
    /// Item id to (phase index, item index), so that lookups stay constant-time on large
    /// checklists.
    index: HashMap<String, (usize, usize)>,
    /// Settled status of every item in checklist order, computed on demand and dropped by every
    /// change. Without it, each status query would walk dependency chains again, which grows
    /// exponentially on checklists where items depend on several earlier ones.
    settled: RefCell<Option<Vec<Status>>>,
    /// The time that decides whether a waiver has expired.
    now: jiff::Timestamp,
    policy: Arc<LaunchPolicy>,
    /// The waiver of each item, expired or not, until it is revoked.
    waivers: HashMap<String, Waiver>,
    /// Sign-offs given, in journal order.
    sign_offs: Vec<SignOff>,
    /// The latest status recorded by a drift event for each item, until the item counts
    /// toward GO again.
    drift_recorded: HashMap<String, Status>,
}

impl Session {
    /// Starts a session with no sign-offs required and no waivers, at the current time.
    pub fn new(checklist: Arc<Checklist>) -> Self {
        Session::with_policy(checklist, LaunchPolicy::default())
    }

    /// Starts a session with the sign-offs and waivers of `policy`, at the current time.
    pub fn with_policy(checklist: Arc<Checklist>, policy: LaunchPolicy) -> Self {
        let states = checklist
            .items()
            .map(|item| (item.id.clone(), ItemState::default()))
            .collect();
        let index = checklist
            .phases
            .iter()
            .enumerate()
            .flat_map(|(phase_index, phase)| {
                phase
                    .items
                    .iter()
                    .enumerate()
                    .map(move |(item_index, item)| (item.id.clone(), (phase_index, item_index)))
            })
            .collect();
        let mut session = Session {
            checklist,
            states,
            index,
            settled: RefCell::new(None),
            now: jiff::Timestamp::now(),
            policy: Arc::new(policy),
            waivers: HashMap::new(),
            sign_offs: Vec::new(),
            drift_recorded: HashMap::new(),
        };
        session.add_policy_waivers();
        session
    }

    /// Finds an item of the checklist by id.
    pub fn item(&self, item_id: &str) -> Option<&Item> {
        let &(phase_index, item_index) = self.index.get(item_id)?;
        self.checklist
            .phases
            .get(phase_index)?
            .items
            .get(item_index)
    }

    pub fn checklist(&self) -> &Arc<Checklist> {
        &self.checklist
    }

    /// Replays one journal event. Events naming items the checklist no longer has are ignored.
    pub fn apply_event(&mut self, event: &Event) {
        self.settled.replace(None);
        match &event.kind {
            EventKind::SessionStarted { .. } => {}
            EventKind::Waived { .. }
            | EventKind::WaiverRevoked { .. }
            | EventKind::WaiverExpired { .. }
            | EventKind::SignedOff { .. }
            | EventKind::Drift { .. } => self.apply_launch_event(event),
            EventKind::Ticked { item } | EventKind::MarkedFailed { item } => {
                let done = matches!(event.kind, EventKind::Ticked { .. });
                if let Some(state) = self.states.get_mut(item) {
                    state.mark = Some(ManualMark {
                        done,
                        actor: event.actor.clone(),
                        at: event.at,
                    });
                }
            }
            EventKind::Unticked { item } => {
                if let Some(state) = self.states.get_mut(item) {
                    state.mark = None;
                }
            }
            EventKind::Note { item, text } => {
                if let Some(state) = self.states.get_mut(item) {
                    state.notes.push(Note {
                        actor: event.actor.clone(),
                        at: event.at,
                        text: text.clone(),
                    });
                }
            }
            EventKind::CheckOutcome {
                item,
                outcome,
                summary,
                files,
            } => {
                if let Some(state) = self.states.get_mut(item) {
                    state.recorded = Some(RecordedOutcome {
                        outcome: *outcome,
                        summary: summary.clone(),
                        at: event.at,
                        files: files.clone(),
                    });
                }
            }
            EventKind::ManualRun {
                item,
                outcome,
                summary,
            } => {
                if let Some(state) = self.states.get_mut(item) {
                    state.manual_run = Some(ManualRunRecord {
                        outcome: *outcome,
                        summary: summary.clone(),
                        actor: event.actor.clone(),
                        at: event.at,
                    });
                }
            }
        }
    }

    /// Marks a check as in flight.
    pub fn mark_running(&mut self, item_id: &str) {
        if let Some(state) = self.states.get_mut(item_id) {
            state.running = true;
        }
    }

    /// Applies a check result. Returns the journal event to append when the outcome differs
    /// from the last recorded one, so that the journal contains changes and not every repeat.
    pub fn apply_result(&mut self, result: CheckResult) -> Option<EventKind> {
        self.settled.replace(None);
        let state = self.states.get_mut(&result.item_id)?;
        state.running = false;
        state.history.push_back(HistoryPoint {
            at: result.started_at,
            outcome: result.outcome,
            latency_ms: result.evidence.latency_ms,
        });
        while state.history.len() > HISTORY_LEN {
            state.history.pop_front();
        }
        // Only a change of outcome or of the files read is journaled: a failing check's
        // summary carries the observed value, which differs on nearly every run.
        let changed = state.recorded.as_ref().is_none_or(|recorded| {
            recorded.outcome != result.outcome || recorded.files != result.evidence.files
        });
        let event = changed.then(|| EventKind::CheckOutcome {
            item: result.item_id.clone(),
            outcome: result.outcome,
            summary: result.summary.clone(),
            files: result.evidence.files.clone(),
        });
        state.recorded = Some(RecordedOutcome {
            outcome: result.outcome,
            summary: result.summary.clone(),
            at: result.started_at,
            files: result.evidence.files.clone(),
        });
        state.result = Some(result);
        event
    }

    pub fn state(&self, item_id: &str) -> Option<&ItemState> {
        self.states.get(item_id)
    }

    /// Returns the status of an item, derived from marks, results and dependencies. A check in flight
    /// is [`Status::Running`].
    pub fn status(&self, item_id: &str) -> Status {
        match self.states.get(item_id) {
            Some(state) if state.running => Status::Running,
            _ => self.settled_status(item_id),
        }
    }

    /// Returns the status of an item ignoring a run in flight, so that a passing live check stays
    /// satisfied while it re-runs. Dependencies, counts of satisfied items and the verdict use it.
    pub fn settled_status(&self, item_id: &str) -> Status {
        let Some(&(phase_index, item_index)) = self.index.get(item_id) else {
            return Status::Pending;
        };
        let flat = self.checklist.phases[..phase_index]
            .iter()
            .map(|phase| phase.items.len())
            .sum::<usize>()
            + item_index;
        let mut cache = self.settled.borrow_mut();
        let statuses = cache.get_or_insert_with(|| self.compute_settled(self.now));
        statuses.get(flat).copied().unwrap_or(Status::Pending)
    }

    /// Computes every item's settled status once, visiting each dependency once. Waivers count
    /// when they have not expired at `now`.
    fn compute_settled(&self, now: jiff::Timestamp) -> Vec<Status> {
        let items: Vec<&Item> = self.checklist.items().collect();
        let positions: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(position, item)| (item.id.as_str(), position))
            .collect();
        let mut memo: Vec<Option<Status>> = vec![None; items.len()];
        let mut visiting = vec![false; items.len()];
        for position in 0..items.len() {
            self.visit_settled(position, &items, &positions, &mut memo, &mut visiting, now);
        }
        memo.into_iter()
            .zip(&items)
            .map(|(status, item)| {
                let status = status.unwrap_or(Status::Pending);
                let waived = self
                    .waivers
                    .get(&item.id)
                    .is_some_and(|waiver| waiver.is_active(now));
                if waived && !status.is_satisfied() {
                    Status::Waived
                } else {
                    status
                }
            })
            .collect()
    }

    fn visit_settled(
        &self,
        position: usize,
        items: &[&Item],
        positions: &HashMap<&str, usize>,
        memo: &mut [Option<Status>],
        visiting: &mut [bool],
        now: jiff::Timestamp,
    ) -> Status {
        if let Some(status) = memo[position] {
            return status;
        }
        // A dependency cycle (rejected by the loader, possible in hand-built checklists) counts
        // as unsatisfied instead of recursing forever.
        if visiting[position] {
            return Status::Blocked;
        }
        let item = items[position];
        let Some(state) = self.states.get(&item.id) else {
            return Status::Pending;
        };
        // A mark or a recorded outcome decides the status whatever the state of the dependencies, so they
        // are only walked for items that have neither.
        let decided = match (&state.mark, &state.recorded) {
            (Some(mark), _) if item.is_manual() => Some(if mark.done {
                Status::Done
            } else {
                Status::Failed
            }),
            // A result that a finding waiver let pass no longer counts once that waiver has
            // expired: the findings count again, and only a new run can tell.
            (_, Some(recorded))
                if !item.is_manual()
                    && self.finding_waiver_expired_since(&item.id, recorded.at, now) =>
            {
                Some(Status::Pending)
            }
            (_, Some(recorded)) if !item.is_manual() => Some(recorded.outcome.into()),
            _ => None,
        };
        let status = match decided {
            Some(status) => status,
            None => {
                visiting[position] = true;
                let mut dependencies_met = true;
                for dependency in &item.depends_on {
                    let met = match positions.get(dependency.as_str()) {
                        Some(&dependency_position) => self
                            .visit_settled(
                                dependency_position,
                                items,
                                positions,
                                memo,
                                visiting,
                                now,
                            )
                            .is_satisfied(),
                        None => false,
                    };
                    dependencies_met &= met;
                }
                visiting[position] = false;
                if dependencies_met {
                    Status::Pending
                } else {
                    Status::Blocked
                }
            }
        };
        memo[position] = Some(status);
        status
    }

    /// Ids of the item's dependencies that are not satisfied, in the order declared.
    pub fn unmet_dependencies(&self, item: &Item) -> Vec<String> {
        item.depends_on
            .iter()
            .filter(|dependency| !self.settled_status(dependency).is_satisfied())
            .cloned()
            .collect()
    }

    /// Ids of every satisfied item.
    pub fn satisfied(&self) -> BTreeSet<String> {
        self.checklist
            .items()
            .filter(|item| self.settled_status(&item.id).is_satisfied())
            .map(|item| item.id.clone())
            .collect()
    }

    /// Checks that a manual action on the item is allowed, returning the item.
    pub fn check_manual_action(&self, item_id: &str) -> Result<&Item, ActionError> {
        let item = self
            .item(item_id)
            .ok_or_else(|| ActionError::UnknownItem(item_id.to_string()))?;
        if !item.is_manual() {
            return Err(ActionError::NotManual(item_id.to_string()));
        }
        let waiting_for = self.unmet_dependencies(item);
        if !waiting_for.is_empty() {
            return Err(ActionError::Blocked {
                item: item_id.to_string(),
                waiting_for,
            });
        }
        Ok(item)
    }

    /// Counts items by status over the whole checklist.
    pub fn counts(&self) -> Counts {
        self.count_items(self.checklist.items())
    }

    /// Counts items by status over one phase.
    pub fn phase_counts(&self, phase_index: usize) -> Counts {
        match self.checklist.phases.get(phase_index) {
            Some(phase) => self.count_items(phase.items.iter()),
            None => Counts::default(),
        }
    }

    fn count_items<'a>(&self, items: impl Iterator<Item = &'a Item>) -> Counts {
        let mut counts = Counts::default();
        for item in items {
            counts.total += 1;
            let slot = match self.status(&item.id) {
                Status::Pending => &mut counts.pending,
                Status::Running => &mut counts.running,
                Status::Pass => &mut counts.pass,
                Status::Fail => &mut counts.fail,
                Status::Error => &mut counts.error,
                Status::Blocked => &mut counts.blocked,
                Status::Done => &mut counts.done,
                Status::Failed => &mut counts.failed,
                Status::Waived => &mut counts.waived,
            };
            *slot += 1;
        }
        counts
    }

    /// GO only when every required item is passed, done or waived. Sign-offs are not part of
    /// it: [`Session::decision`] adds them.
    pub fn verdict(&self) -> Verdict {
        let blockers: Vec<Blocker> = self
            .checklist
            .items()
            .filter(|item| item.required)
            .filter_map(|item| {
                let status = self.settled_status(&item.id);
                (!status.counts_toward_go()).then(|| Blocker {
                    item_id: item.id.clone(),
                    title: item.title.clone(),
                    status,
                })
            })
            .collect();
        Verdict {
            go: blockers.is_empty(),
            blockers,
        }
    }
}
