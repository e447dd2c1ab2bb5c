//! Depending on xplenty-api never changes how another crate's reqwest client builds.

/// Builds `make`'s client, turning a panic (reqwest's "No rustls crypto provider is
/// configured") into a failed assertion that says so.
fn builds_without_panic<T, E: std::fmt::Debug>(
    what: &str,
    make: impl FnOnce() -> Result<T, E> + std::panic::UnwindSafe,
) {
    match std::panic::catch_unwind(make) {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => panic!("{what} failed to build: {error:?}"),
        Err(_) => panic!("{what} panicked while building: xplenty-api changed this crate's reqwest features"),
    }
}

#[test]
fn a_default_features_false_reqwest_client_builds_next_to_ours() {
    builds_without_panic("our client", || xplenty_api::Client::new("acme-analytics", "k3y"));
    builds_without_panic("the neighbour's client", || reqwest::Client::builder().build());
    builds_without_panic("the neighbour's second client", || Ok::<_, ()>(reqwest::Client::new()));
    // Ours once more, after theirs: no order between the two matters.
    builds_without_panic("our client again", || xplenty_api::Client::new("acme-analytics", "k3y"));
}

#[tokio::test]
async fn the_neighbours_client_is_usable_inside_ours() {
    let http = reqwest::Client::builder().build().unwrap();
    let client = xplenty_api::Client::builder("acme-analytics", "k3y")
        .base_url("http://127.0.0.1:9")
        .http_client(http)
        .build()
        .unwrap();
    assert_eq!(client.account_id(), "acme-analytics");
}
