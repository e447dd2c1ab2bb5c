//! The end of every `send_raw`, once its request is built, is the same in each operation:
//! the hooks around the attempts, then the answer read by status. This pass replaces it
//! with one call of the runtime (`crate::call::exchange` or `exchange_empty`), so each
//! operation compiles one await instead of five, and what every call does after building
//! its request is written once.

use quote::quote;

use crate::{GenError, Operation};

/// Rewrites one builder's `send_raw`; fails when progenitor's tail is not the expected
/// one, so an upgrade cannot change what a call does unnoticed.
pub(crate) fn apply(send_raw: &mut syn::ImplItemFn, op: &Operation) -> Result<(), GenError> {
    let stmts = &mut send_raw.block.stmts;
    let unexpected = |what: &str| GenError::Extras(format!("`{}`: `send` does not end as expected: {what}", op.id));
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
    let status = op.status;
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
    let success = format!("{status}u16");
    let exchange = if errors && arm(0, &success, "ResponseValue :: from_response (response) . await") {
        quote!(crate::call::exchange)
    } else if errors && arm(0, &success, "Ok (ResponseValue :: empty (response))") {
        quote!(crate::call::exchange_empty)
    } else {
        return Err(unexpected(&format!("the answer is not read as {success}, 4xx, 5xx: {arms:?}")));
    };
    stmts.truncate(start);
    stmts.push(syn::Stmt::Expr(syn::parse_quote!(#exchange(client, request, &info, #status).await), None));
    Ok(())
}

fn tokens_of(node: &impl quote::ToTokens) -> String {
    node.to_token_stream().to_string()
}
