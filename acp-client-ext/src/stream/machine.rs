//! The state machine behind [`RunStream`](super::RunStream): one [`State`] advanced by one
//! [`Machine::step`], as kube-runtime's watcher does (`kube-runtime/src/watcher.rs`: an
//! `enum State` and an `async fn step` that maps a state to an event and the next state).
//!
//! Each rule of "What happens when a stream drops" in the [stream docs](super) is one
//! transition of [`Machine::step`]; the table there names them.

use super::replay::{Admit, Ledger};
use super::{Body, SETTLED_GRACE, StreamItem, join_req, open};
use crate::client::AcpClient;
use crate::error::{Error, Result, StreamCause, TimeoutKind};
use crate::run::{RunHandle, RunOp, RunScope, RunStatus, fetch_run};
use crate::sse::{Decoder, FieldStr, Frame, SseError};
use crate::telemetry;
use crate::wait::WaitOutcome;
use futures::StreamExt;
use serde_json::Value;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};
use uuid::Uuid;

/// Where the stream is.
pub(super) enum State {
    /// A connection is open: deliver the events its decoder holds, else read more bytes.
    Reading { body: Body, conn: Conn },
    /// The body ended cleanly: drain the decoder (a last event may lack its blank line).
    Draining { conn: Conn },
    /// The connection stopped giving events before the run settled: end, check the run, or
    /// rejoin.
    Lost(Lost),
    /// Rejoin (`GET .../runs/{run_id}/stream` with `Last-Event-ID`), after the backoff of the
    /// next attempt. `last_error`: why the previous attempt failed.
    Rejoining {
        lost: Lost,
        last_error: Option<Error>,
    },
    /// The stream ends normally: when the run is interrupted and no event carried the
    /// interrupt, it is fetched from the run's wait output (once).
    Ending,
    /// The stream is over.
    Done,
}

/// What the open connection is, which decides how it may end.
#[derive(Debug, Clone, Copy)]
pub(super) enum Conn {
    /// An ordinary connection: when it fails, goes idle or ends early, the run is rejoined.
    Live,
    /// An event said the run settled: what the connection still sends is delivered, until it
    /// ends or fails, or no event has come by `grace_until` ([`SETTLED_GRACE`] after the last
    /// event, at most the idle timeout; keep-alives do not count). An event whose status is not
    /// settled makes the connection `Live` again (the run goes on).
    Settled { grace_until: Instant },
    /// The one last join of a run found settled: it ends the stream however it ends, and when
    /// no event has come on it by `deadline` (the idle timeout after its last event;
    /// keep-alives do not count).
    FinalJoin { deadline: Instant },
}

/// Why a connection stopped giving events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lost {
    /// The body failed.
    Dropped,
    /// No byte for the idle timeout.
    Idle,
    /// The body ended cleanly.
    Ended,
}

