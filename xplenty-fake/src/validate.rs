//! The spec as the fake's referee: requests are checked against their operation's
//! parameter and body schemas before anything changes, and answers against the success
//! schema before they are sent. The schemas are the spec's, converted by
//! `xplenty_gen::to_json_schema` in `build.rs` (the code the spec's own tests use) and
//! compiled with `jsonschema` once per operation, on its first call.
//!
//! For requests an enum value outside the spec's list is an error: the client reads enums
//! openly, but what the fake accepts it must be able to answer within the spec. Fields the
//! body schema does not name are ignored, as the API ignores them.

use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

use crate::spec::{Compiled, OperationSpec, Validators};

/// Declared formats (`date-time`) are checked, as the service parses them.
fn compile(text: &str) -> (Value, Compiled) {
    let schema: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let compiled =
        jsonschema::draft4::options().should_validate_formats(true).build(&schema).map_err(|e| e.to_string());
    (schema, compiled)
}

/// The operation's schemas, compiled on its first call and kept in its row.
fn validators(spec: &'static OperationSpec) -> &'static Validators {
    spec.validators.get_or_init(|| {
        let v = &spec.validation;
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
            body_strict: (!v.body_strict.is_empty())
                .then(|| serde_json::from_str(v.body_strict).unwrap_or(Value::Null)),
            answer: (!v.answer.is_empty()).then(|| compile(v.answer).1),
            answer_strict: (!v.answer_strict.is_empty()).then(|| compile(v.answer_strict).1),
        }
    })
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

/// An integer parameter beyond `i64::MAX` (an offset near `u64::MAX`, an id of 20
/// digits): no item has such an id, and paging arithmetic stays far from overflow.
fn out_of_range(schema: &Value, text: &str) -> bool {
    let digits = text.trim().strip_prefix('-').unwrap_or(text.trim());
    types(schema).contains(&"integer")
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && text.trim().parse::<i64>().is_err()
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
    spec: &'static OperationSpec,
    path: &std::collections::BTreeMap<&'static str, String>,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Option<String> {
    let validators = validators(spec);
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
        let items = if schema["type"] == "array" { &schema["items"] } else { schema };
        if let Some(text) = texts.iter().flat_map(|t| t.split(',')).find(|t| out_of_range(items, t)) {
            problems.push(format!("parameter {}: {text} is out of range (at most {})", param.name, i64::MAX));
            continue;
        }
        if schema["type"] == "array" {
            let items = &schema["items"];
            // A joined array's empty text (`type=`) is the empty list.
            let values: Vec<Value> = if param.joined {
                texts.iter().flat_map(|t| t.split(',')).filter(|t| !t.is_empty()).map(|t| typed(items, t)).collect()
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
            // A missing body is an empty object too, so the message names the missing fields.
            None if spec.validation.body_required => {
                problems.push("a request body is required".to_owned());
                types(schema).contains(&"object").then_some(&empty)
            }
            None => None,
        };
        if let Some(refusal) = body.and_then(|body| xplenty_api::body_rules::refusal(body, &spec.validation.rules)) {
            // The schema's own words for the same fault ("not valid under any of the
            // schemas listed in the 'anyOf' keyword") say less.
            problems.push(refusal);
        } else if let Some(body) = body {
            problems.extend(describe(compiled, body, |pointer| {
                if pointer.is_empty() { "body".to_owned() } else { format!("field {pointer}") }
            }));
        }
    }
    problems.truncate(NAMED);
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// The body with every tolerated spelling turned into the type the spec declares
/// (`"2"` for an integer is `2`, `"False"` for a boolean `false`, `[false]` for a list
/// of text `["false"]`), or why it cannot be (an integer beyond 64 bits).
pub(crate) fn canonical_body(spec: &'static OperationSpec, body: Value) -> Result<Value, String> {
    match &validators(spec).body_strict {
        Some(schema) => crate::coerce::coerce(schema, body),
        None => Ok(body),
    }
}

/// Why a success answer of operation `spec` breaks its documented schema, if it does:
/// the schema as the spec writes it (`strict`), or widened by `x-tolerant` for answers
/// written with the wire's variants.
pub(crate) fn check_answer(spec: &'static OperationSpec, body: &Value, strict: bool) -> Option<String> {
    let validators = validators(spec);
    let compiled = if strict { validators.answer_strict.as_ref()? } else { validators.answer.as_ref()? };
    let problems =
        describe(compiled, body, |pointer| if pointer.is_empty() { "answer".to_owned() } else { pointer.to_owned() });
    (!problems.is_empty()).then(|| format!("fake answer outside the spec: {}: {}", spec.id, problems.join("; ")))
}
