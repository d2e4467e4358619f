//! Typed, resumable run streams of `acp-client-ext` against the reference server on 127.0.0.1.
//!
//! No sleeps: synchronisation goes through the stream itself and `ReferenceServer::wait_for`.
//!
//! How each failure looks to the user (and that every event arrives exactly once) is the fault
//! matrix (`fault_matrix.rs`); here, the typed events and the routes a stream takes.

mod support;

use std::time::Duration;

use acp_client_ext::{AcpClient, Error, RunEvent, RunScope, RunStatus};
use acp_reference_server::{
    Dialect, Fault, LineEnding, ReferenceServer, ServerEvent, Target, agents,
};
use futures::StreamExt;
use serde_json::json;
use support::{
    Got, T, create_run, create_stream, in_progress, read_all, server, stateful, stateless,
};
use uuid::Uuid;

/// A client with the default settings (retries included).
/// The free-form `values` of an update as JSON: its Rust type is the spec's output schema, a map
/// in ACP 0.2.1 and an enum over JSON kinds from 0.2.3, so tests read it through serde.
fn values(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("values serialize")
}

fn client(server: &ReferenceServer) -> AcpClient {
    AcpClient::new(server.url()).expect("client")
}

fn events(items: Vec<Got>) -> Vec<(String, RunEvent)> {
    items
        .into_iter()
        .map(|i| match i.item {
            Ok(ev) => (i.last_event_id.expect("an event id"), ev),
            Err(e) => panic!("unexpected error: {e}"),
        })
        .collect()
}

/// The joins a stream makes after `rejoins` lost connections: the Agent Workflow Server sends no
/// terminal event, so a stream that ends there is confirmed with a GET of the run and one last
/// join for events sent meanwhile (module docs of `acp_client_ext::stream`).
fn joins(dialect: Dialect, rejoins: usize) -> usize {
    match dialect {
        Dialect::Spec => rejoins,
        _ => rejoins + 1,
    }
}

/// Asserts the events of a `stream` agent run of `count` updates starting at update `from`, as
/// `dialect` sends them: values `i` in order, then the output `count`. Spec: ids
/// `from+1 ..= count+1`, the output carries the final `success`. Agent Workflow Server: every
/// event `running` (no terminal status event), ids numbered per connection.
fn assert_stream_run(evs: &[(String, RunEvent)], count: u64, from: u64, dialect: Dialect) {
    if dialect == Dialect::Spec {
        let ids: Vec<String> = evs.iter().map(|(id, _)| id.clone()).collect();
        let expected: Vec<String> = (from + 1..=count + 1).map(|n| n.to_string()).collect();
        assert_eq!(ids, expected, "event ids");
    }
    let (last, updates) = evs.split_last().expect("events");
    let RunEvent::Values(fin) = &last.1 else {
        panic!("expected final values, got {:?}", last.1)
    };
    assert_eq!(values(&fin.values)["count"], json!(count));
    let final_status = match dialect {
        Dialect::Spec => RunStatus::Success,
        _ => in_progress(dialect),
    };
    assert_eq!(last.1.status(), Some(final_status));
    assert_eq!(updates.len() as u64, count - from, "one event per update");
    for (k, (_, ev)) in updates.iter().enumerate() {
        let RunEvent::Values(u) = ev else {
            panic!("expected values, got {ev:?}")
        };
        assert_eq!(values(&u.values)["i"], json!(from + k as u64), "update {k}");
        assert_eq!(ev.status(), Some(in_progress(dialect)));
    }
}

async fn finished(server: &ReferenceServer, run_id: Uuid) {
    let done = server
        .wait_for(
            |e| matches!(e, ServerEvent::RunStatus { run_id: r, status } if *r == run_id && status != "pending"),
            T,
        )
        .await;
    assert!(done.is_some(), "run {run_id} finished");
}

/// Create-and-stream a `stream` agent run of `count` updates through `c` with `fault` on its
/// first response, and check the events; returns the run id.
async fn stream_through(server: &ReferenceServer, c: &AcpClient, fault: Fault, count: u64) -> Uuid {
    server.inject(Target::Stream, fault, 1);
    let mut stream = create_stream(c, count, 0).await;
    assert_stream_run(
        &events(read_all(&mut stream).await),
        count,
        0,
        server.dialect(),
    );
    stream.run_id().expect("run id")
}

/// Create a `stream` agent run of `count` updates `delay_ms` apart, join it with `fault` on the
/// first `times` joins, and check the events.
async fn join_through(
    server: &ReferenceServer,
    fault: Fault,
    times: usize,
    count: u64,
    delay_ms: u64,
) {
    let run = create_run(&client(server), count, delay_ms).await;
    server.inject(Target::Join, fault, times);
    let mut stream = run.stream().await.expect("join");
    assert_stream_run(
        &events(read_all(&mut stream).await),
        count,
        0,
        server.dialect(),
    );
}

