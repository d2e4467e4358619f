//! The fault matrix of `acp-client-ext` against the reference server on 127.0.0.1: one test per
//! row of `docs/RELIABILITY.md`, each asserting what the user sees and, for streams, that every
//! event of the run's log on the server was delivered exactly once (event ids and the `i` of the
//! `stream` agent's updates). Then the inputs refused before any request that `ext_client.rs`
//! does not cover, and secrets in panic messages.
//!
//! No sleeps: synchronisation goes through the stream itself and `ReferenceServer::wait_for`; every
//! loop is bounded and every read has a deadline.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use acp_client_ext::types::{self, ThreadCreate};
use acp_client_ext::{
    AcpClient, Error, RetryPolicy, RunScope, RunStatus, RunStream, StreamCause, TimeoutKind,
};
use acp_reference_server::{
    Fault, LineEnding, ReferenceServer, ServerConfig, ServerEvent, Target, WaitRoute, agents,
};
use futures::StreamExt;
use serde_json::json;
use support::ledger::{Seen, log_len};
use support::{
    T, client, create_run, create_stream, early_wait_server, fast_retries, invalid_field,
    stateless, stream_body, wait_route_server,
};
use uuid::Uuid;

/// Create-and-stream a run of `count` updates with `fault` on its first SSE response, read it to
/// the end, and check that the user saw no error and every event exactly once.
async fn stream_through(server: &ReferenceServer, c: &AcpClient, fault: Fault, count: u64) -> Seen {
    server.inject(Target::Stream, fault.clone(), 1);
    let mut stream = create_stream(c, count, 0).await;
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    assert!(seen.errors.is_empty(), "{fault:?}: {:?}", seen.errors);
    assert_eq!(seen.last_status, Some(RunStatus::Success), "{fault:?}");
    seen.assert_exactly_once(&format!("{fault:?}"), log_len(server, stream.run_id()));
    seen
}

// ----- connection faults ---------------------------------------------------------------------

#[tokio::test]
async fn connection_dropped_after_n_events() {
    let server = ReferenceServer::start().await;
    stream_through(&server, &client(&server), Fault::DropAfterEvents(5), 12).await;
    assert_eq!(
        server.requests("POST", "/runs/stream"),
        1,
        "create not replayed"
    );
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1, "one rejoin");
}

#[tokio::test]
async fn drop_at_every_n_from_0_to_20() {
    const COUNT: u64 = 20; // 21 events: 20 updates and the final one
    for n in 0..=20usize {
        let server = ReferenceServer::start().await;
        let c = client(&server);

        // Joining a run (its id is known): every N resumes.
        let run = create_run(&c, COUNT, 0).await;
        server.inject(Target::Join, Fault::DropAfterEvents(n), 1);
        let mut stream = run.stream().await.expect("join");
        let mut seen = Seen::default();
        seen.read_to_end(&mut stream).await;
        assert!(seen.errors.is_empty(), "join, N={n}: {:?}", seen.errors);
        seen.assert_exactly_once(
            &format!("join dropped after {n}"),
            log_len(&server, Some(run.run_id())),
        );
        assert_eq!(server.requests("GET", "/runs/*/stream"), 2, "N={n}");

        // Create-and-stream: the run id comes with the first event, so N=0 cannot be resumed.
        server.inject(Target::Stream, Fault::DropAfterEvents(n), 1);
        let mut stream = create_stream(&c, COUNT, 0).await;
        let mut seen = Seen::default();
        seen.read_to_end(&mut stream).await;
        if n == 0 {
            assert!(seen.ids.is_empty());
            assert_eq!(seen.others, 0, "N=0: only the error");
            match seen.errors.as_slice() {
                [
                    Error::Stream {
                        cause: cause @ StreamCause::RunIdUnknown { .. },
                        ..
                    },
                ] => {
                    assert!(cause.to_string().contains("cannot be rejoined"), "{cause}")
                }
                other => panic!("N=0: expected one stream error, got {other:?}"),
            }
            assert_eq!(server.requests("GET", "/runs/*/stream"), 2, "no rejoin");
        } else {
            assert!(seen.errors.is_empty(), "create, N={n}: {:?}", seen.errors);
            seen.assert_exactly_once(
                &format!("create-and-stream dropped after {n}"),
                log_len(&server, stream.run_id()),
            );
            assert_eq!(server.requests("GET", "/runs/*/stream"), 3, "N={n}");
        }
        assert_eq!(server.requests("POST", "/runs/stream"), 1, "N={n}");
    }
}

