//! Thread routes: create, search, get, patch, delete, history and copy.

use axum::{
    Router,
    body::Bytes,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::request::{
    ApiResult, PathId, Q, body, no_content, ok_json, page, path_uuid, q_int, query, search_page,
};
use crate::{
    dialect,
    errors::ApiError,
    runs,
    state::AppState,
    threads::{Thread, contains, state_json},
};

/// The thread routes (runs on threads are in `thread_runs`).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/threads", post(create))
        .route("/threads/search", post(search))
        .route(
            "/threads/{thread_id}",
            get(get_thread).patch(patch).delete(delete),
        )
        .route("/threads/{thread_id}/history", get(history))
        .route("/threads/{thread_id}/copy", post(copy))
}

/// The thread named by the path (404 when unknown).
fn existing(st: &AppState, p: PathId) -> Result<Thread, ApiError> {
    let id = path_uuid(p, "thread_id")?;
    st.threads.get(id).ok_or_else(|| not_found(id))
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("thread {id} not found"))
}

#[derive(Deserialize)]
struct ThreadCreate {
    thread_id: Option<Uuid>,
    metadata: Option<Map<String, Value>>,
    if_exists: Option<IfExists>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum IfExists {
    Raise,
    DoNothing,
}

async fn create(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<ThreadCreate>(&b)?;
    let Some(metadata) = req.metadata else {
        if st.config.dialect.is_workflow_server() {
            // The Workflow Server stores the thread, then fails serializing it; the stored
            // thread breaks every later search.
            st.threads.create_broken();
            return Ok(dialect::internal_server_error());
        }
        return create_with(&st, req.thread_id, Map::new(), req.if_exists);
    };
    create_with(&st, req.thread_id, metadata, req.if_exists)
}

fn create_with(
    st: &AppState,
    thread_id: Option<Uuid>,
    metadata: Map<String, Value>,
    if_exists: Option<IfExists>,
) -> ApiResult {
    let id = thread_id.unwrap_or_else(Uuid::new_v4);
    match st.threads.create(id, metadata) {
        Ok(t) => ok_json(t.to_json()),
        Err(existing) if if_exists == Some(IfExists::DoNothing) => ok_json(existing.to_json()),
        Err(_) => Err(ApiError::conflict(format!("thread {id} already exists"))),
    }
}

#[derive(Deserialize)]
struct ThreadSearch {
    metadata: Option<Map<String, Value>>,
    values: Option<Map<String, Value>>,
    status: Option<ThreadStatusReq>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ThreadStatusReq {
    Idle,
    Busy,
    Interrupted,
    Error,
}

impl ThreadStatusReq {
    fn as_str(self) -> &'static str {
        match self {
            ThreadStatusReq::Idle => "idle",
            ThreadStatusReq::Busy => "busy",
            ThreadStatusReq::Interrupted => "interrupted",
            ThreadStatusReq::Error => "error",
        }
    }
}

async fn search(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<ThreadSearch>(&b)?;
    if st.threads.is_broken() {
        return Ok(dialect::internal_server_error());
    }
    let mut all = st.threads.all();
    all.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let found: Vec<Value> = all
        .into_iter()
        .filter(|t| {
            req.metadata
                .as_ref()
                .is_none_or(|m| contains(&t.metadata, m))
        })
        .filter(|t| {
            req.values
                .as_ref()
                .is_none_or(|v| t.values.as_ref().is_some_and(|tv| contains(tv, v)))
        })
        .filter(|t| req.status.is_none_or(|s| s.as_str() == t.status))
        .map(|t| t.to_json())
        .collect();
    ok_json(Value::Array(search_page(found, req.limit, req.offset)?))
}

async fn get_thread(State(st): State<AppState>, p: PathId) -> ApiResult {
    ok_json(existing(&st, p)?.to_json())
}

#[derive(Deserialize)]
struct ThreadPatch {
    /// Accepted and validated; patches always apply to the latest state.
    #[allow(dead_code)]
    checkpoint: Option<CheckpointReq>,
    metadata: Option<Map<String, Value>>,
    values: Option<Map<String, Value>>,
    messages: Option<Vec<Map<String, Value>>>,
}

#[derive(Deserialize)]
struct CheckpointReq {
    #[allow(dead_code)]
    checkpoint_id: Uuid,
}

async fn patch(State(st): State<AppState>, p: PathId, b: Bytes) -> ApiResult {
    let id = path_uuid(p, "thread_id")?;
    let (req, _) = body::<ThreadPatch>(&b)?;
    let messages = req
        .messages
        .map(|m| m.into_iter().map(Value::Object).collect());
    let t = st
        .threads
        .patch(id, req.metadata, req.values, messages)
        .ok_or_else(|| not_found(id))?;
    ok_json(t.to_json())
}

async fn delete(State(st): State<AppState>, p: PathId) -> ApiResult {
    let id = path_uuid(p, "thread_id")?;
    let t = st.threads.remove(id).ok_or_else(|| not_found(id))?;
    for r in t.runs {
        if let Some(run) = st.run(r) {
            runs::cancel(&st, &run, false);
            runs::delete(&st, &run);
        }
    }
    no_content()
}

async fn history(State(st): State<AppState>, p: PathId, q: Q) -> ApiResult {
    let id = path_uuid(p, "thread_id")?;
    let q = query(q)?;
    let limit = q_int(&q, "limit", 10, 0)?;
    let t = st.threads.get(id).ok_or_else(|| not_found(id))?;
    let mut cps: Vec<_> = t.checkpoints.iter().rev().collect();
    if let Some(before) = q.get("before")
        && let Some(pos) = cps.iter().position(|c| c.id.to_string() == *before)
    {
        cps = cps.split_off(pos + 1);
    }
    let d = st.config.dialect;
    let states: Vec<Value> = cps.into_iter().map(|c| state_json(c, d)).collect();
    ok_json(Value::Array(page(states, limit, 0)))
}

async fn copy(State(st): State<AppState>, p: PathId) -> ApiResult {
    let id = path_uuid(p, "thread_id")?;
    let t = st.threads.copy(id).ok_or_else(|| not_found(id))?;
    ok_json(t.to_json())
}
