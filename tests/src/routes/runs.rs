//! Run handlers shared by thread runs (`/threads/{thread_id}/runs...`) and stateless runs
//! (`/runs...`): creation (background, stream, wait), get, resume, delete, join, wait and
//! cancel. The two differ only in where a run lives, which [`Parent`] (new runs) and
//! [`ScopedRun`] (existing runs) read from the path.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Extension, Router,
    body::{Body, Bytes},
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::Response,
    routing::{get as get_route, post},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    middleware::ActiveFaults,
    request::{ApiResult, Q, body, no_content, ok_json, query, uuid_param},
};
use crate::{
    agents::AgentKind,
    dialect::{Shape, internal_server_error, violation},
    errors::{ApiError, error_response},
    runs::{self, Run, RunSpec, RunStatus, StreamModes},
    sse::sse_response,
    state::{AppState, WaitRoute},
};

/// The run routes under `base` (`/threads/{thread_id}/runs` or `/runs`), the same for thread
/// and stateless runs.
pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new()
        .route(base, post(create))
        .route(&format!("{base}/stream"), post(create_stream))
        .route(&format!("{base}/wait"), post(create_wait))
        .route(
            &format!("{base}/{{run_id}}"),
            get_route(get).post(resume).delete(delete),
        )
        .route(&format!("{base}/{{run_id}}/stream"), get_route(join))
        .route(&format!("{base}/{{run_id}}/wait"), get_route(wait))
        .route(&format!("{base}/{{run_id}}/cancel"), post(cancel))
}

async fn path_params(
    parts: &mut Parts,
    st: &AppState,
) -> Result<HashMap<String, String>, ApiError> {
    Path::<HashMap<String, String>>::from_request_parts(parts, st)
        .await
        .map(|Path(m)| m)
        .map_err(|e| ApiError::unprocessable(e.body_text()))
}

/// Where a new run goes: the path's `{thread_id}`, or no thread (stateless).
pub(crate) struct Parent(pub Option<Uuid>);

impl FromRequestParts<AppState> for Parent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let params = path_params(parts, st).await?;
        let thread = params.get("thread_id").map(|t| uuid_param(t, "thread_id"));
        Ok(Parent(thread.transpose()?))
    }
}

/// The existing run the path names: `/threads/{t}/runs/{r}` only finds runs of thread `t`,
/// `/runs/{r}` only stateless runs (404 otherwise).
pub(crate) struct ScopedRun(pub Arc<Run>);

impl FromRequestParts<AppState> for ScopedRun {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let params = path_params(parts, st).await?;
        let thread = params
            .get("thread_id")
            .map(|t| uuid_param(t, "thread_id"))
            .transpose()?;
        let run_id = params.get("run_id").map(String::as_str).unwrap_or_default();
        let r = uuid_param(run_id, "run_id")?;
        let not_found = match thread {
            Some(t) => format!("run {r} not found on thread {t}"),
            None => format!("run {r} not found"),
        };
        st.run(r)
            .filter(|run| run.spec.thread_id == thread)
            .map(ScopedRun)
            .ok_or_else(|| ApiError::not_found(not_found))
    }
}

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

/// Validated only (the agents ignore their configuration).
#[derive(Deserialize)]
#[allow(dead_code)]
struct RunConfigReq {
    tags: Option<Vec<String>>,
    recursion_limit: Option<i64>,
    configurable: Option<Map<String, Value>>,
}

/// `RunCreateStateful` and `RunCreateStateless` in one: the thread-only and stateless-only
/// fields are accepted on both.
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

fn stream_modes(req: Option<&StreamModeReq>, agent: AgentKind) -> StreamModes {
    let default = StreamModes {
        values: agent != AgentKind::Custom,
        custom: agent == AgentKind::Custom,
    };
    match req {
        None => default,
        Some(StreamModeReq::Many(ms)) if ms.is_empty() => default,
        Some(StreamModeReq::One(m)) => StreamModes {
            values: *m == Mode::Values,
            custom: *m == Mode::Custom,
        },
        Some(StreamModeReq::Many(ms)) => StreamModes {
            values: ms.contains(&Mode::Values),
            custom: ms.contains(&Mode::Custom),
        },
    }
}

/// A create body that passed validation, with the agent it names (`None`: no such agent).
struct CheckedCreate {
    req: RunCreateReq,
    creation: Map<String, Value>,
    agent: Option<AgentKind>,
}

