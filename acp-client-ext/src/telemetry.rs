//! Telemetry: the `tracing` spans of requests and streams, named and filled as the
//! OpenTelemetry semantic conventions say, and (feature `opentelemetry`) the W3C trace context
//! sent with every request.
//!
//! # The request span
//!
//! Every HTTP request the transport sends (each retry and each redirect hop, and so each
//! stream rejoin and wait poll, which go through the same transport) is one `INFO` span named
//! `acp_request`, of kind client, with the fields of the *stable HTTP client span* of the
//! OpenTelemetry semantic conventions (semconv 1.x: HTTP spans stable since v1.23.0, and the
//! required and conditionally required client attributes used here unchanged since; checked
//! against the current `docs/http/http-spans.md` of `open-telemetry/semantic-conventions`) and
//! the ACP ones:
//!
//! | field | when | value |
//! |---|---|---|
//! | `otel.name` | always | `{method} {path template}`: `POST /threads/{thread_id}/runs/stream` |
//! | `otel.kind` | always | `client` |
//! | `otel.status_code` | on failure | `ERROR` (a 4xx or 5xx answer, a transport failure, a timeout, a refused redirect) |
//! | `http.request.method` | always | `GET`, `POST`, `PATCH`, `DELETE` |
//! | `server.address`, `server.port` | always | the host and port the request goes to |
//! | `url.full` | always | the absolute URL (never with credentials: the base URL cannot carry any, and userinfo of a redirect target is removed) |
//! | `url.template` | always | the spec's path template (`/runs/{run_id}/wait`) |
//! | `http.response.status_code` | an answer came | `200` |
//! | `error.type` | on failure | the status as text (`503`), or `timeout`, `connect`, `request`, `redirect` |
//! | `http.request.resend_count` | a resend (retry or redirect hop) | `1`, `2`, ... |
//! | `acp.operation` | always | the spec's `operationId` (`create_and_stream_thread_run_output`) |
//! | `acp.agent_id`, `acp.thread_id`, `acp.run_id` | when the path (or a create's body) names them | UUIDs |
//!
//! `tracing` span names are static, so the name a backend shows is `otel.name` (which
//! `tracing-opentelemetry` uses as the span name); `acp_request` is the name `tracing`'s own
//! subscribers print and filter on. The level is `INFO`, as `reqwest-tracing`'s default request
//! span and as this crate's operation spans: an OpenTelemetry pipeline is usually filtered at
//! `info`, and a request span at `debug` would vanish from a trace whose parent shows. Its
//! fields are computed only when a subscriber enables the span. Integers are recorded as `i64`
//! (`tracing-opentelemetry` exports a `u64` as a string; the conventions type them `int`).
//!
//! One span per request sent (not one for the whole retried call) is the conventions' first
//! way: "an HTTP span for each attempt to send an HTTP request over the wire", resends numbered
//! by `http.request.resend_count`. The span covers the request until its answer's headers (and
//! an error answer's body); a stream's events are in the stream's span, [`stream_span`].

use crate::error::{Error, TransportKind};
use crate::ops::Op;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use std::borrow::Cow;
use tracing::Span;
use tracing::field::{Empty, display};

