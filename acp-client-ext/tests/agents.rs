//! Agents: the generated agent helpers (search, get, descriptor), and agent handles found by
//! name and by id, with typed input and output, raw run data decoded on access, config and
//! metadata sent with the run, interrupt payloads decoded for a stateful `run_to_completion`, and
//! cancelled runs reported as cancelled. Validation before sending (feature `validate`) is
//! `validate.rs`, `resume_stream` is `streams.rs`.
//!
//! No sleeps: every step waits on the server's answer or a run's outcome.

mod support;

use acp_client_ext::{Error, RunEvent, RunStatus, WaitOutcome};
use acp_reference_server::{ReferenceServer, agents};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::{T, api_error, client, client_at};

#[derive(Serialize)]
struct StreamInput {
    count: u32,
}

#[derive(Debug, Deserialize)]
struct StreamOutput {
    count: u32,
}

#[derive(Debug, Deserialize)]
struct Progress {
    i: u32,
}

#[derive(Debug, Deserialize)]
struct Question {
    question: String,
    round: u32,
}

#[tokio::test]
async fn agent_helpers_decode_the_generated_types() {
    let s = ReferenceServer::start().await;
    let c = client_at(&s.url());
    let all = c.search_agents().await.expect("agents");
    assert_eq!(all.len(), agents::ALL.len());
    assert!(
        all.iter()
            .any(|a| a.agent_id == agents::ECHO && a.metadata.ref_.name == "echo")
    );

    let echo = c.get_agent(agents::ECHO).await.expect("echo");
    assert_eq!(echo.metadata.ref_.name, "echo");
    let same = c
        .get_agent(agents::ECHO.to_string())
        .await
        .expect("echo by string");
    assert_eq!(same.agent_id, agents::ECHO);

    let d = c
        .agent_descriptor(agents::INTERRUPT)
        .await
        .expect("descriptor");
    assert!(d.specs.capabilities.interrupts);
    let specs = serde_json::to_value(&d.specs).expect("specs");
    assert!(
        specs["interrupts"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    );
    let d = c.agent_descriptor(agents::ECHO).await.expect("descriptor");
    assert!(!d.specs.capabilities.interrupts);

    let err = c
        .get_agent(uuid::Uuid::new_v4())
        .await
        .expect_err("unknown");
    assert_eq!(api_error(&err).0, 404);
    assert_eq!(s.requests("POST", "/agents/search"), 1);
}

#[tokio::test]
async fn an_agent_is_found_by_name_and_by_id() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let by_name = c.agent("echo").await.expect("by name");
    assert_eq!(by_name.id(), agents::ECHO.to_string());
    assert_eq!(by_name.name(), "echo");
    assert_eq!(by_name.descriptor()["metadata"]["ref"]["name"], "echo");
    assert_eq!(s.requests("POST", "/agents/search"), 1);

    let by_id = c.agent(agents::STREAM.to_string()).await.expect("by id");
    assert_eq!(by_id.name(), "stream");
    assert_eq!(
        s.requests("POST", "/agents/search"),
        1,
        "an id is not searched"
    );
    assert_eq!(s.requests("GET", &format!("/agents/{}", agents::STREAM)), 1);

    let err = c.agent("nobody").await.expect_err("no such agent");
    assert!(
        matches!(&err, Error::AgentNotFound { name } if name == "nobody"),
        "{err:?}"
    );
    let err = c
        .agent(uuid::Uuid::nil().to_string())
        .await
        .expect_err("no such id");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_name_given_as_agent_id_is_refused_by_the_server() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let body = support::stateless(json!({"agent_id": "echo", "input": {}}));
    let err = c
        .stateless_runs()
        .create(body)
        .await
        .expect_err("a name is not an id");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");
}

#[tokio::test]
async fn a_typed_handle_sends_its_input_and_decodes_its_output() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let stream = c
        .agent("stream")
        .await
        .expect("agent")
        .typed::<StreamInput, StreamOutput>();
    let out = stream
        .run(&StreamInput { count: 2 })
        .output(T)
        .await
        .expect("output");
    assert_eq!(out.count, 2);

    // On a thread, streamed: each values update decodes into the caller's type.
    let thread = c.new_thread().await.expect("thread");
    let mut events = stream
        .on_thread(&thread)
        .expect("thread id")
        .stream(&StreamInput { count: 3 })
        .await
        .expect("stream");
    let mut seen = Vec::new();
    while let Some(event) = events.try_next().await.expect("event") {
        if let RunEvent::Values(v) = &event
            && v.status == RunStatus::Pending
        {
            seen.push(v.values_as::<Progress>().expect("progress").i);
        }
    }
    assert_eq!(seen, vec![0, 1, 2]);
    assert_eq!(
        s.requests(
            "POST",
            &format!("/threads/{}/runs/stream", thread.thread_id())
        ),
        1
    );
}

