//! Typed, resumable run streams: [`RunStream`].
//!
//! A run stream is a `text/event-stream` response whose events are decoded into [`RunEvent`]s.
//! Seven ways to get one:
//!
//! | call | request |
//! |------|---------|
//! | [`ThreadRuns::stream`] | `POST /threads/{thread_id}/runs/stream` (create and stream) |
//! | [`StatelessRuns::stream`] | `POST /runs/stream` (create and stream) |
//! | [`Agent::stream`](crate::Agent::stream), [`AgentRuns::stream`](crate::AgentRuns::stream) | the same, for an agent handle's run (stateless, or on a thread) |
//! | [`RunRequest::stream`](crate::RunRequest::stream) | the same, for a run request built with its config and metadata |
//! | [`RunHandle::stream`] | `GET .../runs/{run_id}/stream` (join an existing run) |
//! | [`RunHandle::stream_from`] | the same, with `Last-Event-ID` (resume after an event) |
//! | [`RunStream::resume_stream`] | `POST .../runs/{run_id}` (resume an interrupted run), then the join after this stream's last event |
//!
//! The call itself returns an error, before any event, when the server refuses the stream: a
//! non-2xx status is an [`Error::Api`] with the server's message, a 2xx whose content type is not
//! `text/event-stream` an [`Error::Stream`]. Joins are retried like any idempotent request (a 503
//! is retried per the [`RetryPolicy`](crate::RetryPolicy)); a create-and-stream is not, unless
//! [`retry_creates`](crate::ClientBuilder::retry_creates) is on.
//!
//! A stream request has no total timeout: the
//! [`idle_timeout`](crate::ClientBuilder::idle_timeout) bounds the wait for the response's
//! headers ([`Error::Timeout`]) and, afterwards, every silence between bytes.
//!
//! # Decoding policy
//!
//! * **Own SSE decoder.** Frames come from this crate's [`sse::Decoder`](crate::sse::Decoder)
//!   (see its docs for the WHATWG parsing rules, line endings, UTF-8 validation and why not an
//!   existing crate). Each frame is decoded by its discriminator ([`RunEvent::from_frame`]): one
//!   JSON parse per event.
//! * **Malformed events do not end the stream.** A frame whose payload claims a known `type` but
//!   does not match it, or is not JSON, is yielded as `Err(`[`Error::Decode`]`)` (with an excerpt
//!   of the raw data), and the stream **continues** with the next event. Stop at the first error
//!   with `TryStreamExt::try_next` if you prefer. Unknown event names and payload types are
//!   [`RunEvent::Other`], never errors.
//! * **Oversized events end the stream.** An event larger than
//!   [`max_event_size`](crate::ClientBuilder::max_event_size) yields
//!   `Err(Error::Stream("event larger than N bytes"))` and the stream ends: memory stays bounded.
//! * **No event is delivered twice, none is skipped unseen.** An event with a numeric id (ACP
//!   servers number a run's events) is recognized by its id *and* its data: the stream keeps
//!   the id and a 64-bit hash of the data of the first 64 and of the last 1024 events it
//!   delivered (16 bytes each: at most 17 KiB a stream). On each connection, the first event
//!   whose id is not greater than the last delivered id decides:
//!   - the data delivered under that id: the connection **replays** (a server that ignores
//!     `Last-Event-ID`, or resends a few events). Its events with the data delivered under their
//!     id are skipped; ids above the last delivered one are delivered as usual.
//!   - other data: the server **numbers events per connection**, as the Agent Workflow Server
//!     does (ids from 1 on every connection, `Last-Event-ID` ignored). Every event of that
//!     connection is delivered. A replaying connection that sends other data under a delivered
//!     id switches to this too.
//!   - an id no longer kept: when in doubt, a repeat rather than a loss. The event is delivered,
//!     logged as a `tracing` warning and counted by [`RunStream::suspected_redeliveries`]; its
//!     id does not become the last delivered one, so the ids after it are checked the same way
//!     until they pass it. (So is a [`RunHandle::stream_from`] whose server starts again from
//!     id 1: nothing is kept yet.)
//!
//!   Events without an id are always delivered and leave the last event id as it was; one
//!   amid a replay is counted as suspected too. The Agent Workflow Server writes its keep-alive
//!   as a bare `:` without a line end, so the next line, often `id: N`, becomes a comment and
//!   that event comes without an id. With non-numeric ids the stream relies on the server
//!   honouring `Last-Event-ID`.
//!
//! # What happens when a stream drops
//!
//! A stream is a state machine: one state, advanced by one transition function, as
//! kube-runtime's watcher is (`kube-runtime/src/watcher.rs`). Its states:
//!
//! | state | what it does |
//! |-------|--------------|
//! | `Reading { body, conn }` | a connection is open: delivers the events its decoder holds, else reads more bytes. `conn` says what the connection is: `Live`, `Settled { grace_until }` (an event said the run settled), or `FinalJoin { deadline }` (the one last join of a settled run) |
//! | `Draining { conn }` | the body ended cleanly: delivers what the decoder still holds |
//! | `Lost(reason)` | a live connection stopped giving events (`Dropped`, `Idle`, `Ended`): decides between the end, a check of the run, and a rejoin |
//! | `Rejoining { lost, last_error }` | one rejoin attempt after its backoff |
//! | `Ending` | the normal end: fetches the interrupt of an interrupted run that no event carried |
//! | `Done` | the stream is over |
//!
//! Each rule below is one transition (the name in brackets):
//!
//! * **Normal end** [`Reading{Live}` → `Reading{Settled}` → `Ending` → `Done`]. An event
//!   carrying a settled status (success, error, timeout, interrupted) turns the connection
//!   `Settled`; what the server still sends on that connection is delivered (an ACP 0.2.2
//!   server may follow the last `values` with an `interrupt` or `error` event, and the Agent
//!   Workflow Server's streaming loop, `Runs.stream_events` in `services/runs.py` with
//!   `_stream_sse_events` in `apis/stateless_runs.py`, writes every message of the run's queue
//!   until its `done` message, whatever the run's status). The stream ends when the server
//!   closes the connection (cleanly or not) [`Reading{Settled}` or `Draining{Settled}` →
//!   `Ending`], or when no event has come on it for [`SETTLED_GRACE`] (or the
//!   [`idle_timeout`](crate::ClientBuilder::idle_timeout) if shorter), measured from the last
//!   event: keep-alives do not extend it [`Reading{Settled}` → `Ending`]. That grace is for
//!   servers that never close: after a failed resume, the Agent Workflow Server sends three
//!   `{"type":"error","status":"error",..}` events and then only keep-alive comments (a bare
//!   `:` every 10 s, `None` items of that loop) for ever; the keep-alives keep the idle timeout
//!   from firing, so waiting for the body to end would hang. An event whose status is not
//!   settled after a settled one (the run was resumed and goes on on the same connection) makes
//!   the connection `Live` again [`Reading{Settled}` → `Reading{Live}`]. When the run ended
//!   `interrupted` and no `interrupt` event carried the question, `Ending` fetches it once from
//!   the run (`GET .../runs/{run_id}/wait`, whose output holds it: see
//!   [`RunStream::interrupt`]) [`Ending` → `Done`].
//! * **Connection lost** (the body fails), or **idle** (no byte at all, not even a keep-alive,
//!   for [`idle_timeout`](crate::ClientBuilder::idle_timeout)) [`Reading{Live}` →
//!   `Lost(Dropped | Idle)` → `Rejoining`]: the connection is dropped and the run's stream is
//!   **joined** (`GET .../runs/{run_id}/stream`, never a replay of the create POST) with
//!   `Last-Event-ID` set to the last delivered id. Before each attempt the stream waits
//!   [`RetryPolicy::backoff`](crate::RetryPolicy::backoff) (exponential, with jitter), at least
//!   the server's `retry:` hint [`Rejoining` → `Reading{Live}`, or `Rejoining` again after a
//!   retryable failure]. At most
//!   [`stream_reconnects`](crate::ClientBuilder::stream_reconnects) attempts in a row; the count
//!   starts again once events flow. When they are exhausted the stream yields
//!   [`Error::Timeout`] (idle) or [`Error::Stream`] (connection lost) and ends: it never hangs
//!   [`Rejoining` → `Done`]. If the final event was already delivered, a lost connection is
//!   simply the end [`Lost` → `Ending`].
//! * **Clean end too early** (the body ends while the last status seen is not settled, as when a
//!   proxy cuts a long response, or a server that closes the stream when the run ends without
//!   a final event, as the Agent Workflow Server does) [`Reading{Live}` → `Draining{Live}` →
//!   `Lost(Ended)`]: the run is fetched (`GET .../runs/{run_id}`). If it still runs (`pending`,
//!   or a status the spec does not list, such as `running`), it is joined as above [`Lost` →
//!   `Rejoining`]. If it has settled, it is joined once more, at once, to receive the events
//!   sent meanwhile (servers that keep a run's events replay them after `Last-Event-ID`)
//!   [`Lost` → `Reading{FinalJoin}`]; that last connection ends the stream normally when it
//!   fails or ends, or when no event comes on it for
//!   [`idle_timeout`](crate::ClientBuilder::idle_timeout) (keep-alives do not count)
//!   [`Reading{FinalJoin}` → `Ending`]; a settled event on it is a normal end as above
//!   [`Reading{FinalJoin}` → `Reading{Settled}`].
//! * **Run id unknown** [`Lost` → `Done`, with the error]. A create-and-stream learns its run
//!   id from the first event. If the connection is lost before that, the run cannot be joined:
//!   the stream yields an [`Error::Stream`] saying so and ends.
//! * A non-retryable error while rejoining (the run was deleted: 404, credentials refused, ...)
//!   is yielded and ends the stream [`Lost` or `Rejoining` → `Done`, with the error].
//! * An event larger than the limit ends the stream [`Reading` or `Draining` → `Done`, with
//!   the error]; a malformed one is yielded as an error and the state stays as it was.
//!
//! Which events are delivered, on any connection, is decided apart from the states, by the
//! stream's ledger of delivered events (see "No event is delivered twice" above).
//!
//! Note that with the spec's default `on_disconnect: cancel`, a server may cancel a run when its
//! create-and-stream connection is lost; set `on_disconnect: continue` in the create body when
//! the run should survive (and be rejoined after) a network failure.
//!
//! # Dropping
//!
//! Dropping a [`RunStream`] drops the response body, which closes the connection at once. With
//! [`RunStream::cancel_on_drop`], dropping a stream whose run has not settled also sends
//! `POST .../runs/{run_id}/cancel`, spawned on the current tokio runtime (nothing is sent
//! without one, or when the run id is not known yet).

