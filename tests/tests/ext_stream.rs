//! Typed, resumable run streams of `acp-client-ext` against the reference server on 127.0.0.1.
//!
//! No sleeps: synchronisation goes through the stream itself and `TestServer::wait_for`.

use std::time::Duration;

use acp_client::types::{RunCreateStateful, RunCreateStateless};
use acp_client_ext::{AcpClient, Error, RunEvent, RunScope, RunStatus, RunStream};
use acp_reference_server::{Fault, LineEnding, ServerEvent, Target, TestServer, agents};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

/// Upper bound for anything to happen; never reached when the code works.
const T: Duration = Duration::from_secs(20);

fn client(server: &TestServer) -> AcpClient {
    AcpClient::new(server.url()).expect("client")
}

fn stateless(body: Value) -> RunCreateStateless {
    serde_json::from_value(body).expect("stateless body")
}

fn stateful(body: Value) -> RunCreateStateful {
    serde_json::from_value(body).expect("stateful body")
}

/// A stateless `stream` agent run of `count` values updates.
fn stream_body(count: u64, delay_ms: u64) -> RunCreateStateless {
    stateless(json!({
        "agent_id": "stream",
        "input": {"count": count, "delay_ms": delay_ms},
        "on_disconnect": "continue",
    }))
}

/// One delivered item with the stream's `last_event_id` right after it.
struct Item {
    result: Result<RunEvent, Error>,
    id: Option<String>,
}

/// Reads the stream to its end.
async fn drain(stream: &mut RunStream) -> Vec<Item> {
    let read = async {
        let mut items = Vec::new();
        while let Some(result) = stream.next().await {
            items.push(Item {
                result,
                id: stream.last_event_id().map(str::to_owned),
            });
        }
        items
    };
    tokio::time::timeout(T, read)
        .await
        .expect("the stream ended")
}

fn events(items: Vec<Item>) -> Vec<(String, RunEvent)> {
    items
        .into_iter()
        .map(|i| match i.result {
            Ok(ev) => (i.id.expect("an event id"), ev),
            Err(e) => panic!("unexpected error: {e}"),
        })
        .collect()
}

/// Asserts the events of a `stream` agent run of `count` updates starting at update `from`:
/// ids `from+1 ..= count+1`, values `i` in order, then the final success with `count`.
fn assert_stream_run(evs: &[(String, RunEvent)], count: u64, from: u64) {
    let ids: Vec<String> = evs.iter().map(|(id, _)| id.clone()).collect();
    let expected: Vec<String> = (from + 1..=count + 1).map(|n| n.to_string()).collect();
    assert_eq!(ids, expected, "event ids");
    let (last, updates) = evs.split_last().expect("events");
    for (k, (_, ev)) in updates.iter().enumerate() {
        let RunEvent::Values(u) = ev else {
            panic!("expected values, got {ev:?}")
        };
        assert_eq!(u.values["i"], json!(from + k as u64), "update {k}");
        assert_eq!(ev.status(), Some(RunStatus::Pending));
    }
    let RunEvent::Values(fin) = &last.1 else {
        panic!("expected final values, got {:?}", last.1)
    };
    assert_eq!(fin.values["count"], json!(count));
    assert_eq!(last.1.status(), Some(RunStatus::Success));
}

async fn finished(server: &TestServer, run_id: Uuid) {
    let done = server
        .wait_for(
            |e| matches!(e, ServerEvent::RunStatus { run_id: r, status } if *r == run_id && status != "pending"),
            T,
        )
        .await;
    assert!(done.is_some(), "run {run_id} finished");
}

#[tokio::test]
async fn values_run_on_a_thread_gives_typed_events_and_final_status() {
    let server = TestServer::start().await;
    let thread = Uuid::new_v4();
    let runs = client(&server).thread_runs(thread).expect("thread runs");
    let body = stateful(json!({
        "agent_id": agents::STREAM.to_string(),
        "input": {"count": 5},
        "if_not_exists": "create",
    }));
    let mut stream = runs.stream(body).await.expect("stream");
    assert_eq!(stream.run_id(), None, "unknown before the first event");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 5, 0);
    let run_id = stream.run_id().expect("run id from the events");
    assert!(evs.iter().all(|(_, e)| e.run_id() == Some(run_id)));
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(stream.last_event_id(), Some("6"));
    assert_eq!(server.run_status(run_id).await.as_deref(), Some("success"));
    assert_eq!(
        server.requests("POST", &format!("/threads/{thread}/runs/stream")),
        1
    );
    assert!(stream.next().await.is_none(), "fused");
}

