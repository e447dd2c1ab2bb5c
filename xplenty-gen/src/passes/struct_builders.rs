//! typify gives every struct a builder (`types::builder::Cluster`). Kept are the builders
//! of what a request carries: the bodies the operation builders name, the members of a
//! union body (`WebHookCreate` of `HookCreate`), and, transitively, the structs their
//! fields hold (`WebHookSettings`). The others are most of the generated types' code and
//! of its compile time, so they are dropped; an answer type is read, not assembled.

use std::collections::BTreeSet;

use syn::visit::Visit;

use crate::GenError;
use crate::spec::model::TaggedUnion;

/// Keeps in `types::builder` (and the `builder()` constructors in `types`) only the
/// builders of what a request carries. Returns the names of the unions a request body is.
pub(crate) fn apply(
    types: &mut Vec<syn::Item>,
    operation_builders: &[syn::Item],
    unions: &[TaggedUnion],
) -> Result<BTreeSet<String>, GenError> {
    let mut used = UsedBuilders::default();
    for item in operation_builders {
        used.visit_item(item);
    }
    let mut kept = used.builders;
    let request_unions: BTreeSet<String> =
        unions.iter().filter(|u| used.types.contains(&u.name)).map(|u| u.name.clone()).collect();
    for union in unions.iter().filter(|u| request_unions.contains(&u.name)) {
        kept.extend(union.variants.iter().map(|(_, target)| target.clone()));
    }
    close_over_fields(types, &mut kept);
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
    Ok(request_unions)
}

/// Adds to `kept` every builder a kept builder's fields name, until nothing is added.
fn close_over_fields(types: &[syn::Item], kept: &mut BTreeSet<String>) {
    let builders: Vec<&syn::ItemStruct> = super::type_builders(types)
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s),
            _ => None,
        })
        .collect();
    let names: BTreeSet<String> = builders.iter().map(|s| s.ident.to_string()).collect();
    loop {
        let mut named = Idents::default();
        for builder in builders.iter().filter(|s| kept.contains(&s.ident.to_string())) {
            named.visit_fields(&builder.fields);
        }
        let before = kept.len();
        kept.extend(named.0.intersection(&names).cloned());
        if kept.len() == before {
            return;
        }
    }
}

/// Every identifier in a path.
#[derive(Default)]
struct Idents(BTreeSet<String>);

impl<'ast> Visit<'ast> for Idents {
    fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
        self.0.insert(segment.ident.to_string());
        syn::visit::visit_path_segment(self, segment);
    }
}

/// The names `X` of every `types::builder::X` path, and of every `types::X`.
#[derive(Default)]
struct UsedBuilders {
    builders: BTreeSet<String>,
    types: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for UsedBuilders {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let [.., types, builder, name] = segments.as_slice()
            && types == "types"
            && builder == "builder"
        {
            self.builders.insert(name.clone());
        }
        if let [.., types, name] = segments.as_slice()
            && types == "types"
        {
            self.types.insert(name.clone());
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
