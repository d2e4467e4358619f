//! Agent routes: search, get and descriptor.

use axum::{
    Router,
    body::Bytes,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

use super::request::{ApiResult, PathId, body, ok_json, path_uuid, search_page};
use crate::{
    agents::AgentKind,
    dialect::{Shape, violation},
    errors::ApiError,
    state::AppState,
};

/// The agent routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/agents/search", post(search))
        .route("/agents/{agent_id}", get(get_agent))
        .route("/agents/{agent_id}/descriptor", get(descriptor))
}

#[derive(Deserialize)]
struct AgentSearch {
    name: Option<String>,
    version: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn search(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, obj) = body::<AgentSearch>(&b)?;
    if st.config.dialect.is_workflow_server() && req.name.is_none() && req.version.is_none() {
        // The Workflow Server's search model requires one of the two (a pydantic validator).
        let msg = "Value error, At least one of 'name' or 'version' must be provided";
        return Err(ApiError::invalid(
            "`name` or `version` is required",
            vec![violation("value_error", &["body"], msg, Value::Object(obj))],
        ));
    }
    let found: Vec<Value> = AgentKind::served(st.config.dialect)
        .into_iter()
        .filter(|a| req.name.as_deref().is_none_or(|n| n == a.name()))
        .filter(|_| req.version.as_deref().is_none_or(|v| v == "0.1.0"))
        .map(AgentKind::to_json)
        .collect();
    ok_json(Value::Array(search_page(found, req.limit, req.offset)?))
}

fn agent(st: &AppState, p: PathId) -> Result<AgentKind, ApiError> {
    let id = path_uuid(p, "agent_id")?;
    AgentKind::served_by_id(id, st.config.dialect)
        .ok_or_else(|| ApiError::not_found(format!("agent {id} not found")))
}

async fn get_agent(State(st): State<AppState>, p: PathId) -> ApiResult {
    ok_json(agent(&st, p)?.to_json())
}

async fn descriptor(State(st): State<AppState>, p: PathId) -> ApiResult {
    let mut d = agent(&st, p)?.descriptor();
    st.config.dialect.fill(&mut d, Shape::Descriptor);
    ok_json(d)
}
