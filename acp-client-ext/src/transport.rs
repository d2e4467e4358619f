//! The transport core: the one place a request is sent. A [`Transport`] holds the client's
//! resolved configuration and connection pools (shared by every clone) and the [`Settings`] of
//! the calls made through it: the configuration merged, once, with the options of the call
//! (timeouts, retries, stream reconnects, headers, credentials). [`Transport::execute`] owns
//! retries, timeouts, redirects, server hints, the tracing spans (one per request sent, see
//! [`crate::telemetry`]), the trace context headers and the construction of errors; streams and waits read their limits from [`Transport::settings`]. The user-facing
//! modules only build a [`Req`] from the [operations table](crate::ops) and decode the answer.
//!
//! The shape is `reqwest`'s: `ClientBuilder` → a private `Config` → `Arc<ClientRef>`; here
//! [`ClientBuilder`](crate::ClientBuilder) → [`Config`] → `Arc<Shared>`, with the per-call
//! [`Settings`] beside it.
//!
//! # Why not the generated client's hooks
//!
//! progenitor 0.15's `ClientHooks` (`pre`, `exec`, `post`) would let `exec` own retries, as
//! oxide.rs hangs its logging there. But the hooks are implemented for `&acp_client::Client` in
//! the generated crate (a no-op `impl ClientHooks<()> for &Client {}`), so another crate cannot
//! override them; they see a built `reqwest::Request` whose body may be a stream that cannot be
//! sent twice; and the generated builders cannot set a per-request `Accept` or `Last-Event-ID`,
//! nor leave a stream without a total timeout. So the ext sends its own requests, with the
//! generated *types* as bodies and answers, on the same `reqwest::Client` as
//! [`AcpClient::generated`] (one pool, the same default headers).
//!
//! # Redirects: followed here, not by `reqwest`
//!
//! The client's own `reqwest::Client` is built with `redirect::Policy::none()` and `execute`
//! follows redirects itself, because `reqwest`'s policy cannot do what is required: it strips only
//! `Authorization`, `Cookie` and `Proxy-Authorization` on a cross-host hop (an `x-api-key` header
//! goes along), a custom policy sees the URLs but cannot touch headers, and it turns a `POST`
//! answered `301`/`302`/`303` into a `GET` without the body. Here a redirected request is exactly
//! the same request (`307`/`308`: same method and body; `301`/`302`/`303` only for a `GET`), or an
//! [`Error::Redirect`] naming it; and credentials (the API key header, the bearer token, every
//! header marked sensitive) go to the base URL's origin only: a hop to another origin is sent
//! through a second `reqwest::Client` that has no credential headers (the only request that does
//! not use the main pool).
//!
//! # Retries: one classifier
//!
//! [`retry_decision`] decides for requests here, and the stream's rejoins and the wait's polls
//! use the same [`Error::is_retryable`] and the same [`Backoff`]. A server's `Retry-After`
//! (seconds or an HTTP date) is the floor of the pause, [`RetryPolicy::max_backoff`] its cap.
//!
//! # A reused connection the server closed (and what hyper can tell)
//!
//! `reqwest` sends through hyper-util's pooled client. When a pooled connection is found closed
//! *before* the request is written to it, hyper hands the request back unsent and hyper-util sends
//! it on a new connection (`retry_canceled_requests`, on in `reqwest`); that case never reaches
//! this code. Once the request has been handed to a connection, a reset or an early close
//! (`connection reset by peer`, "connection closed before message completed") cannot say whether
//! the server read the request: its bytes were in the socket. The one failure `reqwest` can prove
//! happened before anything was sent is a connect error ([`reqwest::Error::is_connect`]: the
//! connection was never established, or the TLS handshake failed). So a create is sent again by
//! default only after a connect error or a connect timeout; any other transport failure of a
//! create is an [`Error::Transport`] of kind [`TransportKind::Request`] with
//! `may_have_created: true`, whose message says the run (or thread) may exist.
//!
//! [`RetryPolicy::max_backoff`]: crate::RetryPolicy::max_backoff

