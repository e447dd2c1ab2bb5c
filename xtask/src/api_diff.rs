//! `cargo xtask api-diff [REV]`: what a spec change does to the client's public API.
//!
//! The public surface is generated from the spec, so it is compared there: operations
//! (the client's methods), their parameters (builder setters), request and success
//! types, and the component schemas (`types`): object fields, enum values and union tags.
//! Each change is marked breaking or not by the Versioning rules of
//! `xplenty-api/README.md`:
//!
//! - breaking: a removed operation, schema, field, parameter, enum value or union tag; a
//!   retyped field or parameter (an optional field becoming required or back is a retype
//!   in Rust: `Option<T>` and `T`); a new required parameter or required request field;
//!   a changed request or success type;
//! - not breaking: anything added that is optional, a new operation or schema, a new enum
//!   value or union tag (open enums), descriptions.

use crate::process::git;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde_json::Value;

/// One change of the public API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub breaking: bool,
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<9} {}", if self.breaking { "breaking" } else { "" }, self.what)
    }
}

/// The changes from the spec `old` to the spec `new` (both as JSON), operations first,
/// then types, each group in name order.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let (old, new) = (Surface::of(old), Surface::of(new));
    let mut changes = Vec::new();
    let mut push = |breaking: bool, what: String| changes.push(Change { breaking, what });

    for (id, op) in &old.operations {
        let Some(now) = new.operations.get(id) else {
            push(true, format!("operation {id} removed"));
            continue;
        };
        for (name, before) in &op.params {
            match now.params.get(name) {
                None => push(true, format!("{id}: parameter {name} removed")),
                Some(after) if after.ty != before.ty => {
                    push(true, format!("{id}: parameter {name} retyped: {} -> {}", before.ty, after.ty))
                }
                Some(after) if after.required && !before.required => {
                    push(true, format!("{id}: parameter {name} is now required"))
                }
                Some(after) if !after.required && before.required => {
                    push(false, format!("{id}: parameter {name} is now optional"))
                }
                Some(_) => {}
            }
        }
        for (name, after) in now.params.iter().filter(|(name, _)| !op.params.contains_key(*name)) {
            let required = if after.required { "required" } else { "optional" };
            push(after.required, format!("{id}: parameter {name} added ({required}, {})", after.ty));
        }
        if op.body != now.body {
            push(true, format!("{id}: request body {} -> {}", show(&op.body), show(&now.body)));
        }
        if op.success != now.success {
            push(true, format!("{id}: success type {} -> {}", show(&op.success), show(&now.success)));
        }
    }
    for id in new.operations.keys().filter(|id| !old.operations.contains_key(*id)) {
        push(false, format!("operation {id} added"));
    }

    for (name, before) in &old.schemas {
        let Some(after) = new.schemas.get(name) else {
            push(true, format!("type {name} removed"));
            continue;
        };
        let request = new.request_schemas.contains(name);
        match (before, after) {
            (Schema::Object(before), Schema::Object(after)) => {
                for (field, was) in before {
                    match after.get(field) {
                        None => push(true, format!("{name}: field {field} removed")),
                        Some(is) if is.ty != was.ty => {
                            push(true, format!("{name}: field {field} retyped: {} -> {}", was.ty, is.ty))
                        }
                        Some(is) if is.required != was.required => {
                            let now = if is.required { "required" } else { "optional" };
                            push(true, format!("{name}: field {field} is now {now}"))
                        }
                        Some(_) => {}
                    }
                }
                for (field, is) in after.iter().filter(|(field, _)| !before.contains_key(*field)) {
                    let required = if is.required { "required" } else { "optional" };
                    push(request && is.required, format!("{name}: field {field} added ({required}, {})", is.ty));
                }
            }
            (Schema::Enum(before), Schema::Enum(after)) => push_members(&mut push, name, "value", before, after),
            (Schema::Union(before), Schema::Union(after)) => push_members(&mut push, name, "tag", before, after),
            (before, after) if before != after => {
                push(true, format!("{name}: {} -> {}", before.summary(), after.summary()))
            }
            _ => {}
        }
    }
    for name in new.schemas.keys().filter(|name| !old.schemas.contains_key(*name)) {
        push(false, format!("type {name} added"));
    }
    changes
}

/// Enum values or union tags: a removed one breaks matches, a new one lands in `Unknown`.
fn push_members(
    push: &mut impl FnMut(bool, String),
    name: &str,
    noun: &str,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) {
    for value in before.difference(after) {
        push(true, format!("{name}: {noun} {value:?} removed"));
    }
    for value in after.difference(before) {
        push(false, format!("{name}: {noun} {value:?} added"));
    }
}

