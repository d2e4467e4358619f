//! All 30 ACP operations through the generated `acp-client`, against the reference server on
//! 127.0.0.1: the first end-to-end proof that what progenitor generated talks to a real server.
//! Every call decodes into the generated types and asserts on the result.

use acp_client::prelude::*;
use acp_client::types;
use acp_reference_server::{ReferenceServer, agents};
use futures::TryStreamExt;
use serde_json::json;
use uuid::Uuid;

fn client(server: &ReferenceServer) -> acp_client::Client {
    acp_client::Client::new(&server.url())
}

/// Through serde rather than the constructors: the payload schemas are map newtypes in ACP 0.2.1
/// and enums over JSON kinds from 0.2.3, and a JSON object fits both (a spec bump needs no edit).
fn input(v: serde_json::Value) -> types::InputSchema {
    serde_json::from_value(v).expect("an object input")
}

fn payload(v: serde_json::Value) -> types::ResumePayloadSchema {
    serde_json::from_value(v).expect("an object resume payload")
}

/// Read a whole SSE body from the generated client's byte stream.
async fn sse_body(stream: acp_client::ByteStream) -> String {
    let chunks: Vec<bytes::Bytes> = stream.into_inner().try_collect().await.expect("sse body");
    String::from_utf8(chunks.concat()).expect("utf-8 sse body")
}

fn data_lines(body: &str) -> Vec<serde_json::Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| serde_json::from_str(d.trim_start()).expect("json event data"))
        .collect()
}

