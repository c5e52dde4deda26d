//! Running one item's check: the attempts, their timeout, retries and the result.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

use super::EngineEvent;
use crate::checklist::CheckDef;
use crate::checks::{CheckResult, Evidence, Outcome, Probe, ProbeContext};
use crate::duration::format_duration;
use crate::redact::Redactor;

/// Time a probe gets past its timeout to report the timeout itself, with its evidence, before
/// the engine abandons the attempt. Probes pass the timeout on to their clients, so the engine's
/// own limit only stops probes that ignore it.
const TIMEOUT_GRACE: Duration = Duration::from_millis(100);

/// Pause before a retry, so that a flapping service gets a moment to recover.
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(200);

/// The semaphore, masker, body limit and event sender that every run of a check uses.
pub(crate) struct Shared {
    /// Bounds the number of attempts in flight; an attempt holds a permit until it ends.
    pub semaphore: Arc<Semaphore>,
    pub redactor: Arc<Redactor>,
    pub body_limit: usize,
    pub events: mpsc::UnboundedSender<EngineEvent>,
}

/// Runs the check of one item with its retries, sends `Started` before each attempt and
/// `Finished` at the end, and returns the final outcome. Returns `None` when the engine stops
/// first.
pub(crate) async fn run_item(
    item_id: String,
    def: CheckDef,
    shared: Arc<Shared>,
) -> Option<Outcome> {
    if !def.unavailable.is_empty() {
        let summary = shared.redactor.redact(&def.unavailable.join("; "));
        tracing::warn!(item_id = %item_id, reason = %summary, "check cannot run");
        let evidence = Evidence {
            notes: vec![summary.clone()],
            ..Evidence::default()
        };
        let result = CheckResult {
            item_id,
            outcome: Outcome::Error,
            summary,
            evidence,
            started_at: jiff::Timestamp::now(),
            elapsed_ms: 0,
            attempts: 1,
        };
        let _ = shared.events.send(EngineEvent::Finished(result));
        return Some(Outcome::Error);
    }

    let ctx = ProbeContext {
        redactor: Arc::clone(&shared.redactor),
        timeout: def.timeout,
        body_limit: shared.body_limit,
    };
    let mut first_start: Option<(jiff::Timestamp, Instant)> = None;
    let mut attempts = 0;
    let probe = loop {
        attempts += 1;
        let permit = shared.semaphore.acquire().await.ok()?;
        first_start.get_or_insert_with(|| (jiff::Timestamp::now(), Instant::now()));
        tracing::info!(item_id = %item_id, attempt = attempts, "check attempt started");
        let _ = shared.events.send(EngineEvent::Started {
            item_id: item_id.clone(),
        });

        let run = tokio::time::timeout(def.timeout + TIMEOUT_GRACE, def.spec.run(&ctx)).await;
        drop(permit);
        let probe = run.unwrap_or_else(|_| timed_out(def.timeout));
        if probe.outcome != Outcome::Error || attempts > def.retries {
            break probe;
        }
        tracing::warn!(
            item_id = %item_id,
            attempt = attempts,
            summary = %probe.summary,
            "check attempt ended in error, retrying"
        );
        tokio::time::sleep(RETRY_DELAY).await;
    };

    let (started_at, clock) =
        first_start.unwrap_or_else(|| (jiff::Timestamp::now(), Instant::now()));
    if probe.outcome == Outcome::Error {
        tracing::warn!(item_id = %item_id, attempts, summary = %probe.summary, "check error");
    } else {
        let outcome = probe.outcome.as_str();
        tracing::info!(item_id = %item_id, attempts, outcome, "check finished");
    }
    let outcome = probe.outcome;
    let result = CheckResult {
        item_id,
        outcome,
        summary: probe.summary,
        evidence: probe.evidence,
        started_at,
        elapsed_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
        attempts,
    };
    let _ = shared.events.send(EngineEvent::Finished(result));
    Some(outcome)
}

fn timed_out(timeout: Duration) -> Probe {
    let mut probe = Probe::error(format!("timed out after {}", format_duration(timeout)));
    probe
        .evidence
        .notes
        .push("the attempt was stopped at its timeout".into());
    probe
}
