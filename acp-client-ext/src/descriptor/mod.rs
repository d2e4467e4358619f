//! Agent descriptors read as documents: what an agent declares it can do ([`Capabilities`]),
//! where the descriptor sits in a manifest or an OASF record ([`locate`]), and, with feature
//! `validate`, the checks agntcy's SDK makes of it (`validate`) and the agent's own OpenAPI
//! document (`agent_openapi`).
//!
//! The rules are read from agntcy's acp-sdk (`agntcy_acp/manifest/validator.py` and
//! `generator.py`); the code is ours, and the format's schema is derived from the generated
//! [`AgentAcpDescriptor`](crate::types::AgentAcpDescriptor) type, never copied.

mod capabilities;
mod locate;
#[cfg(feature = "validate")]
mod openapi;
#[cfg(feature = "validate")]
mod rules;

pub use capabilities::Capabilities;
pub use locate::{DescriptorSource, Located, MANIFEST_EXTENSION, locate};
#[cfg(feature = "validate")]
pub use openapi::{Refusal, agent_openapi};
#[cfg(feature = "validate")]
pub use rules::{Rule, Violation, validate, validate_descriptor};
