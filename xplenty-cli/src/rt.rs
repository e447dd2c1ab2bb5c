//! The hand-written runtime the generated commands call: flag text to typed values,
//! bodies, output, the exit codes and the waits.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};
use futures::{Stream, StreamExt as _};
use serde_json::{Map, Value};
use xplenty_api::WaitError;
use xplenty_api::types::{ClusterStatus, Job, JobStatus};

/// The exit codes of `xplenty`, documented in the README and in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: the call succeeded (and the job completed, the cluster got where it was asked).
    Ok,
    /// 3: the job waited for ended `failed`.
    JobFailed,
    /// 4: the job waited for ended `stopped`.
    JobStopped,
    /// 5: the deadline of a wait passed (`--timeout`).
    DeadlinePassed,
    /// 6: the cluster waited for settled in another state (such as `error`).
    ClusterElsewhere,
}

/// 1: any error (the API's, the network's, bad flags the client refuses).
pub const EXIT_ERROR: u8 = 1;
/// 2: the command line does not parse (clap's usage errors).
pub const EXIT_USAGE: u8 = 2;

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::JobFailed => 3,
            Outcome::JobStopped => 4,
            Outcome::DeadlinePassed => 5,
            Outcome::ClusterElsewhere => 6,
        }
    }
}

/// What went wrong, printed as one line: `error: <this>`.
#[derive(Debug)]
pub enum CliError {
    Api(xplenty_api::Error),
    Config(xplenty_api::ConfigError),
    Input(String),
    Io(std::io::Error),
}

impl CliError {
    pub fn unknown(parent: &str, name: Option<&str>) -> Self {
        CliError::Input(match name {
            Some(name) => format!("`{parent} {name}` is no command"),
            None => format!("`{parent}` needs a command"),
        })
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut source: Option<&dyn std::error::Error> = match self {
            CliError::Api(e) => {
                write!(f, "{e}")?;
                std::error::Error::source(e)
            }
            CliError::Config(e) => {
                write!(f, "{e}")?;
                std::error::Error::source(e)
            }
            CliError::Input(message) => return f.write_str(message),
            CliError::Io(e) => return write!(f, "{e}"),
        };
        // One line: the causes follow the message, separated by colons.
        while let Some(cause) = source {
            write!(f, ": {}", cause.to_string().replace('\n', " "))?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<xplenty_api::Error> for CliError {
    fn from(e: xplenty_api::Error) -> Self {
        CliError::Api(e)
    }
}

impl From<xplenty_api::ConfigError> for CliError {
    fn from(e: xplenty_api::ConfigError) -> Self {
        CliError::Config(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Io(e)
    }
}

/// How a flag's text becomes JSON, after the schema's type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    /// Repeated or comma-separated values of one kind.
    Array(&'static Kind),
    /// `KEY=VALUE`, repeated: an object of strings.
    Map,
    /// The text is JSON.
    Json,
}

/// A body field set by a flag.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// As on the wire.
    pub name: &'static str,
    /// The clap id (the long flag).
    pub id: &'static str,
    pub kind: Kind,
}

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
}

/// What every command sees besides its own flags.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub format: Format,
    /// Pretty JSON (stdout is a terminal).
    pub pretty: bool,
    /// Progress bars (stderr is a terminal).
    pub progress: bool,
    /// Time between polls of a wait unless `--poll` says otherwise.
    pub poll: Duration,
}

fn scalar(label: &str, kind: &Kind, text: &str) -> Result<Value, CliError> {
    let bad = |what: &str| CliError::Input(format!("{label}: `{text}` is not {what}"));
    Ok(match kind {
        Kind::String => Value::String(text.to_owned()),
        Kind::Integer => match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(text.parse::<u64>().map_err(|_| bad("an integer"))?),
        },
        Kind::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| bad("a number"))?,
        Kind::Boolean => match text {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => return Err(bad("true or false")),
        },
        Kind::Json => serde_json::from_str(text).map_err(|e| CliError::Input(format!("{label}: not JSON: {e}")))?,
        Kind::Array(inner) => Value::Array(vec![scalar(label, inner, text)?]),
        Kind::Map => {
            let (key, value) =
                text.split_once('=').ok_or_else(|| CliError::Input(format!("{label}: `{text}` is not KEY=VALUE")))?;
            let mut map = Map::new();
            map.insert(key.to_owned(), Value::String(value.to_owned()));
            Value::Object(map)
        }
    })
}