/// A client that waits long enough between reconnects for a restart to complete.
fn patient_client(server: &ReferenceServer, reconnects: u32) -> AcpClient {
    AcpClient::builder(server.url())
        .retry(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
        })
        .stream_reconnects(reconnects)
        .build()
        .expect("client")
}

#[tokio::test]
async fn server_restarted_mid_stream() {
    let mut server = ReferenceServer::start().await;
    let c = patient_client(&server, 5);
    // A run of about a second, read by another task while the server restarts.
    let mut stream = create_stream(&c, 200, 5).await;
    let (three, got_three) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(async move {
        let mut seen = Seen::default();
        seen.read_n(&mut stream, 3).await;
        let _ = three.send(());
        seen.read_to_end(&mut stream).await;
        (seen, stream.run_id())
    });
    tokio::time::timeout(T, got_three)
        .await
        .expect("three events")
        .expect("reader alive");
    server.restart().await;
    let (seen, run_id) = reader.await.expect("reader");
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert_eq!(seen.last_status, Some(RunStatus::Success));
    seen.assert_exactly_once("server restarted", log_len(&server, run_id));
    let joins = server.requests("GET", "/runs/*/stream");
    assert!(
        (1..=5).contains(&joins),
        "rejoined, within the bound: {joins}"
    );
    assert_eq!(server.requests("POST", "/runs/stream"), 1);
}

#[tokio::test]
async fn server_stays_down_after_the_drop() {
    let mut server = ReferenceServer::start().await;
    let c = patient_client(&server, 3);
    let mut stream = create_stream(&c, 200, 5).await;
    let mut seen = Seen::default();
    seen.read_n(&mut stream, 3).await;
    let run_id = stream.run_id().expect("run id");
    server.stop_listening().await;
    seen.read_to_end(&mut stream).await; // bounded by T: no hang
    match seen.errors.as_slice() {
        [
            Error::Stream {
                cause: cause @ StreamCause::ReconnectsExhausted { .. },
                ..
            },
        ] => {
            assert!(
                cause.to_string().contains("rejoining failed 3 times"),
                "{cause}"
            )
        }
        other => panic!("expected one stream error, got {other:?}"),
    }
    assert!(seen.ids.len() >= 3);
    assert_eq!(
        server.requests("GET", "/runs/*/stream"),
        0,
        "nothing got through"
    );

    // Nothing is lost: once the server is back, the run resumes after the last delivered id.
    server.resume_listening().await;
    let last = seen.last_id().expect("an id").to_string();
    let mut rest = c
        .run(RunScope::Stateless, run_id)
        .expect("handle")
        .stream_from(last)
        .await
        .expect("resume");
    seen.errors.clear();
    seen.read_to_end(&mut rest).await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    seen.assert_exactly_once("server down, then resumed", log_len(&server, Some(run_id)));
}

#[tokio::test]
async fn stall_beyond_the_idle_timeout() {
    let server = ReferenceServer::start().await;
    let c = AcpClient::builder(server.url())
        .retry(fast_retries())
        .idle_timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let seen = stream_through(&server, &c, Fault::StallAfterEvents(3), 8).await;
    assert_eq!(seen.ids.len(), 9);
    assert!(server.requests("GET", "/runs/*/stream") >= 1, "rejoined");
    let closed = server
        .wait_for(
            |e| {
                matches!(
                    e,
                    ServerEvent::StreamClosed {
                        client_gone: true,
                        ..
                    }
                )
            },
            T,
        )
        .await;
    assert!(closed.is_some(), "the client closed the stalled connection");
}

