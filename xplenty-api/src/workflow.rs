//! Workflows in one call: run a package (or a schedule) and wait for the job to end, find
//! or create a cluster and give it back, find a package by name.
//!
//! Every builder here is sent with `.send().await`, like the generated calls.

use std::fmt;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};

use crate::types::{Cluster, ClusterStatus, ClusterType, Job, JobInclude, JobStatus, Package};
use crate::wait::{DEFAULT_DEADLINE, DEFAULT_POLL_INTERVAL};
use crate::{Client, Error, WaitError, WaitEvent};

/// Why a workflow did not end as asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum WorkflowError {
    /// A call failed (after the client's own retries). A `run_job` that failed may or
    /// may not have reached the server: it is never sent again.
    Api(Error),
    /// The job ended without completing: failed or stopped. The job is read again with
    /// its log summary; see [`WorkflowError::job`].
    JobFailed { job: Box<Job> },
    /// The cluster went into `error` (or was terminated) instead of becoming available.
    ClusterFailed { cluster: Box<Cluster> },
    /// The deadline passed. `stopped` says whether the job was then stopped (see
    /// [`RunAndWait::stop_on_drop`]).
    TimedOut { what: String, waited: Duration, last_status: Option<String>, stopped: bool },
    /// The schedule was run, but no job of it showed within the deadline.
    NoJobStarted { schedule_id: u64, waited: Duration },
}

impl WorkflowError {
    /// The job that failed or stopped.
    pub fn job(&self) -> Option<&Job> {
        match self {
            WorkflowError::JobFailed { job } => Some(job),
            _ => None,
        }
    }
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkflowError::Api(e) => write!(f, "the workflow failed: a call of {} failed", e.operation()),
            WorkflowError::JobFailed { job } => {
                let status = job.status.as_str();
                write!(f, "job {} {status}", job.id)?;
                if let Some(errors) = job.errors.as_deref().filter(|e| !e.is_empty()) {
                    write!(f, ": {errors}")?;
                }
                if let Some(summary) = job.log_summary.as_ref().and_then(|s| s.error_summary.as_deref()) {
                    write!(f, " (log: {summary})")?;
                }
                Ok(())
            }
            WorkflowError::ClusterFailed { cluster } => {
                write!(f, "cluster {} is {} instead of available", cluster.id, cluster.status.as_str())
            }
            WorkflowError::TimedOut { what, waited, last_status, stopped } => {
                write!(f, "{what} still {} after {waited:.0?}", last_status.as_deref().unwrap_or("without a status"))?;
                if *stopped {
                    f.write_str("; it was stopped")?;
                }
                Ok(())
            }
            WorkflowError::NoJobStarted { schedule_id, waited } => {
                write!(f, "schedule {schedule_id} was run, but no job of it showed in {waited:.0?}")
            }
        }
    }
}

impl std::error::Error for WorkflowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WorkflowError::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for WorkflowError {
    fn from(e: Error) -> Self {
        WorkflowError::Api(e)
    }
}

fn from_wait(what: String, stopped: bool) -> impl FnOnce(WaitError) -> WorkflowError {
    move |e| match e {
        WaitError::Api(e) => WorkflowError::Api(e),
        WaitError::TimedOut { waited, last_status } => WorkflowError::TimedOut { what, waited, last_status, stopped },
    }
}

/// What callbacks of the workflow builders keep.
type JobCallback<'a> = Box<dyn FnMut(&WaitEvent<Job>) + Send + 'a>;
type ClusterCallback<'a> = Box<dyn FnMut(&WaitEvent<Cluster>) + Send + 'a>;

enum Start {
    // The builder: a run not yet complete fails at `send`, as the call's own `.body(..)` does.
    Job(Box<crate::types::builder::JobRun>),
    Schedule(u64),
}

/// Runs a job and waits for it to end; see [`Client::run_job_and_wait`] and
/// [`Client::run_schedule_and_wait`]. `Ok` only when the job completed.
#[must_use = "nothing runs until `.send().await`"]
pub struct RunAndWait<'a> {
    client: &'a Client,
    start: Start,
    poll_interval: Duration,
    deadline: Option<Duration>,
    stop_on_drop: bool,
    on_event: Option<JobCallback<'a>>,
}

