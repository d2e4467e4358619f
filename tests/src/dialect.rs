//! Dialects: what the server says on the wire.
//!
//! [`Dialect::Spec`] (the default) follows the ACP 0.2.1 OpenAPI document, with the leniencies
//! listed in the crate docs. [`Dialect::WorkflowServer`] reproduces what agntcy's Agent
//! Workflow Server (`agntcy/workflow-srv`, Python, FastAPI + pydantic), the one public ACP
//! server implementation, actually sends, so clients can be tested against a server that is
//! not polite. Each deviation is listed in the crate docs; the wire details live here (shapes,
//! timestamps, error bodies, the routes it lacks) and in [`crate::sse`] (its streams).

use std::sync::Arc;

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use chrono::{DateTime, Local, SecondsFormat, Timelike, Utc};
use serde_json::{Map, Value};
use tokio::sync::Notify;

use crate::runs::RunStatus;

/// Which server the reference server imitates on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// The ACP 0.2.1 specification (default).
    #[default]
    Spec,
    /// agntcy's Agent Workflow Server: naive timestamps, `null` for absent fields, FastAPI
    /// error bodies, per-connection SSE ids, no terminal event, `"running"`, and the routes
    /// it does not implement (see the crate docs for the list).
    WorkflowServer,
}

impl Dialect {
    /// Parses the CLI spelling: `spec` or `workflow-server`.
    pub fn parse(s: &str) -> Option<Dialect> {
        match s {
            "spec" => Some(Dialect::Spec),
            "workflow-server" => Some(Dialect::WorkflowServer),
            _ => None,
        }
    }

    /// The CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Spec => "spec",
            Dialect::WorkflowServer => "workflow-server",
        }
    }

    /// Whether this is [`Dialect::WorkflowServer`].
    pub fn is_workflow_server(self) -> bool {
        self == Dialect::WorkflowServer
    }

    /// A timestamp as written on the wire: RFC 3339 UTC with microseconds for the spec,
    /// Python's `datetime.now().isoformat()` (local time, no offset, microseconds left out
    /// when zero) for the Workflow Server.
    pub fn timestamp(self, t: DateTime<Utc>) -> String {
        match self {
            Dialect::Spec => t.to_rfc3339_opts(SecondsFormat::Micros, true),
            Dialect::WorkflowServer => {
                let local = t.with_timezone(&Local).naive_local();
                if local.nanosecond() / 1000 == 0 {
                    local.format("%Y-%m-%dT%H:%M:%S").to_string()
                } else {
                    local.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
                }
            }
        }
    }

    /// A run status as written on the wire: the Workflow Server says `running` for a run in
    /// progress, a status the spec does not list.
    pub fn status(self, s: RunStatus) -> &'static str {
        match (self, s) {
            (Dialect::WorkflowServer, RunStatus::Pending) => "running",
            _ => s.as_str(),
        }
    }

    /// Parses a run status as a client would send it back (`running` too, in this dialect).
    pub fn parse_status(self, s: &str) -> Option<RunStatus> {
        match (self, s) {
            (Dialect::WorkflowServer, "running") => Some(RunStatus::Pending),
            _ => RunStatus::parse(s),
        }
    }

    /// Gives every optional field of `shape` that `v` lacks the value `null`, as pydantic's
    /// `model_dump()` without `exclude_none` does; nested known objects too. Nothing for the
    /// spec, which leaves absent fields out.
    pub(crate) fn fill(self, v: &mut Value, shape: Shape) {
        if self.is_workflow_server() {
            fill(v, shape);
        }
    }
}

/// Objects the server writes, for [`Dialect::fill`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// `RunStateful` / `RunStateless`.
    Run,
    /// `RunCreateStateful` (the `creation` of a thread run).
    CreateStateful,
    /// `RunCreateStateless`.
    CreateStateless,
    /// `Thread`.
    Thread,
    /// `ThreadState`.
    ThreadState,
    /// `Message`.
    Message,
    /// `AgentACPDescriptor`.
    Descriptor,
    /// `RunWaitResponse`.
    WaitResponse,
    /// `ValueRunResultUpdate`.
    ValuesUpdate,
}

const RUN: &[&str] = &["thread_id"];
const CREATE: &[&str] = &[
    "agent_id",
    "input",
    "metadata",
    "config",
    "webhook",
    "stream_mode",
    "on_disconnect",
    "multitask_strategy",
    "after_seconds",
];
const CREATE_STATEFUL: &[&str] = &["stream_subgraphs", "if_not_exists"];
const CREATE_STATELESS: &[&str] = &["on_completion"];
const THREAD: &[&str] = &["metadata", "values", "messages"];
const THREAD_STATE: &[&str] = &["messages"];
const MESSAGE: &[&str] = &["metadata"];
const SPECS: &[&str] = &["custom_streaming_update", "interrupts"];
const WAIT: &[&str] = &["output"];
const VALUES_UPDATE: &[&str] = &["messages"];

