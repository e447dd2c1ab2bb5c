//! Generates the command tree from `spec/xplenty.yaml` (this package's copy of the
//! workspace spec, written by `cargo xtask regen`) into `OUT_DIR`, through the function
//! the snapshot tests use. It reads the spec's model only: progenitor does not run here.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec = manifest.join("spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec.display());
    xplenty_gen::warn_if_spec_copy_is_stale(&spec);
    // The model alone: progenitor runs in xplenty-api's build, not here.
    let generated = std::fs::read_to_string(&spec)
        .map_err(|source| xplenty_gen::GenError::Read { path: spec.display().to_string(), source })
        .and_then(|text| xplenty_gen::describe(&text))
        .and_then(|model| xplenty_gen::generate_cli(&model));
    let generated = match generated {
        Ok(generated) => generated,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("cli.rs");
    std::fs::write(&out, generated.code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
