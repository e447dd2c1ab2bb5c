//! One call, one way through: the generated code builds the request and names its
//! operation's row; [`send`] hands both to the attempt loop (`attempts.rs`), which returns
//! the answer and the call's record as plain values, and reads the answer as the row
//! documents it (its success status, with or without a body).

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Request, StatusCode};
use serde::de::DeserializeOwned;

use crate::meta::Operation;
use crate::{Client, Error, ErrorKind, RateLimit, ResponseValue, types};

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

/// An answer, its body read whole (up to the client's size limit).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// What generated code hands the runtime: the request it built, or why it could not.
pub(crate) type Built = Result<Request, progenitor_client::Error<types::Error>>;

/// Every generated `send`: the call of `operation` with the request the builder built,
/// its answer decoded as `T`.
pub(crate) async fn send<T: DeserializeOwned>(
    client: &Client,
    operation: &'static Operation,
    request: Built,
) -> Result<ResponseValue<T>, Error> {
    let (answer, record) = exchange(client, operation, request).await?;
    decode(operation, answer, record)
}

/// Sends the request and returns the answer when it has the documented status, with the
/// record of the call; any other outcome is the call's [`Error`]. Not generic, so the
/// attempts compile once, not once per answer type.
pub(crate) async fn exchange(
    client: &Client,
    operation: &'static Operation,
    request: Built,
) -> Result<(Answer, CallRecord), Error> {
    let request = request.map_err(|error| Error::unsent(operation.id, error))?;
    let (outcome, record) = client.attempts(request, operation).await;
    if record.too_large.is_some() {
        return Err(Error::new(ErrorKind::TooLarge, operation.id, record));
    }
    match outcome {
        Err(error) => Err(Error::transport(operation.id, error, record)),
        Ok(answer) if answer.status.as_u16() == operation.status => Ok((answer, record)),
        // The API's error for 4xx and 5xx, an unexpected answer otherwise: the attempts
        // read its status, message and rate limit into the record.
        Ok(_) => Err(Error::new(ErrorKind::Status, operation.id, record)),
    }
}

/// The answer read as `T`: its JSON body, or `()` for an operation documented to answer
/// without one (the body, if any, is not read).
pub(crate) fn decode<T: DeserializeOwned>(
    operation: &'static Operation,
    answer: Answer,
    record: CallRecord,
) -> Result<ResponseValue<T>, Error> {
    let decoded = if operation.answers_body {
        serde_json::from_slice(&answer.body)
    } else {
        T::deserialize(serde_json::Value::Null)
    };
    match decoded {
        Ok(inner) => Ok(ResponseValue::new(inner, answer.status, answer.headers)),
        Err(error) => Err(Error::decode(operation.id, &answer.body, error, record)),
    }
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
