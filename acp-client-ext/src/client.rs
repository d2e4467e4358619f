//! [`AcpClient`]: a thin, cheap-to-clone handle on the [transport core](crate::transport), built
//! once from a [`ClientBuilder`]. The operations it offers live with what they operate on
//! (agents, threads, runs); this file has construction, options and the escape hatches.

use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::ops::Operation;
use crate::options::{Call, Customize, RequestOptions};
use crate::retry::RetryPolicy;
use crate::transport::{Req, Settings, Transport};
use bytes::Bytes;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::fmt;

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
    transport: Transport,
}

impl fmt::Debug for AcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never a credential: see the transport's Debug.
        self.transport.fmt(f)
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
        AcpClient {
            transport: self.transport.with_options(options),
        }
    }

    /// This client without per-call options (for the handles a call returns).
    pub(crate) fn plain(&self) -> AcpClient {
        AcpClient {
            transport: self.transport.plain(),
        }
    }

    /// A call that sends `req` (or fails with its error) and decodes the JSON answer.
    pub(crate) fn json_call<T>(&self, req: Result<Req>) -> Call<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        match req {
            Ok(req) => Call::new(self.clone(), move |c| async move { c.json(&req).await }),
            Err(e) => Call::fail(e),
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
        let values = op.path_values(path_params)?;
        let args: Vec<&dyn std::fmt::Display> =
            values.iter().map(|v| v as &dyn std::fmt::Display).collect();
        let mut req = Req::new(op.0, &args);
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

    /// The server's base URL, without a trailing slash.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123/acp/")?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123/acp");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        self.transport.base_url()
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
        self.transport.generated()
    }

    /// The retry policy in force (the client's, or the one of its [options](Self::with_options)).
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RetryPolicy};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// assert_eq!(client.retry_policy(), &RetryPolicy::default());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.transport.settings().retry
    }

    /// The settings in force for calls made through this client: its configuration with its
    /// options merged in.
    pub(crate) fn settings(&self) -> &Settings {
        self.transport.settings()
    }

    /// Send `req` through the transport ([`Transport::execute`]).
    pub(crate) async fn execute(&self, req: &Req) -> Result<reqwest::Response> {
        self.transport.execute(req).await
    }

    /// Send and decode a JSON response into `T`.
    pub(crate) async fn json<T: DeserializeOwned>(&self, req: &Req) -> Result<T> {
        self.transport.json(req).await
    }

    /// Send and read the whole success body.
    pub(crate) async fn bytes(&self, req: &Req) -> Result<(StatusCode, Bytes)> {
        self.transport.bytes(req).await
    }

    /// Send `req`, again without the query parameters of `droppable` the server refuses
    /// ([`Transport::execute_dropping_refused_query`]); the names left out come back.
    pub(crate) async fn execute_dropping_refused_query(
        &self,
        req: &Req,
        droppable: &[&'static str],
    ) -> Result<(reqwest::Response, Vec<&'static str>)> {
        self.transport
            .execute_dropping_refused_query(req, droppable)
            .await
    }

    /// As [`execute_dropping_refused_query`](Self::execute_dropping_refused_query), the answer
    /// decoded as JSON.
    pub(crate) async fn json_dropping_refused_query<T: DeserializeOwned>(
        &self,
        req: &Req,
        droppable: &[&'static str],
    ) -> Result<(T, Vec<&'static str>)> {
        self.transport
            .json_dropping_refused_query(req, droppable)
            .await
    }

    /// Send a stream request and check that the answer is an event stream.
    pub(crate) async fn open_stream(&self, req: &Req) -> Result<reqwest::Response> {
        self.transport.open_stream(req).await
    }
}

impl Customize for AcpClient {
    fn customized(self, options: RequestOptions) -> Self {
        self.with_options(options)
    }
}

impl ClientBuilder {
    /// Check the configuration and build the client. Every bad value is refused here, before any
    /// request, with an error naming it.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::builder("http://127.0.0.1:8123/").build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// let err = acp_client_ext::AcpClient::builder("ftp://example.com").build().unwrap_err();
    /// assert!(err.to_string().contains("base_url"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn build(self) -> Result<AcpClient> {
        Ok(AcpClient {
            transport: Transport::new(self.resolve()?),
        })
    }
}
