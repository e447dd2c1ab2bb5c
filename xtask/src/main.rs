//! `cargo xtask <command>`: the maintainer loop around the generator.
//!
//! - `regen`: rewrite the snapshots of the generated client and `ENDPOINTS.md` from
//!   `spec/xplenty.yaml`, deleting snapshots whose source is gone, and copy the spec into
//!   the packages that build from it (`xplenty-api/spec/`, `xplenty-fake/spec/`);
//! - `check`: fail when any of them differs from what the generator emits now;
//! - `gen-stats`: how long each generation stage takes and how much it emits;
//! - `bench`: the client benchmarks (with the calls of 20 concurrent waits on the fake, shared
//!   and unshared), then the incremental build after a spec edit.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <regen | check | gen-stats | bench>";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        Some("regen") => snapshot_test(Mode::Regen),
        Some("check") => snapshot_test(Mode::Check),
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

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

enum Mode {
    Regen,
    Check,
}

/// The packages that build from the spec, each from its own copy so that the published
/// package holds it; `spec/xplenty.yaml` stays the one file maintainers edit.
const SPEC_COPIES: &[&str] =
    &["xplenty-api/spec/xplenty.yaml", "xplenty-fake/spec/xplenty.yaml", "xplenty-cli/spec/xplenty.yaml"];

/// Writes (regen) or compares (check) the byte-identical copies of `spec/xplenty.yaml`.
fn spec_copies(mode: &Mode) -> Result<(), String> {
    let root = workspace_root();
    let spec =
        std::fs::read(root.join("spec/xplenty.yaml")).map_err(|e| format!("cannot read spec/xplenty.yaml: {e}"))?;
    for copy in SPEC_COPIES {
        let path = root.join(copy);
        match mode {
            Mode::Regen => std::fs::write(&path, &spec).map_err(|e| format!("cannot write {copy}: {e}"))?,
            Mode::Check => {
                if std::fs::read(&path).ok().as_deref() != Some(spec.as_slice()) {
                    return Err(format!("{copy} differs from spec/xplenty.yaml; run `cargo xtask regen`"));
                }
            }
        }
    }
    Ok(())
}

/// The snapshot test is the one place that compares generated code with the
/// snapshots; both commands run it, in writing or in comparing mode.
fn snapshot_test(mode: Mode) -> Result<(), String> {
    // First, so the build of xplenty-api the test needs already sees the new spec.
    spec_copies(&mode)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["test", "--quiet", "-p", "xplenty-tests", "--test", "generated"])
        // Any other test binary would not know these variables; run only this one.
        .env_remove("INSTA_FORCE_PASS");
    match mode {
        Mode::Regen => {
            command.env("INSTA_UPDATE", "always").env("XPLENTY_REGEN", "1");
        }
        Mode::Check => {
            command.env("INSTA_UPDATE", "no").env("CI", "true").env_remove("XPLENTY_REGEN");
        }
    }
    let status = command.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    match (status.success(), mode) {
        (true, Mode::Regen) => {
            println!("snapshots, ENDPOINTS.md and the packages' spec copies rewritten; review them with `git diff`");
            Ok(())
        }
        (true, Mode::Check) => {
            println!("snapshots, ENDPOINTS.md and the packages' spec copies match the generator");
            Ok(())
        }
        (false, Mode::Regen) => Err("regeneration failed (see above)".to_owned()),
        (false, Mode::Check) => {
            Err("snapshots or ENDPOINTS.md are stale or orphaned; run `cargo xtask regen` and review the diff"
                .to_owned())
        }
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
        generated.operations.len(),
        generated.type_names.len()
    );
    println!("generated: {} lines", generated.code.lines().count());
    println!(
        "generation (median of 5): total {:.1} ms = load {:.1} + check {:.1} + progenitor {:.1} + extras {:.1} + format {:.1}",
        ms(median.total()),
        ms(median.load),
        ms(median.check),
        ms(median.progenitor),
        ms(median.extras),
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
