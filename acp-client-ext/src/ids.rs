//! Ids given by the caller, checked before any request.

use crate::error::{Error, Result};
use uuid::Uuid;

/// Something that names a thread or run: a [`Uuid`], or a string holding one.
///
/// A string that is not a UUID is refused before any request, with an error naming the argument.
///
/// ```
/// use acp_client_ext::IntoId;
/// let id = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11".into_id("thread_id")?;
/// assert_eq!(id.to_string(), "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11");
/// let err = "42".into_id("thread_id").unwrap_err();
/// assert!(err.to_string().contains("thread_id"));
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
pub trait IntoId {
    /// The id as a UUID, or an [`Error::InvalidInput`] naming `field`.
    fn into_id(self, field: &'static str) -> Result<Uuid>;
}

impl IntoId for Uuid {
    fn into_id(self, _field: &'static str) -> Result<Uuid> {
        Ok(self)
    }
}

impl IntoId for &Uuid {
    fn into_id(self, _field: &'static str) -> Result<Uuid> {
        Ok(*self)
    }
}

impl IntoId for &str {
    fn into_id(self, field: &'static str) -> Result<Uuid> {
        Uuid::parse_str(self.trim()).map_err(|_| {
            let shown: String = self.chars().take(64).collect();
            Error::invalid(field, format!("{shown:?} is not a UUID"))
        })
    }
}

impl IntoId for &String {
    fn into_id(self, field: &'static str) -> Result<Uuid> {
        self.as_str().into_id(field)
    }
}

impl IntoId for String {
    fn into_id(self, field: &'static str) -> Result<Uuid> {
        self.as_str().into_id(field)
    }
}
