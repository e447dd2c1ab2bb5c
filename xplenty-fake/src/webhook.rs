//! Web hooks: when a job or cluster changes state, active `web` hooks subscribed to the
//! event are sent a signed JSON notification, in the background, with retries, and every
//! attempt is recorded.
//!
//! The lifecycles of the fake are computed from its clock when an item is read, so
//! changes are found by looking: after every [`advance`](crate::FakeXplenty::advance) and
//! on a short real-time tick (for scaled clocks and for items created by requests). What
//! was announced and delivered is kept here, beside the state, which knows nothing of hooks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::sync::mpsc;

use crate::state::State;

/// The request header that carries a notification's signature; see [`signature`].
pub const SIGNATURE_HEADER: &str = "X-Hook-Signature";

/// Attempts per notification before it is given up.
pub const ATTEMPTS: u32 = 3;

/// The wait before the second attempt; it doubles before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How often, in real time, the fake looks for changes on its own.
const TICK: Duration = Duration::from_millis(20);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The `X-Hook-Signature` of a notification, as the API documents it: SHA-1 of the hook's
/// id, the event name, the hook's URL (`settings.url`) and its salt concatenated in that
/// order, with nothing between them, in lowercase hex.
///
/// A receiver verifies a notification by computing
/// `signature(hook_id, event, url, salt)` with the salt the API showed when the hook was
/// created and comparing it with the header.
///
/// ```
/// // sha1("17job.completedhttp://127.0.0.1:9000/hooksalt")
/// let expected = xplenty_fake::signature(17, "job.completed", "http://127.0.0.1:9000/hook", "salt");
/// assert_eq!(expected.len(), 40);
/// assert!(expected.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
/// ```
pub fn signature(hook_id: u64, event: &str, url: &str, salt: &str) -> String {
    let digest = Sha1::digest(format!("{hook_id}{event}{url}{salt}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One attempt to deliver a notification to a web hook.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    pub hook_id: u64,
    /// Such as `job.completed`.
    pub event: String,
    /// The hook's `settings.url`, where the notification was posted.
    pub url: String,
    /// The `X-Hook-Signature` sent.
    pub signature: String,
    /// 1 for the first attempt, up to [`ATTEMPTS`].
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why no answer came (connection refused, timeout), when none did.
    pub error: Option<String>,
    /// The JSON body posted: `{"event", "hook_id", "resource"}`.
    pub payload: Value,
}

impl Delivery {
    /// Whether the receiver answered with a 2xx status.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A notification due to be sent.
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    hook_id: u64,
    event: &'static str,
    url: String,
    signature: String,
    payload: Value,
}

/// What has been announced of one job or cluster.
#[derive(Debug, Clone, Default)]
struct Seen {
    last: Option<&'static str>,
    emitted: BTreeSet<&'static str>,
}

/// The web hook bookkeeping, kept beside the fake's state (and started over with it).
#[derive(Debug)]
pub(crate) struct Webhooks {
    seen: BTreeMap<String, Seen>,
    deliveries: Vec<Delivery>,
    outbox: Option<mpsc::UnboundedSender<Notification>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Job,
    Cluster,
}

impl Resource {
    fn collection(self) -> &'static str {
        match self {
            Resource::Job => "/jobs",
            Resource::Cluster => "/clusters",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Resource::Job => "job",
            Resource::Cluster => "cluster",
        }
    }
}

/// The event a status is announced as; statuses in between (a job's `pending_stoppage`, a
/// cluster's `pending_terminate` and `terminating`) announce nothing.
fn event_of(resource: Resource, status: &str) -> Option<&'static str> {
    match (resource, status) {
        (Resource::Job, "idle" | "pending" | "queued") => Some("job.submitted"),
        (Resource::Job, "running") => Some("job.started"),
        (Resource::Job, "completed") => Some("job.completed"),
        (Resource::Job, "failed") => Some("job.failed"),
        (Resource::Job, "stopped") => Some("job.stopped"),
        (Resource::Cluster, "pending" | "creating") => Some("cluster.requested"),
        (Resource::Cluster, "available") => Some("cluster.available"),
        (Resource::Cluster, "idle") => Some("cluster.idled"),
        (Resource::Cluster, "terminated") => Some("cluster.terminated"),
        (Resource::Cluster, "error") => Some("cluster.error"),
        _ => None,
    }
}

