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

/// The `waived` list: finding keys (`rule@location`) or bare rule ids, which waive every
/// location of the rule.
#[derive(Debug, Clone, Default)]
pub struct Waivers {
    /// Entry → number of findings it matched, over every report read.
    matches: HashMap<String, u64>,
    order: Vec<String>,
}

impl Waivers {
    pub fn new(entries: &[String]) -> Self {
        let mut waivers = Waivers::default();
        for entry in entries {
            if waivers.matches.insert(entry.clone(), 0).is_none() {
                waivers.order.push(entry.clone());
            }
        }
        waivers
    }

    /// Returns whether the finding is waived, and counts the match.
    pub fn check(&mut self, finding: &Finding) -> bool {
        if self.matches.is_empty() {
            return false;
        }
        let key = finding.key();
        for candidate in [key.as_str(), finding.rule_id.as_str()] {
            if let Some(count) = self.matches.get_mut(candidate) {
                *count += 1;
                return true;
            }
        }
        false
    }

    /// Entries that matched no finding, in the order written.
    pub fn unused(&self) -> Vec<&str> {
        self.order
            .iter()
            .filter(|entry| self.matches.get(*entry).copied() == Some(0))
            .map(String::as_str)
            .collect()
    }
}
