//! Stream a run's events as they arrive, stop half-way, and pick up where it stopped.
//!
//! ```sh
//! cargo run -p acp-client-ext --example stream_run
//! ```
//!
//! Creates a thread run and streams it (`POST /threads/{id}/runs/stream`), drops the stream
//! after three events, then joins the run's stream again with `Last-Event-ID`
//! (`GET .../runs/{run_id}/stream`): the remaining events arrive, none twice. The run is created
//! with `on_disconnect: continue` so that closing the first stream does not cancel it.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::types::OnDisconnect;
use futures::StreamExt;
use serde_json::json;
use support::example::{Res, describe, finish, say};

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    let setup = support::example::connect("stream_run").await?;
    let runs = setup.client.new_thread().await?;

    let body = acp_client_ext::types::RunCreateStateful {
        on_disconnect: OnDisconnect::Continue,
        ..setup.stateful("stream", json!({"count": 6, "delay_ms": 100}))
    };
    say("streaming a run of `stream` (6 updates, 100 ms apart)");
    let mut events = runs.stream(body).await?;
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
            describe(&event)
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

    let run = runs.run(run_id)?;
    let mut rest = run.stream_from(last_id).await?;
    while let Some(event) = rest.next().await {
        let event = event?;
        say(format!(
            "   event id {}: {}",
            rest.last_event_id().unwrap_or("-"),
            describe(&event)
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
