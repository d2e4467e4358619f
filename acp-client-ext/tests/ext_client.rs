//! The client layer of `acp-client-ext` over 127.0.0.1: error bodies of every shape, retries
//! (and the creates that are not retried), input refused before any request, secrets kept out of
//! `Debug`, errors and traces, credentials and headers on the wire, `from_env`, and the thread and
//! agent helpers.
//!
//! The reference server does not expose the headers it received, so the tests about headers use a
//! small local peer (an axum app recording each request's headers and answering a canned body).

mod support;

use std::io;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acp_client_ext::types::{AgentSearchRequest, RunCreateStateless, ThreadCreate};
use acp_client_ext::{
    AcpClient, ClientBuilder, DEFAULT_API_KEY_HEADER, Error, RetryPolicy, RunScope,
    USER_AGENT_VALUE,
};
use acp_reference_server::{Dialect, Fault, ReferenceServer, ServerConfig, Target, agents};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use support::{fast_retries, invalid_field};

const API_KEY: &str = "sk-TOPSECRET-4f9a1c";
const BEARER: &str = "tok-HUSH-77b2e0";

fn client(url: &str) -> AcpClient {
    AcpClient::builder(url)
        .retry(fast_retries())
        .build()
        .expect("client")
}

fn stateless(agent: &str) -> RunCreateStateless {
    serde_json::from_value(json!({"agent_id": support::agent_id(agent), "input": {}}))
        .expect("body")
}

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

/// A local HTTP peer answering every request with one canned response and recording the
/// request headers.
struct Peer {
    url: String,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
}

