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
