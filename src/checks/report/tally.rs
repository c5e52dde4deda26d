//! Counting findings by severity, keeping a bounded number of them, and matching waivers.

use std::collections::HashMap;

use super::model::{Finding, Severity};

/// Maximum number of distinct findings kept per severity; the rest are only counted.
pub const MAX_KEPT_PER_SEVERITY: usize = 200;

/// A kept finding with the number of times the report lists its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFinding {
    pub finding: Finding,
    pub instances: u64,
    pub waived: bool,
}

/// Counts of one report's findings by severity, with the first distinct findings of each.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Findings per severity, waived ones included, indexed by [`Severity::index`].
    pub counts: [u64; 5],
    /// Waived findings per severity.
    pub waived: [u64; 5],
    /// The first [`MAX_KEPT_PER_SEVERITY`] distinct findings of each severity.
    pub kept: [Vec<KeptFinding>; 5],
    /// Findings per severity whose key is not among the kept ones.
    pub omitted: [u64; 5],
    index: [HashMap<String, usize>; 5],
}

impl Tally {
    /// Counts a finding and keeps it when there is room.
    pub fn add(&mut self, finding: Finding, waived: bool) {
        let slot = finding.severity.index();
        self.counts[slot] += 1;
        if waived {
            self.waived[slot] += 1;
        }
        let key = finding.key();
        if let Some(&position) = self.index[slot].get(&key) {
            self.kept[slot][position].instances += 1;
            return;
        }
        if self.kept[slot].len() >= MAX_KEPT_PER_SEVERITY {
            self.omitted[slot] += 1;
            return;
        }
        self.index[slot].insert(key, self.kept[slot].len());
        self.kept[slot].push(KeptFinding {
            finding,
            instances: 1,
            waived,
        });
    }

    /// Findings of a severity that count toward `expect.max`: all but the waived ones.
    pub fn counted(&self, severity: Severity) -> u64 {
        self.counts[severity.index()] - self.waived[severity.index()]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Number of findings kept in memory across severities.
    pub fn kept_total(&self) -> usize {
        self.kept.iter().map(Vec::len).sum()
    }
}

/// A finding waiver of the checklist's `[[waivers]]`: accepted risk on one finding key or rule
/// id, approved by a person until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingWaiver {
    /// A finding key (`rule@location`) or a rule id.
    pub key: String,
    pub approved_by: String,
    pub expires: jiff::Timestamp,
}

/// The use of one waiver entry over every report read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverUse {
    /// The entry as written: a finding key or a rule id.
    pub key: String,
    /// Findings it matched.
    pub matched: u64,
    /// The approval of a finding waiver; `None` for an entry of the check's `waived` list.
    pub approval: Option<FindingWaiver>,
    /// Whether a finding waiver had expired, so its findings were counted.
    pub expired: bool,
}

/// The waivers of a report check: its `waived` list and the finding waivers of the checklist,
/// with the number of findings each matched. A key is a finding key (`rule@location`) or a
/// bare rule id, which covers every location of the rule.
#[derive(Debug, Clone, Default)]
pub struct Waivers {
    entries: HashMap<String, WaiverUse>,
    order: Vec<String>,
}

impl Waivers {
    /// Builds the waivers in effect at `now`: a finding waiver whose expiry has passed still
    /// matches findings, but they count.
    pub fn new(entries: &[String], approved: &[FindingWaiver], now: jiff::Timestamp) -> Self {
        let mut waivers = Waivers::default();
        for entry in entries {
            waivers.insert(entry, None, false);
        }
        for waiver in approved {
            waivers.insert(&waiver.key, Some(waiver.clone()), now >= waiver.expires);
        }
        waivers
    }

    fn insert(&mut self, key: &str, approval: Option<FindingWaiver>, expired: bool) {
        // A key in both lists keeps its first form: a plain `waived` entry needs no approval.
        if self.entries.contains_key(key) {
            return;
        }
        self.order.push(key.to_string());
        self.entries.insert(
            key.to_string(),
            WaiverUse {
                key: key.to_string(),
                matched: 0,
                approval,
                expired,
            },
        );
    }

    /// Returns whether the finding is waived, and counts the match.
    pub fn check(&mut self, finding: &Finding) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let key = finding.key();
        for candidate in [key.as_str(), finding.rule_id.as_str()] {
            if let Some(entry) = self.entries.get_mut(candidate) {
                entry.matched += 1;
                return !entry.expired;
            }
        }
        false
    }

    /// Returns every entry with its matches, in the order written (the `waived` list first).
    pub fn uses(&self) -> Vec<&WaiverUse> {
        self.order
            .iter()
            .filter_map(|key| self.entries.get(key))
            .collect()
    }

    /// Entries that matched no finding, in the order written.
    pub fn unused(&self) -> Vec<&str> {
        self.uses()
            .into_iter()
            .filter(|entry| entry.matched == 0)
            .map(|entry| entry.key.as_str())
            .collect()
    }
}
