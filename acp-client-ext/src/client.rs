//! [`AcpClient`]: built once from a [`ClientBuilder`] into a private [`Config`], cheap to
//! clone. Requests are sent by [`crate::transport`].

use crate::config::{ClientBuilder, Config};
use crate::error::{Error, Result};
use crate::ops::Operation;
use crate::options::RequestOptions;
use crate::retry::RetryPolicy;
use reqwest::header::HeaderMap;
use std::fmt;
use std::sync::Arc;

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
    /// Options of every call made through this clone ([`AcpClient::with_options`]).
    options: Option<Arc<RequestOptions>>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    /// Carries the plain headers and the credentials as default headers (when this crate built
    /// it), so the generated client sends the same headers.
    pub(crate) http: reqwest::Client,
    /// The same settings without credential headers: for a redirect to another origin and for
    /// per-call credentials that remove the client's.
    pub(crate) bare: reqwest::Client,
    pub(crate) generated: acp_client::Client,
}

impl fmt::Debug for AcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The resolved config's Debug names credential headers, never their values; reqwest's
        // clients are left out.
        f.debug_struct("AcpClient")
            .field("base_url", &self.inner.config.base)
            .field("config", &self.inner.config)
            .field("options", &self.options)
            .finish()
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

    pub(crate) fn from_builder(b: ClientBuilder) -> Result<AcpClient> {
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
        let api_key_header = crate::config::header_name("api_key_header", &b.api_key_header)?;
        let url = url::Url::parse(&base).map_err(|e| Error::invalid("base_url", e.to_string()))?;
        let (http, bare, per_request) = match &b.http {
            Some(http) => {
                let mut all = plain.clone();
                all.extend(creds.clone());
                let headers = crate::config::PerRequestHeaders { all, plain };
                (http.clone(), http.clone(), Some(headers))
            }
            None => {
                let build = |headers: HeaderMap| -> Result<reqwest::Client> {
                    let builder = reqwest::Client::builder()
                        .default_headers(headers)
                        .connect_timeout(b.connect_timeout)
                        // Redirects are followed by the transport (see its docs).
                        .redirect(reqwest::redirect::Policy::none());
                    let builder = tls(builder, &b)?;
                    builder
                        .build()
                        .map_err(|e| Error::Config(format!("building the HTTP client: {e}")))
                };
                let mut all = plain.clone();
                all.extend(creds.clone());
                (build(all)?, build(plain)?, None)
            }
        };
        let generated = acp_client::Client::new_with_client(&base, http.clone());
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
            stream_reconnects: b.stream_reconnects,
            max_event_size: b.max_event_size,
            credential_names: creds.keys().cloned().collect(),
            api_key_header,
            per_request,
            custom_http_client: b.http.is_some(),
            danger_accept_invalid_certs: b.danger_accept_invalid_certs,
            has_api_key: b.api_key.is_some(),
            has_bearer: b.bearer.is_some(),
        };
        Ok(AcpClient {
            inner: Arc::new(Inner {
                config,
                http,
                bare,
                generated,
            }),
            options: None,
        })
    }

    /// This client with `options` applied to every call it makes (merged with options it
    /// already had; a call's own options win). Shares the connection pool: cheap.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RequestOptions};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let tenant = client.with_options(RequestOptions::new().header("x-tenant", "acme"));
    /// assert!(format!("{tenant:?}").contains("x-tenant"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> AcpClient {
        let options = match &self.options {
            Some(mine) => mine.merged(options),
            None => options,
        };
        AcpClient {
            inner: self.inner.clone(),
            options: Some(Arc::new(options)),
        }
    }

    /// This client without per-call options (for the handles a call returns).
    pub(crate) fn plain(&self) -> AcpClient {
        AcpClient {
            inner: self.inner.clone(),
            options: None,
        }
    }

    /// A call that sends `req` (or fails with its error) and decodes the JSON answer.
    pub(crate) fn json_call<T>(&self, req: Result<crate::transport::Req>) -> crate::Call<T>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        match req {
            Ok(req) => crate::Call::new(self.clone(), move |c| async move { c.json(&req).await }),
            Err(e) => crate::Call::fail(e),
        }
    }

    /// Send any ACP operation by its `operationId` (see [`Operation::all`]): `path_params` fill
    /// the path template by name (`("thread_id", "…")`), `query` is added as is, `body` is sent
    /// as JSON. The request goes through the same transport as every call of this client
    /// (credentials, retries by the operation's idempotency, redirects, timeouts, errors); the
    /// answer is the server's success response, unread (for an operation that
    /// [streams](Operation::streams), checked to be an event stream). For scripts and tools that
    /// reach operations the typed calls do not cover, such as the `acp op` command.
    ///
    /// Refused before anything is sent, as [`Error::InvalidInput`]: an unknown `operationId`, a
    /// path parameter missing, unknown to the template or given twice, or a value that is not
    /// one path segment (empty, `.`, `..`, or holding a `/`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let answer = client
    ///     .send_operation("get_thread", &[("thread_id", "5b2c…")], &[], None)
    ///     .await?;
    /// let thread: serde_json::Value = serde_json::from_slice(&answer.bytes().await?)?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_operation(
        &self,
        operation_id: &str,
        path_params: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        let op = Operation::find(operation_id).ok_or_else(|| {
            Error::invalid(
                "operation_id",
                format!("{operation_id:?} is not an ACP operation"),
            )
        })?;
        let names: Vec<&str> = op.path_params().collect();
        for (i, (name, value)) in path_params.iter().enumerate() {
            if !names.contains(name) {
                return Err(Error::invalid(
                    "path_params",
                    format!(
                        "{name:?} is not a parameter of {} {} (it has: {})",
                        op.id(),
                        op.path(),
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                ));
            }
            if path_params[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::invalid(
                    "path_params",
                    format!("{name:?} is given twice"),
                ));
            }
            if value.is_empty() || *value == "." || *value == ".." || value.contains('/') {
                return Err(Error::invalid(
                    "path_params",
                    format!("{name} = {value:?} is not one path segment"),
                ));
            }
        }
        let mut args: Vec<&dyn std::fmt::Display> = Vec::with_capacity(names.len());
        for name in &names {
            let value = path_params.iter().find(|(n, _)| n == name).ok_or_else(|| {
                Error::invalid(
                    "path_params",
                    format!(
                        "{} needs the path parameter {name} ({})",
                        op.id(),
                        op.path()
                    ),
                )
            })?;
            args.push(&value.1);
        }
        let mut req = crate::transport::Req::new(op.0, &args);
        req.query = query
            .iter()
            .map(|(k, v)| (std::borrow::Cow::Owned(k.to_string()), v.to_string()))
            .collect();
        if let Some(body) = body {
            req = req.json_body(body)?;
        }
        if op.streams() {
            self.open_stream(&req).await
        } else {
            self.execute(&req).await
        }
    }

    pub(crate) fn options(&self) -> Option<&RequestOptions> {
        self.options.as_deref()
    }

    /// The server's base URL, without a trailing slash.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123/acp/")?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123/acp");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.config.base
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

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// The TLS settings of the builder: certificate validation, extra roots.
fn tls(builder: reqwest::ClientBuilder, b: &ClientBuilder) -> Result<reqwest::ClientBuilder> {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    {
        let mut builder = builder.tls_danger_accept_invalid_certs(b.danger_accept_invalid_certs);
        if let Some(path) = &b.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Config(format!("reading the CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::Config(format!("the CA file {} is not PEM: {e}", path.display()))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(builder)
    }
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    {
        if let Some(path) = &b.ca_file {
            return Err(Error::Config(format!(
                "CA file {}: this build has no TLS (enable the `rustls` or `native-tls` feature)",
                path.display()
            )));
        }
        Ok(builder)
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
}
