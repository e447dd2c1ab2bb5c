//! Used as a downstream crate would: a client on the caller's own `reqwest::Client`, and
//! the crate root naming only the intended surface.

use std::time::Duration;

use serde_json::json;
use xplenty_api::Client;
use xplenty_tests::{Reply, TestServer};

/// The caller's client, built as the caller's crate builds it: xplenty-api's features
/// leave reqwest with a crypto provider, so nothing is installed first (see the
/// `xplenty-downstream` fixture crate).
fn callers(builder: reqwest::ClientBuilder) -> reqwest::Client {
    builder.build().unwrap()
}

#[tokio::test]
async fn a_callers_http_client_carries_its_own_headers_and_still_our_auth_accept_and_timeout() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 812, "name": "etl", "status": "available", "nodes": 2})));
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-corporate-proxy-tag", reqwest::header::HeaderValue::from_static("team-data"));
    let http = reqwest::Client::builder()
        .user_agent("acme-etl/3.1")
        .default_headers(defaults)
        // Longer than ours: the builder's per-attempt timeout must still apply.
        .timeout(Duration::from_secs(3600));
    let http = callers(http);
    let client =
        Client::builder("acme-analytics", "k3y-0f-t3st").base_url(server.base_url()).http_client(http).build().unwrap();

    let cluster = client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    assert_eq!(cluster.id, 812);
    let request = server.single_request();
    // The caller's client was the one used: its default header and user agent are there.
    assert_eq!(request.header("x-corporate-proxy-tag"), Some("team-data"));
    assert_eq!(request.header("user-agent"), Some("acme-etl/3.1"));
    // Ours still apply: auth, the vendor Accept, no progenitor header, the account path.
    assert_eq!(request.header("authorization"), Some("Basic azN5LTBmLXQzc3Q6"));
    assert_eq!(request.header("accept"), Some("application/vnd.xplenty+json; version=2"));
    assert_eq!(request.header("api-version"), None);
    assert_eq!(request.target, "/acme-analytics/api/clusters/812");
}

#[tokio::test]
async fn our_timeout_applies_on_a_callers_client() {
    let server = TestServer::start().await;
    server.always(Reply::Stall);
    let http = callers(reqwest::Client::builder().timeout(Duration::from_secs(3600)));
    let client = Client::builder("acme-analytics", "k3y-0f-t3st")
        .base_url(server.base_url())
        .http_client(http)
        .timeout(Duration::from_millis(200))
        .retry_policy(xplenty_api::RetryPolicy::disabled())
        .build()
        .unwrap();
    let error = client.get_cluster().cluster_id(812_u64).send().await.unwrap_err();
    assert_eq!(error.kind(), xplenty_api::ErrorKind::Timeout);
}

#[tokio::test]
async fn a_user_agent_set_on_the_builder_wins_over_the_callers() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 812, "name": "etl", "status": "available", "nodes": 2})));
    let http = callers(reqwest::Client::builder().user_agent("acme-etl/3.1"));
    let client = Client::builder("acme-analytics", "k3y-0f-t3st")
        .base_url(server.base_url())
        .http_client(http)
        .user_agent("acme-etl/3.1 (via xplenty-rs)")
        .build()
        .unwrap();
    client.get_cluster().cluster_id(812_u64).send().await.unwrap();
    assert_eq!(server.single_request().header("user-agent"), Some("acme-etl/3.1 (via xplenty-rs)"));
}

/// The names `xplenty-api/src/lib.rs` makes public at the crate root (`pub mod`, `pub use`,
/// `pub const`, ...), read from the source: modules that only the generated code uses
/// must stay private.
fn root_names() -> Vec<String> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../xplenty-api/src/lib.rs")).unwrap();
    let mut names = Vec::new();
    let mut depth = 0_i32;
    let mut pending_use = String::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("").trim();
        let at_root = depth == 0;
        depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
        if !pending_use.is_empty() {
            pending_use.push_str(code);
        } else if at_root && code.starts_with("pub use ") {
            pending_use = code.to_owned();
        } else if at_root && code.starts_with("pub ") {
            let mut words = code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
            words.next(); // pub
            let _kind = words.next();
            names.extend(words.next().map(str::to_owned));
            continue;
        }
        if !pending_use.is_empty() && pending_use.ends_with(';') {
            let path = pending_use.trim_start_matches("pub use ").trim_end_matches(';');
            let leaves = match path.split_once('{') {
                Some((_, list)) => list.trim_end_matches('}').split(',').map(str::to_owned).collect::<Vec<_>>(),
                None => vec![path.rsplit("::").next().unwrap().to_owned()],
            };
            names.extend(leaves.into_iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()));
            pending_use.clear();
        }
    }
    names.sort();
    names
}

#[test]
fn the_crate_root_names_the_intended_surface_and_no_internal_module() {
    let mut intended = vec![
        "Client",
        "ClientBuilder",
        "ConfigError",
        "Error",
        "ErrorKind",
        "types",
        "builder",
        "ResponseValue",
        "RetryPolicy",
        "RateBudget",
        "RateLimit",
        "Wait",
        "JobWait",
        "ClusterWait",
        "WaitEvent",
        "WaitError",
        "WorkflowError",
        "RunAndWait",
        "ClusterRequest",
        "ClusterLease",
        "webhook",
        "meta",
        "DEFAULT_BASE_URL",
        // Hidden from the docs: the refusals the CLI and the fake share.
        "body_rules",
    ];
    intended.sort_unstable();
    assert_eq!(root_names(), intended);
    // What the generated code uses compiles through `crate::` paths, not the surface.
    for internal in ["call", "decode", "open_enum", "pagination", "ClientState", "Waitable", "OPERATIONS"] {
        assert!(!root_names().iter().any(|n| n == internal), "{internal} is public at the root");
    }
    // The operation table is under `meta`.
    assert!(xplenty_api::meta::operation("get_cluster").is_some());
    assert_eq!(xplenty_api::meta::ACCEPT_VALUE, "application/vnd.xplenty+json; version=2");
}
