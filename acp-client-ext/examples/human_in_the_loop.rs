//! Human in the loop: a run that stops to ask questions, answered until it completes.
//!
//! ```sh
//! cargo run -p acp-client-ext --example human_in_the_loop
//! ```
//!
//! First by hand (wait, see `Interrupted`, resume with `POST .../runs/{run_id}`), then with the
//! helper `RunHandle::run_to_completion`, which does the same loop with a bound on the rounds.
//! The questions and answers are structs of this file (`payload_as::<Question>()`, an `Answer`
//! that is `Serialize`); the final output is read with `output_as::<Answers>()`.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::{AcpClient, WaitOutcome};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use support::example::{Res, finish, outcome, say, short};

/// What the reference agent `interrupt` asks.
#[derive(Deserialize)]
struct Question {
    question: String,
    round: u32,
}

/// What it is answered.
#[derive(Serialize)]
struct Answer<'a> {
    answer: &'a str,
}

/// Its output: the answers it collected.
#[derive(Deserialize)]
struct Answers {
    answers: Vec<serde_json::Value>,
}

#[tokio::main]
async fn main() -> ExitCode {
    finish(run().await)
}

async fn run() -> Res {
    // The server: ACP_URL, or the embedded reference server on a free loopback port.
    let server = support::example::server().await?;
    // The client: its URL, the credentials the environment gives (none for the embedded
    // server), and how long an ordinary request may take (the waits are bounded by their
    // deadlines).
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
    let setup = support::example::setup("human_in_the_loop", client, server).await?;
    let runs = setup.client.new_thread().await?;
    let interrupt = setup.agent("interrupt").await?;
    let run = setup
        .run(&interrupt.on_thread(&runs)?, &json!({"interrupts": 3}))?
        .create()
        .await?;
    say(format!(
        "run {} of `interrupt` asks 3 questions",
        run.run_id()
    ));

    // One round by hand.
    match run.wait(Duration::from_secs(10)).await? {
        asked @ WaitOutcome::Interrupted { .. } => {
            match asked.payload_as::<Question>() {
                Ok(q) => say(format!(
                    "by hand: the agent asks {:?} (round {})",
                    q.question, q.round
                )),
                Err(_) => say(format!("by hand: the agent asks {}", outcome(&asked))),
            }
            let info = run
                .resume(Answer {
                    answer: "yes, by hand",
                })
                .await?;
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
        .run_to_completion(Duration::from_secs(10), 5, async |asked| {
            let question = match asked.payload_as::<Question>() {
                Ok(q) => q.question,
                Err(_) => short(asked.payload()),
            };
            say(format!("helper: the agent asks {question:?}"));
            transcript.push(question);
            Ok(Answer {
                answer: "yes, from the helper",
            })
        })
        .await?;
    match done.output_as::<Answers>() {
        Ok(out) => say(format!(
            "completed; the agent collected {} answers",
            out.answers.len()
        )),
        Err(_) => say(outcome(&done)),
    }
    say(format!("helper: answered {} questions", transcript.len()));
    Ok(())
}
