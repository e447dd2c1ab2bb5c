//! What the fake remembers: collections of resources seeded from the spec's examples,
//! cluster and job lifecycles driven by the clock, watchers, the call budget, faults.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Map, Value, json};
use xplenty_api::Operation;

use crate::clock::{Clock, timestamp};
use crate::route::Route;

include!(concat!(env!("OUT_DIR"), "/answers.rs"));

/// Fields a request may carry that the fake never echoes back.
const SECRETS: &[&str] =
    &["password", "basic_auth_data", "current_password", "new_password", "code", "billing_payment_token", "public_key"];

/// How long each stage of a lifecycle lasts, by the fake's clock.
const CLUSTER_PENDING: Duration = Duration::from_secs(2);
const CLUSTER_CREATING: Duration = Duration::from_secs(8);
const CLUSTER_TERMINATING: Duration = Duration::from_secs(5);
const JOB_QUEUED_UNTIL: Duration = Duration::from_secs(4);
const JOB_RUNS_FOR: Duration = Duration::from_secs(20);

/// The user the fake's API key belongs to.
const CALLER: (u64, &str) = (3107, "Dana Ortiz");

/// What an operation does to the fake's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Get,
    Update,
    Delete,
    List,
    Search,
    Watch,
    Unwatch,
    Watchers,
    Example,
}

#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Cluster { created: Duration, terminate: Option<Duration> },
    Job { created: Duration, fails: bool, stop: Option<Duration> },
}

/// A fault to inject on an operation.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and `{"message": ...}`.
    Status(u16, String),
    /// Answer normally, after this long (real time).
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
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
}

