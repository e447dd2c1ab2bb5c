//! Settles at generation what every request of an operation carries, so the runtime
//! need not undo what progenitor wrote: the API's vendor `Accept` instead of
//! `application/json`, no `api-version` header (the version is in `Accept`), and, for a
//! global operation, the host root as its base instead of the account's.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::visit_mut::VisitMut;

use crate::{GenError, Operation, Scope};

/// Rewrites the body of one builder's `send`; fails when progenitor's code no longer has
/// the shape this expects, so an upgrade cannot silently send the wrong headers.
pub(crate) fn settle_request(send: &mut syn::ImplItemFn, op: &Operation) -> Result<(), GenError> {
    let mut settler = Settler::default();
    settler.visit_impl_item_fn_mut(send);
    let found = [
        ("the `Accept: application/json` header", settler.accept),
        ("the `api-version` header", settler.api_version),
        ("`client.baseurl` in the URL", settler.base),
    ];
    if let Some((what, times)) = found.iter().find(|(_, times)| *times != 1) {
        return Err(GenError::Extras(format!("`{}`: progenitor wrote {what} {times} times, not once", op.id)));
    }
    if op.scope == Scope::Global {
        rewrite_base(send);
    }
    Ok(())
}

#[derive(Default)]
struct Settler {
    accept: usize,
    api_version: usize,
    base: usize,
}

impl VisitMut for Settler {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        syn::visit_mut::visit_expr_call_mut(self, call);
        if path_ends_with(&call.func, &["HeaderValue", "from_static"])
            && first_str(&call.args) == Some("application/json".into())
        {
            call.args[0] = syn::parse_quote!(crate::runtime::ACCEPT_VALUE);
            self.accept += 1;
        }
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        let before = block.stmts.len();
        block.stmts.retain(|stmt| !is_api_version_append(stmt));
        let removed = before - block.stmts.len();
        self.api_version += removed;
        if removed > 0 {
            // The map was sized for the header just removed.
            let mut resize = Resize(removed);
            for stmt in &mut block.stmts {
                resize.visit_stmt_mut(stmt);
            }
        }
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if mac.path.is_ident("format") {
            self.base += count_base(mac.tokens.clone());
        }
    }
}

/// `header_map.append(HeaderName::from_static("api-version"), ...)`
fn is_api_version_append(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else { return false };
    call.method == "append"
        && matches!(call.args.first(), Some(syn::Expr::Call(name))
            if path_ends_with(&name.func, &["HeaderName", "from_static"])
                && first_str(&name.args).as_deref() == Some("api-version"))
}

/// Lowers `HeaderMap::with_capacity(n)` by the headers removed.
struct Resize(usize);

impl VisitMut for Resize {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        syn::visit_mut::visit_expr_call_mut(self, call);
        if !path_ends_with(&call.func, &["HeaderMap", "with_capacity"]) {
            return;
        }
        if let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })) = call.args.first_mut()
            && let Ok(value) = n.base10_parse::<usize>()
        {
            let left = value.saturating_sub(self.0);
            *n = syn::LitInt::new(&format!("{left}usize"), n.span());
        }
    }
}

fn path_ends_with(expr: &syn::Expr, tail: &[&str]) -> bool {
    let syn::Expr::Path(path) = expr else { return false };
    let names: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    names.len() >= tail.len() && names[names.len() - tail.len()..].iter().zip(tail).all(|(a, b)| a == b)
}

fn first_str(args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) -> Option<String> {
    match args.first() {
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) => Some(s.value()),
        _ => None,
    }
}

/// `client . baseurl` in the tokens of a `format!`.
fn count_base(tokens: TokenStream) -> usize {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    tokens.windows(3).filter(|w| is_base(w)).count()
}

fn is_base(window: &[TokenTree]) -> bool {
    matches!(window, [TokenTree::Ident(c), TokenTree::Punct(dot), TokenTree::Ident(b)]
        if c == "client" && dot.as_char() == '.' && b == "baseurl")
}

/// A global operation lives under the host itself: its URL starts at the client's root
/// instead of the account base progenitor's `baseurl` holds.
fn rewrite_base(send: &mut syn::ImplItemFn) {
    struct Base;
    impl VisitMut for Base {
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            if !mac.path.is_ident("format") {
                return;
            }
            let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
            let mut out = TokenStream::new();
            let mut i = 0;
            while i < tokens.len() {
                if i + 3 <= tokens.len() && is_base(&tokens[i..i + 3]) {
                    out.extend(quote!(client.inner().root_url()));
                    i += 3;
                } else {
                    out.extend([tokens[i].clone()]);
                    i += 1;
                }
            }
            mac.tokens = out;
        }
    }
    Base.visit_impl_item_fn_mut(send);
}
