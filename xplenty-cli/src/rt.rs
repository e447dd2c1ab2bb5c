//! The hand-written runtime the generated commands call: flag text to typed values,
//! bodies, output, the exit codes, the waits and what an interrupt cleans up.

use std::future::Future;
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};
use futures::{Stream, StreamExt as _, TryStreamExt as _};
use serde_json::{Map, Value};
use xplenty_api::WaitError;
use xplenty_api::types::{Cluster, ClusterCreate, ClusterStatus, Job, JobStatus};

/// How a run ended, as an exit code of `xplenty` (documented in the README and in
/// `--help`; errors are [`CliError::code`]).
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
    /// 130 (SIGINT) or 143 (SIGTERM): interrupted; what it created was cleaned up
    /// unless `--detach`.
    Interrupted(Signal),
}

/// 1: any other error (the API's, the network's).
pub const EXIT_ERROR: u8 = 1;
/// 2: a usage error: the command line does not parse, a value has the wrong type, a
/// required field is missing, the answer has no table form.
pub const EXIT_USAGE: u8 = 2;
/// 7: credentials: none given, malformed, or refused by the API (HTTP 401).
pub const EXIT_AUTH: u8 = 7;

/// The exit codes, as `--help` lists them.
pub const EXIT_CODES: &str = "Exit codes:\n  0    success\n  1    error (API, network)\n  2    usage error \
                              (bad flag or value, missing field, no table form)\n  3    job failed\n  4    job \
                              stopped\n  5    deadline of a wait passed\n  6    cluster settled in another state\n  \
                              7    credentials missing, malformed or refused (HTTP 401)\n  130  interrupted \
                              (SIGINT)\n  143  terminated (SIGTERM)";

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::JobFailed => 3,
            Outcome::JobStopped => 4,
            Outcome::DeadlinePassed => 5,
            Outcome::ClusterElsewhere => 6,
            Outcome::Interrupted(signal) => signal.code(),
        }
    }
}

/// What went wrong, printed as one line: `error: <this>`.
#[derive(Debug)]
pub enum CliError {
    Api(xplenty_api::Error),
    Config(xplenty_api::ConfigError),
    /// No account or key given (exit 7).
    Credentials(String),
    /// A usage error (exit 2).
    Usage(String),
    Input(String),
    Io(std::io::Error),
}

impl CliError {
    pub fn unknown(parent: &str, name: Option<&str>) -> Self {
        CliError::Usage(match name {
            Some(name) => format!("`{parent} {name}` is no command"),
            None => format!("`{parent}` needs a command"),
        })
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Api(e) if e.status() == Some(401) => EXIT_AUTH,
            CliError::Config(_) | CliError::Credentials(_) => EXIT_AUTH,
            CliError::Usage(_) => EXIT_USAGE,
            _ => EXIT_ERROR,
        }
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
            CliError::Credentials(message) | CliError::Usage(message) | CliError::Input(message) => {
                return f.write_str(&message.replace('\n', " "));
            }
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

/// The client, built only when a command has read and typed all its inputs: a usage
/// error never needs a credential.
#[derive(Debug)]
pub enum Connect {
    /// `--fake`: a client of the embedded fake (never built without the feature `fake`).
    #[cfg_attr(not(feature = "fake"), allow(dead_code))]
    Ready(xplenty_api::Client),
    /// From the flags, else the environment, else the profile.
    Settings(crate::profile::Settings),
}

impl Connect {
    pub fn client(&self) -> Result<xplenty_api::Client, CliError> {
        let settings = match self {
            Connect::Ready(client) => {
                crate::debug::client(client);
                return Ok(client.clone());
            }
            Connect::Settings(settings) => settings,
        };
        if let Some(problem) = &settings.problem {
            return Err(CliError::Credentials(problem.clone()));
        }
        let missing = |flag: &str, var: &str| {
            CliError::Credentials(format!("no {flag}: give --{flag}, set {var} or run xplenty auth login"))
        };
        let account = settings.account.as_ref().ok_or_else(|| missing("account", "XPLENTY_ACCOUNT_ID"))?;
        let key = settings.key.as_ref().ok_or_else(|| missing("api-key", "XPLENTY_API_KEY"))?;
        let mut builder = xplenty_api::ClientBuilder::new(account.value.clone(), &key.value)
            .user_agent(concat!("xplenty-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(base_url) = &settings.base_url {
            builder = builder.base_url(base_url.value.clone());
        }
        let client = builder.build()?;
        crate::debug::client(&client);
        Ok(client)
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
    /// One compact JSON value a line; a list's items each as they arrive.
    Jsonl,
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
    /// SIGINT and SIGTERM, for the commands that wait.
    pub signals: Signals,
}

// Value parsers: clap checks each flag's text with these, so a value of the wrong type is
// a usage error (exit 2) found before anything else. They keep the text: `scalar` turns
// it into JSON later.

/// An integer (signed or unsigned 64 bits).
pub fn parse_integer(text: &str) -> Result<String, String> {
    if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is not an integer"))
    }
}

/// `jobs run --cluster`: an id, or `auto`.
pub fn parse_cluster(text: &str) -> Result<String, String> {
    if text == AUTO_CLUSTER {
        return Ok(text.to_owned());
    }
    parse_integer(text).map_err(|_| format!("`{text}` is neither a cluster id nor `auto`"))
}

/// A finite number.
pub fn parse_number(text: &str) -> Result<String, String> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(text.to_owned()),
        _ => Err(format!("`{text}` is not a number")),
    }
}

