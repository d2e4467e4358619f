//! Building an [`AcpClient`](crate::AcpClient): base URL, credentials, headers, timeouts,
//! retries, limits, proxies, TLS.
//!
//! [`ClientBuilder`] collects settings; [`build`](ClientBuilder::build) checks them all once and
//! resolves them into a private [`Config`] (as `reqwest`'s `ClientBuilder` does): the built
//! client keeps header values ready to send, not the builder.

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::secret::{Secret, bearer, header_name, sensitive};
use crate::sse::DEFAULT_MAX_EVENT_SIZE;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use std::fmt;
use std::time::Duration;

/// The header ACP servers read the API key from, unless configured otherwise.
///
/// ```
/// assert_eq!(acp_client_ext::DEFAULT_API_KEY_HEADER, "x-api-key");
/// ```
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";

/// The `User-Agent` this crate sends.
///
/// ```
/// assert!(acp_client_ext::USER_AGENT_VALUE.starts_with("acp-client-ext/"));
/// ```
pub const USER_AGENT_VALUE: &str = concat!("acp-client-ext/", env!("CARGO_PKG_VERSION"));

/// Configuration of an [`AcpClient`](crate::AcpClient); start from
/// [`AcpClient::builder`](crate::AcpClient::builder).
///
/// ```
/// use std::time::Duration;
/// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
///     .api_key("sk-secret")
///     .request_timeout(Duration::from_secs(10))
///     .build()?;
/// assert!(!format!("{client:?}").contains("sk-secret"));
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(crate) base_url: String,
    pub(crate) api_key: Option<Secret>,
    pub(crate) api_key_header: String,
    pub(crate) bearer: Option<Secret>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) sensitive_headers: Vec<(String, Secret)>,
    pub(crate) ca_file: Option<std::path::PathBuf>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) retry_creates: bool,
    pub(crate) tag_creates: bool,
    pub(crate) stream_reconnects: u32,
    pub(crate) max_event_size: usize,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) danger_accept_invalid_certs: bool,
    /// The proxy URL as given: it may carry credentials, so it is a secret.
    pub(crate) proxy: Option<Secret>,
    /// User and password for the proxy.
    pub(crate) proxy_auth: Option<(Secret, Secret)>,
    pub(crate) no_proxy: Option<String>,
    pub(crate) system_proxy: bool,
    pub(crate) identity: Option<IdentitySource>,
}

/// Where the client identity (certificate and private key, PEM) comes from.
#[derive(Clone)]
pub(crate) enum IdentitySource {
    /// PEM given in code (a private key: never printed).
    Pem(Secret),
    /// Files: the certificate (chain), and the key in the same file or another.
    Files {
        cert: std::path::PathBuf,
        key: Option<std::path::PathBuf>,
    },
}

impl IdentitySource {
    /// What `Debug` shows: where the identity comes from, never the key.
    fn describe(&self) -> String {
        match self {
            IdentitySource::Pem(_) => "PEM given in code (key redacted)".into(),
            IdentitySource::Files { cert, key: None } => format!("file {}", cert.display()),
            IdentitySource::Files {
                cert,
                key: Some(key),
            } => format!("files {} and {}", cert.display(), key.display()),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("api_key_header", &self.api_key_header)
            .field("bearer", &self.bearer)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "sensitive_headers",
                &self
                    .sensitive_headers
                    .iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            )
            .field("ca_file", &self.ca_file)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry", &self.retry)
            .field("retry_creates", &self.retry_creates)
            .field("tag_creates", &self.tag_creates)
            .field("stream_reconnects", &self.stream_reconnects)
            .field("max_event_size", &self.max_event_size)
            .field("custom_http_client", &self.http.is_some())
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field(
                "proxy",
                &self
                    .proxy
                    .as_ref()
                    .map(|p| proxy_for_display(p, self.proxy_auth.is_some())),
            )
            .field("no_proxy", &self.no_proxy)
            .field("system_proxy", &self.system_proxy)
            .field(
                "identity",
                &self.identity.as_ref().map(IdentitySource::describe),
            )
            .finish()
    }
}

