//! Run ergonomics of `acp-client-ext` against the reference server: waits with deadlines (and the
//! servers whose wait answers early or is missing), cancel and rollback, resume and the
//! human-in-the-loop helper, create-and-wait, for thread runs and stateless runs.
//!
//! No sleeps: every wait is bounded by a generous deadline and asserts on what the server saw.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use acp_client_ext::types::{RunCreateStateful, RunCreateStateless};
use acp_client_ext::{AcpClient, CancelAction, Error, RunHandle, RunStatus, WaitOutcome};
use acp_reference_server::{Dialect, Fault, ReferenceServer, Target, WaitRoute, agents};
use serde_json::{Value, json};
use support::{T, client, early_wait_server, in_progress, server, wait_route_server};

/// A create body for `agent` with `input`, and a `config`: the Agent Workflow Server refuses a
/// run of an agent that declares a config schema (`echo` does) without one.
fn body(agent: &str, input: Value) -> Value {
    json!({"agent_id": support::agent_id(agent), "input": input, "config": {}})
}

fn stateless(agent: &str, input: Value) -> RunCreateStateless {
    serde_json::from_value(body(agent, input)).expect("stateless body")
}

fn stateful(agent: &str, input: Value) -> RunCreateStateful {
    serde_json::from_value(body(agent, input)).expect("stateful body")
}

/// Where a test's runs live.
#[derive(Clone, Copy, Debug)]
enum Scope {
    Thread,
    Stateless,
}

const SCOPES: [Scope; 2] = [Scope::Thread, Scope::Stateless];

/// Start a run of `agent` with `input`, on a fresh thread or stateless.
async fn start(c: &AcpClient, scope: Scope, agent: &str, input: Value) -> RunHandle {
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

fn wait_pattern(scope: Scope) -> &'static str {
    match scope {
        Scope::Thread => "/threads/*/runs/*/wait",
        Scope::Stateless => "/runs/*/wait",
    }
}

/// Start a `slow` run and cancel it with `action`.
async fn cancelled(c: &AcpClient, scope: Scope, action: CancelAction, wait: bool) -> RunHandle {
    let run = start(c, scope, "slow", json!({})).await;
    run.cancel(action, wait).await.expect("cancel");
    run
}

fn run_pattern(scope: Scope) -> &'static str {
    match scope {
        Scope::Thread => "/threads/*/runs/*",
        Scope::Stateless => "/runs/*",
    }
}

async fn a_short_deadline_times_out_and_the_run_goes_on(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for scope in SCOPES {
        let run = start(&c, scope, "slow", json!({})).await;
        let err = run
            .wait(Duration::from_millis(100))
            .await
            .expect_err("a slow run cannot finish in 100 ms");
        assert!(
            matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(100)),
            "{scope:?}: {err:?}"
        );
        assert_eq!(s.run_status(run.run_id()).await.as_deref(), Some("pending"));
        assert_eq!(run.get().await.expect("get").status, in_progress(dialect));
    }
}

#[tokio::test]
async fn a_wait_answered_with_204_is_repeated_until_the_run_completes() {
    let s = early_wait_server(Duration::from_millis(30), true).await;
    let c = client(&s);
    for scope in SCOPES {
        let run = start(&c, scope, "stream", json!({"count": 4, "delay_ms": 60})).await;
        let outcome = run.wait(T).await.expect("wait");
        let WaitOutcome::Completed {
            values, run: info, ..
        } = &outcome
        else {
            panic!("{scope:?}: {outcome:?}");
        };
        assert_eq!(values.get("count"), Some(&json!(4)));
        assert_eq!(info.status, RunStatus::Success);
        assert!(
            s.requests("GET", wait_pattern(scope)) >= 2,
            "{scope:?}: the 204 must have been followed by another wait"
        );
    }
}

