//! golive: a terminal cockpit for launch day.
//!
//! The core (checklist model and loader, check kinds, engine, journal, session state) knows
//! nothing of a terminal. The TUI ([`tui`]) and the headless report ([`report`]) are front ends
//! over the same stream of [`engine::EngineEvent`]s and the same [`journal::Journal`].

pub mod checklist;
pub mod checks;
pub mod config;
pub mod demo;
pub mod duration;
pub mod engine;
pub mod files;
pub mod journal;
pub mod logging;
pub mod record;
pub mod redact;
pub mod report;
pub mod sanitize;
pub mod session;
pub mod tui;

/// Time since this process started, from the kernel's process start time. Used for the
/// time-to-first-frame log line; returns zero where `/proc` is not available.
pub fn process_uptime() -> std::time::Duration {
    fn read() -> Option<std::time::Duration> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Field 22 (starttime, in clock ticks since boot) follows the command name, which is in
        // parentheses and may contain spaces.
        let after_name = stat.rsplit_once(')')?.1;
        let start_ticks: f64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        // Linux reports starttime in USER_HZ, which is 100 on every mainstream architecture.
        let since_start = uptime - start_ticks / 100.0;
        Some(std::time::Duration::from_secs_f64(since_start.max(0.0)))
    }
    read().unwrap_or_default()
}

/// Returns the count with the singular or the plural noun, such as "1 page" or "3 pages".
pub fn plural(count: u64, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("1 {singular}")
    } else {
        format!("{count} {plural}")
    }
}
