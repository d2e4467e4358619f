//! The one error type of `acp-client-ext`, and how a server's error body becomes a message.
//!
//! Servers disagree on error bodies: the spec declares a JSON string (`"Run not found"`), the
//! FastAPI-based server answers `{"detail": "..."}` (sometimes with a list of validation errors),
//! proxies answer HTML or plain text. [`server_message`] reads them all.

use std::time::Duration;

/// The result type of this crate.
///
/// ```
/// fn base(url: &str) -> acp_client_ext::Result<String> {
///     Ok(acp_client_ext::AcpClient::new(url)?.base_url().to_string())
/// }
/// assert_eq!(base("http://127.0.0.1:8123/").unwrap(), "http://127.0.0.1:8123");
/// assert!(base("not a url").is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to an ACP server.
///
/// Match on the variant and its kind, never on the message: a timeout says which limit elapsed
/// ([`TimeoutKind`]), a transport error how far the request got ([`TransportKind`]), a stream
/// failure its cause ([`StreamCause`]). [`is_connect`](Error::is_connect),
/// [`is_timeout`](Error::is_timeout) and [`status`](Error::status) answer the common questions
/// whatever the variant. `Display` is one line: the operation (the spec's `operationId`), the
/// server's `host:port` and the root cause.
///
/// No variant ever holds an API key or token: requests' secret headers are never copied into it.
///
/// ```
/// use acp_client_ext::{AcpClient, Error};
/// let err = AcpClient::new("not a url").unwrap_err();
/// assert!(matches!(err, Error::InvalidInput { field: "base_url", .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input was refused before any request was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument or field that was wrong (`thread_id`, `resume payload`, ...).
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// The server answered with a non-success status.
    ///
    /// `Display` is one line: a multi-line server message (a Python traceback, FastAPI's list
    /// of validation errors) is cut at its first line, the whole of it is in `message` and
    /// [`Error::server_message`]. A 401 or 403 to a call that sent no credential says so, and
    /// names what sets one.
    #[error("{operation} ({endpoint}): server answered {status}: {}{}{}", one_line(message), credential_hint(*status, *credentials_sent), unsupported_note(*status, message))]
    Api {
        /// The operation (the spec's `operationId`, e.g. `get_thread_run`).
        operation: &'static str,
        /// The server's `host:port`.
        endpoint: String,
        /// The HTTP status.
        status: reqwest::StatusCode,
        /// The server's message, whatever the body's shape (see [`server_message`]).
        message: String,
        /// The server's `Retry-After`, when it sent one (seconds or an HTTP date).
        retry_after: Option<Duration>,
        /// Whether the request carried credentials (an API key, a bearer token or a sensitive
        /// header).
        credentials_sent: bool,
    },

    /// The request could not be sent or its response not read (connection refused, reset, ...).
    #[error("{operation} ({endpoint}): {}{}", root_cause(source), transport_note(*kind, *may_have_created))]
    Transport {
        /// The operation.
        operation: &'static str,
        /// The server's `host:port`.
        endpoint: String,
        /// How far the request got.
        kind: TransportKind,
        /// The operation creates something (a run, a thread, a resume) and the request may have
        /// reached the server: what it creates may exist although the call failed.
        may_have_created: bool,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// A limit elapsed: which one is [`TimeoutKind`].
    #[error("{operation}: {kind} timed out after {after:?}")]
    Timeout {
        /// What was being waited for.
        operation: &'static str,
        /// Which limit elapsed.
        kind: TimeoutKind,
        /// How long was waited.
        after: Duration,
    },

    /// The server redirected in a way that would change the request (a `301`, `302` or `303`
    /// answer to a request with a body turns it into a `GET` without it), to a URL that is not
    /// `http(s)`, or too many times. The request was not repeated.
    #[error("{operation} ({endpoint}): redirect {status} to {location} not followed: {reason}")]
    Redirect {
        /// The operation.
        operation: &'static str,
        /// The `host:port` that answered with the redirect.
        endpoint: String,
        /// The redirect status.
        status: reqwest::StatusCode,
        /// The `Location` it named.
        location: String,
        /// Why it was not followed.
        reason: &'static str,
    },

    /// A response (or stream event) could not be decoded.
    #[error("{what}: could not decode: {reason}; raw: {excerpt}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// The decoder's complaint.
        reason: String,
        /// The start of the offending bytes (at most [`EXCERPT_LEN`] characters).
        excerpt: String,
    },

    /// A run stream failed; [`StreamCause`] says why.
    #[error("stream: {operation}: {cause}")]
    Stream {
        /// The operation that opened (or last rejoined) the stream.
        operation: &'static str,
        /// Why.
        cause: StreamCause,
    },

    /// [`RunHandle::run_to_completion`](crate::RunHandle::run_to_completion) answered its
    /// `max_rounds` interrupts and the run was interrupted again; it stays interrupted.
    #[error(
        "invalid max_rounds: run {run_id} was interrupted again after {rounds} answered interrupt(s); it stays interrupted"
    )]
    TooManyInterrupts {
        /// The run.
        run_id: uuid::Uuid,
        /// How many interrupts were answered.
        rounds: u32,
    },

    /// A payload the agent's descriptor refuses (feature `validate`, with
    /// [`Agent::validating`](crate::Agent::validating)): nothing was sent. The error names the
    /// JSON path and the schema rule.
    #[cfg(feature = "validate")]
    #[error("refused before sending: {0}")]
    Validation(#[from] crate::validate::ValidationError),

    /// [`AcpClient::agent`](crate::AcpClient::agent) found no agent of that name
    /// (`POST /agents/search` listed none).
    #[error("no agent named {name:?} on the server")]
    AgentNotFound {
        /// The name asked for.
        name: String,
    },

    /// A run's outcome is not the one a call needs (for example
    /// [`WaitOutcome::output_as`](crate::WaitOutcome::output_as) on a run that was interrupted).
    #[error("run {run_id}: expected {expected}, but the run {outcome}")]
    UnexpectedOutcome {
        /// The run.
        run_id: uuid::Uuid,
        /// What the call needs (`a result`, `an interrupt`).
        expected: &'static str,
        /// What the run did instead (`was interrupted`, `ended: timeout`, ...).
        outcome: String,
    },

    /// A variable of the environment ([`ClientBuilder::from_env_prefix`](crate::ClientBuilder::from_env_prefix))
    /// is missing or malformed. The message names the variable, never a credential's value.
    #[error("environment: {variable} {reason}")]
    Environment {
        /// The variable (`ACP_URL`, `MYAPP_REQUEST_TIMEOUT`, ...).
        variable: String,
        /// What is wrong with it (`is not set`, `="x" is not a duration ...`).
        reason: String,
    },

    /// The CA file of [`ClientBuilder::ca_file`](crate::ClientBuilder::ca_file) cannot be used:
    /// unreadable, not PEM, or this build has no TLS.
    #[error("CA file {}: {reason}", path.display())]
    CaFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why it cannot be used.
        reason: String,
    },

    /// `reqwest` could not build its client from the configuration (a TLS backend that fails
    /// to initialize, for example).
    #[error("building the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),

    /// A schema of an agent's descriptor cannot be compiled (feature `validate`, with
    /// `Agent::validating`).
    #[error("the descriptor of agent {agent}: {reason}")]
    Descriptor {
        /// The agent's name.
        agent: String,
        /// The schema compiler's complaint.
        reason: String,
    },

    /// A call of the [blocking client](crate::blocking) was made inside an async runtime, where
    /// blocking would stall it: nothing was done. Use the async [`AcpClient`](crate::AcpClient)
    /// there.
    #[cfg(feature = "blocking")]
    #[error(
        "a blocking call inside an async runtime would stall it; use the async AcpClient there"
    )]
    BlockingInRuntime,

    /// The blocking client could not start its runtime.
    #[cfg(feature = "blocking")]
    #[error("starting the blocking client's runtime: {0}")]
    Runtime(#[source] std::io::Error),

    /// An error of the generated client that none of the other variants describes (progenitor's
    /// `Error::Custom`, from client hooks, which this crate never installs).
    #[error("generated client: {0}")]
    Generated(String),

    /// The client identity of [`ClientBuilder::identity_pem`](crate::ClientBuilder::identity_pem)
    /// or [`identity_file`](crate::ClientBuilder::identity_file) cannot be used: a file that
    /// cannot be read, PEM without a certificate or a private key, or a build without TLS. The
    /// message never holds the key.
    #[error("client identity{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Identity {
        /// The file it was read from (`None` for PEM given in code).
        path: Option<std::path::PathBuf>,
        /// Why it cannot be used.
        reason: String,
    },

    /// The proxy of [`ClientBuilder::proxy`](crate::ClientBuilder::proxy) cannot be used: not
    /// an `http` or `https` URL, or credentials that cannot be sent. The message never
    /// holds the proxy's credentials.
    #[error("proxy: {reason}")]
    Proxy {
        /// Why it cannot be used.
        reason: String,
    },

    /// The agent's descriptor says it cannot do what was asked (`specs.capabilities`):
    /// streaming an agent that declares no streaming mode, a thread run of an agent with
    /// `threads: false`, a resume of an agent without `interrupts`. Nothing was sent. A server
    /// whose descriptors understate what its agents do can be used anyway with
    /// [`Agent::enforce_capabilities(false)`](crate::Agent::enforce_capabilities).
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// let err = Error::Unsupported { agent: "echo".into(), capability: "interrupts", operation: "resume_stateless_run" };
    /// assert!(err.is_unsupported());
    /// assert_eq!(err.to_string(), "agent echo does not declare the capability interrupts: resume_stateless_run not sent");
    /// ```
    #[error("agent {agent} does not declare the capability {capability}: {operation} not sent")]
    Unsupported {
        /// The agent's name.
        agent: String,
        /// The capability missing: `streaming`, `threads` or `interrupts` (the names of
        /// `specs.capabilities`).
        capability: &'static str,
        /// The operation that was refused (the spec's `operationId`).
        operation: &'static str,
    },
}