use crate::config::{Config, Resolved};
use crate::decode::decode_json;
use crate::error::{Error, Result, StreamCause, TimeoutKind, endpoint_of};
use crate::ops::{Op, TimeoutClass};
use crate::options::RequestOptions;
use crate::retry::{Backoff, RetryPolicy, retry_after};
use crate::secret::Credentials;
use crate::telemetry;
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::fmt::{self, Display};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Redirects followed for one request, at most.
const MAX_REDIRECTS: usize = 10;

/// What every clone of a client shares: the configuration and the connection pools.
pub(crate) struct Shared {
    config: Config,
    /// Carries the plain headers and the credentials as default headers (when this crate built
    /// it), so the generated client sends the same headers.
    http: reqwest::Client,
    /// The same settings without credential headers: for a redirect to another origin and for
    /// per-call credentials that remove the client's.
    bare: reqwest::Client,
    generated: acp_client::Client,
}

/// The settings of the calls made through one [`Transport`]: the client's configuration with
/// the options of the call (and of the client clone or handle it was made through) merged in,
/// once, when the options were given. Every loop (requests, stream rejoins, wait polls) reads
/// its limits here, never from the configuration.
pub(crate) struct Settings {
    pub(crate) request_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) retry_creates: bool,
    pub(crate) tag_creates: bool,
    pub(crate) stream_reconnects: u32,
    pub(crate) max_event_size: usize,
    /// Extra headers of the options (added after the client's).
    headers: HeaderMap,
    /// Credentials in place of the client's.
    credentials: Option<Credentials>,
    /// The options merged in (for `Debug`, and to merge more).
    options: Option<RequestOptions>,
}

impl Settings {
    fn new(config: &Config, options: Option<RequestOptions>) -> Settings {
        let o = options.as_ref();
        Settings {
            request_timeout: o.and_then(|o| o.timeout).unwrap_or(config.request_timeout),
            idle_timeout: o
                .and_then(|o| o.idle_timeout)
                .unwrap_or(config.idle_timeout),
            retry: o
                .and_then(|o| o.retry.clone())
                .unwrap_or_else(|| config.retry.clone()),
            retry_creates: o
                .and_then(|o| o.retry_creates)
                .unwrap_or(config.retry_creates),
            tag_creates: config.tag_creates,
            stream_reconnects: o
                .and_then(|o| o.stream_reconnects)
                .unwrap_or(config.stream_reconnects),
            max_event_size: config.max_event_size,
            headers: o.map(|o| o.headers.clone()).unwrap_or_default(),
            credentials: o.and_then(|o| o.credentials.clone()),
            options,
        }
    }
}

/// A handle on the transport: the shared configuration and pools, and the settings of the
/// calls made through it. Cheap to clone (two `Arc`s).
#[derive(Clone)]
pub(crate) struct Transport {
    shared: Arc<Shared>,
    settings: Arc<Settings>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The resolved config's Debug names credential headers, never their values; reqwest's
        // clients are left out.
        f.debug_struct("AcpClient")
            .field("base_url", &self.shared.config.base)
            .field("config", &self.shared.config)
            .field("options", &self.settings.options)
            .finish()
    }
}

impl Transport {
    /// The transport of a newly built client.
    pub(crate) fn new(resolved: Resolved) -> Transport {
        let Resolved { config, http, bare } = resolved;
        let generated = acp_client::Client::new_with_client(&config.base, http.clone());
        let settings = Arc::new(Settings::new(&config, None));
        Transport {
            shared: Arc::new(Shared {
                config,
                http,
                bare,
                generated,
            }),
            settings,
        }
    }

    /// This transport with `options` merged over the ones it has (theirs win).
    pub(crate) fn with_options(&self, options: RequestOptions) -> Transport {
        let options = match &self.settings.options {
            Some(mine) => mine.merged(options),
            None => options,
        };
        Transport {
            shared: self.shared.clone(),
            settings: Arc::new(Settings::new(&self.shared.config, Some(options))),
        }
    }

