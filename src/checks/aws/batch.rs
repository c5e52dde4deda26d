//! Coalescing of the AWS calls of checks that run at the same moment.
//!
//! A checklist can hold hundreds of `aws_alarms` checks that each name one alarm, and several
//! `securityhub_findings` checks on the same hub. Instead of one call per check, a request
//! (named alarms, a DescribeHub, the findings count of one severity) joins a batch of its key
//! (target, timeout and, for findings, the severity):
//!
//! - a batch still collecting, which waits [`COLLECT_WINDOW`] after its first request and then
//!   sends one call for everything collected, while it has room for the request;
//! - or a batch already in flight whose call covers the request.
//!
//! Otherwise the request starts a new batch. Each batch runs in its own spawned task, so a check
//! whose future is dropped (at its timeout) only stops waiting and never stops the call others
//! wait for. The task removes its batch when it ends, even when it is aborted, so no later
//! request can join a batch that will never finish.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError;
use aws_sdk_securityhub::operation::describe_hub::DescribeHubError;
use aws_sdk_securityhub::operation::get_findings::GetFindingsError;
use tokio::sync::watch;

use super::AwsTarget;
use super::alarms::{AlarmView, describe_named_alarms};
use super::client;
use super::securityhub::{Severity, SeverityCount, count_findings};

/// Time a new batch waits for other requests before it sends its call.
const COLLECT_WINDOW: Duration = Duration::from_millis(20);
/// Maximum number of alarm names DescribeAlarms accepts in one call.
pub const ALARM_NAMES_PER_CALL: usize = 100;

/// Whether requests are coalesced; see [`set_batching`].
static BATCHING: AtomicBool = AtomicBool::new(true);

/// Turns the coalescing of calls on (the default) or off for the whole process. With it off,
/// each check sends its own calls at once, as benchmarks compare.
pub fn set_batching(enabled: bool) {
    BATCHING.store(enabled, Ordering::Relaxed);
}

/// The error of a batch: the SDK error of its call, shared by every request in the batch.
#[derive(Debug)]
pub enum BatchError<E> {
    /// The call failed with this SDK error.
    Call(Arc<E>),
    /// The batch's task ended without a result, such as when its runtime shut down.
    Ended,
}

// A derived Clone would require `E: Clone`, which SDK errors are not; the Arc is enough.
impl<E> Clone for BatchError<E> {
    fn clone(&self) -> Self {
        match self {
            BatchError::Call(err) => BatchError::Call(Arc::clone(err)),
            BatchError::Ended => BatchError::Ended,
        }
    }
}

/// The requests a batch collects before its call is sent.
trait Collect: Default + Send + 'static {
    type Request: ?Sized;

    /// Adds the request while the batch collects, or returns false when it has no room.
    fn add(&mut self, request: &Self::Request) -> bool;

    /// Returns whether the call of a batch in flight already covers the request.
    fn covers(&self, request: &Self::Request) -> bool;
}

/// One batch of a key, as stored while it collects or is in flight.
struct Entry<C, V> {
    id: u64,
    /// False once the batch's call has been sent.
    collecting: bool,
    collected: C,
    answer: watch::Receiver<Option<V>>,
}

/// The batches of every key, behind a lock that is never held across an await.
struct Batcher<K, C, V> {
    state: Mutex<BatcherState<K, C, V>>,
}

struct BatcherState<K, C, V> {
    next_id: u64,
    batches: HashMap<K, Vec<Entry<C, V>>>,
}

