//! The exactly-once peers ([`Fault::ResetAfterCreate`], [`Fault::ResetBeforeRead`]) on every
//! route creating a run, in both dialects, and the lookups a client makes after a creation
//! whose fate it does not know: `POST /runs/search` and `GET /threads/{thread_id}/runs`, by the
//! `metadata` it tagged the creation with. Raw HTTP over loopback; no sleeps.

mod support;

use acp_reference_server::{Dialect, Fault, ReferenceServer, ServerEvent, Target, agents};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use support::*;

/// The routes creating a run, under `/runs` or `/threads/{t}/runs`.
const CREATE_SUFFIXES: [&str; 3] = ["", "/wait", "/stream"];

/// A create body for the `stream` agent (no config needed in either dialect) tagged `tag`.
fn tagged(tag: Uuid) -> String {
    json!({
        "agent_id": agents::STREAM,
        "input": {"count": 1},
        "metadata": {"acp_client_request_id": tag},
    })
    .to_string()
}

/// Whether `POST path` creates a run in `dialect` (the Workflow Server's thread background
/// create creates none).
fn creates(dialect: Dialect, path: &str) -> bool {
    !(dialect.is_workflow_server() && path.starts_with("/threads/") && path.ends_with("/runs"))
}

/// Sends `POST path` with `body` and extra `headers` on a fresh connection and expects a reset
/// without a byte of response.
async fn expect_reset_on(s: &ReferenceServer, path: &str, headers: &[&str], body: &str) {
    let mut sock = raw_connect(s).await;
    raw_send(&mut sock, &raw_request(s, "POST", path, headers, body)).await;
    expect_reset(&mut sock).await;
}

/// The retry after a fault: an ordinary answer (the Workflow Server's thread background create
/// stays its 500).
async fn retry(s: &ReferenceServer, path: &str, body: &str) {
    let (_, resp) = raw_exchange(s, &raw_request(s, "POST", path, &[], body)).await;
    let want = if creates(s.dialect(), path) {
        "HTTP/1.1 200 OK"
    } else {
        "HTTP/1.1 500 Internal Server Error"
    };
    assert_eq!(resp.status_line(), want, "{path}: {}", resp.body);
}

/// Every create route: the stateless ones and those of a fresh thread.
async fn create_paths(s: &ReferenceServer) -> Vec<String> {
    let t = new_thread(s).await;
    CREATE_SUFFIXES
        .iter()
        .map(|x| format!("/runs{x}"))
        .chain(
            CREATE_SUFFIXES
                .iter()
                .map(|x| format!("/threads/{t}/runs{x}")),
        )
        .collect()
}

/// Waits until every run of `s` settled (a create-and-stream cut by the client may cancel its
/// run), so the next creation on a thread is not refused as busy.
async fn settle_all(s: &ReferenceServer) {
    for rid in s.run_ids() {
        let settled = |e: &ServerEvent| matches!(e, ServerEvent::RunStatus { run_id, status } if *run_id == rid && status != "pending");
        s.wait_for(settled, T).await.expect("the run settles");
    }
}

async fn reset_after_create_creates_the_run_once(dialect: Dialect) {
    let s = ReferenceServer::with_dialect(dialect).await;
    for path in create_paths(&s).await {
        let tag = Uuid::new_v4();
        let before = s.runs_created();
        s.inject(Target::CreateRun, Fault::ResetAfterCreate, 1);
        expect_reset_on(&s, &path, &[], &tagged(tag)).await;
        if creates(dialect, &path) {
            assert_eq!(s.runs_created(), before + 1, "{path}: created, then reset");
            let rid = *s.run_ids().last().expect("the run");
            assert_eq!(
                s.run_metadata(rid),
                Some(
                    json!({"acp_client_request_id": tag})
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                ),
                "{path}"
            );
            let run_path = match path.strip_suffix("/wait").or(path.strip_suffix("/stream")) {
                Some(base) => format!("{base}/{rid}"),
                None => format!("{path}/{rid}"),
            };
            let (st, run) = get(&s, &run_path).await;
            assert_eq!(st, StatusCode::OK, "{run_path}: {run}");
            assert_eq!(
                run["creation"]["metadata"]["acp_client_request_id"],
                json!(tag)
            );
        } else {
            assert_eq!(s.runs_created(), before, "{path}: nothing to create");
        }
        settle_all(&s).await;
        retry(&s, &path, &tagged(tag)).await;
        let created = usize::from(creates(dialect, &path)) * 2;
        assert_eq!(
            s.runs_created(),
            before + created,
            "{path}: the fault fired once"
        );
        settle_all(&s).await;
    }
}

