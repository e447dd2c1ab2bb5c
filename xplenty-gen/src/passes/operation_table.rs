//! The runtime's table of operations.

use quote::quote;

use crate::Scope;
use crate::spec::model::Model;

/// `OPERATIONS`: every operation sorted by id, which the runtime searches to route
/// account and global calls and to name spans.
pub(crate) fn item(model: &Model) -> syn::Item {
    let rows = model.operations_by_id().into_iter().map(|op| {
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
