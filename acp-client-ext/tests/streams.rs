//! Run streams (`create_and_stream_*`, `stream_*`, `RunStream`), everything about them in one
//! place: typed events and the routes a stream takes, what happens when a stream drops, stalls,
//! ends early or carries bad framing, what the user's own stop does, and what real servers send
//! byte for byte.
//!
//! Against the reference server on 127.0.0.1 (faults injected with `ReferenceServer::inject`,
//! several tests in both dialects); the rows of `docs/RELIABILITY.md` about streams read each run
//! with the exactly-once ledger (`support::ledger`). The last section drives small scripted
//! loopback peers that answer as agntcy's Agent Workflow Server does (ids numbered per
//! connection, `Last-Event-ID` ignored, a keep-alive `:` without a line end, error events followed
//! by keep-alives for ever, no final event) and the politer servers they must be told apart from
//! (a server that replays a run's events); each peer records every request (route and
//! `Last-Event-ID`), so the tests check what was sent as well as what the user saw.
//!
//! Elsewhere: what a stream hands over when it ends (events after a settled status, the
//! interrupt of a stream ended `interrupted`, `final_values`: `stream_outcomes.rs`), drops at
//! every N and a thousand concurrent streams (`exactly_once.rs`), an SSE `retry:` hint
//! (`retries.rs`), `stream_from` with an id that cannot be a header (`bad_input.rs`).
//!
//! No sleeps: synchronisation goes through the stream itself, `ReferenceServer::wait_for` and the
//! peers' signals; every loop is bounded and every read has a deadline.

mod support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acp_client_ext::event::TypedEvent;
use acp_client_ext::types::RunCreateStateless;
use acp_client_ext::{
    AcpClient, Error, RetryPolicy, RunEvent, RunScope, RunStatus, RunStream, StreamCause,
};
use acp_reference_server::{
    Dialect, Fault, LineEnding, ReferenceServer, ServerConfig, ServerEvent, Target, agents,
};
use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use support::ledger::{self, Seen, log_len};
use support::{
    Got, T, client, create_run, create_stream, fast_retries, in_progress, read_all, read_n, server,
    stateful, stateless, stream_body,
};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

/// A client with the default settings (retries included).
/// The free-form `values` of an update as JSON: its Rust type is the spec's output schema, a map
/// in ACP 0.2.1 and an enum over JSON kinds from 0.2.3, so tests read it through serde.
fn values(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("values serialize")
}

