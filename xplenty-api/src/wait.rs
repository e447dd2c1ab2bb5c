//! Waiting for jobs and clusters: poll until a terminal state (or a status asked for),
//! with a deadline, a poll interval and the changes reported as they happen. Waits on
//! one client share their polls. Dropping the future stops polling.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;

use crate::types::{Cluster, ClusterStatus, Job, JobStatus};
use crate::{Client, Error};

impl JobStatus {
    /// The job has ended: completed, failed or stopped.
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Stopped)
    }
}

impl ClusterStatus {
    /// The cluster has settled for now: ready for jobs (available, idle), failed (error)
    /// or gone (terminated). Not the end of its life: an available cluster can still be
    /// terminated, so a wait after a terminate request says what it waits for with
    /// [`Wait::until`].
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            ClusterStatus::Available | ClusterStatus::Idle | ClusterStatus::Error | ClusterStatus::Terminated
        )
    }

    /// The cluster can never change again: terminated or in error.
    pub fn is_final(&self) -> bool {
        matches!(self, ClusterStatus::Error | ClusterStatus::Terminated)
    }

    /// The old name of [`is_settled`](Self::is_settled): an available cluster is not at
    /// the end of its life.
    #[deprecated(since = "0.2.0", note = "renamed `is_settled`: available and idle are not terminal")]
    pub fn is_terminal(&self) -> bool {
        self.is_settled()
    }
}

mod sealed {
    /// Only this crate's resources are [`super::Waitable`]: its methods may change.
    pub trait Sealed {}
    impl Sealed for crate::types::Job {}
    impl Sealed for crate::types::Cluster {}
}

/// A resource a wait polls: how to fetch it and when it is done. Sealed: implemented for
/// [`Job`] and [`Cluster`] only.
pub trait Waitable: sealed::Sealed + Clone + Send + Sync + Sized + 'static {
    /// Its status type.
    type Status: Clone + PartialEq + fmt::Debug + Send + Sync + 'static;
    /// The status as the server spells it.
    fn status_str(&self) -> Option<&str>;
    /// Progress from 0 to 1, for resources that report it.
    fn progress(&self) -> Option<f64>;
    /// A wait without [`Wait::until`] ends here: a job that ended, a cluster that settled.
    fn is_terminal(&self) -> bool;
    #[doc(hidden)]
    fn id(&self) -> u64;
    #[doc(hidden)]
    fn status(&self) -> Option<&Self::Status>;
    /// A wait [`until`](Wait::until) a status also ends at these, which the status
    /// asked for can no longer follow.
    #[doc(hidden)]
    fn is_dead_end(status: &Self::Status, target: &Self::Status) -> bool;
    #[doc(hidden)]
    fn fetch(client: &Client, id: u64) -> impl Future<Output = Result<Self, Error>> + Send + '_;
    /// The items of `ids` among the most recently updated, to serve many waits at once:
    /// pages are read until every id is found, at most one page more than `ids` fill.
    #[doc(hidden)]
    fn list<'a>(client: &'a Client, ids: &'a [u64]) -> impl Future<Output = Listed<Self>> + Send + 'a;
    #[doc(hidden)]
    fn hubs() -> &'static Registry<Self>;
}

/// Items a shared poll asks for in one list call: the API's maximum page.
const LIST_LIMIT: u64 = 100;

/// The listed items of `ids`; stops when all are found, after one page more than they
/// fill, or at an error (the missing ones are then read one by one).
async fn collect_listed<T: Waitable>(items: impl Stream<Item = Result<T, Error>> + Unpin, ids: &[u64]) -> Listed<T> {
    let most = (ids.len() / LIST_LIMIT as usize + 1) * LIST_LIMIT as usize;
    let mut items = items.take(most);
    let mut found = Vec::new();
    while let Some(item) = items.next().await {
        let Ok(item) = item else { return Listed { found, failed: true } };
        if ids.contains(&item.id()) {
            found.push(item);
            if found.len() == ids.len() {
                break;
            }
        }
    }
    Listed { found, failed: false }
}

/// What a shared list poll found, and whether a page failed.
#[doc(hidden)]
#[derive(Debug)]
pub struct Listed<T> {
    found: Vec<T>,
    failed: bool,
}