mod machine;
mod replay;

use crate::client::AcpClient;
use crate::creates::{Doubt, Resolved, create_body, create_call};
use crate::error::{Error, Result};
use crate::event::{Meta, RunEvent, TypedEvent};
use crate::interrupt::Interrupt;
use crate::options::Call;
use crate::run::{RunHandle, RunOp, RunScope, RunStatus, StatelessRuns, ThreadRuns};
use crate::sse::{Decoder, FieldStr, Frame};
use crate::telemetry;
use crate::transport::Req;
use acp_client::types;
use bytes::Bytes;
use futures::FutureExt;
use futures::stream::{BoxStream, FusedStream, Stream, StreamExt};
use machine::{Conn, Fast, IdleTimer, Machine, State, Step, View};
use replay::Ledger;
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use uuid::Uuid;

/// How long a connection stays open after an event whose status is settled when nothing
/// more comes on it: the stream delivers what the server still sends after such an event, and
/// ends when the server closes the connection or when no event has come for this long
/// (keep-alive comments do not count), or for the
/// [`idle_timeout`](crate::ClientBuilder::idle_timeout) if it is shorter. See "Normal end" in
/// the [module docs](self).
pub const SETTLED_GRACE: Duration = Duration::from_secs(1);

const EVENT_STREAM: &str = "text/event-stream";
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

