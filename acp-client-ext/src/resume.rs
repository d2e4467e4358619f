//! Resuming interrupted runs, one answer at a time ([`RunHandle::resume`]) or as a
//! human-in-the-loop conversation ([`RunHandle::run_to_completion`]).

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::options::Call;
use crate::run::{RunHandle, RunInfo, RunOp};
use crate::stream::RunStream;
use crate::wait::WaitOutcome;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;
use tracing::Instrument;

/// A resume payload as JSON, refused unless it is an object or when the handle's checks fail.
fn resume_payload<P: Serialize>(payload: P, checks: &crate::checks::Checks) -> Result<Value> {
    let payload = serde_json::to_value(payload)
        .map_err(|e| Error::invalid("resume payload", format!("cannot be serialized: {e}")))?;
    if !payload.is_object() {
        return Err(Error::invalid(
            "resume payload",
            format!("must be a JSON object, not {}", json_kind(&payload)),
        ));
    }
    checks.resume(&payload)?;
    Ok(payload)
}

impl RunHandle {
    /// Answer an interrupted run so that it goes on (`POST .../runs/{run_id}` with the resume
    /// payload, anything `Serialize`); returns the run as the server describes it afterwards
    /// (usually `pending`).
    ///
    /// The payload must serialize to a JSON object (the spec's `ResumePayloadSchema`); anything
    /// else is refused with [`Error::InvalidInput`] (field `resume payload`) before any request,
    /// and so is a payload the agent's descriptor refuses when the run was started by an
    /// [`Agent`](crate::Agent) handle that validates ([`Error::Validation`](crate::Error)).
    /// Like a create, a resume is not retried unless
    /// [`retry_creates`](crate::ClientBuilder::retry_creates) is on: a repeated resume could
    /// answer the next interrupt too.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let run_info = run.resume(serde_json::json!({"approved": true})).await?;
    /// println!("{} is {}", run_info.run_id, run_info.status);
    /// assert!(run.resume(serde_json::json!("yes")).await.is_err()); // not an object
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume<P: Serialize>(&self, payload: P) -> Call<RunInfo> {
        let payload = match resume_payload(payload, &self.checks) {
            Ok(p) => p,
            Err(e) => return Call::fail(e),
        };
        Call::new(self.clone(), move |run| async move {
            let req = run
                .scope
                .req(RunOp::Resume, Some(run.run_id))
                .json_body(&payload)?;
            async {
                let text: Box<serde_json::value::RawValue> = run.client.json(&req).await?;
                RunInfo::from_raw(req.op.id, text)
            }
            .instrument(run.span(req.op.id))
            .await
        })
    }

    /// Drive the run to its end, answering each interrupt with `answer` (human in the loop).
    ///
    /// Waits (each wait at most `deadline_per_wait`, see [`wait`](Self::wait)); when the run is
    /// interrupted, calls `answer` with the [`Interrupt`] and resumes the run with what it
    /// returns (anything `Serialize`), then waits again. Returns the first outcome that is not
    /// an interrupt, a cancelled run included ([`WaitOutcome::Cancelled`]: it is never asked
    /// as a question). An error of `answer` stops the loop and is returned as is (the run
    /// stays interrupted).
    ///
    /// `answer` is an async closure that may keep state between rounds (`AsyncFnMut`): a
    /// transcript, a channel to a UI, a reader of stdin.
    ///
    /// At most `max_rounds` interrupts are answered; if the run is interrupted once more the
    /// result is [`Error::TooManyInterrupts`], naming the run (it stays interrupted and can
    /// still be resumed). Per-call options: [`RunHandle::with_options`].
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use std::time::Duration;
    /// let mut transcript = Vec::new();
    /// let outcome = run
    ///     .run_to_completion(Duration::from_secs(60), 5, async |interrupt| {
    ///         transcript.push(interrupt.payload().clone());
    ///         Ok(serde_json::json!({"answer": "yes"}))
    ///     })
    ///     .await?;
    /// println!("{outcome} after {} questions", transcript.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_to_completion<F, R>(
        &self,
        deadline_per_wait: Duration,
        max_rounds: u32,
        mut answer: F,
    ) -> Result<WaitOutcome>
    where
        F: AsyncFnMut(Interrupt) -> Result<R>,
        R: Serialize,
    {
        let mut rounds = 0u32;
        loop {
            let outcome = self.wait(deadline_per_wait).await?;
            let WaitOutcome::Interrupted { payload, .. } = outcome else {
                return Ok(outcome);
            };
            if rounds >= max_rounds {
                return Err(Error::TooManyInterrupts {
                    run_id: self.run_id,
                    rounds,
                });
            }
            rounds += 1;
            tracing::debug!(run_id = %self.run_id, round = rounds, "answering an interrupt");
            let reply = answer(Interrupt::new(self.run_id, rounds, payload)).await?;
            self.resume(reply).await?;
        }
    }
}

impl RunStream {
    /// Resume the interrupted run of this stream with `payload` (as [`RunHandle::resume`]) and
    /// go on streaming from the last event this stream delivered: the events of earlier rounds
    /// are not delivered again (the new stream joins with `Last-Event-ID`, and skips what this
    /// one delivered should the server replay). The question is this stream's
    /// [`interrupt`](RunStream::interrupt); the new stream's interrupt, if the run asks again,
    /// is the next round.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the run id is not known yet (no event named it) or the
    /// payload is refused, and the errors of [`RunHandle::resume`] and
    /// [`RunHandle::stream_from`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let agent = client.agent("interrupt").await?;
    /// let mut events = agent.stream(&serde_json::json!({"interrupts": 1})).await?;
    /// while events.try_next().await?.is_some() {} // ends at the interrupt
    /// if let Some(question) = events.interrupt() {
    ///     println!("{}", question.payload()); // what the run asks
    /// }
    /// let mut rest = events.resume_stream(serde_json::json!({"answer": "yes"})).await?;
    /// while let Some(event) = rest.try_next().await? {
    ///     println!("{:?}", event.status()); // only the events after the resume
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume_stream<P: Serialize>(&self, payload: P) -> Call<RunStream> {
        let run = match self.handle() {
            Some(run) => run,
            None => {
                return Call::fail(Error::invalid(
                    "run",
                    "the stream has not named its run yet: nothing to resume",
                ));
            }
        };
        let payload = match resume_payload(payload, &self.checks) {
            Ok(p) => p,
            Err(e) => return Call::fail(e),
        };
        let last = self.last_event_id().map(str::to_string);
        let checks = self.checks.clone();
        let rounds = self.rounds + 1;
        Call::new(run, move |run| async move {
            run.resume(payload).await?;
            let mut next = match last {
                Some(id) => run.stream_from(id).await?,
                None => run.stream().await?,
            };
            next.checks = checks;
            next.rounds = rounds;
            Ok(next)
        })
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
