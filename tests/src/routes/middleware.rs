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
    dialect::{CloseAfter, CloseSignal, NOT_IMPLEMENTED, NOT_IMPLEMENTED_DETAIL},
    errors::{ApiError, error_response},
    faults::{Fault, RequestKind, SseFaults, parse_fault_header},
    state::{AppState, ServerEvent, path_matches},
};

/// Faults active for the current request (inserted by [`track`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveFaults(pub Vec<Fault>);

impl ActiveFaults {
    /// The SSE faults among them.
    pub fn sse(&self) -> SseFaults {
        SseFaults::from_faults(&self.0)
    }
}

/// Records the request, emits [`ServerEvent::Request`] and applies faults: injected ones
/// matching the request plus those of the test-only `x-acp-fault` header.
pub(crate) async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
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
    if state.config.dialect.is_workflow_server()
        && NOT_IMPLEMENTED
            .iter()
            .any(|(m, p)| *m == method && path_matches(p, &path))
    {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, NOT_IMPLEMENTED_DETAIL)
            .into_response();
    }
    req.extensions_mut().insert(ActiveFaults(faults));
    next.run(req).await
}

/// Closes the connection once a response marked [`CloseAfter`] has been written: when hyper
/// drops the body (it has written the head and all `content-length` bytes by then), the
/// connection's [`CloseSignal`] is notified and the accept loop shuts the connection down
/// (no `Connection: close` header is added).
pub(crate) async fn close_after(req: Request, next: Next) -> Response {
    let signal = req.extensions().get::<CloseSignal>().cloned();
    let resp = next.run(req).await;
    let (Some(signal), Some(CloseAfter)) = (signal, resp.extensions().get::<CloseAfter>().copied())
    else {
        return resp;
    };
    let (parts, body) = resp.into_parts();
    let guard = NotifyOnDrop(signal);
    let stream = body.into_data_stream().map(move |chunk| {
        let _keep = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Notifies the connection's [`CloseSignal`] when dropped.
struct NotifyOnDrop(CloseSignal);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.0.notify_one();
    }
}
