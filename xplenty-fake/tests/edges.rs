//! The fake at the edges of the API: credentials, content negotiation, validation,
//! paging of global lists, nested and per-type collections, the budget's hour, faults,
//! and stopping.

use std::time::Duration;

use base64::Engine as _;
use futures::TryStreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xplenty_api::{ErrorKind, RetryPolicy, types};
use xplenty_fake::{FakeXplenty, Fault};

/// What a raw HTTP/1.1 exchange with the fake answered.
struct Raw {
    status: u16,
    head: String,
    body: Value,
}

async fn raw(fake: &FakeXplenty, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Raw {
    let address = fake.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nhost: fake\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer)).await.unwrap().unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Raw { status, head: head.to_lowercase(), body: serde_json::from_str(body).unwrap_or(Value::Null) }
}

fn basic(user_and_password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_and_password))
}

#[tokio::test]
async fn only_the_api_key_as_user_name_gets_in() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).api_key("k-123").start().await.unwrap();
    let path = format!("/{}/api/clusters/812", fake.account_id());
    let vendor = ("accept", "application/vnd.xplenty+json; version=2");
    // The password is ignored and the colon optional, as the service's own clients need.
    for good in [basic("k-123:"), basic("k-123"), basic("k-123:secret")] {
        assert_eq!(raw(&fake, "GET", &path, &[vendor, ("authorization", &good)], None).await.status, 200);
    }
    for credentials in [None, Some(basic("other:")), Some(basic("k-1234")), Some("Bearer k-123".to_owned())] {
        let mut headers = vec![vendor];
        if let Some(credentials) = &credentials {
            headers.push(("authorization", credentials));
        }
        let answer = raw(&fake, "GET", &path, &headers, None).await;
        assert_eq!(answer.status, 401, "{credentials:?}");
        assert!(answer.body["message"].is_string(), "{}", answer.body);
        assert!(answer.head.contains("x-ratelimit-remaining:"), "{}", answer.head);
    }
}

#[tokio::test]
async fn accept_takes_the_vendor_type_json_or_anything() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let path = format!("/{}/api/clusters/812", fake.account_id());
    let key = basic(&format!("{}:", fake.api_key()));
    for (accept, status) in [
        ("application/vnd.xplenty+json; version=2", 200),
        ("application/vnd.xplenty+json", 200),
        ("application/json", 200),
        ("*/*", 200),
        ("text/html, application/json;q=0.5", 200),
        ("application/xml", 406),
        ("text/html", 406),
        ("application/vnd.xplenty+json; version=1", 406),
    ] {
        let answer = raw(&fake, "GET", &path, &[("accept", accept), ("authorization", &key)], None).await;
        assert_eq!(answer.status, status, "{accept}");
        if status == 406 {
            assert!(answer.body["message"].is_string());
        }
    }
}

#[tokio::test]
async fn invalid_fields_are_422_and_unknown_ids_404() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let key = basic(&format!("{}:", fake.api_key()));
    let headers = [("accept", "application/json"), ("authorization", key.as_str())];
    let clusters = format!("/{}/api/clusters", fake.account_id());
    // The generated client cannot even build a cluster without `nodes`: send it raw.
    let answer = raw(&fake, "POST", &clusters, &headers, Some(json!({"name": "no nodes"}))).await;
    assert_eq!((answer.status, answer.body["message"].as_str()), (422, Some("`nodes` is required")));
    let answer = raw(&fake, "POST", &clusters, &headers, Some(json!({"nodes": 0}))).await;
    assert_eq!(answer.status, 422);
    // A union body names its tag and the allowed values, in the CLI's words (one check).
    let hooks = format!("/{}/api/hooks", fake.account_id());
    let refusals = [
        (json!({"name": "no type"}), "`type` is required: one of web, slack, hipchat, email, pagerduty"),
        (json!({"type": "fax"}), "`type` `fax` is not one of web, slack, hipchat, email, pagerduty"),
        (json!({"type": "slack", "events": ["job"]}), "`settings` is required for type slack"),
    ];
    for (body, message) in refusals {
        let answer = raw(&fake, "POST", &hooks, &headers, Some(body.clone())).await;
        assert_eq!((answer.status, answer.body["message"].as_str()), (422, Some(message)), "{body}");
    }

    let client = fake.client_builder().retry_policy(RetryPolicy::disabled()).build().unwrap();
    for (cluster, package) in [(812_u64, 1_u64), (1, 2041)] {
        let run = types::JobRun::builder().cluster_id(cluster).package_id(package);
        let error = client.run_job().body(run).send().await.unwrap_err();
        assert_eq!(error.status(), Some(422), "cluster {cluster}, package {package}");
        assert!(error.message().is_some_and(|m| m.contains("does not exist")), "{error}");
    }
    assert_eq!(client.get_job().job_id(1_u64).send().await.unwrap_err().status(), Some(404));
    // An unknown parent is a 404 too, whatever the call under it.
    assert_eq!(client.list_cluster_instances().cluster_id(1_u64).send().await.unwrap_err().status(), Some(404));
    assert_eq!(raw(&fake, "GET", "/nowhere", &headers, None).await.status, 404);
}