impl Waitable for Job {
    type Status = JobStatus;
    fn status_str(&self) -> Option<&str> {
        Some(self.status.as_str())
    }
    fn progress(&self) -> Option<f64> {
        self.progress
    }
    fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn status(&self) -> Option<&JobStatus> {
        Some(&self.status)
    }
    fn is_dead_end(status: &JobStatus, target: &JobStatus) -> bool {
        // A job that ended does not start again; `until(Running)` ends at any end.
        status.is_terminal() && status != target
    }
    async fn fetch(client: &Client, id: u64) -> Result<Self, Error> {
        Ok(client.get_job().job_id(id).send().await?.into_inner())
    }
    async fn list<'a>(client: &'a Client, ids: &'a [u64]) -> Listed<Self> {
        let items = client
            .list_jobs()
            .limit(LIST_LIMIT)
            .sort(crate::types::JobSort::Updated)
            .direction(crate::types::SortDirection::Desc)
            .stream_all();
        collect_listed(items, ids).await
    }
    fn hubs() -> &'static Registry<Self> {
        static HUBS: Registry<Job> = Registry::new();
        &HUBS
    }
}

impl Waitable for Cluster {
    type Status = ClusterStatus;
    fn status_str(&self) -> Option<&str> {
        Some(self.status.as_str())
    }
    fn progress(&self) -> Option<f64> {
        None
    }
    fn is_terminal(&self) -> bool {
        self.status.is_settled()
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn status(&self) -> Option<&ClusterStatus> {
        Some(&self.status)
    }
    fn is_dead_end(status: &ClusterStatus, target: &ClusterStatus) -> bool {
        // Waiting for available also takes idle: both are ready for jobs.
        status.is_final() || (*target == ClusterStatus::Available && *status == ClusterStatus::Idle)
    }
    async fn fetch(client: &Client, id: u64) -> Result<Self, Error> {
        Ok(client.get_cluster().cluster_id(id).send().await?.into_inner())
    }
    async fn list<'a>(client: &'a Client, ids: &'a [u64]) -> Listed<Self> {
        let items = client
            .list_clusters()
            .limit(LIST_LIMIT)
            .sort(crate::types::ClusterSort::Updated)
            .direction(crate::types::SortDirection::Desc)
            .stream_all();
        collect_listed(items, ids).await
    }
    fn hubs() -> &'static Registry<Self> {
        static HUBS: Registry<Cluster> = Registry::new();
        &HUBS
    }
}

/// What changed at one poll.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WaitEvent<T> {
    /// The resource as this poll saw it.
    pub resource: T,
    /// The status differs from the previous poll's (always true at the first poll).
    pub status_changed: bool,
    /// This is the last event: the resource reached a terminal state.
    pub finished: bool,
}

/// Why a wait ended without a terminal state.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitError {
    /// A poll failed (after the client's own retries).
    Api(Error),
    /// The deadline passed; `last_status` is what the last poll saw.
    TimedOut { waited: Duration, last_status: Option<String> },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The call's error is the source; Display does not repeat it.
            WaitError::Api(e) => write!(f, "waiting failed: a poll of {} failed", e.operation()),
            WaitError::TimedOut { waited, last_status } => {
                write!(f, "still {} after {:.0?}", last_status.as_deref().unwrap_or("without a status"), waited)
            }
        }
    }
}

impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::Api(e) => Some(e),
            WaitError::TimedOut { .. } => None,
        }
    }
}

impl From<Error> for WaitError {
    fn from(e: Error) -> Self {
        WaitError::Api(e)
    }
}

/// A wait for a job or a cluster; see [`Client::wait_for_job`] and
/// [`Client::wait_for_cluster`].
///
/// Waits on one client (and its clones) share their polls: while several waits of one
/// kind run, one list call per interval (the 100 most recently updated items) serves
/// them all, with a `GET` only for an item the list does not show. A single wait polls
/// its item with a `GET`. When the client's rate budget runs low (under a fifth of the
/// limit remaining), polls are spaced out, up to four times the interval.
#[must_use = "a wait does nothing until awaited or streamed"]
pub struct Wait<'a, T: Waitable> {
    client: &'a Client,
    id: u64,
    poll_interval: Duration,
    deadline: Option<Duration>,
    until: Option<T::Status>,
    on_event: Option<EventCallback<'a, T>>,
}

