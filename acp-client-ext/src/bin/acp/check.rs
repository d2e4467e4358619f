//! `acp check`: every ACP operation tried against the server with safe inputs (a scratch
//! thread and runs, deleted afterwards), and a report of what the server does that the spec
//! (ACP 0.2.1) does not say: undeclared status codes, error body shapes, timestamp and `null`
//! spellings, run statuses, SSE ids, keep-alives and the end of a stream.
//!
//! It sends raw requests (through the client's own `reqwest::Client`, so with its credentials)
//! because what it reports is exactly what the library smooths over.

use crate::args::CheckArgs;
use crate::context::{Context, RunConfig, object_arg};
use crate::out::{Failure, Out};
use acp_client::ClientInfo as _;
use acp_client_ext::sse::{Decoder, Frame, SseError};
use acp_client_ext::{Operation, RunStatus, reqwest, server_message};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// The status codes the spec declares for each operation (from the ACP 0.2.1 document).
const DECLARED: &[(&str, &[u16])] = &[
    ("search_agents", &[200, 422]),
    ("get_agent_by_id", &[200, 404]),
    ("get_acp_descriptor_by_id", &[200, 404, 422]),
    ("create_thread", &[200, 409, 422]),
    ("search_threads", &[200, 422]),
    ("get_thread_history", &[200, 404, 422]),
    ("copy_thread", &[200, 404, 422]),
    ("get_thread", &[200, 404, 422]),
    ("delete_thread", &[204, 404, 422]),
    ("patch_thread", &[200, 404, 422]),
    ("list_thread_runs", &[200, 404, 422]),
    ("create_thread_run", &[200, 404, 409, 422]),
    ("create_and_stream_thread_run_output", &[200, 404, 409, 422]),
    (
        "create_and_wait_for_thread_run_output",
        &[200, 404, 409, 422],
    ),
    ("wait_for_thread_run_output", &[200, 404, 422]),
    ("get_thread_run", &[200, 404, 422]),
    ("resume_thread_run", &[200, 404, 409, 422]),
    ("delete_thread_run", &[204, 404, 422]),
    ("stream_thread_run_output", &[200, 404, 422]),
    ("cancel_thread_run", &[204, 404, 422]),
    ("create_stateless_run", &[200, 404, 409, 422]),
    ("search_stateless_runs", &[200, 422]),
    (
        "create_and_stream_stateless_run_output",
        &[200, 404, 409, 422],
    ),
    (
        "create_and_wait_for_stateless_run_output",
        &[200, 404, 409, 422],
    ),
    ("wait_for_stateless_run_output", &[200, 404, 422]),
    ("get_stateless_run", &[200, 404, 422]),
    ("resume_stateless_run", &[200, 404, 409, 422]),
    ("delete_stateless_run", &[204, 404, 422]),
    ("stream_stateless_run_output", &[200, 404, 422]),
    ("cancel_stateless_run", &[204, 404, 422]),
];

/// How long one streamed connection is read at most, and one silence on it.
const STREAM_LIMIT: Duration = Duration::from_secs(30);
const STREAM_IDLE: Duration = Duration::from_secs(15);

/// One answer of the server.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What became of one step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A success status.
    Done,
    /// A 4xx answer.
    Refused,
    /// 500 `Not implemented`: the operation is a stub on this server.
    NotImplemented,
    /// Any other 5xx answer.
    ServerError,
    /// No answer, or one that could not be read.
    NoAnswer,
}

impl Kind {
    fn of(a: &Answer) -> Kind {
        // As the library's `Error::is_unsupported` reads a 5xx, from the server's message.
        let message = || match reqwest::StatusCode::from_u16(a.status) {
            Ok(status) => server_message(status, &a.body),
            Err(_) => String::new(),
        };
        match a.status {
            501 => Kind::NotImplemented,
            500 if message().trim().eq_ignore_ascii_case("not implemented") => Kind::NotImplemented,
            500.. => Kind::ServerError,
            400.. => Kind::Refused,
            _ => Kind::Done,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Done => "done",
            Kind::Refused => "refused",
            Kind::NotImplemented => "not implemented",
            Kind::ServerError => "server error",
            Kind::NoAnswer => "no answer",
        }
    }
}

