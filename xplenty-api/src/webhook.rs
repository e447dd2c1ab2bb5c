//! Receiving web hook notifications: check the `X-Hook-Signature` header and decode the
//! body into a typed [`WebhookEvent`].
//!
//! The API signs a notification with the lowercase hex SHA-1 of the hook's id, the event
//! name, the hook's URL and its salt, concatenated. The signature does not cover the body's
//! resource: it proves the sender knows the salt, not that the resource is current, so
//! read the job or cluster again before acting on anything costly.
//!
//! ```
//! use xplenty_api::webhook::{WebhookResource, WebhookVerifier, signature};
//!
//! let verifier = WebhookVerifier::new("http://127.0.0.1:9000/hooks", "s3cret");
//! let body = br#"{"event": "job.completed", "hook_id": 17, "resource": {"id": 90211, "status": "completed"}}"#;
//! let header = signature(17, "job.completed", "http://127.0.0.1:9000/hooks", "s3cret");
//! let event = verifier.verify(Some(&header), body).unwrap();
//! assert!(matches!(event.resource, WebhookResource::Job(job) if job.id == 90211));
//! assert!(verifier.verify(Some("0000"), body).is_err());
//! ```

use std::fmt;

use serde::Deserialize;
use sha1::{Digest as _, Sha1};
use subtle::ConstantTimeEq as _;

use crate::types::{Cluster, HookEvent, Job};

/// The header that carries a notification's signature.
pub const SIGNATURE_HEADER: &str = "X-Hook-Signature";

/// The signature the API sends: lowercase hex SHA-1 of `{hook_id}{event}{url}{salt}`.
pub fn signature(hook_id: u64, event: &str, url: &str, salt: &str) -> String {
    let digest = Sha1::digest(format!("{hook_id}{event}{url}{salt}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `received` is the signature of these values, compared in constant time
/// (hex digits of either case are accepted).
pub fn verify_signature(received: &str, hook_id: u64, event: &str, url: &str, salt: &str) -> bool {
    let expected = signature(hook_id, event, url, salt);
    let received = received.trim().to_ascii_lowercase();
    bool::from(received.as_bytes().ct_eq(expected.as_bytes()))
}

/// One notification, checked and decoded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// Such as [`HookEvent::JobCompleted`].
    pub event: HookEvent,
    pub hook_id: u64,
    /// The job or cluster as the API read it when it sent the notification.
    pub resource: WebhookResource,
}

/// What a notification is about.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WebhookResource {
    Job(Box<Job>),
    Cluster(Box<Cluster>),
    /// An event of a kind this version does not know, as sent.
    Other(serde_json::Value),
}

/// Why a notification was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `X-Hook-Signature` header.
    MissingSignature,
    /// The signature is not the one of this hook's URL and salt.
    BadSignature,
    /// The notification is from another hook than the one expected.
    UnexpectedHook { hook_id: u64 },
    /// The body is not a notification: `{"event", "hook_id", "resource"}`.
    Body(serde_json::Error),
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::MissingSignature => write!(f, "the notification has no {SIGNATURE_HEADER} header"),
            WebhookError::BadSignature => write!(f, "the notification's {SIGNATURE_HEADER} does not match"),
            WebhookError::UnexpectedHook { hook_id } => write!(f, "the notification is from hook {hook_id}"),
            WebhookError::Body(_) => f.write_str("the notification's body does not decode"),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebhookError::Body(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Notification {
    event: String,
    #[serde(deserialize_with = "id_or_text")]
    hook_id: u64,
    resource: serde_json::Value,
}

/// Ids arrive as numbers or as numeric text.
fn id_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(deserializer)? {
        Id::Number(n) => Ok(n),
        Id::Text(t) => t.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Checks and decodes the notifications of one hook: its `settings.url` exactly as
/// configured, and its salt.
#[derive(Clone)]
pub struct WebhookVerifier {
    url: String,
    salt: String,
    hook_id: Option<u64>,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The salt is a secret.
        f.debug_struct("WebhookVerifier")
            .field("url", &self.url)
            .field("hook_id", &self.hook_id)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    pub fn new(url: impl Into<String>, salt: impl Into<String>) -> Self {
        WebhookVerifier { url: url.into(), salt: salt.into(), hook_id: None }
    }

    /// Refuse notifications of any other hook.
    pub fn hook_id(mut self, hook_id: u64) -> Self {
        self.hook_id = Some(hook_id);
        self
    }

    /// Checks the signature header's value against the body's hook id and event, then
    /// decodes the resource (a job for `job.*` events, a cluster for `cluster.*`).
    pub fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        let signature = signature.ok_or(WebhookError::MissingSignature)?;
        let notification: Notification = serde_json::from_slice(body).map_err(WebhookError::Body)?;
        if self.hook_id.is_some_and(|id| id != notification.hook_id) {
            return Err(WebhookError::UnexpectedHook { hook_id: notification.hook_id });
        }
        if !verify_signature(signature, notification.hook_id, &notification.event, &self.url, &self.salt) {
            return Err(WebhookError::BadSignature);
        }
        let event = HookEvent::from(notification.event.as_str());
        let kind = notification.event.split('.').next().unwrap_or_default();
        let resource = match kind {
            "job" => WebhookResource::Job(Box::new(
                serde_json::from_value(notification.resource).map_err(WebhookError::Body)?,
            )),
            "cluster" => WebhookResource::Cluster(Box::new(
                serde_json::from_value(notification.resource).map_err(WebhookError::Body)?,
            )),
            _ => WebhookResource::Other(notification.resource),
        };
        Ok(WebhookEvent { event, hook_id: notification.hook_id, resource })
    }

    /// [`verify`](Self::verify) reading the signature from request headers.
    pub fn verify_request(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        self.verify(signature, body)
    }
}
