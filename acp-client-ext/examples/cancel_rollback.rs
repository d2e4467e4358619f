//! Cancel runs: `interrupt` stops a run and keeps it; `rollback` stops it and removes it.
//!
//! ```sh
//! cargo run -p acp-client-ext --example cancel_rollback
//! ```
//!
//! Both are `POST /threads/{id}/runs/{run_id}/cancel?action=...&wait=true`; afterwards the
//! interrupted run is still listed, the rolled-back one answers 404.

use std::process::ExitCode;
use std::time::Duration;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::{AcpClient, CancelAction};
use serde_json::json;
use support::example::{Res, finish, say};

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
    let setup = support::example::setup("cancel_rollback", client, server).await?;
    let runs = setup.client.new_thread().await?;
    let slow = setup.agent("slow").await?.on_thread(&runs)?;
    let input = json!({"deadline_ms": 60_000});

    let kept = setup.run(&slow, &input)?.create().await?;
    say(format!(
        "run {} is {}",
        kept.run_id(),
        kept.get().await?.status
    ));
    kept.cancel(CancelAction::Interrupt, true).await?;
    say(format!(
        "cancelled with interrupt: {}",
        kept.get().await?.status
    ));

    let gone = setup.run(&slow, &input)?.create().await?;
    say(format!(
        "run {} is {}",
        gone.run_id(),
        gone.get().await?.status
    ));
    gone.rollback().await?; // cancel(CancelAction::Rollback, true)
    match gone.get().await {
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
            say(format!("cancelled with rollback: GET answers 404 ({e})"));
        }
        Err(e) => return Err(e.into()),
        Ok(info) if setup.embedded() => {
            return Err(format!("rolled-back run still there: {}", info.status).into());
        }
        Ok(info) => say(format!(
            "this server keeps rolled-back runs: {}",
            info.status
        )),
    }

    let listed = runs.list(None, None).await?;
    say(format!("the thread lists {} run(s):", listed.len()));
    for r in &listed {
        say(format!("   {} {}", r.run_id, r.status));
    }
    Ok(())
}
