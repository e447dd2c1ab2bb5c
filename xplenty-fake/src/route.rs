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

pub(crate) fn route(method: &str, path: &str, account_id: &str) -> Option<Route> {
    let account_prefix = format!("/{account_id}/api");
    let (scope, rest) = match path.strip_prefix(&account_prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (Scope::Account, rest),
        _ => (Scope::Global, path),
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
    let mut best: Option<(usize, Route)> = None;
    for operation in OPERATIONS.iter().filter(|op| op.scope == scope && op.method == method) {
        let template: Vec<&'static str> = operation.path.split('/').skip(1).collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut params = BTreeMap::new();
        let mut literals = 0;
        let matched =
            template.iter().zip(&segments).all(|(t, s)| match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) => {
                    params.insert(name, decode(s));
                    true
                }
                None => {
                    literals += 1;
                    t == s
                }
            });
        if matched && best.as_ref().is_none_or(|(score, _)| literals > *score) {
            best = Some((literals, Route { operation, params }));
        }
    }
    best.map(|(_, route)| route)
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

    #[test]
    fn literal_paths_win_over_templates() {
        let r = route("GET", "/acme/api/clusters/search", "acme").unwrap();
        assert_eq!(r.operation.id, "search_clusters");
        let r = route("GET", "/acme/api/clusters/812", "acme").unwrap();
        assert_eq!((r.operation.id, r.params["cluster_id"].as_str()), ("get_cluster", "812"));
        let r = route("POST", "/acme/api/connections/curl/test", "acme").unwrap();
        assert_eq!(r.operation.id, "test_curl_connection");
        let r = route("GET", "/acme/api/connections/curl/schema", "acme").unwrap();
        assert_eq!(r.operation.id, "import_curl_schema");
    }

    #[test]
    fn global_and_account_scopes_are_told_apart() {
        assert_eq!(route("GET", "/user", "acme").unwrap().operation.id, "get_user");
        assert!(route("GET", "/acme/api/user", "acme").is_none());
        assert!(route("GET", "/clusters", "acme").is_none());
    }
}