fn fill_keys(v: &mut Value, keys: &[&str]) {
    if let Value::Object(o) = v {
        for k in keys {
            o.entry(*k).or_insert(Value::Null);
        }
    }
}

fn fill_at(v: &mut Value, key: &str, shape: Shape) {
    if let Some(inner) = v.get_mut(key) {
        fill(inner, shape);
    }
}

fn fill_messages(v: &mut Value) {
    if let Some(Value::Array(ms)) = v.get_mut("messages") {
        ms.iter_mut().for_each(|m| fill(m, Shape::Message));
    }
}

fn fill(v: &mut Value, shape: Shape) {
    match shape {
        Shape::Run => {
            let stateful = v.get("thread_id").is_some_and(|t| !t.is_null());
            fill_keys(v, RUN);
            let create = if stateful {
                Shape::CreateStateful
            } else {
                Shape::CreateStateless
            };
            fill_at(v, "creation", create);
        }
        Shape::CreateStateful => {
            fill_keys(v, CREATE);
            fill_keys(v, CREATE_STATEFUL);
        }
        Shape::CreateStateless => {
            fill_keys(v, CREATE);
            fill_keys(v, CREATE_STATELESS);
        }
        Shape::Thread => {
            fill_keys(v, THREAD);
            fill_messages(v);
        }
        Shape::ThreadState => {
            fill_keys(v, THREAD_STATE);
            fill_messages(v);
        }
        Shape::Message => fill_keys(v, MESSAGE),
        Shape::Descriptor => {
            if let Some(specs) = v.get_mut("specs") {
                fill_keys(specs, SPECS);
            }
        }
        Shape::WaitResponse => {
            fill_keys(v, WAIT);
            fill_at(v, "run", Shape::Run);
        }
        Shape::ValuesUpdate => fill_keys(v, VALUES_UPDATE),
    }
}

/// Operations the Workflow Server answers with `500 {"detail":"Not implemented"}` (its
/// handlers raise `HTTPException(status_code=500, detail="Not implemented")`), as
/// `(method, path pattern)` with `*` for one segment.
pub(crate) const NOT_IMPLEMENTED: &[(&str, &str)] = &[
    ("POST", "/threads/*/copy"),
    ("GET", "/threads/*/history"),
    ("POST", "/threads/*/runs/*/cancel"),
    ("POST", "/runs/*/cancel"),
    ("DELETE", "/runs/*"),
];

/// The `detail` of [`NOT_IMPLEMENTED`] answers.
pub(crate) const NOT_IMPLEMENTED_DETAIL: &str = "Not implemented";

/// One FastAPI request-validation error (an item of a 422 `detail` list).
pub(crate) fn violation(kind: &str, loc: &[&str], msg: &str, input: Value) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), kind.into());
    o.insert("loc".into(), loc.iter().map(|s| Value::from(*s)).collect());
    o.insert("msg".into(), msg.into());
    o.insert("input".into(), input);
    Value::Object(o)
}

/// Marks a response after which the connection is closed (without a `Connection: close`
/// header), as uvicorn does after an unhandled exception.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CloseAfter;

/// Per-connection signal, inserted into every request by the accept loop: notified once a
/// [`CloseAfter`] response has been written, the connection shuts down.
#[derive(Debug, Clone, Default)]
pub(crate) struct CloseSignal(pub Arc<Notify>);

/// Starlette's answer to an unhandled exception: 500, `text/plain`, `Internal Server Error`,
/// then the connection is closed.
pub(crate) fn internal_server_error() -> Response {
    const BODY: &str = "Internal Server Error";
    let mut resp = Response::new(Body::from(BODY));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(BODY.len()));
    resp.extensions_mut().insert(CloseAfter);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn naive_timestamps_like_isoformat() {
        let t = Utc.timestamp_opt(1_700_000_000, 749_047_000).single();
        let t = t.unwrap_or_default();
        let s = Dialect::WorkflowServer.timestamp(t);
        assert_eq!(s.len(), "2026-11-30T09:20:14.749047".len(), "{s}");
        assert!(s.ends_with(".749047") && !s.contains('Z') && !s.contains('+'));
        let whole = Utc
            .timestamp_opt(1_700_000_000, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(Dialect::WorkflowServer.timestamp(whole).len(), 19);
        assert!(Dialect::Spec.timestamp(t).ends_with(".749047Z"));
    }
}