type Body = BoxStream<'static, reqwest::Result<Bytes>>;

/// The events of one run, as a [`Stream`] of `Result<`[`RunEvent`]`, `[`Error`]`>`, rejoined
/// transparently when the connection drops. See the [module docs](self) for the policies.
///
/// How it ended: [`last_status`](Self::last_status); the question of a run that ended
/// interrupted: [`interrupt`](Self::interrupt), answered with
/// [`resume_stream`](Self::resume_stream); the output in one call:
/// [`final_values`](Self::final_values).
///
/// ```no_run
/// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
/// use acp_client::types::RunCreateStateless;
/// use acp_client_ext::RunEvent;
/// use futures::TryStreamExt;
///
/// let stream = client.agent("stream").await?; // runs take its id; found by name
/// let body = RunCreateStateless { agent_id: Some(stream.id().into()), ..Default::default() };
/// let mut events = client.stateless_runs().stream(body).await?;
/// while let Some(event) = events.try_next().await? {
///     match event {
///         RunEvent::Values(update) => println!("{}: {}", update.status, update.values().get()),
///         RunEvent::Custom(update) => println!("custom {}", update.update().get()),
///         other => println!("other event {other:?}"),
///     }
/// }
/// println!("run {:?} ended {:?}", events.run_id(), events.last_status());
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct RunStream<E = RunEvent> {
    /// The machine, its state and its idle timer, while no awaiting transition holds them.
    core: Option<Box<Core>>,
    /// An awaiting transition in flight ([`Machine::next`]), which hands the core back.
    slow: Option<Slow<E>>,
    client: AcpClient,
    scope: RunScope,
    /// What the accessors report while `core` is away (in `slow`): the machine's, as of the
    /// last step handed over or of the moment it went. With `core` here they read the machine
    /// itself ([`Self::machine`]).
    kept: View,
    /// The interrupt, once the stream ended with the run interrupted.
    interrupt: Option<Interrupt>,
    /// Interrupts answered before this stream (by [`RunStream::resume_stream`]): this
    /// stream's interrupt is round `rounds + 1`.
    pub(crate) rounds: u32,
    cancel_on_drop: bool,
    finished: bool,
    /// Items yielded (the span's `acp.stream.events`), and whether the last one was an error.
    events: u64,
    last_was_err: bool,
    span: tracing::Span,
    /// What a resume from this stream checks (an agent handle's validation).
    pub(crate) checks: crate::checks::Checks,
}

impl<E> fmt::Debug for RunStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunStream")
            .field("scope", &self.scope)
            .field("run_id", &self.run_id())
            .field("last_event_id", &self.last_event_id())
            .field("last_status", &self.last_status())
            .field("suspected_redeliveries", &self.suspected_redeliveries())
            .field("interrupt", &self.interrupt)
            .field("cancel_on_drop", &self.cancel_on_drop)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// What a stream advances: its machine, the machine's state, the idle timer of its connection.
struct Core {
    machine: Machine,
    state: State,
    timer: IdleTimer,
}

/// An awaiting transition: the next step, and the core back.
type Slow<E> = Pin<Box<dyn Future<Output = (Option<Step<E>>, Box<Core>)> + Send>>;

/// The awaiting transitions from `core`, for items of type `E`.
fn slow<E: StreamItem>(mut core: Box<Core>) -> Slow<E> {
    Box::pin(async move {
        let Core { machine, state, .. } = &mut *core;
        let step = machine.next::<E>(state).await;
        (step, core)
    })
}

/// What a [`RunStream`] yields: [`RunEvent`]s, or with the values of `values` updates
/// decoded straight into a type of yours, [`TypedEvent`]s
/// ([`RunStream::values_into`]). Sealed: implemented by those two.
pub trait StreamItem: private::Decode {}

impl StreamItem for RunEvent {}

impl<T: DeserializeOwned + Send + 'static> StreamItem for TypedEvent<T> {}

mod private {
    use super::{Frame, Meta, Result, RunEvent, TypedEvent};
    use serde::de::DeserializeOwned;

    /// One frame, with its data checked as UTF-8 (`text`), into an item, and what the
    /// stream's bookkeeping reads from it.
    pub trait Decode: Sized + Send + 'static {
        fn decode(frame: &Frame, text: &str) -> (Result<Self>, Meta);
    }

    impl Decode for RunEvent {
        fn decode(frame: &Frame, text: &str) -> (Result<Self>, Meta) {
            RunEvent::decode(frame, text)
        }
    }

    impl<T: DeserializeOwned + Send + 'static> Decode for TypedEvent<T> {
        fn decode(frame: &Frame, text: &str) -> (Result<Self>, Meta) {
            TypedEvent::decode(frame, text)
        }
    }
}

