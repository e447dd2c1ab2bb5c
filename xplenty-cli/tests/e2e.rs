//! The `xplenty` binary end to end, against a fake of the API started in the test.

use std::process::Output;

use serde_json::Value;
use xplenty_fake::{Clock, FakeXplenty};

/// Runs `xplenty ARGS --base-url .. --account acme-analytics --api-key KEY`.
async fn xplenty(fake: &FakeXplenty, key: &str, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"));
    command
        .args(args)
        .args(["--base-url", fake.base_url(), "--account", "acme-analytics", "--api-key", key])
        .env_remove("XPLENTY_ACCOUNT_ID")
        .env_remove("XPLENTY_API_KEY")
        .env_remove("XPLENTY_BASE_URL");
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs")).await.unwrap()
}

async fn ok(fake: &FakeXplenty, args: &[&str]) -> Value {
    let output = xplenty(fake, "fake-api-key", args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stderr}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_clusters_as_compact_json() {
    let fake = FakeXplenty::start().await.unwrap();
    let output = xplenty(&fake, "fake-api-key", &["clusters", "list"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "compact when stdout is not a terminal: {text}");
    let clusters: Value = serde_json::from_str(&text).unwrap();
    assert!(clusters.as_array().unwrap().iter().any(|c| c["id"] == 812), "{clusters}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_stop_at_the_limit_and_show_tables() {
    let fake = FakeXplenty::start().await.unwrap();
    for name in ["a", "b", "c"] {
        ok(&fake, &["clusters", "create", "--nodes", "2", "--name", name]).await;
    }
    let two = ok(&fake, &["clusters", "list", "--limit", "2"]).await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    let output = xplenty(&fake, "fake-api-key", &["clusters", "list", "--output", "table"]).await;
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.starts_with("ID "), "{table}");
    assert!(table.lines().next().unwrap().contains("STATUS"), "{table}");
    assert!(table.contains("nightly-etl"), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn gets_a_cluster_by_its_positional_id() {
    let fake = FakeXplenty::start().await.unwrap();
    let cluster = ok(&fake, &["clusters", "get", "812"]).await;
    assert_eq!(cluster["id"], 812);
    assert_eq!(cluster["status"], "available");
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_a_cluster_from_flags_and_a_body_file() {
    let fake = FakeXplenty::start().await.unwrap();
    let cluster =
        ok(&fake, &["clusters", "create", "--nodes", "3", "--name", "from-flags", "--terminate-on-idle", "true"]).await;
    assert_eq!(cluster["nodes"], 3);
    assert_eq!(cluster["name"], "from-flags");
    let got = ok(&fake, &["clusters", "get", &cluster["id"].to_string()]).await;
    assert_eq!(got["name"], "from-flags");

    let file = std::env::temp_dir().join(format!("xplenty-cli-body-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"nodes": 2, "name": "from-file"}"#).unwrap();
    let body = format!("@{}", file.display());
    // Flags override the fields of the file.
    let cluster = ok(&fake, &["clusters", "create", "--body", &body, "--nodes", "5"]).await;
    std::fs::remove_file(&file).ok();
    assert_eq!((cluster["name"].as_str(), cluster["nodes"].as_u64()), (Some("from-file"), Some(5)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_of_the_wrong_type_is_one_line_and_no_call() {
    let fake = FakeXplenty::start().await.unwrap();
    let calls = fake.calls();
    let output = xplenty(&fake, "fake-api-key", &["clusters", "create", "--nodes", "two"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "error: --nodes: `two` is not an integer\n");
    assert_eq!(fake.calls(), calls);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_completes_exits_0() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let args = [
        "jobs",
        "run",
        "--package",
        "2041",
        "--cluster",
        "812",
        "--var",
        "day='2024-05-01'",
        "--wait",
        "--poll",
        "0.1",
    ];
    let output = xplenty(&fake, "fake-api-key", &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let job: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["variables"]["day"], "'2024-05-01'");
    assert_eq!(stderr(&output), "", "no progress bar when stderr is not a terminal");
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_auto_creates_a_cluster_when_none_fits_and_terminates_it_after() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "auto", "--nodes", "7", "--wait", "--poll", "0.1"];
    let output = xplenty(&fake, "fake-api-key", &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let job: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["status"], "completed");

    let calls: Vec<&'static str> = fake.journal().iter().filter_map(|e| e.operation).collect();
    let created = calls.iter().filter(|op| **op == "create_cluster").count();
    let terminated = calls.iter().filter(|op| **op == "terminate_cluster").count();
    assert_eq!((created, terminated), (1, 1), "no 7-node cluster existed: one made, and ended after: {calls:?}");
    let run = calls.iter().position(|op| *op == "run_job").unwrap();
    assert!(calls.iter().position(|op| *op == "create_cluster").unwrap() < run);
    assert!(calls.iter().rposition(|op| *op == "terminate_cluster").unwrap() > run);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_fails_exits_3() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    fake.fail_jobs(true);
    let args = ["jobs", "run", "--package", "2041", "--cluster", "812", "--wait", "--poll", "0.1"];
    let output = xplenty(&fake, "fake-api-key", &args).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let job: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["status"], "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_past_its_deadline_exits_5() {
    // The manual clock: the job never moves on.
    let fake = FakeXplenty::start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "812", "--wait", "--poll", "0.1", "--timeout", "0"];
    let output = xplenty(&fake, "fake-api-key", &args).await;
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).starts_with("error: job "), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_for_a_cluster_to_be_available() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let cluster = ok(&fake, &["clusters", "create", "--nodes", "2"]).await;
    let id = cluster["id"].to_string();
    let cluster = ok(&fake, &["clusters", "wait", &id, "--until", "available", "--poll", "0.1"]).await;
    assert_eq!(cluster["status"], "available");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_is_one_line_naming_the_operation_and_the_status() {
    let fake = FakeXplenty::start().await.unwrap();
    let output = xplenty(&fake, "not-the-key", &["clusters", "list"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert!(stderr.starts_with("error: list_clusters: HTTP 401 Unauthorized"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("not-the-key") && !stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_id_is_a_404_line() {
    let fake = FakeXplenty::start().await.unwrap();
    let output = xplenty(&fake, "fake-api-key", &["jobs", "log", "999999"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("error: get_job_log: HTTP 404"), "{}", stderr(&output));
}

#[test]
fn fake_flag_runs_against_the_embedded_fake() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
        .args(["--fake", "jobs", "run", "--package", "2041", "--cluster", "812", "--wait"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let job: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["status"], "completed");
}

#[test]
fn prints_completions_and_usage_errors() {
    for shell in ["bash", "zsh", "fish"] {
        let output =
            std::process::Command::new(env!("CARGO_BIN_EXE_xplenty")).args(["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&output.stdout).contains("clusters"), "{shell}");
    }
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_xplenty")).args(["clusters", "frobnicate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
        .args(["clusters", "list"])
        .env_remove("XPLENTY_ACCOUNT_ID")
        .env_remove("XPLENTY_API_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "error: no account: give --account or set XPLENTY_ACCOUNT_ID\n");
}
