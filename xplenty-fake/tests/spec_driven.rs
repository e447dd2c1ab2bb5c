//! The fake driven by request sequences generated from the spec, over raw HTTP: valid
//! requests built from the spec's examples, and invalid ones with one parameter or body
//! field mutated to a wrong type, an unknown enum value or an out-of-range number. No
//! answer is a 5xx, every 2xx body keeps to its documented schema, every 4xx body is
//! `{"message": string}`, and a refused request changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use xplenty_api::meta::{OPERATIONS, Operation, Scope};
use xplenty_fake::FakeXplenty;

mod common;
use common::{resolve, spec};

/// Where a mutation goes.
#[derive(Debug, Clone)]
enum Site {
    Path(String),
    Query(String),
    Field(String),
}

/// One operation's valid request, and the ways to break it.
struct Plan {
    op: &'static Operation,
    path: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    mutations: Vec<(Site, Value)>,
    answer: Option<jsonschema::Validator>,
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Values that break a schema: a wrong type, an unknown enum value, out-of-range numbers.
fn breakers(schema: &Value, in_url: bool) -> Vec<Value> {
    let mut out = Vec::new();
    let kind = schema.get("type").and_then(Value::as_str);
    if in_url {
        if matches!(kind, Some("integer" | "number" | "boolean")) {
            out.push(json!("not-a-number"));
        }
    } else if kind.is_some() {
        out.push(if kind == Some("object") { json!("text") } else { json!({"wrong": "type"}) });
    }
    if schema.get("enum").is_some() && kind == Some("string") {
        out.push(json!("no-such-value"));
    }
    // The 64-bit bounds the spec declares on ids and counts are broken one past them.
    if let Some(below) = schema.get("minimum").and_then(Value::as_f64).and_then(|min| (min as i64).checked_sub(1)) {
        out.push(json!(below));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        out.push((max as i64).checked_add(1).map_or_else(|| json!(i64::MAX as u64 + 1), |above| json!(above)));
    }
    out
}

fn plans(spec: &Value) -> Vec<Plan> {
    OPERATIONS
        .iter()
        .map(|op| {
            let raw = &spec["paths"][op.path][op.method.to_lowercase()];
            let (mut path, mut query, mut mutations) = (BTreeMap::new(), Vec::new(), Vec::new());
            for p in raw["parameters"].as_array().into_iter().flatten().map(|p| resolve(spec, p)) {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let schema = resolve(spec, &p["schema"]);
                let site = match p["in"].as_str() {
                    Some("path") => Site::Path(name.clone()),
                    Some("query") => Site::Query(name.clone()),
                    _ => continue,
                };
                if let Some(example) = p.get("example") {
                    match &site {
                        Site::Path(_) => {
                            path.insert(name.clone(), plain(example));
                        }
                        _ => query.push((name.clone(), plain(example))),
                    }
                }
                mutations.extend(breakers(schema, true).into_iter().map(|v| (site.clone(), v)));
            }
            let request = raw.get("requestBody").map(|b| resolve(spec, b));
            let body = request.and_then(|b| b.pointer("/content/application~1json/example")).cloned();
            let body_schema =
                request.and_then(|b| b.pointer("/content/application~1json/schema")).map(|s| resolve(spec, s));
            if let (Some(Value::Object(_)), Some(schema)) = (&body, body_schema) {
                for (field, property) in schema["properties"].as_object().into_iter().flatten() {
                    let property = resolve(spec, property);
                    mutations.extend(breakers(property, false).into_iter().map(|v| (Site::Field(field.clone()), v)));
                }
            }
            let answer = raw
                .pointer("/responses")
                .and_then(Value::as_object)
                .and_then(|r| r.iter().find(|(status, _)| status.starts_with('2')))
                .map(|(_, r)| resolve(spec, r))
                .and_then(|r| r.pointer("/content/application~1vnd.xplenty+json/schema"))
                .map(|s| jsonschema::draft4::new(&xplenty_gen::to_json_schema(spec, s)).expect("schemas compile"));
            Plan { op, path, query, body, mutations, answer }
        })
        .collect()
}

struct Sent {
    status: u16,
    body: Value,
}

async fn send(
    http: &reqwest::Client,
    fake: &FakeXplenty,
    plan: &Plan,
    mutation: Option<&(Site, Value)>,
) -> Result<Sent, String> {
    let (mut path, mut query, mut body) = (plan.path.clone(), plan.query.clone(), plan.body.clone());
    match mutation {
        Some((Site::Path(name), value)) => {
            path.insert(name.clone(), plain(value));
        }
        Some((Site::Query(name), value)) => {
            query.retain(|(k, _)| k != name);
            query.push((name.clone(), plain(value)));
        }
        Some((Site::Field(name), value)) => {
            if let Some(Value::Object(fields)) = &mut body {
                fields.insert(name.clone(), value.clone());
            }
        }
        None => {}
    }
    let filled: Vec<String> = plan
        .op
        .path
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                url::form_urlencoded::byte_serialize(path.get(name).map_or("", String::as_str).as_bytes()).collect()
            }
            None => s.to_owned(),
        })
        .collect();
    let prefix = match plan.op.scope {
        Scope::Account => format!("/{}/api", fake.account_id()),
        Scope::Global => String::new(),
    };
    let mut url = format!("{}{prefix}{}", fake.base_url(), filled.join("/"));
    if !query.is_empty() {
        url.push('?');
        url.push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&query).finish());
    }
    let method = reqwest::Method::from_bytes(plan.op.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = http
        .request(method, &url)
        .basic_auth(fake.api_key(), Some(""))
        .header("accept", "application/vnd.xplenty+json; version=2");
    if let Some(body) = &body {
        request = request.json(body);
    }
    let response = request.send().await.map_err(|e| format!("{}: {e}", plan.op.id))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let body =
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))? };
    Ok(Sent { status, body })
}

