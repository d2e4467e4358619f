//! Dialects: what the server says on the wire.
//!
//! [`Dialect::Spec`] (the default) follows the ACP 0.2.1 OpenAPI document, with the leniencies
//! listed in the crate docs. [`Dialect::WorkflowServer`] reproduces what agntcy's Agent
//! Workflow Server (`agntcy/workflow-srv`, Python, FastAPI + pydantic), the one public ACP
//! server implementation, actually sends, so clients can be tested against a server that is
//! not polite. Each deviation is listed in the crate docs; the wire details live here (shapes,
//! timestamps, error bodies, the routes it lacks) and in [`crate::sse`] (its streams).

use axum::{
    body::{Body, HttpBody as _},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
};
use chrono::{DateTime, Local, SecondsFormat, Timelike, Utc};
use serde_json::{Map, Value};

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

/// The body of a FastAPI 422, `{"detail":[...]}`, with each violation's keys in pydantic's
/// order (`type`, `loc`, `msg`, `input`, then any others), compact as Starlette's
/// `JSONResponse` writes it (`json.dumps(..., separators=(",", ":"))`).
pub(crate) fn detail_list_json(violations: &[Value]) -> String {
    const ORDER: [&str; 4] = ["type", "loc", "msg", "input"];
    let items: Vec<String> = violations
        .iter()
        .map(|v| {
            let Value::Object(o) = v else {
                return v.to_string();
            };
            let known = ORDER.iter().filter_map(|k| o.get(*k).map(|v| (*k, v)));
            let rest = o
                .iter()
                .filter(|(k, _)| !ORDER.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), v));
            let fields: Vec<String> = known
                .chain(rest)
                .map(|(k, v)| format!("{}:{v}", Value::from(k)))
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!(r#"{{"detail":[{}]}}"#, items.join(","))
}

/// How the Workflow Server's generated handlers type a query parameter.
#[derive(Clone, Copy)]
enum QueryType {
    /// `Optional[StrictInt]`: a query value is always a string, so any value is refused.
    StrictInt,
    /// `Optional[StrictBool]`: likewise.
    StrictBool,
}

/// A route's strictly typed query parameters: `(name, type)` in declaration order.
type QueryParams = &'static [(&'static str, QueryType)];

/// The query parameters the Workflow Server declares with a strict type, per route, in the
/// order its handlers declare them (FastAPI reports violations in that order):
/// `list_thread_runs` (`apis/threads_runs.py`: `limit`, `offset: Optional[StrictInt]`),
/// `cancel_thread_run` (`apis/threads_runs.py`) and `cancel_stateless_run`
/// (`apis/stateless_runs.py`: `wait: Optional[StrictBool]`; their `action` is a `StrictStr`,
/// which a query string always satisfies).
const STRICT_QUERY: &[(&str, &str, QueryParams)] = &[
    (
        "GET",
        "/threads/*/runs",
        &[
            ("limit", QueryType::StrictInt),
            ("offset", QueryType::StrictInt),
        ],
    ),
    (
        "POST",
        "/threads/*/runs/*/cancel",
        &[("wait", QueryType::StrictBool)],
    ),
    ("POST", "/runs/*/cancel", &[("wait", QueryType::StrictBool)]),
];

/// FastAPI's validation of the strictly typed query parameters of the route `method uri`
/// (see [`STRICT_QUERY`]): one violation per such parameter present in the query, whatever its
/// value, since pydantic's strict mode accepts no string for an int or a bool:
/// `{"type":"int_type","loc":["query","limit"],"msg":"Input should be a valid integer","input":"5"}`
/// or `{"type":"bool_type",...,"msg":"Input should be a valid boolean",...}`. The input is the
/// decoded value, the last one when the parameter is repeated (Starlette's `QueryParams.get`).
pub(crate) fn strict_query_violations(method: &Method, uri: &Uri) -> Vec<Value> {
    let Some((_, _, params)) = STRICT_QUERY
        .iter()
        .find(|(m, p, _)| method.as_str() == *m && crate::state::path_matches(p, uri.path()))
    else {
        return Vec::new();
    };
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default();
    params
        .iter()
        .filter_map(|(name, ty)| {
            let value = pairs.iter().rev().find(|(k, _)| k == name)?.1.clone();
            let (kind, msg) = match ty {
                QueryType::StrictInt => ("int_type", "Input should be a valid integer"),
                QueryType::StrictBool => ("bool_type", "Input should be a valid boolean"),
            };
            Some(violation(kind, &["query", name], msg, Value::String(value)))
        })
        .collect()
}