#[tokio::test]
async fn stall_forever_is_a_timeout_not_a_hang() {
    let server = ReferenceServer::start().await;
    server.inject(Target::Stream, Fault::StallAfterEvents(2), 1);
    server.inject(Target::Join, Fault::StallAfterEvents(0), 10);
    let c = AcpClient::builder(server.url())
        .retry(fast_retries())
        .idle_timeout(Duration::from_millis(200))
        .stream_reconnects(2)
        .build()
        .expect("client");
    let mut stream = create_stream(&c, 6, 0).await;
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    assert_eq!(seen.ids, [1, 2], "what arrived, once");
    assert_eq!(seen.others, 0);
    assert!(
        matches!(seen.errors.as_slice(), [Error::Timeout { after, .. }] if *after == Duration::from_millis(200)),
        "{:?}",
        seen.errors
    );
    assert_eq!(server.requests("GET", "/runs/*/stream"), 2, "bounded");
}

// ----- framing faults ------------------------------------------------------------------------

#[tokio::test]
async fn one_byte_per_write() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    stream_through(&server, &c, Fault::Trickle, 4).await;
    // A CRLF split across two writes, and lone CRs.
    for le in [LineEnding::Crlf, LineEnding::Cr] {
        server.inject(Target::Stream, Fault::LineEnding(le), 1);
        stream_through(&server, &c, Fault::Trickle, 4).await;
    }
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}

#[tokio::test]
async fn cr_lf_and_crlf_line_endings() {
    for le in [LineEnding::Cr, LineEnding::Lf, LineEnding::Crlf] {
        let server = ReferenceServer::start().await;
        stream_through(&server, &client(&server), Fault::LineEnding(le), 6).await;
        assert_eq!(
            server.requests("GET", "/runs/*/stream"),
            0,
            "{le:?}: no rejoin"
        );
    }
}

#[tokio::test]
async fn keep_alive_comments_only_for_a_while() {
    // A thousand comments before the first event.
    let server = ReferenceServer::start().await;
    stream_through(&server, &client(&server), Fault::KeepAlivesFirst(1000), 4).await;

    // Two seconds of nothing but keep-alives (a run that starts late), twice the idle timeout:
    // the bytes keep the stream alive, no rejoin.
    let server = ReferenceServer::start_with(ServerConfig {
        keepalive_interval: Duration::from_millis(20),
        ..ServerConfig::default()
    })
    .await;
    let c = AcpClient::builder(server.url())
        .idle_timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let body = stateless(json!({
        "agent_id": agents::STREAM,
        "input": {"count": 3},
        "after_seconds": 2,
        "on_disconnect": "continue",
    }));
    let mut stream = c.stateless_runs().stream(body).await.expect("stream");
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    seen.assert_exactly_once("late run", log_len(&server, stream.run_id()));
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
    assert_eq!(server.requests("GET", "/runs/*"), 0, "no check");
}

#[tokio::test]
async fn malformed_json_event() {
    let server = ReferenceServer::start().await;
    server.inject(Target::Stream, Fault::MalformedEvent(2), 1);
    let mut stream = create_stream(&client(&server), 5, 0).await;
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    match seen.errors.as_slice() {
        [Error::Decode { excerpt, .. }] => assert!(excerpt.contains("this is not json")),
        other => panic!("expected one decode error, got {other:?}"),
    }
    assert_eq!(seen.last_status, Some(RunStatus::Success), "went on");
    seen.assert_exactly_once("malformed event", log_len(&server, stream.run_id()));
}

