//! Stateless runs: no thread, `POST /runs/...`.
//!
//! ```sh
//! cargo run -p acp-client-ext --example stateless_run
//! ```
//!
//! Agents found by name (`client.agent("custom")`), run without a thread: one run streamed
//! (`POST /runs/stream`), one created and waited for in one call (`POST /runs/wait`) with its
//! output read into a struct (`output_as::<Echoed>()`), and a failing run, to show how a
//! failure reads.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::{AcpClient, RunEvent};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use support::example::{Res, describe, finish, outcome, say};

/// A custom update of the reference agent `custom`.
#[derive(Deserialize)]
struct Step {
    i: u32,
}

/// What is sent to `echo`, and what it answers (the same).
#[derive(Serialize, Deserialize)]
struct Echoed {
    hello: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    // The server: ACP_URL, or the embedded reference server on a free loopback port.
    let server = support::example::server().await?;
    // The client: its URL, the credentials the environment gives (none for the embedded
    // server), and how long an ordinary request may take.
    let mut builder = AcpClient::builder(&server.url).request_timeout(Duration::from_secs(30));
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
    let setup = support::example::setup("stateless_run", client, server).await?;

    say("stream: a stateless run of `custom` (3 custom updates)");
    let custom = setup.agent("custom").await?.stateless();
    let mut events = setup
        .run(&custom, &json!({"count": 3, "delay_ms": 100}))?
        .stream()
        .await?;
    while let Some(event) = events.try_next().await? {
        match &event {
            RunEvent::Custom(u) => match u.update_as::<Step>() {
                Ok(step) => say(format!("   custom update, step {}", step.i)),
                Err(_) => say(format!("   {}", describe(&event))),
            },
            other => say(format!("   {}", describe(other))),
        }
    }

    say("wait: a stateless run of `echo`, deadline 10 s");
    let echo = setup.agent("echo").await?.stateless();
    let input = Echoed {
        hello: "acp".into(),
    };
    let done = setup
        .run(&echo, &input)?
        .wait(Duration::from_secs(10))
        .await?;
    match done.output_as::<Echoed>() {
        Ok(out) => say(format!("   completed, echoed hello={:?}", out.hello)),
        Err(_) => say(format!("   {}", outcome(&done))),
    }

    if setup.embedded() {
        say("wait: a stateless run of `fail`");
        let fail = setup.agent("fail").await?.stateless();
        let failed = setup
            .run(&fail, &json!({}))?
            .wait(Duration::from_secs(10))
            .await?;
        say(format!("   {}", outcome(&failed)));
    }
    Ok(())
}
