//! What the fake remembers: the items of every collection (seeded from the spec's
//! examples), cluster and job lifecycles driven by the clock, watchers, singletons such as
//! the user, the call budget, faults and the journal of exchanges.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Map, Value, json};
use xplenty_api::meta::{OPERATIONS, Scope};

use crate::clock::{Clock, timestamp};
use crate::route::Route;
use crate::shape::{is_collection, item_getter, kind, split_item};
use crate::spec::{Documented, Kind, OperationSpec, operation_spec};

mod defaults;
mod lists;

/// Fields a request may carry that the API never sends back.
const SECRETS: &[&str] = &[
    "password",
    "basic_auth_data",
    "current_password",
    "new_password",
    "code",
    "billing_payment_token",
    "public_key",
    "private_key",
];

/// Collections whose `DELETE` archives instead of removing (the spec says so), and the
/// status an archived item gets.
const ARCHIVED_ON_DELETE: &[(&str, &str)] = &[("/packages", "archived")];

/// How long each stage of a lifecycle lasts, by the fake's clock.
const CLUSTER_PENDING: Duration = Duration::from_secs(2);
const CLUSTER_CREATING: Duration = Duration::from_secs(8);
const CLUSTER_PENDING_TERMINATE: Duration = Duration::from_secs(2);
const CLUSTER_TERMINATING: Duration = Duration::from_secs(3);
const JOB_IDLE: Duration = Duration::from_secs(1);
const JOB_PENDING: Duration = Duration::from_secs(2);
const JOB_QUEUED_UNTIL: Duration = Duration::from_secs(4);
const JOB_RUNS_FOR: Duration = Duration::from_secs(20);
const JOB_PENDING_STOPPAGE: Duration = Duration::from_secs(2);
/// Used when a cluster does not say its `time_to_idle`.
const DEFAULT_TIME_TO_IDLE: Duration = Duration::from_secs(3_600);
/// The API's budget window.
const RATE_WINDOW: Duration = Duration::from_secs(3_600);

/// A fault to inject on an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and `{"message": ...}`.
    Status(u16, String),
    /// Answer normally, after this long (real time).
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
}

/// What a fake starts with ([`crate::FakeBuilder::seed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seed {
    /// Every collection holds the object its spec example shows.
    #[default]
    Examples,
    /// No items at all: every list is empty until something is created.
    Empty,
}

/// One request the fake answered and its answer, in the order they came.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exchange {
    /// The operation id the request was routed to; `None` when no route matched.
    pub operation: Option<&'static str>,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub request_body: Option<Value>,
    pub status: u16,
    /// The JSON answered, exactly as sent.
    pub response_body: Option<Value>,
}

/// One answer of the fake: status, JSON body, extra headers.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Answer {
    pub(crate) fn message(status: u16, message: impl Into<String>) -> Self {
        Answer { status, body: Some(json!({ "message": message.into() })), headers: Vec::new() }
    }

    fn ok(status: u16, body: Option<Value>) -> Self {
        Answer { status, body, headers: Vec::new() }
    }
}

fn not_found() -> Answer {
    Answer::message(404, "Record not found")
}

/// Where a cluster or job is in its life, in the fake clock's elapsed time. `created` is
/// `None` for items seeded from the spec, which keep their documented status until
/// stopped.
#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Cluster { created: Option<Duration>, terminated: Option<Duration> },
    Job { created: Option<Duration>, fails: bool, stopped: Option<Duration>, cluster: Option<u64> },
}

#[derive(Debug, Clone)]
struct Item {
    /// The collection template the item belongs to, such as `/clusters`.
    collection: &'static str,
    value: Value,
    lifecycle: Option<Lifecycle>,
}

/// An item's address: its scope and concrete path, such as `/clusters/812`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Address {
    global: bool,
    path: String,
}

fn address(scope: Scope, path: String) -> Address {
    Address { global: scope == Scope::Global, path }
}

pub(crate) struct State {
    pub(crate) clock: Clock,
    pub(crate) account_id: String,
    pub(crate) base_url: String,
    items: BTreeMap<Address, Item>,
    singletons: BTreeMap<Address, Value>,
    watched: BTreeSet<Address>,
    next_id: u64,
    pub(crate) rate_limit: u32,
    calls: u32,
    rate_window: u64,
    faults: Vec<(String, Fault, u32)>,
    pub(crate) fail_jobs: bool,
    pub(crate) failing_packages: BTreeSet<u64>,
    pub(crate) journal: Vec<Exchange>,
    pub(crate) seed: Seed,
}

