//! A newcomer's first run of acp-rs: one thread, four runs, one readable line per step.
//!
//! ```sh
//! cargo run -p acp-client-ext --example quickstart
//! ```
//!
//! Without `ACP_URL` it starts the embedded reference server on a free loopback port. With
//! `ACP_URL` (and `ACP_API_KEY` or `ACP_BEARER_TOKEN`) it runs the same steps against that
//! server, with the agent `ACP_AGENT` (a name) or `ACP_AGENT_ID` (an id; default: the first one
//! listed), the input `ACP_INPUT` (a JSON object, default `{}`) and the config the agent's
//! descriptor asks for (`ACP_CONFIG`).
//! A step the server does not implement (`501`, `405`, `500 Not implemented`, a missing route)
//! is reported and skipped; against `ACP_URL` so is a step the server fails on or refuses (the
//! Agent Workflow Server's background create on a thread answers `500`), each reported by its
//! kind. The example exits 0 when the agent's answer was shown, streamed or waited for, and
//! every other step worked or was reported; any other error ends it with one sentence and exit
//! status 1.
//!
//! Agents are found by name (`client.agent("stream")`) and what they return is read into small
//! structs of this file (`values_as::<Tick>()`, `output_as::<Count>()`,
//! `payload_as::<Question>()`); output that does not fit them (another server's agent) is shown
//! as JSON.
//!
//! 1. list the agents and create a thread;
//! 2. start a run and stream its events as they arrive (`POST /threads/{id}/runs/stream`);
//! 3. start a second run and wait for its outcome with a deadline, in one request
//!    (`POST /threads/{id}/runs/wait`);
//! 4. start a third run, cancel it with rollback, and show that it is gone (404);
//! 5. start a run that asks questions (interrupts) and answer them until it completes.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::{AcpClient, CancelAction, RunEvent, WaitOutcome};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use support::example::{Res, describe, finish, outcome, say, short, step, with_progress};

/// The input of the reference agent `stream`.
#[derive(Serialize)]
struct StreamInput {
    count: u32,
    delay_ms: u64,
}

/// One `values` update of `stream`.
#[derive(Deserialize)]
struct Tick {
    i: u32,
}

/// The output of `stream`.
#[derive(Deserialize)]
struct Count {
    count: u32,
}

/// What `interrupt` asks.
#[derive(Deserialize)]
struct Question {
    question: String,
    round: u32,
}

/// What `interrupt` is answered.
#[derive(Serialize, Clone)]
struct Answer {
    answer: String,
}

/// An event in one line: typed when it is a `stream` update, as JSON otherwise.
fn event_line(event: &RunEvent) -> String {
    match event {
        RunEvent::Values(u) => match u.values_as::<Tick>() {
            Ok(tick) => format!("update i={} ({})", tick.i, u.status),
            Err(_) => describe(event),
        },
        other => describe(other),
    }
}

