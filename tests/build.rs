//! Emits a table from each type name of the generated client to a function that decodes
//! JSON into that type, so the spec tests can decode every example into the Rust type it
//! documents.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec = manifest.join("../spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec.display());
    let mut code = String::from(
        "/// Decodes JSON into the generated type named `name`; `None` if there is no such type.\n\
         pub fn decode_into(name: &str, value: serde_json::Value) -> Option<Result<(), serde_json::Error>> {\n\
         \x20   Some(match name {\n",
    );
    // A broken spec fails the build of xplenty-api with the full report; do not repeat it.
    if let Ok(generated) = xplenty_gen::generate_file(&spec) {
        for name in &generated.type_names {
            let _ = writeln!(code, "        {name:?} => serde_json::from_value::<xplenty_api::types::{name}>(value).map(drop),");
        }
    }
    code.push_str("        _ => return None,\n    })\n}\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("decoders.rs");
    std::fs::write(out, code).expect("write decoders.rs");
}
