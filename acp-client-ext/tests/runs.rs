//! Runs once created: cancel with `interrupt` (the run stays) or `rollback` (the run is gone),
//! resume of an interrupted run by hand and through `run_to_completion` (the human-in-the-loop
//! helper), for thread runs and stateless runs, some in both dialects. Creating runs is in every
//! other file; their waits are `waits.rs`, their streams `streams.rs`.
//!
//! No sleeps: every wait is bounded by a generous deadline and asserts on what the server saw.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use acp_client_ext::{CancelAction, Error, RunStatus, WaitOutcome};
use acp_reference_server::{Dialect, ReferenceServer};
use serde_json::{Value, json};
use support::scope::{SCOPES, Scope, cancelled, scopes, start};
use support::{T, client, server};

// ----- cancel and rollback --------------------------------------------------------------------

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

// ----- resume and run_to_completion -----------------------------------------------------------

async fn interrupts_are_answered_until_the_run_completes(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for &scope in scopes(dialect) {
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

support::both_dialects!(
    interrupts_are_answered_until_the_run_completes,
    resume_of_a_run_that_is_not_interrupted_is_a_conflict,
);

/// The Agent Workflow Server refuses any `limit` or `offset` in a query string (422): the list
/// is asked again without them, and the page asked for is cut from the server's answer.
#[tokio::test]
async fn a_server_refusing_limit_and_offset_still_lists_the_runs() {
    let s = server(Dialect::WorkflowServer).await;
    let c = client(&s);
    let runs = c.new_thread().await.expect("thread");
    for _ in 0..3 {
        let body = support::stateful(
            json!({"agent_id": acp_reference_server::agents::STREAM, "input": {"count": 1}}),
        );
        runs.wait(body, T).await.expect("create and wait");
    }
    let all = runs.list(None, None).await.expect("list");
    assert_eq!(all.len(), 3);
    let page = runs.list(Some(2), Some(1)).await.expect("a page");
    let ids = |v: &[acp_client_ext::RunInfo]| v.iter().map(|r| r.run_id).collect::<Vec<_>>();
    assert_eq!(ids(&page), ids(&all[1..3]));
    // The unfiltered list, then the page refused and asked again without its parameters.
    assert_eq!(s.requests("GET", "/threads/*/runs"), 3);
}

/// Cancel on a server without cancel that also refuses `wait` (the Agent Workflow Server: 422
/// for the query, then its `500 Not implemented`): the error says the operation is not
/// supported, not that a boolean was invalid.
#[tokio::test]
async fn cancel_on_a_server_without_cancel_says_it_is_not_supported() {
    let s = server(Dialect::WorkflowServer).await;
    let c = client(&s);
    let run = start(&c, Scope::Stateless, "slow", json!({})).await;
    let err = run.interrupt().await.expect_err("no cancel here");
    assert!(err.is_unsupported(), "{err:?}");
    assert!(err.to_string().contains("does not support"), "{err}");
    assert!(!err.to_string().contains("valid boolean"), "{err}");
    assert_eq!(
        s.requests("POST", "/runs/*/cancel"),
        2,
        "once with wait, once without"
    );
}
