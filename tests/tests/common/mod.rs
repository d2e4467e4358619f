//! Helpers shared by the integration tests: a deadline, clients and servers configured for
//! tests, create bodies and runs of the `stream` agent, and a ledger of what a user saw on a
//! [`RunStream`], checked for exactly-once delivery against the run's event log on the server.
//!
//! Each test binary uses a subset of these (hence `#[allow(dead_code)] mod common;`).

use std::collections::BTreeSet;
use std::time::Duration;

use acp_client::types::{RunCreateStateful, RunCreateStateless};
use acp_client_ext::{AcpClient, Error, RetryPolicy, RunEvent, RunHandle, RunStatus, RunStream};
use acp_reference_server::{ServerConfig, TestServer, WaitRoute};
use futures::StreamExt;
use serde_json::{Value, json};

/// Upper bound for anything to happen; never reached when the code works.
pub const T: Duration = Duration::from_secs(20);

/// Three retries with millisecond backoffs.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    }
}

/// A client of `server` with [`fast_retries`].
pub fn client(server: &TestServer) -> AcpClient {
    AcpClient::builder(server.url())
        .retry(fast_retries())
        .build()
        .expect("client")
}

/// A server whose waits give up after `wait_timeout`: with `204 No Content` if `answer_204`,
/// else with the pending run.
pub async fn early_wait_server(wait_timeout: Duration, answer_204: bool) -> TestServer {
    TestServer::start_with(ServerConfig {
        wait_timeout,
        wait_204_on_timeout: answer_204,
        ..ServerConfig::default()
    })
    .await
}

/// A server whose run wait route behaves as `route`.
pub async fn wait_route_server(route: WaitRoute) -> TestServer {
    TestServer::start_with(ServerConfig {
        wait_route: route,
        ..ServerConfig::default()
    })
    .await
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
        "agent_id": "stream",
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

/// What a user saw on one or more streams of a `stream` agent run.
#[derive(Debug, Default)]
pub struct Seen {
    /// The id of every `values` event delivered, in order.
    pub ids: Vec<u64>,
    /// The `i` of every `values` update delivered, in order.
    pub is: Vec<u64>,
    /// Delivered events of other kinds (ids not checked).
    pub others: usize,
    /// Errors yielded by the stream, in order.
    pub errors: Vec<Error>,
    /// The status of the last event carrying one.
    pub last_status: Option<RunStatus>,
}

impl Seen {
    /// Records one item of `stream` (just yielded).
    pub fn record(&mut self, stream: &RunStream, item: Result<RunEvent, Error>) {
        match item {
            Ok(ev) => {
                if let Some(s) = ev.status() {
                    self.last_status = Some(s);
                }
                match &ev {
                    RunEvent::Values(v) => {
                        let id = stream
                            .last_event_id()
                            .and_then(|id| id.parse().ok())
                            .expect("a values event has a numeric id");
                        self.ids.push(id);
                        // Through serde: the values schema is a map in ACP 0.2.1, an enum later.
                        let values = serde_json::to_value(&v.values).unwrap_or_default();
                        if let Some(i) = values.get("i").and_then(|i| i.as_u64()) {
                            self.is.push(i);
                        }
                    }
                    _ => self.others += 1,
                }
            }
            Err(e) => self.errors.push(e),
        }
    }

    /// Reads `stream` to its end (bounded by [`T`]).
    pub async fn read_to_end(&mut self, stream: &mut RunStream) {
        let read = async {
            while let Some(item) = stream.next().await {
                self.record(stream, item);
            }
        };
        tokio::time::timeout(T, read)
            .await
            .expect("the stream ended (no hang)");
    }

    /// Reads `n` items of `stream` (bounded by [`T`]).
    pub async fn read_n(&mut self, stream: &mut RunStream, n: usize) {
        let read = async {
            for _ in 0..n {
                let item = stream.next().await.expect("an item");
                self.record(stream, item);
            }
        };
        tokio::time::timeout(T, read).await.expect("items arrived");
    }

    /// The last delivered event id, to resume from.
    pub fn last_id(&self) -> Option<u64> {
        self.ids.last().copied()
    }

    /// Asserts every event of the run's log on the server was seen exactly once, in order: ids
    /// `1..=len` and updates `i = 0..len-1` (the last event is the final status). Prints a
    /// ledger line (`cargo test -- --nocapture` shows them) and returns the events checked.
    pub fn assert_exactly_once(&self, what: &str, log_len: usize) -> usize {
        let log_len = log_len as u64;
        let expected: BTreeSet<u64> = (1..=log_len).collect();
        let unique: BTreeSet<u64> = self.ids.iter().copied().collect();
        let lost = expected.difference(&unique).count();
        let unknown = unique.difference(&expected).count();
        let duplicated = self.ids.len() - unique.len();
        let expected_is: BTreeSet<u64> = (0..log_len.saturating_sub(1)).collect();
        let unique_is: BTreeSet<u64> = self.is.iter().copied().collect();
        let lost_is = expected_is.difference(&unique_is).count();
        let duplicated_is = self.is.len() - unique_is.len();
        println!(
            "ledger {what}: events={} lost={} duplicated={} unknown={unknown}",
            self.ids.len(),
            lost + lost_is,
            duplicated + duplicated_is,
        );
        assert_eq!(
            (lost, duplicated, unknown, lost_is, duplicated_is),
            (0, 0, 0, 0, 0),
            "{what}: (ids lost, ids duplicated, unknown ids, i lost, i duplicated); ids {:?}, i {:?}",
            self.ids,
            self.is
        );
        assert_eq!(
            self.ids,
            expected.into_iter().collect::<Vec<_>>(),
            "{what}: in order"
        );
        assert_eq!(
            self.is,
            expected_is.into_iter().collect::<Vec<_>>(),
            "{what}: in order"
        );
        self.ids.len()
    }
}

/// The length of the (settled) run's event log on the server.
pub fn log_len(server: &TestServer, seen_run: Option<uuid::Uuid>) -> usize {
    let run_id = seen_run.expect("the run id is known");
    server.run_event_count(run_id).expect("the run is known")
}