/// How far a request got before the transport failed ([`Error::Transport`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made: the request was never sent (safe to send again).
    Connect,
    /// The connection failed after the request was (maybe partly) written and before the
    /// response began: the server may have received and acted on it.
    Request,
    /// The response began, and reading its body failed.
    Body,
}

/// Which limit a [`Error::Timeout`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Connecting (TCP and TLS) took longer than the connect timeout: nothing was sent.
    Connect,
    /// One request took longer than the request timeout (the client's or the call's own).
    Request,
    /// A stream received nothing (not even a keep-alive) for the idle timeout.
    IdleStream,
    /// The caller's deadline of a wait elapsed; the run goes on.
    WaitDeadline,
}

impl std::fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connecting",
            TimeoutKind::Request => "the request",
            TimeoutKind::IdleStream => "the stream (no data received)",
            TimeoutKind::WaitDeadline => "the wait deadline",
        })
    }
}

/// Why a run stream failed ([`Error::Stream`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamCause {
    /// The server answered a stream request with something other than `text/event-stream`.
    #[error("expected content-type text/event-stream, got {content_type:?} ({status})")]
    WrongContentType {
        /// The content type it sent.
        content_type: String,
        /// The status it sent.
        status: reqwest::StatusCode,
    },
    /// An event was larger than [`max_event_size`](crate::ClientBuilder::max_event_size).
    #[error("event larger than {limit} bytes")]
    EventTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A create-and-stream lost its connection before any event named the run.
    #[error(
        "the connection {lost} before any event named the run: a create-and-stream cannot be rejoined without its run id"
    )]
    RunIdUnknown {
        /// How the connection was lost.
        lost: &'static str,
    },
    /// Rejoining failed [`stream_reconnects`](crate::ClientBuilder::stream_reconnects) times.
    #[error("the connection {lost}; {}", match last { Some(e) => format!("rejoining failed {attempts} times, last: {e}"), None => format!("gave up after {attempts} reconnects") })]
    ReconnectsExhausted {
        /// How the connection was lost.
        lost: &'static str,
        /// How many rejoins were tried.
        attempts: u32,
        /// The error of the last rejoin, if one failed.
        last: Option<Box<Error>>,
    },
}

