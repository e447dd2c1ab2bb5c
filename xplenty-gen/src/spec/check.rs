//! The project's own spec rules (see `spec/README.md`), checked on the raw JSON form of
//! the document so that every problem can name its JSON pointer. All problems are
//! collected; nothing stops at the first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::Spec;
use crate::spec::model::GLOBAL_SERVER;
use crate::spec::normalise::VENDOR_MEDIA_TYPE;
use crate::spec::spelling::Spelling;
use crate::spec::tolerance;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const ERROR_RESPONSE: &str = "#/components/responses/Error";

/// One broken rule: which operation (when the problem belongs to one), where in the
/// document, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `operation_id (METHOD /path)`, when the problem sits inside an operation.
    pub operation: Option<String>,
    /// JSON pointer into the document, such as `#/paths/~1clusters/get/responses`.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operation {
            Some(op) => write!(f, "{op} at {}: {}", self.pointer, self.message),
            None => write!(f, "{}: {}", self.pointer, self.message),
        }
    }
}

/// Checks every rule and returns every problem, in document order.
pub fn check(spec: &Spec) -> Vec<Problem> {
    let spelling = Spelling::of(&spec.raw);
    let mut checker = Checker { root: &spec.raw, spelling: &spelling, problems: Vec::new(), operation: None };
    checker.document();
    checker.problems
}

struct Checker<'a> {
    root: &'a Value,
    /// How enum values become variant names, checked here for clashes.
    spelling: &'a Spelling,
    problems: Vec<Problem>,
    operation: Option<String>,
}

/// Escapes one JSON pointer segment (RFC 6901).
fn segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