impl RunStream {
    /// This stream with the values of its `values` updates decoded straight into `T`: it
    /// yields [`TypedEvent`]s, `TypedEvent::Values` with a `T`, any other event as the
    /// [`RunEvent`] it is. Each payload is parsed once (the values are not kept as JSON and
    /// parsed again, as [`ValuesUpdate::values_as`](crate::ValuesUpdate::values_as) does).
    /// Everything else is this stream's: its reconnections, its ledger of delivered events,
    /// its accessors. Values that do not fit `T` are an `Err(`[`Error::Decode`]`)` naming `T`,
    /// and the stream goes on (the status of that update still counts).
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::event::TypedEvent;
    /// use futures::TryStreamExt;
    /// #[derive(serde::Deserialize)]
    /// struct Progress { i: u32 }
    ///
    /// let mut events = run.stream().await?.values_into::<Progress>();
    /// while let Some(event) = events.try_next().await? {
    ///     if let TypedEvent::Values(update) = event {
    ///         println!("{}: {}", update.status, update.values.i);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn values_into<T: DeserializeOwned + Send + 'static>(mut self) -> RunStream<TypedEvent<T>> {
        // A transition in flight (the stream was polled, and is rejoining, say) yields its
        // item as a `RunEvent`: converted, the one item decoded twice.
        let slow = self.slow.take().map(|slow| -> Slow<TypedEvent<T>> {
            Box::pin(slow.map(|(step, core)| {
                let step = step.map(|step| Step {
                    item: step.item.map(|item| item.and_then(TypedEvent::from_event)),
                    view: step.view,
                    interrupt: step.interrupt,
                });
                (step, core)
            }))
        });
        // This one is emptied: its drop cancels nothing.
        let cancel_on_drop = std::mem::take(&mut self.cancel_on_drop);
        let typed = RunStream {
            core: self.core.take(),
            slow,
            client: self.client.clone(),
            scope: self.scope,
            kept: std::mem::take(&mut self.kept),
            interrupt: self.interrupt.take(),
            rounds: self.rounds,
            cancel_on_drop,
            finished: self.finished,
            events: self.events,
            last_was_err: self.last_was_err,
            span: self.span.clone(),
            checks: std::mem::take(&mut self.checks),
        };
        // The span is the typed stream's now: this one's drop records no end.
        self.finished = true;
        typed
    }
}

impl<E> RunStream<E> {
    /// The run's id: known from the start for a join, from the first event for a
    /// create-and-stream (`None` until then).
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let events = run.stream().await?;
    /// assert_eq!(events.run_id(), Some(run.run_id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_id(&self) -> Option<Uuid> {
        self.machine().map_or(self.kept.run_id, |m| m.run_id)
    }

    /// The id of the last event delivered, to resume from with [`RunHandle::stream_from`]. An
    /// event delivered in doubt (see [`suspected_redeliveries`](Self::suspected_redeliveries))
    /// leaves it as it was, and so does an event without an id.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use futures::StreamExt;
    /// let mut events = run.stream().await?;
    /// let _first = events.next().await;
    /// if let Some(id) = events.last_event_id().map(str::to_owned) {
    ///     drop(events);
    ///     let _rest = run.stream_from(id).await?; // continues after the first event
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        match self.machine() {
            Some(m) => m.ledger.last_id().map(FieldStr::as_str),
            None => self.kept.last_id.as_deref(),
        }
    }

    /// The last status the run was seen in (from its events, or from the server when a clean
    /// end was checked).
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut events = run.stream().await?;
    /// while events.try_next().await?.is_some() {}
    /// assert!(events.last_status().is_some_and(|s| s.is_settled()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn last_status(&self) -> Option<&RunStatus> {
        match self.machine() {
            Some(m) => m.last_status.as_ref(),
            None => self.kept.last_status.as_ref(),
        }
    }

    /// How many delivered events may repeat one delivered earlier: events whose numeric id was
    /// delivered already but too long ago for the stream to compare their data (see "No event
    /// is delivered twice" in the [module docs](self)), and events without an id amid a replay.
    /// The stream delivers such events rather than risk losing one; each is also logged as a
    /// `tracing` warning. Zero when the server honours `Last-Event-ID`, and with the Agent
    /// Workflow Server's ids numbered per connection.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut events = run.stream().await?;
    /// while let Some(event) = events.try_next().await? {
    ///     // ... handle the event idempotently if repeats are possible:
    ///     let _ = event;
    /// }
    /// if events.suspected_redeliveries() > 0 {
    ///     eprintln!("{} events may have been seen twice", events.suspected_redeliveries());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn suspected_redeliveries(&self) -> u64 {
        self.machine()
            .map_or(self.kept.suspected, |m| m.ledger.suspected())
    }

    /// The machine, while the stream holds it (no awaiting transition in flight).
    fn machine(&self) -> Option<&Machine> {
        self.core.as_deref().map(|core| &core.machine)
    }

    /// What the agent asks, once the stream has ended with the run interrupted: the run, the
    /// round (1 for a stream's first interrupt; a [`resume_stream`](Self::resume_stream) of it
    /// asks round 2, and so on) and the payload. Taken from the `interrupt` event when the
    /// server sent one (ACP 0.2.2 on: [`RunEvent::Interrupt`]), otherwise fetched once from the
    /// run when the stream ends (`GET .../runs/{run_id}/wait`, whose output holds the
    /// interrupt; a server of ACP 0.2.1, or the Agent Workflow Server, puts it only there).
    /// `None` while the stream runs, when it ended otherwise, when the run was cancelled
    /// (an interrupt `{"reason": "cancelled"}` is no question, as in [`crate::WaitOutcome`]),
    /// and when the server would not say (logged as a warning).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let agent = client.agent("interrupt").await?;
    /// let mut events = agent.stream(&serde_json::json!({"interrupts": 1})).await?;
    /// while events.try_next().await?.is_some() {}
    /// if let Some(question) = events.interrupt() {
    ///     println!("round {}: {}", question.round(), question.payload());
    ///     let _rest = events.resume_stream(serde_json::json!({"approved": true})).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn interrupt(&self) -> Option<&Interrupt> {
        let interrupted = self.last_status() == Some(&RunStatus::Interrupted);
        self.interrupt
            .as_ref()
            .filter(|_| self.finished && interrupted)
    }
}

