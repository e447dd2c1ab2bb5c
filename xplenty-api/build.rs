//! Generates the client from `spec/xplenty.yaml` (this package's copy of the workspace
//! spec, written by `cargo xtask regen`) into `OUT_DIR`, through the same function
//! `cargo xtask` uses: `xplenty.rs` and the files it includes, one per operation and type.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec = manifest.join("spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec.display());
    xplenty_gen::warn_if_spec_copy_is_stale(&spec);
    let generated = match xplenty_gen::generate_file(&spec) {
        Ok(generated) => generated,
        Err(error) => {
            // The message names every broken rule with its operation and JSON pointer.
            eprintln!("{error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for file in generated.files {
        let path = out.join(&file.path);
        // An unchanged file is left as it is.
        if std::fs::read(&path).ok().as_deref() == Some(file.code.as_bytes()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        std::fs::write(&path, file.code).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