impl fmt::Debug for RunAndWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = match &self.start {
            Start::Job(run) => format!("{run:?}"),
            Start::Schedule(id) => format!("schedule {id}"),
        };
        f.debug_struct("RunAndWait")
            .field("start", &start)
            .field("poll_interval", &self.poll_interval)
            .field("deadline", &self.deadline)
            .field("stop_on_drop", &self.stop_on_drop)
            .finish_non_exhaustive()
    }
}

impl<'a> RunAndWait<'a> {
    fn new(client: &'a Client, start: Start) -> Self {
        RunAndWait {
            client,
            start,
            poll_interval: DEFAULT_POLL_INTERVAL,
            deadline: Some(DEFAULT_DEADLINE),
            stop_on_drop: false,
            on_event: None,
        }
    }

    /// Time between polls (5 s by default); polls are shared with the client's other waits.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Give up waiting after this long (6 hours by default); `None` waits for ever.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Stop the remote job when this call gives up on it: at the deadline (stopped before
    /// the error returns), when a poll fails, or when the future is dropped (the stop is
    /// then spawned on the current tokio runtime). Off by default.
    pub fn stop_on_drop(mut self, stop: bool) -> Self {
        self.stop_on_drop = stop;
        self
    }

    /// Called at every poll that saw a change of status or progress, and at the end.
    pub fn on_event(mut self, callback: impl FnMut(&WaitEvent<Job>) + Send + 'a) -> Self {
        self.on_event = Some(Box::new(callback));
        self
    }

    /// Runs the job (one `POST`, never repeated) and waits: the completed job, or why not.
    pub async fn send(self) -> Result<Job, WorkflowError> {
        let started = tokio::time::Instant::now();
        let client = self.client;
        let job_id = match self.start {
            Start::Job(run) => client.run_job().body(*run).send().await?.into_inner().id,
            Start::Schedule(schedule_id) => {
                find_schedule_job(client, schedule_id, self.poll_interval, self.deadline, started).await?
            }
        };
        let mut guard = StopGuard { client: self.stop_on_drop.then(|| client.clone()), job_id };
        let remaining = self.deadline.map(|d| d.saturating_sub(started.elapsed()));
        let mut wait = client.wait_for_job(job_id).poll_interval(self.poll_interval).deadline(remaining);
        if let Some(callback) = self.on_event {
            wait = wait.on_event(callback);
        }
        let job = match wait.until_done().await {
            Ok(job) => job,
            Err(WaitError::TimedOut { last_status, .. }) => {
                let stopped = match guard.client.take() {
                    Some(client) => client.terminate_job().job_id(job_id).send().await.is_ok(),
                    None => false,
                };
                let what = format!("job {job_id}");
                return Err(WorkflowError::TimedOut { what, waited: started.elapsed(), last_status, stopped });
            }
            // The guard, still armed when asked to, stops the job.
            Err(WaitError::Api(e)) => return Err(WorkflowError::Api(e)),
        };
        guard.client = None;
        if job.status == JobStatus::Completed {
            return Ok(job);
        }
        // Failed or stopped: read it again for its log summary (the job as the wait saw it
        // when that read fails).
        let detailed = client.get_job().job_id(job_id).include(JobInclude::LogSummary).send().await;
        let job = detailed.map(|j| j.into_inner()).unwrap_or(job);
        Err(WorkflowError::JobFailed { job: Box::new(job) })
    }
}

/// Stops the job when dropped while armed (`client` set).
struct StopGuard {
    client: Option<Client>,
    job_id: u64,
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let job_id = self.job_id;
            runtime.spawn(async move {
                if let Err(e) = client.terminate_job().job_id(job_id).send().await {
                    tracing::warn!(job_id, error = %e, "stopping an abandoned job failed");
                }
            });
        }
    }
}

/// Items one look for a schedule's job reads.
const RECENT_JOBS: u64 = 100;

async fn recent_jobs_of(client: &Client, schedule_id: u64) -> Result<Vec<Job>, Error> {
    let page = client
        .list_jobs()
        .limit(RECENT_JOBS)
        .sort(crate::types::JobSort::Created)
        .direction(crate::types::SortDirection::Desc)
        .send()
        .await?;
    Ok(page
        .into_inner()
        .into_iter()
        .filter(|job| {
            job.creator
                .as_ref()
                .is_some_and(|c| c.id == Some(schedule_id) && c.type_ == Some(crate::types::CreatorType::Schedule))
        })
        .collect())
}

