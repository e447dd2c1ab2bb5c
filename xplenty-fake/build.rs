//! Extracts from the spec what the fake needs to answer every operation, into `OUT_DIR`:
//! - `documented.rs`: per operation, the success status, the success example, the success
//!   schema and its fields, the request body's required fields and the path parameters'
//!   examples, so answers are the documented ones and created objects keep their shape;
//! - `validation.rs`: per operation, the JSON Schemas (by `xplenty_gen::to_json_schema`,
//!   the code the spec's own tests use) of its parameters, its request body and its success
//!   answer, which the fake checks requests and answers against;
//! - `every_operation.rs`: for the crate's tests, one call per operation through the
//!   generated client with every parameter and the body set to the spec's examples.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;
use xplenty_gen::SuccessBody;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_path = manifest.join("spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let text = std::fs::read_to_string(&spec_path).unwrap_or_default();
    // xplenty-api's build reports a broken spec in full; here it only has to not crash.
    let (documented, validation, calls) = match (xplenty_gen::generate(&text), xplenty_gen::load(&text)) {
        (Ok(generated), Ok(spec)) => {
            let mut operations = generated.operations().to_vec();
            operations.sort_by(|a, b| a.id.cmp(&b.id));
            (documented(&spec.raw, &operations), validation(&spec.raw, &operations), calls(&spec.raw, &operations))
        }
        _ => (documented(&Value::Null, &[]), validation(&Value::Null, &[]), calls(&Value::Null, &[])),
    };
    std::fs::write(out.join("documented.rs"), documented).expect("write documented.rs");
    std::fs::write(out.join("validation.rs"), validation).expect("write validation.rs");
    std::fs::write(out.join("every_operation.rs"), calls).expect("write every_operation.rs");
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => root.pointer(pointer).map_or(node, |target| resolve(root, target)),
        None => node,
    }
}

fn parameters<'a>(root: &'a Value, operation: &'a Value) -> impl Iterator<Item = &'a Value> {
    operation.get("parameters").and_then(Value::as_array).into_iter().flatten().map(|p| resolve(root, p))
}

/// What the fake validates of each operation, sorted by id: parameters (name, `in`,
/// required, comma-joined array, JSON Schema), the request body (required, JSON Schema)
/// and the success answer's JSON Schema, all as JSON text.
fn validation(root: &Value, operations: &[xplenty_gen::Operation]) -> String {
    let mut code = String::from("/// The JSON Schemas of each operation's requests and answer, sorted by id.\n");
    code.push_str("pub(crate) static VALIDATION: &[Validation] = &[\n");
    for op in operations {
        let item = &root["paths"][&op.path];
        let raw = &item[op.method.to_lowercase()];
        // Operation parameters override the path item's of the same name and place.
        let mut params: Vec<&Value> = parameters(root, raw).collect();
        for shared in parameters(root, item) {
            if !params.iter().any(|p| p["name"] == shared["name"] && p["in"] == shared["in"]) {
                params.push(shared);
            }
        }
        let mut entries = String::new();
        for p in params.iter().filter(|p| p["in"] == "path" || p["in"] == "query") {
            let schema = xplenty_gen::to_json_schema(root, p.get("schema").unwrap_or(&Value::Null));
            // Arrays are comma-joined (`style: form, explode: false`) unless they explode.
            let joined = schema["type"] == "array" && p.get("explode") != Some(&Value::Bool(true));
            let _ = write!(
                entries,
                "Param {{ name: {:?}, location: {:?}, required: {}, joined: {}, schema: {:?} }}, ",
                p["name"].as_str().unwrap_or_default(),
                p["in"].as_str().unwrap_or_default(),
                p["required"] == Value::Bool(true),
                joined,
                schema.to_string()
            );
        }
        let body = raw.get("requestBody").map(|b| resolve(root, b));
        let body_schema = body
            .and_then(|b| b.pointer("/content/application~1json/schema"))
            .map(|s| xplenty_gen::to_json_schema(root, s).to_string())
            .unwrap_or_default();
        let body_required = body.is_some_and(|b| b["required"] == Value::Bool(true));
        let answer = raw
            .pointer(&format!("/responses/{}", op.status))
            .map(|r| resolve(root, r))
            .and_then(|r| r.pointer("/content/application~1vnd.xplenty+json/schema"))
            .map(|s| xplenty_gen::to_json_schema(root, s).to_string())
            .unwrap_or_default();
        let _ = writeln!(
            code,
            "    Validation {{ id: {:?}, params: &[{entries}], body_required: {body_required}, body: {body_schema:?}, \
             answer: {answer:?} }},",
            op.id
        );
    }
    code.push_str("];\n");
    code
}