impl Peer {
    async fn start(status: u16, content_type: &'static str, body: &'static str) -> Peer {
        let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                if let Ok(mut s) = record.lock() {
                    s.push(headers);
                }
                (
                    StatusCode::from_u16(status).expect("status"),
                    [(header::CONTENT_TYPE, content_type)],
                    body,
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer { url, seen }
    }

    fn requests(&self) -> Vec<HeaderMap> {
        self.seen.lock().expect("lock").clone()
    }

    fn last_header(&self, name: &str) -> Option<String> {
        self.requests()
            .last()
            .and_then(|h| h.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

fn api_error(e: &Error) -> (u16, &str) {
    match e {
        Error::Api {
            status, message, ..
        } => (status.as_u16(), message.as_str()),
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

#[tokio::test]
async fn error_bodies_of_every_shape_become_api_errors() {
    // The spec's bare JSON string.
    let s = ReferenceServer::start().await;
    let c = client(&s.url());
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
    let c = client(&s.url());
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
    let err = client(&p.url).search_agents().await.expect_err("422");
    assert_eq!(api_error(&err), (422, "body.input: field required"));

    // Plain text, and HTML from a proxy.
    let p = Peer::start(500, "text/plain", "upstream exploded\n").await;
    let err = client(&p.url).search_agents().await.expect_err("500");
    assert_eq!(api_error(&err), (500, "upstream exploded"));
    let p = Peer::start(404, "text/html", "<html><body>Not Found</body></html>").await;
    let err = client(&p.url)
        .get_agent(agents::ECHO)
        .await
        .expect_err("404");
    let (status, message) = api_error(&err);
    assert_eq!(status, 404);
    assert!(message.contains("Not Found"), "{message}");

    // No body at all: the status's reason.
    let p = Peer::start(409, "application/json", "").await;
    let err = client(&p.url).search_agents().await.expect_err("409");
    assert_eq!(api_error(&err), (409, "Conflict"));
}

#[tokio::test]
async fn a_get_is_retried_after_two_503s() {
    let s = ReferenceServer::start().await;
    let c = client(&s.url());
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
async fn a_create_answered_503_is_not_retried_unless_opted_in() {
    let s = ReferenceServer::start().await;
    let c = client(&s.url());
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
async fn bad_input_is_refused_before_any_request() {
    let s = ReferenceServer::start().await;
    let url = s.url();
    let c = client(&url);

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

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(API_KEY), "{what} shows the API key: {text}");
    assert!(
        !text.contains(BEARER),
        "{what} shows the bearer token: {text}"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_debug_errors_and_traces() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // tracing-core caches each callsite's interest globally; with exactly one dispatcher
    // registered it computes a new callsite's interest from the *registering thread's* default
    // only, so a callsite first hit by a parallel test (no subscriber there) would be disabled
    // here for good. A second live dispatcher (registered first) makes it consult every registered one.
    let _second = tracing::Dispatch::new(tracing_subscriber::registry());
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = ReferenceServer::start().await;
    let p = Peer::start(200, "application/json", "[]").await;
    let secret_client = |url: &str| {
        AcpClient::builder(url)
            .api_key(API_KEY)
            .bearer_token(BEARER)
            .retry(fast_retries())
    };

    let builder = secret_client(&s.url());
    assert_no_secret("builder Debug", &format!("{builder:?}"));
    let c = builder.build().expect("client");
    assert_no_secret("client Debug", &format!("{c:?}"));
    assert_no_secret("client Debug (pretty)", &format!("{c:#?}"));

    // The credentials do travel: the peer received them.
    let agents = secret_client(&p.url)
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect("agents");
    assert!(agents.is_empty());
    assert_eq!(
        p.last_header(DEFAULT_API_KEY_HEADER).as_deref(),
        Some(API_KEY)
    );
    assert_eq!(
        p.last_header("authorization"),
        Some(format!("Bearer {BEARER}"))
    );

    // Requests against the reference server: successes, an API error, a retried 503.
    let thread = c
        .create_thread(ThreadCreate::default())
        .await
        .expect("thread");
    s.inject(Target::Get, Fault::Status(503), 1);
    c.get_thread(&thread.thread_id).await.expect("thread");
    let err = c.get_thread(uuid::Uuid::new_v4()).await.expect_err("404");
    assert_no_secret("Api error Display", &err.to_string());
    assert_no_secret("Api error Debug", &format!("{err:?}"));

    // A transport error: nothing listens on this port any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let err = AcpClient::builder(format!("http://{closed}"))
        .api_key(API_KEY)
        .bearer_token(BEARER)
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect_err("connection refused");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_no_secret("Transport error Display", &err.to_string());
    assert_no_secret("Transport error Debug", &format!("{err:?}"));

    // Bad credentials are refused without echoing them.
    let err = AcpClient::builder(s.url())
        .api_key(format!("{API_KEY}\n"))
        .build()
        .expect_err("newline in the key");
    assert_no_secret("InvalidInput Display", &err.to_string());
    assert_no_secret("InvalidInput Debug", &format!("{err:?}"));

    let traces = logs.text();
    assert!(
        traces.contains("get_thread"),
        "the trace was captured: {traces}"
    );
    assert!(
        traces.contains("retrying"),
        "the retry was traced: {traces}"
    );
    assert!(
        traces.contains(&thread.thread_id),
        "spans carry ids: {traces}"
    );
    assert_no_secret("traces", &traces);
}

#[tokio::test]
async fn credentials_and_headers_on_the_wire() {
    let p = Peer::start(200, "application/json", "[]").await;

    // Default header name for the API key, the user agent, extra headers.
    AcpClient::builder(&p.url)
        .api_key(API_KEY)
        .header("x-team", "blue")
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect("agents");
    assert_eq!(p.last_header("x-api-key").as_deref(), Some(API_KEY));
    assert_eq!(p.last_header("x-team").as_deref(), Some("blue"));
    assert_eq!(p.last_header("authorization"), None);
    let ua = p.last_header("user-agent").expect("user agent");
    assert_eq!(ua, USER_AGENT_VALUE);
    let workspace = include_str!("../../Cargo.toml");
    let version = workspace
        .split("[workspace.package]")
        .nth(1)
        .and_then(|t| t.lines().find(|l| l.trim_start().starts_with("version")))
        .and_then(|l| l.split('"').nth(1))
        .expect("workspace version");
    assert_eq!(ua, format!("acp-client-ext/{version}"));

    // A configured header name replaces the default one.
    AcpClient::builder(&p.url)
        .api_key(API_KEY)
        .api_key_header("X-ACP-Key")
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect("agents");
    assert_eq!(p.last_header("x-acp-key").as_deref(), Some(API_KEY));
    assert_eq!(p.last_header("x-api-key"), None);
    assert_eq!(p.requests().len(), 2);
}

#[tokio::test]
async fn from_env_reads_url_and_credentials() {
    let p = Peer::start(200, "application/json", "[]").await;
    // The only test of this binary that touches the environment.
    unsafe {
        std::env::set_var("ACP_URL", &p.url);
        std::env::set_var("ACP_API_KEY", API_KEY);
        std::env::set_var("ACP_API_KEY_HEADER", "x-env-key");
        std::env::set_var("ACP_BEARER_TOKEN", BEARER);
    }
    let c = AcpClient::from_env().expect("client from env");
    assert_eq!(c.base_url(), p.url);
    assert_no_secret("client from env", &format!("{c:?}"));
    c.search_agents().await.expect("agents");
    assert_eq!(p.last_header("x-env-key").as_deref(), Some(API_KEY));
    assert_eq!(
        p.last_header("authorization"),
        Some(format!("Bearer {BEARER}"))
    );

    unsafe {
        for v in [
            "ACP_URL",
            "ACP_API_KEY",
            "ACP_API_KEY_HEADER",
            "ACP_BEARER_TOKEN",
        ] {
            std::env::remove_var(v);
        }
    }
    let err = AcpClient::from_env().expect_err("no ACP_URL");
    assert!(
        matches!(&err, Error::Environment { variable, .. } if variable.contains("ACP_URL")),
        "{err:?}"
    );
}

#[tokio::test]
async fn agent_helpers_decode_the_generated_types() {
    let s = ReferenceServer::start().await;
    let c = client(&s.url());
    let all = c.search_agents().await.expect("agents");
    assert_eq!(all.len(), agents::ALL.len());
    assert!(
        all.iter()
            .any(|a| a.agent_id == agents::ECHO && a.metadata.ref_.name == "echo")
    );

    let echo = c.get_agent(agents::ECHO).await.expect("echo");
    assert_eq!(echo.metadata.ref_.name, "echo");
    let same = c
        .get_agent(agents::ECHO.to_string())
        .await
        .expect("echo by string");
    assert_eq!(same.agent_id, agents::ECHO);

    let d = c
        .agent_descriptor(agents::INTERRUPT)
        .await
        .expect("descriptor");
    assert!(d.specs.capabilities.interrupts);
    let specs = serde_json::to_value(&d.specs).expect("specs");
    assert!(
        specs["interrupts"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    );
    let d = c.agent_descriptor(agents::ECHO).await.expect("descriptor");
    assert!(!d.specs.capabilities.interrupts);

    let err = c
        .get_agent(uuid::Uuid::new_v4())
        .await
        .expect_err("unknown");
    assert_eq!(api_error(&err).0, 404);
    assert_eq!(s.requests("POST", "/agents/search"), 1);
}

async fn thread_helpers_create_get_delete(dialect: Dialect) {
    let s = support::server(dialect).await;
    let c = client(&s.url());
    let create: ThreadCreate =
        serde_json::from_value(json!({"metadata": {"owner": "tests"}})).expect("body");
    let thread = c.create_thread(create).await.expect("thread");
    let got = c.get_thread(&thread.thread_id).await.expect("get");
    assert_eq!(got.metadata.get("owner"), Some(&json!("tests")));

    let found = c
        .search_threads(acp_client_ext::types::ThreadSearchRequest::default())
        .await
        .expect("search");
    assert!(found.iter().any(|t| t.thread_id == thread.thread_id));

    // A stateful run in a few lines.
    let runs = c.thread_runs(&thread.thread_id).expect("runs");
    let outcome = runs
        .wait(
            serde_json::from_value::<acp_client_ext::types::RunCreateStateful>(
                json!({"agent_id": agents::ECHO, "input": {"k": "v"}, "config": {}}),
            )
            .expect("body"),
            Duration::from_secs(20),
        )
        .await
        .expect("run");
    assert!(outcome.is_completed());

    c.delete_thread(&thread.thread_id).await.expect("delete");
    let err = c.get_thread(&thread.thread_id).await.expect_err("deleted");
    assert_eq!(api_error(&err).0, 404);
    let err = c
        .delete_thread(&thread.thread_id)
        .await
        .expect_err("deleted twice");
    assert_eq!(api_error(&err).0, 404);

    // `new_thread` sends `metadata`, without which the Workflow Server answers 500 and keeps a
    // thread that breaks every later search.
    let runs = c.new_thread().await.expect("new thread");
    assert!(c.get_thread(runs.thread_id()).await.is_ok());
    let found = c
        .search_threads(acp_client_ext::types::ThreadSearchRequest::default())
        .await
        .expect("search after new_thread");
    assert!(
        found
            .iter()
            .any(|t| t.thread_id == runs.thread_id().to_string())
    );
}

support::both_dialects!(thread_helpers_create_get_delete);