#[tokio::test]
async fn oversized_event() {
    let server = ReferenceServer::start().await;
    let c = AcpClient::builder(server.url())
        .max_event_size(1024)
        .build()
        .expect("client");
    let run = create_run(&c, 5, 0).await;
    server.inject(Target::Join, Fault::OversizedEvent(4096), 1);
    let mut stream = run.stream().await.expect("join");
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    match seen.errors.as_slice() {
        [
            Error::Stream {
                cause: cause @ StreamCause::EventTooLarge { .. },
                ..
            },
        ] => {
            assert_eq!(cause.to_string(), "event larger than 1024 bytes")
        }
        other => panic!("expected one stream error, got {other:?}"),
    }
    assert!(
        seen.ids.is_empty(),
        "the stream ended at the oversized event"
    );

    // Joining again delivers the run, once.
    let mut seen = Seen::default();
    seen.read_to_end(&mut run.stream().await.expect("join"))
        .await;
    assert!(seen.errors.is_empty());
    seen.assert_exactly_once(
        "after an oversized event",
        log_len(&server, Some(run.run_id())),
    );

    // Under the limit (the default 16 MiB) a large event is just delivered.
    let server = ReferenceServer::start().await;
    let seen = stream_through(&server, &client(&server), Fault::OversizedEvent(1 << 20), 3).await;
    assert_eq!(seen.others, 1, "the large event, as RunEvent::Other");
}

#[tokio::test]
async fn wrong_content_type() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    server.inject(Target::Stream, Fault::WrongContentType, 1);
    let err = c
        .stateless_runs()
        .stream(stream_body(3, 0))
        .await
        .expect_err("not an event stream");
    assert!(
        matches!(&err, Error::Stream { cause: c @ StreamCause::WrongContentType { .. }, .. } if c.to_string().contains("text/event-stream") && c.to_string().contains("application/json")),
        "{err:?}"
    );
    assert_eq!(server.requests("POST", "/runs/stream"), 1, "not retried");

    let run = create_run(&c, 3, 0).await;
    server.inject(Target::Join, Fault::WrongContentType, 1);
    let err = run.stream().await.expect_err("not an event stream");
    assert!(
        matches!(
            err,
            Error::Stream {
                cause: StreamCause::WrongContentType { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let mut seen = Seen::default();
    seen.read_to_end(&mut run.stream().await.expect("join"))
        .await;
    seen.assert_exactly_once(
        "after a wrong content type",
        log_len(&server, Some(run.run_id())),
    );
}

// ----- statuses ------------------------------------------------------------------------------

#[tokio::test]
async fn status_503_on_get_is_retried() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let run = create_run(&c, 4, 0).await;
    server.inject(Target::Get, Fault::Status(503), 2);
    assert_eq!(run.get().await.expect("third try").run_id, run.run_id());
    assert_eq!(server.requests("GET", "/runs/*"), 3);

    server.inject(Target::Join, Fault::Status(503), 2);
    let mut seen = Seen::default();
    seen.read_to_end(&mut run.stream().await.expect("join"))
        .await;
    seen.assert_exactly_once("join after two 503s", log_len(&server, Some(run.run_id())));
    assert_eq!(server.requests("GET", "/runs/*/stream"), 3);

    // Mid-stream: a drop, then two 503s on the rejoin.
    server.inject(Target::Join, Fault::Status(503), 2);
    stream_through(&server, &c, Fault::DropAfterEvents(2), 4).await;
    assert_eq!(server.requests("GET", "/runs/*/stream"), 6);
}

#[tokio::test]
async fn status_500_on_get_is_not_retried() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let run = create_run(&c, 4, 0).await;
    server.inject(Target::Get, Fault::Status(500), 1);
    let err = run.get().await.expect_err("500");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(!err.is_retryable());
    assert_eq!(server.requests("GET", "/runs/*"), 1, "sent once");

    server.inject(Target::Join, Fault::Status(500), 1);
    let err = run.stream().await.expect_err("500");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1, "sent once");

    // Mid-stream: a drop, then a 500 on the rejoin ends the stream with that error; resuming
    // from the last delivered id loses nothing.
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);
    server.inject(Target::Join, Fault::Status(500), 1);
    let mut stream = create_stream(&c, 6, 0).await;
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    assert_eq!(seen.ids, [1, 2]);
    match seen.errors.as_slice() {
        [Error::Api { status, .. }] => assert_eq!(status.as_u16(), 500),
        other => panic!("expected the 500, got {other:?}"),
    }
    let run_id = stream.run_id().expect("run id");
    let mut rest = c
        .run(RunScope::Stateless, run_id)
        .expect("handle")
        .stream_from("2")
        .await
        .expect("resume");
    seen.errors.clear();
    seen.read_to_end(&mut rest).await;
    assert!(seen.errors.is_empty());
    seen.assert_exactly_once(
        "500 on the rejoin, then resumed",
        log_len(&server, Some(run_id)),
    );
}

