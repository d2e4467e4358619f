//! Typed, resumable run streams: [`RunStream`].
//!
//! A run stream is a `text/event-stream` response whose events are decoded into [`RunEvent`]s.
//! Four ways to get one:
//!
//! | call | request |
//! |------|---------|
//! | [`ThreadRuns::stream`] | `POST /threads/{thread_id}/runs/stream` (create and stream) |
//! | [`StatelessRuns::stream`] | `POST /runs/stream` (create and stream) |
//! | [`RunHandle::stream`] | `GET .../runs/{run_id}/stream` (join an existing run) |
//! | [`RunHandle::stream_from`] | the same, with `Last-Event-ID` (resume after an event) |
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
//! * **Normal end.** An event carrying a settled status (success, error, timeout, interrupted)
//!   ends the stream: once it, and the complete events received with it, are delivered, the
//!   stream closes the connection without reading further and ends (`None`). A server may
//!   leave the connection open: after a failed resume, the Agent Workflow Server sends three
//!   `{"type":"error","status":"error",..}` events and then only keep-alive comments, every
//!   10 s, for ever; the keep-alives keep the idle timeout from firing, so waiting for the body
//!   to end would hang. A body that ends cleanly after such an event is the end too.
//! * **Connection lost** (the body fails), or **idle** (no byte at all, not even a keep-alive, for
//!   [`idle_timeout`](crate::ClientBuilder::idle_timeout)): the connection is dropped and the run's
//!   stream is **joined** (`GET .../runs/{run_id}/stream`, never a replay of the create POST) with
//!   `Last-Event-ID` set to the last delivered id. Before each attempt the stream waits
//!   [`RetryPolicy::backoff`](crate::RetryPolicy::backoff) (exponential, with jitter), at least
//!   the server's `retry:` hint. At most
//!   [`stream_reconnects`](crate::ClientBuilder::stream_reconnects) attempts in a row; the count
//!   starts again once events flow. When they are exhausted the stream yields
//!   [`Error::Timeout`] (idle) or [`Error::Stream`] (connection lost) and ends: it never hangs.
//!   If the final event was already delivered, a lost connection is simply the end.
//! * **Clean end too early** (the body ends while the last status seen is not settled, as when a
//!   proxy cuts a long response, or a server that closes the stream when the run ends without
//!   a final event, as the Agent Workflow Server does): the run is fetched
//!   (`GET .../runs/{run_id}`). If it still runs (`pending`, or a status the spec does not
//!   list, such as `running`), it is joined as above. If it has settled, it is joined once
//!   more, at once, to receive the events sent meanwhile (servers that keep a run's events
//!   replay them after `Last-Event-ID`); that last connection ends the stream normally when it
//!   fails or ends, after a settled event, or when no event comes on it for
//!   [`idle_timeout`](crate::ClientBuilder::idle_timeout) (keep-alives do not count).
//! * **Run id unknown.** A create-and-stream learns its run id from the first event. If the
//!   connection is lost before that, the run cannot be joined: the stream yields an
//!   [`Error::Stream`] saying so and ends.
//! * A non-retryable error while rejoining (the run was deleted: 404, credentials refused, ...)
//!   is yielded and ends the stream.
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

use crate::client::AcpClient;
use crate::creates::{create_body, create_call};
use crate::error::{Error, Result, StreamCause, TimeoutKind};
use crate::event::RunEvent;
use crate::options::Call;
use crate::run::{RunHandle, RunOp, RunScope, RunStatus, StatelessRuns, ThreadRuns, fetch_run};
use crate::sse::{Decoder, FieldStr, Frame, SseError};
use crate::transport::Req;
use acp_client::types;
use bytes::Bytes;
use futures::stream::{self, BoxStream, FusedStream, Stream, StreamExt};
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tracing::field::display;
use uuid::Uuid;

const EVENT_STREAM: &str = "text/event-stream";
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

type Body = BoxStream<'static, reqwest::Result<Bytes>>;

