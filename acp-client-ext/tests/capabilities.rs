//! Capabilities enforced by agent handles before any request: a resume of an agent that
//! declares no interrupts, a stream of an agent that declares no streaming mode, a thread run
//! of an agent with `threads: false`, each refused with `Error::Unsupported` naming the
//! capability, and the server counted: nothing sent. `enforce_capabilities(false)` sends them.
//!
//! No reference agent declares `threads: false`, so that case runs against a small loopback
//! peer (axum on 127.0.0.1) that serves one agent with our own descriptor and records every
//! request.

mod support;

use acp_client_ext::{AcpClient, Error};
use acp_reference_server::{Dialect, ReferenceServer};
use axum::http::{Method, StatusCode, Uri, header};
use futures::TryStreamExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::{T, client};

fn unsupported<V: std::fmt::Debug>(r: Result<V, Error>) -> (&'static str, &'static str) {
    match r {
        Err(Error::Unsupported {
            capability,
            operation,
            ..
        }) => (capability, operation),
        other => panic!("expected Error::Unsupported, got {other:?}"),
    }
}

#[tokio::test]
async fn a_resume_of_an_agent_without_interrupts_is_refused_unsent() {
    let s = ReferenceServer::start().await;
    let echo = client(&s).agent("echo").await.expect("echo");
    assert!(!echo.capabilities().interrupts);
    let run = echo.run(&json!({"a": 1})).create().await.expect("create");
    let err = run.resume(json!({"answer": 1})).await;
    assert_eq!(unsupported(err), ("interrupts", "resume_stateless_run"));
    assert_eq!(s.requests("POST", &format!("/runs/{}", run.run_id())), 0);
    assert!(
        run.resume(json!({})).await.unwrap_err().is_unsupported(),
        "is_unsupported"
    );

    // On a thread: the thread's operation named.
    let thread = client(&s).new_thread().await.expect("thread");
    let run = echo
        .on_thread(&thread)
        .expect("thread id")
        .run(&json!({}))
        .create()
        .await
        .expect("create");
    let err = run.resume(json!({"answer": 1})).await;
    assert_eq!(unsupported(err), ("interrupts", "resume_thread_run"));
    assert_eq!(s.requests("POST", "/threads/*/runs/*"), 0);

    // From a stream too (the `stream` agent streams but declares no interrupts).
    let stream_agent = client(&s).agent("stream").await.expect("stream agent");
    let mut events = stream_agent
        .stream(&json!({"count": 1}))
        .await
        .expect("stream");
    while events.try_next().await.expect("event").is_some() {}
    let err = events.resume_stream(json!({"answer": 1})).await;
    assert_eq!(unsupported(err).0, "interrupts");
    assert_eq!(
        s.requests("POST", "/runs/*"),
        1,
        "only the create: POST /runs/stream"
    );

    // Opted out: the resume is sent, and the server answers as it likes.
    let lax = echo.enforce_capabilities(false);
    let run = lax.run(&json!({})).create().await.expect("create");
    let answer = run.resume(json!({"answer": 1})).await;
    assert!(
        !matches!(answer, Err(Error::Unsupported { .. })),
        "{answer:?}"
    );
    assert_eq!(s.requests("POST", &format!("/runs/{}", run.run_id())), 1);
}

#[tokio::test]
async fn a_stream_of_an_agent_without_streaming_is_refused_unsent() {
    // The Workflow Server dialect's acp-sdk echo agent declares no `streaming`.
    let s = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
    let echo = client(&s)
        .agent("org.agntcy.echo_agent")
        .await
        .expect("agent");
    assert!(!echo.capabilities().streaming());
    let input = json!({"messages": [{"type": "human", "content": "hi"}]});
    let err = echo.stream(&input).await;
    assert_eq!(
        unsupported(err),
        ("streaming", "create_and_stream_stateless_run_output")
    );
    let thread = client(&s).new_thread().await.expect("thread");
    let err = echo.on_thread(&thread).expect("id").stream(&input).await;
    assert_eq!(
        unsupported(err),
        ("streaming", "create_and_stream_thread_run_output")
    );
    assert_eq!(s.requests("POST", "/runs/stream"), 0);
    assert_eq!(s.requests("POST", "/threads/*/runs/stream"), 0);
    // Waiting is not streaming: allowed.
    let out = echo
        .run(&input)
        .config(&json!({"to_upper": true}))
        .output(T)
        .await
        .expect("output");
    assert_eq!(out["messages"][1]["content"], "HI");

    let lax = echo.enforce_capabilities(false);
    let sent = lax.run(&input).config(&json!({})).stream().await;
    assert!(!matches!(sent, Err(Error::Unsupported { .. })), "{sent:?}");
    assert_eq!(s.requests("POST", "/runs/stream"), 1);
}

