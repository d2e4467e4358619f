//! Request tracking and fault headers: records every request, emits
//! [`ServerEvent::Request`], resolves the faults that apply to it and answers the operations
//! the dialect lacks; plus closing the connection after a response marked [`CloseAfter`].

use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use futures::StreamExt;

use crate::{
    conn::ConnControl,
    dialect::{
        CloseAfter, NOT_IMPLEMENTED, NOT_IMPLEMENTED_DETAIL, strict_query_violations, uvicorn_head,
    },
    errors::{ApiError, error_response},
    faults::{Fault, RequestKind, SseFaults, parse_fault_header},
    state::{AppState, RecordedRequest, ServerEvent, path_matches},
};

/// Faults active for the current request (inserted by [`track`]), with the control of the
/// connection it came on.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveFaults(pub Vec<Fault>, pub Option<ConnControl>);

impl ActiveFaults {
    /// The SSE faults among them.
    pub fn sse(&self) -> SseFaults {
        SseFaults::from_faults(&self.0)
    }

    /// Call once the run is created: with [`Fault::ResetAfterCreate`] the connection is reset
    /// and this never returns (the connection's end drops the handler).
    pub async fn after_create(&self) {
        reset_on(self, &Fault::ResetAfterCreate).await;
    }
}

/// With `fault` among the active faults: resets the connection and never returns.
async fn reset_on(f: &ActiveFaults, fault: &Fault) {
    if let (true, Some(control)) = (f.0.contains(fault), f.1.as_ref()) {
        control.reset();
        std::future::pending::<()>().await;
    }
}

/// Records the request, emits [`ServerEvent::Request`] and applies faults: injected ones
/// matching the request plus those of the test-only `x-acp-fault` header.
pub(crate) async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_owned(), v)
        })
        .collect();
    let record = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: req.uri().query().map(str::to_owned),
        headers,
    };
    if let Ok(mut r) = state.requests.lock() {
        r.push(record);
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
    let faults = ActiveFaults(faults, req.extensions().get::<ConnControl>().cloned());
    // Before anything else, the body unread.
    reset_on(&faults, &Fault::ResetBeforeRead).await;
    if let Some(code) = faults.0.iter().find_map(|f| match f {
        Fault::Status(c) => Some(*c),
        _ => None,
    }) {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error_response(status, &format!("injected fault: status {code}"));
    }
    if state.config.dialect.is_workflow_server() {
        // FastAPI validates the parameters before the handler runs, even one that only raises
        // "Not implemented".
        let violations = strict_query_violations(req.method(), req.uri());
        if !violations.is_empty() {
            return ApiError::invalid("invalid query parameters", violations).into_response();
        }
    }
    if state.config.dialect.is_workflow_server()
        && NOT_IMPLEMENTED
            .iter()
            .any(|(m, p)| *m == method && path_matches(p, &path))
    {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, NOT_IMPLEMENTED_DETAIL)
            .into_response();
    }
    req.extensions_mut().insert(faults);
    next.run(req).await
}

/// Closes the connection once a response marked [`CloseAfter`] has been written: when hyper
/// drops the body (it has written the head and all `content-length` bytes by then), the
/// connection's [`ConnControl`] is doomed (no `Connection: close` header is added; see
/// `crate::conn` for what the client meets next).
pub(crate) async fn close_after(req: Request, next: Next) -> Response {
    let control = req.extensions().get::<ConnControl>().cloned();
    let resp = next.run(req).await;
    let (Some(control), Some(CloseAfter)) =
        (control, resp.extensions().get::<CloseAfter>().copied())
    else {
        return resp;
    };
    let (parts, body) = resp.into_parts();
    let guard = CloseOnDrop(control);
    let stream = body.into_data_stream().map(move |chunk| {
        let _keep = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Under [`crate::Dialect::WorkflowServer`], writes every response head as uvicorn and
/// Starlette do ([`uvicorn_head`]).
pub(crate) async fn workflow_server_head(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    if state.config.dialect.is_workflow_server() {
        uvicorn_head(&mut resp);
    }
    resp
}

/// Dooms the connection when dropped (with the response body).
struct CloseOnDrop(ConnControl);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close_after();
    }
}