/// A client with the default settings (retries included).
fn default_client(server: &ReferenceServer) -> AcpClient {
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
    let run = create_run(&default_client(server), count, delay_ms).await;
    server.inject(Target::Join, fault, times);
    let mut stream = run.stream().await.expect("join");
    assert_stream_run(
        &events(read_all(&mut stream).await),
        count,
        0,
        server.dialect(),
    );
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

/// A long run, its stream, and the first three events read.
async fn long_stream(c: &AcpClient) -> (RunStream, Seen, Uuid) {
    let mut stream = create_stream(c, 100_000, 20).await;
    let mut seen = Seen::default();
    seen.read_n(&mut stream, 3).await;
    assert_eq!(seen.ids.len(), 3, "three values events: {:?}", seen.errors);
    let run_id = stream.run_id().expect("run id");
    (stream, seen, run_id)
}

// ----- typed events and routes ----------------------------------------------------------------

async fn values_run_on_a_thread_gives_typed_events_and_final_status(dialect: Dialect) {
    let server = server(dialect).await;
    let thread = Uuid::new_v4();
    let runs = default_client(&server)
        .thread_runs(thread)
        .expect("thread runs");
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
    let mut stream = default_client(&server)
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
    let mut stream = create_stream(&default_client(&server), 3, 0).await;
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
    let c = default_client(&server);
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

#[tokio::test]
async fn refused_stream_starts_are_api_errors_before_any_event() {
    let server = ReferenceServer::start().await;
    let c = default_client(&server);
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
async fn resume_stream_goes_on_from_the_last_event_without_replay() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let agent = c.agent("interrupt").await.expect("agent");
    let mut events = agent
        .stream(&json!({"interrupts": 2}))
        .await
        .expect("stream");
    let mut rounds = Vec::new();
    for answer in 1..=3 {
        let mut got = Vec::new();
        while let Some(event) = events.try_next().await.expect("event") {
            got.push(event);
        }
        let last = got.last().expect("each round has events");
        rounds.push((got.len(), last.status()));
        if answer == 3 {
            break;
        }
        events = events
            .resume_stream(json!({"answer": answer}))
            .await
            .expect("resume and stream");
    }
    // Each round delivers only its own events: the ones of earlier rounds are not replayed.
    for (n, (len, status)) in rounds.iter().enumerate() {
        assert!(*len >= 1, "round {n}: {rounds:?}");
        let want = if n < 2 {
            RunStatus::Interrupted
        } else {
            RunStatus::Success
        };
        assert_eq!(status.as_ref(), Some(&want), "round {n}: {rounds:?}");
    }
    let total: usize = rounds.iter().map(|(l, _)| l).sum();
    let run_id = events.run_id().expect("run id");
    let logged = s.run_event_count(run_id).expect("the run's log");
    assert_eq!(total, logged, "every event once: {rounds:?}");
    assert_eq!(
        s.requests("POST", &format!("/runs/{run_id}")),
        2,
        "two resumes"
    );
}

// ----- drops and rejoins ----------------------------------------------------------------------

async fn a_dropped_connection_is_rejoined_without_loss_or_duplicate(dialect: Dialect) {
    let server = server(dialect).await;
    stream_through(
        &server,
        &default_client(&server),
        Fault::DropAfterEvents(3),
        10,
    )
    .await;
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

#[tokio::test]
async fn connection_dropped_after_n_events() {
    let server = ReferenceServer::start().await;
    ledger::stream_through(&server, &client(&server), Fault::DropAfterEvents(5), 12).await;
    assert_eq!(
        server.requests("POST", "/runs/stream"),
        1,
        "create not replayed"
    );
    assert_eq!(server.requests("GET", "/runs/*/stream"), 1, "one rejoin");
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
    let mut stream = default_client(&server)
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

#[tokio::test]
async fn a_503_on_join_is_retried() {
    let server = ReferenceServer::start().await;
    join_through(&server, Fault::Status(503), 2, 2, 0).await;
    assert_eq!(server.requests("GET", "/runs/*/stream"), 3);
}

#[tokio::test]
async fn a_clean_end_mid_run_is_rejoined() {
    let server = ReferenceServer::start().await;
    stream_through(
        &server,
        &default_client(&server),
        Fault::EndAfterEvents(2),
        5,
    )
    .await;
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

/// A loopback port in front of a reference server that the test opens and closes, for a server
/// restart as a client sees it: while open, every connection is relayed byte for byte to the
/// server; closed, nothing listens on the port and a connection is refused. The client reaches
/// the port through a host name that only [`FrontDoor`]'s resolver knows, so each of the
/// client's connection attempts passes the door first: the first attempt that finds the port
/// closed goes on (and is refused), and the next one opens the port again before it connects.
/// The refused reconnect is certain, not left to timing.
struct FrontDoor {
    port: u16,
    upstream: std::net::SocketAddr,
    state: Mutex<DoorState>,
}

#[derive(Default)]
struct DoorState {
    /// The accept loop while the port is open.
    accept: Option<tokio::task::JoinHandle<()>>,
    /// Every relayed connection.
    relays: Vec<tokio::task::AbortHandle>,
    /// Whether the port was open at each of the client's connection attempts, in order.
    attempts: Vec<bool>,
}

impl FrontDoor {
    /// An open door on a free loopback port in front of `server`.
    fn open(server: &ReferenceServer) -> Arc<FrontDoor> {
        let upstream = server
            .url()
            .trim_start_matches("http://")
            .parse()
            .expect("the server's address");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let door = Arc::new(FrontDoor {
            port: listener.local_addr().expect("addr").port(),
            upstream,
            state: Mutex::default(),
        });
        door.accept_on(listener);
        door
    }

    /// Relays every connection `listener` accepts, until closed.
    fn accept_on(self: &Arc<Self>, listener: std::net::TcpListener) {
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let door = self.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = door.upstream;
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                door.state
                    .lock()
                    .expect("lock")
                    .relays
                    .push(relay.abort_handle());
            }
        });
        self.state.lock().expect("lock").accept = Some(accept);
    }

    /// Closes the port (nothing listens on it once this returns), then cuts every relayed
    /// connection.
    async fn close_and_cut(&self) {
        let accept = self.state.lock().expect("lock").accept.take();
        if let Some(accept) = accept {
            accept.abort();
            let _ = accept.await; // the listener is dropped with the task
        }
        for relay in std::mem::take(&mut self.state.lock().expect("lock").relays) {
            relay.abort();
        }
    }

    /// Whether the port was open at each connection attempt of the client, in order.
    fn attempts(&self) -> Vec<bool> {
        self.state.lock().expect("lock").attempts.clone()
    }

    /// A client of the server behind the door (the retries of [`patient_client`]).
    fn client(self: &Arc<Self>, reconnects: u32) -> AcpClient {
        let http = acp_client_ext::reqwest::Client::builder()
            .redirect(acp_client_ext::reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(DoorResolver(self.clone()))
            .build()
            .expect("http client");
        AcpClient::builder(format!("http://front-door.test:{}", self.port))
            .http_client(http)
            .retry(RetryPolicy {
                max_retries: 3,
                initial_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(200),
            })
            .stream_reconnects(reconnects)
            .build()
            .expect("client")
    }
}

/// Resolves every name to the door's loopback port, seeing each connection attempt first.
struct DoorResolver(Arc<FrontDoor>);

impl acp_client_ext::reqwest::dns::Resolve for DoorResolver {
    fn resolve(
        &self,
        _name: acp_client_ext::reqwest::dns::Name,
    ) -> acp_client_ext::reqwest::dns::Resolving {
        let door = self.0.clone();
        Box::pin(async move {
            let (open, refused_before) = {
                let state = door.state.lock().expect("lock");
                (state.accept.is_some(), state.attempts.contains(&false))
            };
            if !open && refused_before {
                // This attempt comes after a refused one: the server is back.
                door.accept_on(std::net::TcpListener::bind(("127.0.0.1", door.port))?);
            }
            door.state
                .lock()
                .expect("lock")
                .attempts
                .push(open || refused_before);
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], door.port));
            Ok(Box::new(std::iter::once(addr)) as acp_client_ext::reqwest::dns::Addrs)
        })
    }
}

