//! Waivers, sign-offs, the launch decision and drift after sign-off.
//!
//! A waiver accepts the risk of one failed or unfinished item until it expires, so that the
//! item counts toward GO while it is shown as waived. A sign-off records that a person in a
//! role approved the launch, with the state of the session at that moment. The decision is GO
//! only when every required item is passed, done or waived and every required sign-off is
//! given. Drift is an item that counted toward GO when a sign-off was given and no longer does.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use super::{ActionError, Blocker, Session, Status};
use crate::checklist::{Risk, SignOffSpec, WaiverSpec, same_person};
use crate::journal::{Event, EventKind, SignOffState};

/// The origin of a waiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaiverSource {
    /// A `[[waivers]]` table of the checklist or its waivers file.
    Checklist,
    /// A `waived` event of the session journal.
    Journal,
}

/// Accepted risk on one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    pub item: String,
    pub reason: String,
    pub risk: Risk,
    /// The measure that limits the damage while the item is not satisfied.
    pub control: String,
    /// From this time on, the waiver no longer counts.
    pub expires: Timestamp,
    pub requested_by: String,
    pub approved_by: String,
    /// When the journal recorded it; `None` for a waiver written in the checklist.
    pub recorded_at: Option<Timestamp>,
    pub source: WaiverSource,
    /// Whether the journal recorded its expiry.
    pub expiry_recorded: bool,
}

impl Waiver {
    /// Returns whether the waiver still counts at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        now < self.expires
    }
}

/// The fields a person enters to waive an item. The requester is the person at the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverRequest {
    pub item: String,
    pub reason: String,
    pub risk: Risk,
    pub control: String,
    pub expires: Timestamp,
    pub approved_by: String,
}

/// A sign-off that was given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignOff {
    pub id: String,
    /// The sign-off's title from the checklist, or its id when the checklist no longer has it.
    pub title: String,
    /// The role the person stated when signing.
    pub role: String,
    pub actor: String,
    pub at: Timestamp,
    pub state: SignOffState,
    /// Items that counted toward GO when it was given, with their status then.
    #[serde(skip)]
    pub counted: BTreeMap<String, Status>,
}

/// A required sign-off that has not been given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingSignOff {
    pub id: String,
    pub title: String,
    pub role: String,
    /// Phases of `after` that are not complete yet, so it cannot be given now.
    pub waiting_for: Vec<String>,
}

/// The launch decision: items and sign-offs together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// True only when `blockers` and `missing_signoffs` are both empty.
    pub go: bool,
    /// Required items that are not passed, done or waived, in checklist order.
    pub blockers: Vec<Blocker>,
    /// Required sign-offs not given, in checklist order.
    pub missing_signoffs: Vec<MissingSignOff>,
    /// Waivers that make an item count toward GO, in checklist order.
    pub waived: Vec<Waiver>,
}

/// An item that counted toward GO at a sign-off and no longer does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftLine {
    pub item: String,
    /// Its status when the sign-off was given.
    pub from: Status,
    /// Its status now.
    pub to: Status,
    /// The first sign-off given while the item counted toward GO.
    pub signoff: String,
}

impl Session {
    /// Returns the time that decides whether a waiver has expired.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Sets the time that decides whether a waiver has expired. The cockpit advances it on
    /// every tick; tests set it to move past an expiry.
    pub fn set_now(&mut self, now: Timestamp) {
        let before = self.now;
        self.now = now;
        let changed = self
            .waivers
            .values()
            .any(|waiver| waiver.is_active(before) != waiver.is_active(now))
            || !self.finding_waivers_expired_between(before, now).is_empty();
        if changed {
            self.settled.replace(None);
        }
    }

    /// Returns the sign-offs the checklist requires, in checklist order.
    pub fn required_signoffs(&self) -> &[SignOffSpec] {
        &self.policy.signoffs
    }

    /// Returns every waiver, expired or not, in checklist order of the items.
    pub fn waivers(&self) -> Vec<&Waiver> {
        self.checklist
            .items()
            .filter_map(|item| self.waivers.get(&item.id))
            .collect()
    }