/// The first line of a server's message, marked when more followed.
fn one_line(message: &str) -> std::borrow::Cow<'_, str> {
    let message = message.trim();
    match message.find(['\n', '\r']) {
        Some(i) => format!("{} …", message[..i].trim_end()).into(),
        None => message.into(),
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn api_errors_print_one_line_and_a_credential_hint() {
        let api = |status: u16, message: &str, credentials_sent| Error::Api {
            operation: "search_agents",
            endpoint: "127.0.0.1:1".into(),
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            message: message.into(),
            retry_after: None,
            credentials_sent,
        };
        let e = api(
            422,
            "1 validation error\n  body: Value error, at least one",
            true,
        );
        assert_eq!(
            e.to_string(),
            "search_agents (127.0.0.1:1): server answered 422 Unprocessable Entity: 1 validation error …"
        );
        let e = api(401, "Unauthorized", false);
        assert!(e.to_string().contains("no credential was sent"), "{e}");
        assert!(e.to_string().contains("ACP_API_KEY"), "{e}");
        let e = api(401, "Unauthorized", true);
        assert!(!e.to_string().contains("no credential"), "{e}");
        let e = api(404, "gone", false);
        assert!(!e.to_string().contains("no credential"), "{e}");
        assert!(!e.to_string().contains("does not support"), "{e}");
        let e = api(500, "Not implemented", true);
        assert!(
            e.to_string()
                .ends_with("Not implemented (this server does not support the operation)"),
            "{e}"
        );
    }

    #[test]
    fn a_validation_error_without_a_location_has_no_stray_separator() {
        let body = br#"{"detail":[{"type":"value_error","loc":[],"msg":"Value error, At least one of 'name' or 'version' must be provided","input":{}}]}"#;
        assert_eq!(
            server_message(reqwest::StatusCode::UNPROCESSABLE_ENTITY, body),
            "Value error, At least one of 'name' or 'version' must be provided"
        );
    }
}

