//! A newcomer's first run of acp-rs: one thread, four runs, one readable line per step.
//!
//! ```sh
//! cargo run -p acp-client-ext --example quickstart
//! ```
//!
//! Without `ACP_URL` it starts the embedded reference server on a free loopback port. With
//! `ACP_URL` (and `ACP_API_KEY` or `ACP_BEARER_TOKEN`) it runs the same steps against that
//! server, with the agent `ACP_AGENT_ID` (default: the first one listed) and the input
//! `ACP_INPUT` (a JSON object, default `{}`).
//!
//! 1. list the agents and create a thread;
//! 2. start a run and stream its events as they arrive (`POST /threads/{id}/runs/stream`);
//! 3. start a second run and wait for its outcome with a deadline;
//! 4. start a third run, cancel it with rollback, and show that it is gone (404);
//! 5. start a run that asks questions (interrupts) and answer them until it completes.

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::CancelAction;
use futures::StreamExt;
use serde_json::json;
use std::time::Duration;
use support::example::{Res, describe, outcome, say, short, with_progress};

#[tokio::main]
async fn main() -> Res {
    let setup = support::example::connect("quickstart").await?;
    let client = &setup.client;

    // 1. Agents and a thread.
    let agents = client.search_agents().await?;
    let names: Vec<_> = agents
        .iter()
        .map(|a| a.metadata.ref_.name.as_str())
        .collect();
    say(format!("1. {} agents: {}", agents.len(), names.join(", ")));
    let runs = client.new_thread().await?;
    say(format!("   created thread {}", runs.thread_id()));

    // 2. Create a run and stream its events as they arrive.
    say("2. stream: a run of `stream` (5 updates, 150 ms apart)");
    let body = setup.stateful("stream", json!({"count": 5, "delay_ms": 150}));
    let mut events = runs.stream(body).await?;
    let mut n = 0;
    while let Some(event) = events.next().await {
        n += 1;
        say(format!("   event {n}: {}", describe(&event?)));
    }
    let status = events.last_status().map(ToString::to_string);
    say(format!(
        "   stream ended after {n} events, run {} is {}",
        events.run_id().map(|id| id.to_string()).unwrap_or_default(),
        status.as_deref().unwrap_or("unknown")
    ));

    // 3. Create a run, then wait for its outcome, at most 10 s.
    say("3. wait: a run of `stream` (4 updates, 250 ms apart), deadline 10 s");
    let run = runs
        .create(setup.stateful("stream", json!({"count": 4, "delay_ms": 250})))
        .await?;
    say(format!("   created run {}", run.run_id()));
    let done = with_progress("waiting", run.wait(Duration::from_secs(10))).await?;
    say(format!("   {}", outcome(&done)));

    // 4. Cancel a run with rollback: the run and what it did are removed.
    say("4. cancel: a run of `slow`, cancelled with rollback");
    let run = runs
        .create(setup.stateful("slow", json!({"deadline_ms": 60_000})))
        .await?;
    say(format!(
        "   created run {}, status {}",
        run.run_id(),
        run.get().await?.status
    ));
    run.cancel(CancelAction::Rollback, true).await?;
    say("   cancelled with action=rollback, wait=true");
    match run.get().await {
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
            say(format!("   GET the run again: 404, it is gone ({e})"));
        }
        Err(e) => return Err(e.into()),
        Ok(info) if setup.embedded() => {
            return Err(format!("the run is still there after a rollback: {}", info.status).into());
        }
        Ok(info) => say(format!(
            "   GET the run again: still there, {} (this server keeps rolled-back runs)",
            info.status
        )),
    }

    // 5. Human in the loop: answer each interrupt until the run completes.
    say("5. resume: a run of `interrupt` that asks 2 questions");
    let run = runs
        .create(setup.stateful("interrupt", json!({"interrupts": 2})))
        .await?;
    let mut round = 0;
    let done = run
        .run_to_completion(Duration::from_secs(10), 5, |question| {
            round += 1;
            let answer = json!({"answer": format!("yes ({round})")});
            say(format!(
                "   the agent asks {}; answering {}",
                short(&question),
                short(&answer)
            ));
            async move { Ok(answer) }
        })
        .await?;
    say(format!("   {}", outcome(&done)));

    let all = runs.list(None, None).await?;
    say(format!(
        "done: thread {} has {} runs (the rolled-back one is not among them)",
        runs.thread_id(),
        all.len()
    ));
    Ok(())
}
