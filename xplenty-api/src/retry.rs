//! When a failed attempt is sent again, and after how long.

use std::time::Duration;

use backon::BackoffBuilder;
use reqwest::{Method, StatusCode};

/// The retry policy of a client. On by default: idempotent calls (GET, PUT, DELETE) are
/// retried on 429, 502, 503, 504, connection failures and timeouts; a POST only when the
/// server answered 429 or the connection was never made (the server did not act),
/// unless [`RetryPolicy::retry_non_idempotent`] opts in. Delays grow exponentially with
/// jitter; `Retry-After` is honoured up to [`RetryPolicy::with_max_retry_after`] and the
/// time left before the overall deadline: a longer wait ends the call at once with the
/// answer's error (its [`Error::retry_after`](crate::Error::retry_after) says how long the
/// server asked for) instead of sleeping past either.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    deadline: Option<Duration>,
    max_retry_after: Duration,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            deadline: Some(Duration::from_secs(120)),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            retry_non_idempotent: false,
        }
    }
}

/// The longest `Retry-After` a call sleeps for by default.
const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

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

    /// The longest `Retry-After` the client sleeps for (5 minutes by default); a server
    /// asking for more ends the call with its 429 (or 503) at once.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
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

    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The instant no retry may start after, for a call that began at `started`; `None`
    /// without a deadline, or one so far away that the clock cannot name it.
    pub(crate) fn deadline_from(&self, started: tokio::time::Instant) -> Option<tokio::time::Instant> {
        self.deadline.and_then(|d| started.checked_add(d))
    }

    /// The one retry decision: the wait before the next attempt, or `None` to end the
    /// call with this failure. `backoff` is the next jittered delay (`None` once the
    /// attempts are used up), `asked` the answer's `Retry-After`, `left` the time before
    /// the deadline (`None` for no deadline). A wait that would pass the deadline, or a
    /// `Retry-After` above the cap, ends the call now rather than sleeping.
    pub(crate) fn next_delay(
        &self,
        method: &Method,
        failure: Failure,
        backoff: Option<Duration>,
        asked: Option<Duration>,
        left: Option<Duration>,
    ) -> Option<Duration> {
        if !self.should_retry(method, failure) {
            return None;
        }
        if asked.is_some_and(|asked| asked > self.max_retry_after) {
            return None;
        }
        let delay = Self::delay(backoff?, asked);
        left.is_none_or(|left| delay <= left).then_some(delay)
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

    /// Whether a failure of a call with this method may be sent again: when it is safe
    /// ([`is_safe_to_retry`]), or when the caller opted in to repeating a POST after a
    /// failure that is worth retrying for an idempotent call.
    pub(crate) fn should_retry(&self, method: &Method, failure: Failure) -> bool {
        is_safe_to_retry(method, failure) || (self.retry_non_idempotent && is_safe_to_retry(&Method::GET, failure))
    }
}

/// The one rule of what may be sent again without the caller's say-so, used by the
/// attempt loop and by [`Error::is_retryable`](crate::Error::is_retryable). An idempotent
/// method (GET, PUT, DELETE, HEAD, OPTIONS): on 429, 502, 503, 504, a connection never
/// made, or a failure after sending (timeout, reset, truncated answer). Any other method
/// (POST): only where the request cannot have been acted on: a connection that was never
/// made, or a 429, which the API's docs describe as a refusal of the call. A 502, 503 or
/// 504 after a POST may follow work already done, so it is not safe.
pub(crate) fn is_safe_to_retry(method: &Method, failure: Failure) -> bool {
    let idempotent = matches!(*method, Method::GET | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS);
    match failure {
        Failure::Status(StatusCode::TOO_MANY_REQUESTS) | Failure::Connect => true,
        Failure::Status(status) => is_retryable_status(status.as_u16()) && idempotent,
        Failure::Ambiguous => idempotent,
    }
}

/// What an attempt's outcome is as a failure worth considering; `None` for an answer
/// that is final (a success, a 4xx other than 429, a 500) or an error no retry mends.
pub(crate) fn failure_of(outcome: &reqwest::Result<crate::call::Answer>) -> Option<Failure> {
    match outcome {
        Ok(answer) if is_retryable_status(answer.status.as_u16()) => Some(Failure::Status(answer.status)),
        Ok(_) => None,
        Err(e) if e.is_connect() => Some(Failure::Connect),
        Err(e) if e.is_builder() || e.is_redirect() => None,
        Err(_) => Some(Failure::Ambiguous),
    }
}

/// `Retry-After` as a delay: delta-seconds or an HTTP date.
pub(crate) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is "longer than anyone waits": the most there is.
        return Some(value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    // A date in the past asks for no wait; `to_std` fails on a negative span.
    Some(at.with_timezone(&chrono::Utc).signed_duration_since(now).to_std().unwrap_or(Duration::ZERO))
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
    fn huge_retry_after_values_saturate() {
        let now = chrono::Utc::now();
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("18446744073709551615"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(u64::MAX)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999999999999999999999999"));
        assert_eq!(retry_after(&headers, now), Some(Duration::MAX));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT"));
        assert!(retry_after(&headers, now).unwrap() > Duration::from_secs(86_400 * 365 * 7000));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Mon, 01 Jan 0001 00:00:00 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
    }

    #[test]
    fn a_wait_past_the_cap_or_the_deadline_ends_the_call() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(60));
        let busy = Failure::Status(StatusCode::TOO_MANY_REQUESTS);
        let backoff = Some(Duration::from_millis(100));
        let get = Method::GET;
        assert_eq!(
            policy.next_delay(&get, busy, backoff, Some(Duration::from_secs(5)), None),
            Some(Duration::from_secs(5))
        );
        assert_eq!(policy.next_delay(&get, busy, backoff, Some(Duration::from_secs(61)), None), None);
        assert_eq!(policy.next_delay(&get, busy, backoff, Some(Duration::MAX), Some(Duration::MAX)), None);
        assert_eq!(
            policy.next_delay(&get, busy, backoff, Some(Duration::from_secs(5)), Some(Duration::from_secs(4))),
            None
        );
        assert_eq!(policy.next_delay(&get, busy, None, None, None), None, "attempts used up");
        let huge = RetryPolicy::default().with_max_retry_after(Duration::MAX).with_deadline(Some(Duration::MAX));
        assert_eq!(huge.deadline_from(tokio::time::Instant::now()), None);
    }

    #[test]
    fn one_rule_says_what_is_safe() {
        let post = Method::POST;
        assert!(is_safe_to_retry(&post, Failure::Connect));
        assert!(is_safe_to_retry(&post, Failure::Status(StatusCode::TOO_MANY_REQUESTS)));
        assert!(!is_safe_to_retry(&post, Failure::Ambiguous));
        assert!(!is_safe_to_retry(&post, Failure::Status(StatusCode::SERVICE_UNAVAILABLE)));
        assert!(is_safe_to_retry(&Method::DELETE, Failure::Ambiguous));
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