/// The server goes away mid-stream (its port refuses connections) and comes back on the same
/// port: [`FrontDoor`] makes the first rejoin attempt meet the refused port, and the next one
/// find the server again.
#[tokio::test]
async fn server_restarted_mid_stream() {
    let server = ReferenceServer::start().await;
    let door = FrontDoor::open(&server);
    let c = door.client(5);
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
    door.close_and_cut().await;
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
    // The create found the server, one rejoin attempt was refused, the last one got through.
    let attempts = door.attempts();
    assert_eq!(attempts.first(), Some(&true), "{attempts:?}");
    assert_eq!(
        attempts.iter().filter(|open| !**open).count(),
        1,
        "one refused reconnect: {attempts:?}"
    );
    assert_eq!(attempts.last(), Some(&true), "{attempts:?}");
}

/// The stream ended with exactly one error, its rejoin budget spent, saying `says`.
fn assert_reconnects_exhausted(seen: &Seen, says: &str) {
    match seen.errors.as_slice() {
        [
            Error::Stream {
                cause: cause @ StreamCause::ReconnectsExhausted { .. },
                ..
            },
        ] => assert!(cause.to_string().contains(says), "{cause}"),
        other => panic!("expected one stream error, got {other:?}"),
    }
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
    assert_reconnects_exhausted(&seen, "rejoining failed 3 times");
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
    assert_reconnects_exhausted(&seen, "gave up after 0 reconnects");
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}

// ----- stalls and keep-alives -----------------------------------------------------------------

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

