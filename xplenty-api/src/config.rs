//! Building a client: `Client::new`, `Client::from_env` and `Client::builder`.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::HeaderValue;

use crate::error::Redactor;
use crate::rate_limit::LastRateLimit;
use crate::state::ClientState;
use crate::state::Shared;
use crate::{Client, DEFAULT_BASE_URL, RateBudget, RetryPolicy};

/// Why a client could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable `from_env` needs is unset or not Unicode.
    MissingEnv(&'static str),
    /// The account id is empty.
    EmptyAccountId,
    /// The account id is only whitespace, starts or ends with whitespace, or holds a
    /// control character (often a stray newline read from a file); `reason` says which.
    InvalidAccountId { reason: &'static str },
    /// The API key is empty, only whitespace, or holds whitespace or a control character
    /// (often a trailing newline read from a file); `reason` says which. Checked when
    /// the client is built, so a bad key never reaches the server as a bare 401.
    InvalidApiKey { reason: &'static str },
    /// The base URL does not parse, or is not http(s).
    InvalidBaseUrl { url: String, reason: String },
    /// Plain `http` to a host that is not loopback would send the key unencrypted.
    InsecureBaseUrl { url: String },
    /// The HTTP client could not be built (TLS backend, proxy settings); the source says
    /// why.
    Http(HttpError),
    /// An `https` base URL, but this build has no TLS: enable the `rustls` feature or
    /// give a client of your own with [`ClientBuilder::http_client`].
    TlsUnavailable { url: String },
    /// The user agent is not a valid header value.
    InvalidUserAgent,
}

/// Why the HTTP client could not be built: opaque, its [`source`](std::error::Error::source)
/// is the HTTP library's error.
#[derive(Debug)]
pub struct HttpError(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the HTTP client rejected its settings")
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingEnv(name) => write!(f, "environment variable {name} is not set"),
            ConfigError::EmptyAccountId => f.write_str("the account id is empty"),
            ConfigError::InvalidAccountId { reason } => write!(f, "invalid account id: {reason}"),
            ConfigError::InvalidApiKey { reason } => write!(f, "invalid API key: {reason}"),
            ConfigError::InvalidBaseUrl { url, reason } => write!(f, "invalid base URL {url:?}: {reason}"),
            ConfigError::InsecureBaseUrl { url } => write!(
                f,
                "refusing plain http base URL {url:?}: the API key would travel unencrypted \
                 (use https, a loopback host, or ClientBuilder::allow_insecure_http)"
            ),
            // The cause is the source; Display does not repeat it.
            ConfigError::Http(_) => f.write_str("cannot build the HTTP client"),
            ConfigError::TlsUnavailable { url } => write!(
                f,
                "base URL {url:?} needs TLS, but xplenty-api was built without its `rustls` feature \
                 (enable it, or give a client with ClientBuilder::http_client)"
            ),
            ConfigError::InvalidUserAgent => f.write_str("the user agent is not a valid header value"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Http(e) => Some(e),
            ConfigError::MissingEnv(_)
            | ConfigError::EmptyAccountId
            | ConfigError::InvalidAccountId { .. }
            | ConfigError::InvalidApiKey { .. }
            | ConfigError::InvalidBaseUrl { .. }
            | ConfigError::InsecureBaseUrl { .. }
            | ConfigError::TlsUnavailable { .. }
            | ConfigError::InvalidUserAgent => None,
        }
    }
}

impl Client {
    /// A client for one account, with the production base URL and default settings.
    ///
    /// `account_id` is the account's string id (its slug, as in the web app's URLs);
    /// every account-scoped call uses it, so no call asks for it again.
    pub fn new(account_id: impl Into<String>, api_key: impl AsRef<str>) -> Result<Client, ConfigError> {
        Client::builder(account_id, api_key).build()
    }

    /// Reads `XPLENTY_ACCOUNT_ID`, `XPLENTY_API_KEY` and, when set, `XPLENTY_BASE_URL`.
    pub fn from_env() -> Result<Client, ConfigError> {
        ClientBuilder::from_env()?.build()
    }

    /// A builder for the settings `new` leaves at their defaults.
    pub fn builder(account_id: impl Into<String>, api_key: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder::new(account_id, api_key)
    }

    /// The account every account-scoped call goes to.
    pub fn account_id(&self) -> &str {
        self.inner.account_id()
    }

    /// The `X-RateLimit-*` figures of the last response that carried them.
    pub fn rate_limit(&self) -> Option<crate::RateLimit> {
        self.inner.rate_limit()
    }
}

/// Settings of a [`Client`]. The API key is only kept as the (sensitive) header value.
pub struct ClientBuilder {
    account_id: String,
    /// The header value and the credential's spellings, or why the key is refused.
    authorization: Result<(HeaderValue, Redactor), &'static str>,
    max_response_size: u64,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    /// `None`: ours on our own client, the caller's on theirs.
    user_agent: Option<String>,
    retry: RetryPolicy,
    budget: Option<RateBudget>,
    allow_insecure_http: bool,
    http_client: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("account_id", &self.account_id)
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response_size", &self.max_response_size)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("budget", &self.budget)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("http_client", &self.http_client.as_ref().map(|_| "<caller's>"))
            .finish()
    }
}

