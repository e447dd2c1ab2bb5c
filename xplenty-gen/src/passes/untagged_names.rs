//! Untagged unions (`oneOf` without a discriminator, such as `HookEventEntry`): typify
//! prunes the shared prefix of the members' names and, when nothing is left, names the
//! variants `Variant0`, `Variant1`. The rule here: a variant that holds a named type is
//! named after that type (`HookEventEntry::HookEvent(HookEvent)`), so a printed value says
//! what it holds. Untagged, so the names never reach the wire.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit_mut::VisitMut;

use crate::GenError;

pub(crate) fn apply(types: &mut [syn::Item]) -> Result<(), GenError> {
    let mut renames: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for item in types.iter_mut() {
        let syn::Item::Enum(e) = item else { continue };
        if !is_untagged(&e.attrs) {
            continue;
        }
        let mut map = BTreeMap::new();
        for variant in &e.variants {
            let old = variant.ident.to_string();
            if !is_numbered(&old) {
                continue;
            }
            let syn::Fields::Unnamed(fields) = &variant.fields else { continue };
            let [field] = fields.unnamed.iter().collect::<Vec<_>>()[..] else { continue };
            let syn::Type::Path(path) = &field.ty else { continue };
            let Some(last) = path.path.segments.last() else { continue };
            if matches!(last.arguments, syn::PathArguments::None) {
                map.insert(old, last.ident.to_string());
            }
        }
        let distinct: BTreeSet<&String> = map.values().collect();
        if distinct.len() != map.len() {
            return Err(GenError::Extras(format!("untagged union `{}` holds one type twice", e.ident)));
        }
        if map.is_empty() {
            continue;
        }
        for variant in &mut e.variants {
            if let Some(new) = map.get(&variant.ident.to_string()) {
                variant.ident = syn::Ident::new(new, variant.ident.span());
            }
        }
        renames.insert(e.ident.to_string(), map);
    }
    // The impls of a renamed enum (typify's `From`s) name its variants as `Self::VariantN`.
    for item in types.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(path) = &*imp.self_ty else { continue };
        let Some(map) = path.path.segments.last().and_then(|s| renames.get(&s.ident.to_string())) else { continue };
        Rename(map).visit_item_impl_mut(imp);
    }
    Ok(())
}

fn is_untagged(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("serde") && a.parse_args::<syn::Ident>().is_ok_and(|ident| ident == "untagged"))
}

fn is_numbered(name: &str) -> bool {
    name.strip_prefix("Variant").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

struct Rename<'m>(&'m BTreeMap<String, String>);

impl VisitMut for Rename<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.len() == 2
            && path.segments[0].ident == "Self"
            && let Some(new) = self.0.get(&path.segments[1].ident.to_string())
        {
            let span = path.segments[1].ident.span();
            path.segments[1].ident = syn::Ident::new(new, span);
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}