#[tokio::test]
async fn stall_beyond_the_idle_timeout() {
    let server = ReferenceServer::start().await;
    let c = AcpClient::builder(server.url())
        .retry(fast_retries())
        .idle_timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let seen = ledger::stream_through(&server, &c, Fault::StallAfterEvents(3), 8).await;
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

#[tokio::test]
async fn keep_alive_comments_only_for_a_while() {
    // A thousand comments before the first event.
    let server = ReferenceServer::start().await;
    ledger::stream_through(&server, &client(&server), Fault::KeepAlivesFirst(1000), 4).await;

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

// ----- framing and bad events -----------------------------------------------------------------

#[tokio::test]
async fn framing_decodes_the_same() {
    for fault in [
        Fault::Trickle,
        Fault::LineEnding(LineEnding::Crlf),
        Fault::LineEnding(LineEnding::Cr),
        Fault::KeepAlivesFirst(50),
    ] {
        let server = ReferenceServer::start().await;
        stream_through(&server, &default_client(&server), fault.clone(), 4).await;
        assert_eq!(
            server.requests("GET", "/runs/*/stream"),
            0,
            "{fault:?}: no rejoin"
        );
    }
}

#[tokio::test]
async fn one_byte_per_write() {
    let server = ReferenceServer::start().await;
    let c = client(&server);
    ledger::stream_through(&server, &c, Fault::Trickle, 4).await;
    // A CRLF split across two writes, and lone CRs.
    for le in [LineEnding::Crlf, LineEnding::Cr] {
        server.inject(Target::Stream, Fault::LineEnding(le), 1);
        ledger::stream_through(&server, &c, Fault::Trickle, 4).await;
    }
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}

#[tokio::test]
async fn cr_lf_and_crlf_line_endings() {
    for le in [LineEnding::Cr, LineEnding::Lf, LineEnding::Crlf] {
        let server = ReferenceServer::start().await;
        ledger::stream_through(&server, &client(&server), Fault::LineEnding(le), 6).await;
        assert_eq!(
            server.requests("GET", "/runs/*/stream"),
            0,
            "{le:?}: no rejoin"
        );
    }
}

#[tokio::test]
async fn a_malformed_event_is_a_decode_error_and_the_stream_continues() {
    let server = ReferenceServer::start().await;
    server.inject(Target::Stream, Fault::MalformedEvent(2), 1);
    let mut stream = create_stream(&default_client(&server), 4, 0).await;
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
    let seen =
        ledger::stream_through(&server, &client(&server), Fault::OversizedEvent(1 << 20), 3).await;
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

// ----- the user stops -------------------------------------------------------------------------

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

#[tokio::test]
async fn cancel_on_drop_leaves_a_finished_run_alone() {
    let server = ReferenceServer::start().await;
    let mut stream = create_stream(&default_client(&server), 2, 0)
        .await
        .cancel_on_drop(true);
    let evs = events(read_all(&mut stream).await);
    assert_eq!(evs.len(), 3);
    drop(stream);
    // A cancel would be sent by a spawned task: make sure that task, if any, ran.
    let run = create_run(&default_client(&server), 0, 0).await;
    finished(&server, run.run_id()).await;
    assert_eq!(server.requests("POST", "/runs/*/cancel"), 0);
}

// ----- what real servers send, byte for byte (scripted loopback peers) ------------------------

const RID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

/// One answer of a peer.
#[derive(Debug, Clone)]
enum Reply {
    /// An event stream of these bytes, then a clean end.
    End(String),
    /// The same, of bytes that need not be UTF-8.
    EndBytes(Vec<u8>),
    /// An event stream of these bytes, then, once the test calls [`Peer::cut`], the connection
    /// fails (no end of the chunked body).
    Cut(String),
    /// An event stream of these bytes, then a bare `:` keep-alive every `every`, at most
    /// `count` times, then a clean end.
    KeepAlives {
        body: String,
        every: Duration,
        count: usize,
    },
    /// A JSON body (`200`).
    Json(serde_json::Value),
}

/// Each route's replies still to send.
type Script = Vec<(String, VecDeque<Reply>)>;

/// A request as the peer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    /// `METHOD /path`, with the run id written `*`.
    route: String,
    last_event_id: Option<String>,
}

/// What the peer's keep-alive streams did: how many keep-alives they wrote, and whether their
/// connection was dropped before they ran out.
#[derive(Debug, Default)]
struct KeepAliveLog {
    written: AtomicUsize,
}

/// A scripted ACP peer on 127.0.0.1.
struct Peer {
    url: String,
    seen: Arc<Mutex<Vec<Request>>>,
    keepalives: Arc<KeepAliveLog>,
    /// Turns `true` when a keep-alive stream is dropped before its last keep-alive (the client
    /// closed the connection).
    closed_early: watch::Receiver<bool>,
    cut: Arc<Notify>,
}

/// Sets the flag when dropped before being disarmed.
struct CloseGuard {
    tx: watch::Sender<bool>,
    armed: bool,
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        if self.armed {
            self.tx.send_replace(true);
        }
    }
}

fn route_of(method: &Method, uri: &Uri) -> String {
    let path: Vec<&str> = uri
        .path()
        .split('/')
        .map(|seg| {
            if Uuid::parse_str(seg).is_ok() {
                "*"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

fn event_stream(body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(body)
        .unwrap_or_default()
}

impl Peer {
    /// A peer answering each route (`"GET /runs/*/stream"`, ...) with its replies in order, and
    /// `404` once they are used up.
    async fn start(script: Vec<(&'static str, Vec<Reply>)>) -> Peer {
        let replies: Arc<Mutex<Script>> = Arc::new(Mutex::new(
            script
                .into_iter()
                .map(|(route, replies)| (route.to_owned(), replies.into()))
                .collect(),
        ));
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let keepalives: Arc<KeepAliveLog> = Arc::default();
        let (closed_tx, closed_early) = watch::channel(false);
        let cut: Arc<Notify> = Arc::default();
        let (record, log, cut_signal) = (seen.clone(), keepalives.clone(), cut.clone());
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
                let (replies, record, log) = (replies.clone(), record.clone(), log.clone());
                let (closed_tx, cut_signal) = (closed_tx.clone(), cut_signal.clone());
                async move {
                    let route = route_of(&method, &uri);
                    let last_event_id = headers
                        .get("last-event-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    record.lock().expect("lock").push(Request {
                        route: route.clone(),
                        last_event_id,
                    });
                    let reply = replies
                        .lock()
                        .expect("lock")
                        .iter_mut()
                        .find(|(r, _)| *r == route)
                        .and_then(|(_, queue)| queue.pop_front());
                    match reply {
                        None => Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(r#"{"detail":"Not Found"}"#))
                            .unwrap_or_default(),
                        Some(Reply::Json(v)) => Response::builder()
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(v.to_string()))
                            .unwrap_or_default(),
                        Some(Reply::End(body)) => event_stream(Body::from(body)),
                        Some(Reply::EndBytes(body)) => event_stream(Body::from(body)),
                        Some(Reply::Cut(body)) => {
                            let first = futures::stream::once(async move {
                                Ok::<_, std::io::Error>(Bytes::from(body))
                            });
                            let cut = futures::stream::once(async move {
                                cut_signal.notified().await;
                                Err(std::io::Error::other("connection cut"))
                            });
                            event_stream(Body::from_stream(first.chain(cut)))
                        }
                        Some(Reply::KeepAlives { body, every, count }) => {
                            let guard = CloseGuard {
                                tx: closed_tx,
                                armed: true,
                            };
                            let first = futures::stream::once(async move {
                                Ok::<_, std::io::Error>(Bytes::from(body))
                            });
                            let rest = futures::stream::unfold(
                                (0usize, guard, log),
                                move |(k, mut guard, log)| async move {
                                    if k == count {
                                        let _ = std::mem::replace(&mut guard.armed, false);
                                        return None;
                                    }
                                    tokio::time::sleep(every).await;
                                    log.written.fetch_add(1, Ordering::SeqCst);
                                    Some((
                                        Ok::<_, std::io::Error>(Bytes::from_static(b":")),
                                        (k + 1, guard, log),
                                    ))
                                },
                            );
                            event_stream(Body::from_stream(first.chain(rest)))
                        }
                    }
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer {
            url,
            seen,
            keepalives,
            closed_early,
            cut,
        }
    }

    /// Cuts the connection of the [`Reply::Cut`] being sent (or the next one).
    fn cut(&self) {
        self.cut.notify_one();
    }

    fn seen(&self) -> Vec<Request> {
        self.seen.lock().expect("lock").clone()
    }

    /// How many requests went to `route`.
    fn requests(&self, route: &str) -> usize {
        self.seen().iter().filter(|s| s.route == route).count()
    }

    /// The `Last-Event-ID` of each request to `route`, in order.
    fn last_event_ids(&self, route: &str) -> Vec<Option<String>> {
        self.seen()
            .into_iter()
            .filter(|s| s.route == route)
            .map(|s| s.last_event_id)
            .collect()
    }

    fn client(&self) -> AcpClient {
        AcpClient::builder(&self.url)
            .retry(RetryPolicy {
                max_retries: 3,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
            })
            .build()
            .expect("client")
    }
}

const CREATE: &str = "POST /runs/stream";
const JOIN: &str = "GET /runs/*/stream";
const GET_RUN: &str = "GET /runs/*";

/// An `agent_event` carrying the `values` update `{"n": n}`, with the `id` line `id` (none
/// when `None`), the line `glue` written just before the event (a keep-alive `:` without a line
/// end glues onto its first line).
fn sse_event(id: Option<u64>, n: u64, status: &str, glue: &str) -> String {
    let id = id.map(|i| format!("id: {i}\n")).unwrap_or_default();
    format!(
        "{glue}{id}event: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{RID}\",\"status\":\"{status}\",\"values\":{{\"n\":{n}}}}}\n\n"
    )
}

/// Events `n` in `ns` with ids from `first_id` up; the last one carries `last_status`.
fn sse_events(first_id: u64, ns: std::ops::RangeInclusive<u64>, last_status: &str) -> String {
    let last = *ns.end();
    ns.enumerate()
        .map(|(k, n)| {
            let status = if n == last { last_status } else { "pending" };
            sse_event(Some(first_id + k as u64), n, status, "")
        })
        .collect()
}

fn run_json(status: &str) -> serde_json::Value {
    json!({
        "run_id": RID,
        "agent_id": "agent",
        "status": status,
        "created_at": "2025-06-01T10:00:00.123456",
        "updated_at": "2025-06-01T10:00:01",
    })
}

/// Reads the first connection's `n` items, cuts it, and reads the stream to its end.
async fn read_across_a_cut(peer: &Peer, stream: &mut RunStream, n: usize) -> Vec<Got> {
    let mut got = read_n(stream, n).await;
    peer.cut();
    got.extend(read_all(stream).await);
    got
}

/// The `n` of every delivered `values` event; panics on anything else.
fn ns(got: &[Got]) -> Vec<u64> {
    got.iter()
        .map(|g| match &g.item {
            Ok(RunEvent::Values(v)) => serde_json::to_value(&v.values).expect("values")["n"]
                .as_u64()
                .expect("n"),
            other => panic!("expected a values event, got {other:?}"),
        })
        .collect()
}

async fn peer_create_stream(peer: &Peer) -> RunStream {
    let body: RunCreateStateless =
        serde_json::from_value(json!({"agent_id": "agent"})).expect("body");
    peer.client()
        .stateless_runs()
        .stream(body)
        .await
        .expect("stream")
}

async fn peer_join(peer: &Peer) -> RunStream {
    let run_id = Uuid::parse_str(RID).expect("uuid");
    peer.client()
        .run(RunScope::Stateless, run_id)
        .expect("handle")
        .stream()
        .await
        .expect("join")
}

/// The Agent Workflow Server numbers each connection's events from 1 and ignores
/// `Last-Event-ID`: the events of the rejoin are new, whatever their ids.
#[tokio::test]
async fn ids_numbered_per_connection_lose_no_event() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Cut(sse_events(1, 1..=3, "pending"))]),
        (JOIN, vec![Reply::End(sse_events(1, 4..=6, "success"))]),
    ])
    .await;
    let mut stream = peer_create_stream(&peer).await;
    let got = read_across_a_cut(&peer, &mut stream, 3).await;
    assert_eq!(ns(&got), [1, 2, 3, 4, 5, 6], "each event once, in order");
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(
        stream.last_event_id(),
        Some("3"),
        "the server's own numbering"
    );
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(peer.requests(CREATE), 1, "the create is not replayed");
    assert_eq!(
        peer.last_event_ids(JOIN),
        [Some("3".to_owned())],
        "one join"
    );
    assert_eq!(
        peer.requests(GET_RUN),
        0,
        "the final event ended the stream"
    );
}

/// An event whose data is not UTF-8 (here a byte 0xFF in a string of its values) is skipped
/// with a decode error, as the SSE decoder's policy says, and the stream goes on: the events
/// around it are delivered, and the last event id stays the last good one. The same for a
/// typed stream (`values_into`), which checks the data once and gives serde the `str`.
#[tokio::test]
async fn an_event_whose_data_is_not_utf8_is_an_error_and_the_stream_goes_on() {
    let mut body = sse_event(Some(1), 1, "pending", "").into_bytes();
    body.extend_from_slice(b"id: 2\nevent: agent_event\ndata: {\"type\":\"values\",\"run_id\":\"");
    body.extend_from_slice(RID.as_bytes());
    body.extend_from_slice(b"\",\"status\":\"pending\",\"values\":{\"n\":\"\xff\"}}\n\n");
    body.extend_from_slice(sse_event(Some(3), 3, "success", "").as_bytes());
    let peer = Peer::start(vec![(
        JOIN,
        vec![Reply::EndBytes(body.clone()), Reply::EndBytes(body)],
    )])
    .await;

    let mut stream = peer_join(&peer).await;
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push((item, stream.last_event_id().map(str::to_owned)));
    }
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(
        matches!(&items[0], (Ok(RunEvent::Values(_)), Some(id)) if id == "1"),
        "{items:?}"
    );
    let (Err(e), id) = &items[1] else {
        panic!("{items:?}")
    };
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.to_string().contains("not valid UTF-8"), "{e}");
    assert_eq!(
        id.as_deref(),
        Some("1"),
        "the skipped event is not the last one"
    );
    assert!(
        matches!(&items[2], (Ok(RunEvent::Values(_)), Some(id)) if id == "3"),
        "{items:?}"
    );
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));

    let mut typed = peer_join(&peer).await.values_into::<serde_json::Value>();
    let mut kinds = Vec::new();
    while let Some(item) = typed.next().await {
        kinds.push(match item {
            Ok(TypedEvent::Values(v)) => format!("values {}", v.values["n"]),
            Ok(other) => format!("other {other:?}"),
            Err(e) => format!("error {e}"),
        });
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert_eq!(kinds[0], "values 1");
    assert!(
        kinds[1].starts_with("error") && kinds[1].contains("not valid UTF-8"),
        "{kinds:?}"
    );
    assert_eq!(kinds[2], "values 3");
    assert_eq!(typed.last_event_id(), Some("3"));
    assert_eq!(peer.requests(JOIN), 2, "no rejoin: the run settled");
}