/// The span of one HTTP request: `resend` is how many times this request was sent before
/// (retries and redirect hops), `path` the filled path (`req.path`) matched against the
/// operation's template for the ids it names.
pub(crate) fn request_span(
    op: &Op,
    method: &Method,
    url: &Url,
    path: &str,
    body: Option<&Bytes>,
    resend: u32,
) -> Span {
    let span = tracing::info_span!(
        "acp_request",
        "otel.name" = %format_args!("{} {}", method, op.path),
        "otel.kind" = "client",
        "otel.status_code" = Empty,
        "http.request.method" = method.as_str(),
        "server.address" = url.host_str().unwrap_or(""),
        "server.port" = i64::from(url.port_or_known_default().unwrap_or(0)),
        "url.full" = %FullUrl(url),
        "url.template" = op.path,
        "http.request.resend_count" = Empty,
        "http.response.status_code" = Empty,
        "error.type" = Empty,
        "acp.operation" = op.id,
        "acp.agent_id" = Empty,
        "acp.thread_id" = Empty,
        "acp.run_id" = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if resend > 0 {
        span.record("http.request.resend_count", i64::from(resend));
    }
    for (name, value) in path_ids(op.path, path) {
        match name {
            "agent_id" => span.record("acp.agent_id", value),
            "thread_id" => span.record("acp.thread_id", value),
            "run_id" => span.record("acp.run_id", value),
            _ => &span,
        };
    }
    if op.creates()
        && let Some(agent) = body.and_then(|b| agent_id_of(b))
    {
        span.record("acp.agent_id", display(agent));
    }
    span
}

/// Record the answer's status: `http.response.status_code`, and for a 4xx or 5xx (an error for
/// a client span, per the conventions) `error.type` and the error status.
pub(crate) fn record_status(span: &Span, status: StatusCode) {
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_client_error() || status.is_server_error() {
        span.record("error.type", status.as_str());
        span.record("otel.status_code", "ERROR");
    }
}

/// Record a failure on a span: `error.type` ([`error_type`]) and the error status.
pub(crate) fn record_error(span: &Span, e: &Error) {
    span.record("error.type", error_type(e).as_ref());
    span.record("otel.status_code", "ERROR");
}

/// The low-cardinality `error.type` of an error: the status code of an answer (`404`), else a
/// kind: `timeout`, `connect` (nothing was sent: refused, DNS, TLS handshake), `request` (the
/// connection failed after sending began), `response_body`, `redirect` (not followed),
/// `stream` (a broken event stream), `decode`, or `_OTHER` (the conventions' fallback).
pub(crate) fn error_type(e: &Error) -> Cow<'static, str> {
    match e {
        Error::Api { status, .. } => Cow::Owned(status.as_str().to_owned()),
        Error::Timeout { .. } => Cow::Borrowed("timeout"),
        Error::Transport { kind, .. } => Cow::Borrowed(match kind {
            TransportKind::Connect => "connect",
            TransportKind::Request => "request",
            TransportKind::Body => "response_body",
        }),
        Error::Redirect { .. } => Cow::Borrowed("redirect"),
        Error::Stream { .. } => Cow::Borrowed("stream"),
        Error::Decode { .. } => Cow::Borrowed("decode"),
        _ => Cow::Borrowed("_OTHER"),
    }
}

/// The span of a run stream, for `stream.rs`: `INFO`, named `acp_run_stream`, kind internal,
/// parent of the requests that open and rejoin it, open as long as the stream is read. Fields:
/// `otel.name` (`acp run stream`), `otel.kind` (`internal`), `acp.operation` (the
/// `operationId` of the request that opened it),
/// `acp.thread_id` (stateful runs), `acp.run_id` (given, or recorded with [`record_run_id`]
/// when the first event names it), `acp.stream.reconnects` (the rejoins so far, recorded with
/// [`record_reconnect`]), `error.type` and `otel.status_code` (with [`record_error`] when the
/// stream fails), and at its end ([`record_stream_end`]) `acp.stream.events` (the items it
/// yielded), `acp.stream.end` (`settled`: it ended after the run settled; `closed`: it ended
/// without a settled status; `error`: it ended with an error; `dropped`: the consumer dropped it
/// before its end) and `acp.run.status` (the last status an event carried: `success`,
/// `interrupted`, ...).
pub(crate) fn stream_span(
    operation: &'static str,
    thread_id: Option<uuid::Uuid>,
    run_id: Option<uuid::Uuid>,
) -> Span {
    tracing::info_span!(
        "acp_run_stream",
        "otel.name" = "acp run stream",
        "otel.kind" = "internal",
        "otel.status_code" = Empty,
        "error.type" = Empty,
        "acp.operation" = operation,
        "acp.thread_id" = thread_id.map(display),
        "acp.run_id" = run_id.map(display),
        "acp.stream.reconnects" = Empty,
        "acp.stream.events" = Empty,
        "acp.stream.end" = Empty,
        "acp.run.status" = Empty,
    )
}

