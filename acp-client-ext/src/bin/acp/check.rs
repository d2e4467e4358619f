//! `acp check`: every ACP operation tried against the server with safe inputs (a scratch
//! thread and runs, deleted afterwards), and a report of what the server does that the spec
//! (ACP 0.2.1) does not say: undeclared status codes, error body shapes, timestamp and `null`
//! spellings, run statuses, SSE ids, keep-alives and the end of a stream.
//!
//! It sends raw requests (through the client's own `reqwest::Client`, so with its credentials)
//! because what it reports is exactly what the library smooths over.

use crate::args::CheckArgs;
use crate::commands::{body_parts, resolve_agent};
use crate::out::{Failure, Out, SERVER};
use acp_client::ClientInfo as _;
use acp_client_ext::{AcpClient, Operation, reqwest};
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

/// The spec's run statuses.
const RUN_STATUSES: &[&str] = &["pending", "error", "success", "timeout", "interrupted"];

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

/// One operation tried: what was sent, what came back, and a note.
struct Row {
    op: &'static str,
    request: String,
    status: String,
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
        let (method, path) = self.route(op, params)?;
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(b);
        }
        let request = format!("{method} {path}");
        let answer = match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let content_type = content_type(&resp);
                match resp.bytes().await {
                    Ok(b) => Answer {
                        status,
                        content_type,
                        body: b.to_vec(),
                    },
                    Err(e) => {
                        self.row(op, request, "-", format!("reading the body failed: {e}"));
                        return None;
                    }
                }
            }
            Err(e) => {
                self.row(op, request, "-", format!("no answer: {e}"));
                return None;
            }
        };
        let note = self.inspect(op, &answer);
        self.row(op, request, &answer.status.to_string(), note);
        Some(answer)
    }

    /// The method and path of `op` from the operations table, with `params` filled in: no ACP
    /// path is typed in this module. An id the table lacks (a bug) is reported as a row.
    fn route(&mut self, op: &'static str, params: &[(&str, &str)]) -> Option<(Method, String)> {
        let Some(operation) = Operation::find(op) else {
            self.row(op, "-".into(), "-", "not in the operations table".into());
            return None;
        };
        let mut path = operation.path().to_string();
        for (name, value) in params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let method = Method::from_bytes(operation.method().as_bytes()).ok()?;
        Some((method, path))
    }

    fn row(&mut self, op: &'static str, request: String, status: &str, note: String) {
        self.f.rows.push(Row {
            op,
            request,
            status: status.to_string(),
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
        if !declared.contains(&a.status) {
            if a.status == 500 && text.contains("Not implemented") {
                self.not_implemented.push(op);
                notes.push("not implemented".to_string());
            } else {
                self.f.deviate(
                    "status codes",
                    format!("{op} answered {}", a.status),
                    "only the codes each operation declares",
                );
                notes.push(format!("{} not declared", a.status));
            }
        }
        if a.status >= 400 {
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
        } else if let Some(v) = a.json() {
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
                        ("status", Value::String(s))
                            if map.contains_key("run_id")
                                && !RUN_STATUSES.contains(&s.as_str()) =>
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
        let (method, path) = self.route(op, params)?;
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let request = format!(
            "{method} {path}{}",
            last_event_id
                .map(|i| format!(" (Last-Event-ID: {i})"))
                .unwrap_or_default()
        );
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.row(op, request, "-", format!("no answer: {e}"));
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
            self.row(op, request, &status.to_string(), note);
            return None;
        }
        let mut raw = Vec::new();
        let mut bytes = resp.bytes_stream();
        let mut sse = Sse::default();
        let started = tokio::time::Instant::now();
        loop {
            if sse.events.len() >= max_events || started.elapsed() > STREAM_LIMIT {
                break;
            }
            match tokio::time::timeout(STREAM_IDLE, bytes.next()).await {
                Ok(Some(Ok(chunk))) => {
                    raw.extend_from_slice(&chunk);
                    sse = parse_sse(&raw);
                }
                Ok(None) => {
                    sse.ended = true;
                    break;
                }
                Ok(Some(Err(_))) | Err(_) => break,
            }
        }
        drop(bytes);
        let note = format!(
            "{} event(s), ids {}{}",
            sse.events.len(),
            sse.ids().join(","),
            if sse.ended { ", closed" } else { "" }
        );
        if sse.glued {
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
        self.row(op, request, &status.to_string(), note);
        Some(sse)
    }
}

/// The events of a stream, as read.
#[derive(Default)]
struct Sse {
    events: Vec<(Option<String>, String)>,
    glued: bool,
    ended: bool,
}

impl Sse {
    fn ids(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(id, _)| id.clone().unwrap_or_else(|| "-".into()))
            .collect()
    }

    /// The run status of the last event.
    fn last_status(&self) -> Option<String> {
        let (_, data) = self.events.last()?;
        let v: Value = serde_json::from_str(data).ok()?;
        v.get("status")?.as_str().map(str::to_string)
    }
}

/// A plain reading of SSE (the complete events in `raw`), noting glued keep-alives.
fn parse_sse(raw: &[u8]) -> Sse {
    let text = String::from_utf8_lossy(raw);
    let mut sse = Sse::default();
    let (mut id, mut data): (Option<String>, Vec<String>) = (None, Vec::new());
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut line = line;
        // `:` keep-alives written without a newline (one or several) end up in front of the
        // next field: `:::id: 1`.
        let bare = line.trim_start_matches(':');
        if bare.len() != line.len() {
            if ["id:", "data:", "event:", "retry:"]
                .iter()
                .any(|f| bare.starts_with(f))
            {
                sse.glued = true;
                line = bare;
            } else {
                line = "";
            }
        }
        if line.is_empty() {
            if !data.is_empty() {
                sse.events.push((id.take(), data.join("\n")));
                data.clear();
            }
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_string()),
            "data" => data.push(value.to_string()),
            _ => {}
        }
    }
    sse
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