impl Lost {
    pub(super) fn as_str(self) -> &'static str {
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

/// What the state machine hands the [`RunStream`](super::RunStream): an item (`None`: normal
/// end) and what the accessors report.
pub(super) struct Step<E> {
    pub(super) item: Option<Result<E>>,
    pub(super) view: View,
    /// The interrupt payload, handed over once, with the end of a stream whose run is
    /// interrupted.
    pub(super) interrupt: Option<Value>,
}

/// What a stream's accessors report, as of one step: the machine's, copied.
#[derive(Default)]
pub(super) struct View {
    pub(super) run_id: Option<Uuid>,
    pub(super) last_id: Option<FieldStr>,
    pub(super) last_status: Option<RunStatus>,
    pub(super) suspected: u64,
}

/// The longest wait for the interrupt of a run a stream ended on (`GET .../wait` of a run
/// that is interrupted answers at once).
const INTERRUPT_FETCH: Duration = Duration::from_secs(5);

/// What the stream knows besides its [`State`]: the run, the decoder of the current
/// connection, what was delivered.
pub(super) struct Machine {
    pub(super) client: AcpClient,
    pub(super) scope: RunScope,
    pub(super) run_id: Option<Uuid>,
    pub(super) decoder: Decoder,
    pub(super) ledger: Ledger,
    pub(super) last_status: Option<RunStatus>,
    /// Reconnection attempts since events last flowed.
    pub(super) attempts: u32,
    /// Rejoins over the stream's whole life (its span's `acp.stream.reconnects`).
    pub(super) reconnects: u32,
    /// The payload of the last interrupt event, until an event says the run goes on; at the
    /// end, the interrupt fetched when no event carried it.
    pub(super) interrupt: Option<Value>,
    pub(super) span: tracing::Span,
}

/// One transition: what to yield (if anything), and the next state.
type Transition<E> = (Option<Result<E>>, State);

/// What [`Machine::poll_fast`] came to.
// Not boxed: a step is returned per event, and a box would be an allocation per event.
#[allow(clippy::large_enum_variant)]
pub(super) enum Fast<E> {
    /// An item. What the accessors report is the machine's own (the stream reads it there
    /// while it holds the core), so no [`Step`] is built: a snapshot per event was ~2% of a
    /// typed stream's instructions.
    Item(Result<E>),
    /// The end (`item: None`), as [`Machine::next`] hands it over.
    Step(Step<E>),
    /// The stream was over already.
    Done,
    /// Waiting for bytes; the task is woken by the body or by the idle timer.
    Pending,
    /// A transition that awaits (checking the run, rejoining, ending): for [`Machine::next`].
    Slow,
}

/// The idle timeout of the open connection, without a timer per read: the wait for bytes
/// starts when the body first has none (`waiting_since`), and one tokio timer, armed then, is
/// moved only when the deadline comes earlier than it is armed for (a settled connection's
/// grace). A timer that fires before the deadline (bytes came meanwhile) is re-armed for the
/// deadline. So a busy stream touches the timer wheel once per idle period, not per chunk.
#[derive(Default)]
pub(super) struct IdleTimer {
    sleep: Option<Pin<Box<Sleep>>>,
    armed: Option<Instant>,
    waiting_since: Option<Instant>,
}

impl IdleTimer {
    /// Bytes came: the next wait starts afresh.
    fn bytes(&mut self) {
        self.waiting_since = None;
    }

    /// The body has no bytes: `Ready` once the connection has waited for `idle` (or, on a
    /// settled or last connection, until its deadline), else `Pending` with a wake-up armed.
    fn poll(&mut self, cx: &mut Context<'_>, idle: Duration, conn: Conn) -> Poll<()> {
        let now = Instant::now();
        let since = *self.waiting_since.get_or_insert(now);
        let mut due = since + idle;
        if let Conn::FinalJoin { deadline: event } | Conn::Settled { grace_until: event } = conn {
            due = due.min(event);
        }
        loop {
            if Instant::now() >= due {
                return Poll::Ready(());
            }
            let sleep = match (&mut self.sleep, self.armed) {
                (Some(sleep), Some(armed)) if armed <= due => sleep,
                (Some(sleep), _) => {
                    sleep.as_mut().reset(due);
                    self.armed = Some(due);
                    sleep
                }
                (None, _) => {
                    self.armed = Some(due);
                    self.sleep.insert(Box::pin(tokio::time::sleep_until(due)))
                }
            };
            match sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // Fired for an earlier deadline: re-armed for this one (or it has passed).
                Poll::Ready(()) => {
                    sleep.as_mut().reset(due);
                    self.armed = Some(due);
                }
            }
        }
    }
}

impl Machine {
    /// The transitions that need no await, done in place: deliver what the decoder holds, feed
    /// it what the body has, drain it at the body's end, and the ends of a connection that
    /// follow. Each event is one call, without a future; [`Fast::Slow`] leaves the rest (the
    /// states `Lost`, `Rejoining`, `Ending`) to [`Machine::next`], whose rules are the same.
    pub(super) fn poll_fast<E: StreamItem>(
        &mut self,
        state: &mut State,
        timer: &mut IdleTimer,
        cx: &mut Context<'_>,
    ) -> Fast<E> {
        loop {
            let (item, next) = match state {
                State::Done => return Fast::Done,
                State::Reading { body, conn } => match self.decoder.next_frame() {
                    Ok(Some(frame)) => {
                        let (item, next) = self.deliver::<E>(frame, *conn);
                        *conn = next;
                        match item {
                            Some(item) => return Fast::Item(item),
                            None => continue,
                        }
                    }
                    Err(e) => {
                        let current = std::mem::replace(state, State::Done);
                        self.decode_error(e, current)
                    }
                    Ok(None) => match body.poll_next_unpin(cx) {
                        Poll::Ready(Some(Ok(chunk))) => {
                            timer.bytes();
                            self.decoder.feed_bytes(chunk);
                            continue;
                        }
                        Poll::Ready(Some(Err(e))) => {
                            tracing::debug!(error = %e.without_url(), "run stream connection lost");
                            let conn = *conn;
                            self.connection_over(conn, Lost::Dropped)
                        }
                        Poll::Ready(None) => {
                            timer.bytes();
                            let conn = *conn;
                            (None, State::Draining { conn })
                        }
                        Poll::Pending => {
                            let idle = self.client.settings().idle_timeout;
                            if timer.poll(cx, idle, *conn).is_pending() {
                                return Fast::Pending;
                            }
                            timer.bytes();
                            tracing::debug!(?idle, "run stream idle");
                            let conn = *conn;
                            self.connection_over(conn, Lost::Idle)
                        }
                    },
                },
                State::Draining { conn } => {
                    let conn = *conn;
                    self.drain(conn)
                }
                State::Lost(_) | State::Rejoining { .. } | State::Ending => return Fast::Slow,
            };
            // As in `next`: an item, or the end, or go on.
            *state = next;
            if let Some(item) = item {
                return Fast::Item(item);
            }
            if matches!(state, State::Done) {
                let mut step = self.snapshot(None);
                if self.last_status == Some(RunStatus::Interrupted) {
                    step.interrupt = self.interrupt.take();
                }
                return Fast::Step(step);
            }
        }
    }