/// The sibling: a server that replays the run's events from its start after a rejoin. The
/// replayed events carry the data delivered under their ids: skipped.
#[tokio::test]
async fn a_server_replaying_from_the_start_delivers_each_event_once() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Cut(sse_events(1, 1..=3, "pending"))]),
        (JOIN, vec![Reply::End(sse_events(1, 1..=6, "success"))]),
    ])
    .await;
    let mut stream = peer_create_stream(&peer).await;
    let got = read_across_a_cut(&peer, &mut stream, 3).await;
    assert_eq!(ns(&got), [1, 2, 3, 4, 5, 6]);
    let ids: Vec<_> = got.iter().map(|g| g.last_event_id.as_deref()).collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4", "5", "6"].map(Some),
        "the replay of ids 1 to 3 was skipped"
    );
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(peer.last_event_ids(JOIN), [Some("3".to_owned())]);
}

/// The Workflow Server's keep-alive is a bare `:` with no line end: it turns the next line into
/// a comment, so some events come without their `id` (or `event`) line. They are delivered, and
/// leave the last event id as it was.
#[tokio::test]
async fn keep_alives_glued_to_the_next_line_lose_no_event() {
    let first = [
        sse_event(Some(1), 1, "pending", ""),
        sse_event(Some(2), 2, "pending", ":"), // `:id: 2`: a comment
        // `:event: agent_event`: a comment too; the event has the default type.
        format!(
            "id: 3\n:event: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{RID}\",\"status\":\"pending\",\"values\":{{\"n\":3}}}}\n\n"
        ),
        ":".to_owned(), // a keep-alive just before the cut
    ]
    .concat();
    let rejoin = [
        sse_event(Some(1), 4, "pending", ":::\n"), // keep-alives glued into one comment line
        sse_event(Some(2), 5, "pending", ":"),
        sse_event(Some(3), 6, "success", ""),
    ]
    .concat();
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Cut(first)]),
        (JOIN, vec![Reply::End(rejoin)]),
    ])
    .await;
    let mut stream = peer_create_stream(&peer).await;
    let got = read_across_a_cut(&peer, &mut stream, 3).await;
    assert_eq!(ns(&got), [1, 2, 3, 4, 5, 6]);
    let ids: Vec<_> = got.iter().map(|g| g.last_event_id.as_deref()).collect();
    assert_eq!(
        ids,
        ["1", "1", "3", "1", "1", "3"].map(Some),
        "events without an id keep the last id"
    );
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(peer.last_event_ids(JOIN), [Some("3".to_owned())]);
}

