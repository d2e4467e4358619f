//! The exactly-once ledger: what a user saw on a [`RunStream`], checked against the run's event
//! log on the server.

use std::collections::BTreeSet;

use acp_client_ext::{AcpClient, Error, RunEvent, RunStatus, RunStream};
use acp_reference_server::{Fault, ReferenceServer, Target};
use futures::StreamExt;

use super::T;

/// What a user saw on one or more streams of a `stream` agent run.
#[derive(Debug, Default)]
pub struct Seen {
    /// The server numbers events per connection (the Agent Workflow Server): ids say nothing
    /// about the run's events, and glued keep-alives leave some events without one, so only
    /// the updates' `i` are recorded and checked.
    pub per_connection_ids: bool,
    /// The id of every `values` event delivered, in order (not with `per_connection_ids`).
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
    /// A ledger for a server that numbers events per connection: see
    /// [`Seen::per_connection_ids`].
    pub fn per_connection() -> Seen {
        Seen {
            per_connection_ids: true,
            ..Seen::default()
        }
    }

    /// Records one item of `stream` (just yielded).
    pub fn record(&mut self, stream: &RunStream, item: Result<RunEvent, Error>) {
        match item {
            Ok(ev) => {
                if let Some(s) = ev.status() {
                    self.last_status = Some(s);
                }
                match &ev {
                    RunEvent::Values(v) => {
                        if !self.per_connection_ids {
                            let id = stream
                                .last_event_id()
                                .and_then(|id| id.parse().ok())
                                .expect("a values event has a numeric id");
                            self.ids.push(id);
                        }
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

    /// Asserts every update `i = 0..updates` was seen exactly once, in order, whatever the ids
    /// (for [`Seen::per_connection`] ledgers, whose server sends no final event). Prints a
    /// ledger line like [`assert_exactly_once`](Self::assert_exactly_once).
    pub fn assert_each_update_once(&self, what: &str, updates: u64) {
        let expected: BTreeSet<u64> = (0..updates).collect();
        let unique: BTreeSet<u64> = self.is.iter().copied().collect();
        let lost = expected.difference(&unique).count();
        let unknown = unique.difference(&expected).count();
        let duplicated = self.is.len() - unique.len();
        println!(
            "ledger {what}: events={} lost={lost} duplicated={duplicated} unknown={unknown}",
            self.is.len()
        );
        assert_eq!(
            (lost, duplicated, unknown),
            (0, 0, 0),
            "{what}: (i lost, i duplicated, unknown i); i {:?}",
            self.is
        );
        assert_eq!(
            self.is,
            expected.into_iter().collect::<Vec<_>>(),
            "{what}: in order"
        );
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
pub fn log_len(server: &ReferenceServer, seen_run: Option<uuid::Uuid>) -> usize {
    let run_id = seen_run.expect("the run id is known");
    server.run_event_count(run_id).expect("the run is known")
}

/// Create-and-stream a run of `count` updates with `fault` on its first SSE response, read it to
/// the end, and check that the user saw no error and every event exactly once.
pub async fn stream_through(
    server: &ReferenceServer,
    c: &AcpClient,
    fault: Fault,
    count: u64,
) -> Seen {
    server.inject(Target::Stream, fault.clone(), 1);
    let mut stream = super::create_stream(c, count, 0).await;
    let mut seen = Seen::default();
    seen.read_to_end(&mut stream).await;
    assert!(seen.errors.is_empty(), "{fault:?}: {:?}", seen.errors);
    assert_eq!(seen.last_status, Some(RunStatus::Success), "{fault:?}");
    seen.assert_exactly_once(&format!("{fault:?}"), log_len(server, stream.run_id()));
    seen
}
