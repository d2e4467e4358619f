//! An ACP (Agent Connect Protocol) 0.2.1 reference server for tests and examples.
//!
//! This is an independent implementation (its own JSON handling, not the generated client's
//! types) of all 30 ACP operations, with scriptable [`agents`], resumable SSE streams
//! ([`sse`]), a run state machine ([`runs`]), threads with checkpoint history ([`threads`]) and
//! fault injection ([`faults`]), served by per-resource routers over shared state and the
//! accept loop in [`ReferenceServer`]. What it says on the wire is chosen by its [`Dialect`]
//! (see [`dialect`]). Start one with [`ReferenceServer::start`]; it binds `127.0.0.1` only.
//!
//! Deliberate deviations from the spec (all documented where they occur):
//! * A run created without `agent_id` uses `echo` (`agent_id` must otherwise be an agent's UUID;
//!   a name is 404, as on any server that follows the spec).
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
//!
//! # The Workflow Server dialect
//!
//! With [`Dialect::WorkflowServer`] ([`ServerConfig::dialect`], [`ReferenceServer::with_dialect`],
//! `--dialect workflow-server`) the server reproduces on the wire what agntcy's Agent Workflow
//! Server (`agntcy/workflow-srv`, Python, FastAPI + pydantic, the one public ACP server) does,
//! read from its source (`apis/*.py`, `services/*.py`) and its observed behaviour:
//!
//! 1. Timestamps are naive, Python's `datetime.now().isoformat()`: `2026-11-30T09:20:14.749047`.
//! 2. Every absent optional field of every object written is `null` (pydantic's `model_dump()`
//!    without `exclude_none`): runs and their `creation`, threads, thread states, messages,
//!    descriptors, wait responses, `values` events.
//! 3. Errors are `{"detail": "..."}`; request-validation errors are 422 with FastAPI's list
//!    `{"detail": [{"type", "loc", "msg", "input"}]}`; unhandled errors are 500 `text/plain`
//!    `Internal Server Error`, after which the connection is closed (no `Connection: close`).
//! 4. SSE ids count each connection's events from 1; `Last-Event-ID` is ignored; a stream sends
//!    only events no stream has sent yet, so after a cut a rejoin gets the rest exactly once.
//! 5. The keep-alive is a bare `:` without a newline (default every 10 s), glued onto the next
//!    line: `:id: 1`.
//! 6. No final status event: the stream closes when the run ends or interrupts.
//! 7. A run ending in `error` (the `fail` agent, or an `interrupt` run resumed with a payload
//!    holding `"fail": true`) sends `{"type":"error",...,"errcode":500,...}` three times, then
//!    keep-alives for ever; the stream never closes.
//! 8. A run in progress is `"running"` (run objects and `values` events), not `"pending"`.
//! 9. `POST /threads` without `metadata` answers the unhandled 500 and stores a thread that makes
//!    every later `POST /threads/search` answer the same.
//! 10. `POST /agents/search` with neither `name` nor `version` answers 422.
//! 11. A run of an agent declaring a config schema (`echo`) needs `config` (422 without).
//! 12. Operations its handlers leave as `raise HTTPException(500, "Not implemented")` answer
//!     500 `{"detail":"Not implemented"}`: thread copy, thread history, both cancel operations
//!     and `DELETE /runs/{run_id}` ([`dialect`]).
//!
//! Faults keep working in this dialect; the SSE ones act on the per-connection numbering (a
//! drop, end or stall leaves the undelivered events for the next join), and
//! [`Fault::KeepAlivesFirst`] sends bare `:`s that glue onto the first event's `id:` line.

pub mod agents;
mod conn;
pub mod dialect;
pub mod errors;
pub mod faults;
mod routes;
pub mod runs;
mod server;
pub mod sse;
mod state;
pub mod threads;

pub use dialect::Dialect;
pub use faults::{Fault, LineEnding, Target};
pub use server::ReferenceServer;
pub use state::{RecordedRequest, ServerConfig, ServerEvent, WaitRoute};
