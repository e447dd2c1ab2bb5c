//! `cargo xtask bench`: the client's call benchmarks next to a hand-written client, then
//! what a maintainer and a new user wait for, each timed as they do it:
//! - a one-field spec edit (a new nullable field on `Cluster`), then `cargo xtask regen`,
//!   then `cargo build -p xplenty-api`;
//! - a cold `cargo build -p xplenty-api` next to a cold build of a crate that has only
//!   xplenty-api's runtime dependencies (same versions, features and profile).
//!
//! The goals are printed beside the figures. The spec is restored at the end, also when a
//! step fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::regen::{self, workspace_root};

/// The component schema the edit adds a field to.
const EDITED_SCHEMA: &str = "    Cluster:\n";
const EDITS: usize = 3;

pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let table = cargo_output(&root, &["bench", "--quiet", "-p", "xplenty-tests", "--bench", "client"], &[])?;
    print!("{table}");
    let ratio = |what: &str| -> Option<f64> {
        let row = table.lines().find(|line| line.starts_with(&format!("| {what}")))?;
        row.split('|').nth(4)?.trim().parse().ok()
    };
    let (latency, in_flight) = (ratio("get_cluster latency"), ratio("32 in flight"));
    crate::gen_stats()?;

    let (regen_time, build_time) = edit_loop(&root)?;
    let (cold_api, cold_deps) = cold_builds(&root)?;

    let show = |r: Option<f64>| r.map_or("?".to_owned(), |r| format!("{r:.3}"));
    println!("\n| goal | measured | target |");
    println!("|---|---|---|");
    println!("| call latency vs hand-written | {} | <= 1.02 |", show(latency));
    println!("| 32 in flight vs hand-written | {} | >= 0.95 |", show(in_flight));
    println!("| `cargo xtask regen` after a one-field edit (median of {EDITS}) | {:.1} s | <= 5 s |", secs(regen_time));
    println!("| next `cargo build -p xplenty-api` (median of {EDITS}) | {:.1} s | <= 6 s |", secs(build_time));
    println!(
        "| cold `cargo build -p xplenty-api` vs its runtime dependencies alone | {:.1} s / {:.1} s = {:.3} | <= 1.25 |",
        secs(cold_api),
        secs(cold_deps),
        secs(cold_api) / secs(cold_deps)
    );
    Ok(())
}

/// Adds a new nullable field to `Cluster`, regenerates and builds, `EDITS` times with a
/// new field each time; returns the median regen and build times.
fn edit_loop(root: &Path) -> Result<(Duration, Duration), String> {
    let spec_path = root.join("spec/xplenty.yaml");
    let original = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read the spec: {e}"))?;
    // Start from a built tree, so only the edit is measured.
    cargo(root, &["build", "--quiet", "-p", "xtask", "-p", "xplenty-api"])?;
    let outcome = (|| {
        let (mut regens, mut builds) = (Vec::new(), Vec::new());
        for n in 0..EDITS {
            let edited = add_field(&original, &format!("bench_edit_{n}"))?;
            std::fs::write(&spec_path, edited).map_err(|e| format!("cannot write the spec: {e}"))?;
            regens.push(timed(|| cargo(root, &["xtask", "regen"]))?);
            builds.push(timed(|| cargo(root, &["build", "--quiet", "-p", "xplenty-api"]))?);
        }
        Ok((median(regens), median(builds)))
    })();
    std::fs::write(&spec_path, &original).map_err(|e| format!("cannot restore the spec: {e}"))?;
    let restored = regen::run(root, regen::Mode::Write)?;
    eprintln!("spec restored; {} generated files rewritten back", restored.changed.len());
    outcome
}

/// The spec with a nullable integer `field` first among `Cluster`'s properties.
fn add_field(spec: &str, field: &str) -> Result<String, String> {
    let schema = spec.find(EDITED_SCHEMA).ok_or("the spec has no `Cluster` schema")?;
    let properties = spec[schema..].find("      properties:\n").ok_or("`Cluster` has no properties")? + schema;
    let at = properties + "      properties:\n".len();
    let added = format!("        {field}:\n          type: integer\n          nullable: true\n");
    Ok(format!("{}{added}{}", &spec[..at], &spec[at..]))
}

/// Cold builds, each in a fresh target directory: xplenty-api, then a crate of its
/// runtime dependencies alone.
fn cold_builds(root: &Path) -> Result<(Duration, Duration), String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot create a scratch directory: {e}"))?;
    let api_target = scratch.path().join("api-target");
    let api = timed(|| {
        cargo_with(root, &["build", "--quiet", "--offline", "-p", "xplenty-api"], &[("CARGO_TARGET_DIR", &api_target)])
    })?;
    let deps_crate = scratch.path().join("runtime-deps");
    write_runtime_deps_crate(root, &deps_crate)?;
    let deps_target = scratch.path().join("deps-target");
    let deps =
        timed(|| cargo_with(&deps_crate, &["build", "--quiet", "--offline"], &[("CARGO_TARGET_DIR", &deps_target)]))?;
    Ok((api, deps))
}

