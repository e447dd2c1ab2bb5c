//! Every request body type's docs show how to build it and send it, so a reader of
//! `types::ClusterCreate` sees the builder, its setters and the call that takes it in
//! one place. The example is a `no_run` doctest, so it compiles or the docs fail. Its
//! values are the body example of the first operation (in spec order) that takes the
//! body, written by [`crate::examples::literal`]; a union body starts from its tag's
//! constructor (`HookCreate::web()`). A body whose required fields cannot all be written
//! gets no example rather than a wrong one.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToSnakeCase;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::GenError;
use crate::examples::literal;
use crate::spec::model::{Location, Model, Operation, resolve, setter_name};
use crate::spec::spelling::Spelling;

/// Appends the example to the docs of each request body type in `types`.
pub(crate) fn apply(types: &mut [syn::Item], model: &Model, spelling: &Spelling) -> Result<(), GenError> {
    let root = &model.spec.raw;
    let mut done = BTreeSet::new();
    for op in &model.operations {
        let Some(body) = &op.request_body else { continue };
        if !done.insert(body.clone()) {
            continue;
        }
        let method = op.method.to_lowercase();
        let example = &root["paths"][&op.path][&method];
        let example = resolve(root, &example["requestBody"]).pointer("/content/application~1json/example");
        let Some(call) = example.map(|e| call(types, model, spelling, op, body, e)).transpose()?.flatten() else {
            continue;
        };
        let name = crate::progenitor::type_name(body);
        let Some(attrs) = types.iter_mut().find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == name => Some(&mut s.attrs),
            syn::Item::Enum(e) if e.ident == name => Some(&mut e.attrs),
            _ => None,
        }) else {
            return Err(GenError::Extras(format!("request body `{name}` was not generated")));
        };
        let id = &op.id;
        let intro = format!(" Built and sent with [`Client::{id}`](crate::Client::{id}):");
        let lines = ["".to_owned(), intro, "".to_owned(), " ```rust,no_run".to_owned()]
            .into_iter()
            .chain(call.lines().map(|line| format!(" {line}")))
            .chain([" ```".to_owned()]);
        // After the type's own docs, before its derives.
        let at = attrs.iter().rposition(|a| a.path().is_ident("doc")).map_or(0, |i| i + 1);
        let docs = lines.map(|line| -> syn::Attribute { syn::parse_quote!(#[doc = #line]) });
        attrs.splice(at..at, docs);
    }
    Ok(())
}

/// The doctest's text: a hidden `async fn` around the call, as prettyplease prints it.
/// `None` when a required parameter or field has no value to write.
fn call(
    types: &[syn::Item],
    model: &Model,
    spelling: &Spelling,
    op: &Operation,
    body: &str,
    example: &Value,
) -> Result<Option<String>, GenError> {
    let root = &model.spec.raw;
    let mut setters = proc_macro2::TokenStream::new();
    for parameter in op.parameters.iter().filter(|p| p.required && p.location == Location::Path) {
        let Some(value) = literal(root, &parameter.raw["schema"], &parameter.raw["example"]) else {
            return Ok(None);
        };
        let setter = format_ident!("{}", parameter.setter);
        setters.extend(quote!(.#setter(#value)));
    }
    // A union body starts from the constructor of its example's tag.
    let built = match model.unions.iter().find(|u| u.name == body) {
        Some(union) => {
            let Some((tag, member)) = union.variants.iter().find(|(tag, _)| example[&union.property] == *tag) else {
                return Ok(None);
            };
            let name = format_ident!("{}", crate::progenitor::type_name(body));
            let constructor = format_ident!("{}", spelling.variant_name(tag).to_snake_case());
            let skip = [union.property.as_str()];
            builder(types, model, member, example, &skip, quote!(xplenty_api::types::#name::#constructor()))?
        }
        None => {
            let name = format_ident!("{}", crate::progenitor::type_name(body));
            builder(types, model, body, example, &[], quote!(xplenty_api::types::#name::builder()))?
        }
    };
    let Some(built) = built else { return Ok(None) };
    let id = format_ident!("{}", op.id);
    let function: syn::File = syn::parse_quote! {
        async fn example(client: &xplenty_api::Client) -> Result<(), Box<dyn std::error::Error>> {
            let response = client.#id() #setters .body(#built).send().await?;
            Ok(())
        }
    };
    let text = crate::format::items(&function);
    // Only the call shows: the statement prettyplease printed inside the function.
    let Some((_, inside)) = text.split_once("{\n") else { return Ok(None) };
    let Some((statement, _)) = inside.rsplit_once("    Ok(())") else { return Ok(None) };
    let shown = statement.lines().map(|line| line.strip_prefix("    ").unwrap_or(line));
    let signature = "# async fn example(client: &xplenty_api::Client) -> Result<(), Box<dyn std::error::Error>> {";
    let lines = std::iter::once(signature).chain(shown).chain(["# Ok(())", "# }"]);
    Ok(Some(lines.collect::<Vec<_>>().join("\n")))
}

/// `start` followed by one setter per field of `schema`'s example, required fields
/// first: every field whose example is a literal, and every required one, a nested object through its own
/// builder and an array of open-enum values as an array. `None` when a required field
/// has no value; an error when the builder lacks a setter the field needs.
fn builder(
    types: &[syn::Item],
    model: &Model,
    schema: &str,
    example: &Value,
    skip: &[&str],
    start: proc_macro2::TokenStream,
) -> Result<Option<proc_macro2::TokenStream>, GenError> {
    let root = &model.spec.raw;
    let declared = resolve(root, &root["components"]["schemas"][schema]);
    let required: Vec<&str> = declared["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let setters = builder_setters(types, &crate::progenitor::type_name(schema));
    let mut tokens = start;
    let Some(properties) = declared["properties"].as_object() else { return Ok(None) };
    // Required fields first.
    let mut fields: Vec<(&String, &Value)> =
        properties.iter().filter(|(field, _)| !skip.contains(&field.as_str())).collect();
    fields.sort_by_key(|(field, _)| !required.contains(&field.as_str()));
    for (field, property) in fields {
        let is_required = required.contains(&field.as_str());
        let value = match &example[field] {
            Value::Null => None,
            value if is_required => required_value(types, model, property, value)?,
            value => literal(root, property, value),
        };
        let Some(value) = value else {
            if is_required {
                return Ok(None);
            }
            continue;
        };
        let setter = setter_name(field);
        let Some(takes_nonzero) = setters.get(&setter) else {
            return Err(GenError::Extras(format!("`types::builder::{schema}` has no setter `{setter}`")));
        };
        // An optional field's setter takes `Into` (see `body_setters`), which no integer
        // literal gives a `NonZeroU64`: that field is left out.
        if *takes_nonzero && !is_required {
            continue;
        }
        let setter = format_ident!("{setter}");
        tokens.extend(quote!(.#setter(#value)));
    }
    Ok(Some(tokens))
}

/// A required field's value: a literal, a nested object's builder, or an array of
/// open-enum values.
fn required_value(
    types: &[syn::Item],
    model: &Model,
    property: &Value,
    example: &Value,
) -> Result<Option<proc_macro2::TokenStream>, GenError> {
    let root = &model.spec.raw;
    if let Some(value) = literal(root, property, example) {
        return Ok(Some(value));
    }
    let referenced = |schema: &Value| schema["$ref"].as_str()?.strip_prefix("#/components/schemas/").map(str::to_owned);
    if let Some(nested) = referenced(property)
        && example.is_object()
        && !model.unions.iter().any(|u| u.name == nested)
    {
        let name = format_ident!("{}", crate::progenitor::type_name(&nested));
        return builder(types, model, &nested, example, &[], quote!(xplenty_api::types::#name::builder()));
    }
    let items = &resolve(root, property)["items"];
    if let (Some(item), Some(values)) = (referenced(items), example.as_array())
        && model.open_enums.iter().any(|e| e.name == item)
    {
        let name = format_ident!("{}", crate::progenitor::type_name(&item));
        let values = values.iter().map(|v| literal(root, items, v)).collect::<Option<Vec<_>>>();
        return Ok(values.map(|values| quote!([#(xplenty_api::types::#name::from(#values)),*])));
    }
    Ok(None)
}

/// The method names of `types::builder::{name}`, each with whether its bound names a
/// `NonZero` type.
fn builder_setters(types: &[syn::Item], name: &str) -> BTreeMap<String, bool> {
    super::type_builders(types)
        .filter_map(|item| match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => Some(imp),
            _ => None,
        })
        .filter(|imp| matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident(name)))
        .flat_map(|imp| &imp.items)
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => {
                let bound = f.sig.generics.where_clause.as_ref().map(|w| quote!(#w).to_string()).unwrap_or_default();
                Some((f.sig.ident.to_string(), bound.contains("NonZero")))
            }
            _ => None,
        })
        .collect()
}
