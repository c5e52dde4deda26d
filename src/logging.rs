//! Logging to a file with `tracing`, never to the terminal the cockpit owns.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Environment variable holding the log filter, such as `golive=debug`.
pub const FILTER_VAR: &str = "GOLIVE_LOG";

/// Starts logging to `path`. Returns the guard that flushes the log when dropped, or a warning
/// when the file cannot be opened: golive then runs without a log instead of failing.
pub fn init(path: &Path) -> Result<WorkerGuard, String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| format!("cannot create log folder {}: {err}", parent.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|err| format!("cannot open log file {}: {err}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env(FILTER_VAR).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|err| format!("cannot start logging: {err}"))?;
    Ok(guard)
}
