#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Nothing a peer sends may panic this crate: no unwrap or expect outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod agent;
#[cfg(feature = "agent-types")]
pub mod agent_types;
mod agents;
#[cfg(feature = "blocking")]
pub mod blocking;
mod cancel;
mod checks;
mod client;
mod config;
mod creates;
mod decode;
pub mod descriptor;
mod error;
pub mod event;
mod ids;
mod interrupt;
mod json_scan;
mod ops;
pub mod options;
mod resume;
mod retry;
mod run;
mod secret;
pub mod sse;
pub mod stream;
mod telemetry;
mod threads;
mod transport;
#[cfg(feature = "validate")]
pub mod validate;
mod wait;

pub use acp_client::types;
pub use agent::{Agent, AgentRuns, AnyInput, RunInput, RunRequest};
pub use cancel::CancelAction;
pub use client::AcpClient;
pub use config::{ClientBuilder, DEFAULT_API_KEY_HEADER, USER_AGENT_VALUE};
pub use creates::CREATE_TAG_KEY;
pub use error::{
    EXCERPT_LEN, Error, Result, StreamCause, TimeoutKind, TransportKind, server_message,
};
pub use event::{CustomUpdate, ErrorUpdate, InterruptUpdate, RawEvent, RunEvent, ValuesUpdate};
pub use ids::IntoId;
pub use interrupt::Interrupt;
pub use ops::Operation;
pub use options::{Call, RequestOptions};
/// The HTTP client this crate is built on, re-exported so that
/// [`ClientBuilder::http_client`] and the error sources need no version match.
pub use reqwest;
pub use retry::RetryPolicy;
pub use run::{RunHandle, RunInfo, RunScope, RunStatus, StatelessRuns, ThreadRuns};
pub use secret::Secret;
pub use stream::RunStream;
pub use wait::WaitOutcome;

/// The workspace README's Rust snippets, compiled as doc tests (never built otherwise, so the
/// packaged crate needs no file outside it).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod workspace_readme {}
