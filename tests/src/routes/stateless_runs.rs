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
use crate::{
    agents, dialect::internal_server_error, errors::ApiError, runs::Run, state::AppState,
    threads::contains,
};

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
///
/// Under [`crate::Dialect::WorkflowServer`] as its `search_stateless_runs`
/// (`apis/stateless_runs.py`) and `Runs.search_for_runs` (`services/runs.py`) do: without
/// `agent_id` only the default agent's runs (`_validate_run_search_request` fills in
/// `get_default_agent()`, the first agent: `echo`); thread runs too (`DB.search_run` filters
/// on `agent_id` and `status` only), oldest first, then `offset` and `limit`. A non-empty
/// `metadata` filter is never applied: `for run in enumerate(runs)` makes each `run` an
/// `(index, run)` tuple, so `run["thread_id"]` raises `TypeError` on the first run matching
/// the other filters, the unhandled 500; when none matches the answer is `[]`.
async fn search(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<RunSearch>(&b)?;
    if st.config.dialect.is_workflow_server() {
        return search_workflow_server(&st, req);
    }
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

fn search_workflow_server(st: &AppState, req: RunSearch) -> ApiResult {
    let status = match req.status.as_deref() {
        None => None,
        Some(s) => Some(
            st.config
                .dialect
                .parse_status(s)
                .ok_or_else(|| ApiError::unprocessable(format!("unknown status `{s}`")))?,
        ),
    };
    let agent = req.agent_id.unwrap_or(agents::ECHO);
    let mut rs: Vec<Arc<Run>> = st
        .runs
        .lock()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    rs.sort_by_key(|r| r.seq);
    let found: Vec<Arc<Run>> = rs
        .into_iter()
        .filter(|r| r.spec.agent.id() == agent)
        .filter(|r| status.is_none_or(|s| s == r.status()))
        .collect();
    if req.metadata.as_ref().is_some_and(|m| !m.is_empty()) && !found.is_empty() {
        return Ok(internal_server_error());
    }
    let found = found.into_iter().map(|r| r.to_json()).collect();
    ok_json(Value::Array(search_page(found, req.limit, req.offset)?))
}
