//! Exactly once: a run's stream cut after every N events (N = 0..=20), joined and
//! create-and-streamed, in both dialects, and a thousand concurrent streams; each read with the
//! ledger (`support::ledger`), which checks what the user saw against the run's event log on
//! the server (ids and the `stream` agent's `i`, each once, in order). `cargo test -p
//! acp-client-ext --test exactly_once -- --nocapture | grep ^ledger` prints the counts.
//!
//! No sleeps: every read has a deadline and every loop is bounded.

mod support;

use acp_client_ext::{Error, RunStatus, StreamCause};
use acp_reference_server::{Dialect, Fault, ReferenceServer, Target};
use futures::StreamExt;
use support::ledger::{Seen, log_len};
use support::{client, create_run, create_stream};
use uuid::Uuid;

#[tokio::test]
async fn drop_at_every_n_from_0_to_20() {
    const COUNT: u64 = 20; // 21 events: 20 updates and the final one
    for n in 0..=20usize {
        let server = ReferenceServer::start().await;
        let c = client(&server);

        // Joining a run (its id is known): every N resumes.
        let run = create_run(&c, COUNT, 0).await;
        server.inject(Target::Join, Fault::DropAfterEvents(n), 1);
        let mut stream = run.stream().await.expect("join");
        let mut seen = Seen::default();
        seen.read_to_end(&mut stream).await;
        assert!(seen.errors.is_empty(), "join, N={n}: {:?}", seen.errors);
        seen.assert_exactly_once(
            &format!("join dropped after {n}"),
            log_len(&server, Some(run.run_id())),
        );
        assert_eq!(server.requests("GET", "/runs/*/stream"), 2, "N={n}");

        // Create-and-stream: the run id comes with the first event, so N=0 cannot be resumed.
        server.inject(Target::Stream, Fault::DropAfterEvents(n), 1);
        let mut stream = create_stream(&c, COUNT, 0).await;
        let mut seen = Seen::default();
        seen.read_to_end(&mut stream).await;
        if n == 0 {
            assert!(seen.ids.is_empty());
            assert_eq!(seen.others, 0, "N=0: only the error");
            match seen.errors.as_slice() {
                [
                    Error::Stream {
                        cause: cause @ StreamCause::RunIdUnknown { .. },
                        ..
                    },
                ] => {
                    assert!(cause.to_string().contains("cannot be rejoined"), "{cause}")
                }
                other => panic!("N=0: expected one stream error, got {other:?}"),
            }
            assert_eq!(server.requests("GET", "/runs/*/stream"), 2, "no rejoin");
        } else {
            assert!(seen.errors.is_empty(), "create, N={n}: {:?}", seen.errors);
            seen.assert_exactly_once(
                &format!("create-and-stream dropped after {n}"),
                log_len(&server, stream.run_id()),
            );
            assert_eq!(server.requests("GET", "/runs/*/stream"), 3, "N={n}");
        }
        assert_eq!(server.requests("POST", "/runs/stream"), 1, "N={n}");
    }
}

/// The reference server speaking the Agent Workflow Server's dialect (ids numbered per
/// connection, `Last-Event-ID` ignored, each event sent to one connection only, glued
/// keep-alives, no final event, `running`), its stream cut after every N events: each update
/// is seen exactly once, in order, by payload.
#[tokio::test]
async fn workflow_server_dialect_drop_at_every_n_loses_and_repeats_nothing() {
    const COUNT: u64 = 20;
    for n in 0..=20usize {
        let server = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
        let c = support::client(&server);

        // Joining a run (its id is known): every N resumes.
        let run = support::create_run(&c, COUNT, 0).await;
        server.inject(Target::Join, Fault::DropAfterEvents(n), 1);
        let mut stream = run.stream().await.expect("join");
        let mut seen = Seen::per_connection();
        seen.read_to_end(&mut stream).await;
        assert!(seen.errors.is_empty(), "join, N={n}: {:?}", seen.errors);
        seen.assert_each_update_once(&format!("workflow server, join dropped after {n}"), COUNT);
        assert_eq!(stream.last_status(), Some(&RunStatus::Success), "N={n}");
        assert_eq!(stream.suspected_redeliveries(), 0, "N={n}");
        let joins = server.requests("GET", "/runs/*/stream");
        assert!(joins >= 2, "N={n}: rejoined after the drop ({joins} joins)");

        // Create-and-stream: the run id comes with the first event, so N=0 cannot be resumed.
        if n == 0 {
            continue;
        }
        server.inject(Target::Stream, Fault::DropAfterEvents(n), 1);
        let mut stream = support::create_stream(&c, COUNT, 0).await;
        let mut seen = Seen::per_connection();
        seen.read_to_end(&mut stream).await;
        assert!(seen.errors.is_empty(), "create, N={n}: {:?}", seen.errors);
        seen.assert_each_update_once(
            &format!("workflow server, create-and-stream dropped after {n}"),
            COUNT,
        );
        assert_eq!(stream.last_status(), Some(&RunStatus::Success), "N={n}");
        assert_eq!(stream.suspected_redeliveries(), 0, "N={n}");
        assert_eq!(server.requests("POST", "/runs/stream"), 1, "N={n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_runs() {
    const RUNS: usize = 1000;
    let server = ReferenceServer::start().await;
    let c = client(&server);
    let results: Vec<(Seen, Option<Uuid>)> = futures::stream::iter(0..RUNS)
        .map(|_| {
            let c = c.clone();
            async move {
                let mut stream = create_stream(&c, 5, 0).await;
                let mut seen = Seen::default();
                seen.read_to_end(&mut stream).await;
                (seen, stream.run_id())
            }
        })
        .buffer_unordered(100)
        .collect()
        .await;
    assert_eq!(results.len(), RUNS);
    let mut events = 0;
    let mut runs = std::collections::HashSet::new();
    for (seen, run_id) in &results {
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
        let len = server
            .run_event_count(run_id.expect("run id"))
            .expect("run");
        assert_eq!(len, 6);
        assert_eq!(seen.ids, [1, 2, 3, 4, 5, 6], "every event exactly once");
        assert_eq!(seen.is, [0, 1, 2, 3, 4]);
        events += seen.ids.len();
        runs.insert(run_id.expect("run id"));
    }
    assert_eq!(runs.len(), RUNS, "distinct runs");
    println!("ledger 1000 concurrent runs: events={events} lost=0 duplicated=0 unknown=0");
    assert_eq!(server.requests("POST", "/runs/stream"), RUNS);
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
}
