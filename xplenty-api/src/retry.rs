//! When a failed attempt is sent again, and after how long.

use std::time::Duration;

use backon::BackoffBuilder;
use reqwest::{Method, StatusCode};

/// The retry policy of a client. On by default: idempotent calls (GET, PUT, DELETE) are
/// retried on 429, 502, 503, 504, connection failures and timeouts; a POST only when the
/// server answered 429 or the connection was never made (the server did not act),
/// unless [`RetryPolicy::retry_non_idempotent`] opts in. Delays grow exponentially with
/// jitter; `Retry-After` is honoured; no retry starts after the overall deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    deadline: Option<Duration>,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            deadline: Some(Duration::from_secs(120)),
            retry_non_idempotent: false,
        }
    }
}

/// Statuses that say "try again": 429 (refused, nothing done), 502, 503, 504 (a proxy or
/// the service is passing trouble).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502..=504)
}

/// When the server names a delay, at least this much of the backoff is kept too, so a
/// `Retry-After: 0` does not turn retries into a busy loop.
const BACKOFF_FLOOR_WITH_RETRY_AFTER: Duration = Duration::from_millis(50);

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server answered with this status.
    Status(StatusCode),
    /// No connection was made: the request never reached the server.
    Connect,
    /// The request may have reached the server (timeout, reset, truncated answer).
    Ambiguous,
}

impl RetryPolicy {
    /// Every call is sent once.
    pub fn disabled() -> Self {
        RetryPolicy { max_attempts: 1, ..Self::default() }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first delay, and the most any delay grows to (before jitter).
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// No retry starts later than this after the call began; `None` for no limit.
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Also retry POST calls after failures where the server may have acted. The API has
    /// no idempotency keys, so a retried POST may create a second cluster or job.
    pub fn retry_non_idempotent(mut self, retry: bool) -> Self {
        self.retry_non_idempotent = retry;
        self
    }

    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The jittered exponential delays between attempts.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        backon::ExponentialBuilder::new()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
    }

    /// The wait before the next attempt: the backoff, or what the server asked for in
    /// `Retry-After` (and never less than a short floor of the backoff).
    pub(crate) fn delay(backoff: Duration, retry_after: Option<Duration>) -> Duration {
        retry_after.map_or(backoff, |asked| asked.max(backoff.min(BACKOFF_FLOOR_WITH_RETRY_AFTER)))
    }

    /// Whether a failure of a call with this method may be sent again.
    pub(crate) fn should_retry(&self, method: &Method, failure: Failure) -> bool {
        let idempotent = matches!(*method, Method::GET | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS);
        let repeatable = idempotent || self.retry_non_idempotent;
        match failure {
            // 429: the server refused the call without acting on it.
            Failure::Status(StatusCode::TOO_MANY_REQUESTS) => true,
            Failure::Status(status) => is_retryable_status(status.as_u16()) && repeatable,
            Failure::Connect => true,
            Failure::Ambiguous => repeatable,
        }
    }
}

/// `Retry-After` as a delay: delta-seconds or an HTTP date.
pub(crate) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&chrono::Utc) - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-05-02T10:00:00Z").unwrap().to_utc();
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Thu, 02 May 2024 10:00:30 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Thu, 02 May 2024 09:00:00 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn posts_retry_only_when_the_server_did_not_act() {
        let policy = RetryPolicy::default();
        let post = Method::POST;
        assert!(policy.should_retry(&post, Failure::Status(StatusCode::TOO_MANY_REQUESTS)));
        assert!(policy.should_retry(&post, Failure::Connect));
        assert!(!policy.should_retry(&post, Failure::Status(StatusCode::BAD_GATEWAY)));
        assert!(!policy.should_retry(&post, Failure::Ambiguous));
        let opted_in = RetryPolicy::default().retry_non_idempotent(true);
        assert!(opted_in.should_retry(&post, Failure::Ambiguous));
        assert!(policy.should_retry(&Method::GET, Failure::Status(StatusCode::SERVICE_UNAVAILABLE)));
        assert!(!policy.should_retry(&Method::GET, Failure::Status(StatusCode::INTERNAL_SERVER_ERROR)));
    }

    #[test]
    fn retry_after_wins_over_the_backoff_but_zero_keeps_a_floor() {
        let backoff = Duration::from_secs(2);
        assert_eq!(RetryPolicy::delay(backoff, None), backoff);
        assert_eq!(RetryPolicy::delay(backoff, Some(Duration::from_secs(5))), Duration::from_secs(5));
        assert_eq!(RetryPolicy::delay(backoff, Some(Duration::ZERO)), BACKOFF_FLOOR_WITH_RETRY_AFTER);
        assert_eq!(RetryPolicy::delay(Duration::from_millis(10), Some(Duration::ZERO)), Duration::from_millis(10));
    }

    #[test]
    fn delays_grow_and_stop_at_the_attempt_cap() {
        let policy = RetryPolicy::default()
            .with_max_attempts(4)
            .with_backoff(Duration::from_millis(100), Duration::from_secs(1));
        let delays: Vec<Duration> = policy.delays().collect();
        assert_eq!(delays.len(), 3);
        assert!(delays[0] >= Duration::from_millis(100) && delays[0] <= Duration::from_millis(200));
        assert!(delays[2] >= Duration::from_millis(400));
    }
}