impl RunStream {
    /// Read the stream to its end and return its last `values` update decoded into `T` (the
    /// run's output when it succeeded; decoded once, the earlier updates are not), or `None`
    /// when no `values` update came (among the events not read yet). Afterwards the stream's
    /// accessors tell how it ended ([`last_status`](Self::last_status),
    /// [`interrupt`](Self::interrupt)).
    ///
    /// # Errors
    ///
    /// The first error the stream yields (a malformed event included: it might have been the
    /// last values), or [`Error::Decode`] naming `T` when the last values do not fit it.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Output { count: u32 }
    /// let mut events = client.agent("stream").await?.stream(&serde_json::json!({"count": 3})).await?;
    /// let out: Option<Output> = events.final_values().await?;
    /// assert_eq!(out.map(|o| o.count), Some(3));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn final_values<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        let mut last = None;
        while let Some(event) = self.next().await {
            if let RunEvent::Values(update) = event? {
                last = Some(update);
            }
        }
        last.map(|update| update.values_as()).transpose()
    }
}

impl<E> RunStream<E> {
    /// Also cancel the run (`POST .../cancel`) when this stream is dropped before the run has
    /// settled. Off by default. The cancel is spawned on the current tokio runtime; it is not
    /// sent when there is none, or when the run id is not known yet.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let events = run.stream().await?.cancel_on_drop(true);
    /// drop(events); // closes the connection and cancels the run
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel_on_drop(mut self, yes: bool) -> Self {
        self.cancel_on_drop = yes;
        self
    }

    /// A handle on this stream's run, once its id is known (with the stream's client options).
    pub(crate) fn handle(&self) -> Option<crate::RunHandle> {
        Some(crate::RunHandle {
            client: self.client.clone(),
            scope: self.scope,
            run_id: self.run_id()?,
            created: None,
            checks: self.checks.clone(),
        })
    }
}

impl RunStream {
    fn new(client: &AcpClient, scope: RunScope, run_id: Option<Uuid>, body: Body) -> RunStream {
        Self::with_last_id(client, scope, run_id, body, None)
    }

    fn with_last_id(
        client: &AcpClient,
        scope: RunScope,
        run_id: Option<Uuid>,
        body: Body,
        last_id: Option<String>,
    ) -> RunStream {
        let last_id = last_id.map(FieldStr::from);
        // Opened by a join when the run is known, else by a create-and-stream.
        let opened_by = scope.op(if run_id.is_some() {
            RunOp::Stream
        } else {
            RunOp::CreateStream
        });
        let span = telemetry::stream_span(opened_by.id, scope.thread_id(), run_id);
        let machine = Machine {
            client: client.clone(),
            scope,
            run_id,
            decoder: Decoder::new(client.settings().max_event_size).data_checked_by_caller(),
            ledger: Ledger::new(last_id.clone()),
            last_status: None,
            attempts: 0,
            reconnects: 0,
            interrupt: None,
            span: span.clone(),
        };
        let state = State::Reading {
            body,
            conn: Conn::Live,
        };
        let core = Box::new(Core {
            machine,
            state,
            timer: IdleTimer::default(),
        });
        RunStream {
            core: Some(core),
            slow: None,
            client: client.clone(),
            scope,
            kept: View {
                run_id,
                last_id,
                ..View::default()
            },
            interrupt: None,
            rounds: 0,
            cancel_on_drop: false,
            finished: false,
            events: 0,
            last_was_err: false,
            span,
            checks: Default::default(),
        }
    }
}

impl<E: StreamItem> Stream for RunStream<E> {
    type Item = Result<E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        let _enter = this.span.enter();
        let step = loop {
            if let Some(slow) = &mut this.slow {
                let (step, core) = ready!(slow.as_mut().poll(cx));
                this.slow = None;
                this.core = Some(core);
                break step;
            }
            let Some(core) = &mut this.core else {
                break None;
            };
            let Core {
                machine,
                state,
                timer,
            } = &mut **core;
            match machine.poll_fast::<E>(state, timer, cx) {
                Fast::Item(item) => {
                    this.events += 1;
                    this.last_was_err = item.is_err();
                    return Poll::Ready(Some(item));
                }
                Fast::Step(step) => break Some(step),
                Fast::Done => break None,
                Fast::Pending => return Poll::Pending,
                Fast::Slow => {
                    if let Some(core) = this.core.take() {
                        this.kept = core.machine.view();
                        this.slow = Some(slow(core));
                    }
                }
            }
        };
        match step {
            Some(step) => {
                this.kept = step.view;
                if let (Some(payload), Some(run_id)) = (step.interrupt, this.kept.run_id) {
                    this.interrupt = Some(Interrupt::new(run_id, this.rounds + 1, payload));
                }
                match step.item {
                    Some(item) => {
                        this.events += 1;
                        this.last_was_err = item.is_err();
                        Poll::Ready(Some(item))
                    }
                    None => {
                        this.finished = true;
                        let status = this.last_status();
                        record_end(&this.span, true, this.events, this.last_was_err, status);
                        Poll::Ready(None)
                    }
                }
            }
            None => {
                this.finished = true;
                let status = this.last_status();
                record_end(&this.span, true, this.events, this.last_was_err, status);
                Poll::Ready(None)
            }
        }
    }
}