#[tokio::test]
async fn status_500_and_503_on_create_are_not_retried() {
    for status in [500u16, 503] {
        let server = ReferenceServer::start().await;
        let c = client(&server);
        server.inject(Target::CreateRun, Fault::Status(status), 1);
        let err = c
            .stateless_runs()
            .create(stream_body(1, 0))
            .await
            .expect_err("refused");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.requests("POST", "/runs"), 1, "{status}: sent once");

        server.inject(Target::CreateRun, Fault::Status(status), 1);
        let err = c
            .stateless_runs()
            .stream(stream_body(1, 0))
            .await
            .expect_err("refused");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(
            server.requests("POST", "/runs/stream"),
            1,
            "{status}: sent once"
        );

        server.inject(Target::CreateRun, Fault::Status(status), 1);
        let err = c
            .stateless_runs()
            .wait(stream_body(1, 0), T)
            .await
            .expect_err("refused");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(
            server.requests("POST", "/runs/wait"),
            1,
            "{status}: sent once"
        );
    }
}

// ----- waits ---------------------------------------------------------------------------------

#[tokio::test]
async fn wait_answered_204_until_the_deadline() {
    let server = early_wait_server(Duration::from_millis(20), true).await;
    let c = client(&server);
    let body = stateless(json!({"agent_id": agents::SLOW}));
    let run = c.stateless_runs().create(body).await.expect("create");
    let deadline = Duration::from_millis(400);
    let err = run.wait(deadline).await.expect_err("never settles");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == deadline),
        "{err:?}"
    );
    assert!(server.requests("GET", "/runs/*/wait") >= 2, "asked again");
    assert_eq!(
        server.run_status(run.run_id()).await.as_deref(),
        Some("pending")
    );
}

#[tokio::test]
async fn wait_route_missing() {
    let server = wait_route_server(WaitRoute::Missing404).await;
    let c = client(&server);
    let run = create_run(&c, 3, 10).await;
    let outcome = run.wait(T).await.expect("polled to the end");
    assert_eq!(outcome.status(), &RunStatus::Success);
    assert_eq!(server.requests("GET", "/runs/*/wait"), 1, "tried once");
    assert!(
        server.requests("GET", "/runs/*") >= 2,
        "checked, then polled"
    );
}

// ----- the user stops --------------------------------------------------------------------------

/// A long run, its stream, and the first three events read.
async fn long_stream(c: &AcpClient) -> (RunStream, Seen, Uuid) {
    let mut stream = create_stream(c, 100_000, 20).await;
    let mut seen = Seen::default();
    seen.read_n(&mut stream, 3).await;
    assert_eq!(seen.ids.len(), 3, "three values events: {:?}", seen.errors);
    let run_id = stream.run_id().expect("run id");
    (stream, seen, run_id)
}

#[tokio::test]
async fn cancel_while_streaming() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let (mut stream, mut seen, run_id) = long_stream(&c).await;
    c.run(RunScope::Stateless, run_id)
        .expect("handle")
        .interrupt()
        .await
        .expect("cancel");
    seen.read_to_end(&mut stream).await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert_eq!(seen.last_status, Some(RunStatus::Interrupted));
    assert_eq!(stream.last_status(), Some(&RunStatus::Interrupted));
    seen.assert_exactly_once("cancelled mid-stream", log_len(&server, Some(run_id)));
}