#[tokio::test]
async fn custom_run_gives_custom_events() {
    let server = TestServer::start().await;
    let body = stateless(json!({"agent_id": "custom", "input": {"count": 3}}));
    let mut stream = client(&server)
        .stateless_runs()
        .stream(body)
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_eq!(evs.len(), 4);
    for (k, (_, ev)) in evs[..3].iter().enumerate() {
        let RunEvent::Custom(u) = ev else {
            panic!("expected custom, got {ev:?}")
        };
        assert_eq!(u.update["i"], json!(k));
        assert_eq!(u.run_id, stream.run_id());
    }
    assert!(matches!(&evs[3].1, RunEvent::Values(v) if v.values["count"] == 3));
    assert!(evs[3].1.is_final());
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
}

#[tokio::test]
async fn stateless_stream_uses_the_stateless_route() {
    let server = TestServer::start().await;
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(3, 0))
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 3, 0);
    assert_eq!(server.requests("POST", "/runs/stream"), 1);
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}

#[tokio::test]
async fn late_join_of_a_finished_run_replays_it_and_resumes_from_an_id() {
    let server = TestServer::start().await;
    let c = client(&server);
    let run = c
        .stateless_runs()
        .create(stream_body(4, 0))
        .await
        .expect("create");
    finished(&server, run.run_id()).await;

    let mut stream = run.stream().await.expect("join");
    assert_eq!(stream.run_id(), Some(run.run_id()), "known from the handle");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 4, 0);

    let mut rest = run.stream_from("3").await.expect("join from 3");
    assert_eq!(rest.last_event_id(), Some("3"));
    let evs = events(drain(&mut rest).await);
    assert_stream_run(&evs, 4, 3);

    // The same through a handle built from the id alone.
    let again = c.run(RunScope::Stateless, run.run_id()).expect("handle");
    let evs = events(drain(&mut again.stream_from("4").await.expect("join")).await);
    assert_eq!(evs.len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_is_rejoined_without_loss_or_duplicate() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::DropAfterEvents(3), 1);
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(10, 0))
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 10, 0);
    assert_eq!(
        server.requests("POST", "/runs/stream"),
        1,
        "create not replayed"
    );
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1, "one join");
}

#[tokio::test]
async fn drops_on_a_thread_run_are_rejoined_on_the_thread_route() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);
    server.inject(Target::Join, Fault::DropAfterEvents(2), 1);
    let thread = Uuid::new_v4();
    let body = stateful(json!({
        "agent_id": "stream",
        "input": {"count": 7},
        "if_not_exists": "create",
        "on_disconnect": "continue",
    }));
    let mut stream = client(&server)
        .thread_runs(thread)
        .expect("runs")
        .stream(body)
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 7, 0);
    assert_eq!(
        server.requests("GET", &format!("/threads/{thread}/runs/*/stream")),
        2
    );
}

#[tokio::test]
async fn a_drop_before_the_run_id_is_known_is_a_clear_error() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::DropAfterEvents(0), 1);
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(3, 0))
        .await
        .expect("stream");
    let items = drain(&mut stream).await;
    assert_eq!(items.len(), 1, "one error, then the end");
    match &items[0].result {
        Err(Error::Stream(msg)) => assert!(msg.contains("cannot be rejoined"), "{msg}"),
        other => panic!("expected a stream error, got {other:?}"),
    }
    assert_eq!(
        server.requests("POST", "/runs/stream"),
        1,
        "create not replayed"
    );
}

#[tokio::test]
async fn a_stalled_stream_is_rejoined_after_the_idle_timeout() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::StallAfterEvents(2), 1);
    let c = AcpClient::builder(server.url())
        .idle_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let mut stream = c
        .stateless_runs()
        .stream(stream_body(5, 0))
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 5, 0);
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1);
    let run_id = stream.run_id().expect("run id");
    let closed = server
        .wait_for(
            |e| matches!(e, ServerEvent::StreamClosed { run_id: r, client_gone: true } if *r == run_id),
            T,
        )
        .await;
    assert!(
        closed.is_some(),
        "the stalled connection was closed by the client"
    );
}