    /// This transport without any options: the client's settings.
    pub(crate) fn plain(&self) -> Transport {
        Transport {
            shared: self.shared.clone(),
            settings: Arc::new(Settings::new(&self.shared.config, None)),
        }
    }

    /// The settings in force for calls made through this transport.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The options merged into [`settings`](Self::settings), if any.
    pub(crate) fn options(&self) -> Option<&RequestOptions> {
        self.settings.options.as_ref()
    }

    /// The base URL, without a trailing slash.
    pub(crate) fn base_url(&self) -> &str {
        &self.shared.config.base
    }

    /// The generated client on the same pool.
    pub(crate) fn generated(&self) -> &acp_client::Client {
        &self.shared.generated
    }

    /// Whether the client sends credentials of its own (an API key, a bearer token or a
    /// sensitive header), or this call brings some.
    pub(crate) fn has_credentials(&self) -> bool {
        match &self.settings.credentials {
            Some(Credentials::None) => false,
            Some(_) => true,
            None => !self.shared.config.credential_names.is_empty(),
        }
    }
}

/// One request, described before it is sent (so that it can be sent again).
#[derive(Clone)]
pub(crate) struct Req {
    pub(crate) op: &'static Op,
    pub(crate) path: String,
    pub(crate) query: Vec<(Cow<'static, str>, String)>,
    pub(crate) body: Option<Bytes>,
    pub(crate) headers: HeaderMap,
}

impl Req {
    /// A request of `op`, its path parameters filled from `args` in order.
    pub(crate) fn new(op: &'static Op, args: &[&dyn Display]) -> Req {
        Req {
            op,
            path: op.path(args),
            query: Vec::new(),
            body: None,
            headers: HeaderMap::new(),
        }
    }

    pub(crate) fn json_body<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid("request body", format!("cannot be serialized: {e}")))?;
        self.body = Some(bytes.into());
        Ok(self)
    }

    /// A body that is already JSON (serialized once, cloned for free on a retry).
    pub(crate) fn json_bytes(mut self, body: &Bytes) -> Self {
        self.body = Some(body.clone());
        self
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl ToString) -> Self {
        self.query.push((Cow::Borrowed(key), value.to_string()));
        self
    }
}

/// Whether a failed attempt is sent again: after a connect failure always (nothing was sent);
/// otherwise only a retryable error ([`Error::is_retryable`]) of an operation that may be
/// repeated (not a create, unless the caller opted in).
pub(crate) fn retry_decision(e: &Error, op: &Op, retry_creates: bool) -> bool {
    e.is_connect() || ((!op.creates() || retry_creates) && e.is_retryable())
}

/// The server's hint of when to come back, from an error.
fn hint(e: &Error) -> Option<Duration> {
    match e {
        Error::Api { retry_after, .. } => *retry_after,
        _ => None,
    }
}

