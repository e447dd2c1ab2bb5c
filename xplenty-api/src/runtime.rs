//! What generated code may name, and the only part of the crate it names: every path the
//! generator writes into `generated` starts with `crate::runtime::`. A change here is a
//! change of the generator's contract; everything else in the crate is free to move.

pub(crate) use crate::Error;
pub(crate) use crate::call::send;
pub(crate) use crate::decode::{null_as_default, tolerant};
pub(crate) use crate::meta::{ACCEPT_VALUE, Operation, Scope};
pub(crate) use crate::open_enum::OpenEnumVisitor;
pub(crate) use crate::pagination::paginate;
pub(crate) use crate::query::comma_joined;
pub(crate) use crate::state::ClientState;