impl ClientBuilder {
    pub(crate) fn new(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            api_key: None,
            api_key_header: DEFAULT_API_KEY_HEADER.to_string(),
            bearer: None,
            headers: Vec::new(),
            sensitive_headers: Vec::new(),
            ca_file: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            retry_creates: false,
            tag_creates: true,
            stream_reconnects: 5,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            http: None,
            danger_accept_invalid_certs: false,
            proxy: None,
            proxy_auth: None,
            no_proxy: None,
            system_proxy: true,
            identity: None,
        }
    }

    /// Read the configuration from the environment: [`from_env_prefix("ACP_")`](Self::from_env_prefix).
    ///
    /// ```
    /// // With ACP_URL unset this is a configuration error naming the variable.
    /// # unsafe { std::env::remove_var("ACP_URL") };
    /// let err = acp_client_ext::ClientBuilder::from_env().unwrap_err();
    /// assert!(err.to_string().contains("ACP_URL"));
    /// ```
    pub fn from_env() -> Result<ClientBuilder> {
        Self::from_env_prefix("ACP_")
    }

    /// Read the configuration from variables named `{prefix}NAME`: `URL` (required), `API_KEY`,
    /// `API_KEY_HEADER`, `BEARER_TOKEN`, `CONNECT_TIMEOUT`, `REQUEST_TIMEOUT`, `IDLE_TIMEOUT`
    /// (seconds, or with a unit: `500ms`, `2s`, `1m`), `MAX_RETRIES`, `CA_FILE` (a PEM file of
    /// extra root certificates), `PROXY` (a proxy URL, credentials allowed in it:
    /// [`proxy`](Self::proxy)), `NO_PROXY` (hosts that proxy is not used for:
    /// [`no_proxy`](Self::no_proxy)), and `CLIENT_CERT` with `CLIENT_KEY` (PEM files of a
    /// client certificate and its private key for mutual TLS; `CLIENT_CERT` alone is one file
    /// holding both: [`identity_files`](Self::identity_files)). Empty variables count as unset;
    /// a malformed value is an [`Error::Environment`] naming the variable (never echoing a
    /// credential); a proxy or identity that cannot be used is an [`Error::Proxy`] or
    /// [`Error::Identity`] at [`build`](Self::build).
    ///
    /// ```
    /// # unsafe {
    /// std::env::set_var("MYAPP_URL", "http://127.0.0.1:8123");
    /// std::env::set_var("MYAPP_REQUEST_TIMEOUT", "1500ms");
    /// std::env::set_var("MYAPP_MAX_RETRIES", "oops");
    /// # }
    /// let err = acp_client_ext::ClientBuilder::from_env_prefix("MYAPP_").unwrap_err();
    /// assert!(err.to_string().contains("MYAPP_MAX_RETRIES"));
    /// # unsafe { std::env::remove_var("MYAPP_MAX_RETRIES") };
    /// let client = acp_client_ext::ClientBuilder::from_env_prefix("MYAPP_")?.build()?;
    /// assert!(format!("{client:?}").contains("request_timeout: 1.5s"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn from_env_prefix(prefix: &str) -> Result<ClientBuilder> {
        let variable = format!("{prefix}URL");
        let url = std::env::var(&variable)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::Environment {
                variable,
                reason: "is not set".into(),
            })?;
        ClientBuilder::new(url).apply_env_prefix(prefix)
    }

    /// This builder with every `{prefix}NAME` variable of
    /// [`from_env_prefix`](Self::from_env_prefix) that is set applied to it, except `URL`: for
    /// a program that takes the URL from elsewhere (a command-line flag) and the rest from the
    /// environment. Errors as `from_env_prefix`.
    ///
    /// ```
    /// # unsafe { std::env::set_var("OTHERAPP_REQUEST_TIMEOUT", "2s") };
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .apply_env_prefix("OTHERAPP_")?
    ///     .build()?;
    /// assert!(format!("{client:?}").contains("request_timeout: 2s"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn apply_env_prefix(self, prefix: &str) -> Result<ClientBuilder> {
        let var = |name: &str| {
            std::env::var(format!("{prefix}{name}"))
                .ok()
                .filter(|v| !v.is_empty())
        };
        let env_error = |name: &str, reason: String| Error::Environment {
            variable: format!("{prefix}{name}"),
            reason,
        };
        let mut b = self;
        if let Some(k) = var("API_KEY") {
            b = b.api_key(k);
        }
        if let Some(h) = var("API_KEY_HEADER") {
            b = b.api_key_header(h);
        }
        if let Some(t) = var("BEARER_TOKEN") {
            b = b.bearer_token(t);
        }
        let duration = |name: &str| -> Result<Option<Duration>> {
            var(name)
                .map(|v| {
                    parse_duration(&v).ok_or_else(|| {
                        env_error(
                            name,
                            format!("={v:?} is not a duration (seconds, or 500ms, 2s, 1m)"),
                        )
                    })
                })
                .transpose()
        };
        if let Some(d) = duration("CONNECT_TIMEOUT")? {
            b = b.connect_timeout(d);
        }
        if let Some(d) = duration("REQUEST_TIMEOUT")? {
            b = b.request_timeout(d);
        }
        if let Some(d) = duration("IDLE_TIMEOUT")? {
            b = b.idle_timeout(d);
        }
        if let Some(v) = var("MAX_RETRIES") {
            let n = v
                .parse()
                .map_err(|_| env_error("MAX_RETRIES", format!("={v:?} is not a whole number")))?;
            b.retry.max_retries = n;
        }
        if let Some(f) = var("CA_FILE") {
            b = b.ca_file(f);
        }
        if let Some(p) = var("PROXY") {
            b = b.proxy(p);
        }
        if let Some(list) = var("NO_PROXY") {
            b = b.no_proxy(list);
        }
        match (var("CLIENT_CERT"), var("CLIENT_KEY")) {
            (Some(cert), key) => b = b.identity_files(cert, key),
            (None, Some(_)) => {
                return Err(env_error(
                    "CLIENT_KEY",
                    format!("is set without {prefix}CLIENT_CERT"),
                ));
            }
            (None, None) => {}
        }
        Ok(b)
    }

    /// Send this API key with every request, in the API key header (`x-api-key` by default).
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.clone().api_key("sk-secret").build()?;
    /// assert!(!format!("{client:?}").contains("sk-secret"));
    /// assert!(b.api_key(" ").build().unwrap_err().to_string().contains("api_key"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key));
        self
    }

    /// The header that carries the API key.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123").api_key("sk-secret");
    /// b.clone().api_key_header("x-custom-key").build()?;
    /// let err = b.api_key_header("not a header").build().unwrap_err();
    /// assert!(err.to_string().contains("api_key_header"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn api_key_header(mut self, name: impl Into<String>) -> Self {
        self.api_key_header = name.into();
        self
    }

    /// Send `Authorization: Bearer <token>` with every request.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.clone().bearer_token("tok-secret").build()?;
    /// assert!(!format!("{client:?}").contains("tok-secret"));
    /// assert!(b.bearer_token("").build().unwrap_err().to_string().contains("bearer_token"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(Secret::new(token));
        self
    }

    /// Send this header with every request (checked when the client is built).
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// b.clone().header("x-tenant", "acme").build()?;
    /// let err = b.header("bad name", "v").build().unwrap_err();
    /// assert!(err.to_string().contains("header name"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Send this header with every request, as a credential: marked sensitive (never printed by
    /// `reqwest`, not in this crate's `Debug`) and, like the API key and bearer token, never
    /// sent to another origin when a server redirects.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.sensitive_header("x-tenant-token", "t-secret").build()?;
    /// assert!(!format!("{client:?}").contains("t-secret"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn sensitive_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.sensitive_headers
            .push((name.into(), Secret::new(value)));
        self
    }

    /// Trust the root certificates of this PEM file too (a private CA), besides the TLS
    /// backend's defaults. Read at [`build`](Self::build); a missing or malformed file is an
    /// [`Error::CaFile`]. Needs a TLS feature (`rustls`, the default, or `native-tls`).
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("https://127.0.0.1:8443");
    /// let err = b.ca_file("/no/such/ca.pem").build().unwrap_err();
    /// assert!(err.to_string().contains("ca.pem"));
    /// ```
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// How long to wait for a TCP (and TLS) connection. Default 10 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// b.clone().connect_timeout(Duration::from_secs(5)).build()?;
    /// let err = b.connect_timeout(Duration::ZERO).build().unwrap_err();
    /// assert!(err.to_string().contains("connect_timeout"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Total time for one ordinary request. Streams and server-side waits are exempt: a stream
    /// obeys [`idle_timeout`](Self::idle_timeout), a wait the caller's deadline. Default 30 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// b.clone().request_timeout(Duration::from_secs(5)).build()?;
    /// let err = b.request_timeout(Duration::ZERO).build().unwrap_err();
    /// assert!(err.to_string().contains("request_timeout"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// A stream that receives no byte at all (not even a keep-alive) for this long is treated as
    /// dead and rejoined. Default 60 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// b.clone().idle_timeout(Duration::from_secs(5)).build()?;
    /// let err = b.idle_timeout(Duration::ZERO).build().unwrap_err();
    /// assert!(err.to_string().contains("idle_timeout"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t;
        self
    }

    /// Retries of idempotent requests. Default: [`RetryPolicy::default`].
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RetryPolicy};
    /// let client = AcpClient::builder("http://127.0.0.1:8123").retry(RetryPolicy::none()).build()?;
    /// assert_eq!(client.retry_policy().max_retries, 0);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Also retry POSTs that create runs. Off by default: a retried create after an ambiguous
    /// failure (a 504 from a proxy) can start the run twice.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.retry_creates(true).build()?;
    /// assert!(format!("{client:?}").contains("retry_creates: true"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn retry_creates(mut self, yes: bool) -> Self {
        self.retry_creates = yes;
        self
    }

    /// Tag each run create with a client-chosen id in its metadata
    /// ([`CREATE_TAG_KEY`](crate::CREATE_TAG_KEY)), so that a create whose connection died
    /// after it was written is looked up rather than reported as "may exist", and sent again
    /// only when it created nothing. On by default; see the [`CREATE_TAG_KEY`](crate::CREATE_TAG_KEY)
    /// docs for what it costs and its one caveat.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .tag_creates(false)
    ///     .build()?;
    /// assert!(format!("{client:?}").contains("tag_creates: false"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn tag_creates(mut self, yes: bool) -> Self {
        self.tag_creates = yes;
        self
    }

    /// How many times a dropped stream is rejoined before giving up. Default 5.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.stream_reconnects(10).build()?;
    /// assert!(format!("{client:?}").contains("stream_reconnects: 10"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream_reconnects(mut self, n: u32) -> Self {
        self.stream_reconnects = n;
        self
    }

    /// The largest SSE event accepted, in bytes; a larger one fails the stream instead of growing
    /// memory. Default [`DEFAULT_MAX_EVENT_SIZE`].
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// b.clone().max_event_size(4 << 20).build()?;
    /// let err = b.max_event_size(0).build().unwrap_err();
    /// assert!(err.to_string().contains("max_event_size"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Use this `reqwest::Client` for every request. Its own timeouts, TLS settings and
    /// **redirect policy** apply; the credentials and headers configured here are added to each
    /// request the ext sends.
    ///
    /// What you give up compared with the client this builder makes:
    ///
    /// * **Redirects.** The builder's own client follows no redirect and the ext follows them
    ///   itself (credentials only to the base URL's origin; `301`/`302`/`303` to a `POST` refused).
    ///   Your client follows redirects as you configured it, before the ext sees the answer:
    ///   `reqwest`'s default policy follows up to 10 and strips only `Authorization`, `Cookie` and
    ///   `Proxy-Authorization` on a hop to another host, so an API key header (or a
    ///   [`sensitive_header`](Self::sensitive_header)) **would be sent to the other origin**. Build
    ///   it with `.redirect(reqwest::redirect::Policy::none())` to keep the ext's rules.
    ///   (`reqwest` does not let a `Client`'s policy be read, so this cannot be checked here.)
    /// * **[`generated()`](crate::AcpClient::generated) sends no credentials.** The generated
    ///   client uses your `reqwest::Client` as is: its default headers, not the API key, bearer
    ///   token and headers configured here (those are added per request by the ext only). Put
    ///   them in your client's `default_headers` if the generated client needs them.
    /// * [`connect_timeout`](Self::connect_timeout), [`ca_file`](Self::ca_file),
    ///   [`danger_accept_invalid_certs`](Self::danger_accept_invalid_certs), the proxy settings
    ///   ([`proxy`](Self::proxy), [`proxy_basic_auth`](Self::proxy_basic_auth),
    ///   [`no_proxy`](Self::no_proxy), [`system_proxy`](Self::system_proxy)) and the client
    ///   identity ([`identity_pem`](Self::identity_pem), [`identity_file`](Self::identity_file))
    ///   are not applied: configure them on your client.
    ///
    /// ```
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()?;
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.http_client(reqwest::Client::new()).build()?;
    /// assert!(format!("{client:?}").contains("custom_http_client: true"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Accept any TLS certificate, including self-signed and expired ones. Only for talking to a
    /// development server you control; never in production.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("https://localhost:8443");
    /// let client = b.danger_accept_invalid_certs(true).build()?;
    /// assert!(format!("{client:?}").contains("danger_accept_invalid_certs: true"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.danger_accept_invalid_certs = yes;
        self
    }

    /// Send every request through this HTTP(S) proxy (`http://proxy.internal:3128`): plain
    /// `http` requests as absolute-URI requests to it, `https` ones through a `CONNECT` tunnel.
    /// `host:port` alone means `http://host:port`. The URL may carry the proxy's credentials
    /// (`http://user:password@proxy:3128`, percent-encoded), or give them with
    /// [`proxy_basic_auth`](Self::proxy_basic_auth) (which wins). They go to the proxy only (as
    /// `Proxy-Authorization`, marked sensitive), never to the ACP server, and never appear in
    /// `Debug`, errors or traces. A proxy set here replaces the system's
    /// ([`system_proxy`](Self::system_proxy)). Checked at [`build`](Self::build): a URL that is
    /// not `http` or `https` is an [`Error::Proxy`].
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123");
    /// let client = b.clone().proxy("http://user:pw-secret@127.0.0.1:3128").build()?;
    /// let debug = format!("{client:?}");
    /// assert!(debug.contains("127.0.0.1:3128") && !debug.contains("pw-secret"));
    /// b.clone().proxy("127.0.0.1:3128").build()?;
    /// let err = b.proxy("ftp://user:pw-secret@127.0.0.1:21").build().unwrap_err();
    /// assert!(matches!(err, acp_client_ext::Error::Proxy { .. }));
    /// assert!(!err.to_string().contains("pw-secret"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(Secret::new(url));
        self
    }

    /// The proxy's credentials (HTTP basic), in place of any in the [`proxy`](Self::proxy) URL.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .proxy("http://127.0.0.1:3128")
    ///     .proxy_basic_auth("svc", "pw-secret")
    ///     .build()?;
    /// assert!(!format!("{client:?}").contains("pw-secret"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn proxy_basic_auth(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.proxy_auth = Some((Secret::new(user), Secret::new(password)));
        self
    }

    /// Hosts the [`proxy`](Self::proxy) is not used for: a comma-separated list in the
    /// `NO_PROXY` format (`localhost,.internal,10.0.0.0/8`, `*` for all). The system proxy obeys
    /// the `NO_PROXY` variable instead.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .proxy("http://127.0.0.1:3128")
    ///     .no_proxy("127.0.0.1,localhost")
    ///     .build()?;
    /// assert!(format!("{client:?}").contains(r#"no_proxy: Some("127.0.0.1,localhost")"#));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn no_proxy(mut self, list: impl Into<String>) -> Self {
        self.no_proxy = Some(list.into());
        self
    }

    /// Whether the system's proxy variables are honoured when no [`proxy`](Self::proxy) is
    /// set: `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY` (upper or lower case), with `NO_PROXY`.
    /// **On by default**, as `reqwest` and `curl` do, so a service deployed behind an egress
    /// proxy works as its other HTTP clients do; `false` sends every request directly (unless
    /// [`proxy`](Self::proxy) is set). (`reqwest` ignores `HTTP_PROXY` under CGI, where a
    /// request's `Proxy:` header could set it.)
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .system_proxy(false)
    ///     .build()?;
    /// assert!(format!("{client:?}").contains("system_proxy: false"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn system_proxy(mut self, yes: bool) -> Self {
        self.system_proxy = yes;
        self
    }

    /// Present this client certificate for mutual TLS: PEM holding the certificate (chain) and
    /// its private key (PKCS#8, PKCS#1 RSA or SEC1 EC). The key is never printed. Checked at
    /// [`build`](Self::build): PEM without a certificate or a key is an [`Error::Identity`].
    /// Needs a TLS feature.
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("https://127.0.0.1:8443");
    /// let err = b.identity_pem(b"not PEM".to_vec()).build().unwrap_err();
    /// assert!(matches!(err, acp_client_ext::Error::Identity { path: None, .. }));
    /// ```
    pub fn identity_pem(mut self, cert_and_key: impl Into<Vec<u8>>) -> Self {
        let pem = String::from_utf8_lossy(&cert_and_key.into()).into_owned();
        self.identity = Some(IdentitySource::Pem(Secret::new(pem)));
        self
    }

    /// [`identity_pem`](Self::identity_pem), read from one PEM file holding the certificate and
    /// the key, at [`build`](Self::build) (an unreadable file is an [`Error::Identity`] naming it).
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("https://127.0.0.1:8443");
    /// let err = b.identity_file("/no/such/client.pem").build().unwrap_err();
    /// assert!(err.to_string().contains("client.pem"));
    /// ```
    pub fn identity_file(self, path: impl Into<std::path::PathBuf>) -> Self {
        self.identity_files(path, None::<std::path::PathBuf>)
    }

    /// [`identity_pem`](Self::identity_pem), read from a certificate file and a key file (or
    /// one file holding both, with `key` `None`), at [`build`](Self::build).
    ///
    /// ```
    /// let b = acp_client_ext::AcpClient::builder("https://127.0.0.1:8443");
    /// let err = b.identity_files("/no/such/cert.pem", Some("/no/such/key.pem")).build().unwrap_err();
    /// assert!(err.to_string().contains("cert.pem"));
    /// ```
    pub fn identity_files(
        mut self,
        cert: impl Into<std::path::PathBuf>,
        key: Option<impl Into<std::path::PathBuf>>,
    ) -> Self {
        self.identity = Some(IdentitySource::Files {
            cert: cert.into(),
            key: key.map(Into::into),
        });
        self
    }

    /// Check every setting once and resolve them into what requests need: the [`Config`] and
    /// the two `reqwest` clients (with and without the credential headers).
    pub(crate) fn resolve(self) -> Result<Resolved> {
        let b = self;
        let base = validate_base_url(&b.base_url)?;
        for (field, d) in [
            ("connect_timeout", b.connect_timeout),
            ("request_timeout", b.request_timeout),
            ("idle_timeout", b.idle_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::invalid(field, "must be greater than zero"));
            }
        }
        if b.max_event_size == 0 {
            return Err(Error::invalid(
                "max_event_size",
                "must be greater than zero",
            ));
        }
        let (plain, creds) = b.resolve_headers()?;
        let api_key_header = header_name("api_key_header", &b.api_key_header)?;
        let url = url::Url::parse(&base).map_err(|e| Error::invalid("base_url", e.to_string()))?;
        let (http, bare, per_request) = match &b.http {
            Some(http) => {
                let mut all = plain.clone();
                all.extend(creds.clone());
                let headers = PerRequestHeaders { all, plain };
                (http.clone(), http.clone(), Some(headers))
            }
            None => {
                // Resolved once, for both clients: the proxy, and the identity (files read once).
                let proxy = proxy(&b)?;
                let identity = identity(&b)?;
                let build = |headers: HeaderMap| -> Result<reqwest::Client> {
                    let mut builder = reqwest::Client::builder()
                        .default_headers(headers)
                        .connect_timeout(b.connect_timeout)
                        // Redirects are followed by the transport (see its docs).
                        .redirect(reqwest::redirect::Policy::none());
                    builder = match &proxy {
                        // Replaces the system proxies.
                        Some(p) => builder.proxy(p.clone()),
                        None if !b.system_proxy => builder.no_proxy(),
                        None => builder,
                    };
                    let builder = tls(builder, &b, identity.clone())?;
                    builder.build().map_err(Error::HttpClient)
                };
                let mut all = plain.clone();
                all.extend(creds.clone());
                (build(all)?, build(plain)?, None)
            }
        };
        let config = Config {
            origin: url.origin(),
            base_path: url.path().trim_end_matches('/').to_string(),
            base_url: url,
            base,
            connect_timeout: b.connect_timeout,
            request_timeout: b.request_timeout,
            idle_timeout: b.idle_timeout,
            retry: b.retry.clone(),
            retry_creates: b.retry_creates,
            tag_creates: b.tag_creates,
            stream_reconnects: b.stream_reconnects,
            max_event_size: b.max_event_size,
            credential_names: creds.keys().cloned().collect(),
            api_key_header,
            per_request,
            custom_http_client: b.http.is_some(),
            danger_accept_invalid_certs: b.danger_accept_invalid_certs,
            has_api_key: b.api_key.is_some(),
            has_bearer: b.bearer.is_some(),
            proxy: b
                .proxy
                .as_ref()
                .map(|p| proxy_for_display(p, b.proxy_auth.is_some())),
            no_proxy: b.no_proxy.clone(),
            system_proxy: b.system_proxy,
            identity: b.identity.as_ref().map(IdentitySource::describe),
        };
        Ok(Resolved { config, http, bare })
    }

    /// The headers every request carries, resolved once: the plain ones (user agent, extra
    /// headers) and the credentials (API key, bearer token, sensitive headers; marked sensitive,
    /// so `reqwest` never prints them).
    pub(crate) fn resolve_headers(&self) -> Result<(HeaderMap, HeaderMap)> {
        let mut plain = HeaderMap::new();
        plain.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        for (name, value) in &self.headers {
            let n = header_name("header name", name)?;
            let v = HeaderValue::from_str(value)
                .map_err(|_| Error::invalid("header value", format!("the value of header {name:?} contains characters not allowed in HTTP headers")))?;
            plain.append(n, v);
        }
        let mut creds = HeaderMap::new();
        for (name, value) in &self.sensitive_headers {
            creds.append(
                header_name("header name", name)?,
                sensitive("header value", value.expose())?,
            );
        }
        if let Some(key) = &self.api_key {
            let n = header_name("api_key_header", &self.api_key_header)?;
            creds.insert(n, sensitive("api_key", key.expose())?);
        }
        if let Some(token) = &self.bearer {
            creds.insert(AUTHORIZATION, bearer(token)?);
        }
        Ok((plain, creds))
    }
}

