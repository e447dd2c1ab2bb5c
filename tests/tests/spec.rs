//! The spec checked three ways: the project's rules (xplenty-gen), every example
//! against its JSON schema, and every example decoded into the generated Rust type. And
//! the spec against the inventory of documented operations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/decoders.rs"));

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn raw_spec() -> Value {
    let text = std::fs::read_to_string(root().join("spec/xplenty.yaml")).unwrap();
    xplenty_gen::load(&text).unwrap_or_else(|e| panic!("{e}")).raw
}

/// Every place that carries an example: (where, schema, example).
fn examples(spec: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            out.push((format!("#/components/schemas/{name}"), schema.clone(), example.clone()));
        }
    }
    for (name, parameter) in spec["components"]["parameters"].as_object().into_iter().flatten() {
        if let Some(example) = parameter.get("example") {
            out.push((format!("#/components/parameters/{name}"), parameter["schema"].clone(), example.clone()));
        }
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
            for (code, response) in op["responses"].as_object().unwrap() {
                for media in response.get("content").and_then(Value::as_object).into_iter().flatten().map(|(_, m)| m) {
                    if let Some(example) = media.get("example") {
                        out.push((
                            format!("{id} ({method} {path}) response {code}"),
                            media["schema"].clone(),
                            example.clone(),
                        ));
                    }
                }
            }
            if let Some(media) = op.pointer("/requestBody/content/application~1json") {
                out.push((format!("{id} request body"), media["schema"].clone(), media["example"].clone()));
            }
            for parameter in op.get("parameters").and_then(Value::as_array).into_iter().flatten() {
                if let (Some(name), Some(example)) = (parameter.get("name"), parameter.get("example")) {
                    out.push((format!("{id} parameter {name}"), parameter["schema"].clone(), example.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_example_validates_against_its_schema() {
    let spec = raw_spec();
    let sites = examples(&spec);
    assert!(sites.len() > 20, "too few examples found: {}", sites.len());
    let mut problems = Vec::new();
    for (site, schema, example) in &sites {
        let json_schema = xplenty_gen::to_json_schema(&spec, schema);
        let validator =
            jsonschema::draft4::new(&json_schema).unwrap_or_else(|e| panic!("{site}: schema does not compile: {e}"));
        for error in validator.iter_errors(example) {
            problems.push(format!("{site}: {} at {}", error, error.instance_path()));
        }
    }
    assert!(problems.is_empty(), "invalid examples:\n{}", problems.join("\n"));
}

/// The Rust type a schema documents, by component name.
fn type_of(schema: &Value) -> Option<(&str, bool)> {
    fn name(schema: &Value) -> Option<&str> {
        schema.get("$ref")?.as_str()?.strip_prefix("#/components/schemas/")
    }
    if let Some(n) = name(schema) {
        return Some((n, false));
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        return name(&schema["items"]).map(|n| (n, true));
    }
    None
}

#[test]
fn every_example_decodes_into_the_generated_type() {
    let spec = raw_spec();
    let mut problems = Vec::new();
    let mut decoded = 0;
    for (site, schema, example) in examples(&spec) {
        let Some((name, is_array)) = type_of(&schema) else { continue };
        let values = if is_array { example.as_array().cloned().unwrap_or_default() } else { vec![example] };
        for value in values {
            match decode_into(name, value) {
                None => problems.push(format!("{site}: no generated type named {name}")),
                Some(Err(e)) => problems.push(format!("{site}: does not decode into types::{name}: {e}")),
                Some(Ok(())) => decoded += 1,
            }
        }
    }
    for name in spec["components"]["schemas"].as_object().unwrap().keys() {
        let example = spec["components"]["schemas"][name]["example"].clone();
        if decode_into(name, example).is_none() {
            problems.push(format!("#/components/schemas/{name}: no generated type of that name"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(decoded > 10);
}

#[test]
fn the_spec_holds_every_documented_operation() {
    let inventory = std::fs::read_to_string(root().join("spec/endpoints.tsv")).unwrap();
    let spec = raw_spec();
    let mut documented = BTreeSet::new();
    for line in inventory.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        documented.insert((columns[2].to_lowercase(), columns[3].to_owned()));
    }
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| *k != "servers" && *k != "parameters") {
            described.insert((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = documented.difference(&described).collect();
    let extra: Vec<_> = described.difference(&documented).collect();
    assert!(extra.is_empty(), "operations not in the inventory (add them there with a note): {extra:?}");
    assert!(missing.is_empty(), "{} documented operations are missing from the spec: {missing:?}", missing.len());
}

#[test]
fn the_compiled_client_routes_every_operation_of_the_spec() {
    // build.rs compiles `generate(spec)`, which `cargo xtask check` compares with the
    // snapshots; the compiled table of operations must be the generator's.
    let text = std::fs::read_to_string(root().join("spec/xplenty.yaml")).unwrap();
    let model = xplenty_gen::describe(&text).unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<(&str, &str, &str)> =
        model.operations_by_id().iter().map(|o| (o.id.as_str(), o.method.as_str(), o.path.as_str())).collect();
    let compiled: Vec<(&str, &str, &str)> =
        xplenty_api::meta::OPERATIONS.iter().map(|o| (o.id, o.method, o.path)).collect();
    assert_eq!(compiled, expected);
}
