//! HTTP routes: all 30 ACP 0.2.1 operations plus the request-tracking/fault middleware.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Extension, Router,
    body::{Body, Bytes},
    extract::{Path, Query, Request, State, rejection::PathRejection, rejection::QueryRejection},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    agents::AgentKind,
    errors::{ApiError, error_response, render_errors},
    faults::{Fault, RequestKind, SseFaults, parse_fault_header},
    runs::{self, NewRun, Run, RunStatus, StreamModes},
    sse::sse_response,
    state::{AppState, ServerEvent, WaitRoute},
    threads::{contains, state_json},
};

type ApiResult = Result<Response, ApiError>;

/// Faults active for the current request (inserted by the tracking middleware).
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveFaults(pub Vec<Fault>);

/// Builds the application router.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/agents/search", post(search_agents))
        .route("/agents/{agent_id}", get(get_agent))
        .route("/agents/{agent_id}/descriptor", get(get_descriptor))
        .route("/threads", post(create_thread))
        .route("/threads/search", post(search_threads))
        .route(
            "/threads/{thread_id}",
            get(get_thread).patch(patch_thread).delete(delete_thread),
        )
        .route("/threads/{thread_id}/history", get(thread_history))
        .route("/threads/{thread_id}/copy", post(copy_thread))
        .route(
            "/threads/{thread_id}/runs",
            post(create_thread_run).get(list_thread_runs),
        )
        .route("/threads/{thread_id}/runs/stream", post(stream_thread_run))
        .route("/threads/{thread_id}/runs/wait", post(wait_thread_run))
        .route(
            "/threads/{thread_id}/runs/{run_id}",
            get(get_thread_run)
                .post(resume_thread_run)
                .delete(delete_thread_run),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/stream",
            get(join_thread_run),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/wait",
            get(get_wait_thread_run),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/cancel",
            post(cancel_thread_run),
        )
        .route("/runs", post(create_stateless_run))
        .route("/runs/search", post(search_stateless_runs))
        .route("/runs/stream", post(stream_stateless_run))
        .route("/runs/wait", post(wait_stateless_run))
        .route(
            "/runs/{run_id}",
            get(get_stateless_run)
                .post(resume_stateless_run)
                .delete(delete_stateless_run),
        )
        .route("/runs/{run_id}/stream", get(join_stateless_run))
        .route("/runs/{run_id}/wait", get(get_wait_stateless_run))
        .route("/runs/{run_id}/cancel", post(cancel_stateless_run))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .with_state(state)
}

/// Records the request, emits [`ServerEvent::Request`] and applies faults.
async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    if let Ok(mut r) = state.requests.lock() {
        r.push((method.clone(), path.clone()));
    }
    state.events.emit(ServerEvent::Request {
        method: method.clone(),
        path: path.clone(),
    });
    let kind = RequestKind::classify(&method, &path);
    let mut faults = state.faults.take(&kind);
    if let Some(h) = req.headers().get("x-acp-fault") {
        let parsed = h
            .to_str()
            .map_err(|_| "x-acp-fault is not ASCII".to_owned())
            .and_then(parse_fault_header);
        match parsed {
            Ok(f) => faults.extend(f),
            Err(e) => {
                return ApiError::bad_request(format!("bad x-acp-fault header: {e}"))
                    .into_response();
            }
        }
    }
    if let Some(code) = faults.iter().find_map(|f| match f {
        Fault::Status(c) => Some(*c),
        _ => None,
    }) {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error_response(status, &format!("injected fault: status {code}"));
    }
    req.extensions_mut().insert(ActiveFaults(faults));
    next.run(req).await
}

// ----- helpers -------------------------------------------------------------------------------

fn uuid_param(s: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s)
        .map_err(|_| ApiError::unprocessable(format!("{what} must be a UUID, got `{s}`")))
}

fn path1(p: Result<Path<String>, PathRejection>, what: &str) -> Result<Uuid, ApiError> {
    let Path(s) = p.map_err(|e| ApiError::unprocessable(e.body_text()))?;
    uuid_param(&s, what)
}

fn path2(p: Result<Path<(String, String)>, PathRejection>) -> Result<(Uuid, Uuid), ApiError> {
    let Path((t, r)) = p.map_err(|e| ApiError::unprocessable(e.body_text()))?;
    Ok((uuid_param(&t, "thread_id")?, uuid_param(&r, "run_id")?))
}

type Q = Result<Query<HashMap<String, String>>, QueryRejection>;

