//! Discriminated unions: a component schema with `oneOf` and a `discriminator` whose
//! `mapping` names the schema of every tag value (connections by `type`, hooks by
//! `type`). typify would emit a closed, internally tagged enum that fails on a tag it
//! does not know; this pass emits an open one instead: one variant per tag value,
//! holding the mapped schema's struct, and `Unknown` holding the whole object.

use std::collections::BTreeSet;

use heck::ToSnakeCase;
use quote::{format_ident, quote};

use crate::GenError;
use crate::spec::model::TaggedUnion;
use crate::spec::spelling::Spelling;

/// The items of one union; fails when a mapped schema was not generated. A union that is
/// a request body also gets, per tag, a constructor returning the member's builder with
/// the tag already set (`HookCreate::web()`), and conversions from its members and their
/// builders, so a body is built without repeating its tag.
pub(crate) fn items(
    union: &TaggedUnion,
    type_names: &BTreeSet<String>,
    spelling: &Spelling,
    is_request: bool,
    types: &[syn::Item],
) -> Result<Vec<syn::Item>, GenError> {
    if let Some((tag, target)) = union.variants.iter().find(|(_, target)| !type_names.contains(target)) {
        return Err(GenError::Extras(format!(
            "union `{}` maps `{tag}` to `{target}`, which progenitor did not generate",
            union.name
        )));
    }
    let name = format_ident!("{}", union.name);
    let property = &union.property;
    let tags: Vec<&String> = union.variants.iter().map(|(tag, _)| tag).collect();
    let variants: Vec<syn::Ident> = tags.iter().map(|tag| format_ident!("{}", spelling.variant_name(tag))).collect();
    let payloads: Vec<syn::Ident> = union.variants.iter().map(|(_, target)| format_ident!("{}", target)).collect();
    let variant_docs: Vec<String> = tags.iter().map(|tag| format!("`{property}: {tag}`")).collect();
    let description = union.description.clone().unwrap_or_else(|| format!("`{}`", union.name));
    let unknown_doc =
        format!("A `{property}` this version of the client does not know (or none), with the whole object as sent.");
    let expecting = format!("an object with a `{property}`");
    let chosen_doc = format!("Chosen by `{property}`; open: an unknown value decodes as [`Self::Unknown`].");
    let tag_doc = format!("The `{property}` as the server sent it.");
    let tokens = quote! {
        #[doc = #description]
        ///
        #[doc = #chosen_doc]
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #variants(#payloads), )*
            #[doc = #unknown_doc]
            Unknown(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        }
        impl #name {
            #[doc = #tag_doc]
            pub fn tag(&self) -> ::std::option::Option<&str> {
                match self {
                    #( Self::#variants(_) => ::std::option::Option::Some(#tags), )*
                    Self::Unknown(object) => object.get(#property).and_then(|v| v.as_str()),
                }
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #( Self::#variants(value) => value.serialize(serializer), )*
                    Self::Unknown(object) => object.serialize(serializer),
                }
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let object = match ::serde_json::Value::deserialize(deserializer)? {
                    ::serde_json::Value::Object(object) => object,
                    _ => return Err(D::Error::custom(#expecting)),
                };
                let tag = object.get(#property).and_then(|v| v.as_str()).map(str::to_owned);
                match tag.as_deref() {
                    #( ::std::option::Option::Some(#tags) => ::serde_json::from_value(::serde_json::Value::Object(object))
                        .map(Self::#variants)
                        .map_err(D::Error::custom), )*
                    _ => Ok(Self::Unknown(object)),
                }
            }
        }
    };
    let file: syn::File = syn::parse2(tokens).expect("union tokens are valid Rust");
    let mut items = file.items;
    if is_request {
        items.extend(request_items(union, spelling, types)?);
    }
    Ok(items)
}

/// Constructors and conversions of a union that is a request body.
fn request_items(union: &TaggedUnion, spelling: &Spelling, types: &[syn::Item]) -> Result<Vec<syn::Item>, GenError> {
    let name = format_ident!("{}", union.name);
    let property = &union.property;
    let setter = syn::parse_str::<syn::Ident>(property).unwrap_or_else(|_| format_ident!("{property}_"));
    let mut tokens = proc_macro2::TokenStream::new();
    let mut constructors = proc_macro2::TokenStream::new();
    for (tag, target) in &union.variants {
        if !struct_has_field(types, target, &setter) {
            return Err(GenError::Extras(format!(
                "union `{}`: member `{target}` has no field `{setter}` for its tag",
                union.name
            )));
        }
        let member = format_ident!("{target}");
        let variant = spelling.variant_name(tag);
        let function = format_ident!("{}", variant.to_snake_case());
        let doc = format!(
            "A `{property}: {tag}` body: the builder of [`{target}`] with `{property}` set. Convert it with \
             `try_into()`, or hand it to the call's `.body(..)` as it is."
        );
        constructors.extend(quote! {
            #[doc = #doc]
            pub fn #function() -> builder::#member {
                builder::#member::default().#setter(#tag)
            }
        });
    }
    let mut members: Vec<&String> = union.variants.iter().map(|(_, target)| target).collect();
    members.sort();
    members.dedup();
    for target in members {
        let member = format_ident!("{target}");
        let tags: Vec<&String> = union.variants.iter().filter(|(_, t)| t == target).map(|(tag, _)| tag).collect();
        if let [tag] = tags.as_slice() {
            let variant = format_ident!("{}", spelling.variant_name(tag));
            tokens.extend(quote! {
                impl ::std::convert::From<#member> for #name {
                    fn from(value: #member) -> Self {
                        Self::#variant(value)
                    }
                }
                impl ::std::convert::TryFrom<builder::#member> for #name {
                    type Error = error::ConversionError;
                    fn try_from(value: builder::#member) -> ::std::result::Result<Self, error::ConversionError> {
                        ::std::result::Result::Ok(Self::#variant(#member::try_from(value)?))
                    }
                }
            });
        } else {
            // Several tags share the member: its own tag field says which variant it is.
            tokens.extend(quote! {
                impl ::std::convert::TryFrom<builder::#member> for #name {
                    type Error = error::ConversionError;
                    fn try_from(value: builder::#member) -> ::std::result::Result<Self, error::ConversionError> {
                        let member = #member::try_from(value)?;
                        let value = ::serde_json::to_value(&member).map_err(|e| error::ConversionError::from(e.to_string()))?;
                        <Self as ::serde::Deserialize>::deserialize(value).map_err(|e| error::ConversionError::from(e.to_string()))
                    }
                }
            });
        }
    }
    tokens.extend(quote! { impl #name { #constructors } });
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| GenError::Extras(format!("union `{}`: constructors are not Rust: {e}", union.name)))?;
    Ok(file.items)
}

fn struct_has_field(types: &[syn::Item], name: &str, field: &syn::Ident) -> bool {
    types.iter().any(|item| {
        matches!(item, syn::Item::Struct(s) if s.ident == name
            && s.fields.iter().any(|f| f.ident.as_ref() == Some(field)))
    })
}
