//! `acp op OPERATION_ID [NAME=VALUE ...] [--body JSON|@FILE] [--query K=V ...]`: any ACP
//! operation, driven by the library's table of operations ([`Operation::all`]) rather than a
//! subcommand written per operation, and sent by [`AcpClient::send_operation`](acp_client_ext::AcpClient::send_operation) (the one
//! transport: credentials, retries, redirects, errors).
//!
//! Why not progenitor's `Generator::cli`: the clap code it generates sends through the
//! generated `acp_client::Client`, whose hooks another crate cannot override (see the docs of
//! the library's transport), so it would bypass the retries, the redirect and credential policy
//! and the errors every other command has; and its per-operation flags come from the body
//! schemas, which `--body` covers as JSON. The table is checked against the generated client by
//! a unit test of the library, so a spec bump that adds or moves an operation fails there.

use crate::args::OpArgs;
use crate::context::{Session, json_arg};
use crate::out::{Failure, Out, SERVER};
use acp_client_ext::Operation;
use acp_client_ext::sse::{Decoder, Frame};
use futures::StreamExt;
use serde_json::{Value, json};

pub async fn op(session: &Session<'_>, args: &OpArgs) -> Result<(), Failure> {
    let out = &session.out;
    if args.list {
        list(out);
        return Ok(());
    }
    let id = args.operation.as_deref().unwrap_or_default();
    let operation = Operation::find(id).ok_or_else(|| unknown(id))?;
    let params = pairs("", &args.params)?;
    check_params(operation, &params)?;
    let query = pairs("--query ", &args.query)?;
    let body = args
        .body
        .as_deref()
        .map(|raw| json_arg("body", raw))
        .transpose()?;

    let client = session.connect()?.client;
    let resp = client
        .send_operation(operation.id(), &params, &query, body.as_ref())
        .await?;
    if operation.streams() {
        return events(out, operation, resp).await;
    }
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| Failure::new(SERVER, format!("{}: reading the answer: {e}", id)))?;
    if bytes.is_empty() {
        // 204 No Content (a delete): nothing to print.
        return Ok(());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => out.value(&v),
        Err(_) => {
            let text = String::from_utf8_lossy(&bytes);
            out.record(&json!({ "status": status.as_u16(), "body": text }));
            out.text(text);
        }
    }
    Ok(())
}

/// The table: operationId, method, path.
fn list(out: &Out) {
    let width = Operation::all().map(|o| o.id().len()).max().unwrap_or(0);
    for o in Operation::all() {
        out.record(&json!({
            "operation_id": o.id(),
            "method": o.method(),
            "path": o.path(),
            "streams": o.streams(),
        }));
        out.text(format!("{:width$}  {:6}  {}", o.id(), o.method(), o.path()));
    }
}

/// An unknown operationId, with the closest one of the table.
fn unknown(id: &str) -> Failure {
    let closest = Operation::all()
        .map(|o| (distance(id, o.id()), o.id()))
        .min()
        .map(|(_, name)| name);
    let hint = match closest {
        Some(name) => format!("; did you mean {name}?"),
        None => String::new(),
    };
    Failure::usage(format!(
        "{id:?} is not an ACP operation{hint} (`acp op --list` prints them all)"
    ))
}

/// Levenshtein distance (operationIds are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// `NAME=VALUE` arguments.
fn pairs<'a>(flag: &str, raw: &'a [String]) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    raw.iter()
        .map(|p| {
            p.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Failure::usage(format!("{flag}{p:?}: expected NAME=VALUE")))
        })
        .collect()
}

/// Every path parameter given once, and no other (the library checks again; this says it with
/// the command's words).
fn check_params(op: Operation, params: &[(&str, &str)]) -> Result<(), Failure> {
    let names: Vec<&str> = op.path_params().collect();
    let shown = if names.is_empty() {
        "no path parameters".to_string()
    } else {
        names
            .iter()
            .map(|n| format!("{n}=..."))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (name, _) in params {
        if !names.contains(name) {
            return Err(Failure::usage(format!(
                "{name:?} is not a path parameter of {} ({} {}: {shown})",
                op.id(),
                op.method(),
                op.path()
            )));
        }
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !params.iter().any(|(p, _)| p == n))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::usage(format!(
            "{} needs the path parameter{} {} ({} {}: {shown})",
            op.id(),
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            op.method(),
            op.path()
        )));
    }
    Ok(())
}

/// An event stream's events, one a line, as they arrive.
async fn events(
    out: &Out,
    op: Operation,
    resp: acp_client_ext::reqwest::Response,
) -> Result<(), Failure> {
    let failed = |what: String| Failure::new(SERVER, format!("{}: {what}", op.id()));
    let mut decoder = Decoder::default();
    let mut body = resp.bytes_stream();
    loop {
        while let Some(frame) = decoder
            .next_frame()
            .map_err(|e| failed(format!("the event stream is invalid: {e}")))?
        {
            event(out, &frame);
        }
        match body.next().await {
            Some(Ok(chunk)) => decoder.feed(&chunk),
            Some(Err(e)) => return Err(failed(format!("the event stream broke: {e}"))),
            None => break,
        }
    }
    if let Some(frame) = decoder
        .finish()
        .map_err(|e| failed(format!("the event stream is invalid: {e}")))?
    {
        event(out, &frame);
    }
    Ok(())
}

/// One event: `{"event", "id", "data"}` with --json (data as JSON when it is), else
/// `EVENT DATA` (data on one line).
fn event(out: &Out, frame: &Frame) {
    let text = String::from_utf8_lossy(&frame.data);
    let data = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::String(text.into()));
    let mut record = json!({ "event": frame.event_type(), "data": data });
    if let Some(id) = &frame.id {
        record["id"] = Value::String(id.to_string());
    }
    out.record(&record);
    let line = match &record["data"] {
        Value::String(s) => s.replace('\n', "\\n"),
        v => v.to_string(),
    };
    out.text(format!("{} {line}", frame.event_type()));
}
