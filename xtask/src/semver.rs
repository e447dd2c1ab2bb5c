//! `cargo xtask semver`: the public API of `xplenty-api` against its last release, by
//! cargo-semver-checks, failing on a break the CHANGELOG does not name.
//!
//! The release is the commit the CHANGELOG's last version names ("Released as commit
//! `<sha>`"). Both APIs are read from rustdoc's JSON, built with the workspace's own
//! toolchain (`RUSTC_BOOTSTRAP` unlocks the JSON output on stable), the current one and
//! the release's (from a worktree of its commit) in the workspace's target directory,
//! whose dependencies the docs step has already built. Every break the checker reports must be named
//! in the Unreleased section: by its type (`ConnectionType` for a removed variant of it),
//! by its full path, or, for a change across many items, by the checker's lint id
//! (`enum_marked_non_exhaustive`).
//!
//! The checker is pinned and built once per machine, with a profile that takes about a
//! quarter of the build time of its own (no LTO, one optimisation level).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{cargo, git, output};
use crate::regen::workspace_root;

/// The pinned checker; its rustdoc JSON formats cover the workspace's toolchain.
const CHECKER_VERSION: &str = "0.51.0";

pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).map_err(|e| format!("CHANGELOG.md: {e}"))?;
    let (version, commit) = last_release(&changelog)?;
    let unreleased = unreleased(&changelog);
    ensure_checker()?;

    // One target directory for both: the release shares most dependencies' builds with
    // the working tree. Each JSON is copied out before the other overwrites it.
    let target = root.join("target");
    let current = rustdoc_json(&root, &target, "current")?;
    let baseline_tree = target.join("semver").join(format!("xplenty-{version}"));
    if git(&root, &["cat-file", "-e", &format!("{commit}^{{commit}}")]).is_err() {
        // A shallow clone: nothing to compare with, which is not a break.
        println!("public API: the release commit {commit} is not in this clone; not compared");
        return Ok(());
    }
    if !baseline_tree.join("Cargo.toml").exists() {
        let _ = std::fs::remove_dir_all(&baseline_tree);
        let tree = baseline_tree.to_str().ok_or("the target directory's path is not UTF-8")?;
        git(&root, &["worktree", "add", "--detach", "--force", tree, &commit])?;
    }
    let baseline = rustdoc_json(&baseline_tree, &target, &version)?;

    // Not `output`: a report of breaks ends with a failure status, and is read either way.
    let output = cargo(&root, &["semver-checks", "--color", "never", "--release-type", "minor", "--baseline-rustdoc"])
        .arg(&baseline)
        .arg("--current-rustdoc")
        .arg(&current)
        .output()
        .map_err(|e| format!("cargo semver-checks: {e}"))?;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // Each stream on its own: a listing must not run on into the other's first lines.
    let breaks: Vec<Break> = breaks(&stdout).into_iter().chain(breaks(&stderr)).collect();
    let report = format!("{stdout}{stderr}");
    if breaks.is_empty() && !output.status.success() {
        return Err(format!("cargo semver-checks failed without naming a break:\n{report}"));
    }
    let unnamed: Vec<&Break> = breaks.iter().filter(|b| !b.named_in(&unreleased)).collect();
    println!(
        "public API of xplenty-api since {version} (commit {}): {} break(s) reported, {} named in the CHANGELOG",
        &commit[..commit.len().min(10)],
        breaks.len(),
        breaks.len() - unnamed.len()
    );
    if unnamed.is_empty() {
        return Ok(());
    }
    for b in &unnamed {
        println!("  not in the CHANGELOG's Unreleased section: {} ({})", b.item, b.lint);
    }
    Err(format!(
        "{} break(s) the CHANGELOG does not name: name each under Unreleased, by its type or by the lint id",
        unnamed.len()
    ))
}

/// The last released version and the commit it names: the first `## [X.Y.Z]` section
/// after Unreleased, which says "Released as commit `<sha>`".
fn last_release(changelog: &str) -> Result<(String, String), String> {
    let mut sections = changelog.split("\n## [").skip(1).filter(|s| !s.starts_with("Unreleased"));
    let section = sections.next().ok_or("the CHANGELOG names no released version")?;
    let version = section.split(']').next().unwrap_or_default().to_owned();
    let commit = section
        .split("Released as commit `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .filter(|sha| sha.len() >= 7 && sha.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| format!("the CHANGELOG's [{version}] does not say \"Released as commit `<sha>`\""))?;
    Ok((version, commit.to_owned()))
}

/// The text of the Unreleased section.
fn unreleased(changelog: &str) -> String {
    changelog
        .split("\n## [Unreleased]")
        .nth(1)
        .and_then(|rest| rest.split("\n## [").next())
        .unwrap_or_default()
        .to_owned()
}

/// One break the checker reported: its lint and the item it names.
#[derive(Debug, PartialEq)]
struct Break {
    lint: String,
    item: String,
}

impl Break {
    fn named_in(&self, text: &str) -> bool {
        let word = |w: &str| {
            text.match_indices(w).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                let after = text[at + w.len()..].chars().next();
                let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
                edge(before) && edge(after)
            })
        };
        let owner = self.item.split(['.', ':']).next().unwrap_or(&self.item);
        word(&self.lint) || word(&self.item) || word(owner)
    }
}

