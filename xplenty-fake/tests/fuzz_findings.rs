//! What a spec-driven fuzzer (schemathesis) found against the standalone fake, one case
//! per finding: an undeclared method on a known path, and answers the fake could not give
//! within the spec.

mod common;

use reqwest::Method;
use xplenty_fake::{Clock, FakeXplenty};

async fn fake() -> FakeXplenty {
    FakeXplenty::builder().clock(Clock::manual()).start().await.unwrap()
}

/// A call with any method, returning the status and the `Allow` header.
async fn allow(fake: &FakeXplenty, method: &str, path: &str) -> (u16, Option<String>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!("{}{path}", fake.base_url());
    let response = reqwest::Client::new()
        .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth(fake.api_key(), Some(""))
        .send()
        .await
        .unwrap();
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), allow)
}

#[tokio::test]
async fn an_undeclared_method_on_a_known_path_is_405_naming_the_paths_methods() {
    let fake = fake().await;
    let account = format!("/{}/api", fake.account_id());
    assert_eq!(allow(&fake, "TRACE", &format!("{account}/clusters")).await, (405, Some("GET, POST".into())));
    assert_eq!(allow(&fake, "DELETE", &format!("{account}/clusters/search")).await, (405, Some("GET".into())));
    // A literal segment wins for every method: `help` is not a connection id.
    let help = format!("{account}/connections/adwords/help");
    assert_eq!(allow(&fake, "PUT", &help).await, (405, Some("GET".into())));
    // Global paths live at the root.
    assert_eq!(allow(&fake, "TRACE", "/user").await, (405, Some("GET, PUT".into())));
    // An unknown path stays 404, and a declared method still works.
    assert_eq!(allow(&fake, "GET", &format!("{account}/nowhere")).await.0, 404);
    assert_eq!(allow(&fake, "GET", &format!("{account}/clusters")).await.0, 200);
}

/// Was a 500 ("fake answer outside the spec"): a HubSpot connection created with a
/// database's fields was stored as sent, so its answer and every later list broke the
/// union. The fields of another type are refused, as on an update, and nothing is stored.
#[tokio::test]
async fn a_new_connection_with_another_types_fields_is_422_and_stores_nothing() {
    let fake = fake().await;
    let (before, listed) = common::call(&fake, Method::GET, "/connections", None).await;
    assert_eq!(before, 200);
    let count = listed.as_array().map(Vec::len);
    let body = serde_json::json!({
        "name": "Orders database", "host": "orders-db.acme.example", "port": 5432,
        "database": "orders", "username": "etl_reader", "password": "s3cret", "ssl": true
    });
    let (status, answer) = common::call(&fake, Method::POST, "/connections/hubspot", Some(body.clone())).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("does not apply to a hubspot connection"), "{answer}");
    let (after, listed) = common::call(&fake, Method::GET, "/connections", None).await;
    assert_eq!((after, listed.as_array().map(Vec::len)), (200, count));
    // The same fields are a postgres connection's own.
    let (status, answer) = common::call(&fake, Method::POST, "/connections/postgres", Some(body)).await;
    assert_eq!((status, answer["type"].as_str()), (201, Some("postgres")), "{answer}");
}

/// Integers the spec bounds to 64 bits (ids, offsets, counts) and `nodes` below 1 are
/// refused with a 422 that names them; the spec declares both, so a fuzzer does not send
/// them as valid.
#[tokio::test]
async fn declared_integer_bounds_are_422() {
    let fake = fake().await;
    let (status, answer) = common::call(&fake, Method::GET, "/packages?offset=18300575330087637273572", None).await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = common::call(&fake, Method::POST, "/clusters", Some(serde_json::json!({"nodes": 0}))).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("nodes"), "{answer}");
}

/// Was an answer outside the spec: an account created with a blank `account_id` got the
/// key `""`, and `GET /accounts/` (its own URL) answered the list. A blank key is derived
/// as an absent one.
#[tokio::test]
async fn an_account_with_a_blank_slug_gets_one_of_its_own() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = fake().await;
    let response = reqwest::Client::new()
        .post(format!("{}/accounts", fake.base_url()))
        .basic_auth(fake.api_key(), Some(""))
        .json(&serde_json::json!({"name": "laptop", "region": "amazon-web-services::us-east-1", "account_id": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let answer: serde_json::Value = response.json().await.unwrap();
    let slug = answer["account_id"].as_str().unwrap();
    assert!(!slug.is_empty(), "{answer}");
    assert!(!answer["url"].as_str().unwrap().ends_with("/accounts/"), "{answer}");
}

/// Was a 422: `GET /hooks?type=` sends the comma-joined `type` array empty, which the
/// spec admits; it filters nothing.
#[tokio::test]
async fn an_empty_joined_array_filters_nothing() {
    let fake = fake().await;
    let (all, every) = common::call(&fake, Method::GET, "/hooks", None).await;
    let (status, none) = common::call(&fake, Method::GET, "/hooks?type=", None).await;
    assert_eq!((all, status), (200, 200), "{none}");
    assert_eq!(every, none);
}
