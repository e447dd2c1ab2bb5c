//! The one reading of a checked spec that every later stage shares: the operations
//! (with the builder setter each parameter becomes), the open enums, the discriminated
//! unions and the tolerant schemas. The passes, the CLI, the endpoint table, the test
//! emitters and the fake's build all read this, so nothing re-derives it.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

use crate::Spec;

/// What generation knows of the spec before progenitor runs.
#[derive(Debug, Clone)]
pub struct Model {
    /// The loaded document, typed and as plain JSON.
    pub spec: Spec,
    /// Every operation, in spec order.
    pub operations: Vec<Operation>,
    /// Component schemas of `type: string` with `enum`, emitted as open enums.
    pub open_enums: Vec<OpenEnum>,
    /// Component schemas with `oneOf` and a discriminator mapping, emitted as open unions.
    pub unions: Vec<TaggedUnion>,
    /// Component schemas declared `x-tolerant: true`.
    pub tolerant: BTreeSet<String>,
    /// Every component schema name, in spec order: each is a type of `types`.
    pub schemas: Vec<String>,
}

impl Model {
    /// Reads the model of a spec that passed [`crate::check`].
    pub fn new(spec: Spec) -> Model {
        let operations = operations(&spec);
        Model {
            open_enums: open_enums(&spec.document),
            unions: tagged_unions(&spec.raw),
            tolerant: crate::spec::tolerance::tolerant_schemas(&spec.raw),
            schemas: spec
                .raw
                .pointer("/components/schemas")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(name, _)| name.clone())
                .collect(),
            operations,
            spec,
        }
    }

    /// The operations sorted by id: the order of the runtime's `OPERATIONS` table.
    pub fn operations_by_id(&self) -> Vec<&Operation> {
        let mut sorted: Vec<&Operation> = self.operations.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        sorted
    }
}

/// A component schema of `type: string` with `enum`, emitted as an open Rust enum.
#[derive(Debug, Clone)]
pub struct OpenEnum {
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<String>,
}

/// One discriminated union of the spec.
#[derive(Debug, Clone)]
pub struct TaggedUnion {
    pub name: String,
    pub description: Option<String>,
    /// The property that carries the tag, such as `type`.
    pub property: String,
    /// Tag value and the component schema it selects, in mapping order.
    pub variants: Vec<(String, String)>,
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
}

/// One path or query parameter of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// As on the wire.
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// The builder method that sets it (`type` -> `type_`), checked against progenitor's
    /// builders at generation.
    pub setter: String,
    /// The Rust type the setter's value becomes, with the client's own types as
    /// `types::X` (`u64`, `::std::num::NonZeroU64`, `types::SortDirection`): what a
    /// target that does not run progenitor (the CLI) converts input into. Checked
    /// against progenitor's builders at generation.
    pub rust_type: String,
    /// An array declared `style: form, explode: false`: sent comma-joined.
    pub comma_joined: bool,
    /// Where it is declared, as a JSON pointer (`#/paths/~1clusters/get/parameters/0`).
    pub pointer: String,
    /// The declaration itself, `$ref` followed: its schema, example and description.
    pub raw: Value,
}

/// Where an operation lives: under the account (`/{account_id}/api/...`) or directly
/// under the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Global,
}

/// The shape of an operation's success body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuccessBody {
    /// No body (`204`, or a `200` documented as empty).
    Empty,
    /// One component schema.
    Schema(String),
    /// An array of one component schema.
    Array(String),
    /// A bare JSON boolean.
    Boolean,
}

/// One operation of the spec, as the extras, the endpoint table and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: String,
    /// Upper case, as on the wire.
    pub method: String,
    /// The path template, relative to the scope's base.
    pub path: String,
    pub scope: Scope,
    pub tag: String,
    pub summary: String,
    pub status: u16,
    pub success: SuccessBody,
    /// The request body's component schema, if any.
    pub request_body: Option<String>,
    /// Takes `offset` and `limit` and answers an array: the client streams its pages.
    pub paginated: bool,
    /// Path and query parameters, the operation's own before its path item's.
    pub parameters: Vec<Parameter>,
}

