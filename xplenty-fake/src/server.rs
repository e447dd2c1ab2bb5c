//! HTTP on top of the state: authentication, content negotiation, the rate limit,
//! faults, checking requests and answers against the spec, and turning answers into
//! responses.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::route::route;
use serde_json::Value;

use crate::state::{Answer, Exchange, Fault, State};
use crate::validate::{check_answer, check_request};

/// Which of the spec's checks the fake makes (both by default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checks {
    /// Requests breaking the spec are a 422 and change nothing.
    pub(crate) requests: bool,
    /// Success answers breaking the spec are a 500 `fake answer outside the spec: ...`.
    pub(crate) answers: bool,
    /// Success answers are written with the real service's spellings (`variants.rs`).
    pub(crate) wire_variants: bool,
}

const VENDOR: &str = "application/vnd.xplenty+json";

/// Serves until the task is aborted; the connections live in a `JoinSet` owned by this
/// task, so aborting it also closes every open (keep-alive) connection.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<Mutex<State>>,
    api_key: String,
    checks: Checks,
) {
    let api_key: Arc<str> = api_key.into();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        // Reap finished connections so a long-lived fake does not accumulate them.
        while connections.try_join_next().is_some() {}
        let (state, api_key) = (state.clone(), api_key.clone());
        connections.spawn(async move {
            let service =
                hyper::service::service_fn(move |request| answer(request, state.clone(), api_key.clone(), checks));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Why the connection is closed without an answer (an injected fault).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injected: connection dropped")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    api_key: Arc<str>,
    checks: Checks,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let request_body = serde_json::from_slice::<Value>(&body).ok();
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let account_id = lock().account_id.clone();
    let route = route(parts.method.as_str(), parts.uri.path(), &account_id);
    let operation = route.as_ref().map(|r| r.operation.id);
    // Every answer goes through here, so the journal sees exactly what was sent.
    let finish = |answer: Answer| {
        let mut state = lock();
        let response = respond(&mut state, &answer);
        state.journal.push(Exchange {
            operation,
            method: parts.method.to_string(),
            target: target.clone(),
            request_body: request_body.clone(),
            status: answer.status,
            response_body: answer.body,
        });
        Ok(response)
    };
    if !authorised(&parts.headers, &api_key) {
        return finish(Answer::message(401, "Authentication failed: give the API key as the Basic user name"));
    }
    if !acceptable(&parts.headers) {
        return finish(Answer::message(406, format!("Not acceptable: ask for {VENDOR}; version=2")));
    }
    let Some(route) = route else {
        return finish(Answer::message(404, "No such resource"));
    };
    // The rate limit status is free of charge, as on the API.
    let free = route.operation.id == "get_rate_limit_status";
    let fault = {
        let mut state = lock();
        if !free && !state.spend() {
            drop(state);
            return finish(Answer::message(429, "Rate Limit Exceeded"));
        }
        state.take_fault(route.operation.id)
    };
    match fault {
        Some(Fault::Drop) => return Err(Dropped),
        Some(Fault::Status(status, message)) => return finish(Answer::message(status, message)),
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    if !body.is_empty() && request_body.is_none() {
        return finish(Answer::message(400, "The request body is not JSON"));
    }
    // The spec's checks come before anything changes.
    if checks.requests
        && let Some(problem) = check_request(route.operation.id, &route.params, &query, request_body.as_ref())
    {
        return finish(Answer::message(422, problem));
    }
    let mut answer = lock().handle(&route, &query, request_body.clone());
    if checks.wire_variants
        && (200..300).contains(&answer.status)
        && let Some(body) = &mut answer.body
    {
        crate::variants::apply(body);
    }
    // A success answer outside the spec is the fake's bug: say so rather than send it.
    if checks.answers
        && (200..300).contains(&answer.status)
        && let Some(body) = &answer.body
        && let Some(problem) = check_answer(route.operation.id, body)
    {
        answer = Answer::message(500, problem);
    }
    finish(answer)
}

/// Basic auth with the API key as user name and an empty password.
fn authorised(headers: &hyper::HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some(encoded) = value.strip_prefix("Basic ") else { return false };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return false };
    let decoded = String::from_utf8_lossy(&decoded);
    // The API key is the user name and the password is empty: `KEY:`.
    decoded.strip_suffix(':') == Some(api_key)
}

/// The vendor type (of version 2 when a version is named), `application/json` or
/// `*/*`; no `Accept` at all means anything.
fn acceptable(headers: &hyper::HeaderMap) -> bool {
    let Some(accept) = headers.get(hyper::header::ACCEPT) else { return true };
    let Ok(accept) = accept.to_str() else { return false };
    accept.split(',').any(|range| {
        let mut pieces = range.split(';').map(str::trim);
        let kind = pieces.next().unwrap_or("").to_ascii_lowercase();
        let version = pieces.find_map(|p| p.strip_prefix("version=")).map(|v| v.trim_matches('"'));
        match kind.as_str() {
            VENDOR => version.is_none_or(|v| v == "2"),
            "application/json" | "*/*" => true,
            _ => false,
        }
    })
}

fn respond(state: &mut State, answer: &Answer) -> Response<Full<Bytes>> {
    let Answer { status, body, headers } = answer;
    let bytes = body.as_ref().map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = hyper::StatusCode::from_u16(*status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    if body.is_some() {
        h.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/vnd.xplenty+json; charset=utf-8"),
        );
    }
    h.insert("x-ratelimit-limit", state.rate_limit.into());
    h.insert("x-ratelimit-remaining", state.remaining().into());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_str(value))
        {
            h.insert(name, value);
        }
    }
    response
}