#[tokio::test]
async fn an_untyped_handle_runs_any_serialize_input() {
    // The README's promise: input is anything `Serialize`, without `.typed::<I, O>()` first.
    #[derive(Serialize)]
    struct Greeting<'a> {
        text: &'a str,
        n: u8,
    }
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let echo = c.agent("echo").await.expect("agent");

    let from_struct = echo
        .run(&Greeting { text: "hi", n: 1 })
        .wait(T)
        .await
        .expect("a struct");
    assert_eq!(
        from_struct.output_as::<Value>().expect("values"),
        json!({"text": "hi", "n": 1})
    );

    let map: std::collections::BTreeMap<&str, u32> = [("a", 1), ("b", 2)].into();
    let thread = c.new_thread().await.expect("thread");
    let on_thread = echo.on_thread(&thread).expect("thread id");
    let from_map = on_thread.run(&map).wait(T).await.expect("a map");
    assert_eq!(
        from_map.output_as::<Value>().expect("values"),
        json!({"a": 1, "b": 2})
    );

    // Streamed too, and what was sent is what the server stored as the run's input.
    let events: Vec<RunEvent> = echo
        .stream(&Greeting {
            text: "streamed",
            n: 2,
        })
        .await
        .expect("stream")
        .try_collect()
        .await
        .expect("events");
    let last = events.last().expect("an event");
    let RunEvent::Values(v) = last else {
        panic!("last event {last:?}")
    };
    assert_eq!(
        v.values_as::<Value>().expect("values"),
        json!({"text": "streamed", "n": 2})
    );

    // A value that cannot be JSON is refused before any request, naming the input.
    let runs_before = s.requests("POST", "/runs/wait");
    let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
    let err = echo
        .run(&bad)
        .wait(T)
        .await
        .expect_err("a map with tuple keys");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if *field == "input"),
        "{err:?}"
    );
    assert_eq!(s.requests("POST", "/runs/wait"), runs_before);
}

#[tokio::test]
async fn config_and_metadata_travel_with_the_run() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let echo = c.agent("echo").await.expect("agent");
    let outcome = echo
        .run(&json!({"text": "hi"}))
        .config(&json!({"greeting": "hey"}))
        .metadata(&json!({"trace": "42"}))
        .wait(T)
        .await
        .expect("wait");
    assert_eq!(outcome.output_as::<Value>().expect("values")["text"], "hi");
    let info = outcome.run();
    assert_eq!(
        info.agent_id.as_deref(),
        Some(agents::ECHO.to_string().as_str())
    );
    let creation = &info.raw()["creation"];
    assert_eq!(creation["metadata"]["trace"], "42", "{creation}");
    assert_eq!(
        creation["config"]["configurable"]["greeting"], "hey",
        "{creation}"
    );
}

#[tokio::test]
async fn a_type_mismatch_is_a_decode_error_naming_the_type() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let echo = c.agent("echo").await.expect("agent");
    let outcome = echo
        .run(&json!({"count": "five"}))
        .wait(T)
        .await
        .expect("wait");
    let err = outcome
        .output_as::<StreamOutput>()
        .expect_err("count is a string");
    assert!(
        matches!(&err, Error::Decode { what, .. } if what.contains("StreamOutput")),
        "{err:?}"
    );
    let err = outcome
        .payload_as::<Question>()
        .expect_err("not an interrupt");
    assert!(matches!(err, Error::UnexpectedOutcome { .. }), "{err:?}");
}

#[tokio::test]
async fn interrupt_payloads_decode_and_a_stateful_callback_keeps_a_transcript() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let agent = c.agent("interrupt").await.expect("agent");
    let run = agent
        .run(&json!({"interrupts": 3}))
        .create()
        .await
        .expect("create");
    let first = run.wait(T).await.expect("wait");
    assert_eq!(first.payload_as::<Question>().expect("question").round, 1);

    let mut transcript: Vec<(u32, String)> = Vec::new();
    let outcome = run
        .run_to_completion(T, 5, async |interrupt| {
            let q: Question = interrupt.payload_as()?;
            transcript.push((q.round, q.question));
            Ok(json!({"answer": transcript.len()}))
        })
        .await
        .expect("completes");
    let rounds: Vec<u32> = transcript.iter().map(|(r, _)| *r).collect();
    assert_eq!(rounds, vec![1, 2, 3]);
    assert_eq!(
        outcome.output_as::<Value>().expect("values")["answers"],
        json!([{"answer": 1}, {"answer": 2}, {"answer": 3}])
    );
}

#[tokio::test]
async fn a_cancelled_run_is_reported_as_cancelled_not_asked() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let slow = c.agent("slow").await.expect("agent");
    let run = slow.run(&json!({})).create().await.expect("create");
    run.interrupt().await.expect("cancel");
    let mut asked = 0;
    let outcome = run
        .run_to_completion(T, 5, async |_| {
            asked += 1;
            Ok(json!({}))
        })
        .await
        .expect("outcome");
    assert!(
        matches!(outcome, WaitOutcome::Cancelled { .. }),
        "{outcome:?}"
    );
    assert_eq!(asked, 0, "a cancellation is not a question");
    let err = outcome.output_as::<Value>().expect_err("no output");
    assert!(err.to_string().contains("cancelled"), "{err}");
}