/// A loopback peer serving one agent, `lonely`, whose descriptor is `descriptor`; every
/// other request is answered 404 and recorded with the rest.
struct Peer {
    url: String,
    seen: Arc<Mutex<Vec<(Method, String)>>>,
}

const PEER_AGENT: &str = "5d1a0e1e-0000-4000-8000-000000000001";

impl Peer {
    async fn start(descriptor: Value) -> Peer {
        let seen: Arc<Mutex<Vec<(Method, String)>>> = Arc::default();
        let record = seen.clone();
        let agent = json!({"agent_id": PEER_AGENT, "metadata": {"ref": {"name": "lonely", "version": "1.0.0"}, "description": "no threads"}});
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
            let record = record.clone();
            let (agent, descriptor) = (agent.clone(), descriptor.clone());
            async move {
                let path = uri.path().to_owned();
                if let Ok(mut s) = record.lock() {
                    s.push((method.clone(), path.clone()));
                }
                let body = match (method.as_str(), path.as_str()) {
                    ("POST", "/agents/search") => Some(json!([agent])),
                    ("GET", p) if p == format!("/agents/{PEER_AGENT}/descriptor") => {
                        Some(descriptor)
                    }
                    _ => None,
                };
                match body {
                    Some(b) => (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json")],
                        b.to_string(),
                    ),
                    None => (
                        StatusCode::NOT_FOUND,
                        [(header::CONTENT_TYPE, "application/json")],
                        "\"Not Found\"".to_owned(),
                    ),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer { url, seen }
    }

    fn paths(&self) -> Vec<String> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect()
    }
}

#[tokio::test]
async fn a_thread_run_of_an_agent_without_threads_is_refused_unsent() {
    let peer = Peer::start(json!({
        "metadata": {"ref": {"name": "lonely", "version": "1.0.0"}, "description": "no threads"},
        "specs": {
            "capabilities": {"threads": false, "interrupts": false, "callbacks": false,
                             "streaming": {"values": true}},
            "input": {"type": "object"}, "output": {"type": "object"}, "config": {"type": "object"}
        }
    }))
    .await;
    let c = AcpClient::new(&peer.url).expect("client");
    let agent = c.agent("lonely").await.expect("agent");
    assert!(!agent.capabilities().threads);
    let looked_up = peer.paths();
    assert_eq!(
        looked_up,
        [
            "POST /agents/search".to_owned(),
            format!("GET /agents/{PEER_AGENT}/descriptor")
        ]
    );
    let thread = uuid::Uuid::new_v4();
    let on_thread = agent.on_thread(thread).expect("id");
    assert_eq!(
        unsupported(on_thread.run(&json!({})).create().await),
        ("threads", "create_thread_run")
    );
    assert_eq!(
        unsupported(on_thread.stream(&json!({})).await),
        ("threads", "create_and_stream_thread_run_output")
    );
    assert_eq!(
        unsupported(on_thread.run(&json!({})).wait(T).await),
        ("threads", "create_and_wait_for_thread_run_output")
    );
    assert_eq!(peer.paths(), looked_up, "nothing sent after the look-up");

    // Opted out: the create goes to the peer (which answers 404).
    let sent = agent
        .enforce_capabilities(false)
        .on_thread(thread)
        .expect("id")
        .run(&json!({}))
        .create()
        .await;
    assert!(matches!(sent, Err(Error::Api { .. })), "{sent:?}");
    assert_eq!(
        peer.paths().last().map(String::as_str),
        Some(format!("POST /threads/{thread}/runs").as_str())
    );
}
