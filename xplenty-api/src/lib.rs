#![doc = include_str!("../README.md")]
#![warn(missing_debug_implementations)]

pub mod call;
mod config;
#[doc(hidden)]
pub mod decode;
mod error;
mod hooks;
pub mod open_enum;
mod operation;
pub mod pagination;
mod rate_limit;
mod retry;
mod state;
mod wait;

mod generated {
    // Generated code follows progenitor's conventions, not this crate's lints.
    #![allow(unused, clippy::all, missing_debug_implementations, rustdoc::all)]
    include!(concat!(env!("OUT_DIR"), "/xplenty.rs"));
}

pub use config::{ClientBuilder, ConfigError};
pub use error::{Error, ErrorKind};
pub use generated::{Client, OPERATIONS, ResponseValue, builder, types};
pub use operation::{Operation, Scope, operation};
pub use rate_limit::{RateBudget, RateLimit};
pub use retry::RetryPolicy;
pub use state::ClientState;
pub use wait::{ClusterWait, JobWait, Wait, WaitError, WaitEvent, Waitable};

/// The `Accept` header the API wants: JSON, version 2 of the representation.
pub const ACCEPT: &str = "application/vnd.xplenty+json; version=2";

/// The host of the production API.
pub const DEFAULT_BASE_URL: &str = "https://api.xplenty.com";