/// The example as it appears in a URL: a string as is, anything else as JSON text.
fn plain(example: &Value) -> String {
    match example {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn documented(root: &Value, operations: &[xplenty_gen::Operation]) -> String {
    let mut code = String::from("/// What the spec documents of each operation, sorted by id.\n");
    code.push_str("pub(crate) static DOCUMENTED: &[Documented] = &[\n");
    for op in operations {
        let raw = &root["paths"][&op.path][op.method.to_lowercase()];
        let example = raw
            .pointer(&format!("/responses/{}", op.status))
            .map(|r| resolve(root, r))
            .and_then(|r| r.pointer("/content/application~1vnd.xplenty+json/example"))
            .map(|e| e.to_string())
            .unwrap_or_default();
        let (schema, has_body) = match &op.success {
            SuccessBody::Empty => (String::new(), false),
            SuccessBody::Boolean => (String::new(), true),
            SuccessBody::Schema(name) | SuccessBody::Array(name) => (name.clone(), true),
        };
        let names = |pointer: &str| -> Vec<String> {
            match root.pointer(pointer) {
                Some(Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                Some(Value::Object(map)) => map.keys().cloned().collect(),
                _ => Vec::new(),
            }
        };
        let required = op
            .request_body
            .as_ref()
            .map(|body| names(&format!("/components/schemas/{body}/required")))
            .unwrap_or_default();
        // A union's fields are those of its members (a connection of any type).
        let mut fields = names(&format!("/components/schemas/{schema}/properties"));
        let members = root.pointer(&format!("/components/schemas/{schema}/oneOf")).and_then(Value::as_array);
        for member in members.into_iter().flatten().filter_map(|m| m["$ref"].as_str()) {
            fields.extend(names(&format!("{}/properties", member.trim_start_matches('#'))));
        }
        fields.sort();
        fields.dedup();
        let path_examples: Vec<(String, String)> = parameters(root, raw)
            .filter(|p| p["in"] == "path")
            .filter_map(|p| Some((p["name"].as_str()?.to_owned(), plain(p.get("example")?))))
            .collect();
        let _ = writeln!(
            code,
            "    Documented {{ id: {:?}, status: {}, example: {:?}, schema: {:?}, has_body: {}, required: &{:?}, \
             fields: &{:?}, path_examples: &{:?} }},",
            op.id, op.status, example, schema, has_body, required, fields, path_examples
        );
    }
    code.push_str("];\n");
    code
}

/// A Rust expression of the parameter's type for a builder setter, from its example.
fn literal(root: &Value, schema: &Value, example: &Value) -> Option<String> {
    let is_enum = schema.get("$ref").is_some() && resolve(root, schema).get("enum").is_some();
    let schema = resolve(root, schema);
    Some(match (schema.get("type").and_then(Value::as_str), example) {
        (_, Value::String(s)) if is_enum => format!("{s:?}"),
        (Some("integer"), Value::Number(n))
            if schema.get("minimum").and_then(Value::as_i64).is_some_and(|m| m >= 0) =>
        {
            format!("{n}_u64")
        }
        (Some("integer"), Value::Number(n)) => format!("{n}_i64"),
        (Some("number"), Value::Number(n)) => format!("{}_f64", n.as_f64()?),
        (Some("boolean"), Value::Bool(b)) => b.to_string(),
        (Some("string"), Value::String(s)) if schema.get("format").and_then(Value::as_str) == Some("date-time") => {
            format!("{s:?}.parse::<chrono::DateTime<chrono::Utc>>().map_err(|e| e.to_string())?")
        }
        (Some("string"), Value::String(s)) => format!("{s:?}"),
        _ => return None,
    })
}

/// progenitor's builder setter for a parameter name.
fn setter_name(name: &str) -> String {
    match name.replace('-', "_").as_str() {
        "type" => "type_".to_owned(),
        other => other.to_owned(),
    }
}

fn calls(root: &Value, operations: &[xplenty_gen::Operation]) -> String {
    let mut code = String::from(
        "/// Calls operation `id` with the spec's example parameters and body: its status, or\n\
         /// why it failed.\n\
         pub async fn call_documented(client: &xplenty_api::Client, id: &str) -> Result<u16, String> {\n\
         \x20   Ok(match id {\n",
    );
    for op in operations {
        let raw = &root["paths"][&op.path][op.method.to_lowercase()];
        let mut setters = String::new();
        for parameter in parameters(root, raw) {
            let name = parameter["name"].as_str().unwrap_or_default();
            if let Some(value) = literal(root, &parameter["schema"], &parameter["example"]) {
                let _ = write!(setters, ".{}({value})", setter_name(name));
            }
        }
        let body = raw.pointer("/requestBody/content/application~1json/example");
        if let (Some(body), Some(schema)) = (body, &op.request_body) {
            let _ = write!(
                setters,
                ".body(serde_json::from_str::<xplenty_api::types::{schema}>({:?}).map_err(|e| e.to_string())?)",
                body.to_string()
            );
        }
        let _ = writeln!(
            code,
            "        {id:?} => client.{id}(){setters}.send().await.map_err(|e| e.to_string())?.status().as_u16(),",
            id = op.id
        );
    }
    code.push_str("        other => return Err(format!(\"no call generated for {other}\")),\n    })\n}\n");
    code
}
