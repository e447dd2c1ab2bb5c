//! What progenitor cannot emit, as passes over its output, in the order they run. Every
//! name a pass uses is checked against what progenitor generated, so a mismatch fails
//! generation with a message instead of failing the build later.

pub(crate) mod answer_structs;
pub(crate) mod body_examples;
pub(crate) mod body_setters;
pub(crate) mod constructors;
pub(crate) mod exchange;
pub(crate) mod null_collections;
pub(crate) mod open_enums;
pub(crate) mod operation_table;
pub(crate) mod query_style;
pub(crate) mod send;
pub(crate) mod settle;
pub(crate) mod stream_all;
pub(crate) mod struct_builders;
pub(crate) mod tolerance;
pub(crate) mod unions;
pub(crate) mod untagged_names;

use std::collections::BTreeSet;

use crate::GenError;
use crate::spec::model::Model;
use crate::spec::spelling::Spelling;

/// Runs every pass on progenitor's file. `type_names` (progenitor's) gains the types the
/// passes add.
pub(crate) fn apply(file: &mut syn::File, model: &Model, type_names: &mut BTreeSet<String>) -> Result<(), GenError> {
    // The unions replace what progenitor would emit for them; lists may carry them.
    type_names.extend(model.unions.iter().map(|u| u.name.clone()));
    let spelling = Spelling::of(&model.spec.raw);
    send::apply(module_mut(file, "builder")?, model, type_names)?;
    let operation_builders = module_mut(file, "builder")?.clone();
    let types = module_mut(file, "types")?;
    let request_unions = struct_builders::apply(types, &operation_builders, &model.unions)?;
    body_setters::apply(types);
    answer_structs::apply(types);
    untagged_names::apply(types)?;
    let mut new_types: Vec<syn::Item> = model.open_enums.iter().flat_map(|e| open_enums::items(e, &spelling)).collect();
    for union in &model.unions {
        new_types.extend(unions::items(union, type_names, &spelling, request_unions.contains(&union.name), types)?);
    }
    tolerance::apply(types, &model.tolerant)?;
    null_collections::apply(types);
    types.extend(new_types);
    body_examples::apply(types, model, &spelling)?;
    types.extend(runtime_aliases(model));
    constructors::apply(file)?;
    exchange::drop_hooks(file);
    file.items.extend(operation_table::items(model));
    type_names.extend(model.open_enums.iter().map(|e| e.name.clone()));
    Ok(())
}

/// A schema generated under another name (see [`crate::progenitor::type_name`]) keeps its
/// schema name inside the crate, for the runtime, and only there.
fn runtime_aliases(model: &Model) -> Vec<syn::Item> {
    model
        .schemas
        .iter()
        .filter_map(|schema| {
            let name = crate::progenitor::type_name(schema);
            (name != *schema).then(|| {
                let (new, old) = (quote::format_ident!("{name}"), quote::format_ident!("{schema}"));
                syn::parse_quote!(pub(crate) use #new as #old;)
            })
        })
        .collect()
}

/// The items of `types::builder`: typify's struct builders, with their impls.
pub(crate) fn type_builders(types: &[syn::Item]) -> impl Iterator<Item = &syn::Item> {
    types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .flat_map(|(_, items)| items)
}

fn module_mut<'f>(file: &'f mut syn::File, name: &str) -> Result<&'f mut Vec<syn::Item>, GenError> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| GenError::Extras(format!("progenitor emitted no `mod {name}`")))
}
