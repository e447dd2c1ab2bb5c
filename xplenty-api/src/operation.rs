use crate::meta::OPERATIONS;

/// Where an operation lives: under the account (`/{account_id}/api/...`) or directly
/// under the host (`/user`, `/accounts`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Account,
    Global,
}

/// One operation of the API, as described by the spec. [`OPERATIONS`] lists them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The spec's `operationId`, which is also the client method's name.
    pub id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template relative to the scope's base, such as `/clusters/{cluster_id}`.
    pub path: &'static str,
    pub scope: Scope,
    /// The list is paged; its builder has `stream_all`.
    pub paginated: bool,
}

/// Looks an operation up by its id.
pub fn operation(id: &str) -> Option<&'static Operation> {
    OPERATIONS.binary_search_by(|op| op.id.cmp(id)).ok().map(|i| &OPERATIONS[i])
}
