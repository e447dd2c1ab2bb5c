//! typify gives every struct a builder (`types::builder::Cluster`), but the operation
//! builders use only those of request bodies (`body_map`). The others are most of the
//! generated types' code and of its compile time, so they are dropped; an answer type is
//! read, not assembled, and its fields stay public.

use std::collections::BTreeSet;

use syn::visit::Visit;

use crate::GenError;

/// Keeps in `types::builder` (and the `builder()` constructors in `types`) only what the
/// operation builders name.
pub(crate) fn apply(types: &mut Vec<syn::Item>, operation_builders: &[syn::Item]) -> Result<(), GenError> {
    let mut used = UsedBuilders::default();
    for item in operation_builders {
        used.visit_item(item);
    }
    let kept = used.0;
    let mut found = BTreeSet::new();
    for item in types.iter_mut() {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        let Some((_, items)) = m.content.as_mut() else { continue };
        items.retain(|item| match builder_of(item) {
            Some(name) => {
                let keep = kept.contains(&name);
                if keep {
                    found.insert(name);
                }
                keep
            }
            None => true,
        });
    }
    if let Some(name) = kept.difference(&found).next() {
        return Err(GenError::Extras(format!(
            "an operation builder uses `types::builder::{name}`, which typify did not emit"
        )));
    }
    types.retain(|item| match item {
        syn::Item::Impl(imp) if imp.trait_.is_none() && is_only_builder_constructor(imp) => {
            self_name(&imp.self_ty).is_some_and(|name| kept.contains(&name))
        }
        _ => true,
    });
    Ok(())
}

/// The names `X` of every `types::builder::X` path.
#[derive(Default)]
struct UsedBuilders(BTreeSet<String>);

impl<'ast> Visit<'ast> for UsedBuilders {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let [.., types, builder, name] = segments.as_slice()
            && types == "types"
            && builder == "builder"
        {
            self.0.insert(name.clone());
        }
        syn::visit::visit_path(self, path);
    }
}

/// The struct an item of `types::builder` builds: the struct itself, its impls, and the
/// conversions to and from `super::X`.
fn builder_of(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Impl(imp) => self_name(&imp.self_ty),
        _ => None,
    }
}

fn self_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `impl X { pub fn builder() -> builder::X { .. } }`.
fn is_only_builder_constructor(imp: &syn::ItemImpl) -> bool {
    !imp.items.is_empty() && imp.items.iter().all(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "builder"))
}