#[tokio::test]
async fn an_early_200_with_a_pending_run_is_repeated_until_the_run_completes() {
    let s = early_wait_server(Duration::from_millis(30), false).await;
    let c = client(&s);
    for scope in SCOPES {
        let run = start(&c, scope, "stream", json!({"count": 4, "delay_ms": 60})).await;
        let outcome = run.wait(T).await.expect("wait");
        assert!(outcome.is_completed(), "{scope:?}: {outcome:?}");
        assert_eq!(outcome.status(), &RunStatus::Success);
        assert!(s.requests("GET", wait_pattern(scope)) >= 2, "{scope:?}");
    }
}

#[tokio::test]
async fn a_missing_or_unimplemented_wait_route_falls_back_to_polling() {
    for route in [
        WaitRoute::Missing404,
        WaitRoute::MethodNotAllowed405,
        WaitRoute::NotImplemented501,
        WaitRoute::NotImplemented500,
    ] {
        let s = wait_route_server(route).await;
        let c = client(&s);
        for scope in SCOPES {
            let run = start(&c, scope, "stream", json!({"count": 3, "delay_ms": 20})).await;
            let outcome = run
                .wait(T)
                .await
                .unwrap_or_else(|e| panic!("{route:?} {scope:?}: {e}"));
            // Polling learns the status only: the spec's Run has no output.
            assert!(
                matches!(
                    outcome,
                    WaitOutcome::Ended {
                        status: RunStatus::Success,
                        ..
                    }
                ),
                "{route:?} {scope:?}: {outcome:?}"
            );
            assert_eq!(outcome.run().run_id, run.run_id());
            assert_eq!(
                s.requests("GET", wait_pattern(scope)),
                1,
                "{route:?} {scope:?}: the wait route is asked once, then polling"
            );
            assert!(
                s.requests("GET", run_pattern(scope)) >= 1,
                "{route:?} {scope:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_404_about_the_run_is_not_mistaken_for_a_missing_route() {
    for route in [WaitRoute::Implemented, WaitRoute::Missing404] {
        let s = wait_route_server(route).await;
        let c = client(&s);
        let ghost = c
            .stateless_runs()
            .run(uuid::Uuid::new_v4())
            .expect("handle");
        let err = ghost.wait(T).await.expect_err("no such run");
        assert!(
            matches!(&err, Error::Api { status, .. } if status.as_u16() == 404),
            "{route:?}: {err:?}"
        );
        // Told apart by asking for the run, which is not there either.
        assert_eq!(s.requests("GET", "/runs/*"), 1, "{route:?}");
        assert_eq!(s.requests("GET", "/runs/*/wait"), 1, "{route:?}");
    }
}

#[tokio::test]
async fn a_wait_is_retried_after_gateway_errors() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let run = start(&c, Scope::Stateless, "echo", json!({"x": 1})).await;
    s.inject(Target::Wait, Fault::Status(503), 2);
    let outcome = run.wait(T).await.expect("wait");
    assert!(matches!(&outcome, WaitOutcome::Completed { values, .. } if values["x"] == 1));
    assert_eq!(s.requests("GET", "/runs/*/wait"), 3);
}

async fn the_fail_agent_gives_a_failed_outcome_with_its_errcode(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for scope in SCOPES {
        for (input, status) in [
            (json!({}), RunStatus::Error),
            (json!({"timeout": true}), RunStatus::Timeout),
        ] {
            let run = start(&c, scope, "fail", input).await;
            let outcome = run.wait(T).await.expect("wait");
            let WaitOutcome::Failed { error, run: info } = &outcome else {
                panic!("{scope:?}: {outcome:?}");
            };
            assert_eq!(error.errcode, agents::FAIL_ERRCODE);
            assert_eq!(error.run_id, run.run_id());
            assert!(error.description.contains("on purpose"));
            assert_eq!(info.status, status);
            assert!(outcome.to_string().contains("failed (42)"));
        }
    }
}

#[tokio::test]
async fn cancel_interrupt_leaves_an_interrupted_run() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    for scope in SCOPES {
        for wait in [true, false] {
            let run = cancelled(&c, scope, CancelAction::Interrupt, wait).await;
            let info = run.get().await.expect("the run is still there");
            assert_eq!(info.status, RunStatus::Interrupted, "{scope:?} wait={wait}");
            assert_eq!(
                s.run_status(run.run_id()).await.as_deref(),
                Some("interrupted")
            );
            // A wait on it now reports the cancellation, as a cancellation (the server marks
            // it `interrupted` with the interrupt payload `{"reason": "cancelled"}`).
            let outcome = run.wait(T).await.expect("wait");
            assert!(
                matches!(&outcome, WaitOutcome::Cancelled { run: info } if info.run_id == run.run_id()),
                "{outcome:?}"
            );
        }
        let run = start(&c, scope, "slow", json!({})).await;
        run.interrupt().await.expect("interrupt");
        assert_eq!(run.get().await.expect("get").status, RunStatus::Interrupted);
    }
}

#[tokio::test]
async fn cancel_rollback_removes_the_run() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    for scope in SCOPES {
        for wait in [true, false] {
            let run = cancelled(&c, scope, CancelAction::Rollback, wait).await;
            let err = run.get().await.expect_err("rolled back");
            assert!(
                matches!(&err, Error::Api { status, message, .. }
                    if status.as_u16() == 404 && message.contains("not found")),
                "{scope:?} wait={wait}: {err:?}"
            );
            assert_eq!(s.run_status(run.run_id()).await, None);
        }
        let run = start(&c, scope, "slow", json!({})).await;
        run.rollback().await.expect("rollback");
        assert_eq!(
            run.get()
                .await
                .expect_err("gone")
                .status()
                .map(|s| s.as_u16()),
            Some(404)
        );
        // Cancelling it again: the run is unknown.
        let err = run.interrupt().await.expect_err("gone");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    }
}