#[tokio::test]
async fn global_lists_page_with_links_at_the_root() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    for n in 0..4 {
        let body = types::PublicKeyCreate::builder().name(format!("key {n}")).public_key("ssh-ed25519 AAAA".to_owned());
        client.create_public_key().body(body).send().await.unwrap();
    }
    let first = client.list_public_keys().limit(2_u64).send().await.unwrap();
    let link = first.headers().get("link").unwrap().to_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("<{}/user/keys?", fake.base_url())), "{link}");
    // 4 created + the seeded example, 3 pages of 2, newest first.
    let all: Vec<types::PublicKey> = client.list_public_keys().limit(2_u64).stream_all().try_collect().await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    // The stream asked for the offsets the Link headers named.
    let offsets: Vec<(String, String)> = fake
        .journal()
        .iter()
        .skip(5)
        .map(|e| {
            let query = e.target.split_once('?').map_or("", |(_, q)| q);
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("0".into(), |(_, v)| v.clone());
            (get("offset"), get("limit"))
        })
        .collect();
    let expected = [("0", "2"), ("2", "2"), ("4", "2")].map(|(o, l)| (o.to_owned(), l.to_owned()));
    assert_eq!(offsets, expected);
    let last = client.list_public_keys().offset(4_u64).limit(2_u64).send().await.unwrap();
    let link = last.headers().get("link").unwrap().to_str().unwrap().to_owned();
    assert!(link.contains("offset=2&limit=2>; rel=\"prev\"") && !link.contains("next"), "{link}");
    let searched: Vec<types::PublicKey> =
        client.search_public_keys().q("KEY 3").stream_all().try_collect().await.unwrap();
    assert_eq!(searched.len(), 1);
}

#[tokio::test]
async fn per_type_and_nested_collections_are_stateful() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let params: types::ConnectionCreate =
        serde_json::from_value(json!({"name": "warehouse", "host": "db.example", "port": 3306})).unwrap();
    let created = client.create_connection().connection_type("mysql").body(params).send().await.unwrap();
    let database = |c: &types::Connection| match c {
        types::Connection::MySql(db) => Some(db.clone()),
        _ => None,
    };
    let created = database(&created).expect("a mysql connection, typed by the path's type");
    assert_eq!(created.name.as_deref(), Some("warehouse"));
    let read = client.get_connection().connection_type("mysql").connection_id(created.id).send().await.unwrap();
    assert_eq!(database(&read).map(|c| c.id), Some(created.id));
    let listed: Vec<types::Connection> = client.list_connections().stream_all().try_collect().await.unwrap();
    assert!(listed.iter().any(|c| database(c).is_some_and(|c| c.id == created.id)) && listed.len() >= 2, "{listed:?}");
    client.delete_connection().connection_type("mysql").connection_id(created.id).send().await.unwrap();
    let gone = client.get_connection().connection_type("mysql").connection_id(created.id).send().await;
    assert_eq!(gone.unwrap_err().status(), Some(404));

    let validation = client.validate_package().package_id(2041_u64).send().await.unwrap();
    let read = client.get_package_validation().package_id(2041_u64).validation_id(validation.id).send().await.unwrap();
    assert_eq!(read.id, validation.id);
    let all = client.list_package_validations().package_id(2041_u64).send().await.unwrap();
    assert!(all.iter().any(|v| v.id == validation.id));
}

