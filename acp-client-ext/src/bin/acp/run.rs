//! `acp run`: start a run, stream its events (or wait with a spinner), answer its interrupts at a
//! prompt, and exit by its outcome.

use crate::args::RunArgs;
use crate::commands::{body_parts, resolve_agent};
use crate::out::{FAILED_RUN, Failure, INTERRUPTED, Out, to_json};
use acp_client_ext::{AcpClient, RunEvent, RunHandle, RunScope, RunStatus, RunStream, WaitOutcome};
use futures::TryStreamExt;
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long the wait after a stream (for the outcome of a run that has ended) may take.
const OUTCOME_WAIT: Duration = Duration::from_secs(300);

/// What a stream left behind.
pub struct Last {
    pub status: Option<RunStatus>,
    pub run_id: Option<uuid::Uuid>,
    pub last_event_id: Option<String>,
}

pub async fn run(client: &AcpClient, out: &Out, args: &RunArgs) -> Result<(), Failure> {
    let agent = resolve_agent(client, &args.agent).await?;
    let agent_id = agent.agent_id.to_string();
    let (input, config) = body_parts(&args.input, args.config.as_deref())?;
    let mut body = json!({"agent_id": agent_id, "input": input});
    if let Some(c) = config {
        body["config"] = c;
    }
    let bad_body = |e: serde_json::Error| Failure::usage(format!("run body: {e}"));
    let scope = if let Some(t) = &args.thread {
        client.thread_runs(t.as_str())?.scope()
    } else if args.new_thread {
        let runs = client.new_thread().await?;
        out.text(format!("thread {}", runs.thread_id()));
        out.record(&json!({"thread_id": runs.thread_id()}));
        runs.scope()
    } else {
        RunScope::Stateless
    };
    let prompt = Prompt {
        client,
        agent_id: &agent_id,
        interactive: !args.no_input && std::io::stdin().is_terminal(),
    };

    if let Some(deadline) = args.wait {
        let run = match scope {
            RunScope::Thread(t) => {
                let b: acp_client::types::RunCreateStateful =
                    serde_json::from_value(body).map_err(bad_body)?;
                client.thread_runs(t)?.create(b).await?
            }
            RunScope::Stateless => {
                let b: acp_client::types::RunCreateStateless =
                    serde_json::from_value(body).map_err(bad_body)?;
                client.stateless_runs().create(b).await?
            }
        };
        out.text(format!("run {}", run.run_id()));
        out.record(&json!({"run_id": run.run_id(), "thread_id": run.thread_id()}));
        loop {
            let outcome = wait_with_spinner(out, &run, deadline).await?;
            match prompt.answer(out, &run, &outcome).await? {
                Some(answer) => {
                    run.resume(answer).await?;
                }
                None => return finish(out, &outcome),
            }
        }
    }

    let events = match scope {
        RunScope::Thread(t) => {
            let b: acp_client::types::RunCreateStateful =
                serde_json::from_value(body).map_err(bad_body)?;
            client.thread_runs(t)?.stream(b).await?
        }
        RunScope::Stateless => {
            let b: acp_client::types::RunCreateStateless =
                serde_json::from_value(body).map_err(bad_body)?;
            client.stateless_runs().stream(b).await?
        }
    };
    let mut last = print_events(out, events).await?;
    let run_id = last
        .run_id
        .ok_or_else(|| Failure::new(4, "the stream ended before any event named the run"))?;
    let run = client.run(scope, run_id)?;
    loop {
        // The stream's last status is not the outcome on every server (some end a completed run
        // on a `running` update, or send no final event): the wait says how the run ended.
        let outcome = run.wait(OUTCOME_WAIT).await?;
        match prompt.answer(out, &run, &outcome).await? {
            Some(answer) => {
                run.resume(answer).await?;
                let events = match &last.last_event_id {
                    Some(id) => run.stream_from(id.as_str()).await?,
                    None => run.stream().await?,
                };
                let more = print_events(out, events).await?;
                last.last_event_id = more.last_event_id.or(last.last_event_id);
            }
            None => return finish(out, &outcome),
        }
    }
}

/// Print every event of `events` as it arrives.
pub async fn print_events(out: &Out, mut events: RunStream) -> Result<Last, Failure> {
    while let Some(event) = events.try_next().await? {
        print_event(out, &event, events.last_event_id());
    }
    Ok(Last {
        status: events.last_status().cloned(),
        run_id: events.run_id(),
        last_event_id: events.last_event_id().map(str::to_string),
    })
}

fn print_event(out: &Out, event: &RunEvent, id: Option<&str>) {
    let status = event.status().map(|s| s.to_string());
    let (kind, data) = match event {
        RunEvent::Values(u) => ("values", to_json(&u.values)),
        RunEvent::Custom(u) => ("custom", to_json(&u.update)),
        RunEvent::Other(raw) => (
            raw.payload_type().unwrap_or("event"),
            raw.json::<Value>()
                .unwrap_or_else(|_| Value::String(raw.data_str().to_string())),
        ),
        _ => ("event", Value::Null),
    };
    out.record(&json!({"event": kind, "id": id, "status": status, "data": data}));
    let status = status.map(|s| format!(" [{s}]")).unwrap_or_default();
    out.text(format!("{kind}{status} {data}"));
}