async fn interrupts_are_answered_until_the_run_completes(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for scope in SCOPES {
        let run = start(&c, scope, "interrupt", json!({"interrupts": 3})).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let outcome = run
            .run_to_completion(T, 5, async move |interrupt| {
                let question = interrupt.payload();
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                assert_eq!(question["round"], json!(n), "rounds arrive in order");
                assert_eq!(interrupt.round() as usize, n);
                assert!(
                    question["question"]
                        .as_str()
                        .is_some_and(|q| q.contains("Question"))
                );
                Ok(json!({"answer": n}))
            })
            .await
            .expect("completes");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "{scope:?}");
        let WaitOutcome::Completed { values, .. } = &outcome else {
            panic!("{scope:?}: {outcome:?}");
        };
        assert_eq!(
            values.get("answers"),
            Some(&json!([{"answer": 1}, {"answer": 2}, {"answer": 3}]))
        );
        assert_eq!(s.run_status(run.run_id()).await.as_deref(), Some("success"));
    }
}

#[tokio::test]
async fn too_many_interrupts_stop_the_helper_with_an_error() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    for scope in SCOPES {
        let run = start(&c, scope, "interrupt", json!({"interrupts": 3})).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let err = run
            .run_to_completion(T, 1, async move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
                Ok(json!({"answer": "yes"}))
            })
            .await
            .expect_err("3 interrupts, 1 allowed");
        assert!(
            matches!(&err, Error::TooManyInterrupts { run_id, .. } if *run_id == run.run_id())
                && err.to_string().contains(&run.run_id().to_string()),
            "{err:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The run stays interrupted and can still be answered by hand.
        assert_eq!(
            s.run_status(run.run_id()).await.as_deref(),
            Some("interrupted")
        );
        let info = run
            .resume(json!({"answer": "by hand"}))
            .await
            .expect("resume");
        assert_eq!(info.run_id, run.run_id());
    }
}

#[tokio::test]
async fn an_error_of_the_answer_closure_stops_the_helper() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let run = start(&c, Scope::Stateless, "interrupt", json!({"interrupts": 1})).await;
    let err = run
        .run_to_completion(T, 5, async |_| -> Result<Value, Error> {
            Err(Error::InvalidInput {
                field: "answer",
                reason: "the human said no".into(),
            })
        })
        .await
        .expect_err("the closure refused");
    assert!(err.to_string().contains("the human said no"));
    assert_eq!(s.requests("POST", "/runs/*"), 0, "nothing was resumed");
    assert_eq!(
        s.run_status(run.run_id()).await.as_deref(),
        Some("interrupted")
    );
}

