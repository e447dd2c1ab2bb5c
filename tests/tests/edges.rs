//! The client at the edges: hostile or unlucky answers and extreme settings, each against
//! a loopback server the test controls. Nothing here may panic, loop or sleep past its
//! deadline; counts of requests say what went over the wire.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xplenty_api::{Client, ClientBuilder, ConfigError, ErrorKind, RateBudget, RetryPolicy, WaitError, types};
use xplenty_tests::{Reply, TestServer};

const KEY: &str = "sEcReT-kEy-4242";

fn builder(server: &TestServer) -> ClientBuilder {
    Client::builder("acme-analytics", KEY)
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::default().with_backoff(Duration::from_millis(5), Duration::from_millis(20)))
        .timeout(Duration::from_secs(5))
}

fn client(server: &TestServer) -> Client {
    builder(server).build().unwrap()
}

fn cluster(id: u64) -> serde_json::Value {
    json!({"id": id, "name": "nightly", "status": "available", "nodes": 2})
}

async fn get(client: &Client) -> Result<types::Cluster, xplenty_api::Error> {
    client.get_cluster().cluster_id(812_u64).send().await.map(|r| r.into_inner())
}

async fn post(client: &Client) -> Result<types::Cluster, xplenty_api::Error> {
    client.create_cluster().body(types::ClusterCreate::builder().nodes(1_u64)).send().await.map(|r| r.into_inner())
}

fn busy(retry_after: &str) -> Reply {
    Reply::json(429, json!({"message": "Rate Limit Exceeded"}))
        .header("retry-after", retry_after)
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "0")
}

// ------------------------------------------------------------------ 1, 2: times

#[tokio::test]
async fn a_huge_retry_after_in_seconds_ends_the_call_at_once_with_its_429() {
    for asked in ["18446744073709551615", "99999999999999999999999999999", "86400"] {
        let server = TestServer::start().await;
        server.push(busy(asked));
        server.always(Reply::json(200, cluster(812)));
        let error = get(&client(&server)).await.unwrap_err();
        assert!(error.is_rate_limited(), "{asked}: {error}");
        assert!(error.retry_after().unwrap() >= Duration::from_secs(86400), "{asked}");
        assert_eq!(error.rate_limit().map(|r| r.remaining), Some(0));
        assert!(error.is_retryable());
        assert_eq!(server.requests().len(), 1, "{asked}: the call slept or re-sent");
    }
}

#[tokio::test]
async fn an_http_date_far_ahead_ends_the_call_and_one_in_the_past_is_retried_now() {
    let server = TestServer::start().await;
    server.push(busy("Fri, 31 Dec 9999 23:59:59 GMT"));
    let error = get(&client(&server)).await.unwrap_err();
    assert_eq!((error.status(), server.requests().len()), (Some(429), 1));
    assert!(error.retry_after().unwrap() > Duration::from_secs(86400 * 365 * 1000));

    let server = TestServer::start().await;
    server.push(busy("Mon, 01 Jan 1900 00:00:00 GMT"));
    server.push(Reply::json(200, cluster(812)));
    assert_eq!(get(&client(&server)).await.unwrap().id, 812);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_time_left_or_the_cap_is_not_slept() {
    let server = TestServer::start().await;
    server.push(busy("3"));
    let policy = RetryPolicy::default().with_deadline(Some(Duration::from_secs(1)));
    let error = get(&builder(&server).retry_policy(policy).build().unwrap()).await.unwrap_err();
    assert_eq!((error.retry_after(), server.requests().len()), (Some(Duration::from_secs(3)), 1));

    let server = TestServer::start().await;
    server.push(busy("3"));
    let policy = RetryPolicy::default().with_deadline(None).with_max_retry_after(Duration::from_secs(2));
    let error = get(&builder(&server).retry_policy(policy).build().unwrap()).await.unwrap_err();
    assert_eq!((error.status(), error.attempts(), server.requests().len()), (Some(429), 1, 1));
}

#[tokio::test]
async fn the_rate_budget_wait_counts_against_the_deadline() {
    let server = TestServer::start().await;
    server.push(Reply::text(503, "text/plain", "busy"));
    server.always(Reply::json(200, cluster(812)));
    // One credit an hour: the retry would wait about an hour for the next.
    let client = builder(&server)
        .retry_policy(RetryPolicy::default().with_deadline(Some(Duration::from_secs(1))))
        .rate_budget(Some(RateBudget::new(1, Duration::from_secs(3600))))
        .build()
        .unwrap();
    let error = get(&client).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(server.requests().len(), 1, "the retry was sent after the deadline");
}

#[tokio::test]
async fn the_largest_durations_as_settings_do_not_panic() {
    let server = TestServer::start().await;
    // No rate-limit figures: a `remaining: 0` would rightly hold the retry for the
    // budget's next credit, which this budget refills once in an age.
    server.push(Reply::json(429, json!({"message": "Rate Limit Exceeded"})).header("retry-after", "0"));
    server.push(Reply::json(200, cluster(812)));
    let policy = RetryPolicy::default()
        .with_deadline(Some(Duration::MAX))
        .with_max_retry_after(Duration::MAX)
        .with_backoff(Duration::from_millis(1), Duration::MAX);
    let client = builder(&server)
        .retry_policy(policy)
        .timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .rate_budget(Some(RateBudget::new(u32::MAX, Duration::MAX)))
        .build()
        .unwrap();
    assert_eq!(get(&client).await.unwrap().id, 812);

    // A wait whose deadline the clock cannot name, and one polled "never again".
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 77, "status": "running", "progress": 0.5})));
    server.always(Reply::json(200, json!({"id": 77, "status": "completed", "progress": 1.0})));
    let client = builder(&server).build().unwrap();
    let job = client
        .wait_for_job(77)
        .poll_interval(Duration::from_millis(5))
        .deadline(Some(Duration::MAX))
        .until_done()
        .await
        .unwrap();
    assert_eq!(job.id, 77);
    let server = TestServer::start().await;
    server.always(Reply::json(200, json!({"id": 77, "status": "running", "progress": 0.5})));
    let client = builder(&server).build().unwrap();
    let waited = client
        .wait_for_job(77)
        .poll_interval(Duration::MAX)
        .deadline(Some(Duration::from_millis(300)))
        .until_done()
        .await;
    assert!(matches!(waited, Err(WaitError::TimedOut { .. })), "{waited:?}");
}