/// Events that can be announced more than once for one item (a cluster goes idle, gets a
/// job and is available again).
fn repeatable(event: &str) -> bool {
    matches!(event, "cluster.available" | "cluster.idled")
}

/// The events an item has gone through to be where it is now, in order: a job that is
/// completed was submitted and started, even when the clock jumped over its running.
fn ladder(resource: Resource, value: &Value) -> Vec<&'static str> {
    let status = value.get("status").and_then(Value::as_str).unwrap_or("");
    let now = event_of(resource, status);
    let mut ladder = Vec::new();
    let has = |field: &str| value.get(field).is_some_and(|v| !v.is_null());
    match resource {
        Resource::Job => {
            ladder.push("job.submitted");
            if has("started_at") {
                ladder.push("job.started");
            }
        }
        Resource::Cluster => {
            ladder.push("cluster.requested");
            if has("available_since") {
                ladder.push("cluster.available");
            }
        }
    }
    if let Some(now) = now
        && ladder.last() != Some(&now)
    {
        ladder.push(now);
    }
    ladder
}

fn id_of(value: &Value) -> Option<u64> {
    match value.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A hook's events as names, whether the wire carries them as text or as objects with a
/// `name`.
fn event_names(hook: &Value) -> Vec<String> {
    let Some(Value::Array(events)) = hook.get("events") else { return Vec::new() };
    events
        .iter()
        .filter_map(|e| match e {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .collect()
}

fn subscribes(hook: &Value, event: &str) -> bool {
    let kind = event.split('.').next().unwrap_or("");
    event_names(hook).iter().any(|e| e == event || e == kind)
}

/// Whether `url` is one the fake delivers to: `http` or `https` to 127.0.0.0/8,
/// `localhost` or `[::1]`.
pub(crate) fn is_loopback(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else { return false };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// Whether `url` is on a name reserved never to resolve (`.example`, `.invalid`, RFC 2606),
/// as the spec's examples are: such a hook is stored, so every documented call works as
/// documented, but never sent to.
fn is_unresolvable(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else { return false };
    let Some(url::Host::Domain(domain)) = url.host() else { return false };
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    [".example", ".invalid"].iter().any(|tld| domain.ends_with(tld) || domain == tld[1..])
}

/// Why a hook request is refused (422): a web hook whose `settings.url` is not a loopback
/// address (or a reserved name that cannot resolve). `stored` is the hook an update
/// changes.
pub(crate) fn refusal(operation: &str, body: Option<&Value>, stored: Option<&Value>) -> Option<String> {
    if !matches!(operation, "create_hook" | "update_hook") {
        return None;
    }
    let body = body?;
    let kind = body.get("type").or_else(|| stored.and_then(|s| s.get("type"))).and_then(Value::as_str);
    if kind != Some("web") {
        return None;
    }
    let url = body.get("settings").and_then(|s| s.get("url"));
    match url {
        None if operation == "create_hook" => Some("settings.url is required for a web hook".into()),
        None => None,
        Some(Value::String(url)) if is_loopback(url) || is_unresolvable(url) => None,
        Some(url) => Some(format!(
            "settings.url {url} is refused: the fake delivers web hooks only to loopback addresses \
             (127.0.0.0/8, localhost or [::1])"
        )),
    }
}

impl Webhooks {
    /// Nothing announced yet of what `state` holds.
    pub(crate) fn new(state: &State) -> Self {
        Webhooks { seen: already_seen(state), deliveries: Vec::new(), outbox: None }
    }

    /// Forgets what was announced and delivered, for a state started over; the delivering
    /// task stays connected.
    pub(crate) fn start_over(&mut self, state: &State) {
        self.seen = already_seen(state);
        self.deliveries.clear();
    }

    /// Every delivery attempt, in the order they ended.
    pub(crate) fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }

    /// Finds the changes of `state` since the last look and queues their notifications.
    pub(crate) fn observe(&mut self, state: &State) {
        let mut changes = Vec::new();
        for resource in [Resource::Job, Resource::Cluster] {
            for (path, value) in state.views_of(resource.collection()) {
                let seen = self.seen.entry(path).or_default();
                let ladder = ladder(resource, &value);
                let target = ladder.last().copied();
                for event in ladder {
                    let due = if Some(event) == target {
                        seen.last != Some(event) && (repeatable(event) || !seen.emitted.contains(event))
                    } else {
                        !seen.emitted.contains(event)
                    };
                    if due {
                        seen.emitted.insert(event);
                        seen.last = Some(event);
                        changes.push((resource, event, value.clone()));
                    }
                }
            }
        }
        if changes.is_empty() {
            return;
        }
        let hooks: Vec<Value> = state
            .views_of("/hooks")
            .into_iter()
            .map(|(_, hook)| hook)
            .filter(|hook| hook.get("type").and_then(Value::as_str) == Some("web"))
            .filter(|hook| hook.get("active").and_then(Value::as_bool).unwrap_or(true))
            .collect();
        let Some(outbox) = &self.outbox else { return };
        for (resource, event, value) in changes {
            debug_assert!(event.starts_with(resource.prefix()));
            for hook in hooks.iter().filter(|hook| subscribes(hook, event)) {
                let (Some(hook_id), Some(url)) = (id_of(hook), hook.pointer("/settings/url").and_then(Value::as_str))
                else {
                    continue;
                };
                // The spec's example hooks are on reserved names; the fake never sends there.
                if !is_loopback(url) {
                    continue;
                }
                let salt = hook.get("salt").and_then(Value::as_str).unwrap_or("");
                let _ = outbox.send(Notification {
                    hook_id,
                    event,
                    url: url.to_owned(),
                    signature: signature(hook_id, event, url, salt),
                    payload: json!({ "event": event, "hook_id": hook_id, "resource": value }),
                });
            }
        }
    }
}

/// What the state's jobs and clusters have already gone through, announced to nobody:
/// items seeded from the spec do not notify about how they came to be.
fn already_seen(state: &State) -> BTreeMap<String, Seen> {
    let mut seen = BTreeMap::new();
    for resource in [Resource::Job, Resource::Cluster] {
        for (path, value) in state.views_of(resource.collection()) {
            let ladder = ladder(resource, &value);
            seen.insert(path, Seen { last: ladder.last().copied(), emitted: ladder.into_iter().collect() });
        }
    }
    seen
}

/// Deliveries go to loopback over plain HTTP; reqwest still wants a TLS backend, and is
/// built without a provider of its own. One with no roots is handed over whole, so the
/// fake installs nothing process-wide.
fn loopback_tls() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Connects the outbox to a task that delivers, hook by hook in order, and looks for
/// changes of `state` every tick; aborting the task stops every delivery under way. The
/// state is locked before the web hooks, wherever both are.
pub(crate) fn spawn(state: Arc<Mutex<State>>, webhooks: Arc<Mutex<Webhooks>>) -> tokio::task::JoinHandle<()> {
    let (sender, mut outbox) = mpsc::unbounded_channel();
    lock(&webhooks).outbox = Some(sender);
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .tls_backend_preconfigured(loopback_tls())
            .build()
            .expect("a plain HTTP client for loopback deliveries builds");
        let mut queues: BTreeMap<u64, mpsc::UnboundedSender<Notification>> = BTreeMap::new();
        let mut workers = tokio::task::JoinSet::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let state = lock(&state);
                    lock(&webhooks).observe(&state);
                }
                Some(notification) = outbox.recv() => {
                    // One queue per hook, so a receiver hears of changes in the order they
                    // happened (a retried notification holds up the ones after it).
                    let queue = queues.entry(notification.hook_id).or_insert_with(|| {
                        let (queue, mut pending) = mpsc::unbounded_channel::<Notification>();
                        let (webhooks, client) = (webhooks.clone(), client.clone());
                        workers.spawn(async move {
                            while let Some(notification) = pending.recv().await {
                                deliver(&webhooks, &client, notification).await;
                            }
                        });
                        queue
                    });
                    let _ = queue.send(notification);
                }
            }
        }
    })
}

async fn deliver(webhooks: &Mutex<Webhooks>, client: &reqwest::Client, n: Notification) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(&n.url)
            .header(SIGNATURE_HEADER, &n.signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, "xplenty-fake web hook")
            .body(n.payload.to_string())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let delivery = Delivery {
            hook_id: n.hook_id,
            event: n.event.to_owned(),
            url: n.url.clone(),
            signature: n.signature.clone(),
            attempt,
            status,
            error,
            payload: n.payload.clone(),
        };
        let done = delivery.succeeded();
        lock(webhooks).deliveries.push(delivery);
        if done {
            return;
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}