/// One operation tried: what was sent, what came back, and a note.
struct Row {
    op: &'static str,
    request: String,
    status: String,
    kind: Kind,
    /// A refusal is what the step probes for (an unknown id, a resume of a run that does not
    /// wait for one, a deleted thread).
    refusal_expected: bool,
    note: String,
}

/// What the server did that the spec does not say, by topic (the first example kept).
#[derive(Default)]
struct Findings {
    rows: Vec<Row>,
    deviations: BTreeMap<&'static str, (String, &'static str)>,
}

impl Findings {
    fn deviate(&mut self, topic: &'static str, seen: String, spec: &'static str) {
        self.deviations.entry(topic).or_insert((seen, spec));
    }
}

struct Checker {
    http: reqwest::Client,
    base: String,
    f: Findings,
    not_implemented: Vec<&'static str>,
}

impl Checker {
    /// Send one request, record its row, and look at its answer.
    async fn call(
        &mut self,
        op: &'static str,
        params: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<Answer> {
        self.send(op, params, body, false).await
    }

    /// [`call`](Self::call) for a step that probes a refusal (a 4xx is the expected answer).
    async fn probe(
        &mut self,
        op: &'static str,
        params: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<Answer> {
        self.send(op, params, body, true).await
    }

    async fn send(
        &mut self,
        op: &'static str,
        params: &[(&str, &str)],
        body: Option<&Value>,
        refusal_expected: bool,
    ) -> Option<Answer> {
        let (operation, method, path) = self.route(op, params)?;
        let request = format!("{method} {path}");
        let resp = match self.request(operation, &method, &path, body, None).await {
            Ok(resp) => resp,
            Err(e) => {
                self.row(op, request, "-", Kind::NoAnswer, format!("no answer: {e}"));
                return None;
            }
        };
        let status = resp.status().as_u16();
        let content_type = content_type(&resp);
        let answer = match resp.bytes().await {
            Ok(b) => Answer {
                status,
                content_type,
                body: b.to_vec(),
            },
            Err(e) => {
                let note = format!("reading the body failed: {e}");
                self.row(op, request, &status.to_string(), Kind::NoAnswer, note);
                return None;
            }
        };
        let note = self.inspect(op, &answer);
        let kind = Kind::of(&answer);
        self.row(op, request, &status.to_string(), kind, note);
        if let Some(row) = self.f.rows.last_mut() {
            row.refusal_expected = refusal_expected;
        }
        Some(answer)
    }

    /// Send one request with the client's own `reqwest::Client` (its credentials), raw: every
    /// status is an answer. A request that creates nothing is sent once more when the
    /// connection failed (a server may close a connection after an error without saying so).
    async fn request(
        &self,
        operation: Operation,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let attempts = if operation.creates() { 1 } else { 2 };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base));
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Some(id) = last_event_id {
                req = req.header("last-event-id", id);
            }
            match req.send().await {
                Err(e) if attempt < attempts && (e.is_connect() || e.is_request()) => continue,
                result => return result,
            }
        }
    }

    /// The operation, method and path of `op` from the operations table, with `params` filled
    /// in: no ACP path is typed in this module. An id the table lacks (a bug) is a row.
    fn route(
        &mut self,
        op: &'static str,
        params: &[(&str, &str)],
    ) -> Option<(Operation, Method, String)> {
        let Some(operation) = Operation::find(op) else {
            self.row(
                op,
                "-".into(),
                "-",
                Kind::NoAnswer,
                "not in the operations table".into(),
            );
            return None;
        };
        let path = match operation.fill_path(params) {
            Ok(path) => path,
            Err(e) => {
                self.row(
                    op,
                    operation.path().into(),
                    "-",
                    Kind::NoAnswer,
                    e.to_string(),
                );
                return None;
            }
        };
        let method = Method::from_bytes(operation.method().as_bytes()).ok()?;
        Some((operation, method, path))
    }

    fn row(&mut self, op: &'static str, request: String, status: &str, kind: Kind, note: String) {
        self.f.rows.push(Row {
            op,
            request,
            status: status.to_string(),
            kind,
            refusal_expected: false,
            note,
        });
    }

    /// What an answer shows: undeclared statuses, error bodies, spellings.
    fn inspect(&mut self, op: &'static str, a: &Answer) -> String {
        let mut notes = Vec::new();
        let declared = DECLARED
            .iter()
            .find(|(id, _)| *id == op)
            .map(|(_, codes)| *codes)
            .unwrap_or(&[]);
        let text = String::from_utf8_lossy(&a.body);
        let kind = Kind::of(a);
        match kind {
            Kind::NotImplemented => {
                self.not_implemented.push(op);
                notes.push(kind.as_str().to_string());
            }
            // A failure of the server, not a status it chose: reported by kind (see the end of
            // the report), not as a deviation.
            Kind::ServerError => notes.push(format!("{}: {}", kind.as_str(), excerpt(&text))),
            _ if !declared.contains(&a.status) => {
                self.f.deviate(
                    "status codes",
                    format!("{op} answered {}", a.status),
                    "only the codes each operation declares",
                );
                notes.push(format!("{} not declared", a.status));
            }
            _ => {}
        }
        if matches!(kind, Kind::Refused | Kind::NotImplemented) {
            let shape = error_shape(a);
            if shape != "JSON string" {
                let topic = if a.content_type.starts_with("text/plain") {
                    "error bodies (plain text)"
                } else {
                    "error bodies"
                };
                self.f.deviate(
                    topic,
                    format!("{shape} ({op} {}: {})", a.status, excerpt(&text)),
                    "ErrorResponse: a JSON string",
                );
            }
            notes.push(format!("error body: {shape}"));
        } else if kind == Kind::Done
            && let Some(v) = a.json()
        {
            self.spellings(op, &v, "");
        }
        notes.join("; ")
    }

    /// Nulls, timestamps and run statuses anywhere in a JSON value.
    fn spellings(&mut self, op: &'static str, v: &Value, path: &str) {
        match v {
            Value::Null => self.f.deviate(
                "null for absent fields",
                format!("{op}: {} is null", if path.is_empty() { "." } else { path }),
                "optional fields are left out (none is nullable)",
            ),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().take(20) {
                    self.spellings(op, item, &format!("{path}[{i}]"));
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let here = format!("{path}.{k}");
                    match (k.as_str(), item) {
                        (k, Value::String(s)) if k.ends_with("_at") && !has_offset(s) => {
                            self.f.deviate(
                                "timestamps",
                                format!("naive: {here} = {s}"),
                                "RFC 3339 date-time, with an offset",
                            );
                        }
                        // The library's reading of a status: what the spec does not list is
                        // `Other`.
                        ("status", Value::String(s))
                            if map.contains_key("run_id")
                                && matches!(RunStatus::parse(s), RunStatus::Other(_)) =>
                        {
                            self.f.deviate(
                                "run status",
                                format!("{s:?} ({op} {here})"),
                                "pending, error, success, timeout or interrupted",
                            );
                        }
                        // The one property the spec declares nullable (`RunCreate.stream_mode`).
                        ("stream_mode", Value::Null) => {}
                        // Free-form agent data is the agent's business.
                        (
                            "values" | "input" | "config" | "metadata" | "update" | "interrupt",
                            _,
                        ) => {}
                        _ => self.spellings(op, item, &here),
                    }
                }
            }
            _ => {}
        }
    }

    /// Open a stream and read it: at most `max_events` events (then the connection is dropped),
    /// or to its end. Returns the events' `(id, data)` and whether the stream ended by itself.
    async fn stream(
        &mut self,
        op: &'static str,
        params: &[(&str, &str)],
        body: Option<&Value>,
        last_event_id: Option<&str>,
        max_events: usize,
    ) -> Option<Sse> {
        let (operation, method, path) = self.route(op, params)?;
        let request = format!(
            "{method} {path}{}",
            last_event_id
                .map(|i| format!(" (Last-Event-ID: {i})"))
                .unwrap_or_default()
        );
        let resp = match self
            .request(operation, &method, &path, body, last_event_id)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.row(op, request, "-", Kind::NoAnswer, format!("no answer: {e}"));
                return None;
            }
        };
        let status = resp.status().as_u16();
        let ct = content_type(&resp);
        if status >= 300 || !ct.starts_with("text/event-stream") {
            let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            let a = Answer {
                status,
                content_type: ct,
                body,
            };
            let note = self.inspect(op, &a);
            let kind = Kind::of(&a);
            self.row(op, request, &status.to_string(), kind, note);
            return None;
        }
        let mut bytes = resp.bytes_stream();
        let mut sse = Sse::default();
        let started = tokio::time::Instant::now();
        loop {
            if sse.events.len() >= max_events || started.elapsed() > STREAM_LIMIT || sse.broken {
                break;
            }
            match tokio::time::timeout(STREAM_IDLE, bytes.next()).await {
                Ok(Some(Ok(chunk))) => sse.feed(&chunk),
                Ok(None) => {
                    sse.finish();
                    sse.ended = true;
                    break;
                }
                Ok(Some(Err(_))) | Err(_) => break,
            }
        }
        drop(bytes);
        let note = format!(
            "{} event(s), ids {}{}{}",
            sse.events.len(),
            sse.ids().join(","),
            if sse.ended { ", closed" } else { "" },
            sse.error
                .as_ref()
                .map(|e| format!("; invalid event stream: {e}"))
                .unwrap_or_default()
        );
        if sse.unglue.glued {
            self.f.deviate(
                "SSE keep-alives",
                "a bare ':' glued onto the next line (':id: 1')".into(),
                "a comment line ends with a newline",
            );
        }
        for (_, data) in &sse.events {
            if let Ok(v) = serde_json::from_str::<Value>(data) {
                self.spellings(op, &v, "event");
            }
        }
        self.row(op, request, &status.to_string(), Kind::Done, note);
        Some(sse)
    }
}

