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
//!    `{"detail":[{"type":..,"loc":..,"msg":..,"input":..}]}` (keys in that order); unhandled
//!    errors are Starlette's 500 (`ServerErrorMiddleware`): `content-length: 21`,
//!    `content-type: text/plain; charset=utf-8`, body `Internal Server Error`, no
//!    `Connection: close`; uvicorn then closes the connection (`h11_impl`, `run_asgi`:
//!    `transport.close()`). Here the connection is instead held until the client writes its
//!    next request onto it, which is reset (`RST`) unread and unanswered: the worst case of
//!    uvicorn's close race (a client reusing the connection before it sees the `FIN`), met
//!    every time instead of never on loopback; a client that half-closes gets a clean close.
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
//! 13. `POST /threads/{thread_id}/runs` answers the unhandled 500 and creates no run, for any
//!     thread, known or not, once the body validated (`create_thread_run` in
//!     `apis/threads_runs.py` returns the un-awaited coroutine `ThreadRuns.put(...)`, which the
//!     response model rejects). Create-and-wait and create-and-stream on a thread work, as do
//!     the stateless routes.
//! 14. A wait on a thread run (`POST /threads/{t}/runs/wait`, `GET /threads/{t}/runs/{r}/wait`)
//!     that settles `interrupted` answers the unhandled 500; the run stays, interrupted
//!     (`_wait_and_return_run_output` in `apis/threads_runs.py` puts the interrupt payload into
//!     `RunError.description`, a `StrictStr`). The stateless wait answers the interrupt.
//! 15. `limit` and `offset` of `GET /threads/{thread_id}/runs` and `wait` of both cancel
//!     operations are strict ints / bools (`Optional[StrictInt]`, `Optional[StrictBool]` in
//!     `apis/threads_runs.py`, `apis/stateless_runs.py`), so any value in a query string is a
//!     422: `{"detail":[{"type":"int_type","loc":["query","limit"],"msg":"Input should be a
//!     valid integer","input":"5"}]}`, `bool_type` / `Input should be a valid boolean` for
//!     `wait`; checked before the cancels' "Not implemented".
//! 16. `GET /threads/{thread_id}/runs` lists every run of the thread, oldest first (no paging),
//!     each with its tag in `creation.metadata`; 404 `{"detail":"Thread not found"}`.
//! 17. `POST /runs/search` (`Runs.search_for_runs`, `services/runs.py`): without `agent_id`, the
//!     default agent's (`echo`) runs only; thread runs included; oldest first; a non-empty
//!     `metadata` filter is never applied: the unhandled 500 when a run matches the other
//!     filters (`for run in enumerate(runs)` then `run["thread_id"]` on a tuple), else `[]`.
//! 18. Every response head starts as uvicorn's and Starlette's: `date`, `server: uvicorn`, then
//!     `content-length` and `content-type`.
//! 19. Beside the six agents, acp-sdk's echo agent `org.agntcy.echo_agent` ([`agents`]).
//!
//! Faults keep working in this dialect; the SSE ones act on the per-connection numbering (a
//! drop, end or stall leaves the undelivered events for the next join), and
//! [`Fault::KeepAlivesFirst`] sends bare `:`s that glue onto the first event's `id:` line.
//!
//! # Observing the server
//!
//! Besides server events ([`ReferenceServer::wait_for`]) and request counts
//! ([`ReferenceServer::requests`]), a test can read every request's headers
//! ([`ReferenceServer::recorded_requests`], [`ReferenceServer::request_headers`]: e.g. that a
//! `traceparent` reached the server) and count runs ([`ReferenceServer::runs_created`],
//! [`ReferenceServer::run_ids`], [`ReferenceServer::run_metadata`]), which with the
//! exactly-once faults ([`Fault::ResetAfterCreate`], [`Fault::ResetBeforeRead`], see
//! [`faults`]) tests that a retried creation made one run.

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
