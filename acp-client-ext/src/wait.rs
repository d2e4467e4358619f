//! Waiting for a run's outcome, within a deadline the caller chooses: [`RunHandle::wait`] and
//! create-and-wait ([`ThreadRuns::wait`], [`StatelessRuns::wait`]). How the wait copes with
//! servers that answer early or lack the wait route is documented on [`RunHandle::wait`].

use crate::client::AcpClient;
use crate::creates::{Doubt, Resolved, create_body, create_call};
use crate::error::{Error, Result, TimeoutKind};
use crate::options::Call;
use crate::retry::Backoff;
use crate::run::{
    RunHandle, RunInfo, RunOp, RunScope, RunStatus, StatelessRuns, ThreadRuns, fetch_run,
};
use acp_client::types;
use bytes::Bytes;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::time::Duration;
use tracing::Instrument;

/// How a run ended (or where it stopped), as a wait reports it.
///
/// ```no_run
/// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
/// use acp_client_ext::WaitOutcome;
/// use std::time::Duration;
/// match run.wait(Duration::from_secs(60)).await? {
///     WaitOutcome::Completed { values, .. } => println!("done: {values:?}"),
///     WaitOutcome::Interrupted { payload, .. } => println!("needs an answer: {payload}"),
///     WaitOutcome::Failed { error, .. } => println!("failed {}: {}", error.errcode, error.description),
///     other => println!("ended as {}", other.run().status),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WaitOutcome {
    /// The run finished with a result (output type `result`).
    Completed {
        /// The run as the server last described it.
        run: RunInfo,
        /// The result's values, as received (`null` when the server sent none); decode them
        /// with [`WaitOutcome::output_as`].
        values: Value,
        /// The result's messages.
        messages: Vec<types::Message>,
    },
    /// The run stopped and waits for a resume payload (output type `interrupt`).
    Interrupted {
        /// The run as the server last described it.
        run: RunInfo,
        /// What the agent asks (the interrupt payload).
        payload: Value,
    },
    /// The run finished with an error (output type `error`).
    Failed {
        /// The run as the server last described it.
        run: RunInfo,
        /// The error the server reported.
        error: types::RunError,
    },
    /// The run was cancelled (by a client: `POST .../cancel`, a multitask strategy, a
    /// disconnect). ACP has no `cancelled` status; a cancelled run is recognised by one of:
    /// its status is a server's own `cancelled`, or it is `interrupted` with the interrupt
    /// payload `{"reason": "cancelled"}` and nothing else (what the reference server and
    /// LangGraph-style servers write). Such a run is never handed to a resume callback as a
    /// question.
    Cancelled {
        /// The run as the server last described it.
        run: RunInfo,
    },
    /// The run settled without an output this crate could read: a server-side timeout, an
    /// unknown output type, or a status learnt by polling.
    Ended {
        /// The run as the server last described it.
        run: RunInfo,
        /// Its status.
        status: RunStatus,
    },
}

impl WaitOutcome {
    /// The run as the server last described it.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let outcome = run.wait(std::time::Duration::from_secs(5)).await?;
    /// println!("{} is {}", outcome.run().run_id, outcome.status());
    /// # Ok(())
    /// # }
    /// ```
    pub fn run(&self) -> &RunInfo {
        match self {
            WaitOutcome::Completed { run, .. }
            | WaitOutcome::Interrupted { run, .. }
            | WaitOutcome::Failed { run, .. }
            | WaitOutcome::Cancelled { run }
            | WaitOutcome::Ended { run, .. } => run,
        }
    }

    /// The run's status.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::RunStatus;
    /// let outcome = run.wait(std::time::Duration::from_secs(5)).await?;
    /// assert!(outcome.status().is_settled());
    /// # Ok(())
    /// # }
    /// ```
    pub fn status(&self) -> &RunStatus {
        match self {
            WaitOutcome::Ended { status, .. } => status,
            other => &other.run().status,
        }
    }

