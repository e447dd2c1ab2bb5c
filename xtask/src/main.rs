//! `cargo xtask <command>`: the maintainer loop around the generator.
//!
//! - `regen`: rewrite every artefact generated from `spec/xplenty.yaml` (see [`mod@regen`]);
//! - `check`: fail when any of them differs from what the generator emits now;
//! - `api-diff [REV]`: the public API change between the spec at `REV` (the merge base
//!   with `main` by default) and the working tree, each change marked breaking or not
//!   (see [`mod@api_diff`]); `regen` ends with the same summary;
//! - `gen-stats`: how long each generation stage takes and how much it emits;
//! - `semver`: the public API of `xplenty-api` against its last release, by
//!   cargo-semver-checks; fails on a break the CHANGELOG does not name (see [`mod@semver`]);
//! - `bench`: the client benchmarks, the generator's stages, then a one-field spec edit
//!   with regen and build, and cold builds (see [`mod@bench`]).

mod api_diff;
mod bench;
mod process;
mod regen;
mod semver;

use std::process::ExitCode;

use regen::{Mode, workspace_root};

const USAGE: &str = "usage: cargo xtask <regen | check | api-diff [REV] | gen-stats | semver | bench>";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        Some("regen") => regen(Mode::Write),
        Some("check") => regen(Mode::Check),
        Some("api-diff") => api_diff(std::env::args().nth(2)),
        Some("gen-stats") => gen_stats(),
        Some("semver") => semver::run(),
        Some("bench") => bench::run(),
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
            // What the edit does to the public API, so the maintainer sees it before the reviewer.
            let root = workspace_root();
            let base = api_diff::default_base(&root);
            match api_diff::against(&root, &base) {
                Ok(changes) => api_diff::print(&base, &changes),
                Err(e) => println!("public API: not compared ({e})"),
            }
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

/// `cargo xtask api-diff [REV]`: prints the public API change since `REV`.
fn api_diff(rev: Option<String>) -> Result<(), String> {
    let root = workspace_root();
    let rev = rev.unwrap_or_else(|| api_diff::default_base(&root));
    let changes = api_diff::against(&root, &rev)?;
    api_diff::print(&rev, &changes);
    Ok(())
}

pub(crate) fn gen_stats() -> Result<(), String> {
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

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
