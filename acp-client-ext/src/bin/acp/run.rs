//! `acp run`: start a run of an agent through its handle, stream its events (or wait for it in
//! one create-and-wait request, with a spinner), answer its interrupts at a prompt, and exit by
//! its outcome.

use crate::args::RunArgs;
use crate::context::{Context, RunConfig, object_arg};
use crate::out::{Failure, Out};
use acp_client_ext::{Error, RunRequest, RunScope, WaitOutcome};
use serde_json::{Map, Value, json};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long the wait after a stream (for the outcome of a run that has ended) may take.
const OUTCOME_WAIT: Duration = Duration::from_secs(300);

pub async fn run(ctx: &Context<'_>, args: &RunArgs) -> Result<(), Failure> {
    let (client, out) = (&ctx.client, ctx.out);
    let input = object_arg("input", &args.input)?;
    let config = RunConfig::from_args(args.config.as_deref(), args.config_object.as_deref())?;
    let agent = ctx.agent(&args.agent).await?;
    let scope = if let Some(t) = &args.thread {
        ctx.thread_scope(t)?
    } else if args.new_thread {
        let runs = client.new_thread().await?;
        out.text(format!("thread {}", runs.thread_id()));
        out.record(&json!({"thread_id": runs.thread_id()}));
        runs.scope()
    } else {
        RunScope::Stateless
    };
    let runs = match scope {
        RunScope::Thread(t) => agent.on_thread(t)?,
        RunScope::Stateless => agent.stateless(),
    };
    // The library writes the body: `config.configurable` when given, the whole `config` with
    // `--config-object`, `config: {}` when neither and the descriptor declares a config schema.
    let request: RunRequest = match &config {
        RunConfig::Configurable(values) => runs.run(&input).config(values),
        RunConfig::Object(object) => runs.run(&input).config_object(object),
        RunConfig::None => runs.run(&input),
    };
    let prompt = Prompt {
        descriptor: agent.descriptor(),
        interactive: !args.no_input && std::io::stdin().is_terminal(),
    };

    if let Some(deadline) = args.wait {
        // One request (`POST .../runs/wait`): also where a server's background create is broken.
        let mut outcome = with_spinner(out, request.wait(deadline)).await?;
        loop {
            match prompt.answer(out, &outcome).await? {
                Some(answer) => {
                    let run = client.run(scope, outcome.run().run_id)?;
                    run.resume(answer).await?;
                    outcome = with_spinner(out, run.wait(deadline)).await?;
                }
                None => return out.outcome(&outcome),
            }
        }
    }

    let events = request.stream().await?;
    let mut last = ctx.print_events(events).await?;
    let run_id = last
        .run_id
        .ok_or_else(|| Failure::server("the stream ended before any event named the run"))?;
    let run = client.run(scope, run_id)?;
    loop {
        // The stream's last status is not the outcome on every server (some end a completed run
        // on a `running` update, or send no final event): the wait says how the run ended.
        let outcome = run.wait(OUTCOME_WAIT).await?;
        match prompt.answer(out, &outcome).await? {
            Some(answer) => {
                run.resume(answer).await?;
                let events = match &last.last_event_id {
                    Some(id) => run.stream_from(id.as_str()).await?,
                    None => run.stream().await?,
                };
                let more = ctx.print_events(events).await?;
                last.last_event_id = more.last_event_id.or(last.last_event_id);
            }
            None => return out.outcome(&outcome),
        }
    }
}

/// Awaits `call`, showing the elapsed time on a spinner when stderr is a terminal (and not
/// `--json`).
async fn with_spinner<T>(
    out: &Out,
    call: impl IntoFuture<Output = Result<T, Error>>,
) -> Result<T, Failure> {
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
    let result = call.await;
    if let Some(s) = spinner {
        s.abort();
        eprint!("\r\x1b[K");
    }
    Ok(result?)
}

/// Asks for the answer to an interrupt, when there is someone to ask.
struct Prompt<'a> {
    /// The agent's descriptor (its resume payload schema shapes the question).
    descriptor: &'a Value,
    interactive: bool,
}

impl Prompt<'_> {
    /// The resume payload for `outcome`, or `None` when it is not an interrupt or nobody can
    /// answer (then the caller reports the interrupt and exits 3).
    async fn answer(&self, out: &Out, outcome: &WaitOutcome) -> Result<Option<Value>, Failure> {
        let WaitOutcome::Interrupted { payload, run, .. } = outcome else {
            return Ok(None);
        };
        if !self.interactive {
            return Ok(None);
        }
        let field = self.single_string_field();
        out.record(&json!({"event": "interrupt", "run_id": run.run_id, "payload": payload}));
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
            let (n, line) = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|n| (n, line))
            })
            .await
            .map_err(|e| Failure::server(format!("reading the answer: {e}")))?
            .map_err(|e| Failure::server(format!("reading the answer: {e}")))?;
            if n == 0 {
                // End of input: nobody answers.
                return Ok(None);
            }
            let line = line.trim();
            if let Some(name) = &field {
                let mut answer = Map::new();
                answer.insert(name.clone(), Value::String(line.to_string()));
                return Ok(Some(Value::Object(answer)));
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) if v.is_object() => return Ok(Some(v)),
                Ok(_) => eprintln!("not a JSON object, try again"),
                Err(e) => eprintln!("not JSON ({e}), try again"),
            }
        }
    }

    /// The property name when the agent's resume schema is an object of one string field.
    fn single_string_field(&self) -> Option<String> {
        let schema = self
            .descriptor
            .pointer("/specs/interrupts")?
            .as_array()?
            .first()?
            .get("resume_payload")?;
        let props = schema.get("properties")?.as_object()?;
        let (name, prop) = props.iter().next().filter(|_| props.len() == 1)?;
        (prop.get("type")? == "string").then(|| name.clone())
    }
}