    /// Whether the run finished with a result.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// if run.wait(std::time::Duration::from_secs(5)).await?.is_completed() {
    ///     println!("done");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_completed(&self) -> bool {
        matches!(self, WaitOutcome::Completed { .. })
    }

    /// The output values of a completed run, decoded into `T` (your own type, or the agent's
    /// generated `Output`).
    ///
    /// # Errors
    ///
    /// [`Error::UnexpectedOutcome`] when the run did not complete, [`Error::Decode`] naming `T`
    /// when the values do not fit it.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Output { count: u32 }
    /// let out: Output = run.wait(std::time::Duration::from_secs(30)).await?.output_as()?;
    /// println!("{}", out.count);
    /// # Ok(())
    /// # }
    /// ```
    pub fn output_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        match self {
            WaitOutcome::Completed { run, values, .. } => {
                crate::decode::decode_value(values, || format!("output of run {}", run.run_id))
            }
            other => Err(other.unexpected("a result")),
        }
    }

    /// The interrupt payload of an interrupted run, decoded into `T`.
    ///
    /// # Errors
    ///
    /// [`Error::UnexpectedOutcome`] when the run is not interrupted, [`Error::Decode`] naming
    /// `T` when the payload does not fit it.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Question { question: String }
    /// let q: Question = run.wait(std::time::Duration::from_secs(30)).await?.payload_as()?;
    /// println!("{}", q.question);
    /// # Ok(())
    /// # }
    /// ```
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        match self {
            WaitOutcome::Interrupted { run, payload } => {
                crate::decode::decode_value(payload, || {
                    format!("interrupt payload of run {}", run.run_id)
                })
            }
            other => Err(other.unexpected("an interrupt")),
        }
    }

    fn unexpected(&self, expected: &'static str) -> Error {
        let outcome = match self {
            WaitOutcome::Completed { .. } => "completed".to_string(),
            WaitOutcome::Interrupted { .. } => "was interrupted".to_string(),
            WaitOutcome::Failed { error, .. } => {
                format!("failed ({}): {}", error.errcode, error.description)
            }
            WaitOutcome::Cancelled { .. } => "was cancelled".to_string(),
            WaitOutcome::Ended { status, .. } => format!("ended: {status}"),
        };
        Error::UnexpectedOutcome {
            run_id: self.run().run_id,
            expected,
            outcome,
        }
    }
}

impl fmt::Display for WaitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitOutcome::Completed { run, .. } => write!(f, "run {} completed", run.run_id),
            WaitOutcome::Interrupted { run, .. } => write!(f, "run {} interrupted", run.run_id),
            WaitOutcome::Failed { run, error } => write!(
                f,
                "run {} failed ({}): {}",
                run.run_id, error.errcode, error.description
            ),
            WaitOutcome::Cancelled { run } => write!(f, "run {} cancelled", run.run_id),
            WaitOutcome::Ended { run, status } => write!(f, "run {} ended: {status}", run.run_id),
        }
    }
}

/// What one answer of the wait endpoint said.
enum Answer {
    /// The run settled: here is how.
    Settled(Box<WaitOutcome>),
    /// The server answered before the run settled (200 with a pending run, or 204).
    Early,
}

