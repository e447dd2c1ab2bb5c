//! Building a client: `Client::new`, `Client::from_env` and `Client::builder`.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::rate_limit::LastRateLimit;
use crate::state::Shared;
use crate::{Client, ClientState, DEFAULT_BASE_URL, RateBudget, RetryPolicy};

/// Why a client could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable `from_env` needs is unset or not Unicode.
    MissingEnv(&'static str),
    /// The account id is empty.
    EmptyAccountId,
    /// The API key is empty or holds characters an HTTP header cannot carry.
    InvalidApiKey,
    /// The base URL does not parse, or is not http(s).
    InvalidBaseUrl { url: String, reason: String },
    /// Plain `http` to a host that is not loopback would send the key unencrypted.
    InsecureBaseUrl { url: String },
    /// The HTTP client could not be built (TLS backend, proxy settings).
    Http(reqwest::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingEnv(name) => write!(f, "environment variable {name} is not set"),
            ConfigError::EmptyAccountId => f.write_str("the account id is empty"),
            ConfigError::InvalidApiKey => f.write_str("the API key is empty or not a valid header value"),
            ConfigError::InvalidBaseUrl { url, reason } => write!(f, "invalid base URL {url:?}: {reason}"),
            ConfigError::InsecureBaseUrl { url } => write!(
                f,
                "refusing plain http base URL {url:?}: the API key would travel unencrypted \
                 (use https, a loopback host, or ClientBuilder::allow_insecure_http)"
            ),
            ConfigError::Http(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Http(e) => Some(e),
            _ => None,
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
    authorization: Option<HeaderValue>,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    budget: Option<RateBudget>,
    allow_insecure_http: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("account_id", &self.account_id)
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("budget", &self.budget)
            .field("allow_insecure_http", &self.allow_insecure_http)
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
            user_agent: concat!("xplenty-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            budget: Some(RateBudget::xplenty_default()),
            allow_insecure_http: false,
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

    /// How long to wait for a connection (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the end of the body (60 s by
    /// default). Retries get their own.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
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
        let authorization = self.authorization.ok_or(ConfigError::InvalidApiKey)?;
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

        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization);
        #[cfg(feature = "rustls")]
        {
            // reqwest uses the process-wide provider; install ring's only if the
            // application has installed none.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(ConfigError::Http)?;

        let state = ClientState {
            shared: Arc::new(Shared {
                account_id: self.account_id,
                account_base_path: account_base.path().to_owned(),
                root_path: root.path().trim_end_matches('/').to_owned(),
                retry: self.retry,
                last_rate_limit: LastRateLimit::new(),
                budget: self.budget,
            }),
        };
        let baseurl = account_base.as_str().trim_end_matches('/');
        Ok(Client::new_with_client(baseurl, http, state))
    }
}

/// `Basic base64("<key>:")`, marked sensitive so it never shows in Debug output.
fn basic_auth(api_key: &str) -> Option<HeaderValue> {
    if api_key.is_empty() {
        return None;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{api_key}:"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