/// The span of one call of the API (a wait, a cancel, a resume: the `acp` spans of `run.rs`,
/// `wait.rs` and `stream.rs`), for those modules: `INFO`, named `acp`, kind internal,
/// `otel.name` the operation's `operationId`, with `acp.operation`, `acp.thread_id` and
/// `acp.run_id` (recorded later with [`record_run_id`] when a create names it), and
/// `error.type`/`otel.status_code` with [`record_error`]. The requests it sends are its children.
pub(crate) fn operation_span(
    operation: &'static str,
    thread_id: Option<uuid::Uuid>,
    run_id: Option<uuid::Uuid>,
) -> Span {
    tracing::info_span!(
        "acp",
        "otel.name" = operation,
        "otel.kind" = "internal",
        "otel.status_code" = Empty,
        "error.type" = Empty,
        "acp.operation" = operation,
        "acp.thread_id" = thread_id.map(display),
        "acp.run_id" = run_id.map(display),
    )
}

/// Record the run id on a span of [`stream_span`] or [`operation_span`].
pub(crate) fn record_run_id(span: &Span, run_id: uuid::Uuid) {
    span.record("acp.run_id", display(run_id));
}

/// Record on a span of [`stream_span`] how the stream ended: the items it yielded, `end`
/// (`settled`, `closed`, `error`, `dropped`) and the run's last status.
pub(crate) fn record_stream_end(
    span: &Span,
    events: u64,
    end: &'static str,
    status: Option<&acp_client::types::RunStatus>,
) {
    span.record(
        "acp.stream.events",
        i64::try_from(events).unwrap_or(i64::MAX),
    );
    span.record("acp.stream.end", end);
    if let Some(status) = status {
        span.record("acp.run.status", display(status));
    }
}

/// Record on a span of [`stream_span`] how many times the stream has been rejoined so far.
pub(crate) fn record_reconnect(span: &Span, reconnects: u32) {
    span.record("acp.stream.reconnects", i64::from(reconnects));
}

/// The W3C trace context (`traceparent`, `tracestate`) of `span` as headers, through the
/// propagator of `opentelemetry::global::set_text_map_propagator` (the default one injects
/// nothing). Empty when the span has no OpenTelemetry context (no `tracing-opentelemetry` layer,
/// or the span is disabled).
#[cfg(feature = "opentelemetry")]
pub(crate) fn trace_headers(span: &Span) -> HeaderMap {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    struct Injector<'a>(&'a mut HeaderMap);
    impl opentelemetry::propagation::Injector for Injector<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(key.as_bytes()),
                reqwest::header::HeaderValue::from_str(&value),
            ) {
                self.0.insert(name, value);
            }
        }
    }
    let mut headers = HeaderMap::new();
    if span.is_disabled() {
        return headers;
    }
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut Injector(&mut headers))
    });
    headers
}

/// Without the `opentelemetry` feature: no trace context.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn trace_headers(_span: &Span) -> HeaderMap {
    HeaderMap::new()
}

/// A URL for `url.full`: without userinfo (a redirect's `Location` could carry some; the base
/// URL cannot).
struct FullUrl<'a>(&'a Url);

impl std::fmt::Display for FullUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.username().is_empty() && self.0.password().is_none() {
            return f.write_str(self.0.as_str());
        }
        let mut u = self.0.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        f.write_str(u.as_str())
    }
}

/// The `{name}` parameters of `template` and their values in `path`, segment by segment.
fn path_ids<'t, 'p>(template: &'t str, path: &'p str) -> impl Iterator<Item = (&'t str, &'p str)> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, v)| Some((t.strip_prefix('{')?.strip_suffix('}')?, v)))
}

