use std::fmt;

use reqwest::StatusCode;

use crate::RateLimit;
use crate::call::CallRecord;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with a status that is not a success.
    Status,
    /// No connection could be made, or it broke before the answer was complete.
    Transport,
    /// An attempt took longer than the client's timeout.
    Timeout,
    /// The answer could not be decoded into the documented type.
    Decode,
    /// The call was not sent: a required parameter is missing or does not convert.
    InvalidRequest,
    /// The answer was longer than the client's limit
    /// ([`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size)) and
    /// was not read.
    TooLarge,
    /// A list's `Link` header pointed at a page the stream had already read (or at an
    /// offset past the largest number): the stream ends here instead of looping.
    Pagination,
}

/// The error of every call. Match on [`Error::kind`] and read the rest through the
/// accessors; no progenitor or reqwest type needs to be named.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    operation: &'static str,
    status: Option<StatusCode>,
    message: Option<String>,
    rate_limit: Option<RateLimit>,
    body_excerpt: Option<String>,
    retry_after: Option<std::time::Duration>,
    retryable: bool,
    too_large: Option<u64>,
    attempts: u32,
    redactor: Redactor,
    /// For one item of a list page that did not decode: its offset in the list.
    item_offset: Option<u64>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// How much of an undecodable body an error keeps.
const EXCERPT_CHARS: usize = 200;

/// How much of the API's message `Display` shows; [`Error::message`] has it whole.
const DISPLAY_MESSAGE_CHARS: usize = 300;

/// How much of a body is kept for an excerpt before the credential is taken out: more
/// than [`EXCERPT_CHARS`], so a key cut at the edge is still found whole.
const EXCERPT_WINDOW: usize = 4096;

/// The request's credential in the spellings a server could echo (the API key, the
/// base64 of `key:`, the whole `Authorization` value), replaced by `[redacted]` in every
/// text an error keeps. Its `Debug` shows none of them.
#[derive(Clone, Default)]
pub(crate) struct Redactor(Option<std::sync::Arc<[String]>>);