/// The events of one run, as a [`Stream`] of `Result<`[`RunEvent`]`, `[`Error`]`>`, rejoined
/// transparently when the connection drops. See the [module docs](self) for the policies.
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
pub struct RunStream {
    inner: BoxStream<'static, Step>,
    client: AcpClient,
    scope: RunScope,
    run_id: Option<Uuid>,
    last_event_id: Option<FieldStr>,
    last_status: Option<RunStatus>,
    suspected: u64,
    cancel_on_drop: bool,
    finished: bool,
    span: tracing::Span,
    /// What a resume from this stream checks (an agent handle's validation).
    pub(crate) checks: crate::checks::Checks,
}

impl fmt::Debug for RunStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunStream")
            .field("scope", &self.scope)
            .field("run_id", &self.run_id)
            .field("last_event_id", &self.last_event_id)
            .field("last_status", &self.last_status)
            .field("suspected_redeliveries", &self.suspected)
            .field("cancel_on_drop", &self.cancel_on_drop)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl RunStream {
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
        self.run_id
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
        self.last_event_id.as_deref()
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
        self.last_status.as_ref()
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
        self.suspected
    }

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
            run_id: self.run_id?,
            created: None,
            checks: self.checks.clone(),
        })
    }

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
        let span = tracing::info_span!(
            "acp_run_stream",
            run_id = tracing::field::Empty,
            thread_id = scope.thread_id().map(display)
        );
        if let Some(id) = run_id {
            span.record("run_id", display(id));
        }
        let config = client.settings();
        let machine = Machine {
            client: client.clone(),
            scope,
            run_id,
            body,
            decoder: Decoder::new(config.max_event_size),
            eof: false,
            last_num: last_id.as_deref().and_then(numeric),
            last_id: last_id.clone(),
            last_status: None,
            delivered: Delivered::default(),
            numbering: Numbering::Unknown,
            suspected: 0,
            settled_event: false,
            final_join: None,
            attempts: 0,
            done: false,
            span: span.clone(),
        };
        let inner = stream::unfold(machine, |mut m| async move {
            let step = m.next().await?;
            Some((step, m))
        })
        .boxed();
        RunStream {
            inner,
            client: client.clone(),
            scope,
            run_id,
            last_event_id: last_id,
            last_status: None,
            suspected: 0,
            cancel_on_drop: false,
            finished: false,
            span,
            checks: Default::default(),
        }
    }
}

impl Stream for RunStream {
    type Item = Result<RunEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        let _enter = this.span.enter();
        match ready!(this.inner.poll_next_unpin(cx)) {
            Some(step) => {
                this.run_id = step.run_id;
                this.last_event_id = step.last_id;
                this.last_status = step.last_status;
                this.suspected = step.suspected;
                match step.item {
                    Some(item) => Poll::Ready(Some(item)),
                    None => {
                        this.finished = true;
                        Poll::Ready(None)
                    }
                }
            }
            None => {
                this.finished = true;
                Poll::Ready(None)
            }
        }
    }
}

