//! Optional arrays and maps read `null` as empty.

/// typify makes an optional array or map a plain `Vec`/`BTreeMap` with
/// `#[serde(default)]`, which fails on an explicit `null`. The server sends `null` for
/// absent values, so such fields read `null` as empty.
pub(crate) fn apply(items: &mut [syn::Item]) {
    for item in items {
        let syn::Item::Struct(s) = item else { continue };
        for field in s.fields.iter_mut() {
            // A field the tolerant reading already covers reads `null` as empty itself.
            let read_otherwise = field.attrs.iter().any(crate::passes::tolerance::is_deserialize_with);
            if field.attrs.iter().any(crate::passes::tolerance::has_default) && !read_otherwise {
                field.attrs.push(syn::parse_quote!(#[serde(deserialize_with = "crate::runtime::null_as_default")]));
            }
        }
    }
}
