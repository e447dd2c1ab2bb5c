//! Query arrays the spec declares `style: form, explode: false` travel comma-joined
//! (`type=s3,postgres`). progenitor ignores `explode` and repeats the key for each item;
//! this pass makes those parameters' `send` write one joined value instead.

use std::collections::BTreeSet;

use syn::visit_mut::VisitMut;

use crate::{GenError, Operation};

/// Rewrites `QueryParam::new("name", &value)` of the comma-joined parameters in the
/// body of one builder's `send`; fails when one of them is not found there.
pub(crate) fn join_in(send: &mut syn::ImplItemFn, op: &Operation) -> Result<(), GenError> {
    let names: BTreeSet<String> = op.parameters.iter().filter(|p| p.comma_joined).map(|p| p.name.clone()).collect();
    if names.is_empty() {
        return Ok(());
    }
    let id = &op.id;
    let mut rewriter = Rewriter { names: &names, found: BTreeSet::new() };
    rewriter.visit_impl_item_fn_mut(send);
    let missing: Vec<&String> = names.difference(&rewriter.found).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(GenError::Extras(format!("`{id}` sends no query parameter {missing:?} to join with commas")))
    }
}

struct Rewriter<'n> {
    names: &'n BTreeSet<String>,
    found: BTreeSet<String>,
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        syn::visit_mut::visit_expr_call_mut(self, call);
        let syn::Expr::Path(func) = call.func.as_ref() else { return };
        let is_query_param =
            func.path.segments.iter().rev().take(2).map(|s| s.ident.to_string()).eq(["new", "QueryParam"]);
        let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(name), .. })) = call.args.first() else { return };
        let name = name.value();
        if !is_query_param || !self.names.contains(&name) {
            return;
        }
        let Some(syn::Expr::Reference(value)) = call.args.iter().nth(1) else { return };
        let value = value.expr.clone();
        call.args[1] = syn::parse_quote!(&#value.as_deref().map(crate::runtime::comma_joined));
        self.found.insert(name);
    }
}