/// Validates a create body (422s), as far as it can be without the agent existing.
fn check_create(st: &AppState, b: &Bytes) -> Result<CheckedCreate, ApiError> {
    let (req, creation) = body::<RunCreateReq>(b)?;
    if req.webhook.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::unprocessable("`webhook` must not be empty"));
    }
    let agent = match req.agent_id.as_deref() {
        None => Some(AgentKind::Echo),
        // The spec's `agent_id` is the agent's id (a UUID): a name is an unknown agent.
        Some(a) => Uuid::parse_str(a)
            .ok()
            .and_then(|id| AgentKind::served_by_id(id, st.config.dialect)),
    };
    if st.config.dialect.is_workflow_server()
        && agent.is_some_and(AgentKind::declares_config)
        && req.config.is_none()
    {
        // The Workflow Server validates `config` against the agent's config schema, and a
        // missing `config` fails that validation.
        let name = agent.map(AgentKind::name).unwrap_or_default();
        let input = Value::Object(creation);
        return Err(ApiError::invalid(
            format!("agent {name} requires `config`"),
            vec![violation(
                "missing",
                &["body", "config"],
                "Field required",
                input,
            )],
        ));
    }
    Ok(CheckedCreate {
        req,
        creation,
        agent,
    })
}

/// Creates and starts a run from a create body, on `thread` or stateless.
fn create_run(st: &AppState, thread: Option<Uuid>, b: &Bytes) -> Result<Arc<Run>, ApiError> {
    let CheckedCreate {
        req,
        mut creation,
        agent,
    } = check_create(st, b)?;
    let dialect = st.config.dialect;
    let agent = agent.ok_or_else(|| {
        ApiError::not_found(format!(
            "agent {} not found",
            req.agent_id.as_deref().unwrap_or_default()
        ))
    })?;
    let modes = stream_modes(req.stream_mode.as_ref(), agent);
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
    let after = match thread {
        Some(t) => make_room(st, t, req.if_not_exists, req.multitask_strategy)?,
        None => None,
    };
    let delay = u64::try_from(req.after_seconds.unwrap_or(0)).unwrap_or(0);
    let p = RunSpec {
        thread_id: thread,
        agent,
        creation: Value::Object(creation),
        input: req.input.unwrap_or_default(),
        metadata: req.metadata,
        modes,
        cancel_on_disconnect: req.on_disconnect != Some(OnDisconnect::Continue),
        dialect,
    };
    Ok(runs::start(st, p, after, delay))
}

/// Prepares thread `t` for a new run: creates it (`if_not_exists`) and applies the multitask
/// strategy when busy. Returns the run to start after (`enqueue`).
fn make_room(
    st: &AppState,
    t: Uuid,
    if_not_exists: Option<IfNotExists>,
    strategy: Option<Multitask>,
) -> Result<Option<Arc<Run>>, ApiError> {
    match st.threads.get(t) {
        None if if_not_exists == Some(IfNotExists::Create) => {
            let _ = st.threads.create(t, Map::new());
            Ok(None)
        }
        None => Err(ApiError::not_found(format!("thread {t} not found"))),
        Some(th) if !th.active.is_empty() => match strategy.unwrap_or(Multitask::Reject) {
            Multitask::Reject => Err(ApiError::conflict(format!(
                "thread {t} is busy with a pending run"
            ))),
            Multitask::Enqueue => Ok(th.active.last().and_then(|r| st.run(*r))),
            strategy => {
                for r in th.active.iter().filter_map(|r| st.run(*r)) {
                    runs::cancel(st, &r, strategy == Multitask::Rollback);
                }
                Ok(None)
            }
        },
        Some(_) => Ok(None),
    }
}

/// `POST .../runs`: creates a background run.
///
/// Under [`crate::Dialect::WorkflowServer`], on a thread: the unhandled 500 and no run at all,
/// whatever the thread (unknown, busy) once the body passed validation. Its `create_thread_run`
/// (`apis/threads_runs.py`) does `return ThreadRuns.put(run_create_stateful, thread_id)`
/// without `await`: `put` (`services/thread_runs.py`) is a coroutine function, so the handler
/// returns an un-run coroutine, FastAPI's validation of it against the response model
/// `RunStateful` raises `ResponseValidationError`, which no handler catches.
pub(crate) async fn create(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    Parent(t): Parent,
    b: Bytes,
) -> ApiResult {
    if st.config.dialect.is_workflow_server() && t.is_some() {
        check_create(&st, &b)?;
        f.after_create().await;
        return Ok(internal_server_error());
    }
    let run = create_run(&st, t, &b)?;
    f.after_create().await;
    ok_json(run.to_json())
}