#[tokio::test]
async fn agents_search_get_and_descriptor() {
    let server = ReferenceServer::start().await;
    let c = client(&server);

    let all = c
        .search_agents()
        .body(types::AgentSearchRequest::builder())
        .send()
        .await
        .unwrap();
    assert!(all.len() >= 6, "six scriptable agents, got {}", all.len());
    let echo = c
        .search_agents()
        .body(types::AgentSearchRequest::builder().name(Some("echo".to_string())))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(echo.len(), 1);
    assert_eq!(echo[0].agent_id, agents::ECHO);
    assert_eq!(echo[0].metadata.ref_.name, "echo");

    let agent = c
        .get_agent_by_id()
        .agent_id(agents::STREAM)
        .send()
        .await
        .unwrap();
    assert_eq!(agent.metadata.ref_.name, "stream");

    let descriptor = c
        .get_acp_descriptor_by_id()
        .agent_id(agents::INTERRUPT)
        .send()
        .await
        .unwrap();
    assert_eq!(descriptor.metadata.ref_.name, "interrupt");
    assert!(descriptor.specs.capabilities.interrupts);

    let missing = c
        .get_agent_by_id()
        .agent_id(Uuid::new_v4())
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn threads_create_search_get_patch_history_copy_delete() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let id = Uuid::new_v4();
    let mut meta = serde_json::Map::new();
    meta.insert("owner".into(), json!("tests"));

    let thread = c
        .create_thread()
        .body(
            types::ThreadCreate::builder()
                .thread_id(Some(id))
                .metadata(Some(meta.clone())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(thread.thread_id, id.to_string());
    assert_eq!(thread.status, types::Status::Idle);

    // if_exists=raise (the default) refuses a duplicate with 409.
    let dup = c
        .create_thread()
        .body(types::ThreadCreate::builder().thread_id(Some(id)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.status().map(|s| s.as_u16()), Some(409));

    let found = c
        .search_threads()
        .body(types::ThreadSearchRequest::builder().metadata(Some(meta)))
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let got = c.get_thread().thread_id(id).send().await.unwrap();
    assert_eq!(got.thread_id, id.to_string());

    let mut more = serde_json::Map::new();
    more.insert("stage".into(), json!("patched"));
    let patched = c
        .patch_thread()
        .thread_id(id)
        .body(types::ThreadPatch::builder().metadata(Some(more)))
        .send()
        .await
        .unwrap();
    let m = patched.metadata.clone();
    assert_eq!(m.get("stage"), Some(&json!("patched")));
    assert_eq!(m.get("owner"), Some(&json!("tests")));

    // A run gives the thread a checkpoint in its history.
    c.create_and_wait_for_thread_run_output()
        .thread_id(id)
        .body(
            types::RunCreateStateful::builder()
                .agent_id(Some(agents::ECHO.to_string()))
                .input(Some(input(json!({"x": 1})))),
        )
        .send()
        .await
        .unwrap();
    let history = c.get_thread_history().thread_id(id).send().await.unwrap();
    assert!(!history.is_empty(), "history after a run");

    let copy = c.copy_thread().thread_id(id).send().await.unwrap();
    assert_ne!(copy.thread_id, id.to_string());

    c.delete_thread().thread_id(id).send().await.unwrap();
    let gone = c.get_thread().thread_id(id).send().await.unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn thread_runs_every_operation() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let thread: Uuid = c
        .create_thread()
        .body(types::ThreadCreate::builder())
        .send()
        .await
        .unwrap()
        .thread_id
        .parse()
        .unwrap();

    // create + wait (POST .../runs/wait)
    let waited = c
        .create_and_wait_for_thread_run_output()
        .thread_id(thread)
        .body(
            types::RunCreateStateful::builder()
                .agent_id(Some(agents::ECHO.to_string()))
                .input(Some(input(json!({"hello": "world"})))),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    let run = waited.run.expect("run in wait response");
    assert_eq!(run.status, types::RunStatus::Success);
    assert_eq!(run.thread_id, Some(thread));
    match waited.output {
        Some(types::RunOutput::Result(r)) => {
            let values = serde_json::to_value(&r.values).expect("values serialize");
            assert_eq!(values["hello"], json!("world"))
        }
        other => panic!("expected a result output, got {other:?}"),
    }

    // create + stream (POST .../runs/stream)
    let body = sse_body(
        c.create_and_stream_thread_run_output()
            .thread_id(thread)
            .body(
                types::RunCreateStateful::builder()
                    .agent_id(Some(agents::STREAM.to_string()))
                    .input(Some(input(json!({"count": 3})))),
            )
            .send()
            .await
            .unwrap()
            .into_inner(),
    )
    .await;
    let events = data_lines(&body);
    assert!(body.contains("event: agent_event"));
    assert_eq!(events.len(), 4, "3 updates + the final status: {body}");
    let streamed: Uuid = events[0]["run_id"].as_str().unwrap().parse().unwrap();
    for e in &events {
        serde_json::from_value::<types::StreamEventPayload>(e.clone())
            .expect("typed stream payload");
    }

    // create (POST .../runs), then get, wait, join stream, list
    let created = c
        .create_thread_run()
        .thread_id(thread)
        .body(types::RunCreateStateful::builder().agent_id(Some(agents::INTERRUPT.to_string())))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        created.creation.agent_id,
        Some(agents::INTERRUPT.to_string())
    );
    let rid = created.run_id;
    let waited = c
        .wait_for_thread_run_output()
        .thread_id(thread)
        .run_id(rid)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(waited.output, Some(types::RunOutput::Interrupt(_))),
        "{waited:?}"
    );
    let got = c
        .get_thread_run()
        .thread_id(thread)
        .run_id(rid)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status, types::RunStatus::Interrupted);

    // resume (POST .../runs/{run_id}) completes the interrupt agent
    let resumed = c
        .resume_thread_run()
        .thread_id(thread)
        .run_id(rid)
        .body(payload(json!({"answer": "yes"})))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.run_id, rid);
    let done = c
        .wait_for_thread_run_output()
        .thread_id(thread)
        .run_id(rid)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(done.output, Some(types::RunOutput::Result(_))),
        "{done:?}"
    );

    let joined = sse_body(
        c.stream_thread_run_output()
            .thread_id(thread)
            .run_id(streamed)
            .send()
            .await
            .unwrap()
            .into_inner(),
    )
    .await;
    assert_eq!(
        data_lines(&joined).len(),
        4,
        "a late join replays the finished run"
    );

    let runs = c
        .list_thread_runs()
        .thread_id(thread)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    let rest = c
        .list_thread_runs()
        .thread_id(thread)
        .limit(10)
        .offset(2)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "three runs in all");

    // cancel (POST .../cancel) a slow run, then delete it
    let slow = c
        .create_thread_run()
        .thread_id(thread)
        .body(types::RunCreateStateful::builder().agent_id(Some(agents::SLOW.to_string())))
        .send()
        .await
        .unwrap()
        .run_id;
    c.cancel_thread_run()
        .thread_id(thread)
        .run_id(slow)
        .wait(true)
        .action(types::Action::Interrupt)
        .send()
        .await
        .unwrap();
    let cancelled = c
        .get_thread_run()
        .thread_id(thread)
        .run_id(slow)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status, types::RunStatus::Interrupted);
    c.delete_thread_run()
        .thread_id(thread)
        .run_id(slow)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_thread_run()
        .thread_id(thread)
        .run_id(slow)
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn stateless_runs_every_operation() {
    let server = ReferenceServer::start().await;
    let c = client(&server);

    let waited = c
        .create_and_wait_for_stateless_run_output()
        .body(
            types::RunCreateStateless::builder()
                .agent_id(Some(agents::ECHO.to_string()))
                .input(Some(input(json!({"n": 7})))),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        waited.run.as_ref().map(|r| r.status.clone()),
        Some(types::RunStatus::Success)
    );

    let body = sse_body(
        c.create_and_stream_stateless_run_output()
            .body(
                types::RunCreateStateless::builder()
                    .agent_id(Some(agents::CUSTOM.to_string()))
                    .stream_mode(Some(types::RunCreateStatelessStreamMode::StreamingMode(
                        types::StreamingMode::Custom,
                    )))
                    .input(Some(input(json!({"count": 2})))),
            )
            .send()
            .await
            .unwrap()
            .into_inner(),
    )
    .await;
    let events = data_lines(&body);
    assert!(events.iter().any(|e| e["type"] == "custom"), "{body}");
    let streamed: Uuid = events[0]["run_id"].as_str().unwrap().parse().unwrap();

    let created = c
        .create_stateless_run()
        .body(types::RunCreateStateless::builder().agent_id(Some(agents::INTERRUPT.to_string())))
        .send()
        .await
        .unwrap()
        .into_inner();
    let rid = created.run_id;
    assert_eq!(created.thread_id, None);
    let w = c
        .wait_for_stateless_run_output()
        .run_id(rid)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(w.output, Some(types::RunOutput::Interrupt(_))),
        "{w:?}"
    );
    let resumed = c
        .resume_stateless_run()
        .run_id(rid)
        .body(payload(json!({"ok": true})))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.run_id, rid);
    let w = c
        .wait_for_stateless_run_output()
        .run_id(rid)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(w.output, Some(types::RunOutput::Result(_))),
        "{w:?}"
    );
    assert_eq!(
        c.get_stateless_run()
            .run_id(rid)
            .send()
            .await
            .unwrap()
            .status,
        types::RunStatus::Success
    );

    let joined = sse_body(
        c.stream_stateless_run_output()
            .run_id(streamed)
            .send()
            .await
            .unwrap()
            .into_inner(),
    )
    .await;
    assert_eq!(data_lines(&joined).len(), events.len());

    let found = c
        .search_stateless_runs()
        .body(types::RunSearchRequest::builder().status(Some(types::RunStatus::Success)))
        .send()
        .await
        .unwrap();
    assert!(
        found.len() >= 2,
        "echo and interrupt runs succeeded: {}",
        found.len()
    );

    let failed = c
        .create_and_wait_for_stateless_run_output()
        .body(types::RunCreateStateless::builder().agent_id(Some(agents::FAIL.to_string())))
        .send()
        .await
        .unwrap()
        .into_inner();
    match failed.output {
        Some(types::RunOutput::Error(e)) => assert_eq!(e.errcode, agents::FAIL_ERRCODE),
        other => panic!("expected an error output, got {other:?}"),
    }

    let slow = c
        .create_stateless_run()
        .body(types::RunCreateStateless::builder().agent_id(Some(agents::SLOW.to_string())))
        .send()
        .await
        .unwrap()
        .run_id;
    c.cancel_stateless_run()
        .run_id(slow)
        .wait(true)
        .action(types::Action::Rollback)
        .send()
        .await
        .unwrap();
    let gone = c.get_stateless_run().run_id(slow).send().await.unwrap_err();
    assert_eq!(
        gone.status().map(|s| s.as_u16()),
        Some(404),
        "rollback deletes the run"
    );

    c.delete_stateless_run().run_id(rid).send().await.unwrap();
    let gone = c
        .delete_stateless_run()
        .run_id(rid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}
