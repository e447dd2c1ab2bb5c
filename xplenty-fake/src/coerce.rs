//! Canonical storage: a value in one of the spellings the fake tolerates is turned into
//! the type its (strict) JSON Schema declares before the fake stores it, so answers carry
//! the declared types whatever spelling came in. Driven by the schema alone: integer and
//! number text to numbers, the boolean spellings (`0`, `1`, `t`, `f`, `"true"`, `"False"`)
//! to booleans, numbers and booleans to their JSON text where text is declared, an object
//! with index keys (`{"0": ..., "1": ...}`, what a Rails server makes of `a[0][b]=1`) to an
//! array where an array is declared. Anything else is left as it is, for the schema check
//! to refuse.

use serde_json::{Map, Value};

/// Integers are exact in an `f64` up to 2^53; a larger one that only came as a float
/// (serde_json reads integers beyond 64 bits that way) is out of range.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// `value` in the types of `schema`, or the problems (an integer out of range) named by
/// their JSON pointer.
pub(crate) fn coerce(schema: &Value, value: Value) -> Result<Value, String> {
    let mut problems = Vec::new();
    let value = walk(schema, value, "", &mut problems);
    if problems.is_empty() { Ok(value) } else { Err(problems.join("; ")) }
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ => Vec::new(),
    }
}

fn site(pointer: &str) -> String {
    if pointer.is_empty() { "body".to_owned() } else { format!("field {pointer}") }
}

fn walk(schema: &Value, value: Value, pointer: &str, problems: &mut Vec<String>) -> Value {
    if let Some(branches) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
        return match branch(branches, &value) {
            Some(chosen) => walk(chosen, value, pointer, problems),
            None => value,
        };
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().fold(value, |value, part| walk(part, value, pointer, problems));
    }
    let types = types(schema);
    if value.is_null() || types.is_empty() || schema.get("enum").is_some() && value.is_string() {
        return value;
    }
    let has = |t: &str| types.contains(&t);
    match value {
        Value::String(text) if has("integer") => integer_text(&text, pointer, problems),
        Value::Number(n) if has("integer") => integer(n, pointer, problems),
        Value::String(text) if has("number") => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        Value::String(text) if has("boolean") => boolean_text(&text).map_or(Value::String(text), Value::Bool),
        Value::Number(n) if has("boolean") && (n.as_u64() == Some(0) || n.as_u64() == Some(1)) => {
            Value::Bool(n.as_u64() == Some(1))
        }
        Value::Number(n) if has("string") && schema.get("format").is_none() => Value::String(n.to_string()),
        Value::Bool(b) if has("string") && schema.get("format").is_none() => Value::String(b.to_string()),
        Value::Object(map) if has("array") && indexed(&map) => {
            let mut entries: Vec<(u64, Value)> =
                map.into_iter().filter_map(|(k, v)| Some((k.parse().ok()?, v))).collect();
            entries.sort_by_key(|(k, _)| *k);
            walk(schema, Value::Array(entries.into_iter().map(|(_, v)| v).collect()), pointer, problems)
        }
        Value::Array(items) if has("array") => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| walk(&schema["items"], item, &format!("{pointer}/{i}"), problems))
                .collect(),
        ),
        Value::Object(map) if has("object") => Value::Object(object(schema, map, pointer, problems)),
        other => other,
    }
}

/// The branch of a union the value belongs to: the one whose tag enum holds the value's
/// tag (a discriminated union), or `null` for `null`, or else the first other branch.
fn branch<'a>(branches: &'a [Value], value: &Value) -> Option<&'a Value> {
    let tagged = branches.iter().find(|b| {
        let Some(tag) = b.pointer("/allOf/0/properties").and_then(Value::as_object) else { return false };
        tag.iter().all(|(name, rule)| rule["enum"].as_array().is_some_and(|tags| tags.contains(&value[name])))
    });
    let is_null = |b: &&Value| b.get("type") == Some(&Value::String("null".into()));
    tagged
        .or_else(|| value.is_null().then(|| branches.iter().find(is_null)).flatten())
        .or_else(|| branches.iter().find(|b| !is_null(b) && b.pointer("/allOf/0/properties").is_none()))
}