impl FusedStream for RunStream {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl Drop for RunStream {
    fn drop(&mut self) {
        // Close the connection first.
        self.inner = stream::empty().boxed();
        if !self.cancel_on_drop || self.last_status.as_ref().is_some_and(RunStatus::is_settled) {
            return;
        }
        let _enter = self.span.enter();
        let Some(run_id) = self.run_id else {
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

/// What the state machine hands the [`RunStream`]: an item (`None`: normal end) and the state
/// the accessors report.
struct Step {
    item: Option<Result<RunEvent>>,
    run_id: Option<Uuid>,
    last_id: Option<FieldStr>,
    last_status: Option<RunStatus>,
    suspected: u64,
}

/// Why a connection stopped giving events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lost {
    /// The body failed.
    Dropped,
    /// No byte for the idle timeout.
    Idle,
    /// The body ended cleanly.
    Ended,
}

impl Lost {
    fn as_str(self) -> &'static str {
        match self {
            Lost::Dropped => "was lost",
            Lost::Idle => "went idle",
            Lost::Ended => "ended before the run settled",
        }
    }
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stream's state: one connection at a time, its decoder, and what was delivered.
struct Machine {
    client: AcpClient,
    scope: RunScope,
    run_id: Option<Uuid>,
    /// The current response body (an empty stream between connections).
    body: Body,
    decoder: Decoder,
    /// The body ended: drain the decoder with `finish`.
    eof: bool,
    /// The id of the last delivered event (sent as `Last-Event-ID`): shares the frame's bytes,
    /// so keeping it per event allocates nothing.
    last_id: Option<FieldStr>,
    /// `last_id` as a number, when it is one.
    last_num: Option<u64>,
    last_status: Option<RunStatus>,
    /// What was delivered under numeric ids, to recognize a replay.
    delivered: Delivered,
    /// How the current connection numbers its events, as far as it showed.
    numbering: Numbering,
    /// Events delivered although they may repeat earlier ones ([`RunStream::suspected_redeliveries`]).
    suspected: u64,
    /// An event carrying a settled status was delivered: end once the buffered events are out.
    settled_event: bool,
    /// The current connection is the one last join of a run found settled: it ends the stream,
    /// and so does a wait of `idle_timeout` for an event (keep-alives do not count) on it.
    final_join: Option<tokio::time::Instant>,
    /// Reconnection attempts since events last flowed.
    attempts: u32,
    done: bool,
    span: tracing::Span,
}

impl Machine {
    async fn next(&mut self) -> Option<Step> {
        loop {
            if self.done {
                return None;
            }
            // 1. Events already received.
            let decoded = if self.eof {
                self.decoder.finish()
            } else {
                self.decoder.next_frame()
            };
            match decoded {
                Ok(Some(frame)) => match self.deliver(frame) {
                    Some(step) => return Some(step),
                    None => continue,
                },
                Ok(None) if self.settled_event => {
                    // The run has settled and its buffered events are out: a server may keep
                    // the connection open with keep-alives for ever, so no further read.
                    tracing::debug!("run stream ends after the event that settled the run");
                    self.body = stream::empty().boxed();
                    self.decoder.reset();
                    self.done = true;
                    return Some(self.step(None));
                }
                Ok(None) => {}
                Err(SseError::EventTooLarge { limit }) => {
                    let op = self.op();
                    return Some(
                        self.fail(Error::stream(op, StreamCause::EventTooLarge { limit })),
                    );
                }
                Err(e) => {
                    // Not fatal: the event was skipped, the stream goes on.
                    self.attempts = 0;
                    return Some(self.step(Some(Err(Error::decode("run event", e, b"")))));
                }
            }
            // 2. More bytes, or the reason there are none.
            let lost = if self.eof {
                self.eof = false;
                Lost::Ended
            } else {
                let idle = self.client.settings().idle_timeout;
                let mut deadline = tokio::time::Instant::now() + idle;
                if let Some(event_deadline) = self.final_join {
                    deadline = deadline.min(event_deadline);
                }
                match tokio::time::timeout_at(deadline, self.body.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        self.decoder.feed(&chunk);
                        continue;
                    }
                    Ok(Some(Err(e))) => {
                        tracing::debug!(error = %e.without_url(), "run stream connection lost");
                        Lost::Dropped
                    }
                    Ok(None) => {
                        self.eof = true;
                        continue;
                    }
                    Err(_) => {
                        tracing::debug!(?idle, "run stream idle");
                        Lost::Idle
                    }
                }
            };
            // 3. Drop the connection; end, or rejoin.
            self.body = stream::empty().boxed();
            self.decoder.reset();
            match self.recover(lost).await {
                Ok(true) => self.numbering = Numbering::Unknown,
                Ok(false) => {
                    self.done = true;
                    return Some(self.step(None));
                }
                Err(e) => return Some(self.fail(e)),
            }
        }
    }

    /// A frame to deliver, or `None` if it was delivered already.
    fn deliver(&mut self, frame: Frame) -> Option<Step> {
        let num = frame.id.as_deref().and_then(numeric);
        // Only events with numeric ids can be recognized, so only they are hashed.
        let hash = num.map(|_| data_hash(&frame.data));
        // `false` for an event delivered in doubt: its id does not become the last one (the ids
        // after it are as doubtful until they pass the last), and it is not kept.
        let mut advance = true;
        if let (Some(n), Some(hash)) = (num, hash) {
            let back = self.last_num.is_some_and(|last| n <= last);
            match self.numbering {
                Numbering::PerConnection => {}
                _ if !back => {
                    if let Numbering::Replays { catching_up } = &mut self.numbering {
                        *catching_up = false;
                    }
                }
                _ => match self.delivered.lookup(n) {
                    Some(seen) if seen == hash => {
                        self.numbering = Numbering::Replays { catching_up: true };
                        tracing::trace!(id = n, "skipping an event delivered already");
                        return None;
                    }
                    Some(_) => {
                        tracing::debug!(
                            id = n,
                            "the id of an event delivered already comes with other data: the \
                             server numbers events per connection; delivering all of this one"
                        );
                        self.numbering = Numbering::PerConnection;
                    }
                    None => {
                        advance = false;
                        self.suspected += 1;
                        tracing::warn!(
                            id = n,
                            "an event id delivered already, too long ago to compare its data: \
                             delivering it, it may be a repeat"
                        );
                    }
                },
            }
            if advance {
                // (Kept, a doubtful event would push out the entries that recognize the rest of
                // a long replay.)
                self.delivered.record(n, hash);
            }
        } else if frame.id.is_none() && self.numbering == (Numbering::Replays { catching_up: true })
        {
            // Amid a replay, an event without an id may be one delivered already.
            self.suspected += 1;
            tracing::warn!(
                "an event without an id amid a replay of delivered events: delivering it, it may \
                 be a repeat"
            );
        }
        match &frame.id {
            _ if !advance => {}
            Some(id) if id.is_empty() => {
                self.last_id = None;
                self.last_num = None;
            }
            Some(id) => {
                self.last_id = Some(id.clone());
                self.last_num = num;
            }
            None => {}
        }
        self.attempts = 0;
        let item = RunEvent::from_frame(frame);
        if let Ok(event) = &item {
            if let Some(status) = event.status() {
                self.settled_event |= status.is_settled();
                self.last_status = Some(status);
            }
            if self.run_id.is_none()
                && let Some(id) = event.run_id()
            {
                self.run_id = Some(id);
                self.span.record("run_id", display(id));
            }
        }
        if self.final_join.is_some() {
            self.final_join =
                Some(tokio::time::Instant::now() + self.client.settings().idle_timeout);
        }
        Some(self.step(Some(item)))
    }

    /// The operation the stream rejoins with (its name in errors).
    fn op(&self) -> &'static str {
        self.scope.op(RunOp::Stream).id
    }

