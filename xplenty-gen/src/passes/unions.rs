//! Discriminated unions: a component schema with `oneOf` and a `discriminator` whose
//! `mapping` names the schema of every tag value (connections by `type`, hooks by
//! `type`). typify would emit a closed, internally tagged enum that fails on a tag it
//! does not know; this pass emits an open one instead: one variant per tag value,
//! holding the mapped schema's struct, and `Unknown` holding the whole object.

use std::collections::BTreeSet;

use heck::ToUpperCamelCase;
use quote::{format_ident, quote};

use crate::GenError;
use crate::spec::model::TaggedUnion;

/// The variant a tag value becomes (`googlecloudspanner` -> `Googlecloudspanner`).
pub(crate) fn variant_name(tag: &str) -> String {
    tag.to_upper_camel_case()
}

/// The items of one union; fails when a mapped schema was not generated.
pub(crate) fn items(union: &TaggedUnion, type_names: &BTreeSet<String>) -> Result<Vec<syn::Item>, GenError> {
    if let Some((tag, target)) = union.variants.iter().find(|(_, target)| !type_names.contains(target)) {
        return Err(GenError::Extras(format!(
            "union `{}` maps `{tag}` to `{target}`, which progenitor did not generate",
            union.name
        )));
    }
    let name = format_ident!("{}", union.name);
    let property = &union.property;
    let tags: Vec<&String> = union.variants.iter().map(|(tag, _)| tag).collect();
    let variants: Vec<syn::Ident> = tags.iter().map(|tag| format_ident!("{}", variant_name(tag))).collect();
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
    Ok(file.items)
}
