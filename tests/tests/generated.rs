//! The generated client, reviewed as snapshots: one file per operation and per type
//! (`tests/snapshots/`), plus `ENDPOINTS.md`. `cargo xtask regen` rewrites them and
//! deletes snapshots whose source is gone; `cargo xtask check` (and plain `cargo test`)
//! fails when they differ.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn regen() -> bool {
    std::env::var_os("XPLENTY_REGEN").is_some()
}

fn generate() -> xplenty_gen::Generated {
    xplenty_gen::generate_file(&root().join("spec/xplenty.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn snapshots_match_the_generator() {
    let generated = generate();
    let dir = root().join("tests/snapshots");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut expected = BTreeSet::new();
    let mut differing = Vec::new();
    settings.bind(|| {
        for piece in generated.pieces() {
            let name = piece.snapshot_name();
            assert!(expected.insert(name.clone()), "two pieces are named {name}");
            let outcome = std::panic::catch_unwind(|| insta::assert_snapshot!(name.as_str(), piece.code));
            if outcome.is_err() {
                differing.push(name);
            }
        }
        // The command line's pieces: one per resource, and the root (`cli__*`).
        let text = std::fs::read_to_string(root().join("spec/xplenty.yaml")).unwrap();
        for piece in xplenty_gen::generate_cli(&text).unwrap_or_else(|e| panic!("{e}")).pieces() {
            let name = piece.snapshot_name();
            assert!(expected.insert(name.clone()), "two pieces are named {name}");
            let outcome = std::panic::catch_unwind(|| insta::assert_snapshot!(name.as_str(), piece.code));
            if outcome.is_err() {
                differing.push(name);
            }
        }
    });
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let stem = file.strip_suffix(".snap").or_else(|| file.strip_suffix(".snap.new"));
        let Some(stem) = stem else { continue };
        if file.ends_with(".snap.new") || !expected.contains(stem) {
            if regen() {
                std::fs::remove_file(entry.path()).unwrap();
            } else if !file.ends_with(".snap.new") {
                orphans.push(file);
            }
        }
    }
    assert!(
        differing.is_empty() && orphans.is_empty(),
        "snapshots differ: {differing:?}; snapshots with no source: {orphans:?}; run `cargo xtask regen` and review the diff"
    );
}

#[test]
fn endpoint_table_is_current() {
    let table = xplenty_gen::endpoint_table(&generate().operations);
    let path = root().join("ENDPOINTS.md");
    if regen() {
        std::fs::write(&path, &table).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default().replace("\r\n", "\n");
    assert!(on_disk == table, "ENDPOINTS.md is stale; run `cargo xtask regen`");
}

#[test]
fn packaged_spec_copies_are_current() {
    // The packages build from their own copy (so the published crate holds it);
    // `cargo xtask regen` writes them.
    let spec = std::fs::read(root().join("spec/xplenty.yaml")).unwrap();
    for copy in ["xplenty-api/spec/xplenty.yaml", "xplenty-fake/spec/xplenty.yaml", "xplenty-cli/spec/xplenty.yaml"] {
        let path = root().join(copy);
        if regen() {
            std::fs::write(&path, &spec).unwrap();
        }
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(on_disk == spec, "{copy} differs from spec/xplenty.yaml; run `cargo xtask regen`");
    }
}

#[test]
fn generation_is_deterministic() {
    let (first, second) = (generate(), generate());
    assert_eq!(first.code, second.code);
}

#[test]
fn build_script_and_snapshots_share_one_generation_path() {
    // build.rs writes exactly `generate_file(spec).code`; the compiled client's table of
    // operations must therefore be the one the generator reports.
    let generated = generate();
    let mut ids: Vec<&str> = generated.operations.iter().map(|o| o.id.as_str()).collect();
    ids.sort_unstable();
    let compiled: Vec<&str> = xplenty_api::meta::OPERATIONS.iter().map(|o| o.id).collect();
    assert_eq!(ids, compiled);
}