fn query(q: Q) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::unprocessable(e.body_text()))
}

fn q_int(q: &HashMap<String, String>, key: &str, default: i64, min: i64) -> Result<i64, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= min).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "query parameter `{key}` must be an integer >= {min}"
            ))
        }),
    }
}

/// Parses a JSON object body into `T` (422 on any mismatch).
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<(T, Map<String, Value>), ApiError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::unprocessable(format!("body is not valid JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(ApiError::unprocessable("body must be a JSON object"));
    };
    let t = serde_json::from_value(Value::Object(obj.clone()))
        .map_err(|e| ApiError::unprocessable(format!("invalid body: {e}")))?;
    Ok((t, obj))
}

fn ok_json(v: Value) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn page<T>(items: Vec<T>, limit: i64, offset: i64) -> Vec<T> {
    let off = usize::try_from(offset).unwrap_or(0);
    let lim = usize::try_from(limit).unwrap_or(0);
    items.into_iter().skip(off).take(lim).collect()
}

fn check_range(v: Option<i64>, key: &str, min: i64, max: i64) -> Result<(), ApiError> {
    match v {
        Some(n) if n < min || n > max => Err(ApiError::unprocessable(format!(
            "`{key}` must be between {min} and {max}"
        ))),
        _ => Ok(()),
    }
}

// ----- agents --------------------------------------------------------------------------------

