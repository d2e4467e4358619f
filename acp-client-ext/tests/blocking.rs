//! The blocking client (feature `blocking`) through the flows of the async examples — stream and
//! rejoin, wait with a deadline, cancel and rollback, resume by hand and to completion — and
//! through agent handles (a typed output, a stream as an iterator, a resumed stream, an
//! interrupt callback), `send_operation` and per-call options, against the reference server,
//! which runs on its own runtime thread; and a call from inside an async runtime, which must be
//! an error, not a panic.

use acp_client_ext::blocking::Client;
use acp_client_ext::event::TypedEvent;
use acp_client_ext::types::{RunCreateStateful, RunCreateStateless};
use acp_client_ext::{
    CancelAction, Error, RequestOptions, RetryPolicy, RunEvent, RunStatus, TimeoutKind, WaitOutcome,
};
use acp_reference_server::ReferenceServer;
use acp_reference_server::agents::{CUSTOM, ECHO, INTERRUPT, SLOW, STREAM};
use serde::{Deserialize, Serialize};
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
        Client::new(self.reference().url()).unwrap()
    }

    fn reference(&self) -> &ReferenceServer {
        self.server.as_ref().unwrap()
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
            let question = question.payload();
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

#[derive(Serialize)]
struct EchoIn {
    text: String,
    n: u32,
}

#[derive(Deserialize, Debug, PartialEq)]
struct EchoOut {
    text: String,
    n: u32,
}

#[test]
fn typed_agent_output_of_the_echo_run() {
    let server = Server::start();
    let client = server.client();
    let echo = client.agent("echo").unwrap().typed::<EchoIn, EchoOut>();
    assert_eq!(echo.name(), "echo");
    assert_eq!(echo.id(), ECHO.to_string());
    let input = EchoIn {
        text: "hello".into(),
        n: 7,
    };
    let out = echo.run(&input).output(LONG).unwrap();
    assert_eq!(
        out,
        EchoOut {
            text: "hello".into(),
            n: 7
        }
    );

    // With configuration and metadata, on a thread: the same output, the run on that thread.
    let thread = client.new_thread().unwrap();
    let on_thread = echo.on_thread(&thread).unwrap();
    let run = on_thread
        .run(&input)
        .config(&json!({"greeting": "hi"}))
        .metadata(&json!({"trace": "42"}))
        .create()
        .unwrap();
    assert_eq!(run.thread_id(), Some(thread.thread_id()));
    assert_eq!(
        run.wait(LONG).unwrap().output_as::<EchoOut>().unwrap(),
        EchoOut {
            text: "hello".into(),
            n: 7
        }
    );
    assert_eq!(thread.list(None, None).unwrap().len(), 1);
}

#[test]
fn agent_stream_is_an_iterator_with_the_async_accessors() {
    let server = Server::start();
    let client = server.client();
    let agent = client.agent("stream").unwrap();
    let mut events = agent.stream(&json!({"count": 4})).unwrap();
    let got: Vec<RunEvent> = events.by_ref().map(Result::unwrap).collect();
    assert_eq!(
        got.iter().filter_map(values_i).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    assert_eq!(events.last_status(), Some(&RunStatus::Success));
    assert_eq!(events.suspected_redeliveries(), 0);
    assert!(events.last_event_id().is_some());
    assert!(events.next().is_none(), "ended, and stays so");
    let run_id = events.run_id().unwrap();
    assert_eq!(
        server.reference().run_event_count(run_id),
        Some(got.len()),
        "every event of the run's log, once"
    );
}

#[test]
fn a_typed_stream_decodes_values_once_into_the_callers_type() {
    // `values_into` as the async stream has it: each update's values straight into `T`,
    // the stream's accessors kept.
    #[derive(Debug, Deserialize)]
    struct Progress {
        i: Option<u32>,
        count: Option<u32>,
    }
    let server = Server::start();
    let client = server.client();
    let events = client
        .agent("stream")
        .unwrap()
        .stream(&json!({"count": 3}))
        .unwrap();
    let mut typed = events.values_into::<Progress>();
    let mut progress = Vec::new();
    let mut finals = Vec::new();
    for event in typed.by_ref() {
        match event.unwrap() {
            TypedEvent::Values(update) if update.status == RunStatus::Pending => {
                progress.push(update.values.i.unwrap())
            }
            TypedEvent::Values(update) => finals.push(update.values.count),
            other => panic!("only values updates: {other:?}"),
        }
    }
    assert_eq!(progress, vec![0, 1, 2]);
    assert_eq!(finals, vec![Some(3)]);
    assert_eq!(typed.last_status(), Some(&RunStatus::Success));
    assert_eq!(typed.suspected_redeliveries(), 0);
    assert!(typed.next().is_none(), "ended, and stays so");
}

#[test]
fn resume_stream_goes_on_after_the_interrupt_without_replay() {
    let server = Server::start();
    let client = server.client();
    let agent = client.agent("interrupt").unwrap();
    let mut events = agent.stream(&json!({"interrupts": 1})).unwrap();
    let first: Vec<RunEvent> = events.by_ref().map(Result::unwrap).collect();
    assert_eq!(events.last_status(), Some(&RunStatus::Interrupted));

    let mut rest = events.resume_stream(json!({"answer": "yes"})).unwrap();
    let second: Vec<RunEvent> = rest.by_ref().map(Result::unwrap).collect();
    assert_eq!(rest.last_status(), Some(&RunStatus::Success));
    let run_id = rest.run_id().unwrap();
    assert_eq!(events.run_id(), Some(run_id));
    assert_eq!(
        server.reference().run_event_count(run_id),
        Some(first.len() + second.len()),
        "each event once: {first:?} then {second:?}"
    );
    assert_eq!(
        server
            .reference()
            .requests("POST", &format!("/runs/{run_id}")),
        1
    );
}

#[test]
fn run_to_completion_hands_each_interrupt_to_a_blocking_callback() {
    let server = Server::start();
    let client = server.client();
    let thread = client.new_thread().unwrap();
    let run = client
        .agent("interrupt")
        .unwrap()
        .on_thread(&thread)
        .unwrap()
        .run(&json!({"interrupts": 2}))
        .create()
        .unwrap();
    let mut seen = Vec::new();
    let outcome = run
        .run_to_completion(LONG, 5, |interrupt| {
            // The callback runs outside the runtime: it may make blocking calls itself.
            let status = run.get()?.status;
            seen.push((interrupt.run_id(), interrupt.round(), status));
            Ok(json!({"round": interrupt.round()}))
        })
        .unwrap();
    let WaitOutcome::Completed { values, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(values["answers"], json!([{"round": 1}, {"round": 2}]));
    assert_eq!(
        seen,
        vec![
            (run.run_id(), 1, RunStatus::Interrupted),
            (run.run_id(), 2, RunStatus::Interrupted)
        ]
    );

    // An error of the callback ends the conversation with that error.
    let run = thread
        .create(body(INTERRUPT, json!({"interrupts": 1})))
        .unwrap();
    let err = run
        .run_to_completion(LONG, 5, |interrupt| interrupt.payload_as::<String>())
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert_eq!(run.get().unwrap().status, RunStatus::Interrupted);
}

#[test]
fn send_operation_by_operation_id() {
    let server = Server::start();
    let client = server.client();
    let answer = client
        .send_operation("search_agents", &[], &[], Some(&json!({"name": "echo"})))
        .unwrap();
    assert!(answer.status().is_success());
    let agents: Vec<Value> = answer.json().unwrap();
    assert_eq!(agents.len(), 1, "{agents:?}");
    assert_eq!(agents[0]["agent_id"], json!(ECHO));

    // A streaming operation: its body read piece by piece.
    let mut answer = client
        .send_operation(
            "create_and_stream_stateless_run_output",
            &[],
            &[],
            Some(&json!({"agent_id": STREAM, "input": {"count": 2}})),
        )
        .unwrap();
    let content_type = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut body = Vec::new();
    while let Some(piece) = answer.chunk().unwrap() {
        body.extend_from_slice(&piece);
    }
    let body = String::from_utf8(body).unwrap();
    assert_eq!(
        body.matches("\nid:").count() + usize::from(body.starts_with("id:")),
        3,
        "{body}"
    );

    let thread = client.new_thread().unwrap();
    let id = thread.thread_id().to_string();
    let got: Value = client
        .send_operation("get_thread", &[("thread_id", &id)], &[], None)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got["thread_id"], json!(id));

    let err = client
        .send_operation("no_such_operation", &[], &[], None)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
}

#[test]
fn per_call_options_through_with_options() {
    let server = Server::start();
    let client = server.client();

    // A request timeout of the client's options: a loopback peer that never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let quick = Client::new(format!("http://{}", silent.local_addr().unwrap()))
        .unwrap()
        .with_options(
            RequestOptions::new()
                .timeout(Duration::from_millis(200))
                .retry(RetryPolicy::none()),
        );
    let err = quick.search_agents().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Request,
                after,
                ..
            } if after == Duration::from_millis(200)
        ),
        "{err}"
    );

    // A header on an agent handle reaches every request of its runs, and only of its runs.
    let echo = client.agent("echo").unwrap();
    let faulty = echo.with_options(RequestOptions::new().header("x-acp-fault", "status=418"));
    let err = faulty.run(&json!({"a": 1})).wait(LONG).unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(418), "{err}");
    assert_eq!(echo.run(&json!({"a": 1})).output(LONG).unwrap()["a"], 1);

    // A run handle's idle timeout and reconnects, kept by the stream it opens.
    let run = client
        .agent("stream")
        .unwrap()
        .run(&json!({"count": 3}))
        .create()
        .unwrap();
    let stalled = run.with_options(
        RequestOptions::new()
            .header("x-acp-fault", "stall-after=1")
            .idle_timeout(Duration::from_millis(200))
            .stream_reconnects(0),
    );
    let got: Vec<Result<RunEvent, Error>> = stalled.stream().unwrap().collect();
    assert_eq!(got.len(), 2, "one event, then the timeout: {got:?}");
    assert!(got[0].is_ok(), "{got:?}");
    assert!(
        matches!(
            got[1],
            Err(Error::Timeout {
                kind: TimeoutKind::IdleStream,
                after,
                ..
            }) if after == Duration::from_millis(200)
        ),
        "{got:?}"
    );
}

#[tokio::test]
async fn inside_an_async_runtime_agents_and_operations_are_clear_errors_too() {
    let client = Client::new("http://127.0.0.1:9").unwrap();
    for err in [
        client.agent("echo").unwrap_err(),
        client
            .send_operation("search_agents", &[], &[], None)
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::BlockingInRuntime), "{err:?}");
    }
}

#[cfg(feature = "validate")]
#[test]
fn a_validating_agent_refuses_bad_input_before_sending() {
    let server = Server::start();
    let client = server.client();
    let agent = client.agent("stream").unwrap().validating(true).unwrap();
    let before = server.reference().requests("POST", "/runs");
    let err = agent.run(&json!({"count": "five"})).create().unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    assert_eq!(
        server.reference().requests("POST", "/runs"),
        before,
        "nothing sent"
    );
    assert!(
        agent
            .run(&json!({"count": 1}))
            .wait(LONG)
            .unwrap()
            .is_completed()
    );
}
