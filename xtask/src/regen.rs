//! Every artefact generated from `spec/xplenty.yaml`, written or checked by one function
//! (`cargo xtask regen` and `cargo xtask check`), with the generator run once:
//! - the packages' copies of the spec (`xplenty-api/spec/`, `xplenty-fake/spec/`,
//!   `xplenty-cli/spec/`), which their build scripts read;
//! - the snapshots in `tests/snapshots/`: one per operation, per type, the client frame,
//!   and one per resource of the command line, which reviewers read in a diff;
//! - `ENDPOINTS.md`.
//!
//! Snapshots whose source is gone are deleted (regen) or reported (check).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Write the artefacts, or only compare them with what is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

/// The packages that build from the spec, each from its own copy so that the published
/// package holds it; `spec/xplenty.yaml` stays the one file maintainers edit.
pub const SPEC_COPIES: &[&str] =
    &["xplenty-api/spec/xplenty.yaml", "xplenty-fake/spec/xplenty.yaml", "xplenty-cli/spec/xplenty.yaml"];

const SNAPSHOTS: &str = "tests/snapshots";

/// What a run found: the files it rewrote (write) or that differ (check), and the
/// orphaned snapshots it deleted or found, all relative to the workspace root.
#[derive(Debug, Default)]
pub struct Report {
    pub changed: Vec<String>,
    pub orphans: Vec<String>,
    /// How many artefacts were compared.
    pub artefacts: usize,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.orphans.is_empty()
    }
}

/// Generates once and writes or checks every artefact under `root`.
pub fn run(root: &Path, mode: Mode) -> Result<Report, String> {
    let spec_path = root.join("spec/xplenty.yaml");
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let client = xplenty_gen::generate(&spec).map_err(|e| e.to_string())?;
    let cli = xplenty_gen::generate_cli(&client.model).map_err(|e| e.to_string())?;

    let mut artefacts: Vec<(String, String)> =
        SPEC_COPIES.iter().map(|copy| ((*copy).to_owned(), spec.clone())).collect();
    artefacts.push(("ENDPOINTS.md".to_owned(), xplenty_gen::endpoint_table(client.operations())));
    let snapshots = client
        .pieces()
        .into_iter()
        .map(|piece| (piece.snapshot_name(), piece.code))
        .chain(cli.pieces().into_iter().map(|piece| (piece.snapshot_name(), piece.code)));
    let mut expected = BTreeSet::new();
    for (name, code) in snapshots {
        let file = format!("{name}.snap");
        if !expected.insert(file.clone()) {
            return Err(format!("two snapshots are named {file}"));
        }
        artefacts.push((format!("{SNAPSHOTS}/{file}"), snapshot(&code)));
    }

    let mut report = Report { artefacts: artefacts.len(), ..Report::default() };
    for (path, contents) in &artefacts {
        if ensure_file_contents(&root.join(path), contents, mode)? {
            report.changed.push(path.clone());
        }
    }
    for entry in std::fs::read_dir(root.join(SNAPSHOTS)).map_err(|e| format!("cannot list {SNAPSHOTS}: {e}"))? {
        let entry = entry.map_err(|e| format!("cannot list {SNAPSHOTS}: {e}"))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if expected.contains(&file) {
            continue;
        }
        if mode == Mode::Write {
            std::fs::remove_file(entry.path()).map_err(|e| format!("cannot delete {SNAPSHOTS}/{file}: {e}"))?;
        }
        report.orphans.push(format!("{SNAPSHOTS}/{file}"));
    }
    Ok(report)
}

/// A snapshot file: a header naming its source, then the code.
fn snapshot(code: &str) -> String {
    format!("---\nsource: spec/xplenty.yaml\n---\n{}\n", code.trim_end())
}

/// Makes `path` hold `contents` (write) or tells whether it does not (check). Line
/// endings on disk do not count, so a checkout with `\r\n` is not stale. Returns whether
/// the file differed.
fn ensure_file_contents(path: &Path, contents: &str, mode: Mode) -> Result<bool, String> {
    let on_disk = std::fs::read_to_string(path).ok().map(|text| text.replace("\r\n", "\n"));
    if on_disk.as_deref() == Some(contents) {
        return Ok(false);
    }
    if mode == Mode::Write {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(true)
}

/// The workspace this xtask belongs to.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` fails when a generated artefact is stale, as `cargo xtask check` does.
    #[test]
    fn generated_artefacts_are_current() {
        let report = run(&workspace_root(), Mode::Check).unwrap();
        assert!(
            report.is_clean(),
            "stale: {:?}; orphaned: {:?}; run `cargo xtask regen` and review the diff",
            report.changed,
            report.orphans
        );
        assert!(report.artefacts > 300);
    }

    #[test]
    fn generation_is_deterministic() {
        let text = std::fs::read_to_string(workspace_root().join("spec/xplenty.yaml")).unwrap();
        let (first, second) = (xplenty_gen::generate(&text).unwrap(), xplenty_gen::generate(&text).unwrap());
        assert_eq!(first.files, second.files);
    }

    #[test]
    fn check_reports_a_stale_file_and_an_orphan_and_write_mends_both() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let root = workspace_root();
        std::fs::create_dir_all(dir.join("spec")).unwrap();
        std::fs::copy(root.join("spec/xplenty.yaml"), dir.join("spec/xplenty.yaml")).unwrap();
        std::fs::create_dir_all(dir.join(SNAPSHOTS)).unwrap();
        std::fs::write(dir.join(SNAPSHOTS).join("type__Removed.snap"), "gone").unwrap();

        let first = run(dir, Mode::Check).unwrap();
        assert!(first.changed.contains(&"ENDPOINTS.md".to_owned()), "{first:?}");
        assert_eq!(first.orphans, [format!("{SNAPSHOTS}/type__Removed.snap")]);
        assert!(!dir.join("ENDPOINTS.md").exists(), "check writes nothing");

        run(dir, Mode::Write).unwrap();
        let after = run(dir, Mode::Check).unwrap();
        assert!(after.is_clean(), "{after:?}");
        // `\r\n` on disk is not a difference.
        let endpoints = dir.join("ENDPOINTS.md");
        let crlf = std::fs::read_to_string(&endpoints).unwrap().replace('\n', "\r\n");
        std::fs::write(&endpoints, crlf).unwrap();
        assert!(run(dir, Mode::Check).unwrap().is_clean());
    }
}
