//! The attempts of one call: this client's settings (auth, user agent, timeout) added to
//! the request the generated code built, then the budget, retries, backoff, rate-limit
//! figures, error bodies and tracing. The last answer, read whole, and the call's record
//! come back as plain values.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, USER_AGENT};
use reqwest::{Request, Response, StatusCode};
use tracing::Instrument;

use crate::call::{self, Answer, CallRecord};
use crate::error::{Redactor, excerpt};
use crate::meta::Operation;
use crate::retry::{self, retry_after};
use crate::{Client, RateLimit};

/// What an error answer said, read once while its body is buffered.
#[derive(Debug, Default, PartialEq)]
struct ErrorBody {
    /// `message` or `error_message` of the API's JSON error.
    message: Option<String>,
    /// The start of a body that carried no message (HTML from a proxy, an empty 429).
    excerpt: Option<String>,
    /// The body passed the client's size limit (this many bytes) and was not read.
    too_large: Option<u64>,
}

/// What the attempts saw, for the record.
struct Seen {
    attempt: u32,
    started: tokio::time::Instant,
    rate_limit: Option<RateLimit>,
    retry_after: Option<Duration>,
    /// Whether the last failure is one the caller may safely send again.
    safe: bool,
}

impl Client {
    /// Sends `request`, a call of `operation`, with this client's settings, as often as
    /// the retry policy allows.
    pub(crate) async fn attempts(
        &self,
        mut request: Request,
        operation: &'static Operation,
    ) -> (reqwest::Result<Answer>, CallRecord) {
        let shared = &self.inner.shared;
        // Per request rather than on the reqwest client, so they hold on a client the
        // caller gave (`ClientBuilder::http_client`) too.
        *request.timeout_mut() = Some(shared.timeout);
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, shared.authorization.clone());
        if let Some(agent) = &shared.user_agent {
            headers.insert(USER_AGENT, agent.clone());
        }
        let span = tracing::info_span!(
            "xplenty.call",
            operation = operation.id,
            method = %request.method(),
            path = operation.path,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        // Boxed: the attempt loop holds reqwest's futures, a body buffer and a timer;
        // without the box every call future would carry all of it, copied on each move.
        Box::pin(self.attempt_loop(request).instrument(span)).await
    }

    async fn attempt_loop(&self, request: Request) -> (reqwest::Result<Answer>, CallRecord) {
        let shared = &self.inner.shared;
        let policy = &shared.retry;
        let started = tokio::time::Instant::now();
        let deadline = policy.deadline_from(started);
        let mut delays = policy.delays();
        let method = request.method().clone();
        let mut pending = Some(request);
        let mut attempt = 0;
        if let Some(budget) = &shared.budget {
            budget.acquire().await;
        }
        loop {
            attempt += 1;
            let Some(request) = pending.take() else { unreachable!("a request is pending at every attempt") };
            // A streaming body cannot be sent twice; such a call gets one attempt.
            let (this_attempt, kept) = match request.try_clone() {
                Some(copy) => (copy, Some(request)),
                None => (request, None),
            };
            let (outcome, error_body) = match self.client.execute(this_attempt).await {
                Ok(response) => match read(response, shared.max_response_size).await {
                    Ok((answer, error_body)) => (Ok(answer), error_body),
                    Err(e) => (Err(e), ErrorBody::default()),
                },
                Err(e) => (Err(e), ErrorBody::default()),
            };
            // Parsed once per attempt; the figures reach the budget, the client and the record.
            let rate_limit = outcome.as_ref().ok().and_then(|a| RateLimit::from_headers(&a.headers));
            if let Some(rate_limit) = rate_limit {
                shared.last_rate_limit.store(rate_limit);
                if let Some(budget) = &shared.budget {
                    budget.observe(rate_limit);
                }
            }
            let failure = retry::failure_of(&outcome).filter(|_| error_body.too_large.is_none());
            let asked = outcome.as_ref().ok().and_then(|a| retry_after(&a.headers, chrono::Utc::now()));
            let left = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
            let delay = match (failure, &kept) {
                (Some(failure), Some(_)) => policy.next_delay(&method, failure, delays.next(), asked, left),
                _ => None,
            };
            let end = |outcome, error_body| {
                let safe = failure.is_some_and(|f| retry::is_safe_to_retry(&method, f));
                let seen = Seen { attempt, started, rate_limit, retry_after: asked, safe };
                finish(outcome, seen, error_body, &shared.redactor)
            };
            let Some(delay) = delay else { return end(outcome, error_body) };
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, failure = ?failure, "retrying");
            tokio::time::sleep(delay).await;
            // The budget's wait counts against the same deadline as the backoff.
            if let Some(budget) = &shared.budget
                && !budget.acquire_by(deadline).await
            {
                return end(outcome, error_body);
            }
            pending = kept;
        }
    }
}

