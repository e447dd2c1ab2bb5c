//! Waits end on every terminal state, report changes, respect their deadline, and stop
//! polling when dropped.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use xplenty_api::{Client, WaitError, types};
use xplenty_tests::{Reply, TestServer};

fn client(server: &TestServer) -> Client {
    Client::builder("acme-analytics", "key").base_url(server.base_url()).build().unwrap()
}

fn job(status: &str, progress: f64) -> Reply {
    Reply::json(200, json!({"id": 77, "status": status, "progress": progress}))
}

#[tokio::test]
async fn a_job_wait_ends_on_each_terminal_state() {
    for terminal in ["completed", "failed", "stopped"] {
        let server = TestServer::start().await;
        server.push(job("queued", 0.0));
        server.push(job("running", 0.5));
        server.always(job(terminal, 1.0));
        let done = client(&server).wait_for_job(77).poll_interval(Duration::from_millis(5)).until_done().await.unwrap();
        assert_eq!(done.status.as_str(), terminal);
        assert_eq!(server.requests().len(), 3);
        assert!(server.requests().iter().all(|r| r.target == "/acme-analytics/api/jobs/77"));
    }
}

#[tokio::test]
async fn a_cluster_wait_ends_on_available_error_and_terminated() {
    for terminal in ["available", "error", "terminated"] {
        let server = TestServer::start().await;
        server.push(Reply::json(200, json!({"id": 5, "name": "etl", "status": "pending"})));
        server.push(Reply::json(200, json!({"id": 5, "name": "etl", "status": "creating"})));
        server.always(Reply::json(200, json!({"id": 5, "name": "etl", "status": terminal})));
        let done =
            client(&server).wait_for_cluster(5).poll_interval(Duration::from_millis(5)).until_done().await.unwrap();
        assert_eq!(done.status.as_str(), terminal);
        assert_eq!(server.requests().len(), 3);
    }
}

#[tokio::test]
async fn progress_and_status_changes_are_reported_once_each() {
    let server = TestServer::start().await;
    for (status, progress) in
        [("queued", 0.0), ("queued", 0.0), ("running", 0.25), ("running", 0.25), ("running", 0.75)]
    {
        server.push(job(status, progress));
    }
    server.always(job("completed", 1.0));
    let mut seen = Vec::new();
    client(&server)
        .wait_for_job(77)
        .poll_interval(Duration::from_millis(5))
        .on_event(|event| seen.push((event.resource.status.clone(), event.resource.progress, event.status_changed)))
        .until_done()
        .await
        .unwrap();
    use types::JobStatus::*;
    assert_eq!(
        seen,
        [
            (Queued, Some(0.0), true),
            (Running, Some(0.25), true),
            (Running, Some(0.75), false),
            (Completed, Some(1.0), true)
        ]
    );
}

#[tokio::test]
async fn the_event_stream_ends_after_the_terminal_event() {
    let server = TestServer::start().await;
    server.push(job("running", 0.5));
    server.always(job("completed", 1.0));
    let events: Vec<_> =
        client(&server).wait_for_job(77).poll_interval(Duration::from_millis(5)).events().collect().await;
    assert_eq!(events.len(), 2);
    assert!(events[1].as_ref().unwrap().finished);
}

#[tokio::test]
async fn a_wait_past_its_deadline_says_what_it_last_saw() {
    let server = TestServer::start().await;
    server.always(job("running", 0.5));
    let error = client(&server)
        .wait_for_job(77)
        .poll_interval(Duration::from_millis(20))
        .deadline(Some(Duration::from_millis(100)))
        .until_done()
        .await
        .unwrap_err();
    match error {
        WaitError::TimedOut { last_status, .. } => assert_eq!(last_status.as_deref(), Some("running")),
        other => panic!("expected a timeout, got {other}"),
    }
    let polls = server.requests().len();
    assert!((2..=6).contains(&polls), "{polls} polls in a 100 ms deadline at 20 ms intervals");
}

#[tokio::test]
async fn a_failing_poll_ends_the_wait_with_the_api_error() {
    let server = TestServer::start().await;
    server.always(Reply::json(404, json!({"message": "Job not found"})));
    let error = client(&server).wait_for_job(77).until_done().await.unwrap_err();
    assert!(matches!(&error, WaitError::Api(e) if e.status() == Some(404)), "{error}");
}

#[tokio::test]
async fn dropping_a_wait_stops_polling() {
    let server = TestServer::start().await;
    server.always(job("running", 0.1));
    let client = client(&server);
    let wait = client.wait_for_job(77).poll_interval(Duration::from_millis(10)).until_done();
    assert!(tokio::time::timeout(Duration::from_millis(55), wait).await.is_err());
    // A poll already on the wire when the wait was dropped may still reach the server.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let polls = server.requests().len();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.requests().len(), polls, "polling went on after the wait was dropped");
}

#[tokio::test]
async fn run_job_and_wait_runs_then_polls() {
    let server = TestServer::start().await;
    server.push(Reply::json(201, json!({"id": 77, "status": "idle", "progress": 0.0})));
    server.push(job("running", 0.5));
    server.always(job("completed", 1.0));
    let run = types::JobRun::builder().cluster_id(5_u64).package_id(9_u64);
    let mut events = 0;
    let job = client(&server)
        .run_job_and_wait(run)
        .poll_interval(Duration::from_millis(5))
        .on_event(|_| events += 1)
        .send()
        .await
        .unwrap();
    assert_eq!(job.status, types::JobStatus::Completed);
    assert_eq!(events, 2);
    let requests = server.requests();
    assert_eq!((requests[0].method.as_str(), requests[0].path()), ("POST", "/acme-analytics/api/jobs"));
    assert_eq!(requests[0].json(), json!({"cluster_id": 5, "package_id": 9}));
}
