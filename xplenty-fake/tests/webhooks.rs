//! Web hooks: signed notifications to receivers on 127.0.0.1, retries, and the loopback rule.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use xplenty_fake::{Delivery, FakeXplenty, SIGNATURE_HEADER, signature};

/// One request the receiver got: its signature header and JSON body.
#[derive(Debug)]
struct Received {
    signature: Option<String>,
    body: Value,
}

/// A receiver on 127.0.0.1 that answers `failures` requests with 500, then 200, and
/// reports every request. Returns its URL.
async fn receiver(failures: u32) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (sender, received) = mpsc::unbounded_channel();
    let left = Arc::new(AtomicU32::new(failures));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (sender, left) = (sender.clone(), left.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let (sender, left) = (sender.clone(), left.clone());
                    async move {
                        let signature =
                            request.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                        let body = request.into_body().collect().await?.to_bytes();
                        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let _ = sender.send(Received { signature, body });
                        let failing =
                            left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                        let mut response = hyper::Response::new(Full::new(Bytes::new()));
                        *response.status_mut() =
                            if failing { hyper::StatusCode::INTERNAL_SERVER_ERROR } else { hyper::StatusCode::OK };
                        Ok::<_, hyper::Error>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, received)
}

mod common;
use common::call;

async fn web_hook(fake: &FakeXplenty, url: &str, events: &[&str]) -> Value {
    let body = json!({"type": "web", "name": "test receiver", "settings": {"url": url}, "events": events});
    let (status, hook) = call(fake, reqwest::Method::POST, "/hooks", Some(body)).await;
    assert_eq!(status, 201, "{hook}");
    hook
}

async fn run_job(fake: &FakeXplenty) -> u64 {
    let (status, job) =
        call(fake, reqwest::Method::POST, "/jobs", Some(json!({"cluster_id": 812, "package_id": 2041}))).await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_u64().unwrap()
}

async fn next(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("a notification in time").unwrap()
}