/// Reads the whole body, up to `limit` bytes, inside the attempt, so a connection that
/// breaks mid-body counts as a failed attempt (and can be retried), an answer past the
/// limit is never held whole, and an error body is read once.
async fn read(response: Response, limit: u64) -> reqwest::Result<(Answer, ErrorBody)> {
    let (parts, body) = http::Response::from(response).into_parts();
    let (status, mut headers) = (parts.status, parts.headers);
    match call::read_limited(&headers, body, limit).await? {
        Some(body) => {
            let said = if status.is_success() { ErrorBody::default() } else { what_the_error_says(&body) };
            Ok((Answer { status, headers, body }, said))
        }
        None => {
            headers.remove(reqwest::header::CONTENT_LENGTH);
            Ok((
                Answer { status, headers, body: Bytes::new() },
                ErrorBody { too_large: Some(limit), ..ErrorBody::default() },
            ))
        }
    }
}

/// The message of the API's JSON error, or the start of a body that has none.
fn what_the_error_says(body: &[u8]) -> ErrorBody {
    let message = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(object)) => ["message", "error_message"]
            .iter()
            .find_map(|key| object.get(*key).and_then(|v| v.as_str()).map(str::to_owned)),
        _ => None,
    };
    let excerpt = message.is_none().then(|| excerpt(body));
    ErrorBody { message, excerpt, too_large: None }
}

/// Ends the call: the span's figures, and the record of what its attempts saw.
fn finish(
    outcome: reqwest::Result<Answer>,
    seen: Seen,
    error_body: ErrorBody,
    redactor: &Redactor,
) -> (reqwest::Result<Answer>, CallRecord) {
    let Seen { attempt, started, rate_limit, retry_after, safe } = seen;
    let span = tracing::Span::current();
    span.record("attempt", attempt);
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    let status: Option<StatusCode> = match &outcome {
        Ok(answer) => Some(answer.status),
        Err(e) => e.status(),
    };
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    let record = CallRecord {
        status,
        attempts: attempt,
        rate_limit,
        message: error_body.message,
        body_excerpt: error_body.excerpt,
        retry_after,
        retryable: safe,
        too_large: error_body.too_large,
        redactor: redactor.clone(),
        link: outcome.as_ref().ok().and_then(|a| crate::pagination::joined_links(&a.headers)),
    };
    (outcome, record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn an_error_body_gives_its_message_or_its_start() {
        let said = what_the_error_says(br#"{"message":"no"}"#);
        assert_eq!(said, ErrorBody { message: Some("no".into()), ..ErrorBody::default() });
        let said = what_the_error_says(br#"{"error_message":"quota"}"#);
        assert_eq!(said.message.as_deref(), Some("quota"));
        let said = what_the_error_says(b"<html>502</html>");
        assert_eq!((said.message, said.excerpt.as_deref()), (None, Some("<html>502</html>")));
    }

    proptest! {
        #[test]
        fn reading_an_error_body_never_panics_and_always_says_something(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let said = what_the_error_says(&bytes);
            prop_assert!(said.message.is_some() || said.excerpt.is_some());
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = serde_json::from_slice::<crate::types::Cluster>(&bytes);
            let _ = serde_json::from_slice::<Vec<crate::types::Job>>(&bytes);
            let _ = serde_json::from_slice::<crate::types::Error>(&bytes);
        }

        #[test]
        fn decoding_arbitrary_json_shapes_never_panics(status in "\\PC{0,20}", progress in any::<f64>(), id in any::<i64>()) {
            let value = serde_json::json!({"id": id, "status": status, "progress": progress, "outputs": null});
            let _ = serde_json::from_value::<crate::types::Job>(value);
        }

        #[test]
        fn rate_limit_headers_never_panic(limit in "\\PC{0,12}", remaining in "\\PC{0,12}") {
            let mut headers = HeaderMap::new();
            if let (Ok(l), Ok(r)) = (HeaderValue::from_str(&limit), HeaderValue::from_str(&remaining)) {
                headers.insert("x-ratelimit-limit", l);
                headers.insert("x-ratelimit-remaining", r);
            }
            let _ = RateLimit::from_headers(&headers);
            let _ = crate::retry::retry_after(&headers, chrono::Utc::now());
        }
    }
}
