//! One logical call: the context the `exec` hook fills in while attempts run, and the
//! conversion of progenitor's error into [`crate::Error`] with that context.

use std::cell::RefCell;
use std::future::Future;

use reqwest::StatusCode;

use crate::{Error, RateLimit, ResponseValue, types};

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
    /// The `Link` header values of the last answer, joined: a page whose items do not
    /// all decode still knows where the next page is.
    pub(crate) link: Option<String>,
}

tokio::task_local! {
    static CALL: RefCell<CallRecord>;
}

/// Lets `exec` update the record of the call it runs in (no-op outside one).
pub(crate) fn record(update: impl FnOnce(&mut CallRecord)) {
    let _ = CALL.try_with(|record| update(&mut record.borrow_mut()));
}

/// What a generated call returns.
pub(crate) type Generated<T> = Result<ResponseValue<T>, progenitor_client::Error<types::Error>>;

/// Runs one generated call and converts its error, naming the operation.
pub async fn send<T>(
    operation: &'static str,
    call: impl Future<Output = Generated<T>>,
) -> Result<ResponseValue<T>, Error> {
    match recorded(call).await {
        (Ok(response), _) => Ok(response),
        (Err(error), record) => Err(Error::from_generated(operation, error, record)),
    }
}

/// Runs one generated call and hands back what its attempts saw beside its result.
pub(crate) async fn recorded<T>(call: impl Future<Output = Generated<T>>) -> (Generated<T>, CallRecord) {
    CALL.scope(RefCell::new(CallRecord::default()), async move {
        let result = call.await;
        (result, CALL.with(|record| record.take()))
    })
    .await
}
