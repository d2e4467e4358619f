//! `acp test SCENARIO.yaml...`: runs acp-sdk's test-client scenario files unchanged
//! (`test-client/acp_test/{main,client,types}.py` in agntcy/acp-sdk, read for the format and
//! the comparisons; the code is ours).
//!
//! A file is `{metadata: {client_config, env_prefix}, operations: [...]}`. Each operation is
//! rendered as a Jinja template (minijinja) over `env` (the process environment, after `--env
//! NAME=VALUE`) and `results` (what every earlier operation, or streamed event, returned, with
//! `null` fields left out as the SDK's `model_dump(exclude_none=True)` does), then sent by its
//! `operation_id` through the library's `AcpClient::send_operation`. `test_input` entries
//! named like a path parameter of the operation fill the path, an entry with `arguments` is
//! the body, any other is a query parameter.
//!
//! The comparisons are the SDK's (deepdiff, expected first):
//! - `output_at_least`: fails only on a changed value or a missing key of the expectation;
//!   extra keys, extra or *missing* list items and changed types (including a `null`
//!   expected where something is) pass; a `null` expectation passes anything.
//! - `output_exact`: any difference fails, but timestamps are ignored (the SDK excludes
//!   `datetime`s: here, strings that read as an ISO 8601 date-time) and, since we do not know
//!   the model's fields, a `null` and an absent key are the same.
//! - `output_stream`: the events of a streaming operation, in order, each against the next
//!   expectation (`output_at_least` or `output_exact`); events past the expectations are not
//!   checked. An event is `{"id", "event", "data"}`. Reading stops when the expectations are
//!   used up and a run-ending status was seen, when the stream ends, or after the client's
//!   idle timeout of silence (the Agent Workflow Server never closes its streams).
//!
//! An operation that fails to send is compared as `{}` (as the SDK compares its `None`).

use crate::context::Session;
use crate::out::Failure;
use acp_client_ext::sse::Decoder;
use acp_client_ext::{AcpClient, Operation, RetryPolicy};
use futures::StreamExt as _;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::time::Duration;

/// One difference found by [`diff`], deepdiff's words for its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub kind: &'static str,
    pub path: String,
    pub expected: Option<Value>,
    pub got: Option<Value>,
}

/// How expectations compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    AtLeast,
    Exact,
}

fn is_datetime(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
        && b[16] == b':'
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// The differences from `expected` to `got` that fail in `mode`.
pub fn diff(expected: &Value, got: &Value, mode: Mode) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(expected, got, "root".into(), mode, &mut out);
    out
}

fn walk(e: &Value, g: &Value, path: String, mode: Mode, out: &mut Vec<Difference>) {
    fn push(
        out: &mut Vec<Difference>,
        kind: &'static str,
        path: String,
        expected: Option<&Value>,
        got: Option<&Value>,
    ) {
        out.push(Difference {
            kind,
            path,
            expected: expected.cloned(),
            got: got.cloned(),
        });
    }
    if mode == Mode::Exact && (is_datetime(e) || is_datetime(g)) {
        return;
    }
    match (e, g) {
        (Value::Object(em), Value::Object(gm)) => {
            for (k, ev) in em {
                let p = format!("{path}['{k}']");
                match gm.get(k) {
                    Some(gv) => walk(ev, gv, p, mode, out),
                    None if mode == Mode::Exact && (ev.is_null() || is_datetime(ev)) => {}
                    None => push(out, "dictionary_item_removed", p, Some(ev), None),
                }
            }
            if mode == Mode::Exact {
                for (k, gv) in gm {
                    if !em.contains_key(k) && !gv.is_null() && !is_datetime(gv) {
                        push(
                            out,
                            "dictionary_item_added",
                            format!("{path}['{k}']"),
                            None,
                            Some(gv),
                        );
                    }
                }
            }
        }
        (Value::Array(ea), Value::Array(ga)) => {
            for (n, (ev, gv)) in ea.iter().zip(ga).enumerate() {
                walk(ev, gv, format!("{path}[{n}]"), mode, out);
            }
            if mode == Mode::Exact {
                for (n, ev) in ea.iter().enumerate().skip(ga.len()) {
                    push(
                        out,
                        "iterable_item_removed",
                        format!("{path}[{n}]"),
                        Some(ev),
                        None,
                    );
                }
                for (n, gv) in ga.iter().enumerate().skip(ea.len()) {
                    push(
                        out,
                        "iterable_item_added",
                        format!("{path}[{n}]"),
                        None,
                        Some(gv),
                    );
                }
            }
        }
        // deepdiff's type_changes: a failure only when exact.
        _ if kind_name(e) != kind_name(g) && mode == Mode::Exact => {
            push(out, "type_changes", path, Some(e), Some(g));
        }
        _ if kind_name(e) != kind_name(g) => {}
        _ if e != g => push(out, "values_changed", path, Some(e), Some(g)),
        _ => {}
    }
}

