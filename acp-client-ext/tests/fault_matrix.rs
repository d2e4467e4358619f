//! The fault matrix of `acp-client-ext` against the reference server on 127.0.0.1: one test per
//! row of `docs/RELIABILITY.md`, each asserting what the user sees and, for streams, that every
//! event of the run's log on the server was delivered exactly once (event ids and the `i` of the
//! `stream` agent's updates). Then the inputs refused before any request that `ext_client.rs`
//! does not cover, and secrets in panic messages. The stream rows are in `streams.rs`, the drops
//! at every N and the thousand concurrent runs in `exactly_once.rs`.
//!
//! No sleeps: synchronisation goes through the stream itself and `ReferenceServer::wait_for`; every
//! loop is bounded and every read has a deadline.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use acp_client_ext::types::{self, ThreadCreate};
use acp_client_ext::{AcpClient, Error, RetryPolicy, RunScope, RunStatus, TimeoutKind};
use acp_reference_server::{Fault, ReferenceServer, ServerEvent, Target, WaitRoute, agents};
use futures::StreamExt;
use serde_json::json;
use support::ledger::{Seen, log_len};
use support::{
    T, client, create_run, create_stream, early_wait_server, invalid_field, stateless, stream_body,
    wait_route_server,
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