impl Redactor {
    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first, so `Basic <b64>` goes whole before `<b64>` alone.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor((!secrets.is_empty()).then(|| secrets.into()))
    }

    pub(crate) fn apply(&self, text: String) -> String {
        let Some(secrets) = &self.0 else { return text };
        secrets.iter().fold(text, |text, secret| {
            if text.contains(secret.as_str()) { text.replace(secret.as_str(), "[redacted]") } else { text }
        })
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

/// A source error whose text named the credential, kept as its redacted text.
#[derive(Debug)]
struct RedactedSource(String);

impl fmt::Display for RedactedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedSource {}

/// At most `chars` characters of `text`, with `…` when cut.
fn shortened(text: &str, chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The operation id of the call, such as `get_cluster`.
    pub fn operation(&self) -> &'static str {
        self.0.operation
    }

    /// The HTTP status of the last answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status.map(|s| s.as_u16())
    }

    /// The API's own explanation: `message`, or `error_message` for the connection
    /// test calls. For other kinds, what failed.
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The `X-RateLimit-*` figures of the last answer.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.0.rate_limit
    }

    /// For a 422 (the API's "Unprocessable Entity": a parameter or field it would not
    /// take), the API's message saying which; `None` for any other error. The same text
    /// as [`Error::message`], offered where it is data a caller shows or checks.
    pub fn validation_message(&self) -> Option<&str> {
        self.message().filter(|_| self.is_validation())
    }

    /// How long the server asked the caller to wait (`Retry-After` of the last answer),
    /// as sent: with a 429 that ended the call because the wait was longer than the
    /// retry policy allows, this says when to try again.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.0.retry_after
    }

    /// The server answered 404: the resource does not exist (or is not visible to this
    /// key).
    pub fn is_not_found(&self) -> bool {
        self.is_status(StatusCode::NOT_FOUND)
    }

    /// The server answered 401: the API key was not accepted.
    pub fn is_unauthorized(&self) -> bool {
        self.is_status(StatusCode::UNAUTHORIZED)
    }

    /// The server answered 429: the hourly rate limit is used up; see
    /// [`Error::retry_after`] and [`Error::rate_limit`].
    pub fn is_rate_limited(&self) -> bool {
        self.is_status(StatusCode::TOO_MANY_REQUESTS)
    }

    /// The server answered 422: it would not take a parameter or field; see
    /// [`Error::validation_message`].
    pub fn is_validation(&self) -> bool {
        self.is_status(StatusCode::UNPROCESSABLE_ENTITY)
    }

    fn is_status(&self, status: StatusCode) -> bool {
        self.0.kind == ErrorKind::Status && self.0.status == Some(status)
    }

    /// The start of a body that could not be read as the API's JSON.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.0.body_excerpt.as_deref()
    }

    /// For a [`ErrorKind::Decode`] error of one item of a streamed list: the item's
    /// offset in the list. The stream goes on after such an error.
    pub fn item_offset(&self) -> Option<u64> {
        self.0.item_offset
    }

    /// Attempts made, retries included.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Whether sending the same call again is safe and may succeed: the rule the client's
    /// own retries follow. For GET, PUT and DELETE: a 429, 502, 503 or 504, a connection
    /// that was never made, a timeout, or a connection that broke. For POST, only where
    /// the server cannot have acted on the call: a connection that was never made, or a
    /// 429 (the API's docs describe it as a refusal of the call). A POST that timed out or
    /// got a 502, 503 or 504 may have created its job or cluster: `false`, and a retry
    /// may make a second one. Decode, too-large, pagination and invalid-request errors:
    /// `false`.
    pub fn is_retryable(&self) -> bool {
        self.0.retryable && matches!(self.0.kind, ErrorKind::Status | ErrorKind::Transport | ErrorKind::Timeout)
    }

    pub(crate) fn new(kind: ErrorKind, operation: &'static str, record: CallRecord) -> Self {
        let redactor = &record.redactor;
        Error(Box::new(Inner {
            kind,
            operation,
            status: record.status,
            message: record.message.map(|m| redactor.apply(m)),
            rate_limit: record.rate_limit,
            body_excerpt: record.body_excerpt.map(|b| redactor.apply(b).chars().take(EXCERPT_CHARS).collect()),
            retry_after: record.retry_after,
            retryable: record.retryable,
            too_large: record.too_large,
            attempts: record.attempts,
            redactor: record.redactor.clone(),
            item_offset: None,
            source: None,
        }))
    }

    /// Keeps `source`, unless its words carry the credential (a decoder quotes the value
    /// it could not read): then only its redacted text is kept.
    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        let (shown, debug) = (source.to_string(), format!("{source:?}"));
        let redacted = self.0.redactor.apply(shown.clone());
        self.0.source = if redacted != shown || self.0.redactor.apply(debug.clone()) != debug {
            Some(Box::new(RedactedSource(redacted)))
        } else {
            Some(Box::new(source))
        };
        self
    }

    /// One item of a list page that did not decode into its type.
    pub(crate) fn item(
        operation: &'static str,
        offset: u64,
        item: &[u8],
        source: serde_json::Error,
        record: &CallRecord,
    ) -> Self {
        let record = CallRecord { body_excerpt: Some(excerpt(item)), ..record.clone() };
        let mut error = Error::new(ErrorKind::Decode, operation, record).with_source(source);
        error.0.item_offset = Some(offset);
        error
    }

    /// A list whose next page would repeat one already read, or lie past the largest
    /// offset: `why` says which.
    pub(crate) fn pagination(operation: &'static str, why: String, record: &CallRecord) -> Self {
        let record = CallRecord { message: Some(why), retryable: false, ..record.clone() };
        Error::new(ErrorKind::Pagination, operation, record)
    }

    /// An error of a call that was never sent.
    pub(crate) fn invalid_request(operation: &'static str, message: String) -> Self {
        let record = CallRecord { message: Some(message), ..CallRecord::default() };
        Error::new(ErrorKind::InvalidRequest, operation, record)
    }

    /// A request the generated builder could not build (a setter's value that did not
    /// convert, a URL reqwest refused): never sent.
    pub(crate) fn unsent(operation: &'static str, error: progenitor_client::Error<crate::types::Error>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::InvalidRequest(message) | E::Custom(message) => Error::invalid_request(operation, message),
            E::CommunicationError(e) => Error::invalid_request(operation, e.to_string()).with_source(e),
            other => Error::invalid_request(operation, other.to_string()),
        }
    }

    /// No answer: the connection failed, broke, or timed out.
    pub(crate) fn transport(operation: &'static str, error: reqwest::Error, mut record: CallRecord) -> Self {
        let kind = if error.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
        record.status = record.status.or(error.status());
        Error::new(kind, operation, record).with_source(error)
    }

    /// An answer with the documented status whose body is not the documented type.
    pub(crate) fn decode(operation: &'static str, body: &[u8], source: serde_json::Error, record: CallRecord) -> Self {
        let record = CallRecord { body_excerpt: Some(excerpt(body)), ..record };
        Error::new(ErrorKind::Decode, operation, record).with_source(source)
    }
}

