//! The runtime's table of operations, and one named row per operation.

use heck::ToShoutySnakeCase;
use quote::{format_ident, quote};

use crate::Scope;
use crate::spec::model::{Model, Operation};

/// The path generated code names an operation's row by: `crate::generated::rows::GET_CLUSTER`.
/// A name, not an index, so adding an operation changes no other operation's code.
pub(crate) fn row_path(op: &Operation) -> proc_macro2::TokenStream {
    let name = format_ident!("{}", op.id.to_shouty_snake_case());
    quote!(crate::generated::rows::#name)
}

/// `rows`: one static per operation; `OPERATIONS`: every row sorted by id, which the
/// runtime searches to route account and global calls and to name spans.
pub(crate) fn items(model: &Model) -> [syn::Item; 2] {
    let sorted = model.operations_by_id();
    let rows = sorted.iter().map(|op| {
        let (id, method, path, paginated) = (&op.id, &op.method, &op.path, op.paginated);
        let name = format_ident!("{}", op.id.to_shouty_snake_case());
        let scope = match op.scope {
            Scope::Account => quote!(crate::meta::Scope::Account),
            Scope::Global => quote!(crate::meta::Scope::Global),
        };
        quote! {
            pub(crate) static #name: crate::meta::Operation =
                crate::meta::Operation { id: #id, method: #method, path: #path, scope: #scope, paginated: #paginated };
        }
    });
    let names = sorted.iter().map(|op| format_ident!("{}", op.id.to_shouty_snake_case()));
    [
        syn::parse_quote! {
            /// One row per operation, named after its id.
            pub(crate) mod rows { #(#rows)* }
        },
        syn::parse_quote! {
            /// Every operation of the API, sorted by operation id.
            pub static OPERATIONS: &[crate::meta::Operation] = &[ #(rows::#names),* ];
        },
    ]
}
