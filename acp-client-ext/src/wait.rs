//! Waiting for a run's outcome, within a deadline the caller chooses: [`RunHandle::wait`] and
//! create-and-wait ([`ThreadRuns::wait`], [`StatelessRuns::wait`]). How the wait copes with
//! servers that answer early or lack the wait route is documented on [`RunHandle::wait`].

use crate::client::{AcpClient, Call, JsonBody};
use crate::error::{Error, Result};
use crate::run::{RunHandle, RunInfo, RunScope, RunStatus, StatelessRuns, ThreadRuns, create_body};
use acp_client::types;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;
use tracing::Instrument;

/// First pause between polls (and between re-waits after an early answer).
const BACKOFF_START: Duration = Duration::from_millis(50);
/// Longest pause between polls.
const BACKOFF_MAX: Duration = Duration::from_secs(1);

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
        /// The result's values (empty when the server sent none).
        values: Map<String, Value>,
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
    /// The run settled without an output this crate could read: a server-side timeout, a
    /// cancelled run, an unknown output type, or a status learnt by polling.
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

/// Capped exponential backoff: 50 ms, 100 ms, ... 1 s.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(BACKOFF_START)
    }

    async fn pause(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
    }
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
    ///   `pending`, or `204 No Content` (a known quirk). The wait then asks again, with a short capped
    ///   backoff between attempts, until the run settles or the caller's deadline elapses;
    /// * a server without the wait route (`404` for the route, `405`, `501`, or `500` saying "not
    ///   implemented") is polled instead: `GET .../runs/{run_id}` with a backoff of 50 ms doubling up
    ///   to 1 s, until the run settles or the deadline elapses.
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
    ///     Err(Error::Timeout { .. }) => println!("still running"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(&self, deadline: Duration) -> Result<WaitOutcome> {
        let span = self.span("wait for run");
        match tokio::time::timeout(deadline, self.wait_unbounded())
            .instrument(span)
            .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                operation: "wait for run",
                after: deadline,
            }),
        }
    }

    /// The wait loop, without a deadline (the caller wraps it in one).
    async fn wait_unbounded(&self) -> Result<WaitOutcome> {
        let mut backoff = Backoff::new();
        loop {
            match self.wait_once().await {
                Ok(Answer::Settled(outcome)) => return Ok(*outcome),
                Ok(Answer::Early) => {
                    tracing::debug!("wait answered before the run settled; waiting again");
                    backoff.pause().await;
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
        let call = Call::new(
            "wait for run",
            Method::GET,
            self.scope.run_path(self.run_id, "/wait"),
        )
        .no_timeout();
        let (status, body) = self.client.bytes(&call).await?;
        if status == StatusCode::NO_CONTENT || body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Answer::Early);
        }
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| Error::decode(format!("wait for run response ({status})"), e, &body))?;
        let run = match v.get("run") {
            Some(r) if !r.is_null() => RunInfo::from_value("wait for run response", r.clone())?,
            _ => fetch_run(&self.client, self.scope, self.run_id).await?,
        };
        Ok(match outcome_of(run, v.get("output"))? {
            Some(outcome) => Answer::Settled(Box::new(outcome)),
            None => Answer::Early,
        })
    }

    /// Whether `e`, an error of the wait endpoint, means the server has no usable wait route.
    /// A 404 is checked against the run itself: if the run exists, the route was missing.
    async fn wait_route_missing(&self, e: &Error) -> Result<bool> {
        let Error::Api {
            status, message, ..
        } = e
        else {
            return Ok(false);
        };
        Ok(match status.as_u16() {
            405 | 501 => true,
            500 => message.to_ascii_lowercase().contains("not implemented"),
            404 => match fetch_run(&self.client, self.scope, self.run_id).await {
                Ok(_) => true,
                Err(Error::Api { status, .. }) if status == StatusCode::NOT_FOUND => false,
                Err(other) => return Err(other),
            },
            _ => false,
        })
    }

    /// Poll `GET .../runs/{run_id}` until the run settles.
    async fn poll_until_settled(&self) -> Result<WaitOutcome> {
        let mut backoff = Backoff::new();
        loop {
            let run = fetch_run(&self.client, self.scope, self.run_id).await?;
            // Some servers include the output in the run object; use it when present.
            let output = run.raw.get("output").cloned();
            if let Some(outcome) = outcome_of(run, output.as_ref())? {
                return Ok(outcome);
            }
            backoff.pause().await;
        }
    }
}

/// `GET` a run, without the (non-`Send`) entered span of [`RunHandle::get`].
pub(crate) async fn fetch_run(
    client: &AcpClient,
    scope: RunScope,
    run_id: uuid::Uuid,
) -> Result<RunInfo> {
    let call = Call::new("get run", Method::GET, scope.run_path(run_id, ""));
    let v: Value = client.json(&call).await?;
    RunInfo::from_value("get run", v)
}

