//! Retries: which requests are retried (idempotent ones on 502/503/504 and connect errors, the
//! stream joins among them) and which never are (creates, unless `retry_creates(true)`; a 500),
//! server hints (`Retry-After` above and below the client's cap, an SSE `retry:` of an hour), and
//! a create right after a connection the server closed, which is never sent twice.
//!
//! Every create form under the exactly-once faults (a reset after the create was applied, or
//! before it was read) is `creates.rs`.
//!
//! Against the reference server with injected statuses, and loopback peers for the hints. No
//! sleeps: every call is bounded by a deadline.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acp_client_ext::types::{self, RunCreateStateless, ThreadCreate};
use acp_client_ext::{AcpClient, Error, RetryPolicy, RunScope};
use acp_reference_server::{Dialect, Fault, ReferenceServer, Target};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use futures::StreamExt;
use serde_json::json;
use support::ledger::{self, Seen, log_len};
use support::loopback::{ID, json, seen, serve};
use support::{
    T, api_error, client, client_at, create_run, create_stream, fast_retries, scope, stream_body,
};

fn stateless(agent: &str) -> RunCreateStateless {
    serde_json::from_value(json!({"agent_id": support::agent_id(agent), "input": {}}))
        .expect("body")
}

// ----- what is retried ------------------------------------------------------------------------

#[tokio::test]
async fn a_get_is_retried_after_two_503s() {
    let s = ReferenceServer::start().await;
    let c = client_at(&s.url());
    let thread = c
        .create_thread(ThreadCreate::default())
        .await
        .expect("thread");
    s.inject(Target::Get, Fault::Status(503), 2);
    let got = c
        .get_thread(&thread.thread_id)
        .await
        .expect("third attempt succeeds");
    assert_eq!(got.thread_id, thread.thread_id);
    assert_eq!(s.requests("GET", "/threads/*"), 3);

    // Without retries the 503 is the answer.
    let c = AcpClient::builder(s.url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    s.inject(Target::Get, Fault::Status(503), 1);
    let err = c.get_thread(&thread.thread_id).await.expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(err.is_retryable());
    assert_eq!(s.requests("GET", "/threads/*"), 4);
}

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
    ledger::stream_through(&server, &c, Fault::DropAfterEvents(2), 4).await;
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

// ----- creates are sent once ------------------------------------------------------------------

#[tokio::test]
async fn a_create_answered_503_is_not_retried_unless_opted_in() {
    let s = ReferenceServer::start().await;
    let c = client_at(&s.url());
    s.inject(Target::CreateRun, Fault::Status(503), 1);
    let err = c
        .stateless_runs()
        .create(stateless("echo"))
        .await
        .expect_err("503");
    assert_eq!(api_error(&err).0, 503);
    assert_eq!(s.requests("POST", "/runs"), 1, "a create is sent once");

    let c = AcpClient::builder(s.url())
        .retry(fast_retries())
        .retry_creates(true)
        .build()
        .expect("client");
    s.inject(Target::CreateRun, Fault::Status(503), 1);
    let run = c
        .stateless_runs()
        .create(stateless("echo"))
        .await
        .expect("retried create succeeds");
    assert_eq!(s.requests("POST", "/runs"), 3);
    assert!(s.run_status(run.run_id()).await.is_some());
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

#[tokio::test]
async fn a_create_and_wait_is_not_retried() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    s.inject(Target::CreateRun, Fault::Status(503), 1);
    let err = c
        .stateless_runs()
        .wait(scope::stateless("echo", json!({})), T)
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(s.requests("POST", "/runs/wait"), 1);
}

/// A create right after a `500 text/plain` that closed the connection (the Workflow Server
/// dialect answers `POST /threads` without metadata so, and resets the connection when the next
/// request arrives on it): every create succeeds and none is applied twice. (It replaces a
/// test that could not fail: it accepted either outcome. The exactly-once peers are in
/// `creates.rs`.)
#[tokio::test]
async fn a_create_after_a_500_that_closed_the_connection_succeeds_once() {
    use acp_client::prelude::*;
    let server = support::server(Dialect::WorkflowServer).await;
    let client = support::client(&server);
    let rounds = 10;
    let mut created = Vec::new();
    for _ in 0..rounds {
        // `POST /threads` without metadata: the Workflow Server answers 500 text/plain and
        // closes the connection (no `Connection: close`). Through `generated()`, with `?`.
        let failed: Result<_, Error> = async {
            let body = types::ThreadCreate::default();
            Ok(client.generated().create_thread().body(body).send().await?)
        }
        .await;
        assert_eq!(failed.unwrap_err().status().map(|s| s.as_u16()), Some(500));
        // The next create, on the same pool.
        let run = client
            .stateless_runs()
            .create(support::stream_body(1, 0))
            .await
            .expect("the create after the closed connection");
        created.push(run.run_id());
    }
    assert_eq!(server.runs_created(), rounds, "one run a round, none twice");
    created.sort();
    created.dedup();
    assert_eq!(created.len(), rounds);
}

// ----- server hints ---------------------------------------------------------------------------

#[tokio::test]
async fn a_retry_after_above_the_cap_is_capped() {
    let (addr, log) = serve(|n, _| match n {
        0 => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "3600")],
        )
            .into_response(),
        _ => json(StatusCode::OK, "[]"),
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
        })
        .build()
        .unwrap();
    // An hour asked for; the client's cap (20 ms) applies: the call returns, bounded by T.
    let agents = tokio::time::timeout(T, client.search_agents())
        .await
        .unwrap()
        .unwrap();
    assert!(agents.is_empty());
    assert_eq!(seen(&log).len(), 2);
}

