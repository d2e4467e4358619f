#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Nothing a peer sends may panic this crate: no unwrap or expect outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod agents;
#[cfg(feature = "agent-types")]
pub mod agent_types;
mod cancel;
mod client;
mod config;
mod error;
pub mod event;
mod ids;
mod resume;
mod retry;
mod run;
pub mod sse;
pub mod stream;
mod threads;
#[cfg(feature = "validate")]
pub mod validate;
mod wait;

pub use acp_client::types;
pub use cancel::CancelAction;
pub use client::AcpClient;
pub use config::{ClientBuilder, DEFAULT_API_KEY_HEADER, Secret, USER_AGENT_VALUE};
pub use error::{EXCERPT_LEN, Error, Result, server_message};
pub use event::{RawEvent, RunEvent};
pub use ids::IntoId;
pub use retry::RetryPolicy;
pub use run::{RunHandle, RunInfo, RunScope, RunStatus, StatelessRuns, ThreadRuns};
pub use stream::RunStream;
pub use wait::WaitOutcome;