/// The end of a stream, recorded on its span: how many items it yielded, how it ended.
/// (Fields, not `&mut RunStream`: `poll_next` holds the span entered.)
fn record_end(
    span: &tracing::Span,
    finished: bool,
    events: u64,
    last_was_err: bool,
    last_status: Option<&RunStatus>,
) {
    let end = match (finished, last_was_err) {
        (_, true) => "error",
        (true, false) if last_status.is_some_and(RunStatus::is_settled) => "settled",
        (true, false) => "closed",
        (false, false) => "dropped",
    };
    telemetry::record_stream_end(span, events, end, last_status);
}

impl<E: StreamItem> FusedStream for RunStream<E> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<E> Drop for RunStream<E> {
    fn drop(&mut self) {
        // What the accessors say, then close the connection.
        if let Some(core) = self.core.take() {
            self.kept = core.machine.view();
        }
        self.slow = None;
        if !self.finished {
            let status = self.kept.last_status.as_ref();
            record_end(&self.span, false, self.events, self.last_was_err, status);
        }
        if !self.cancel_on_drop
            || self
                .kept
                .last_status
                .as_ref()
                .is_some_and(RunStatus::is_settled)
        {
            return;
        }
        let _enter = self.span.enter();
        let Some(run_id) = self.kept.run_id else {
            tracing::warn!("run stream dropped before the run id was known: cannot cancel the run");
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("run stream dropped outside a tokio runtime: the run is not cancelled");
            return;
        };
        let client = self.client.clone();
        let req = self.scope.req(RunOp::Cancel, Some(run_id));
        tracing::debug!("run stream dropped: cancelling the run");
        runtime.spawn(async move {
            if let Err(e) = client.execute(&req).await {
                tracing::warn!(%run_id, error = %e, "cancelling the run of a dropped stream failed");
            }
        });
    }
}

fn sse_headers(last_event_id: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(EVENT_STREAM));
    if let Some(id) = last_event_id.filter(|id| !id.is_empty()) {
        match HeaderValue::from_bytes(id.as_bytes()) {
            Ok(v) => {
                headers.insert(LAST_EVENT_ID, v);
            }
            Err(_) => tracing::warn!("event id not valid in a header; joining from the start"),
        }
    }
    headers
}

fn join_req(scope: RunScope, run_id: Uuid, last_event_id: Option<&str>) -> Req {
    let mut req = scope.req(RunOp::Stream, Some(run_id));
    req.headers = sse_headers(last_event_id);
    req
}

/// Send a stream request, check that the answer is an event stream, and return its body.
/// Waiting for the response's headers is bounded by the idle timeout (in the transport).
async fn open(client: &AcpClient, req: &Req) -> Result<Body> {
    Ok(client.open_stream(req).await?.bytes_stream().boxed())
}

/// `POST .../runs/stream`. A create whose fate a broken connection left unknown is resolved
/// ([`crate::CREATE_TAG_KEY`]): the run it made is joined from its first event, or the create
/// is sent again.
pub(crate) async fn create_stream(
    client: AcpClient,
    scope: RunScope,
    body: Bytes,
    mut doubt: Doubt,
) -> Result<RunStream> {
    let mut req = scope.req(RunOp::CreateStream, None).json_bytes(&body);
    req.headers = sse_headers(None);
    let span = telemetry::operation_span(req.op.id, scope.thread_id(), None);
    loop {
        let error = match tracing::Instrument::instrument(open(&client, &req), span.clone()).await {
            Ok(body) => return Ok(RunStream::new(&client, scope, None, body)),
            Err(e) => e,
        };
        match doubt.resolve(&client, scope, error).await? {
            Resolved::Created(run) => {
                let join = join_req(scope, run.run_id, None);
                let body = open(&client, &join).await?;
                return Ok(RunStream::new(&client, scope, Some(run.run_id), body));
            }
            Resolved::NotCreated => continue,
        }
    }
}

impl ThreadRuns {
    /// Start a run on the thread and stream its events
    /// (`POST /threads/{thread_id}/runs/stream`). The run id is known from the first event
    /// ([`RunStream::run_id`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient, thread_id: uuid::Uuid) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateful;
    /// use futures::TryStreamExt;
    /// let stream = client.agent("stream").await?; // runs take its id; found by name
    /// let body = RunCreateStateful {
    ///     agent_id: Some(stream.id().into()),
    ///     on_disconnect: acp_client::types::OnDisconnect::Continue,
    ///     ..Default::default()
    /// };
    /// let events: Vec<_> = client.thread_runs(thread_id)?.stream(body).await?.try_collect().await?;
    /// println!("{} events", events.len());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Api`] if the server refuses (unknown agent or thread: 404), [`Error::Stream`] if
    /// it answers something other than an event stream, [`Error::InvalidInput`] for a body that
    /// cannot be built.
    pub fn stream<B>(&self, body: B) -> Call<RunStream>
    where
        B: TryInto<types::RunCreateStateful, Error: fmt::Display>,
    {
        let body = create_body::<types::RunCreateStateful, B>(body);
        create_call(&self.client, self.scope(), body, create_stream)
    }
}

impl StatelessRuns {
    /// Start a stateless run and stream its events (`POST /runs/stream`). The run id is known
    /// from the first event ([`RunStream::run_id`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateless;
    /// use futures::StreamExt;
    /// let stream = client.agent("stream").await?; // runs take its id; found by name
    /// let body = RunCreateStateless { agent_id: Some(stream.id().into()), ..Default::default() };
    /// let mut events = client.stateless_runs().stream(body).await?;
    /// while let Some(event) = events.next().await {
    ///     println!("{:?}", event?.status());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ThreadRuns::stream`].
    pub fn stream<B>(&self, body: B) -> Call<RunStream>
    where
        B: TryInto<types::RunCreateStateless, Error: fmt::Display>,
    {
        let body = create_body::<types::RunCreateStateless, B>(body);
        create_call(&self.client, RunScope::Stateless, body, create_stream)
    }
}

