//! One logical call: its context (the operation, and the record the `exec` hook writes
//! once its attempts end), and the conversion of progenitor's error into
//! [`crate::Error`] with that context.

use std::cell::RefCell;
use std::future::Future;

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::{Request, StatusCode};

use crate::meta::Operation;
use crate::{Client, Error, RateLimit, ResponseValue, types};

/// What the attempts of one call saw; read when the call fails.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallRecord {
    pub(crate) status: Option<StatusCode>,
    pub(crate) attempts: u32,
    pub(crate) rate_limit: Option<RateLimit>,
    /// `message` or `error_message` of a JSON error body.
    pub(crate) message: Option<String>,
    /// The start of an error body that was not JSON.
    pub(crate) body_excerpt: Option<String>,
    /// The last answer's `Retry-After`.
    pub(crate) retry_after: Option<std::time::Duration>,
    /// The last failure may be sent again safely (`retry::is_safe_to_retry`).
    pub(crate) retryable: bool,
    /// The answer passed the client's size limit, this many bytes, and was not read.
    pub(crate) too_large: Option<u64>,
    /// The request's credential, to be kept out of the error's text.
    pub(crate) redactor: crate::error::Redactor,
    /// The `Link` header values of the last answer, joined: a page whose items do not
    /// all decode still knows where the next page is.
    pub(crate) link: Option<String>,
}

/// The context of one call: the operation (settled at generation, handed in by the
/// generated `send`) and what its attempts saw, written once when they end.
struct Call {
    operation: &'static Operation,
    record: RefCell<CallRecord>,
}

tokio::task_local! {
    static CALL: Call;
}

/// The operation of the call `exec` runs in.
pub(crate) fn operation() -> Option<&'static Operation> {
    CALL.try_with(|call| call.operation).ok()
}

/// Stores what the attempts of the current call saw (no-op outside one).
pub(crate) fn finish(record: CallRecord) {
    let _ = CALL.try_with(|call| *call.record.borrow_mut() = record);
}

/// What a generated call returns.
pub(crate) type Generated<T> = Result<ResponseValue<T>, progenitor_client::Error<types::Error>>;

/// What every generated `send_raw` does once its request is built: the hooks around the
/// attempts, then the answer read as `T` when it has the documented `success` status, as
/// the API's error for 4xx and 5xx, and as unexpected otherwise.
pub(crate) async fn exchange<T: serde::de::DeserializeOwned>(
    client: &Client,
    request: Request,
    info: &OperationInfo,
    success: u16,
) -> Generated<T> {
    let response = respond(client, request, info).await?;
    refuse_too_large()?;
    decode(documented(response, success).await?).await
}

/// [`exchange`] for an operation documented to answer without a body.
pub(crate) async fn exchange_empty(
    client: &Client,
    request: Request,
    info: &OperationInfo,
    success: u16,
) -> Generated<()> {
    let response = respond(client, request, info).await?;
    refuse_too_large()?;
    Ok(ResponseValue::empty(documented(response, success).await?))
}

/// An answer past the size limit was not read: the call fails, whatever its status
/// (`Error::from_generated` reads why from the record).
#[allow(clippy::result_large_err)] // progenitor's error: what `exchange` returns anyway
fn refuse_too_large() -> Result<(), progenitor_client::Error<types::Error>> {
    if CALL.try_with(|call| call.record.borrow().too_large.is_some()).unwrap_or(false) {
        return Err(progenitor_client::Error::Custom("the answer is too large".to_owned()));
    }
    Ok(())
}

/// Reads a body up to `limit` bytes, chunk by chunk; `None` when it is longer (a
/// `Content-Length` above the limit is believed at once; a shorter one is not trusted).
pub(crate) async fn read_limited(
    headers: &reqwest::header::HeaderMap,
    mut body: reqwest::Body,
    limit: u64,
) -> reqwest::Result<Option<bytes::Bytes>> {
    use http_body_util::BodyExt as _;
    let declared = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Ok(None);
    }
    let room = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut collected = bytes::BytesMut::with_capacity(declared.map_or(0, |l| l as usize).min(room).min(1 << 20));
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        if data.len() > room.saturating_sub(collected.len()) {
            return Ok(None);
        }
        collected.extend_from_slice(&data);
    }
    Ok(Some(collected.freeze()))
}

/// The answer if it has the documented `success` status; otherwise the error its status
/// is: the API's error for 4xx and 5xx, unexpected for anything else.
async fn documented(
    response: reqwest::Response,
    success: u16,
) -> Result<reqwest::Response, progenitor_client::Error<types::Error>> {
    match response.status().as_u16() {
        status if status == success => Ok(response),
        400..=599 => Err(progenitor_client::Error::ErrorResponse(decode(response).await?)),
        _ => Err(progenitor_client::Error::UnexpectedResponse(response)),
    }
}

/// What progenitor's `ResponseValue::from_response` does, with the headers moved out of
/// the answer instead of copied.
async fn decode<T: serde::de::DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, progenitor_client::Error<E>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await.map_err(progenitor_client::Error::ResponseBodyError)?;
    match serde_json::from_slice(&body) {
        Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
        Err(e) => Err(progenitor_client::Error::InvalidResponsePayload(body, e)),
    }
}

/// The hooks in progenitor's order: `pre`, `exec` (the attempts), `post`.
async fn respond(
    client: &Client,
    mut request: Request,
    info: &OperationInfo,
) -> Result<reqwest::Response, progenitor_client::Error<types::Error>> {
    client.pre(&mut request, info).await?;
    let result = client.exec(request, info).await;
    client.post(&result, info).await?;
    Ok(result?)
}

/// Runs one generated call and converts its error, naming the operation. The answer is
/// returned from inside the call's scope rather than through [`recorded`]'s pair: it is
/// large (`ResponseValue<Cluster>` is over a kilobyte), and each layer moves it.
pub(crate) async fn send<T>(
    operation: &'static Operation,
    call: impl Future<Output = Generated<T>>,
) -> Result<ResponseValue<T>, Error> {
    in_call(operation, async move {
        call.await.map_err(|error| Error::from_generated(operation.id, error, CALL.with(|call| call.record.take())))
    })
    .await
}

/// Runs one generated call and hands back what its attempts saw beside its result.
pub(crate) async fn recorded<T>(
    operation: &'static Operation,
    call: impl Future<Output = Generated<T>>,
) -> (Generated<T>, CallRecord) {
    in_call(operation, async move {
        let result = call.await;
        (result, CALL.with(|call| call.record.take()))
    })
    .await
}

/// Runs `work` as one call of `operation`, with an empty record for its attempts.
fn in_call<F: Future>(operation: &'static Operation, work: F) -> impl Future<Output = F::Output> {
    CALL.scope(Call { operation, record: RefCell::new(CallRecord::default()) }, work)
}
