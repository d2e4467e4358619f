//! Per-call options: timeouts, retries, stream reconnects, extra headers, other credentials for
//! one call, on the client's own connection pool.
//!
//! Every operation returns a [`Call`]: await it as is, or set options first, as with the AWS
//! SDK's `customize()` or a `reqwest::RequestBuilder`:
//!
//! ```no_run
//! # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
//! use std::time::Duration;
//! let agents = client
//!     .search_agents()
//!     .timeout(Duration::from_secs(2))
//!     .header("x-request-id", "42")
//!     .bearer_token("a-token-for-this-call")
//!     .await?;
//! # let _ = agents;
//! # Ok(())
//! # }
//! ```
//!
//! A [`RequestOptions`] value holds the same settings, to apply to many calls
//! ([`Call::options`]) or to everything a client or handle does ([`AcpClient::with_options`](crate::AcpClient::with_options),
//! [`RunHandle::with_options`](crate::RunHandle::with_options): a stream keeps them for its
//! rejoins, a wait for its polls). Options cost a clone of the client (an `Arc`) and reuse its
//! connection pool; only credentials that remove one of the client's credential headers are sent
//! through the client's second, credential-free `reqwest::Client`.

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::secret::{Credentials, Secret};
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::time::Duration;

/// Options for one call (or, with [`AcpClient::with_options`](crate::AcpClient::with_options),
/// for every call of a client). Each setting left unset is the client's.
///
/// ```
/// use acp_client_ext::RequestOptions;
/// use std::time::Duration;
/// let o = RequestOptions::new().timeout(Duration::from_secs(5)).header("x-tenant", "acme").api_key("sk-other");
/// assert!(!format!("{o:?}").contains("sk-other"));
/// ```
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) stream_reconnects: Option<u32>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) retry_creates: Option<bool>,
    pub(crate) headers: HeaderMap,
    pub(crate) credentials: Option<Credentials>,
    /// The first invalid setting: the call fails with it before any request.
    invalid: Option<(&'static str, String)>,
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("stream_reconnects", &self.stream_reconnects)
            .field("retry", &self.retry)
            .field("retry_creates", &self.retry_creates)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field(
                "credentials",
                &self.credentials.as_ref().map(|c| match c {
                    Credentials::ApiKey(_) => "api key <redacted>",
                    Credentials::Bearer(_) => "bearer <redacted>",
                    Credentials::None => "none",
                }),
            )
            .finish()
    }
}

impl RequestOptions {
    /// No options: the client's settings.
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new();
    /// assert!(format!("{o:?}").contains("timeout: None"));
    /// ```
    pub fn new() -> RequestOptions {
        RequestOptions::default()
    }

    /// The request timeout of this call's ordinary requests, in place of
    /// [`request_timeout`](crate::ClientBuilder::request_timeout). (A stream is bounded by the
    /// idle timeout, a wait by its deadline, as always.) Elapsed, it is an
    /// [`Error::Timeout`] of kind [`TimeoutKind::Request`](crate::TimeoutKind::Request), retried
    /// like any request timeout. Zero is refused when the call runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let o = acp_client_ext::RequestOptions::new().timeout(Duration::from_millis(500));
    /// assert!(format!("{o:?}").contains("500ms"));
    /// ```
    pub fn timeout(mut self, t: Duration) -> Self {
        if t.is_zero() {
            self.refuse("timeout", "must be greater than zero".into());
        }
        self.timeout = Some(t);
        self
    }

