//! An ACP (Agent Connect Protocol) 0.2.1 reference server for tests and examples.
//!
//! This is an independent implementation (its own JSON handling, not the generated client's
//! types) of all 30 ACP operations, with scriptable [`agents`], resumable SSE streams
//! ([`sse`]), a run state machine ([`runs`]), threads with checkpoint history ([`threads`]) and
//! fault injection ([`faults`]). Start one with [`ReferenceServer::start`]; it binds `127.0.0.1` only.
//!
//! Deliberate deviations from the spec (all documented where they occur):
//! * `agent_id` in run creation may also be an agent *name* (`"echo"`); missing means `echo`.
//! * A join (`GET .../stream`) without `Last-Event-ID` replays the run's log from the start
//!   (the spec says only output produced after the call), so late joiners see everything.
//! * A cancelled run is `interrupted` with output `{"type":"interrupt","interrupt":{"reason":"cancelled"}}`
//!   and cannot be resumed (409).
//! * `multitask_strategy`: `reject` answers 409 on a busy thread; `interrupt`/`rollback` cancel
//!   the pending run(s) first; `enqueue` starts the new run once the previous one settles.
//! * `on_completion` (stateless) is echoed but has no effect: stateless runs have no thread.
//!   `webhook`, `config`, `stream_subgraphs` are accepted, validated and echoed only.
//! * `/runs/{run_id}...` only addresses stateless runs, `/threads/{t}/runs/{r}...` only runs of
//!   thread `t`.
//! * Malformed `x-acp-fault` headers (test only) are answered with 400.

pub mod agents;
pub mod errors;
pub mod faults;
mod routes;
pub mod runs;
mod server;
pub mod sse;
mod state;
pub mod threads;

pub use faults::{Fault, LineEnding, Target};
pub use server::ReferenceServer;
pub use state::{ServerConfig, ServerEvent, WaitRoute};
