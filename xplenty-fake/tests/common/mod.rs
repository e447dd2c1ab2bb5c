//! What several of the fake's test binaries share: the spec, `$ref` resolution, and a
//! call made as any HTTP client would make it (not through `xplenty-api`).

#![allow(dead_code)] // each test binary uses its own part

use serde_json::Value;
use xplenty_fake::FakeXplenty;

/// The spec the fake serves, as JSON.
pub fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/xplenty.yaml");
    let text = std::fs::read_to_string(path).expect("read the spec");
    xplenty_gen::load(&text).unwrap_or_else(|e| panic!("{e}")).raw
}

/// Follows `$ref`s to the node they name.
pub fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => root.pointer(pointer).map_or(node, |target| resolve(root, target)),
        None => node,
    }
}

/// A call to the fake with Basic auth and the vendor `Accept`: its status and JSON body
/// (`null` when the body is not JSON).
pub async fn call(fake: &FakeXplenty, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
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
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
