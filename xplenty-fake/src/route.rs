//! Finds the operation a request is for, from the client's own table of operations:
//! account paths under `/{account_id}/api`, global ones at the root, and a literal
//! segment (`/clusters/search`) always beating a parameter (`/clusters/{cluster_id}`).

use std::collections::BTreeMap;

use xplenty_api::meta::{OPERATIONS, Operation, Scope};

/// An operation and the values of its path parameters.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) operation: &'static Operation,
    pub(crate) params: BTreeMap<&'static str, String>,
}

/// What a request line finds: an operation, a known path without that method (405 with
/// the path's methods in `Allow`, RFC 9110 section 15.5.6), or nothing (404).
#[derive(Debug)]
pub(crate) enum Found {
    Operation(Route),
    /// The methods the path does have, sorted, for the `Allow` header.
    WrongMethod(Vec<&'static str>),
    Nothing,
}

/// The path is matched first, whatever the method, so that a literal segment beats a
/// parameter for every method: `PUT /connections/x/help` is a wrong method on the help
/// path, not an update of a connection whose id is `help`.
pub(crate) fn route(method: &str, path: &str, account_id: &str) -> Found {
    let account_prefix = format!("/{account_id}/api");
    let (scope, rest) = match path.strip_prefix(&account_prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (Scope::Account, rest),
        _ => (Scope::Global, path),
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
    let mut best: Option<usize> = None;
    let mut candidates: Vec<(usize, &'static Operation)> = Vec::new();
    for operation in OPERATIONS.iter().filter(|op| op.scope == scope) {
        let template: Vec<&'static str> = operation.path.split('/').skip(1).collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut literals = 0;
        let matched = template.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') && t.ends_with('}') {
                true
            } else {
                literals += 1;
                t == s
            }
        });
        if matched {
            best = best.max(Some(literals));
            candidates.push((literals, operation));
        }
    }
    let Some(best) = best else { return Found::Nothing };
    let on_path: Vec<&'static Operation> =
        candidates.into_iter().filter(|(literals, _)| *literals == best).map(|(_, op)| op).collect();
    let Some(operation) = on_path.iter().copied().find(|op| op.method == method) else {
        let mut allow: Vec<&'static str> = on_path.iter().map(|op| op.method).collect();
        allow.sort_unstable();
        allow.dedup();
        return Found::WrongMethod(allow);
    };
    let params = operation
        .path
        .split('/')
        .skip(1)
        .zip(&segments)
        .filter_map(|(t, s)| t.strip_prefix('{').and_then(|t| t.strip_suffix('}')).map(|name| (name, decode(s))))
        .collect();
    Found::Operation(Route { operation, params })
}

fn decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(found: Found) -> Route {
        match found {
            Found::Operation(route) => route,
            other => panic!("expected an operation, got {other:?}"),
        }
    }

    #[test]
    fn literal_paths_win_over_templates() {
        let r = op(route("GET", "/acme/api/clusters/search", "acme"));
        assert_eq!(r.operation.id, "search_clusters");
        let r = op(route("GET", "/acme/api/clusters/812", "acme"));
        assert_eq!((r.operation.id, r.params["cluster_id"].as_str()), ("get_cluster", "812"));
        let r = op(route("POST", "/acme/api/connections/curl/test", "acme"));
        assert_eq!(r.operation.id, "test_curl_connection");
        let r = op(route("GET", "/acme/api/connections/curl/schema", "acme"));
        assert_eq!(r.operation.id, "import_curl_schema");
    }

    #[test]
    fn global_and_account_scopes_are_told_apart() {
        assert_eq!(op(route("GET", "/user", "acme")).operation.id, "get_user");
        assert!(matches!(route("GET", "/acme/api/user", "acme"), Found::Nothing));
        assert!(matches!(route("GET", "/clusters", "acme"), Found::Nothing));
    }

    #[test]
    fn a_known_path_with_another_method_names_its_methods() {
        match route("TRACE", "/acme/api/clusters", "acme") {
            Found::WrongMethod(allow) => assert_eq!(allow, ["GET", "POST"]),
            other => panic!("{other:?}"),
        }
        // The literal `help` wins for every method, not only for the ones it has.
        match route("PUT", "/acme/api/connections/adwords/help", "acme") {
            Found::WrongMethod(allow) => assert_eq!(allow, ["GET"]),
            other => panic!("{other:?}"),
        }
    }
}
