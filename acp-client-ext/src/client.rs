//! [`AcpClient`] and the one place its HTTP requests are sent.
//!
//! The hand-written calls do not go through the generated builders: those cannot set a header per
//! request (`Accept`, `Last-Event-ID`), a timeout per request (a stream must not inherit the
//! request timeout), or retry. So the ext client sends its own requests here, with the generated
//! *types* as bodies and results, and keeps the generated [`acp_client::Client`] (on the same
//! connection pool and credentials) as an escape hatch: [`AcpClient::generated`].

use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// An ACP client: cheap to clone (one connection pool), safe to share between tasks.
///
/// ```no_run
/// # async fn demo() -> acp_client_ext::Result<()> {
/// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
/// let agents = client.search_agents().await?;
/// println!("{} agents", agents.len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AcpClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    /// Set when the caller supplied the `reqwest::Client`: then credentials and headers are added
    /// to each request instead of being the client's defaults.
    pub(crate) per_request_headers: Option<HeaderMap>,
    pub(crate) generated: acp_client::Client,
    pub(crate) config: ClientBuilder,
}

impl fmt::Debug for AcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The builder's Debug redacts secrets; reqwest's clients are left out (they would list
        // default headers, though marked sensitive).
        f.debug_struct("AcpClient")
            .field("base_url", &self.inner.base)
            .field("config", &self.inner.config)
            .finish()
    }
}

/// Whether a failed request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// GET, wait, join, cancel, delete: retried per the policy.
    Idempotent,
    /// A POST that creates something: retried only if the caller opted in.
    Create,
}

/// One request, described before it is sent (so it can be sent again).
pub(crate) struct Call<'a> {
    pub operation: &'static str,
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'a str, String)>,
    pub body: Option<bytes::Bytes>,
    pub headers: HeaderMap,
    /// `None`: no total timeout (streams, long waits).
    pub timeout: Option<Duration>,
    pub idempotency: Idempotency,
}

impl<'a> Call<'a> {
    pub(crate) fn new(operation: &'static str, method: Method, path: String) -> Call<'a> {
        Call {
            operation,
            method,
            path,
            query: Vec::new(),
            body: None,
            headers: HeaderMap::new(),
            timeout: Some(Duration::ZERO), // replaced by the client's request timeout
            idempotency: Idempotency::Idempotent,
        }
    }

    pub(crate) fn json_body<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid("request body", format!("cannot be serialized: {e}")))?;
        self.body = Some(bytes.into());
        Ok(self)
    }

    /// A body that is already JSON (a create body, serialized once by [`create_body`]).
    ///
    /// [`create_body`]: crate::run::create_body
    pub(crate) fn json_bytes(mut self, body: &JsonBody) -> Self {
        self.body = Some(body.0.clone());
        self
    }

    pub(crate) fn query(mut self, key: &'a str, value: impl ToString) -> Self {
        self.query.push((key, value.to_string()));
        self
    }

    pub(crate) fn creates(mut self) -> Self {
        self.idempotency = Idempotency::Create;
        self
    }

    pub(crate) fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }
}

