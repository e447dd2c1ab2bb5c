//! The fake as a program: `xplenty-fake --port 0` prints its base URL and serves.

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Kills the child even when an assertion fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_its_url_first_and_answers_with_basic_auth() {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_xplenty-fake"))
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let first = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        }),
    )
    .await
    .expect("a first line in time")
    .unwrap()
    .unwrap();
    let base_url = first.trim_end();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{first:?}");
    assert_ne!(base_url, "http://127.0.0.1:0");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::new()
        .get(format!("{base_url}/acme-analytics/api/clusters"))
        .basic_auth("fake-api-key", Some(""))
        .header("accept", "application/vnd.xplenty+json; version=2")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let clusters: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(clusters.as_array().is_some_and(|c| !c.is_empty()), "{clusters}");
    drop(child);
}
