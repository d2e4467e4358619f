//! Error responses.
//!
//! The ACP spec declares `ErrorResponse` as a bare JSON string, so by default every error body
//! is a JSON string such as `"run not found"`. With [`crate::ServerConfig::detail_errors`], and
//! always under [`crate::Dialect::WorkflowServer`], the server answers `{"detail": "..."}`
//! instead, like the FastAPI-based servers do; a request-validation error then carries
//! FastAPI's list of violations (`{"detail": [{"type", "loc", "msg", "input"}, ...]}`). Handlers only
//! produce [`ApiError`]; the conversion to the configured shape happens in one middleware
//! (see `render_errors`).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use serde_json::{Value, json};

use crate::state::AppState;

/// An error answered to the client: an HTTP status plus a human readable message.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub status: StatusCode,
    /// Message placed in the body.
    pub message: String,
    /// FastAPI's request-validation errors, answered as the `detail` list in the
    /// `{"detail": ...}` shape (the spec shape only carries `message`).
    pub violations: Option<Vec<Value>>,
}

/// Marker extension carrying an error response's message and violations, read by
/// [`render_errors`].
#[derive(Debug, Clone)]
pub(crate) struct ErrorMessage(pub String, pub Option<Vec<Value>>);

impl ApiError {
    /// An error with the given status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            violations: None,
        }
    }
    /// 422 with FastAPI's list of violations (see [`crate::dialect`]).
    pub fn invalid(message: impl Into<String>, violations: Vec<Value>) -> Self {
        Self {
            violations: Some(violations),
            ..Self::unprocessable(message)
        }
    }
    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// 422 Unprocessable Entity (schema validation failure).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
    /// 400 Bad Request (only for misuse of the test-only fault header).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

/// Builds a spec-shaped (JSON string) error response carrying the [`ErrorMessage`] marker.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    let body = serde_json::Value::String(message.to_owned()).to_string();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.extensions_mut()
        .insert(ErrorMessage(message.to_owned(), None));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = error_response(self.status, &self.message);
        resp.extensions_mut()
            .insert(ErrorMessage(self.message, self.violations));
        resp
    }
}

/// Middleware rewriting error bodies to `{"detail": ...}` when `detail_errors` is set or the
/// dialect is the Workflow Server's.
pub(crate) async fn render_errors(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let resp = next.run(req).await;
    if !state.config.detail_errors && !state.config.dialect.is_workflow_server() {
        return resp;
    }
    let Some(ErrorMessage(msg, violations)) = resp.extensions().get::<ErrorMessage>().cloned()
    else {
        return resp;
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = match violations {
        Some(list) => crate::dialect::detail_list_json(&list),
        None => json!({ "detail": msg }).to_string(),
    };
    Response::from_parts(parts, Body::from(body))
}
