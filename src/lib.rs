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
pub mod journal;
pub mod logging;
pub mod redact;
pub mod report;
pub mod sanitize;
pub mod session;
pub mod tui;
