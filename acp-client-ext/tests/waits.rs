//! Waits (`wait_for_*_run_output`, `create_and_wait_*`, `RunHandle::wait`): deadlines that
//! hold, servers whose wait answers early (`204`, a pending run) or is missing (then the run is
//! polled), gateways timing out the long poll, and the outcomes a wait reports, for thread runs
//! and stateless runs, several in both dialects.
//!
//! No sleeps: every wait is bounded by a generous deadline and asserts on what the server saw.

mod support;

use std::time::Duration;

use acp_client_ext::{
    AcpClient, Error, RetryPolicy, RunScope, RunStatus, TimeoutKind, WaitOutcome,
};
use acp_reference_server::{Dialect, Fault, ReferenceServer, Target, WaitRoute, agents};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use support::loopback::{ID, json, seen, serve};
use support::scope::{
    SCOPES, Scope, run_pattern, scopes, start, stateful, stateless, wait_pattern,
};
use support::{
    T, client, create_run, early_wait_server, fast_retries, in_progress, server, stream_body,
    wait_route_server,
};

// ----- deadlines ------------------------------------------------------------------------------

async fn a_short_deadline_times_out_and_the_run_goes_on(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for &scope in scopes(dialect) {
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
async fn a_missed_wait_deadline_is_its_own_kind() {
    let (addr, _) = serve(|_, _| StatusCode::NO_CONTENT.into_response()).await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(fast_retries())
        .build()
        .unwrap();
    let run = client.run(RunScope::Stateless, ID).unwrap();
    let err = run.wait(Duration::from_millis(200)).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::WaitDeadline, after, .. } if after == Duration::from_millis(200)),
        "{err:?}"
    );
}

/// A zero deadline is an immediate timeout that sends nothing. It used to send a request now and
/// then (CI: "nothing sent: left 1, right 0"): `tokio::time::timeout` polls the wait before its
/// timer, and a zero timer is only seen elapsed at the timer's next tick, while the wait connects
/// and sends. 50 rounds of a wait on a fresh client (the connect is what raced), a wait on a
/// client with a pooled connection, and a create-and-wait (which would create a run).
#[tokio::test]
async fn a_zero_wait_deadline_is_an_immediate_timeout() {
    let server = ReferenceServer::start().await;
    let run_id = create_run(&client(&server), 1, 0).await.run_id();
    let warm = client(&server);
    warm.run(RunScope::Stateless, run_id)
        .expect("handle")
        .get()
        .await
        .expect("a pooled connection");
    let zero_deadline = |e: &Error| matches!(e, Error::Timeout { kind: TimeoutKind::WaitDeadline, after, .. } if after.is_zero());
    for round in 0..50 {
        for c in [client(&server), warm.clone()] {
            let run = c.run(RunScope::Stateless, run_id).expect("handle");
            let err = run.wait(Duration::ZERO).await.expect_err("no time at all");
            assert!(zero_deadline(&err), "round {round}: {err:?}");
        }
        let err = client(&server)
            .stateless_runs()
            .wait(stream_body(1, 0), Duration::ZERO)
            .await
            .expect_err("no time at all");
        assert!(zero_deadline(&err), "round {round}: {err:?}");
    }
    assert_eq!(server.requests("GET", "/runs/*/wait"), 0, "nothing sent");
    assert_eq!(server.requests("POST", "/runs/wait"), 0, "no run created");
}

// ----- servers that answer early, gateways, missing routes ------------------------------------

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
async fn wait_answered_204_until_the_deadline() {
    let server = early_wait_server(Duration::from_millis(20), true).await;
    let c = client(&server);
    let body = support::stateless(json!({"agent_id": agents::SLOW}));
    let run = c.stateless_runs().create(body).await.expect("create");
    let deadline = Duration::from_millis(400);
    let err = run.wait(deadline).await.expect_err("never settles");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == deadline),
        "{err:?}"
    );
    assert!(server.requests("GET", "/runs/*/wait") >= 2, "asked again");
    assert_eq!(
        server.run_status(run.run_id()).await.as_deref(),
        Some("pending")
    );
}

