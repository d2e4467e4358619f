//! Wait for a run's outcome within a deadline, and what happens when the deadline elapses.
//!
//! ```sh
//! cargo run -p acp-client-ext --example wait_deadline
//! ```
//!
//! 1. create-and-wait in one call (`POST /threads/{id}/runs/wait`) with a generous deadline;
//! 2. a slow run waited for with a 1 s deadline: the wait returns `Error::Timeout` and the run
//!    goes on, so it is then interrupted (`POST .../cancel?action=interrupt`).

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::{AcpClient, Error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use support::example::{Res, finish, outcome, say, with_progress};

/// The input of the reference agent `stream`.
#[derive(Serialize)]
struct StreamInput {
    count: u32,
    delay_ms: u64,
}

/// Its output.
#[derive(Deserialize)]
struct Count {
    count: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    // The server: ACP_URL, or the embedded reference server on a free loopback port.
    let server = support::example::server().await?;
    // The client: its URL, the credentials the environment gives (none for the embedded
    // server), and how long an ordinary request may take (the waits below are bounded by
    // their own deadlines).
    let mut builder = AcpClient::builder(&server.url).request_timeout(Duration::from_secs(10));
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
    let setup = support::example::setup("wait_deadline", client, server).await?;
    let runs = setup.client.new_thread().await?;

    say("1. create a run of `stream` and wait for it, deadline 10 s");
    let stream = setup.agent("stream").await?;
    let input = StreamInput {
        count: 3,
        delay_ms: 300,
    };
    let request = setup.run(&stream.on_thread(&runs)?, &input)?;
    let done = with_progress("waiting", request.wait(Duration::from_secs(10))).await?;
    match done.output_as::<Count>() {
        Ok(out) => say(format!(
            "   run {} completed with {} updates",
            done.run().run_id,
            out.count
        )),
        Err(_) => say(format!("   run {} {}", done.run().run_id, outcome(&done))),
    }

    say("2. create a run of `slow` and wait for it, deadline 1 s");
    let slow = setup.agent("slow").await?;
    let run = setup
        .run(&slow.on_thread(&runs)?, &json!({"deadline_ms": 60_000}))?
        .create()
        .await?;
    match with_progress("waiting", run.wait(Duration::from_secs(1))).await {
        Err(Error::Timeout { after, .. }) => {
            say(format!(
                "   deadline of {after:?} elapsed; the run goes on: {}",
                run.get().await?.status
            ));
            run.interrupt().await?;
            say(format!("   interrupted it: {}", run.get().await?.status));
        }
        Ok(done) => say(format!(
            "   finished within the deadline: {}",
            outcome(&done)
        )),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