/// The events of a stream, decoded by the library's SSE decoder as they arrive.
#[derive(Default)]
struct Sse {
    decoder: Decoder,
    unglue: Unglue,
    events: Vec<(Option<String>, String)>,
    /// The decoder's fatal error, if any (the rest of the stream is not read).
    error: Option<String>,
    broken: bool,
    ended: bool,
}

impl Sse {
    fn feed(&mut self, chunk: &[u8]) {
        self.unglue.feed(chunk, &mut self.decoder);
        self.drain(Decoder::next_frame);
    }

    fn finish(&mut self) {
        self.unglue.finish(&mut self.decoder);
        self.drain(Decoder::finish);
    }

    fn drain(&mut self, next: fn(&mut Decoder) -> Result<Option<Frame>, SseError>) {
        // Bounded: every frame or error consumes input.
        loop {
            match next(&mut self.decoder) {
                Ok(Some(frame)) => self.events.push((
                    frame.id.map(String::from),
                    String::from_utf8_lossy(&frame.data).into_owned(),
                )),
                Ok(None) => return,
                Err(e) if e.is_fatal() => {
                    self.error = Some(e.to_string());
                    self.broken = true;
                    return;
                }
                // An event that is not UTF-8 is skipped; the next one may be fine.
                Err(_) => {}
            }
        }
    }

