//! Threads: create (with metadata, which the Agent Workflow Server needs), get, search,
//! delete, `new_thread`, and a run on a thread, in both dialects.

mod support;

use std::time::Duration;

use acp_client_ext::types::ThreadCreate;
use acp_reference_server::{Dialect, agents};
use serde_json::json;
use support::{api_error, client_at};

async fn thread_helpers_create_get_delete(dialect: Dialect) {
    let s = support::server(dialect).await;
    let c = client_at(&s.url());
    let create: ThreadCreate =
        serde_json::from_value(json!({"metadata": {"owner": "tests"}})).expect("body");
    let thread = c.create_thread(create).await.expect("thread");
    let got = c.get_thread(&thread.thread_id).await.expect("get");
    assert_eq!(got.metadata.get("owner"), Some(&json!("tests")));

    let found = c
        .search_threads(acp_client_ext::types::ThreadSearchRequest::default())
        .await
        .expect("search");
    assert!(found.iter().any(|t| t.thread_id == thread.thread_id));

    // A stateful run in a few lines.
    let runs = c.thread_runs(&thread.thread_id).expect("runs");
    let outcome = runs
        .wait(
            serde_json::from_value::<acp_client_ext::types::RunCreateStateful>(
                json!({"agent_id": agents::ECHO, "input": {"k": "v"}, "config": {}}),
            )
            .expect("body"),
            Duration::from_secs(20),
        )
        .await
        .expect("run");
    assert!(outcome.is_completed());

    c.delete_thread(&thread.thread_id).await.expect("delete");
    let err = c.get_thread(&thread.thread_id).await.expect_err("deleted");
    assert_eq!(api_error(&err).0, 404);
    let err = c
        .delete_thread(&thread.thread_id)
        .await
        .expect_err("deleted twice");
    assert_eq!(api_error(&err).0, 404);

    // `new_thread` sends `metadata`, without which the Workflow Server answers 500 and keeps a
    // thread that breaks every later search.
    let runs = c.new_thread().await.expect("new thread");
    assert!(c.get_thread(runs.thread_id()).await.is_ok());
    let found = c
        .search_threads(acp_client_ext::types::ThreadSearchRequest::default())
        .await
        .expect("search after new_thread");
    assert!(
        found
            .iter()
            .any(|t| t.thread_id == runs.thread_id().to_string())
    );
}

support::both_dialects!(thread_helpers_create_get_delete,);