/// `POST .../runs/stream`: creates a run and streams it.
pub(crate) async fn create_stream(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    Parent(t): Parent,
    b: Bytes,
) -> ApiResult {
    let run = create_run(&st, t, &b)?;
    f.after_create().await;
    Ok(sse_response(&st, run, 0, f.sse(), true))
}

/// `POST .../runs/wait`: creates a run and waits for it.
pub(crate) async fn create_wait(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    Parent(t): Parent,
    b: Bytes,
) -> ApiResult {
    let run = create_run(&st, t, &b)?;
    f.after_create().await;
    wait_response(&st, &run).await
}

/// The answer of a wait (create-and-wait or join-and-wait) once the run settled or the server
/// gave up.
///
/// Under [`crate::Dialect::WorkflowServer`], a thread run that settles `interrupted` is the
/// unhandled 500 (the run stays, interrupted): `_wait_and_return_run_output`
/// (`apis/threads_runs.py`, shared by `create_and_wait_for_thread_run_output` and
/// `wait_for_thread_run_output`) only knows success and, for anything else, builds
/// `RunError(..., description=run_output)` whose `description` is a `StrictStr`, and the
/// interrupt's payload is an object: pydantic's `ValidationError` is caught by nothing. (The
/// stateless one, `apis/stateless_runs.py`, answers a `RunInterrupt`.)
async fn wait_response(st: &AppState, run: &Run) -> ApiResult {
    let settled = runs::wait_settled(run, st.config.wait_timeout).await;
    if settled
        && st.config.dialect.is_workflow_server()
        && run.spec.thread_id.is_some()
        && run.status() == RunStatus::Interrupted
    {
        return Ok(internal_server_error());
    }
    if !settled && st.config.wait_204_on_timeout {
        return no_content();
    }
    let mut o = json!({ "run": run.to_json() });
    if let (Some(out), Some(obj)) = (run.output().filter(|_| settled), o.as_object_mut()) {
        obj.insert("output".into(), out);
    }
    st.config.dialect.fill(&mut o, Shape::WaitResponse);
    ok_json(o)
}

/// `GET .../runs/{run_id}`.
pub(crate) async fn get(ScopedRun(run): ScopedRun) -> ApiResult {
    ok_json(run.to_json())
}

/// `POST .../runs/{run_id}`: resumes an interrupted run.
pub(crate) async fn resume(
    State(st): State<AppState>,
    ScopedRun(run): ScopedRun,
    b: Bytes,
) -> ApiResult {
    let payload = match serde_json::from_slice::<Value>(&b) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return Err(ApiError::unprocessable(
                "resume payload must be a JSON object",
            ));
        }
        Err(e) => {
            return Err(ApiError::unprocessable(format!(
                "body is not valid JSON: {e}"
            )));
        }
    };
    runs::resume(&st, &run, payload)?;
    ok_json(run.to_json())
}

/// `DELETE .../runs/{run_id}`: cancels and deletes.
pub(crate) async fn delete(State(st): State<AppState>, ScopedRun(run): ScopedRun) -> ApiResult {
    runs::cancel(&st, &run, true);
    no_content()
}

/// `GET .../runs/{run_id}/stream`: joins the run's stream, after `Last-Event-ID` if given.
pub(crate) async fn join(
    State(st): State<AppState>,
    Extension(f): Extension<ActiveFaults>,
    h: HeaderMap,
    ScopedRun(run): ScopedRun,
) -> ApiResult {
    let last_event_id = h
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(0);
    Ok(sse_response(&st, run, last_event_id, f.sse(), false))
}

/// `GET .../runs/{run_id}/wait`, or the configured [`WaitRoute`] stand-in (answered before
/// the path is even looked at, as a missing route would be).
pub(crate) async fn wait(
    State(st): State<AppState>,
    run: Result<ScopedRun, ApiError>,
) -> ApiResult {
    if let Some(r) = wait_route_override(&st) {
        return Ok(r);
    }
    wait_response(&st, &run?.0).await
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

/// `POST .../runs/{run_id}/cancel?wait=&action=interrupt|rollback`.
pub(crate) async fn cancel(
    State(st): State<AppState>,
    ScopedRun(run): ScopedRun,
    q: Q,
) -> ApiResult {
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
    runs::cancel(&st, &run, rollback);
    if wait {
        runs::wait_settled(&run, st.config.wait_timeout).await;
    }
    no_content()
}
