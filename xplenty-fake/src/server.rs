//! HTTP on top of the state: authentication, content negotiation, the rate limit,
//! faults, and turning answers into responses.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::route::route;
use crate::state::{Answer, Fault, State};

const VENDOR: &str = "application/vnd.xplenty+json";

pub(crate) async fn serve(listener: tokio::net::TcpListener, state: Arc<Mutex<State>>, api_key: String) {
    let api_key: Arc<str> = api_key.into();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (state, api_key) = (state.clone(), api_key.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(request, state.clone(), api_key.clone()));
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
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    if !authorised(&parts.headers, &api_key) {
        return Ok(respond(
            &lock(),
            Answer::message(401, "Authentication failed: give the API key as the Basic user name"),
        ));
    }
    if !acceptable(&parts.headers) {
        return Ok(respond(&lock(), Answer::message(406, format!("Not acceptable: ask for {VENDOR}; version=2"))));
    }
    let account_id = lock().account_id.clone();
    let Some(route) = route(parts.method.as_str(), parts.uri.path(), &account_id) else {
        return Ok(respond(&lock(), Answer::message(404, "No such resource")));
    };
    let free = route.operation.id == "get_rate_limit_status";
    let fault = {
        let mut state = lock();
        if !free {
            if state.calls >= state.rate_limit {
                return Ok(respond(&state, Answer::message(429, "Rate Limit Exceeded")));
            }
            state.calls += 1;
        }
        state.take_fault(route.operation.id)
    };
    match fault {
        Some(Fault::Drop) => return Err(Dropped),
        Some(Fault::Status(status, message)) => return Ok(respond(&lock(), Answer::message(status, message))),
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let body = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => Some(value),
            Err(e) => return Ok(respond(&lock(), Answer::message(422, format!("the body is not JSON: {e}")))),
        }
    };
    let mut state = lock();
    let answer = state.handle(&route, &query, body);
    Ok(respond(&state, answer))
}

/// Basic auth with the API key as user name and an empty (or any) password.
fn authorised(headers: &hyper::HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some(encoded) = value.strip_prefix("Basic ") else { return false };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return false };
    let decoded = String::from_utf8_lossy(&decoded);
    decoded.split(':').next() == Some(api_key)
}

fn acceptable(headers: &hyper::HeaderMap) -> bool {
    let Some(accept) = headers.get(hyper::header::ACCEPT).and_then(|v| v.to_str().ok()) else { return true };
    accept.split(',').any(|kind| {
        let kind = kind.split(';').next().unwrap_or("").trim();
        kind == VENDOR || kind == "application/json" || kind == "*/*" || kind == "application/*"
    })
}

fn respond(state: &State, answer: Answer) -> Response<Full<Bytes>> {
    let Answer { status, body, headers } = answer;
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/vnd.xplenty+json; charset=utf-8"),
    );
    h.insert("x-ratelimit-limit", state.rate_limit.into());
    h.insert("x-ratelimit-remaining", state.rate_limit.saturating_sub(state.calls).into());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_str(&value))
        {
            h.insert(name, value);
        }
    }
    response
}
