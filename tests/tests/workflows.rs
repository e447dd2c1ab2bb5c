//! Workflows against the fake: shared polls, waits that say what they wait for, run and
//! wait, cluster leases, schedules, packages and verified web hooks. Counts come from the
//! fake's journal.

use std::time::Duration;

use serde_json::json;
use xplenty_api::types::{ClusterStatus, JobRun, JobStatus};
use xplenty_api::webhook::{WebhookError, WebhookResource, WebhookVerifier};
use xplenty_api::{Client, WorkflowError};
use xplenty_fake::{Clock, FakeXplenty};
use xplenty_tests::{Reply, TestServer};

const POLL: Duration = Duration::from_millis(100);

fn run() -> JobRun {
    JobRun::builder().cluster_id(812_u64).package_id(2041_u64).try_into().unwrap()
}

fn calls_of(fake: &FakeXplenty, operation: &str) -> usize {
    fake.journal().iter().filter(|e| e.operation == Some(operation)).count()
}

/// Runs `n` jobs and waits for them all on `clients[i % clients.len()]`; the calls spent.
async fn concurrent_waits(fake: &FakeXplenty, clients: &[Client], n: usize) -> usize {
    let before = fake.journal().len();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(clients[i % clients.len()].run_job().body(run()).send().await.unwrap().id);
    }
    let waits = ids.iter().enumerate().map(|(i, id)| {
        let client = &clients[i % clients.len()];
        client.wait_for_job(*id).poll_interval(POLL).deadline(Some(Duration::from_secs(20))).until_done()
    });
    let jobs = futures::future::try_join_all(waits).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == JobStatus::Completed));
    fake.journal().len() - before
}

#[tokio::test]
async fn twenty_concurrent_waits_share_their_polls() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(20.0)).start().await.unwrap();
    let client = fake.client();
    // Clones share the poller too.
    let clients = vec![client.clone(), client.clone(), client];
    let shared = concurrent_waits(&fake, &clients, 20).await;
    let gets = calls_of(&fake, "get_job");
    let lists = calls_of(&fake, "list_jobs");
    // 20 runs, one list a poll (about 13 in 1.2 s), GETs only for what the list misses.
    assert!(shared <= 40, "20 shared waits cost {shared} calls ({lists} lists, {gets} gets)");
    assert_eq!(calls_of(&fake, "run_job"), 20);
    assert!(lists >= 5, "{lists} lists");
    assert!(gets <= 2, "{gets} gets");

    // Separate clients share nothing: one GET a wait and poll, as before.
    fake.reset();
    let separate: Vec<Client> = (0..20).map(|_| fake.client()).collect();
    let alone = concurrent_waits(&fake, &separate, 20).await;
    assert!(alone > 3 * shared, "unshared {alone} calls, shared {shared}");
    println!("20 concurrent waits: {shared} calls shared, {alone} unshared");
}

#[tokio::test]
async fn the_shared_poller_stops_when_its_waits_are_dropped() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(1.0)).start().await.unwrap();
    let client = fake.client();
    let a = client.run_job().body(run()).send().await.unwrap().id;
    let b = client.run_job().body(run()).send().await.unwrap().id;
    let both = futures::future::join(
        client.wait_for_job(a).poll_interval(Duration::from_millis(20)).until_done(),
        client.wait_for_job(b).poll_interval(Duration::from_millis(20)).until_done(),
    );
    assert!(tokio::time::timeout(Duration::from_millis(150), both).await.is_err());
    tokio::time::sleep(Duration::from_millis(60)).await;
    let polls = fake.journal().len();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(fake.journal().len(), polls, "polling went on after every wait was dropped");
    assert!(calls_of(&fake, "list_jobs") >= 2);
}

