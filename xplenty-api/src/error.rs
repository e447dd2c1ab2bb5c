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
    attempts: u32,
    /// For one item of a list page that did not decode: its offset in the list.
    item_offset: Option<u64>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// How much of an undecodable body an error keeps.
const EXCERPT_CHARS: usize = 200;

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

    /// Whether the same call may succeed later: 429, 502, 503, 504, transport failures
    /// and timeouts.
    pub fn is_retryable(&self) -> bool {
        match self.0.kind {
            ErrorKind::Status => self.0.status.is_some_and(|s| crate::retry::is_retryable_status(s.as_u16())),
            ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Decode | ErrorKind::InvalidRequest => false,
        }
    }

    fn new(kind: ErrorKind, operation: &'static str, record: CallRecord) -> Self {
        Error(Box::new(Inner {
            kind,
            operation,
            status: record.status,
            message: record.message,
            rate_limit: record.rate_limit,
            body_excerpt: record.body_excerpt,
            attempts: record.attempts,
            item_offset: None,
            source: None,
        }))
    }

    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
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

    /// An error of a call that was never sent.
    pub(crate) fn invalid_request(operation: &'static str, message: String) -> Self {
        let record = CallRecord { message: Some(message), ..CallRecord::default() };
        Error::new(ErrorKind::InvalidRequest, operation, record)
    }

    pub(crate) fn from_generated(
        operation: &'static str,
        error: progenitor_client::Error<crate::types::Error>,
        mut record: CallRecord,
    ) -> Self {
        use progenitor_client::Error as E;
        let transport = |e: &reqwest::Error| if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
        match error {
            E::InvalidRequest(message) | E::Custom(message) => {
                record.message = Some(message);
                Error::new(ErrorKind::InvalidRequest, operation, record)
            }
            E::CommunicationError(e) | E::InvalidUpgrade(e) | E::ResponseBodyError(e) => {
                record.status = record.status.or(e.status());
                Error::new(transport(&e), operation, record).with_source(e)
            }
            // `exec` read the status, the rate limit and the error body into the record,
            // and left `{}` in the body: nothing here reads the answer again.
            E::ErrorResponse(_) | E::UnexpectedResponse(_) => Error::new(ErrorKind::Status, operation, record),
            E::InvalidResponsePayload(bytes, e) => {
                record.body_excerpt = Some(excerpt(&bytes));
                Error::new(ErrorKind::Decode, operation, record).with_source(e)
            }
        }
    }
}

/// The first characters of a body, lossily decoded, for messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 4)];
    String::from_utf8_lossy(head).chars().take(EXCERPT_CHARS).collect()
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
                    write!(f, ": {message}")?;
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
