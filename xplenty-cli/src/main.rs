//! `xplenty`: the command line of the Xplenty API, its commands generated from
//! `spec/xplenty.yaml` by `xplenty-gen` (see `build.rs`), calling the typed client
//! `xplenty-api`.
//!
//! Exit codes: 0 success (a waited job completed, a waited cluster arrived), 1 an error
//! (one line on stderr), 2 a command line that does not parse, 3 the job failed, 4 the job
//! was stopped, 5 the deadline of a wait passed, 6 the cluster settled in another state.

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
const FAKE_CLOCK_SCALE: f64 = 50.0;

const EXIT_CODES: &str = "Exit codes: 0 success, 1 error, 2 usage error, 3 job failed, 4 job stopped, \
                          5 deadline passed, 6 cluster settled in another state.";

/// The generated tree plus what the CLI adds by hand: `clusters wait`, `completions`.
fn command() -> clap::Command {
    generated::command()
        .version(env!("CARGO_PKG_VERSION"))
        .after_help(EXIT_CODES)
        .mut_subcommand("clusters", |clusters| clusters.subcommand(rt::cluster_wait_command()))
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
        eprintln!("error: internal error: {message}");
    }));
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { rt::EXIT_USAGE } else { 0 });
        }
    };
    if let Some(("completions", m)) = matches.subcommand() {
        let shell = *m.get_one::<clap_complete::Shell>("shell").expect("required");
        clap_complete::generate(shell, &mut command(), "xplenty", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(rt::EXIT_ERROR);
        }
    };
    match runtime.block_on(run(&matches)) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(rt::EXIT_ERROR)
        }
    }
}

async fn run(matches: &ArgMatches) -> Result<rt::Outcome, rt::CliError> {
    let (pretty, progress) = rt::terminals();
    let format = match matches.get_one::<String>("output").map(String::as_str) {
        Some("table") => rt::Format::Table,
        _ => rt::Format::Json,
    };
    let fake = matches.get_flag("fake");
    let poll = if fake { Duration::from_millis(100) } else { Duration::from_secs(5) };
    let ctx = rt::Ctx { format, pretty, progress, poll };
    // Kept alive for the whole run when `--fake`.
    let (_fake, client) = if fake {
        let fake = xplenty_fake::FakeXplenty::builder()
            .clock(xplenty_fake::Clock::scaled(FAKE_CLOCK_SCALE))
            .start()
            .await
            .map_err(|e| rt::CliError::Input(format!("cannot start the fake: {e}")))?;
        let client = fake.client();
        (Some(fake), client)
    } else {
        (None, client(matches)?)
    };
    if let Some(("clusters", m)) = matches.subcommand()
        && let Some(("wait", m)) = m.subcommand()
    {
        return rt::wait_cluster(&client, m, &ctx).await;
    }
    generated::dispatch(&client, matches, &ctx).await
}

/// The client from the flags, else the environment.
fn client(matches: &ArgMatches) -> Result<xplenty_api::Client, rt::CliError> {
    let setting = |flag: &str, var: &str| {
        matches.get_one::<String>(flag).cloned().or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
    };
    let missing = |flag: &str, var: &str| rt::CliError::Input(format!("no {flag}: give --{flag} or set {var}"));
    let account = setting("account", "XPLENTY_ACCOUNT_ID").ok_or_else(|| missing("account", "XPLENTY_ACCOUNT_ID"))?;
    let key = setting("api-key", "XPLENTY_API_KEY").ok_or_else(|| missing("api-key", "XPLENTY_API_KEY"))?;
    let mut builder =
        xplenty_api::ClientBuilder::new(account, key).user_agent(concat!("xplenty-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(base_url) = setting("base-url", "XPLENTY_BASE_URL") {
        builder = builder.base_url(base_url);
    }
    Ok(builder.build()?)
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
