//! Thread run routes (`/threads/{thread_id}/runs...`): the shared run handlers plus listing.

use std::sync::Arc;

use axum::{Router, extract::State, routing::get};
use serde_json::Value;

use super::{
    request::{ApiResult, PathId, Q, ok_json, page, path_uuid, q_int, query},
    runs,
};
use crate::{errors::ApiError, runs::Run, state::AppState};

/// The thread run routes.
pub(crate) fn router() -> Router<AppState> {
    runs::routes("/threads/{thread_id}/runs").route("/threads/{thread_id}/runs", get(list))
}

/// `GET /threads/{thread_id}/runs?limit=&offset=`: newest first.
///
/// Under [`crate::Dialect::WorkflowServer`]: every run of the thread, oldest first, as its
/// `list_thread_runs` (`apis/threads_runs.py`) returns `ThreadRuns.get_thread_runs(thread_id)`
/// (`services/thread_runs.py`: `DB.search_run({"thread_id": ...})`, insertion order) without
/// passing `limit` or `offset` on (which can't be given anyway: they are strict ints, see
/// [`crate::dialect`]), and 404 `{"detail":"Thread not found"}` for an unknown thread. Each run
/// carries the `metadata` it was created with under `creation` (`RunStateful` has no
/// `metadata` of its own).
async fn list(State(st): State<AppState>, p: PathId, q: Q) -> ApiResult {
    let t = path_uuid(p, "thread_id")?;
    if st.config.dialect.is_workflow_server() {
        let th = st
            .threads
            .get(t)
            .ok_or_else(|| ApiError::not_found("Thread not found"))?;
        let mut rs: Vec<Arc<Run>> = th.runs.iter().filter_map(|r| st.run(*r)).collect();
        rs.sort_by_key(|r| r.seq);
        return ok_json(Value::Array(rs.iter().map(|r| r.to_json()).collect()));
    }
    let q = query(q)?;
    let limit = q_int(&q, "limit", 10, 0)?;
    let offset = q_int(&q, "offset", 0, 0)?;
    let th = st
        .threads
        .get(t)
        .ok_or_else(|| ApiError::not_found(format!("thread {t} not found")))?;
    let mut rs: Vec<Arc<Run>> = th.runs.iter().filter_map(|r| st.run(*r)).collect();
    rs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let found = page(rs, limit, offset)
        .iter()
        .map(|r| r.to_json())
        .collect();
    ok_json(Value::Array(found))
}
