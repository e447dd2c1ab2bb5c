//! `cargo run --example quickstart`: a realistic workflow, end to end.
//!
//! Without credentials it runs against the embedded fake (its clock 20 times faster than
//! real time, so it takes a few seconds). With `XPLENTY_ACCOUNT_ID` and `XPLENTY_API_KEY`
//! set it talks to the real API (or to `XPLENTY_BASE_URL`), and then needs
//! `XPLENTY_PACKAGE_ID`, the package to run.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use xplenty_api::{Client, types};
use xplenty_fake::{Clock, FakeXplenty};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Display, not the Debug that returning the error from `main` would print.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    // Kept alive for the whole run when used.
    let mut _fake = None;
    let (client, package_id, poll) =
        if std::env::var_os("XPLENTY_ACCOUNT_ID").is_some() && std::env::var_os("XPLENTY_API_KEY").is_some() {
            let client = Client::from_env()?;
            let base = std::env::var("XPLENTY_BASE_URL").unwrap_or_else(|_| xplenty_api::DEFAULT_BASE_URL.to_owned());
            println!("Talking to {base} as account {} (credentials from the environment).", client.account_id());
            let package_id: u64 = std::env::var("XPLENTY_PACKAGE_ID")
                .map_err(|_| "set XPLENTY_PACKAGE_ID to the package to run")?
                .parse()
                .map_err(|_| "XPLENTY_PACKAGE_ID must be a number")?;
            (client, package_id, Duration::from_secs(10))
        } else {
            let fake = FakeXplenty::builder().clock(Clock::scaled(20.0)).start().await?;
            println!(
                "No XPLENTY_ACCOUNT_ID / XPLENTY_API_KEY set: talking to the embedded fake Xplenty at {}.",
                fake.base_url()
            );
            let client = fake.client();
            _fake = Some(fake);
            // The fake starts with the package of the spec's examples.
            (client, 2041, Duration::from_millis(100))
        };

    println!("\n1. Finding an available cluster of 2 nodes, or creating one");
    let lease = client
        .acquire_cluster(2)
        .name("quickstart")
        .terminate_on_idle(true)
        .poll_interval(poll)
        .on_event(|event| {
            if event.status_changed {
                println!("   cluster {} is {}", event.resource.id, status(&event.resource.status));
            }
        })
        .send()
        .await?;
    let cluster = lease.cluster().clone();
    println!("   cluster {} {}", cluster.id, if lease.created() { "created" } else { "reused" });

    // Package variables are Pig expressions: a string value keeps its quotes.
    let variables: std::collections::BTreeMap<String, String> =
        [("run_date", "'2024-05-01'"), ("region", "'eu-west'")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
    println!("\n2. Running package {package_id} on it with {variables:?}");
    let run = types::JobRun::builder().cluster_id(cluster.id).package_id(package_id).variables(variables);
    let bar = std::io::stdout().is_terminal().then(|| {
        // On stdout, the stream whose terminal was checked and where the other lines go.
        let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stdout());
        bar.set_style(
            ProgressStyle::with_template("   [{bar:40}] {pos:>3}% {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar
    });
    // Ok only when the job completed; stopped if this program gives up on it.
    let job = client
        .run_job_and_wait(run)
        .poll_interval(poll)
        .stop_on_drop(true)
        .on_event(|event| {
            let percent = (event.resource.progress.unwrap_or(0.0) * 100.0).round() as u64;
            match &bar {
                Some(bar) => {
                    bar.set_position(percent);
                    bar.set_message(status(&event.resource.status));
                }
                None => println!("   job {}: {} {percent}%", event.resource.id, status(&event.resource.status)),
            }
        })
        .send()
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let job = job?;
    println!("   job {} ended {}", job.id, status(&job.status));

    // One job a page, so the stream visibly follows the `Link` headers.
    println!("\n3. Listing jobs, one a page, following every page");
    let jobs: Vec<types::Job> = client.list_jobs().limit(1_u64).stream_all().try_collect().await?;
    for job in &jobs {
        println!(
            "   job {:>6}  {:<10} package {}",
            job.id,
            status(&job.status),
            job.package_id.map_or("-".into(), |p| p.to_string())
        );
    }

    println!("\n4. Releasing the cluster (terminated, and waited for, only if created here)");
    let created = lease.created();
    let cluster = match lease.release().await? {
        Some(cluster) => cluster,
        None => client.get_cluster().cluster_id(cluster.id).send().await?.into_inner(),
    };
    println!("   cluster {} is {}", cluster.id, status(&cluster.status));

    println!(
        "\nSummary: cluster {} ({}) is {}, job {} {}, {} jobs streamed, {} calls left this hour, {:.1} s.",
        cluster.id,
        if created { "created here" } else { "reused" },
        status(&cluster.status),
        job.id,
        status(&job.status),
        jobs.len(),
        client.rate_limit().map_or("?".into(), |r| r.remaining.to_string()),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn status<T: std::fmt::Display>(status: &T) -> String {
    status.to_string()
}