/// Marks a response after which the connection is closed (without a `Connection: close`
/// header), as uvicorn does after an unhandled exception.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CloseAfter;

/// Starlette's answer to an unhandled exception (`ServerErrorMiddleware.error_response`:
/// `PlainTextResponse("Internal Server Error", status_code=500)`), after which uvicorn closes
/// the connection (`h11_impl.RequestResponseCycle.run_asgi`: the application raised once the
/// response had started, so `self.transport.close()`). On the wire, with
/// [`uvicorn_head`]:
///
/// ```text
/// HTTP/1.1 500 Internal Server Error\r\n
/// date: Tue, 01 Dec 2026 21:30:00 GMT\r\n
/// server: uvicorn\r\n
/// content-length: 21\r\n
/// content-type: text/plain; charset=utf-8\r\n
/// \r\n
/// Internal Server Error
/// ```
pub(crate) fn internal_server_error() -> Response {
    const BODY: &str = "Internal Server Error";
    let mut resp = Response::new(Body::from(BODY));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(BODY.len()));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp.extensions_mut().insert(CloseAfter);
    resp
}

/// The head of a response as uvicorn (h11) and Starlette write it: uvicorn's default headers
/// first (`date`, then `server: uvicorn`), then Starlette's `Response.init_headers`
/// (`content-length`, then `content-type`), then the others. hyper writes the headers in this
/// order and adds no `date` of its own when there is one.
pub(crate) fn uvicorn_head(resp: &mut Response) {
    let status = resp.status();
    let length = resp.body().size_hint().exact().filter(|_| {
        !(status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED)
    });
    let old = std::mem::take(resp.headers_mut());
    let mut h = HeaderMap::with_capacity(old.len() + 3);
    let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = HeaderValue::from_str(&date) {
        h.insert(header::DATE, v);
    }
    h.insert(header::SERVER, HeaderValue::from_static("uvicorn"));
    match old.get(header::CONTENT_LENGTH) {
        Some(v) => {
            h.insert(header::CONTENT_LENGTH, v.clone());
        }
        None => {
            if let Some(n) = length {
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            }
        }
    }
    if let Some(v) = old.get(header::CONTENT_TYPE) {
        h.insert(header::CONTENT_TYPE, v.clone());
    }
    for (name, value) in &old {
        if ![
            header::DATE,
            header::SERVER,
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
        ]
        .contains(name)
        {
            h.append(name.clone(), value.clone());
        }
    }
    *resp.headers_mut() = h;
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

    #[test]
    fn detail_lists_in_pydantic_order() {
        let v = violation("int_type", &["query", "limit"], "m", Value::from("5"));
        assert_eq!(
            detail_list_json(&[v]),
            r#"{"detail":[{"type":"int_type","loc":["query","limit"],"msg":"m","input":"5"}]}"#
        );
    }

    #[test]
    fn strict_query_parameters() {
        let q = |m: Method, s: &str| strict_query_violations(&m, &s.parse().unwrap_or_default());
        let v = q(Method::GET, "/threads/t/runs?offset=0&x=1&limit=a+b");
        let keys: Vec<_> = v.iter().map(|v| v["loc"][1].clone()).collect();
        assert_eq!(keys, [Value::from("limit"), Value::from("offset")]);
        assert_eq!(v[0]["input"], "a b");
        let v = q(Method::POST, "/runs/r/cancel?wait=1&wait=true");
        assert_eq!(v[0]["input"], "true");
        assert_eq!(v[0]["type"], "bool_type");
        assert!(q(Method::POST, "/runs/r/cancel?action=x").is_empty());
        assert!(q(Method::GET, "/threads/t?limit=1").is_empty());
        assert!(q(Method::GET, "/threads/t/runs").is_empty());
    }
}
