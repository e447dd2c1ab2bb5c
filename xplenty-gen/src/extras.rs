//! What progenitor cannot emit, added to its output from the same `openapiv3` data:
//! open enums, the operation table the runtime routes by, `send` wrappers whose errors
//! name the operation, and `stream_all` on every paginated list builder. Every name used
//! here is checked against what progenitor generated, so a mismatch fails generation
//! with a message instead of failing the build later.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::unions::TaggedUnion;
use crate::{GenError, Operation, Scope};

/// A component schema of `type: string` with `enum`, emitted as an open Rust enum.
#[derive(Debug, Clone)]
pub(crate) struct OpenEnum {
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<String>,
}

pub(crate) fn open_enums(document: &OpenAPI) -> Vec<OpenEnum> {
    let Some(components) = &document.components else { return Vec::new() };
    components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let ReferenceOr::Item(schema) = schema else { return None };
            let SchemaKind::Type(Type::String(string)) = &schema.schema_kind else { return None };
            if string.enumeration.is_empty() {
                return None;
            }
            Some(OpenEnum {
                name: name.clone(),
                description: schema.schema_data.description.clone(),
                values: string.enumeration.iter().flatten().cloned().collect(),
            })
        })
        .collect()
}

/// Runs progenitor with the project's one set of settings. Returns its tokens and the
/// names of the types it generated.
pub(crate) fn run_progenitor(
    document: &OpenAPI,
    open_enums: &[OpenEnum],
    unions: &[TaggedUnion],
) -> Result<(TokenStream, BTreeSet<String>), GenError> {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        // The runtime's hooks set the Accept header, the account path and retries:
        // forgetting them must not compile.
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(quote!(crate::ClientState))
        .with_map_type("::std::collections::BTreeMap");
    for open_enum in open_enums {
        settings.with_replacement(
            &open_enum.name,
            format!("crate::types::{}", open_enum.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    for union in unions {
        settings.with_replacement(&union.name, format!("crate::types::{}", union.name), std::iter::empty());
    }
    // progenitor reports some unsupported shapes by panicking; turn that into an error
    // naming the cause instead of a crashed build script.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut generator = progenitor::Generator::new(&settings);
        let tokens = generator.generate_tokens(document);
        // The type space also holds built-in types (`Vec<..>`, `DateTime<..>`); keep the
        // named ones progenitor emits into `types`.
        let names: BTreeSet<String> = generator
            .get_type_space()
            .iter_types()
            .map(|t| t.name())
            .filter(|n| {
                n.starts_with(|c: char| c.is_ascii_uppercase())
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .collect();
        tokens.map(|t| (t, names))
    }));
    match outcome {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(e)) => Err(GenError::Generator(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(GenError::Generator(format!("panicked: {message}")))
        }
    }
}

/// Adds the extras to progenitor's output.
pub(crate) fn apply(
    file: &mut syn::File,
    operations: &[Operation],
    open_enums: &[OpenEnum],
    unions: &[TaggedUnion],
    tolerant: &BTreeSet<String>,
    comma_joined: &BTreeMap<String, BTreeSet<String>>,
    type_names: &BTreeSet<String>,
) -> Result<(), GenError> {
    let mut new_items: Vec<syn::Item> = open_enums.iter().flat_map(open_enum_items).collect();
    for union in unions {
        new_items.extend(crate::unions::union_items(union, type_names)?);
    }
    let types = module_mut(file, "types")?;
    crate::tolerance::apply(types, tolerant)?;
    tolerate_null_collections(types);
    types.extend(new_items);
    replace_constructors(file)?;
    wrap_builders(file, operations, comma_joined, type_names)?;
    file.items.push(operation_table(operations));
    Ok(())
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

/// The variant name of an open enum value: its UpperCamelCase form, with `Value` appended
/// when that form is a Rust keyword (`self` would be `Self`), so it stays an identifier.
pub(crate) fn variant_name(value: &str) -> String {
    let name = value.to_upper_camel_case();
    let word =
        name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && name.chars().all(|c| c.is_ascii_alphanumeric());
    if word && syn::parse_str::<syn::Ident>(&name).is_err() { format!("{name}Value") } else { name }
}

fn open_enum_items(open_enum: &OpenEnum) -> Vec<syn::Item> {
    let name = format_ident!("{}", open_enum.name);
    let values = &open_enum.values;
    let variants: Vec<syn::Ident> = values.iter().map(|v| format_ident!("{}", variant_name(v))).collect();
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
                deserializer.deserialize_str(crate::open_enum::OpenEnumVisitor::<Self>::new())
            }
        }
    };
    let file: syn::File = syn::parse2(tokens).expect("open enum tokens are valid Rust");
    file.items
}

