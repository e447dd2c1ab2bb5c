//! A faithful, stateful fake of the Xplenty API v2 on 127.0.0.1, started from one call.
//!
//! **The clock rule, first:** [`FakeXplenty::start`] runs the fake's time at real speed
//! ([`Clock::real`]) and [`advance`](FakeXplenty::advance) jumps it forward, so a client's
//! wait always ends on its own (a cluster is available 10 s after it is created, a job
//! ends about 24 s after it is run) and a test can skip ahead. A test that asserts every
//! intermediate state asks for [`Clock::manual`] (`FakeXplenty::builder().clock(Clock::manual())`),
//! which stands still until advanced; a wait on it ends only when something advances it.
//!
//! It is a crate of its own, not a feature of `xplenty-api`, so the client's dependency
//! set stays small and users add the fake only where they test.
//!
//! - Every operation of the spec is routed by the client's own operation table and
//!   answers in the documented shape: collections (clusters, jobs, packages, schedules,
//!   hooks, connections, members, keys, deliveries, accounts, invoices) start with the
//!   spec's examples ([`Seed::Examples`], or nothing with [`Seed::Empty`]) and can be
//!   created, read, updated, listed and deleted; other calls answer their documented
//!   example.
//! - What it does is what the docs say the service does: a new item takes the documented
//!   defaults for what the request leaves out (a cluster does not terminate when idle
//!   unless asked), never the spec's example values, and read-only fields sent in a
//!   request (ids, counts, status, timestamps) are ignored; finished jobs cannot be
//!   stopped and terminated clusters run no jobs (422); clone stores a new item;
//!   `run_schedule` starts jobs whose creator is the schedule; lists honour `sort`,
//!   `direction`, `since`, `status`, `type` and `q` (paged, with `Link` headers); a
//!   job's log and outputs are its own.
//! - Clusters move pending, creating, available, idle, pending_terminate, terminating,
//!   terminated; jobs idle, pending, queued, running (progress rising to 1), completed
//!   or failed, and pending_stoppage, stopped when stopped. The [`Clock`] drives them
//!   (see the rule above).
//! - The front door of the service: the API key as the Basic user name, with or without
//!   the colon (any password ignored); `Accept` of the vendor type (with `; version=2`,
//!   with ` version=2` glued on as an old client sends it, or unversioned), JSON or
//!   `*/*`, else 406; bodies as flat JSON and, where the spec's `x-accepts` says so,
//!   wrapped in the resource name (`{"cluster": {...}}`), form-encoded with bracket keys
//!   (`cluster[nodes]=2`) or as fields in the query of a POST or PUT; another
//!   `Content-Type` is 415. A tolerated spelling is stored in the declared type
//!   (`"nodes": "2"` answers `2`, `"terminate_on_idle": "False"` answers `false`).
//! - Robust as a server: the key is checked before the body is read; a body over
//!   [`FakeBuilder::max_body`] (1 MiB) is 413, one shorter than its `Content-Length` 400;
//!   connections idle (or slow to send their headers) for [`FakeBuilder::idle_timeout`]
//!   (30 s) are closed; HTTP/1.1 without `Host` and a request line that is not text are 400.
//! - The edges of the real API:
//!   `X-RateLimit-*` on every answer and 429 once the budget of the fake hour is spent,
//!   `{"message": ...}` errors, 404 for unknown ids, 422 for missing fields and for
//!   references to items that do not exist (a job's cluster or package).
//! - Requests are checked against the spec before anything changes: path and query
//!   parameters (type, enum, minimum and maximum; arrays comma-joined) and JSON bodies
//!   (types, required fields, enums, ranges, nested too). A violation is a 422 whose
//!   message names the parameter or the field's JSON pointer, such as
//!   `field /nodes: "two" is not of type "integer"` or `parameter limit: 500 is greater
//!   than the maximum of 100`. An enum value the spec does not list is refused here, though
//!   the client reads unknown ones. Body fields the spec does not name are ignored, as the
//!   API ignores them. The schemas are the spec's, converted by `xplenty_gen::to_json_schema`
//!   (so `x-tolerant` schemas are read loosely here too) and compiled once per operation.
//! - Answers never leave the spec: each success body is checked against the operation's
//!   documented schema before it is sent, and one outside it is answered as a 500 whose
//!   message starts with `fake answer outside the spec:`, a bug of the fake for tests to
//!   find. [`FakeBuilder::check_requests`] and [`FakeBuilder::check_answers`] turn the
//!   checks off; [`FakeXplenty::snapshot`] shows what the fake holds.
//! - Faults can be injected per operation for its next calls: a status, a delay, a
//!   dropped connection; jobs can be made to fail, all or those of one package.
//! - Which collection an operation works on is derived from the operation table and the
//!   path shapes (`POST /x` creates, `GET /x/{id}` reads, ...), and what it answers from
//!   the spec's examples, so operations added to the spec are served without code here.
//! - Its [journal](FakeXplenty::journal) keeps every exchange, for tests to inspect, and
//!   [`reset`](FakeXplenty::reset) returns it to its first state.
//! - Web hooks of type `web` are sent signed notifications when jobs and clusters change
//!   state (see [Web hooks](#web-hooks)); [`deliveries`](FakeXplenty::deliveries) lists
//!   every attempt.
//! - It runs standalone too, for tests in other languages (see [Standalone](#standalone)).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use xplenty_api::types;
//! use xplenty_fake::{FakeXplenty, Fault};
//!
//! let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await?;
//! let client = fake.client();
//! let cluster = client.create_cluster().body(types::ClusterCreate::builder().nodes(2_u64)).send().await?;
//! // No sleeping: the manual clock moves when told.
//! fake.advance(Duration::from_secs(30));
//! let cluster = client.get_cluster().cluster_id(cluster.id).send().await?;
//! assert_eq!(cluster.status, types::ClusterStatus::Available);
//!
//! fake.inject("get_cluster", Fault::Status(503, "maintenance".into()), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Testing your own code
//!
//! Write the code under test over an [`xplenty_api::Client`] and hand it
//! [`fake.client()`](FakeXplenty::client) in the test:
//!
//! ```
//! /// The code under test: how many clusters have jobs running.
//! async fn busy_clusters(client: &xplenty_api::Client) -> Result<usize, xplenty_api::Error> {
//!     let clusters = client.list_clusters().send().await?;
//!     Ok(clusters.iter().filter(|c| c.running_jobs_count.unwrap_or(0) > 0).count())
//! }
//!
//! // In a test: `#[tokio::test] async fn counts_busy_clusters() { ... }`
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = xplenty_fake::FakeXplenty::start().await.unwrap();
//! // The fake starts with the spec's example cluster, which runs one job.
//! assert_eq!(busy_clusters(&fake.client()).await.unwrap(), 1);
//! # }
//! ```
//!
//! # Web hooks
//!
//! A hook of type `web` that is active (or says nothing about it) is sent a `POST` of
//! `application/json` to its `settings.url` for every event it subscribes to (`job` and
//! `cluster` stand for every event of their kind). The fake's states announce these
//! events; states in between (`pending_stoppage`, `pending_terminate`, `terminating`)
//! announce none:
//!
//! | resource | status | event |
//! |---|---|---|
//! | job | `idle`, `pending`, `queued` | `job.submitted` |
//! | job | `running` | `job.started` |
//! | job | `completed` / `failed` / `stopped` | `job.completed` / `job.failed` / `job.stopped` |
//! | cluster | `pending`, `creating` | `cluster.requested` |
//! | cluster | `available` | `cluster.available` (again after `idle` when a job comes) |
//! | cluster | `idle` | `cluster.idled` |
//! | cluster | `terminated` | `cluster.terminated` |
//! | cluster | `error` | `cluster.error` |
//!
//! States the clock jumps over are still announced, in order: a job created and then
//! advanced by a minute is `job.submitted`, `job.started`, `job.completed`. The fake finds
//! changes after every [`advance`](FakeXplenty::advance) and every 20 ms of real time.
//! Items seeded from the spec announce only changes after the start.
//!
//! The body is `{"event": "job.completed", "hook_id": 17, "resource": {...}}`, the
//! resource being the job or cluster exactly as `GET` answers it (the API's docs show no
//! body). The header [`X-Hook-Signature`](SIGNATURE_HEADER) is, as the docs describe it,
//! the SHA-1 of the hook's id, the event name, the URL and the salt concatenated, in
//! lowercase hex: [`signature`]`(hook_id, event, settings.url, salt)`.
//!
//! Each notification gets up to [`ATTEMPTS`] (3) attempts, 100 ms and then 200 ms apart,
//! while the receiver refuses the connection or answers outside 2xx; notifications to one
//! hook go one at a time, in order. [`deliveries`](FakeXplenty::deliveries) records every
//! attempt (hook, event, URL, signature, attempt number, status or error, body).
//!
//! The fake sends only to loopback: creating or updating a web hook whose `settings.url`
//! is not on `127.0.0.0/8`, `localhost` or `[::1]` is refused with 422 and a `message`
//! naming `settings.url`. One exception, so the spec's own examples stay valid calls:
//! names reserved never to resolve (`*.example`, `*.invalid`, RFC 2606) are accepted and
//! stored, but never sent to.
//!
//! # Standalone
//!
//! `cargo run -p xplenty-fake -- --port 8080` serves on 127.0.0.1:8080 (`--port 0` takes
//! a free port), prints its base URL (`http://127.0.0.1:8080`) as the first line of
//! stdout, and runs until ctrl-c or SIGTERM. `--account` and `--api-key` change the
//! account id and key ([`ACCOUNT_ID`], [`API_KEY`] by default); `--clock-scale` sets how
//! much faster than real time the clock runs (1 by default); `--rate-limit` the calls
//! allowed per hour of that clock (5,000 by default, like the service); `--max-body` the
//! largest request body in bytes (1 MiB).
//!
//! ```sh
//! cargo run -p xplenty-fake -- --port 8080 &
//! curl -u fake-api-key: -H 'Accept: application/vnd.xplenty+json; version=2' \
//!   http://127.0.0.1:8080/acme-analytics/api/clusters
//! ```
//!
//! The binary and its `clap` are behind the default feature `standalone`; depend with
//! `default-features = false` to leave them out.

