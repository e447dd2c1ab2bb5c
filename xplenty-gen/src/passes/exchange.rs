//! Every operation's `send_raw` ends the same way once its request is built: progenitor's
//! hooks around the attempts, then the answer read by status. This pass cuts that tail
//! off, so the builder's private `request()` only builds the request and returns it; the
//! runtime's one `send` (`crate::runtime::send`) takes it with the operation's row, whose
//! success status and body this pass checks against what progenitor would have read.
//! progenitor's `ClientHooks` and `OperationInfo` go too: nothing calls them.

use syn::visit_mut::VisitMut;

use crate::{GenError, Operation, SuccessBody};

/// Turns one builder's `send_raw` into `fn request(self) -> Result<reqwest::Request, _>`;
/// fails when progenitor's tail is not the expected one, so an upgrade cannot change what
/// a call does unnoticed.
pub(crate) fn apply(send_raw: &mut syn::ImplItemFn, op: &Operation) -> Result<(), GenError> {
    let unexpected = |what: &str| GenError::Extras(format!("`{}`: `send` does not end as expected: {what}", op.id));
    let error_type = error_type(&send_raw.sig.output).ok_or_else(|| unexpected("its error is not `Error<_>`"))?;
    let stmts = &mut send_raw.block.stmts;
    let start = stmts
        .iter()
        .position(|s| tokens_of(s).starts_with("client . pre (& mut request , & info) . await ?"))
        .ok_or_else(|| unexpected("no `client.pre`"))?;
    let tail: Vec<String> = stmts[start..].iter().map(tokens_of).collect();
    let expected_head = [
        "client . pre (& mut request , & info) . await ? ;",
        "let result = client . exec (request , & info) . await ;",
        "client . post (& result , & info) . await ? ;",
        "let response = result ? ;",
    ];
    if tail.len() != expected_head.len() + 1 || tail[..expected_head.len()] != expected_head {
        return Err(unexpected("the hooks are not pre, exec, post"));
    }
    let syn::Stmt::Expr(syn::Expr::Match(answer), None) = &stmts[start + expected_head.len()] else {
        return Err(unexpected("the answer is not a `match` on the status"));
    };
    let arms: Vec<(String, String)> =
        answer.arms.iter().map(|arm| (tokens_of(&arm.pat), tokens_of(&arm.body))).collect();
    let arm = |index: usize, pattern: &str, body: &str| {
        arms.get(index).is_some_and(|(p, b)| p == pattern && b.contains(body))
    };
    let errors = arm(1, "400u16 ..= 499u16", "Error :: ErrorResponse (ResponseValue :: from_response (response)")
        && arm(2, "500u16 ..= 599u16", "Error :: ErrorResponse (ResponseValue :: from_response (response)")
        && arm(3, "_", "Error :: UnexpectedResponse (response)")
        && arms.len() == 4;
    let success = format!("{}u16", op.status);
    // The row's `answers_body` must say what progenitor's success arm would have read.
    let read = if op.success == SuccessBody::Empty {
        "Ok (ResponseValue :: empty (response))"
    } else {
        "ResponseValue :: from_response (response) . await"
    };
    if !(errors && arm(0, &success, read)) {
        return Err(unexpected(&format!("the answer is not read as {success} ({read}), 4xx, 5xx: {arms:?}")));
    }
    stmts.truncate(start);
    // `let info = OperationInfo { .. };` named the operation for the hooks.
    stmts.retain(|s| !tokens_of(s).starts_with("let info = OperationInfo"));
    stmts.push(syn::Stmt::Expr(syn::parse_quote!(Ok(request)), None));
    send_raw.sig.ident = syn::Ident::new("request", send_raw.sig.ident.span());
    send_raw.sig.asyncness = None;
    send_raw.sig.output = syn::parse_quote!(-> Result<::reqwest::Request, #error_type>);
    send_raw.attrs.retain(|a| !a.path().is_ident("doc"));
    send_raw.attrs.push(syn::parse_quote!(#[doc = "The request `send` sends, built from the builder's values."]));
    Ok(())
}

/// progenitor's `ClientHooks` and `OperationInfo`, which nothing calls any more: the
/// assertion that the client implements the hooks, and their imports.
pub(crate) fn drop_hooks(file: &mut syn::File) {
    file.items.retain(|item| !tokens_of(item).contains("assert_client_hooks"));
    Unimport.visit_file_mut(file);
}

struct Unimport;

impl VisitMut for Unimport {
    fn visit_use_group_mut(&mut self, group: &mut syn::UseGroup) {
        let kept = std::mem::take(&mut group.items).into_pairs().map(syn::punctuated::Pair::into_value).filter(
            |tree| !matches!(tree, syn::UseTree::Name(n) if n.ident == "ClientHooks" || n.ident == "OperationInfo"),
        );
        group.items.extend(kept);
        syn::visit_mut::visit_use_group_mut(self, group);
    }
}

/// `E` of `Result<_, E>`.
fn error_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else { return None };
    let syn::Type::Path(path) = ty.as_ref() else { return None };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else { return None };
    match args.args.iter().nth(1) {
        Some(syn::GenericArgument::Type(error)) => Some(error.clone()),
        _ => None,
    }
}

fn tokens_of(node: &impl quote::ToTokens) -> String {
    node.to_token_stream().to_string()
}