impl Operation {
    /// The builder type progenitor emits for this operation (`list_clusters` ->
    /// `ListClusters`).
    pub fn builder_name(&self) -> String {
        heck::ToUpperCamelCase::to_upper_camel_case(self.id.as_str())
    }
}

pub(crate) const GLOBAL_SERVER: &str = "https://api.xplenty.com";

/// The operations of a checked spec, in document order.
pub fn operations(spec: &Spec) -> Vec<Operation> {
    let document = &spec.document;
    let mut out = Vec::new();
    for (path, item) in &document.paths.paths {
        let ReferenceOr::Item(item) = item else { continue };
        let scope = if item.servers.iter().any(|s| s.url == GLOBAL_SERVER) { Scope::Global } else { Scope::Account };
        for (method, op) in item.iter() {
            let (status, success) = success(document, op);
            let parameters = parameters(&spec.raw, path, method);
            let query = |name: &str| parameters.iter().any(|p| p.location == Location::Query && p.name == name);
            let paginated = matches!(success, SuccessBody::Array(_)) && query("offset") && query("limit");
            out.push(Operation {
                id: op.operation_id.clone().unwrap_or_default(),
                method: method.to_uppercase(),
                path: path.clone(),
                scope,
                tag: op.tags.first().cloned().unwrap_or_default(),
                summary: op.summary.clone().unwrap_or_default(),
                status,
                success,
                request_body: op.request_body.as_ref().and_then(|b| body_schema(document, b)),
                paginated,
                parameters,
            });
        }
    }
    out
}

/// The path and query parameters of one operation, from the JSON form of the spec: its
/// own, then its path item's that it does not override (same name and place).
fn parameters(raw: &Value, path: &str, method: &str) -> Vec<Parameter> {
    let item_pointer = format!("#/paths/{}", path.replace('~', "~0").replace('/', "~1"));
    let item = &raw["paths"][path];
    let declared = |node: &Value, pointer: String| -> Vec<(String, Value)> {
        let list = node.get("parameters").and_then(Value::as_array).into_iter().flatten();
        list.enumerate().map(|(i, p)| (format!("{pointer}/parameters/{i}"), resolve(raw, p).clone())).collect()
    };
    let mut out: Vec<Parameter> = Vec::new();
    let own = declared(&item[method], format!("{item_pointer}/{method}"));
    for (pointer, declaration) in own.into_iter().chain(declared(item, item_pointer.clone())) {
        let location = match declaration["in"].as_str() {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            _ => continue,
        };
        let name = declaration["name"].as_str().unwrap_or_default().to_owned();
        if out.iter().any(|p| p.name == name && p.location == location) {
            continue;
        }
        let comma_joined = location == Location::Query
            && declaration["explode"] == false
            && resolve(raw, &declaration["schema"])["type"] == "array";
        out.push(Parameter {
            setter: setter_name(&name),
            rust_type: parameter_type(&declaration["schema"]),
            required: declaration["required"] == true,
            name,
            location,
            comma_joined,
            pointer,
            raw: declaration,
        });
    }
    out
}

fn body_schema(document: &OpenAPI, body: &ReferenceOr<openapiv3::RequestBody>) -> Option<String> {
    let body = match body {
        ReferenceOr::Item(b) => b,
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/requestBodies/")?;
            document.components.as_ref()?.request_bodies.get(name)?.as_item()?
        }
    };
    let media = body.content.values().next()?;
    ref_name(media.schema.as_ref()?)
}

fn success(document: &OpenAPI, op: &openapiv3::Operation) -> (u16, SuccessBody) {
    for (code, response) in &op.responses.responses {
        let openapiv3::StatusCode::Code(code) = code else { continue };
        if !(200..300).contains(code) {
            continue;
        }
        let response = match response {
            ReferenceOr::Item(r) => Some(r),
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/responses/")
                .and_then(|n| document.components.as_ref()?.responses.get(n)?.as_item()),
        };
        let Some(schema) = response.and_then(|r| r.content.values().next()).and_then(|m| m.schema.as_ref()) else {
            return (*code, SuccessBody::Empty);
        };
        let body = if let Some(name) = ref_name(schema) {
            SuccessBody::Schema(name)
        } else if let ReferenceOr::Item(Schema { schema_kind: SchemaKind::Type(t), .. }) = schema {
            match t {
                Type::Array(a) => match a.items.as_ref().map(|i| i.clone().unbox()) {
                    Some(items) => ref_name(&items).map(SuccessBody::Array).unwrap_or(SuccessBody::Empty),
                    None => SuccessBody::Empty,
                },
                Type::Boolean(_) => SuccessBody::Boolean,
                _ => SuccessBody::Empty,
            }
        } else {
            SuccessBody::Empty
        };
        return (*code, body);
    }
    (0, SuccessBody::Empty)
}