mod body;
mod clock;
mod coerce;
mod route;
mod server;
mod shape;
mod spec;
mod state;
mod validate;
mod variants;
mod webhook;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use clock::Clock;
pub use state::{Exchange, Fault, Seed};
pub use webhook::{ATTEMPTS, Delivery, SIGNATURE_HEADER, signature};

use state::State;
use webhook::Webhooks;

/// The account id the fake serves unless told otherwise.
pub const ACCOUNT_ID: &str = "acme-analytics";
/// The API key the fake accepts unless told otherwise.
pub const API_KEY: &str = "fake-api-key";

/// A running fake. It stops when dropped.
pub struct FakeXplenty {
    base_url: String,
    account_id: String,
    api_key: String,
    state: Arc<Mutex<State>>,
    /// Beside the state, not in it: the state knows nothing of web hooks.
    webhooks: Arc<Mutex<Webhooks>>,
    clock: Clock,
    server: tokio::task::JoinHandle<()>,
    webhook_task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeXplenty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeXplenty")
            .field("base_url", &self.base_url)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// Settings of a fake.
#[derive(Debug, Clone)]
pub struct FakeBuilder {
    account_id: String,
    api_key: String,
    rate_limit: u32,
    clock: Clock,
    checks: server::Checks,
    limits: server::Limits,
    port: u16,
    seed: Seed,
}

impl Default for FakeBuilder {
    fn default() -> Self {
        FakeBuilder {
            account_id: ACCOUNT_ID.into(),
            api_key: API_KEY.into(),
            rate_limit: 5_000,
            clock: Clock::real(),
            checks: server::Checks { requests: true, answers: true, wire_variants: false },
            limits: server::Limits { max_body: 1 << 20, idle: Duration::from_secs(30) },
            port: 0,
            seed: Seed::Examples,
        }
    }
}

impl FakeBuilder {
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// Calls allowed before every answer is a 429 (5,000 by default, like the API's hour).
    pub fn rate_limit(mut self, calls: u32) -> Self {
        self.rate_limit = calls;
        self
    }

