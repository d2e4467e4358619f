//! Request parsing and response helpers shared by every resource's handlers.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, rejection::PathRejection, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::errors::ApiError;

/// What every handler returns: a response or an [`ApiError`] rendered by the error middleware.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A single-segment path parameter, rejection kept so it can be answered with 422.
pub(crate) type PathId = Result<Path<String>, PathRejection>;

/// The query string as a map, rejection kept so it can be answered with 422.
pub(crate) type Q = Result<Query<HashMap<String, String>>, QueryRejection>;

/// Parses a UUID path or query parameter named `what` (422 when malformed).
pub(crate) fn uuid_param(s: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s)
        .map_err(|_| ApiError::unprocessable(format!("{what} must be a UUID, got `{s}`")))
}

/// The UUID in a single-segment path parameter.
pub(crate) fn path_uuid(p: PathId, what: &str) -> Result<Uuid, ApiError> {
    let Path(s) = p.map_err(|e| ApiError::unprocessable(e.body_text()))?;
    uuid_param(&s, what)
}

/// The query parameters (422 when unparsable).
pub(crate) fn query(q: Q) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::unprocessable(e.body_text()))
}

/// An integer query parameter `>= min`, `default` when absent.
pub(crate) fn q_int(
    q: &HashMap<String, String>,
    key: &str,
    default: i64,
    min: i64,
) -> Result<i64, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= min).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "query parameter `{key}` must be an integer >= {min}"
            ))
        }),
    }
}

/// Parses a JSON object body into `T` (422 on any mismatch); also returns the object itself.
pub(crate) fn body<T: DeserializeOwned>(
    bytes: &Bytes,
) -> Result<(T, Map<String, Value>), ApiError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::unprocessable(format!("body is not valid JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(ApiError::unprocessable("body must be a JSON object"));
    };
    let t = serde_json::from_value(Value::Object(obj.clone()))
        .map_err(|e| ApiError::unprocessable(format!("invalid body: {e}")))?;
    Ok((t, obj))
}

/// 200 with a JSON body.
pub(crate) fn ok_json(v: Value) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

/// 204 No Content.
pub(crate) fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The `limit`/`offset` window of `items`.
pub(crate) fn page<T>(items: Vec<T>, limit: i64, offset: i64) -> Vec<T> {
    let off = usize::try_from(offset).unwrap_or(0);
    let lim = usize::try_from(limit).unwrap_or(0);
    items.into_iter().skip(off).take(lim).collect()
}

/// Checks an optional body field is within `min..=max` (422 otherwise).
pub(crate) fn check_range(v: Option<i64>, key: &str, min: i64, max: i64) -> Result<(), ApiError> {
    match v {
        Some(n) if n < min || n > max => Err(ApiError::unprocessable(format!(
            "`{key}` must be between {min} and {max}"
        ))),
        _ => Ok(()),
    }
}

/// The `limit`/`offset` window of a search body (`limit` 1..=1000, default 10).
pub(crate) fn search_page<T>(
    items: Vec<T>,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<Vec<T>, ApiError> {
    check_range(limit, "limit", 1, 1000)?;
    check_range(offset, "offset", 0, i64::MAX)?;
    Ok(page(items, limit.unwrap_or(10), offset.unwrap_or(0)))
}
