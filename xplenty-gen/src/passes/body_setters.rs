//! The setters of the request-body builders (`types::builder::X`) take what a caller has
//! at hand. typify's setters take `TryInto<Field>`, so `.name("x")` on an
//! `Option<String>` field does not compile and a map wants the map itself. Here:
//! - an optional field's setter takes `impl Into<Inner>` and stores `Some`;
//! - a map field's setter takes any `IntoIterator` of pairs whose key and value convert.
//!
//! Every other setter keeps typify's `TryInto` (which already takes `&str` for `String`,
//! arrays for `Vec`, and a member's builder for the member).

use quote::quote;

/// Rewrites the setters inside `types::builder`.
pub(crate) fn apply(types: &mut [syn::Item]) {
    for item in types.iter_mut() {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        let Some((_, items)) = m.content.as_mut() else { continue };
        for item in items.iter_mut() {
            let syn::Item::Impl(imp) = item else { continue };
            if imp.trait_.is_some() {
                continue;
            }
            for member in &mut imp.items {
                let syn::ImplItem::Fn(setter) = member else { continue };
                if let Some(rewritten) = rewrite(setter) {
                    *setter = rewritten;
                }
            }
        }
    }
}

/// The new setter, or `None` when the field keeps typify's.
fn rewrite(setter: &syn::ImplItemFn) -> Option<syn::ImplItemFn> {
    let field = &setter.sig.ident;
    let target = try_into_target(setter)?;
    let doc_optional = format!("Sets `{field}`: anything that converts into it.");
    let doc_map = format!("Sets `{field}` from any pairs whose key and value convert (an array, a map, an iterator).");
    let tokens = match (generic_arg(&target, "Option"), map_args(&target)) {
        (Some(inner), _) => match map_args(inner) {
            Some((key, value)) => quote! {
                #[doc = #doc_map]
                pub fn #field<I, K, V>(mut self, value: I) -> Self
                where
                    I: ::std::iter::IntoIterator<Item = (K, V)>,
                    K: ::std::convert::Into<#key>,
                    V: ::std::convert::Into<#value>,
                {
                    self.#field = ::std::result::Result::Ok(::std::option::Option::Some(
                        value.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
                    ));
                    self
                }
            },
            None => quote! {
                #[doc = #doc_optional]
                pub fn #field<T>(mut self, value: T) -> Self
                where
                    T: ::std::convert::Into<#inner>,
                {
                    self.#field = ::std::result::Result::Ok(::std::option::Option::Some(value.into()));
                    self
                }
            },
        },
        (None, Some((key, value))) => quote! {
            #[doc = #doc_map]
            pub fn #field<I, K, V>(mut self, value: I) -> Self
            where
                I: ::std::iter::IntoIterator<Item = (K, V)>,
                K: ::std::convert::Into<#key>,
                V: ::std::convert::Into<#value>,
            {
                self.#field =
                    ::std::result::Result::Ok(value.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
                self
            }
        },
        (None, None) => return None,
    };
    syn::parse2(tokens).ok()
}

/// `X` of a setter `fn f<T>(mut self, value: T) where T: TryInto<X>`.
fn try_into_target(setter: &syn::ImplItemFn) -> Option<syn::Type> {
    if setter.sig.generics.params.len() != 1 {
        return None;
    }
    let clause = setter.sig.generics.where_clause.as_ref()?;
    clause.predicates.iter().find_map(|predicate| {
        let syn::WherePredicate::Type(predicate) = predicate else { return None };
        predicate.bounds.iter().find_map(|bound| {
            let syn::TypeParamBound::Trait(bound) = bound else { return None };
            let last = bound.path.segments.last()?;
            if last.ident != "TryInto" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            match args.args.first()? {
                syn::GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            }
        })
    })
}

/// `T` of `Wrapper<T>` (by the last path segment).
fn generic_arg<'t>(ty: &'t syn::Type, wrapper: &str) -> Option<&'t syn::Type> {
    let args = type_args(ty, wrapper)?;
    match args.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

/// `(K, V)` of a `BTreeMap<K, V>` or `HashMap<K, V>`.
fn map_args(ty: &syn::Type) -> Option<(&syn::Type, &syn::Type)> {
    let args = type_args(ty, "BTreeMap").or_else(|| type_args(ty, "HashMap"))?;
    match args.as_slice() {
        [key, value] => Some((key, value)),
        _ => None,
    }
}

fn type_args<'t>(ty: &'t syn::Type, name: &str) -> Option<Vec<&'t syn::Type>> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    Some(
        args.args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
    )
}
