//! Each operation builder's `send`: progenitor's becomes a private `request()` that only
//! builds the request (with the query style and the request's fixed parts settled in it),
//! and a public `send` hands the runtime that request and the operation's named row
//! (`rows::GET_CLUSTER`), and returns the runtime's errors, which name it.
//! Paginated lists also get `stream_all`. The setters the model expects are checked here,
//! so the test emitters can rely on them.

use std::collections::{BTreeMap, BTreeSet};

use quote::quote;

use crate::spec::model::Model;
use crate::{GenError, Operation};

pub(crate) fn apply(builders: &mut [syn::Item], model: &Model, type_names: &BTreeSet<String>) -> Result<(), GenError> {
    let by_builder: BTreeMap<String, &Operation> = model.operations.iter().map(|op| (op.builder_name(), op)).collect();
    let fields = builder_fields(builders);
    let mut wrapped = BTreeSet::new();
    for item in builders {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(path) = imp.self_ty.as_ref() else { continue };
        let Some(builder) = path.path.segments.last().map(|s| s.ident.to_string()) else { continue };
        let Some(op) = by_builder.get(&builder) else {
            return Err(GenError::Extras(format!("builder `{builder}` matches no operation id")));
        };
        check_setters(imp, op)?;
        check_types(fields.get(&builder), op)?;
        let mut ok_type = None;
        for i in &mut imp.items {
            if let syn::ImplItem::Fn(f) = i
                && f.sig.ident == "send"
            {
                f.vis = syn::Visibility::Inherited;
                ok_type = Some(success_type(&f.sig.output, &op.id)?);
                crate::passes::query_style::join_in(f, op)?;
                crate::passes::settle::settle_request(f, op)?;
                crate::passes::exchange::apply(f, op)?;
            }
        }
        let Some(ok_type) = ok_type else {
            return Err(GenError::Extras(format!("builder `{builder}` has no `send`")));
        };
        let id = &op.id;
        let row = crate::passes::operation_table::row_path(op);
        let operation = quote!(&#row);
        let doc = format!("Sends the request. Errors name the operation (`{id}`).");
        imp.items.push(syn::parse_quote! {
            #[doc = #doc]
            pub async fn send(self) -> ::std::result::Result<#ok_type, crate::runtime::Error> {
                let client = self.client;
                crate::runtime::send(client, #operation, self.request()).await
            }
        });
        if op.paginated {
            imp.items.push(crate::passes::stream_all::method(op, &operation, type_names)?);
        }
        wrapped.insert(op.id.clone());
    }
    let missing: Vec<&str> =
        model.operations.iter().map(|o| o.id.as_str()).filter(|id| !wrapped.contains(*id)).collect();
    if !missing.is_empty() {
        return Err(GenError::Extras(format!("no builder generated for {}", missing.join(", "))));
    }
    Ok(())
}

/// Every parameter's setter, as the model names it, is a method of the builder.
fn check_setters(imp: &syn::ItemImpl, op: &Operation) -> Result<(), GenError> {
    let methods: BTreeSet<String> = imp
        .items
        .iter()
        .filter_map(|i| match i {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    let missing: Vec<&str> =
        op.parameters.iter().map(|p| p.setter.as_str()).filter(|s| !methods.contains(*s)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(GenError::Extras(format!("`{}`: the builder has no setter {missing:?}", op.id)))
    }
}

/// Every parameter's Rust type, as the model says it, is the type the builder stores
/// (`Result<Option<T>, String>`'s `T`), so targets that read the model alone (the CLI)
/// convert input into what the setter takes.
fn check_types(fields: Option<&BTreeMap<String, String>>, op: &Operation) -> Result<(), GenError> {
    for parameter in &op.parameters {
        let stored = fields.and_then(|f| f.get(&parameter.setter));
        let modelled = syn::parse_str::<syn::Type>(&parameter.rust_type).map(|t| quote!(#t).to_string());
        if stored.map(String::as_str) != modelled.as_ref().ok().map(String::as_str) {
            return Err(GenError::Extras(format!(
                "`{}`: parameter `{}` is `{}` in the model but `{}` in progenitor's builder",
                op.id,
                parameter.name,
                parameter.rust_type,
                stored.map_or("missing", String::as_str)
            )));
        }
    }
    Ok(())
}

/// The fields of each builder struct: field name -> the stored value's type, its
/// `Result<Option<T>, String>` unwrapped and `crate::types::` said as `types::`, as text.
fn builder_fields(builders: &[syn::Item]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in builders {
        let syn::Item::Struct(s) = item else { continue };
        let mut fields = BTreeMap::new();
        for field in &s.fields {
            let Some(ident) = &field.ident else { continue };
            let Some(ty) = generic_argument(&field.ty, "Result") else { continue };
            let ty = generic_argument(&ty, "Option").unwrap_or(ty);
            fields.insert(ident.to_string(), quote!(#ty).to_string().replace("crate :: types ::", "types ::"));
        }
        out.insert(s.ident.to_string(), fields);
    }
    out
}

/// The first type argument of `Wrapper<T, ..>`.
fn generic_argument(ty: &syn::Type, wrapper: &str) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// `Result<ResponseValue<T>, Error<E>>` -> `ResponseValue<T>`.
fn success_type(output: &syn::ReturnType, id: &str) -> Result<syn::Type, GenError> {
    let unexpected = || GenError::Extras(format!("`{id}`: `send` does not return `Result<ResponseValue<_>, _>`"));
    let syn::ReturnType::Type(_, ty) = output else { return Err(unexpected()) };
    let syn::Type::Path(path) = ty.as_ref() else { return Err(unexpected()) };
    let last = path.path.segments.last().ok_or_else(unexpected)?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return Err(unexpected()) };
    match args.args.first() {
        Some(syn::GenericArgument::Type(ok)) => Ok(ok.clone()),
        _ => Err(unexpected()),
    }
}
