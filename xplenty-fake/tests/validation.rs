//! Requests outside the spec are a 422 naming the parameter or field, and change nothing.

use serde_json::{Value, json};
use xplenty_fake::FakeXplenty;

async fn send(fake: &FakeXplenty, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    // The test is the application: it picks reqwest's TLS provider (`rustls-no-provider`).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!("{}/{}/api{path}", fake.base_url(), fake.account_id());
    let mut request = reqwest::Client::new()
        .request(method, url)
        .basic_auth(fake.api_key(), Some(""))
        .header("accept", "application/vnd.xplenty+json; version=2");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn violations_name_the_field_or_parameter_and_change_nothing() {
    let fake = FakeXplenty::start().await.unwrap();
    let before = fake.snapshot();
    let (status, body) = send(&fake, reqwest::Method::POST, "/clusters", Some(json!({"nodes": "two"}))).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some(r#"field /nodes: "two" is not valid under any of the schemas listed in the 'anyOf' keyword"#))
    );
    let (status, body) = send(&fake, reqwest::Method::GET, "/clusters?limit=500", None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("parameter limit: 500"), "{body}");
    let (status, body) = send(&fake, reqwest::Method::GET, "/clusters/abc", None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("parameter cluster_id:"), "{body}");
    assert_eq!(fake.snapshot(), before);
}
