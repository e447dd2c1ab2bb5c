//! The real service's spellings, on request ([`crate::FakeBuilder::wire_variants`]): what
//! its answers send beyond the docs and the client reads through the spec's
//! `x-tolerant` declaration. Every variant answer is checked against the spec again, so
//! a variant the spec does not declare is found as a fake answer outside the spec.

use serde_json::{Map, Value, json};

/// Rewrites a success answer the way the wire writes it: integer ids as their text,
/// numeric variable values as numbers, hook events as objects with their last delivery.
pub(crate) fn apply(body: &mut Value) {
    match body {
        Value::Array(items) => items.iter_mut().for_each(apply),
        Value::Object(object) => rewrite(object),
        _ => {}
    }
}

fn rewrite(object: &mut Map<String, Value>) {
    for (key, value) in object.iter_mut() {
        match value {
            Value::Number(n) if is_id(key) && n.is_u64() => *value = Value::String(n.to_string()),
            Value::Object(variables) if key == "variables" => {
                for value in variables.values_mut() {
                    if let Some(number) = value.as_str().and_then(numeric) {
                        *value = number;
                    }
                }
            }
            Value::Array(events) if key == "events" => {
                for (i, event) in events.iter_mut().enumerate() {
                    if let Value::String(name) = event {
                        *event = json!({
                            "id": i + 1,
                            "name": name,
                            "last_response": {},
                            "last_trigger_status": "none",
                            "last_trigger_time": null,
                        });
                    }
                }
            }
            other => apply(other),
        }
    }
}

fn is_id(key: &str) -> bool {
    key == "id" || key.ends_with("_id")
}

fn numeric(text: &str) -> Option<Value> {
    if let Ok(n) = text.parse::<u64>() {
        return Some(json!(n));
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite() && text.contains('.')).map(|f| json!(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_text_variables_numbers_and_events_objects() {
        let mut body = json!([{"id": 7, "cluster_id": 3, "name": "x", "variables": {"rows": "500", "day": "mon"},
                               "events": ["job.failed"], "creator": {"id": 2}}]);
        apply(&mut body);
        assert_eq!(body[0]["id"], "7");
        assert_eq!(body[0]["cluster_id"], "3");
        assert_eq!(body[0]["creator"]["id"], "2");
        assert_eq!(body[0]["variables"], json!({"rows": 500, "day": "mon"}));
        assert_eq!(body[0]["events"][0]["name"], "job.failed");
        assert_eq!(body[0]["name"], "x");
    }
}
