use std::fmt::Write as _;

use crate::{Operation, Scope};

/// The Markdown table of every operation: what `cargo xtask regen` writes to
/// `ENDPOINTS.md`.
pub fn endpoint_table(operations: &[Operation]) -> String {
    let mut out = String::from(
        "# Endpoints\n\n\
         Every operation of `spec/xplenty.yaml`, the method of `xplenty_api::Client` that \
         calls it, and whether its builder streams every page (`stream_all`). Written by \
         `cargo xtask regen`; `cargo xtask check` fails when it is stale.\n\n\
         Account-scoped paths are relative to `https://api.xplenty.com/{account_id}/api`, \
         global ones to `https://api.xplenty.com`.\n\n\
         | Operation | Method | Path | Scope | Rust | Pages |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut sorted: Vec<&Operation> = operations.iter().collect();
    sorted.sort_by(|a, b| (&a.tag, &a.path, &a.method).cmp(&(&b.tag, &b.path, &b.method)));
    for op in sorted {
        let scope = match op.scope {
            Scope::Account => "account",
            Scope::Global => "global",
        };
        let pages = if op.paginated { "`stream_all()`" } else { "" };
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {scope} | `client.{}()` | {pages} |",
            op.summary.replace('|', "\\|"),
            op.method,
            op.path,
            op.id
        );
    }
    out
}
