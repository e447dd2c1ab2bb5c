//! `xplenty`: the command line of the Xplenty API, its commands generated from
//! `spec/xplenty.yaml` by `xplenty-gen` (see `build.rs`), calling the typed client
//! `xplenty-api`.
//!
//! Exit codes: see `rt::EXIT_CODES` (also in `--help` and the README).

mod debug;
mod profile;
mod rt;

mod generated {
    // Generated code: the generator's conventions, not this crate's lints.
    #![allow(clippy::all, unused)]
    include!(concat!(env!("OUT_DIR"), "/cli.rs"));
}

use std::process::ExitCode;
use std::time::Duration;

use clap::ArgMatches;

/// How much faster than real time the embedded fake of `--fake` runs: a cluster is
/// available after about 0.2 s and a job runs for about half a second.
#[cfg(feature = "fake")]
const FAKE_CLOCK_SCALE: f64 = 50.0;

/// Where the settings come from, as `--help` says it.
const PRECEDENCE: &str = "Credentials: each of account, key and base URL comes from its flag (--account, \
                          --api-key, --base-url), else its environment variable (XPLENTY_ACCOUNT_ID, \
                          XPLENTY_API_KEY, XPLENTY_BASE_URL), else the profile (--profile, else \
                          $XPLENTY_PROFILE, else `default`) of the config file that `xplenty auth login` writes.";

/// The generated tree plus what the CLI adds by hand: `clusters wait`, `jobs wait`,
/// `schedules run --wait`, `account`, `auth`, `completions`.
fn command() -> clap::Command {
    generated::command()
        .version(env!("CARGO_PKG_VERSION"))
        .after_help(format!("{PRECEDENCE}\n\n{}", rt::EXIT_CODES))
        .mut_subcommand("clusters", |clusters| clusters.subcommand(rt::cluster_wait_command()))
        .mut_subcommand("jobs", |jobs| jobs.subcommand(rt::job_wait_command()))
        .mut_subcommand("schedules", |schedules| {
            schedules.mut_subcommand("run", |run| run.args(rt::schedule_wait_args()))
        })
        .subcommand(clap::Command::new("account").about("Show the account the credentials are for"))
        .subcommand(profile::command())
        .subcommand(
            clap::Command::new("completions").about("Print a shell completion script").arg(
                clap::Arg::new("shell")
                    .required(true)
                    .value_parser(clap::value_parser!(clap_complete::Shell))
                    .help("bash, zsh, fish, elvish or powershell"),
            ),
        )
}

fn main() -> ExitCode {
    // No backtraces, no key: a bug shows as one line too.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        rt::note(format!("error: internal error: {}", message.replace('\n', " ")));
    }));
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => return usage_error(&e),
    };
    if matches.get_flag("debug") {
        debug::init();
    }
    if let Some(("auth", m)) = matches.subcommand() {
        return match profile::run(m) {
            Ok(outcome) => ExitCode::from(outcome.code()),
            Err(e) => fail(&e),
        };
    }
    if let Some(("completions", m)) = matches.subcommand() {
        let Some(shell) = m.get_one::<clap_complete::Shell>("shell").copied() else {
            return ExitCode::from(rt::EXIT_USAGE);
        };
        // Written whole, so a reader that goes away (`| head -1`) ends it quietly.
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command(), "xplenty", &mut script);
        return match rt::out(&script) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            rt::note(format!("error: cannot start the runtime: {e}"));
            return ExitCode::from(rt::EXIT_ERROR);
        }
    };
    match runtime.block_on(run(&matches)) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => fail(&e),
    }
}

fn fail(e: &rt::CliError) -> ExitCode {
    rt::note(format!("error: {e}"));
    ExitCode::from(e.code())
}

/// clap's answer to a command line it refuses: help and version on stdout (exit 0), an
/// error as one line on stderr (exit 2); help shown for a command given without its
/// subcommand, on stderr (exit 2).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() {
        let _ = rt::out(e.render().to_string().as_bytes());
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(rt::EXIT_USAGE);
    }
    let text = e.render().to_string();
    let line: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    rt::note(line.join(" "));
    ExitCode::from(rt::EXIT_USAGE)
}

