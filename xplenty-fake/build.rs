//! Extracts from the spec what the fake answers with: per operation, the success status,
//! the success example, and the request body's required fields.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_path = manifest.join("../spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let text = std::fs::read_to_string(&spec_path).expect("read spec/xplenty.yaml");
    // xplenty-api's build reports a broken spec in full; here it only has to not crash.
    let spec = xplenty_gen::load(&text).map(|s| s.raw).unwrap_or_default();
    let mut operations = xplenty_gen::load(&text).map(|s| xplenty_gen::operations(&s.document)).unwrap_or_default();
    operations.sort_by(|a, b| a.id.cmp(&b.id));
    let mut code = String::from(
        "/// (operation id, success status, success example as JSON text, required body fields), sorted by id.\n",
    );
    code.push_str("pub(crate) static ANSWERS: &[(&str, u16, &str, &[&str])] = &[\n");
    for op in &operations {
        let raw = &spec["paths"][&op.path][op.method.to_lowercase()];
        let example = raw
            .pointer(&format!("/responses/{}/content/application~1vnd.xplenty+json/example", op.status))
            .map(|e| e.to_string())
            .unwrap_or_default();
        let required: Vec<String> = op
            .request_body
            .as_ref()
            .and_then(|name| spec["components"]["schemas"][name]["required"].as_array())
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let _ = writeln!(code, "    ({:?}, {}, {:?}, &{:?}),", op.id, op.status, example, required);
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("answers.rs");
    std::fs::write(out, code).expect("write answers.rs");
}
