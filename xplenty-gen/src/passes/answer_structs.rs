//! Answer structs are `#[non_exhaustive]`: the service adds fields, and a new optional
//! field must not break a user's code. An answer struct is one a request never carries,
//! that is, one without a builder after `struct_builders` (a request's structs keep theirs
//! and are built with them). Users build answer values in their tests from JSON.

use std::collections::BTreeSet;

/// Marks every struct of `types` that has no builder in `types::builder`.
pub(crate) fn apply(types: &mut [syn::Item]) {
    let built: BTreeSet<String> = super::type_builders(types)
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    for item in types.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        if built.contains(&s.ident.to_string()) || !matches!(s.vis, syn::Visibility::Public(_)) {
            continue;
        }
        let doc = format!(
            " An answer: `#[non_exhaustive]`, so a field the service adds is not a breaking change. \
             To make one in a test, decode it: `serde_json::from_value::<{}>(json)`.",
            s.ident
        );
        let has_docs = s.attrs.iter().any(|a| a.path().is_ident("doc"));
        if has_docs {
            s.attrs.insert(
                s.attrs.iter().rposition(|a| a.path().is_ident("doc")).map_or(0, |i| i + 1),
                syn::parse_quote!(#[doc = ""]),
            );
        }
        let at = s.attrs.iter().rposition(|a| a.path().is_ident("doc")).map_or(0, |i| i + 1);
        s.attrs.insert(at, syn::parse_quote!(#[doc = #doc]));
        s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
    }
}
