//! Gives every scalar field of a tolerant struct (see [`crate::spec::tolerance`]) the
//! tolerant reading of `crate::runtime::tolerant`.

use std::collections::BTreeSet;

use crate::GenError;
use crate::spec::tolerance::EXTENSION;

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
                field.attrs.push(syn::parse_quote!(#[serde(default, deserialize_with = "crate::runtime::tolerant")]));
            } else {
                field.attrs.push(syn::parse_quote!(#[serde(deserialize_with = "crate::runtime::tolerant")]));
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
