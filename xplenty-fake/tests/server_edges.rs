//! The fake as a server, on raw connections: truncated and oversize bodies, the order of
//! the key check and the body, idle connections, requests that are not HTTP, and
//! parameters out of range. Every wait is bounded; nothing asserts a duration.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use xplenty_fake::{Clock, FakeXplenty};

/// Bounds every read, so a broken fake fails the test instead of hanging it.
const BOUND: Duration = Duration::from_secs(20);

async fn fake() -> FakeXplenty {
    FakeXplenty::builder()
        .clock(Clock::manual())
        .max_body(1024)
        .idle_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap()
}

fn auth(key: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
}

fn address(fake: &FakeXplenty) -> String {
    fake.base_url().trim_start_matches("http://").to_owned()
}

/// Writes `request`, half-closes when `close` says so, and reads until the fake closes:
/// the status and the JSON body of the first answer (status 0 when none came).
async fn exchange(fake: &FakeXplenty, request: &[u8], close: bool) -> (u16, Value) {
    let mut stream = TcpStream::connect(address(fake)).await.unwrap();
    stream.write_all(request).await.unwrap();
    if close {
        stream.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(BOUND, stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn post_clusters(key: &str, length: usize, body: &str) -> Vec<u8> {
    format!(
        "POST /acme-analytics/api/clusters HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}",
        auth(key)
    )
    .into_bytes()
}

#[tokio::test]
async fn a_body_shorter_than_its_length_is_400_and_changes_nothing() {
    let fake = fake().await;
    let before = fake.snapshot();
    let body = r#"{"nodes": 2, "name": "cut"#;
    let (status, answer) = exchange(&fake, &post_clusters(fake.api_key(), body.len() + 40, body), true).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].is_string());
    assert_eq!(fake.snapshot(), before);
    assert!(fake.journal().iter().all(|e| e.status != 201));
}

#[tokio::test]
async fn the_key_is_checked_before_an_oversize_body_is_refused() {
    let fake = fake().await;
    let big = "x".repeat(4096);
    // A stranger learns nothing about the limit: 401, the body unread.
    let (status, answer) = exchange(&fake, &post_clusters("wrong", big.len(), &big), false).await;
    assert_eq!(status, 401, "{answer}");
    // With the key, the declared length is over the limit: 413 before reading.
    let (status, answer) = exchange(&fake, &post_clusters(fake.api_key(), big.len(), &big), false).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer["message"].is_string());
    // Chunked, with no length declared: refused once the limit is passed.
    let request = format!(
        "POST /acme-analytics/api/clusters HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        auth(fake.api_key()),
        big.len()
    );
    assert_eq!(exchange(&fake, request.as_bytes(), false).await.0, 413);
}

#[tokio::test]
async fn idle_and_silent_connections_are_closed() {
    let fake = fake().await;
    // Silent from the start: closed without an answer.
    let mut stream = TcpStream::connect(address(&fake)).await.unwrap();
    let mut buffer = [0_u8; 64];
    let read = tokio::time::timeout(BOUND, stream.read(&mut buffer)).await.expect("the fake closes it");
    assert_eq!(read.unwrap_or(0), 0);
    // Kept alive after one answer, then idle: closed too.
    let mut stream = TcpStream::connect(address(&fake)).await.unwrap();
    let request = format!(
        "GET /acme-analytics/api/rate_limit_status HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\r\n",
        auth(fake.api_key())
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(BOUND, stream.read_to_end(&mut answer)).await;
    assert!(ended.is_ok(), "the idle connection is closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn requests_that_are_not_http_or_lack_a_host_are_400_with_a_message() {
    let fake = fake().await;
    for garbage in [&b"\xff\xfe GARBAGE\r\n\r\n"[..], b"GET /caf\xc3\xa9\xff HTTP/1.1\r\n\r\n", b"HELLO\r\n\r\n"] {
        let (status, answer) = exchange(&fake, garbage, false).await;
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(garbage));
        assert!(answer["message"].is_string(), "{answer}");
    }
    let request = format!(
        "GET /acme-analytics/api/clusters HTTP/1.1\r\nAuthorization: Basic {}\r\nConnection: close\r\n\r\n",
        auth(fake.api_key())
    );
    let (status, answer) = exchange(&fake, request.as_bytes(), false).await;
    assert_eq!(status, 400);
    assert!(answer["message"].is_string());
}

#[tokio::test]
async fn integers_out_of_range_and_bad_dates_are_4xx() {
    let fake = fake().await;
    let get = |target: &str| {
        format!(
            "GET /acme-analytics/api{target} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nConnection: close\r\n\r\n",
            auth(fake.api_key())
        )
    };
    for target in [
        "/clusters?offset=18446744073709551615",
        "/clusters?offset=18446744073709551614&limit=100",
        "/clusters?limit=99999999999999999999",
        "/clusters/18446744073709551615",
        "/clusters/99999999999999999999999",
        "/jobs?since=yesterday",
    ] {
        let (status, answer) = exchange(&fake, get(target).as_bytes(), false).await;
        assert!((400..500).contains(&status), "{target}: {status} {answer}");
        assert!(answer["message"].is_string(), "{target}");
    }
    let (status, _) = exchange(&fake, get("/jobs?since=2024-05-01T00:00:00Z").as_bytes(), false).await;
    assert_eq!(status, 200);
}