#[tokio::test]
async fn client_drops_the_stream() {
    let server = ReferenceServer::start().await;
    let (stream, _, run_id) = long_stream(&client(&server)).await;
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
async fn client_drops_the_stream_with_cancel_on_drop() {
    let server = ReferenceServer::start().await;
    let (stream, _, run_id) = long_stream(&client(&server)).await;
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
    assert!(closed.is_some(), "the server saw the disconnect");
    assert_eq!(server.requests("POST", "/runs/*/cancel"), 1);
}

// ----- load ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_runs() {
    const RUNS: usize = 1000;
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let results: Vec<(Seen, Option<Uuid>)> = futures::stream::iter(0..RUNS)
        .map(|_| {
            let c = c.clone();
            async move {
                let mut stream = create_stream(&c, 5, 0).await;
                let mut seen = Seen::default();
                seen.read_to_end(&mut stream).await;
                (seen, stream.run_id())
            }
        })
        .buffer_unordered(100)
        .collect()
        .await;
    assert_eq!(results.len(), RUNS);
    let mut events = 0;
    let mut runs = std::collections::HashSet::new();
    for (seen, run_id) in &results {
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
        let len = server
            .run_event_count(run_id.expect("run id"))
            .expect("run");
        assert_eq!(len, 6);
        assert_eq!(seen.ids, [1, 2, 3, 4, 5, 6], "every event exactly once");
        assert_eq!(seen.is, [0, 1, 2, 3, 4]);
        events += seen.ids.len();
        runs.insert(run_id.expect("run id"));
    }
    assert_eq!(runs.len(), RUNS, "distinct runs");
    println!("ledger 1000 concurrent runs: events={events} lost=0 duplicated=0 unknown=0");
    assert_eq!(server.requests("POST", "/runs/stream"), RUNS);
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}

// ----- bad input (the rest is in ext_client.rs) -----------------------------------------------

/// Whether the server received any request at all (its event history is bounded but far larger
/// than what these tests send).
async fn any_request(server: &ReferenceServer) -> bool {
    server
        .wait_for(|e| matches!(e, ServerEvent::Request { .. }), Duration::ZERO)
        .await
        .is_some()
}

#[tokio::test]
async fn bad_limits_and_bodies_are_refused_before_any_request() {
    let server = ReferenceServer::start().await;
    let url = server.url();
    let c = client(&server);

    assert_eq!(
        invalid_field(AcpClient::builder(&url).max_event_size(0).build()),
        "max_event_size"
    );
    assert_eq!(
        invalid_field(AcpClient::builder(&url).bearer_token("").build()),
        "bearer_token"
    );
    assert_eq!(
        invalid_field(AcpClient::builder(&url).bearer_token("a\r\nb").build()),
        "bearer_token"
    );
    assert_eq!(
        invalid_field(AcpClient::builder(&url).api_key("k\n").build()),
        "api_key"
    );
    for value in ["a\u{0}b", "a\u{7f}b"] {
        assert_eq!(
            invalid_field(AcpClient::builder(&url).header("x-ok", value).build()),
            "header value",
            "{value:?}"
        );
    }

    let runs = c.thread_runs(Uuid::new_v4()).expect("handle");
    assert_eq!(invalid_field(runs.list(Some(0), None).await), "limit");

    // A generated builder with a bad field is refused for every way to create a run.
    let bad = || types::builder::RunCreateStateless::default().multitask_strategy("sometimes");
    assert_eq!(
        invalid_field(c.stateless_runs().create(bad()).await),
        "run create body"
    );
    assert_eq!(
        invalid_field(c.stateless_runs().stream(bad()).await),
        "run create body"
    );
    assert_eq!(
        invalid_field(c.stateless_runs().wait(bad(), T).await),
        "run create body"
    );
    let bad_stateful = || types::builder::RunCreateStateful::default().on_disconnect("later");
    assert_eq!(
        invalid_field(runs.create(bad_stateful()).await),
        "run create body"
    );
    assert_eq!(
        invalid_field(runs.stream(bad_stateful()).await),
        "run create body"
    );
    let bad_thread = types::builder::ThreadCreate::default().if_exists("maybe");
    assert_eq!(
        invalid_field(c.create_thread(bad_thread).await),
        "thread create body"
    );

    assert_eq!(server.requests("GET", "/threads/*/runs"), 0);
    assert_eq!(server.requests("POST", "/runs"), 0);
    assert_eq!(server.requests("POST", "/runs/stream"), 0);
    assert_eq!(server.requests("POST", "/runs/wait"), 0);
    assert_eq!(server.requests("POST", "/threads"), 0);
    assert!(!any_request(&server).await, "nothing reached the server");
    // The check does see requests.
    c.create_thread(ThreadCreate::default())
        .await
        .expect("thread");
    assert!(any_request(&server).await);
}

