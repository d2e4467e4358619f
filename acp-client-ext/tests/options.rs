//! Per-call options (`Call::timeout`, `header`, `api_key`, `bearer_token`): applied to that
//! call only, on the client's connection pool, and invalid ones refused before any request.

mod support;

use std::time::Duration;

use acp_client_ext::{AcpClient, Error, RetryPolicy, TimeoutKind};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use support::loopback::{ID, seen, serve, stall};

#[tokio::test]
async fn per_call_timeout_headers_and_credentials_on_the_same_pool() {
    let (addr, log) = serve(|_, s| {
        if s.headers.contains_key("x-stall") {
            stall()
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .api_key("sk-client")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    client.delete_thread(ID).await.unwrap();
    client
        .delete_thread(ID)
        .header("x-call", "1")
        .await
        .unwrap();
    client.delete_thread(ID).api_key("sk-call").await.unwrap();
    client
        .delete_thread(ID)
        .timeout(Duration::from_secs(5))
        .await
        .unwrap();
    let err = client
        .delete_thread(ID)
        .header("x-stall", "yes")
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Request, after, .. } if after == Duration::from_millis(100)),
        "{err:?}: our error, not tokio's Elapsed"
    );
    client
        .delete_thread(ID)
        .bearer_token("tok-call")
        .await
        .unwrap();
    let s = seen(&log);
    assert_eq!(s.len(), 6);
    assert_eq!(s[0].headers["x-api-key"], "sk-client");
    assert!(!s[0].headers.contains_key("x-call"));
    assert_eq!(s[1].headers["x-call"], "1");
    assert_eq!(s[2].headers["x-api-key"], "sk-call");
    assert_eq!(s[5].headers["authorization"], "Bearer tok-call");
    assert!(
        !s[5].headers.contains_key("x-api-key"),
        "replaced, not added"
    );
    // One pool: the calls with other headers, key or timeout reused the first connection.
    for i in 1..=3 {
        assert_eq!(s[i].peer, s[0].peer, "call {i} on the same connection");
    }
}

#[tokio::test]
async fn invalid_call_options_are_refused_before_any_request() {
    let (addr, log) = serve(|_, _| StatusCode::NO_CONTENT.into_response()).await;
    let client = AcpClient::new(format!("http://{addr}")).unwrap();
    let err = client
        .delete_thread(ID)
        .header("bad name", "v")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "header name",
                ..
            }
        ),
        "{err:?}"
    );
    let err = client
        .delete_thread(ID)
        .timeout(Duration::ZERO)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "timeout",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(seen(&log).is_empty());
}

/// A per-call idle timeout takes effect on the stream of that call, and not on the next stream
/// of the same client (the limit an idle stream reports is the one in force for it).
#[tokio::test]
async fn a_per_call_idle_timeout_applies_to_one_stream_and_not_the_next() {
    use acp_reference_server::{Fault, ReferenceServer, Target};
    use futures::StreamExt;
    let s = ReferenceServer::start().await;
    let c = AcpClient::builder(s.url())
        .idle_timeout(Duration::from_millis(300))
        .stream_reconnects(0)
        .retry(support::fast_retries())
        .build()
        .expect("client");
    let run = support::create_run(&c, 3, 0).await;
    s.inject(Target::Join, Fault::StallAfterEvents(1), 2);
    let idle_after = |item: Option<Result<acp_client_ext::RunEvent, Error>>| match item {
        Some(Err(Error::Timeout {
            kind: TimeoutKind::IdleStream,
            after,
            ..
        })) => after,
        other => panic!("expected an idle timeout, got {other:?}"),
    };
    let mut first = run
        .stream()
        .idle_timeout(Duration::from_millis(50))
        .await
        .expect("join");
    assert!(first.next().await.is_some_and(|e| e.is_ok()), "one event");
    assert_eq!(idle_after(first.next().await), Duration::from_millis(50));
    let mut second = run.stream().await.expect("join");
    assert!(second.next().await.is_some_and(|e| e.is_ok()), "one event");
    assert_eq!(idle_after(second.next().await), Duration::from_millis(300));
}