/// `"30"` (seconds), `"500ms"`, `"2s"`, `"1m"`.
fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// What [`ClientBuilder::resolve`] made of a builder: the configuration and the `reqwest`
/// clients a [`Transport`](crate::transport::Transport) sends with.
pub(crate) struct Resolved {
    pub(crate) config: Config,
    /// Carries the plain headers and the credentials as default headers (when this crate built
    /// it), so the generated client sends the same headers.
    pub(crate) http: reqwest::Client,
    /// The same settings without credential headers: for a redirect to another origin and for
    /// per-call credentials that remove the client's.
    pub(crate) bare: reqwest::Client,
}

/// What [`ClientBuilder::build`] resolved: everything a request needs, checked once.
pub(crate) struct Config {
    /// Without a trailing slash.
    pub(crate) base: String,
    /// `base`, parsed once: each request's URL is a clone of it with the operation's path set
    /// (no URL parse per request).
    pub(crate) base_url: url::Url,
    /// The base URL's path without a trailing slash (`""` or `/acp`), the prefix of every path.
    pub(crate) base_path: String,
    /// The base URL's origin: credentials go to this origin only.
    pub(crate) origin: url::Origin,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) retry_creates: bool,
    pub(crate) tag_creates: bool,
    pub(crate) stream_reconnects: u32,
    pub(crate) max_event_size: usize,
    /// Names of the credential headers (stripped on a redirect to another origin).
    pub(crate) credential_names: Vec<HeaderName>,
    /// The header an API key travels in.
    pub(crate) api_key_header: HeaderName,
    /// With the caller's own `reqwest::Client`: the headers added to each request (otherwise
    /// they are the `reqwest::Client`'s defaults).
    pub(crate) per_request: Option<PerRequestHeaders>,
    pub(crate) custom_http_client: bool,
    pub(crate) danger_accept_invalid_certs: bool,
    pub(crate) has_api_key: bool,
    pub(crate) has_bearer: bool,
    /// The proxy URL without its credentials (for `Debug`).
    pub(crate) proxy: Option<String>,
    pub(crate) no_proxy: Option<String>,
    pub(crate) system_proxy: bool,
    /// Where the client identity came from (for `Debug`).
    pub(crate) identity: Option<String>,
}