async fn resume_of_a_run_that_is_not_interrupted_is_a_conflict(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    let run = start(&c, Scope::Stateless, "echo", json!({})).await;
    run.wait(T).await.expect("wait");
    let err = run
        .resume(json!({"late": true}))
        .await
        .expect_err("not interrupted");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409), "{err:?}");
}

async fn create_and_wait_returns_the_outcome(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    let outcome = c
        .stateless_runs()
        .wait(stateless("echo", json!({"hello": "world"})), T)
        .await
        .expect("create and wait");
    assert!(
        matches!(&outcome, WaitOutcome::Completed { values, .. } if values["hello"] == "world")
    );
    assert_eq!(s.requests("POST", "/runs/wait"), 1);

    let runs = c.new_thread().await.expect("thread");
    let outcome = runs
        .wait(stateful("echo", json!({"n": 7})), T)
        .await
        .expect("create and wait");
    assert!(matches!(&outcome, WaitOutcome::Completed { values, .. } if values["n"] == 7));
    assert_eq!(outcome.run().thread_id, Some(runs.thread_id()));
    let thread = c.get_thread(runs.thread_id()).await.expect("thread");
    // Through serde: the thread's values are a map in ACP 0.2.1 and an enum from 0.2.3.
    let values = serde_json::to_value(&thread.values).expect("values serialize");
    assert_eq!(values["n"], json!(7), "the thread holds the run's values");

    let outcome = c
        .stateless_runs()
        .wait(stateless("interrupt", json!({"interrupts": 1})), T)
        .await
        .expect("create and wait");
    assert!(matches!(&outcome, WaitOutcome::Interrupted { payload, .. } if payload["round"] == 1));
}

#[tokio::test]
async fn create_and_wait_goes_on_when_the_server_answers_early() {
    let s = early_wait_server(Duration::from_millis(30), false).await;
    let c = client(&s);
    let outcome = c
        .stateless_runs()
        .wait(stateless("stream", json!({"count": 3, "delay_ms": 60})), T)
        .await
        .expect("create and wait");
    assert!(matches!(&outcome, WaitOutcome::Completed { values, .. } if values["count"] == 3));
    assert_eq!(s.requests("POST", "/runs/wait"), 1, "one run created");
    assert!(
        s.requests("GET", "/runs/*/wait") >= 1,
        "then waited on by id"
    );
}

#[tokio::test]
async fn create_and_wait_with_a_204_quirk_fails_clearly_and_deadlines_hold() {
    let s = early_wait_server(Duration::from_millis(30), true).await;
    let c = client(&s);
    let err = c
        .stateless_runs()
        .wait(stateless("slow", json!({})), T)
        .await
        .expect_err("204 names no run");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    let s = ReferenceServer::start().await;
    let c = client(&s);
    let err = c
        .stateless_runs()
        .wait(stateless("slow", json!({})), Duration::from_millis(100))
        .await
        .expect_err("deadline");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn a_create_and_wait_is_not_retried() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    s.inject(Target::CreateRun, Fault::Status(503), 1);
    let err = c
        .stateless_runs()
        .wait(stateless("echo", json!({})), T)
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(s.requests("POST", "/runs/wait"), 1);
}

#[tokio::test]
async fn wait_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let run = start(&c, Scope::Stateless, "echo", json!({})).await;
    let fut = run.wait(T);
    assert_send(&fut);
    drop(fut);
    let r = run.clone();
    let outcome = tokio::spawn(async move { r.wait(T).await })
        .await
        .expect("task")
        .expect("wait");
    assert!(outcome.is_completed());
    let fut = run.run_to_completion(T, 1, |_| async { Ok(json!({})) });
    assert_send(&fut);
    assert!(fut.await.expect("done").is_completed());
}

support::both_dialects!(
    a_short_deadline_times_out_and_the_run_goes_on,
    the_fail_agent_gives_a_failed_outcome_with_its_errcode,
    interrupts_are_answered_until_the_run_completes,
    resume_of_a_run_that_is_not_interrupted_is_a_conflict,
    create_and_wait_returns_the_outcome,
);