/// The JSON a flag's text stands for, or `None` when the flag is not given.
fn value_of(m: &ArgMatches, id: &str, kind: &Kind) -> Result<Option<Value>, CliError> {
    let label = format!("--{id}");
    match kind {
        Kind::Array(inner) => {
            let Some(values) = m.get_many::<String>(id) else { return Ok(None) };
            Ok(Some(Value::Array(values.map(|v| scalar(&label, inner, v)).collect::<Result<_, _>>()?)))
        }
        Kind::Map => {
            let Some(values) = m.get_many::<String>(id) else { return Ok(None) };
            let mut map = Map::new();
            for value in values {
                if let Value::Object(one) = scalar(&label, kind, value)? {
                    map.extend(one);
                }
            }
            Ok(Some(Value::Object(map)))
        }
        _ => m.get_one::<String>(id).map(|text| scalar(&label, kind, text)).transpose(),
    }
}

/// A JSON value as the Rust type a builder wants; the error names the flag.
pub fn from_json<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, CliError> {
    serde_json::from_value(value).map_err(|e| CliError::Input(format!("{what}: {e}")))
}

/// An optional flag's value, typed.
pub fn optional<T: serde::de::DeserializeOwned>(m: &ArgMatches, id: &str, kind: &Kind) -> Result<Option<T>, CliError> {
    value_of(m, id, kind)?.map(|value| from_json(value, &format!("--{id}"))).transpose()
}

/// A positional argument's value, typed.
pub fn required<T: serde::de::DeserializeOwned>(m: &ArgMatches, id: &str, kind: &Kind) -> Result<T, CliError> {
    let text = m.get_one::<String>(id).ok_or_else(|| CliError::Input(format!("{} is required", id.to_uppercase())))?;
    from_json(scalar(&id.to_uppercase(), kind, text)?, &id.to_uppercase())
}

/// The body: `--body` (inline JSON, `@file` or `-`), then the field flags over it.
pub fn body(m: &ArgMatches, fields: &[Field]) -> Result<Value, CliError> {
    let mut body = match m.get_one::<String>("body").map(String::as_str) {
        None => Value::Object(Map::new()),
        Some(source) => {
            let text = if source == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text
            } else if let Some(path) = source.strip_prefix('@') {
                std::fs::read_to_string(path)
                    .map_err(|e| CliError::Input(format!("--body: cannot read {path}: {e}")))?
            } else {
                source.to_owned()
            };
            serde_json::from_str(&text).map_err(|e| CliError::Input(format!("--body: not JSON: {e}")))?
        }
    };
    for field in fields {
        if field.name == "cluster_id" && m.get_one::<String>(field.id).map(String::as_str) == Some(AUTO_CLUSTER) {
            // Chosen by `auto_cluster` once the rest of the body is known to be right.
            continue;
        }
        let Some(value) = value_of(m, field.id, &field.kind)? else { continue };
        let Value::Object(object) = &mut body else {
            return Err(CliError::Input(format!("--{} needs --body to be a JSON object", field.id)));
        };
        object.insert(field.name.to_owned(), value);
    }
    Ok(body)
}

/// `--limit` of a paged list: how many items to show in all.
pub fn max_items(m: &ArgMatches) -> Option<u64> {
    m.get_one::<u64>("limit").copied()
}

/// Prints an answer.
pub fn print<T: serde::Serialize + ?Sized>(ctx: &Ctx, resource: &str, value: &T) -> Result<Outcome, CliError> {
    let value = serde_json::to_value(value).map_err(|e| CliError::Input(format!("cannot show the answer: {e}")))?;
    emit(ctx, resource, &value)?;
    Ok(Outcome::Ok)
}