/// `v` without its `null` object fields, at any depth (the SDK's `exclude_none` dumps).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        v => v.clone(),
    }
}

/// One expectation: the mode and what is expected (`None`: nothing to check).
fn expectation(item: &Value) -> Option<(Mode, Value)> {
    let obj = item.as_object()?;
    if let Some(e) = obj.get("output_exact") {
        return Some((Mode::Exact, e.clone()));
    }
    obj.get("output_at_least")
        .map(|e| (Mode::AtLeast, e.clone()))
}

/// Runs `files`; exit 0 when every operation of every file passed, 1 otherwise.
pub async fn test(session: &Session<'_>, files: &[String], env: &[String]) -> Result<(), Failure> {
    let mut environment: Map<String, Value> = std::env::vars()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    for pair in env {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Failure::usage(format!("--env {pair}: expected NAME=VALUE")));
        };
        environment.insert(k.into(), Value::String(v.into()));
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in files {
        let (p, f) = run_file(session, file, &environment).await?;
        passed += p;
        failed += f;
    }
    session
        .out
        .text(format!("{passed} passed, {failed} failed"));
    session
        .out
        .record(&json!({"passed": passed, "failed": failed}));
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(1, ""))
    }
}

/// The client a file's `metadata` describes: `client_config.host` (or `PREFIX_HOST`,
/// `PREFIX_ENDPOINT` with `env_prefix`, or else `--url`/`ACP_URL`), `retries`, `timeout`
/// (seconds, or `[connect, read]`), `api_key` (`{"header": "key"}`), `access_token`.
fn client_for(
    session: &Session<'_>,
    meta: &Value,
    env: &Map<String, Value>,
) -> Result<AcpClient, Failure> {
    let cfg = &meta["client_config"];
    let prefix = meta["env_prefix"].as_str().map(str::to_uppercase);
    let from_env = |name: &str| {
        prefix
            .as_ref()
            .and_then(|p| env.get(&format!("{p}{}", name.to_uppercase())))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let host = cfg["host"]
        .as_str()
        .map(str::to_string)
        .or_else(|| from_env("host"))
        .or_else(|| from_env("endpoint"))
        .or_else(|| session.url().map(str::to_string))
        .ok_or_else(|| {
            Failure::usage(
                "no server: the file names no host, and neither --url nor ACP_URL is set",
            )
        })?;
    let mut b = AcpClient::builder(&host);
    let api_key = cfg
        .get("api_key")
        .filter(|v| v.is_object())
        .cloned()
        .or_else(|| from_env("api_key").and_then(|s| serde_json::from_str(&s).ok()));
    if let Some((header, key)) = api_key
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|m| m.iter().next())
    {
        b = b
            .api_key_header(header.clone())
            .api_key(key.as_str().unwrap_or_default().to_string());
    }
    if let Some(token) = cfg["access_token"]
        .as_str()
        .map(str::to_string)
        .or_else(|| from_env("access_token"))
    {
        b = b.bearer_token(token);
    }
    if let Some(n) = cfg["retries"].as_u64() {
        b = b.retry(RetryPolicy {
            max_retries: u32::try_from(n).unwrap_or(u32::MAX),
            ..RetryPolicy::default()
        });
    }
    let secs = |v: &Value| v.as_f64().filter(|s| *s > 0.0).map(Duration::from_secs_f64);
    match &cfg["timeout"] {
        Value::Array(t) if t.len() == 2 => {
            if let Some(c) = secs(&t[0]) {
                b = b.connect_timeout(c);
            }
            if let Some(r) = secs(&t[1]) {
                b = b.request_timeout(r);
            }
        }
        t => {
            if let Some(r) = secs(t) {
                b = b.request_timeout(r);
            }
        }
    }
    Ok(b.build()?)
}

