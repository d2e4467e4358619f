//! Stream a run's events as they arrive, stop half-way, and pick up where it stopped.
//!
//! ```sh
//! cargo run -p acp-client-ext --example stream_run
//! ```
//!
//! Finds the agent `stream` by name, creates a run of it on a thread
//! (`POST /threads/{id}/runs`) and joins its stream (`GET .../runs/{run_id}/stream`), drops the
//! stream after three events, then joins it again with `Last-Event-ID`: the remaining events
//! arrive, none twice. Closing a joined stream does not cancel the run. Each update is read
//! into a struct of this file (`values_as::<Tick>()`).

use std::process::ExitCode;
use std::time::Duration;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::{AcpClient, RunEvent};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use support::example::{Res, describe, finish, say};

/// The input of the reference agent `stream`.
#[derive(Serialize)]
struct StreamInput {
    count: u32,
    delay_ms: u64,
}

/// One of its updates.
#[derive(Deserialize)]
struct Tick {
    i: u32,
}

/// An event in one line: `update i=..` when it is one of `stream`'s, as JSON otherwise.
fn line(event: &RunEvent) -> String {
    match event {
        RunEvent::Values(u) => match u.values_as::<Tick>() {
            Ok(tick) => format!("update i={} ({})", tick.i, u.status),
            Err(_) => describe(event),
        },
        other => describe(other),
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
    // server), and how long a stream may stay silent (not even a keep-alive) before it is
    // rejoined.
    let mut builder = AcpClient::builder(&server.url).idle_timeout(Duration::from_secs(30));
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
    let setup = support::example::setup("stream_run", client, server).await?;
    let runs = setup.client.new_thread().await?;

    let stream = setup.agent("stream").await?;
    let input = StreamInput {
        count: 6,
        delay_ms: 100,
    };
    let run = setup
        .run(&stream.on_thread(&runs)?, &input)?
        .create()
        .await?;
    say(format!(
        "streaming run {} of `stream` (6 updates, 100 ms apart)",
        run.run_id()
    ));
    let mut events = run.stream().await?;
    let mut seen = 0;
    while seen < 3 {
        let Some(event) = events.next().await else {
            break;
        };
        let event = event?;
        seen += 1;
        say(format!(
            "   event id {}: {}",
            events.last_event_id().unwrap_or("-"),
            line(&event)
        ));
    }
    let (Some(run_id), Some(last_id)) =
        (events.run_id(), events.last_event_id().map(str::to_owned))
    else {
        say("the run ended before three events; nothing to resume");
        return Ok(());
    };
    drop(events); // closes the connection; the run goes on
    say(format!(
        "dropped the stream after event {last_id}; rejoining run {run_id} from there"
    ));

    let mut rest = run.stream_from(last_id).await?;
    while let Some(event) = rest.next().await {
        let event = event?;
        say(format!(
            "   event id {}: {}",
            rest.last_event_id().unwrap_or("-"),
            line(&event)
        ));
    }
    say(format!(
        "stream ended, run is {}",
        rest.last_status()
            .map(ToString::to_string)
            .unwrap_or_default()
    ));
    Ok(())
}
