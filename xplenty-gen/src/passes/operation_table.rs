//! The runtime's table of operations, and one named row per operation.

use heck::ToShoutySnakeCase;
use quote::{format_ident, quote};

use crate::Scope;
use crate::spec::model::{Model, Operation, SuccessBody};

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
        let (id, method, path, paginated, status) = (&op.id, &op.method, &op.path, op.paginated, op.status);
        let answers_body = op.success != SuccessBody::Empty;
        let name = format_ident!("{}", op.id.to_shouty_snake_case());
        let scope = match op.scope {
            Scope::Account => quote!(crate::runtime::Scope::Account),
            Scope::Global => quote!(crate::runtime::Scope::Global),
        };
        quote! {
            pub(crate) static #name: crate::runtime::Operation =
                crate::runtime::Operation {
                    id: #id, method: #method, path: #path, scope: #scope, paginated: #paginated,
                    status: #status, answers_body: #answers_body,
                };
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
            pub static OPERATIONS: &[crate::runtime::Operation] = &[ #(rows::#names),* ];
        },
    ]
}
