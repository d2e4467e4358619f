//! Request tracking and fault headers: records every request, emits
//! [`ServerEvent::Request`], and resolves the faults that apply to it.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    errors::{ApiError, error_response},
    faults::{Fault, RequestKind, SseFaults, parse_fault_header},
    state::{AppState, ServerEvent},
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
    req.extensions_mut().insert(ActiveFaults(faults));
    next.run(req).await
}