/// After a failed resume the Workflow Server sends three error events, then keep-alives every
/// 10 s for ever (here every 10 ms, at most 6000: a minute, three times the guard). The first
/// error event ends the stream; it closes the connection itself.
#[tokio::test]
async fn error_events_then_keep_alives_for_ever_end_the_stream() {
    const KEEPALIVES: usize = 6000;
    let error = |id: u64| {
        format!(
            "id: {id}\nevent: agent_event\ndata: {{\"type\":\"error\",\"run_id\":\"{RID}\",\"status\":\"error\",\"errcode\":500,\"description\":\"Run {RID} failed: resume not possible\"}}\n\n"
        )
    };
    let peer = Peer::start(vec![(
        JOIN,
        vec![Reply::KeepAlives {
            body: [error(1), error(2), error(3)].concat(),
            every: Duration::from_millis(10),
            count: KEEPALIVES,
        }],
    )])
    .await;
    let mut stream = peer_join(&peer).await;
    let got = read_all(&mut stream).await;
    assert!((1..=3).contains(&got.len()), "{} items", got.len());
    for g in &got {
        match &g.item {
            Ok(ev @ RunEvent::Error(e)) => {
                assert_eq!(e.errcode(), 500);
                assert_eq!(ev.status(), Some(RunStatus::Error));
            }
            other => panic!("expected an error event, got {other:?}"),
        }
    }
    assert_eq!(stream.last_status(), Some(&RunStatus::Error));
    assert!(stream.next().await.is_none(), "fused");
    // The client closed the connection while the peer still had keep-alives to send.
    let mut closed = peer.closed_early.clone();
    tokio::time::timeout(T, closed.wait_for(|c| *c))
        .await
        .expect("the connection was closed")
        .expect("peer alive");
    assert!(peer.keepalives.written.load(Ordering::SeqCst) < KEEPALIVES);
    assert_eq!(peer.requests(JOIN), 1, "no rejoin");
    assert_eq!(peer.requests(GET_RUN), 0, "no check of the run");
}