    fn ids(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(id, _)| id.clone().unwrap_or_else(|| "-".into()))
            .collect()
    }

    /// The run status of the last event, as the library reads a status.
    fn last_status(&self) -> Option<RunStatus> {
        let (_, data) = self.events.last()?;
        let v: Value = serde_json::from_str(data).ok()?;
        v.get("status")?.as_str().map(RunStatus::parse)
    }
}

/// What the Agent Workflow Server's keep-alive does to a stream, undone before decoding: it
/// writes a bare `:` without a line end, so the next line becomes a comment (`:id: 1`) and a
/// standard decoder drops that event's id. The check wants to see the ids the server meant
/// (and report the glue), so a line that is colons glued onto a field (`id:`, `data:`,
/// `event:`, `retry:`) is fed as a comment line and the field line. Every other byte goes to
/// the decoder as received: the decoding is the library's.
#[derive(Default)]
struct Unglue {
    line: Vec<u8>,
    glued: bool,
}

impl Unglue {
    const FIELDS: [&'static [u8]; 4] = [b"id:", b"data:", b"event:", b"retry:"];

    fn feed(&mut self, chunk: &[u8], decoder: &mut Decoder) {
        for piece in chunk.split_inclusive(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(piece);
            if matches!(piece.last(), Some(b'\n' | b'\r')) {
                self.flush(decoder);
            }
        }
    }

    fn finish(&mut self, decoder: &mut Decoder) {
        self.flush(decoder);
    }

    fn flush(&mut self, decoder: &mut Decoder) {
        let line = std::mem::take(&mut self.line);
        let colons = line.iter().take_while(|b| **b == b':').count();
        let bare = &line[colons..];
        if colons > 0 && Self::FIELDS.iter().any(|f| bare.starts_with(f)) {
            self.glued = true;
            decoder.feed(b":\n");
            decoder.feed(bare);
        } else {
            decoder.feed(&line);
        }
    }
}

fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn error_shape(a: &Answer) -> String {
    if a.content_type.starts_with("text/plain") {
        return "text/plain".into();
    }
    match a.json() {
        Some(Value::String(_)) => "JSON string".into(),
        Some(Value::Object(m)) => match m.get("detail") {
            Some(Value::Array(_)) => "{\"detail\": [validation errors]}".into(),
            Some(_) => "{\"detail\": ...}".into(),
            None => format!(
                "object with {}",
                m.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        },
        Some(_) => "other JSON".into(),
        None if a.body.is_empty() => "empty".into(),
        None => "not JSON".into(),
    }
}

fn excerpt(s: &str) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// Whether a date-time string carries an offset (`Z` or `±hh:mm`).
fn has_offset(s: &str) -> bool {
    let Some((_, time)) = s.split_once('T') else {
        return true; // not a date-time: not ours to judge
    };
    time.ends_with('Z') || time.ends_with('z') || time.contains('+') || time.contains('-')
}

fn id_of(a: &Option<Answer>, key: &str) -> Option<String> {
    let v = a.as_ref().filter(|a| a.status < 300)?.json()?;
    let id = v
        .get(key)
        .or_else(|| v.get("run").and_then(|r| r.get(key)))?;
    id.as_str().map(str::to_string)
}

/// The agent of the scratch runs when `--agent` is not given: the first one the unfiltered
/// search listed. A refused search and an empty one say different things, and what to do.
fn first_agent(listed: Option<&Answer>) -> Result<String, Failure> {
    let Some(a) = listed else {
        return Err(Failure::server(
            "the agent search got no answer (see the row of search_agents); pass --agent NAME",
        ));
    };
    // The server's words, whatever its error body's shape.
    let said = || match reqwest::StatusCode::from_u16(a.status) {
        Ok(status) => format!("{}: {}", a.status, server_message(status, &a.body)),
        Err(_) => a.status.to_string(),
    };
    if (400..500).contains(&a.status) {
        return Err(Failure::server(format!(
            "the server refused an unfiltered agent search ({}); pass --agent NAME",
            said()
        )));
    }
    if a.status >= 300 {
        return Err(Failure::server(format!(
            "the agent search failed ({}); pass --agent NAME",
            said()
        )));
    }
    match a.json() {
        Some(Value::Array(agents)) if agents.is_empty() => Err(Failure::server(
            "the server lists no agents; pass --agent NAME",
        )),
        Some(Value::Array(agents)) => agents
            .first()
            .and_then(|v| v.get("agent_id")?.as_str().map(str::to_string))
            .ok_or_else(|| {
                Failure::server("the first agent listed has no agent_id; pass --agent NAME")
            }),
        _ => Err(Failure::server(
            "the agent search answered something other than a list; pass --agent NAME",
        )),
    }
}

pub async fn check(ctx: &Context<'_>, args: &CheckArgs) -> Result<(), Failure> {
    let (client, out) = (&ctx.client, ctx.out);
    let input = object_arg("input", &args.input)?;
    let config = RunConfig::from_args(args.config.as_deref(), args.config_object.as_deref())?;
    let mut c = Checker {
        http: client.generated().client().clone(),
        base: client.base_url().to_string(),
        f: Findings::default(),
        not_implemented: Vec::new(),
    };
    let unknown = uuid::Uuid::new_v4().to_string();

    // Agents.
    let listed = c.call("search_agents", &[], Some(&json!({}))).await;
    if let Some(a) = listed.as_ref().filter(|a| a.status == 422) {
        c.f.deviate(
            "search without filters",
            format!("POST /agents/search {{}} answered {}", a.status),
            "name and version are optional filters",
        );
    }
    let agent_id = match &args.agent {
        Some(a) => ctx.agent(a).await?.id().to_string(),
        None => first_agent(listed.as_ref())?,
    };
    c.call("get_agent_by_id", &[("agent_id", agent_id.as_str())], None)
        .await;
    let descriptor = c
        .call(
            "get_acp_descriptor_by_id",
            &[("agent_id", agent_id.as_str())],
            None,
        )
        .await;
    c.probe("get_agent_by_id", &[("agent_id", unknown.as_str())], None)
        .await;

    // The scratch runs' body. `config` as a run of the library writes it: the configurable
    // values given (or the defaults of the agent's config schema) under `configurable`, and
    // `config: {}` at least when the descriptor declares a config schema.
    let declared_config = descriptor
        .as_ref()
        .filter(|a| a.status < 300)
        .and_then(Answer::json)
        .and_then(|d| d.pointer("/specs/config").filter(|c| !c.is_null()).cloned());
    let config = match config {
        RunConfig::Configurable(values) => Some(json!({ "configurable": values })),
        RunConfig::Object(object) => Some(object),
        RunConfig::None => declared_config.map(|schema| {
            let defaults: serde_json::Map<String, Value> = schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, s)| Some((k.clone(), s.get("default")?.clone())))
                .collect();
            if defaults.is_empty() {
                json!({})
            } else {
                json!({ "configurable": defaults })
            }
        }),
    };
    let mut body = json!({"agent_id": agent_id, "input": input});
    if let Some(cfg) = config {
        body["config"] = cfg;
    }

