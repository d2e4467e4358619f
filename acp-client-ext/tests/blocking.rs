//! The blocking client (feature `blocking`) through the flows of the async examples — stream and
//! rejoin, wait with a deadline, cancel and rollback, resume by hand and to completion — against
//! the reference server, which runs on its own runtime thread; and a call from inside an async
//! runtime, which must be an error, not a panic.

use acp_client_ext::blocking::Client;
use acp_client_ext::types::{RunCreateStateful, RunCreateStateless};
use acp_client_ext::{CancelAction, Error, RunEvent, RunStatus, TimeoutKind, WaitOutcome};
use acp_reference_server::ReferenceServer;
use acp_reference_server::agents::{CUSTOM, ECHO, INTERRUPT, SLOW, STREAM};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

/// The reference server on a runtime of its own (the test thread stays free of any runtime).
struct Server {
    server: Option<ReferenceServer>,
    rt: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(ReferenceServer::start());
        Server {
            server: Some(server),
            rt,
        }
    }

    fn client(&self) -> Client {
        Client::new(self.server.as_ref().unwrap().url()).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.server = None;
    }
}

const LONG: Duration = Duration::from_secs(30);

/// A thread run's create body, from JSON as a user writes it.
fn body(agent: uuid::Uuid, input: Value) -> RunCreateStateful {
    from_json(agent, input)
}

/// A create body, from JSON as a user writes it.
fn from_json<T: serde::de::DeserializeOwned>(agent: uuid::Uuid, input: Value) -> T {
    serde_json::from_value(json!({"agent_id": agent, "input": input})).unwrap()
}

fn values_i(event: &RunEvent) -> Option<i64> {
    match event {
        // Read as JSON: the field's Rust type is not what this test is about.
        RunEvent::Values(update) => serde_json::to_value(&update.values).ok()?["i"].as_i64(),
        _ => None,
    }
}

#[test]
fn stream_stop_and_rejoin_without_duplicates() {
    let server = Server::start();
    let client = server.client();
    let runs = client.new_thread().unwrap();
    let mut events = runs.stream(body(STREAM, json!({"count": 5}))).unwrap();
    let mut seen: Vec<i64> = events
        .by_ref()
        .take(3)
        .filter_map(|e| values_i(&e.unwrap()))
        .collect();
    let last = events.last_event_id().unwrap().to_string();
    let run = runs.run(events.run_id().unwrap()).unwrap();
    drop(events);

    let rest: Vec<RunEvent> = run.stream_from(last).unwrap().map(Result::unwrap).collect();
    seen.extend(rest.iter().filter_map(values_i));
    assert_eq!(seen, vec![0, 1, 2, 3, 4], "each update once, in order");
    assert_eq!(
        rest.last().and_then(RunEvent::status),
        Some(RunStatus::Success)
    );
}

#[test]
fn stateless_stream_of_custom_events() {
    let server = Server::start();
    let client = server.client();
    let events: Vec<RunEvent> = client
        .stateless_runs()
        .stream(from_json::<RunCreateStateless>(CUSTOM, json!({"count": 2})))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let custom = events
        .iter()
        .filter(|e| matches!(e, RunEvent::Custom(_)))
        .count();
    assert_eq!(custom, 2);
}

#[test]
fn wait_and_a_deadline_that_elapses() {
    let server = Server::start();
    let client = server.client();
    let runs = client.new_thread().unwrap();
    let outcome = runs.wait(body(ECHO, json!({"q": "hello"})), LONG).unwrap();
    let WaitOutcome::Completed { values, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(values.get("q"), Some(&json!("hello")));

    let slow = runs.create(body(SLOW, json!({}))).unwrap();
    let err = slow.wait(Duration::from_millis(200)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::WaitDeadline,
                ..
            }
        ),
        "{err}"
    );
    slow.interrupt().unwrap();
    assert_eq!(slow.get().unwrap().status, RunStatus::Interrupted);
    assert_eq!(runs.list(None, None).unwrap().len(), 2);
}

#[test]
fn cancel_with_rollback_removes_the_run() {
    let server = Server::start();
    let client = server.client();
    let runs = client.new_thread().unwrap();
    let run = runs.create(body(SLOW, json!({}))).unwrap();
    run.cancel(CancelAction::Rollback, true).unwrap();
    let err = run.get().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");
}

#[test]
fn resume_by_hand_then_to_completion() {
    let server = Server::start();
    let client = server.client();
    let runs = client.new_thread().unwrap();

    let run = runs
        .create(body(INTERRUPT, json!({"interrupts": 1})))
        .unwrap();
    let WaitOutcome::Interrupted { payload, .. } = run.wait(LONG).unwrap() else {
        panic!("expected an interrupt")
    };
    assert!(payload.get("question").is_some(), "{payload}");
    run.resume(json!({"answer": "yes"})).unwrap();
    assert!(run.wait(LONG).unwrap().is_completed());

    let run = runs
        .create(body(INTERRUPT, json!({"interrupts": 3})))
        .unwrap();
    let mut asked = HashSet::new();
    let outcome = run
        .run_to_completion(LONG, 5, |question| {
            asked.insert(question["round"].clone());
            Ok(json!({"round": question["round"]}))
        })
        .unwrap();
    let WaitOutcome::Completed { values, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(values["answers"].as_array().map(Vec::len), Some(3));
    assert_eq!(asked.len(), 3);

    let run = runs
        .create(body(INTERRUPT, json!({"interrupts": 2})))
        .unwrap();
    let err = run
        .run_to_completion(LONG, 1, |_| Ok(json!({})))
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyInterrupts { rounds: 1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn inside_an_async_runtime_every_call_is_a_clear_error() {
    let client = Client::new("http://127.0.0.1:9").unwrap();
    for err in [
        client.search_agents().unwrap_err(),
        client.new_thread().unwrap_err(),
        client
            .stateless_runs()
            .wait(RunCreateStateless::default(), LONG)
            .unwrap_err(),
    ] {
        let Error::BlockingInRuntime = &err else {
            panic!("{err:?}")
        };
        let message = err.to_string();
        assert!(message.contains("inside an async runtime"), "{message}");
        assert!(message.contains("AcpClient"), "{message}");
    }
    // Dropping the client (and its runtime) here does not panic either.
    drop(client);
}