/// `true`/`false` (also `yes`/`no`, `1`/`0`).
pub fn parse_boolean(text: &str) -> Result<String, String> {
    match text {
        "true" | "yes" | "1" | "false" | "no" | "0" => Ok(text.to_owned()),
        _ => Err(format!("`{text}` is not true or false")),
    }
}

/// `KEY=VALUE`.
pub fn parse_key_value(text: &str) -> Result<String, String> {
    if text.contains('=') { Ok(text.to_owned()) } else { Err(format!("`{text}` is not KEY=VALUE")) }
}

/// JSON text.
pub fn parse_json(text: &str) -> Result<String, String> {
    serde_json::from_str::<Value>(text).map(|_| text.to_owned()).map_err(|e| format!("not JSON: {e}"))
}

fn scalar(label: &str, kind: &Kind, text: &str) -> Result<Value, CliError> {
    let bad = |what: &str| CliError::Usage(format!("{label}: `{text}` is not {what}"));
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
        Kind::Json => serde_json::from_str(text).map_err(|e| CliError::Usage(format!("{label}: not JSON: {e}")))?,
        Kind::Array(inner) => Value::Array(vec![scalar(label, inner, text)?]),
        Kind::Map => {
            let (key, value) = text.split_once('=').ok_or_else(|| bad("KEY=VALUE"))?;
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

/// A JSON value as the Rust type a builder wants; the error (a usage error) names the flag.
pub fn from_json<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, CliError> {
    serde_json::from_value(value).map_err(|e| CliError::Usage(format!("{what}: {e}")))
}

/// An optional flag's value, typed.
pub fn optional<T: serde::de::DeserializeOwned>(m: &ArgMatches, id: &str, kind: &Kind) -> Result<Option<T>, CliError> {
    value_of(m, id, kind)?.map(|value| from_json(value, &format!("--{id}"))).transpose()
}

/// A positional argument's value, typed.
pub fn required<T: serde::de::DeserializeOwned>(m: &ArgMatches, id: &str, kind: &Kind) -> Result<T, CliError> {
    let text = m.get_one::<String>(id).ok_or_else(|| CliError::Usage(format!("{} is required", id.to_uppercase())))?;
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
                    .map_err(|e| CliError::Usage(format!("--body: cannot read {path}: {e}")))?
            } else {
                source.to_owned()
            };
            serde_json::from_str(&text).map_err(|e| CliError::Usage(format!("--body: not JSON: {e}")))?
        }
    };
    for field in fields {
        if field.name == "cluster_id" && is_auto(m) {
            // Chosen by `run_job` once the rest of the body is known to be right.
            continue;
        }
        let Some(value) = value_of(m, field.id, &field.kind)? else { continue };
        let Value::Object(object) = &mut body else {
            return Err(CliError::Usage(format!("--{} needs --body to be a JSON object", field.id)));
        };
        object.insert(field.name.to_owned(), value);
    }
    Ok(body)
}

/// Whether `jobs run` was given `--cluster auto`.
fn is_auto(m: &ArgMatches) -> bool {
    m.try_get_one::<String>("cluster-id").ok().flatten().map(String::as_str) == Some(AUTO_CLUSTER)
}

/// Checks the body of `jobs run` before any call: with `--cluster auto`, as if the
/// cluster were chosen already.
pub fn check_run_body<T: serde::de::DeserializeOwned>(m: &ArgMatches, body: &Value) -> Result<(), CliError> {
    let mut body = body.clone();
    if is_auto(m)
        && let Value::Object(object) = &mut body
    {
        object.insert("cluster_id".to_owned(), Value::from(0_u64));
    }
    from_json::<T>(body, "the body").map(|_| ())
}

/// `--limit` of a paged list: how many items to show in all.
pub fn max_items(m: &ArgMatches) -> Option<u64> {
    m.get_one::<u64>("limit").copied()
}

/// Writes to stdout; a closed pipe (the reader went away, as `| head -1` does) ends the
/// output quietly instead of failing.
pub fn out(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One line on stderr; a closed stderr is ignored (there is nowhere else to say it).
pub fn note(line: impl std::fmt::Display) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Prints an answer; `schema` is the spec's name of its type (chooses table columns).
pub fn print<T: serde::Serialize + ?Sized>(ctx: &Ctx, schema: &str, value: &T) -> Result<Outcome, CliError> {
    let value = serde_json::to_value(value).map_err(|e| CliError::Input(format!("cannot show the answer: {e}")))?;
    emit(ctx, schema, &value)?;
    Ok(Outcome::Ok)
}

/// Reads every page (up to `max` items) and prints them as one array; with `-o jsonl`,
/// each item on its own line as soon as its page arrived.
pub async fn print_list<T: serde::Serialize>(
    ctx: &Ctx,
    schema: &str,
    stream: impl Stream<Item = Result<T, xplenty_api::Error>> + Unpin,
    max: Option<u64>,
) -> Result<Outcome, CliError> {
    let mut stream = stream.take(max.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX)));
    if ctx.format == Format::Jsonl {
        while let Some(item) = stream.next().await {
            let mut line =
                serde_json::to_string(&item?).map_err(|e| CliError::Input(format!("cannot show the answer: {e}")))?;
            line.push('\n');
            out(line.as_bytes())?;
        }
        return Ok(Outcome::Ok);
    }
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(serde_json::to_value(item?).map_err(|e| CliError::Input(format!("cannot show the answer: {e}")))?);
    }
    emit(ctx, schema, &Value::Array(items))?;
    Ok(Outcome::Ok)
}