pub async fn check(client: &AcpClient, out: &Out, args: &CheckArgs) -> Result<(), Failure> {
    let (input, config) = body_parts(&args.input, args.config.as_deref())?;
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
        Some(a) => resolve_agent(client, a).await?.agent_id.to_string(),
        None => listed
            .as_ref()
            .and_then(Answer::json)
            .and_then(|v| v.get(0)?.get("agent_id")?.as_str().map(str::to_string))
            .ok_or_else(|| {
                Failure::new(
                    SERVER,
                    "no agent to run: the server listed none; pass --agent",
                )
            })?,
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
    c.call("get_agent_by_id", &[("agent_id", unknown.as_str())], None)
        .await;

    // The scratch runs' body: the config given, or the defaults of the agent's config schema.
    let config = config.or_else(|| {
        let d = descriptor.as_ref()?.json()?;
        let props = d.pointer("/specs/config/properties")?.as_object()?;
        let defaults: serde_json::Map<String, Value> = props
            .iter()
            .filter_map(|(k, s)| Some((k.clone(), s.get("default")?.clone())))
            .collect();
        Some(Value::Object(defaults))
    });
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
    let run = id_of(&created, "run_id");
    if let Some(r) = &run {
        c.call(
            "wait_for_thread_run_output",
            &[("thread_id", t.as_str()), ("run_id", r.as_str())],
            None,
        )
        .await;
        c.call(
            "get_thread_run",
            &[("thread_id", t.as_str()), ("run_id", r.as_str())],
            None,
        )
        .await;
        c.call(
            "resume_thread_run",
            &[("thread_id", t.as_str()), ("run_id", r.as_str())],
            Some(&json!({})),
        )
        .await;
    }
    c.call("list_thread_runs", &[("thread_id", t.as_str())], None)
        .await;
    c.call(
        "create_and_wait_for_thread_run_output",
        &[("thread_id", t.as_str())],
        Some(&body),
    )
    .await;

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
    if let Some(r) = id_of(&to_cancel, "run_id") {
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
        c.call(
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
        let settled = |st: &str| ["success", "error", "timeout", "interrupted"].contains(&st);
        if !last.as_deref().is_some_and(settled) {
            c.f.deviate(
                "end of a stream",
                format!(
                    "the stream closed after an event with status {}",
                    last.unwrap_or_else(|| "(none)".into())
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
    c.call("get_thread", &[("thread_id", t.as_str())], None)
        .await;
    report(out, c, &agent_id)
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
            out.record(&json!({"operation": r.op, "request": r.request, "status": r.status, "note": r.note}));
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