async fn run(matches: &ArgMatches) -> Result<rt::Outcome, rt::CliError> {
    let (pretty, progress) = rt::terminals();
    let format = match matches.get_one::<String>("output").map(String::as_str) {
        Some("table") => rt::Format::Table,
        Some("jsonl") => rt::Format::Jsonl,
        _ => rt::Format::Json,
    };
    let fake = matches.get_flag("fake");
    let poll = if fake { Duration::from_millis(100) } else { Duration::from_secs(5) };
    // Only the commands that wait catch SIGINT and SIGTERM (to clean up); the others end
    // on them at once.
    let command = matches.subcommand().and_then(|(resource, m)| Some((resource, m.subcommand()?)));
    let schedule_wait = matches!(command, Some(("schedules", ("run", m))) if m.get_flag("wait"));
    let waits = schedule_wait
        || matches!(command.map(|(r, (a, _))| (r, a)), Some(("jobs", "run" | "wait") | ("clusters", "wait")));
    let signals = if waits { rt::Signals::catch()? } else { rt::Signals::none() };
    let ctx = rt::Ctx { format, pretty, progress, poll, signals };
    // Kept alive for the whole run when `--fake`.
    let (_fake, connect) = if fake {
        let (fake, connect) = start_fake().await?;
        (Some(fake), connect)
    } else {
        (None, rt::Connect::Settings(profile::settings(matches)))
    };
    match command {
        Some(("clusters", ("wait", m))) => rt::wait_cluster(&connect, m, &ctx).await,
        Some(("jobs", ("wait", m))) => rt::wait_job_by_id(&connect, m, &ctx).await,
        Some(("schedules", ("run", m))) if schedule_wait => rt::run_schedule_and_wait(&connect, m, &ctx).await,
        _ if matches!(matches.subcommand(), Some(("account", _))) => rt::current_account(&connect, &ctx).await,
        _ => generated::dispatch(&connect, matches, &ctx).await,
    }
}

/// The embedded fake of `--fake`, on a scaled clock, and a client of it.
#[cfg(feature = "fake")]
async fn start_fake() -> Result<(xplenty_fake::FakeXplenty, rt::Connect), rt::CliError> {
    let fake = xplenty_fake::FakeXplenty::builder()
        .clock(xplenty_fake::Clock::scaled(FAKE_CLOCK_SCALE))
        .start()
        .await
        .map_err(|e| rt::CliError::Input(format!("cannot start the fake: {e}")))?;
    let client = fake.client();
    Ok((fake, rt::Connect::Ready(client)))
}

#[cfg(not(feature = "fake"))]
async fn start_fake() -> Result<((), rt::Connect), rt::CliError> {
    Err(rt::CliError::Usage("--fake: this xplenty was built without the `fake` feature".to_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        // clap's own checks of every generated command: duplicate flags, aliases, ids.
        super::command().debug_assert();
    }

    #[test]
    fn every_operation_has_one_command() {
        let mut ops: Vec<&str> = super::generated::COMMANDS.iter().map(|(_, _, op)| *op).collect();
        ops.sort_unstable();
        let compiled: Vec<&str> = xplenty_api::meta::OPERATIONS.iter().map(|o| o.id).collect();
        assert_eq!(ops, compiled);
        let mut pairs: Vec<(&str, &str)> = super::generated::COMMANDS.iter().map(|(r, a, _)| (*r, *a)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(pairs.len(), compiled.len(), "two operations share a command");
    }

    #[test]
    fn the_examples_of_the_issue_are_commands() {
        let find = |op: &str| super::generated::COMMANDS.iter().find(|(_, _, id)| *id == op).map(|(r, a, _)| (*r, *a));
        assert_eq!(find("list_clusters"), Some(("clusters", "list")));
        assert_eq!(find("get_cluster"), Some(("clusters", "get")));
        assert_eq!(find("run_job"), Some(("jobs", "run")));
        assert_eq!(find("get_job_log"), Some(("jobs", "log")));
        assert_eq!(find("run_schedule"), Some(("schedules", "run")));
    }
}
