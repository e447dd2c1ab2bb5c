//! The fake behaves like the API: lifecycles driven by its clock, paging, and its edges.

use std::time::Duration;

use futures::TryStreamExt;
use xplenty_api::{ErrorKind, RetryPolicy, types};
use xplenty_fake::{FakeXplenty, Fault};

#[tokio::test]
async fn a_new_cluster_becomes_available_and_a_wait_sees_it_through() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let cluster = client.create_cluster().body(types::ClusterCreate::builder().nodes(2_u64)).send().await.unwrap();
    assert_eq!(cluster.status, types::ClusterStatus::Pending);

    fake.advance(Duration::from_secs(3));
    let creating = client.get_cluster().cluster_id(cluster.id).send().await.unwrap();
    assert_eq!(creating.status, types::ClusterStatus::Creating);

    fake.advance(Duration::from_secs(10));
    let ready = client.wait_for_cluster(cluster.id).poll_interval(Duration::from_millis(1)).until_done().await.unwrap();
    assert_eq!(ready.status, types::ClusterStatus::Available);
    assert!(ready.available_since.is_some());
}

#[tokio::test]
async fn an_unused_cluster_goes_idle_and_terminates() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let body = types::ClusterCreate::builder().nodes(2_u64).time_to_idle(60_u64);
    let id = client.create_cluster().body(body).send().await.unwrap().id;
    fake.advance(Duration::from_secs(100));
    assert_eq!(client.get_cluster().cluster_id(id).send().await.unwrap().status, types::ClusterStatus::Idle);

    let terminating = client.terminate_cluster().cluster_id(id).send().await.unwrap();
    assert_eq!(terminating.status, types::ClusterStatus::PendingTerminate);
    fake.advance(Duration::from_secs(3));
    assert_eq!(client.get_cluster().cluster_id(id).send().await.unwrap().status, types::ClusterStatus::Terminating);
    fake.advance(Duration::from_secs(3));
    let gone = client.get_cluster().cluster_id(id).send().await.unwrap();
    assert_eq!(gone.status, types::ClusterStatus::Terminated);
    assert!(gone.terminated_at.is_some());
}

async fn run_job(fake: &FakeXplenty) -> u64 {
    let run = types::JobRun::builder().cluster_id(812_u64).package_id(2041_u64);
    fake.client().run_job().body(run).send().await.unwrap().id
}

#[tokio::test]
async fn a_job_runs_with_rising_progress_then_completes() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let id = run_job(&fake).await;
    let mut seen = Vec::new();
    for _ in 0..30 {
        let job = client.get_job().job_id(id).send().await.unwrap().into_inner();
        seen.push((job.status.clone(), job.progress.unwrap_or(0.0)));
        fake.advance(Duration::from_secs(1));
    }
    let statuses: Vec<String> = seen.iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(statuses.first().map(String::as_str), Some("idle"));
    assert!(statuses.contains(&"queued".to_owned()) && statuses.contains(&"running".to_owned()));
    assert_eq!(statuses.last().map(String::as_str), Some("completed"));
    let progress: Vec<f64> = seen.iter().map(|(_, p)| *p).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {progress:?}");
    assert_eq!(progress.last(), Some(&1.0));
}

#[tokio::test]
async fn jobs_fail_when_asked_and_stop_when_terminated() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    fake.fail_jobs(true);
    let failing = run_job(&fake).await;
    fake.fail_jobs(false);
    let stopping = run_job(&fake).await;
    fake.advance(Duration::from_secs(6));
    assert_eq!(client.terminate_job().job_id(stopping).send().await.unwrap().status, types::JobStatus::PendingStoppage);
    fake.advance(Duration::from_secs(60));
    let failed = client.get_job().job_id(failing).send().await.unwrap();
    assert_eq!(failed.status, types::JobStatus::Failed);
    assert!(failed.errors.is_some());
    assert_eq!(client.get_job().job_id(stopping).send().await.unwrap().status, types::JobStatus::Stopped);
}

