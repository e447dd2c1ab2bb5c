//! `cargo xtask <command>`: the maintainer loop around the generator.
//!
//! - `regen`: rewrite every artefact generated from `spec/xplenty.yaml` (see [`mod@regen`]);
//! - `check`: fail when any of them differs from what the generator emits now;
//! - `gen-stats`: how long each generation stage takes and how much it emits;
//! - `bench`: the client benchmarks (with the calls of 20 concurrent waits on the fake, shared
//!   and unshared), then the incremental build after a spec edit.

mod regen;

use std::process::{Command, ExitCode};

use regen::{Mode, workspace_root};

const USAGE: &str = "usage: cargo xtask <regen | check | gen-stats | bench>";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        Some("regen") => regen(Mode::Write),
        Some("check") => regen(Mode::Check),
        Some("gen-stats") => gen_stats(),
        Some("bench") => bench(),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask regen` / `check`: generate once, then write or compare every artefact.
fn regen(mode: Mode) -> Result<(), String> {
    let started = std::time::Instant::now();
    let report = regen::run(&workspace_root(), mode)?;
    let elapsed = started.elapsed().as_secs_f64();
    match mode {
        Mode::Write => {
            for path in report.changed.iter().chain(&report.orphans) {
                println!("  {path}");
            }
            println!(
                "{} of {} generated files rewritten, {} orphaned snapshot(s) deleted, in {elapsed:.1} s; review them with `git diff`",
                report.changed.len(),
                report.artefacts,
                report.orphans.len()
            );
            Ok(())
        }
        Mode::Check if report.is_clean() => {
            println!("all {} generated files match the generator ({elapsed:.1} s)", report.artefacts);
            Ok(())
        }
        Mode::Check => Err(format!(
            "generated files are stale: {:?}; orphaned snapshots: {:?}; run `cargo xtask regen` and review the diff",
            report.changed, report.orphans
        )),
    }
}

fn gen_stats() -> Result<(), String> {
    let spec = workspace_root().join("spec/xplenty.yaml");
    let text = std::fs::read_to_string(&spec).map_err(|e| format!("cannot read {}: {e}", spec.display()))?;
    // The first run pays for page faults and lazy statics; report a warm median.
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let generated = xplenty_gen::generate(&text).map_err(|e| e.to_string())?;
        runs.push(generated.timings);
        last = Some(generated);
    }
    let generated = last.expect("ran at least once");
    runs.sort_by_key(|t| t.total());
    let median = runs[runs.len() / 2];
    println!(
        "spec: {} lines, {} operations, {} types",
        text.lines().count(),
        generated.operations().len(),
        generated.type_names.len()
    );
    println!("generated: {} lines", generated.code().lines().count());
    println!(
        "generation (median of 5): total {:.1} ms = load {:.1} + check {:.1} + model {:.1} + progenitor {:.1} + parse {:.1} + passes {:.1} + format {:.1}",
        ms(median.total()),
        ms(median.load),
        ms(median.check),
        ms(median.model),
        ms(median.progenitor),
        ms(median.parse),
        ms(median.passes),
        ms(median.format)
    );
    Ok(())
}

/// Runs the benchmarks (release), then times `cargo build -p xplenty-api` after the spec
/// is touched, which is what a maintainer waits for in the edit loop.
fn bench() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    let run = |args: &[&str]| -> Result<(), String> {
        let status = Command::new(&cargo)
            .current_dir(&root)
            .args(args)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed", args.join(" "))) }
    };
    run(&["bench", "-p", "xplenty-tests", "--bench", "client"])?;
    gen_stats()?;
    run(&["build", "--quiet", "-p", "xplenty-api"])?;
    // The build script reads the package's copy; touching the top-level file rebuilds nothing.
    let spec = root.join("xplenty-api/spec/xplenty.yaml");
    let mut times = Vec::new();
    for _ in 0..3 {
        // Rewriting the same bytes bumps the modification time, which is what cargo sees.
        let text = std::fs::read(&spec).map_err(|e| e.to_string())?;
        std::fs::write(&spec, text).map_err(|e| e.to_string())?;
        let started = std::time::Instant::now();
        run(&["build", "--quiet", "-p", "xplenty-api"])?;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "incremental `cargo build -p xplenty-api` after touching the spec (median of 3): {:.1} s",
        times[1].as_secs_f64()
    );
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
