//! The spec as the fake's referee: requests are checked against their operation's
//! parameter and body schemas before anything changes, and answers against the success
//! schema before they are sent. The schemas are the spec's, converted by
//! `xplenty_gen::to_json_schema` in `build.rs` (the code the spec's own tests use) and
//! compiled with `jsonschema` once per operation, on its first call.
//!
//! For requests an enum value outside the spec's list is an error: the client reads enums
//! openly, but what the fake accepts it must be able to answer within the spec. Fields the
//! body schema does not name are ignored, as the API ignores them.

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/validation.rs"));

/// A path or query parameter of an operation (from `build.rs`).
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    /// `path` or `query`.
    pub(crate) location: &'static str,
    pub(crate) required: bool,
    /// An array sent comma-joined in one value (`style: form, explode: false`).
    pub(crate) joined: bool,
    /// JSON Schema as JSON text.
    pub(crate) schema: &'static str,
}

/// What the spec says an operation's requests and success answer look like (from
/// `build.rs`). Schemas are JSON text, empty when there is none.
#[derive(Debug)]
pub(crate) struct Validation {
    pub(crate) id: &'static str,
    pub(crate) params: &'static [Param],
    pub(crate) body_required: bool,
    pub(crate) body: &'static str,
    pub(crate) answer: &'static str,
}

/// A schema compiled, or why it does not compile (a bug of the spec or the converter).
type Compiled = Result<Validator, String>;

struct Validators {
    params: Vec<(&'static Param, Value, Compiled)>,
    body: Option<(Value, Compiled)>,
    answer: Option<Compiled>,
}

fn compile(text: &str) -> (Value, Compiled) {
    let schema: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let compiled = jsonschema::draft4::new(&schema).map_err(|e| e.to_string());
    (schema, compiled)
}

fn validators(id: &str) -> Option<&'static Validators> {
    static COMPILED: OnceLock<Vec<OnceLock<Validators>>> = OnceLock::new();
    let index = VALIDATION.binary_search_by(|v| v.id.cmp(id)).ok()?;
    let slots = COMPILED.get_or_init(|| VALIDATION.iter().map(|_| OnceLock::new()).collect());
    Some(slots[index].get_or_init(|| {
        let v = &VALIDATION[index];
        Validators {
            params: v
                .params
                .iter()
                .map(|p| {
                    let (schema, compiled) = compile(p.schema);
                    (p, schema, compiled)
                })
                .collect(),
            body: (!v.body.is_empty()).then(|| compile(v.body)),
            answer: (!v.answer.is_empty()).then(|| compile(v.answer).1),
        }
    }))
}

pub(crate) fn validation(id: &str) -> Option<&'static Validation> {
    VALIDATION.binary_search_by(|v| v.id.cmp(id)).ok().map(|i| &VALIDATION[i])
}

/// The JSON Schema types a schema allows.
fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A parameter's text as the JSON value its schema types it as; text that fits none of
/// the number and boolean types stays a string, for the schema to refuse.
fn typed(schema: &Value, text: &str) -> Value {
    let types = types(schema);
    if types.contains(&"integer") {
        if let Ok(n) = text.parse::<i64>() {
            return n.into();
        }
        if let Ok(n) = text.parse::<u64>() {
            return n.into();
        }
    }
    if types.contains(&"number")
        && let Some(n) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    if types.contains(&"boolean") && (text == "true" || text == "false") {
        return Value::Bool(text == "true");
    }
    Value::String(text.to_owned())
}

/// Up to this many problems are named in one message.
const NAMED: usize = 5;

fn describe(compiled: &Compiled, instance: &Value, site: impl Fn(&str) -> String) -> Vec<String> {
    let validator = match compiled {
        Ok(validator) => validator,
        Err(e) => return vec![format!("{}: the spec's schema does not compile: {e}", site(""))],
    };
    validator
        .iter_errors(instance)
        .take(NAMED)
        .map(|error| {
            let pointer = error.instance_path().to_string();
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property.as_str().map_or_else(|| property.to_string(), str::to_owned);
                    if pointer.is_empty() {
                        format!("{name} is required")
                    } else {
                        format!("{pointer}/{name} is required")
                    }
                }
                _ => format!("{}: {error}", site(&pointer)),
            }
        })
        .collect()
}

/// Why the request breaks the spec, or `None` when it keeps to it. `path` holds the
/// path parameters by name, `query` the query pairs as sent, `body` the parsed JSON body.
pub(crate) fn check_request(
    id: &str,
    path: &std::collections::BTreeMap<&'static str, String>,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Option<String> {
    let (spec, validators) = (validation(id)?, validators(id)?);
    let mut problems = Vec::new();
    for (param, schema, compiled) in &validators.params {
        let texts: Vec<&str> = match param.location {
            "path" => path.get(param.name).map(String::as_str).into_iter().collect(),
            _ => query.iter().filter(|(k, _)| k == param.name).map(|(_, v)| v.as_str()).collect(),
        };
        if texts.is_empty() {
            if param.required {
                problems.push(format!("parameter {} is required", param.name));
            }
            continue;
        }
        let site = |_: &str| format!("parameter {}", param.name);
        if schema["type"] == "array" {
            let items = &schema["items"];
            let values: Vec<Value> = if param.joined {
                texts.iter().flat_map(|t| t.split(',')).map(|t| typed(items, t)).collect()
            } else {
                texts.iter().map(|t| typed(items, t)).collect()
            };
            problems.extend(describe(compiled, &Value::Array(values), site));
        } else {
            for text in texts {
                problems.extend(describe(compiled, &typed(schema, text), site));
            }
        }
    }
    if let Some((schema, compiled)) = &validators.body {
        let empty = Value::Object(Map::new());
        let body = match body {
            Some(body) => Some(body),
            // A missing body is an empty object, so the message names the missing fields.
            None if spec.body_required && types(schema).contains(&"object") => Some(&empty),
            None if spec.body_required => {
                problems.push("a JSON body is required".to_owned());
                None
            }
            None => None,
        };
        if let Some(body) = body {
            problems.extend(describe(compiled, body, |pointer| {
                if pointer.is_empty() { "body".to_owned() } else { format!("field {pointer}") }
            }));
        }
    }
    problems.truncate(NAMED);
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Why a success answer of operation `id` breaks its documented schema, if it does.
pub(crate) fn check_answer(id: &str, body: &Value) -> Option<String> {
    let compiled = validators(id)?.answer.as_ref()?;
    let problems =
        describe(compiled, body, |pointer| if pointer.is_empty() { "answer".to_owned() } else { pointer.to_owned() });
    (!problems.is_empty()).then(|| format!("fake answer outside the spec: {id}: {}", problems.join("; ")))
}