fn show(ty: &Option<String>) -> &str {
    ty.as_deref().unwrap_or("none")
}

/// The spec's public API, reduced to what the generated Rust names and types depend on.
struct Surface {
    operations: BTreeMap<String, Op>,
    schemas: BTreeMap<String, Schema>,
    /// Schemas that request bodies name: a new required field there breaks callers.
    request_schemas: BTreeSet<String>,
}

struct Op {
    params: BTreeMap<String, Field>,
    body: Option<String>,
    success: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct Field {
    ty: String,
    required: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Schema {
    Object(BTreeMap<String, Field>),
    Enum(BTreeSet<String>),
    Union(BTreeSet<String>),
    Other(String),
}

impl Schema {
    fn summary(&self) -> String {
        match self {
            Schema::Object(_) => "object".into(),
            Schema::Enum(_) => "enum".into(),
            Schema::Union(_) => "union".into(),
            Schema::Other(ty) => ty.clone(),
        }
    }
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

impl Surface {
    fn of(spec: &Value) -> Surface {
        let mut operations = BTreeMap::new();
        let mut request_schemas = BTreeSet::new();
        for item in spec["paths"].as_object().into_iter().flat_map(|paths| paths.values()) {
            let shared = item["parameters"].as_array().cloned().unwrap_or_default();
            for method in METHODS {
                let op = &item[*method];
                let Some(id) = op["operationId"].as_str() else { continue };
                let mut params = BTreeMap::new();
                // The operation's own parameters override the path item's of the same name.
                for param in shared.iter().chain(op["parameters"].as_array().into_iter().flatten()) {
                    let param = resolve(spec, param);
                    let Some(name) = param["name"].as_str() else { continue };
                    let required = param["required"].as_bool().unwrap_or(false);
                    params.insert(name.to_owned(), Field { ty: type_of(&param["schema"]), required });
                }
                let body = resolve(spec, &op["requestBody"]);
                let body_schema = first_media_schema(&body["content"]);
                if let Some(name) = body_schema.and_then(ref_name) {
                    request_schemas.insert(name.to_owned());
                }
                let success = op["responses"]
                    .as_object()
                    .and_then(|r| r.iter().find(|(status, _)| status.starts_with('2')))
                    .map(|(_, response)| resolve(spec, response))
                    .map(|response| first_media_schema(&response["content"]).map_or_else(|| "empty".into(), type_of));
                let body = body_schema.map(type_of);
                operations.insert(id.to_owned(), Op { params, body, success });
            }
        }
        let schemas = spec["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, schema)| (name.clone(), schema_of(schema)))
            .collect();
        Surface { operations, schemas, request_schemas }
    }
}

fn schema_of(schema: &Value) -> Schema {
    if let Some(values) = schema["enum"].as_array() {
        return Schema::Enum(values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect());
    }
    if let Some(mapping) = schema["discriminator"]["mapping"].as_object() {
        return Schema::Union(mapping.keys().cloned().collect());
    }
    if let Some(properties) = schema["properties"].as_object() {
        let required: BTreeSet<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        return Schema::Object(
            properties
                .iter()
                .map(|(name, property)| {
                    (name.clone(), Field { ty: type_of(property), required: required.contains(name.as_str()) })
                })
                .collect(),
        );
    }
    Schema::Other(type_of(schema))
}

/// A short rendering of a schema's type: `Cluster`, `integer/int64`, `[string]`,
/// `map<string>`, with `?` when nullable.
fn type_of(schema: &Value) -> String {
    let nullable = if schema["nullable"].as_bool() == Some(true) { "?" } else { "" };
    if let Some(name) = ref_name(schema) {
        return format!("{name}{nullable}");
    }
    let ty = match schema["type"].as_str() {
        Some("array") => format!("[{}]", type_of(&schema["items"])),
        Some("object") if schema["additionalProperties"].is_object() => {
            format!("map<{}>", type_of(&schema["additionalProperties"]))
        }
        // The Rust integer type, not the spelling: `minimum: 0` and `format: uint64` are both u64.
        Some("integer") => {
            let format = schema["format"].as_str().unwrap_or("");
            let unsigned = format.starts_with("uint") || schema["minimum"].as_f64().is_some_and(|m| m >= 0.0);
            let width = format.trim_start_matches(|c: char| c.is_alphabetic());
            format!("{}{}", if unsigned { "u" } else { "i" }, if width.is_empty() { "64" } else { width })
        }
        Some(ty) => match schema["format"].as_str() {
            Some(format) => format!("{ty}/{format}"),
            None => ty.to_owned(),
        },
        None if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() => "union".to_owned(),
        None => "any".to_owned(),
    };
    format!("{ty}{nullable}")
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

fn first_media_schema(content: &Value) -> Option<&Value> {
    content.as_object()?.values().next().map(|media| &media["schema"])
}

/// Follows one `$ref` to a component (parameters, request bodies, responses).
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => spec.pointer(pointer).unwrap_or(&Value::Null),
        None => value,
    }
}

/// The revision a change is compared against: the merge base with `main`, or `HEAD`
/// where there is none (a detached checkout, or `main` itself).
pub fn default_base(root: &Path) -> String {
    git(root, &["merge-base", "HEAD", "main"]).map(|s| s.trim().to_owned()).unwrap_or_else(|_| "HEAD".to_owned())
}

/// The changes from `spec/xplenty.yaml` at `rev` to the working tree's.
pub fn against(root: &Path, rev: &str) -> Result<Vec<Change>, String> {
    let old_text = git(root, &["show", &format!("{rev}:spec/xplenty.yaml")])?;
    let new_text = std::fs::read_to_string(root.join("spec/xplenty.yaml"))
        .map_err(|e| format!("cannot read spec/xplenty.yaml: {e}"))?;
    let load = |text: &str, what: &str| {
        xplenty_gen::load(text).map(|spec| spec.raw).map_err(|e| format!("the spec of {what} does not load: {e}"))
    };
    Ok(diff(&load(&old_text, rev)?, &load(&new_text, "the working tree")?))
}

/// Prints the changes and a count line.
pub fn print(rev: &str, changes: &[Change]) {
    let breaking = changes.iter().filter(|c| c.breaking).count();
    if changes.is_empty() {
        println!("public API: no change since {rev}");
        return;
    }
    println!("public API since {rev}: {} change(s), {breaking} breaking", changes.len());
    for change in changes {
        println!("  {change}");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A small spec: one operation with a body and a query parameter, an object, an
    /// enum and a union.
    fn base() -> Value {
        json!({
            "paths": {
                "/clusters": {
                    "post": {
                        "operationId": "create_cluster",
                        "parameters": [{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}],
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClusterCreate"}}}},
                        "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cluster"}}}}}
                    }
                }
            },
            "components": {"schemas": {
                "ClusterCreate": {"type": "object", "required": ["nodes"], "properties": {"nodes": {"type": "integer"}}},
                "Cluster": {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string", "nullable": true}
                }},
                "ClusterStatus": {"type": "string", "enum": ["available", "idle"]},
                "Hook": {"oneOf": [], "discriminator": {"propertyName": "type", "mapping": {"web": "#/x", "email": "#/y"}}}
            }}
        })
    }

    fn changes(edit: impl FnOnce(&mut Value)) -> Vec<(bool, String)> {
        let mut new = base();
        edit(&mut new);
        diff(&base(), &new).into_iter().map(|c| (c.breaking, c.what)).collect()
    }

    fn one(breaking: bool, what: &str) -> Vec<(bool, String)> {
        vec![(breaking, what.to_owned())]
    }

    #[test]
    fn the_same_spec_has_no_change() {
        assert!(changes(|_| {}).is_empty());
    }

    #[test]
    fn operations_added_and_removed() {
        let added = changes(|s| {
            s["paths"]["/jobs"] = json!({"get": {"operationId": "list_jobs", "responses": {"200": {}}}});
        });
        assert_eq!(added, one(false, "operation list_jobs added"));
        let removed = changes(|s| {
            s["paths"].as_object_mut().unwrap().remove("/clusters");
        });
        assert_eq!(removed, one(true, "operation create_cluster removed"));
    }

    #[test]
    fn parameters_added_removed_retyped() {
        let op = |s: &mut Value| s["paths"]["/clusters"]["post"]["parameters"].as_array_mut().unwrap().clone();
        let set = |s: &mut Value, params: Vec<Value>| s["paths"]["/clusters"]["post"]["parameters"] = json!(params);
        assert_eq!(
            changes(|s| {
                let mut params = op(s);
                params.push(json!({"name": "tag", "in": "query", "schema": {"type": "string"}}));
                set(s, params);
            }),
            one(false, "create_cluster: parameter tag added (optional, string)")
        );
        assert_eq!(
            changes(|s| {
                let mut params = op(s);
                params.push(json!({"name": "region", "in": "query", "required": true, "schema": {"type": "string"}}));
                set(s, params);
            }),
            one(true, "create_cluster: parameter region added (required, string)")
        );
        assert_eq!(changes(|s| set(s, vec![])), one(true, "create_cluster: parameter dry_run removed"));
        assert_eq!(
            changes(|s| set(s, vec![json!({"name": "dry_run", "in": "query", "schema": {"type": "string"}})])),
            one(true, "create_cluster: parameter dry_run retyped: boolean -> string")
        );
    }

    #[test]
    fn fields_added_removed_retyped() {
        fn cluster(s: &mut Value) -> &mut Value {
            &mut s["components"]["schemas"]["Cluster"]
        }
        assert_eq!(
            changes(|s| cluster(s)["properties"]["zone"] = json!({"type": "string"})),
            one(false, "Cluster: field zone added (optional, string)")
        );
        assert_eq!(
            changes(|s| {
                cluster(s)["properties"].as_object_mut().unwrap().remove("name");
            }),
            one(true, "Cluster: field name removed")
        );
        assert_eq!(
            changes(|s| cluster(s)["properties"]["name"] = json!({"type": "string"})),
            one(true, "Cluster: field name retyped: string? -> string")
        );
        assert_eq!(
            changes(|s| cluster(s)["required"] = json!(["id", "name"])),
            one(true, "Cluster: field name is now required")
        );
    }

    #[test]
    fn an_integer_spelled_differently_with_the_same_rust_type_is_no_change() {
        let nodes =
            |s: &mut Value, schema: Value| s["components"]["schemas"]["ClusterCreate"]["properties"]["nodes"] = schema;
        let mut old = base();
        nodes(&mut old, json!({"type": "integer", "minimum": 0}));
        let mut new = base();
        nodes(
            &mut new,
            json!({"type": "integer", "minimum": 0, "format": "uint64", "maximum": 9_223_372_036_854_775_807_u64}),
        );
        assert!(diff(&old, &new).is_empty());
        nodes(&mut new, json!({"type": "integer", "format": "int32"}));
        assert_eq!(diff(&old, &new)[0].what, "ClusterCreate: field nodes retyped: u64 -> i32");
    }

    #[test]
    fn a_required_request_field_breaks_and_an_optional_one_does_not() {
        fn create(s: &mut Value) -> &mut Value {
            &mut s["components"]["schemas"]["ClusterCreate"]
        }
        assert_eq!(
            changes(|s| {
                create(s)["properties"]["type"] = json!({"type": "string"});
                create(s)["required"] = json!(["nodes", "type"]);
            }),
            one(true, "ClusterCreate: field type added (required, string)")
        );
        assert_eq!(
            changes(|s| create(s)["properties"]["name"] = json!({"type": "string"})),
            one(false, "ClusterCreate: field name added (optional, string)")
        );
    }

    #[test]
    fn enum_values_and_union_tags() {
        fn schemas(s: &mut Value) -> &mut Value {
            &mut s["components"]["schemas"]
        }
        assert_eq!(
            changes(|s| schemas(s)["ClusterStatus"]["enum"] = json!(["available", "idle", "error"])),
            one(false, "ClusterStatus: value \"error\" added")
        );
        assert_eq!(
            changes(|s| schemas(s)["ClusterStatus"]["enum"] = json!(["available"])),
            one(true, "ClusterStatus: value \"idle\" removed")
        );
        assert_eq!(
            changes(|s| schemas(s)["Hook"]["discriminator"]["mapping"]["slack"] = json!("#/z")),
            one(false, "Hook: tag \"slack\" added")
        );
    }

    #[test]
    fn types_added_removed_and_success_changed() {
        assert_eq!(
            changes(|s| s["components"]["schemas"]["Job"] = json!({"type": "object", "properties": {}})),
            one(false, "type Job added")
        );
        assert_eq!(
            changes(|s| {
                s["components"]["schemas"].as_object_mut().unwrap().remove("ClusterStatus");
            }),
            one(true, "type ClusterStatus removed")
        );
        assert_eq!(
            changes(|s| {
                s["paths"]["/clusters"]["post"]["responses"]["201"]["content"]["application/json"]["schema"] =
                    json!({"type": "array", "items": {"$ref": "#/components/schemas/Cluster"}});
            }),
            one(true, "create_cluster: success type Cluster -> [Cluster]")
        );
    }
}