impl Transport {
    /// Send `req`, following redirects and retrying per policy; a non-2xx answer is an
    /// [`Error::Api`] with the server's message. Each HTTP request sent (each retry, each
    /// redirect hop) is one span of [`telemetry::request_span`].
    pub(crate) async fn execute(&self, req: &Req) -> Result<reqwest::Response> {
        if let Some(e) = self.options().and_then(|o| o.error()) {
            return Err(e);
        }
        let settings = self.settings();
        let policy = &settings.retry;
        let mut backoff = Backoff::new();
        let mut attempt = 0u32;
        loop {
            match self.send_following(req, attempt).await {
                Err(e)
                    if attempt < policy.max_retries
                        && retry_decision(&e, req.op, settings.retry_creates) =>
                {
                    attempt += 1;
                    let pause = backoff.next(policy, hint(&e));
                    tracing::debug!(
                        "acp.operation" = req.op.id,
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

    /// `fut` bounded as the operation's requests are: the wait for a stream's headers (and an
    /// error answer's body) by the idle timeout, others by their own timeouts.
    async fn bounded<T>(&self, op: &Op, fut: impl Future<Output = Result<T>>) -> Result<T> {
        match op.timeout {
            TimeoutClass::Stream => {
                let idle = self.settings().idle_timeout;
                tokio::time::timeout(idle, fut).await.unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        operation: op.id,
                        kind: TimeoutKind::IdleStream,
                        after: idle,
                    })
                })
            }
            _ => fut.await,
        }
    }

    /// One attempt: the request and the redirects it is answered with. `retries`: how many
    /// attempts were made before this one.
    async fn send_following(&self, req: &Req, retries: u32) -> Result<reqwest::Response> {
        let config = &self.shared.config;
        // The base URL parsed at build, with the operation's path (whose parameters are ids:
        // nothing to escape); no URL parse per request.
        let mut url = config.base_url.clone();
        if config.base_path.is_empty() {
            url.set_path(&req.path);
        } else {
            url.set_path(&format!("{}{}", config.base_path, req.path));
        }
        if !req.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(req.query.iter().map(|(k, v)| (k.as_ref(), v.as_str())));
        }
        let method = req.op.verb.method();
        let mut cross_origin = false;
        let mut hops = 0;
        loop {
            let span = telemetry::request_span(
                req.op,
                &method,
                &url,
                &req.path,
                req.body.as_ref(),
                retries + hops,
            );
            let sent = self
                .bounded(req.op, self.send_one(&method, url, req, cross_origin))
                .instrument(span.clone())
                .await;
            let resp = match sent {
                Ok(resp) => resp,
                Err(e) => {
                    telemetry::record_error(&span, &e);
                    return Err(e);
                }
            };
            let status = resp.status();
            telemetry::record_status(&span, status);
            let location = resp.headers().get(LOCATION).cloned();
            let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            let (true, Some(location)) = (redirect, location) else {
                return self
                    .bounded(req.op, self.checked(req.op, resp))
                    .instrument(span)
                    .await;
            };
            let endpoint = endpoint_of(resp.url());
            let refuse = |reason: &'static str| {
                let e = Error::Redirect {
                    operation: req.op.id,
                    endpoint: endpoint.clone(),
                    status,
                    location: String::from_utf8_lossy(location.as_bytes()).into_owned(),
                    reason,
                };
                telemetry::record_error(&span, &e);
                e
            };
            let next = location
                .to_str()
                .ok()
                .and_then(|l| resp.url().join(l).ok())
                .ok_or_else(|| refuse("the Location is not a URL"))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(refuse("the Location is not an http(s) URL"));
            }
            if status.as_u16() <= 303 && method != Method::GET {
                return Err(refuse(
                    "it would send the request again as a GET without its body",
                ));
            }
            if hops as usize == MAX_REDIRECTS {
                return Err(refuse("too many redirects"));
            }
            hops += 1;
            cross_origin |= next.origin() != config.origin;
            span.in_scope(|| {
                tracing::debug!(%status, to = %endpoint_of(&next), cross_origin, "following a redirect");
            });
            url = next;
        }
    }

    /// Send one HTTP request. `cross_origin`: the URL is not on the base URL's origin, so no
    /// credential goes with it.
    async fn send_one(
        &self,
        method: &Method,
        url: Url,
        req: &Req,
        cross_origin: bool,
    ) -> Result<reqwest::Response> {
        let config = &self.shared.config;
        let inner = &self.shared;
        let settings = self.settings();
        let creds_override = settings.credentials.as_ref();
        // The main client carries the credentials as default headers (so that `generated()`
        // sends them too); a request that must go without them, or with others in their place,
        // goes through the client without credentials.
        let override_headers = match creds_override {
            Some(c) => Some(c.headers(&config.api_key_header)?),
            None => None,
        };
        let replaces_defaults = override_headers
            .as_ref()
            .is_none_or(|h| config.credential_names.iter().all(|n| h.contains_key(n)));
        let http = if config.per_request.is_none() && (cross_origin || !replaces_defaults) {
            &inner.bare
        } else {
            &inner.http
        };
        tracing::debug!("request");
        let mut rb = http.request(method.clone(), url);
        if let Some(h) = &config.per_request {
            rb = rb.headers(if !cross_origin && override_headers.is_none() {
                h.all.clone()
            } else {
                h.plain.clone()
            });
        }
        if !cross_origin && let Some(h) = override_headers {
            rb = rb.headers(h);
        }
        if !req.headers.is_empty() {
            rb = rb.headers(req.headers.clone());
        }
        if !settings.headers.is_empty() {
            let mut extra = settings.headers.clone();
            if cross_origin {
                strip_sensitive(&mut extra);
            }
            rb = rb.headers(extra);
        }
        let trace = telemetry::trace_headers(&tracing::Span::current());
        if !trace.is_empty() {
            rb = rb.headers(trace);
        }
        if let Some(body) = &req.body {
            rb = rb
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let timeout = match req.op.timeout {
            TimeoutClass::Request => Some(settings.request_timeout),
            _ => None,
        };
        if let Some(t) = timeout {
            rb = rb.timeout(t);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| self.send_error(req.op, e, timeout))?;
        tracing::debug!(
            "http.response.status_code" = resp.status().as_u16(),
            "response"
        );
        Ok(resp)
    }

    /// The error of a failed send (or body read). The endpoint is the one in `reqwest`'s error
    /// (the URL it was sending to), else the base URL's.
    fn send_error(&self, op: &Op, e: reqwest::Error, timeout: Option<Duration>) -> Error {
        if e.is_timeout() {
            let (kind, after) = if e.is_connect() {
                (TimeoutKind::Connect, self.shared.config.connect_timeout)
            } else {
                (
                    TimeoutKind::Request,
                    timeout.unwrap_or(self.settings().request_timeout),
                )
            };
            return Error::Timeout {
                operation: op.id,
                kind,
                after,
            };
        }
        let endpoint = endpoint_of(e.url().unwrap_or(&self.shared.config.base_url));
        if handshake_refused(&e) {
            // Nothing reached the server's application: a connect failure, safe to resend.
            return Error::Transport {
                operation: op.id,
                endpoint,
                kind: crate::TransportKind::Connect,
                may_have_created: false,
                source: e.without_url(),
            };
        }
        Error::transport(op.id, &endpoint, op.creates(), e)
    }

    /// A success response as is; any other status as an [`Error::Api`].
    async fn checked(&self, op: &Op, resp: reqwest::Response) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let endpoint = endpoint_of(resp.url());
        let retry_after = retry_after(resp.headers());
        let body = resp.bytes().await.unwrap_or_default();
        Err(Error::Api {
            operation: op.id,
            endpoint,
            status,
            message: crate::error::server_message(status, &body),
            retry_after,
            credentials_sent: self.has_credentials(),
        })
    }

    /// Send `req`; when the server refuses the request's own query parameters (a `422` whose
    /// FastAPI validation details point at `query.<name>` of parameters in `droppable`), send it
    /// once more without those. The Agent Workflow Server refuses any `limit`, `offset` or
    /// `wait` in a query string this way: its generated models type them as strict integers and
    /// booleans, which a query string's text never is (`agntcy/workflow-srv`,
    /// `src/agent_workflow_server/apis/*.py`). Returns the response and the names left out, so
    /// the caller can make up for them.
    pub(crate) async fn execute_dropping_refused_query(
        &self,
        req: &Req,
        droppable: &[&'static str],
    ) -> Result<(reqwest::Response, Vec<&'static str>)> {
        match self.execute(req).await {
            Err(e @ Error::Api { .. }) if e.status() == Some(StatusCode::UNPROCESSABLE_ENTITY) => {
                let message = e.server_message().unwrap_or_default();
                let refused: Vec<&'static str> = droppable
                    .iter()
                    .copied()
                    .filter(|name| message.contains(&format!("query.{name}")))
                    .filter(|name| req.query.iter().any(|(k, _)| k == name))
                    .collect();
                if refused.is_empty() {
                    return Err(e);
                }
                tracing::debug!(
                    ?refused,
                    "the server refused query parameters; sending without them"
                );
                let mut again = req.clone();
                again.query.retain(|(k, _)| !refused.contains(&k.as_ref()));
                Ok((self.execute(&again).await?, refused))
            }
            other => other.map(|resp| (resp, Vec::new())),
        }
    }

    /// Send and decode a JSON response into `T`.
    pub(crate) async fn json<T: DeserializeOwned>(&self, req: &Req) -> Result<T> {
        let (status, body) = self.bytes(req).await?;
        decode_json(req.op.id, status, &body)
    }

    /// Send and read the whole success body.
    pub(crate) async fn bytes(&self, req: &Req) -> Result<(StatusCode, Bytes)> {
        let resp = self.execute(req).await?;
        self.read_body(req.op, resp).await
    }

    /// [`execute_dropping_refused_query`](Self::execute_dropping_refused_query), with the
    /// answer decoded as JSON.
    pub(crate) async fn json_dropping_refused_query<T: DeserializeOwned>(
        &self,
        req: &Req,
        droppable: &[&'static str],
    ) -> Result<(T, Vec<&'static str>)> {
        let (resp, dropped) = self.execute_dropping_refused_query(req, droppable).await?;
        let (status, body) = self.read_body(req.op, resp).await?;
        Ok((decode_json(req.op.id, status, &body)?, dropped))
    }

    /// The whole body of a success response.
    async fn read_body(&self, op: &Op, resp: reqwest::Response) -> Result<(StatusCode, Bytes)> {
        let status = resp.status();
        // Cheaper than its `host:port`, which only an error needs.
        let url = resp.url().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.send_error(op, e.with_url(url), None))?;
        Ok((status, body))
    }

    /// Send a stream request and check that the answer is an event stream.
    pub(crate) async fn open_stream(&self, req: &Req) -> Result<reqwest::Response> {
        let resp = self.execute(req).await?;
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("text/event-stream") {
            return Err(Error::stream(
                req.op.id,
                StreamCause::WrongContentType {
                    content_type: content_type.to_string(),
                    status: resp.status(),
                },
            ));
        }
        Ok(resp)
    }
}

