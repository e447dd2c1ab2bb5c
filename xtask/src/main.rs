//! `cargo xtask <command>`: the maintainer loop around the generator.
//!
//! - `regen`: rewrite the snapshots of the generated client and `ENDPOINTS.md` from
//!   `spec/xplenty.yaml`, deleting snapshots whose source is gone;
//! - `check`: fail when any of them differs from what the generator emits now;
//! - `gen-stats`: how long each generation stage takes and how much it emits.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <regen | check | gen-stats>";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        Some("regen") => snapshot_test(Mode::Regen),
        Some("check") => snapshot_test(Mode::Check),
        Some("gen-stats") => gen_stats(),
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

/// The snapshot test is the one place that compares generated code with the
/// snapshots; both commands run it, in writing or in comparing mode.
fn snapshot_test(mode: Mode) -> Result<(), String> {
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
            println!("snapshots and ENDPOINTS.md rewritten; review them with `git diff`");
            Ok(())
        }
        (true, Mode::Check) => {
            println!("snapshots and ENDPOINTS.md match the generator");
            Ok(())
        }
        (false, Mode::Regen) => Err("regeneration failed (see above)".to_owned()),
        (false, Mode::Check) => {
            Err("generated code differs from the snapshots; run `cargo xtask regen` and review the diff".to_owned())
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

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
