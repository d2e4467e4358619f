//! What an agent handle checks before it sends: its descriptor's schemas (feature `validate`).
//! Carried by every handle, stream and request an agent handle makes.

use crate::error::Result;
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
#[cfg(feature = "validate")]
use std::sync::Arc;

/// The checks a handle applies to what it sends (feature `validate`; none otherwise).
#[derive(Clone, Default)]
pub(crate) struct Checks {
    #[cfg(feature = "validate")]
    pub(crate) validator: Option<Arc<crate::validate::Validator>>,
}

impl fmt::Debug for Checks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.active() {
            "Checks(validating)"
        } else {
            "Checks(none)"
        })
    }
}

impl Checks {
    pub(crate) fn active(&self) -> bool {
        #[cfg(feature = "validate")]
        {
            self.validator.is_some()
        }
        #[cfg(not(feature = "validate"))]
        {
            false
        }
    }

    /// Check `input` (and `configurable`) before a run is created.
    #[cfg_attr(not(feature = "validate"), allow(unused_variables))]
    pub(crate) fn run(&self, input: &RawValue, configurable: Option<&RawValue>) -> Result<()> {
        #[cfg(feature = "validate")]
        if let Some(v) = &self.validator {
            v.check_input(&serde_json::from_str(input.get())?)?;
            if let Some(c) = configurable {
                v.check_config(&serde_json::from_str(c.get())?)?;
            }
        }
        Ok(())
    }

    /// Check a resume payload before it is sent.
    #[cfg_attr(not(feature = "validate"), allow(unused_variables))]
    pub(crate) fn resume(&self, payload: &Value) -> Result<()> {
        #[cfg(feature = "validate")]
        if let Some(v) = &self.validator {
            v.check_resume(None, payload)?;
        }
        Ok(())
    }
}