#[tokio::test]
async fn endless_stalls_give_a_timeout_not_a_hang() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::StallAfterEvents(1), 1);
    server.inject(Target::Join, Fault::StallAfterEvents(0), 10);
    let c = AcpClient::builder(server.url())
        .idle_timeout(Duration::from_millis(200))
        .stream_reconnects(2)
        .build()
        .expect("client");
    let mut stream = c
        .stateless_runs()
        .stream(stream_body(5, 0))
        .await
        .expect("stream");
    let items = drain(&mut stream).await;
    assert_eq!(items.len(), 2, "one event, then the error");
    assert!(items[0].result.is_ok());
    assert!(
        matches!(items[1].result, Err(Error::Timeout { .. })),
        "{:?}",
        items[1].result
    );
    assert_eq!(
        server.requests("GET", "/runs/*/stream"),
        2,
        "bounded rejoins"
    );
}

async fn stream_with_fault(fault: Fault) {
    let server = TestServer::start().await;
    server.inject(Target::Stream, fault.clone(), 1);
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(4, 0))
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 4, 0);
    assert_eq!(
        server.requests("GET", "/runs/*/stream"),
        0,
        "{fault:?}: no rejoin"
    );
}

#[tokio::test]
async fn trickled_bytes_decode_the_same() {
    stream_with_fault(Fault::Trickle).await;
}

#[tokio::test]
async fn crlf_line_endings() {
    stream_with_fault(Fault::LineEnding(LineEnding::Crlf)).await;
}

#[tokio::test]
async fn cr_line_endings() {
    stream_with_fault(Fault::LineEnding(LineEnding::Cr)).await;
}

#[tokio::test]
async fn keep_alives_before_the_first_event_are_ignored() {
    stream_with_fault(Fault::KeepAlivesFirst(50)).await;
}

#[tokio::test]
async fn a_malformed_event_is_a_decode_error_and_the_stream_continues() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::MalformedEvent(2), 1);
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(4, 0))
        .await
        .expect("stream");
    let mut items = drain(&mut stream).await;
    assert_eq!(items.len(), 6);
    let bad = items.remove(2);
    match bad.result {
        Err(Error::Decode { excerpt, .. }) => {
            assert!(excerpt.contains("this is not json"), "{excerpt}")
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(bad.id.as_deref(), Some("2"), "the bogus event has no id");
    assert_stream_run(&events(items), 4, 0);
}

#[tokio::test]
async fn an_oversized_event_ends_the_stream_with_an_error() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::OversizedEvent(4096), 1);
    let c = AcpClient::builder(server.url())
        .max_event_size(1024)
        .build()
        .expect("client");
    let mut stream = c
        .stateless_runs()
        .stream(stream_body(3, 0))
        .await
        .expect("stream");
    let items = drain(&mut stream).await;
    assert_eq!(items.len(), 1);
    match &items[0].result {
        Err(Error::Stream(msg)) => assert!(msg.contains("larger than 1024 bytes"), "{msg}"),
        other => panic!("expected a stream error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_content_type_fails_the_call() {
    let server = TestServer::start().await;
    let c = client(&server);
    server.inject(Target::Stream, Fault::WrongContentType, 1);
    let err = c
        .stateless_runs()
        .stream(stream_body(1, 0))
        .await
        .expect_err("not an event stream");
    match &err {
        Error::Stream(msg) => {
            assert!(
                msg.contains("text/event-stream") && msg.contains("application/json"),
                "{msg}"
            )
        }
        other => panic!("expected a stream error, got {other:?}"),
    }

    let run = c
        .stateless_runs()
        .create(stream_body(1, 0))
        .await
        .expect("create");
    server.inject(Target::Join, Fault::WrongContentType, 1);
    assert!(matches!(run.stream().await, Err(Error::Stream(_))));
}

#[tokio::test]
async fn a_503_on_join_is_retried() {
    let server = TestServer::start().await;
    let c = client(&server);
    let run = c
        .stateless_runs()
        .create(stream_body(2, 0))
        .await
        .expect("create");
    server.inject(Target::Join, Fault::Status(503), 2);
    let mut stream = run.stream().await.expect("join after two 503s");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 2, 0);
    assert_eq!(server.requests("GET", "/runs/*/stream"), 3);
}