impl RunHandle {
    /// Wait until the run settles (finishes, fails or is interrupted), at most `deadline`.
    /// When the deadline elapses the result is [`Error::Timeout`] and the run goes on.
    ///
    /// It asks the server to wait (`GET .../runs/{run_id}/wait`) and turns the answer into a
    /// [`WaitOutcome`]. ([`ThreadRuns::wait`] and [`StatelessRuns::wait`] create a run and wait
    /// for it in one request, `POST .../runs/wait`, then go on like this.)
    ///
    /// Servers differ in how they answer a wait, so the wait is robust to the ones seen in practice:
    ///
    /// * a server whose own wait limit elapses answers early: `200` with a run that is still
    ///   `pending`, or `204 No Content` (a known quirk). The wait then asks again, after the
    ///   client's [`RetryPolicy`](crate::RetryPolicy) backoff, until the run settles or the caller's
    ///   deadline elapses;
    /// * an intermediary between client and server that gives up on the long poll (a gateway's
    ///   `502`/`503`/`504`, a `429`, a dropped connection, a request timeout) says "not settled
    ///   yet" too: the wait asks again, after the backoff (at least the `Retry-After`), until the
    ///   deadline;
    /// * a server without the wait route (`404` for the route, `405`, `501`, or `500` saying "not
    ///   implemented") is polled instead: `GET .../runs/{run_id}` with the same backoff, until the
    ///   run settles or the deadline elapses.
    ///
    /// A `404` can mean "no such route" or "no such run". They are told apart by asking for the run
    /// (`GET .../runs/{run_id}`): if the run exists, the 404 was about the route and the wait falls
    /// back to polling; if the run is gone too, the original 404 is returned.
    ///
    /// # Caveats
    ///
    /// * The deadline bounds the whole wait, retries and backoffs included, but not what the server
    ///   does: when it elapses the run keeps going on the server (cancel it with
    ///   [`RunHandle::cancel`] if it should stop).
    /// * When polling, only the run's status is known: the spec's `Run` object has no output, so a
    ///   settled run is reported as [`WaitOutcome::Ended`] with its status unless the server puts an
    ///   `output` field in the run object anyway.
    /// * Create-and-wait does not fall back: a server that answers `POST .../runs/wait` with `204`
    ///   does not say which run it created, so the wait cannot continue and the call fails with
    ///   [`Error::Decode`]. When the deadline of a create-and-wait elapses the run it created is not
    ///   reachable from the error; create the run and wait on its handle if you need it.
    /// * An output of a type this crate does not know (neither `result`, `interrupt` nor `error`) is
    ///   not decoded; the outcome then follows the run's status ([`WaitOutcome::Ended`]).
    /// * A status a server invents (`running`, `cancelled`, ...) counts as settled only if the answer
    ///   carries an output; otherwise the wait keeps waiting until the deadline.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::{Error, WaitOutcome};
    /// use std::time::Duration;
    /// match run.wait(Duration::from_secs(30)).await {
    ///     Ok(WaitOutcome::Completed { values, .. }) => println!("{values:?}"),
    ///     Ok(other) => println!("{other}"),
    ///     Err(Error::Timeout { kind: acp_client_ext::TimeoutKind::WaitDeadline, .. }) => println!("still running"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self, deadline: Duration) -> Call<WaitOutcome> {
        Call::new(self.clone(), move |run| async move {
            let op = run.scope.op(RunOp::Wait).id;
            let span = run.span(op);
            within(deadline, op, run.wait_unbounded().instrument(span)).await
        })
    }

    /// The wait loop, without a deadline (the caller wraps it in one).
    async fn wait_unbounded(&self) -> Result<WaitOutcome> {
        let mut backoff = Backoff::new();
        let policy = &self.client.settings().retry;
        loop {
            match self.wait_once().await {
                Ok(Answer::Settled(outcome)) => return Ok(*outcome),
                Ok(Answer::Early) => {
                    tracing::debug!("wait answered before the run settled; waiting again");
                    tokio::time::sleep(backoff.next(policy, None)).await;
                }
                // The one classifier: what a request would retry, a wait waits through. But an
                // intermediary may cut every long-poll (a gateway answering each with 502 or
                // 504): the run itself is asked whether it has settled meanwhile, so the wait
                // ends with the run, not with the caller's deadline.
                Err(e) if e.is_retryable() => {
                    let hint = match &e {
                        Error::Api { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    tracing::debug!(error = %e, "the wait was cut short; checking the run");
                    if let Some(outcome) = self.settled_outcome().await? {
                        return Ok(outcome);
                    }
                    tokio::time::sleep(backoff.next(policy, hint)).await;
                }
                Err(e) => {
                    if self.wait_route_missing(&e).await? {
                        tracing::debug!(error = %e, "no usable wait endpoint; polling the run");
                        return self.poll_until_settled().await;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// One request to the wait endpoint.
    async fn wait_once(&self) -> Result<Answer> {
        let req = self.scope.req(RunOp::Wait, Some(self.run_id));
        let (status, body) = self.client.bytes(&req).await?;
        if status == StatusCode::NO_CONTENT || body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Answer::Early);
        }
        let answer = WaitAnswer::decode(req.op.id, status, &body)?;
        let run = match answer.run {
            Some(r) => RunInfo::from_raw(req.op.id, r)?,
            None => fetch_run(&self.client, self.scope, self.run_id).await?,
        };
        Ok(match outcome_of(run, answer.output.as_ref())? {
            Some(outcome) => Answer::Settled(Box::new(outcome)),
            None => Answer::Early,
        })
    }

    /// Whether `e`, an error of the wait endpoint, means the server has no usable wait route.
    /// A 404 is checked against the run itself: if the run exists, the route was missing.
    async fn wait_route_missing(&self, e: &Error) -> Result<bool> {
        match e {
            Error::Api { status, .. } if *status == StatusCode::NOT_FOUND => {
                match fetch_run(&self.client, self.scope, self.run_id).await {
                    Ok(_) => Ok(true),
                    Err(Error::Api { status, .. }) if status == StatusCode::NOT_FOUND => Ok(false),
                    Err(other) => Err(other),
                }
            }
            e => Ok(e.is_unsupported()),
        }
    }

    /// The run's outcome if `GET .../runs/{run_id}` says it has settled (with the output when
    /// the server puts one in the run object); `None` while it runs, or when the run cannot be
    /// read for a reason a retry may mend.
    async fn settled_outcome(&self) -> Result<Option<WaitOutcome>> {
        match fetch_run(&self.client, self.scope, self.run_id).await {
            Ok(run) => outcome_of_run(run),
            Err(e) if e.is_retryable() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Poll `GET .../runs/{run_id}` until the run settles.
    async fn poll_until_settled(&self) -> Result<WaitOutcome> {
        let mut backoff = Backoff::new();
        let policy = &self.client.settings().retry;
        loop {
            let run = fetch_run(&self.client, self.scope, self.run_id).await?;
            if let Some(outcome) = outcome_of_run(run)? {
                return Ok(outcome);
            }
            tokio::time::sleep(backoff.next(policy, None)).await;
        }
    }
}

/// `work`, or an [`Error::Timeout`] of kind [`TimeoutKind::WaitDeadline`] after `deadline`.
///
/// The deadline is checked *before* `work` is polled, every time: an elapsed deadline (zero, or
/// one that passed while `work` slept) never lets `work` start another request.
/// (`tokio::time::timeout` polls the inner future first, so `timeout(Duration::ZERO, wait)` could
/// connect and send a request before reporting `Elapsed`.)
///
/// The timer that ends a wait at its deadline is one of [`DeadlineTimers`], kept armed after
/// the wait: a timer armed anew for every call (and dropped after it) found the runtime's timer
/// wheel empty each time, and arming it woke the parked I/O driver to re-arm its own wake-up:
/// ~9% of the latency of a create-and-wait of an echo run on loopback (`bench_client URL
/// overhead`: 1.31x a bare reqwest POST with a fresh timer per call, 1.22x without any). A
/// kept timer moved to a later deadline is later than the driver's next wake-up, which is
/// then left alone.
async fn within<T>(
    deadline: Duration,
    operation: &'static str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let elapsed = || {
        Err(Error::Timeout {
            operation,
            kind: TimeoutKind::WaitDeadline,
            after: deadline,
        })
    };
    if deadline.is_zero() {
        return elapsed();
    }
    let Some(end) = tokio::time::Instant::now().checked_add(deadline) else {
        // Further than the clock can count: no deadline.
        return work.await;
    };
    let mut timer = DeadlineTimers::lease(end);
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        // The timer's own check, then the clock's: the timer fires at a coarser granularity.
        let fired = timer.sleep().is_some_and(|sleep| sleep.poll(cx).is_ready());
        if fired || tokio::time::Instant::now() >= end {
            return std::task::Poll::Ready(elapsed());
        }
        work.as_mut().poll(cx)
    })
    .await
}

/// Timers of [`within`] between waits, per runtime (a timer belongs to the runtime it was
/// made in): taken by a wait, reset to its deadline, and put back after it, still armed.
struct DeadlineTimers;

/// At most this many timers are kept (the waits of that many concurrent calls).
const KEPT_TIMERS: usize = 64;

type Kept = (
    Option<tokio::runtime::Id>,
    std::pin::Pin<Box<tokio::time::Sleep>>,
);

static TIMERS: std::sync::Mutex<Vec<Kept>> = std::sync::Mutex::new(Vec::new());

impl DeadlineTimers {
    /// A timer armed for `end`: a kept one of this runtime, or a new one.
    fn lease(end: tokio::time::Instant) -> Lease {
        let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
        let kept = runtime.and_then(|id| {
            let mut timers = TIMERS.lock().ok()?;
            let at = timers.iter().rposition(|(r, _)| *r == Some(id))?;
            Some(timers.swap_remove(at))
        });
        let kept = match kept {
            Some((r, mut sleep)) => {
                sleep.as_mut().reset(end);
                (r, sleep)
            }
            None => (runtime, Box::pin(tokio::time::sleep_until(end))),
        };
        Lease(Some(kept))
    }
}

/// A timer of [`DeadlineTimers`], put back when the wait is over (or dropped).
struct Lease(Option<Kept>);

impl Lease {
    /// The timer (always there until the lease is dropped).
    fn sleep(&mut self) -> Option<std::pin::Pin<&mut tokio::time::Sleep>> {
        self.0.as_mut().map(|(_, sleep)| sleep.as_mut())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(kept) = self.0.take() else { return };
        if kept.0.is_none() {
            return;
        }
        if let Ok(mut timers) = TIMERS.lock() {
            if timers.len() >= KEPT_TIMERS {
                // The oldest first: those of runtimes gone.
                drop(timers.remove(0));
            }
            timers.push(kept);
        }
    }
}

/// The JSON of a wait endpoint's answer (`RunWaitResponse`): the run, and its output when it has
/// one. Decoded into this shape directly: the run object is kept as text for
/// [`RunInfo::raw`] and read once into the `RunInfo`'s fields (no intermediate document).
#[derive(Deserialize)]
struct WaitAnswer {
    #[serde(default)]
    run: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    output: Option<Value>,
}

impl WaitAnswer {
    fn decode(operation: &'static str, status: StatusCode, body: &[u8]) -> Result<WaitAnswer> {
        crate::decode::decode_json(operation, status, body)
    }
}

/// The outcome of a settled run, or `None` while it has not settled.
///
/// The output is decoded by its `type` (`result`, `interrupt`, `error`) into that one variant;
/// an output of another type, or none, leaves the run's status to decide.
fn outcome_of(run: RunInfo, output: Option<&Value>) -> Result<Option<WaitOutcome>> {
    let output = output.filter(|o| !o.is_null());
    let kind = output.and_then(|o| o.get("type")).and_then(Value::as_str);
    let known = matches!(kind, Some("result" | "interrupt" | "error"));
    let cancelled_status = matches!(&run.status, RunStatus::Other(s) if s == "cancelled");
    let settled = match &run.status {
        RunStatus::Other(_) => known || cancelled_status,
        s => s.is_settled(),
    };
    if !settled {
        return Ok(None);
    }
    let cancelled_interrupt = kind == Some("interrupt")
        && output
            .and_then(|o| o.get("interrupt"))
            .and_then(Value::as_object)
            .is_some_and(|i| i.len() == 1 && i.get("reason") == Some(&Value::from("cancelled")));
    if cancelled_status || cancelled_interrupt {
        return Ok(Some(WaitOutcome::Cancelled { run }));
    }
    let (Some(output), true) = (output, known) else {
        let status = run.status.clone();
        return Ok(Some(WaitOutcome::Ended { run, status }));
    };
    let what = || format!("output of run {}", run.run_id);
    let raw = || output.to_string().into_bytes();
    Ok(Some(match kind {
        Some("result") => {
            // Decoded once, with the generated type; its optional fields become empty ones here
            // (so they do not leak into this API).
            // The values are taken from the JSON itself, not the generated `OutputSchema`
            // (whose shape changes between spec versions).
            let result = types::RunResult::deserialize(output)
                .map_err(|e| Error::decode(what(), e, &raw()))?;
            WaitOutcome::Completed {
                run,
                values: output.get("values").cloned().unwrap_or(Value::Null),
                messages: result.messages.unwrap_or_default(),
            }
        }
        Some("interrupt") => {
            types::RunInterrupt::deserialize(output)
                .map_err(|e| Error::decode(what(), e, &raw()))?;
            WaitOutcome::Interrupted {
                run,
                payload: output.get("interrupt").cloned().unwrap_or(Value::Null),
            }
        }
        _ => {
            let error = types::RunError::deserialize(output)
                .map_err(|e| Error::decode(what(), e, &raw()))?;
            WaitOutcome::Failed { run, error }
        }
    }))
}

/// The outcome of a run read with `GET .../runs/{run_id}`, if it has settled: the spec's run
/// object has no output, but some servers include one; it is used when present.
fn outcome_of_run(run: RunInfo) -> Result<Option<WaitOutcome>> {
    let output = run.raw().get("output").cloned();
    outcome_of(run, output.as_ref())
}

/// Create a run with `POST .../runs/wait` and wait for it, within `deadline`.
pub(crate) async fn create_and_wait(
    client: AcpClient,
    scope: RunScope,
    body: Bytes,
    mut doubt: Doubt,
    deadline: Duration,
) -> Result<WaitOutcome> {
    let req = scope.req(RunOp::CreateWait, None).json_bytes(&body);
    let op = req.op.id;
    let span = crate::telemetry::operation_span(op, scope.thread_id(), None);
    let work = async {
        let (status, bytes) = loop {
            match client.bytes(&req).await {
                Ok(answer) => break answer,
                Err(e) => match doubt.resolve(&client, scope, e).await? {
                    // The create had created its run: wait for it.
                    Resolved::Created(run) => {
                        return RunHandle {
                            client: client.clone(),
                            ..*run
                        }
                        .wait_unbounded()
                        .await;
                    }
                    Resolved::NotCreated => continue,
                },
            }
        };
        let what = || format!("{op} response ({status})");
        if status == StatusCode::NO_CONTENT || bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::decode(
                what(),
                "the server sent no run, so the run it created cannot be waited for",
                &bytes,
            ));
        }
        let answer = WaitAnswer::decode(op, status, &bytes)?;
        let run = match answer.run {
            Some(r) => RunInfo::from_raw(op, r)?,
            None => return Err(Error::decode(what(), "no `run` in the answer", &bytes)),
        };
        let run_id = run.run_id;
        tracing::debug!(%run_id, "run created");
        if let Some(outcome) = outcome_of(run, answer.output.as_ref())? {
            return Ok(outcome);
        }
        // The server's own wait limit elapsed first: keep waiting on the run (an internal
        // handle: what the server said at creation is not needed for that).
        let handle = RunHandle {
            client: client.clone(),
            scope,
            run_id,
            created: None,
            checks: Default::default(),
        };
        handle.wait_unbounded().await
    };
    within(deadline, op, work.instrument(span)).await
}

impl ThreadRuns {
    /// Start a run on the thread and wait for its outcome, at most `deadline`
    /// (`POST /threads/{thread_id}/runs/wait`; not retried unless
    /// [`retry_creates`](crate::ClientBuilder::retry_creates) is on).
    ///
    /// If the server answers before the run settled, the wait goes on through the run's handle
    /// (see [`RunHandle::wait`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateful;
    /// use std::time::Duration;
    /// let echo = client.agent("echo").await?; // runs take its id; found by name
    /// let outcome = client
    ///     .new_thread()
    ///     .await?
    ///     .wait(RunCreateStateful { agent_id: Some(echo.id().into()), ..Default::default() }, Duration::from_secs(30))
    ///     .await?;
    /// println!("{outcome}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait<B>(&self, body: B, deadline: Duration) -> Call<WaitOutcome>
    where
        B: TryInto<types::RunCreateStateful, Error: fmt::Display>,
    {
        let body = create_body::<types::RunCreateStateful, B>(body);
        create_call(
            &self.client,
            self.scope(),
            body,
            move |c, scope, body, doubt| create_and_wait(c, scope, body, doubt, deadline),
        )
    }
}

impl StatelessRuns {
    /// Start a stateless run and wait for its outcome, at most `deadline` (`POST /runs/wait`;
    /// not retried unless [`retry_creates`](crate::ClientBuilder::retry_creates) is on).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateless;
    /// use std::time::Duration;
    /// let echo = client.agent("echo").await?; // runs take its id; found by name
    /// let outcome = client
    ///     .stateless_runs()
    ///     .wait(RunCreateStateless { agent_id: Some(echo.id().into()), ..Default::default() }, Duration::from_secs(30))
    ///     .await?;
    /// assert!(outcome.is_completed());
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait<B>(&self, body: B, deadline: Duration) -> Call<WaitOutcome>
    where
        B: TryInto<types::RunCreateStateless, Error: fmt::Display>,
    {
        let body = create_body::<types::RunCreateStateless, B>(body);
        create_call(
            &self.client,
            RunScope::Stateless,
            body,
            move |c, scope, body, doubt| create_and_wait(c, scope, body, doubt, deadline),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A deadline ends a wait that would never end, on a kept timer too: one kept after a wait
    /// with a later deadline, and in a runtime other than the one a timer was kept from (a
    /// timer of a runtime gone would panic when polled).
    #[test]
    fn deadlines_end_waits_on_kept_timers_in_any_runtime() {
        for _ in 0..2 {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                let done = within(Duration::from_secs(60), "test", async { Ok(7) }).await;
                assert_eq!(done.ok(), Some(7));
                for _ in 0..2 {
                    let never = within(
                        Duration::from_millis(5),
                        "test",
                        std::future::pending::<Result<()>>(),
                    );
                    assert!(
                        matches!(
                            never.await,
                            Err(Error::Timeout {
                                kind: TimeoutKind::WaitDeadline,
                                ..
                            })
                        ),
                        "the deadline ends the wait"
                    );
                }
            });
        }
    }

    fn run(status: &str) -> RunInfo {
        RunInfo::from_value(
            "test",
            json!({"run_id": "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11", "status": status}),
        )
        .expect("a valid run")
    }

    #[test]
    fn outputs_are_decoded_by_type() {
        let o = outcome_of(
            run("success"),
            Some(&json!({"type": "result", "values": {"a": 1}})),
        )
        .expect("decodes");
        assert!(matches!(o, Some(WaitOutcome::Completed { ref values, .. }) if values["a"] == 1));
        let o = outcome_of(
            run("interrupted"),
            Some(&json!({"type": "interrupt", "interrupt": {"reason": "cancelled"}})),
        )
        .expect("decodes");
        assert!(matches!(o, Some(WaitOutcome::Cancelled { .. })), "{o:?}");
        let o = outcome_of(run("cancelled"), None).expect("decodes");
        assert!(matches!(o, Some(WaitOutcome::Cancelled { .. })), "{o:?}");

        let o = outcome_of(
            run("interrupted"),
            Some(&json!({"type": "interrupt", "interrupt": {"q": "?"}})),
        )
        .expect("decodes");
        assert!(
            matches!(o, Some(WaitOutcome::Interrupted { ref payload, .. }) if payload["q"] == "?")
        );

        let o = outcome_of(
            run("error"),
            Some(
                &json!({"type": "error", "run_id": "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11",
                         "errcode": 42, "description": "boom"}),
            ),
        )
        .expect("decodes");
        assert!(matches!(o, Some(WaitOutcome::Failed { ref error, .. }) if error.errcode == 42));
    }

    #[test]
    fn unknown_or_missing_outputs_follow_the_status() {
        let o = outcome_of(run("timeout"), None).expect("ok");
        assert!(matches!(
            o,
            Some(WaitOutcome::Ended {
                status: RunStatus::Timeout,
                ..
            })
        ));
        let o = outcome_of(run("success"), Some(&json!({"type": "novel"}))).expect("ok");
        assert!(matches!(
            o,
            Some(WaitOutcome::Ended {
                status: RunStatus::Success,
                ..
            })
        ));
        assert!(outcome_of(run("pending"), None).expect("ok").is_none());
        assert!(outcome_of(run("running"), None).expect("ok").is_none());
        let o = outcome_of(run("done"), Some(&json!({"type": "result"}))).expect("ok");
        assert!(matches!(o, Some(WaitOutcome::Completed { .. })));
    }

    #[test]
    fn a_malformed_known_output_is_a_decode_error() {
        let e = outcome_of(
            run("error"),
            Some(&json!({"type": "error", "errcode": "x"})),
        );
        assert!(matches!(e, Err(Error::Decode { .. })));
    }
}