/// Whether a status and message say the server does not implement the operation (see
/// [`Error::is_unsupported`]).
fn unsupported(status: reqwest::StatusCode, message: &str) -> bool {
    match status.as_u16() {
        501 | 405 => true,
        500 => message.trim().eq_ignore_ascii_case("not implemented"),
        404 => message.trim() == "Not Found",
        _ => false,
    }
}

/// What an answer saying "not implemented" adds to its message.
fn unsupported_note(status: reqwest::StatusCode, message: &str) -> &'static str {
    if unsupported(status, message) {
        " (this server does not support the operation)"
    } else {
        ""
    }
}

/// What a 401 or 403 to a request without credentials adds to its message.
fn credential_hint(status: reqwest::StatusCode, credentials_sent: bool) -> &'static str {
    match status.as_u16() {
        401 | 403 if !credentials_sent => {
            " (no credential was sent: set ACP_API_KEY or ACP_BEARER_TOKEN, or ClientBuilder::api_key / bearer_token)"
        }
        _ => "",
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    let mut text = cur.to_string();
    while let Some(next) = cur.source() {
        cur = next;
        text = cur.to_string();
    }
    // One line, whatever the cause printed.
    text.replace(['\n', '\r'], " ")
}

fn transport_note(kind: TransportKind, may_have_created: bool) -> &'static str {
    match (kind, may_have_created) {
        (TransportKind::Connect, _) => " (could not connect; nothing was sent)",
        (TransportKind::Request, true) => {
            " (the request may have reached the server: what it creates may exist)"
        }
        (TransportKind::Request, false) => " (the request may have reached the server)",
        (TransportKind::Body, _) => " (while reading the response)",
    }
}

/// How much of an offending body an error keeps.
///
/// ```
/// use acp_client_ext::{EXCERPT_LEN, Error, RunEvent};
/// let junk = "x".repeat(5 * EXCERPT_LEN);
/// let Err(Error::Decode { excerpt, .. }) = RunEvent::parse(junk.as_bytes()) else { panic!() };
/// assert!(excerpt.chars().count() <= EXCERPT_LEN + 1); // + the '…' marker
/// ```
pub const EXCERPT_LEN: usize = 200;

