//! Stateless runs: no thread, `POST /runs/...`.
//!
//! ```sh
//! cargo run -p acp-client-ext --example stateless_run
//! ```
//!
//! One run streamed (`POST /runs/stream`), one created and waited for in one call
//! (`POST /runs/wait`), and a failing run, to show how a failure reads.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use futures::TryStreamExt;
use serde_json::json;
use std::time::Duration;
use support::example::{Res, describe, finish, outcome, say};

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    let setup = support::example::connect("stateless_run").await?;
    let runs = setup.client.stateless_runs();

    say("stream: a stateless run of `custom` (3 custom updates)");
    let mut events = runs
        .stream(setup.stateless("custom", json!({"count": 3, "delay_ms": 100})))
        .await?;
    while let Some(event) = events.try_next().await? {
        say(format!("   {}", describe(&event)));
    }

    say("wait: a stateless run of `echo`, deadline 10 s");
    let done = runs
        .wait(
            setup.stateless("echo", json!({"hello": "acp"})),
            Duration::from_secs(10),
        )
        .await?;
    say(format!("   {}", outcome(&done)));

    if setup.embedded() {
        say("wait: a stateless run of `fail`");
        let failed = runs
            .wait(setup.stateless("fail", json!({})), Duration::from_secs(10))
            .await?;
        say(format!("   {}", outcome(&failed)));
    }
    Ok(())
}