    /// The idle timeout of this call's streams, in place of
    /// [`idle_timeout`](crate::ClientBuilder::idle_timeout): how long a stream may receive
    /// nothing at all (not even a keep-alive) before it is rejoined, and the wait for a stream's
    /// response headers. Kept by the stream for its rejoins. Zero is refused when the call runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let o = acp_client_ext::RequestOptions::new().idle_timeout(Duration::from_secs(5));
    /// assert!(format!("{o:?}").contains("idle_timeout: Some(5s)"));
    /// ```
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        if t.is_zero() {
            self.refuse("idle_timeout", "must be greater than zero".into());
        }
        self.idle_timeout = Some(t);
        self
    }

    /// How many times in a row this call's streams rejoin a lost or idle connection, in place
    /// of [`stream_reconnects`](crate::ClientBuilder::stream_reconnects) (0: never).
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().stream_reconnects(0);
    /// assert!(format!("{o:?}").contains("stream_reconnects: Some(0)"));
    /// ```
    pub fn stream_reconnects(mut self, n: u32) -> Self {
        self.stream_reconnects = Some(n);
        self
    }

    /// The retry policy of this call (its requests, its stream's rejoins, its wait's polls), in
    /// place of [`retry`](crate::ClientBuilder::retry).
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, RetryPolicy};
    /// let o = RequestOptions::new().retry(RetryPolicy::none());
    /// assert!(format!("{o:?}").contains("max_retries: 0"));
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Whether this call's creates are sent again after a retryable failure, in place of
    /// [`retry_creates`](crate::ClientBuilder::retry_creates).
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().retry_creates(true);
    /// assert!(format!("{o:?}").contains("retry_creates: Some(true)"));
    /// ```
    pub fn retry_creates(mut self, yes: bool) -> Self {
        self.retry_creates = Some(yes);
        self
    }

    /// An extra header (added to the client's; one of the same name replaces it). An invalid
    /// name or value fails the call before any request.
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().header("x-request-id", "42");
    /// assert!(format!("{o:?}").contains("x-request-id"));
    /// ```
    pub fn header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.add_header(name.as_ref(), value.as_ref(), false)
    }

    /// An extra header holding a secret: never printed, never sent to another origin.
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().sensitive_header("x-tenant-token", "t-secret");
    /// assert!(!format!("{o:?}").contains("t-secret"));
    /// ```
    pub fn sensitive_header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.add_header(name.as_ref(), value.as_ref(), true)
    }

    /// Send this API key (in the client's API key header) instead of the client's credentials.
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().api_key("sk-other");
    /// assert!(format!("{o:?}").contains("api key <redacted>"));
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::ApiKey(Secret::new(key)));
        self
    }

    /// Send `Authorization: Bearer <token>` instead of the client's credentials.
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().bearer_token("tok");
    /// assert!(format!("{o:?}").contains("bearer <redacted>"));
    /// ```
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::Bearer(Secret::new(token)));
        self
    }

    /// Send no credentials at all.
    ///
    /// ```
    /// let o = acp_client_ext::RequestOptions::new().no_credentials();
    /// assert!(format!("{o:?}").contains("none"));
    /// ```
    pub fn no_credentials(mut self) -> Self {
        self.credentials = Some(Credentials::None);
        self
    }

    fn add_header(mut self, name: &str, value: &str, sensitive: bool) -> Self {
        let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
            self.refuse(
                "header name",
                format!("{name:?} is not a valid HTTP header name"),
            );
            return self;
        };
        let Ok(mut v) = HeaderValue::from_str(value) else {
            self.refuse(
                "header value",
                format!(
                    "the value of header {name:?} contains characters not allowed in HTTP headers"
                ),
            );
            return self;
        };
        v.set_sensitive(sensitive);
        self.headers.insert(n, v);
        self
    }

    fn refuse(&mut self, field: &'static str, reason: String) {
        self.invalid.get_or_insert((field, reason));
    }

    /// The error of the first invalid setting.
    pub(crate) fn error(&self) -> Option<Error> {
        self.invalid
            .as_ref()
            .map(|(field, reason)| Error::invalid(field, reason.clone()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.timeout.is_none()
            && self.idle_timeout.is_none()
            && self.stream_reconnects.is_none()
            && self.retry.is_none()
            && self.retry_creates.is_none()
            && self.headers.is_empty()
            && self.credentials.is_none()
            && self.invalid.is_none()
    }

    /// `self`, with what `over` sets in its place.
    pub(crate) fn merged(&self, over: RequestOptions) -> RequestOptions {
        let mut headers = self.headers.clone();
        for (n, v) in &over.headers {
            headers.insert(n.clone(), v.clone());
        }
        RequestOptions {
            timeout: over.timeout.or(self.timeout),
            idle_timeout: over.idle_timeout.or(self.idle_timeout),
            stream_reconnects: over.stream_reconnects.or(self.stream_reconnects),
            retry: over.retry.or_else(|| self.retry.clone()),
            retry_creates: over.retry_creates.or(self.retry_creates),
            headers,
            credentials: over.credentials.or_else(|| self.credentials.clone()),
            invalid: self.invalid.clone().or(over.invalid),
        }
    }
}

/// Something options apply to: a client, or a handle holding one.
pub(crate) trait Customize: Sized {
    fn customized(self, options: RequestOptions) -> Self;
}

/// One call to the server, not sent yet: `.await` it, after setting options if you like
/// ([`timeout`](Call::timeout), [`idle_timeout`](Call::idle_timeout),
/// [`stream_reconnects`](Call::stream_reconnects), [`retry`](Call::retry),
/// [`retry_creates`](Call::retry_creates), [`header`](Call::header), [`api_key`](Call::api_key),
/// [`bearer_token`](Call::bearer_token), [`no_credentials`](Call::no_credentials),
/// [`options`](Call::options)). See the [module docs](self).
///
/// ```no_run
/// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
/// use std::time::Duration;
/// let thread = client
///     .get_thread("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")
///     .timeout(Duration::from_secs(1))
///     .await?;
/// # let _ = thread;
/// # Ok(())
/// # }
/// ```
#[must_use = "a call sends nothing until it is awaited"]
pub struct Call<T> {
    options: RequestOptions,
    start: Box<dyn FnOnce(RequestOptions) -> BoxFuture<'static, Result<T>> + Send>,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Call<T> {
    /// A call that runs `f` on `target`, customized with the call's options.
    pub(crate) fn new<S, F, Fut>(target: S, f: F) -> Call<T>
    where
        S: Customize + Send + 'static,
        F: FnOnce(S) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        Call {
            options: RequestOptions::default(),
            start: Box::new(move |options| {
                let target = if options.is_empty() {
                    target
                } else {
                    target.customized(options)
                };
                Box::pin(f(target))
            }),
        }
    }

    /// A call that fails at once (its input was refused).
    pub(crate) fn fail(e: Error) -> Call<T> {
        Call {
            options: RequestOptions::default(),
            start: Box::new(move |_| Box::pin(async move { Err(e) })),
        }
    }

    /// Use these options (replacing the ones set so far on this call).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::RequestOptions;
    /// let slow = RequestOptions::new().timeout(std::time::Duration::from_secs(120));
    /// let agents = client.search_agents().options(slow.clone()).await?;
    /// # let _ = agents;
    /// # Ok(())
    /// # }
    /// ```
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// See [`RequestOptions::timeout`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.search_agents().timeout(std::time::Duration::from_secs(2)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeout(self, t: Duration) -> Self {
        self.with(|o| o.timeout(t))
    }

    /// See [`RequestOptions::idle_timeout`].
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let events = run.stream().idle_timeout(std::time::Duration::from_secs(5)).await?;
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    pub fn idle_timeout(self, t: Duration) -> Self {
        self.with(|o| o.idle_timeout(t))
    }

    /// See [`RequestOptions::stream_reconnects`].
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let events = run.stream().stream_reconnects(0).await?;
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream_reconnects(self, n: u32) -> Self {
        self.with(|o| o.stream_reconnects(n))
    }

    /// See [`RequestOptions::retry`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::RetryPolicy;
    /// client.search_agents().retry(RetryPolicy::none()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.with(|o| o.retry(policy))
    }

    /// See [`RequestOptions::retry_creates`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let thread = client.new_thread().retry_creates(true).await?;
    /// # let _ = thread;
    /// # Ok(())
    /// # }
    /// ```
    pub fn retry_creates(self, yes: bool) -> Self {
        self.with(|o| o.retry_creates(yes))
    }

    /// See [`RequestOptions::header`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.search_agents().header("x-request-id", "42").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.with(|o| o.header(name, value))
    }

    /// See [`RequestOptions::sensitive_header`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.search_agents().sensitive_header("x-tenant-token", "t-secret").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sensitive_header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.with(|o| o.sensitive_header(name, value))
    }

    /// See [`RequestOptions::api_key`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.search_agents().api_key("sk-other").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn api_key(self, key: impl Into<String>) -> Self {
        self.with(|o| o.api_key(key))
    }

    /// See [`RequestOptions::bearer_token`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.search_agents().bearer_token("tok").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bearer_token(self, token: impl Into<String>) -> Self {
        self.with(|o| o.bearer_token(token))
    }

    /// See [`RequestOptions::no_credentials`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.search_agents().no_credentials().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn no_credentials(self) -> Self {
        self.with(RequestOptions::no_credentials)
    }

    /// This call with one more option set.
    fn with(mut self, set: impl FnOnce(RequestOptions) -> RequestOptions) -> Self {
        self.options = set(self.options);
        self
    }
}

impl<T: Send + 'static> IntoFuture for Call<T> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        (self.start)(self.options)
    }
}