#[tokio::test]
async fn a_terminated_cluster_is_waited_for_until_terminated() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    // The seeded cluster 812 is available; the terminate takes effect over 5 s of the clock.
    client.terminate_cluster().cluster_id(812_u64).send().await.unwrap();
    let waiting = tokio::spawn(async move {
        client
            .wait_for_cluster(812)
            .until(ClusterStatus::Terminated)
            .poll_interval(Duration::from_millis(10))
            .until_done()
            .await
    });
    let advancing = async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            fake.advance(Duration::from_secs(1));
        }
    };
    let ((), cluster) = tokio::join!(advancing, async { waiting.await.unwrap() });
    assert_eq!(cluster.unwrap().status, ClusterStatus::Terminated);
    let seen: Vec<_> = fake
        .journal()
        .iter()
        .filter(|e| e.operation == Some("get_cluster"))
        .filter_map(|e| e.response_body.as_ref()?.get("status")?.as_str().map(str::to_owned))
        .collect();
    assert!(seen.iter().any(|s| s == "pending_terminate" || s == "terminating"), "{seen:?}");
}

#[tokio::test]
async fn run_and_wait_is_ok_only_when_the_job_completed() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let client = fake.client();
    let job = client.run_job_and_wait(run()).poll_interval(Duration::from_millis(50)).send().await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);

    fake.fail_jobs(true);
    let error = client.run_job_and_wait(run()).poll_interval(Duration::from_millis(50)).send().await.unwrap_err();
    let failed = error.job().expect("the failed job");
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.errors.as_deref().is_some_and(|e| !e.is_empty()), "{failed:?}");
    // Read again with its log summary (the fake answers none for the jobs it runs).
    assert!(fake.journal().iter().any(|e| e.operation == Some("get_job") && e.target.contains("include=log_summary")));
    assert!(error.to_string().contains("failed"), "{error}");
    assert_eq!(calls_of(&fake, "run_job"), 2);
}

#[tokio::test]
async fn a_job_is_stopped_at_the_deadline_and_when_dropped_if_asked() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    // The manual clock does not move: the job stays idle.
    let error = client
        .run_job_and_wait(run())
        .poll_interval(Duration::from_millis(10))
        .deadline(Some(Duration::from_millis(60)))
        .stop_on_drop(true)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, WorkflowError::TimedOut { stopped: true, .. }), "{error}");
    assert_eq!(calls_of(&fake, "terminate_job"), 1);

    let dropped = client.run_job_and_wait(run()).poll_interval(Duration::from_millis(10)).stop_on_drop(true).send();
    assert!(tokio::time::timeout(Duration::from_millis(60), dropped).await.is_err());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while calls_of(&fake, "terminate_job") < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the dropped run's job was not stopped");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Not asked: nothing is stopped.
    let kept = client.run_job_and_wait(run()).poll_interval(Duration::from_millis(10)).send();
    assert!(tokio::time::timeout(Duration::from_millis(40), kept).await.is_err());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(calls_of(&fake, "terminate_job"), 2);
    assert_eq!(calls_of(&fake, "run_job"), 3);
}

#[tokio::test]
async fn a_lease_reuses_a_fitting_cluster_and_releases_only_what_it_created() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let client = fake.client();
    // The seeded cluster 812 has 4 nodes and is available.
    let reused = client.acquire_cluster(4).poll_interval(Duration::from_millis(20)).send().await.unwrap();
    assert_eq!((reused.id(), reused.created()), (812, false));
    assert_eq!(reused.release().await.unwrap().map(|c| c.id), None);
    assert_eq!(calls_of(&fake, "create_cluster") + calls_of(&fake, "terminate_cluster"), 0);

    let lease = client.acquire_cluster(2).name("lease").poll_interval(Duration::from_millis(20)).send().await.unwrap();
    assert!(lease.created());
    assert_eq!(lease.cluster().status, ClusterStatus::Available);
    let released = lease.release().await.unwrap().unwrap();
    assert_eq!(released.status, ClusterStatus::Terminated);
    assert_eq!((calls_of(&fake, "create_cluster"), calls_of(&fake, "terminate_cluster")), (1, 1));
}