/// The headers a caller's own `reqwest::Client` does not send by itself, resolved once.
pub(crate) struct PerRequestHeaders {
    /// The plain headers and the credentials: what a request to the base URL's origin carries.
    pub(crate) all: HeaderMap,
    /// The plain headers alone: for another origin, or when the call brings its own credentials.
    pub(crate) plain: HeaderMap,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never a header value: the names of the credential headers at most.
        f.debug_struct("Config")
            .field("base_url", &self.base)
            .field("api_key", &self.has_api_key.then_some("<redacted>"))
            .field("bearer", &self.has_bearer.then_some("<redacted>"))
            .field("credential_headers", &self.credential_names)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry", &self.retry)
            .field("retry_creates", &self.retry_creates)
            .field("tag_creates", &self.tag_creates)
            .field("stream_reconnects", &self.stream_reconnects)
            .field("max_event_size", &self.max_event_size)
            .field("custom_http_client", &self.custom_http_client)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field("proxy", &self.proxy)
            .field("no_proxy", &self.no_proxy)
            .field("system_proxy", &self.system_proxy)
            .field("identity", &self.identity)
            .finish()
    }
}

/// The TLS settings of the builder: certificate validation, extra roots, the client identity.
fn tls(
    builder: reqwest::ClientBuilder,
    b: &ClientBuilder,
    identity: Option<ClientIdentity>,
) -> Result<reqwest::ClientBuilder> {
    #[cfg(feature = "__tls")]
    {
        // `rustls-ring` builds reqwest's rustls without a crypto provider: reqwest takes the
        // process's default one, so ring becomes it unless the application installed another
        // (`install_default` then fails, and that one is kept).
        #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = builder.tls_danger_accept_invalid_certs(b.danger_accept_invalid_certs);
        if let Some(path) = &b.ca_file {
            let pem = std::fs::read(path).map_err(|e| Error::CaFile {
                path: path.clone(),
                reason: format!("cannot be read: {e}"),
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::CaFile {
                path: path.clone(),
                reason: format!("is not PEM: {e}"),
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        Ok(builder)
    }
    #[cfg(not(feature = "__tls"))]
    {
        let _ = identity;
        if let Some(path) = &b.ca_file {
            return Err(Error::CaFile {
                path: path.clone(),
                reason: "this build has no TLS (enable the `rustls-ring`, `rustls` or `native-tls` feature)"
                    .into(),
            });
        }
        Ok(builder)
    }
}

/// The proxy of the builder, checked: its URL without credentials (so that no `reqwest` error
/// or `Debug` can show them), the credentials as basic auth, the `no_proxy` list.
fn proxy(b: &ClientBuilder) -> Result<Option<reqwest::Proxy>> {
    let Some(raw) = &b.proxy else {
        return Ok(None);
    };
    let bad = |reason: String| Error::Proxy { reason };
    // Never echo the URL: it may hold a password. `url`'s errors do not quote their input.
    let mut url = parse_proxy(raw).map_err(|e| bad(format!("the proxy URL is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "the proxy URL's scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the proxy URL has no host".into()));
    }
    let in_url = (!url.username().is_empty() || url.password().is_some()).then(|| {
        (
            percent_decoded(url.username()),
            percent_decoded(url.password().unwrap_or("")),
        )
    });
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let mut proxy = reqwest::Proxy::all(url.as_str())
        .map_err(|e| bad(format!("the proxy URL cannot be used: {e}")))?;
    let credentials = match &b.proxy_auth {
        Some((user, password)) => Some((user.expose().to_string(), password.expose().to_string())),
        None => in_url,
    };
    if let Some((user, password)) = credentials {
        if user.contains(':') || user.chars().chain(password.chars()).any(char::is_control) {
            return Err(bad(
                "the proxy user holds a ':', or the user or password a control character (not shown)"
                    .into(),
            ));
        }
        proxy = proxy.basic_auth(&user, &password);
    }
    if let Some(list) = &b.no_proxy {
        proxy = proxy.no_proxy(reqwest::NoProxy::from_string(list));
    }
    Ok(Some(proxy))
}

/// The proxy URL for `Debug`: without credentials, saying whether it has some.
fn proxy_for_display(raw: &Secret, auth: bool) -> String {
    match parse_proxy(raw) {
        Ok(mut url) => {
            let had = !url.username().is_empty() || url.password().is_some();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            if had || auth {
                format!("{url} (credentials redacted)")
            } else {
                url.to_string()
            }
        }
        Err(_) => "<not a URL>".into(),
    }
}

/// The proxy URL; `host:port` without a scheme means `http://host:port` (as `reqwest` and
/// `curl` read `HTTPS_PROXY=proxy:3128`).
fn parse_proxy(raw: &Secret) -> std::result::Result<url::Url, url::ParseError> {
    let raw = raw.expose().trim();
    if raw.contains("://") {
        url::Url::parse(raw)
    } else {
        url::Url::parse(&format!("http://{raw}"))
    }
}

/// `%XX` sequences decoded (as a URL's userinfo is written); invalid ones kept as they are.
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client identity of the builder, read and checked (files read here, once).
/// `reqwest`'s client identity (a build without TLS has none: nothing can make one).
#[cfg(feature = "__tls")]
type ClientIdentity = reqwest::Identity;
#[cfg(not(feature = "__tls"))]
#[derive(Clone)]
enum ClientIdentity {}

fn identity(b: &ClientBuilder) -> Result<Option<ClientIdentity>> {
    let Some(source) = &b.identity else {
        return Ok(None);
    };
    let (pem, path) = match source {
        IdentitySource::Pem(pem) => (pem.expose().as_bytes().to_vec(), None),
        IdentitySource::Files { cert, key } => {
            let read = |p: &std::path::PathBuf| {
                std::fs::read(p).map_err(|e| Error::Identity {
                    path: Some(p.clone()),
                    reason: format!("cannot be read: {e}"),
                })
            };
            let mut pem = read(cert)?;
            if let Some(key) = key {
                pem.push(b'\n');
                pem.extend(read(key)?);
            }
            (pem, Some(cert.clone()))
        }
    };
    let bad = |reason: String| Error::Identity {
        path: path.clone(),
        reason,
    };
    let text = String::from_utf8_lossy(&pem);
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(bad("holds no PEM certificate".into()));
    }
    if !text.contains("PRIVATE KEY-----") {
        return Err(bad("holds no PEM private key".into()));
    }
    #[cfg(feature = "__rustls")]
    {
        reqwest::Identity::from_pem(&pem)
            .map(Some)
            .map_err(|e| bad(format!("is not a usable certificate and key: {e}")))
    }
    #[cfg(all(feature = "native-tls", not(feature = "__rustls")))]
    {
        // native-tls takes the certificates and the (PKCS#8) key apart.
        let (mut certs, mut key) = (String::new(), String::new());
        let mut rest: &str = &text;
        while let Some(start) = rest.find("-----BEGIN ") {
            let block = &rest[start..];
            let Some(end) = block
                .find("-----END ")
                .and_then(|e| block[e + 9..].find("-----").map(|f| e + 9 + f + 5))
            else {
                break;
            };
            let into = if block[..end].contains("PRIVATE KEY-----") {
                &mut key
            } else {
                &mut certs
            };
            into.push_str(&block[..end]);
            into.push('\n');
            rest = &block[end..];
        }
        reqwest::Identity::from_pkcs8_pem(certs.as_bytes(), key.as_bytes())
            .map(Some)
            .map_err(|e| bad(format!("is not a usable certificate and PKCS#8 key: {e}")))
    }
    #[cfg(not(feature = "__tls"))]
    {
        Err(bad(
            "this build has no TLS (enable the `rustls-ring`, `rustls` or `native-tls` feature)"
                .into(),
        ))
    }
}

fn validate_base_url(raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::invalid("base_url", format!("{raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid(
            "base_url",
            format!("scheme {:?} is not http or https", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("base_url", format!("{raw:?} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(
            "base_url",
            "must not have a query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "base_url",
            "must not carry credentials; use api_key or bearer_token",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalized() {
        assert_eq!(validate_base_url("http://h:1/").unwrap(), "http://h:1");
        assert_eq!(
            validate_base_url("https://h/api/").unwrap(),
            "https://h/api"
        );
        for bad in ["", "h:1", "ftp://h", "http://u:p@h", "http://h/?q=1"] {
            assert!(validate_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proxy_credentials_are_decoded_and_never_displayed() {
        assert_eq!(percent_decoded("p%40ss%3Aw%zz%4"), "p@ss:w%zz%4");
        let raw = Secret::new("http://u%40corp:pw%2Fsecret@proxy:3128");
        let shown = proxy_for_display(&raw, false);
        assert_eq!(shown, "http://proxy:3128/ (credentials redacted)");
        assert_eq!(
            proxy_for_display(&Secret::new("proxy:3128"), false),
            "http://proxy:3128/"
        );
        assert_eq!(
            proxy_for_display(&Secret::new("http://[::1"), true),
            "<not a URL>"
        );
    }
}