fn ref_name(schema: &ReferenceOr<Schema>) -> Option<String> {
    match schema {
        ReferenceOr::Reference { reference } => reference.strip_prefix("#/components/schemas/").map(str::to_owned),
        ReferenceOr::Item(_) => None,
    }
}

/// progenitor's builder setter for a parameter name: snake case, with a Rust keyword
/// suffixed by `_`. The `send` pass fails generation when a builder lacks one.
/// The type typify gives a parameter's schema: a referenced schema by its (generated)
/// name, integers by their bounds (`minimum: 1` is `NonZeroU64`, a non-negative one
/// `u64`), `date-time` text as chrono's, arrays as `Vec`s. What typify does otherwise
/// shows at generation, where the builders are compared with it.
fn parameter_type(schema: &Value) -> String {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return format!("types::{}", crate::progenitor::type_name(name));
    }
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") if number("minimum").is_some_and(|m| m >= 1.0) => "::std::num::NonZeroU64".to_owned(),
        Some("integer") if number("minimum").is_some_and(|m| m >= 0.0) => "u64".to_owned(),
        Some("integer") => "i64".to_owned(),
        Some("number") => "f64".to_owned(),
        Some("boolean") => "bool".to_owned(),
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("date-time") => {
            "::chrono::DateTime<::chrono::offset::Utc>".to_owned()
        }
        Some("array") => format!("::std::vec::Vec<{}>", parameter_type(&schema["items"])),
        _ => "::std::string::String".to_owned(),
    }
}

pub(crate) fn setter_name(name: &str) -> String {
    let name = heck::ToSnakeCase::to_snake_case(name);
    if syn::parse_str::<syn::Ident>(&name).is_ok() { name } else { format!("{name}_") }
}

/// Follows `$ref`s in the JSON form of the spec to the node they name. A dangling one is
/// left as is, and a cycle stops after a bounded number of steps (the checks report both).
pub(crate) fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let target = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#'));
        match target.and_then(|pointer| root.pointer(pointer)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

fn open_enums(document: &OpenAPI) -> Vec<OpenEnum> {
    let Some(components) = &document.components else { return Vec::new() };
    components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let ReferenceOr::Item(schema) = schema else { return None };
            let SchemaKind::Type(Type::String(string)) = &schema.schema_kind else { return None };
            if string.enumeration.is_empty() {
                return None;
            }
            Some(OpenEnum {
                name: name.clone(),
                description: schema.schema_data.description.clone(),
                values: string.enumeration.iter().flatten().cloned().collect(),
            })
        })
        .collect()
}

/// Every component schema with `oneOf` and a `discriminator` with a `mapping`.
fn tagged_unions(raw: &Value) -> Vec<TaggedUnion> {
    let Some(schemas) = raw.pointer("/components/schemas").and_then(Value::as_object) else { return Vec::new() };
    schemas
        .iter()
        .filter_map(|(name, schema)| {
            schema.get("oneOf")?;
            let discriminator = schema.get("discriminator")?;
            let property = discriminator.get("propertyName")?.as_str()?.to_owned();
            let variants = discriminator
                .get("mapping")?
                .as_object()?
                .iter()
                .filter_map(|(tag, target)| {
                    let target = target.as_str()?.strip_prefix("#/components/schemas/")?;
                    Some((tag.clone(), target.to_owned()))
                })
                .collect();
            Some(TaggedUnion {
                name: name.clone(),
                description: schema.get("description").and_then(Value::as_str).map(str::to_owned),
                property,
                variants,
            })
        })
        .collect()
}
