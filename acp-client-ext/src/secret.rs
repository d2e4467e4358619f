//! Secrets and credentials: a [`Secret`] never prints its value, and the header values made
//! from credentials are marked sensitive (so `reqwest` and `Debug` never print them either).

use crate::error::{Error, Result};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use std::fmt;

/// A credential. Its `Debug` and `Display` print `<redacted>`, never the value.
///
/// ```
/// let s = acp_client_ext::Secret::new("sk-123");
/// assert_eq!(s.to_string(), "<redacted>");
/// assert_eq!(s, acp_client_ext::Secret::new("sk-123"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    ///
    /// ```
    /// let s = acp_client_ext::Secret::new("sk-123");
    /// assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    /// ```
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    ///
    /// ```
    /// assert_eq!(acp_client_ext::Secret::new("sk-123").expose(), "sk-123");
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one call, in place of the client's.
#[derive(Clone)]
pub(crate) enum Credentials {
    ApiKey(Secret),
    Bearer(Secret),
    None,
}

impl Credentials {
    /// The headers of these credentials (empty for "none").
    pub(crate) fn headers(&self, api_key_header: &HeaderName) -> Result<HeaderMap> {
        let mut h = HeaderMap::new();
        match self {
            Credentials::ApiKey(key) => {
                let mut v = HeaderValue::from_str(key.expose()).map_err(|_| {
                    Error::invalid(
                        "api_key",
                        "contains characters not allowed in HTTP headers (value not shown)",
                    )
                })?;
                v.set_sensitive(true);
                h.insert(api_key_header.clone(), v);
            }
            Credentials::Bearer(token) => {
                h.insert(AUTHORIZATION, bearer(token)?);
            }
            Credentials::None => {}
        }
        Ok(h)
    }
}

pub(crate) fn header_name(field: &'static str, name: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid(field, format!("{name:?} is not a valid HTTP header name")))
}

pub(crate) fn bearer(token: &Secret) -> Result<HeaderValue> {
    if token.expose().trim().is_empty() {
        return Err(Error::invalid("bearer_token", "is empty"));
    }
    sensitive("bearer_token", &format!("Bearer {}", token.expose()))
}

pub(crate) fn sensitive(field: &'static str, value: &str) -> Result<HeaderValue> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "is empty"));
    }
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        // Never echo the value: it is a secret.
        Error::invalid(
            field,
            "contains characters not allowed in HTTP headers (value not shown)",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}