/// The top-level `agent_id` of a create's JSON body.
fn agent_id_of(body: &[u8]) -> Option<uuid::Uuid> {
    #[derive(serde::Deserialize)]
    struct AgentOf {
        agent_id: Option<uuid::Uuid>,
    }
    serde_json::from_slice::<AgentOf>(body).ok()?.agent_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_the_path_by_the_template() {
        let ids: Vec<_> = path_ids(
            "/threads/{thread_id}/runs/{run_id}/stream",
            "/threads/t1/runs/r2/stream",
        )
        .collect();
        assert_eq!(ids, [("thread_id", "t1"), ("run_id", "r2")]);
        assert_eq!(path_ids("/runs", "/runs").count(), 0);
    }

    #[test]
    fn a_create_body_names_its_agent() {
        let id = uuid::Uuid::new_v4();
        let body = format!(r#"{{"input":{{"agent_id":"x"}},"agent_id":"{id}"}}"#);
        assert_eq!(agent_id_of(body.as_bytes()), Some(id));
        assert_eq!(agent_id_of(b"{}"), None);
        assert_eq!(agent_id_of(b"not json"), None);
    }

    #[test]
    fn full_urls_carry_no_userinfo() {
        let u = Url::parse("http://user:pw@h:1/runs?limit=2").unwrap();
        assert_eq!(FullUrl(&u).to_string(), "http://h:1/runs?limit=2");
        let u = Url::parse("https://h/runs").unwrap();
        assert_eq!(FullUrl(&u).to_string(), "https://h/runs");
    }

    /// Every field recorded on any span, as text.
    #[derive(Clone, Default)]
    struct Fields(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
            let mut all = self.0.lock().unwrap();
            all.push((f.name().to_string(), format!("{v:?}")));
        }
        fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
            let mut all = self.0.lock().unwrap();
            all.push((f.name().to_string(), v.to_string()));
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Fields {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            attrs.record(&mut self.clone());
        }
        fn on_record(
            &self,
            _: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            values.record(&mut self.clone());
        }
    }

    #[test]
    fn the_spans_for_other_modules_take_their_fields() {
        use tracing_subscriber::layer::SubscriberExt;
        let fields = Fields::default();
        let subscriber = tracing_subscriber::registry().with(fields.clone());
        let run = uuid::Uuid::new_v4();
        tracing::subscriber::with_default(subscriber, || {
            let span = stream_span("stream_stateless_run_output", None, None);
            record_run_id(&span, run);
            record_reconnect(&span, 2);
            let span = operation_span("cancel_stateless_run", None, Some(run));
            record_error(&span, &Error::Generated("x".into()));
        });
        let all = fields.0.lock().unwrap().clone();
        let has = |k: &str, v: &str| all.iter().any(|(a, b)| a == k && b == v);
        assert!(has("acp.run_id", &run.to_string()), "{all:?}");
        assert!(has("acp.stream.reconnects", "2"), "{all:?}");
        assert!(has("otel.name", "cancel_stateless_run"), "{all:?}");
        assert!(has("error.type", "_OTHER"), "{all:?}");
        assert!(has("otel.status_code", "ERROR"), "{all:?}");
    }

    #[test]
    fn error_types_are_low_cardinality() {
        use std::time::Duration;
        let e = Error::Timeout {
            operation: "get_thread",
            kind: crate::TimeoutKind::Request,
            after: Duration::from_secs(1),
        };
        assert_eq!(error_type(&e), "timeout");
        let e = Error::Api {
            operation: "get_thread",
            endpoint: String::new(),
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: String::new(),
            retry_after: None,
            credentials_sent: false,
        };
        assert_eq!(error_type(&e), "503");
        assert_eq!(error_type(&Error::Generated("x".into())), "_OTHER");
    }
}