/// An answer without a body: nothing to print.
pub fn print_empty(_ctx: &Ctx, _operation: &str) -> Result<Outcome, CliError> {
    Ok(Outcome::Ok)
}

/// `-o table` for an answer that has no table form (`what` it is): a usage error, said
/// before the call.
pub fn no_table(ctx: &Ctx, what: &str) -> Result<(), CliError> {
    if ctx.format == Format::Table {
        return Err(CliError::Usage(format!("the answer is {what} and has no table form; use --output json")));
    }
    Ok(())
}

/// The columns a table of items of this schema shows first, when the items have them;
/// the rest of their keys follow.
fn first_columns(schema: &str) -> &'static [&'static str] {
    match schema {
        "Cluster" => &["id", "name", "status", "type", "nodes", "running_jobs_count"],
        "Job" => &["id", "status", "progress", "package_id", "cluster_id", "created_at"],
        "Package" => &["id", "name", "status", "flow_type", "updated_at"],
        "Schedule" => &["id", "name", "status", "next_run_at", "last_run_status"],
        _ => &["id", "name", "status"],
    }
}

/// Answers whose table form is one of their fields as text: schema -> field.
const TEXT_FIELDS: &[(&str, &str)] = &[("JobLog", "body")];

fn emit(ctx: &Ctx, schema: &str, value: &Value) -> Result<(), CliError> {
    if ctx.format != Format::Table {
        let pretty = ctx.pretty && ctx.format == Format::Json;
        let text = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
        let mut text = text.map_err(|e| CliError::Input(e.to_string()))?;
        text.push('\n');
        return out(text.as_bytes());
    }
    let text = table_form(schema, value)?;
    if text.is_empty() {
        note("(no items)");
        return Ok(());
    }
    out(text.as_bytes())
}

/// The table form of an answer, from its shape: an array of objects is one row per item,
/// one object is a row per field, text is the text; anything else has none.
pub fn table_form(schema: &str, value: &Value) -> Result<String, CliError> {
    let no = |what: &str| CliError::Usage(format!("the answer is {what} and has no table form; use --output json"));
    let text_field = TEXT_FIELDS.iter().find(|(s, _)| *s == schema).map(|(_, field)| *field);
    if let Some(Value::String(text)) = text_field.and_then(|field| value.get(field)) {
        return Ok(with_newline(text));
    }
    match value {
        Value::String(text) => Ok(with_newline(text)),
        Value::Array(items) if items.is_empty() => Ok(String::new()),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut columns: Vec<&str> =
                first_columns(schema).iter().copied().filter(|c| items.iter().any(|i| i.get(c).is_some())).collect();
            for item in items {
                for key in item.as_object().into_iter().flat_map(Map::keys) {
                    if !columns.contains(&key.as_str()) {
                        columns.push(key);
                    }
                }
            }
            let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
            let rows = items.iter().map(|item| columns.iter().map(|c| cell(item.get(c))).collect()).collect();
            Ok(table(header, rows))
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            Ok(table(vec!["VALUE".to_owned()], items.iter().map(|i| vec![cell(Some(i))]).collect()))
        }
        Value::Array(_) => Err(no("a list of mixed values")),
        Value::Object(object) => {
            let rows = object.iter().map(|(key, value)| vec![key.clone(), cell(Some(value))]).collect();
            Ok(table(vec!["FIELD".to_owned(), "VALUE".to_owned()], rows))
        }
        Value::Bool(_) => Err(no("a boolean")),
        Value::Number(_) => Err(no("a number")),
        Value::Null => Err(no("null")),
    }
}

fn with_newline(text: &str) -> String {
    if text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") }
}

/// A value as one cell: text as it is, nested values as compact JSON, on one line.
fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    text.replace(['\n', '\r', '\t'], " ")
}

/// A plain text table: a header and one line per row, columns padded to their widest cell.
pub fn table(header: Vec<String>, rows: Vec<Vec<String>>) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |values: &[String]| {
        let padded: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(&header);
    for row in &rows {
        text.push_str(&line(row));
    }
    text
}

/// The interrupt a command got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    /// 128 + the signal's number, as shells report it.
    pub fn code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

/// SIGINT and SIGTERM of the commands that wait, caught (tokio's handlers) only for them:
/// every other command ends on Ctrl-C as any program does. The first signal is seen by
/// the command, which cleans up; a second one exits at once.
#[derive(Debug, Clone, Default)]
pub struct Signals(Option<tokio::sync::watch::Receiver<Option<Signal>>>);

impl Signals {
    /// Signals not caught.
    pub fn none() -> Self {
        Signals(None)
    }

    /// Catches SIGINT and SIGTERM from now on. Call inside the runtime.
    pub fn catch() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let (tx, rx) = tokio::sync::watch::channel(None);
        tokio::spawn(async move {
            loop {
                let got = tokio::select! {
                    Some(()) = int.recv() => Signal::Int,
                    Some(()) = term.recv() => Signal::Term,
                    else => return,
                };
                if tx.borrow().is_some() {
                    note(format!("{}: exiting at once; what was not cleaned up is left running", got.name()));
                    std::process::exit(i32::from(got.code()));
                }
                let _ = tx.send(Some(got));
            }
        });
        Ok(Signals(Some(rx)))
    }

    /// The first signal: resolves once it came (at once if it came before), never when
    /// signals are not caught.
    pub async fn first(&self) -> Signal {
        let Some(rx) = &self.0 else { return std::future::pending().await };
        let mut rx = rx.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(signal) => signal.unwrap_or(Signal::Int),
            Err(_) => std::future::pending().await,
        }
    }
}