/// `runs join`'s ending: the status the stream ended on, or the run's.
pub async fn status_exit(
    out: &Out,
    run: &RunHandle,
    status: Option<&RunStatus>,
) -> Result<(), Failure> {
    let status = match status.filter(|s| s.is_settled()) {
        Some(s) => s.clone(),
        None => run.get().await?.status,
    };
    out.record(&json!({"run_id": run.run_id(), "status": status.to_string()}));
    out.text(format!("run {} {status}", run.run_id()));
    exit_for(&status)
}

fn exit_for(status: &RunStatus) -> Result<(), Failure> {
    match status {
        RunStatus::Success => Ok(()),
        RunStatus::Interrupted => Err(Failure::new(INTERRUPTED, "")),
        RunStatus::Pending => Ok(()),
        _ => Err(Failure::new(FAILED_RUN, "")),
    }
}

/// Print the outcome of a run that is not waiting for an answer, and exit by it.
fn finish(out: &Out, outcome: &WaitOutcome) -> Result<(), Failure> {
    let run = outcome.run();
    let mut record = json!({
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "status": outcome.status().to_string(),
    });
    let result = match outcome {
        WaitOutcome::Completed { values, .. } => {
            record["outcome"] = json!("completed");
            record["values"] = to_json(values);
            out.text(format!("run {} completed", run.run_id));
            out.pretty(&to_json(values));
            Ok(())
        }
        WaitOutcome::Failed { error, .. } => {
            record["outcome"] = json!("failed");
            record["error"] = to_json(error);
            out.text(format!(
                "run {} failed ({}): {}",
                run.run_id, error.errcode, error.description
            ));
            Err(Failure::new(FAILED_RUN, ""))
        }
        WaitOutcome::Interrupted { payload, .. } => {
            record["outcome"] = json!("interrupted");
            record["payload"] = payload.clone();
            out.text(format!("run {} is interrupted and asks:", run.run_id));
            out.pretty(payload);
            let thread = run
                .thread_id
                .map(|t| format!(" --thread {t}"))
                .unwrap_or_default();
            out.text(format!(
                "answer with: acp runs resume {}{thread} --payload '{{...}}'",
                run.run_id
            ));
            Err(Failure::new(INTERRUPTED, ""))
        }
        _ => {
            record["outcome"] = json!("ended");
            out.text(format!("run {} ended: {}", run.run_id, outcome.status()));
            exit_for(outcome.status())
        }
    };
    out.record(&record);
    result
}

/// Waits, showing the elapsed time on a spinner when stderr is a terminal (and not `--json`).
async fn wait_with_spinner(
    out: &Out,
    run: &RunHandle,
    deadline: Duration,
) -> Result<WaitOutcome, Failure> {
    let spinner = (!out.json && std::io::stderr().is_terminal()).then(|| {
        tokio::spawn(async {
            let start = Instant::now();
            let frames = ['|', '/', '-', '\\'];
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            for i in 0usize.. {
                tick.tick().await;
                eprint!(
                    "\r{} waiting {:.1}s",
                    frames[i % frames.len()],
                    start.elapsed().as_secs_f64()
                );
            }
        })
    });
    let outcome = run.wait(deadline).await;
    if let Some(s) = spinner {
        s.abort();
        eprint!("\r\x1b[K");
    }
    Ok(outcome?)
}

/// Asks for the answer to an interrupt, when there is someone to ask.
struct Prompt<'a> {
    client: &'a AcpClient,
    agent_id: &'a str,
    interactive: bool,
}

impl Prompt<'_> {
    /// The resume payload for `outcome`, or `None` when it is not an interrupt or nobody can
    /// answer (then the caller reports the interrupt and exits 3).
    async fn answer(
        &self,
        out: &Out,
        run: &RunHandle,
        outcome: &WaitOutcome,
    ) -> Result<Option<Value>, Failure> {
        let WaitOutcome::Interrupted { payload, .. } = outcome else {
            return Ok(None);
        };
        if !self.interactive {
            return Ok(None);
        }
        let field = self.single_string_field().await;
        out.record(&json!({"event": "interrupt", "run_id": run.run_id(), "payload": payload}));
        match payload.get("question").and_then(Value::as_str) {
            Some(q) if !out.json => out.text(format!("? {q}")),
            _ => out.text(format!("? {payload}")),
        }
        let hint = match &field {
            Some(name) => format!("answer (text, sent as {{\"{name}\": ...}}): "),
            None => "answer (a JSON object): ".to_string(),
        };
        loop {
            eprint!("{hint}");
            let line = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|n| (n, line))
            })
            .await
            .map_err(|e| Failure::new(4, format!("reading the answer: {e}")))?
            .map_err(|e| Failure::new(4, format!("reading the answer: {e}")))?;
            let (n, line) = line;
            if n == 0 {
                // End of input: nobody answers.
                return Ok(None);
            }
            let line = line.trim();
            if let Some(name) = &field {
                return Ok(Some(json!({ name.as_str(): line })));
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) if v.is_object() => return Ok(Some(v)),
                Ok(_) => eprintln!("not a JSON object, try again"),
                Err(e) => eprintln!("not JSON ({e}), try again"),
            }
        }
    }

    /// The property name when the agent's resume schema is an object of one string field.
    async fn single_string_field(&self) -> Option<String> {
        let descriptor = self.client.agent_descriptor(self.agent_id).await.ok()?;
        let specs = to_json(&descriptor.specs);
        let schema = specs
            .get("interrupts")?
            .as_array()?
            .first()?
            .get("resume_payload")?;
        let props = schema.get("properties")?.as_object()?;
        let (name, prop) = props.iter().next().filter(|_| props.len() == 1)?;
        (prop.get("type")? == "string").then(|| name.clone())
    }
}