    // Threads.
    let thread = c
        .call("create_thread", &[], Some(&json!({"metadata": {}})))
        .await;
    let Some(t) = id_of(&thread, "thread_id") else {
        return report(out, c, &agent_id);
    };
    c.call("get_thread", &[("thread_id", t.as_str())], None)
        .await;
    c.call("search_threads", &[], Some(&json!({}))).await;
    c.call(
        "patch_thread",
        &[("thread_id", t.as_str())],
        Some(&json!({"metadata": {"acp-check": true}})),
    )
    .await;
    c.call("get_thread_history", &[("thread_id", t.as_str())], None)
        .await;
    let copy = c
        .call("copy_thread", &[("thread_id", t.as_str())], None)
        .await;

    // Thread runs.
    let created = c
        .call(
            "create_thread_run",
            &[("thread_id", t.as_str())],
            Some(&body),
        )
        .await;
    let mut run = id_of(&created, "run_id");
    if let Some(r) = &run {
        look_at_thread_run(&mut c, &t, r).await;
    }
    c.call("list_thread_runs", &[("thread_id", t.as_str())], None)
        .await;
    let waited = c
        .call(
            "create_and_wait_for_thread_run_output",
            &[("thread_id", t.as_str())],
            Some(&body),
        )
        .await;
    if run.is_none() {
        // A server whose background create fails (the Agent Workflow Server's answers 500) still
        // has a run to look at: the one create-and-wait made.
        run = id_of(&waited, "run_id");
        if let Some(r) = &run {
            look_at_thread_run(&mut c, &t, r).await;
        }
    }

