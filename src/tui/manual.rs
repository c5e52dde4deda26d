//! Sending a manual item's request on demand, off the event loop: the request runs on a tokio
//! task and its result comes back over a channel, as the engine's results do.

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::checklist::Checklist;
use crate::checks::{Probe, ProbeContext};
use crate::duration::format_duration;

/// The result of sending a manual item's request once.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualRunResult {
    pub item_id: String,
    /// Outcome, summary and evidence, with secrets masked.
    pub probe: Probe,
    pub started_at: Timestamp,
    /// Wall time of the request, in milliseconds.
    pub elapsed_ms: u64,
}

/// Reasons a manual item's request was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManualRunError {
    #[error("no item with id `{0}`")]
    UnknownItem(String),
    #[error("`{0}` has no request to send; add a `request` table to the item")]
    NoRequest(String),
    #[error("cannot send the request of `{item}`: {}", .reasons.join("; "))]
    Unavailable { item: String, reasons: Vec<String> },
}

/// Starts sending the request of the manual item `item_id` on a tokio task, and returns at
/// once. The result arrives on `results`; nothing arrives when the receiver is gone.
///
/// # Errors
///
/// Returns an error, and sends nothing, when the item does not exist, has no request, or its
/// request uses a secret whose source is not set.
pub fn spawn_manual_run(
    checklist: &Arc<Checklist>,
    item_id: &str,
    body_limit: usize,
    results: mpsc::UnboundedSender<ManualRunResult>,
) -> Result<(), ManualRunError> {
    let item = checklist
        .item(item_id)
        .ok_or_else(|| ManualRunError::UnknownItem(item_id.to_string()))?;
    let request = item
        .manual_request()
        .ok_or_else(|| ManualRunError::NoRequest(item_id.to_string()))?;
    if !request.unavailable.is_empty() {
        return Err(ManualRunError::Unavailable {
            item: item_id.to_string(),
            reasons: request.unavailable.clone(),
        });
    }
    let spec = request.spec.clone();
    let timeout = request.timeout;
    let ctx = ProbeContext {
        redactor: Arc::clone(&checklist.redactor),
        timeout,
        body_limit,
    };
    let item_id = item_id.to_string();
    tokio::spawn(async move {
        let started_at = Timestamp::now();
        let started = Instant::now();
        // The probe runs on its own task so that a panic in it still ends in a result.
        let probe_task = tokio::spawn(async move {
            match tokio::time::timeout(timeout, spec.run(&ctx)).await {
                Ok(probe) => probe,
                Err(_) => Probe::error(format!("timed out after {}", format_duration(timeout))),
            }
        });
        let probe = match probe_task.await {
            Ok(probe) => probe,
            Err(err) => {
                tracing::error!(item = %item_id, error = %err, "manual request task failed");
                Probe::error("the request task failed; see the log file")
            }
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let result = ManualRunResult {
            item_id,
            probe,
            started_at,
            elapsed_ms,
        };
        // A closed receiver means the cockpit has stopped, so the result has nowhere to go.
        let _ = results.send(result);
    });
    Ok(())
}
