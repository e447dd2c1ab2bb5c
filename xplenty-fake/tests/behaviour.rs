//! The fake does what the docs say the service does (issue 18, item 3): one test per rule,
//! asserted on the wire.

use std::time::Duration;

use serde_json::{Value, json};
use xplenty_fake::{Clock, FakeXplenty, Seed};

async fn fake() -> FakeXplenty {
    FakeXplenty::builder().clock(Clock::manual()).start().await.expect("start the fake")
}

/// One call on the account's API: the status and the JSON answered (`Null` for none).
async fn call(fake: &FakeXplenty, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/{}/api{path}", fake.base_url(), fake.account_id());
    // reqwest is built without a TLS provider here (see xplenty-api); loopback needs none,
    // but building a client needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = reqwest::Client::new()
        .request(method, url)
        .basic_auth(fake.api_key(), Some(""))
        .header("accept", "application/vnd.xplenty+json; version=2");
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_new_cluster_takes_the_documented_defaults_not_the_examples() {
    let fake = fake().await;
    let (status, cluster) = call(&fake, "POST", "/clusters", Some(json!({"nodes": 2}))).await;
    assert_eq!(status, 201, "{cluster}");
    // sections/create-cluster.md
    assert_eq!(cluster["name"], format!("Cluster {}", cluster["id"]));
    assert_eq!(cluster["description"], "");
    assert_eq!(cluster["terminate_on_idle"], false);
    assert_eq!(cluster["time_to_idle"], 3600);
    assert_eq!(cluster["type"], "production");
    assert_eq!(cluster["bootstrap_actions"], json!([]));
    for invented in ["plan_id", "zone", "region", "master_instance_type"] {
        assert!(cluster.get(invented).is_none(), "{invented} was not sent and has no default: {cluster}");
    }
}

#[tokio::test]
async fn a_job_holds_the_variables_of_its_run_request() {
    let fake = fake().await;
    let (_, plain) = call(&fake, "POST", "/jobs", Some(json!({"cluster_id": 812, "package_id": 2041}))).await;
    assert_eq!(plain["variables"], json!({}));
    let body = json!({"cluster_id": 812, "package_id": 2041, "variables": {"day": "'mon'"}});
    let (_, with) = call(&fake, "POST", "/jobs", Some(body)).await;
    assert_eq!(with["variables"], json!({"day": "'mon'"}));
}

#[tokio::test]
async fn read_only_fields_of_a_request_are_ignored() {
    let fake = fake().await;
    let body = json!({"nodes": 2, "id": 0, "owner_id": 0, "status": "idle", "running_jobs_count": 5,
                      "url": "http://elsewhere/", "created_at": "2000-01-01T00:00:00Z"});
    let (status, cluster) = call(&fake, "POST", "/clusters", Some(body)).await;
    assert_eq!(status, 201, "{cluster}");
    assert_ne!(cluster["id"], 0);
    assert_ne!(cluster["owner_id"], 0);
    assert_eq!(cluster["status"], "pending");
    assert_eq!(cluster["running_jobs_count"], 0);
    assert_ne!(cluster["created_at"], "2000-01-01T00:00:00Z");
    assert!(cluster["url"].as_str().is_some_and(|u| u.starts_with(fake.base_url())));
}

#[tokio::test]
async fn a_finished_job_cannot_be_stopped_and_stays_as_it_was() {
    let fake = fake().await;
    // The seeded job is the spec's failed one.
    let (status, answer) = call(&fake, "DELETE", "/jobs/90187", None).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().is_some_and(|m| m.contains("failed")), "{answer}");
    assert_eq!(call(&fake, "GET", "/jobs/90187", None).await.1["status"], "failed");

    let (_, job) = call(&fake, "POST", "/jobs", Some(json!({"cluster_id": 812, "package_id": 2041}))).await;
    let path = format!("/jobs/{}", job["id"]);
    fake.advance(Duration::from_secs(60));
    assert_eq!(call(&fake, "DELETE", &path, None).await.0, 422);
    let after = call(&fake, "GET", &path, None).await.1;
    assert_eq!(after["status"], "completed");
    assert_eq!(after["progress"], 1.0);
}

#[tokio::test]
async fn a_terminated_cluster_stays_terminated_and_runs_no_job() {
    let fake = fake().await;
    let (_, cluster) = call(&fake, "POST", "/clusters", Some(json!({"nodes": 2}))).await;
    let path = format!("/clusters/{}", cluster["id"]);
    assert_eq!(call(&fake, "DELETE", &path, None).await.0, 200);
    // Asked again while it goes: answered as it is.
    assert_eq!(call(&fake, "DELETE", &path, None).await.1["status"], "pending_terminate");
    fake.advance(Duration::from_secs(60));
    let (status, answer) = call(&fake, "DELETE", &path, None).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(call(&fake, "GET", &path, None).await.1["status"], "terminated");

    let run = json!({"cluster_id": cluster["id"], "package_id": 2041});
    let (status, answer) = call(&fake, "POST", "/jobs", Some(run)).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().is_some_and(|m| m.contains("terminated")), "{answer}");
}

#[tokio::test]
async fn a_clone_is_stored_under_a_new_id() {
    let fake = fake().await;
    let (status, first) = call(&fake, "POST", "/schedules/55/clone", None).await;
    assert_eq!(status, 201, "{first}");
    let (_, second) = call(&fake, "POST", "/schedules/55/clone", None).await;
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["id"], 55);
    let path = format!("/schedules/{}", first["id"]);
    let (status, stored) = call(&fake, "GET", &path, None).await;
    assert_eq!(status, 200);
    assert!(stored["name"].as_str().is_some_and(|n| n.starts_with("Copy of ")), "{stored}");
    assert_eq!(call(&fake, "DELETE", &path, None).await.0, 200);
}

