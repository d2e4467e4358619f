//! The one test-support module of the client's integration tests and examples.
//!
//! * here: a deadline, clients and servers configured for tests, create bodies and runs of the
//!   reference server's `stream` agent;
//! * [`ledger`]: what a user saw on a [`RunStream`], checked for exactly-once delivery against
//!   the run's event log on the server;
//! * [`loopback`]: small loopback peers that log what they received or answer what the
//!   reference server never does;
//! * [`relay`]: a loopback HTTP/1.1 relay, reverse (in front of one server) or a forward proxy
//!   (plain HTTP and `CONNECT`), recording each request head it forwards;
//! * [`scope`]: runs of the reference server's agents on a thread or stateless, for the tests
//!   that try both;
//! * [`example`]: what every example shares ("embedded reference server, or `ACP_URL`", and
//!   readable output).
//!
//! * [`both_dialects!`]: runs a test against the reference server in each of its dialects
//!   (the spec's, and the Agent Workflow Server's, the one public ACP server in the field), so
//!   the client is tested against a server that is not polite, without copies of the tests.
//!
//! Test binaries include it as `mod support;`, examples as
//! `#[path = "../tests/support/mod.rs"] mod support;`; each uses a subset of it.

// Each test binary and example uses part of this module only.
#![allow(dead_code)]

pub mod example;
pub mod ledger;
pub mod loopback;
pub mod relay;

use std::time::Duration;

use acp_client_ext::types::{RunCreateStateful, RunCreateStateless};
use acp_client_ext::{AcpClient, Error, RetryPolicy, RunEvent, RunHandle, RunStatus, RunStream};
use acp_reference_server::{Dialect, ReferenceServer, ServerConfig, WaitRoute, agents};
use futures::StreamExt;
use serde_json::{Value, json};

/// Upper bound for anything to happen; never reached when the code works.
pub const T: Duration = Duration::from_secs(20);

/// Declares one `#[tokio::test]` per listed test and dialect: `spec_dialect::NAME` and
/// `workflow_server_dialect::NAME`, each calling `NAME(dialect)`. The test starts its server
/// with [`server`] (or [`ReferenceServer::with_dialect`]) and reads what differs between the
/// dialects from [`Dialect`] (see [`in_progress`]).
#[allow(unused_macros)]
macro_rules! both_dialects {
    ($($name:ident),* $(,)?) => {
        mod spec_dialect {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(acp_reference_server::Dialect::Spec).await
                }
            )*
        }
        mod workflow_server_dialect {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(acp_reference_server::Dialect::WorkflowServer).await
                }
            )*
        }
    };
}
#[allow(unused_imports)] // the examples include this module too
pub(crate) use both_dialects;

/// A reference server speaking `dialect`.
pub async fn server(dialect: Dialect) -> ReferenceServer {
    ReferenceServer::with_dialect(dialect).await
}

/// The status a run in progress shows: `pending` in the spec, `running` (a status the spec
/// does not list) on the Agent Workflow Server.
pub fn in_progress(dialect: Dialect) -> RunStatus {
    match dialect {
        Dialect::Spec => RunStatus::Pending,
        Dialect::WorkflowServer => RunStatus::Other("running".into()),
    }
}

/// Three retries with millisecond backoffs.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    }
}

/// A client of `server` with [`fast_retries`].
pub fn client(server: &ReferenceServer) -> AcpClient {
    AcpClient::builder(server.url())
        .retry(fast_retries())
        .build()
        .expect("client")
}

/// A client of the server at `url` with [`fast_retries`].
pub fn client_at(url: &str) -> AcpClient {
    AcpClient::builder(url)
        .retry(fast_retries())
        .build()
        .expect("client")
}

