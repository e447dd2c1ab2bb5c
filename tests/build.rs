//! Emits, from the spec, what the tests need of the generated client (the code is
//! `xplenty_gen::examples`; progenitor does not run here):
//! - `decoders.rs`: `decode_into(name, json)` for every component schema, so every example
//!   can be decoded into the type it documents;
//! - `operations.rs`: one wire test per operation with every parameter and the body set to
//!   the spec's examples, answered with the response example.

use std::path::PathBuf;

use xplenty_gen::examples;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_path = manifest.join("../spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let text = std::fs::read_to_string(&spec_path).unwrap_or_default();
    // A broken spec fails the build of xplenty-api with the full report; do not repeat it.
    let (decoders, operations) = match xplenty_gen::describe(&text) {
        Ok(model) => {
            let calls = examples::example_calls(&model.spec.raw, &model.operations);
            let tests = calls.map_or_else(|e| examples::compile_error(&e), |c| examples::wire_tests(&c));
            (examples::decoders(&model.schemas), tests)
        }
        Err(_) => (examples::decoders(&[]), String::new()),
    };
    std::fs::write(out.join("decoders.rs"), decoders).expect("write decoders.rs");
    std::fs::write(out.join("operations.rs"), operations).expect("write operations.rs");
}