/// typify makes an optional array or map a plain `Vec`/`BTreeMap` with
/// `#[serde(default)]`, which fails on an explicit `null`. The server sends `null` for
/// absent values, so such fields read `null` as empty.
fn tolerate_null_collections(items: &mut [syn::Item]) {
    for item in items {
        let syn::Item::Struct(s) = item else { continue };
        for field in s.fields.iter_mut() {
            // A field the tolerant reading already covers reads `null` as empty itself.
            let read_otherwise = field.attrs.iter().any(crate::tolerance::is_deserialize_with);
            if field.attrs.iter().any(crate::tolerance::has_default) && !read_otherwise {
                field.attrs.push(syn::parse_quote!(#[serde(deserialize_with = "crate::decode::null_as_default")]));
            }
        }
    }
}

/// progenitor's `Client::new` unwraps the reqwest builder and fixes a 15 s timeout; the
/// runtime provides `Client::new(account_id, api_key)` and a builder instead, and keeps
/// `new_with_client` to itself.
fn replace_constructors(file: &mut syn::File) -> Result<(), GenError> {
    let mut found = false;
    for item in &mut file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || !is_path_named(&imp.self_ty, "Client") {
            continue;
        }
        let before = imp.items.len();
        imp.items.retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
        if imp.items.len() != before {
            found = true;
            for i in &mut imp.items {
                if let syn::ImplItem::Fn(f) = i
                    && f.sig.ident == "new_with_client"
                {
                    f.vis = syn::parse_quote!(pub(crate));
                    f.attrs.retain(|a| !a.path().is_ident("doc"));
                }
            }
        }
    }
    if found { Ok(()) } else { Err(GenError::Extras("progenitor emitted no `Client::new`".into())) }
}

fn is_path_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

/// Renames each builder's `send` to a private `send_raw` and adds a `send` whose errors
/// are [`crate::Error`] naming the operation; adds `stream_all` to paginated lists.
fn wrap_builders(
    file: &mut syn::File,
    operations: &[Operation],
    comma_joined: &BTreeMap<String, BTreeSet<String>>,
    type_names: &BTreeSet<String>,
) -> Result<(), GenError> {
    let by_builder: BTreeMap<String, &Operation> = operations.iter().map(|op| (op.builder_name(), op)).collect();
    // Each `send` names its row of `OPERATIONS` (sorted by id), settled here.
    let mut ids: Vec<&str> = operations.iter().map(|op| op.id.as_str()).collect();
    ids.sort_unstable();
    let mut wrapped = BTreeSet::new();
    for item in module_mut(file, "builder")? {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(path) = imp.self_ty.as_ref() else { continue };
        let Some(builder) = path.path.segments.last().map(|s| s.ident.to_string()) else { continue };
        let Some(op) = by_builder.get(&builder) else {
            return Err(GenError::Extras(format!("builder `{builder}` matches no operation id")));
        };
        let mut ok_type = None;
        for i in &mut imp.items {
            if let syn::ImplItem::Fn(f) = i
                && f.sig.ident == "send"
            {
                f.sig.ident = format_ident!("send_raw");
                f.vis = syn::Visibility::Inherited;
                if let Some(names) = comma_joined.get(&op.id) {
                    crate::query_style::join_in(f, &op.id, names)?;
                }
                crate::settle::settle_request(f, op)?;
                ok_type = Some(success_type(&f.sig.output, &op.id)?);
            }
        }
        let Some(ok_type) = ok_type else {
            return Err(GenError::Extras(format!("builder `{builder}` has no `send`")));
        };
        let id = &op.id;
        let row = ids.binary_search(&id.as_str()).expect("every operation has a row");
        let operation = quote!(&crate::meta::OPERATIONS[#row]);
        let doc = format!("Sends the request. Errors name the operation (`{id}`).");
        imp.items.push(syn::parse_quote! {
            #[doc = #doc]
            pub async fn send(self) -> ::std::result::Result<#ok_type, crate::Error> {
                // Boxed so the caller's future holds a pointer, not progenitor's
                // whole request state (kilobytes, copied on every move).
                crate::call::send(#operation, ::std::boxed::Box::pin(self.send_raw())).await
            }
        });
        if op.paginated {
            let crate::SuccessBody::Array(item_type) = &op.success else { unreachable!("paginated implies an array") };
            if !type_names.contains(item_type) {
                return Err(GenError::Extras(format!("`{id}` lists `{item_type}`, which progenitor did not generate")));
            }
            let item_type = format_ident!("{}", item_type);
            imp.items.push(syn::parse_quote! {
                /// Streams every item of every page. The first request carries this
                /// builder's `offset` and `limit` (the server's maximum, 100, when
                /// unset); each next request follows the server's `Link: rel="next"`.
                pub fn stream_all(
                    self,
                ) -> impl ::futures::Stream<Item = ::std::result::Result<types::#item_type, crate::Error>> + Unpin + Send + 'a {
                    let first = crate::pagination::first_page(self.offset.clone(), self.limit.clone());
                    crate::pagination::paginate(#operation, first, move |page| {
                        self.clone().offset(page.offset).limit(page.limit).send_raw()
                    })
                }
            });
        }
        wrapped.insert(op.id.clone());
    }
    let missing: Vec<&str> = operations.iter().map(|o| o.id.as_str()).filter(|id| !wrapped.contains(*id)).collect();
    if !missing.is_empty() {
        return Err(GenError::Extras(format!("no builder generated for {}", missing.join(", "))));
    }
    Ok(())
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

/// `OPERATIONS`: every operation sorted by id, which the runtime searches to route
/// account and global calls and to name spans.
fn operation_table(operations: &[Operation]) -> syn::Item {
    let mut sorted: Vec<&Operation> = operations.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let rows = sorted.iter().map(|op| {
        let (id, method, path, paginated) = (&op.id, &op.method, &op.path, op.paginated);
        let scope = match op.scope {
            Scope::Account => quote!(crate::meta::Scope::Account),
            Scope::Global => quote!(crate::meta::Scope::Global),
        };
        quote! {
            crate::meta::Operation { id: #id, method: #method, path: #path, scope: #scope, paginated: #paginated }
        }
    });
    syn::parse_quote! {
        /// Every operation of the API, sorted by operation id.
        pub static OPERATIONS: &[crate::meta::Operation] = &[ #(#rows),* ];
    }
}