async fn values_run_on_a_thread_gives_typed_events_and_final_status(dialect: Dialect) {
    let server = server(dialect).await;
    let thread = Uuid::new_v4();
    let runs = client(&server).thread_runs(thread).expect("thread runs");
    let body = stateful(json!({
        "agent_id": agents::STREAM.to_string(),
        "input": {"count": 5},
        "if_not_exists": "create",
    }));
    let mut stream = runs.stream(body).await.expect("stream");
    assert_eq!(stream.run_id(), None, "unknown before the first event");
    let evs = events(read_all(&mut stream).await);
    assert_stream_run(&evs, 5, 0, dialect);
    let run_id = stream.run_id().expect("run id from the events");
    assert!(evs.iter().all(|(_, e)| e.run_id() == Some(run_id)));
    assert_eq!(server.run_status(run_id).await.as_deref(), Some("success"));
    assert_eq!(
        server.requests("POST", &format!("/threads/{thread}/runs/stream")),
        1
    );
    match dialect {
        Dialect::Spec => {
            assert_eq!(stream.last_status(), Some(&RunStatus::Success));
            assert_eq!(stream.last_event_id(), Some("6"));
        }
        // No terminal event: the stream ends when the server closes it.
        _ => assert_eq!(stream.last_event_id(), Some("6")),
    }
    assert!(stream.next().await.is_none(), "fused");
}

async fn custom_run_gives_custom_events(dialect: Dialect) {
    let server = server(dialect).await;
    let body = stateless(json!({"agent_id": agents::CUSTOM, "input": {"count": 3}}));
    let mut stream = client(&server)
        .stateless_runs()
        .stream(body)
        .await
        .expect("stream");
    let evs = events(read_all(&mut stream).await);
    for (k, (_, ev)) in evs[..3].iter().enumerate() {
        let RunEvent::Custom(u) = ev else {
            panic!("expected custom, got {ev:?}")
        };
        assert_eq!(
            u.update_as::<serde_json::Value>().expect("update")["i"],
            json!(k)
        );
        assert_eq!(u.run_id, stream.run_id());
        assert_eq!(ev.status(), Some(in_progress(dialect)));
    }
    assert_eq!(evs.len(), 4);
    assert!(matches!(&evs[3].1, RunEvent::Values(v) if values(&v.values)["count"] == 3));
    // Only the spec's server marks the output final; the Workflow Server just closes.
    assert_eq!(evs[3].1.is_final(), dialect == Dialect::Spec);
    let run_id = stream.run_id().expect("run id");
    assert_eq!(server.run_status(run_id).await.as_deref(), Some("success"));
}

async fn stateless_stream_uses_the_stateless_route(dialect: Dialect) {
    let server = server(dialect).await;
    let mut stream = create_stream(&client(&server), 3, 0).await;
    let evs = events(read_all(&mut stream).await);
    assert_stream_run(&evs, 3, 0, dialect);
    assert_eq!(server.requests("POST", "/runs/stream"), 1);
    assert_eq!(
        server.requests("GET", "/runs/*/stream"),
        joins(dialect, 0),
        "no rejoin"
    );
}

#[tokio::test]
async fn late_join_of_a_finished_run_replays_it_and_resumes_from_an_id() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let run = create_run(&c, 4, 0).await;
    finished(&server, run.run_id()).await;

    let mut stream = run.stream().await.expect("join");
    assert_eq!(stream.run_id(), Some(run.run_id()), "known from the handle");
    let evs = events(read_all(&mut stream).await);
    assert_stream_run(&evs, 4, 0, Dialect::Spec);

    let mut rest = run.stream_from("3").await.expect("join from 3");
    assert_eq!(rest.last_event_id(), Some("3"));
    let evs = events(read_all(&mut rest).await);
    assert_stream_run(&evs, 4, 3, Dialect::Spec);

    // The same through a handle built from the id alone.
    let again = c.run(RunScope::Stateless, run.run_id()).expect("handle");
    let evs = events(read_all(&mut again.stream_from("4").await.expect("join")).await);
    assert_eq!(evs.len(), 1);
}

async fn a_dropped_connection_is_rejoined_without_loss_or_duplicate(dialect: Dialect) {
    let server = server(dialect).await;
    stream_through(&server, &client(&server), Fault::DropAfterEvents(3), 10).await;
    assert_eq!(
        server.requests("POST", "/runs/stream"),
        1,
        "create not replayed"
    );
    assert_eq!(
        server.requests("GET", "/runs/*/stream"),
        joins(dialect, 1),
        "one join"
    );
}

