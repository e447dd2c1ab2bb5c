use serde_json::{Map, Value};

/// Converts an OpenAPI 3.0 schema of `root` into a self-contained JSON Schema (draft 4):
/// `$ref`s inlined, `nullable: true` turned into a `null` alternative, OpenAPI-only
/// keywords dropped. Used to validate the spec's examples and the fake server's answers.
pub fn to_json_schema(root: &Value, schema: &Value) -> Value {
    convert(root, schema, 0)
}

/// Deeper than any schema of this API; stops a self-referencing schema.
const MAX_DEPTH: usize = 32;

fn convert(root: &Value, schema: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    let Value::Object(map) = schema else { return schema.clone() };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let target = reference.strip_prefix('#').and_then(|p| root.pointer(p)).cloned().unwrap_or(Value::Null);
        return convert(root, &target, depth + 1);
    }
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "example" | "nullable" | "description" | "readOnly" | "writeOnly" | "format" | "discriminator" | "xml"
            | "externalDocs" | "deprecated" => {}
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), convert(root, v, depth + 1))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" | "additionalProperties" | "not" if value.is_object() => {
                out.insert(key.clone(), convert(root, value, depth + 1));
            }
            "oneOf" | "anyOf" | "allOf" => {
                let list = value
                    .as_array()
                    .map(|l| l.iter().map(|v| convert(root, v, depth + 1)).collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                "at": {"type": ["string", "null"]}
            }})
        );
    }
}
