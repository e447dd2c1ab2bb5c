//! Requests outside the spec are a 422 naming the parameter or field, and change nothing.

use serde_json::json;
use xplenty_fake::FakeXplenty;

mod common;
use common::call as send;

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