impl<K, C, V> Batcher<K, C, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    C: Collect + Clone,
    V: Clone + Send + Sync + 'static,
{
    fn new() -> Self {
        Batcher {
            state: Mutex::new(BatcherState {
                next_id: 0,
                batches: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BatcherState<K, C, V>> {
        // A poisoned lock only means a thread panicked while holding it; every update leaves
        // the map consistent, so it stays usable.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Joins the request to a batch of `key`, starting one that calls `fetch` when none can
    /// take it, and waits for the batch's result.
    async fn request<F, Fut>(&'static self, key: K, request: &C::Request, fetch: F) -> Option<V>
    where
        F: FnOnce(C) -> Fut + Send + 'static,
        Fut: Future<Output = V> + Send + 'static,
    {
        if !BATCHING.load(Ordering::Relaxed) {
            let mut collected = C::default();
            collected.add(request);
            return Some(fetch(collected).await);
        }
        let mut answer = self.join(key, request, fetch);
        let result = answer.wait_for(Option::is_some).await;
        result.ok().and_then(|value| value.clone())
    }

    fn join<F, Fut>(
        &'static self,
        key: K,
        request: &C::Request,
        fetch: F,
    ) -> watch::Receiver<Option<V>>
    where
        F: FnOnce(C) -> Fut + Send + 'static,
        Fut: Future<Output = V> + Send + 'static,
    {
        let mut state = self.lock();
        let batches = state.batches.entry(key.clone()).or_default();
        for entry in batches.iter_mut() {
            let joined = if entry.collecting {
                entry.collected.add(request)
            } else {
                entry.collected.covers(request)
            };
            if joined {
                return entry.answer.clone();
            }
        }

        let mut collected = C::default();
        // A fresh batch takes any single request: callers split requests to fit one call.
        collected.add(request);
        let (sender, answer) = watch::channel(None);
        let id = state.next_id;
        state.next_id += 1;
        state.batches.entry(key.clone()).or_default().push(Entry {
            id,
            collecting: true,
            collected,
            answer: answer.clone(),
        });
        drop(state);

        tokio::spawn(async move {
            let _remove = RemoveOnDrop {
                batcher: self,
                key: key.clone(),
                id,
            };
            tokio::time::sleep(COLLECT_WINDOW).await;
            let Some(collected) = self.seal(&key, id) else {
                return;
            };
            let value = fetch(collected).await;
            // The requesters may have stopped waiting, which is not an error.
            let _ = sender.send(Some(value));
        });
        answer
    }

    /// Ends the collection of a batch and returns what it collected.
    fn seal(&self, key: &K, id: u64) -> Option<C> {
        let mut state = self.lock();
        let entry = state
            .batches
            .get_mut(key)?
            .iter_mut()
            .find(|entry| entry.id == id)?;
        entry.collecting = false;
        Some(entry.collected.clone())
    }

    fn remove(&self, key: &K, id: u64) {
        let mut state = self.lock();
        if let Some(batches) = state.batches.get_mut(key) {
            batches.retain(|entry| entry.id != id);
            if batches.is_empty() {
                state.batches.remove(key);
            }
        }
    }
}

/// Removes a batch from its batcher when the batch's task ends or is aborted.
struct RemoveOnDrop<K, C, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    C: Collect + Clone,
    V: Clone + Send + Sync + 'static,
{
    batcher: &'static Batcher<K, C, V>,
    key: K,
    id: u64,
}

impl<K, C, V> Drop for RemoveOnDrop<K, C, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    C: Collect + Clone,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        self.batcher.remove(&self.key, self.id);
    }
}

/// Alarm names of one DescribeAlarms batch.
#[derive(Debug, Clone, Default)]
struct AlarmNames(BTreeSet<String>);

impl Collect for AlarmNames {
    type Request = [String];

    fn add(&mut self, names: &[String]) -> bool {
        let new = names.iter().filter(|name| !self.0.contains(*name)).count();
        if self.0.len() + new > ALARM_NAMES_PER_CALL {
            return false;
        }
        self.0.extend(names.iter().cloned());
        true
    }

    fn covers(&self, names: &[String]) -> bool {
        names.iter().all(|name| self.0.contains(name))
    }
}

/// The maximum number of finding titles the requests of one GetFindings batch show.
#[derive(Debug, Clone, Default)]
struct TitleCount(usize);

impl Collect for TitleCount {
    type Request = usize;

    fn add(&mut self, top: &usize) -> bool {
        self.0 = self.0.max(*top);
        true
    }

    fn covers(&self, top: &usize) -> bool {
        self.0 >= *top
    }
}

/// Nothing, because every DescribeHub request of a target is the same.
#[derive(Debug, Clone, Default)]
struct Unit;

impl Collect for Unit {
    type Request = ();

    fn add(&mut self, _request: &()) -> bool {
        true
    }

    fn covers(&self, _request: &()) -> bool {
        true
    }
}

/// The part of a DescribeHub response that checks show.
#[derive(Debug, Clone)]
pub(crate) struct HubView {
    pub(crate) hub_arn: Option<String>,
}

type HubAnswer = Result<HubView, BatchError<DescribeHubSdkError>>;
type AlarmsAnswer = Result<Arc<Vec<AlarmView>>, BatchError<DescribeAlarmsSdkError>>;
type FindingsAnswer = Result<Arc<SeverityCount>, BatchError<GetFindingsSdkError>>;

/// The SDK error of a DescribeAlarms call.
pub type DescribeAlarmsSdkError = aws_sdk_cloudwatch::error::SdkError<DescribeAlarmsError>;
/// The SDK error of a DescribeHub call.
pub type DescribeHubSdkError = aws_sdk_securityhub::error::SdkError<DescribeHubError>;
/// The SDK error of a GetFindings call.
pub type GetFindingsSdkError = aws_sdk_securityhub::error::SdkError<GetFindingsError>;

static ALARMS: LazyLock<Batcher<(AwsTarget, Duration), AlarmNames, AlarmsAnswer>> =
    LazyLock::new(Batcher::new);
static HUBS: LazyLock<Batcher<(AwsTarget, Duration), Unit, HubAnswer>> =
    LazyLock::new(Batcher::new);
static FINDINGS: LazyLock<Batcher<(AwsTarget, Duration, Severity), TitleCount, FindingsAnswer>> =
    LazyLock::new(Batcher::new);

/// Describes the named alarms through shared DescribeAlarms calls of up to 100 names, and
/// returns those of `names` that exist, in the order of the calls' responses.
///
/// `timeout` is the check's timeout, which the client applies to each call.
pub(crate) async fn describe_alarms(
    target: &AwsTarget,
    timeout: Duration,
    names: &[String],
) -> Result<Vec<AlarmView>, BatchError<DescribeAlarmsSdkError>> {
    let mut found = Vec::new();
    for chunk in names.chunks(ALARM_NAMES_PER_CALL) {
        let key = (target.clone(), timeout);
        let call_target = target.clone();
        let fetch = move |collected: AlarmNames| async move {
            let client = client::cloudwatch(&call_target, timeout).await;
            let names: Vec<String> = collected.0.into_iter().collect();
            describe_named_alarms(&client, names)
                .await
                .map(Arc::new)
                .map_err(|err| BatchError::Call(Arc::new(err)))
        };
        let alarms = ALARMS
            .request(key, chunk, fetch)
            .await
            .unwrap_or(Err(BatchError::Ended))?;
        found.extend(
            alarms
                .iter()
                .filter(|alarm| chunk.contains(&alarm.name))
                .cloned(),
        );
    }
    Ok(found)
}

/// Describes the target's Security Hub through a DescribeHub call shared with the checks of the
/// same target that run at the same moment.
pub(crate) async fn describe_hub(
    target: &AwsTarget,
    timeout: Duration,
) -> Result<HubView, BatchError<DescribeHubSdkError>> {
    let key = (target.clone(), timeout);
    let call_target = target.clone();
    let fetch = move |_: Unit| async move {
        let client = client::securityhub(&call_target, timeout).await;
        match client.describe_hub().send().await {
            Ok(hub) => Ok(HubView {
                hub_arn: hub.hub_arn().map(str::to_string),
            }),
            Err(err) => Err(BatchError::Call(Arc::new(err))),
        }
    };
    HUBS.request(key, &(), fetch)
        .await
        .unwrap_or(Err(BatchError::Ended))
}

/// Counts the active findings of one severity through a GetFindings count shared with the
/// checks of the same target that run at the same moment. The result keeps at least `top`
/// finding titles.
pub(crate) async fn count_severity(
    target: &AwsTarget,
    timeout: Duration,
    severity: Severity,
    top: usize,
) -> Result<Arc<SeverityCount>, BatchError<GetFindingsSdkError>> {
    let key = (target.clone(), timeout, severity);
    let call_target = target.clone();
    let fetch = move |collected: TitleCount| async move {
        let client = client::securityhub(&call_target, timeout).await;
        count_findings(&client, severity, collected.0)
            .await
            .map(Arc::new)
            .map_err(|err| BatchError::Call(Arc::new(err)))
    };
    FINDINGS
        .request(key, &top, fetch)
        .await
        .unwrap_or(Err(BatchError::Ended))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn alarm_batch_stops_at_call_limit() {
        let mut batch = AlarmNames::default();
        let first: Vec<String> = (0..99).map(|index| format!("alarm-{index}")).collect();
        assert!(batch.add(&first));
        assert!(batch.add(&names(&["alarm-0", "alarm-99"])));
        assert!(!batch.add(&names(&["alarm-100"])));
        assert_eq!(batch.0.len(), ALARM_NAMES_PER_CALL);
    }

    #[test]
    fn alarm_batch_covers_only_its_names() {
        let mut batch = AlarmNames::default();
        assert!(batch.add(&names(&["a", "b"])));
        assert!(batch.covers(&names(&["b"])));
        assert!(!batch.covers(&names(&["b", "c"])));
    }

    #[test]
    fn title_count_covers_smaller_top() {
        let mut batch = TitleCount::default();
        assert!(batch.add(&5));
        assert!(batch.covers(&3));
        assert!(!batch.covers(&6));
    }

    static TEST_BATCHER: LazyLock<Batcher<u32, TitleCount, u32>> = LazyLock::new(Batcher::new);

    #[tokio::test]
    async fn concurrent_requests_share_one_fetch() {
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let mut waiting = Vec::new();
        for top in 0..10 {
            let calls = Arc::clone(&calls);
            waiting.push(tokio::spawn(async move {
                let fetch = move |collected: TitleCount| async move {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    collected.0 as u32
                };
                TEST_BATCHER.request(1, &top, fetch).await
            }));
        }
        for task in waiting {
            assert_eq!(task.await.unwrap(), Some(9));
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn dropped_waiter_leaves_batch_answering() {
        let fetch = |collected: TitleCount| async move { collected.0 as u32 };
        let dropped =
            tokio::time::timeout(Duration::from_millis(1), TEST_BATCHER.request(2, &1, fetch))
                .await;
        assert!(dropped.is_err(), "the first request stops waiting");
        let answer = TEST_BATCHER.request(2, &1, fetch).await;
        assert_eq!(answer, Some(1));
    }
}
