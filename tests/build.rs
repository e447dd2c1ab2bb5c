//! Emits, from the spec, what the tests need of the generated client:
//! - `decoders.rs`: a table from each generated type name to a function that decodes JSON
//!   into that type, so every example can be decoded into the type it documents;
//! - `operations.rs`: one wire test per operation, which sets every parameter and the body
//!   to the spec's examples, answers with the response example, and asserts the method,
//!   full path, query and body the server received and what the client decoded;
//! - `fake_operations.rs`: the same calls against a fresh `xplenty-fake`, each of which
//!   must succeed with the documented status and decode.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;
use xplenty_gen::{Scope, SuccessBody};

const ACCOUNT: &str = "acme-analytics";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_path = manifest.join("../spec/xplenty.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A broken spec fails the build of xplenty-api with the full report; do not repeat it.
    let text = std::fs::read_to_string(&spec_path).unwrap_or_default();
    let (decoders, (operations, fake_operations)) = match (xplenty_gen::generate(&text), xplenty_gen::load(&text)) {
        (Ok(generated), Ok(spec)) => (decoders(&generated), operation_tests(&spec.raw, generated.operations())),
        _ => (decoders_for(&[]), (String::new(), String::new())),
    };
    std::fs::write(out.join("decoders.rs"), decoders).expect("write decoders.rs");
    std::fs::write(out.join("operations.rs"), operations).expect("write operations.rs");
    std::fs::write(out.join("fake_operations.rs"), fake_operations).expect("write fake_operations.rs");
}

fn decoders(generated: &xplenty_gen::Generated) -> String {
    decoders_for(&generated.type_names.iter().cloned().collect::<Vec<_>>())
}

fn decoders_for(names: &[String]) -> String {
    let mut code = String::from(
        "/// Decodes JSON into the generated type named `name`; `None` if there is no such type.\n\
         pub fn decode_into(name: &str, value: serde_json::Value) -> Option<Result<(), serde_json::Error>> {\n\
         \x20   Some(match name {\n",
    );
    for name in names {
        let _ = writeln!(
            code,
            "        {name:?} => serde_json::from_value::<xplenty_api::types::{name}>(value).map(drop),"
        );
    }
    code.push_str("        _ => return None,\n    })\n}\n");
    code
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => root.pointer(pointer).map_or(node, |target| resolve(root, target)),
        None => node,
    }
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
            format!("{s:?}.parse::<chrono::DateTime<chrono::Utc>>().unwrap()")
        }
        (Some("string"), Value::String(s)) => format!("{s:?}"),
        _ => return None,
    })
}

/// The example as it appears in a URL: a string as is, anything else as JSON text.
fn plain(example: &Value) -> String {
    match example {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn operation_tests(root: &Value, operations: &[xplenty_gen::Operation]) -> (String, String) {
    let mut code = String::new();
    let mut fake = String::new();
    for op in operations {
        let item = &root["paths"][&op.path];
        let raw = &item[op.method.to_lowercase()];
        let mut setters = String::new();
        let mut path = op.path.clone();
        let mut query = Vec::new();
        let parameters = raw.get("parameters").and_then(Value::as_array).into_iter().flatten();
        for parameter in parameters.map(|p| resolve(root, p)) {
            let name = parameter["name"].as_str().unwrap_or_default();
            let example = &parameter["example"];
            let Some(value) = literal(root, &parameter["schema"], example) else {
                let required = parameter.get("required") == Some(&Value::Bool(true));
                assert!(!required, "{}: cannot write a Rust value for required parameter {name}", op.id);
                continue;
            };
            let _ = write!(setters, "\n        .{}({value})", setter_name(name));
            match parameter["in"].as_str() {
                Some("path") => path = path.replace(&format!("{{{name}}}"), &plain(example)),
                _ => query.push((name.to_owned(), plain(example))),
            }
        }
        let body = raw.pointer("/requestBody/content/application~1json/example");
        if let (Some(body), Some(schema)) = (body, &op.request_body) {
            let _ = write!(
                setters,
                "\n        .body(serde_json::from_str::<xplenty_api::types::{schema}>({:?}).unwrap())",
                body.to_string()
            );
        }
        let prefix = match op.scope {
            Scope::Account => format!("/{ACCOUNT}/api"),
            Scope::Global => String::new(),
        };
        let response = raw
            .pointer(&format!("/responses/{}", op.status))
            .map(|r| resolve(root, r))
            .and_then(|r| r.pointer("/content/application~1vnd.xplenty+json/example"));
        let (reply, check) = match (&op.success, response) {
            (SuccessBody::Empty, _) | (_, None) => (
                format!("Reply::Answer {{ status: {}, headers: Vec::new(), body: Vec::new() }}", op.status),
                String::new(),
            ),
            (_, Some(example)) => (
                format!("Reply::json({}, serde_json::from_str({:?}).unwrap())", op.status, example.to_string()),
                format!(
                    "    support::assert_decoded(\"{}\", serde_json::to_value(response.into_inner()).unwrap(), {:?});\n",
                    op.id,
                    example.to_string()
                ),
            ),
        };
        let expected_body = match body {
            Some(b) => format!("Some({:?})", b.to_string()),
            None => "None".to_owned(),
        };
        let _ = write!(
            code,
            "#[tokio::test]\nasync fn {id}() {{\n\
             \x20   let server = TestServer::start().await;\n\
             \x20   server.push({reply});\n\
             \x20   let client = support::client(&server);\n\
             \x20   let response = client.{id}(){setters}\n        .send()\n        .await\n        .expect(\"{id}\");\n\
             \x20   assert_eq!(response.status(), {status});\n\
             \x20   support::assert_request(&server.single_request(), \"{method}\", \"{prefix}{path}\", &{query:?}, {expected_body});\n\
             {check}}}\n\n",
            id = op.id,
            status = op.status,
            method = op.method,
        );
        let _ = write!(
            fake,
            "#[tokio::test]\nasync fn {id}() {{\n\
             \x20   let fake = FakeXplenty::start().await.unwrap();\n\
             \x20   let response = fake.client().{id}(){setters}\n        .send()\n        .await\n        .expect(\"{id}\");\n\
             \x20   assert_eq!(response.status(), {status});\n}}\n\n",
            id = op.id,
            status = op.status,
        );
    }
    (code, fake)
}

/// progenitor's builder setter for a parameter name.
fn setter_name(name: &str) -> String {
    let name = name.replace('-', "_");
    match name.as_str() {
        "type" => "type_".to_owned(),
        _ => name,
    }
}