impl Error {
    /// Whether trying the same request again may succeed: connection failures, transport
    /// failures and timeouts of one request, and the statuses 429, 502, 503 and 504. (Whether a
    /// *create* is sent again is decided more strictly: see
    /// [`ClientBuilder::retry_creates`](crate::ClientBuilder::retry_creates).)
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// use reqwest::StatusCode;
    /// let api = |code| Error::Api {
    ///     operation: "get_thread_run",
    ///     endpoint: "127.0.0.1:8123".into(),
    ///     status: StatusCode::from_u16(code).unwrap(),
    ///     message: String::new(),
    ///     retry_after: None,
    ///     credentials_sent: true,
    /// };
    /// assert!(api(503).is_retryable());
    /// assert!(!api(404).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Timeout { kind, .. } => {
                matches!(kind, TimeoutKind::Connect | TimeoutKind::Request)
            }
            Error::Api { status, .. } => matches!(status.as_u16(), 429 | 502..=504),
            _ => false,
        }
    }

    /// Whether no connection could be made (refused, unreachable, DNS, TLS handshake, or the
    /// connect timeout): the request was never sent.
    ///
    /// ```
    /// use acp_client_ext::{Error, TimeoutKind};
    /// use std::time::Duration;
    /// let e = Error::Timeout { operation: "get_thread", kind: TimeoutKind::Connect, after: Duration::from_secs(1) };
    /// assert!(e.is_connect() && e.is_timeout());
    /// ```
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            } | Error::Timeout {
                kind: TimeoutKind::Connect,
                ..
            }
        )
    }

    /// Whether a request that creates something (a run, a thread) may have been applied
    /// although it failed: a transport failure after the request may have been written
    /// (`may_have_created`), or its request timeout. Creates are resolved in that case (see
    /// [`CREATE_TAG_KEY`](crate::CREATE_TAG_KEY)); other errors are certain.
    ///
    /// ```
    /// use acp_client_ext::{Error, TimeoutKind};
    /// use std::time::Duration;
    /// let e = Error::Timeout { operation: "create_stateless_run", kind: TimeoutKind::Request, after: Duration::from_secs(1) };
    /// assert!(e.fate_unknown());
    /// let e = Error::Timeout { operation: "create_stateless_run", kind: TimeoutKind::Connect, after: Duration::from_secs(1) };
    /// assert!(!e.fate_unknown());
    /// ```
    pub fn fate_unknown(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                may_have_created: true,
                ..
            } | Error::Timeout {
                kind: TimeoutKind::Request,
                ..
            }
        )
    }

    /// Whether a limit elapsed (any [`TimeoutKind`]).
    ///
    /// ```
    /// use acp_client_ext::{Error, TimeoutKind};
    /// use std::time::Duration;
    /// let e = Error::Timeout { operation: "wait_for_thread_run_output", kind: TimeoutKind::WaitDeadline, after: Duration::from_secs(1) };
    /// assert!(e.is_timeout());
    /// assert!(!Error::Generated("x".into()).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// The HTTP status of an [`Error::Api`] (or the redirect status of an [`Error::Redirect`]).
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// use reqwest::StatusCode;
    /// let err = Error::Api {
    ///     operation: "get_thread_run",
    ///     endpoint: "127.0.0.1:8123".into(),
    ///     status: StatusCode::NOT_FOUND,
    ///     message: "gone".into(),
    ///     retry_after: None,
    ///     credentials_sent: true,
    /// };
    /// assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    /// assert_eq!(Error::Generated("bad".into()).status(), None);
    /// ```
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Error::Api { status, .. } | Error::Redirect { status, .. } => Some(*status),
            Error::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether the server says it does not implement the operation: `501 Not Implemented`,
    /// `405 Method Not Allowed`, a `404` whose message is FastAPI's bare `Not Found` (the
    /// answer for a route the server does not have, as opposed to a resource it does not
    /// know), or a `500` whose message is `Not implemented` (the Agent Workflow Server's stubs,
    /// `raise HTTPException(500, "Not implemented")` in `agntcy/workflow-srv`'s `apis/*.py`);
    /// or, before any request, [`Error::Unsupported`]: the agent's descriptor says it cannot.
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// use reqwest::StatusCode;
    /// let api = |code, message: &str| Error::Api {
    ///     operation: "cancel_thread_run",
    ///     endpoint: "127.0.0.1:8123".into(),
    ///     status: StatusCode::from_u16(code).unwrap(),
    ///     message: message.into(),
    ///     retry_after: None,
    ///     credentials_sent: true,
    /// };
    /// assert!(api(500, "Not implemented").is_unsupported());
    /// assert!(api(501, "").is_unsupported());
    /// assert!(api(404, "Not Found").is_unsupported());
    /// assert!(!api(404, "run 42 not found").is_unsupported());
    /// assert!(!api(500, "Internal Server Error").is_unsupported());
    /// ```
    pub fn is_unsupported(&self) -> bool {
        match self {
            Error::Api {
                status, message, ..
            } => unsupported(*status, message),
            Error::Unsupported { .. } => true,
            _ => false,
        }
    }

    /// The whole message of the server, for an [`Error::Api`] (its `Display` shows the first
    /// line only).
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// let err = Error::Api {
    ///     operation: "search_agents",
    ///     endpoint: "127.0.0.1:8123".into(),
    ///     status: reqwest::StatusCode::UNPROCESSABLE_ENTITY,
    ///     message: "body: Field required\nbody.name: Input should be a valid string".into(),
    ///     retry_after: None,
    ///     credentials_sent: true,
    /// };
    /// assert!(!err.to_string().contains('\n'));
    /// assert!(err.server_message().unwrap().contains("body.name"));
    /// ```
    pub fn server_message(&self) -> Option<&str> {
        match self {
            Error::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn decode(what: impl Into<String>, reason: impl ToString, raw: &[u8]) -> Error {
        Error::Decode {
            what: what.into(),
            reason: reason.to_string(),
            excerpt: excerpt(raw),
        }
    }

    pub(crate) fn stream(operation: &'static str, cause: StreamCause) -> Error {
        Error::Stream { operation, cause }
    }

    /// An [`Error::Transport`] or [`Error::Timeout`] from a `reqwest` error.
    pub(crate) fn transport(
        operation: &'static str,
        endpoint: &str,
        creates: bool,
        source: reqwest::Error,
    ) -> Error {
        let kind = if source.is_connect() {
            TransportKind::Connect
        } else if source.is_body() || source.is_decode() {
            TransportKind::Body
        } else {
            TransportKind::Request
        };
        Error::Transport {
            operation,
            endpoint: endpoint.to_string(),
            kind,
            may_have_created: creates && kind != TransportKind::Connect,
            // The URL never holds a secret (the base URL may not carry credentials), but it is in
            // the message already as `host:port`.
            source: source.without_url(),
        }
    }
}

/// The generated client's error, so that [`AcpClient::generated`](crate::AcpClient::generated)
/// calls compose with `?` in a function returning this crate's [`Result`]. The operation is not
/// known to the generated error; it reads `generated client`.
///
/// ```no_run
/// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
/// use acp_client::prelude::*;
/// let request = acp_client::types::ThreadSearchRequest::default();
/// let threads = client.generated().search_threads().body(request).send().await?;
/// println!("{} threads", threads.len());
/// # Ok(())
/// # }
/// ```
impl From<acp_client::Error<acp_client::types::ErrorResponse>> for Error {
    fn from(e: acp_client::Error<acp_client::types::ErrorResponse>) -> Error {
        const OP: &str = "generated client";
        let endpoint = |u: Option<&reqwest::Url>| u.map(endpoint_of).unwrap_or_default();
        match e {
            acp_client::Error::InvalidRequest(reason) => Error::invalid("request", reason),
            acp_client::Error::ErrorResponse(rv) => {
                let status = rv.status();
                let message = serde_json::to_vec(rv.as_ref())
                    .map(|b| server_message(status, &b))
                    .unwrap_or_default();
                Error::Api {
                    operation: OP,
                    endpoint: String::new(),
                    status,
                    message,
                    retry_after: None,
                    credentials_sent: true,
                }
            }
            acp_client::Error::CommunicationError(source)
            | acp_client::Error::InvalidUpgrade(source)
            | acp_client::Error::ResponseBodyError(source) => {
                Error::transport(OP, &endpoint(source.url()), false, source)
            }
            acp_client::Error::InvalidResponsePayload(bytes, err) => {
                Error::decode(format!("{OP} response"), err, &bytes)
            }
            acp_client::Error::UnexpectedResponse(resp) => Error::Api {
                operation: OP,
                endpoint: endpoint(Some(resp.url())),
                status: resp.status(),
                message: format!("unexpected status {}", resp.status()),
                retry_after: None,
                credentials_sent: true,
            },
            acp_client::Error::Custom(message) => Error::Generated(message),
        }
    }
}

/// A JSON error of the caller's own (de)serialization, so that `serde_json` calls compose with
/// `?` in a function returning this crate's [`Result`]: an [`Error::Decode`] (with no excerpt:
/// the error does not carry the bytes).
///
/// ```
/// fn read(text: &str) -> acp_client_ext::Result<u32> {
///     Ok(serde_json::from_str(text)?)
/// }
/// assert_eq!(read("7")?, 7);
/// assert!(matches!(read("x"), Err(acp_client_ext::Error::Decode { .. })));
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Decode {
            what: "JSON".into(),
            reason: e.to_string(),
            excerpt: String::new(),
        }
    }
}

