//! Waiting for jobs and clusters: poll until a terminal state, with a deadline, a poll
//! interval and the changes reported as they happen. Dropping the future stops polling.

use std::fmt;
use std::time::Duration;

use futures::Stream;

use crate::types::{Cluster, ClusterStatus, Job, JobRun, JobStatus};
use crate::{Client, Error};

impl JobStatus {
    /// The job has ended: completed, failed or stopped.
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Stopped)
    }
}

impl ClusterStatus {
    /// The cluster has settled: ready for jobs (available, idle), failed (error) or gone
    /// (terminated).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ClusterStatus::Available | ClusterStatus::Idle | ClusterStatus::Error | ClusterStatus::Terminated
        )
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
    /// The status as the server spells it.
    fn status_str(&self) -> Option<&str>;
    /// Progress from 0 to 1, for resources that report it.
    fn progress(&self) -> Option<f64>;
    fn is_terminal(&self) -> bool;
    #[doc(hidden)]
    fn fetch(client: &Client, id: u64) -> impl Future<Output = Result<Self, Error>> + Send + '_;
}

impl Waitable for Job {
    fn status_str(&self) -> Option<&str> {
        self.status.as_ref().map(JobStatus::as_str)
    }
    fn progress(&self) -> Option<f64> {
        self.progress
    }
    fn is_terminal(&self) -> bool {
        self.status.as_ref().is_some_and(JobStatus::is_terminal)
    }
    async fn fetch(client: &Client, id: u64) -> Result<Self, Error> {
        Ok(client.get_job().job_id(id).send().await?.into_inner())
    }
}

impl Waitable for Cluster {
    fn status_str(&self) -> Option<&str> {
        self.status.as_ref().map(ClusterStatus::as_str)
    }
    fn progress(&self) -> Option<f64> {
        None
    }
    fn is_terminal(&self) -> bool {
        self.status.as_ref().is_some_and(ClusterStatus::is_terminal)
    }
    async fn fetch(client: &Client, id: u64) -> Result<Self, Error> {
        Ok(client.get_cluster().cluster_id(id).send().await?.into_inner())
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
#[must_use = "a wait does nothing until awaited or streamed"]
pub struct Wait<'a, T> {
    client: &'a Client,
    id: u64,
    poll_interval: Duration,
    deadline: Option<Duration>,
    on_event: Option<EventCallback<'a, T>>,
}

/// What [`Wait::on_event`] keeps.
type EventCallback<'a, T> = Box<dyn FnMut(&WaitEvent<T>) + Send + 'a>;

/// A wait for a job.
pub type JobWait<'a> = Wait<'a, Job>;
/// A wait for a cluster.
pub type ClusterWait<'a> = Wait<'a, Cluster>;

impl<T> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("id", &self.id)
            .field("poll_interval", &self.poll_interval)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<'a, T: Waitable> Wait<'a, T> {
    fn new(client: &'a Client, id: u64) -> Self {
        Wait {
            client,
            id,
            poll_interval: Duration::from_secs(5),
            deadline: Some(Duration::from_secs(6 * 3600)),
            on_event: None,
        }
    }

    /// Time between polls (5 s by default). Each poll costs one API credit.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Give up after this long (6 hours by default); `None` waits for ever.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Called at every poll that saw a change of status or progress, and at the end.
    pub fn on_event(mut self, callback: impl FnMut(&WaitEvent<T>) + Send + 'a) -> Self {
        self.on_event = Some(Box::new(callback));
        self
    }

    /// Polls until a terminal state and returns the resource as it then is (a failed
    /// job is a finished wait: check its status).
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
        let state = Polling { wait: self, started: None, last: None, done: false };
        futures::stream::unfold(state, |mut state| async move {
            if state.done {
                return None;
            }
            let item = state.next_event().await;
            Some((item, state))
        })
    }
}

struct Polling<'a, T> {
    wait: Wait<'a, T>,
    started: Option<tokio::time::Instant>,
    /// Status and progress of the previous poll.
    last: Option<(Option<String>, Option<f64>)>,
    done: bool,
}

impl<T: Waitable> Polling<'_, T> {
    async fn next_event(&mut self) -> Result<WaitEvent<T>, WaitError> {
        let started = *self.started.get_or_insert_with(tokio::time::Instant::now);
        loop {
            if let Some((last_status, _)) = &self.last {
                let waited = started.elapsed();
                if self.wait.deadline.is_some_and(|deadline| waited + self.wait.poll_interval > deadline) {
                    self.done = true;
                    return Err(WaitError::TimedOut { waited, last_status: last_status.clone() });
                }
                tokio::time::sleep(self.wait.poll_interval).await;
            }
            let resource = match T::fetch(self.wait.client, self.wait.id).await {
                Ok(resource) => resource,
                Err(e) => {
                    self.done = true;
                    return Err(WaitError::Api(e));
                }
            };
            let seen = (resource.status_str().map(str::to_owned), resource.progress());
            let status_changed = self.last.as_ref().is_none_or(|(status, _)| *status != seen.0);
            let changed = self.last.as_ref() != Some(&seen);
            let finished = resource.is_terminal();
            self.last = Some(seen);
            self.done = finished;
            if changed || finished {
                return Ok(WaitEvent { resource, status_changed, finished });
            }
        }
    }
}

use futures::StreamExt as _;

impl Client {
    /// Polls a job until it completes, fails or stops.
    pub fn wait_for_job(&self, job_id: u64) -> JobWait<'_> {
        Wait::new(self, job_id)
    }

    /// Polls a cluster until it is available (or idle), in error, or terminated.
    pub fn wait_for_cluster(&self, cluster_id: u64) -> ClusterWait<'_> {
        Wait::new(self, cluster_id)
    }

    /// Runs a package on a cluster and waits for the job to end, reporting changes to
    /// `on_event`.
    pub async fn run_job_and_wait(
        &self,
        run: JobRun,
        poll_interval: Duration,
        on_event: impl FnMut(&WaitEvent<Job>) + Send,
    ) -> Result<Job, WaitError> {
        let job = self.run_job().body(run).send().await?.into_inner();
        self.wait_for_job(job.id).poll_interval(poll_interval).on_event(on_event).until_done().await
    }
}