impl AcpClient {
    /// A client for the server at `base_url`, with default settings.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// assert!(acp_client_ext::AcpClient::new("not a url").is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn new(base_url: impl Into<String>) -> Result<AcpClient> {
        ClientBuilder::new(base_url).build()
    }

    /// Start configuring a client for `base_url`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123")
    ///     .request_timeout(Duration::from_secs(10))
    ///     .build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// A client configured from the environment; see [`ClientBuilder::from_env`].
    ///
    /// ```
    /// // With ACP_URL unset this is a configuration error naming the variable.
    /// # unsafe { std::env::remove_var("ACP_URL") };
    /// let err = acp_client_ext::AcpClient::from_env().unwrap_err();
    /// assert!(err.to_string().contains("ACP_URL"));
    /// ```
    pub fn from_env() -> Result<AcpClient> {
        ClientBuilder::from_env()?.build()
    }

    pub(crate) fn from_builder(config: ClientBuilder) -> Result<AcpClient> {
        let base = validate_base_url(&config.base_url)?;
        for (field, d) in [
            ("connect_timeout", config.connect_timeout),
            ("request_timeout", config.request_timeout),
            ("idle_timeout", config.idle_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::invalid(field, "must be greater than zero"));
            }
        }
        if config.max_event_size == 0 {
            return Err(Error::invalid(
                "max_event_size",
                "must be greater than zero",
            ));
        }
        let headers = config.default_headers()?;
        let (http, per_request_headers) = match &config.http {
            Some(http) => (http.clone(), Some(headers)),
            None => {
                let http = reqwest::Client::builder()
                    .default_headers(headers)
                    .connect_timeout(config.connect_timeout)
                    .tls_danger_accept_invalid_certs(config.danger_accept_invalid_certs)
                    .build()
                    .map_err(|e| Error::Config(format!("building the HTTP client: {e}")))?;
                (http, None)
            }
        };
        let generated = acp_client::Client::new_with_client(&base, http.clone());
        Ok(AcpClient {
            inner: Arc::new(Inner {
                base,
                http,
                per_request_headers,
                generated,
                config,
            }),
        })
    }

    /// The server's base URL, without a trailing slash.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123/acp/")?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123/acp");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The generated low-level client, sharing this client's connections and credentials (when
    /// this client built its own `reqwest::Client`): every ACP operation, in builder style.
    ///
    /// ```
    /// use acp_client::prelude::*;
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
    /// let _request = client.generated().get_thread().thread_id(uuid::Uuid::nil());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn generated(&self) -> &acp_client::Client {
        &self.inner.generated
    }

    /// The retry policy in force.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RetryPolicy};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// assert_eq!(client.retry_policy(), &RetryPolicy::default());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.config.retry
    }

    pub(crate) fn config(&self) -> &ClientBuilder {
        &self.inner.config
    }

    /// Send a request, retrying per policy, and return a success response. A non-2xx status is
    /// an [`Error::Api`] with the server's message.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<reqwest::Response> {
        let policy = &self.inner.config.retry;
        let may_retry = match call.idempotency {
            Idempotency::Idempotent => true,
            Idempotency::Create => self.inner.config.retry_creates,
        };
        let mut attempt = 0u32;
        loop {
            let result = self.send_once(call).await;
            match result {
                Err(e) if may_retry && e.is_retryable() && attempt < policy.max_retries => {
                    attempt += 1;
                    let pause = policy.backoff(attempt, None);
                    tracing::debug!(
                        operation = call.operation,
                        attempt,
                        ?pause,
                        error = %e,
                        "retrying"
                    );
                    tokio::time::sleep(pause).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<reqwest::Response> {
        let url = format!("{}{}", self.inner.base, call.path);
        let mut req = self.inner.http.request(call.method.clone(), &url);
        if let Some(h) = &self.inner.per_request_headers {
            req = req.headers(h.clone());
        }
        req = req.headers(call.headers.clone());
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        if let Some(body) = &call.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        match call.timeout {
            Some(t) if t.is_zero() => req = req.timeout(self.inner.config.request_timeout),
            Some(t) => req = req.timeout(t),
            None => {}
        }
        tracing::debug!(operation = call.operation, method = %call.method, path = %call.path, "request");
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                Error::Timeout {
                    operation: call.operation,
                    after: call.timeout.unwrap_or(self.inner.config.request_timeout),
                }
            } else {
                Error::transport(call.operation, e)
            }
        })?;
        let status = resp.status();
        tracing::debug!(
            operation = call.operation,
            status = status.as_u16(),
            "response"
        );
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.bytes().await.unwrap_or_default();
        Err(Error::api(call.operation, status, &body))
    }

    /// Send and decode a JSON response into `T`.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T> {
        let (status, body) = self.bytes(call).await?;
        decode_json(call.operation, status, &body)
    }

    /// Send and read the whole success body.
    pub(crate) async fn bytes(&self, call: &Call<'_>) -> Result<(StatusCode, bytes::Bytes)> {
        let resp = self.send(call).await?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::transport(call.operation, e))?;
        Ok((status, body))
    }
}

/// A request body already serialized to JSON; cloning it (for a retry) does not copy it.
#[derive(Debug, Clone)]
pub(crate) struct JsonBody(pub(crate) bytes::Bytes);

/// Decode a JSON body, with an excerpt of it in the error.
pub(crate) fn decode_json<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    body: &[u8],
) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::decode(format!("{operation} response ({status})"), e, body))
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
}
