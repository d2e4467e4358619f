//! Credentials and secrets: the API key, header name, bearer token and user agent on the wire,
//! `from_env`, and the secrets kept out of `Debug`, errors, traces and panic messages; TLS
//! validation on by default. Credentials on a redirect to another origin are `redirects.rs`,
//! per-call credentials `options.rs`.
//!
//! The reference server does not expose the headers it received, so the tests about headers use
//! a loopback peer recording each request's headers (`support::loopback::Peer`).

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};

use acp_client_ext::types::ThreadCreate;
use acp_client_ext::{
    AcpClient, DEFAULT_API_KEY_HEADER, Error, RetryPolicy, RunScope, USER_AGENT_VALUE,
};
use acp_reference_server::{Fault, ReferenceServer, Target};
use futures::StreamExt;
use support::loopback::Peer;
use support::{T, create_stream, fast_retries};
use uuid::Uuid;

const API_KEY: &str = "sk-TOPSECRET-4f9a1c";
const BEARER: &str = "tok-HUSH-77b2e0";

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(API_KEY), "{what} shows the API key: {text}");
    assert!(
        !text.contains(BEARER),
        "{what} shows the bearer token: {text}"
    );
}

// ----- on the wire ----------------------------------------------------------------------------

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

// ----- never printed --------------------------------------------------------------------------

#[tokio::test]
async fn secrets_stay_out_of_debug_errors_and_traces() {
    let (logs, _traces) = support::capture_traces();

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

const PANIC_API_KEY: &str = "sk-PANICSECRET-91c2";
const PANIC_BEARER: &str = "tok-PANICHUSH-5d1e";

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

fn assert_no_panic_secret(what: &str, text: &str) {
    assert!(
        !text.contains(PANIC_API_KEY),
        "{what} shows the API key: {text}"
    );
    assert!(
        !text.contains(PANIC_BEARER),
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
            .api_key(PANIC_API_KEY)
            .bearer_token(PANIC_BEARER)
            .retry(RetryPolicy::none())
    };
    let c = secret(server.url()).build().expect("client");

    // An API error (404) of an authenticated request, unwrapped and expected.
    let result = c.get_thread(Uuid::new_v4()).await;
    let msg = panic_message(|| drop(result.unwrap()));
    assert!(msg.contains("404"), "the panic is about the error: {msg}");
    assert_no_panic_secret("unwrap of an Api error", &msg);
    let result = c.get_thread(Uuid::new_v4()).await;
    assert_no_panic_secret(
        "expect of an Api error",
        &panic_message(|| drop(result.expect("get thread"))),
    );

    // A stream refused by the server, and a stream error.
    let missing = c.run(RunScope::Stateless, Uuid::new_v4()).expect("handle");
    let result = missing.stream().await;
    assert_no_panic_secret(
        "unwrap of a refused stream",
        &panic_message(|| drop(result.unwrap())),
    );
    server.inject(Target::Stream, Fault::DropAfterEvents(0), 1);
    let mut stream = create_stream(&c, 2, 0).await;
    let item = tokio::time::timeout(T, stream.next())
        .await
        .expect("an item")
        .expect("an error item");
    assert_no_panic_secret(
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
    assert_no_panic_secret("unwrap of a transport error", &msg);

    // A credential refused at build time, and the client itself in a panic.
    let result = AcpClient::builder(server.url())
        .api_key(format!("{PANIC_API_KEY}\n"))
        .bearer_token(PANIC_BEARER)
        .build();
    assert_no_panic_secret(
        "unwrap of a refused credential",
        &panic_message(|| drop(result.unwrap())),
    );
    assert_no_panic_secret(
        "a panic formatting the client",
        &panic_message(|| panic!("unexpected state of {c:?} / {c:#?}")),
    );
}

// ----- TLS ------------------------------------------------------------------------------------

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

/// A 401 to a client that sent no credential says so and names what sets one; with a credential
/// configured it says nothing of the kind (and never the credential).
#[tokio::test]
async fn a_401_without_credentials_says_none_was_sent() {
    let s = ReferenceServer::start().await;
    s.inject(Target::Any, Fault::Status(401), 2);
    let bare = AcpClient::builder(s.url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = bare.search_agents().await.expect_err("401");
    assert!(err.to_string().contains("no credential was sent"), "{err}");
    assert!(err.to_string().contains("ACP_API_KEY"), "{err}");
    let keyed = AcpClient::builder(s.url())
        .api_key("sk-test-401")
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = keyed.search_agents().await.expect_err("401");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(!err.to_string().contains("no credential"), "{err}");
    assert!(!err.to_string().contains("sk-test-401"), "{err}");
}