/// The start of a body, lossily decoded, for messages. Longer than an error keeps:
/// the error takes the credential out first, then cuts it to its length.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(EXCERPT_WINDOW)];
    String::from_utf8_lossy(head).into_owned()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        write!(f, "{}: ", inner.operation)?;
        let status = |f: &mut fmt::Formatter<'_>| match inner.status {
            Some(s) => match s.canonical_reason() {
                Some(reason) => write!(f, "HTTP {} {reason}", s.as_u16()),
                None => write!(f, "HTTP {}", s.as_u16()),
            },
            None => f.write_str("the answer"),
        };
        match inner.kind {
            ErrorKind::Status => {
                status(f)?;
                if let Some(message) = &inner.message {
                    write!(f, ": {}", shortened(message, DISPLAY_MESSAGE_CHARS))?;
                } else if let Some(body) = inner.body_excerpt.as_deref().filter(|b| !b.trim().is_empty()) {
                    write!(f, " (body: {body:?})")?;
                }
            }
            ErrorKind::Decode => {
                if let Some(offset) = inner.item_offset {
                    write!(f, "the item at offset {offset} of ")?;
                }
                status(f)?;
                // The decoder's own words are the source's; Display does not repeat them.
                f.write_str(" could not be decoded")?;
                if let Some(body) = &inner.body_excerpt {
                    write!(f, " (body: {body:?})")?;
                }
            }
            ErrorKind::Transport | ErrorKind::Timeout => {
                // What reqwest saw is the source; Display does not repeat it.
                f.write_str(if inner.kind == ErrorKind::Timeout { "timed out" } else { "connection failed" })?;
            }
            ErrorKind::InvalidRequest => {
                write!(f, "invalid request: {}", inner.message.as_deref().unwrap_or("rejected before sending"))?;
            }
            ErrorKind::TooLarge => {
                status(f)?;
                let limit = inner.too_large.unwrap_or_default();
                write!(f, " is larger than the client's limit of {limit} bytes (ClientBuilder::max_response_size)")?;
            }
            ErrorKind::Pagination => {
                write!(f, "paging stopped: {}", inner.message.as_deref().unwrap_or("the next page was already read"))?;
            }
        }
        if inner.attempts > 1 {
            write!(f, " (after {} attempts)", inner.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        f.debug_struct("Error")
            .field("kind", &inner.kind)
            .field("operation", &inner.operation)
            .field("status", &inner.status)
            .field("message", &inner.message)
            .field("rate_limit", &inner.rate_limit)
            .field("body_excerpt", &inner.body_excerpt)
            .field("retry_after", &inner.retry_after)
            .field("retryable", &inner.retryable)
            .field("too_large", &inner.too_large)
            .field("attempts", &inner.attempts)
            .field("item_offset", &inner.item_offset)
            .field("source", &inner.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}
