//! What a created item holds for what its request leaves out: the documented defaults,
//! each with the docs file it comes from (the `Default` column of the section's parameter
//! table, or the resource's attribute list for what the service sets itself). Nothing else
//! is invented: a field neither sent nor listed here is absent from the item.

use serde_json::{Map, Value, json};

use crate::spec::{Validation, operation_spec};

/// One default: collection, field, value as JSON text, docs source. In a string value,
/// `{id}` stands for the new item's id.
pub(crate) struct FieldDefault {
    pub(crate) collection: &'static str,
    pub(crate) field: &'static str,
    pub(crate) value: &'static str,
    /// The docs file the value is from; read by the tests and by reviewers.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) source: &'static str,
}

const fn d(collection: &'static str, field: &'static str, value: &'static str, source: &'static str) -> FieldDefault {
    FieldDefault { collection, field, value, source }
}

/// The table. Where the docs name a default without a value ("System generated", "Auto
/// generated"), the fake writes a name from the id.
pub(crate) const DEFAULTS: &[FieldDefault] = &[
    d("/clusters", "type", r#""production""#, "sections/create-cluster.md"),
    d("/clusters", "name", r#""Cluster {id}""#, "sections/create-cluster.md (System generated)"),
    d("/clusters", "description", r#""""#, "sections/create-cluster.md (Blank)"),
    d("/clusters", "terminate_on_idle", "false", "sections/create-cluster.md"),
    d("/clusters", "time_to_idle", "3600", "sections/create-cluster.md"),
    d("/clusters", "stack", r#""white-everest""#, "sections/create-cluster.md"),
    d("/clusters", "bootstrap_actions", "[]", "sections/create-cluster.md (none given)"),
    d("/clusters", "running_jobs_count", "0", "resources/cluster.md (set by the service)"),
    d("/clusters", "queued_jobs_count", "0", "resources/cluster.md (set by the service)"),
    d("/clusters", "terminated_on_idle", "false", "resources/cluster.md (set by the service)"),
    d("/jobs", "variables", "{}", "resources/job.md (the variables supplied to the run request)"),
    d("/jobs", "outputs_count", "0", "resources/job.md (set by the service)"),
    d("/jobs", "outputs", "[]", "resources/job.md (set by the service)"),
    d("/jobs", "runtime_in_seconds", "0", "resources/job.md (set by the service)"),
    d("/packages", "name", r#""Untitled package""#, "sections/create-package.md"),
    d("/packages", "flow_type", r#""dataflow""#, "sections/create-package.md"),
    d("/packages", "flow_version", r#""2.0.0""#, "sections/create-package.md"),
    d("/packages", "variables", "{}", "sections/create-package.md (none given)"),
    d("/packages", "status", r#""active""#, "sections/list-packages.md (new packages are active)"),
    d("/schedules", "description", r#""""#, "sections/create-schedule.md (blank)"),
    d("/schedules", "status", r#""disabled""#, "sections/create-schedule.md"),
    d("/schedules", "overlap", "true", "sections/create-schedule.md"),
    d("/schedules", "auto_retry", "false", "sections/create-schedule.md"),
    d("/schedules", "auto_retry_attempts", "3", "sections/create-schedule.md"),
    d("/schedules", "reuse_cluster_strategy", r#""any""#, "sections/create-schedule.md"),
    d(
        "/schedules",
        "task",
        r#"{"nodes": 2, "terminate_on_idle": true, "time_to_idle": 60, "packages": []}"#,
        "sections/create-schedule.md (task[nodes], task[terminate_on_idle], task[time_to_idle])",
    ),
    d("/schedules", "execution_count", "0", "resources/schedule.md (set by the service)"),
    d("/hooks", "active", "true", "sections/create-hook.md"),
    d("/members", "role", r#""member""#, "sections/add-member.md"),
    d("/deliveries", "name", r#""Delivery {id}""#, "sections/create-delivery.md (Auto generated)"),
    d("/deliveries", "description", r#""""#, "sections/create-delivery.md (blank)"),
    d("/deliveries", "interval_amount", "1", "sections/create-delivery.md"),
    d("/deliveries", "interval_unit", r#""days""#, "sections/create-delivery.md"),
];

/// The defaults of `collection` for an item `id`, for the fields the answer documents.
pub(crate) fn for_collection(collection: &str, id: u64, fields: &[&str]) -> Map<String, Value> {
    DEFAULTS
        .iter()
        .filter(|d| d.collection == collection && fields.contains(&d.field))
        .filter_map(|d| {
            let value: Value = serde_json::from_str(d.value).ok()?;
            let value = match value {
                Value::String(s) => json!(s.replace("{id}", &id.to_string())),
                other => other,
            };
            Some((d.field.to_owned(), value))
        })
        .collect()
}

/// Lays `patch` over `base`: objects merge key by key (a schedule's `task` keeps its
/// defaults for what the request's `task` leaves out), anything else is replaced.
pub(crate) fn overlay(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(key) {
                    Some(slot) if slot.is_object() && value.is_object() => overlay(slot, value),
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// Property names anywhere in a converted schema (through `anyOf`/`allOf`/`oneOf`), at
/// the top level only.
fn property_names(schema: &Value, into: &mut Vec<String>) {
    if let Some(Value::Object(properties)) = schema.get("properties") {
        into.extend(properties.keys().cloned());
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            property_names(branch, into);
        }
    }
}

/// The fields a request may set: the properties of its body schema (`validation.body`). The
/// rest of what the answer shows (ids, counts, `owner_id`, status, timestamps, urls) is
/// the service's to set, and a request's values for them are ignored.
pub(crate) fn writable(validation: &Validation) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(schema) = serde_json::from_str::<Value>(validation.body) {
        property_names(&schema, &mut names);
    }
    names
}

/// The member schemas of the discriminated answer of `operation` (such as `get_hook`),
/// each with the tags that select it.
fn members(operation: &str) -> Vec<(Vec<String>, Value)> {
    let answer = operation_spec(operation).map_or("", |row| row.validation.answer);
    let Ok(schema) = serde_json::from_str::<Value>(answer) else { return Vec::new() };
    let branches = schema.get("anyOf").and_then(Value::as_array).cloned().unwrap_or_default();
    branches
        .into_iter()
        .filter_map(|branch| {
            let parts = branch.get("allOf")?.as_array()?;
            let tags = parts.first()?.get("properties")?.as_object()?.values().next()?.get("enum")?.as_array()?;
            let tags = tags.iter().filter_map(Value::as_str).map(str::to_owned).collect();
            Some((tags, parts.get(1)?.clone()))
        })
        .collect()
}

/// The fields of `object` (a request body, or the `settings` in it when `nested` names
/// it) that belong to another member of the union `operation` answers than the one `tag`
/// selects: a hipchat hook's update that carries PagerDuty settings, a postgres
/// connection's update with a Snowflake warehouse.
pub(crate) fn foreign_fields(operation: &str, tag: &str, object: &Value, nested: Option<&str>) -> Vec<String> {
    let fields = |member: &Value| {
        let member = match nested {
            Some(name) => member.get("properties").and_then(|p| p.get(name)).cloned().unwrap_or(Value::Null),
            None => member.clone(),
        };
        let mut names = Vec::new();
        property_names(&member, &mut names);
        names
    };
    let members = members(operation);
    let Some((_, own)) = members.iter().find(|(tags, _)| tags.iter().any(|t| t == tag)) else { return Vec::new() };
    let own = fields(own);
    let others: Vec<String> = members.iter().flat_map(|(_, m)| fields(m)).collect();
    let Value::Object(sent) = object else { return Vec::new() };
    sent.keys().filter(|k| !own.contains(k) && others.contains(k)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_json_and_names_its_source() {
        for d in DEFAULTS {
            assert!(serde_json::from_str::<Value>(d.value).is_ok(), "{}.{}", d.collection, d.field);
            assert!(d.source.starts_with("sections/") || d.source.starts_with("resources/"), "{}", d.source);
        }
    }

    #[test]
    fn objects_overlay_key_by_key() {
        let mut task = json!({"nodes": 2, "terminate_on_idle": true});
        overlay(&mut task, &json!({"nodes": 4}));
        assert_eq!(task, json!({"nodes": 4, "terminate_on_idle": true}));
    }
}