async fn reset_before_read_creates_nothing(dialect: Dialect) {
    let s = ReferenceServer::with_dialect(dialect).await;
    for path in create_paths(&s).await {
        let body = tagged(Uuid::new_v4());
        let before = s.runs_created();
        s.inject(Target::CreateRun, Fault::ResetBeforeRead, 1);
        expect_reset_on(&s, &path, &[], &body).await;
        assert_eq!(s.runs_created(), before, "{path}: nothing created");
        retry(&s, &path, &body).await;
        let created = usize::from(creates(dialect, &path));
        assert_eq!(
            s.runs_created(),
            before + created,
            "{path}: the retry creates it"
        );
        settle_all(&s).await;
    }
    // Injected for creations, it is not consumed by anything else.
    s.inject(Target::CreateRun, Fault::ResetBeforeRead, 1);
    let (st, _) = post(&s, "/runs/search", json!({"agent_id": agents::STREAM})).await;
    assert_eq!(st, StatusCode::OK);
    expect_reset_on(&s, "/runs", &[], &tagged(Uuid::new_v4())).await;
}

async fn reset_faults_by_header(dialect: Dialect) {
    let s = ReferenceServer::with_dialect(dialect).await;
    let body = tagged(Uuid::new_v4());
    expect_reset_on(
        &s,
        "/runs/wait",
        &["x-acp-fault: reset-after-create"],
        &body,
    )
    .await;
    assert_eq!(s.runs_created(), 1);
    expect_reset_on(
        &s,
        "/runs/stream",
        &["x-acp-fault: reset-before-read"],
        &body,
    )
    .await;
    assert_eq!(s.runs_created(), 1);
    // Header faults last one request.
    retry(&s, "/runs/wait", &body).await;
    assert_eq!(s.runs_created(), 2);
}

/// After a create whose answer was lost, the client finds its run by the tag: on a thread with
/// `GET /threads/{t}/runs` (both dialects), stateless with `POST /runs/search` by `metadata`
/// (the spec's dialect) or by listing and reading `creation.metadata` (the Workflow Server,
/// whose metadata filter crashes).
async fn lost_runs_are_found_by_their_tag(dialect: Dialect) {
    let s = ReferenceServer::with_dialect(dialect).await;
    let t = new_thread(&s).await;
    let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
    let (st, _) = post(
        &s,
        "/runs",
        serde_json::from_str(&tagged(other)).unwrap_or_default(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    s.inject(Target::CreateRun, Fault::ResetAfterCreate, 2);
    expect_reset_on(&s, "/runs/wait", &[], &tagged(mine)).await;
    expect_reset_on(&s, &format!("/threads/{t}/runs/wait"), &[], &tagged(mine)).await;
    let ids = s.run_ids();
    let (stateless, on_thread) = (ids[1], ids[2]);

    let (st, listed) = get(&s, &format!("/threads/{t}/runs")).await;
    assert_eq!(st, StatusCode::OK);
    let found: Vec<&Value> = listed
        .as_array()
        .expect("runs")
        .iter()
        .filter(|r| r["creation"]["metadata"]["acp_client_request_id"] == json!(mine))
        .collect();
    assert_eq!(found.len(), 1, "{listed}");
    assert_eq!(found[0]["run_id"], json!(on_thread));

    let by_tag = json!({"agent_id": agents::STREAM, "metadata": {"acp_client_request_id": mine}});
    let (st, hits) = post(&s, "/runs/search", by_tag).await;
    match dialect {
        Dialect::Spec => {
            assert_eq!(st, StatusCode::OK);
            let ids: Vec<Value> = hits
                .as_array()
                .expect("runs")
                .iter()
                .map(|r| r["run_id"].clone())
                .collect();
            assert_eq!(ids, [json!(stateless)], "stateless runs only, by metadata");
        }
        Dialect::WorkflowServer => {
            assert_eq!(
                (st, hits),
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!("Internal Server Error")
                ),
                "the metadata filter crashes"
            );
            let (st, all) = post(&s, "/runs/search", json!({"agent_id": agents::STREAM})).await;
            assert_eq!(st, StatusCode::OK);
            let tags: Vec<(Value, Value)> = all
                .as_array()
                .expect("runs")
                .iter()
                .map(|r| {
                    (
                        r["run_id"].clone(),
                        r["creation"]["metadata"]["acp_client_request_id"].clone(),
                    )
                })
                .collect();
            assert_eq!(
                tags,
                [
                    (json!(ids[0]), json!(other)),
                    (json!(stateless), json!(mine)),
                    (json!(on_thread), json!(mine)),
                ],
                "every run of the agent, thread runs too, oldest first"
            );
            // Without `agent_id`: the default agent's (`echo`) runs only; none matches, so
            // the metadata filter never runs.
            let tag_only = json!({"metadata": {"acp_client_request_id": mine}});
            assert_eq!(
                post(&s, "/runs/search", tag_only).await,
                (StatusCode::OK, json!([]))
            );
        }
    }
}

support::both_dialects!(
    reset_after_create_creates_the_run_once,
    reset_before_read_creates_nothing,
    reset_faults_by_header,
    lost_runs_are_found_by_their_tag,
);
