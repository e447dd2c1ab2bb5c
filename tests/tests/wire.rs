//! What the client really sends and decodes, against a loopback server that records the
//! raw requests: headers, account routing, paging through `Link` headers, error bodies.

use futures::TryStreamExt;
use serde_json::json;
use xplenty_api::{Client, ErrorKind, RetryPolicy, types};
use xplenty_tests::{Reply, TestServer};

const ACCOUNT: &str = "acme-analytics";
const KEY: &str = "k3y-0f-t3st";

fn client(server: &TestServer) -> Client {
    Client::builder(ACCOUNT, KEY).base_url(server.base_url()).build().expect("client for the loopback server")
}

fn cluster(id: u64, status: &str) -> serde_json::Value {
    json!({"id": id, "name": format!("cluster {id}"), "status": status, "nodes": 2, "type": "production"})
}

#[tokio::test]
async fn every_request_carries_the_vendor_accept_header_and_basic_auth() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, cluster(812, "available")));
    client(&server).get_cluster().cluster_id(812_u64).send().await.unwrap();

    let request = server.single_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.target, "/acme-analytics/api/clusters/812");
    assert_eq!(request.header("accept"), Some("application/vnd.xplenty+json; version=2"));
    // base64("k3y-0f-t3st:")
    assert_eq!(request.header("authorization"), Some("Basic azN5LTBmLXQzc3Q6"));
    assert_eq!(request.header("api-version"), None);
    assert!(request.header("user-agent").is_some_and(|ua| ua.starts_with("xplenty-rs/")));
}

#[tokio::test]
async fn a_post_sends_its_body_as_json_and_decodes_the_created_resource() {
    let server = TestServer::start().await;
    server.push(Reply::json(201, cluster(813, "pending")));
    let body = types::ClusterCreate::builder().nodes(3_u64).name("etl".to_owned());
    let created = client(&server).create_cluster().body(body).send().await.unwrap();

    assert_eq!(created.status(), 201);
    assert_eq!(created.id, 813);
    assert_eq!(created.status, types::ClusterStatus::Pending);
    let request = server.single_request();
    assert_eq!((request.method.as_str(), request.path()), ("POST", "/acme-analytics/api/clusters"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.json(), json!({"nodes": 3, "name": "etl"}));
}

#[tokio::test]
async fn query_parameters_reach_the_server() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!([cluster(1, "available")])));
    let clusters = client(&server)
        .list_clusters()
        .status(types::ClusterStatusFilter::Available)
        .direction(types::SortDirection::Asc)
        .offset(20_u64)
        .limit(10_u64)
        .send()
        .await
        .unwrap();

    assert_eq!(clusters.len(), 1);
    let request = server.single_request();
    let mut query: Vec<&str> = request.query().split('&').collect();
    query.sort_unstable();
    assert_eq!(query, ["direction=asc", "limit=10", "offset=20", "status=available"]);
}

#[tokio::test]
async fn stream_all_follows_link_headers_through_every_page() {
    let server = TestServer::start().await;
    let base = server.base_url();
    let link = |next: Option<u64>, prev: u64| {
        let mut parts = vec![format!("<{base}/acme-analytics/api/jobs?offset={prev}&limit=2>; rel=\"prev\"")];
        if let Some(next) = next {
            parts.insert(0, format!("<{base}/acme-analytics/api/jobs?offset={next}&limit=2>; rel=\"next\""));
        }
        parts.join(", ")
    };
    // Page offsets as the server writes them (page indexes, as in the docs' example).
    server.push(
        Reply::json(200, json!([{"id": 1, "status": "completed"}, {"id": 2, "status": "completed"}]))
            .header("link", &link(Some(1), 0)),
    );
    server.push(
        Reply::json(200, json!([{"id": 3, "status": "completed"}, {"id": 4, "status": "completed"}]))
            .header("link", &link(Some(2), 0)),
    );
    server.push(Reply::json(200, json!([{"id": 5, "status": "completed"}])).header("link", &link(None, 1)));

    let jobs: Vec<types::Job> = client(&server).list_jobs().limit(2_u64).stream_all().try_collect().await.unwrap();

    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let queries: Vec<String> = server.requests().iter().map(|r| r.query().to_owned()).collect();
    assert_eq!(queries, ["limit=2&offset=0", "limit=2&offset=1", "limit=2&offset=2"]);
}