/// Fills a path template with the route's parameter values.
fn fill(template: &str, params: &BTreeMap<&'static str, String>) -> String {
    template
        .split('/')
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => params.get(name).cloned().unwrap_or_default(),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Copies the request's fields that the answer documents and the request may set, never
/// secrets nor what the service sets itself (read-only fields such as `id`, `owner_id`,
/// `status` or counts are ignored, as the service ignores them). A hook's `settings` and a
/// schedule's `task` change field by field.
fn merge(item: &mut Map<String, Value>, body: &Value, spec: &OperationSpec) {
    let Value::Object(fields) = body else { return };
    let writable = defaults::writable(&spec.validation);
    for (name, value) in fields {
        let name = name.as_str();
        if !spec.documented.fields.contains(&name) || SECRETS.contains(&name) || !writable.iter().any(|w| w == name) {
            continue;
        }
        match item.get_mut(name) {
            Some(slot) if matches!(name, "settings" | "task") && slot.is_object() => defaults::overlay(slot, value),
            _ => {
                item.insert(name.to_owned(), value.clone());
            }
        }
    }
}

/// Terminal statuses: nothing moves a job or cluster out of them (sections/terminate-job.md
/// stops an *active* job; a terminated cluster stays terminated).
const JOB_FINAL: &[&str] = &["completed", "failed", "stopped"];
const CLUSTER_ENDING: &[&str] = &["pending_terminate", "terminating", "terminated"];

impl State {
    pub(crate) fn new(clock: Clock, account_id: String, base_url: String, rate_limit: u32) -> Self {
        let mut state = State {
            clock,
            account_id,
            base_url,
            items: BTreeMap::new(),
            singletons: BTreeMap::new(),
            watched: BTreeSet::new(),
            next_id: 10_000,
            rate_limit,
            calls: 0,
            rate_window: 0,
            faults: Vec::new(),
            fail_jobs: false,
            failing_packages: BTreeSet::new(),
            journal: Vec::new(),
            seed: Seed::Examples,
        };
        state.seed();
        state
    }

    /// Every collection starts with the object its `GET` example shows, at the path its
    /// parameter examples name, so every documented call works from the first request.
    fn seed(&mut self) {
        for op in OPERATIONS.iter() {
            let Some(spec) = operation_spec(op.id) else { continue };
            let Kind::Get { collection } = kind(spec) else { continue };
            let documented = &spec.documented;
            let Some(item) = documented.example() else { continue };
            let mut params: BTreeMap<&'static str, String> =
                documented.path_examples.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            if let Some((_, param)) = split_item(op.path)
                && let Some(key) = item.get(param).or_else(|| item.get("id")).and_then(text)
                && let Some((name, _)) = documented.path_examples.iter().find(|(name, _)| *name == param)
            {
                params.insert(name, key);
            }
            let address = address(op.scope, fill(op.path, &params));
            let item = self.own_urls(item);
            self.items.insert(address, Item { collection, value: item, lifecycle: None });
        }
    }

    /// Starts over from `seed`: with [`Seed::Empty`] no item is left.
    pub(crate) fn reseed(&mut self, seed: Seed) {
        self.seed = seed;
        if seed == Seed::Empty {
            self.items.clear();
            self.watched.clear();
        }
    }

    /// The items (with their lifecycles), singletons and watched items, as JSON.
    pub(crate) fn snapshot(&self) -> Value {
        let key = |a: &Address| format!("{}{}", if a.global { "" } else { "account:" }, a.path);
        let items: Map<String, Value> = self
            .items
            .iter()
            .map(|(a, i)| (key(a), json!({"value": i.value, "lifecycle": format!("{:?}", i.lifecycle)})))
            .collect();
        let singletons: Map<String, Value> = self.singletons.iter().map(|(a, v)| (key(a), v.clone())).collect();
        let watched: Vec<String> = self.watched.iter().map(key).collect();
        json!({"items": items, "singletons": singletons, "watched": watched, "next_id": self.next_id})
    }

    pub(crate) fn inject(&mut self, operation: &str, fault: Fault, times: u32) {
        self.faults.push((operation.to_owned(), fault, times));
    }

    /// The fault to apply to this call, if any is left for its operation.
    pub(crate) fn take_fault(&mut self, operation: &str) -> Option<Fault> {
        let slot = self.faults.iter_mut().find(|(op, _, left)| op == operation && *left > 0)?;
        slot.2 -= 1;
        Some(slot.1.clone())
    }

    /// Calls left in the current window; the budget refills every hour of the fake clock.
    pub(crate) fn remaining(&mut self) -> u32 {
        let window = self.clock.elapsed().as_secs() / RATE_WINDOW.as_secs();
        if window != self.rate_window {
            self.rate_window = window;
            self.calls = 0;
        }
        self.rate_limit.saturating_sub(self.calls)
    }

    /// Spends one credit; false when none is left.
    pub(crate) fn spend(&mut self) -> bool {
        if self.remaining() == 0 {
            return false;
        }
        self.calls += 1;
        true
    }

    /// Answers a request to `route`, whose row is `spec`, that passed the spec's checks.
    pub(crate) fn handle(
        &mut self,
        route: &Route,
        spec: &'static OperationSpec,
        query: &[(String, String)],
        body: Option<Value>,
    ) -> Answer {
        let op = route.operation;
        let documented = &spec.documented;
        if let Some(missing) = documented
            .required
            .iter()
            .find(|field| body.as_ref().is_none_or(|b| b.get(**field).is_none_or(Value::is_null)))
        {
            return Answer::message(422, format!("{missing} is required"));
        }
        let stored = self.stored(route);
        let path_type = route.params.get("connection_type").map(String::as_str);
        if let Some(refused) = mismatched_fields(op.id, body.as_ref(), stored, path_type) {
            return Answer::message(422, refused);
        }
        // Every item the path goes through must exist: `/clusters/9/instances` is a 404
        // when cluster 9 is not there.
        if self.has_missing_item(route) {
            return not_found();
        }
        let body = body.unwrap_or(Value::Null);
        match kind(spec) {
            Kind::Create { collection } => self.create(route, spec, collection, &body),
            Kind::Get { .. } => self.answer_item(route, documented),
            Kind::Update { .. } => self.update(route, spec, &body),
            Kind::Delete { collection } => self.delete(route, documented, collection),
            Kind::List { collection } => self.list(route, query, collection, false),
            Kind::Search { collection } => self.list(route, query, collection, true),
            kind @ (Kind::Watch | Kind::Unwatch | Kind::Watchers) => self.watch(route, kind, documented),
            kind @ (Kind::SingletonGet | Kind::SingletonUpdate) => self.singleton(route, kind, spec, &body),
            Kind::Clone { collection } => self.clone_item(route, documented, collection),
            Kind::Run { collection: "/schedules" } => self.run_schedule(route, documented),
            Kind::Run { .. } | Kind::Example => self.example(route, query, documented),
        }
    }

    /// The item the route's path names, as stored: the one an update changes.
    pub(crate) fn stored(&self, route: &Route) -> Option<&Value> {
        self.items.get(&Self::item_address(route)).map(|item| &item.value)
    }

    /// Every account item of `collection` (such as `/jobs`), by path, as a `GET` answers it.
    pub(crate) fn views_of(&self, collection: &str) -> Vec<(String, Value)> {
        self.items
            .iter()
            .filter(|(at, item)| !at.global && item.collection == collection)
            .filter_map(|(at, _)| Some((at.path.clone(), self.view(at)?)))
            .collect()
    }

    /// Whether an item on the route's path does not exist.
    fn has_missing_item(&self, route: &Route) -> bool {
        let op = route.operation;
        let segments: Vec<&'static str> = op.path.split('/').collect();
        (2..=segments.len()).any(|end| {
            let template = segments[..end].join("/");
            split_item(&template).is_some_and(|(collection, _)| is_collection(op.scope, collection))
                && !self.items.contains_key(&address(op.scope, fill(&template, &route.params)))
        })
    }

    fn scope_prefix(&self, scope: Scope) -> String {
        match scope {
            Scope::Account => format!("/{}/api", self.account_id),
            Scope::Global => String::new(),
        }
    }

    fn view(&self, address: &Address) -> Option<Value> {
        let item = self.items.get(address)?;
        let mut value = item.value.clone();
        if let Some(lifecycle) = item.lifecycle {
            self.apply_lifecycle(address, lifecycle, &mut value);
        }
        Some(value)
    }

    fn item_address(route: &Route) -> Address {
        address(route.operation.scope, fill(route.operation.path, &route.params))
    }

    fn answer_item(&self, route: &Route, documented: &Documented) -> Answer {
        match self.view(&Self::item_address(route)) {
            Some(item) => Answer::ok(documented.status, Some(item)),
            None => not_found(),
        }
    }

    fn create(&mut self, route: &Route, spec: &OperationSpec, collection: &'static str, body: &Value) -> Answer {
        let (scope, documented) = (route.operation.scope, &spec.documented);
        if let Some(problem) = self.invalid_references(scope, collection, body) {
            return Answer::message(422, problem);
        }
        if route.operation.id == "create_cluster" && body.get("nodes").and_then(Value::as_u64) == Some(0) {
            return Answer::message(422, "nodes must be at least 1");
        }
        if route.operation.id == "run_job"
            && let Some(cluster) = body.get("cluster_id").and_then(text)
            && let Some(status) = self.status_of(scope, &format!("/clusters/{cluster}"))
            && CLUSTER_ENDING.contains(&status.as_str())
        {
            // A job needs a live cluster (sections/create-cluster.md: a job on a cluster
            // that is not up fails to run); the fake refuses it outright.
            return Answer::message(422, format!("cluster {cluster} is {status}: a job cannot run on it"));
        }
        self.next_id += 1;
        let id = self.next_id;
        // The documented defaults, then what the request sets; never the spec's example.
        let mut item = defaults::for_collection(collection, id, documented.fields);
        merge(&mut item, body, spec);
        self.set_by_service(collection, id, &mut item, body, documented);
        let now = json!(timestamp(self.clock.now()));
        item.insert("id".into(), json!(id));
        for field in ["created_at", "updated_at"] {
            if documented.fields.contains(&field) {
                item.insert(field.into(), now.clone());
            }
        }
        // An item keyed by a field of its own (accounts by `account_id`) gets a new key
        // unless the request chose one.
        let param = item_getter(scope, collection).and_then(|get| split_item(get.path)).map_or("id", |(_, p)| p);
        // A blank key is no key (a slug cannot be empty: `/accounts/` is the list), so it
        // is derived as when the field is absent.
        let blank = body.get(param).is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()));
        let key = match item.get(param) {
            Some(Value::String(_)) if blank => {
                let key = format!("{}-{id}", param.trim_end_matches("_id"));
                item.insert(param.into(), json!(key));
                key
            }
            Some(value) if param != "id" && body.get(param).is_some() => text(value).unwrap_or_default(),
            _ => id.to_string(),
        };
        // A connection knows its type from its path.
        if let Some(kind) = route.params.get("connection_type")
            && documented.fields.contains(&"type")
        {
            item.insert("type".into(), json!(kind));
        }
        let path = format!("{}/{key}", fill(collection, &route.params));
        self.set_urls(scope, &path, &mut item, documented);
        let elapsed = Some(self.clock.elapsed());
        let lifecycle = match collection {
            "/clusters" => Some(Lifecycle::Cluster { created: elapsed, terminated: None }),
            "/jobs" => {
                let package = body.get("package_id").and_then(Value::as_u64);
                let fails = self.fail_jobs || package.is_some_and(|p| self.failing_packages.contains(&p));
                let cluster = body.get("cluster_id").and_then(Value::as_u64);
                Some(Lifecycle::Job { created: elapsed, fails, stopped: None, cluster })
            }
            _ => None,
        };
        let address = address(scope, path);
        self.items.insert(address.clone(), Item { collection, value: Value::Object(item), lifecycle });
        Answer::ok(documented.status, self.view(&address))
    }

    /// What the service fills in itself on a new item: its owner and creator (the
    /// authenticated user), a hook's salt and default name, a key's name.
    fn set_by_service(
        &self,
        collection: &str,
        id: u64,
        item: &mut Map<String, Value>,
        body: &Value,
        documented: &Documented,
    ) {
        let user = documented_example("get_user").unwrap_or(Value::Null);
        if documented.fields.contains(&"owner_id")
            && let Some(owner) = user.get("id")
        {
            item.insert("owner_id".into(), owner.clone());
        }
        if documented.fields.contains(&"creator") {
            let user_id = user.get("id").and_then(Value::as_u64).unwrap_or(0);
            let mut creator = json!({"type": "User", "id": user_id, "url": format!("{}/user", self.base_url)});
            if let Some(name) = user.get("name") {
                creator["display_name"] = name.clone();
            }
            item.insert("creator".into(), creator);
        }
        match collection {
            "/hooks" => {
                use sha1::Digest as _;
                let salt = sha1::Sha1::digest(format!("{}-hook-{id}", self.account_id).as_bytes());
                item.insert("salt".into(), json!(salt.iter().map(|b| format!("{b:02x}")).collect::<String>()));
                // resources/hooks/*-hook.md: the name defaults to a setting of the hook.
                if !item.contains_key("name") {
                    let settings = body.get("settings");
                    let setting =
                        |name: &str| settings.and_then(|s| s.get(name)).and_then(text).filter(|v| !v.is_empty());
                    let name = match body.get("type").and_then(Value::as_str) {
                        Some("slack") => setting("team")
                            .zip(setting("channel"))
                            .map(|(team, channel)| format!("{team}{channel}"))
                            .or_else(|| setting("url")),
                        Some("email") => setting("emails"),
                        Some("hipchat") => setting("room"),
                        Some("pagerduty") => setting("service_name"),
                        _ => setting("url"),
                    };
                    if let Some(name) = name {
                        item.insert("name".into(), json!(name));
                    }
                }
            }
            // sections/create-public-key.md: the key's comment when no name is given.
            "/user/keys" if !item.contains_key("name") => {
                if let Some(comment) =
                    body.get("public_key").and_then(Value::as_str).and_then(|k| k.split_whitespace().nth(2))
                {
                    item.insert("name".into(), json!(comment));
                }
            }
            _ => {}
        }
    }

    /// The status a `GET` of the item at `path` shows now, if it exists and has one.
    fn status_of(&self, scope: Scope, path: &str) -> Option<String> {
        self.view(&address(scope, path.to_owned()))?.get("status").and_then(Value::as_str).map(str::to_owned)
    }

    /// The item a `.../{id}/clone` or `.../{id}/run` route is about.
    fn subject_address(route: &Route) -> Address {
        let op = route.operation;
        let path = op.path.rsplit_once('/').map_or(op.path, |(item, _)| item);
        address(op.scope, fill(path, &route.params))
    }

    /// A copy of the item under a new id (sections/clone-schedule.md: the copy is named
    /// "Copy of ..." and has not run yet); it starts disabled, as the spec says.
    fn clone_item(&mut self, route: &Route, documented: &Documented, collection: &'static str) -> Answer {
        let scope = route.operation.scope;
        let Some(Value::Object(mut item)) = self.view(&Self::subject_address(route)) else { return not_found() };
        self.next_id += 1;
        let id = self.next_id;
        let now = json!(timestamp(self.clock.now()));
        item.insert("id".into(), json!(id));
        if let Some(name) = item.get("name").and_then(Value::as_str) {
            let name = format!("Copy of {name}");
            item.insert("name".into(), json!(name));
        }
        for (field, value) in [
            ("created_at", now.clone()),
            ("updated_at", now),
            ("status", json!("disabled")),
            ("execution_count", json!(0)),
            ("last_run_at", Value::Null),
            ("last_run_status", Value::Null),
        ] {
            if documented.fields.contains(&field) {
                item.insert(field.into(), value);
            }
        }
        let path = format!("{}/{id}", fill(collection, &route.params));
        self.set_urls(scope, &path, &mut item, documented);
        let address = address(scope, path);
        self.items.insert(address.clone(), Item { collection, value: Value::Object(item), lifecycle: None });
        Answer::ok(documented.status, self.view(&address))
    }

    /// `url` and `html_url` of an item at `path`, on the fake's own base URL.
    fn set_urls(&self, scope: Scope, path: &str, item: &mut Map<String, Value>, documented: &Documented) {
        if documented.fields.contains(&"url") {
            item.insert("url".into(), json!(format!("{}{}{path}", self.base_url, self.scope_prefix(scope))));
        }
        if documented.fields.contains(&"html_url") {
            item.insert("html_url".into(), json!(format!("{}/{}{path}", self.base_url, self.account_id)));
        }
    }

    /// Runs a schedule now: for every package of its task a cluster of the task's size and
    /// a job on it, both with the schedule as their `creator` (resources/job.md), so
    /// `list_jobs` shows them; the schedule counts the run.
    fn run_schedule(&mut self, route: &Route, documented: &Documented) -> Answer {
        let subject = Self::subject_address(route);
        let Some(schedule) = self.view(&subject) else { return not_found() };
        let schedule_id = schedule.get("id").and_then(Value::as_u64).unwrap_or(0);
        let task = schedule.get("task").cloned().unwrap_or(Value::Null);
        let creator = json!({
            "type": "Schedule",
            "id": schedule_id,
            "display_name": schedule.get("name").cloned().unwrap_or(json!("")),
            "url": schedule.get("url").cloned().unwrap_or(json!("")),
        });
        let packages = task.get("packages").and_then(Value::as_array).cloned().unwrap_or_default();
        for package in packages {
            let mut cluster = json!({"nodes": task.get("nodes").cloned().unwrap_or(json!(2))});
            for field in ["terminate_on_idle", "time_to_idle"] {
                if let Some(value) = task.get(field) {
                    cluster[field] = value.clone();
                }
            }
            let Some(cluster_id) = self.create_as("create_cluster", "/clusters", &cluster, &creator) else { continue };
            let mut job = json!({"cluster_id": cluster_id, "package_id": package.get("package_id").cloned()});
            if let Some(variables) = package.get("variables") {
                job["variables"] = variables.clone();
            }
            self.create_as("run_job", "/jobs", &job, &creator);
        }
        let now = json!(timestamp(self.clock.now()));
        if let Some(Item { value: Value::Object(fields), .. }) = self.items.get_mut(&subject) {
            let count = fields.get("execution_count").and_then(Value::as_u64).unwrap_or(0);
            fields.insert("execution_count".into(), json!(count.saturating_add(1)));
            fields.insert("last_run_at".into(), now);
        }
        Answer::ok(documented.status, self.view(&subject))
    }

    /// Creates an item through `operation` as `creator` made it; its id, or `None` when
    /// the create was refused.
    fn create_as(&mut self, operation: &str, collection: &'static str, body: &Value, creator: &Value) -> Option<u64> {
        let route = Route { operation: xplenty_api::meta::operation(operation)?, params: BTreeMap::new() };
        let answer = self.create(&route, operation_spec(operation)?, collection, body);
        let id =
            answer.body.as_ref().and_then(|b| b.get("id")).and_then(Value::as_u64).filter(|_| answer.status < 300)?;
        let address = address(route.operation.scope, format!("{collection}/{id}"));
        if let Some(Item { value: Value::Object(fields), .. }) = self.items.get_mut(&address) {
            fields.insert("creator".into(), creator.clone());
        }
        Some(id)
    }

    /// A request field `<thing>_id` naming an item of `/<thing>s` that does not exist.
    fn invalid_references(&self, scope: Scope, collection: &str, body: &Value) -> Option<String> {
        let Value::Object(fields) = body else { return None };
        fields.iter().find_map(|(name, value)| {
            let thing = name.strip_suffix("_id")?;
            let referenced = format!("/{thing}s");
            if referenced == collection || !is_collection(scope, &referenced) {
                return None;
            }
            let id = text(value)?;
            let exists = self.items.contains_key(&address(scope, format!("{referenced}/{id}")));
            (!exists).then(|| format!("{name} {id} does not exist"))
        })
    }

    fn update(&mut self, route: &Route, spec: &OperationSpec, body: &Value) -> Answer {
        let (address, documented) = (Self::item_address(route), &spec.documented);
        let now = json!(timestamp(self.clock.now()));
        let Some(Item { value: Value::Object(item), .. }) = self.items.get_mut(&address) else { return not_found() };
        merge(item, body, spec);
        if documented.fields.contains(&"updated_at") {
            item.insert("updated_at".into(), now);
        }
        Answer::ok(documented.status, self.view(&address))
    }

    fn delete(&mut self, route: &Route, documented: &Documented, collection: &'static str) -> Answer {
        let address = Self::item_address(route);
        let now = self.clock.elapsed();
        let status = self.view(&address).and_then(|v| v.get("status").and_then(Value::as_str).map(str::to_owned));
        let status = status.as_deref().unwrap_or("");
        // Terminal states are final. sections/terminate-job.md stops an *active* job and
        // says nothing of a finished one; the fake refuses with 422 and leaves the job as
        // it is. A cluster already on its way out is answered as it is (the call is
        // repeated, not refused); one already terminated is a 422 like the job.
        match collection {
            "/jobs" if JOB_FINAL.contains(&status) => {
                return Answer::message(422, format!("job is already {status}: only an active job can be stopped"));
            }
            "/jobs" if status == "pending_stoppage" => {
                return Answer::ok(documented.status, self.view(&address).filter(|_| documented.has_body));
            }
            "/clusters" if status == "terminated" => {
                return Answer::message(422, "cluster is already terminated");
            }
            "/clusters" if CLUSTER_ENDING.contains(&status) => {
                return Answer::ok(documented.status, self.view(&address).filter(|_| documented.has_body));
            }
            _ => {}
        }
        let Some(item) = self.items.get_mut(&address) else { return not_found() };
        match (collection, &mut item.lifecycle) {
            ("/clusters", Some(Lifecycle::Cluster { terminated, .. })) => {
                terminated.get_or_insert(now);
            }
            ("/clusters", lifecycle) => {
                *lifecycle = Some(Lifecycle::Cluster { created: None, terminated: Some(now) });
            }
            ("/jobs", Some(Lifecycle::Job { stopped, .. })) => {
                stopped.get_or_insert(now);
            }
            ("/jobs", lifecycle) => {
                *lifecycle = Some(Lifecycle::Job { created: None, fails: false, stopped: Some(now), cluster: None });
            }
            _ => {
                if let Some((_, status)) = ARCHIVED_ON_DELETE.iter().find(|(c, _)| *c == collection) {
                    if let Value::Object(fields) = &mut item.value {
                        fields.insert("status".into(), json!(status));
                    }
                } else {
                    let removed = self.view(&address);
                    self.items.remove(&address);
                    self.watched.remove(&address);
                    return Answer::ok(documented.status, removed.filter(|_| documented.has_body));
                }
            }
        }
        Answer::ok(documented.status, self.view(&address).filter(|_| documented.has_body))
    }

    fn list(&self, route: &Route, query: &[(String, String)], collection: &'static str, search: bool) -> Answer {
        let scope = route.operation.scope;
        let prefix = format!("{}/", fill(collection, &route.params));
        let mut items: Vec<Value> = self
            .items
            .iter()
            .filter(|(at, item)| {
                at.global == (scope == Scope::Global)
                    && at.path.starts_with(&prefix)
                    && (item.collection == collection
                        || split_item(item.collection).is_some_and(|(parent, _)| parent == collection))
            })
            .filter_map(|(address, _)| self.view(address))
            .collect();
        lists::apply(&mut items, query, collection, search);
        self.page(route, query, items)
    }

    /// One page of `items` by `offset` and `limit`, with `Link` headers to its neighbours.
    fn page(&self, route: &Route, query: &[(String, String)], items: Vec<Value>) -> Answer {
        let number = |name: &str| query.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<usize>().ok());
        let offset = number("offset").unwrap_or(0);
        let limit = number("limit").unwrap_or(20).clamp(1, 100);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let path = format!("{}{}", self.scope_prefix(route.operation.scope), fill(route.operation.path, &route.params));
        let link = |offset: usize| {
            let mut pairs: Vec<(String, String)> =
                query.iter().filter(|(k, _)| k != "offset" && k != "limit").cloned().collect();
            pairs.push(("offset".into(), offset.to_string()));
            pairs.push(("limit".into(), limit.to_string()));
            let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            format!("{}{path}?{query}", self.base_url)
        };
        let mut links = Vec::new();
        // Saturating: an offset near `usize::MAX` is an empty page, never an overflow.
        if offset.saturating_add(limit) < total {
            links.push(format!("<{}>; rel=\"next\"", link(offset.saturating_add(limit))));
        }
        if offset > 0 {
            links.push(format!("<{}>; rel=\"prev\"", link(offset.saturating_sub(limit))));
        }
        let headers = if links.is_empty() { Vec::new() } else { vec![("link".to_owned(), links.join(", "))] };
        Answer { status: 200, body: Some(Value::Array(page)), headers }
    }

    fn watch(&mut self, route: &Route, kind: Kind, documented: &Documented) -> Answer {
        let scope = route.operation.scope;
        let item_path = fill(route.operation.path.trim_end_matches("/watchers"), &route.params);
        let address = address(scope, item_path);
        match kind {
            Kind::Watch => {
                self.watched.insert(address.clone());
                let mut answer = match documented.example() {
                    Some(Value::Object(answer)) => answer,
                    _ => Map::new(),
                };
                let url = format!("{}{}{}", self.base_url, self.scope_prefix(scope), address.path);
                for (name, value) in answer.iter_mut() {
                    if name.ends_with("_url") {
                        *value = json!(url);
                    }
                }
                answer.insert("created_at".into(), json!(timestamp(self.clock.now())));
                Answer::ok(documented.status, Some(Value::Object(answer)))
            }
            Kind::Unwatch => {
                self.watched.remove(&address);
                Answer::ok(documented.status, None)
            }
            _ => {
                // The caller is the only watcher the fake knows: the spec's example one.
                let watchers = match documented.example() {
                    Some(Value::Array(list)) if self.watched.contains(&address) => list.into_iter().take(1).collect(),
                    _ => Vec::new(),
                };
                Answer::ok(documented.status, Some(Value::Array(watchers)))
            }
        }
    }

    fn singleton(&mut self, route: &Route, kind: Kind, spec: &OperationSpec, body: &Value) -> Answer {
        let (op, documented) = (route.operation, &spec.documented);
        let address = Self::item_address(route);
        if !self.singletons.contains_key(&address) {
            let getter = OPERATIONS.iter().find(|o| o.scope == op.scope && o.path == op.path && o.method == "GET");
            let seed = getter.and_then(|g| documented_example(g.id)).unwrap_or_else(|| json!({}));
            let seed = self.own_urls(seed);
            self.singletons.insert(address.clone(), seed);
        }
        let now = json!(timestamp(self.clock.now()));
        let Some(Value::Object(value)) = self.singletons.get_mut(&address) else { return not_found() };
        if kind == Kind::SingletonUpdate {
            merge(value, body, spec);
            if documented.fields.contains(&"updated_at") {
                value.insert("updated_at".into(), now);
            }
        }
        Answer::ok(documented.status, Some(Value::Object(value.clone())))
    }

    fn example(&self, route: &Route, query: &[(String, String)], documented: &Documented) -> Answer {
        if route.operation.id == "get_rate_limit_status" {
            let remaining = self.rate_limit.saturating_sub(self.calls);
            return Answer::ok(
                documented.status,
                Some(json!({"limits": {"limit": self.rate_limit, "remaining": remaining}})),
            );
        }
        if let Some(answer) = self.job_text(route, documented) {
            return answer;
        }
        match documented.example().map(|e| self.own_urls(e)) {
            Some(Value::Array(items)) if route.operation.paginated => {
                let mut answer = self.page(route, query, items);
                answer.status = documented.status;
                answer
            }
            example => Answer::ok(documented.status, example.filter(|_| documented.has_body)),
        }
    }

    /// The spec's examples point at the docs' hosts; the fake's items point at the fake
    /// (C7), like everything it creates.
    fn own_urls(&self, mut value: Value) -> Value {
        fn walk(value: &mut Value, base: &str, key: Option<&str>) {
            match value {
                Value::Object(fields) => fields.iter_mut().for_each(|(k, v)| walk(v, base, Some(k))),
                Value::Array(items) => items.iter_mut().for_each(|v| walk(v, base, key)),
                Value::String(text) if key.is_some_and(|k| k.ends_with("url")) => {
                    for host in ["https://api.xplenty.com", "https://app.xplenty.com"] {
                        if let Some(rest) = text.strip_prefix(host) {
                            *text = format!("{base}{rest}");
                        }
                    }
                }
                _ => {}
            }
        }
        walk(&mut value, &self.base_url, None);
        value
    }

    /// A job's own log and output previews, made from its id and status, instead of the
    /// one example every job would otherwise share.
    fn job_text(&self, route: &Route, documented: &Documented) -> Option<Answer> {
        let op = route.operation;
        if !matches!(op.id, "get_job_log" | "preview_job_output") {
            return None;
        }
        let job_id = route.params.get("job_id")?;
        let job = self.view(&address(op.scope, format!("/jobs/{job_id}")))?;
        let status = job.get("status").and_then(Value::as_str).unwrap_or("idle");
        let url = format!("{}{}{}", self.base_url, self.scope_prefix(op.scope), fill(op.path, &route.params));
        let body = match op.id {
            "get_job_log" => {
                let mut log = format!("job {job_id}: submitted\n");
                if !matches!(status, "idle" | "pending" | "queued") {
                    log.push_str(&format!("job {job_id}: started\n"));
                }
                log.push_str(&format!("job {job_id}: {status}\n"));
                if let Some(errors) = job.get("errors").and_then(Value::as_str) {
                    log.push_str(&format!("job {job_id}: {errors}\n"));
                }
                json!({"body": log, "url": url})
            }
            _ => {
                let output = route.params.get("output_id").cloned().unwrap_or_default();
                json!({"preview": format!("job\toutput\tstatus\n{job_id}\t{output}\t{status}"), "url": url})
            }
        };
        Some(Answer::ok(documented.status, Some(body)))
    }

    /// When the cluster's last job on it ends, by the clock, if it has any jobs.
    fn last_job_end(&self, cluster_id: u64) -> Option<Duration> {
        self.items
            .values()
            .filter_map(|item| match item.lifecycle {
                Some(Lifecycle::Job { created: Some(created), stopped, cluster: Some(c), .. }) if c == cluster_id => {
                    Some(stopped.unwrap_or(created + JOB_QUEUED_UNTIL + JOB_RUNS_FOR))
                }
                _ => None,
            })
            .max()
    }

    /// Writes the status (and progress, timestamps) the clock says a cluster or job has.
    fn apply_lifecycle(&self, address: &Address, lifecycle: Lifecycle, item: &mut Value) {
        let now = self.clock.elapsed();
        let at = |d: Duration| {
            json!(timestamp(self.clock.now() - chrono::Duration::from_std(now.saturating_sub(d)).unwrap_or_default()))
        };
        let id = address.path.rsplit('/').next().and_then(|id| id.parse::<u64>().ok());
        let Value::Object(fields) = item else { return };
        let time_to_idle =
            fields.get("time_to_idle").and_then(Value::as_u64).map_or(DEFAULT_TIME_TO_IDLE, Duration::from_secs);
        let mut set = |name: &str, value: Value| {
            fields.insert(name.into(), value);
        };
        match lifecycle {
            Lifecycle::Cluster { created, terminated: Some(terminated) } => {
                let since = now.saturating_sub(terminated);
                let status = if since < CLUSTER_PENDING_TERMINATE {
                    "pending_terminate"
                } else if since < CLUSTER_PENDING_TERMINATE + CLUSTER_TERMINATING {
                    "terminating"
                } else {
                    set("terminated_at", at(terminated + CLUSTER_PENDING_TERMINATE + CLUSTER_TERMINATING));
                    "terminated"
                };
                if created.is_some_and(|c| terminated.saturating_sub(c) >= CLUSTER_CREATING) {
                    set("available_since", at(created.unwrap_or_default() + CLUSTER_CREATING));
                }
                set("status", json!(status));
            }
            Lifecycle::Cluster { created: Some(created), terminated: None } => {
                let age = now.saturating_sub(created);
                let status = if age < CLUSTER_PENDING {
                    "pending"
                } else if age < CLUSTER_CREATING {
                    "creating"
                } else {
                    let available = created + CLUSTER_CREATING;
                    set("available_since", at(available));
                    let busy_until = id.and_then(|id| self.last_job_end(id)).unwrap_or(available).max(available);
                    if now >= busy_until + time_to_idle { "idle" } else { "available" }
                };
                set("status", json!(status));
            }
            Lifecycle::Cluster { created: None, terminated: None } => {}
            Lifecycle::Job { created, fails, stopped, .. } => {
                let Some(created) = created else {
                    if let Some(stopped) = stopped {
                        let since = now.saturating_sub(stopped);
                        let status = if since < JOB_PENDING_STOPPAGE { "pending_stoppage" } else { "stopped" };
                        set("status", json!(status));
                    }
                    return;
                };
                let age = now.saturating_sub(created);
                let ends = created + JOB_QUEUED_UNTIL + JOB_RUNS_FOR;
                // A stopped job's progress stays where it was stopped.
                let progress_at = stopped.map_or(now, |s| s.min(now));
                let running = progress_at.saturating_sub(created + JOB_QUEUED_UNTIL);
                let progress = (running.as_secs_f64() / JOB_RUNS_FOR.as_secs_f64()).min(1.0);
                let status = match stopped.map(|s| now.saturating_sub(s)) {
                    Some(since) if since < JOB_PENDING_STOPPAGE => "pending_stoppage",
                    Some(_) => "stopped",
                    None if age < JOB_IDLE => "idle",
                    None if age < JOB_PENDING => "pending",
                    None if age < JOB_QUEUED_UNTIL => "queued",
                    None if now < ends => "running",
                    None if fails => "failed",
                    None => "completed",
                };
                set("status", json!(status));
                set("progress", json!(progress));
                if age >= JOB_QUEUED_UNTIL {
                    set("started_at", at(created + JOB_QUEUED_UNTIL));
                }
                match status {
                    "completed" => set("completed_at", at(ends)),
                    "failed" => {
                        set("failed_at", at(ends));
                        set("completed_at", at(ends));
                        set("errors", json!("The fake was asked to fail this job."));
                    }
                    "stopped" => set("completed_at", at(stopped.unwrap_or(ends) + JOB_PENDING_STOPPAGE)),
                    _ => {}
                }
            }
        }
    }
}

/// A write is read against its item's type, the stored one for an update and the path's
/// for a new connection: settings or fields of another hook or connection type are a 422
/// naming the first of them (storing them would put the item outside its own schema, and
/// every later answer that carries it would break the spec).
fn mismatched_fields(
    operation: &str,
    body: Option<&Value>,
    stored: Option<&Value>,
    path_type: Option<&str>,
) -> Option<String> {
    let (answer, nested) = match operation {
        "update_hook" => ("get_hook", Some("settings")),
        "update_connection" | "create_connection" => ("get_connection", None),
        _ => return None,
    };
    let body = body?;
    let tag = match operation {
        "create_connection" => path_type?,
        _ => stored?.get("type")?.as_str()?,
    };
    let object = match nested {
        Some(name) => body.get(name)?,
        None => body,
    };
    let foreign = defaults::foreign_fields(answer, tag, object, nested);
    let field = foreign.first()?;
    let at = nested.map_or(field.clone(), |n| format!("{n}.{field}"));
    Some(format!("field {at} does not apply to a {tag} {}", if nested.is_some() { "hook" } else { "connection" }))
}

fn documented_example(id: &str) -> Option<Value> {
    operation_spec(id).and_then(|row| row.documented.example())
}