    /// Returns whether a finding waiver of the item expired after `since` and at or before `now`.
    pub(super) fn finding_waiver_expired_since(
        &self,
        item_id: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> bool {
        self.finding_waivers()
            .iter()
            .any(|spec| spec.item == item_id && spec.expires > since && spec.expires <= now)
    }

    /// Returns the items whose finding waivers expired after `before` and at or before `now`,
    /// each once, so that the cockpit can run their checks again.
    pub fn finding_waivers_expired_between(
        &self,
        before: Timestamp,
        now: Timestamp,
    ) -> Vec<String> {
        let mut items: Vec<String> = self
            .finding_waivers()
            .iter()
            .filter(|spec| spec.expires > before && spec.expires <= now)
            .map(|spec| spec.item.clone())
            .collect();
        items.dedup();
        items
    }

    /// Returns the finding waivers of the checklist, expired or not, in the order written.
    /// They cover findings of `report` items, never the items themselves.
    pub fn finding_waivers(&self) -> Vec<&WaiverSpec> {
        self.policy
            .waivers
            .iter()
            .filter(|spec| spec.is_for_findings())
            .collect()
    }

    /// Returns the waiver of an item, expired or not.
    pub fn waiver(&self, item_id: &str) -> Option<&Waiver> {
        self.waivers.get(item_id)
    }

    /// Returns the sign-offs given, in the order they were given.
    pub fn sign_offs(&self) -> &[SignOff] {
        &self.sign_offs
    }

    /// Returns the required sign-offs not given yet, in checklist order.
    pub fn pending_signoffs(&self) -> Vec<&SignOffSpec> {
        self.policy
            .signoffs
            .iter()
            .filter(|spec| !self.sign_offs.iter().any(|given| given.id == spec.id))
            .collect()
    }

    /// Decides GO or NO-GO at `now`: GO only when every required item is passed, done or
    /// waived by a waiver that has not expired at `now`, and every required sign-off is given.
    pub fn decision(&self, now: Timestamp) -> Decision {
        let statuses = if now == self.now {
            self.settled_statuses()
        } else {
            self.compute_settled(now)
        };
        let mut blockers = Vec::new();
        let mut waived = Vec::new();
        for (item, status) in self.checklist.items().zip(&statuses) {
            if *status == Status::Waived
                && let Some(waiver) = self.waivers.get(&item.id)
            {
                waived.push(waiver.clone());
            }
            if item.required && !status.counts_toward_go() {
                blockers.push(Blocker {
                    item_id: item.id.clone(),
                    title: item.title.clone(),
                    status: *status,
                });
            }
        }
        let missing_signoffs: Vec<MissingSignOff> = self
            .pending_signoffs()
            .into_iter()
            .map(|spec| MissingSignOff {
                id: spec.id.clone(),
                title: spec.title.clone(),
                role: spec.role.clone(),
                waiting_for: self.incomplete_phases(&spec.after, &statuses),
            })
            .collect();
        Decision {
            go: blockers.is_empty() && missing_signoffs.is_empty(),
            blockers,
            missing_signoffs,
            waived,
        }
    }

    /// Builds the journal event that waives an item, after checking the request.
    ///
    /// # Errors
    ///
    /// [`ActionError::SelfApproval`] when `requester` and the approver are the same person,
    /// [`ActionError::InvalidWaiver`] for an empty field, an expiry that is not in the future,
    /// an item that is already satisfied or already waived, and
    /// [`ActionError::UnknownItem`].
    pub fn waive(
        &self,
        request: &WaiverRequest,
        requester: &str,
    ) -> Result<EventKind, ActionError> {
        let item = &request.item;
        if self.item(item).is_none() {
            return Err(ActionError::UnknownItem(item.clone()));
        }
        let invalid = |reason: &str| ActionError::InvalidWaiver {
            item: item.clone(),
            reason: reason.to_string(),
        };
        for (value, name) in [
            (&request.reason, "reason"),
            (&request.control, "compensating control"),
            (&request.approved_by, "approver"),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(&format!("the {name} is missing")));
            }
        }
        if same_person(requester, &request.approved_by) {
            return Err(ActionError::SelfApproval(item.clone()));
        }
        if request.expires <= self.now {
            return Err(invalid(&format!(
                "the expiry {} is not in the future",
                request.expires
            )));
        }
        let status = self.settled_status(item);
        if status.is_satisfied() {
            return Err(invalid(&format!("it is already {}", status.word())));
        }
        if status == Status::Waived {
            return Err(invalid("it is already waived; revoke that waiver first"));
        }
        Ok(EventKind::Waived {
            item: item.clone(),
            reason: request.reason.trim().to_string(),
            risk: request.risk,
            control: request.control.trim().to_string(),
            expires: request.expires,
            approved_by: request.approved_by.trim().to_string(),
        })
    }

    /// Builds the journal event that revokes an item's waiver, expired or not.
    ///
    /// # Errors
    ///
    /// [`ActionError::NotWaived`] when the item has no waiver.
    pub fn revoke_waiver(&self, item_id: &str) -> Result<EventKind, ActionError> {
        if !self.waivers.contains_key(item_id) {
            return Err(ActionError::NotWaived(item_id.to_string()));
        }
        Ok(EventKind::WaiverRevoked {
            item: item_id.to_string(),
        })
    }

    /// Builds the journal event that gives a sign-off in the stated `role`, with the verdict,
    /// the counts and `journal_head` (the hash of the journal's last event) of this moment.
    ///
    /// # Errors
    ///
    /// [`ActionError::UnknownSignOff`], [`ActionError::AlreadySigned`],
    /// [`ActionError::WrongRole`] when `role` differs from the sign-off's role (letter case
    /// aside), and [`ActionError::PhasesIncomplete`] when a phase of its `after` list has a
    /// required item that is not passed, done or waived.
    pub fn sign_off(
        &self,
        signoff_id: &str,
        role: &str,
        journal_head: &str,
    ) -> Result<EventKind, ActionError> {
        let spec = self
            .policy
            .signoffs
            .iter()
            .find(|spec| spec.id == signoff_id)
            .ok_or_else(|| ActionError::UnknownSignOff(signoff_id.to_string()))?;
        if let Some(given) = self.sign_offs.iter().find(|given| given.id == signoff_id) {
            return Err(ActionError::AlreadySigned {
                signoff: signoff_id.to_string(),
                actor: given.actor.clone(),
            });
        }
        let role = role.trim();
        if !role.eq_ignore_ascii_case(&spec.role) {
            return Err(ActionError::WrongRole {
                signoff: signoff_id.to_string(),
                expected: spec.role.clone(),
                stated: role.to_string(),
            });
        }
        let phases = self.incomplete_phases(&spec.after, &self.settled_statuses());
        if !phases.is_empty() {
            return Err(ActionError::PhasesIncomplete {
                signoff: signoff_id.to_string(),
                phases,
            });
        }
        let verdict = if self.verdict().go { "go" } else { "no-go" };
        Ok(EventKind::SignedOff {
            signoff: signoff_id.to_string(),
            role: spec.role.clone(),
            state: SignOffState {
                verdict: verdict.to_string(),
                counts: self.counts(),
                journal_head: journal_head.to_string(),
            },
        })
    }

    /// Returns the journal events for waivers that expired at the session's time and whose expiry the
    /// journal has not recorded. Applying the appended events marks them recorded.
    pub fn pending_waiver_expiries(&self) -> Vec<EventKind> {
        self.waivers()
            .into_iter()
            .filter(|waiver| !waiver.is_active(self.now) && !waiver.expiry_recorded)
            .map(|waiver| EventKind::WaiverExpired {
                item: waiver.item.clone(),
                expires: waiver.expires,
            })
            .collect()
    }

    /// Returns the items that counted toward GO at a sign-off and no longer do, in checklist
    /// order.
    pub fn drift(&self) -> Vec<DriftLine> {
        if self.sign_offs.is_empty() {
            return Vec::new();
        }
        self.checklist
            .items()
            .filter_map(|item| {
                let (signoff, from) = self.counted_at_signoff(&item.id)?;
                let to = self.settled_status(&item.id);
                (!to.counts_toward_go()).then(|| DriftLine {
                    item: item.id.clone(),
                    from,
                    to,
                    signoff: signoff.to_string(),
                })
            })
            .collect()
    }

    /// Returns the journal events for drift the journal has not recorded yet: one per item each time its
    /// status changes while it does not count toward GO. Applying the appended events marks
    /// them recorded.
    pub fn pending_drift(&self) -> Vec<EventKind> {
        self.drift()
            .into_iter()
            .filter(|line| self.drift_recorded.get(&line.item) != Some(&line.to))
            .map(|line| EventKind::Drift {
                item: line.item,
                from: line.from,
                to: line.to,
                signoff: line.signoff,
            })
            .collect()
    }

    /// Adds the waivers of the policy. A later journal event can revoke them.
    pub(super) fn add_policy_waivers(&mut self) {
        // Finding waivers leave the item to its check, which stops counting the findings.
        let specs: Vec<WaiverSpec> = self
            .policy
            .waivers
            .iter()
            .filter(|spec| !spec.is_for_findings())
            .cloned()
            .collect();
        for spec in specs {
            if self.index.contains_key(&spec.item) {
                self.waivers.insert(
                    spec.item.clone(),
                    Waiver {
                        item: spec.item,
                        reason: spec.reason,
                        risk: spec.risk,
                        control: spec.control,
                        expires: spec.expires,
                        requested_by: spec.requested_by,
                        approved_by: spec.approved_by,
                        recorded_at: None,
                        source: WaiverSource::Checklist,
                        expiry_recorded: false,
                    },
                );
            }
        }
    }

    /// Replays a waiver, sign-off or drift event.
    pub(super) fn apply_launch_event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Waived {
                item,
                reason,
                risk,
                control,
                expires,
                approved_by,
            } if self.index.contains_key(item) => {
                self.waivers.insert(
                    item.clone(),
                    Waiver {
                        item: item.clone(),
                        reason: reason.clone(),
                        risk: *risk,
                        control: control.clone(),
                        expires: *expires,
                        requested_by: event.actor.clone(),
                        approved_by: approved_by.clone(),
                        recorded_at: Some(event.at),
                        source: WaiverSource::Journal,
                        expiry_recorded: false,
                    },
                );
            }
            EventKind::WaiverRevoked { item } => {
                self.waivers.remove(item);
            }
            EventKind::WaiverExpired { item, expires } => {
                if let Some(waiver) = self.waivers.get_mut(item)
                    && waiver.expires == *expires
                {
                    waiver.expiry_recorded = true;
                }
            }
            EventKind::SignedOff {
                signoff,
                role,
                state,
            } => self.add_sign_off(event, signoff, role, state),
            EventKind::Drift { item, to, .. } => {
                self.drift_recorded.insert(item.clone(), *to);
            }
            _ => {}
        }
    }

    fn add_sign_off(&mut self, event: &Event, signoff: &str, role: &str, state: &SignOffState) {
        // The items that counted toward GO are taken from the replayed state at the time of
        // the event, so that drift is found again after a restart.
        let statuses = self.compute_settled(event.at);
        let counted = self
            .checklist
            .items()
            .zip(statuses)
            .filter(|(_, status)| status.counts_toward_go())
            .map(|(item, status)| (item.id.clone(), status))
            .collect();
        let title = self
            .policy
            .signoffs
            .iter()
            .find(|spec| spec.id == signoff)
            .map_or_else(|| signoff.to_string(), |spec| spec.title.clone());
        self.sign_offs.push(SignOff {
            id: signoff.to_string(),
            title,
            role: role.to_string(),
            actor: event.actor.clone(),
            at: event.at,
            state: state.clone(),
            counted,
        });
    }

    /// Finds the first sign-off given while the item counted toward GO, with its status then.
    fn counted_at_signoff(&self, item_id: &str) -> Option<(&str, Status)> {
        self.sign_offs.iter().find_map(|given| {
            let status = given.counted.get(item_id)?;
            Some((given.id.as_str(), *status))
        })
    }

    /// Returns the settled status of every item in checklist order, at the session's time.
    fn settled_statuses(&self) -> Vec<Status> {
        self.checklist
            .items()
            .map(|item| self.settled_status(&item.id))
            .collect()
    }

    /// Returns the ids of the phases among `phase_ids` with a required item that does not count toward
    /// GO. `statuses` are in checklist order.
    fn incomplete_phases(&self, phase_ids: &[String], statuses: &[Status]) -> Vec<String> {
        let mut by_phase: HashMap<&str, bool> = HashMap::new();
        let mut position = 0;
        for phase in &self.checklist.phases {
            let mut complete = true;
            for item in &phase.items {
                let status = statuses.get(position).copied().unwrap_or(Status::Pending);
                complete &= !item.required || status.counts_toward_go();
                position += 1;
            }
            by_phase.insert(phase.id.as_str(), complete);
        }
        phase_ids
            .iter()
            .filter(|id| !by_phase.get(id.as_str()).copied().unwrap_or(false))
            .cloned()
            .collect()
    }
}