impl ClientBuilder {
    pub fn new(account_id: impl Into<String>, api_key: impl AsRef<str>) -> Self {
        ClientBuilder {
            account_id: account_id.into(),
            authorization: basic_auth(api_key.as_ref()),
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            user_agent: None,
            retry: RetryPolicy::default(),
            budget: Some(RateBudget::xplenty_default()),
            allow_insecure_http: false,
            http_client: None,
        }
    }

    /// `XPLENTY_ACCOUNT_ID`, `XPLENTY_API_KEY` and, when set, `XPLENTY_BASE_URL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &'static str| std::env::var(name).map_err(|_| ConfigError::MissingEnv(name));
        let mut builder = ClientBuilder::new(var("XPLENTY_ACCOUNT_ID")?, var("XPLENTY_API_KEY")?);
        if let Ok(base_url) = std::env::var("XPLENTY_BASE_URL") {
            builder = builder.base_url(base_url);
        }
        Ok(builder)
    }

    /// The host the API lives on, `https://api.xplenty.com` by default; tests point it
    /// at a local server.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// How long to wait for a connection (10 s by default). Not applied to a client
    /// given with [`http_client`](Self::http_client): connections are its business.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the end of the body (60 s by
    /// default). Retries get their own. Applied to each request, so it holds on a client
    /// given with [`http_client`](Self::http_client) too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` of every request: `xplenty-rs/<version>` by default on the
    /// client this builder makes; on a client given with [`http_client`](Self::http_client),
    /// that client's own unless set here.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sends every call through `client`: its TLS roots, proxies, connection pool and
    /// default headers. Authentication, `Accept`, the timeout of [`timeout`](Self::timeout),
    /// retries, the rate budget and tracing are still this crate's: they are applied to
    /// each request, not to the client. [`connect_timeout`](Self::connect_timeout) is not.
    ///
    /// `client`'s TLS is its own. With this crate's opt-in `rustls-ring` feature, reqwest
    /// is built with `rustls-no-provider`, and the application installs a crypto provider
    /// before building `client`.
    ///
    /// A private root certificate and a proxy:
    ///
    /// ```no_run
    /// # fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let root = reqwest::Certificate::from_pem(&std::fs::read("corporate-root.pem")?)?;
    /// let http = reqwest::Client::builder()
    ///     .add_root_certificate(root)
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
    ///     .build()?;
    /// let client = xplenty_api::Client::builder("acme-analytics", std::env::var("XPLENTY_API_KEY")?)
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The most bytes an answer's body may have (16 MiB by default, far above the API's
    /// largest page of 100 items). A longer answer is not read past the limit: the call
    /// fails with [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge).
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The client-side call budget (5,000 an hour by default); `None` sends every call
    /// at once and leaves limiting to the server's 429s.
    pub fn rate_budget(mut self, budget: Option<RateBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// Allows a plain `http` base URL on a host that is not loopback. The key then
    /// travels unencrypted.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    pub fn build(self) -> Result<Client, ConfigError> {
        if self.account_id.is_empty() {
            return Err(ConfigError::EmptyAccountId);
        }
        // Inner spaces are kept (the path segment is percent-encoded); a control
        // character or whitespace at either end is a stray from a file or a paste.
        let padded = self.account_id.trim() != self.account_id;
        if let Some(reason) =
            unprintable(&self.account_id).filter(|_| padded || self.account_id.chars().any(char::is_control))
        {
            return Err(ConfigError::InvalidAccountId { reason });
        }
        if padded {
            return Err(ConfigError::InvalidAccountId { reason: "it starts or ends with whitespace" });
        }
        let (authorization, redactor) = self.authorization.map_err(|reason| ConfigError::InvalidApiKey { reason })?;
        let invalid =
            |reason: &str| ConfigError::InvalidBaseUrl { url: self.base_url.clone(), reason: reason.to_owned() };
        let root = reqwest::Url::parse(&self.base_url).map_err(|e| invalid(&e.to_string()))?;
        if root.cannot_be_a_base() || root.query().is_some() || root.fragment().is_some() {
            return Err(invalid("must be a plain http(s) URL without query or fragment"));
        }
        match root.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&root) => {}
            "http" => return Err(ConfigError::InsecureBaseUrl { url: self.base_url.clone() }),
            _ => return Err(invalid("the scheme must be http or https")),
        }
        let mut account_base = root.clone();
        account_base
            .path_segments_mut()
            .map_err(|()| invalid("cannot hold a path"))?
            .pop_if_empty()
            .push(&self.account_id)
            .push("api");

        let user_agent = match (&self.user_agent, &self.http_client) {
            (Some(agent), _) => Some(HeaderValue::from_str(agent).map_err(|_| ConfigError::InvalidUserAgent)?),
            (None, Some(_)) => None,
            (None, None) => Some(HeaderValue::from_static(concat!("xplenty-rs/", env!("CARGO_PKG_VERSION")))),
        };
        let http = match self.http_client {
            Some(http) => http,
            None => own_client(&root, &self.base_url, self.connect_timeout)?,
        };

        let state = ClientState {
            shared: Arc::new(Shared {
                account_id: self.account_id,
                authorization,
                user_agent,
                timeout: self.timeout,
                root_url: root.as_str().trim_end_matches('/').to_owned(),
                retry: self.retry,
                max_response_size: self.max_response_size,
                redactor,
                last_rate_limit: LastRateLimit::new(),
                budget: self.budget,
            }),
        };
        let baseurl = account_base.as_str().trim_end_matches('/');
        Ok(Client::new_with_client(baseurl, http, state))
    }
}

