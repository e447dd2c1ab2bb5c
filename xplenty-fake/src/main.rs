//! The fake as a program, for tests written in any language:
//! `cargo run -p xplenty-fake -- --port 8080`. The first line on stdout is the base URL;
//! it serves until interrupted (ctrl-c or SIGTERM).

use std::io::Write as _;

use clap::Parser;
use xplenty_fake::{Clock, FakeXplenty, Seed};

/// A stateful fake of the Xplenty API v2 on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1; 0 takes a free one (the first line of stdout says which).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The account id served, as in `/ACCOUNT/api/clusters`.
    #[arg(long, default_value = xplenty_fake::ACCOUNT_ID)]
    account: String,
    /// The API key accepted, as the Basic user name with an empty password.
    #[arg(long, default_value = xplenty_fake::API_KEY)]
    api_key: String,
    /// How many times faster than real time clusters and jobs move on (a cluster is
    /// available after 10 s and a job runs for about 24 s at 1).
    #[arg(long, default_value_t = 1.0)]
    clock_scale: f64,
    /// Calls allowed per hour of the fake's clock before answers are 429 (the service's
    /// 5,000 by default); raise it for a fuzzer.
    #[arg(long, value_name = "CALLS_PER_HOUR", default_value_t = 5_000)]
    rate_limit: u32,
    /// The largest request body read, in bytes; a larger one is a 413.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_body: usize,
    /// What the fake starts with: the spec's examples, or no items at all.
    #[arg(long, value_enum, default_value_t = SeedArg::Examples)]
    seed: SeedArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SeedArg {
    Examples,
    Empty,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let fake = FakeXplenty::builder()
        .port(args.port)
        .account_id(args.account)
        .api_key(args.api_key)
        .clock(Clock::scaled(args.clock_scale))
        .rate_limit(args.rate_limit)
        .max_body(args.max_body)
        .seed(match args.seed {
            SeedArg::Examples => Seed::Examples,
            SeedArg::Empty => Seed::Empty,
        })
        .start()
        .await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", fake.base_url())?;
    stdout.flush()?;
    drop(stdout);
    interrupted().await;
    fake.stop();
    Ok(())
}

/// Waits for ctrl-c, or SIGTERM on Unix.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