/// Polls the journal of deliveries until `done` holds of it.
async fn deliveries_until(fake: &FakeXplenty, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = fake.deliveries();
        if done(&deliveries) {
            return deliveries;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries so far: {deliveries:#?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_job_hook_is_posted_signed_notifications_up_to_completed() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let (url, mut received) = receiver(0).await;
    let hook = web_hook(&fake, &url, &["job"]).await;
    let hook_id = hook["id"].as_u64().unwrap();
    let salt = hook["salt"].as_str().unwrap().to_owned();
    let job = run_job(&fake).await;

    fake.advance(Duration::from_secs(60));
    let mut events = Vec::new();
    loop {
        let notification = next(&mut received).await;
        let event = notification.body["event"].as_str().unwrap().to_owned();
        assert_eq!(notification.body["hook_id"], json!(hook_id));
        assert_eq!(notification.body["resource"]["id"], json!(job));
        assert_eq!(notification.signature.as_deref(), Some(signature(hook_id, &event, &url, &salt).as_str()));
        events.push(event.clone());
        if event == "job.completed" {
            assert_eq!(notification.body["resource"]["status"], "completed");
            break;
        }
    }
    assert_eq!(events, ["job.submitted", "job.started", "job.completed"]);

    // Independently of the helper: SHA-1 over id, event, url and salt, lowercase hex.
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(format!("{hook_id}job.completed{url}{salt}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(signature(hook_id, "job.completed", &url, &salt), hex);

    let deliveries = deliveries_until(&fake, |d| d.len() == 3).await;
    assert!(deliveries.iter().all(|d| d.succeeded() && d.attempt == 1 && d.url == url && d.hook_id == hook_id));
    // Nothing about clusters: the hook subscribes to jobs only.
    assert!(deliveries.iter().all(|d| d.event.starts_with("job.")));
}

#[tokio::test]
async fn a_cluster_hook_hears_requested_available_and_terminated() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let (url, mut received) = receiver(0).await;
    web_hook(&fake, &url, &["cluster.requested", "cluster.available", "cluster.terminated"]).await;
    let (status, cluster) = call(&fake, reqwest::Method::POST, "/clusters", Some(json!({"nodes": 1}))).await;
    assert_eq!(status, 201);
    fake.advance(Duration::from_secs(20));
    let id = cluster["id"].as_u64().unwrap();
    let (status, _) = call(&fake, reqwest::Method::DELETE, &format!("/clusters/{id}"), None).await;
    assert_eq!(status, 200);
    fake.advance(Duration::from_secs(10));
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(next(&mut received).await.body["event"].as_str().unwrap().to_owned());
    }
    assert_eq!(events, ["cluster.requested", "cluster.available", "cluster.terminated"]);
}

#[tokio::test]
async fn a_hook_outside_loopback_is_refused_and_not_stored() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let (_, before) = call(&fake, reqwest::Method::GET, "/hooks", None).await;
    for url in ["https://hooks.example.com/xplenty", "http://10.0.0.1/hook", "http://localhost.example.com/"] {
        let body = json!({"type": "web", "settings": {"url": url}, "events": ["job"]});
        let (status, answer) = call(&fake, reqwest::Method::POST, "/hooks", Some(body)).await;
        assert_eq!(status, 422, "{url}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("settings.url"), "{answer}");
    }
    let (_, after) = call(&fake, reqwest::Method::GET, "/hooks", None).await;
    assert_eq!(before, after);

    // Names reserved never to resolve, as in the spec's examples, are stored and never
    // sent to.
    let (url, mut received) = receiver(0).await;
    web_hook(&fake, "https://hooks.acme.example/xplenty", &["job"]).await;
    web_hook(&fake, &url, &["job.submitted"]).await;
    run_job(&fake).await;
    fake.advance(Duration::from_millis(100));
    assert_eq!(next(&mut received).await.body["event"], "job.submitted");
    let deliveries = deliveries_until(&fake, |d| !d.is_empty()).await;
    assert!(deliveries.iter().all(|d| d.url == url), "{deliveries:#?}");

    // Loopback in every spelling is fine; so is moving a hook elsewhere on loopback, not
    // outside it.
    for url in ["http://127.0.0.1:9/a", "http://127.1.2.3:9/b", "http://localhost:9/c", "http://[::1]:9/d"] {
        web_hook(&fake, url, &["job"]).await;
    }
    let id = web_hook(&fake, "http://127.0.0.1:9/e", &["job"]).await["id"].as_u64().unwrap();
    let path = format!("/hooks/{id}");
    let moved = json!({"settings": {"url": "http://192.168.1.20/hook"}});
    let (status, answer) = call(&fake, reqwest::Method::PUT, &path, Some(moved)).await;
    assert_eq!(status, 422, "{answer}");
    let (_, stored) = call(&fake, reqwest::Method::GET, &path, None).await;
    assert_eq!(stored["settings"]["url"], "http://127.0.0.1:9/e");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_the_journal_shows_each_attempt() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let (url, mut received) = receiver(2).await;
    let hook_id = web_hook(&fake, &url, &["job.submitted"]).await["id"].as_u64().unwrap();
    run_job(&fake).await;
    fake.advance(Duration::from_millis(100));
    for _ in 0..3 {
        assert_eq!(next(&mut received).await.body["event"], "job.submitted");
    }
    let deliveries = deliveries_until(&fake, |d| d.iter().any(Delivery::succeeded)).await;
    let attempts: Vec<(u32, Option<u16>)> = deliveries.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    assert!(deliveries.iter().all(|d| d.hook_id == hook_id && d.event == "job.submitted"));
}

#[tokio::test]
async fn an_unreachable_receiver_is_given_up_after_the_last_attempt() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    // A port that was free a moment ago: connections are refused.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    web_hook(&fake, &format!("http://127.0.0.1:{port}/gone"), &["job"]).await;
    run_job(&fake).await;
    fake.advance(Duration::from_millis(100));
    let deliveries = deliveries_until(&fake, |d| d.len() as u32 == xplenty_fake::ATTEMPTS).await;
    assert!(deliveries.iter().all(|d| d.status.is_none() && d.error.is_some()), "{deliveries:#?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.deliveries().len() as u32, xplenty_fake::ATTEMPTS, "no attempt beyond the last");
}