/// How long an interrupted command waits for the answers of its clean-up calls, and for
/// a create call in flight to tell the id it made.
const CLEANUP_WAIT: Duration = Duration::from_secs(10);

/// `fut`, unless a signal comes first.
async fn unless_interrupted<T>(ctx: &Ctx, fut: impl Future<Output = T>) -> Result<T, Signal> {
    tokio::select! {
        biased;
        signal = ctx.signals.first() => Err(signal),
        value = fut => Ok(value),
    }
}

/// A call that creates something, run to its answer even when a signal comes (up to
/// [`CLEANUP_WAIT`] after it), so that what it created is known and can be cleaned up.
async fn creating<T>(ctx: &Ctx, fut: impl Future<Output = T>) -> (Option<T>, Option<Signal>) {
    let mut fut = std::pin::pin!(fut);
    match unless_interrupted(ctx, fut.as_mut()).await {
        Ok(value) => (Some(value), None),
        Err(signal) => (tokio::time::timeout(CLEANUP_WAIT, fut).await.ok(), Some(signal)),
    }
}

/// What `jobs run` made so far, to clean up on an interrupt.
#[derive(Debug, Default)]
struct Made {
    /// A job it started that has not ended.
    job: Option<u64>,
    /// A cluster it created (`--cluster auto`) that it has not terminated.
    cluster: Option<u64>,
}

fn stop_hint(job: u64) -> String {
    format!("xplenty jobs stop {job}")
}

fn terminate_hint(cluster: u64) -> String {
    format!("xplenty clusters terminate {cluster}")
}

/// After a signal: stops the job and terminates the cluster (unless `--detach`; the
/// cluster not with `--keep-cluster`), each answer awaited at most [`CLEANUP_WAIT`], and
/// says what it did.
async fn clean_up(client: &xplenty_api::Client, m: &ArgMatches, made: &Made, signal: Signal) -> Outcome {
    let detach = m.get_flag("detach");
    let keep_cluster = m.get_flag("keep-cluster");
    note(format!("{}: interrupted", signal.name()));
    if made.job.is_none() && made.cluster.is_none() {
        note("nothing to clean up");
    }
    if let Some(job) = made.job {
        if detach {
            note(format!("job {job} left running (--detach); stop it with: {}", stop_hint(job)));
        } else {
            let stop = tokio::time::timeout(CLEANUP_WAIT, client.terminate_job().job_id(job).send()).await;
            match stop {
                Ok(Ok(_)) => note(format!("stopped job {job}")),
                Ok(Err(e)) => {
                    note(format!("could not stop job {job}: {}; stop it with: {}", CliError::Api(e), stop_hint(job)))
                }
                Err(_) => note(format!("no answer to stopping job {job}; stop it with: {}", stop_hint(job))),
            }
        }
    }
    if let Some(cluster) = made.cluster {
        if detach || keep_cluster {
            let why = if detach { "--detach" } else { "--keep-cluster" };
            note(format!("cluster {cluster} left running ({why}); terminate it with: {}", terminate_hint(cluster)));
        } else {
            let terminate =
                tokio::time::timeout(CLEANUP_WAIT, client.terminate_cluster().cluster_id(cluster).send()).await;
            match terminate {
                Ok(Ok(_)) => note(format!("terminated cluster {cluster}")),
                Ok(Err(e)) => note(format!(
                    "could not terminate cluster {cluster}: {}; terminate it with: {}",
                    CliError::Api(e),
                    terminate_hint(cluster)
                )),
                Err(_) => note(format!(
                    "no answer to terminating cluster {cluster}; terminate it with: {}",
                    terminate_hint(cluster)
                )),
            }
        }
    }
    Outcome::Interrupted(signal)
}

/// The flags every command has.
pub fn global_args() -> Vec<Arg> {
    vec![
        Arg::new("account")
            .long("account")
            .global(true)
            .help_heading("Global options")
            .value_name("ID")
            .help("Account id (slug); default $XPLENTY_ACCOUNT_ID, else the profile's"),
        Arg::new("api-key")
            .long("api-key")
            .global(true)
            .help_heading("Global options")
            .value_name("KEY")
            .help("API key; default $XPLENTY_API_KEY, else the profile's. Never printed"),
        Arg::new("base-url")
            .long("base-url")
            .global(true)
            .help_heading("Global options")
            .value_name("URL")
            .help("API host; default $XPLENTY_BASE_URL, else the profile's, else https://api.xplenty.com"),
        Arg::new("profile").long("profile").global(true).help_heading("Global options").value_name("NAME").help(
            "Profile of the config file (see `xplenty auth`); default $XPLENTY_PROFILE, else `default`. Flags \
                 win over the environment, which wins over the profile",
        ),
        Arg::new("debug").long("debug").global(true).help_heading("Global options").action(ArgAction::SetTrue).help(
            "Print each call on stderr: method, path, status, attempts, time, rate limit left, retries; never the key",
        ),
        Arg::new("output")
            .long("output")
            .short('o')
            .global(true)
            .help_heading("Global options")
            .value_name("FORMAT")
            .value_parser(["json", "jsonl", "table"])
            .default_value("json")
            .help(
                "json (pretty on a terminal); jsonl: one item a line, as each page arrives; or table: columns from \
                 the answer's fields, a field per row for one item, a log as text; exit 2 when the answer has no \
                 table form",
            ),
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
            .value_parser(parse_poll)
            .help("Seconds between polls, each one API call; default 5"),
    ]
}

