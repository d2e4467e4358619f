//! Stateless run routes (`/runs...`): the shared run handlers plus search.

use std::sync::Arc;

use axum::{Router, body::Bytes, extract::State, routing::post};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    request::{ApiResult, body, ok_json, search_page},
    runs,
};
use crate::{errors::ApiError, runs::Run, state::AppState, threads::contains};

/// The stateless run routes.
pub(crate) fn router() -> Router<AppState> {
    runs::routes("/runs").route("/runs/search", post(search))
}

#[derive(Deserialize)]
struct RunSearch {
    agent_id: Option<Uuid>,
    status: Option<String>,
    metadata: Option<Map<String, Value>>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `POST /runs/search`: stateless runs only, newest first.
async fn search(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<RunSearch>(&b)?;
    let status = match req.status.as_deref() {
        None => None,
        Some(s) => Some(
            st.config
                .dialect
                .parse_status(s)
                .ok_or_else(|| ApiError::unprocessable(format!("unknown status `{s}`")))?,
        ),
    };
    let mut rs: Vec<Arc<Run>> = st
        .runs
        .lock()
        .map(|m| {
            m.values()
                .filter(|r| r.spec.thread_id.is_none())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    rs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let found: Vec<Value> = rs
        .into_iter()
        .filter(|r| req.agent_id.is_none_or(|a| a == r.spec.agent.id()))
        .filter(|r| status.is_none_or(|s| s == r.status()))
        .filter(|r| {
            req.metadata
                .as_ref()
                .is_none_or(|m| r.spec.metadata.as_ref().is_some_and(|rm| contains(rm, m)))
        })
        .map(|r| r.to_json())
        .collect();
    ok_json(Value::Array(search_page(found, req.limit, req.offset)?))
}
