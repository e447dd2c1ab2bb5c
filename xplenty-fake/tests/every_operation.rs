//! Every operation of the spec, called through the generated client against a fresh
//! (or freshly reset) fake with the spec's example parameters and body, succeeds with its
//! documented status, and the JSON the fake sent validates against the documented schema.
//! The calls are generated from the spec by `build.rs`, so operations added to it are
//! tested here too.

use serde_json::Value;
use xplenty_fake::FakeXplenty;

include!(concat!(env!("OUT_DIR"), "/every_operation.rs"));

mod common;
use common::{resolve, spec};

/// The success status the spec documents for an operation (each documents one 2xx).
fn documented_status(spec: &Value, op: &xplenty_api::meta::Operation) -> u16 {
    let responses = spec["paths"][op.path][op.method.to_lowercase()]["responses"].as_object();
    let mut codes = responses.into_iter().flat_map(|r| r.keys()).filter_map(|code| code.parse::<u16>().ok());
    codes.find(|code| (200..300).contains(code)).unwrap_or_else(|| panic!("{} documents no success", op.id))
}

/// The schema of an operation's answer with `status`, if it documents a body.
fn response_schema<'a>(spec: &'a Value, op: &xplenty_api::meta::Operation, status: u16) -> Option<&'a Value> {
    let response = spec["paths"][op.path][op.method.to_lowercase()].pointer(&format!("/responses/{status}"))?;
    resolve(spec, response).pointer("/content/application~1vnd.xplenty+json/schema")
}

/// Documented calls the service refuses on the spec's examples, with the status and why.
const REFUSED: &[(&str, &str, &str)] = &[(
    "terminate_job",
    "HTTP 422",
    "the seeded job is the spec's failed one, and a finished job cannot be stopped (sections/terminate-job.md)",
)];

/// Whether `error` is the documented refusal of `operation`.
fn refused_as_documented(operation: &str, error: &str) -> bool {
    REFUSED.iter().any(|(op, status, _)| *op == operation && error.contains(status))
}

#[tokio::test]
async fn every_operation_succeeds_and_answers_in_the_documented_shape() {
    every_operation(FakeXplenty::start().await.expect("start the fake")).await;
}

/// With the real service's spellings (ids as text, events as objects, numeric variables),
/// every answer still lies inside the spec and the client still decodes it.
#[tokio::test]
async fn every_operation_decodes_the_wire_variants_of_its_answer() {
    let fake = FakeXplenty::builder().wire_variants(true).start().await.expect("start the fake");
    let client = fake.client();
    fake.reset();
    let clusters = client.list_clusters().send().await.unwrap();
    let journal = fake.journal();
    let sent = journal.last().and_then(|e| e.response_body.clone()).unwrap();
    assert!(sent[0]["id"].is_string(), "the variant really sends ids as text: {sent}");
    assert_eq!(Some(clusters[0].id.to_string().as_str()), sent[0]["id"].as_str());
    every_operation(fake).await;
}

/// A fake that has served nothing yet answers each operation as documented too (the
/// other tests reuse one fake and rely on `reset`).
#[tokio::test]
async fn every_operation_answers_its_documented_status_on_a_fresh_fake() {
    let spec = spec();
    let mut problems = Vec::new();
    for op in xplenty_api::meta::OPERATIONS {
        let fake = FakeXplenty::start().await.expect("start the fake");
        match call_documented(&fake.client(), op.id).await {
            Ok(status) if status == documented_status(&spec, op) => {}
            Ok(status) => problems.push(format!("{}: answered {status}", op.id)),
            Err(e) if refused_as_documented(op.id, &e) => {}
            Err(e) => problems.push(format!("{}: {e}", op.id)),
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

async fn every_operation(fake: FakeXplenty) {
    let spec = spec();
    let mut problems = Vec::new();
    let client = fake.client();
    for op in xplenty_api::meta::OPERATIONS {
        // Each call sees the fake as it starts: no call depends on another's effects.
        fake.reset();
        let status = match call_documented(&client, op.id).await {
            Ok(status) if status == documented_status(&spec, op) => status,
            Ok(status) => {
                problems.push(format!("{}: answered {status}, not the documented status", op.id));
                continue;
            }
            Err(e) if refused_as_documented(op.id, &e) => continue,
            Err(e) => {
                problems.push(format!("{}: {e}", op.id));
                continue;
            }
        };
        let journal = fake.journal();
        let Some(exchange) = journal.iter().rev().find(|e| e.operation == Some(op.id)) else {
            problems.push(format!("{}: the fake has no record of the call", op.id));
            continue;
        };
        match (response_schema(&spec, op, status), &exchange.response_body) {
            (Some(schema), Some(body)) => {
                let schema = xplenty_gen::to_json_schema(&spec, schema);
                let validator = jsonschema::draft4::new(&schema).expect("the spec's schemas compile");
                for error in validator.iter_errors(body) {
                    problems.push(format!("{} ({status}): {error} at {}", op.id, error.instance_path()));
                }
            }
            (None, None) => {}
            (Some(_), None) => problems.push(format!("{} ({status}): no body where one is documented", op.id)),
            (None, Some(body)) => problems.push(format!("{} ({status}): undocumented body {body}", op.id)),
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
