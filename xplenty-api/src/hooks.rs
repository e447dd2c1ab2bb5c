//! progenitor's hooks: `pre` adds this client's settings (auth, user agent, timeout) to a
//! request the generator already settled, `exec` owns the attempts (budget, retries,
//! backoff, rate-limit figures, error bodies, tracing) and writes the call's record once.

use std::time::Duration;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, ResponseBuilderExt, StatusCode};
use tracing::Instrument;

use crate::call::{self, CallRecord};
use crate::error::{Redactor, excerpt};
use crate::retry::{self, retry_after};
use crate::{Client, ClientState, RateLimit};

impl ClientHooks<ClientState> for Client {
    /// What the generator wrote (path, the vendor `Accept`, the base of global calls)
    /// stays as it is; only this client's own settings are added.
    async fn pre<E>(&self, request: &mut Request, _: &OperationInfo) -> Result<(), progenitor_client::Error<E>> {
        let shared = &self.inner().shared;
        // Per request rather than on the reqwest client, so they hold on a client the
        // caller gave (`ClientBuilder::http_client`) too.
        *request.timeout_mut() = Some(shared.timeout);
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, shared.authorization.clone());
        if let Some(agent) = &shared.user_agent {
            headers.insert(USER_AGENT, agent.clone());
        }
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let span = tracing::info_span!(
            "xplenty.call",
            operation = info.operation_id,
            method = %request.method(),
            path = call::operation().map_or("", |op| op.path),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        // Boxed: the attempt loop holds reqwest's futures, a body buffer and a timer,
        // and without the box every generated call future carried all of it (12 KB)
        // and was copied whole on each move.
        Box::pin(self.attempts(request).instrument(span)).await
    }
}

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
    async fn attempts(&self, request: Request) -> reqwest::Result<Response> {
        let shared = &self.inner().shared;
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
            let request = pending.take().expect("a request is pending at every attempt");
            // A streaming body cannot be sent twice; such a call gets one attempt.
            let (this_attempt, kept) = match request.try_clone() {
                Some(copy) => (copy, Some(request)),
                None => (request, None),
            };
            let (outcome, error_body) = match self.client().execute(this_attempt).await {
                Ok(response) => match buffer(response, shared.max_response_size).await {
                    Ok((response, error_body)) => (Ok(response), error_body),
                    Err(e) => (Err(e), ErrorBody::default()),
                },
                Err(e) => (Err(e), ErrorBody::default()),
            };
            // Parsed once per attempt; the figures reach the budget, the client and the record.
            let rate_limit = outcome.as_ref().ok().and_then(|r| RateLimit::from_headers(r.headers()));
            if let Some(rate_limit) = rate_limit {
                shared.last_rate_limit.store(rate_limit);
                if let Some(budget) = &shared.budget {
                    budget.observe(rate_limit);
                }
            }
            let failure = retry::failure_of(&outcome).filter(|_| error_body.too_large.is_none());
            let asked = outcome.as_ref().ok().and_then(|r| retry_after(r.headers(), chrono::Utc::now()));
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

/// Reads the whole body inside `exec`, up to `limit` bytes, so a connection that breaks
/// mid-body counts as a failed attempt (and can be retried), an answer past the limit
/// is never held whole, and an error body is read once. The parts are moved, not
/// copied, and the URL is carried over so reqwest need not parse a stand-in.
async fn buffer(response: Response, limit: u64) -> reqwest::Result<(Response, ErrorBody)> {
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    let mut error_body = ErrorBody::default();
    let body = match call::read_limited(&parts.headers, body, limit).await? {
        Some(body) if !parts.status.is_success() => {
            let (body, said) = read_error_body(&mut parts.headers, body);
            error_body = said;
            body
        }
        Some(body) => body,
        None => {
            parts.headers.remove(reqwest::header::CONTENT_LENGTH);
            error_body.too_large = Some(limit);
            Bytes::new()
        }
    };
    let carrier = http::Response::builder().url(url).body(()).expect("an empty response with a URL builds");
    parts.extensions.extend(carrier.into_parts().0.extensions);
    Ok((Response::from(http::Response::from_parts(parts, body)), error_body))
}

/// Takes what an error answer says and leaves `{}` in its place: the generated code then
/// yields the status (never a decoding failure of an HTML page), and nothing parses the
/// body a second time.
fn read_error_body(headers: &mut reqwest::header::HeaderMap, body: Bytes) -> (Bytes, ErrorBody) {
    let message = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(object)) => ["message", "error_message"]
            .iter()
            .find_map(|key| object.get(*key).and_then(|v| v.as_str()).map(str::to_owned)),
        _ => None,
    };
    let excerpt = message.is_none().then(|| excerpt(&body));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.remove(reqwest::header::CONTENT_LENGTH);
    (Bytes::from_static(b"{}"), ErrorBody { message, excerpt, too_large: None })
}

/// Ends the call: the span's figures and the call's record, written once.
fn finish(
    outcome: reqwest::Result<Response>,
    seen: Seen,
    error_body: ErrorBody,
    redactor: &Redactor,
) -> reqwest::Result<Response> {
    let Seen { attempt, started, rate_limit, retry_after, safe } = seen;
    let span = tracing::Span::current();
    span.record("attempt", attempt);
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    let status: Option<StatusCode> = match &outcome {
        Ok(response) => Some(response.status()),
        Err(e) => e.status(),
    };
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    call::finish(CallRecord {
        status,
        attempts: attempt,
        rate_limit,
        message: error_body.message,
        body_excerpt: error_body.excerpt,
        retry_after,
        retryable: safe,
        too_large: error_body.too_large,
        redactor: redactor.clone(),
        link: outcome.as_ref().ok().and_then(|r| crate::pagination::joined_links(r.headers())),
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn error_bodies_are_read_once_and_become_an_empty_object() {
        let mut headers = HeaderMap::new();
        let (kept, said) = read_error_body(&mut headers, Bytes::from_static(br#"{"message":"no"}"#));
        assert_eq!((&kept[..], said), (&b"{}"[..], ErrorBody { message: Some("no".into()), ..ErrorBody::default() }));
        let (replaced, said) = read_error_body(&mut headers, Bytes::from_static(b"<html>502</html>"));
        assert_eq!(said.excerpt.as_deref(), Some("<html>502</html>"));
        assert_eq!(&replaced[..], b"{}");
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "application/json");
    }

    proptest! {
        #[test]
        fn the_error_normaliser_never_panics_and_always_yields_json(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut headers = HeaderMap::new();
            let (body, _) = read_error_body(&mut headers, Bytes::from(bytes));
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
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
