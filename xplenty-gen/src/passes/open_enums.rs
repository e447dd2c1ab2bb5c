//! Open enums: every string enum of the spec becomes an enum with an `Unknown(String)`
//! variant, so a value this client does not know decodes instead of failing (typify
//! emits closed enums; progenitor is told to use these through `with_replacement`).

use quote::{format_ident, quote};

use crate::spec::model::OpenEnum;
use crate::spec::spelling::Spelling;

/// The enum, its variants named by `spelling`.
pub(crate) fn items(open_enum: &OpenEnum, spelling: &Spelling) -> Vec<syn::Item> {
    let name = format_ident!("{}", open_enum.name);
    let values = &open_enum.values;
    let variants: Vec<syn::Ident> = values.iter().map(|v| format_ident!("{}", spelling.variant_name(v))).collect();
    let variant_docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let description = open_enum.description.clone().unwrap_or_else(|| format!("`{}`", open_enum.name));
    let tokens = quote! {
        #[doc = #description]
        ///
        /// Open: a value this version of the client does not know decodes as
        /// [`Self::Unknown`] instead of failing.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #variants, )*
            /// A value this version of the client does not know, as the server sent it.
            Unknown(::std::string::String),
        }
        impl #name {
            /// The value as the server spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }
        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #( #values => Self::#variants, )*
                    _ => Self::Unknown(value),
                }
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                deserializer.deserialize_str(crate::runtime::OpenEnumVisitor::<Self>::new())
            }
        }
    };
    let file: syn::File = syn::parse2(tokens).expect("open enum tokens are valid Rust");
    file.items
}