#[tokio::test]
async fn zero_stream_reconnects_make_a_drop_an_error() {
    let server = ReferenceServer::start().await;
    let c = AcpClient::builder(server.url())
        .retry(fast_retries())
        .stream_reconnects(0)
        .build()
        .expect("zero is allowed");
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);
    let mut stream = create_stream(&c, 5, 0).await;
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    assert_eq!(seen.ids, [1, 2]);
    match seen.errors.as_slice() {
        [
            Error::Stream {
                cause: cause @ StreamCause::ReconnectsExhausted { .. },
                ..
            },
        ] => {
            assert!(
                cause.to_string().contains("gave up after 0 reconnects"),
                "{cause}"
            )
        }
        other => panic!("expected one stream error, got {other:?}"),
    }
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}

/// A zero deadline is an immediate timeout that sends nothing. It used to send a request now and
/// then (CI: "nothing sent: left 1, right 0"): `tokio::time::timeout` polls the wait before its
/// timer, and a zero timer is only seen elapsed at the timer's next tick, while the wait connects
/// and sends. 50 rounds of a wait on a fresh client (the connect is what raced), a wait on a
/// client with a pooled connection, and a create-and-wait (which would create a run).
#[tokio::test]
async fn a_zero_wait_deadline_is_an_immediate_timeout() {
    let server = ReferenceServer::start().await;
    let run_id = create_run(&client(&server), 1, 0).await.run_id();
    let warm = client(&server);
    warm.run(RunScope::Stateless, run_id)
        .expect("handle")
        .get()
        .await
        .expect("a pooled connection");
    let zero_deadline = |e: &Error| matches!(e, Error::Timeout { kind: TimeoutKind::WaitDeadline, after, .. } if after.is_zero());
    for round in 0..50 {
        for c in [client(&server), warm.clone()] {
            let run = c.run(RunScope::Stateless, run_id).expect("handle");
            let err = run.wait(Duration::ZERO).await.expect_err("no time at all");
            assert!(zero_deadline(&err), "round {round}: {err:?}");
        }
        let err = client(&server)
            .stateless_runs()
            .wait(stream_body(1, 0), Duration::ZERO)
            .await
            .expect_err("no time at all");
        assert!(zero_deadline(&err), "round {round}: {err:?}");
    }
    assert_eq!(server.requests("GET", "/runs/*/wait"), 0, "nothing sent");
    assert_eq!(server.requests("POST", "/runs/wait"), 0, "no run created");
}

#[tokio::test]
async fn an_event_id_that_cannot_be_a_header_is_refused_before_any_request() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let run = create_run(&c, 3, 0).await;
    for bad in ["2\u{1}", "2\n3", "2\r", "\u{0}"] {
        match run.stream_from(bad).await {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "last_event_id"),
            Err(other) => panic!("{bad:?}: expected InvalidInput, got {other}"),
            Ok(_) => panic!("{bad:?}: a join was opened"),
        }
    }
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0);
}