// ------------------------------------------------------------------ 3: paging cycles

fn page(ids: &[u64], next: &str) -> Reply {
    let items: Vec<_> = ids.iter().map(|&id| cluster(id)).collect();
    Reply::json(200, json!(items)).header("link", &format!("<{next}>; rel=\"next\""))
}

async fn streamed(client: &Client) -> Vec<Result<u64, xplenty_api::Error>> {
    // Bounded: a looping stream fails the test instead of hanging it.
    client.list_clusters().limit(2_u64).stream_all().map(|r| r.map(|c| c.id)).take(50).collect().await
}

#[tokio::test]
async fn a_next_link_back_to_a_page_already_read_ends_the_stream_with_one_error() {
    let server = TestServer::start().await;
    let base = server.base_url();
    server.push(page(&[1, 2], &format!("{base}/acme-analytics/api/clusters?offset=2&limit=2")));
    server.always(page(&[3, 4], &format!("{base}/acme-analytics/api/clusters?offset=0&limit=2")));
    let seen = streamed(&client(&server)).await;
    let ids: Vec<u64> = seen.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let errors: Vec<_> = seen.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{seen:?}");
    assert_eq!(errors[0].kind(), ErrorKind::Pagination);
    assert!(errors[0].to_string().contains("offset 0 was already read"), "{}", errors[0]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn the_same_next_url_twice_ends_the_stream_with_one_error() {
    let server = TestServer::start().await;
    let next = format!("{}/acme-analytics/api/clusters?limit=2", server.base_url());
    server.push(page(&[1, 2], &next));
    server.always(page(&[3, 4], &next));
    let seen = streamed(&client(&server)).await;
    assert_eq!(seen.len(), 5, "{seen:?}");
    let error = seen.last().unwrap().as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Pagination);
    assert!(error.to_string().contains("already followed"), "{error}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_offset_near_the_largest_number_ends_with_an_error_not_a_panic() {
    let server = TestServer::start().await;
    let base = server.base_url();
    server.push(page(&[1, 2], &format!("{base}/acme-analytics/api/clusters?offset=18446744073709551614&limit=2")));
    server.always(page(&[3, 4], &format!("{base}/acme-analytics/api/clusters?limit=2")));
    let seen = streamed(&client(&server)).await;
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[4].as_ref().unwrap_err().kind(), ErrorKind::Pagination);
    assert!(server.requests()[1].query().contains("offset=18446744073709551614"));
}

// ------------------------------------------------------------------ 4: safe to retry

#[tokio::test]
async fn a_reset_after_a_post_was_sent_is_not_retried_and_not_retryable() {
    let server = TestServer::start().await;
    server.push(Reply::Reset);
    server.push(Reply::json(201, cluster(812)));
    let error = post(&client(&server)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(!error.is_retryable(), "a POST that reached the server is not safe to send again");
    assert_eq!(server.requests().len(), 1);

    // The caller may opt in to repeating it; the error of a failed repeat still says no.
    let server = TestServer::start().await;
    server.always(Reply::Reset);
    let policy = RetryPolicy::default().with_max_attempts(2).retry_non_idempotent(true);
    let error = post(&builder(&server).retry_policy(policy).build().unwrap()).await.unwrap_err();
    assert_eq!((error.attempts(), error.is_retryable()), (2, false));
}

#[tokio::test]
async fn a_post_502_is_not_retryable_but_a_get_502_and_a_post_429_are() {
    let server = TestServer::start().await;
    server.always(Reply::text(502, "text/html", "<html>bad gateway</html>"));
    let client = builder(&server).retry_policy(RetryPolicy::disabled()).build().unwrap();
    assert!(!post(&client).await.unwrap_err().is_retryable());
    assert!(get(&client).await.unwrap_err().is_retryable());
    let server = TestServer::start().await;
    server.always(busy("600"));
    assert!(post(&client_of(&server)).await.unwrap_err().is_retryable());
}

fn client_of(server: &TestServer) -> Client {
    builder(server).retry_policy(RetryPolicy::disabled()).build().unwrap()
}

#[tokio::test]
async fn a_post_whose_connection_never_opened_is_retryable() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::builder("acme-analytics", KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let error = post(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_retryable(), "{error:?}");
}

// ------------------------------------------------------------------ 5: bounded reads

#[tokio::test]
async fn an_answer_over_the_limit_with_content_length_is_a_too_large_error() {
    let server = TestServer::start().await;
    let items: Vec<_> = (0..200).map(cluster).collect();
    server.always(Reply::json(200, json!(items)));
    let client = builder(&server).max_response_size(1024).build().unwrap();
    let error = client.list_clusters().send().await.unwrap_err();
    assert_eq!((error.kind(), error.status()), (ErrorKind::TooLarge, Some(200)));
    assert!(error.to_string().contains("limit of 1024 bytes"), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 1);
    // The same answer under the default limit is read.
    assert_eq!(self::client(&server).list_clusters().send().await.unwrap().len(), 200);
}

/// A server that answers once without `Content-Length` and streams `total` bytes of a
/// JSON array until the client hangs up; returns the bytes it managed to write.
async fn endless_body(total: usize) -> (String, tokio::task::JoinHandle<usize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 4096];
        let _ = stream.read(&mut head).await;
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[").await;
        let chunk = format!("{},", cluster(1)).repeat(256);
        let mut written = 0;
        while written < total {
            match stream.write_all(chunk.as_bytes()).await {
                Ok(()) => written += chunk.len(),
                Err(_) => break,
            }
        }
        written
    });
    (url, task)
}

