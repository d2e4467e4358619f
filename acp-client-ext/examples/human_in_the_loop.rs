//! Human in the loop: a run that stops to ask questions, answered until it completes.
//!
//! ```sh
//! cargo run -p acp-client-ext --example human_in_the_loop
//! ```
//!
//! First by hand (wait, see `Interrupted`, resume with `POST .../runs/{run_id}`), then with the
//! helper `RunHandle::run_to_completion`, which does the same loop with a bound on the rounds.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::WaitOutcome;
use serde_json::json;
use std::time::Duration;
use support::example::{Res, finish, outcome, say, short};

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    let setup = support::example::connect("human_in_the_loop").await?;
    let runs = setup.client.new_thread().await?;
    let run = runs
        .create(setup.stateful("interrupt", json!({"interrupts": 3})))
        .await?;
    say(format!(
        "run {} of `interrupt` asks 3 questions",
        run.run_id()
    ));

    // One round by hand.
    match run.wait(Duration::from_secs(10)).await? {
        WaitOutcome::Interrupted { payload, .. } => {
            say(format!("by hand: the agent asks {}", short(&payload)));
            let info = run.resume(json!({"answer": "yes, by hand"})).await?;
            say(format!("by hand: resumed, run is {}", info.status));
        }
        other => {
            say(format!("the run did not ask anything: {}", outcome(&other)));
            return Ok(());
        }
    }

    // The remaining rounds with the helper (at most 5 answers, 10 s per wait).
    // The callback is an async closure that keeps a transcript across rounds.
    let mut transcript: Vec<String> = Vec::new();
    let done = run
        .run_to_completion(Duration::from_secs(10), 5, async |question| {
            say(format!(
                "helper: the agent asks {}",
                short(question.payload())
            ));
            transcript.push(short(question.payload()));
            Ok(json!({"answer": "yes, from the helper"}))
        })
        .await?;
    say(outcome(&done));
    say(format!("helper: answered {} questions", transcript.len()));
    Ok(())
}