    /// Advance until there is an item to yield or the stream is over; `None` once it was.
    pub(super) async fn next<E: StreamItem>(&mut self, state: &mut State) -> Option<Step<E>> {
        loop {
            if matches!(state, State::Done) {
                return None;
            }
            let current = std::mem::replace(state, State::Done);
            let (item, next) = self.step(current).await;
            *state = next;
            if item.is_some() {
                return Some(self.snapshot(item));
            }
            if matches!(state, State::Done) {
                let mut step = self.snapshot(None);
                if self.last_status == Some(RunStatus::Interrupted) {
                    step.interrupt = self.interrupt.take();
                }
                return Some(step);
            }
        }
    }

    /// The one transition function.
    async fn step<E: StreamItem>(&mut self, state: State) -> Transition<E> {
        match state {
            State::Reading { body, conn } => self.read(body, conn).await,
            State::Draining { conn } => self.drain(conn),
            State::Lost(lost) => self.lost(lost).await,
            State::Rejoining { lost, last_error } => self.rejoin(lost, last_error).await,
            State::Ending => self.ending().await,
            State::Done => (None, State::Done),
        }
    }

    /// `Reading`: an event already received, or more bytes, or the reason there are none.
    async fn read<E: StreamItem>(&mut self, mut body: Body, conn: Conn) -> Transition<E> {
        match self.decoder.next_frame() {
            Ok(Some(frame)) => {
                let (item, conn) = self.deliver(frame, conn);
                return (item, State::Reading { body, conn });
            }
            Ok(None) => {}
            Err(e) => return self.decode_error(e, State::Reading { body, conn }),
        }
        let idle = self.client.settings().idle_timeout;
        let mut deadline = Instant::now() + idle;
        if let Conn::FinalJoin { deadline: event } | Conn::Settled { grace_until: event } = conn {
            deadline = deadline.min(event);
        }
        match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(chunk))) => {
                self.decoder.feed_bytes(chunk);
                (None, State::Reading { body, conn })
            }
            Ok(Some(Err(e))) => {
                tracing::debug!(error = %e.without_url(), "run stream connection lost");
                self.connection_over(conn, Lost::Dropped)
            }
            Ok(None) => (None, State::Draining { conn }),
            Err(_) => {
                tracing::debug!(?idle, "run stream idle");
                self.connection_over(conn, Lost::Idle)
            }
        }
    }

    /// `Draining`: the events left in the decoder at the body's end, then the end of the
    /// connection.
    fn drain<E: StreamItem>(&mut self, conn: Conn) -> Transition<E> {
        match self.decoder.finish() {
            Ok(Some(frame)) => {
                let (item, conn) = self.deliver(frame, conn);
                (item, State::Draining { conn })
            }
            Ok(None) => self.connection_over(conn, Lost::Ended),
            Err(e) => self.decode_error(e, State::Draining { conn }),
        }
    }

    /// A connection stopped giving events: the end of a settled or last connection, else
    /// `Lost`.
    fn connection_over<E>(&mut self, conn: Conn, lost: Lost) -> Transition<E> {
        self.decoder.reset();
        match conn {
            Conn::Live => (None, State::Lost(lost)),
            Conn::Settled { .. } => {
                // Idle here: no event for the grace (a server may send keep-alives for ever).
                tracing::debug!("run stream ends after the run settled: the connection {lost}");
                self.end()
            }
            Conn::FinalJoin { .. } => {
                tracing::debug!("the last join of the settled run {lost}");
                self.end()
            }
        }
    }

    /// A decoder error: an oversized event ends the stream; any other skipped the event, and
    /// the stream goes on in `next`.
    fn decode_error<E>(&mut self, e: SseError, next: State) -> Transition<E> {
        match e {
            SseError::EventTooLarge { limit } => {
                let op = self.op();
                self.fail(Error::stream(op, StreamCause::EventTooLarge { limit }))
            }
            e => (Some(self.skipped(e)), next),
        }
    }

    /// The item for an event the decoder (or [`Machine::deliver`]) skipped: an error, and the
    /// stream goes on.
    fn skipped<E>(&mut self, e: SseError) -> Result<E> {
        self.attempts = 0;
        Err(Error::decode("run event", e, b""))
    }

    /// `Lost`: the connection is dropped; end, check the run, or rejoin.
    async fn lost<E>(&mut self, lost: Lost) -> Transition<E> {
        if self.last_status.as_ref().is_some_and(RunStatus::is_settled) {
            if lost != Lost::Ended {
                tracing::debug!("run stream {lost} after the final event");
            }
            return self.end();
        }
        let Some(run_id) = self.run_id else {
            return self.fail(Error::stream(
                self.scope.op(RunOp::CreateStream).id,
                StreamCause::RunIdUnknown {
                    lost: lost.as_str(),
                },
            ));
        };
        if lost == Lost::Ended {
            match fetch_run(&self.client, self.scope, run_id).await {
                Ok(info) if info.status.is_settled() => {
                    // Fetch the events missed meanwhile (a server keeping the run's events
                    // replays them, the final one included), once: however that connection
                    // ends, the stream ends with it.
                    tracing::debug!(status = %info.status, "run stream ended; the run has settled");
                    self.last_status = Some(info.status);
                    let req = join_req(self.scope, run_id, self.last_id());
                    return match open(&self.client, &req).await {
                        Ok(body) => {
                            self.ledger.new_connection();
                            let idle = self.client.settings().idle_timeout;
                            let conn = Conn::FinalJoin {
                                deadline: Instant::now() + idle,
                            };
                            (None, State::Reading { body, conn })
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "no final join of the settled run");
                            self.end()
                        }
                    };
                }
                Ok(info) => self.last_status = Some(info.status),
                Err(e) if e.is_retryable() => {}
                Err(e) => return self.fail(e),
            }
        }
        (
            None,
            State::Rejoining {
                lost,
                last_error: None,
            },
        )
    }

    /// `Rejoining`: one attempt, after its backoff, or the error once attempts are exhausted.
    async fn rejoin<E>(&mut self, lost: Lost, last_error: Option<Error>) -> Transition<E> {
        let settings = self.client.settings();
        let max = settings.stream_reconnects;
        if self.attempts >= max {
            let e = match (lost, last_error) {
                (Lost::Idle, None) => Error::Timeout {
                    operation: self.op(),
                    kind: TimeoutKind::IdleStream,
                    after: settings.idle_timeout,
                },
                (_, last) => Error::stream(
                    self.op(),
                    StreamCause::ReconnectsExhausted {
                        lost: lost.as_str(),
                        attempts: max,
                        last: last.map(Box::new),
                    },
                ),
            };
            return self.fail(e);
        }
        let Some(run_id) = self.run_id else {
            // `Lost` only moves here with a run id.
            return self.end();
        };
        self.attempts += 1;
        self.reconnects += 1;
        telemetry::record_reconnect(&self.span, self.reconnects);
        let pause = settings.retry.backoff(self.attempts, self.decoder.retry());
        tracing::info!(
            attempt = self.attempts,
            ?pause,
            last_event_id = self.last_id(),
            "run stream {lost}; rejoining"
        );
        tokio::time::sleep(pause).await;
        let req = join_req(self.scope, run_id, self.last_id());
        match open(&self.client, &req).await {
            Ok(body) => {
                self.ledger.new_connection();
                let conn = Conn::Live;
                (None, State::Reading { body, conn })
            }
            // The one classifier, and an idle wait for the headers: rejoin again.
            Err(e) if e.is_retryable() || e.is_timeout() => {
                tracing::debug!(error = %e, "rejoining the run stream failed");
                let last_error = Some(e);
                (None, State::Rejoining { lost, last_error })
            }
            Err(e) => self.fail(e),
        }
    }

    /// Deliver `frame` unless the ledger has it already; the connection's next kind.
    fn deliver<E: StreamItem>(&mut self, frame: Frame, conn: Conn) -> (Option<Result<E>>, Conn) {
        // The decoder leaves the data's UTF-8 check to here: one pass, whose `&str` serde then
        // reads without checking each string again. Not UTF-8: skipped, as the decoder skips
        // such an event when it checks (`SseError::InvalidUtf8`), before the ledger sees it.
        let Ok(text) = std::str::from_utf8(&frame.data) else {
            let item = self.skipped(SseError::InvalidUtf8 { field: "data" });
            return (Some(item), conn);
        };
        if self.ledger.admit(frame.id.as_ref(), text.as_bytes()) == Admit::Skip {
            return (None, conn);
        }
        self.attempts = 0;
        let (item, meta) = E::decode(&frame, text);
        let (mut settled, mut status_seen) = (false, false);
        if let Some(status) = meta.status {
            settled = status.is_settled();
            status_seen = true;
            if !settled {
                // The run goes on: an interrupt seen before is answered.
                self.interrupt = None;
            }
            self.last_status = Some(status);
        }
        if let Some(payload) = meta.interrupt {
            self.interrupt = payload;
        }
        if self.run_id.is_none()
            && let Some(id) = meta.run_id
        {
            self.run_id = Some(id);
            telemetry::record_run_id(&self.span, id);
        }
        let idle = self.client.settings().idle_timeout;
        let conn = match conn {
            _ if settled => Conn::Settled {
                grace_until: Instant::now() + SETTLED_GRACE.min(idle),
            },
            Conn::FinalJoin { .. } => Conn::FinalJoin {
                deadline: Instant::now() + idle,
            },
            Conn::Settled { .. } if status_seen => {
                tracing::debug!("an event after the settled one says the run goes on");
                Conn::Live
            }
            Conn::Settled { .. } => Conn::Settled {
                grace_until: Instant::now() + SETTLED_GRACE.min(idle),
            },
            other => other,
        };
        (Some(item), conn)
    }

    fn last_id(&self) -> Option<&str> {
        self.ledger.last_id().map(FieldStr::as_str)
    }

    /// The operation the stream rejoins with (its name in errors).
    fn op(&self) -> &'static str {
        self.scope.op(RunOp::Stream).id
    }

    /// The normal end.
    fn end<E>(&mut self) -> Transition<E> {
        self.decoder.reset();
        (None, State::Ending)
    }

    /// `Ending`: the interrupt of a run the stream ended on interrupted, when no event carried
    /// it (the wait output of an interrupted run has it: `{"type":"interrupt","interrupt":..}`),
    /// fetched through [`RunHandle::wait`] and its decoding. Without it (the server does not
    /// answer, the run was cancelled or resumed meanwhile) the stream still ends normally.
    async fn ending<E>(&mut self) -> Transition<E> {
        let interrupted = self.last_status == Some(RunStatus::Interrupted);
        if let (true, None, Some(run_id)) = (interrupted, &self.interrupt, self.run_id) {
            let run = RunHandle {
                client: self.client.clone(),
                scope: self.scope,
                run_id,
                created: None,
                checks: Default::default(),
            };
            let deadline = self.client.settings().idle_timeout.min(INTERRUPT_FETCH);
            match run.wait(deadline).await {
                Ok(WaitOutcome::Interrupted { payload, .. }) => self.interrupt = Some(payload),
                Ok(other) => tracing::debug!("the interrupted run's wait output: {other}"),
                Err(e) => tracing::warn!(error = %e, "fetching the interrupt of the run failed"),
            }
        }
        (None, State::Done)
    }

    /// The end with an error.
    fn fail<E>(&mut self, e: Error) -> Transition<E> {
        tracing::debug!(error = %e, "run stream failed");
        telemetry::record_error(&self.span, &e);
        self.decoder.reset();
        (Some(Err(e)), State::Done)
    }

    fn snapshot<E>(&self, item: Option<Result<E>>) -> Step<E> {
        Step {
            item,
            view: self.view(),
            interrupt: None,
        }
    }

    /// What the stream's accessors report now.
    pub(super) fn view(&self) -> View {
        View {
            run_id: self.run_id,
            last_id: self.ledger.last_id().cloned(),
            last_status: self.last_status.clone(),
            suspected: self.ledger.suspected(),
        }
    }
}