#[tokio::test]
async fn an_answer_over_the_limit_without_content_length_stops_being_read_at_the_limit() {
    let (url, server) = endless_body(256 * 1024 * 1024).await;
    let client = Client::builder("acme-analytics", KEY)
        .base_url(url)
        .retry_policy(RetryPolicy::disabled())
        .max_response_size(1024 * 1024)
        .build()
        .unwrap();
    let error = client.list_clusters().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooLarge, "{error}");
    drop(client);
    let written = server.await.unwrap();
    assert!(written < 256 * 1024 * 1024, "the client read all {written} bytes");
}

#[tokio::test]
async fn an_echoed_credential_is_redacted_everywhere_and_display_is_short() {
    let authorization = format!("Basic {}", base64_of(&format!("{KEY}:")));
    let echoes = [
        Reply::json(401, json!({"message": format!("bad key {KEY}, header {authorization} {}", "x".repeat(2000))})),
        Reply::text(401, "text/html", &format!("<html>denied {authorization} for {KEY}</html>")),
        Reply::text(200, "application/json", &format!("{{\"id\": \"{KEY}\"}}")),
    ];
    for echo in echoes {
        let server = TestServer::start().await;
        server.always(echo);
        let error = get(&client(&server)).await.unwrap_err();
        let base64 = base64_of(&format!("{KEY}:"));
        for text in [
            error.to_string(),
            format!("{error:?}"),
            format!("{:?}", error.message()),
            format!("{:?}", error.body_excerpt()),
        ] {
            assert!(!text.contains(KEY) && !text.contains(&base64), "credential in {text}");
        }
        assert!(format!("{error:?}").contains("[redacted]"), "{error:?}");
        assert!(error.to_string().chars().count() < 500, "{}", error.to_string().len());
    }
}

fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ------------------------------------------------------------------ 6: keys

#[tokio::test]
async fn a_key_with_a_trailing_newline_does_not_build() {
    for key in ["", " ", "sEcReT\n", "sEc ReT", "sEc\tReT", "\u{0}"] {
        let error = Client::builder("acme-analytics", key).base_url("http://127.0.0.1:9").build().unwrap_err();
        assert!(matches!(error, ConfigError::InvalidApiKey { .. }), "{key:?}: {error:?}");
        assert!(!error.to_string().contains(key.trim()) || key.trim().is_empty(), "{error}");
    }
}

// ------------------------------------------------------------------ issue 22: errors to match

#[tokio::test]
async fn errors_answer_the_common_questions() {
    let server = TestServer::start().await;
    server.push(Reply::json(404, json!({"message": "Cluster not found"})));
    server.push(Reply::json(401, json!({"message": "Unauthorized"})));
    server.push(Reply::json(422, json!({"message": "nodes must be between 1 and 100"})));
    let client = client(&server);
    let missing = get(&client).await.unwrap_err();
    assert!(missing.is_not_found() && !missing.is_unauthorized() && !missing.is_validation());
    assert!(get(&client).await.unwrap_err().is_unauthorized());
    let invalid = post(&client).await.unwrap_err();
    assert!(invalid.is_validation() && !invalid.is_rate_limited());
    assert_eq!(invalid.validation_message(), Some("nodes must be between 1 and 100"));
    assert_eq!(missing.validation_message(), None);
}

// ------------------------------------------------------------------ 1: the property

mod property {
    use super::*;
    use proptest::prelude::*;

    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,30}",
            Just("18446744073709551615".to_owned()),
            Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
            Just("Mon, 01 Jan 0001 00:00:00 GMT".to_owned()),
            Just("<http://127.0.0.1:9/x?offset=18446744073709551615&limit=0>; rel=\"next\"".to_owned()),
            Just("<?offset=-1&limit=99999999999999999999>; rel=next".to_owned()),
            "[ -~]{0,60}",
        ]
    }

    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![Just(Duration::MAX), Just(Duration::ZERO), (0u64..3000).prop_map(Duration::from_millis)]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_headers_and_settings_never_panic(
            status in prop_oneof![Just(200u16), Just(429), Just(503), Just(404)],
            retry_after in header_value(),
            limit in header_value(),
            remaining in header_value(),
            link in header_value(),
            content_length in proptest::option::of(header_value()),
            timeout in duration(),
            deadline in proptest::option::of(duration()),
            cap in duration(),
            max_size in prop_oneof![Just(0u64), Just(u64::MAX), 0u64..4096],
            // Budgets refilled within seconds: a slower one with `remaining: 0` rightly
            // holds a retry without a deadline for that long.
            budget in proptest::option::of((0u32..5, (0u64..3000).prop_map(Duration::from_millis))),
            attempts in 0u32..4,
        ) {
            // Paused time: every sleep ends at once, so a long but legal wait costs nothing.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
            runtime.block_on(async {
                let server = TestServer::start().await;
                let items = json!([cluster(1), cluster(2)]);
                let mut reply = Reply::json(status, if status == 200 { items } else { json!({"message": "no"}) })
                    .header("retry-after", &retry_after)
                    .header("x-ratelimit-limit", &limit)
                    .header("x-ratelimit-remaining", &remaining)
                    .header("link", &link);
                if let Some(length) = &content_length {
                    reply = reply.header("content-length", length);
                }
                server.always(reply);
                let policy = RetryPolicy::default()
                    .with_max_attempts(attempts)
                    .with_deadline(deadline)
                    .with_max_retry_after(cap)
                    .with_backoff(Duration::from_millis(1), timeout);
                let client = Client::builder("acme-analytics", KEY)
                    .base_url(server.base_url())
                    .retry_policy(policy)
                    .timeout(timeout.max(Duration::from_millis(1)))
                    .connect_timeout(timeout)
                    .max_response_size(max_size)
                    .rate_budget(budget.map(|(calls, per)| RateBudget::new(calls, per)))
                    .build()
                    .unwrap();
                let _ = get(&client).await;
                let _ = post(&client).await;
                let listed: Vec<_> = client.list_clusters().stream_all().take(20).collect().await;
                let _ = listed.into_iter().collect::<Result<Vec<_>, _>>();
                let _ = client.list_clusters().stream_all().take(5).try_collect::<Vec<_>>().await;
            });
        }
    }
}
