//! Bad input refused before any request: ids that are not UUIDs, resume payloads that are not
//! objects, builder settings (headers, credentials, timeouts, limits, base URLs), generated
//! builders with a bad field, and an event id that cannot be a header. Each test asserts that the
//! server received nothing, and that its counter does count.

mod support;

use std::time::Duration;

use acp_client_ext::types::{self, ThreadCreate};
use acp_client_ext::{AcpClient, ClientBuilder, Error, RunScope};
use acp_reference_server::{ReferenceServer, ServerEvent};
use serde_json::{Value, json};
use support::{T, client, client_at, create_run, invalid_field};
use uuid::Uuid;

/// Every request the reference server received, whatever its method and path.
fn total_requests(s: &ReferenceServer) -> usize {
    let mut n = 0;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
        for segments in 1..=8 {
            n += s.requests(method, &"/*".repeat(segments));
        }
    }
    n
}

/// Whether the server received any request at all (its event history is bounded but far larger
/// than what these tests send).
async fn any_request(server: &ReferenceServer) -> bool {
    server
        .wait_for(|e| matches!(e, ServerEvent::Request { .. }), Duration::ZERO)
        .await
        .is_some()
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let s = ReferenceServer::start().await;
    let url = s.url();
    let c = client_at(&url);

    assert_eq!(invalid_field(c.thread_runs("not-a-uuid")), "thread_id");
    assert_eq!(invalid_field(c.get_thread("42").await), "thread_id");
    assert_eq!(invalid_field(c.delete_thread("").await), "thread_id");
    assert_eq!(invalid_field(c.get_agent("echo").await), "agent_id");
    assert_eq!(invalid_field(c.agent_descriptor("x").await), "agent_id");
    assert_eq!(invalid_field(c.run(RunScope::Stateless, "nope")), "run_id");
    let run = c
        .run(RunScope::Stateless, uuid::Uuid::new_v4())
        .expect("handle");
    for payload in [
        json!("yes"),
        json!([1, 2]),
        Value::Null,
        json!(3),
        json!(true),
    ] {
        let err = run
            .resume(payload.clone())
            .await
            .expect_err("not an object");
        assert!(
            matches!(
                &err,
                Error::InvalidInput {
                    field: "resume payload",
                    ..
                }
            ),
            "{payload}: {err:?}"
        );
    }

    let build = |b: ClientBuilder| invalid_field(b.build());
    assert_eq!(
        build(AcpClient::builder(&url).header("bad name", "v")),
        "header name"
    );
    assert_eq!(
        build(AcpClient::builder(&url).header("x-ok", "bad\nvalue")),
        "header value"
    );
    assert_eq!(
        build(
            AcpClient::builder(&url)
                .api_key("k")
                .api_key_header("no spaces")
        ),
        "api_key_header"
    );
    assert_eq!(build(AcpClient::builder(&url).api_key(" ")), "api_key");
    assert_eq!(
        build(AcpClient::builder(&url).connect_timeout(Duration::ZERO)),
        "connect_timeout"
    );
    assert_eq!(
        build(AcpClient::builder(&url).request_timeout(Duration::ZERO)),
        "request_timeout"
    );
    assert_eq!(
        build(AcpClient::builder(&url).idle_timeout(Duration::ZERO)),
        "idle_timeout"
    );
    for bad in [
        "",
        "not a url",
        "ftp://127.0.0.1",
        "http://user:pw@127.0.0.1:1",
        "http://h/?q=1",
    ] {
        assert_eq!(build(AcpClient::builder(bad)), "base_url", "{bad:?}");
    }

    assert_eq!(total_requests(&s), 0, "nothing reached the server");
    // The counter does count: one real request shows up.
    c.search_agents().await.expect("agents");
    assert_eq!(total_requests(&s), 1);
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
