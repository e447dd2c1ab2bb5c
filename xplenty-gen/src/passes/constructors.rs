//! The client's constructors are the runtime's, not progenitor's.

use crate::GenError;

/// progenitor's `Client::new` unwraps the reqwest builder and fixes a 15 s timeout; the
/// runtime provides `Client::new(account_id, api_key)` and a builder instead, and keeps
/// `new_with_client` to itself.
pub(crate) fn apply(file: &mut syn::File) -> Result<(), GenError> {
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

pub(crate) fn is_path_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}
