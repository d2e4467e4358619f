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
    #[error("{operation}: server answered {status}: {message}")]
    Api {
        /// What was being done (`get run`, `create thread`, ...).
        operation: &'static str,
        /// The HTTP status.
        status: reqwest::StatusCode,
        /// The server's message, whatever the body's shape (see [`server_message`]).
        message: String,
    },

    /// The request could not be sent or its response not read (connection refused, reset, ...).
    #[error("{operation}: transport error: {source}")]
    Transport {
        /// What was being done.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// A deadline or timeout elapsed.
    #[error("{operation}: timed out after {after:?}")]
    Timeout {
        /// What was being waited for.
        operation: &'static str,
        /// How long was waited.
        after: Duration,
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

    /// A run stream failed: wrong content type, an oversized event, reconnects exhausted, ...
    #[error("stream: {0}")]
    Stream(String),

    /// The client could not be configured (bad URL, bad header value, ...).
    #[error("configuration: {0}")]
    Config(String),
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
    /// Whether trying the same request again may succeed: connection failures and timeouts of
    /// the transport, and the gateway statuses 502, 503 and 504.
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// use reqwest::StatusCode;
    /// let api = |code| Error::Api {
    ///     operation: "get run",
    ///     status: StatusCode::from_u16(code).unwrap(),
    ///     message: String::new(),
    /// };
    /// assert!(api(503).is_retryable());
    /// assert!(!api(404).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { source, .. } => {
                source.is_connect() || source.is_timeout() || source.is_request()
            }
            Error::Api { status, .. } => matches!(status.as_u16(), 502..=504),
            _ => false,
        }
    }

    /// The HTTP status of an [`Error::Api`], if that is what this is.
    ///
    /// ```
    /// use acp_client_ext::Error;
    /// use reqwest::StatusCode;
    /// let err = Error::Api { operation: "get run", status: StatusCode::NOT_FOUND, message: "gone".into() };
    /// assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    /// assert_eq!(Error::Config("bad".into()).status(), None);
    /// ```
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Transport { source, .. } => source.status(),
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

    pub(crate) fn transport(operation: &'static str, source: reqwest::Error) -> Error {
        // reqwest's errors carry the URL; it never contains a secret (those travel in headers),
        // but strip it anyway so a user-supplied URL with credentials cannot leak.
        Error::Transport {
            operation,
            source: source.without_url(),
        }
    }

    /// Build an [`Error::Api`] from a status and the raw body.
    pub(crate) fn api(operation: &'static str, status: reqwest::StatusCode, body: &[u8]) -> Error {
        Error::Api {
            operation,
            status,
            message: server_message(status, body),
        }
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
                            match (loc, msg) {
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
            (404, false),
        ] {
            let e = Error::api("get run", StatusCode::from_u16(code).unwrap(), b"");
            assert_eq!(e.is_retryable(), retry, "{code}");
        }
        assert!(!Error::invalid("thread_id", "not a UUID").is_retryable());
    }
}