/// A crate with xplenty-api's `[dependencies]` and `[features]` (workspace entries
/// resolved), the workspace's profiles and lock file, and an empty library.
fn write_runtime_deps_crate(root: &Path, dir: &Path) -> Result<(), String> {
    let read = |path: PathBuf| -> Result<toml_edit::DocumentMut, String> {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        text.parse().map_err(|e| format!("cannot parse {}: {e}", path.display()))
    };
    let workspace = read(root.join("Cargo.toml"))?;
    let api = read(root.join("xplenty-api/Cargo.toml"))?;
    let shared = workspace["workspace"]["dependencies"].as_table().ok_or("no [workspace.dependencies]")?;
    let mut dependencies = toml_edit::Table::new();
    for (name, spec) in api["dependencies"].as_table().ok_or("xplenty-api has no [dependencies]")? {
        let mut spec = spec.clone();
        // `name.workspace = true` or `name = { workspace = true, features = [..] }`: the
        // workspace's entry, plus the package's own keys (its features added).
        if let Some(own) = spec.as_table_like().filter(|t| t.contains_key("workspace")) {
            let mut resolved = match &shared[name] {
                toml_edit::Item::Value(toml_edit::Value::String(version)) => {
                    let mut table = toml_edit::InlineTable::new();
                    table.insert("version", version.value().as_str().into());
                    table
                }
                item => item.as_inline_table().cloned().ok_or(format!("workspace entry `{name}` is not a table"))?,
            };
            for (key, value) in own.iter().filter(|(key, _)| *key != "workspace") {
                let Some(value) = value.as_value() else { continue };
                match (key, resolved.get_mut("features").and_then(toml_edit::Value::as_array_mut)) {
                    ("features", Some(features)) => features.extend(value.as_array().into_iter().flatten().cloned()),
                    _ => {
                        resolved.insert(key, value.clone());
                    }
                }
            }
            spec = toml_edit::value(resolved);
        }
        dependencies.insert(name, spec);
    }
    let mut manifest = toml_edit::DocumentMut::new();
    let mut package = toml_edit::Table::new();
    package.insert("name", toml_edit::value("runtime-deps"));
    package.insert("version", toml_edit::value("0.0.0"));
    package.insert("edition", toml_edit::value("2024"));
    package.insert("publish", toml_edit::value(false));
    manifest.insert("package", toml_edit::Item::Table(package));
    manifest.insert("features", api["features"].clone());
    manifest.insert("dependencies", toml_edit::Item::Table(dependencies));
    manifest.insert("profile", workspace["profile"].clone());
    manifest.insert("workspace", toml_edit::Item::Table(toml_edit::Table::new()));
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("Cargo.toml"), manifest.to_string()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/lib.rs"), "").map_err(|e| e.to_string())?;
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| e.to_string())?;
    Ok(())
}

fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    cargo_with(dir, args, &[])
}

fn cargo_with(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Result<(), String> {
    let mut command = cargo_command(dir, args, env);
    let status = command.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed", args.join(" "))) }
}

fn cargo_output(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Result<String, String> {
    let output = cargo_command(dir, args, env)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("`cargo {}` failed", args.join(" ")))
    }
}

fn cargo_command(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Command {
    let mut command = crate::process::cargo(dir, args);
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn timed(step: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let started = Instant::now();
    step()?;
    Ok(started.elapsed())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edit_adds_one_nullable_field_to_cluster_and_the_spec_stays_valid() {
        let spec = std::fs::read_to_string(workspace_root().join("spec/xplenty.yaml")).unwrap();
        let edited = add_field(&spec, "bench_edit_0").unwrap();
        assert_eq!(edited.lines().count(), spec.lines().count() + 3);
        let model = xplenty_gen::describe(&edited).unwrap_or_else(|e| panic!("{e}"));
        let cluster = &model.spec.raw["components"]["schemas"]["Cluster"]["properties"]["bench_edit_0"];
        assert_eq!(cluster["nullable"], true);
    }

    #[test]
    fn the_runtime_dependency_crate_has_xplenty_apis_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        write_runtime_deps_crate(&workspace_root(), dir.path()).unwrap();
        let manifest: toml_edit::DocumentMut =
            std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap().parse().unwrap();
        let api: toml_edit::DocumentMut =
            std::fs::read_to_string(workspace_root().join("xplenty-api/Cargo.toml")).unwrap().parse().unwrap();
        let names = |doc: &toml_edit::DocumentMut| -> Vec<String> {
            doc["dependencies"].as_table().unwrap().iter().map(|(k, _)| k.to_owned()).collect()
        };
        assert_eq!(names(&manifest), names(&api));
        // Workspace entries are resolved, with the package's extra features added.
        let tokio = manifest["dependencies"]["tokio"].as_inline_table().unwrap();
        let features: Vec<&str> = tokio["features"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        assert!(features.contains(&"time") && features.contains(&"rt"), "{features:?}");
        assert!(manifest["dependencies"]["reqwest"].as_inline_table().unwrap().contains_key("version"));
        assert!(manifest["profile"]["dev"].is_table());
    }
}
