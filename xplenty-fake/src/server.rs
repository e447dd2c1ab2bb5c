//! HTTP on top of the state: authentication, content negotiation, the rate limit,
//! faults, checking requests and answers against the spec, and turning answers into
//! responses.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;

use crate::body::{Encoding, encoding};
use crate::route::{Found, route};
use crate::spec::operation_spec;
use crate::state::{Answer, Exchange, Fault, State};
use crate::validate::{canonical_body, check_answer, check_request};
use crate::webhook::refusal;

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

/// How much a connection may take: the body's size, and how long a connection may wait
/// for a request's headers (slow headers and idle keep-alive connections alike).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_body: usize,
    pub(crate) idle: Duration,
}

const VENDOR: &str = "application/vnd.xplenty+json";

/// Serves until the task is aborted; the connections live in a `JoinSet` owned by this
/// task, so aborting it also closes every open (keep-alive) connection.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<Mutex<State>>,
    api_key: String,
    checks: Checks,
    limits: Limits,
) {
    let api_key: Arc<str> = api_key.into();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors (EMFILE) and the like: the error repeats at once, so
            // wait for connections to close instead of spinning a core.
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Reap finished connections so a long-lived fake does not accumulate them.
        while connections.try_join_next().is_some() {}
        let (state, api_key) = (state.clone(), api_key.clone());
        connections.spawn(async move {
            let Some(stream) = first_line(stream, limits.idle).await else { return };
            let service = hyper::service::service_fn(move |request| {
                answer(request, state.clone(), api_key.clone(), checks, limits)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.idle)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// How long the accept loop waits after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Reads the first bytes of a connection and refuses a request line that is not text
/// (`METHOD TARGET HTTP/x.y` in printable ASCII) with a 400 that carries a `message`, as
/// every error of the API does; hyper would answer it with an empty 400. A later request
/// on a kept-alive connection gets hyper's own 400. `None` when the connection is done.
async fn first_line(mut stream: TcpStream, idle: Duration) -> Option<Prefixed> {
    let mut buffer = vec![0; 8192];
    let read = match tokio::time::timeout(idle, stream.read(&mut buffer)).await {
        Ok(Ok(read)) if read > 0 => read,
        _ => return None,
    };
    buffer.truncate(read);
    let line = buffer.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let complete = buffer.contains(&b'\n');
    let printable = line.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    let shaped = !complete || {
        let parts: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) && parts[2].starts_with(b"HTTP/")
    };
    if !(printable && shaped) {
        let body = serde_json::json!({"message": "Bad request: the request line is not HTTP"}).to_string();
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/vnd.xplenty+json; charset=utf-8\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        return None;
    }
    Some(Prefixed { prefix: buffer, at: 0, stream })
}

/// A connection whose first bytes were already read: they are read again first.
struct Prefixed {
    prefix: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.at);
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
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

/// The body, read only once the key, the route and the budget are settled.
enum Read {
    Bytes(Bytes),
    TooLarge,
    Short,
}

async fn read_body(body: Incoming, declared: Option<u64>, max: usize) -> Read {
    if declared.is_some_and(|length| length > max as u64) {
        return Read::TooLarge;
    }
    match http_body_util::Limited::new(body, max).collect().await {
        Ok(collected) => Read::Bytes(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Read::TooLarge,
        // The connection ended before the body did (shorter than its Content-Length).
        Err(_) => Read::Short,
    }
}

async fn answer(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    api_key: Arc<str>,
    checks: Checks,
    limits: Limits,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let account_id = lock().account_id.clone();
    let found = route(parts.method.as_str(), parts.uri.path(), &account_id);
    let operation = match &found {
        Found::Operation(r) => Some(r.operation.id),
        _ => None,
    };
    let mut request_body: Option<Value> = None;
    // Every answer goes through here, so the journal sees exactly what was sent.
    let finish = |answer: Answer, request_body: Option<Value>| {
        let mut state = lock();
        let response = respond(&mut state, &answer);
        state.journal.push(Exchange {
            operation,
            method: parts.method.to_string(),
            target: target.clone(),
            request_body,
            status: answer.status,
            response_body: answer.body,
        });
        Ok(response)
    };
    // RFC 9112 section 3.2: a server answers 400 to an HTTP/1.1 request without Host.
    if parts.version == hyper::Version::HTTP_11 && !parts.headers.contains_key(hyper::header::HOST) {
        return finish(Answer::message(400, "Bad request: HTTP/1.1 needs a Host header"), None);
    }
    // The key is checked before the body is read: a stranger cannot make the fake read.
    if !authorised(&parts.headers, &api_key) {
        return finish(Answer::message(401, "Authentication failed: give the API key as the Basic user name"), None);
    }
    if !acceptable(&parts.headers) {
        return finish(Answer::message(406, format!("Not acceptable: ask for {VENDOR}; version=2")), None);
    }
    let route = match found {
        Found::Operation(route) => route,
        Found::WrongMethod(allow) => {
            let allow = allow.join(", ");
            let message = format!("Method not allowed: this path takes {allow}");
            let mut answer = Answer::message(405, message);
            answer.headers.push(("allow".to_owned(), allow));
            return finish(answer, None);
        }
        Found::Nothing => return finish(Answer::message(404, "No such resource"), None),
    };
    // The one look-up of the operation's row; everything below is handed the row.
    let Some(spec) = operation_spec(route.operation.id) else {
        let message = format!("fake: {} is not in the spec it was built from", route.operation.id);
        return finish(Answer::message(500, message), None);
    };
    // The rate limit status is free of charge, as on the API.
    let free = route.operation.id == "get_rate_limit_status";
    let fault = {
        let mut state = lock();
        if !free && !state.spend() {
            drop(state);
            return finish(Answer::message(429, "Rate Limit Exceeded"), None);
        }
        state.take_fault(route.operation.id)
    };
    match fault {
        Some(Fault::Drop) => return Err(Dropped),
        Some(Fault::Status(status, message)) => return finish(Answer::message(status, message), None),
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = match read_body(body, declared, limits.max_body).await {
        Read::Bytes(bytes) => bytes,
        Read::TooLarge => {
            let message = format!("Request entity too large: the body is limited to {} bytes", limits.max_body);
            return finish(Answer::message(413, message), None);
        }
        Read::Short => {
            return finish(Answer::message(400, "Bad request: the body ended before its Content-Length"), None);
        }
    };
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let accepts = &spec.validation.accepts;
    if !body.is_empty() {
        let content_type = parts.headers.get(hyper::header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?"));
        request_body = match encoding(content_type) {
            Some(Encoding::Json) => match serde_json::from_slice::<Value>(&body) {
                Ok(value) => Some(value),
                Err(_) => return finish(Answer::message(400, "The request body is not JSON"), None),
            },
            Some(Encoding::Form) if accepts.form("form") => {
                let pairs = url::form_urlencoded::parse(&body).into_owned();
                Some(Value::Object(crate::body::nest(pairs)))
            }
            _ => {
                let message = "Unsupported media type: send the body as application/json";
                return finish(Answer::message(415, message), None);
            }
        };
    }
    // What the service reads: unwrapped, merged with a POST's query fields, and with the
    // tolerated spellings in their declared types before anything is checked.
    let mut read = request_body.clone();
    if !accepts.forms.is_empty() {
        let own = |name: &str| spec.validation.params.iter().any(|p| p.name == name);
        let writes = parts.method == hyper::Method::POST || parts.method == hyper::Method::PUT;
        let extra: Vec<(String, String)> =
            if writes { query.iter().filter(|(k, _)| !own(k)).cloned().collect() } else { Vec::new() };
        read = crate::body::accepted(accepts, read, extra);
        if let Some(value) = read.take() {
            match canonical_body(spec, value) {
                Ok(value) => read = Some(value),
                Err(problem) => return finish(Answer::message(422, problem), request_body),
            }
        }
    }
    // The spec's checks come before anything changes.
    if checks.requests
        && let Some(problem) = check_request(spec, &route.params, &query, read.as_ref())
    {
        return finish(Answer::message(422, problem), request_body);
    }
    // Stored in the declared types, whatever spelling came in.
    if let Some(value) = read.take() {
        match canonical_body(spec, value) {
            Ok(value) => read = Some(value),
            Err(problem) => return finish(Answer::message(422, problem), request_body),
        }
    }
    let mut answer = {
        let mut state = lock();
        // Checked here, under the same lock as the write, so the state stores only hooks
        // the web hooks will take.
        match refusal(route.operation.id, read.as_ref(), state.stored(&route)) {
            Some(refused) => Answer::message(422, refused),
            None => state.handle(&route, spec, &query, read),
        }
    };
    if checks.wire_variants
        && (200..300).contains(&answer.status)
        && let Some(body) = &mut answer.body
    {
        crate::variants::apply(body);
    }
    // A success answer outside the spec is the fake's bug: say so rather than send it.
    // Without the wire's variants it keeps to the spec as written, not as widened.
    if checks.answers
        && (200..300).contains(&answer.status)
        && let Some(body) = &answer.body
        && let Some(problem) = check_answer(spec, body, !checks.wire_variants)
    {
        answer = Answer::message(500, problem);
    }
    finish(answer, request_body)
}

/// Basic auth with the API key as user name (RFC 7617, the scheme in any case): `KEY:`
/// as the docs ask, or `KEY` without the colon as the official Python and Ruby clients
/// send it; a password is ignored.
fn authorised(headers: &hyper::HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return false };
    let Ok(decoded) = std::str::from_utf8(&decoded) else { return false };
    let user = decoded.split_once(':').map_or(decoded, |(user, _)| user);
    user == api_key
}

/// The vendor type (of version 2 when a version is named; also written without the `;`,
/// `application/vnd.xplenty+json version=2`, as the last official PyPI release sends it),
/// `application/json` or `*/*`; no `Accept` at all means anything.
fn acceptable(headers: &hyper::HeaderMap) -> bool {
    let Some(accept) = headers.get(hyper::header::ACCEPT) else { return true };
    let Ok(accept) = accept.to_str() else { return false };
    accept.split(',').any(|range| {
        let mut pieces = range.split(';').map(str::trim);
        let first = pieces.next().unwrap_or("").to_ascii_lowercase();
        // A range that starts with the vendor type is the vendor type, whatever follows
        // without a `;`.
        let (kind, glued) = match first.split_once(char::is_whitespace) {
            Some((kind, rest)) => (kind.to_owned(), Some(rest.trim().to_owned())),
            None => (first, None),
        };
        let version = glued
            .iter()
            .map(String::as_str)
            .chain(pieces)
            .find_map(|p| p.strip_prefix("version="))
            .map(|v| v.trim_matches('"').to_owned());
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