    /// The fake's time: [`Clock::real`] unless set (see the crate's clock rule).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The largest request body read, in bytes (1 MiB by default); a larger one is a 413.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.limits.max_body = bytes;
        self
    }

    /// How long a connection may wait before the headers of its next request are in
    /// (30 s by default): an idle keep-alive connection, or one sending its headers too
    /// slowly, is closed after it. Zero is taken as one millisecond.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.limits.idle = idle.max(Duration::from_millis(1));
        self
    }

    /// Whether requests are checked against the spec (on by default): a parameter or body
    /// field of the wrong type, outside its enum or its range is a 422 naming it, and
    /// changes nothing. Off, the fake takes what it is sent, as it did before it checked.
    pub fn check_requests(mut self, check: bool) -> Self {
        self.checks.requests = check;
        self
    }

    /// Whether answers use the real service's spellings that the client tolerates (off by
    /// default): integer ids as text (`"id": "33"`), numeric variable values as numbers,
    /// hook events as objects carrying their last delivery. The answers stay inside the
    /// spec, whose `x-tolerant` declarations allow them; the fake checks that too.
    pub fn wire_variants(mut self, on: bool) -> Self {
        self.checks.wire_variants = on;
        self
    }

    /// Whether success answers are checked against the spec before they are sent (on by
    /// default): one outside it is answered as a 500 whose message starts with
    /// `fake answer outside the spec:`, a bug of the fake that tests can find.
    pub fn check_answers(mut self, check: bool) -> Self {
        self.checks.answers = check;
        self
    }

    /// The port to serve on; 0 (the default) takes a free one, see
    /// [`FakeXplenty::base_url`].
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// What the fake holds at the start and after [`reset`](FakeXplenty::reset): the
    /// spec's examples (the default) or nothing.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Binds 127.0.0.1 on the [port](Self::port), an ephemeral one unless set, and starts
    /// serving.
    pub async fn start(self) -> std::io::Result<FakeXplenty> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mut state = State::new(self.clock.clone(), self.account_id.clone(), base_url.clone(), self.rate_limit);
        state.reseed(self.seed);
        let webhooks = Arc::new(Mutex::new(Webhooks::new(&state)));
        let state = Arc::new(Mutex::new(state));
        let server =
            tokio::spawn(server::serve(listener, state.clone(), self.api_key.clone(), self.checks, self.limits));
        let webhook_task = webhook::spawn(state.clone(), webhooks.clone());
        Ok(FakeXplenty {
            base_url,
            account_id: self.account_id,
            api_key: self.api_key,
            state,
            webhooks,
            clock: self.clock,
            server,
            webhook_task,
        })
    }
}