async fn drops_on_a_thread_run_are_rejoined_on_the_thread_route(dialect: Dialect) {
    let server = server(dialect).await;
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);
    server.inject(Target::Join, Fault::DropAfterEvents(2), 1);
    let thread = Uuid::new_v4();
    let body = stateful(json!({
        "agent_id": agents::STREAM,
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
    let evs = events(read_all(&mut stream).await);
    assert_stream_run(&evs, 7, 0, dialect);
    assert_eq!(
        server.requests("GET", &format!("/threads/{thread}/runs/*/stream")),
        joins(dialect, 2)
    );
}

async fn a_stalled_stream_is_rejoined_after_the_idle_timeout(dialect: Dialect) {
    let server = server(dialect).await;
    let c = AcpClient::builder(server.url())
        .idle_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let run_id = stream_through(&server, &c, Fault::StallAfterEvents(2), 5).await;
    assert_eq!(server.requests("GET", "/runs/*/stream"), joins(dialect, 1));
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

support::both_dialects!(
    values_run_on_a_thread_gives_typed_events_and_final_status,
    custom_run_gives_custom_events,
    stateless_stream_uses_the_stateless_route,
    a_dropped_connection_is_rejoined_without_loss_or_duplicate,
    drops_on_a_thread_run_are_rejoined_on_the_thread_route,
    a_stalled_stream_is_rejoined_after_the_idle_timeout,
);

#[tokio::test]
async fn framing_decodes_the_same() {
    for fault in [
        Fault::Trickle,
        Fault::LineEnding(LineEnding::Crlf),
        Fault::LineEnding(LineEnding::Cr),
        Fault::KeepAlivesFirst(50),
    ] {
        let server = ReferenceServer::start().await;
        stream_through(&server, &client(&server), fault.clone(), 4).await;
        assert_eq!(
            server.requests("GET", "/runs/*/stream"),
            0,
            "{fault:?}: no rejoin"
        );
    }
}

#[tokio::test]
async fn a_malformed_event_is_a_decode_error_and_the_stream_continues() {
    let server = ReferenceServer::start().await;
    server.inject(Target::Stream, Fault::MalformedEvent(2), 1);
    let mut stream = create_stream(&client(&server), 4, 0).await;
    let mut items = read_all(&mut stream).await;
    assert_eq!(items.len(), 6);
    let bad = items.remove(2);
    match bad.item {
        Err(Error::Decode { excerpt, .. }) => {
            assert!(excerpt.contains("this is not json"), "{excerpt}")
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(
        bad.last_event_id.as_deref(),
        Some("2"),
        "the bogus event has no id"
    );
    assert_stream_run(&events(items), 4, 0, Dialect::Spec);
}

#[tokio::test]
async fn an_oversized_event_ends_the_stream_with_an_error() {
    let server = ReferenceServer::start().await;
    server.inject(Target::Stream, Fault::OversizedEvent(4096), 1);
    let c = AcpClient::builder(server.url())
        .max_event_size(1024)
        .build()
        .expect("client");
    let mut stream = create_stream(&c, 3, 0).await;
    let items = read_all(&mut stream).await;
    assert_eq!(items.len(), 1);
    match &items[0].item {
        Err(Error::Stream {
            cause: cause @ acp_client_ext::StreamCause::EventTooLarge { .. },
            ..
        }) => {
            assert!(
                cause.to_string().contains("larger than 1024 bytes"),
                "{cause}"
            )
        }
        other => panic!("expected a stream error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_503_on_join_is_retried() {
    let server = ReferenceServer::start().await;
    join_through(&server, Fault::Status(503), 2, 2, 0).await;
    assert_eq!(server.requests("GET", "/runs/*/stream"), 3);
}

#[tokio::test]
async fn refused_stream_starts_are_api_errors_before_any_event() {
    let server = ReferenceServer::start().await;
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
        .stream(stateful(json!({"agent_id": agents::STREAM})))
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
    let server = ReferenceServer::start().await;
    stream_through(&server, &client(&server), Fault::EndAfterEvents(2), 5).await;
    assert_eq!(server.requests("GET", "/runs/*"), 1, "the run was checked");
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1, "then rejoined");
}

#[tokio::test]
async fn a_clean_end_of_a_pending_run_is_rejoined() {
    let server = ReferenceServer::start().await;
    // A slow run whose first segment ends early: still pending when checked.
    join_through(&server, Fault::EndAfterEvents(1), 1, 3, 30).await;
    assert_eq!(server.requests("GET", "/runs/*/stream"), 2);
    assert_eq!(server.requests("GET", "/runs/*"), 1);
}

#[tokio::test]
async fn cancel_on_drop_leaves_a_finished_run_alone() {
    let server = ReferenceServer::start().await;
    let mut stream = create_stream(&client(&server), 2, 0)
        .await
        .cancel_on_drop(true);
    let evs = events(read_all(&mut stream).await);
    assert_eq!(evs.len(), 3);
    drop(stream);
    // A cancel would be sent by a spawned task: make sure that task, if any, ran.
    let run = create_run(&client(&server), 0, 0).await;
    finished(&server, run.run_id()).await;
    assert_eq!(server.requests("POST", "/runs/*/cancel"), 0);
}
