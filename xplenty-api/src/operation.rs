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
#[non_exhaustive]
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
    /// The documented success status; any other answer is an error.
    pub status: u16,
    /// The success answer has a body, decoded as the call's type; `false` for one
    /// documented without (a `204`), which the call answers as `()`.
    pub answers_body: bool,
}

/// Looks an operation up by its id.
pub fn operation(id: &str) -> Option<&'static Operation> {
    OPERATIONS.binary_search_by(|op| op.id.cmp(id)).ok().map(|i| &OPERATIONS[i])
}