impl FakeXplenty {
    /// A fake with the default account, key, budget and a real-time clock (see the
    /// crate's clock rule).
    pub async fn start() -> std::io::Result<FakeXplenty> {
        FakeXplenty::builder().start().await
    }

    pub fn builder() -> FakeBuilder {
        FakeBuilder::default()
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A client for this fake, with the client's default settings.
    pub fn client(&self) -> xplenty_api::Client {
        self.client_builder().build().expect("a client for a loopback fake builds")
    }

    /// A client builder pointed at this fake, to change settings first.
    pub fn client_builder(&self) -> xplenty_api::ClientBuilder {
        xplenty_api::Client::builder(&self.account_id, &self.api_key).base_url(&self.base_url)
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Moves the clock forward: clusters and jobs move on accordingly.
    ///
    /// Web hooks are notified of the changes right away (in the background): a job that
    /// runs and completes within one advance is announced as submitted, started and
    /// completed, in that order.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        let state = self.lock();
        self.lock_webhooks().observe(&state);
    }

    /// Applies `fault` to the next `times` calls of `operation` (an operation id).
    pub fn inject(&self, operation: &str, fault: Fault, times: u32) {
        self.lock().inject(operation, fault, times);
    }

    /// Jobs run from now on fail instead of completing.
    pub fn fail_jobs(&self, fail: bool) {
        self.lock().fail_jobs = fail;
    }

    /// Jobs run from now on of this package fail instead of completing (or complete
    /// again, with `fail` false).
    pub fn fail_jobs_of_package(&self, package_id: u64, fail: bool) {
        let mut state = self.lock();
        if fail {
            state.failing_packages.insert(package_id);
        } else {
            state.failing_packages.remove(&package_id);
        }
    }

    /// Credits spent in the current hour of the fake's clock (one per call, except the
    /// free rate limit status).
    pub fn calls(&self) -> u32 {
        let mut state = self.lock();
        state.rate_limit.saturating_sub(state.remaining())
    }

    /// What the fake holds, as JSON: every item with its lifecycle, the singletons and the
    /// watched items; not the journal, the budget or faults. Two snapshots are equal when
    /// no call changed anything in between, whatever the clock says.
    pub fn snapshot(&self) -> serde_json::Value {
        self.lock().snapshot()
    }

    /// Every request answered so far, with the answer exactly as sent.
    pub fn journal(&self) -> Vec<Exchange> {
        self.lock().journal.clone()
    }

    /// Every web hook delivery attempt so far, in the order they ended (see [`Delivery`]).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock_webhooks().deliveries().to_vec()
    }

    /// Forgets everything since the start: items are the spec's examples again, and the
    /// budget, faults, failing jobs, journal and web hook deliveries are cleared. The clock runs on, and clients
    /// stay connected, so one fake can serve many independent cases.
    pub fn reset(&self) {
        let mut state = self.lock();
        let mut fresh =
            State::new(state.clock.clone(), state.account_id.clone(), state.base_url.clone(), state.rate_limit);
        fresh.reseed(state.seed);
        self.lock_webhooks().start_over(&fresh);
        *state = fresh;
    }

    /// Stops serving; the port is released.
    pub fn stop(self) {}

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        unpoisoned(&self.state)
    }

    /// Locked after [`lock`](Self::lock) where both are, as everywhere.
    fn lock_webhooks(&self) -> std::sync::MutexGuard<'_, Webhooks> {
        unpoisoned(&self.webhooks)
    }
}

impl Drop for FakeXplenty {
    fn drop(&mut self) {
        self.server.abort();
        self.webhook_task.abort();
    }
}

/// A panic under a lock leaves the data as consistent as any single call does.
fn unpoisoned<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