#[tokio::test]
async fn a_retry_after_below_the_cap_is_a_floor() {
    for as_date in [false, true] {
        // The hint is written when the server answers, so an HTTP date 2 s ahead has at least
        // 1 s left (1 s resolution) however long the server took to start or the test to get
        // there; the one it sent is kept for the message.
        let sent: Arc<Mutex<String>> = Arc::default();
        let record = sent.clone();
        let (addr, log) = serve(move |n, _| match n {
            0 => {
                let hint = match as_date {
                    false => "1".to_string(),
                    true => httpdate::fmt_http_date(
                        std::time::SystemTime::now() + Duration::from_secs(2),
                    ),
                };
                *record.lock().expect("lock") = hint.clone();
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, hint)],
                )
                    .into_response()
            }
            _ => json(StatusCode::OK, "[]"),
        })
        .await;
        let client = AcpClient::builder(format!("http://{addr}"))
            .retry(RetryPolicy {
                max_retries: 2,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_secs(10),
            })
            .build()
            .unwrap();
        client.search_agents().await.unwrap();
        let s = seen(&log);
        assert_eq!(s.len(), 2);
        let hint = sent.lock().expect("lock").clone();
        // A lower bound only: a sleep is never shorter than asked (the first request arrived
        // before the hint was written, the second after the hinted moment).
        let gap = s[1].at - s[0].at;
        assert!(
            gap >= Duration::from_millis(990),
            "{hint}: retried after {gap:?}"
        );
    }
}

fn sse_event(id: u32, status: &str) -> String {
    format!(
        "id: {id}\nevent: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{ID}\",\"status\":\"{status}\",\"values\":{{\"n\":{id}}}}}\n\n"
    )
}

#[tokio::test]
async fn an_sse_retry_of_an_hour_is_capped_by_the_client() {
    let (addr, log) = serve(|_, s| {
        let sse =
            |body: String| ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
        if s.path.ends_with("/stream") && !s.headers.contains_key("last-event-id") {
            // Asks for an hour between reconnects, then ends before the run settled.
            sse(format!("retry: 3600000\n\n{}", sse_event(1, "pending")))
        } else if s.path.ends_with("/stream") {
            sse(sse_event(2, "success"))
        } else {
            json(
                StatusCode::OK,
                &format!(r#"{{"run_id":"{ID}","status":"pending"}}"#),
            )
        }
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(fast_retries())
        .build()
        .unwrap();
    let run = client.run(RunScope::Stateless, ID).unwrap();
    let mut events = run.stream().await.unwrap();
    let items: Vec<_> = tokio::time::timeout(T, async {
        let mut v = Vec::new();
        while let Some(i) = events.next().await {
            v.push(i.unwrap());
        }
        v
    })
    .await
    .expect("rejoined within the client's cap, not after an hour");
    assert_eq!(items.len(), 2);
    assert_eq!(events.last_event_id(), Some("2"));
    let joins = seen(&log)
        .iter()
        .filter(|s| s.path.ends_with("/stream"))
        .count();
    assert_eq!(joins, 2);
}