/// Reads every page (up to `max` items) and prints them as one array.
pub async fn print_list<T: serde::Serialize>(
    ctx: &Ctx,
    resource: &str,
    stream: impl Stream<Item = Result<T, xplenty_api::Error>> + Unpin,
    max: Option<u64>,
) -> Result<Outcome, CliError> {
    let mut stream = stream.take(max.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX)));
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(serde_json::to_value(item?).map_err(|e| CliError::Input(format!("cannot show the answer: {e}")))?);
    }
    emit(ctx, resource, &Value::Array(items))?;
    Ok(Outcome::Ok)
}

/// An answer without a body: nothing to print.
pub fn print_empty(_ctx: &Ctx, _operation: &str) -> Result<Outcome, CliError> {
    Ok(Outcome::Ok)
}

/// The columns `--output table` shows for a resource.
fn columns(resource: &str) -> &'static [&'static str] {
    match resource {
        "clusters" => &["id", "name", "status", "type", "nodes", "running_jobs_count"],
        "jobs" => &["id", "status", "progress", "package_id", "cluster_id", "created_at"],
        "packages" => &["id", "name", "status", "flow_type", "updated_at"],
        "schedules" => &["id", "name", "status", "next_run_at", "last_run_status"],
        _ => &[],
    }
}

fn emit(ctx: &Ctx, resource: &str, value: &Value) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let columns = columns(resource);
    let rows: Option<Vec<&Value>> = match value {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Object(_) => Some(vec![value]),
        _ => None,
    };
    match (ctx.format, rows) {
        (Format::Table, Some(rows)) if !columns.is_empty() => {
            out.write_all(table(columns, &rows).as_bytes())?;
        }
        _ => {
            let text = if ctx.pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
            writeln!(out, "{}", text.map_err(|e| CliError::Input(e.to_string()))?)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A plain text table, one row per item.
pub fn table(columns: &[&str], rows: &[&Value]) -> String {
    let cell = |row: &Value, column: &str| match row.get(column) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|row| columns.iter().map(|c| cell(row, c)).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).chain([c.len()]).max().unwrap_or(0))
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(columns.iter().map(|c| c.to_uppercase()).collect());
    for row in cells {
        text.push_str(&line(row));
    }
    text
}

/// The flags every command has.
pub fn global_args() -> Vec<Arg> {
    vec![
        Arg::new("account")
            .long("account")
            .global(true)
            .help_heading("Global options")
            .value_name("ID")
            .help("Account id (slug); default $XPLENTY_ACCOUNT_ID"),
        Arg::new("api-key")
            .long("api-key")
            .global(true)
            .help_heading("Global options")
            .value_name("KEY")
            .help("API key; default $XPLENTY_API_KEY. Never printed"),
        Arg::new("base-url")
            .long("base-url")
            .global(true)
            .help_heading("Global options")
            .value_name("URL")
            .help("API host; default $XPLENTY_BASE_URL, else https://api.xplenty.com"),
        Arg::new("output")
            .long("output")
            .short('o')
            .global(true)
            .help_heading("Global options")
            .value_name("FORMAT")
            .value_parser(["json", "table"])
            .default_value("json")
            .help("json (pretty on a terminal), or table for clusters, jobs, packages and schedules"),
        Arg::new("fake")
            .long("fake")
            .global(true)
            .help_heading("Global options")
            .action(ArgAction::SetTrue)
            .help("Run against an embedded fake of the API whose jobs finish in seconds"),
    ]
}

fn wait_args(what: &str) -> Vec<Arg> {
    vec![
        Arg::new("timeout")
            .long("timeout")
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(u64))
            .help(format!("Give up waiting for the {what} after this long (exit code 5); default 6 hours")),
        Arg::new("poll")
            .long("poll")
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(f64))
            .help("Seconds between polls, each one API call; default 5"),
    ]
}

