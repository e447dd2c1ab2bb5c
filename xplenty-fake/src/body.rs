//! Request bodies read as the service reads them (a Rails server): flat JSON, and where
//! the spec's `x-accepts` declares it, JSON wrapped in the resource's name, urlencoded
//! forms with bracket keys (`cluster[nodes]=2`, `job[variables][k]=v`, `a[]=x`) and
//! fields in the query string of a POST or PUT, merged with the body.

use serde_json::{Map, Value};

use crate::spec::Accepts;

/// How a body came, by its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Form,
}

/// The encoding of a `Content-Type`; `None` for one the fake does not read (a 415).
/// No `Content-Type` at all is read as JSON.
pub(crate) fn encoding(content_type: Option<&str>) -> Option<Encoding> {
    let Some(content_type) = content_type else { return Some(Encoding::Json) };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" | "text/json" => Some(Encoding::Json),
        "application/x-www-form-urlencoded" => Some(Encoding::Form),
        other if other.starts_with("application/") && other.ends_with("+json") => Some(Encoding::Json),
        _ => None,
    }
}

/// Urlencoded pairs as a Rails server nests them: `a[b][c]=v` is `{"a":{"b":{"c":"v"}}}`,
/// `a[]=x&a[]=y` is `{"a":["x","y"]}`, `a[0][b]=1` is `{"a":{"0":{"b":"1"}}}` (read as an
/// array where one is declared). A pair that contradicts an earlier one is dropped.
pub(crate) fn nest(pairs: impl IntoIterator<Item = (String, String)>) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in pairs {
        let (head, mut rest) = match key.find('[') {
            Some(i) => (&key[..i], &key[i..]),
            None => (key.as_str(), ""),
        };
        if head.is_empty() {
            continue;
        }
        let mut segments = vec![head.to_owned()];
        while let Some(inner) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            segments.push(inner.0.to_owned());
            rest = inner.1;
        }
        insert(&mut root, &segments, Value::String(value));
    }
    root
}

fn insert(map: &mut Map<String, Value>, segments: &[String], value: Value) {
    let Some((first, rest)) = segments.split_first() else { return };
    match rest.first().map(String::as_str) {
        None => {
            map.entry(first.clone()).or_insert(value);
        }
        // `a[]=x`: one more item of a list.
        Some("") => {
            let slot = map.entry(first.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = slot {
                if rest.len() == 1 {
                    items.push(value);
                } else {
                    // `a[][b]=1`: a new item unless the last one lacks `b`.
                    let needs_new = items
                        .last()
                        .and_then(Value::as_object)
                        .is_none_or(|last| rest.get(1).is_some_and(|k| last.contains_key(k)));
                    if needs_new {
                        items.push(Value::Object(Map::new()));
                    }
                    if let Some(Value::Object(last)) = items.last_mut() {
                        insert(last, &rest[1..], value);
                    }
                }
            }
        }
        Some(_) => {
            let slot = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = slot {
                insert(inner, rest, value);
            }
        }
    }
}

/// The fields the service reads from `body` and, for a POST or PUT, the query's `extra`
/// pairs (those that are not the operation's own parameters): query fields fill what the
/// body leaves out, a body wrapped in the resource's name is unwrapped, and an alias
/// stands for its field when the field is absent.
pub(crate) fn accepted(accepts: &Accepts, body: Option<Value>, extra: Vec<(String, String)>) -> Option<Value> {
    let mut body = body;
    if accepts.form("query") && !extra.is_empty() {
        let mut merged = match body.take() {
            Some(Value::Object(map)) => map,
            Some(other) => return Some(other),
            None => Map::new(),
        };
        merge(&mut merged, nest(extra));
        body = Some(Value::Object(merged));
    }
    let Some(Value::Object(mut map)) = body else { return body };
    if accepts.form("wrapped")
        && !accepts.wrapper.is_empty()
        && let Some(Value::Object(inner)) = map.remove(accepts.wrapper)
    {
        let outside = std::mem::replace(&mut map, inner);
        for (key, value) in outside {
            map.entry(key).or_insert(value);
        }
    }
    for (alias, field) in accepts.aliases {
        if !map.contains_key(*field)
            && let Some(value) = map.remove(*alias)
        {
            map.insert((*field).to_owned(), value);
        }
    }
    Some(Value::Object(map))
}

/// Adds `from`'s fields to `into` where `into` has none (objects merged deeply).
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(mine)), Value::Object(theirs)) => merge(mine, theirs),
            (Some(_), _) => {}
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(text: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(text.as_bytes()).into_owned().collect()
    }

    #[test]
    fn bracket_keys_nest_as_rails_reads_them() {
        let nested = nest(pairs(
            "cluster%5Bnodes%5D=2&job[variables][run_date]=%272024%27&a[]=x&a[]=y&s[task][packages][0][package_id]=1&flat=v",
        ));
        assert_eq!(
            Value::Object(nested),
            json!({"cluster": {"nodes": "2"}, "job": {"variables": {"run_date": "'2024'"}}, "a": ["x", "y"],
                "s": {"task": {"packages": {"0": {"package_id": "1"}}}}, "flat": "v"})
        );
        assert_eq!(Value::Object(nest(pairs("l[][id]=1&l[][id]=2"))), json!({"l": [{"id": "1"}, {"id": "2"}]}));
    }

    #[test]
    fn wrapped_query_and_aliased_fields_are_read() {
        let accepts =
            Accepts { wrapper: "job", forms: &["wrapped", "form", "query"], aliases: &[("job_id", "package_id")] };
        let read = accepted(&accepts, None, pairs("job[cluster_id]=812&job[job_id]=2041"));
        assert_eq!(read, Some(json!({"cluster_id": "812", "package_id": "2041"})));
        let read = accepted(&accepts, Some(json!({"job": {"cluster_id": 1}})), Vec::new());
        assert_eq!(read, Some(json!({"cluster_id": 1})));
        let flat = Accepts { wrapper: "", forms: &[], aliases: &[] };
        assert_eq!(accepted(&flat, Some(json!({"job": {"a": 1}})), pairs("x=1")), Some(json!({"job": {"a": 1}})));
    }
}