/// `--poll`: a number of seconds a duration can hold.
fn parse_poll(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| Duration::try_from_secs_f64(*s).is_ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))
}

/// The `--cluster` value that reuses or creates a cluster.
const AUTO_CLUSTER: &str = "auto";

/// `jobs run --wait [--timeout S] [--poll S] [--detach]`, and `--nodes`, `--keep-cluster`
/// for `--cluster auto`.
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
        Arg::new("detach").long("detach").action(ArgAction::SetTrue).help(
            "On SIGINT or SIGTERM, leave the job and a cluster this run created running (and print how to \
                 stop them) instead of stopping the job and terminating the cluster",
        ),
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
             available), 5 when --timeout passed, 130/143 on SIGINT/SIGTERM (the cluster is left as it \
             is); prints the cluster as JSON.",
        )
        .arg(
            Arg::new("cluster_id")
                .value_name("CLUSTER_ID")
                .required(true)
                .value_parser(parse_integer)
                .help("The numeric id of the cluster"),
        )
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

/// `jobs run`: with `--cluster auto` a cluster first, then the job (`send` posts the
/// body), then with `--wait` the wait. Every id is on stderr as soon as it exists; a
/// signal cleans up what the run made (see [`clean_up`]).
pub async fn run_job<F, Fut>(
    client: &xplenty_api::Client,
    m: &ArgMatches,
    ctx: &Ctx,
    body: Value,
    send: F,
) -> Result<Outcome, CliError>
where
    F: FnOnce(Value) -> Fut,
    Fut: Future<Output = Result<Job, CliError>>,
{
    let mut made = Made::default();
    match run_job_steps(client, m, ctx, body, send, &mut made).await {
        Ok(Outcome::Interrupted(signal)) => Ok(clean_up(client, m, &made, signal).await),
        Ok(outcome) => {
            // A cluster made for a job that never started (its wait passed the deadline).
            if made.job.is_none()
                && let Some(cluster) = made.cluster
                && !m.get_flag("keep-cluster")
            {
                terminate_now(client, cluster).await;
            }
            Ok(outcome)
        }
        Err(e) => {
            if let Some(job) = made.job {
                note(format!("job {job} may still be running; stop it with: {}", stop_hint(job)));
            }
            if let Some(cluster) = made.cluster {
                if made.job.is_none() && !m.get_flag("keep-cluster") {
                    terminate_now(client, cluster).await;
                } else {
                    note(format!("cluster {cluster} is still running; terminate it with: {}", terminate_hint(cluster)));
                }
            }
            Err(e)
        }
    }
}

/// Terminates a cluster this run created, the answer awaited at most [`CLEANUP_WAIT`].
async fn terminate_now(client: &xplenty_api::Client, cluster: u64) {
    match tokio::time::timeout(CLEANUP_WAIT, client.terminate_cluster().cluster_id(cluster).send()).await {
        Ok(Ok(_)) => note(format!("terminated cluster {cluster}")),
        _ => note(format!("could not terminate cluster {cluster}; terminate it with: {}", terminate_hint(cluster))),
    }
}

async fn run_job_steps<F, Fut>(
    client: &xplenty_api::Client,
    m: &ArgMatches,
    ctx: &Ctx,
    mut body: Value,
    send: F,
    made: &mut Made,
) -> Result<Outcome, CliError>
where
    F: FnOnce(Value) -> Fut,
    Fut: Future<Output = Result<Job, CliError>>,
{
    if is_auto(m) {
        let cluster = match auto_cluster(client, m, ctx, made).await? {
            Ok(cluster) => cluster,
            Err(outcome) => return Ok(outcome),
        };
        if let Value::Object(object) = &mut body {
            object.insert("cluster_id".to_owned(), Value::from(cluster));
        }
    }
    let job = match creating(ctx, send(body)).await {
        (Some(Ok(job)), signal) => (job, signal),
        (Some(Err(e)), None) => return Err(e),
        (Some(Err(e)), Some(signal)) => {
            note(format!("starting the job failed: {e}"));
            return Ok(Outcome::Interrupted(signal));
        }
        (None, signal) => {
            note("no answer to starting the job in time: it may have started; see: xplenty jobs list");
            return Ok(Outcome::Interrupted(signal.unwrap_or(Signal::Int)));
        }
    };
    let (job, signal) = job;
    made.job = Some(job.id);
    note(format!("created job {} (stop it with: {})", job.id, stop_hint(job.id)));
    if let Some(signal) = signal {
        return Ok(Outcome::Interrupted(signal));
    }
    if !m.get_flag("wait") {
        // Not waited for: the job runs on, on a cluster made for it.
        if let Some(cluster) = made.cluster {
            note(format!(
                "cluster {cluster} runs on for job {}; terminate it with: {}",
                job.id,
                terminate_hint(cluster)
            ));
        }
        return print(ctx, "Job", &job);
    }
    let id = job.id;
    let outcome = wait_job(client, m, ctx, job).await?;
    match outcome {
        Outcome::Interrupted(_) => return Ok(outcome),
        Outcome::DeadlinePassed => {
            note(format!("job {id} is still running; stop it with: {}", stop_hint(id)));
            if let Some(cluster) = made.cluster {
                note(format!("cluster {cluster} runs on for it; terminate it with: {}", terminate_hint(cluster)));
            }
            return Ok(outcome);
        }
        _ => made.job = None,
    }
    if let Some(cluster) = made.cluster {
        if m.get_flag("keep-cluster") {
            made.cluster = None;
            note(format!("cluster {cluster} kept (--keep-cluster); terminate it with: {}", terminate_hint(cluster)));
        } else {
            match creating(ctx, client.terminate_cluster().cluster_id(cluster).send()).await {
                (Some(Ok(_)), signal) => {
                    made.cluster = None;
                    note(format!("terminated cluster {cluster}"));
                    if let Some(signal) = signal {
                        return Ok(Outcome::Interrupted(signal));
                    }
                }
                (Some(Err(e)), _) => {
                    return Err(CliError::Input(format!("terminating cluster {cluster}: {}", CliError::Api(e))));
                }
                (None, signal) => return Ok(Outcome::Interrupted(signal.unwrap_or(Signal::Int))),
            }
        }
    }
    Ok(outcome)
}