impl<'a> Checker<'a> {
    fn problem(&mut self, pointer: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            operation: self.operation.clone(),
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    fn resolve(&self, node: &'a Value) -> Option<&'a Value> {
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.root.pointer(reference.strip_prefix('#')?),
            None => Some(node),
        }
    }

    fn document(&mut self) {
        if self.root.get("openapi").and_then(Value::as_str) != Some("3.0.3") {
            self.problem("#/openapi", "must be 3.0.3");
        }
        self.references(self.root, "#".to_owned());
        self.schema_types();
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        if let Some(paths) = self.root.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item_pointer = format!("#/paths/{}", segment(path));
                self.operation = None;
                if let Some(servers) = item.get("servers") {
                    let global = servers.as_array().is_some_and(|s| {
                        s.len() == 1 && s[0].get("url").and_then(Value::as_str) == Some(GLOBAL_SERVER)
                    });
                    if !global {
                        self.problem(
                            &format!("{item_pointer}/servers"),
                            format!("a path item may only override servers with exactly [{{url: {GLOBAL_SERVER}}}]"),
                        );
                    }
                }
                for method in METHODS {
                    let Some(op) = item.get(method) else { continue };
                    let pointer = format!("{item_pointer}/{method}");
                    let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
                    self.operation = Some(format!(
                        "{} ({} {path})",
                        if id.is_empty() { "<no operationId>" } else { id },
                        method.to_uppercase()
                    ));
                    if id.is_empty() {
                        self.problem(&pointer, "needs an operationId");
                    } else if !is_snake_case(id) {
                        self.problem(&format!("{pointer}/operationId"), "must be snake_case");
                    } else if let Some(other) = ids.insert(id.to_owned(), format!("{} {path}", method.to_uppercase())) {
                        self.problem(
                            &format!("{pointer}/operationId"),
                            format!("duplicate operationId (also {other})"),
                        );
                    }
                    self.operation_rules(path, item, op, &pointer);
                }
            }
        }
        self.operation = None;
        self.components();
    }

    fn operation_rules(&mut self, path: &str, item: &'a Value, op: &'a Value, pointer: &str) {
        if op.get("tags").and_then(Value::as_array).map_or(0, Vec::len) != 1 {
            self.problem(&format!("{pointer}/tags"), "needs exactly one tag");
        }
        if op.get("summary").and_then(Value::as_str).is_none_or(str::is_empty) {
            self.problem(pointer, "needs a summary");
        }
        // responses
        let responses = op.get("responses").and_then(Value::as_object);
        let responses_pointer = format!("{pointer}/responses");
        let Some(responses) = responses else {
            self.problem(&responses_pointer, "needs responses");
            return;
        };
        let success: Vec<&String> = responses.keys().filter(|c| c.starts_with('2')).collect();
        if success.len() != 1 {
            self.problem(
                &responses_pointer,
                format!("needs exactly one success (2xx) response, has {}", success.len()),
            );
        }
        for code in ["4XX", "5XX"] {
            let ok = responses.get(code).and_then(|r| r.get("$ref")).and_then(Value::as_str) == Some(ERROR_RESPONSE);
            if !ok {
                self.problem(&format!("{responses_pointer}/{code}"), format!("must be $ref: '{ERROR_RESPONSE}'"));
            }
        }
        for code in responses.keys().filter(|c| !c.starts_with('2') && *c != "4XX" && *c != "5XX") {
            self.problem(
                &format!("{responses_pointer}/{}", segment(code)),
                "only one 2xx, '4XX' and '5XX' are allowed (progenitor accepts one success and one error shape)",
            );
        }
        for code in success {
            let response_pointer = format!("{responses_pointer}/{code}");
            let Some(response) = self.resolve(&responses[code.as_str()]) else { continue };
            let Some(content) = response.get("content").and_then(Value::as_object) else { continue };
            if content.len() != 1 || !content.contains_key(VENDOR_MEDIA_TYPE) {
                self.problem(
                    &format!("{response_pointer}/content"),
                    format!("a success body has exactly one media type, {VENDOR_MEDIA_TYPE}"),
                );
            }
            for (media_type, media) in content {
                let media_pointer = format!("{response_pointer}/content/{}", segment(media_type));
                let schema = media.get("schema").unwrap_or(&Value::Null);
                if !is_ref(schema) && !is_array_of_ref(schema) && schema != &serde_json::json!({"type": "boolean"}) {
                    self.problem(
                        &format!("{media_pointer}/schema"),
                        "must be a $ref, an array of a $ref, or {type: boolean}",
                    );
                }
                if media.get("example").is_none() {
                    self.problem(&media_pointer, "needs an example");
                }
            }
        }
        // request body
        if let Some(body) = op.get("requestBody").and_then(|b| self.resolve(b)) {
            let body_pointer = format!("{pointer}/requestBody");
            let content = body.get("content").and_then(Value::as_object);
            match content {
                Some(content) if content.len() == 1 && content.contains_key("application/json") => {
                    let media = &content["application/json"];
                    let media_pointer = format!("{body_pointer}/content/application~1json");
                    if !media.get("schema").is_some_and(is_ref) {
                        self.problem(
                            &format!("{media_pointer}/schema"),
                            "a request body schema must be a $ref to a component",
                        );
                    }
                    if media.get("example").is_none() {
                        self.problem(&media_pointer, "needs an example");
                    }
                }
                _ => self.problem(
                    &format!("{body_pointer}/content"),
                    "a request body has exactly one media type, application/json",
                ),
            }
        }
        // parameters
        let mut declared_path = BTreeSet::new();
        for (list, list_pointer) in [
            (item.get("parameters"), format!("{}/parameters", pointer.rsplit_once('/').map_or("", |p| p.0))),
            (op.get("parameters"), format!("{pointer}/parameters")),
        ] {
            let Some(list) = list.and_then(Value::as_array) else { continue };
            for (i, parameter) in list.iter().enumerate() {
                let parameter_pointer = format!("{list_pointer}/{i}");
                let Some(parameter) = self.resolve(parameter) else { continue };
                let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
                if parameter.get("in").and_then(Value::as_str) == Some("path") {
                    declared_path.insert(name.to_owned());
                    if !path.contains(&format!("{{{name}}}")) {
                        self.problem(&parameter_pointer, format!("path parameter `{name}` is not in the path"));
                    }
                }
                if parameter.get("example").is_none() {
                    self.problem(&parameter_pointer, format!("parameter `{name}` needs an example"));
                }
            }
        }
        for name in path_parameters(path) {
            if !declared_path.contains(name) {
                self.problem(pointer, format!("path parameter `{name}` is not declared"));
            }
        }
        self.no_inline_enums(op, pointer.to_owned());
    }

    fn components(&mut self) {
        let Some(components) = self.root.get("components") else { return };
        if let Some(schemas) = components.get("schemas").and_then(Value::as_object) {
            for (name, schema) in schemas {
                let pointer = format!("#/components/schemas/{}", segment(name));
                // typify names the type in UpperCamelCase: any other spelling would make
                // the Rust name differ from the spec's, and every reader of the model with it.
                let rust_name = heck::ToUpperCamelCase::to_upper_camel_case(name.as_str());
                if rust_name != *name {
                    self.problem(
                        &pointer,
                        format!(
                            "schema names are PascalCase: the generator would rename it; did you mean `{rust_name}`?"
                        ),
                    );
                }
                if schema.get("example").is_none() {
                    self.problem(&pointer, "needs an example");
                }
                if let Some(values) = schema.get("enum") {
                    self.enum_values(&pointer, values);
                } else {
                    self.no_inline_enums(schema, pointer.clone());
                }
                self.tolerance(schema, &pointer);
                self.discriminator(schema, &pointer);
                self.no_closed_objects(schema, pointer);
            }
            for name in answered_schemas(self.root) {
                // A dangling `$ref` is reported by `references`.
                let Some(schema) = schemas.get(&name) else { continue };
                if schema.get("type").and_then(Value::as_str) == Some("object") && !tolerance::is_tolerant(schema) {
                    self.problem(
                        &format!("#/components/schemas/{}", segment(&name)),
                        format!(
                            "answers carry this object: declare `{}: true` so the wire's spellings decode",
                            tolerance::EXTENSION
                        ),
                    );
                }
            }
        }
        for section in ["parameters", "requestBodies", "responses"] {
            let Some(entries) = components.get(section).and_then(Value::as_object) else { continue };
            for (name, entry) in entries {
                let pointer = format!("#/components/{section}/{}", segment(name));
                self.no_inline_enums(entry, pointer.clone());
                let has_example = match section {
                    "parameters" => entry.get("example").is_some(),
                    _ => entry
                        .get("content")
                        .and_then(Value::as_object)
                        .is_none_or(|c| c.values().all(|m| m.get("example").is_some())),
                };
                if !has_example {
                    self.problem(&pointer, "needs an example");
                }
            }
        }
    }

    /// Enum values become Rust variants of an open enum: each must give a distinct,
    /// valid identifier.
    fn enum_values(&mut self, pointer: &str, values: &Value) {
        let mut seen = BTreeMap::new();
        for (i, value) in values.as_array().into_iter().flatten().enumerate() {
            let Some(value) = value.as_str() else {
                self.problem(&format!("{pointer}/enum/{i}"), "enum values must be strings");
                continue;
            };
            // A keyword (`self` -> `Self`) gets `Value` appended there.
            let variant = self.spelling.variant_name(value);
            let valid = variant.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && variant.chars().all(|c| c.is_ascii_alphanumeric())
                && variant != "Unknown";
            if !valid {
                self.problem(
                    &format!("{pointer}/enum/{i}"),
                    format!("`{value}` does not make a Rust variant name (got `{variant}`)"),
                );
            } else if let Some(other) = seen.insert(variant.clone(), value.to_owned()) {
                self.problem(
                    &format!("{pointer}/enum/{i}"),
                    format!("`{value}` and `{other}` both become the variant `{variant}`"),
                );
            }
        }
    }

    fn tolerance(&mut self, schema: &Value, pointer: &str) {
        let Some(value) = schema.get(tolerance::EXTENSION) else { return };
        if !value.is_boolean() {
            self.problem(&format!("{pointer}/{}", tolerance::EXTENSION), "must be true or false");
        } else if schema.get("type").and_then(Value::as_str) != Some("object") {
            self.problem(&format!("{pointer}/{}", tolerance::EXTENSION), "only object schemas can be tolerant");
        }
    }

    /// A discriminated union becomes an open enum with one variant per mapped tag: the
    /// mapping must name every member, and only members.
    fn discriminator(&mut self, schema: &Value, pointer: &str) {
        let Some(discriminator) = schema.get("discriminator") else { return };
        let members: BTreeSet<&str> = schema
            .get("oneOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("$ref").and_then(Value::as_str))
            .collect();
        if members.is_empty() {
            self.problem(&format!("{pointer}/discriminator"), "a discriminator needs a oneOf of $refs");
        }
        if discriminator.get("propertyName").and_then(Value::as_str).is_none() {
            self.problem(&format!("{pointer}/discriminator"), "needs a propertyName");
        }
        let Some(mapping) = discriminator.get("mapping").and_then(Value::as_object) else {
            self.problem(&format!("{pointer}/discriminator"), "needs a mapping of every tag value to its schema");
            return;
        };
        let mapped: BTreeSet<&str> = mapping.values().filter_map(Value::as_str).collect();
        for (tag, target) in mapping {
            if !target.as_str().is_some_and(|t| members.contains(t)) {
                self.problem(
                    &format!("{pointer}/discriminator/mapping/{}", segment(tag)),
                    "must name one of the oneOf members",
                );
            }
        }
        for member in members.difference(&mapped) {
            self.problem(&format!("{pointer}/oneOf"), format!("`{member}` has no tag in the discriminator mapping"));
        }
    }

    fn no_inline_enums(&mut self, node: &Value, pointer: String) {
        for_each_object(node, pointer, &["example", "enum"], &mut |map, pointer| {
            if map.contains_key("enum") {
                self.problem(pointer, "inline enum: make it a component schema so it is open and named");
            }
        });
    }

    fn no_closed_objects(&mut self, node: &Value, pointer: String) {
        for_each_object(node, pointer, &["example"], &mut |map, pointer| {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                self.problem(pointer, "additionalProperties: false would reject fields the server adds");
            }
        });
    }

    /// Every `$ref` must point at something in this document; a near miss is named.
    fn references(&mut self, node: &'a Value, pointer: String) {
        let root = self.root;
        let mut found = Vec::new();
        for_each_object(node, pointer, &["example"], &mut |map, pointer| {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str)
                && reference.strip_prefix('#').is_none_or(|p| root.pointer(p).is_none())
            {
                found.push((pointer.to_owned(), reference.to_owned()));
            }
        });
        for (pointer, reference) in found {
            let (section, name) = reference.rsplit_once('/').unwrap_or(("", &reference));
            let known = section
                .strip_prefix('#')
                .and_then(|p| root.pointer(p))
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys().map(String::as_str));
            let hint =
                did_you_mean(name, known).map(|n| format!("; did you mean `{section}/{n}`?")).unwrap_or_default();
            self.problem_at(&pointer, format!("$ref `{reference}` does not resolve{hint}"));
        }
    }

    /// A problem found by a walk of the whole document: it names the operation whose
    /// subtree the pointer lies in, if any.
    fn problem_at(&mut self, pointer: &str, message: String) {
        let operation = operation_at(self.root, pointer);
        self.problems.push(Problem { operation, pointer: pointer.to_owned(), message });
    }

    /// Every schema `type` is one of OpenAPI 3.0's, so progenitor never meets another.
    fn schema_types(&mut self) {
        let mut found = Vec::new();
        for_each_object(self.root, "#".to_owned(), &["example", "securitySchemes"], &mut |map, pointer| {
            if let Some(ty) = map.get("type").and_then(Value::as_str)
                && !SCHEMA_TYPES.contains(&ty)
            {
                found.push((format!("{pointer}/type"), ty.to_owned()));
            }
        });
        for (pointer, ty) in found {
            let hint = did_you_mean(&ty, SCHEMA_TYPES.iter().copied())
                .map(|t| format!("; did you mean `{t}`?"))
                .unwrap_or_default();
            self.problem_at(&pointer, format!("unknown type `{ty}` (one of {}){hint}", SCHEMA_TYPES.join(", ")));
        }
    }
}

