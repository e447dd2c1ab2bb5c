//! Tolerance of the wire's spellings, declared in the spec and applied here.
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

use crate::GenError;

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

/// Puts the tolerant reading on the scalar fields of every tolerant struct.
pub(crate) fn apply(types: &mut [syn::Item], tolerant: &BTreeSet<String>) -> Result<(), GenError> {
    let mut seen = BTreeSet::new();
    for item in types {
        let syn::Item::Struct(s) = item else { continue };
        let name = s.ident.to_string();
        if !tolerant.contains(&name) {
            continue;
        }
        seen.insert(name);
        for field in s.fields.iter_mut() {
            if !reads_tolerantly(&field.ty) {
                continue;
            }
            // The tolerant reading also reads `null` as an empty collection.
            field.attrs.retain(|a| !is_deserialize_with(a));
            let defaulted = field.attrs.iter().any(has_default);
            if is_option(&field.ty) && !defaulted {
                // `deserialize_with` turns off serde's "absent option is None".
                field.attrs.push(syn::parse_quote!(#[serde(default, deserialize_with = "crate::decode::tolerant")]));
            } else {
                field.attrs.push(syn::parse_quote!(#[serde(deserialize_with = "crate::decode::tolerant")]));
            }
        }
    }
    let missing: Vec<&String> = tolerant.difference(&seen).collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(GenError::Extras(format!(
            "{EXTENSION} on schemas progenitor did not emit as structs: {}",
            names.join(", ")
        )));
    }
    Ok(())
}

/// `u64`, `NonZeroU64`, `i64`, `f64`, `bool`, `String`, and `Option`, `Vec` or `BTreeMap<String, _>`
/// of those: the types `crate::decode::Tolerant` is implemented for.
fn reads_tolerantly(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else { return false };
    let arguments: Vec<&syn::Type> = match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    match (last.ident.to_string().as_str(), arguments.as_slice()) {
        ("u64" | "NonZeroU64" | "i64" | "f64" | "bool" | "String", []) => true,
        ("Option" | "Vec", [inner]) => reads_tolerantly(inner),
        ("BTreeMap", [key, value]) => is_named(key, "String") && reads_tolerantly(value),
        _ => false,
    }
}

fn is_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

fn is_option(ty: &syn::Type) -> bool {
    is_named(ty, "Option")
}

fn serde_tokens(attr: &syn::Attribute) -> Option<String> {
    attr.path().is_ident("serde").then(|| attr.meta.require_list().ok().map(|l| l.tokens.to_string())).flatten()
}

pub(crate) fn is_deserialize_with(attr: &syn::Attribute) -> bool {
    serde_tokens(attr).is_some_and(|t| t.split(',').any(|part| part.trim().starts_with("deserialize_with")))
}

pub(crate) fn has_default(attr: &syn::Attribute) -> bool {
    serde_tokens(attr).is_some_and(|t| t.split(',').any(|part| part.trim() == "default"))
}