    // SSE ids across connections: read one event, drop the connection, and rejoin after that
    // event while the run goes on (an agent that streams several events slowly shows it). An id at or below it again means the ids count per connection.
    let first = c
        .stream(
            "create_and_stream_thread_run_output",
            &[("thread_id", t.as_str())],
            Some(&body),
            None,
            1,
        )
        .await;
    let first_event = first.as_ref().and_then(|s| s.events.first().cloned());
    let streamed_run = first_event.as_ref().and_then(|(_, data)| {
        let v: Value = serde_json::from_str(data).ok()?;
        v.get("run_id")?.as_str().map(str::to_string)
    });
    if let (Some(r), Some((Some(id), _))) = (&streamed_run, &first_event) {
        let rejoin = c
            .stream(
                "stream_thread_run_output",
                &[("thread_id", t.as_str()), ("run_id", r.as_str())],
                None,
                Some(id),
                usize::MAX,
            )
            .await;
        let first_num = id.parse::<u64>().ok();
        if let Some(again) = rejoin.as_ref().and_then(|s| {
            s.events.iter().find_map(|(i, _)| {
                let i = i.as_deref()?;
                let n = i.parse::<u64>().ok();
                (i == id.as_str() || n.zip(first_num).is_some_and(|(n, f)| n <= f))
                    .then(|| i.to_string())
            })
        }) {
            c.f.deviate(
                "SSE ids",
                format!("after Last-Event-ID: {id} the rejoin sent id {again} again: ids count per connection"),
                "an event's id identifies it; a rejoin sends what follows Last-Event-ID",
            );
        }
    }

