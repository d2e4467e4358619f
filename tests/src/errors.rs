//! Error responses.
//!
//! The ACP spec declares `ErrorResponse` as a bare JSON string, so by default every error body
//! is a JSON string such as `"run not found"`. With [`crate::ServerConfig::detail_errors`] the
//! server answers `{"detail": "..."}` instead, like the FastAPI-based servers do. Handlers only
//! produce [`ApiError`]; the conversion to the configured shape happens in one middleware
//! (see `render_errors`).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

/// An error answered to the client: an HTTP status plus a human readable message.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub status: StatusCode,
    /// Message placed in the body.
    pub message: String,
}

/// Marker extension carrying the message of an error response, read by [`render_errors`].
#[derive(Debug, Clone)]
pub(crate) struct ErrorMessage(pub String);

impl ApiError {
    /// An error with the given status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
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
        .insert(ErrorMessage(message.to_owned()));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status, &self.message)
    }
}

/// Middleware rewriting error bodies to `{"detail": "..."}` when `detail_errors` is set.
pub(crate) async fn render_errors(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let resp = next.run(req).await;
    if !state.config.detail_errors {
        return resp;
    }
    let Some(ErrorMessage(msg)) = resp.extensions().get::<ErrorMessage>().cloned() else {
        return resp;
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::json!({ "detail": msg }).to_string();
    Response::from_parts(parts, Body::from(body))
}
