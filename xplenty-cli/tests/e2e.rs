//! The `xplenty` binary end to end, against a fake of the API started in the test.

use std::io::{BufRead as _, BufReader};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use xplenty_fake::{Clock, FakeXplenty, Fault};

/// Runs `xplenty ARGS --base-url .. --account acme-analytics --api-key KEY`.
async fn xplenty(fake: &FakeXplenty, key: &str, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"));
    command
        .args(args)
        .args(["--base-url", fake.base_url(), "--account", "acme-analytics", "--api-key", key])
        .env_remove("XPLENTY_ACCOUNT_ID")
        .env_remove("XPLENTY_API_KEY")
        .env_remove("XPLENTY_BASE_URL")
        .env_remove("XPLENTY_PROFILE")
        .env("XDG_CONFIG_HOME", no_config());
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
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "error: invalid value 'two' for '--nodes <N>': `two` is not an integer\n");
    assert_eq!(fake.calls(), calls);
}

/// Runs `xplenty ARGS --base-url ..` with no credentials at all.
fn without_credentials(fake: &FakeXplenty, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
        .args(args)
        .args(["--base-url", fake.base_url()])
        .env_remove("XPLENTY_ACCOUNT_ID")
        .env_remove("XPLENTY_API_KEY")
        .env_remove("XPLENTY_BASE_URL")
        .env_remove("XPLENTY_PROFILE")
        .env("XDG_CONFIG_HOME", no_config())
        .output()
        .expect("the binary runs")
}

/// A config directory with no profile in it: the tests never read the user's own.
fn no_config() -> std::path::PathBuf {
    std::env::temp_dir().join("xplenty-cli-tests-no-config")
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_on_one_line_before_any_credential_is_needed() {
    let fake = FakeXplenty::start().await.unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["clusters", "create", "--nodes", "two"], "`two` is not an integer"),
        (&["clusters", "get", "abc"], "`abc` is not an integer"),
        (&["jobs", "stop", "12x"], "`12x` is not an integer"),
        (&["clusters", "wait", "abc"], "`abc` is not an integer"),
        (&["jobs", "run", "--cluster", "812"], "`package_id` is required"),
        (&["jobs", "run", "--package", "2041", "--cluster", "soon"], "neither a cluster id nor `auto`"),
        (&["jobs", "run", "--package", "2041", "--cluster", "812", "--poll", "x"], "not a number of seconds"),
        (&["clusters", "create", "--terminate-on-idle", "maybe"], "not true or false"),
        (&["clusters", "list", "--output", "xml"], "invalid value 'xml'"),
        (&["clusters", "frobnicate"], "unrecognized subcommand"),
        // A bare boolean answer: said before the call.
        (&["connections", "test", "s3", "1", "--output", "table"], "no table form"),
    ];
    for (args, says) in cases {
        let calls = fake.calls();
        let output = tokio::task::block_in_place(|| without_credentials(&fake, args));
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(fake.calls(), calls, "{args:?}: no call");
    }
    // The same commands, well formed, need the credentials: exit 7.
    let output = tokio::task::block_in_place(|| without_credentials(&fake, &["clusters", "get", "812"]));
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "error: no account: give --account, set XPLENTY_ACCOUNT_ID or run xplenty auth login\n"
    );
}

