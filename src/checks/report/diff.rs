//! Comparing a re-scan with a baseline report by finding key.
//!
//! A finding is new when its key is only in the re-scan, fixed when only in the baseline, and
//! still open when in both. Keys are compared as 64-bit hashes, so memory grows with the number
//! of distinct keys (about 16 bytes plus table overhead each), not with the files' size.

use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use super::model::{Finding, Severity};

/// Maximum number of new and of fixed findings listed per severity.
pub const MAX_LISTED_PER_SEVERITY: usize = 50;

fn key_hash(finding: &Finding) -> u64 {
    // NOTE: two distinct keys with the same 64-bit hash would be taken as one finding. With a
    // million keys, the chance of that is about 3 in 100 million (the birthday bound).
    let mut hasher = DefaultHasher::new();
    finding.rule_id.hash(&mut hasher);
    finding.location.hash(&mut hasher);
    hasher.finish()
}

#[derive(Debug, Clone, Copy)]
struct BaselineEntry {
    severity: Severity,
    waived: bool,
    /// Whether the re-scan has the key.
    seen: bool,
    /// Whether the finding is already in the fixed list.
    listed: bool,
}

/// The comparison of a re-scan with its baseline, counted over distinct keys.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// New findings per severity of the re-scan.
    pub new: [u64; 5],
    /// New findings per severity that are not waived.
    pub new_unwaived: [u64; 5],
    /// Fixed findings per severity of the baseline.
    pub fixed: [u64; 5],
    /// Findings in both reports, per severity of the baseline.
    pub still_open: [u64; 5],
    /// Findings in both reports that are not waived, per severity of the baseline.
    pub still_open_unwaived: [u64; 5],
    /// The first new findings of each severity, with whether each is waived.
    pub new_list: [Vec<(Finding, bool)>; 5],
    /// The first fixed findings of each severity.
    pub fixed_list: [Vec<Finding>; 5],
    baseline: HashMap<u64, BaselineEntry>,
    current: HashSet<u64>,
}

impl Diff {
    /// Records a finding of the baseline report.
    pub fn add_baseline(&mut self, finding: &Finding, waived: bool) {
        self.baseline
            .entry(key_hash(finding))
            .or_insert(BaselineEntry {
                severity: finding.severity,
                waived,
                seen: false,
                listed: false,
            });
    }

    /// Records a finding of the re-scan, after every baseline finding.
    pub fn add_current(&mut self, finding: &Finding, waived: bool) {
        let hash = key_hash(finding);
        if !self.current.insert(hash) {
            return;
        }
        match self.baseline.get_mut(&hash) {
            Some(entry) => {
                entry.seen = true;
                let slot = entry.severity.index();
                self.still_open[slot] += 1;
                if !(entry.waived || waived) {
                    self.still_open_unwaived[slot] += 1;
                }
            }
            None => {
                let slot = finding.severity.index();
                self.new[slot] += 1;
                if !waived {
                    self.new_unwaived[slot] += 1;
                }
                if self.new_list[slot].len() < MAX_LISTED_PER_SEVERITY {
                    self.new_list[slot].push((finding.clone(), waived));
                }
            }
        }
    }

    /// Counts the baseline keys the re-scan did not have. Call once, after the re-scan.
    pub fn count_fixed(&mut self) {
        for entry in self.baseline.values().filter(|entry| !entry.seen) {
            self.fixed[entry.severity.index()] += 1;
        }
    }

    /// Returns whether any baseline finding is fixed, so a second pass over the baseline can list them.
    pub fn has_fixed(&self) -> bool {
        self.fixed.iter().any(|count| *count > 0)
    }

    /// Lists a baseline finding when it is fixed and there is room, during a second pass over
    /// the baseline.
    pub fn list_fixed(&mut self, finding: &Finding) {
        let Entry::Occupied(mut entry) = self.baseline.entry(key_hash(finding)) else {
            return;
        };
        let entry = entry.get_mut();
        let slot = entry.severity.index();
        if entry.seen || entry.listed || self.fixed_list[slot].len() >= MAX_LISTED_PER_SEVERITY {
            return;
        }
        entry.listed = true;
        self.fixed_list[slot].push(finding.clone());
    }

    /// Number of distinct keys in the baseline.
    pub fn baseline_keys(&self) -> usize {
        self.baseline.len()
    }
}
