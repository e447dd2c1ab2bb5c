//! Injected faults against a loopback server the test controls: what each one ends in,
//! and how many requests the server saw. No test depends on timing beyond bounds.

use std::time::Duration;

use serde_json::json;
use xplenty_api::{Client, ClientBuilder, ErrorKind, RateBudget, RetryPolicy, types};
use xplenty_tests::{Reply, TestServer};

const KEY: &str = "sEcReT-kEy-4242";

fn builder(server: &TestServer) -> ClientBuilder {
    Client::builder("acme-analytics", KEY)
        .base_url(server.base_url())
        .retry_policy(fast_retries())
        .timeout(Duration::from_secs(5))
}

/// The default policy with short delays, so retries do not slow the suite.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_max_attempts(3).with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

fn client(server: &TestServer) -> Client {
    builder(server).build().unwrap()
}

fn cluster() -> serde_json::Value {
    json!({"id": 812, "name": "etl", "status": "available", "nodes": 2})
}

async fn get(client: &Client) -> Result<types::Cluster, xplenty_api::Error> {
    client.get_cluster().cluster_id(812_u64).send().await.map(|r| r.into_inner())
}

async fn post(client: &Client) -> Result<types::Cluster, xplenty_api::Error> {
    client.create_cluster().body(types::ClusterCreate::builder().nodes(1_u64)).send().await.map(|r| r.into_inner())
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_that_delay() {
    let server = TestServer::start().await;
    server.push(Reply::json(429, json!({"message": "Rate Limit Exceeded"})).header("retry-after", "1"));
    server.push(Reply::json(200, cluster()));
    let started = std::time::Instant::now();
    assert_eq!(get(&client(&server)).await.unwrap().id, 812);
    assert!(started.elapsed() >= Duration::from_millis(900), "Retry-After: 1 was not honoured");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_429_with_an_http_date_retry_after_is_retried() {
    let server = TestServer::start().await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(1)).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    server.push(Reply::text(429, "text/plain", "").header("retry-after", &at));
    server.push(Reply::json(200, cluster()));
    assert!(get(&client(&server)).await.is_ok());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_429_without_retry_after_is_retried_with_backoff_even_for_a_post() {
    let server = TestServer::start().await;
    server.push(Reply::text(429, "text/plain", ""));
    server.push(Reply::json(201, cluster()));
    assert!(post(&client(&server)).await.is_ok());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body, "the retry re-sends the same body");
}

#[tokio::test]
async fn gateway_errors_are_retried_until_the_attempt_cap_whatever_the_body() {
    for (status, body) in [(502, "<html>bad gateway</html>"), (503, ""), (504, r#"{"message": "upstream timed out"}"#)]
    {
        let server = TestServer::start().await;
        server.always(Reply::text(status, if body.starts_with('{') { "application/json" } else { "text/html" }, body));
        let error = get(&client(&server)).await.unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.kind(), ErrorKind::Status);
        assert_eq!(error.attempts(), 3);
        assert!(error.is_retryable());
        assert_eq!(server.requests().len(), 3, "status {status}");
        if body.starts_with('{') {
            assert_eq!(error.message(), Some("upstream timed out"));
        } else {
            assert_eq!(error.body_excerpt(), Some(body));
        }
    }
}

#[tokio::test]
async fn a_500_is_not_retried_and_keeps_its_status() {
    for body in ["<html>oops</html>", "", r#"{"message": "Internal error"}"#] {
        let server = TestServer::start().await;
        server.always(Reply::text(500, "text/html", body));
        let error = get(&client(&server)).await.unwrap_err();
        assert_eq!(error.status(), Some(500));
        assert!(!error.is_retryable());
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn any_status_code_is_an_error_with_that_status() {
    for status in [418, 504, 999, 302] {
        let server = TestServer::start().await;
        server.always(Reply::text(status, "text/plain", "teapot"));
        let client = builder(&server).retry_policy(RetryPolicy::disabled()).build().unwrap();
        let error = get(&client).await.unwrap_err();
        assert_eq!((error.kind(), error.status()), (ErrorKind::Status, Some(status)));
    }
}

#[tokio::test]
async fn a_reset_before_the_answer_is_retried_for_a_get() {
    let server = TestServer::start().await;
    server.push(Reply::Reset);
    server.push(Reply::json(200, cluster()));
    assert!(get(&client(&server)).await.is_ok());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_reset_during_the_body_is_retried_for_a_get() {
    let server = TestServer::start().await;
    let body = cluster().to_string().into_bytes();
    server.push(Reply::Truncate { status: 200, body: body.clone(), send: body.len() / 2 });
    server.push(Reply::json(200, cluster()));
    assert!(get(&client(&server)).await.is_ok());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_ambiguous_post_failure_is_not_retried_by_default() {
    for fault in [Reply::Reset, Reply::text(502, "text/html", "<html>bad gateway</html>")] {
        let server = TestServer::start().await;
        server.push(fault.clone());
        server.push(Reply::json(201, cluster()));
        let error = post(&client(&server)).await.unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Transport | ErrorKind::Status), "{error}");
        assert_eq!(server.requests().len(), 1, "a POST that may have acted was sent again");
    }
}

#[tokio::test]
async fn an_ambiguous_post_failure_is_retried_when_the_caller_opts_in() {
    let server = TestServer::start().await;
    server.push(Reply::Reset);
    server.push(Reply::json(201, cluster()));
    let client = builder(&server).retry_policy(fast_retries().retry_non_idempotent(true)).build().unwrap();
    assert!(post(&client).await.is_ok());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start().await;
    server.always(Reply::Stall);
    let client = builder(&server).timeout(Duration::from_millis(200)).build().unwrap();
    let started = std::time::Instant::now();
    let error = get(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.attempts(), 3);
    assert_eq!(server.requests().len(), 3);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_overall_deadline_stops_retries() {
    let server = TestServer::start().await;
    server.always(Reply::text(503, "text/plain", "").header("retry-after", "30"));
    let policy = fast_retries().with_max_attempts(10).with_deadline(Some(Duration::from_secs(2)));
    let client = builder(&server).retry_policy(policy).build().unwrap();
    let error = get(&client).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(server.requests().len(), 1, "a 30 s Retry-After does not fit a 2 s deadline");
}

#[tokio::test]
async fn truncated_and_malformed_json_are_decode_errors_with_status_and_excerpt() {
    for body in [r#"{"id": 812, "stat"#, "{not json at all}", r#"{"id": "eight"}"#] {
        let server = TestServer::start().await;
        server.always(Reply::text(200, "application/vnd.xplenty+json", body));
        let error = get(&client(&server)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{body}");
        assert_eq!(error.status(), Some(200));
        assert_eq!(error.body_excerpt(), Some(body));
        assert!(error.to_string().starts_with("get_cluster: HTTP 200 OK could not be decoded"), "{error}");
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn unknown_enum_values_and_unknown_fields_decode() {
    let server = TestServer::start().await;
    server.push(Reply::json(
        200,
        json!({"id": 3, "name": "etl", "status": "defrosting", "type": "quantum", "colour": "teal", "nested": {"a": [1]}}),
    ));
    let cluster = get(&client(&server)).await.unwrap();
    assert_eq!(cluster.status, types::ClusterStatus::Unknown("defrosting".into()));
    assert_eq!(cluster.type_, Some(types::ClusterType::Unknown("quantum".into())));
}

#[tokio::test]
async fn null_in_every_optional_field_decodes() {
    let spec = xplenty_gen::load(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/xplenty.yaml")).unwrap(),
    )
    .unwrap()
    .raw;
    for (schema, operation) in [("Cluster", "get_cluster"), ("Job", "get_job")] {
        let properties = spec["components"]["schemas"][schema]["properties"].as_object().unwrap();
        let required = spec["components"]["schemas"][schema]["required"].as_array().unwrap();
        let mut body: serde_json::Map<String, serde_json::Value> = properties
            .keys()
            .filter(|k| !required.iter().any(|r| r == *k))
            .map(|k| (k.clone(), serde_json::Value::Null))
            .collect();
        // The required fields, with a value each: only the optional ones are null.
        body.insert("id".into(), json!(1));
        body.insert("status".into(), json!("available"));
        if required.iter().any(|r| r == "name") {
            body.insert("name".into(), json!("etl"));
        }
        let server = TestServer::start().await;
        server.always(Reply::json(200, serde_json::Value::Object(body)));
        let client = client(&server);
        let result = match operation {
            "get_cluster" => client.get_cluster().cluster_id(1_u64).send().await.map(drop),
            _ => client.get_job().job_id(1_u64).send().await.map(drop),
        };
        assert!(result.is_ok(), "{schema} with every optional field null: {:?}", result.err());
    }
}

#[tokio::test]
async fn rate_limit_figures_are_readable_from_the_client_and_errors() {
    let server = TestServer::start().await;
    server
        .push(Reply::json(200, cluster()).header("X-RateLimit-Limit", "5000").header("X-RateLimit-Remaining", "4321"));
    server.push(
        Reply::json(404, json!({"message": "nope"}))
            .header("X-RateLimit-Limit", "5000")
            .header("X-RateLimit-Remaining", "4320"),
    );
    let client = client(&server);
    get(&client).await.unwrap();
    assert_eq!(client.rate_limit().map(|r| (r.limit, r.remaining)), Some((5000, 4321)));
    let error = get(&client).await.unwrap_err();
    assert_eq!(error.rate_limit().map(|r| r.remaining), Some(4320));
    assert_eq!(client.clone().rate_limit().map(|r| r.remaining), Some(4320), "clones share the figures");
}

#[tokio::test]
async fn a_call_budget_is_never_exceeded_and_is_shared_by_clones() {
    let server = TestServer::start().await;
    server.always(Reply::json(200, cluster()));
    let client = builder(&server).rate_budget(Some(RateBudget::new(3, Duration::from_secs(3600)))).build().unwrap();
    let clone = client.clone();
    get(&client).await.unwrap();
    get(&clone).await.unwrap();
    get(&client).await.unwrap();
    // The fourth call waits for a credit (about 20 minutes away) instead of being sent.
    let fourth = tokio::time::timeout(Duration::from_millis(300), get(&clone)).await;
    assert!(fourth.is_err(), "the fourth call was not held back");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn the_server_figures_shrink_the_budget() {
    let server = TestServer::start().await;
    server.always(Reply::json(200, cluster()).header("X-RateLimit-Limit", "5000").header("X-RateLimit-Remaining", "1"));
    let budget = RateBudget::xplenty_default();
    let client = builder(&server).rate_budget(Some(budget.clone())).build().unwrap();
    get(&client).await.unwrap();
    assert!(budget.available() <= 1, "budget still has {} credits", budget.available());
}

#[tokio::test]
async fn plain_http_is_refused_unless_loopback_or_allowed() {
    let refused = Client::builder("acme", KEY).base_url("http://api.example.com").build().unwrap_err();
    assert!(matches!(refused, xplenty_api::ConfigError::InsecureBaseUrl { .. }), "{refused}");
    assert!(Client::builder("acme", KEY).base_url("http://api.example.com").allow_insecure_http(true).build().is_ok());
    assert!(Client::builder("acme", KEY).base_url("http://127.0.0.1:9").build().is_ok());
    assert!(Client::builder("acme", KEY).base_url("http://[::1]:9").build().is_ok());
    assert!(Client::builder("acme", KEY).base_url("http://localhost:9").build().is_ok());
}