#[test]
fn help_lists_every_exit_code() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty")).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "130 ", "143 "] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(code)), "exit code {code}in --help: {help}");
    }
    let readme = include_str!("../README.md");
    for code in ["| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 5 |", "| 6 |", "| 7 |", "| 130 |", "| 143 |"] {
        assert!(readme.contains(code), "{code} in the README");
    }
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
    // The id, also with stdout piped; no progress bar when stderr is not a terminal.
    assert_eq!(stderr(&output), format!("created job {0} (stop it with: xplenty jobs stop {0})\n", job["id"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_auto_creates_a_cluster_when_none_fits_and_terminates_it_after() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "auto", "--nodes", "7", "--wait", "--poll", "0.1"];
    let output = xplenty(&fake, "fake-api-key", &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let job: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["status"], "completed");
    let cluster = &job["cluster_id"];
    let said = stderr(&output);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(
        lines,
        [
            format!("created cluster {cluster} (7 nodes; terminate it with: xplenty clusters terminate {cluster})"),
            format!("created job {0} (stop it with: xplenty jobs stop {0})", job["id"]),
            format!("terminated cluster {cluster}"),
        ],
        "{said}"
    );

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
    let said = stderr(&output);
    assert!(said.lines().any(|l| l.starts_with("error: job ") && l.contains("deadline passed")), "{said}");
    // The job runs on: how to stop it is said.
    assert!(said.lines().any(|l| l.ends_with("stop it with: xplenty jobs stop 10001")), "{said}");
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
    assert_eq!(output.status.code(), Some(7), "authentication has its own code");
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
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(
        stderr(&output),
        "error: no account: give --account, set XPLENTY_ACCOUNT_ID or run xplenty auth login\n"
    );
}

/// A running `xplenty` whose stderr lines arrive on a channel, to act on what it says.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    said: Vec<String>,
}

/// Every wait of these tests is bounded by this; none of them asserts on time.
const BOUND: Duration = Duration::from_secs(60);

impl Running {
    fn start(fake: &FakeXplenty, args: &[&str]) -> Running {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
            .args(args)
            .args(["--base-url", fake.base_url(), "--account", "acme-analytics", "--api-key", "fake-api-key"])
            .env_remove("XPLENTY_ACCOUNT_ID")
            .env_remove("XPLENTY_API_KEY")
            .env_remove("XPLENTY_BASE_URL")
            .env("XDG_CONFIG_HOME", no_config())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, lines, said: Vec::new() }
    }

    /// Reads stderr until a line that starts with `prefix`; that line.
    fn until(&mut self, prefix: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(BOUND)
                .unwrap_or_else(|e| panic!("no line `{prefix}..` ({e}); said: {:?}", self.said));
            self.said.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill");
    }

    /// The exit code and the rest of stderr.
    fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > BOUND {
                let _ = self.child.kill();
                panic!("the command did not end; said: {:?}", self.said);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.said.push(line);
        }
        (status.code(), self.said)
    }
}

/// The id in `created job 10002 (...)` and the like.
fn id_in(line: &str) -> u64 {
    line.split_whitespace().nth(2).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id in {line}"))
}