/// `host:port` of a URL (the port the scheme implies when none is written).
pub(crate) fn endpoint_of(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// The readable message of an error body, whatever its shape: a JSON string (the spec),
/// `{"detail": "..."}` or `{"detail": [{"msg": ...}]}` (FastAPI), `{"message"|"error": ...}`, other
/// JSON (kept compact), plain text, or nothing (the status's reason).
///
/// ```
/// use acp_client_ext::server_message;
/// use reqwest::StatusCode;
/// assert_eq!(server_message(StatusCode::NOT_FOUND, br#"{"detail":"gone"}"#), "gone");
/// assert_eq!(server_message(StatusCode::NOT_FOUND, br#""Run not found""#), "Run not found");
/// assert_eq!(server_message(StatusCode::BAD_GATEWAY, b""), "Bad Gateway");
/// ```
pub fn server_message(status: reqwest::StatusCode, body: &[u8]) -> String {
    let reason = || {
        status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string()
    };
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return reason();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => json_message(&v).unwrap_or_else(|| truncate(&v.to_string())),
        Err(_) => truncate(text),
    }
}

fn json_message(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => Some(truncate(s)),
        Value::Object(o) => ["detail", "message", "error", "description"]
            .iter()
            .find_map(|k| o.get(*k))
            .and_then(|d| match d {
                Value::String(s) => Some(truncate(s)),
                // FastAPI validation errors: [{"loc": [...], "msg": "...", "type": "..."}]
                Value::Array(items) => {
                    let msgs: Vec<String> = items
                        .iter()
                        .map(|i| {
                            let msg = i.get("msg").and_then(Value::as_str);
                            let loc = i.get("loc").and_then(Value::as_array).map(|l| {
                                l.iter()
                                    .map(|p| p.as_str().map_or(p.to_string(), str::to_string))
                                    .collect::<Vec<_>>()
                                    .join(".")
                            });
                            match (loc.filter(|l| !l.is_empty()), msg) {
                                (Some(l), Some(m)) => format!("{l}: {m}"),
                                (None, Some(m)) => m.to_string(),
                                _ => i.to_string(),
                            }
                        })
                        .collect();
                    Some(truncate(&msgs.join("; ")))
                }
                other => json_message(other),
            }),
        _ => None,
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 1000;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The first [`EXCERPT_LEN`] characters of some bytes, lossily decoded.
pub(crate) fn excerpt(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(&raw[..raw.len().min(EXCERPT_LEN * 4)]);
    match s.char_indices().nth(EXCERPT_LEN) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn every_body_shape_gives_its_message() {
        let s = StatusCode::NOT_FOUND;
        assert_eq!(server_message(s, br#""Run not found""#), "Run not found");
        assert_eq!(server_message(s, br#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(
            server_message(
                StatusCode::UNPROCESSABLE_ENTITY,
                br#"{"detail":[{"loc":["body","input"],"msg":"field required","type":"missing"}]}"#
            ),
            "body.input: field required"
        );
        assert_eq!(server_message(s, br#"{"message":"gone"}"#), "gone");
        assert_eq!(server_message(s, br#"{"code":7}"#), r#"{"code":7}"#);
        assert_eq!(server_message(s, b"plain words\n"), "plain words");
        assert_eq!(server_message(s, b""), "Not Found");
        assert_eq!(
            server_message(StatusCode::BAD_GATEWAY, b"  "),
            "Bad Gateway"
        );
    }

    #[test]
    fn huge_bodies_are_truncated() {
        let body = "x".repeat(5000);
        assert!(server_message(StatusCode::INTERNAL_SERVER_ERROR, body.as_bytes()).len() < 1100);
        assert!(excerpt(body.as_bytes()).chars().count() <= EXCERPT_LEN + 1);
    }

    #[test]
    fn gateway_statuses_are_retryable_others_not() {
        for (code, retry) in [
            (502, true),
            (503, true),
            (504, true),
            (500, false),
            (429, true),
            (404, false),
        ] {
            let e = Error::Api {
                operation: "get_thread_run",
                endpoint: String::new(),
                status: StatusCode::from_u16(code).unwrap(),
                message: String::new(),
                retry_after: None,
                credentials_sent: true,
            };
            assert_eq!(e.is_retryable(), retry, "{code}");
        }
        assert!(!Error::invalid("thread_id", "not a UUID").is_retryable());
    }
}