#[tokio::test]
async fn refused_stream_starts_are_api_errors_before_any_event() {
    let server = TestServer::start().await;
    let c = client(&server);
    let err = c
        .stateless_runs()
        .stream(stateless(json!({"agent_id": "no-such-agent"})))
        .await
        .expect_err("unknown agent");
    assert!(
        matches!(&err, Error::Api { status, message, .. } if status.as_u16() == 404 && message.contains("no-such-agent")),
        "{err:?}"
    );

    let err = c
        .thread_runs(Uuid::new_v4())
        .expect("runs")
        .stream(stateful(json!({"agent_id": "stream"})))
        .await
        .expect_err("unknown thread");
    assert!(
        matches!(&err, Error::Api { status, message, .. } if status.as_u16() == 404 && message.contains("thread")),
        "{err:?}"
    );

    let missing = c.run(RunScope::Stateless, Uuid::new_v4()).expect("handle");
    let err = missing.stream().await.expect_err("unknown run");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_clean_end_mid_run_is_rejoined() {
    let server = TestServer::start().await;
    server.inject(Target::Stream, Fault::EndAfterEvents(2), 1);
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(5, 0))
        .await
        .expect("stream");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 5, 0);
    assert_eq!(server.requests("GET", "/runs/*"), 1, "the run was checked");
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1, "then rejoined");
}

#[tokio::test]
async fn a_clean_end_of_a_pending_run_is_rejoined() {
    let server = TestServer::start().await;
    let c = client(&server);
    // A slow run whose first segment ends early: still pending when checked.
    let run = c
        .stateless_runs()
        .create(stream_body(3, 30))
        .await
        .expect("create");
    server.inject(Target::Join, Fault::EndAfterEvents(1), 1);
    let mut stream = run.stream().await.expect("join");
    let evs = events(drain(&mut stream).await);
    assert_stream_run(&evs, 3, 0);
    assert_eq!(server.requests("GET", "/runs/*/stream"), 2);
    assert_eq!(server.requests("GET", "/runs/*"), 1);
}

/// A long run, its stream, and the first event read.
async fn long_stream(server: &TestServer) -> (RunStream, Uuid) {
    let mut stream = client(server)
        .stateless_runs()
        .stream(stream_body(100_000, 20))
        .await
        .expect("stream");
    let first = tokio::time::timeout(T, stream.next())
        .await
        .expect("an event");
    assert!(matches!(first, Some(Ok(RunEvent::Values(_)))), "{first:?}");
    let run_id = stream.run_id().expect("run id");
    (stream, run_id)
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = TestServer::start().await;
    let (stream, run_id) = long_stream(&server).await;
    drop(stream);
    let closed = server
        .wait_for(
            |e| matches!(e, ServerEvent::StreamClosed { run_id: r, .. } if *r == run_id),
            T,
        )
        .await;
    assert_eq!(
        closed,
        Some(ServerEvent::StreamClosed {
            run_id,
            client_gone: true
        })
    );
    assert_eq!(
        server.run_status(run_id).await.as_deref(),
        Some("pending"),
        "not cancelled"
    );
    assert_eq!(server.requests("POST", "/runs/*/cancel"), 0);
}

#[tokio::test]
async fn cancel_on_drop_cancels_the_run() {
    let server = TestServer::start().await;
    let (stream, run_id) = long_stream(&server).await;
    drop(stream.cancel_on_drop(true));
    let cancelled = server
        .wait_for(
            |e| matches!(e, ServerEvent::RunCancelled { run_id: r } if *r == run_id),
            T,
        )
        .await;
    assert!(cancelled.is_some(), "the run was cancelled");
    assert_eq!(
        server.run_status(run_id).await.as_deref(),
        Some("interrupted")
    );
    let closed = server
        .wait_for(
            |e| matches!(e, ServerEvent::StreamClosed { run_id: r, client_gone: true } if *r == run_id),
            T,
        )
        .await;
    assert!(closed.is_some());
}

#[tokio::test]
async fn cancel_on_drop_leaves_a_finished_run_alone() {
    let server = TestServer::start().await;
    let mut stream = client(&server)
        .stateless_runs()
        .stream(stream_body(2, 0))
        .await
        .expect("stream")
        .cancel_on_drop(true);
    let evs = events(drain(&mut stream).await);
    assert_eq!(evs.len(), 3);
    drop(stream);
    // A cancel would be sent by a spawned task: make sure that task, if any, ran.
    let run = client(&server)
        .stateless_runs()
        .create(stream_body(0, 0))
        .await
        .expect("another request");
    finished(&server, run.run_id()).await;
    assert_eq!(server.requests("POST", "/runs/*/cancel"), 0);
}
