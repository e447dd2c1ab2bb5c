//! Extracts from the spec what the fake needs to answer every operation, into `OUT_DIR`
//! (the code is `xplenty_gen::examples`; progenitor does not run here):
//! - `operations.rs`: one row per operation: what the spec documents of it (the success
//!   status, example, schema and its fields, the request body's required fields and the
//!   path parameters' examples) and the JSON Schemas of its parameters, its request body
//!   and its success answer, which the fake checks requests and answers against;
//! - `every_operation.rs`: for the crate's tests, `call_documented(client, id)`, one call
//!   per operation with every parameter and the body set to the spec's examples.

use std::path::PathBuf;

use xplenty_gen::examples;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_path = manifest.join("spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    xplenty_gen::warn_if_spec_copy_is_stale(&spec_path);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let text = std::fs::read_to_string(&spec_path).unwrap_or_default();
    // xplenty-api's build reports a broken spec in full; here it only has to not crash.
    let model = xplenty_gen::describe(&text).ok();
    let raw = model.as_ref().map_or(&serde_json::Value::Null, |model| &model.spec.raw);
    let operations: Vec<_> =
        model.as_ref().map(|model| model.operations_by_id().into_iter().cloned().collect()).unwrap_or_default();
    let calls = examples::example_calls(raw, &operations);
    let calls = calls.map_or_else(|e| examples::compile_error(&e), |c| examples::documented_calls(&c));
    std::fs::write(out.join("operations.rs"), examples::operation_table(raw, &operations))
        .expect("write operations.rs");
    std::fs::write(out.join("every_operation.rs"), calls).expect("write every_operation.rs");
}
