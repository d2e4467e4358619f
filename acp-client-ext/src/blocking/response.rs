//! The answer of [`Client::send_operation`](super::Client::send_operation), read blocking.

use super::Rt;
use crate::error::{Error, Result, endpoint_of};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use std::fmt;

/// A server's success response to [`Client::send_operation`](super::Client::send_operation):
/// its status and headers at once, its body read on the client's runtime when asked
/// ([`bytes`](Self::bytes), [`text`](Self::text), [`json`](Self::json), or piece by piece with
/// [`chunk`](Self::chunk), e.g. for an event stream).
pub struct Response {
    inner: reqwest::Response,
    operation: &'static str,
    rt: Rt,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Response")
            .field("operation", &self.operation)
            .field("status", &self.inner.status())
            .finish_non_exhaustive()
    }
}

impl Response {
    pub(super) fn new(inner: reqwest::Response, operation: &'static str, rt: &Rt) -> Response {
        Response {
            inner,
            operation,
            rt: rt.clone(),
        }
    }

    /// The HTTP status (a success: other answers are errors).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let answer = client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?;
    /// assert!(answer.status().is_success());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The response headers.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let answer = client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?;
    /// println!("{:?}", answer.headers().get("content-type"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The whole body.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] or [`Error::Timeout`] when the body cannot be read.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let body = client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?.bytes()?;
    /// println!("{} bytes", body.len());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn bytes(self) -> Result<Bytes> {
        let (operation, endpoint) = (self.operation, endpoint_of(self.inner.url()));
        let read = self.rt.block_on(self.inner.bytes())?;
        read.map_err(|e| Error::transport(operation, &endpoint, false, e))
    }

    /// The whole body as text (lossily decoded as UTF-8).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// println!("{}", client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?.text()?);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn text(self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.bytes()?).into_owned())
    }

    /// The whole body decoded from JSON into `T`.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the body is not a `T` in JSON, and the errors of
    /// [`bytes`](Self::bytes).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let agents: Vec<serde_json::Value> = client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?.json()?;
    /// # let _ = agents;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        let operation = self.operation;
        let body = self.bytes()?;
        serde_json::from_slice(&body).map_err(|e| Error::decode(operation, e, &body))
    }

    /// The next piece of the body as it arrives, `None` at its end.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let mut answer = client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?;
    /// while let Some(piece) = answer.chunk()? {
    ///     println!("{} bytes", piece.len());
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn chunk(&mut self) -> Result<Option<Bytes>> {
        let read = self.rt.block_on(self.inner.chunk())?;
        read.map_err(|e| Error::transport(self.operation, &endpoint_of(self.inner.url()), false, e))
    }
}
