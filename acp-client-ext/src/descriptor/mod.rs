//! Agent descriptors read as documents: what an agent declares it can do ([`Capabilities`]).
//!
//! The rules are read from agntcy's acp-sdk (`agntcy_acp/manifest/validator.py` and
//! `generator.py`); the code is ours.

mod capabilities;

pub use capabilities::Capabilities;