    fn step(&self, item: Option<Result<RunEvent>>) -> Step {
        Step {
            item,
            run_id: self.run_id,
            last_id: self.last_id.clone(),
            last_status: self.last_status.clone(),
            suspected: self.suspected,
        }
    }

    fn fail(&mut self, e: Error) -> Step {
        self.done = true;
        self.body = stream::empty().boxed();
        tracing::debug!(error = %e, "run stream failed");
        self.step(Some(Err(e)))
    }

    /// After a lost connection: `Ok(true)` once rejoined, `Ok(false)` when the stream is over.
    async fn recover(&mut self, lost: Lost) -> Result<bool> {
        if self.final_join.is_some() {
            tracing::debug!("the last join of the settled run {lost}");
            return Ok(false);
        }
        if self.last_status.as_ref().is_some_and(RunStatus::is_settled) {
            if lost != Lost::Ended {
                tracing::debug!("run stream {lost} after the final event");
            }
            return Ok(false);
        }
        let Some(run_id) = self.run_id else {
            return Err(Error::stream(
                self.scope.op(RunOp::CreateStream).id,
                StreamCause::RunIdUnknown {
                    lost: lost.as_str(),
                },
            ));
        };
        if lost == Lost::Ended {
            let info = fetch_run(&self.client, self.scope, run_id).await;
            match info {
                Ok(info) if info.status.is_settled() => {
                    // Fetch the events missed meanwhile (a server keeping the run's events
                    // replays them, the final one included), once: however that connection
                    // ends, the stream ends with it.
                    tracing::debug!(status = %info.status, "run stream ended; the run has settled");
                    self.last_status = Some(info.status);
                    let req = join_req(self.scope, run_id, self.last_id.as_deref());
                    return match open(&self.client, &req).await {
                        Ok(body) => {
                            self.body = body;
                            let idle = self.client.settings().idle_timeout;
                            self.final_join = Some(tokio::time::Instant::now() + idle);
                            Ok(true)
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "no final join of the settled run");
                            Ok(false)
                        }
                    };
                }
                Ok(info) => self.last_status = Some(info.status),
                Err(e) if e.is_retryable() => {}
                Err(e) => return Err(e),
            }
        }
        let config = self.client.settings();
        let max = config.stream_reconnects;
        let mut last_error = None;
        loop {
            if self.attempts >= max {
                return Err(match (lost, last_error) {
                    (Lost::Idle, None) => Error::Timeout {
                        operation: self.op(),
                        kind: TimeoutKind::IdleStream,
                        after: config.idle_timeout,
                    },
                    (_, last) => Error::stream(
                        self.op(),
                        StreamCause::ReconnectsExhausted {
                            lost: lost.as_str(),
                            attempts: max,
                            last: last.map(Box::new),
                        },
                    ),
                });
            }
            self.attempts += 1;
            let pause = config.retry.backoff(self.attempts, self.decoder.retry());
            tracing::info!(
                attempt = self.attempts,
                ?pause,
                last_event_id = self.last_id.as_deref(),
                "run stream {lost}; rejoining"
            );
            tokio::time::sleep(pause).await;
            let req = join_req(self.scope, run_id, self.last_id.as_deref());
            match open(&self.client, &req).await {
                Ok(body) => {
                    self.body = body;
                    return Ok(true);
                }
                // The one classifier, and an idle wait for the headers: rejoin again.
                Err(e) if e.is_retryable() || e.is_timeout() => {
                    tracing::debug!(error = %e, "rejoining the run stream failed");
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Entries of [`Delivered::head`]: the first events of the stream.
const DELIVERED_HEAD: usize = 64;
/// Entries of [`Delivered::recent`]: the last events delivered.
const DELIVERED_RECENT: usize = 1024;

/// What was delivered under numeric ids: `(id, hash of the data)` of the first
/// [`DELIVERED_HEAD`] events of the stream, kept for good, and of the last [`DELIVERED_RECENT`]
/// ones, in a ring. 16 bytes an event, at most (64 + 1024) × 16 B = 17 KiB a stream, allocated
/// as events arrive. The head tells a server that replays a run from its start, or numbers each
/// connection from 1, whatever the run's length; the ring covers a replay of the last 1024.
#[derive(Debug, Default)]
struct Delivered {
    head: Vec<(u64, u64)>,
    recent: Vec<(u64, u64)>,
    /// The slot of `recent` written next (its length until it is full).
    next: usize,
}

impl Delivered {
    fn record(&mut self, id: u64, hash: u64) {
        if self.head.len() < DELIVERED_HEAD {
            self.head.push((id, hash));
        } else if self.recent.len() < DELIVERED_RECENT {
            self.recent.push((id, hash));
            self.next = self.recent.len() % DELIVERED_RECENT;
        } else if let Some(slot) = self.recent.get_mut(self.next) {
            *slot = (id, hash);
            self.next = (self.next + 1) % DELIVERED_RECENT;
        }
    }

    /// The hash of the data last delivered under `id`, if still known. A linear scan, newest
    /// first: only ids that went back are looked up (at most 1088 comparisons, about a µs).
    fn lookup(&self, id: u64) -> Option<u64> {
        // Once the ring has wrapped, `recent[..next]` holds its newest entries.
        let (newest, oldest) = self.recent.split_at(self.next.min(self.recent.len()));
        newest
            .iter()
            .rev()
            .chain(oldest.iter().rev())
            .chain(self.head.iter().rev())
            .find(|(i, _)| *i == id)
            .map(|(_, h)| *h)
    }
}

/// How the current connection numbers its events, as far as it has shown: decided by the
/// first event whose numeric id is not above the last delivered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    /// No id has gone back on this connection.
    Unknown,
    /// The connection resent an event with the data delivered under its id: repeats are
    /// skipped. `catching_up` while the last numbered event was such a repeat.
    Replays { catching_up: bool },
    /// An id came back with other data: the server numbers events per connection (the Agent
    /// Workflow Server counts from 1 on every connection and ignores `Last-Event-ID`), so
    /// every event of this connection is delivered.
    PerConnection,
}

/// A 64-bit hash of an event's data, to recognize a replayed event. Not cryptographic, and
/// it need not be: the server chooses the data anyway; two different events under the same id
/// collide with probability about 2⁻⁶⁴. It is computed for every event with a numeric id, so
/// it must be cheap: one 64×64→128-bit multiply per 16 bytes (the folded multiply of wyhash
/// and foldhash). Measured on the 2-core build machine (release, load 3.5): 10–14 GB/s, i.e.
/// 0.01 µs for a 150 B event and 0.07 µs for a 1 KiB one, against 0.4–0.5 µs for the typed
/// decode of the same `values` event that follows ([`RunEvent::parse`]): under 15 %.
fn data_hash(data: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
    fn mix(a: u64, b: u64) -> u64 {
        let r = u128::from(a) * u128::from(b);
        (r as u64) ^ ((r >> 64) as u64)
    }
    let (blocks, tail) = data.as_chunks::<16>();
    let mut h = P0 ^ data.len() as u64;
    for block in blocks {
        let (lo, hi) = block.split_at(8);
        let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
        let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
        h = mix(lo ^ P1, hi ^ h);
    }
    let mut last = [0u8; 16];
    if let Some(dst) = last.get_mut(..tail.len()) {
        dst.copy_from_slice(tail);
    }
    let (lo, hi) = last.split_at(8);
    let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
    let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
    mix(mix(lo ^ P1, hi ^ h) ^ P2, P1 ^ data.len() as u64)
}

/// An id as a number, when it is one.
fn numeric(id: &str) -> Option<u64> {
    id.parse().ok()
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

pub(crate) async fn create_stream(
    client: AcpClient,
    scope: RunScope,
    body: Bytes,
) -> Result<RunStream> {
    let mut req = scope.req(RunOp::CreateStream, None).json_bytes(&body);
    req.headers = sse_headers(None);
    let span = tracing::info_span!(
        "acp",
        operation = req.op.id,
        thread_id = scope.thread_id().map(display)
    );
    let body = tracing::Instrument::instrument(open(&client, &req), span).await?;
    Ok(RunStream::new(&client, scope, None, body))
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
        create_call(
            &self.client,
            self.scope(),
            body,
            |c, scope, body, _doubt| create_stream(c, scope, body),
        )
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
        create_call(
            &self.client,
            RunScope::Stateless,
            body,
            |c, scope, body, _doubt| create_stream(c, scope, body),
        )
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
            stream::iter(chunks).boxed(),
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

    /// The state machine alone, to feed frames as if from successive connections.
    fn machine(last_id: Option<&str>) -> Machine {
        let client = AcpClient::builder("http://127.0.0.1:9").build().unwrap();
        let last_id = last_id.map(|id| FieldStr::from(id.to_owned()));
        Machine {
            client: client.clone(),
            scope: RunScope::Stateless,
            run_id: None,
            body: stream::empty().boxed(),
            decoder: Decoder::new(1 << 20),
            eof: false,
            last_num: last_id.as_deref().and_then(numeric),
            last_id,
            last_status: None,
            delivered: Delivered::default(),
            numbering: Numbering::Unknown,
            suspected: 0,
            settled_event: false,
            final_join: None,
            attempts: 0,
            done: false,
            span: tracing::Span::none(),
        }
    }

    fn frame(id: Option<u64>, n: u64) -> Frame {
        Frame {
            event: Some("agent_event".into()),
            data: format!(
                r#"{{"type":"values","run_id":"{RID}","status":"pending","values":{{"n":{n}}}}}"#
            )
            .into(),
            id: id.map(|i| FieldStr::from(i.to_string())),
            retry: None,
        }
    }

    /// Feeds `(id, n)` frames as one connection; the `n` of the events delivered.
    fn connection(
        m: &mut Machine,
        frames: impl IntoIterator<Item = (Option<u64>, u64)>,
    ) -> Vec<u64> {
        m.numbering = Numbering::Unknown;
        frames
            .into_iter()
            .filter_map(|(id, n)| m.deliver(frame(id, n)).map(|_| n))
            .collect()
    }

    fn ids(range: std::ops::RangeInclusive<u64>, first_n: u64) -> Vec<(Option<u64>, u64)> {
        range
            .clone()
            .map(|i| (Some(i), first_n + i - range.start()))
            .collect()
    }

    #[test]
    fn ids_numbered_per_connection_are_all_delivered() {
        let mut m = machine(None);
        assert_eq!(connection(&mut m, ids(1..=3, 1)), [1, 2, 3]);
        assert_eq!(connection(&mut m, ids(1..=3, 4)), [4, 5, 6]);
        assert_eq!(m.numbering, Numbering::PerConnection);
        // A third connection is told apart from the second one's events under the same ids.
        assert_eq!(connection(&mut m, ids(1..=2, 7)), [7, 8]);
        assert_eq!(m.suspected, 0);
        assert_eq!(m.last_id.as_deref(), Some("2"));
    }

    #[test]
    fn a_replay_from_the_start_is_skipped_up_to_the_new_events() {
        let mut m = machine(None);
        assert_eq!(connection(&mut m, ids(1..=3, 1)), [1, 2, 3]);
        assert_eq!(connection(&mut m, ids(1..=6, 1)), [4, 5, 6]);
        assert_eq!(m.numbering, Numbering::Replays { catching_up: false });
        // A replay of the last events only (a server off by a few).
        assert_eq!(connection(&mut m, ids(5..=7, 5)), [7]);
        assert_eq!(m.suspected, 0);
    }

    #[test]
    fn other_data_amid_a_replay_switches_to_delivering_everything() {
        let mut m = machine(None);
        assert_eq!(connection(&mut m, ids(1..=4, 1)), [1, 2, 3, 4]);
        // Ids 1 and 2 replayed, then id 3 comes with new data: it and the rest are new.
        let conn = [(Some(1), 1), (Some(2), 2), (Some(3), 30), (Some(4), 4)];
        assert_eq!(connection(&mut m, conn), [30, 4]);
        assert_eq!(m.numbering, Numbering::PerConnection);
    }

    #[test]
    fn an_id_too_old_to_compare_is_delivered_and_counted() {
        // `stream_from("5")`: nothing delivered yet under any id.
        let mut m = machine(Some("5"));
        assert_eq!(connection(&mut m, ids(1..=6, 1)), [1, 2, 3, 4, 5, 6]);
        assert_eq!(m.suspected, 5, "ids 1 to 5 may repeat events");
        assert_eq!(m.last_id.as_deref(), Some("6"));
    }

    #[test]
    fn the_head_and_the_ring_cover_long_runs() {
        const LEN: u64 = 2000;
        // Ids numbered per connection after a long first connection: decided by the head.
        let mut m = machine(None);
        assert_eq!(connection(&mut m, ids(1..=LEN, 1)).len(), LEN as usize);
        assert_eq!(
            connection(&mut m, ids(1..=3, LEN + 1)),
            [LEN + 1, LEN + 2, LEN + 3]
        );
        assert_eq!(m.suspected, 0);

        // A replay of a long run from its start: the head and the ring are skipped, the ids in
        // between (no longer kept) are delivered and counted.
        let mut m = machine(None);
        connection(&mut m, ids(1..=LEN, 1));
        let again = connection(&mut m, ids(1..=LEN + 1, 1));
        let kept = (DELIVERED_HEAD + DELIVERED_RECENT) as u64;
        assert_eq!(again.len() as u64, LEN - kept + 1);
        assert_eq!(again.first(), Some(&(DELIVERED_HEAD as u64 + 1)));
        assert_eq!(again.last(), Some(&(LEN + 1)));
        assert_eq!(m.suspected, LEN - kept);
    }

    #[test]
    fn the_ring_keeps_the_newest_entry_of_an_id() {
        let mut d = Delivered::default();
        assert_eq!(d.lookup(1), None);
        for k in 0..(DELIVERED_HEAD + DELIVERED_RECENT + 10) as u64 {
            d.record(k % 100, k);
        }
        assert_eq!(d.head.len(), DELIVERED_HEAD);
        assert_eq!(d.recent.len(), DELIVERED_RECENT);
        assert_eq!(d.next, 10, "wrapped");
        let last = (DELIVERED_HEAD + DELIVERED_RECENT + 9) as u64;
        assert_eq!(d.lookup(last % 100), Some(last));
        assert_eq!(d.lookup(100), None);
        assert_ne!(data_hash(b"{\"n\":1}"), data_hash(b"{\"n\":2}"));
        assert_ne!(data_hash(b""), data_hash(b"\0"));
        let long = [7u8; 40];
        assert_ne!(data_hash(&long), data_hash(&long[..39]));
    }

    #[test]
    fn events_without_an_id_are_delivered() {
        let mut m = machine(None);
        // Ids glued to a keep-alive are lost: the events come without one.
        let conn = [(Some(1), 1), (None, 2), (Some(3), 3), (None, 4)];
        assert_eq!(connection(&mut m, conn), [1, 2, 3, 4]);
        assert_eq!(m.last_id.as_deref(), Some("3"));
        assert_eq!(m.suspected, 0);
        // Amid a replay, an event without an id may be a repeat: delivered and counted.
        let conn = [(Some(1), 1), (None, 2), (Some(3), 3), (Some(4), 5)];
        assert_eq!(connection(&mut m, conn), [2, 5]);
        assert_eq!(m.suspected, 1);
    }

    #[tokio::test]
    async fn a_settled_event_ends_the_stream_without_reading_on() {
        let error = |id: u32| {
            format!(
                "id: {id}\nevent: agent_event\ndata: {{\"type\":\"error\",\"run_id\":\"{RID}\",\"status\":\"error\",\"errcode\":500}}\n\n"
            )
        };
        let first = [error(1), error(2), error(3), ":".into()].concat();
        // The next chunk is never read: no event from it, and no request for a rejoin.
        let mut s = canned(None, 1 << 20, &[&first, &values(4, "pending"), ":\n\n"]);
        let items = collect(&mut s).await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items.iter().all(|i| {
            i.as_ref()
                .is_ok_and(|e| e.status() == Some(RunStatus::Error))
        }));
        assert_eq!(s.last_status(), Some(&RunStatus::Error));
        assert_eq!(s.last_event_id(), Some("3"));
    }
}
