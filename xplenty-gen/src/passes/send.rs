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
    let mut wrapped = BTreeSet::new();
    for item in builders {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(path) = imp.self_ty.as_ref() else { continue };
        let Some(builder) = path.path.segments.last().map(|s| s.ident.to_string()) else { continue };
        let Some(op) = by_builder.get(&builder) else {
            return Err(GenError::Extras(format!("builder `{builder}` matches no operation id")));
        };
        check_setters(imp, op)?;
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