/// `--cluster auto`: an available or idle cluster of `--nodes` nodes, or a new one
/// (named on stderr at once) waited for. `Err` is how the run ends instead.
async fn auto_cluster(
    client: &xplenty_api::Client,
    m: &ArgMatches,
    ctx: &Ctx,
    made: &mut Made,
) -> Result<Result<u64, Outcome>, CliError> {
    let nodes = m.get_one::<u64>("nodes").copied().unwrap_or(2);
    let auto = |e: xplenty_api::Error| CliError::Input(format!("--cluster auto: {}", CliError::Api(e)));
    let fits =
        |c: &Cluster| matches!(c.status, ClusterStatus::Available | ClusterStatus::Idle) && c.nodes == Some(nodes);
    let mut found = client.list_clusters().stream_all().try_filter(|c| std::future::ready(fits(c)));
    match unless_interrupted(ctx, found.try_next()).await {
        Err(signal) => return Ok(Err(Outcome::Interrupted(signal))),
        Ok(found) => {
            if let Some(cluster) = found.map_err(auto)? {
                note(format!("using cluster {} ({nodes} nodes)", cluster.id));
                return Ok(Ok(cluster.id));
            }
        }
    }
    let create = client.create_cluster().body(ClusterCreate::builder().nodes(nodes));
    let (created, signal) = creating(ctx, create.send()).await;
    let id = match created {
        Some(Ok(cluster)) => cluster.into_inner().id,
        Some(Err(e)) if signal.is_none() => return Err(auto(e)),
        Some(Err(e)) => {
            note(format!("creating a cluster failed: {}", CliError::Api(e)));
            return Ok(Err(Outcome::Interrupted(signal.unwrap_or(Signal::Int))));
        }
        None => {
            note("no answer to creating a cluster in time: one may exist; see: xplenty clusters list");
            return Ok(Err(Outcome::Interrupted(signal.unwrap_or(Signal::Int))));
        }
    };
    made.cluster = Some(id);
    note(format!("created cluster {id} ({nodes} nodes; terminate it with: {})", terminate_hint(id)));
    if let Some(signal) = signal {
        return Ok(Err(Outcome::Interrupted(signal)));
    }
    let bar = bar(ctx, 1);
    bar.set_prefix(format!("cluster {id}"));
    let watched = bar.clone();
    let wait = client
        .wait_for_cluster(id)
        .until(ClusterStatus::Available)
        .poll_interval(poll(m, ctx))
        .deadline(deadline(m))
        .on_event(move |event| {
            watched.set_message(event.resource.status.to_string());
        })
        .until_done();
    let waited = unless_interrupted(ctx, wait).await;
    bar.finish_and_clear();
    match waited {
        Err(signal) => Ok(Err(Outcome::Interrupted(signal))),
        Ok(Ok(cluster)) if matches!(cluster.status, ClusterStatus::Available | ClusterStatus::Idle) => Ok(Ok(id)),
        Ok(Ok(cluster)) => {
            Err(CliError::Input(format!("--cluster auto: cluster {id} ended {} instead of available", cluster.status)))
        }
        Ok(Err(e)) => Ok(Err(wait_error(&format!("cluster {id}"), e)?)),
    }
}

async fn wait_job(client: &xplenty_api::Client, m: &ArgMatches, ctx: &Ctx, job: Job) -> Result<Outcome, CliError> {
    let bar = bar(ctx, 100);
    bar.set_prefix(format!("job {}", job.id));
    let watched = bar.clone();
    let wait = client
        .wait_for_job(job.id)
        .poll_interval(poll(m, ctx))
        .deadline(deadline(m))
        .on_event(move |event| {
            let job = &event.resource;
            watched.set_position(job.progress.map_or(0, |p| (p.clamp(0.0, 1.0) * 100.0).round() as u64));
            watched.set_message(job.status.to_string());
        })
        .until_done();
    let waited = unless_interrupted(ctx, wait).await;
    bar.finish_and_clear();
    match waited {
        Err(signal) => Ok(Outcome::Interrupted(signal)),
        Ok(Ok(job)) => {
            print(ctx, "Job", &job)?;
            Ok(match job.status {
                JobStatus::Completed => Outcome::Ok,
                JobStatus::Failed => Outcome::JobFailed,
                JobStatus::Stopped => Outcome::JobStopped,
                _ => Outcome::JobFailed,
            })
        }
        Ok(Err(e)) => wait_error(&format!("job {}", job.id), e),
    }
}

