#![doc = include_str!("../README.md")]
#![warn(missing_debug_implementations)]
// docs.rs builds with every feature and `--cfg docsrs`: each feature-gated item then says
// which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attempts;
#[doc(hidden)]
pub mod body_rules;
mod call;
mod config;
mod decode;
mod error;
mod open_enum;
mod operation;
mod pagination;
mod query;
mod rate_limit;
mod retry;
// What the generated code names: the one module it reaches the runtime through.
mod runtime;
mod state;
mod wait;
pub mod webhook;
mod workflow;

mod generated {
    // Generated code follows progenitor's conventions, not this crate's lints.
    #![allow(unused, clippy::all, missing_debug_implementations, rustdoc::all)]
    include!(concat!(env!("OUT_DIR"), "/xplenty.rs"));
}

pub use config::{ClientBuilder, ConfigError};
pub use error::{Error, ErrorKind};
/// progenitor's wrapper of a successful answer, kept in the surface on purpose: it derefs
/// to the body, [`ResponseValue::into_inner`] takes the body, and it gives the status and
/// headers (`status()`, `headers()`).
pub use generated::ResponseValue;
pub use generated::{Client, builder, types};
pub use rate_limit::{RateBudget, RateLimit};
pub use retry::RetryPolicy;
pub use wait::{ClusterWait, JobWait, Wait, WaitError, WaitEvent};
pub use workflow::{ClusterLease, ClusterRequest, RunAndWait, WorkflowError};

/// Facts about the API the client is built from: the table of operations (for tools,
/// fakes and tests) and the `Accept` value.
pub mod meta {
    pub use crate::generated::OPERATIONS;
    pub use crate::operation::{Operation, Scope, operation};

    /// The `Accept` header value the API wants: JSON, version 2 of the representation.
    pub const ACCEPT_VALUE: &str = "application/vnd.xplenty+json; version=2";
}

/// The host of the production API, the default of [`ClientBuilder::base_url`]. At the
/// root, next to the builder that uses it.
pub const DEFAULT_BASE_URL: &str = "https://api.xplenty.com";