impl RunHandle {
    /// Join the run's stream from its first event (`GET .../runs/{run_id}/stream`). A finished
    /// run's stream replays its events and ends.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let events: Vec<_> = run.stream().await?.try_collect().await?;
    /// assert!(events.last().is_some_and(|e| e.is_final()));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Api`] if the server refuses (404 for an unknown run) after the retries of
    /// idempotent requests, [`Error::Stream`] if it answers something other than an event stream.
    pub fn stream(&self) -> Call<RunStream> {
        self.join(None)
    }

    /// Join the run's stream after the event `last_event_id` (sent as `Last-Event-ID`), e.g. the
    /// [`RunStream::last_event_id`] of an earlier stream.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let rest = run.stream_from("3").await?; // events 4, 5, ...
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`], before any request, if `last_event_id` cannot be sent as a
    /// header (a control character, NUL or line break: the SSE standard never produces one);
    /// otherwise as [`stream`](Self::stream).
    pub fn stream_from(&self, last_event_id: impl Into<String>) -> Call<RunStream> {
        let last_event_id = last_event_id.into();
        if reqwest::header::HeaderValue::from_str(&last_event_id).is_err()
            || last_event_id.chars().any(char::is_control)
        {
            return Call::fail(Error::invalid(
                "last_event_id",
                format!("{last_event_id:?} cannot be sent as a Last-Event-ID header"),
            ));
        }
        self.join(Some(last_event_id))
    }

    fn join(&self, last_event_id: Option<String>) -> Call<RunStream> {
        Call::new(self.clone(), move |run| async move {
            let req = join_req(run.scope, run.run_id, last_event_id.as_deref());
            let span = run.span(req.op.id);
            let body = tracing::Instrument::instrument(open(&run.client, &req), span).await?;
            Ok(RunStream::with_last_id(
                &run.client,
                run.scope,
                Some(run.run_id),
                body,
                last_event_id,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StreamCause;

    const RID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

    /// A stream over a canned body; the client points at a closed port, so any request the
    /// stream sent would surface as an error item.
    fn canned(run_id: Option<Uuid>, max: usize, chunks: &[&str]) -> RunStream {
        let client = AcpClient::builder("http://127.0.0.1:9")
            .max_event_size(max)
            .stream_reconnects(0)
            .build()
            .unwrap();
        let chunks: Vec<reqwest::Result<Bytes>> = chunks
            .iter()
            .map(|c| Ok(Bytes::copy_from_slice(c.as_bytes())))
            .collect();
        RunStream::new(
            &client,
            RunScope::Stateless,
            run_id,
            futures::stream::iter(chunks).boxed(),
        )
    }

    fn values(id: u32, status: &str) -> String {
        format!(
            "id: {id}\nevent: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{RID}\",\"status\":\"{status}\",\"values\":{{\"n\":{id}}}}}\n\n"
        )
    }

    async fn collect(s: &mut RunStream) -> Vec<Result<RunEvent>> {
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            out.push(item);
        }
        out
    }

    #[tokio::test]
    async fn numeric_ids_already_delivered_are_skipped() {
        let body = [
            values(1, "pending"),
            values(2, "pending"),
            values(1, "pending"),
            values(2, "pending"),
            values(3, "success"),
        ]
        .concat();
        let mut s = canned(None, 1 << 20, &[&body]);
        let items = collect(&mut s).await;
        let ns: Vec<_> = items
            .iter()
            .map(|i| match i {
                Ok(RunEvent::Values(v)) => serde_json::to_value(&v.values).unwrap()["n"]
                    .as_u64()
                    .unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ns, [1, 2, 3]);
        assert_eq!(s.last_event_id(), Some("3"));
        assert_eq!(s.run_id(), Some(Uuid::parse_str(RID).unwrap()));
        assert_eq!(s.last_status(), Some(&RunStatus::Success));
        assert!(s.is_terminated());
    }

    #[tokio::test]
    async fn other_events_and_comments_pass_through() {
        let body = ": hi\n\nevent: metadata\ndata: {\"x\":1}\n\nevent: agent_event\ndata: {\"type\":\"error\",\"status\":\"error\"}\n\n";
        let mut s = canned(Some(Uuid::nil()), 1 << 20, &[body]);
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(&items[0], Ok(RunEvent::Other(r)) if r.event_type() == "metadata"));
        assert!(matches!(&items[1], Ok(RunEvent::Other(r)) if r.payload_type() == Some("error")));
        assert_eq!(
            s.last_status(),
            Some(&RunStatus::Error),
            "a settled end: no request"
        );
    }

    #[tokio::test]
    async fn an_early_end_without_a_run_id_cannot_be_rejoined() {
        let mut s = canned(None, 1 << 20, &[": only a comment\n\n"]);
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 1);
        assert!(
            matches!(&items[0], Err(Error::Stream { cause: c @ StreamCause::RunIdUnknown { .. }, .. }) if c.to_string().contains("cannot be rejoined")),
            "{items:?}"
        );
    }

    #[tokio::test]
    async fn an_oversized_event_mid_stream_ends_it() {
        let big = format!("data: {}\n\n", "x".repeat(300));
        let mut s = canned(
            None,
            256,
            &[&values(1, "pending"), &big, &values(2, "success")],
        );
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].is_ok());
        assert!(
            matches!(&items[1], Err(Error::Stream { cause: c @ StreamCause::EventTooLarge { limit: 256 }, .. }) if c.to_string() == "event larger than 256 bytes")
        );
    }

    #[tokio::test]
    async fn reconnects_exhausted_is_an_error_not_a_hang() {
        // Not settled, run id known, zero reconnects allowed: the clean end is checked with a
        // GET, which fails to connect (a transport error, retryable), then no rejoin is allowed.
        let mut s = canned(None, 1 << 20, &[&values(1, "pending")]);
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(
            matches!(&items[1], Err(Error::Stream { cause: c @ StreamCause::ReconnectsExhausted { .. }, .. }) if c.to_string().contains("gave up")),
            "{items:?}"
        );
    }

    /// What follows an event with a settled status on the same connection is delivered (an
    /// ACP 0.2.2 server may send an `interrupt` or `error` event after the last `values`); the
    /// body's end is then the stream's end, with no request (the client's port is closed).
    #[tokio::test]
    async fn a_settled_event_is_followed_by_what_the_connection_still_sends() {
        let error = |id: u32| {
            format!(
                "id: {id}\nevent: agent_event\ndata: {{\"type\":\"error\",\"run_id\":\"{RID}\",\"status\":\"error\",\"errcode\":500,\"description\":\"boom {id}\"}}\n\n"
            )
        };
        let first = [values(1, "error"), error(2), ":".into()].concat();
        let mut s = canned(None, 1 << 20, &[&first, "\n", &error(3), ":\n\n"]);
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(matches!(&items[0], Ok(RunEvent::Values(_))), "{items:?}");
        assert!(
            matches!(&items[1], Ok(RunEvent::Error(e)) if e.description() == "boom 2"),
            "{items:?}"
        );
        assert!(
            matches!(&items[2], Ok(RunEvent::Error(e)) if e.errcode() == 500),
            "{items:?}"
        );
        assert_eq!(s.last_status(), Some(&RunStatus::Error));
        assert_eq!(s.last_event_id(), Some("3"));
        assert!(s.interrupt().is_none());
    }

    /// A later event whose status is not settled says the run goes on: the connection is an
    /// ordinary one again, and its early end is checked (here: no server, no rejoin allowed).
    #[tokio::test]
    async fn an_event_after_the_settled_one_that_says_pending_makes_the_connection_live() {
        let body = [values(1, "interrupted"), values(2, "pending")].concat();
        let mut s = canned(None, 1 << 20, &[&body]);
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(
            matches!(
                &items[2],
                Err(Error::Stream {
                    cause: StreamCause::ReconnectsExhausted { .. },
                    ..
                })
            ),
            "{items:?}"
        );
        assert_eq!(s.last_status(), Some(&RunStatus::Pending));
        assert!(s.interrupt().is_none());
    }

    #[derive(Debug, serde::Deserialize)]
    struct N {
        n: u32,
    }

    async fn collect_typed<T: DeserializeOwned + Send + 'static>(
        s: &mut RunStream<TypedEvent<T>>,
    ) -> Vec<Result<TypedEvent<T>>> {
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            out.push(item);
        }
        out
    }

    /// `values_into` decodes the values into `T`; the stream's ledger and accessors are the
    /// same as for `RunEvent`s (repeated ids skipped, last id, status, run id).
    #[tokio::test]
    async fn values_into_yields_typed_values_with_the_same_ledger() {
        let custom = format!(
            "id: 3\nevent: agent_event\ndata: {{\"type\":\"custom\",\"run_id\":\"{RID}\",\"status\":\"pending\",\"update\":{{}}}}\n\n"
        );
        let body = [
            values(1, "pending"),
            values(2, "pending"),
            values(1, "pending"),
            custom,
            values(4, "success"),
        ]
        .concat();
        let mut s = canned(None, 1 << 20, &[&body]).values_into::<N>();
        let items = collect_typed(&mut s).await;
        let seen: Vec<String> = items
            .iter()
            .map(|i| match i {
                Ok(TypedEvent::Values(v)) => format!("{}:{}", v.values.n, v.status),
                Ok(TypedEvent::Other(RunEvent::Custom(_))) => "custom".into(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(seen, ["1:pending", "2:pending", "custom", "4:success"]);
        assert_eq!(s.last_event_id(), Some("4"));
        assert_eq!(s.run_id(), Some(Uuid::parse_str(RID).unwrap()));
        assert_eq!(s.last_status(), Some(&RunStatus::Success));
        assert!(s.is_terminated());
    }

    /// Values that do not fit `T` are an error naming `T`, and the stream goes on; the status
    /// of that update still counts (here: the run settled, so the body's end is the stream's
    /// end, without the request a stream whose run had not settled would send).
    #[tokio::test]
    async fn values_that_do_not_fit_are_errors_and_their_status_counts() {
        let body = [values(1, "pending"), values(2, "success")]
            .concat()
            .replace("{\"n\":2}", "{\"m\":2}");
        let mut s = canned(None, 1 << 20, &[&body]).values_into::<N>();
        let items = collect_typed(&mut s).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(&items[0], Ok(TypedEvent::Values(v)) if v.values.n == 1));
        assert!(
            matches!(&items[1], Err(Error::Decode { what, .. }) if what.contains("(id 2)") && what.contains("::N")),
            "{items:?}"
        );
        assert_eq!(s.last_status(), Some(&RunStatus::Success));
        assert_eq!(s.last_event_id(), Some("2"));
    }

    /// A stream polled already can still be made typed: the next events come typed.
    #[tokio::test]
    async fn values_into_after_the_first_events() {
        let body = [
            values(1, "pending"),
            values(2, "pending"),
            values(3, "success"),
        ]
        .concat();
        let mut s = canned(None, 1 << 20, &[&body]);
        assert!(matches!(s.next().await, Some(Ok(RunEvent::Values(_)))));
        let mut s = s.values_into::<N>();
        let items = collect_typed(&mut s).await;
        let ns: Vec<u32> = items
            .iter()
            .map(|i| match i {
                Ok(TypedEvent::Values(v)) => v.values.n,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ns, [2, 3]);
        assert_eq!(s.last_status(), Some(&RunStatus::Success));
    }
}