#[tokio::test]
async fn a_package_is_found_by_its_exact_name() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let package = client.find_package("orders-to-warehouse").await.unwrap().expect("the spec's example package");
    assert_eq!(package.id, 2041);
    assert!(client.find_package("orders-to").await.unwrap().is_none(), "a part of a name is not a match");
}

#[tokio::test]
async fn a_schedule_run_is_waited_for_through_the_job_it_started() {
    let server = TestServer::start().await;
    let job = |id: u64, status: &str| json!({"id": id, "status": status, "creator": {"type": "Schedule", "id": 55}, "progress": 1.0});
    // Before the run: an older job of the schedule.
    server.push(Reply::json(200, json!([job(3, "completed")])));
    server.push(Reply::json(200, json!({"id": 55, "name": "Nightly load", "status": "enabled"})));
    // After: the new job shows on the second look.
    server.push(Reply::json(200, json!([job(3, "completed")])));
    server.push(Reply::json(200, json!([job(4, "queued"), job(3, "completed")])));
    server.always(Reply::json(200, job(4, "completed")));
    let client = Client::builder("acme-analytics", "key").base_url(server.base_url()).build().unwrap();
    let done = client.run_schedule_and_wait(55).poll_interval(Duration::from_millis(5)).send().await.unwrap();
    assert_eq!((done.id, done.status), (4, JobStatus::Completed));
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|r| r.method == "POST").count(), 1);
    assert_eq!(requests[1].path(), "/acme-analytics/api/schedules/55/run");
    assert_eq!(requests.last().unwrap().path(), "/acme-analytics/api/jobs/4");
}

#[tokio::test]
async fn web_hook_deliveries_of_the_fake_verify_and_decode() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let receiver = TestServer::start().await;
    receiver.always(Reply::json(200, json!({})));
    let url = format!("{}/hooks", receiver.base_url());
    let client = fake.client();
    let body = json!({"type": "web", "name": "receiver", "settings": {"url": url}, "events": ["job"]});
    let hook = client.create_hook().body(serde_json::from_value::<xplenty_api::types::HookCreate>(body).unwrap());
    let hook = serde_json::to_value(hook.send().await.unwrap().into_inner()).unwrap();
    let (hook_id, salt) =
        (hook["id"].as_u64().unwrap(), hook["salt"].as_str().expect("a web hook has a salt").to_owned());
    let job = client.run_job().body(run()).send().await.unwrap().id;
    fake.advance(Duration::from_secs(60));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while receiver.requests().len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "{} notifications", receiver.requests().len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let verifier = WebhookVerifier::new(&url, &salt).hook_id(hook_id);
    let mut events = Vec::new();
    for request in receiver.requests() {
        let event = verifier.verify(request.header("x-hook-signature"), &request.body).unwrap();
        match event.resource {
            WebhookResource::Job(j) => assert_eq!(j.id, job),
            other => panic!("a job event about {other:?}"),
        }
        events.push(event.event.to_string());
    }
    assert_eq!(events, ["job.submitted", "job.started", "job.completed"]);

    let request = &receiver.requests()[0];
    let wrong_salt = WebhookVerifier::new(&url, "not-the-salt");
    assert!(matches!(
        wrong_salt.verify(request.header("x-hook-signature"), &request.body),
        Err(WebhookError::BadSignature)
    ));
    assert!(matches!(verifier.verify(None, &request.body), Err(WebhookError::MissingSignature)));
    let other_hook = WebhookVerifier::new(&url, &salt).hook_id(hook_id + 1);
    assert!(matches!(
        other_hook.verify(request.header("x-hook-signature"), &request.body),
        Err(WebhookError::UnexpectedHook { .. })
    ));
    // The fake's own signature function and ours agree.
    let d = &fake.deliveries()[0];
    assert_eq!(
        xplenty_api::webhook::signature(d.hook_id, &d.event, &url, &salt),
        xplenty_fake::signature(d.hook_id, &d.event, &url, &salt)
    );
}