    // A run to cancel while it may still run, then every run is deleted.
    let to_cancel = c
        .call(
            "create_thread_run",
            &[("thread_id", t.as_str())],
            Some(&body),
        )
        .await;
    // Without a background create, the streamed run (cancelled or not, the operation is tried).
    if let Some(r) = id_of(&to_cancel, "run_id").or(streamed_run) {
        c.call(
            "cancel_thread_run",
            &[("thread_id", t.as_str()), ("run_id", r.as_str())],
            None,
        )
        .await;
    }
    if let Some(r) = &run {
        c.call(
            "delete_thread_run",
            &[("thread_id", t.as_str()), ("run_id", r.as_str())],
            None,
        )
        .await;
    }

    // Stateless runs; the whole stream of one, to see how it ends.
    let created = c.call("create_stateless_run", &[], Some(&body)).await;
    let srun = id_of(&created, "run_id");
    c.call("search_stateless_runs", &[], Some(&json!({}))).await;
    if let Some(r) = &srun {
        c.call(
            "wait_for_stateless_run_output",
            &[("run_id", r.as_str())],
            None,
        )
        .await;
        c.call("get_stateless_run", &[("run_id", r.as_str())], None)
            .await;
        c.stream(
            "stream_stateless_run_output",
            &[("run_id", r.as_str())],
            None,
            None,
            usize::MAX,
        )
        .await;
        c.probe(
            "resume_stateless_run",
            &[("run_id", r.as_str())],
            Some(&json!({})),
        )
        .await;
    }
    c.call("create_and_wait_for_stateless_run_output", &[], Some(&body))
        .await;
    let whole = c
        .stream(
            "create_and_stream_stateless_run_output",
            &[],
            Some(&body),
            None,
            usize::MAX,
        )
        .await;
    // A rejoin after the first event of that whole stream must send the events that followed it.
    if let Some(s) = whole.as_ref().filter(|s| s.events.len() > 1) {
        let run_of = |data: &str| {
            let v: Value = serde_json::from_str(data).ok()?;
            v.get("run_id")?.as_str().map(str::to_string)
        };
        if let (Some((Some(id), data)), Some(rest)) =
            (s.events.first(), s.ids().get(1..).map(<[String]>::to_vec))
            && let Some(r) = run_of(data)
        {
            {
                let rejoin = c
                    .stream(
                        "stream_stateless_run_output",
                        &[("run_id", r.as_str())],
                        None,
                        Some(id),
                        usize::MAX,
                    )
                    .await;
                if let Some(got) = rejoin.map(|j| j.ids()).filter(|got| *got != rest) {
                    c.f.deviate(
                        "SSE ids",
                        format!(
                            "after Last-Event-ID: {id} a rejoin sent ids [{}], not the [{}] that followed it: ids count per connection, Last-Event-ID is ignored",
                            got.join(","),
                            rest.join(",")
                        ),
                        "an id names one event of the run; a rejoin resumes after it",
                    );
                }
            }
        }
    }
    if let Some(s) = whole.filter(|s| s.ended) {
        let last = s.last_status();
        if !last.as_ref().is_some_and(RunStatus::is_settled) {
            c.f.deviate(
                "end of a stream",
                format!(
                    "the stream closed after an event with status {}",
                    last.as_ref().map_or("(none)", RunStatus::as_str)
                ),
                "the last event carries the run's final status",
            );
        }
    }
    let to_cancel = c.call("create_stateless_run", &[], Some(&body)).await;
    if let Some(r) = id_of(&to_cancel, "run_id") {
        c.call("cancel_stateless_run", &[("run_id", r.as_str())], None)
            .await;
    }
    if let Some(r) = &srun {
        c.call("delete_stateless_run", &[("run_id", r.as_str())], None)
            .await;
    }

