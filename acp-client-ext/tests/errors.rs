//! What errors say: error bodies of every shape (the spec's JSON string, FastAPI's `detail`,
//! validation lists, plain text, HTML, nothing) become `Error::Api` with the server's message,
//! and a refused connection is one line naming the operation, the endpoint and the cause. Input
//! refused before any request is `bad_input.rs`.

mod support;

use std::num::NonZeroU64;

use acp_client_ext::types::AgentSearchRequest;
use acp_client_ext::{AcpClient, Error, RetryPolicy, TransportKind};
use acp_reference_server::{ReferenceServer, ServerConfig, agents};
use support::loopback::Peer;
use support::{api_error, client_at};

#[tokio::test]
async fn error_bodies_of_every_shape_become_api_errors() {
    // The spec's bare JSON string.
    let s = ReferenceServer::start().await;
    let c = client_at(&s.url());
    let id = uuid::Uuid::new_v4();
    let err = c.get_thread(id).await.expect_err("no such thread");
    assert_eq!(
        api_error(&err),
        (404, format!("thread {id} not found").as_str())
    );
    assert!(
        matches!(
            err,
            Error::Api {
                operation: "get_thread",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("get_thread"), "{err}");
    assert!(err.to_string().contains("404"), "{err}");

    // FastAPI's {"detail": "..."}.
    let s = ReferenceServer::start_with(ServerConfig {
        detail_errors: true,
        ..ServerConfig::default()
    })
    .await;
    let c = client_at(&s.url());
    let err = c.get_thread(id).await.expect_err("no such thread");
    assert_eq!(
        api_error(&err),
        (404, format!("thread {id} not found").as_str())
    );

    // A 422 of the server's validation.
    let err = c
        .search_agents_with(AgentSearchRequest {
            limit: NonZeroU64::new(5000).expect("non-zero"),
            ..AgentSearchRequest::default()
        })
        .await
        .expect_err("limit too large");
    let (status, message) = api_error(&err);
    assert_eq!(status, 422);
    assert!(message.contains("between 1 and 1000"), "{message}");

    // FastAPI's list of validation errors.
    let p = Peer::start(
        422,
        "application/json",
        r#"{"detail":[{"loc":["body","input"],"msg":"field required","type":"missing"}]}"#,
    )
    .await;
    let err = client_at(&p.url).search_agents().await.expect_err("422");
    assert_eq!(api_error(&err), (422, "body.input: field required"));

    // Plain text, and HTML from a proxy.
    let p = Peer::start(500, "text/plain", "upstream exploded\n").await;
    let err = client_at(&p.url).search_agents().await.expect_err("500");
    assert_eq!(api_error(&err), (500, "upstream exploded"));
    let p = Peer::start(404, "text/html", "<html><body>Not Found</body></html>").await;
    let err = client_at(&p.url)
        .get_agent(agents::ECHO)
        .await
        .expect_err("404");
    let (status, message) = api_error(&err);
    assert_eq!(status, 404);
    assert!(message.contains("Not Found"), "{message}");

    // No body at all: the status's reason.
    let p = Peer::start(409, "application/json", "").await;
    let err = client_at(&p.url).search_agents().await.expect_err("409");
    assert_eq!(api_error(&err), (409, "Conflict"));
}

#[tokio::test]
async fn connection_refused_names_operation_endpoint_and_cause_in_one_line() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = AcpClient::builder(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.search_agents().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_connect() && !err.is_timeout());
    assert!(text.starts_with("search_agents (127.0.0.1:"), "{text}");
    assert!(text.contains(&format!(":{port}")), "{text}");
    assert!(
        text.to_lowercase().contains("refused"),
        "the root cause: {text}"
    );
    assert!(!text.contains('\n'), "one line: {text}");
}