pub(crate) struct State {
    pub(crate) clock: Clock,
    pub(crate) account_id: String,
    pub(crate) base_url: String,
    collections: BTreeMap<&'static str, BTreeMap<String, Value>>,
    lifecycles: BTreeMap<(&'static str, String), Lifecycle>,
    watchers: BTreeSet<(&'static str, String)>,
    next_id: u64,
    pub(crate) rate_limit: u32,
    pub(crate) calls: u32,
    faults: Vec<(String, Fault, u32)>,
    pub(crate) fail_jobs: bool,
}

/// The collection an operation works on: its path up to the first parameter, such as
/// `/clusters` or `/user/keys`.
fn base(op: &Operation) -> &'static str {
    let end = op.path.find("/{").unwrap_or(op.path.len());
    let path = &op.path[..end];
    path.strip_suffix("/search").unwrap_or(path)
}

fn kind(op: &Operation) -> Kind {
    let path = op.path;
    let base = base(op);
    let ends_in_id = path.ends_with("_id}") && path.matches('{').count() >= 1;
    let id = op.id;
    match op.method {
        "POST" if id.starts_with("watch_") => Kind::Watch,
        "DELETE" if id.starts_with("unwatch_") => Kind::Unwatch,
        "GET" if id.ends_with("_watchers") => Kind::Watchers,
        "POST" if id.starts_with("create_") || id == "run_job" || id == "add_member" => Kind::Create,
        "GET" if path == base && op.paginated => Kind::List,
        "GET" if path == format!("{base}/search") => Kind::Search,
        "GET" if ends_in_id && id.starts_with("get_") && path.matches('{').count() == base_params(path) => Kind::Get,
        "PUT" if ends_in_id && path.matches('{').count() == base_params(path) => Kind::Update,
        "DELETE" if ends_in_id && path.matches('{').count() == base_params(path) => Kind::Delete,
        _ => Kind::Example,
    }
}

/// Parameters that name one item of a collection: its id, and for connections the type.
fn base_params(path: &str) -> usize {
    if path.starts_with("/connections/{connection_type}/") { 2 } else { 1 }
}

fn answer_of(id: &str) -> Option<&'static (&'static str, u16, &'static str, &'static [&'static str])> {
    ANSWERS.binary_search_by(|a| a.0.cmp(id)).ok().map(|i| &ANSWERS[i])
}

fn example(id: &str) -> Option<Value> {
    answer_of(id).and_then(|a| serde_json::from_str(a.2).ok())
}

/// The key an item is stored under: the field named like the path parameter when the
/// resource has one (accounts by `account_id`), else `id`.
fn key_of(item: &Value, param: &str) -> Option<String> {
    let field = if item.get(param).is_some() { param } else { "id" };
    match item.get(field)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn last_param(route: &Route) -> Option<(&'static str, &String)> {
    let name = route.operation.path.rsplit('{').next()?.trim_end_matches('}').split('}').next()?;
    route.params.iter().find(|(k, _)| **k == name).map(|(k, v)| (*k, v))
}

impl State {
    pub(crate) fn new(clock: Clock, account_id: String, base_url: String, rate_limit: u32) -> Self {
        let mut state = State {
            clock,
            account_id,
            base_url,
            collections: BTreeMap::new(),
            lifecycles: BTreeMap::new(),
            watchers: BTreeSet::new(),
            next_id: 10_000,
            rate_limit,
            calls: 0,
            faults: Vec::new(),
            fail_jobs: false,
        };
        // Every collection starts with the object its GET example shows, so the fake is
        // realistic (and every documented call works) from the first request.
        for op in xplenty_api::OPERATIONS.iter().filter(|op| kind(op) == Kind::Get) {
            if let Some(item) = example(op.id) {
                let param = op.path.rsplit('{').next().unwrap_or("").trim_end_matches('}');
                if let Some(key) = key_of(&item, param) {
                    state.collections.entry(base(op)).or_default().insert(key, item);
                }
            }
        }
        state
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

    pub(crate) fn handle(&mut self, route: &Route, query: &[(String, String)], body: Option<Value>) -> Answer {
        let op = route.operation;
        let Some(&(_, status, _, required)) = answer_of(op.id) else {
            return Answer::message(500, format!("fake: no answer for {}", op.id));
        };
        if let Some(missing) =
            required.iter().find(|field| body.as_ref().is_none_or(|b| b.get(**field).is_none_or(Value::is_null)))
        {
            return Answer::message(422, format!("{missing} is required"));
        }
        let base = base(op);
        let kind = kind(op);
        // An id of a stored collection that is not there is a 404, whatever the call.
        if kind != Kind::Create
            && let Some(collection) = self.collections.get(base)
            && let Some(first) = op.path[base.len()..]
                .split('/')
                .nth(1)
                .and_then(|s| s.strip_prefix('{'))
                .map(|s| s.trim_end_matches('}'))
            && first != "connection_type"
            && let Some(id) = route.params.get(first)
            && !collection.contains_key(id)
        {
            return Answer::message(404, "Record not found");
        }
        match kind {
            Kind::Create => self.create(route, body.unwrap_or_default(), status),
            Kind::Get => {
                let (_, key) = last_param(route).expect("a get has an id");
                self.item(base, key).map_or_else(|| Answer::message(404, "Record not found"), |item| ok(status, item))
            }
            Kind::Update => self.update(route, body.unwrap_or_default(), status),
            Kind::Delete => self.delete(route, status),
            Kind::List | Kind::Search => self.list(route, query, kind == Kind::Search),
            Kind::Watch | Kind::Unwatch | Kind::Watchers => self.watch(route, kind, status),
            Kind::Example => self.example(route, status),
        }
    }

    fn item(&self, base: &'static str, key: &str) -> Option<Value> {
        let mut item = self.collections.get(base)?.get(key)?.clone();
        self.apply_lifecycle(base, key, &mut item);
        Some(item)
    }

    fn create(&mut self, route: &Route, body: Value, status: u16) -> Answer {
        let op = route.operation;
        let base = base(op);
        if op.id == "run_job" {
            for (collection, field) in [("/clusters", "cluster_id"), ("/packages", "package_id")] {
                let id = body.get(field).map(|v| v.to_string()).unwrap_or_default();
                if !self.collections.get(collection).is_some_and(|c| c.contains_key(&id)) {
                    return Answer::message(422, format!("{field} {id} does not exist"));
                }
            }
        }
        if op.id == "create_cluster" && body.get("nodes").and_then(Value::as_u64) == Some(0) {
            return Answer::message(422, "nodes must be at least 1");
        }
        let mut item = match example(op.id) {
            Some(Value::Object(template)) => template,
            _ => Map::new(),
        };
        if let Value::Object(fields) = body {
            for (name, value) in fields {
                if !SECRETS.contains(&name.as_str()) {
                    item.insert(name, value);
                }
            }
        }
        self.next_id += 1;
        let id = self.next_id;
        let now = timestamp(self.clock.now());
        item.insert("id".into(), json!(id));
        item.insert("created_at".into(), json!(now));
        item.insert("updated_at".into(), json!(now));
        let segment = match route.params.get("connection_type") {
            Some(kind) => {
                item.insert("type".into(), json!(kind));
                format!("{base}/{kind}/{id}")
            }
            None => format!("{base}/{id}"),
        };
        item.insert("url".into(), json!(format!("{}/{}/api{segment}", self.base_url, self.account_id)));
        if item.contains_key("html_url") {
            item.insert("html_url".into(), json!(format!("{}/{}{segment}", self.base_url, self.account_id)));
        }
        let mut item = Value::Object(item);
        let key = key_of(&item, "account_id").filter(|_| base == "/accounts").unwrap_or_else(|| id.to_string());
        let elapsed = self.clock.elapsed();
        match op.id {
            "create_cluster" => {
                self.lifecycles.insert((base, key.clone()), Lifecycle::Cluster { created: elapsed, terminate: None });
            }
            "run_job" => {
                let fails = self.fail_jobs;
                self.lifecycles.insert((base, key.clone()), Lifecycle::Job { created: elapsed, fails, stop: None });
            }
            _ => {}
        }
        self.collections.entry(base).or_default().insert(key.clone(), item.clone());
        self.apply_lifecycle(base, &key, &mut item);
        ok(status, item)
    }

    fn update(&mut self, route: &Route, body: Value, status: u16) -> Answer {
        let base = base(route.operation);
        let Some((_, key)) = last_param(route) else { return Answer::message(404, "Record not found") };
        let now = timestamp(self.clock.now());
        let Some(Value::Object(item)) = self.collections.get_mut(base).and_then(|c| c.get_mut(key)) else {
            return Answer::message(404, "Record not found");
        };
        if let Value::Object(fields) = body {
            for (name, value) in fields {
                if !SECRETS.contains(&name.as_str()) {
                    item.insert(name, value);
                }
            }
        }
        item.insert("updated_at".into(), json!(now));
        let key = key.clone();
        self.item(base, &key).map_or_else(|| Answer::message(404, "Record not found"), |item| ok(status, item))
    }

    fn delete(&mut self, route: &Route, status: u16) -> Answer {
        let base = base(route.operation);
        let Some((_, key)) = last_param(route) else { return Answer::message(404, "Record not found") };
        let key = key.clone();
        let Some(item) = self.item(base, &key) else { return Answer::message(404, "Record not found") };
        let elapsed = self.clock.elapsed();
        let lifecycle_key = (base, key.clone());
        match route.operation.id {
            "terminate_cluster" => {
                let entry = self
                    .lifecycles
                    .entry(lifecycle_key)
                    .or_insert(Lifecycle::Cluster { created: Duration::ZERO, terminate: None });
                if let Lifecycle::Cluster { terminate, .. } = entry {
                    terminate.get_or_insert(elapsed);
                }
            }
            "terminate_job" => {
                let entry = self.lifecycles.entry(lifecycle_key).or_insert(Lifecycle::Job {
                    created: Duration::ZERO,
                    fails: false,
                    stop: None,
                });
                if let Lifecycle::Job { stop, .. } = entry {
                    stop.get_or_insert(elapsed);
                }
            }
            "delete_package" => {
                if let Some(Value::Object(stored)) = self.collections.get_mut(base).and_then(|c| c.get_mut(&key)) {
                    stored.insert("status".into(), json!("archived"));
                }
            }
            _ => {
                self.collections.get_mut(base).map(|c| c.remove(&key));
                return ok(status, item);
            }
        }
        self.item(base, &key).map_or_else(|| Answer::message(404, "Record not found"), |item| ok(status, item))
    }

    fn list(&self, route: &Route, query: &[(String, String)], search: bool) -> Answer {
        let base = base(route.operation);
        let text = |item: &Value, field: &str| match item.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        let mut items: Vec<Value> = self
            .collections
            .get(base)
            .map(|c| c.keys().filter_map(|k| self.item(base, k)).collect())
            .unwrap_or_default();
        for (name, value) in query {
            match name.as_str() {
                "offset" | "limit" | "sort" | "direction" | "since" => {}
                "q" if search => {
                    let needle = value.to_lowercase();
                    items.retain(|i| text(i, "name").is_some_and(|n| n.to_lowercase().contains(&needle)));
                }
                _ if value == "all" => {}
                _ => items.retain(|i| text(i, name).is_none_or(|v| v == *value)),
            }
        }
        let ascending = query.iter().any(|(k, v)| k == "direction" && v == "asc");
        let id = |i: &Value| i.get("id").and_then(Value::as_u64).unwrap_or(0);
        items.sort_by_key(|i| id(i));
        if !ascending {
            items.reverse();
        }
        let number = |name: &str| query.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<usize>().ok());
        let offset = number("offset").unwrap_or(0);
        let limit = number("limit").unwrap_or(20).clamp(1, 100);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let link = |offset: usize| {
            let mut pairs: Vec<(String, String)> =
                query.iter().filter(|(k, _)| k != "offset" && k != "limit").cloned().collect();
            pairs.push(("offset".into(), offset.to_string()));
            pairs.push(("limit".into(), limit.to_string()));
            let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            format!("{}/{}/api{}?{query}", self.base_url, self.account_id, route.operation.path)
        };
        let mut links = Vec::new();
        if offset + limit < total {
            links.push(format!("<{}>; rel=\"next\"", link(offset + limit)));
        }
        if offset > 0 {
            links.push(format!("<{}>; rel=\"prev\"", link(offset.saturating_sub(limit))));
        }
        let headers = if links.is_empty() { Vec::new() } else { vec![("link".to_owned(), links.join(", "))] };
        Answer { status: 200, body: Some(Value::Array(page)), headers }
    }

    fn watch(&mut self, route: &Route, kind: Kind, status: u16) -> Answer {
        let base = base(route.operation);
        let key = route.params.values().next().cloned().unwrap_or_default();
        match kind {
            Kind::Watch => {
                self.watchers.insert((base, key.clone()));
                let field = format!("{}_url", base.trim_start_matches('/').trim_end_matches('s'));
                let url = format!("{}/{}/api{base}/{key}", self.base_url, self.account_id);
                ok(status, json!({ "created_at": timestamp(self.clock.now()), field: url }))
            }
            Kind::Unwatch => {
                self.watchers.remove(&(base, key));
                Answer { status, body: None, headers: Vec::new() }
            }
            _ => {
                let list = if self.watchers.contains(&(base, key)) {
                    vec![json!({"id": CALLER.0, "display_name": CALLER.1})]
                } else {
                    Vec::new()
                };
                ok(status, Value::Array(list))
            }
        }
    }

    fn example(&self, route: &Route, status: u16) -> Answer {
        let body = match route.operation.id {
            "get_rate_limit_status" => Some(
                json!({"limits": {"limit": self.rate_limit, "remaining": self.rate_limit.saturating_sub(self.calls)}}),
            ),
            id => example(id),
        };
        Answer { status, body, headers: Vec::new() }
    }

    /// Writes the status (and progress, timestamps) the clock says a cluster or job has.
    fn apply_lifecycle(&self, base: &'static str, key: &str, item: &mut Value) {
        let Some(lifecycle) = self.lifecycles.get(&(base, key.to_owned())) else { return };
        let now = self.clock.elapsed();
        let at = |d: Duration| {
            json!(timestamp(self.clock.now() - chrono::Duration::from_std(now.saturating_sub(d)).unwrap_or_default()))
        };
        let Value::Object(fields) = item else { return };
        match *lifecycle {
            Lifecycle::Cluster { created, terminate } => {
                let age = now.saturating_sub(created);
                let status = match terminate.map(|t| now.saturating_sub(t)) {
                    Some(t) if t < CLUSTER_PENDING => "pending_terminate",
                    Some(t) if t < CLUSTER_TERMINATING => "terminating",
                    Some(_) => {
                        fields.insert("terminated_at".into(), at(terminate.unwrap_or_default() + CLUSTER_TERMINATING));
                        "terminated"
                    }
                    None if age < CLUSTER_PENDING => "pending",
                    None if age < CLUSTER_CREATING => "creating",
                    None => {
                        fields.insert("available_since".into(), at(created + CLUSTER_CREATING));
                        let idle_after = fields.get("time_to_idle").and_then(Value::as_u64).unwrap_or(3_600);
                        if age > CLUSTER_CREATING + Duration::from_secs(idle_after) { "idle" } else { "available" }
                    }
                };
                fields.insert("status".into(), json!(status));
            }
            Lifecycle::Job { created, fails, stop } => {
                let age = now.saturating_sub(created);
                let running = age.saturating_sub(JOB_QUEUED_UNTIL);
                let progress = (running.as_secs_f64() / JOB_RUNS_FOR.as_secs_f64()).min(1.0);
                let status = match stop.map(|s| now.saturating_sub(s)) {
                    Some(s) if s < CLUSTER_PENDING => "pending_stoppage",
                    Some(_) => "stopped",
                    None if age < Duration::from_secs(1) => "idle",
                    None if age < Duration::from_secs(2) => "pending",
                    None if age < JOB_QUEUED_UNTIL => "queued",
                    None if progress < 1.0 => "running",
                    None if fails => "failed",
                    None => "completed",
                };
                let progress =
                    if status == "queued" || status == "idle" || status == "pending" { 0.0 } else { progress };
                fields.insert("status".into(), json!(status));
                fields.insert("progress".into(), json!(progress));
                if age >= JOB_QUEUED_UNTIL {
                    fields.insert("started_at".into(), at(created + JOB_QUEUED_UNTIL));
                }
                if matches!(status, "completed" | "failed" | "stopped") {
                    fields.insert("completed_at".into(), at(created + JOB_QUEUED_UNTIL + JOB_RUNS_FOR));
                }
                if status == "failed" {
                    fields.insert("failed_at".into(), at(created + JOB_QUEUED_UNTIL + JOB_RUNS_FOR));
                    fields.insert("errors".into(), json!("The fake was asked to fail this job."));
                }
            }
        }
    }
}

fn ok(status: u16, body: Value) -> Answer {
    Answer { status, body: Some(body), headers: Vec::new() }
}