/// What [`Wait::on_event`] keeps.
type EventCallback<'a, T> = Box<dyn FnMut(&WaitEvent<T>) + Send + 'a>;

/// A wait for a job.
pub type JobWait<'a> = Wait<'a, Job>;
/// A wait for a cluster.
pub type ClusterWait<'a> = Wait<'a, Cluster>;

impl<T: Waitable> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("id", &self.id)
            .field("poll_interval", &self.poll_interval)
            .field("deadline", &self.deadline)
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

/// Time between polls of a wait unless told otherwise.
pub(crate) const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How long a wait lasts unless told otherwise.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(6 * 3600);

impl<'a, T: Waitable> Wait<'a, T> {
    fn new(client: &'a Client, id: u64) -> Self {
        Wait {
            client,
            id,
            poll_interval: DEFAULT_POLL_INTERVAL,
            deadline: Some(DEFAULT_DEADLINE),
            until: None,
            on_event: None,
        }
    }

    /// Time between polls (5 s by default). Polls are shared between the waits of one
    /// client: the shortest interval among them sets the pace.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Give up after this long (6 hours by default); `None` waits for ever.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Wait for this status rather than the first terminal one: a cluster being
    /// terminated waits `until(ClusterStatus::Terminated)` and does not end at the
    /// `available` it still shows before the request takes effect. The wait also ends
    /// where the status can no longer come: a cluster in `error` or `terminated`
    /// (and `idle` counts as `available`), a job that ended otherwise.
    pub fn until(mut self, status: T::Status) -> Self {
        self.until = Some(status);
        self
    }

    /// Called at every poll that saw a change of status or progress, and at the end.
    pub fn on_event(mut self, callback: impl FnMut(&WaitEvent<T>) + Send + 'a) -> Self {
        self.on_event = Some(Box::new(callback));
        self
    }

    /// Polls until a terminal state (or the [`until`](Self::until) status) and returns
    /// the resource as it then is (a failed job is a finished wait: check its status).
    pub async fn until_done(mut self) -> Result<T, WaitError> {
        let mut on_event = self.on_event.take();
        let mut events = std::pin::pin!(self.events());
        while let Some(event) = events.next().await {
            let event = event?;
            if let Some(callback) = on_event.as_mut() {
                callback(&event);
            }
            if event.finished {
                return Ok(event.resource);
            }
        }
        unreachable!("the event stream ends with a finished event or an error")
    }

    /// The same wait as a stream: an event at the first poll and at every poll that
    /// sees a change of status or progress; it ends after the terminal event, or with
    /// an error.
    pub fn events(self) -> impl Stream<Item = Result<WaitEvent<T>, WaitError>> + Send + 'a {
        let state = Polling { wait: self, started: None, last: None, done: false, seat: None };
        futures::stream::unfold(state, |mut state| async move {
            if state.done {
                return None;
            }
            let item = state.next_event().await;
            Some((item, state))
        })
    }

    fn finished(&self, resource: &T) -> bool {
        match (&self.until, resource.status()) {
            (None, _) => resource.is_terminal(),
            (Some(target), Some(status)) => status == target || T::is_dead_end(status, target),
            (Some(_), None) => false,
        }
    }
}

struct Polling<'a, T: Waitable> {
    wait: Wait<'a, T>,
    started: Option<tokio::time::Instant>,
    /// Status and progress of the previous poll.
    last: Option<(Option<String>, Option<f64>)>,
    done: bool,
    /// Its place at the client's shared poller, taken at the first poll.
    seat: Option<Seat<T>>,
}