#[tokio::test]
async fn a_singleton_keeps_its_updates() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let update = types::UserUpdate::builder().current_password("old".to_owned()).name("Renamed".to_owned());
    client.update_user().body(update).send().await.unwrap();
    let user = client.get_user().send().await.unwrap();
    assert_eq!(user.name.as_deref(), Some("Renamed"));
    let journal = fake.journal();
    let answered = journal.last().and_then(|e| e.response_body.clone()).unwrap();
    assert!(answered.get("current_password").is_none(), "secrets never come back: {answered}");
}

#[tokio::test]
async fn jobs_of_a_chosen_package_fail_and_busy_clusters_stay_available() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client = fake.client();
    let cluster = types::ClusterCreate::builder().nodes(1_u64).time_to_idle(60_u64);
    let cluster = client.create_cluster().body(cluster).send().await.unwrap().id;
    let package = types::PackageCreate::builder().name("healthy".to_owned());
    let healthy = client.create_package().body(package).send().await.unwrap().id;
    fake.fail_jobs_of_package(2041, true);
    fake.advance(Duration::from_secs(10));
    let run = |package: u64| client.run_job().body(types::JobRun::builder().cluster_id(cluster).package_id(package));
    let failing = run(2041).send().await.unwrap().id;
    let passing = run(healthy).send().await.unwrap().id;
    // The jobs end 24 s after they start; the cluster idles 60 s after that, not before.
    fake.advance(Duration::from_secs(80));
    let job = |id: u64| client.get_job().job_id(id).send();
    assert_eq!(job(failing).await.unwrap().status, types::JobStatus::Failed);
    assert_eq!(job(passing).await.unwrap().status, types::JobStatus::Completed);
    let cluster_status = || async { client.get_cluster().cluster_id(cluster).send().await.unwrap().status.clone() };
    assert_eq!(cluster_status().await, types::ClusterStatus::Available);
    fake.advance(Duration::from_secs(10));
    assert_eq!(cluster_status().await, types::ClusterStatus::Idle);
}

#[tokio::test]
async fn the_budget_is_spent_then_refilled_by_the_hour() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).rate_limit(2).start().await.unwrap();
    // Without the client's own budget, which would wait for credits instead of sending.
    let client = fake.client_builder().retry_policy(RetryPolicy::disabled()).rate_budget(None).build().unwrap();
    for remaining in [1, 0] {
        client.get_cluster().cluster_id(812_u64).send().await.unwrap();
        assert_eq!(client.rate_limit().map(|r| r.remaining), Some(remaining));
    }
    let limited = client.get_cluster().cluster_id(812_u64).send().await.unwrap_err();
    assert_eq!((limited.status(), limited.message()), (Some(429), Some("Rate Limit Exceeded")));
    // The status call is free and says so.
    let status = client.get_rate_limit_status().send().await.unwrap();
    assert_eq!(status.limits.as_ref().and_then(|l| l.remaining), Some(0));
    fake.advance(Duration::from_secs(3_600));
    client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    assert_eq!(client.rate_limit().map(|r| (r.limit, r.remaining)), Some((2, 1)));
}

#[tokio::test]
async fn faults_hit_the_next_calls_of_the_chosen_operation_only() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    fake.inject("create_cluster", Fault::Status(500, "boom".into()), 2);
    let client = fake.client();
    let body = || types::ClusterCreate::builder().nodes(1_u64);
    for _ in 0..2 {
        let error = client.create_cluster().body(body()).send().await.unwrap_err();
        assert_eq!((error.status(), error.message()), (Some(500), Some("boom")));
    }
    client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    client.create_cluster().body(body()).send().await.unwrap();
    let statuses: Vec<(Option<&str>, u16)> = fake.journal().iter().map(|e| (e.operation, e.status)).collect();
    assert_eq!(
        statuses,
        [
            (Some("create_cluster"), 500),
            (Some("create_cluster"), 500),
            (Some("get_cluster"), 200),
            (Some("create_cluster"), 201)
        ]
    );
}

#[tokio::test]
async fn stopping_closes_open_connections() {
    let fake = FakeXplenty::builder().clock(xplenty_fake::Clock::manual()).start().await.unwrap();
    let client =
        fake.client_builder().retry_policy(RetryPolicy::disabled()).timeout(Duration::from_secs(2)).build().unwrap();
    client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    fake.stop();
    tokio::task::yield_now().await;
    let error = client.get_cluster().cluster_id(812_u64).send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
}