#[derive(Deserialize)]
struct AgentSearch {
    name: Option<String>,
    version: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn search_agents(b: Bytes) -> ApiResult {
    let (req, _) = body::<AgentSearch>(&b)?;
    check_range(req.limit, "limit", 1, 1000)?;
    check_range(req.offset, "offset", 0, i64::MAX)?;
    let found: Vec<Value> = crate::agents::ALL
        .into_iter()
        .filter(|a| req.name.as_deref().is_none_or(|n| n == a.name()))
        .filter(|_| req.version.as_deref().is_none_or(|v| v == "0.1.0"))
        .map(AgentKind::to_json)
        .collect();
    ok_json(Value::Array(page(
        found,
        req.limit.unwrap_or(10),
        req.offset.unwrap_or(0),
    )))
}

fn agent(p: Result<Path<String>, PathRejection>) -> Result<AgentKind, ApiError> {
    let id = path1(p, "agent_id")?;
    AgentKind::by_id(id).ok_or_else(|| ApiError::not_found(format!("agent {id} not found")))
}

async fn get_agent(p: Result<Path<String>, PathRejection>) -> ApiResult {
    ok_json(agent(p)?.to_json())
}

async fn get_descriptor(p: Result<Path<String>, PathRejection>) -> ApiResult {
    ok_json(agent(p)?.descriptor())
}

// ----- threads -------------------------------------------------------------------------------

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

async fn create_thread(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<ThreadCreate>(&b)?;
    let id = req.thread_id.unwrap_or_else(Uuid::new_v4);
    match st.threads.create(id, req.metadata.unwrap_or_default()) {
        Ok(t) => ok_json(t.to_json()),
        Err(existing) if req.if_exists == Some(IfExists::DoNothing) => ok_json(existing.to_json()),
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

async fn search_threads(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<ThreadSearch>(&b)?;
    check_range(req.limit, "limit", 1, 1000)?;
    check_range(req.offset, "offset", 0, i64::MAX)?;
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
    ok_json(Value::Array(page(
        found,
        req.limit.unwrap_or(10),
        req.offset.unwrap_or(0),
    )))
}

fn thread_id(st: &AppState, p: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let id = path1(p, "thread_id")?;
    if st.threads.get(id).is_none() {
        return Err(ApiError::not_found(format!("thread {id} not found")));
    }
    Ok(id)
}

async fn get_thread(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = thread_id(&st, p)?;
    let t = st
        .threads
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("thread {id} not found")))?;
    ok_json(t.to_json())
}

#[derive(Deserialize)]
struct ThreadPatch {
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

async fn patch_thread(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> ApiResult {
    let id = path1(p, "thread_id")?;
    let (req, _) = body::<ThreadPatch>(&b)?;
    let messages = req
        .messages
        .map(|m| m.into_iter().map(Value::Object).collect());
    let t = st
        .threads
        .patch(id, req.metadata, req.values, messages)
        .ok_or_else(|| ApiError::not_found(format!("thread {id} not found")))?;
    ok_json(t.to_json())
}

async fn delete_thread(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path1(p, "thread_id")?;
    let t = st
        .threads
        .remove(id)
        .ok_or_else(|| ApiError::not_found(format!("thread {id} not found")))?;
    for r in t.runs {
        if let Some(run) = st.run(r) {
            runs::cancel(&st, &run, false);
            runs::delete(&st, &run);
        }
    }
    no_content()
}

async fn thread_history(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    q: Q,
) -> ApiResult {
    let id = path1(p, "thread_id")?;
    let q = query(q)?;
    let limit = q_int(&q, "limit", 10, 0)?;
    let t = st
        .threads
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("thread {id} not found")))?;
    let mut cps: Vec<_> = t.checkpoints.iter().rev().collect();
    if let Some(before) = q.get("before")
        && let Some(pos) = cps.iter().position(|c| c.id.to_string() == *before)
    {
        cps = cps.split_off(pos + 1);
    }
    let states: Vec<Value> = cps.into_iter().map(state_json).collect();
    ok_json(Value::Array(page(states, limit, 0)))
}

async fn copy_thread(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path1(p, "thread_id")?;
    let t = st
        .threads
        .copy(id)
        .ok_or_else(|| ApiError::not_found(format!("thread {id} not found")))?;
    ok_json(t.to_json())
}

// ----- run creation --------------------------------------------------------------------------

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Values,
    Custom,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StreamModeReq {
    One(Mode),
    Many(Vec<Mode>),
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum OnDisconnect {
    Cancel,
    Continue,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Multitask {
    Reject,
    Rollback,
    Interrupt,
    Enqueue,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum IfNotExists {
    Create,
    Reject,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum OnCompletion {
    Delete,
    Keep,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RunConfigReq {
    tags: Option<Vec<String>>,
    recursion_limit: Option<i64>,
    configurable: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RunCreateReq {
    agent_id: Option<String>,
    input: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
    config: Option<RunConfigReq>,
    webhook: Option<String>,
    stream_mode: Option<StreamModeReq>,
    on_disconnect: Option<OnDisconnect>,
    multitask_strategy: Option<Multitask>,
    after_seconds: Option<i64>,
    stream_subgraphs: Option<bool>,
    if_not_exists: Option<IfNotExists>,
    on_completion: Option<OnCompletion>,
}

fn create_run(st: &AppState, thread: Option<Uuid>, b: &Bytes) -> Result<Arc<Run>, ApiError> {
    let (req, mut creation) = body::<RunCreateReq>(b)?;
    if req.webhook.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::unprocessable("`webhook` must not be empty"));
    }
    let agent = match req.agent_id.as_deref() {
        None => AgentKind::Echo,
        Some(a) => AgentKind::lookup(a)
            .ok_or_else(|| ApiError::not_found(format!("agent {a} not found")))?,
    };
    let modes = match &req.stream_mode {
        None => StreamModes {
            values: agent != AgentKind::Custom,
            custom: agent == AgentKind::Custom,
        },
        Some(StreamModeReq::One(m)) => StreamModes {
            values: *m == Mode::Values,
            custom: *m == Mode::Custom,
        },
        Some(StreamModeReq::Many(ms)) if ms.is_empty() => StreamModes {
            values: agent != AgentKind::Custom,
            custom: agent == AgentKind::Custom,
        },
        Some(StreamModeReq::Many(ms)) => StreamModes {
            values: ms.contains(&Mode::Values),
            custom: ms.contains(&Mode::Custom),
        },
    };
    let mut defaults = vec![
        ("stream_mode", Value::Null),
        ("on_disconnect", json!("cancel")),
        ("multitask_strategy", json!("reject")),
    ];
    if thread.is_some() {
        defaults.push(("stream_subgraphs", json!(false)));
        defaults.push(("if_not_exists", json!("reject")));
    } else {
        defaults.push(("on_completion", json!("delete")));
    }
    for (k, v) in defaults {
        creation.entry(k).or_insert(v);
    }
    let mut after = None;
    if let Some(t) = thread {
        match st.threads.get(t) {
            None if req.if_not_exists == Some(IfNotExists::Create) => {
                let _ = st.threads.create(t, Map::new());
            }
            None => return Err(ApiError::not_found(format!("thread {t} not found"))),
            Some(th) if !th.active.is_empty() => {
                match req.multitask_strategy.unwrap_or(Multitask::Reject) {
                    Multitask::Reject => {
                        return Err(ApiError::conflict(format!(
                            "thread {t} is busy with a pending run"
                        )));
                    }
                    Multitask::Enqueue => after = th.active.last().and_then(|r| st.run(*r)),
                    strategy => {
                        for r in th.active.iter().filter_map(|r| st.run(*r)) {
                            runs::cancel(st, &r, strategy == Multitask::Rollback);
                        }
                    }
                }
            }
            Some(_) => {}
        }
    }
    let delay = u64::try_from(req.after_seconds.unwrap_or(0)).unwrap_or(0);
    let p = NewRun {
        thread_id: thread,
        agent,
        creation: Value::Object(creation),
        input: req.input.unwrap_or_default(),
        metadata: req.metadata,
        modes,
        cancel_on_disconnect: req.on_disconnect != Some(OnDisconnect::Continue),
    };
    Ok(runs::start(st, p, after, delay))
}

fn sse_faults(f: &ActiveFaults) -> SseFaults {
    SseFaults::from_faults(&f.0)
}

async fn create_thread_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> ApiResult {
    let t = path1(p, "thread_id")?;
    ok_json(create_run(&st, Some(t), &b)?.to_json())
}

async fn create_stateless_run(State(st): State<AppState>, b: Bytes) -> ApiResult {
    ok_json(create_run(&st, None, &b)?.to_json())
}

async fn stream_thread_run(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    p: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> ApiResult {
    let t = path1(p, "thread_id")?;
    let run = create_run(&st, Some(t), &b)?;
    Ok(sse_response(&st, run, 0, sse_faults(&f), true))
}

async fn stream_stateless_run(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    b: Bytes,
) -> ApiResult {
    let run = create_run(&st, None, &b)?;
    Ok(sse_response(&st, run, 0, sse_faults(&f), true))
}

async fn wait_thread_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> ApiResult {
    let t = path1(p, "thread_id")?;
    let run = create_run(&st, Some(t), &b)?;
    wait_response(&st, &run).await
}

async fn wait_stateless_run(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let run = create_run(&st, None, &b)?;
    wait_response(&st, &run).await
}

async fn wait_response(st: &AppState, run: &Run) -> ApiResult {
    let settled = runs::wait_settled(run, st.config.wait_timeout).await;
    if !settled && st.config.wait_204_on_timeout {
        return no_content();
    }
    let mut o = json!({ "run": run.to_json() });
    if let (Some(out), Some(obj)) = (run.output().filter(|_| settled), o.as_object_mut()) {
        obj.insert("output".into(), out);
    }
    ok_json(o)
}

// ----- existing runs -------------------------------------------------------------------------

fn thread_run(
    st: &AppState,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Result<Arc<Run>, ApiError> {
    let (t, r) = path2(p)?;
    st.run(r)
        .filter(|run| run.thread_id == Some(t))
        .ok_or_else(|| ApiError::not_found(format!("run {r} not found on thread {t}")))
}

fn stateless_run(
    st: &AppState,
    p: Result<Path<String>, PathRejection>,
) -> Result<Arc<Run>, ApiError> {
    let r = path1(p, "run_id")?;
    st.run(r)
        .filter(|run| run.thread_id.is_none())
        .ok_or_else(|| ApiError::not_found(format!("run {r} not found")))
}

async fn get_thread_run(
    State(st): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    ok_json(thread_run(&st, p)?.to_json())
}

async fn get_stateless_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    ok_json(stateless_run(&st, p)?.to_json())
}

async fn list_thread_runs(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    q: Q,
) -> ApiResult {
    let t = path1(p, "thread_id")?;
    let q = query(q)?;
    let limit = q_int(&q, "limit", 10, 0)?;
    let offset = q_int(&q, "offset", 0, 0)?;
    let th = st
        .threads
        .get(t)
        .ok_or_else(|| ApiError::not_found(format!("thread {t} not found")))?;
    let mut rs: Vec<Arc<Run>> = th.runs.iter().filter_map(|r| st.run(*r)).collect();
    rs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    ok_json(Value::Array(
        page(rs, limit, offset)
            .iter()
            .map(|r| r.to_json())
            .collect(),
    ))
}

#[derive(Deserialize)]
struct RunSearch {
    agent_id: Option<Uuid>,
    status: Option<String>,
    metadata: Option<Map<String, Value>>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn search_stateless_runs(State(st): State<AppState>, b: Bytes) -> ApiResult {
    let (req, _) = body::<RunSearch>(&b)?;
    check_range(req.limit, "limit", 1, 1000)?;
    check_range(req.offset, "offset", 0, i64::MAX)?;
    let status = match req.status.as_deref() {
        None => None,
        Some(s) => Some(
            RunStatus::parse(s)
                .ok_or_else(|| ApiError::unprocessable(format!("unknown status `{s}`")))?,
        ),
    };
    let mut rs: Vec<Arc<Run>> = st
        .runs
        .lock()
        .map(|m| {
            m.values()
                .filter(|r| r.thread_id.is_none())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    rs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let found: Vec<Value> = rs
        .into_iter()
        .filter(|r| req.agent_id.is_none_or(|a| a == r.agent.id()))
        .filter(|r| status.is_none_or(|s| s == r.status()))
        .filter(|r| {
            req.metadata
                .as_ref()
                .is_none_or(|m| r.metadata.as_ref().is_some_and(|rm| contains(rm, m)))
        })
        .map(|r| r.to_json())
        .collect();
    ok_json(Value::Array(page(
        found,
        req.limit.unwrap_or(10),
        req.offset.unwrap_or(0),
    )))
}

fn resume_payload(b: &Bytes) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(b) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::unprocessable(
            "resume payload must be a JSON object",
        )),
        Err(e) => Err(ApiError::unprocessable(format!(
            "body is not valid JSON: {e}"
        ))),
    }
}

async fn resume_thread_run(
    State(st): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
    b: Bytes,
) -> ApiResult {
    let run = thread_run(&st, p)?;
    runs::resume(&st, &run, resume_payload(&b)?)?;
    ok_json(run.to_json())
}

async fn resume_stateless_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> ApiResult {
    let run = stateless_run(&st, p)?;
    runs::resume(&st, &run, resume_payload(&b)?)?;
    ok_json(run.to_json())
}

async fn delete_thread_run(
    State(st): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let run = thread_run(&st, p)?;
    runs::cancel(&st, &run, true);
    no_content()
}

async fn delete_stateless_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let run = stateless_run(&st, p)?;
    runs::cancel(&st, &run, true);
    no_content()
}

fn last_event_id(h: &HeaderMap) -> usize {
    h.get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(0)
}

async fn join_thread_run(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    h: HeaderMap,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let run = thread_run(&st, p)?;
    Ok(sse_response(
        &st,
        run,
        last_event_id(&h),
        sse_faults(&f),
        false,
    ))
}

async fn join_stateless_run(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    h: HeaderMap,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let run = stateless_run(&st, p)?;
    Ok(sse_response(
        &st,
        run,
        last_event_id(&h),
        sse_faults(&f),
        false,
    ))
}

fn wait_route_override(st: &AppState) -> Option<Response> {
    match st.config.wait_route {
        WaitRoute::Implemented => None,
        WaitRoute::Missing404 => Some(error_response(StatusCode::NOT_FOUND, "Not Found")),
        WaitRoute::MethodNotAllowed405 => Some(error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
        )),
        WaitRoute::NotImplemented501 => Some(error_response(
            StatusCode::NOT_IMPLEMENTED,
            "Not Implemented",
        )),
        WaitRoute::NotImplemented500 => {
            let mut r = Response::new(Body::from("Not implemented"));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Some(r)
        }
    }
}

async fn get_wait_thread_run(
    State(st): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    if let Some(r) = wait_route_override(&st) {
        return Ok(r);
    }
    let run = thread_run(&st, p)?;
    wait_response(&st, &run).await
}

async fn get_wait_stateless_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult {
    if let Some(r) = wait_route_override(&st) {
        return Ok(r);
    }
    let run = stateless_run(&st, p)?;
    wait_response(&st, &run).await
}

async fn cancel(st: &AppState, run: Arc<Run>, q: Q) -> ApiResult {
    let q = query(q)?;
    let wait = match q.get("wait").map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "`wait` must be a boolean, got `{other}`"
            )));
        }
    };
    let rollback = match q.get("action").map(String::as_str) {
        None | Some("interrupt") => false,
        Some("rollback") => true,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "`action` must be `interrupt` or `rollback`, got `{other}`"
            )));
        }
    };
    runs::cancel(st, &run, rollback);
    if wait {
        runs::wait_settled(&run, st.config.wait_timeout).await;
    }
    no_content()
}

async fn cancel_thread_run(
    State(st): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Q,
) -> ApiResult {
    let run = thread_run(&st, p)?;
    cancel(&st, run, q).await
}

async fn cancel_stateless_run(
    State(st): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    q: Q,
) -> ApiResult {
    let run = stateless_run(&st, p)?;
    cancel(&st, run, q).await
}