fn object(schema: &Value, map: Map<String, Value>, pointer: &str, problems: &mut Vec<String>) -> Map<String, Value> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    let mut out = Map::new();
    for (key, value) in map {
        let inner = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
        match (properties.and_then(|p| p.get(&key)), additional) {
            (Some(property), _) => {
                out.insert(key, walk(property, value, &inner, problems));
            }
            // A map of values leaves out a `null` value, as the client reads it.
            (None, Some(values)) if value.is_null() && !types(values).contains(&"null") => {}
            (None, Some(values)) => {
                out.insert(key, walk(values, value, &inner, problems));
            }
            (None, None) => {
                out.insert(key, value);
            }
        }
    }
    out
}

/// Every key a decimal index: a Rails hash made of `a[0]=..&a[1]=..`.
fn indexed(map: &Map<String, Value>) -> bool {
    !map.is_empty() && map.keys().all(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
}

fn integer(n: serde_json::Number, pointer: &str, problems: &mut Vec<String>) -> Value {
    if n.is_u64() || n.is_i64() {
        return Value::Number(n);
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < EXACT => Value::Number((f as i64).into()),
        Some(f) if f.fract() == 0.0 => {
            problems.push(format!("{}: {n} is out of the range of a 64-bit integer", site(pointer)));
            Value::Number(n)
        }
        _ => Value::Number(n),
    }
}

fn integer_text(text: &str, pointer: &str, problems: &mut Vec<String>) -> Value {
    let trimmed = text.trim();
    if let Ok(n) = trimmed.parse::<u64>() {
        return n.into();
    }
    if let Ok(n) = trimmed.parse::<i64>() {
        return n.into();
    }
    let digits = trimmed.strip_prefix('-').unwrap_or(trimmed);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(format!("{}: {trimmed} is out of the range of a 64-bit integer", site(pointer)));
    }
    Value::String(text.to_owned())
}

/// The spellings of a boolean the service reads (`create-cluster.md`: "true, t or 1").
fn boolean_text(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" => Some(true),
        "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerated_spellings_become_the_declared_types() {
        let schema = json!({"type": "object", "properties": {
            "nodes": {"type": "integer", "minimum": 0},
            "terminate_on_idle": {"type": "boolean"},
            "args": {"type": "array", "items": {"type": "string"}},
            "packages": {"type": "array", "items": {"type": "object", "properties": {"package_id": {"type": "integer"}}}},
            "vars": {"type": "object", "additionalProperties": {"type": "string"}}
        }});
        let body = json!({"nodes": "2", "terminate_on_idle": "False", "args": [false, 3],
            "packages": {"1": {"package_id": "8"}, "0": {"package_id": 7}}, "vars": {"a": 1, "b": null}});
        assert_eq!(
            coerce(&schema, body).unwrap(),
            json!({"nodes": 2, "terminate_on_idle": false, "args": ["false", "3"],
                "packages": [{"package_id": 7}, {"package_id": 8}], "vars": {"a": "1"}})
        );
        assert_eq!(coerce(&schema, json!({"terminate_on_idle": "t"})).unwrap(), json!({"terminate_on_idle": true}));
        assert_eq!(coerce(&schema, json!({"terminate_on_idle": 1})).unwrap(), json!({"terminate_on_idle": true}));
    }

    #[test]
    fn integers_beyond_64_bits_are_named() {
        let schema = json!({"type": "object", "properties": {"nodes": {"type": "integer"}}});
        let huge: Value = serde_json::from_str(r#"{"nodes": 18446744073709551616}"#).unwrap();
        assert!(coerce(&schema, huge).unwrap_err().contains("/nodes"));
        assert!(coerce(&schema, json!({"nodes": "99999999999999999999"})).is_err());
        assert_eq!(coerce(&schema, json!({"nodes": "two"})).unwrap(), json!({"nodes": "two"}), "left for the check");
    }
}