// ----- secrets and TLS -----------------------------------------------------------------------

const API_KEY: &str = "sk-PANICSECRET-91c2";
const BEARER: &str = "tok-PANICHUSH-5d1e";

thread_local! {
    /// Set while [`panic_message`] runs a closure expected to panic.
    static EXPECTED_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The message of the panic of `f`. Its report is kept off stderr; any other panic is reported
/// by the default hook as usual.
fn panic_message(f: impl FnOnce()) -> String {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTED_PANIC.with(|e| e.get()) {
                default_hook(info);
            }
        }));
    });
    EXPECTED_PANIC.with(|e| e.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    EXPECTED_PANIC.with(|e| e.set(false));
    let payload = result.expect_err("it panics");
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("a panic payload that is not a string")
    }
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(API_KEY), "{what} shows the API key: {text}");
    assert!(
        !text.contains(BEARER),
        "{what} shows the bearer token: {text}"
    );
    assert!(
        !text.contains("PANIC"),
        "{what} shows part of a secret: {text}"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_panic_messages() {
    let server = ReferenceServer::start().await;
    let secret = |url: String| {
        AcpClient::builder(url)
            .api_key(API_KEY)
            .bearer_token(BEARER)
            .retry(RetryPolicy::none())
    };
    let c = secret(server.url()).build().expect("client");

    // An API error (404) of an authenticated request, unwrapped and expected.
    let result = c.get_thread(Uuid::new_v4()).await;
    let msg = panic_message(|| drop(result.unwrap()));
    assert!(msg.contains("404"), "the panic is about the error: {msg}");
    assert_no_secret("unwrap of an Api error", &msg);
    let result = c.get_thread(Uuid::new_v4()).await;
    assert_no_secret(
        "expect of an Api error",
        &panic_message(|| drop(result.expect("get thread"))),
    );

    // A stream refused by the server, and a stream error.
    let missing = c.run(RunScope::Stateless, Uuid::new_v4()).expect("handle");
    let result = missing.stream().await;
    assert_no_secret(
        "unwrap of a refused stream",
        &panic_message(|| drop(result.unwrap())),
    );
    server.inject(Target::Stream, Fault::DropAfterEvents(0), 1);
    let mut stream = create_stream(&c, 2, 0).await;
    let item = tokio::time::timeout(T, stream.next())
        .await
        .expect("an item")
        .expect("an error item");
    assert_no_secret(
        "unwrap of a stream error",
        &panic_message(|| drop(item.unwrap())),
    );

    // A transport error: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let result = secret(format!("http://{closed}"))
        .build()
        .expect("client")
        .search_agents()
        .await;
    let msg = panic_message(|| drop(result.unwrap()));
    assert!(msg.contains("Transport"), "{msg}");
    assert_no_secret("unwrap of a transport error", &msg);

    // A credential refused at build time, and the client itself in a panic.
    let result = AcpClient::builder(server.url())
        .api_key(format!("{API_KEY}\n"))
        .bearer_token(BEARER)
        .build();
    assert_no_secret(
        "unwrap of a refused credential",
        &panic_message(|| drop(result.unwrap())),
    );
    assert_no_secret(
        "a panic formatting the client",
        &panic_message(|| panic!("unexpected state of {c:?} / {c:#?}")),
    );
}

#[test]
fn tls_validation_is_on_by_default() {
    let on = format!("{:?}", AcpClient::builder("https://127.0.0.1:1"));
    assert!(on.contains("danger_accept_invalid_certs: false"), "{on}");
    let off = format!(
        "{:?}",
        AcpClient::builder("https://127.0.0.1:1").danger_accept_invalid_certs(true)
    );
    assert!(off.contains("danger_accept_invalid_certs: true"), "{off}");
    AcpClient::builder("https://127.0.0.1:1")
        .danger_accept_invalid_certs(true)
        .build()
        .expect("an explicit opt-out builds");
}