#[tokio::test]
async fn running_a_schedule_starts_a_job_that_the_client_waits_for() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(1_000.0)).start().await.unwrap();
    let client = fake.client();
    let job = client
        .run_schedule_and_wait(55)
        .poll_interval(Duration::from_millis(10))
        .deadline(Some(Duration::from_secs(30)))
        .send()
        .await
        .expect("the schedule's job completes");
    let creator = job.creator.expect("a creator");
    assert_eq!(creator.id, Some(55));
    assert_eq!(creator.type_, Some(xplenty_api::types::CreatorType::Schedule));
    let (_, schedule) = call(&fake, "GET", "/schedules/55", None).await;
    assert!(schedule["execution_count"].as_u64().is_some_and(|n| n >= 1), "{schedule}");
}

#[tokio::test]
async fn lists_honour_sort_direction_since_and_status() {
    let fake = fake().await;
    let run = || Some(json!({"cluster_id": 812, "package_id": 2041}));
    fake.advance(Duration::from_secs(86_400 * 800));
    let (_, older) = call(&fake, "POST", "/jobs", run()).await;
    fake.advance(Duration::from_secs(60));
    let (_, newer) = call(&fake, "POST", "/jobs", run()).await;
    let ids = |list: Value| list.as_array().unwrap().iter().map(|j| j["id"].clone()).collect::<Vec<_>>();

    let desc = ids(call(&fake, "GET", "/jobs?sort=created&direction=desc", None).await.1);
    assert_eq!(&desc[..2], &[newer["id"].clone(), older["id"].clone()]);
    let asc = ids(call(&fake, "GET", "/jobs?sort=created&direction=asc", None).await.1);
    assert_eq!(asc.last(), Some(&newer["id"]));
    // The default is newest first (sections/list-jobs.md).
    assert_eq!(ids(call(&fake, "GET", "/jobs", None).await.1)[0], newer["id"]);

    let since = newer["created_at"].as_str().unwrap();
    let recent = ids(call(&fake, "GET", &format!("/jobs?since={since}"), None).await.1);
    assert_eq!(recent, vec![newer["id"].clone()]);

    let failed = ids(call(&fake, "GET", "/jobs?status=failed", None).await.1);
    assert_eq!(failed, vec![json!(90187)]);
}

#[tokio::test]
async fn searches_read_field_terms_and_name_terms() {
    let fake = fake().await;
    let (_, found) = call(&fake, "GET", "/jobs/search?q=status:failed", None).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let (_, none) = call(&fake, "GET", "/jobs/search?q=status:running", None).await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn a_job_log_is_that_jobs_own() {
    let fake = fake().await;
    let (_, job) = call(&fake, "POST", "/jobs", Some(json!({"cluster_id": 812, "package_id": 2041}))).await;
    let (status, log) = call(&fake, "GET", &format!("/jobs/{}/log", job["id"]), None).await;
    assert_eq!(status, 200, "{log}");
    assert!(log["body"].as_str().is_some_and(|b| b.contains(&format!("job {}", job["id"]))), "{log}");
    let (_, seeded) = call(&fake, "GET", "/jobs/90187/log", None).await;
    assert_ne!(seeded["body"], log["body"]);
}

#[tokio::test]
async fn seeded_items_point_at_the_fake() {
    let fake = fake().await;
    let (_, cluster) = call(&fake, "GET", "/clusters/812", None).await;
    assert_eq!(cluster["url"], format!("{}/{}/api/clusters/812", fake.base_url(), fake.account_id()));
}

#[tokio::test]
async fn an_empty_seed_starts_with_no_items() {
    let fake = FakeXplenty::builder().seed(Seed::Empty).start().await.unwrap();
    assert_eq!(call(&fake, "GET", "/clusters", None).await.1, json!([]));
    assert_eq!(call(&fake, "GET", "/clusters/812", None).await.0, 404);
    fake.reset();
    assert_eq!(call(&fake, "GET", "/jobs", None).await.1, json!([]));
}

#[tokio::test]
async fn an_update_is_read_against_the_stored_type() {
    let fake = fake().await;
    let hook = json!({"type": "hipchat", "events": ["job.failed"], "settings": {"room": "data", "auth_token": "t"}});
    let (status, created) = call(&fake, "POST", "/hooks", Some(hook)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "data", "resources/hooks/hip-chat-hook.md: the room names the hook");
    let path = format!("/hooks/{}", created["id"]);
    let pagerduty = json!({"settings": {"pd_account": "acme", "service_name": "etl", "service_key": "k"}});
    let (status, answer) = call(&fake, "PUT", &path, Some(pagerduty)).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().is_some_and(|m| m.contains("settings.pd_account")), "{answer}");
    let (status, renamed) = call(&fake, "PUT", &path, Some(json!({"settings": {"room": "ops"}}))).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["settings"]["room"], "ops");
}

#[tokio::test]
async fn a_huge_offset_is_an_empty_page() {
    let fake = fake().await;
    let max = u64::MAX;
    let (status, page) = call(&fake, "GET", &format!("/clusters?offset={max}&limit=100"), None).await;
    assert!(status == 200 || (400..500).contains(&status), "{status} {page}");
    if status == 200 {
        assert_eq!(page, json!([]));
    }
}