#[tokio::test]
async fn a_gateway_timing_out_the_long_poll_is_waited_through() {
    let (addr, log) = serve(|n, _| match n {
        0 => json(StatusCode::GATEWAY_TIMEOUT, r#""upstream timed out""#),
        1 => (StatusCode::BAD_GATEWAY, "bad gateway").into_response(),
        2 => StatusCode::NO_CONTENT.into_response(),
        _ => json(
            StatusCode::OK,
            &format!(
                r#"{{"run":{{"run_id":"{ID}","status":"success"}},"output":{{"type":"result","values":{{"a":1}}}}}}"#
            ),
        ),
    })
    .await;
    // No request retries: the wait itself waits through what gateways answer.
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let run = client.run(RunScope::Stateless, ID).unwrap();
    let outcome = run.wait(T).await.unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(seen(&log).len(), 4);
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
async fn wait_route_missing() {
    let server = wait_route_server(WaitRoute::Missing404).await;
    let c = client(&server);
    let run = create_run(&c, 3, 10).await;
    let outcome = run.wait(T).await.expect("polled to the end");
    assert_eq!(outcome.status(), &RunStatus::Success);
    assert_eq!(server.requests("GET", "/runs/*/wait"), 1, "tried once");
    assert!(
        server.requests("GET", "/runs/*") >= 2,
        "checked, then polled"
    );
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

// ----- outcomes and create-and-wait -----------------------------------------------------------

async fn the_fail_agent_gives_a_failed_outcome_with_its_errcode(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for &scope in scopes(dialect) {
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

/// A wait's run keeps the whole object as the server wrote it (`RunInfo::raw`, parsed from the
/// answer's text on first use), on both wait paths (`POST /runs/wait` and `GET .../wait`) and
/// in both dialects: the Workflow Server writes its own time format and `null`s, which stay
/// there as written while the typed fields read them.
async fn a_waits_run_keeps_the_whole_object_as_written(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    let created = c
        .stateless_runs()
        .wait(stateless("echo", json!({"hello": "world"})), T)
        .await
        .expect("create and wait");
    let run = create_run(&c, 1, 0).await;
    let waited = run.wait(T).await.expect("wait");
    for outcome in [&created, &waited] {
        let info = outcome.run();
        let raw = info.raw();
        assert_eq!(raw["run_id"], json!(info.run_id.to_string()), "{raw}");
        assert_eq!(raw["status"], json!(info.status.as_str()), "{raw}");
        assert_eq!(raw["agent_id"].as_str(), info.agent_id.as_deref(), "{raw}");
        assert!(
            raw["created_at"].is_string() && info.created_at.is_some(),
            "{raw}"
        );
        assert!(raw.get("thread_id").is_none_or(|t| t.is_null()), "{raw}");
    }
}

support::both_dialects!(
    a_short_deadline_times_out_and_the_run_goes_on,
    the_fail_agent_gives_a_failed_outcome_with_its_errcode,
    create_and_wait_returns_the_outcome,
    a_waits_run_keeps_the_whole_object_as_written,
);

/// An intermediary that cuts every long-poll (a gateway answering each `GET .../wait` with a
/// 502): the wait reads the run between polls and ends once the run has settled, not at the
/// caller's deadline after a thousand polls.
#[tokio::test]
async fn a_wait_whose_every_long_poll_is_cut_ends_when_the_run_has_settled() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let run = start(&c, Scope::Stateless, "echo", json!({"x": 1})).await;
    s.inject(Target::Wait, Fault::Status(502), 1000);
    let outcome = run.wait(Duration::from_secs(600)).await.expect("wait");
    assert_eq!(outcome.status(), &RunStatus::Success, "{outcome:?}");
    let polls = s.requests("GET", "/runs/*/wait");
    assert!((1..100).contains(&polls), "{polls} long-polls");
    assert!(s.requests("GET", "/runs/*") >= 1, "the run was read");
}