impl<T: Waitable> Polling<'_, T> {
    async fn next_event(&mut self) -> Result<WaitEvent<T>, WaitError> {
        let started = *self.started.get_or_insert_with(tokio::time::Instant::now);
        let seat = self.seat.get_or_insert_with(|| Seat::take(self.wait.client, self.wait.id, self.wait.poll_interval));
        loop {
            let timed_out = |last: &Option<(Option<String>, Option<f64>)>| WaitError::TimedOut {
                waited: started.elapsed(),
                last_status: last.as_ref().and_then(|(status, _)| status.clone()),
            };
            // A deadline past what the clock can name is no deadline.
            let ends = self.wait.deadline.and_then(|deadline| started.checked_add(deadline));
            let received = match ends {
                Some(ends) => match tokio::time::timeout_at(ends, seat.updates.recv()).await {
                    Ok(received) => received,
                    Err(_) => {
                        self.done = true;
                        return Err(timed_out(&self.last));
                    }
                },
                None => seat.updates.recv().await,
            };
            let resource = match received {
                Some(Ok(resource)) => resource,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(WaitError::Api(e));
                }
                None => unreachable!("the poller keeps a seat's sender while the seat lives"),
            };
            let seen = (resource.status_str().map(str::to_owned), resource.progress());
            let status_changed = self.last.as_ref().is_none_or(|(status, _)| *status != seen.0);
            let changed = self.last.as_ref() != Some(&seen);
            let finished = self.wait.finished(&resource);
            self.last = Some(seen);
            self.done = finished;
            if changed || finished {
                return Ok(WaitEvent { resource, status_changed, finished });
            }
            // As before sharing: no poll is waited for that would land past the deadline.
            if self
                .wait
                .deadline
                .is_some_and(|deadline| started.elapsed().saturating_add(self.wait.poll_interval) > deadline)
            {
                self.done = true;
                return Err(timed_out(&self.last));
            }
        }
    }
}

// ---------------------------------------------------------------- the shared poller

/// The shared pollers of one kind, one per client (keyed by the address of the state
/// its clones share; a poller holds a clone, so the address is not reused while it
/// runs).
#[doc(hidden)]
pub struct Registry<T: Waitable> {
    hubs: Mutex<Vec<(usize, Weak<Hub<T>>)>>,
}

impl<T: Waitable> Registry<T> {
    const fn new() -> Self {
        Registry { hubs: Mutex::new(Vec::new()) }
    }
}

impl<T: Waitable> fmt::Debug for Registry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

struct Hub<T> {
    state: Mutex<HubState<T>>,
    /// Wakes the poller when a wait comes or goes.
    changed: tokio::sync::Notify,
}

struct HubState<T> {
    seats: HashMap<u64, SeatEntry<T>>,
    next_seat: u64,
    /// The poller has ended: a new wait starts a new one.
    closed: bool,
    /// Ends the poller at once, an exchange in flight too, when the last wait leaves.
    abort: Option<tokio::task::AbortHandle>,
}

struct SeatEntry<T> {
    id: u64,
    interval: Duration,
    updates: mpsc::UnboundedSender<Result<T, Error>>,
}

/// A wait's place at a shared poller; leaving it (drop) stops its polls.
struct Seat<T: Waitable> {
    hub: Arc<Hub<T>>,
    seat: u64,
    updates: mpsc::UnboundedReceiver<Result<T, Error>>,
}

fn lock<S>(mutex: &Mutex<S>) -> std::sync::MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Waitable> Seat<T> {
    fn take(client: &Client, id: u64, interval: Duration) -> Self {
        let key = Arc::as_ptr(&client.inner.shared) as usize;
        let (sender, updates) = mpsc::unbounded_channel();
        let mut hubs = lock(&T::hubs().hubs);
        hubs.retain(|(_, hub)| hub.strong_count() > 0);
        let existing = hubs.iter().find(|(k, _)| *k == key).and_then(|(_, hub)| hub.upgrade());
        let entry = SeatEntry { id, interval, updates: sender };
        if let Some(hub) = existing {
            let mut state = lock(&hub.state);
            if !state.closed {
                let seat = state.next_seat;
                state.next_seat += 1;
                state.seats.insert(seat, entry);
                drop(state);
                hub.changed.notify_one();
                return Seat { hub: hub.clone(), seat, updates };
            }
        }
        let hub = Arc::new(Hub {
            state: Mutex::new(HubState {
                seats: HashMap::from([(0, entry)]),
                next_seat: 1,
                closed: false,
                abort: None,
            }),
            changed: tokio::sync::Notify::new(),
        });
        hubs.retain(|(k, _)| *k != key);
        hubs.push((key, Arc::downgrade(&hub)));
        let poller = tokio::spawn(poll_shared(client.clone(), hub.clone()));
        lock(&hub.state).abort = Some(poller.abort_handle());
        Seat { hub, seat: 0, updates }
    }
}