/// The `--cluster` value that reuses or creates a cluster.
const AUTO_CLUSTER: &str = "auto";

/// `jobs run --wait [--timeout S] [--poll S]`, and `--nodes`, `--keep-cluster` for
/// `--cluster auto`.
pub fn job_wait_args() -> Vec<Arg> {
    let mut args = vec![
        Arg::new("wait")
            .long("wait")
            .action(ArgAction::SetTrue)
            .help("Wait for the job to end; exit 0 when completed, 3 failed, 4 stopped, 5 deadline passed"),
        Arg::new("nodes")
            .long("nodes")
            .value_name("N")
            .value_parser(clap::value_parser!(u64))
            .default_value("2")
            .help("With --cluster auto: the nodes a reused or new cluster has"),
        Arg::new("keep-cluster")
            .long("keep-cluster")
            .action(ArgAction::SetTrue)
            .help("With --cluster auto: keep a cluster this run created instead of terminating it after --wait"),
    ];
    args.extend(wait_args("job"));
    args
}

/// `clusters wait ID --until available|terminated`, added next to the generated actions.
pub fn cluster_wait_command() -> clap::Command {
    clap::Command::new("wait")
        .about("Wait until a cluster is available or terminated")
        .long_about(
            "Wait until a cluster is available or terminated.\n\nPolls `get_cluster`. Exits 0 when the \
             cluster got there, 6 when it settled elsewhere (error, or terminated while waiting for \
             available), 5 when --timeout passed; prints the cluster as JSON.",
        )
        .arg(Arg::new("cluster_id").value_name("CLUSTER_ID").required(true).help("The numeric id of the cluster"))
        .arg(
            Arg::new("until")
                .long("until")
                .value_name("STATE")
                .value_parser(["available", "terminated"])
                .default_value("available")
                .help("available (or idle) or terminated"),
        )
        .args(wait_args("cluster"))
}

fn poll(m: &ArgMatches, ctx: &Ctx) -> Duration {
    m.get_one::<f64>("poll").and_then(|s| Duration::try_from_secs_f64(*s).ok()).unwrap_or(ctx.poll)
}

fn deadline(m: &ArgMatches) -> Option<Duration> {
    Some(m.get_one::<u64>("timeout").map_or(Duration::from_secs(6 * 3600), |s| Duration::from_secs(*s)))
}

