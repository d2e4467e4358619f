//! Request and connect timeouts, typed with their duration (`Error::Timeout { kind, after }`),
//! against loopback servers that never answer; a GET that timed out is retried. The idle timeout
//! of streams is in `streams.rs`, wait deadlines in `waits.rs`, per-call timeouts in `options.rs`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use acp_client_ext::{AcpClient, Error, RetryPolicy, TimeoutKind};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use support::loopback::{ID, seen, serve, stall};
use support::{T, fast_retries};

#[tokio::test]
async fn a_request_timeout_is_typed_with_its_duration() {
    let (addr, _) = serve(|_, _| stall()).await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .request_timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.search_agents().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                operation: "search_agents",
                kind: TimeoutKind::Request,
                after,
            } if after == Duration::from_millis(300)
        ),
        "{err:?}"
    );
    assert!(err.is_timeout() && !err.is_connect());
}

#[tokio::test]
async fn a_get_that_timed_out_is_retried() {
    let (addr, log) = serve(|n, _| match n {
        0 => stall(),
        _ => StatusCode::NO_CONTENT.into_response(),
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .request_timeout(Duration::from_millis(300))
        .retry(fast_retries())
        .build()
        .unwrap();
    client.delete_thread(ID).await.unwrap();
    assert_eq!(seen(&log).len(), 2);
}

#[tokio::test]
async fn a_connect_timeout_is_a_connect_timeout() {
    // Accepts and stalls: TCP connects, the TLS handshake never completes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let a = accepted.clone();
    tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            keep.push(sock);
        }
    });
    let client = AcpClient::builder(format!("https://{addr}"))
        .connect_timeout(Duration::from_millis(200))
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
        })
        .build()
        .unwrap();
    let err = tokio::time::timeout(T, client.get_thread(ID))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Connect,
                after,
                ..
            } if after == Duration::from_millis(200)
        ),
        "{err:?}"
    );
    assert!(err.is_connect() && err.is_timeout());
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "retried once: nothing was sent"
    );
}