impl<T: Waitable> Drop for Seat<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.hub.state);
        state.seats.remove(&self.seat);
        if state.seats.is_empty() {
            // No poll goes on for nobody, not even the one in flight.
            state.closed = true;
            if let Some(poller) = state.abort.take() {
                poller.abort();
            }
        }
        drop(state);
        self.hub.changed.notify_one();
    }
}

/// GETs a shared poll sends at once for items the list did not show.
const GETS_AT_ONCE: usize = 8;

/// How much longer than asked polls are spaced when the rate budget runs low.
fn stretch(client: &Client) -> u32 {
    match client.rate_limit() {
        Some(rate) if rate.limit > 0 => {
            let left = f64::from(rate.remaining) / f64::from(rate.limit);
            if left < 0.05 {
                4
            } else if left < 0.2 {
                2
            } else {
                1
            }
        }
        _ => 1,
    }
}

/// The poller of one client and kind: polls for every seated wait, and ends when none
/// is left.
async fn poll_shared<T: Waitable>(client: Client, hub: Arc<Hub<T>>) {
    // Waits started together are served by the first poll together.
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    let mut list_failures = 0_u32;
    loop {
        let ids: Vec<u64> = {
            let mut state = lock(&hub.state);
            state.seats.retain(|_, seat| !seat.updates.is_closed());
            if state.seats.is_empty() {
                state.closed = true;
                return;
            }
            let mut ids: Vec<u64> = state.seats.values().map(|seat| seat.id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let polled = tokio::time::Instant::now();
        let mut found: HashMap<u64, Result<T, Error>> = HashMap::new();
        let mut skip_gets = false;
        if ids.len() > 1 {
            let listed = T::list(&client, &ids).await;
            // A failed list is tried again at the next poll before the missing items are
            // read one by one: a passing fault should not cost a GET for every wait.
            list_failures = if listed.failed { list_failures + 1 } else { 0 };
            skip_gets = list_failures == 1;
            for item in listed.found {
                found.insert(item.id(), Ok(item));
            }
        }
        let missing: Vec<u64> =
            if skip_gets { Vec::new() } else { ids.iter().copied().filter(|id| !found.contains_key(id)).collect() };
        let fetched: Vec<(u64, Result<T, Error>)> = futures::stream::iter(missing)
            .map(|id| {
                let client = &client;
                async move { (id, T::fetch(client, id).await) }
            })
            .buffer_unordered(GETS_AT_ONCE)
            .collect()
            .await;
        found.extend(fetched);
        {
            let state = lock(&hub.state);
            for seat in state.seats.values() {
                let update = match found.get(&seat.id) {
                    Some(Ok(item)) => Ok(item.clone()),
                    // Errors do not clone: the first wait of the item gets it, the others
                    // (if any) are polled again.
                    Some(Err(_)) => match found.remove(&seat.id) {
                        Some(Err(e)) => Err(e),
                        _ => continue,
                    },
                    None => continue,
                };
                let _ = seat.updates.send(update);
            }
        }
        // The next poll: the shortest interval seated, stretched when credits run low;
        // waits coming and going recompute it.
        loop {
            let interval = {
                let state = lock(&hub.state);
                state.seats.values().filter(|seat| !seat.updates.is_closed()).map(|seat| seat.interval).min()
            };
            let Some(interval) = interval else { break };
            // Saturating: an interval of `Duration::MAX` is "poll once", not a panic.
            let due = interval.saturating_mul(stretch(&client)).saturating_sub(polled.elapsed());
            tokio::select! {
                () = tokio::time::sleep(due) => break,
                () = hub.changed.notified() => {}
            }
        }
    }
}

use futures::StreamExt as _;

impl Client {
    /// Polls a job until it completes, fails or stops (or reaches the status given to
    /// [`Wait::until`]).
    pub fn wait_for_job(&self, job_id: u64) -> JobWait<'_> {
        Wait::new(self, job_id)
    }

    /// Polls a cluster until it settles: available (or idle), in error, or terminated.
    /// After a terminate request, say `until(ClusterStatus::Terminated)`.
    pub fn wait_for_cluster(&self, cluster_id: u64) -> ClusterWait<'_> {
        Wait::new(self, cluster_id)
    }
}