/// The status and message of an [`Error::Api`].
pub fn api_error(e: &Error) -> (u16, &str) {
    match e {
        Error::Api {
            status, message, ..
        } => (status.as_u16(), message.as_str()),
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

/// A server whose waits give up after `wait_timeout`: with `204 No Content` if `answer_204`,
/// else with the pending run.
pub async fn early_wait_server(wait_timeout: Duration, answer_204: bool) -> ReferenceServer {
    ReferenceServer::start_with(ServerConfig {
        wait_timeout,
        wait_204_on_timeout: answer_204,
        ..ServerConfig::default()
    })
    .await
}

/// A server whose run wait route behaves as `route`.
pub async fn wait_route_server(route: WaitRoute) -> ReferenceServer {
    ReferenceServer::start_with(ServerConfig {
        wait_route: route,
        ..ServerConfig::default()
    })
    .await
}

/// The id of the reference server's agent `name` (the server takes only ids as `agent_id`, as
/// the spec says).
pub fn agent_id(name: &str) -> uuid::Uuid {
    match agents::ALL.into_iter().find(|a| a.name() == name) {
        Some(a) => a.id(),
        None => panic!("the reference server has no agent {name:?}"),
    }
}

pub fn stateless(body: Value) -> RunCreateStateless {
    serde_json::from_value(body).expect("stateless body")
}

pub fn stateful(body: Value) -> RunCreateStateful {
    serde_json::from_value(body).expect("stateful body")
}

/// A stateless `stream` agent run of `count` values updates `{"i": k}`, `delay_ms` apart, that
/// survives a lost connection (`on_disconnect: continue`).
pub fn stream_body(count: u64, delay_ms: u64) -> RunCreateStateless {
    stateless(json!({
        "agent_id": agents::STREAM,
        "input": {"count": count, "delay_ms": delay_ms},
        "on_disconnect": "continue",
    }))
}

/// Create a stateless [`stream_body`] run (`POST /runs`).
pub async fn create_run(c: &AcpClient, count: u64, delay_ms: u64) -> RunHandle {
    c.stateless_runs()
        .create(stream_body(count, delay_ms))
        .await
        .expect("create")
}

/// Create-and-stream a stateless [`stream_body`] run (`POST /runs/stream`).
pub async fn create_stream(c: &AcpClient, count: u64, delay_ms: u64) -> RunStream {
    c.stateless_runs()
        .stream(stream_body(count, delay_ms))
        .await
        .expect("stream")
}

/// The field named by an [`Error::InvalidInput`].
pub fn invalid_field<V: std::fmt::Debug>(r: Result<V, Error>) -> &'static str {
    match r {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// One delivered item and the stream's `last_event_id` right after it.
pub struct Got {
    pub item: Result<RunEvent, Error>,
    pub last_event_id: Option<String>,
}

/// Reads the stream to its end, bounded by [`T`].
pub async fn read_all(stream: &mut RunStream) -> Vec<Got> {
    let read = async {
        let mut got = Vec::new();
        while let Some(item) = stream.next().await {
            got.push(Got {
                item,
                last_event_id: stream.last_event_id().map(str::to_owned),
            });
        }
        got
    };
    tokio::time::timeout(T, read)
        .await
        .expect("the stream ended (no hang)")
}

/// Reads `n` items, bounded by [`T`].
pub async fn read_n(stream: &mut RunStream, n: usize) -> Vec<Got> {
    let read = async {
        let mut got = Vec::new();
        for _ in 0..n {
            let item = stream.next().await.expect("an item");
            got.push(Got {
                item,
                last_event_id: stream.last_event_id().map(str::to_owned),
            });
        }
        got
    };
    tokio::time::timeout(T, read).await.expect("items arrived")
}

/// Runs of the reference server's agents in either scope: on a fresh thread or stateless.
pub mod scope {
    use acp_client_ext::types::{RunCreateStateful, RunCreateStateless};
    use acp_client_ext::{AcpClient, CancelAction, RunHandle};
    use acp_reference_server::Dialect;
    use serde_json::{Value, json};

    /// A create body for `agent` with `input`, and a `config`: the Agent Workflow Server refuses a
    /// run of an agent that declares a config schema (`echo` does) without one.
    pub fn body(agent: &str, input: Value) -> Value {
        json!({"agent_id": super::agent_id(agent), "input": input, "config": {}})
    }

    /// A stateless [`body`].
    pub fn stateless(agent: &str, input: Value) -> RunCreateStateless {
        serde_json::from_value(body(agent, input)).expect("stateless body")
    }

    /// A thread run's [`body`].
    pub fn stateful(agent: &str, input: Value) -> RunCreateStateful {
        serde_json::from_value(body(agent, input)).expect("stateful body")
    }

    /// Where a test's runs live.
    #[derive(Clone, Copy, Debug)]
    pub enum Scope {
        Thread,
        Stateless,
    }

    /// Both scopes.
    pub const SCOPES: [Scope; 2] = [Scope::Thread, Scope::Stateless];

    /// The scopes a background run can be started in on a server speaking `dialect`: both in the
    /// spec's; stateless only on the Agent Workflow Server, whose `POST /threads/{id}/runs`
    /// answers 500 and creates no run, and whose waits on a thread run that settles interrupted
    /// answer 500 too (behaviours 13 and 14 in the crate docs of `acp-reference-server`).
    pub fn scopes(dialect: Dialect) -> &'static [Scope] {
        match dialect {
            Dialect::Spec => &SCOPES,
            Dialect::WorkflowServer => &[Scope::Stateless],
        }
    }

    /// Start a run of `agent` with `input`, on a fresh thread or stateless.
    pub async fn start(c: &AcpClient, scope: Scope, agent: &str, input: Value) -> RunHandle {
        match scope {
            Scope::Thread => {
                let runs = c.new_thread().await.expect("thread");
                runs.create(stateful(agent, input))
                    .await
                    .expect("create run")
            }
            Scope::Stateless => c
                .stateless_runs()
                .create(stateless(agent, input))
                .await
                .expect("create run"),
        }
    }

    /// The wait route of a run in `scope`.
    pub fn wait_pattern(scope: Scope) -> &'static str {
        match scope {
            Scope::Thread => "/threads/*/runs/*/wait",
            Scope::Stateless => "/runs/*/wait",
        }
    }

    /// Start a `slow` run and cancel it with `action`.
    pub async fn cancelled(
        c: &AcpClient,
        scope: Scope,
        action: CancelAction,
        wait: bool,
    ) -> RunHandle {
        let run = start(c, scope, "slow", json!({})).await;
        run.cancel(action, wait).await.expect("cancel");
        run
    }

    /// The route of a run in `scope`.
    pub fn run_pattern(scope: Scope) -> &'static str {
        match scope {
            Scope::Thread => "/threads/*/runs/*",
            Scope::Stateless => "/runs/*",
        }
    }
}

/// What a `tracing` subscriber wrote, for tests that look for secrets in traces: a writer (give
/// `fmt().with_writer(captured.clone())`) appending to one shared buffer.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`capture_traces`] installs, for as long as it lives.
pub struct TraceGuard {
    _second: tracing::Dispatch,
    _default: tracing::subscriber::DefaultGuard,
}

/// Every `tracing` event and span of this thread, at `TRACE`, written as text into the
/// returned [`Captured`] while the guard lives.
///
/// tracing-core caches each callsite's interest globally; with exactly one dispatcher
/// registered it computes a new callsite's interest from the *registering thread's* default
/// only, so a callsite first hit by a parallel test (no subscriber there) would be disabled here
/// for good. A second live dispatcher (registered first) makes it consult every registered one.
pub fn capture_traces() -> (Captured, TraceGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let second = tracing::Dispatch::new(tracing_subscriber::registry());
    let default = tracing::subscriber::set_default(subscriber);
    (
        logs,
        TraceGuard {
            _second: second,
            _default: default,
        },
    )
}

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}