/// An outcome in one line: typed when it is the output of `stream`, as JSON otherwise.
fn outcome_line(done: &WaitOutcome) -> String {
    match done.output_as::<Count>() {
        Ok(c) => format!("completed with {} updates", c.count),
        Err(_) => outcome(done),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    // The server: ACP_URL, or the embedded reference server on a free loopback port.
    let server = support::example::server().await?;
    // The client: its URL, the credentials the environment gives (none for the embedded
    // server), and how long a connection and an ordinary request may take (streams and waits
    // are bounded by their idle timeout and deadlines instead).
    let mut builder = AcpClient::builder(&server.url)
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(30));
    if let Ok(key) = std::env::var("ACP_API_KEY") {
        builder = builder.api_key(key); // sent as `x-api-key`
    }
    if let Ok(header) = std::env::var("ACP_API_KEY_HEADER") {
        builder = builder.api_key_header(header); // the key in another header
    }
    if let Ok(token) = std::env::var("ACP_BEARER_TOKEN") {
        builder = builder.bearer_token(token); // `Authorization: Bearer ...`
    }
    let client = builder.build()?;
    let setup = support::example::setup("quickstart", client, server).await?;
    let client = &setup.client;
    // What a step runs: a reference agent here, the configured agent elsewhere.
    let agent = |name: &'static str, what: &'static str| {
        if setup.embedded() {
            format!("a run of `{name}` ({what})")
        } else {
            "a run of the agent".to_string()
        }
    };

    // 1. Agents and a thread.
    if setup.embedded() {
        let agents = client.search_agents().await?;
        let names: Vec<_> = agents
            .iter()
            .map(|a| a.metadata.ref_.name.as_str())
            .collect();
        say(format!("1. {} agents: {}", agents.len(), names.join(", ")));
    } else {
        say("1. a thread for the runs of the agent");
    }
    let runs = client.new_thread().await?;
    say(format!("   created thread {}", runs.thread_id()));

    // 2. Create a run and stream its events as they arrive.
    say(format!(
        "2. stream: {}",
        agent("stream", "5 updates, 150 ms apart")
    ));
    let stream = setup.agent("stream").await?;
    let on_thread = stream.on_thread(&runs)?;
    let input = StreamInput {
        count: 5,
        delay_ms: 150,
    };
    let body = setup.run(&on_thread, &input)?;
    // Whether the agent's answer was shown (streamed or waited for).
    let mut answered = false;
    if let Some(mut events) = step("create and stream", body.stream()).await? {
        let mut n = 0;
        while let Some(event) = events.next().await {
            n += 1;
            say(format!("   event {n}: {}", event_line(&event?)));
        }
        answered |= n > 0;
        let status = events.last_status().map(ToString::to_string);
        say(format!(
            "   stream ended after {n} events, run {} is {}",
            events.run_id().map(|id| id.to_string()).unwrap_or_default(),
            status.as_deref().unwrap_or("unknown")
        ));
    }

    // 3. Create a run and wait for its outcome, at most 10 s: one request, create-and-wait.
    say(format!(
        "3. wait: {}, deadline 10 s",
        agent("stream", "4 updates, 250 ms apart")
    ));
    let input = StreamInput {
        count: 4,
        delay_ms: 250,
    };
    let wait = with_progress(
        "waiting",
        setup.run(&on_thread, &input)?.wait(Duration::from_secs(10)),
    );
    if let Some(done) = step("create and wait", wait).await? {
        say(format!("   run {}", done.run().run_id));
        say(format!("   {}", outcome_line(&done)));
        answered |= done.is_completed();
    }

    // 4. Cancel a run with rollback: the run and what it did are removed.
    say(format!(
        "4. cancel: {}, cancelled with rollback",
        agent("slow", "runs for a minute")
    ));
    let slow = setup.agent("slow").await?;
    let body = setup.run(&slow.on_thread(&runs)?, &json!({"deadline_ms": 60_000}))?;
    let mut rolled_back = false;
    if let Some(run) = step("create run", body.create()).await? {
        say(format!(
            "   created run {}, status {}",
            run.run_id(),
            run.get().await?.status
        ));
        if step("cancel", run.cancel(CancelAction::Rollback, true))
            .await?
            .is_some()
        {
            say("   cancelled with action=rollback, wait=true");
            match run.get().await {
                Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
                    say(format!("   GET the run again: 404, it is gone ({e})"));
                    rolled_back = true;
                }
                Err(e) => return Err(e.into()),
                Ok(info) if setup.embedded() => {
                    return Err(format!(
                        "the run is still there after a rollback: {}",
                        info.status
                    )
                    .into());
                }
                Ok(info) => say(format!(
                    "   GET the run again: still there, {} (this server keeps rolled-back runs)",
                    info.status
                )),
            }
        }
    }

    // 5. Human in the loop: answer each interrupt until the run completes.
    say(format!(
        "5. resume: {}",
        agent("interrupt", "asks 2 questions")
    ));
    let interrupt = setup.agent("interrupt").await?;
    let body = setup.run(&interrupt.on_thread(&runs)?, &json!({"interrupts": 2}))?;
    if let Some(run) = step("create run", body.create()).await? {
        // The callback keeps state between rounds: here, the answers given so far.
        let mut answers = Vec::new();
        let done = run.run_to_completion(Duration::from_secs(10), 5, async |asked| {
            let answer = Answer {
                answer: format!("yes ({})", asked.round()),
            };
            let question = match asked.payload_as::<Question>() {
                Ok(q) => format!("{:?} (round {})", q.question, q.round),
                Err(_) => short(asked.payload()),
            };
            say(format!(
                "   the agent asks {question}; answering {}",
                short(&answer)
            ));
            answers.push(answer.clone());
            Ok(answer)
        });
        if let Some(done) = step("resume", done).await? {
            say(format!("   {}", outcome(&done)));
        }
    }

    if !answered {
        return Err(
            "the agent's answer was never shown: neither the stream nor the wait gave it".into(),
        );
    }
    if let Some(all) = step("list runs", runs.list(None, None)).await? {
        say(format!(
            "done: thread {} has {} runs{}",
            runs.thread_id(),
            all.len(),
            if rolled_back {
                " (the rolled-back one is not among them)"
            } else {
                ""
            }
        ));
    }
    Ok(())
}
