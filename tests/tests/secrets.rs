//! The API key never shows: not in `Debug` or `Display` of the client, its builder,
//! its state or any error, and not in tracing output. And each call leaves one span
//! with its operation, method, path template, status, attempt and duration.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tracing_subscriber::fmt::format::FmtSpan;
use xplenty_api::{Client, RetryPolicy};
use xplenty_tests::{Reply, TestServer};

const KEY: &str = "TOPSECRET-0123456789abcdef";
/// base64 of "TOPSECRET-0123456789abcdef:", what the Authorization header carries.
const KEY_BASE64: &str = "VE9QU0VDUkVULTAxMjM0NTY3ODlhYmNkZWY6";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_appears_nowhere_and_every_call_has_a_span() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 812, "name": "etl", "status": "available"})));
    server.push(Reply::json(404, json!({"message": "Cluster not found"})));
    server.push(Reply::text(502, "text/html", "<html>proxy</html>"));
    server.push(Reply::text(200, "application/json", "{broken"));
    server.push(Reply::Stall);
    let builder = Client::builder("acme-analytics", KEY)
        .base_url(server.base_url())
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::disabled());
    let mut shown = vec![format!("{builder:?}")];
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));
    shown.push(format!("{:?}", client.rate_limit()));

    let ok = client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    shown.push(format!("{:?}", ok.into_inner()));
    for _ in 0..4 {
        let error = client.get_cluster().cluster_id(812_u64).send().await.unwrap_err();
        shown.push(format!("{error:?}"));
        shown.push(error.to_string());
        shown.push(format!("{:?}", std::error::Error::source(&error)));
    }
    let config_error = Client::builder("", KEY).build().unwrap_err();
    shown.push(format!("{config_error:?} {config_error}"));
    let traced = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    shown.push(traced.clone());

    for text in &shown {
        assert!(!text.contains(KEY) && !text.contains(KEY_BASE64), "the key leaked into: {text}");
    }
    // Requests did carry it, so the search above was not vacuous.
    assert_eq!(server.requests()[0].header("authorization"), Some(format!("Basic {KEY_BASE64}").as_str()));

    let spans: Vec<&str> = traced.lines().filter(|l| l.contains("xplenty.call") && l.contains("close")).collect();
    assert_eq!(spans.len(), 5, "one span per call:\n{traced}");
    assert!(
        spans[0].contains("operation=\"get_cluster\"") || spans[0].contains("operation=get_cluster"),
        "{}",
        spans[0]
    );
    assert!(
        spans[0].contains("path=/clusters/{cluster_id}") || spans[0].contains("path=\"/clusters/{cluster_id}\""),
        "{}",
        spans[0]
    );
    assert!(spans[0].contains("method=GET"), "{}", spans[0]);
    assert!(spans[0].contains("status=200") && spans[0].contains("attempt=1"), "{}", spans[0]);
    assert!(spans[0].contains("duration_ms="), "{}", spans[0]);
    assert!(spans[1].contains("status=404"), "{}", spans[1]);
}