/// Whether the server refused the TLS handshake with a handshake alert (a client certificate
/// missing or refused, an unknown CA, no common parameters). In TLS 1.3 the client's side of the
/// handshake is over before the server checks the client certificate, so `reqwest` reports the
/// server's `certificate_required` alert as a failure of the request (not of the connection),
/// although the server never read it: it aborted the connection before any application data.
/// Found in the error's sources as an `io::Error` wrapping a `rustls::Error::AlertReceived`.
#[cfg(feature = "__rustls")]
fn handshake_refused(e: &reqwest::Error) -> bool {
    use rustls::AlertDescription as A;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        let tls = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .or_else(|| err.downcast_ref::<rustls::Error>());
        if let Some(rustls::Error::AlertReceived(alert)) = tls {
            return matches!(
                alert,
                A::CertificateRequired
                    | A::BadCertificate
                    | A::UnsupportedCertificate
                    | A::CertificateRevoked
                    | A::CertificateExpired
                    | A::CertificateUnknown
                    | A::UnknownCA
                    | A::AccessDenied
                    | A::HandshakeFailure
                    | A::ProtocolVersion
                    | A::InsufficientSecurity
            );
        }
        source = err.source();
    }
    false
}

/// Without rustls: no handshake alert to tell apart.
#[cfg(not(feature = "__rustls"))]
fn handshake_refused(_e: &reqwest::Error) -> bool {
    false
}

fn strip_sensitive(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .iter()
        .filter(|(_, v)| v.is_sensitive())
        .map(|(n, _)| n.clone())
        .collect();
    for n in names {
        headers.remove(n);
    }
}