/// Runs the schedule and finds the job it started: a job created by the schedule that
/// the list did not show before the run (clocks of client and server are not compared).
async fn find_schedule_job(
    client: &Client,
    schedule_id: u64,
    poll_interval: Duration,
    deadline: Option<Duration>,
    started: tokio::time::Instant,
) -> Result<u64, WorkflowError> {
    let known: Vec<u64> = recent_jobs_of(client, schedule_id).await?.iter().map(|j| j.id).collect();
    client.run_schedule().schedule_id(schedule_id).send().await?;
    loop {
        if let Some(job) = recent_jobs_of(client, schedule_id).await?.into_iter().find(|j| !known.contains(&j.id)) {
            return Ok(job.id);
        }
        if deadline.is_some_and(|d| started.elapsed().saturating_add(poll_interval) > d) {
            return Err(WorkflowError::NoJobStarted { schedule_id, waited: started.elapsed() });
        }
        tokio::time::sleep(poll_interval).await;
    }
}

/// Finds a cluster that fits or creates one; see [`Client::acquire_cluster`].
#[must_use = "nothing happens until `.send().await`"]
pub struct ClusterRequest<'a> {
    client: &'a Client,
    nodes: u64,
    cluster_type: Option<ClusterType>,
    name: Option<String>,
    terminate_on_idle: Option<bool>,
    time_to_idle: Option<u64>,
    reuse: bool,
    poll_interval: Duration,
    deadline: Option<Duration>,
    on_event: Option<ClusterCallback<'a>>,
}

impl fmt::Debug for ClusterRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterRequest")
            .field("nodes", &self.nodes)
            .field("cluster_type", &self.cluster_type)
            .field("name", &self.name)
            .field("reuse", &self.reuse)
            .field("poll_interval", &self.poll_interval)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<'a> ClusterRequest<'a> {
    /// Only a cluster of this type fits (any type when unset). A created cluster has
    /// the account's default type: the API takes no type when creating.
    pub fn cluster_type(mut self, cluster_type: ClusterType) -> Self {
        self.cluster_type = Some(cluster_type);
        self
    }

    /// The name of a created cluster.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether a created cluster terminates itself when idle.
    pub fn terminate_on_idle(mut self, terminate: bool) -> Self {
        self.terminate_on_idle = Some(terminate);
        self
    }

    /// Seconds of idleness before a created cluster terminates itself.
    pub fn time_to_idle(mut self, seconds: u64) -> Self {
        self.time_to_idle = Some(seconds);
        self
    }

    /// Whether an available or idle cluster that fits may be used (true by default);
    /// false always creates one.
    pub fn reuse(mut self, reuse: bool) -> Self {
        self.reuse = reuse;
        self
    }

    /// Time between polls while a created cluster starts, and while a lease releases it.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Give up waiting for the cluster after this long (1 hour by default).
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Called at the changes of a created cluster while it starts.
    pub fn on_event(mut self, callback: impl FnMut(&WaitEvent<Cluster>) + Send + 'a) -> Self {
        self.on_event = Some(Box::new(callback));
        self
    }

    fn fits(&self, cluster: &Cluster) -> bool {
        matches!(cluster.status, ClusterStatus::Available | ClusterStatus::Idle)
            && cluster.nodes == Some(self.nodes)
            && self.cluster_type.as_ref().is_none_or(|t| cluster.type_.as_ref() == Some(t))
    }

    /// An available cluster: one that fits, or a new one once it is available.
    pub async fn send(self) -> Result<ClusterLease, WorkflowError> {
        let client = self.client;
        if self.reuse {
            let mut found = client.list_clusters().stream_all().try_filter(|c| std::future::ready(self.fits(c)));
            if let Some(cluster) = found.next().await.transpose()? {
                return Ok(self.lease(cluster, false));
            }
        }
        let mut body = crate::types::ClusterCreate::builder().nodes(self.nodes);
        if let Some(name) = &self.name {
            body = body.name(name.clone());
        }
        if let Some(terminate) = self.terminate_on_idle {
            body = body.terminate_on_idle(terminate);
        }
        if let Some(seconds) = self.time_to_idle {
            body = body.time_to_idle(seconds);
        }
        let created = client.create_cluster().body(body).send().await?.into_inner();
        let mut wait = client
            .wait_for_cluster(created.id)
            .until(ClusterStatus::Available)
            .poll_interval(self.poll_interval)
            .deadline(self.deadline);
        let mut on_event = self.on_event;
        if let Some(callback) = on_event.take() {
            wait = wait.on_event(callback);
        }
        let cluster = wait.until_done().await.map_err(from_wait(format!("cluster {}", created.id), false))?;
        if !matches!(cluster.status, ClusterStatus::Available | ClusterStatus::Idle) {
            return Err(WorkflowError::ClusterFailed { cluster: Box::new(cluster) });
        }
        Ok(ClusterLease {
            client: client.clone(),
            cluster,
            created: true,
            poll_interval: self.poll_interval,
            deadline: self.deadline,
        })
    }

    fn lease(&self, cluster: Cluster, created: bool) -> ClusterLease {
        ClusterLease {
            client: self.client.clone(),
            cluster,
            created,
            poll_interval: self.poll_interval,
            deadline: self.deadline,
        }
    }
}