fn wait_error(what: &str, e: WaitError) -> Result<Outcome, CliError> {
    match e {
        WaitError::Api(e) => Err(CliError::Api(e)),
        WaitError::TimedOut { .. } => {
            note(format!("error: {what}: deadline passed: {e}"));
            Ok(Outcome::DeadlinePassed)
        }
        other => Err(CliError::Input(format!("{what}: {other}"))),
    }
}

/// `xplenty clusters wait ID --until available|terminated`. A signal ends the wait and
/// leaves the cluster as it is.
pub async fn wait_cluster(connect: &Connect, m: &ArgMatches, ctx: &Ctx) -> Result<Outcome, CliError> {
    let id: u64 = required(m, "cluster_id", &Kind::Integer)?;
    let client = connect.client()?;
    let until_terminated = m.get_one::<String>("until").map(String::as_str) == Some("terminated");
    let bar = bar(ctx, 1);
    bar.set_prefix(format!("cluster {id}"));
    let waited = unless_interrupted(ctx, wait_cluster_until(&client, m, ctx, id, until_terminated, &bar)).await;
    bar.finish_and_clear();
    match waited {
        Err(signal) => {
            note(format!("{}: interrupted; cluster {id} is left as it is", signal.name()));
            Ok(Outcome::Interrupted(signal))
        }
        Ok(Ok((cluster, arrived))) => {
            print(ctx, "Cluster", &cluster)?;
            Ok(if arrived { Outcome::Ok } else { Outcome::ClusterElsewhere })
        }
        Ok(Err(outcome)) => outcome,
    }
}

/// Polls until the cluster settles: it and whether it got where it was asked.
async fn wait_cluster_until(
    client: &xplenty_api::Client,
    m: &ArgMatches,
    ctx: &Ctx,
    id: u64,
    until_terminated: bool,
    bar: &indicatif::ProgressBar,
) -> Result<(Cluster, bool), Result<Outcome, CliError>> {
    let started = tokio::time::Instant::now();
    let deadline = deadline(m);
    let poll = poll(m, ctx);
    loop {
        let left = deadline.map(|d| d.saturating_sub(started.elapsed()));
        let watched = bar.clone();
        let cluster = client
            .wait_for_cluster(id)
            .poll_interval(poll)
            .deadline(left)
            .on_event(move |event| {
                watched.set_message(event.resource.status.to_string());
            })
            .until_done()
            .await
            .map_err(|e| wait_error(&format!("cluster {id}"), e))?;
        let status = cluster.status.clone();
        let arrived = match status {
            ClusterStatus::Terminated => Some(until_terminated),
            ClusterStatus::Error => Some(false),
            ClusterStatus::Available | ClusterStatus::Idle if !until_terminated => Some(true),
            _ => None,
        };
        if let Some(arrived) = arrived {
            return Ok((cluster, arrived));
        }
        // Available while waiting for terminated: keep polling.
        if deadline.is_some_and(|d| started.elapsed().saturating_add(poll) > d) {
            note(format!("error: cluster {id}: deadline passed: still {status}"));
            return Err(Ok(Outcome::DeadlinePassed));
        }
        tokio::time::sleep(poll).await;
    }
}

/// The rules the generated commands check bodies by: the fake's 422 names a refused body
/// by the same ones, in the same words.
pub use xplenty_api::body_rules::{Rule, Rules};

/// Refuses a body that lacks a required field, naming it and its allowed values
/// ("`type` is required: one of web, slack, ..."), before serde's wording would.
pub fn check_body(body: &Value, rules: &Rules<'_>) -> Result<(), CliError> {
    match xplenty_api::body_rules::refusal(body, rules) {
        Some(refusal) => Err(CliError::Usage(format!("{refusal} (see --body-template)"))),
        None => Ok(()),
    }
}

/// `--body-template`: prints the starting body (the one for `--TAG` of a union body, when
/// given) and ends the command; `None` without the flag.
pub fn body_template(m: &ArgMatches, tag_flag: &str, templates: &[(&str, &str)]) -> Result<Option<Outcome>, CliError> {
    if !m.get_flag("body-template") {
        return Ok(None);
    }
    let tag = if tag_flag.is_empty() { None } else { m.get_one::<String>(tag_flag).map(String::as_str) };
    let template =
        templates.iter().find(|(t, _)| Some(*t) == tag).or_else(|| templates.first()).map_or("{}", |(_, text)| *text);
    out(format!("{template}\n").as_bytes())?;
    Ok(Some(Outcome::Ok))
}

/// `jobs wait ID`: as `jobs run --wait` for a job already running.
pub fn job_wait_command() -> clap::Command {
    clap::Command::new("wait")
        .about("Wait for a job to end")
        .long_about(
            "Wait for a job to end.\n\nPolls the job until it ends and prints it as JSON. Exits 0 when it \
             completed, 3 failed, 4 stopped, 5 when --timeout passed, 130/143 on SIGINT/SIGTERM (the job is \
             left running).",
        )
        .arg(
            Arg::new("job_id")
                .value_name("JOB_ID")
                .required(true)
                .value_parser(parse_integer)
                .help("The numeric id of the job"),
        )
        .args(wait_args("job"))
}