/// The breaks of a cargo-semver-checks report: each `--- failure <lint>: ...` block's
/// `Failed in:` lines, one item each (`enum ConnectionType in ...`, `variant
/// ConnectionType::Mysql, previously in ...`, `JobLogSummary::builder, previously ...`).
fn breaks(report: &str) -> Vec<Break> {
    let mut out = Vec::new();
    let mut lint = None;
    let mut listing = false;
    for line in report.lines() {
        if let Some(rest) = line.strip_prefix("--- failure ") {
            lint = rest.split(':').next().map(str::to_owned);
            listing = false;
        } else if line.trim() == "Failed in:" {
            listing = true;
        } else if line.trim().is_empty() {
            listing = false;
        } else if listing
            && let Some(lint) = &lint
            && let Some(item) = item_of(line)
        {
            out.push(Break { lint: lint.clone(), item });
        }
    }
    out
}

/// The item a `Failed in:` line names, without the crate and module prefixes.
fn item_of(line: &str) -> Option<String> {
    let token = line
        .split_whitespace()
        .map(|t| t.trim_end_matches(','))
        .find(|t| t.contains("::") || t.contains('.') || t.starts_with(|c: char| c.is_ascii_uppercase()))?;
    let mut item = token;
    for prefix in ["xplenty_api::", "types::", "builder::", "meta::"] {
        item = item.strip_prefix(prefix).unwrap_or(item);
    }
    Some(item.to_owned())
}

/// `cargo-semver-checks` at the pinned version, built once per machine.
fn ensure_checker() -> Result<(), String> {
    let installed = Command::new("cargo-semver-checks").arg("--version").output();
    let wanted = format!("cargo-semver-checks {CHECKER_VERSION}");
    if installed.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == wanted) {
        return Ok(());
    }
    println!("building {wanted} once for this machine (a few minutes)");
    let checker = format!("cargo-semver-checks@{CHECKER_VERSION}");
    output(
        cargo(&workspace_root(), &["install", "--locked", "--quiet", &checker])
            // The checker's own release profile (fat LTO, one codegen unit) builds four
            // times longer for a tool that runs for a second.
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "0"),
    )
    .map(drop)
}

/// Builds `xplenty-api`'s rustdoc JSON in the workspace at `tree`, into `target`, and
/// keeps it as `target/semver/<name>.json`.
fn rustdoc_json(tree: &Path, target: &Path, name: &str) -> Result<PathBuf, String> {
    output(
        cargo(
            tree,
            &["rustdoc", "--quiet", "-p", "xplenty-api", "--lib", "--", "-Zunstable-options", "--output-format"],
        )
        .arg("json")
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", target),
    )?;
    let kept = target.join("semver").join(format!("{name}.json"));
    std::fs::create_dir_all(target.join("semver")).map_err(|e| format!("target/semver: {e}"))?;
    std::fs::copy(target.join("doc").join("xplenty_api.json"), &kept)
        .map_err(|e| format!("{}: {e}", kept.display()))?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "
--- failure enum_variant_missing: pub enum variant removed or renamed ---

Description:
A publicly-visible enum has at least one variant that is no longer available.

Failed in:
  variant ConnectionType::Mysql, previously in file /t/out/xplenty.rs:10
  variant Scope::Other, previously in file /t/out/xplenty.rs:20

--- failure enum_marked_non_exhaustive: enum marked #[non_exhaustive] ---

Failed in:
  enum SortDirection in /t/out/types/sort_direction.rs:8
";

    #[test]
    fn reads_each_break_and_asks_the_changelog_for_its_type_path_or_lint() {
        let found = breaks(REPORT);
        let items: Vec<&str> = found.iter().map(|b| b.item.as_str()).collect();
        assert_eq!(items, ["ConnectionType::Mysql", "Scope::Other", "SortDirection"]);
        let changelog = "### Breaking\n- `ConnectionType::MySql` (was `Mysql`)\n- enums are `#[non_exhaustive]` (`enum_marked_non_exhaustive`)\n";
        let named: Vec<bool> = found.iter().map(|b| b.named_in(changelog)).collect();
        assert_eq!(named, [true, false, true]);
        assert!(!Break { lint: "x".into(), item: "Sort".into() }.named_in("SortDirection"), "a word, not a prefix");
    }

    #[test]
    fn the_last_release_is_the_commit_its_section_names() {
        let changelog =
            "# Changelog\n## [Unreleased]\n### Breaking\n- a\n## [0.1.0]\nReleased as commit `eabef1adbf`.\n";
        assert_eq!(last_release(changelog), Ok(("0.1.0".to_owned(), "eabef1adbf".to_owned())));
        assert_eq!(unreleased(changelog), "\n### Breaking\n- a");
        assert!(last_release("## [Unreleased]\n## [0.1.0]\n").is_err());
    }
}