/// A cluster to run jobs on, found or created by [`Client::acquire_cluster`]. Give it
/// back with [`release`](Self::release): a cluster this lease created is terminated,
/// one it found is left as it was. Dropping the lease terminates nothing.
#[derive(Debug)]
#[must_use = "release the lease to terminate a cluster it created"]
pub struct ClusterLease {
    client: Client,
    cluster: Cluster,
    created: bool,
    poll_interval: Duration,
    deadline: Option<Duration>,
}

impl ClusterLease {
    /// The cluster as it was when leased.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn id(&self) -> u64 {
        self.cluster.id
    }

    /// Whether this lease created the cluster (and so terminates it on release).
    pub fn created(&self) -> bool {
        self.created
    }

    /// Terminates the cluster if this lease created it and waits until it is terminated
    /// (or in error): the cluster as it then is. A cluster found is left running: `None`.
    pub async fn release(self) -> Result<Option<Cluster>, WorkflowError> {
        if !self.created {
            return Ok(None);
        }
        let id = self.cluster.id;
        self.client.terminate_cluster().cluster_id(id).send().await?;
        let cluster = self
            .client
            .wait_for_cluster(id)
            .until(ClusterStatus::Terminated)
            .poll_interval(self.poll_interval)
            .deadline(self.deadline)
            .until_done()
            .await
            .map_err(from_wait(format!("cluster {id}"), false))?;
        Ok(Some(cluster))
    }
}

impl Client {
    /// Runs a package on a cluster (one `POST`, never repeated) and waits for the job to
    /// end; `Ok` only when it completed.
    ///
    /// ```no_run
    /// # async fn demo(client: xplenty_api::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use xplenty_api::types::JobRun;
    ///
    /// let job = client
    ///     .run_job_and_wait(JobRun::builder().cluster_id(812_u64).package_id(2041_u64))
    ///     .poll_interval(Duration::from_secs(10))
    ///     .deadline(Some(Duration::from_secs(3600)))
    ///     .stop_on_drop(true)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// `run` is a [`JobRun`](crate::types::JobRun) or its builder; a builder missing a field fails at `send`.
    pub fn run_job_and_wait(&self, run: impl Into<crate::types::builder::JobRun>) -> RunAndWait<'_> {
        RunAndWait::new(self, Start::Job(Box::new(run.into())))
    }

    /// Runs a schedule now and waits for the job it starts, as
    /// [`run_job_and_wait`](Self::run_job_and_wait) does; the job is the newest one the
    /// schedule created that was not there before the run.
    pub fn run_schedule_and_wait(&self, schedule_id: u64) -> RunAndWait<'_> {
        RunAndWait::new(self, Start::Schedule(schedule_id))
    }

    /// An available cluster of `nodes` nodes: an available or idle one that fits, or one
    /// created and waited for. See [`ClusterLease::release`].
    pub fn acquire_cluster(&self, nodes: u64) -> ClusterRequest<'_> {
        ClusterRequest {
            client: self,
            nodes,
            cluster_type: None,
            name: None,
            terminate_on_idle: None,
            time_to_idle: None,
            reuse: true,
            poll_interval: DEFAULT_POLL_INTERVAL,
            deadline: Some(Duration::from_secs(3600)),
            on_event: None,
        }
    }

    /// The package of exactly this name (the first one, when several share it), found by
    /// the server's search and read through every page.
    pub async fn find_package(&self, name: &str) -> Result<Option<Package>, Error> {
        let mut found = self.search_packages().q(name).stream_all().try_filter(|p| std::future::ready(p.name == name));
        found.next().await.transpose()
    }
}