#[tokio::test]
async fn stream_all_keeps_the_filters_of_the_builder_on_every_page() {
    let server = TestServer::start().await;
    let next =
        format!("<{}/acme-analytics/api/clusters?offset=100&limit=100&status=error>; rel=\"next\"", server.base_url());
    let page: Vec<_> = (0..100).map(|id| cluster(id, "error")).collect();
    server.push(Reply::json(200, json!(page)).header("link", &next));
    server.push(Reply::json(200, json!([cluster(100, "error")])));

    let all: Vec<types::Cluster> = client(&server)
        .list_clusters()
        .status(types::ClusterStatusFilter::Error)
        .stream_all()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(all.len(), 101);
    let queries: Vec<String> = server.requests().iter().map(|r| r.query().to_owned()).collect();
    assert_eq!(queries, ["limit=100&offset=0&status=error", "limit=100&offset=100&status=error"]);
}

#[tokio::test]
async fn a_json_error_gives_its_status_and_message() {
    let server = TestServer::start().await;
    server.push(
        Reply::json(404, json!({"message": "Cluster not found"}))
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "4990"),
    );
    let error = client(&server).get_cluster().cluster_id(9_u64).send().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.message(), Some("Cluster not found"));
    assert_eq!(error.operation(), "get_cluster");
    assert_eq!(error.rate_limit().map(|r| r.remaining), Some(4990));
    assert!(!error.is_retryable());
    assert_eq!(error.to_string(), "get_cluster: HTTP 404 Not Found: Cluster not found");
}

#[tokio::test]
async fn an_html_502_gives_an_error_carrying_502() {
    let server = TestServer::start().await;
    server.push(Reply::text(502, "text/html", "<html><body>Bad gateway</body></html>"));
    let client = Client::builder(ACCOUNT, KEY)
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let error = client.get_cluster().cluster_id(9_u64).send().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status(), Some(502));
    assert_eq!(error.message(), None);
    assert_eq!(error.body_excerpt(), Some("<html><body>Bad gateway</body></html>"));
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn connection_test_errors_read_error_message() {
    let server = TestServer::start().await;
    server.push(Reply::json(400, json!({"error_message": "Access denied for user"})));
    let error = client(&server).get_cluster().cluster_id(9_u64).send().await.unwrap_err();
    assert_eq!(error.message(), Some("Access denied for user"));
}

#[tokio::test]
async fn an_unknown_status_value_decodes_as_unknown() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 7, "name": "etl", "status": "hibernating", "zone": "mars-1a"})));
    let cluster = client(&server).get_cluster().cluster_id(7_u64).send().await.unwrap();
    assert_eq!(cluster.status, types::ClusterStatus::Unknown("hibernating".to_owned()));
}

#[tokio::test]
async fn a_missing_required_parameter_is_an_invalid_request_and_sends_nothing() {
    let server = TestServer::start().await;
    let error = client(&server).get_cluster().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert!(server.requests().is_empty());
}
#[tokio::test]
async fn global_calls_go_to_the_host_and_account_calls_under_the_account() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 5, "name": "Dana", "email": "dana@example.com"})));
    server.push(Reply::json(200, json!([])));
    let client = client(&server);
    client.get_user().send().await.unwrap();
    client.list_clusters().send().await.unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].target, "/user");
    assert_eq!(requests[1].target, "/acme-analytics/api/clusters");
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it_for_both_scopes() {
    let server = TestServer::start().await;
    server.always(Reply::json(200, json!({"id": 5, "name": "etl", "status": "available"})));
    let client = Client::builder("team one", KEY).base_url(format!("{}/proxy/", server.base_url())).build().unwrap();
    client.get_user().send().await.unwrap();
    client.get_cluster().cluster_id(1_u64).send().await.unwrap();

    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/proxy/user", "/proxy/team%20one/api/clusters/1"]);
}