async fn run_case(
    http: &reqwest::Client,
    fake: &FakeXplenty,
    plans: &[Plan],
    steps: &[(prop::sample::Index, prop::sample::Index, bool, u8)],
) -> Result<(), String> {
    fake.reset();
    for (op, which, invalid, wait) in steps {
        let plan = op.get(plans);
        let mutation = (*invalid && !plan.mutations.is_empty()).then(|| which.get(&plan.mutations));
        let before = fake.snapshot();
        let sent = send(http, fake, plan, mutation).await?;
        let id = plan.op.id;
        let context = format!("{id} {mutation:?}: {} {}", sent.status, sent.body);
        if sent.status >= 500 {
            return Err(format!("5xx: {context}"));
        }
        if (400..500).contains(&sent.status)
            && !(sent.body.as_object().is_some_and(|o| o.len() == 1) && sent.body["message"].is_string())
        {
            return Err(format!("4xx without {{\"message\": string}}: {context}"));
        }
        if let Some(mutation) = mutation {
            if sent.status != 422 {
                return Err(format!("a request broken at {mutation:?} was not refused: {context}"));
            }
            if fake.snapshot() != before {
                return Err(format!("a refused request changed the fake: {context}"));
            }
            continue;
        }
        if (200..300).contains(&sent.status)
            && !sent.body.is_null()
            && let Some(validator) = &plan.answer
        {
            let problems: Vec<String> =
                validator.iter_errors(&sent.body).map(|e| format!("{e} at {}", e.instance_path())).collect();
            if !problems.is_empty() {
                return Err(format!("answer outside the spec: {context}: {}", problems.join("; ")));
            }
        }
        fake.advance(Duration::from_secs(u64::from(*wait)));
    }
    Ok(())
}

#[test]
fn spec_generated_request_sequences_keep_the_fake_within_the_spec() {
    let spec = spec();
    let plans = plans(&spec);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let fake =
        runtime.block_on(FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start()).expect("start the fake");
    // This test is the application: it picks reqwest's TLS provider (`rustls-no-provider`).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    let steps = prop::collection::vec(
        (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<bool>(), 0_u8..20),
        1..8,
    );
    let result = runner.run(&steps, |steps| {
        let _guard = runtime.enter();
        runtime.block_on(run_case(&http, &fake, &plans, &steps)).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