/// The Workflow Server sends no final event: the stream just ends when the run does. The run
/// is checked, has settled, and is joined once more for events sent meanwhile (none here).
#[tokio::test]
async fn a_stream_closed_without_a_final_event_ends_when_the_run_has_settled() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::End(sse_events(1, 1..=3, "pending"))]),
        (GET_RUN, vec![Reply::Json(run_json("success"))]),
        (JOIN, vec![Reply::End(String::new())]),
    ])
    .await;
    let mut stream = peer_create_stream(&peer).await;
    let got = read_all(&mut stream).await;
    assert_eq!(ns(&got), [1, 2, 3]);
    assert_eq!(
        stream.last_status(),
        Some(&RunStatus::Success),
        "from the run"
    );
    assert_eq!(peer.requests(GET_RUN), 1);
    assert_eq!(peer.last_event_ids(JOIN), [Some("3".to_owned())]);
}

/// The last join of a settled run may also send nothing but keep-alives: it ends when no event
/// has come for the idle timeout, keep-alives or not.
#[tokio::test]
async fn a_last_join_with_only_keep_alives_ends_after_the_idle_timeout() {
    const KEEPALIVES: usize = 6000;
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::End(sse_events(1, 1..=2, "pending"))]),
        (GET_RUN, vec![Reply::Json(run_json("success"))]),
        (
            JOIN,
            vec![Reply::KeepAlives {
                body: ":\n\n".into(),
                every: Duration::from_millis(10),
                count: KEEPALIVES,
            }],
        ),
    ])
    .await;
    let body: RunCreateStateless =
        serde_json::from_value(json!({"agent_id": "agent"})).expect("body");
    let client = AcpClient::builder(&peer.url)
        .idle_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let mut stream = client.stateless_runs().stream(body).await.expect("stream");
    let got = read_all(&mut stream).await;
    assert_eq!(ns(&got), [1, 2]);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    let mut closed = peer.closed_early.clone();
    tokio::time::timeout(T, closed.wait_for(|c| *c))
        .await
        .expect("the connection was closed")
        .expect("peer alive");
    assert!(peer.keepalives.written.load(Ordering::SeqCst) < KEEPALIVES);
    assert_eq!(peer.requests(JOIN), 1, "joined once, not again");
}