/// `schedules run ID --wait [--timeout S] [--poll S]`.
pub fn schedule_wait_args() -> Vec<Arg> {
    let mut args = vec![Arg::new("wait").long("wait").action(ArgAction::SetTrue).help(
        "Wait for the job the run started to end; exit 0 when completed, 3 failed, 4 stopped, 5 when no job \
         appeared or it did not end before --timeout",
    )];
    args.extend(wait_args("job"));
    args
}

/// `xplenty jobs wait ID`.
pub async fn wait_job_by_id(connect: &Connect, m: &ArgMatches, ctx: &Ctx) -> Result<Outcome, CliError> {
    let id: u64 = required(m, "job_id", &Kind::Integer)?;
    let client = connect.client()?;
    let job = match unless_interrupted(ctx, client.get_job().job_id(id).send()).await {
        Err(signal) => return Ok(Outcome::Interrupted(signal)),
        Ok(job) => job?.into_inner(),
    };
    let outcome = wait_job(&client, m, ctx, job).await?;
    if let Outcome::Interrupted(signal) = outcome {
        note(format!("{}: interrupted; job {id} is left running (stop it with: {})", signal.name(), stop_hint(id)));
    }
    Ok(outcome)
}

/// Whether a job (as JSON) was created by this schedule.
fn made_by_schedule(job: &Value, schedule: u64) -> bool {
    job.pointer("/creator/type").and_then(Value::as_str) == Some("Schedule")
        && job.pointer("/creator/id").and_then(Value::as_u64) == Some(schedule)
}

/// The jobs this schedule created so far (their ids).
async fn schedule_jobs(client: &xplenty_api::Client, schedule: u64) -> Result<Vec<(u64, Job)>, CliError> {
    let jobs: Vec<Job> = client.list_jobs().stream_all().try_collect().await?;
    Ok(jobs
        .into_iter()
        .filter(|job| serde_json::to_value(job).is_ok_and(|v| made_by_schedule(&v, schedule)))
        .map(|job| (job.id, job))
        .collect())
}

/// `xplenty schedules run ID --wait`: runs the schedule, finds the job it started (a job
/// created by the schedule that was not there before) and waits for it as `jobs wait`.
pub async fn run_schedule_and_wait(connect: &Connect, m: &ArgMatches, ctx: &Ctx) -> Result<Outcome, CliError> {
    let id: u64 = required(m, "schedule-id", &Kind::Integer)?;
    let client = connect.client()?;
    let started = tokio::time::Instant::now();
    let before: Vec<u64> = schedule_jobs(&client, id).await?.into_iter().map(|(job, _)| job).collect();
    client.run_schedule().schedule_id(id).send().await?;
    let limit = deadline(m).unwrap_or(Duration::MAX);
    let poll = poll(m, ctx);
    let job = loop {
        let found = unless_interrupted(ctx, schedule_jobs(&client, id)).await;
        let jobs = match found {
            Err(signal) => return Ok(Outcome::Interrupted(signal)),
            Ok(jobs) => jobs?,
        };
        if let Some((_, job)) = jobs.into_iter().filter(|(job, _)| !before.contains(job)).max_by_key(|(job, _)| *job) {
            break job;
        }
        if started.elapsed().saturating_add(poll) > limit {
            note(format!("error: schedule {id}: deadline passed: no job of this run appeared"));
            return Ok(Outcome::DeadlinePassed);
        }
        if let Err(signal) = unless_interrupted(ctx, tokio::time::sleep(poll)).await {
            return Ok(Outcome::Interrupted(signal));
        }
    };
    note(format!("schedule {id} started job {} (stop it with: {})", job.id, stop_hint(job.id)));
    let job_id = job.id;
    let outcome = wait_job(&client, m, ctx, job).await?;
    if let Outcome::Interrupted(signal) = outcome {
        note(format!("{}: interrupted; job {job_id} is left running", signal.name()));
    }
    Ok(outcome)
}

/// `xplenty account`: the account of the credentials in use.
pub async fn current_account(connect: &Connect, ctx: &Ctx) -> Result<Outcome, CliError> {
    let client = connect.client()?;
    let account = client.get_account().account_id(client.account_id().to_owned()).send().await?;
    print(ctx, "Account", &*account)
}

/// Whether stdout and stderr are terminals.
pub fn terminals() -> (bool, bool) {
    (std::io::stdout().is_terminal(), std::io::stderr().is_terminal())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::table_form;

    #[test]
    fn tables_take_their_columns_from_the_answer() {
        let instances = json!([{"instance_id": "i-1", "status": "running"}, {"instance_id": "i-2", "zone": "a"}]);
        let text = table_form("ClusterInstance", &instances).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["STATUS", "INSTANCE_ID", "ZONE"]);
        assert_eq!(lines.len(), 3);
        let one = table_form("Cluster", &json!({"id": 812, "name": "x"})).unwrap();
        assert_eq!(one, "FIELD  VALUE\nid     812\nname   x\n");
        assert_eq!(table_form("JobLog", &json!({"body": "line 1\nline 2", "url": "u"})).unwrap(), "line 1\nline 2\n");
        assert!(table_form("", &json!(true)).is_err());
        assert_eq!(table_form("Cluster", &json!([])).unwrap(), "");
    }
}
