//! What an agent handle checks before it sends: the capabilities its descriptor declares, and
//! its descriptor's schemas (feature `validate`). Carried by every handle, stream and request an
//! agent handle makes.

use crate::descriptor::Capabilities;
use crate::error::{Error, Result};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

/// The agent whose declared capabilities a handle enforces.
#[derive(Debug)]
pub(crate) struct Gate {
    pub(crate) agent: String,
    pub(crate) capabilities: Capabilities,
}

/// The checks a handle applies to what it sends.
#[derive(Clone, Default)]
pub(crate) struct Checks {
    #[cfg(feature = "validate")]
    pub(crate) validator: Option<Arc<crate::validate::Validator>>,
    /// Capabilities enforced (an agent handle's, unless turned off).
    pub(crate) gate: Option<Arc<Gate>>,
    /// The operation a resume of the run these checks travel with is (its scope's).
    pub(crate) resume_op: &'static str,
}

impl fmt::Debug for Checks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.validating(), self.gate.is_some()) {
            (true, true) => "Checks(validating, capabilities)",
            (true, false) => "Checks(validating)",
            (false, true) => "Checks(capabilities)",
            (false, false) => "Checks(none)",
        })
    }
}

impl Checks {
    fn validating(&self) -> bool {
        #[cfg(feature = "validate")]
        {
            self.validator.is_some()
        }
        #[cfg(not(feature = "validate"))]
        {
            false
        }
    }

    fn refuse(&self, capability: &'static str, operation: &'static str) -> Result<()> {
        match &self.gate {
            Some(g) => Err(Error::Unsupported {
                agent: g.agent.clone(),
                capability,
                operation,
            }),
            None => Ok(()),
        }
    }

    /// Refuse a create (`operation`, on a thread or not, streamed or not) that the agent's
    /// capabilities rule out.
    pub(crate) fn create(&self, thread: bool, stream: bool, operation: &'static str) -> Result<()> {
        let Some(g) = &self.gate else { return Ok(()) };
        if thread && !g.capabilities.threads {
            return self.refuse("threads", operation);
        }
        if stream && !g.capabilities.streaming() {
            return self.refuse("streaming", operation);
        }
        Ok(())
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

    /// Check a resume payload before it is sent (and that the agent declares interrupts).
    #[cfg_attr(not(feature = "validate"), allow(unused_variables))]
    pub(crate) fn resume(&self, payload: &Value) -> Result<()> {
        if self
            .gate
            .as_ref()
            .is_some_and(|g| !g.capabilities.interrupts)
        {
            return self.refuse("interrupts", self.resume_op);
        }
        #[cfg(feature = "validate")]
        if let Some(v) = &self.validator {
            v.check_resume(None, payload)?;
        }
        Ok(())
    }
}
