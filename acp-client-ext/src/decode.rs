//! Decoding what a server sent into the caller's types: one place for the error a failed
//! decode becomes (it names the target type and keeps an excerpt of the bytes).

use crate::error::{Error, Result};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

/// Decode a JSON body, with an excerpt of it in the error.
pub(crate) fn decode_json<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    body: &[u8],
) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::decode(format!("{operation} response ({status})"), e, body))
}

/// Decode a JSON tree into `T`; the error names `T`.
pub(crate) fn decode_value<T: DeserializeOwned>(
    v: &Value,
    what: impl FnOnce() -> String,
) -> Result<T> {
    T::deserialize(v).map_err(|e| {
        Error::decode(
            format!("{} as {}", what(), std::any::type_name::<T>()),
            e,
            v.to_string().as_bytes(),
        )
    })
}

/// Decode raw JSON into `T`; the error names `T`.
pub(crate) fn decode_raw<T: DeserializeOwned>(
    raw: &RawValue,
    what: impl FnOnce() -> String,
) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|e| {
        Error::decode(
            format!("{} as {}", what(), std::any::type_name::<T>()),
            e,
            raw.get().as_bytes(),
        )
    })
}