#[tokio::test]
async fn created_resources_are_read_back_updated_listed_and_deleted() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let body = types::PackageCreate::builder().name("fake-made".to_owned());
    let package = client.create_package().body(body).send().await.unwrap();
    assert_eq!(client.get_package().package_id(package.id).send().await.unwrap().name, "fake-made");
    let update = types::PackageUpdate::builder().description("changed".to_owned());
    client.update_package().package_id(package.id).body(update).send().await.unwrap();
    assert_eq!(
        client.get_package().package_id(package.id).send().await.unwrap().description.as_deref(),
        Some("changed")
    );
    let found: Vec<types::Package> = client.search_packages().q("fake").stream_all().try_collect().await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [package.id]);
    let archived = client.delete_package().package_id(package.id).send().await.unwrap();
    assert_eq!(archived.status, Some(types::PackageStatus::Archived));

    let key = client
        .create_public_key()
        .body(types::PublicKeyCreate::builder().public_key("ssh-ed25519 AAAA test".to_owned()))
        .send()
        .await
        .unwrap();
    client.delete_public_key().key_id(key.id).send().await.unwrap();
    let missing = client.get_public_key().key_id(key.id).send().await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn watchers_can_be_added_listed_and_removed() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    assert!(client.list_cluster_watchers().cluster_id(812_u64).send().await.unwrap().is_empty());
    client.watch_cluster().cluster_id(812_u64).send().await.unwrap();
    assert_eq!(client.list_cluster_watchers().cluster_id(812_u64).send().await.unwrap().len(), 1);
    assert_eq!(client.unwatch_cluster().cluster_id(812_u64).send().await.unwrap().status(), 204);
    assert!(client.list_cluster_watchers().cluster_id(812_u64).send().await.unwrap().is_empty());
}

#[tokio::test]
async fn lists_page_with_link_headers() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    for _ in 0..6 {
        client.create_cluster().body(types::ClusterCreate::builder().nodes(1_u64)).send().await.unwrap();
    }
    let page = client.list_clusters().limit(3_u64).send().await.unwrap();
    assert_eq!(page.len(), 3);
    let link = page.headers().get("link").unwrap().to_str().unwrap().to_owned();
    assert!(link.contains("offset=3") && link.contains("rel=\"next\""), "{link}");
    // 6 created + the seeded example cluster, in pages of 3.
    let all: Vec<types::Cluster> = client.list_clusters().limit(3_u64).stream_all().try_collect().await.unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(fake.calls(), 6 + 1 + 3);
}

#[tokio::test]
async fn the_edges_of_the_api() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).rate_limit(4).start().await.unwrap();
    // Without the client's own budget, which would wait for credits instead of sending.
    let no_retries = || fake.client_builder().retry_policy(RetryPolicy::disabled()).rate_budget(None);
    let wrong_key = xplenty_api::Client::builder(fake.account_id(), "wrong").base_url(fake.base_url()).build().unwrap();
    assert_eq!(wrong_key.get_cluster().cluster_id(812_u64).send().await.unwrap_err().status(), Some(401));

    let raw = reqwest_get(&fake, "application/xml").await;
    assert_eq!(raw, 406);

    let client = no_retries().build().unwrap();
    let unknown = client.get_cluster().cluster_id(999_999_u64).send().await.unwrap_err();
    assert_eq!((unknown.status(), unknown.message()), (Some(404), Some("Record not found")));
    let invalid = client
        .run_job()
        .body(types::JobRun::builder().cluster_id(1_u64).package_id(2041_u64))
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid.status(), Some(422));
    client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    assert_eq!(client.rate_limit().map(|r| (r.limit, r.remaining)), Some((4, 1)));
    client.get_rate_limit_status().send().await.unwrap();
    client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    let limited = client.get_cluster().cluster_id(812_u64).send().await.unwrap_err();
    assert_eq!((limited.status(), limited.message()), (Some(429), Some("Rate Limit Exceeded")));
}

async fn reqwest_get(fake: &FakeXplenty, accept: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = fake.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /{}/api/clusters/812 HTTP/1.1\r\nhost: fake\r\naccept: {accept}\r\nauthorization: Basic ZmFrZS1hcGkta2V5Og==\r\nconnection: close\r\n\r\n",
        fake.account_id()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn injected_faults_hit_the_chosen_calls() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    fake.inject("get_cluster", Fault::Status(503, "maintenance".into()), 2);
    fake.inject("list_jobs", Fault::Drop, 1);
    fake.inject("get_job", Fault::Delay(Duration::from_millis(50)), 1);
    let client = fake
        .client_builder()
        .retry_policy(RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)))
        .build()
        .unwrap();
    // Two 503s, then the real answer: the client's retries carry it through.
    assert_eq!(client.get_cluster().cluster_id(812_u64).send().await.unwrap().id, 812);
    let once = fake.client_builder().retry_policy(RetryPolicy::disabled()).build().unwrap();
    let dropped = once.list_jobs().send().await.unwrap_err();
    assert_eq!(dropped.kind(), ErrorKind::Transport);
    let started = std::time::Instant::now();
    once.get_job().job_id(90187_u64).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
}