/// The types of an OpenAPI 3.0 schema.
const SCHEMA_TYPES: &[&str] = &["string", "number", "integer", "boolean", "array", "object"];

/// The closest of `candidates` to `name`, when it is close enough to be a typo.
fn did_you_mean<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `operation_id (METHOD /path)` of the operation whose subtree `pointer` lies in.
fn operation_at(root: &Value, pointer: &str) -> Option<String> {
    let mut segments = pointer.strip_prefix("#/paths/")?.split('/');
    let path = segments.next()?.replace("~1", "/").replace("~0", "~");
    let method = segments.next()?;
    let id = root.get("paths")?.get(&path)?.get(method)?.get("operationId")?.as_str()?;
    Some(format!("{id} ({} {path})", method.to_uppercase()))
}

/// The component schemas a success answer can carry, directly or nested.
fn answered_schemas(root: &Value) -> BTreeSet<String> {
    fn walk(root: &Value, node: &Value, seen: &mut BTreeSet<String>) {
        match node {
            Value::Object(map) => {
                if let Some(name) =
                    map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
                    && seen.insert(name.to_owned())
                    && let Some(target) = root.pointer(&format!("/components/schemas/{}", segment(name)))
                {
                    walk(root, target, seen);
                }
                for value in map.iter().filter(|(key, _)| *key != "example").map(|(_, v)| v) {
                    walk(root, value, seen);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(root, v, seen)),
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    for item in root.get("paths").and_then(Value::as_object).into_iter().flatten().map(|(_, i)| i) {
        for op in METHODS.iter().filter_map(|m| item.get(*m)) {
            for (code, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                if code.starts_with('2') {
                    walk(root, response, &mut seen);
                }
            }
        }
    }
    seen
}

/// Calls `visit` on every JSON object under `node` with its pointer, not descending into
/// the values of the `skip` keys (examples are data, not schema).
fn for_each_object(
    node: &Value,
    pointer: String,
    skip: &[&str],
    visit: &mut dyn FnMut(&serde_json::Map<String, Value>, &str),
) {
    match node {
        Value::Object(map) => {
            visit(map, &pointer);
            for (key, value) in map.iter().filter(|(key, _)| !skip.contains(&key.as_str())) {
                for_each_object(value, format!("{pointer}/{}", segment(key)), skip, visit);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                for_each_object(value, format!("{pointer}/{i}"), skip, visit);
            }
        }
        _ => {}
    }
}

fn is_snake_case(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

fn is_ref(schema: &Value) -> bool {
    schema.get("$ref").and_then(Value::as_str).is_some_and(|r| r.starts_with("#/components/schemas/"))
}

fn is_array_of_ref(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("array") && schema.get("items").is_some_and(is_ref)
}

/// The `{name}` segments of a path template.
pub(crate) fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name))
}