async fn run_file(
    session: &Session<'_>,
    file: &str,
    env: &Map<String, Value>,
) -> Result<(usize, usize), Failure> {
    let text = std::fs::read_to_string(Path::new(file))
        .map_err(|e| Failure::usage(format!("{file}: cannot read: {e}")))?;
    let doc: Value = serde_norway::from_str(&text)
        .map_err(|e| Failure::usage(format!("{file}: not YAML: {e}")))?;
    let Some(ops) = doc["operations"].as_array() else {
        return Err(Failure::usage(format!("{file}: no `operations` list")));
    };
    let client = client_for(session, &doc["metadata"], env)?;
    let idle = Duration::from_secs(30);
    let mut jinja = minijinja::Environment::new();
    jinja.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    let mut results: Vec<Value> = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    session.out.text(format!("{file}:"));
    for (idx, raw) in ops.iter().enumerate() {
        let ctx = json!({"env": env, "results": results});
        let rendered = jinja
            .render_str(&raw.to_string(), &ctx)
            .map_err(|e| Failure::usage(format!("{file}: operation {idx}: template: {e}")))?;
        let op: Value = serde_json::from_str(&rendered).map_err(|e| {
            Failure::usage(format!(
                "{file}: operation {idx}: not JSON once rendered: {e}"
            ))
        })?;
        let id = op["operation_id"].as_str().unwrap_or_default().to_string();
        let Some(operation) = Operation::find(&id) else {
            return Err(Failure::usage(format!(
                "{file}: operation {idx}: unknown operation_id {id:?}"
            )));
        };
        let (answers, error) = send(&client, &operation, &op, idle).await;
        let mut fails = Vec::new();
        let mut stream_expect: Vec<Value> =
            op["output_stream"].as_array().cloned().unwrap_or_default();
        stream_expect.reverse();
        let answers = if answers.is_empty() {
            vec![json!({})]
        } else {
            answers
        };
        for answer in &answers {
            let dump = without_nulls(answer);
            let check = if !op["output_stream"].as_array().is_none_or(Vec::is_empty) {
                stream_expect.pop().and_then(|e| expectation(&e))
            } else if !op["output_exact"].is_null() && op["output_exact"] != json!({}) {
                Some((Mode::Exact, op["output_exact"].clone()))
            } else if !op["output_at_least"].is_null() {
                Some((Mode::AtLeast, op["output_at_least"].clone()))
            } else {
                None
            };
            if let Some((mode, expected)) = check {
                let got = if mode == Mode::Exact { answer } else { &dump };
                let d = if expected.is_null() {
                    Vec::new()
                } else {
                    diff(&expected, got, mode)
                };
                if !d.is_empty() {
                    fails.push(d);
                }
            }
            results.push(dump);
        }
        let line = match (&error, fails.is_empty()) {
            (_, true) => format!("  ok    {idx} {id}"),
            (Some(e), false) => format!("  FAIL  {idx} {id}: {e}"),
            (None, false) => format!("  FAIL  {idx} {id}"),
        };
        session.out.text(line);
        for d in fails.iter().flatten() {
            let show = |v: &Option<Value>| v.as_ref().map_or("(none)".into(), Value::to_string);
            session.out.text(format!(
                "        {} {}: expected {}, got {}",
                d.kind,
                d.path,
                show(&d.expected),
                show(&d.got)
            ));
        }
        session.out.record(&json!({
            "file": file, "operation": idx, "operation_id": id, "passed": fails.is_empty(),
            "error": error,
            "differences": fails.iter().flatten().map(|d| json!({"kind": d.kind, "path": d.path, "expected": d.expected, "got": d.got})).collect::<Vec<_>>(),
        }));
        if fails.is_empty() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    Ok((passed, failed))
}

/// Sends one rendered operation: its answers (one, or a stream's events) and the error that
/// ended it, if any.
async fn send(
    client: &AcpClient,
    operation: &Operation,
    op: &Value,
    idle: Duration,
) -> (Vec<Value>, Option<String>) {
    let params: Vec<&str> = operation.path_params().collect();
    let mut path: Vec<(String, String)> = Vec::new();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut body: Option<Value> = None;
    for (name, arg) in op["test_input"].as_object().into_iter().flatten() {
        let value = match (
            arg.get("arguments").filter(|a| !a.is_null()),
            arg.get("value").and_then(Value::as_str),
        ) {
            (Some(a), _) => {
                body = Some(a.clone());
                continue;
            }
            (None, Some(v)) => v.to_string(),
            (None, None) => String::new(),
        };
        if params.contains(&name.as_str()) {
            path.push((name.clone(), value));
        } else {
            query.push((name.clone(), value));
        }
    }
    let path: Vec<(&str, &str)> = path.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let resp = match client
        .send_operation(operation.id(), &path, &query, body.as_ref())
        .await
    {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e.to_string())),
    };
    if !operation.streams() {
        return match resp.bytes().await {
            Ok(b) if b.is_empty() => (vec![json!({})], None),
            Ok(b) => match serde_json::from_slice::<Value>(&b) {
                Ok(Value::Array(items)) => (vec![Value::Array(items)], None),
                Ok(v) => (vec![v], None),
                Err(e) => (Vec::new(), Some(format!("the answer is not JSON: {e}"))),
            },
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
    }
    let expected = op["output_stream"].as_array().map_or(0, Vec::len);
    let mut events = Vec::new();
    let mut decoder = Decoder::default();
    let mut chunks = resp.bytes_stream();
    let mut ended = false;
    loop {
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    let text = String::from_utf8_lossy(&frame.data);
                    let data = serde_json::from_str::<Value>(&text)
                        .unwrap_or_else(|_| Value::String(text.into()));
                    let status = data["status"].as_str().unwrap_or_default().to_string();
                    let mut ev = json!({"event": frame.event_type(), "data": data});
                    if let Some(id) = &frame.id {
                        ev["id"] = Value::String(id.to_string());
                    }
                    events.push(ev);
                    ended |= matches!(
                        status.as_str(),
                        "success" | "error" | "interrupted" | "timeout"
                    );
                }
                Ok(None) => break,
                Err(e) => return (events, Some(format!("the event stream is invalid: {e}"))),
            }
        }
        if ended && events.len() >= expected {
            return (events, None);
        }
        match tokio::time::timeout(idle, chunks.next()).await {
            Ok(Some(Ok(chunk))) => decoder.feed(&chunk),
            Ok(Some(Err(e))) => return (events, Some(format!("the event stream broke: {e}"))),
            Ok(None) => return (events, None),
            Err(_) => {
                let short = events.len() < expected;
                return (
                    events,
                    short.then(|| format!("no event for {}s", idle.as_secs())),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_ignores_extra_and_missing_items_and_type_changes() {
        let e = json!({"a": 1, "l": [{"x": 1}, {"x": 2}], "t": "s", "n": null});
        let g = json!({"a": 1, "b": 2, "l": [{"x": 1, "y": 0}], "t": 5, "n": 3});
        assert!(diff(&e, &g, Mode::AtLeast).is_empty());
        let d = diff(&json!({"a": 1, "c": 1}), &json!({"a": 2}), Mode::AtLeast);
        let kinds: Vec<_> = d.iter().map(|d| (d.kind, d.path.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("values_changed", "root['a']"),
                ("dictionary_item_removed", "root['c']")
            ]
        );
        // An expected null where nothing is: missing.
        assert_eq!(
            diff(&json!({"n": null}), &json!({}), Mode::AtLeast).len(),
            1
        );
    }

    #[test]
    fn exact_fails_on_any_difference_but_times_and_null_versus_absent() {
        let e = json!({"a": [1, 2], "created_at": "2025-01-01T00:00:00", "n": null});
        assert!(
            diff(
                &e,
                &json!({"a": [1, 2], "created_at": "2026-12-01T10:00:00Z"}),
                Mode::Exact
            )
            .is_empty()
        );
        assert_eq!(
            diff(&e, &json!({"a": [1]}), Mode::Exact)[0].kind,
            "iterable_item_removed"
        );
        assert_eq!(
            diff(&e, &json!({"a": [1, 2], "b": 1}), Mode::Exact)[0].kind,
            "dictionary_item_added"
        );
        assert_eq!(
            diff(&json!({"a": 1}), &json!({"a": 1.0}), Mode::Exact)[0].kind,
            "type_changes"
        );
    }
}
