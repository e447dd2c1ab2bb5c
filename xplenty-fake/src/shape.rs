//! What each operation does to the fake's state, derived once from the operation table
//! and the path shapes, so operations added to the spec are picked up without code:
//! `POST /x` creates into collection `/x`; `GET`, `PUT`, `DELETE /x/{id}` read, update
//! and delete; `GET /x` lists (also the items of `/x/{type}`); `GET /x/search` searches;
//! `…/{id}/watchers` watches. A collection is a path whose `/{id}` child has a `GET`
//! documented with one object; everything else answers its documented example.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use xplenty_api::meta::{OPERATIONS, Operation, Scope};

use crate::spec::{Documented, Kind, OperationSpec, operation_spec};

/// Derived once: requests ask it on every call.
struct Shape {
    /// Collection path (by scope: global or not) to the `GET` of one of its items.
    getters: BTreeMap<(bool, &'static str), &'static Operation>,
}

fn shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| {
        let getters = OPERATIONS
            .iter()
            .filter(|op| {
                op.method == "GET" && documented(op.id).and_then(Documented::example).is_some_and(|e| e.is_object())
            })
            .filter_map(|op| Some(((op.scope == Scope::Global, split_item(op.path)?.0), op)))
            .collect();
        Shape { getters }
    })
}

/// What operation `spec` does, derived on its first call and kept in its row.
pub(crate) fn kind(spec: &OperationSpec) -> Kind {
    *spec.kind.get_or_init(|| xplenty_api::meta::operation(spec.id).map_or(Kind::Example, |op| classify(shape(), op)))
}

fn documented(id: &str) -> Option<&'static Documented> {
    operation_spec(id).map(|row| &row.documented)
}

/// `/clusters/{cluster_id}` -> (`/clusters`, `cluster_id`).
pub(crate) fn split_item(path: &str) -> Option<(&str, &str)> {
    let (parent, last) = path.rsplit_once('/')?;
    let name = last.strip_prefix('{')?.strip_suffix('}')?;
    Some((parent, name))
}

/// The `GET` that reads one item of the collection at `path`, if `path` is one.
pub(crate) fn item_getter(scope: Scope, path: &str) -> Option<&'static Operation> {
    shape().getters.get(&(scope == Scope::Global, path)).copied()
}

pub(crate) fn is_collection(scope: Scope, path: &str) -> bool {
    item_getter(scope, path).is_some()
}

fn is_collection_in(shape: &Shape, scope: Scope, path: &str) -> bool {
    shape.getters.contains_key(&(scope == Scope::Global, path))
}

/// The collection `GET path` lists: `path` itself, or `path/{type}` when items live one
/// level down (connections are created and read per type but listed together).
fn listed_collection(shape: &Shape, scope: Scope, path: &'static str) -> Option<&'static str> {
    if is_collection_in(shape, scope, path) {
        return Some(path);
    }
    OPERATIONS
        .iter()
        .filter(|op| op.scope == scope && op.method == "POST")
        .find(|op| {
            split_item(op.path).is_some_and(|(parent, _)| parent == path) && is_collection_in(shape, scope, op.path)
        })
        .map(|_| path)
}

fn classify(shape: &Shape, op: &'static Operation) -> Kind {
    let scope = op.scope;
    if let Some(parent) = op.path.strip_suffix("/watchers")
        && split_item(parent).is_some_and(|(collection, _)| is_collection_in(shape, scope, collection))
    {
        return match op.method {
            "POST" => Kind::Watch,
            "DELETE" => Kind::Unwatch,
            _ => Kind::Watchers,
        };
    }
    if let Some((collection, _)) = split_item(op.path)
        && is_collection_in(shape, scope, collection)
    {
        match op.method {
            "GET" => return Kind::Get { collection },
            "PUT" => return Kind::Update { collection },
            "DELETE" => return Kind::Delete { collection },
            _ => {}
        }
    }
    for (suffix, action) in [("/clone", 0), ("/run", 1)] {
        if op.method == "POST"
            && let Some((collection, _)) = op.path.strip_suffix(suffix).and_then(split_item)
            && is_collection_in(shape, scope, collection)
        {
            return if action == 0 { Kind::Clone { collection } } else { Kind::Run { collection } };
        }
    }
    if op.method == "POST" && is_collection_in(shape, scope, op.path) {
        return Kind::Create { collection: op.path };
    }
    let returns_list = documented(op.id).and_then(Documented::example).is_some_and(|e| e.is_array());
    if op.method == "GET" && returns_list {
        if let Some(listed) = op.path.strip_suffix("/search").and_then(|p| listed_collection(shape, scope, p)) {
            return Kind::Search { collection: listed };
        }
        if let Some(listed) = listed_collection(shape, scope, op.path) {
            return Kind::List { collection: listed };
        }
    }
    let schema = |id: &str| documented(id).map(|d| d.schema).filter(|s| !s.is_empty());
    let twin = |method: &str| {
        OPERATIONS.iter().find(|other| other.scope == scope && other.path == op.path && other.method == method)
    };
    match op.method {
        "GET" if twin("PUT").is_some_and(|put| schema(put.id).is_some() && schema(put.id) == schema(op.id)) => {
            Kind::SingletonGet
        }
        "PUT" if twin("GET").is_some_and(|get| schema(get.id).is_some() && schema(get.id) == schema(op.id)) => {
            Kind::SingletonUpdate
        }
        _ => Kind::Example,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(id: &str) -> Kind {
        kind(operation_spec(id).unwrap())
    }

    #[test]
    fn kinds_follow_the_path_shapes() {
        assert_eq!(kind_of("create_cluster"), Kind::Create { collection: "/clusters" });
        assert_eq!(kind_of("run_job"), Kind::Create { collection: "/jobs" });
        assert_eq!(kind_of("get_cluster"), Kind::Get { collection: "/clusters" });
        assert_eq!(kind_of("terminate_cluster"), Kind::Delete { collection: "/clusters" });
        assert_eq!(kind_of("search_clusters"), Kind::Search { collection: "/clusters" });
        assert_eq!(kind_of("list_clusters"), Kind::List { collection: "/clusters" });
        assert_eq!(kind_of("watch_cluster"), Kind::Watch);
        assert_eq!(kind_of("list_cluster_instances"), Kind::Example);
        assert_eq!(kind_of("create_connection"), Kind::Create { collection: "/connections/{connection_type}" });
        assert_eq!(kind_of("list_connections"), Kind::List { collection: "/connections" });
        assert_eq!(kind_of("get_package_validation"), Kind::Get { collection: "/packages/{package_id}/validations" });
        assert_eq!(kind_of("create_public_key"), Kind::Create { collection: "/user/keys" });
        assert_eq!(kind_of("get_account"), Kind::Get { collection: "/accounts" });
        assert_eq!(kind_of("list_regions"), Kind::Example);
        assert_eq!(kind_of("get_user"), Kind::SingletonGet);
        assert_eq!(kind_of("clone_schedule"), Kind::Clone { collection: "/schedules" });
        assert_eq!(kind_of("run_schedule"), Kind::Run { collection: "/schedules" });
        assert_eq!(kind_of("update_user"), Kind::SingletonUpdate);
    }
}
