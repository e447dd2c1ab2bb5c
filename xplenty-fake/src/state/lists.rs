//! What lists and searches do with their query, as `sections/list-*.md` and
//! `sections/search-*.md` define it: `status` (`all` for every one), `type` (comma-joined,
//! `all`), `since` (updated at or after), `q` (search terms, `field:value` terms filter by
//! that field), `sort` and `direction`. Other parameters filter by the field of their name.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value?.as_str()?).ok().map(|t| t.with_timezone(&Utc))
}

/// Whether a search term matches: `field:value` compares that field, any other term must
/// appear in the name or description, ignoring case.
fn term_matches(item: &Value, term: &str) -> bool {
    if let Some((field, value)) = term.split_once(':')
        && !field.is_empty()
    {
        return item.get(field).and_then(text).is_some_and(|v| v.eq_ignore_ascii_case(value));
    }
    let term = term.to_lowercase();
    ["name", "description"]
        .iter()
        .any(|field| item.get(*field).and_then(text).is_some_and(|v| v.to_lowercase().contains(&term)))
}

/// The field a `sort` value orders by. `relevance` (the searches' default) has no score
/// in the fake: it is id order.
fn sort_field(sort: &str) -> &str {
    match sort {
        "created" => "created_at",
        "updated" => "updated_at",
        "relevance" => "id",
        other => other,
    }
}

fn compare(a: &Value, b: &Value, field: &str) -> Ordering {
    let (x, y) = (a.get(field), b.get(field));
    if let (Some(x), Some(y)) = (time(x), time(y)) {
        return x.cmp(&y);
    }
    match (x.and_then(Value::as_f64), y.and_then(Value::as_f64)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => x
            .and_then(text)
            .unwrap_or_default()
            .to_lowercase()
            .cmp(&y.and_then(text).unwrap_or_default().to_lowercase()),
    }
}

/// Filters and orders `items` of `collection` as the query asks.
pub(crate) fn apply(items: &mut Vec<Value>, query: &[(String, String)], collection: &str, search: bool) {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    for (name, value) in query {
        match name.as_str() {
            "offset" | "limit" | "sort" | "direction" | "include" => {}
            "since" => {
                if let Ok(since) = DateTime::parse_from_rfc3339(value) {
                    items.retain(|i| time(i.get("updated_at")).is_none_or(|t| t >= since));
                }
            }
            "q" if search => {
                let terms: Vec<&str> = value.split_whitespace().collect();
                items.retain(|i| terms.iter().all(|t| term_matches(i, t)));
            }
            "type" => {
                // `type=` is the empty list (as a comma-joined array is written): no filter.
                let wanted: Vec<&str> = value.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
                if !wanted.is_empty() && !wanted.contains(&"all") {
                    items.retain(|i| i.get("type").and_then(Value::as_str).is_some_and(|t| wanted.contains(&t)));
                }
            }
            _ if value == "all" => {}
            _ => items.retain(|i| i.get(name).and_then(text).is_none_or(|v| v == *value)),
        }
    }
    // sections/list-packages.md: `status` defaults to `active`; both at once is not possible.
    if collection == "/packages" && !search && param("status").is_none() {
        items.retain(|i| i.get("status").and_then(Value::as_str).is_none_or(|s| s == "active"));
    }
    // Defaults: searches sort by relevance ascending; lists by creation descending, and
    // connections by name (sections/list-connections.md).
    let default_sort = match (search, collection) {
        (true, _) => "relevance",
        (false, "/connections") => "name",
        _ => "created",
    };
    let field = sort_field(param("sort").unwrap_or(default_sort));
    let descending = param("direction").map_or(!search, |d| d == "desc");
    items.sort_by(|a, b| {
        let order = compare(a, b, field).then_with(|| compare(a, b, "id"));
        if descending { order.reverse() } else { order }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn terms_filter_by_field_and_by_name() {
        let mut items = vec![
            json!({"id": 1, "name": "Nightly load", "status": "pending"}),
            json!({"id": 2, "name": "Nightly load", "status": "running"}),
            json!({"id": 3, "name": "Other", "status": "pending"}),
        ];
        apply(&mut items, &query(&[("q", "status:pending nightly")]), "/jobs", true);
        assert_eq!(items, vec![json!({"id": 1, "name": "Nightly load", "status": "pending"})]);
    }

    #[test]
    fn lists_default_to_newest_first() {
        let mut items = vec![
            json!({"id": 9, "created_at": "2024-01-01T00:00:00Z"}),
            json!({"id": 1, "created_at": "2024-03-01T00:00:00Z"}),
        ];
        apply(&mut items, &[], "/jobs", false);
        assert_eq!(items[0]["id"], 1);
    }
}
