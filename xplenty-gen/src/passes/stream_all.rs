//! `stream_all` on every paginated list builder.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::format_ident;

use crate::{GenError, Operation, SuccessBody};

/// The `stream_all` method of one paginated operation's builder; `operation` is the
/// expression naming its row. The first page is where the builder's own request starts
/// (the runtime reads its offset and limit from it, not from the builder's fields).
pub(crate) fn method(
    op: &Operation,
    operation: &TokenStream,
    type_names: &BTreeSet<String>,
) -> Result<syn::ImplItem, GenError> {
    let SuccessBody::Array(item_type) = &op.success else {
        return Err(GenError::Extras(format!("`{}` is paginated but does not answer an array", op.id)));
    };
    if !type_names.contains(item_type) {
        return Err(GenError::Extras(format!("`{}` lists `{item_type}`, which progenitor did not generate", op.id)));
    }
    let item_type = format_ident!("{}", item_type);
    Ok(syn::parse_quote! {
        /// Streams every item of every page. The first request carries this
        /// builder's `offset` and `limit` (the server's maximum, 100, when
        /// unset); each next request follows the server's `Link: rel="next"`.
        pub fn stream_all(
            self,
        ) -> impl ::futures::Stream<Item = ::std::result::Result<types::#item_type, crate::runtime::Error>> + Unpin + Send + 'a {
            let client = self.client;
            crate::runtime::paginate(client, #operation, move |page| match page {
                ::std::option::Option::None => self.clone().request(),
                ::std::option::Option::Some(page) => self.clone().offset(page.offset).limit(page.limit).request(),
            })
        }
    })
}