fn bar(ctx: &Ctx, length: u64) -> indicatif::ProgressBar {
    if !ctx.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(length), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos:>3}% {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `--cluster auto`: an available or idle cluster of `--nodes` nodes, or a new one waited
/// for; its id goes into the body. Other values leave the body as it is.
pub async fn auto_cluster(
    client: &xplenty_api::Client,
    m: &ArgMatches,
    ctx: &Ctx,
    mut body: Value,
) -> Result<(Value, Option<xplenty_api::ClusterLease>), CliError> {
    if m.get_one::<String>("cluster-id").map(String::as_str) != Some(AUTO_CLUSTER) {
        return Ok((body, None));
    }
    let nodes = m.get_one::<u64>("nodes").copied().unwrap_or(2);
    let lease = client
        .acquire_cluster(nodes)
        .poll_interval(poll(m, ctx))
        .deadline(deadline(m))
        .send()
        .await
        .map_err(|e| CliError::Input(format!("--cluster auto: {e}")))?;
    if let Value::Object(object) = &mut body {
        object.insert("cluster_id".to_owned(), Value::from(lease.id()));
    }
    Ok((body, Some(lease)))
}

/// After `run_job`: print the job, or with `--wait` wait for it to end (and then
/// terminate a cluster `--cluster auto` created, unless `--keep-cluster`).
pub async fn after_run_job(
    client: &xplenty_api::Client,
    m: &ArgMatches,
    ctx: &Ctx,
    job: Job,
    lease: Option<xplenty_api::ClusterLease>,
) -> Result<Outcome, CliError> {
    if !m.get_flag("wait") {
        return print(ctx, "jobs", &job);
    }
    let outcome = wait_job(client, m, ctx, job).await;
    if let Some(lease) = lease.filter(|_| !m.get_flag("keep-cluster")) {
        lease.release().await.map_err(|e| CliError::Input(format!("releasing the cluster: {e}")))?;
    }
    outcome
}

async fn wait_job(client: &xplenty_api::Client, m: &ArgMatches, ctx: &Ctx, job: Job) -> Result<Outcome, CliError> {
    let bar = bar(ctx, 100);
    bar.set_prefix(format!("job {}", job.id));
    let watched = bar.clone();
    let waited = client
        .wait_for_job(job.id)
        .poll_interval(poll(m, ctx))
        .deadline(deadline(m))
        .on_event(move |event| {
            let job = &event.resource;
            watched.set_position(job.progress.map_or(0, |p| (p.clamp(0.0, 1.0) * 100.0).round() as u64));
            watched.set_message(job.status.to_string());
        })
        .until_done()
        .await;
    bar.finish_and_clear();
    match waited {
        Ok(job) => {
            print(ctx, "jobs", &job)?;
            Ok(match job.status {
                JobStatus::Completed => Outcome::Ok,
                JobStatus::Failed => Outcome::JobFailed,
                JobStatus::Stopped => Outcome::JobStopped,
                _ => Outcome::JobFailed,
            })
        }
        Err(e) => wait_error(&format!("job {}", job.id), e),
    }
}

fn wait_error(what: &str, e: WaitError) -> Result<Outcome, CliError> {
    match e {
        WaitError::Api(e) => Err(CliError::Api(e)),
        WaitError::TimedOut { .. } => {
            eprintln!("error: {what}: deadline passed: {e}");
            Ok(Outcome::DeadlinePassed)
        }
        other => Err(CliError::Input(format!("{what}: {other}"))),
    }
}

/// `xplenty clusters wait ID --until available|terminated`.
pub async fn wait_cluster(client: &xplenty_api::Client, m: &ArgMatches, ctx: &Ctx) -> Result<Outcome, CliError> {
    let id: u64 = required(m, "cluster_id", &Kind::Integer)?;
    let until_terminated = m.get_one::<String>("until").map(String::as_str) == Some("terminated");
    let started = tokio::time::Instant::now();
    let deadline = deadline(m);
    let poll = poll(m, ctx);
    let bar = bar(ctx, 1);
    bar.set_prefix(format!("cluster {id}"));
    loop {
        let left = deadline.map(|d| d.saturating_sub(started.elapsed()));
        let watched = bar.clone();
        let waited = client
            .wait_for_cluster(id)
            .poll_interval(poll)
            .deadline(left)
            .on_event(move |event| {
                watched.set_message(event.resource.status.to_string());
            })
            .until_done()
            .await;
        let cluster = match waited {
            Ok(cluster) => cluster,
            Err(e) => {
                bar.finish_and_clear();
                return wait_error(&format!("cluster {id}"), e);
            }
        };
        let status = cluster.status.clone();
        let arrived = match status {
            ClusterStatus::Terminated => Some(until_terminated),
            ClusterStatus::Error => Some(false),
            ClusterStatus::Available | ClusterStatus::Idle if !until_terminated => Some(true),
            _ => None,
        };
        if let Some(arrived) = arrived {
            bar.finish_and_clear();
            print(ctx, "clusters", &cluster)?;
            return Ok(if arrived { Outcome::Ok } else { Outcome::ClusterElsewhere });
        }
        // Available while waiting for terminated: keep polling.
        if deadline.is_some_and(|d| started.elapsed() + poll > d) {
            bar.finish_and_clear();
            eprintln!("error: cluster {id}: deadline passed: still {}", status);
            return Ok(Outcome::DeadlinePassed);
        }
        tokio::time::sleep(poll).await;
    }
}

/// Whether stdout and stderr are terminals.
pub fn terminals() -> (bool, bool) {
    (std::io::stdout().is_terminal(), std::io::stderr().is_terminal())
}