    // Clean up the scratch threads; a deleted thread is 404.
    if let Some(t2) = id_of(&copy, "thread_id") {
        c.call("delete_thread", &[("thread_id", t2.as_str())], None)
            .await;
    }
    c.call("delete_thread", &[("thread_id", t.as_str())], None)
        .await;
    c.probe("get_thread", &[("thread_id", t.as_str())], None)
        .await;
    report(out, c, &agent_id)
}

/// Wait for, get, and try to resume (a refusal expected: it does not wait for an answer) a run
/// of thread `t`.
async fn look_at_thread_run(c: &mut Checker, t: &str, r: &str) {
    c.call(
        "wait_for_thread_run_output",
        &[("thread_id", t), ("run_id", r)],
        None,
    )
    .await;
    c.call("get_thread_run", &[("thread_id", t), ("run_id", r)], None)
        .await;
    c.probe(
        "resume_thread_run",
        &[("thread_id", t), ("run_id", r)],
        Some(&json!({})),
    )
    .await;
}

fn report(out: &Out, mut c: Checker, agent: &str) -> Result<(), Failure> {
    if !c.not_implemented.is_empty() {
        c.not_implemented.dedup();
        c.f.deviate(
            "operations not implemented",
            format!(
                "500 {{\"detail\":\"Not implemented\"}}: {}",
                c.not_implemented.join(", ")
            ),
            "every operation of the spec",
        );
    }
    if out.json {
        for r in &c.f.rows {
            out.record(&json!({
                "operation": r.op,
                "request": r.request,
                "status": r.status,
                "kind": r.kind.as_str(),
                "refusal_expected": r.refusal_expected,
                "note": r.note,
            }));
        }
        for (topic, (seen, spec)) in &c.f.deviations {
            out.record(&json!({"deviation": topic, "seen": seen, "spec": spec}));
        }
        return Ok(());
    }
    out.text(format!("acp check {} (agent {agent})", c.base));
    out.text("");
    let w =
        c.f.rows
            .iter()
            .map(|r| r.op.len())
            .max()
            .unwrap_or(9)
            .max(9);
    let wr =
        c.f.rows
            .iter()
            .map(|r| r.request.len())
            .max()
            .unwrap_or(7)
            .max(7);
    out.text(format!(
        "{:w$}  {:wr$}  {:6}  note",
        "operation", "request", "status"
    ));
    for r in &c.f.rows {
        out.text(format!(
            "{:w$}  {:wr$}  {:6}  {}",
            r.op, r.request, r.status, r.note
        ));
    }
    out.text("");
    // The steps the server could not do, by kind (a refusal the step probes for is not one).
    let mut not_done: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in
        c.f.rows
            .iter()
            .filter(|r| r.kind != Kind::Done && !(r.kind == Kind::Refused && r.refusal_expected))
    {
        let ops = not_done.entry(r.kind.as_str()).or_default();
        if !ops.contains(&r.op) {
            ops.push(r.op);
        }
    }
    if !not_done.is_empty() {
        out.text("Steps the server did not do:");
        for (kind, ops) in &not_done {
            out.text(format!("  {kind}: {}", ops.join(", ")));
        }
        out.text("");
    }
    if c.f.deviations.is_empty() {
        out.text("No deviations from the spec found.");
        return Ok(());
    }
    out.text(format!(
        "{} deviation(s) from the spec:",
        c.f.deviations.len()
    ));
    let wt = c.f.deviations.keys().map(|k| k.len()).max().unwrap_or(5);
    out.text(format!("{:wt$}  {}", "what", "seen  (the spec says)"));
    for (topic, (seen, spec)) in &c.f.deviations {
        out.text(format!("{topic:wt$}  {seen}  ({spec})"));
    }
    Ok(())
}
