//! progenitor's hooks: `pre` fixes what every request carries, `exec` owns the attempts
//! (budget, retries, backoff, rate-limit figures, error-body normalisation, tracing).

use std::time::Duration;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, ResponseBuilderExt, StatusCode};
use tracing::Instrument;

use crate::call::{self, CallRecord};
use crate::error::excerpt;
use crate::meta::Scope;
use crate::retry::{Failure, retry_after};
use crate::{Client, ClientState, RateLimit};

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(&self, request: &mut Request, info: &OperationInfo) -> Result<(), progenitor_client::Error<E>> {
        let shared = &self.inner().shared;
        // Per request rather than on the reqwest client, so they hold on a client the
        // caller gave (`ClientBuilder::http_client`) too.
        *request.timeout_mut() = Some(shared.timeout);
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, shared.authorization.clone());
        if let Some(agent) = &shared.user_agent {
            headers.insert(USER_AGENT, agent.clone());
        }
        // progenitor sends `Accept: application/json` and `api-version`; the API wants
        // its vendor type with the version in it, and nothing else.
        headers.insert(ACCEPT, HeaderValue::from_static(crate::meta::ACCEPT_VALUE));
        headers.remove("api-version");
        if crate::meta::operation(info.operation_id).is_some_and(|op| op.scope == Scope::Global) {
            // The generated client's base is the account's; global calls live under
            // the host itself.
            let url = request.url_mut();
            if let Some(rest) = url.path().strip_prefix(shared.account_base_path.as_str()) {
                let path = format!("{}{rest}", shared.root_path);
                url.set_path(&path);
            }
        }
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let span = tracing::info_span!(
            "xplenty.call",
            operation = info.operation_id,
            method = %request.method(),
            path = crate::meta::operation(info.operation_id).map_or("", |op| op.path),
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

impl Client {
    async fn attempts(&self, request: Request) -> reqwest::Result<Response> {
        let shared = &self.inner().shared;
        let policy = &shared.retry;
        let started = tokio::time::Instant::now();
        let deadline = policy.deadline().map(|d| started + d);
        let mut delays = policy.delays();
        let method = request.method().clone();
        let mut pending = Some(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = pending.take().expect("a request is pending at every attempt");
            // A streaming body cannot be sent twice; such a call gets one attempt.
            let (this_attempt, kept) = match request.try_clone() {
                Some(copy) => (copy, Some(request)),
                None => (request, None),
            };
            if let Some(budget) = &shared.budget {
                budget.acquire().await;
            }
            let outcome = match self.client().execute(this_attempt).await {
                Ok(response) => buffer(response).await,
                Err(e) => Err(e),
            };
            if let Ok(response) = &outcome
                && let Some(rate_limit) = RateLimit::from_headers(response.headers())
            {
                shared.last_rate_limit.store(rate_limit);
                if let Some(budget) = &shared.budget {
                    budget.observe(rate_limit);
                }
            }
            let failure = match &outcome {
                Ok(response) if matches!(response.status().as_u16(), 429 | 502..=504) => {
                    Some(Failure::Status(response.status()))
                }
                Ok(_) => None,
                Err(e) if e.is_connect() => Some(Failure::Connect),
                Err(e) if e.is_builder() || e.is_redirect() => None,
                Err(_) => Some(Failure::Ambiguous),
            };
            let delay = match (failure, &kept) {
                (Some(failure), Some(_)) if policy.should_retry(&method, failure) => delays.next().map(|backoff| {
                    let asked = outcome.as_ref().ok().and_then(|r| retry_after(r.headers(), chrono::Utc::now()));
                    asked.map_or(backoff, |asked| asked.max(backoff.min(Duration::from_millis(50))))
                }),
                _ => None,
            };
            let within_deadline = |delay: Duration| deadline.is_none_or(|d| tokio::time::Instant::now() + delay <= d);
            match delay {
                Some(delay) if within_deadline(delay) => {
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, failure = ?failure, "retrying");
                    tokio::time::sleep(delay).await;
                    pending = kept;
                }
                _ => return finish(outcome, attempt, started),
            }
        }
    }
}

/// Reads the whole body inside `exec`, so a connection that breaks mid-body counts as a
/// failed attempt (and can be retried) and error bodies can be normalised. The parts are
/// moved, not copied, and the URL is carried over so reqwest need not parse a stand-in.
async fn buffer(response: Response) -> reqwest::Result<Response> {
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    let mut body = http_body_util::BodyExt::collect(body).await?.to_bytes();
    if !parts.status.is_success() {
        body = normalise_error_body(&mut parts.headers, body);
    }
    let carrier = http::Response::builder().url(url).body(()).expect("an empty response with a URL builds");
    parts.extensions.extend(carrier.into_parts().0.extensions);
    Ok(Response::from(http::Response::from_parts(parts, body)))
}

/// Keeps the API's JSON error (and notes its message); anything else (HTML from a proxy,
/// an empty 429) becomes `{}` with the start of the original kept for the error, so the
/// generated code still yields the status instead of a decoding failure.
fn normalise_error_body(headers: &mut reqwest::header::HeaderMap, body: Bytes) -> Bytes {
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice::<serde_json::Value>(&body) {
        let message = ["message", "error_message"]
            .iter()
            .find_map(|key| object.get(*key).and_then(|v| v.as_str()).map(str::to_owned));
        call::record(|r| {
            r.message = message;
            r.body_excerpt = None;
        });
        return body;
    }
    let kept = excerpt(&body);
    call::record(|r| {
        r.message = None;
        r.body_excerpt = Some(kept);
    });
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.remove(reqwest::header::CONTENT_LENGTH);
    Bytes::from_static(b"{}")
}

fn finish(
    outcome: reqwest::Result<Response>,
    attempt: u32,
    started: tokio::time::Instant,
) -> reqwest::Result<Response> {
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
    let rate_limit = outcome.as_ref().ok().and_then(|r| RateLimit::from_headers(r.headers()));
    let link = outcome.as_ref().ok().and_then(|r| crate::pagination::joined_links(r.headers()));
    call::record(|r: &mut CallRecord| {
        r.attempts = attempt;
        r.status = status;
        r.rate_limit = rate_limit;
        r.link = link;
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn json_error_bodies_are_kept_and_others_become_an_empty_object() {
        let mut headers = HeaderMap::new();
        let kept = normalise_error_body(&mut headers, Bytes::from_static(br#"{"message":"no"}"#));
        assert_eq!(&kept[..], br#"{"message":"no"}"#);
        let replaced = normalise_error_body(&mut headers, Bytes::from_static(b"<html>502</html>"));
        assert_eq!(&replaced[..], b"{}");
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "application/json");
    }

    proptest! {
        #[test]
        fn the_error_normaliser_never_panics_and_always_yields_json(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut headers = HeaderMap::new();
            let body = normalise_error_body(&mut headers, Bytes::from(bytes));
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
