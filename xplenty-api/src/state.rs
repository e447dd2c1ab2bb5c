use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

use crate::rate_limit::LastRateLimit;
use crate::{RateBudget, RateLimit, RetryPolicy};

/// What the attempts need besides the HTTP client: the account, the retry policy and
/// the rate-limit state. Not part of the surface: only progenitor's `ClientInfo::inner`
/// returns it; the client's own accessors read it. Cheap to clone; clones share
/// the rate-limit state and the budget. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) account_id: String,
    /// Sent with every request by the attempts (marked sensitive), so a caller's
    /// client carries it too.
    pub(crate) authorization: HeaderValue,
    /// Set on every request when `Some`; `None` leaves a caller's client its own.
    pub(crate) user_agent: Option<HeaderValue>,
    /// Per attempt, set on each request: a caller's client has its own default.
    pub(crate) timeout: std::time::Duration,
    /// The base URL without a trailing slash: the base of global operations, which the
    /// generated code names (account operations use progenitor's `baseurl`, the
    /// account base).
    pub(crate) root_url: String,
    pub(crate) retry: RetryPolicy,
    /// The most bytes an answer's body may have; a longer one is not read.
    pub(crate) max_response_size: u64,
    /// The credential's spellings, kept out of every error's text.
    pub(crate) redactor: crate::error::Redactor,
    pub(crate) last_rate_limit: LastRateLimit,
    pub(crate) budget: Option<RateBudget>,
}

impl ClientState {
    /// The base of global operations (`/user`, `/accounts`, ...), for generated code.
    pub(crate) fn root_url(&self) -> &str {
        &self.shared.root_url
    }

    pub fn account_id(&self) -> &str {
        &self.shared.account_id
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// The figures of the last response that carried them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.shared.last_rate_limit.load()
    }

    pub fn rate_budget(&self) -> Option<&RateBudget> {
        self.shared.budget.as_ref()
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("account_id", &self.shared.account_id)
            .field("retry", &self.shared.retry)
            .field("rate_limit", &self.rate_limit())
            .field("budget", &self.shared.budget)
            .finish()
    }
}
