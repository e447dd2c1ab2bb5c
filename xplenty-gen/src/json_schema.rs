use serde_json::{Map, Value, json};

use crate::spec::model::resolve;
use crate::spec::tolerance;

/// Converts an OpenAPI 3.0 schema of `root` into a self-contained JSON Schema (draft 4):
/// `$ref`s inlined, `nullable: true` turned into a `null` alternative, OpenAPI-only
/// keywords dropped, the scalars of tolerant schemas ([`TOLERANT_EXTENSION`](crate::TOLERANT_EXTENSION))
/// widened to the spellings the client's tolerant reading accepts, and discriminated
/// unions checked by their tag. Used to validate the spec's examples and the fake
/// server's requests and answers.
pub fn to_json_schema(root: &Value, schema: &Value) -> Value {
    convert(root, schema, 0, true)
}

/// The same schema as the spec writes it, without the tolerant widening: what every
/// answer of the fake (without its wire variants) keeps to, and the types a tolerated
/// spelling is coerced to before the fake stores it.
pub fn to_strict_json_schema(root: &Value, schema: &Value) -> Value {
    convert(root, schema, 0, false)
}

/// Deeper than any schema of this API; stops a self-referencing schema.
const MAX_DEPTH: usize = 32;

fn convert(root: &Value, schema: &Value, depth: usize, wide: bool) -> Value {
    if depth > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    let Value::Object(map) = schema else { return schema.clone() };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let target = reference.strip_prefix('#').and_then(|p| root.pointer(p)).cloned().unwrap_or(Value::Null);
        return convert(root, &target, depth + 1, wide);
    }
    if let Some(union) = discriminated(root, map, depth, wide) {
        return union;
    }
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "example"
            | "nullable"
            | "description"
            | "readOnly"
            | "writeOnly"
            | "discriminator"
            | "xml"
            | "externalDocs"
            | "deprecated"
            | tolerance::EXTENSION => {}
            // Only date-times are checked (the one format the spec uses); others would
            // depend on the validator's format support.
            "format" => {
                if value == "date-time" {
                    out.insert(key.clone(), value.clone());
                }
            }
            "properties" => {
                let tolerant = wide && tolerance::is_tolerant(schema);
                let properties = value
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| {
                                let converted = convert(root, v, depth + 1, wide);
                                let converted = if tolerant { widen(root, v, converted) } else { converted };
                                (k.clone(), converted)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "additionalProperties" if value.is_object() && wide && tolerance::is_tolerant(schema) => {
                // A tolerant map's own values, like the maps among its properties.
                out.insert(key.clone(), widen_item(root, value, convert(root, value, depth + 1, wide), true));
            }
            "items" | "additionalProperties" | "not" if value.is_object() => {
                out.insert(key.clone(), convert(root, value, depth + 1, wide));
            }
            "oneOf" | "anyOf" | "allOf" => {
                let list = value
                    .as_array()
                    .map(|l| l.iter().map(|v| convert(root, v, depth + 1, wide)).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(list));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        let open_type = out.remove("type");
        if let Some(t) = open_type {
            out.insert("type".into(), Value::Array(vec![t, Value::String("null".into())]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
        if !out.contains_key("type") && !out.contains_key("enum") {
            return serde_json::json!({ "anyOf": [Value::Object(out), { "type": "null" }] });
        }
    }
    Value::Object(out)
}

/// A `oneOf` with a discriminator mapping, as the client reads it: the tag picks the one
/// member to validate against (JSON Schema's `oneOf` would reject a body that happens to
/// fit two members). Tags outside the mapping are refused here, as unknown enum values
/// are; the client itself keeps them as `Unknown`.
fn discriminated(root: &Value, map: &Map<String, Value>, depth: usize, wide: bool) -> Option<Value> {
    map.get("oneOf")?;
    let discriminator = map.get("discriminator")?;
    let property = discriminator.get("propertyName")?.as_str()?;
    let mapping = discriminator.get("mapping")?.as_object()?;
    let mut targets: Vec<(&str, Vec<&String>)> = Vec::new();
    for (tag, target) in mapping {
        let target = target.as_str()?;
        match targets.iter_mut().find(|(t, _)| *t == target) {
            Some((_, tags)) => tags.push(tag),
            None => targets.push((target, vec![tag])),
        }
    }
    let branches: Vec<Value> = targets
        .into_iter()
        .map(|(target, tags)| {
            let member = convert(root, &json!({ "$ref": target }), depth + 1, wide);
            json!({"allOf": [{"required": [property], "properties": {property: {"enum": tags}}}, member]})
        })
        .collect();
    Some(json!({ "anyOf": branches }))
}

/// Widens a converted property of a tolerant schema where the client reads it
/// tolerantly: the scalar itself, the items of an array of scalars, the values of a map
/// of scalars (whose `null` values the client leaves out).
fn widen(root: &Value, original: &Value, mut converted: Value) -> Value {
    let original = resolve(root, original);
    if tolerance::is_tolerant_scalar(original) {
        return widen_scalar(original, converted);
    }
    for (key, null_too) in [("items", false), ("additionalProperties", true)] {
        let (Some(inner), Some(slot)) = (original.get(key).filter(|v| v.is_object()), converted.get_mut(key)) else {
            continue;
        };
        *slot = widen_item(root, inner, slot.take(), null_too);
    }
    converted
}

/// Widens an array item or a map value (`original`, converted as `converted`) when it is
/// a tolerant scalar; a map's `null` values are accepted too, as the client leaves them out.
fn widen_item(root: &Value, original: &Value, converted: Value, null_too: bool) -> Value {
    let original = resolve(root, original);
    if !tolerance::is_tolerant_scalar(original) {
        return converted;
    }
    let mut widened = widen_scalar(original, converted);
    if null_too {
        widened["anyOf"].as_array_mut().expect("widen_scalar makes an anyOf").push(json!({"type": "null"}));
    }
    widened
}

fn widen_scalar(original: &Value, converted: Value) -> Value {
    let unsigned = original.get("minimum").and_then(Value::as_f64).is_some_and(|m| m >= 0.0);
    let alternative = match original.get("type").and_then(Value::as_str) {
        Some("integer") if unsigned => json!({"type": "string", "pattern": "^[0-9]+$"}),
        Some("integer") => json!({"type": "string", "pattern": "^-?[0-9]+$"}),
        Some("number") => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"}),
        Some("boolean") => json!({"enum": [0, 1, "true", "false", "t", "f", "0", "1"]}),
        Some("string") => json!({"type": ["number", "boolean"]}),
        _ => return converted,
    };
    json!({"anyOf": [converted, alternative]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlines_refs_and_makes_nullable_accept_null() {
        let root = json!({"components": {"schemas": {"Id": {"type": "integer", "minimum": 0, "example": 1}}}});
        let schema = json!({"type": "object", "properties": {
            "id": {"$ref": "#/components/schemas/Id"},
            "at": {"type": "string", "format": "date-time", "nullable": true}
        }});
        assert_eq!(
            to_json_schema(&root, &schema),
            json!({"type": "object", "properties": {
                "id": {"type": "integer", "minimum": 0},
                "at": {"type": ["string", "null"], "format": "date-time"}
            }})
        );
    }

    #[test]
    fn tolerant_schemas_accept_the_wire_spellings_of_their_scalars() {
        let root = json!({});
        let schema = json!({"type": "object", "x-tolerant": true, "properties": {
            "id": {"type": "integer", "minimum": 0},
            "plan_id": {"type": "string", "nullable": true},
            "at": {"type": "string", "format": "date-time"},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "vars": {"type": "object", "additionalProperties": {"type": "string"}}
        }});
        let converted = to_json_schema(&root, &schema);
        assert_eq!(
            converted["properties"]["id"],
            json!({"anyOf": [
                {"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}
            ]})
        );
        assert_eq!(converted["properties"]["plan_id"]["anyOf"][1], json!({"type": ["number", "boolean"]}));
        assert_eq!(
            converted["properties"]["at"],
            json!({"type": "string", "format": "date-time"}),
            "dates read strictly"
        );
        assert_eq!(converted["properties"]["ids"]["items"]["anyOf"][1]["type"], "string");
        assert_eq!(converted["properties"]["vars"]["additionalProperties"]["anyOf"][2], json!({"type": "null"}));
        assert!(converted.get("x-tolerant").is_none());
        let strict = to_strict_json_schema(&root, &schema);
        assert_eq!(strict["properties"]["id"], json!({"type": "integer", "minimum": 0}), "as written");
        assert_eq!(strict["properties"]["vars"]["additionalProperties"], json!({"type": "string"}));
    }
}