fn answered(fake: &FakeXplenty, operation: &str) -> Vec<(String, u16)> {
    fake.journal()
        .into_iter()
        .filter(|e| e.operation == Some(operation))
        .map(|e| (e.target.clone(), e.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_the_wait_stops_the_job_and_terminates_the_cluster_it_created() {
    // The manual clock: the cluster comes up when the test says, the job never ends.
    let fake = FakeXplenty::start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "auto", "--nodes", "5", "--wait", "--poll", "0.1"];
    let mut run = Running::start(&fake, &args);
    let cluster = tokio::task::block_in_place(|| id_in(&run.until("created cluster ")));
    fake.advance(Duration::from_secs(30));
    let job = tokio::task::block_in_place(|| id_in(&run.until("created job ")));
    run.signal(libc::SIGINT);
    let (code, said) = tokio::task::block_in_place(|| run.finish());
    assert_eq!(code, Some(130), "{said:?}");
    assert!(said.contains(&format!("stopped job {job}")), "{said:?}");
    assert!(said.contains(&format!("terminated cluster {cluster}")), "{said:?}");

    // On the wire: the stop and the termination, each answered with a success.
    let stops = answered(&fake, "terminate_job");
    assert_eq!(stops.len(), 1, "{stops:?}");
    assert!(stops[0].0.ends_with(&format!("/jobs/{job}")) && stops[0].1 < 300, "{stops:?}");
    let terminations = answered(&fake, "terminate_cluster");
    assert_eq!(terminations.len(), 1, "{terminations:?}");
    assert!(terminations[0].0.contains(&format!("/clusters/{cluster}")) && terminations[0].1 < 300);
    let client = fake.client();
    let job = client.get_job().job_id(job).send().await.unwrap().into_inner();
    assert_eq!(job.status.to_string(), "pending_stoppage");
    let cluster = client.get_cluster().cluster_id(cluster).send().await.unwrap().into_inner();
    assert_eq!(cluster.status.to_string(), "pending_terminate");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_the_wait_stops_the_job_and_exits_143() {
    let fake = FakeXplenty::start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "812", "--wait", "--poll", "0.1"];
    let mut run = Running::start(&fake, &args);
    let job = tokio::task::block_in_place(|| id_in(&run.until("created job ")));
    run.signal(libc::SIGTERM);
    let (code, said) = tokio::task::block_in_place(|| run.finish());
    assert_eq!(code, Some(143), "{said:?}");
    assert!(said.contains(&format!("stopped job {job}")), "{said:?}");
    assert_eq!(answered(&fake, "terminate_job").len(), 1);
    // Cluster 812 was found, not made: it is left alone.
    assert!(answered(&fake, "terminate_cluster").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn detach_leaves_the_job_and_the_cluster_running_and_says_how_to_stop_them() {
    let fake = FakeXplenty::start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "auto", "--nodes", "5", "--wait", "--detach"];
    let mut run = Running::start(&fake, &[&args[..], &["--poll", "0.1"]].concat());
    let cluster = tokio::task::block_in_place(|| id_in(&run.until("created cluster ")));
    fake.advance(Duration::from_secs(30));
    let job = tokio::task::block_in_place(|| id_in(&run.until("created job ")));
    run.signal(libc::SIGINT);
    let (code, said) = tokio::task::block_in_place(|| run.finish());
    assert_eq!(code, Some(130), "{said:?}");
    let hint = format!("job {job} left running (--detach); stop it with: xplenty jobs stop {job}");
    assert!(said.contains(&hint), "{said:?}");
    let hint =
        format!("cluster {cluster} left running (--detach); terminate it with: xplenty clusters terminate {cluster}");
    assert!(said.contains(&hint), "{said:?}");
    assert!(answered(&fake, "terminate_job").is_empty() && answered(&fake, "terminate_cluster").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_while_the_cluster_starts_terminates_it() {
    let fake = FakeXplenty::start().await.unwrap();
    let args = ["jobs", "run", "--package", "2041", "--cluster", "auto", "--nodes", "5", "--wait", "--poll", "0.1"];
    let mut run = Running::start(&fake, &args);
    let cluster = tokio::task::block_in_place(|| id_in(&run.until("created cluster ")));
    run.signal(libc::SIGINT);
    let (code, said) = tokio::task::block_in_place(|| run.finish());
    assert_eq!(code, Some(130), "{said:?}");
    assert!(said.contains(&format!("terminated cluster {cluster}")), "{said:?}");
    assert!(answered(&fake, "run_job").is_empty(), "no job was started");
    assert_eq!(answered(&fake, "terminate_cluster").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_sigint_exits_at_once() {
    let fake = FakeXplenty::start().await.unwrap();
    // The stop is answered only after a minute: the clean-up is still waiting for it.
    fake.inject("terminate_job", Fault::Delay(Duration::from_secs(60)), 1);
    let args = ["jobs", "run", "--package", "2041", "--cluster", "812", "--wait", "--poll", "0.1"];
    let mut run = Running::start(&fake, &args);
    tokio::task::block_in_place(|| run.until("created job "));
    run.signal(libc::SIGINT);
    tokio::task::block_in_place(|| run.until("SIGINT: interrupted"));
    run.signal(libc::SIGINT);
    let (code, said) = tokio::task::block_in_place(|| run.finish());
    assert_eq!(code, Some(130), "{said:?}");
    assert!(said.iter().any(|l| l.starts_with("SIGINT: exiting at once")), "{said:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_clusters_wait_leaves_the_cluster_as_it_is() {
    let fake = FakeXplenty::start().await.unwrap();
    let cluster = ok(&fake, &["clusters", "create", "--nodes", "2"]).await;
    let id = cluster["id"].to_string();
    let run = Running::start(&fake, &["clusters", "wait", &id, "--poll", "0.1"]);
    // The wait has begun once it polled.
    let started = std::time::Instant::now();
    while answered(&fake, "get_cluster").is_empty() {
        assert!(started.elapsed() < BOUND, "no poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run.signal(libc::SIGINT);
    let (code, said) = tokio::task::block_in_place(|| run.finish());
    assert_eq!(code, Some(130), "{said:?}");
    assert_eq!(said, [format!("SIGINT: interrupted; cluster {id} is left as it is")]);
    assert!(answered(&fake, "terminate_cluster").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_take_their_form_from_the_answer() {
    let fake = FakeXplenty::start().await.unwrap();
    let table = |args: &'static [&'static str]| {
        let fake = &fake;
        async move {
            let output = xplenty(fake, "fake-api-key", &[args, &["--output", "table"]].concat()).await;
            assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
            String::from_utf8(output.stdout).unwrap()
        }
    };
    // A log is its text.
    let log = table(&["jobs", "log", "90187"]).await;
    let json = ok(&fake, &["jobs", "log", "90187"]).await;
    assert_eq!(log.trim_end(), json["body"].as_str().unwrap().trim_end());
    // Instances under their own columns, one row each.
    let instances = table(&["clusters", "instances", "812"]).await;
    let rows = ok(&fake, &["clusters", "instances", "812"]).await;
    let header = instances.lines().next().unwrap();
    assert!(header.contains("INSTANCE_ID") && !header.contains("RUNNING_JOBS_COUNT"), "{instances}");
    assert_eq!(instances.lines().count(), 1 + rows.as_array().unwrap().len(), "{instances}");
    // One object: a row per field.
    let cluster = table(&["clusters", "get", "812"]).await;
    assert!(cluster.starts_with("FIELD "), "{cluster}");
    assert!(cluster.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["id", "812"]), "{cluster}");
    // A list: the chosen columns first, then the rest.
    let jobs = table(&["jobs", "list"]).await;
    let header: Vec<&str> = jobs.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[..3], ["ID", "STATUS", "PROGRESS"], "{jobs}");
    assert!(header.len() > 6, "the rest of the keys follow: {jobs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn output_to_a_closed_pipe_ends_quietly() {
    let fake = FakeXplenty::start().await.unwrap();
    let base_url = fake.base_url().to_owned();
    let closed = |args: Vec<&'static str>| {
        let base_url = base_url.clone();
        tokio::task::block_in_place(move || {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
                .args(&args)
                .args(["--base-url", &base_url, "--account", "acme-analytics", "--api-key", "fake-api-key"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // The reader goes away, as `| head -1` does once it has its line.
            drop(child.stdout.take());
            let output = child.wait_with_output().unwrap();
            (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
        })
    };
    for args in [vec!["completions", "bash"], vec!["clusters", "list"], vec!["clusters", "list", "-o", "table"]] {
        let (code, stderr) = closed(args.clone());
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{args:?}");
    }
    // And `| head -1` itself: the first line read, the rest refused.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(first.contains("xplenty"), "{first}");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

/// `xplenty ARGS` with only what `env` sets (a config dir of its own), stdin from `input`.
fn bare(config: &std::path::Path, env: &[(&str, &str)], args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"));
    command
        .args(args)
        .env_remove("XPLENTY_ACCOUNT_ID")
        .env_remove("XPLENTY_API_KEY")
        .env_remove("XPLENTY_BASE_URL")
        .env_remove("XPLENTY_PROFILE")
        .env("XDG_CONFIG_HOME", config)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    child.stdin.take().expect("piped").write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_writes_an_owner_only_profile_that_the_next_command_reads() {
    use std::os::unix::fs::PermissionsExt as _;
    let fake = FakeXplenty::start().await.unwrap();
    let config = tempfile::tempdir().unwrap();
    let url = fake.base_url().to_owned();
    let login = ["auth", "login", "--account", "acme-analytics", "--base-url", &url, "--with-key-stdin"];
    let output = tokio::task::block_in_place(|| bare(config.path(), &[], &login, "fake-api-key\n"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let file = config.path().join("xplenty/config.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[profiles.default]") && text.contains("account = \"acme-analytics\""), "{text}");

    // The next command reads it: no flag, no environment.
    let output = tokio::task::block_in_place(|| bare(config.path(), &[], &["clusters", "get", "812"], ""));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let cluster: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cluster["id"], 812);

    // Status names the account and the key's source, never the key.
    let output = tokio::task::block_in_place(|| bare(config.path(), &[], &["auth", "status"], ""));
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{said}{}", stderr(&output));
    assert!(said.contains("account: acme-analytics (from profile default in "), "{said}");
    assert!(said.contains("key: from profile default in "), "{said}");
    assert!(!said.contains("fake-api-key") && !stderr(&output).contains("fake-api-key"), "{said}");

    // Flags, then the environment, then the profile.
    let env = [("XPLENTY_API_KEY", "env-key")];
    let output = tokio::task::block_in_place(|| bare(config.path(), &env, &["auth", "status"], ""));
    assert!(String::from_utf8_lossy(&output.stdout).contains("key: from $XPLENTY_API_KEY"));
    let output =
        tokio::task::block_in_place(|| bare(config.path(), &env, &["auth", "status", "--api-key", "flag-key"], ""));
    assert!(String::from_utf8_lossy(&output.stdout).contains("key: from --api-key"));
    // The environment's key wins over the profile's: the fake refuses it (exit 7).
    let output = tokio::task::block_in_place(|| bare(config.path(), &env, &["clusters", "get", "812"], ""));
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    // A profile named but absent is a credentials error; XPLENTY_PROFILE names one too.
    let output = tokio::task::block_in_place(|| {
        bare(config.path(), &[("XPLENTY_PROFILE", "other")], &["clusters", "get", "812"], "")
    });
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert!(stderr(&output).contains("no profile other in "), "{}", stderr(&output));

    let output = tokio::task::block_in_place(|| bare(config.path(), &[], &["auth", "logout"], ""));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = tokio::task::block_in_place(|| bare(config.path(), &[], &["clusters", "get", "812"], ""));
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_shows_each_call_and_never_the_key() {
    let fake = FakeXplenty::start().await.unwrap();
    fake.inject("get_cluster", Fault::Status(503, "busy".to_owned()), 1);
    let output = xplenty(&fake, "fake-api-key", &["clusters", "get", "812", "--debug"]).await;
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("debug: get_cluster: attempt 1 failed"), "{said}");
    assert!(said.contains("retrying in"), "{said}");
    let line = said.lines().find(|l| l.contains("-> 200")).unwrap_or_else(|| panic!("{said}"));
    assert!(line.starts_with("debug: get_cluster GET /clusters/{cluster_id} -> 200, attempt 2, "), "{line}");
    assert!(line.contains(" left"), "rate limit: {line}");
    assert!(!said.contains("fake-api-key") && !said.to_lowercase().contains("authorization"), "{said}");
    assert!(!said.contains("ZmFrZS1hcGkta2V5"), "the key in Basic form: {said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_wait_and_schedules_run_wait_exit_as_jobs_run_wait() {
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let job = ok(&fake, &["jobs", "run", "--package", "2041", "--cluster", "812"]).await;
    let id = job["id"].to_string();
    let output = xplenty(&fake, "fake-api-key", &["jobs", "wait", &id, "--poll", "0.1"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let waited: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(waited["status"], "completed");

    fake.fail_jobs(true);
    let job = ok(&fake, &["jobs", "run", "--package", "2041", "--cluster", "812"]).await;
    let output = xplenty(&fake, "fake-api-key", &["jobs", "wait", &job["id"].to_string(), "--poll", "0.1"]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let output = xplenty(&fake, "fake-api-key", &["jobs", "wait", "999999"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    // The schedule's run starts a job (the fake, like the service, names the schedule as its
    // creator); the wait exits as `jobs run --wait` does: 3 while jobs fail, 0 once they complete.
    let output =
        xplenty(&fake, "fake-api-key", &["schedules", "run", "55", "--wait", "--timeout", "60", "--poll", "0.1"]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("schedule 55 started job"), "{}", stderr(&output));
    fake.fail_jobs(false);
    let output =
        xplenty(&fake, "fake-api-key", &["schedules", "run", "55", "--wait", "--timeout", "60", "--poll", "0.1"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let account = ok(&fake, &["account"]).await;
    assert_eq!(account["account_id"], "acme-analytics");
}

#[tokio::test(flavor = "multi_thread")]
async fn help_actions_no_longer_shadow_help() {
    let fake = FakeXplenty::start().await.unwrap();
    let output = tokio::task::block_in_place(|| bare(&no_config(), &[], &["clusters", "help", "list"], ""));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("List clusters"));
    ok(&fake, &["clusters", "api-help"]).await;
    let output = xplenty(&fake, "fake-api-key", &["clusters", "create", "--help"]).await;
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(!help.contains("wait_for_") && help.contains("xplenty clusters wait"), "{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_are_accepted_as_they_are_and_refusals_name_the_field() {
    let fake = FakeXplenty::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (command, extra) in [
        (&["hooks", "create"][..], &["--type", "web"][..]),
        (&["hooks", "create"][..], &["--type", "email"][..]),
        (&["clusters", "create"][..], &[][..]),
        (&["jobs", "run"][..], &[][..]),
    ] {
        let args: Vec<&str> = command.iter().chain(extra).copied().chain(["--body-template"]).collect();
        let output = xplenty(&fake, "fake-api-key", &args).await;
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        let template: Value = serde_json::from_slice(&output.stdout).unwrap();
        let file = dir.path().join("body.json");
        std::fs::write(&file, template.to_string()).unwrap();
        let body = format!("@{}", file.display());
        let made = ok(&fake, &command.iter().copied().chain(["--body", &body]).collect::<Vec<_>>()).await;
        assert!(made["id"].is_number(), "{args:?}: {made}");
    }
    let calls = fake.calls();
    let output = xplenty(&fake, "fake-api-key", &["hooks", "create", "--body", r#"{"name": "x"}"#]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`type` is required: one of web, slack, hipchat, email, pagerduty"),
        "{}",
        stderr(&output)
    );
    let output = xplenty(&fake, "fake-api-key", &["hooks", "create", "--type", "slack"]).await;
    assert!(stderr(&output).contains("is required for type slack"), "{}", stderr(&output));
    assert_eq!(fake.calls(), calls, "refused before any call");
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonl_prints_lines_before_the_last_page_and_stops_at_the_limit() {
    let fake = FakeXplenty::start().await.unwrap();
    let client = fake.client();
    for _ in 0..25 {
        client.create_cluster().body(xplenty_api::types::ClusterCreate::builder().nodes(2)).send().await.unwrap();
    }
    // The first page at once, the second after a long while.
    fake.inject("list_clusters", Fault::Delay(Duration::ZERO), 1);
    fake.inject("list_clusters", Fault::Delay(Duration::from_secs(3)), 1);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xplenty"))
        .args(["clusters", "list", "-o", "jsonl"])
        .args(["--base-url", fake.base_url(), "--account", "acme-analytics", "--api-key", "fake-api-key"])
        .env("XDG_CONFIG_HOME", no_config())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::task::block_in_place(|| lines.next()).unwrap().unwrap();
    let pages = answered(&fake, "list_clusters").len();
    assert_eq!(pages, 1, "the first line came before the second page was answered");
    assert!(serde_json::from_str::<Value>(&first).unwrap()["id"].is_number());
    let rest: Vec<String> = tokio::task::block_in_place(|| lines.map_while(Result::ok).collect());
    assert_eq!(rest.len() + 1, 26, "every cluster, one a line");
    assert!(tokio::task::block_in_place(|| child.wait()).unwrap().success());

    let output = xplenty(&fake, "fake-api-key", &["clusters", "list", "-o", "jsonl", "--limit", "3"]).await;
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 3);
}