/// The client `build` makes when the caller gives none. Auth, user agent and timeout
/// are per request (see `attempts.rs`), so they are not set here.
fn own_client(root: &reqwest::Url, url: &str, connect_timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    let builder = reqwest::Client::builder().connect_timeout(connect_timeout);
    #[cfg(feature = "rustls-ring")]
    let builder = builder.tls_backend_preconfigured(rustls_config()?);
    #[cfg(any(feature = "rustls", feature = "rustls-ring"))]
    let _ = (root, url);
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    if root.scheme() == "https" {
        return Err(ConfigError::TlsUnavailable { url: url.to_owned() });
    }
    builder.build().map_err(|e| ConfigError::Http(HttpError(Box::new(e))))
}

/// rustls with ring and the platform's roots, given to reqwest whole: nothing is
/// installed process-wide, so an application's own choice of provider stands.
#[cfg(feature = "rustls-ring")]
fn rustls_config() -> Result<rustls::ClientConfig, ConfigError> {
    let http = |e: rustls::Error| ConfigError::Http(HttpError(Box::new(e)));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(http)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(http)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The default of [`ClientBuilder::max_response_size`]: 16 MiB.
const DEFAULT_MAX_RESPONSE_SIZE: u64 = 16 * 1024 * 1024;

/// Why a key or account id cannot be used as given, if it cannot.
fn unprintable(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("it is only whitespace")
    } else if text.chars().any(char::is_control) {
        Some("it contains a control character (a trailing newline?)")
    } else if text.chars().any(char::is_whitespace) {
        Some("it contains whitespace")
    } else {
        None
    }
}

