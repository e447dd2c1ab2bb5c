//! Tolerance of the wire's spellings, as the spec declares it (`passes::tolerance` applies it).
//!
//! A component object schema with `x-tolerant: true` is one whose values the service
//! writes (or reads) loosely: numeric text for integers and numbers, a number for text,
//! `0`/`1` for booleans. The generator gives every scalar field of such a schema (and
//! scalar items of its arrays and values of its maps) the tolerant reading of
//! `crate::decode::tolerant`; [`crate::to_json_schema`] widens the same places, so the
//! example checks and the fake accept exactly what the client decodes. Serialisation is
//! untouched: requests carry the declared types.

use std::collections::BTreeSet;

use serde_json::Value;

/// The vendor extension that declares a schema tolerant.
pub const EXTENSION: &str = "x-tolerant";

/// The component schemas the spec declares tolerant.
pub(crate) fn tolerant_schemas(raw: &Value) -> BTreeSet<String> {
    raw.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, schema)| is_tolerant(schema))
        .map(|(name, _)| name.clone())
        .collect()
}

pub(crate) fn is_tolerant(schema: &Value) -> bool {
    schema.get(EXTENSION) == Some(&Value::Bool(true))
}

/// Whether a (resolved) property schema is a scalar that the tolerant reading covers:
/// integer, number, boolean, or text without `format` or `enum` (dates and enums have
/// readings of their own).
pub(crate) fn is_tolerant_scalar(schema: &Value) -> bool {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer" | "number" | "boolean") => schema.get("enum").is_none(),
        Some("string") => schema.get("enum").is_none() && schema.get("format").is_none(),
        _ => false,
    }
}