/// The Workflow Server reports a run in progress as `running`, a status the spec does not list:
/// not settled, so the run is rejoined, and checked again when that stream ends too.
#[tokio::test]
async fn a_run_reported_running_is_rejoined_until_it_has_settled() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::End(sse_events(1, 1..=2, "pending"))]),
        (
            GET_RUN,
            vec![
                Reply::Json(run_json("running")),
                Reply::Json(run_json("success")),
            ],
        ),
        (
            JOIN,
            vec![
                // Numbered per connection: event 3 is id 1.
                Reply::End(sse_events(1, 3..=3, "pending")),
                Reply::End(String::new()),
            ],
        ),
    ])
    .await;
    let mut stream = peer_create_stream(&peer).await;
    let got = read_all(&mut stream).await;
    assert_eq!(ns(&got), [1, 2, 3]);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(peer.requests(GET_RUN), 2, "checked after each clean end");
    assert_eq!(
        peer.last_event_ids(JOIN),
        [Some("2".to_owned()), Some("1".to_owned())],
        "a rejoin, then the last join of the settled run"
    );
    let routes: Vec<_> = peer.seen().into_iter().map(|s| s.route).collect();
    assert_eq!(routes, [CREATE, GET_RUN, JOIN, GET_RUN, JOIN]);
}

/// A failed run in the Workflow Server dialect: three `error` events, then the stream stays
/// open with keep-alives for ever. The first error event ends the user's stream.
#[tokio::test]
async fn workflow_server_dialect_failed_run_ends_the_stream() {
    let server = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
    let body: RunCreateStateless =
        serde_json::from_value(json!({"agent_id": agents::FAIL, "input": {}})).expect("body");
    let mut stream = support::client(&server)
        .stateless_runs()
        .stream(body)
        .await
        .expect("stream");
    let got = read_all(&mut stream).await;
    assert!((1..=3).contains(&got.len()), "{} items", got.len());
    for g in &got {
        match &g.item {
            Ok(ev @ RunEvent::Error(e)) => {
                assert_eq!(e.errcode(), 500);
                assert_eq!(ev.status(), Some(RunStatus::Error));
            }
            other => panic!("expected an error event, got {other:?}"),
        }
    }
    assert_eq!(stream.last_status(), Some(&RunStatus::Error));
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
    assert_eq!(server.requests("GET", "/runs/*"), 0, "no check of the run");
}

support::both_dialects!(
    values_run_on_a_thread_gives_typed_events_and_final_status,
    custom_run_gives_custom_events,
    stateless_stream_uses_the_stateless_route,
    a_dropped_connection_is_rejoined_without_loss_or_duplicate,
    drops_on_a_thread_run_are_rejoined_on_the_thread_route,
    a_stalled_stream_is_rejoined_after_the_idle_timeout,
);