/// `Basic base64("<key>:")`, marked sensitive so it never shows in Debug output, and
/// the spellings of the key an error body could echo.
fn basic_auth(api_key: &str) -> Result<(HeaderValue, Redactor), &'static str> {
    if api_key.is_empty() {
        return Err("it is empty");
    }
    if let Some(reason) = unprintable(api_key) {
        return Err(reason);
    }
    let base64 = &base64::engine::general_purpose::STANDARD;
    let encoded = base64.encode(format!("{api_key}:"));
    let header = format!("Basic {encoded}");
    let mut value = HeaderValue::from_str(&header).map_err(|_| "it cannot be sent in a header")?;
    value.set_sensitive(true);
    let redactor = Redactor::new([header, encoded, base64.encode(api_key), api_key.to_owned()]);
    Ok((value, redactor))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "rustls-ring")]
    #[test]
    fn building_an_https_client_installs_no_process_wide_tls_provider() {
        Client::new("acme-analytics", "key").unwrap();
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }

    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    #[test]
    fn without_tls_an_https_base_url_is_a_config_error_and_loopback_http_works() {
        let error = Client::new("acme-analytics", "key").unwrap_err();
        assert!(matches!(error, ConfigError::TlsUnavailable { .. }), "{error:?}");
        assert!(error.to_string().contains("rustls"), "{error}");
        Client::builder("acme-analytics", "key").base_url("http://127.0.0.1:9").build().unwrap();
    }

    #[test]
    fn keys_and_account_ids_are_checked_when_built() {
        let build = |account: &str, key: &str| {
            Client::builder(account, key).base_url("http://127.0.0.1:9").build().map(drop).unwrap_err()
        };
        for (key, said) in [
            ("", "empty"),
            ("   ", "only whitespace"),
            ("key\n", "control character"),
            ("k\u{7f}ey", "control character"),
            ("my key", "whitespace"),
            ("key\u{a0}", "whitespace"),
        ] {
            let error = build("acme", key);
            assert!(matches!(error, ConfigError::InvalidApiKey { .. }), "{key:?}: {error:?}");
            assert!(error.to_string().contains(said), "{key:?}: {error}");
        }
        assert!(matches!(build("", "key"), ConfigError::EmptyAccountId));
        assert!(matches!(build("acme\n", "key"), ConfigError::InvalidAccountId { .. }));
        assert!(matches!(build(" acme", "key"), ConfigError::InvalidAccountId { .. }));
        assert!(matches!(build("  ", "key"), ConfigError::InvalidAccountId { .. }));
        assert!(Client::builder("team one", "key").base_url("http://127.0.0.1:9").build().is_ok());
        assert!(Client::builder("acme", "sEcReT-kEy").base_url("http://127.0.0.1:9").build().is_ok());
    }

    #[test]
    fn a_config_error_shows_no_source_text() {
        let error = ConfigError::Http(HttpError(Box::new(std::io::Error::other("inner words"))));
        assert_eq!(error.to_string(), "cannot build the HTTP client");
        let source = std::error::Error::source(&error).unwrap();
        assert_eq!(std::error::Error::source(source).unwrap().to_string(), "inner words");
    }
}