/// The outcome of a settled run, or `None` while it has not settled.
///
/// The output is decoded by its `type` (`result`, `interrupt`, `error`) into that one variant;
/// an output of another type, or none, leaves the run's status to decide.
fn outcome_of(run: RunInfo, output: Option<&Value>) -> Result<Option<WaitOutcome>> {
    let output = output.filter(|o| !o.is_null());
    let kind = output.and_then(|o| o.get("type")).and_then(Value::as_str);
    let known = matches!(kind, Some("result" | "interrupt" | "error"));
    let settled = match &run.status {
        RunStatus::Other(_) => known,
        s => s.is_settled(),
    };
    if !settled {
        return Ok(None);
    }
    let (Some(output), true) = (output, known) else {
        let status = run.status.clone();
        return Ok(Some(WaitOutcome::Ended { run, status }));
    };
    let what = || format!("output of run {}", run.run_id);
    let raw = || output.to_string().into_bytes();
    Ok(Some(match kind {
        Some("result") => {
            // Check the shape with the generated type, then take the parts from the JSON itself
            // (so optional fields of the generated type do not leak into this API).
            types::RunResult::deserialize(output).map_err(|e| Error::decode(what(), e, &raw()))?;
            let values = match output.get("values") {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            let messages = match output.get("messages") {
                Some(m) if !m.is_null() => Vec::<types::Message>::deserialize(m)
                    .map_err(|e| Error::decode(what(), e, &raw()))?,
                _ => Vec::new(),
            };
            WaitOutcome::Completed {
                run,
                values,
                messages,
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

/// Create a run with `POST {runs_path}/wait` and wait for it, within `deadline`.
async fn create_and_wait(
    client: &AcpClient,
    scope: RunScope,
    body: &JsonBody,
    deadline: Duration,
) -> Result<WaitOutcome> {
    let span = tracing::info_span!(
        "acp",
        operation = "create and wait for run",
        thread_id = scope.thread_id().map(tracing::field::display)
    );
    let work = async {
        let call = Call::new(
            "create and wait for run",
            Method::POST,
            format!("{}/wait", scope.runs_path()),
        )
        .json_bytes(body)
        .creates()
        .no_timeout();
        let (status, bytes) = client.bytes(&call).await?;
        if status == StatusCode::NO_CONTENT || bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::decode(
                format!("create and wait for run response ({status})"),
                "the server sent no run, so the run it created cannot be waited for",
                &bytes,
            ));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::decode(
                format!("create and wait for run response ({status})"),
                e,
                &bytes,
            )
        })?;
        let run = match v.get("run") {
            Some(r) if !r.is_null() => {
                RunInfo::from_value("create and wait for run response", r.clone())?
            }
            _ => {
                return Err(Error::decode(
                    "create and wait for run response",
                    "no `run` in the answer",
                    &bytes,
                ));
            }
        };
        let run_id = run.run_id;
        tracing::debug!(%run_id, "run created");
        if let Some(outcome) = outcome_of(run, v.get("output"))? {
            return Ok(outcome);
        }
        // The server's own wait limit elapsed first: keep waiting on the run (an internal
        // handle: what the server said at creation is not needed for that).
        let handle = RunHandle {
            client: client.clone(),
            scope,
            run_id,
            created: None,
        };
        handle.wait_unbounded().await
    };
    match tokio::time::timeout(deadline, work.instrument(span)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            operation: "create and wait for run",
            after: deadline,
        }),
    }
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
    /// let outcome = client
    ///     .new_thread()
    ///     .await?
    ///     .wait(RunCreateStateful { agent_id: Some("echo".into()), ..Default::default() }, Duration::from_secs(30))
    ///     .await?;
    /// println!("{outcome}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait<B>(&self, body: B, deadline: Duration) -> Result<WaitOutcome>
    where
        B: TryInto<types::RunCreateStateful>,
        B::Error: fmt::Display,
    {
        let body = create_body::<types::RunCreateStateful, B>(body)?;
        create_and_wait(&self.client, self.scope(), &body, deadline).await
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
    /// let outcome = client
    ///     .stateless_runs()
    ///     .wait(RunCreateStateless { agent_id: Some("echo".into()), ..Default::default() }, Duration::from_secs(30))
    ///     .await?;
    /// assert!(outcome.is_completed());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait<B>(&self, body: B, deadline: Duration) -> Result<WaitOutcome>
    where
        B: TryInto<types::RunCreateStateless>,
        B::Error: fmt::Display,
    {
        let body = create_body::<types::RunCreateStateless, B>(body)?;
        create_and_wait(&self.client, RunScope::Stateless, &body, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
