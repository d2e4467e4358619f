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
async fn list(State(st): State<AppState>, p: PathId, q: Q) -> ApiResult {
    let t = path_uuid(p, "thread_id")?;
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
