//! Resuming interrupted runs, one answer at a time ([`RunHandle::resume`]) or as a
//! human-in-the-loop conversation ([`RunHandle::run_to_completion`]).

use crate::error::{Error, Result};
use crate::options::Call;
use crate::run::{RunHandle, RunInfo, RunOp};
use crate::wait::WaitOutcome;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use tracing::Instrument;

impl RunHandle {
    /// Answer an interrupted run so that it goes on (`POST .../runs/{run_id}` with the resume
    /// payload); returns the run as the server describes it afterwards (usually `pending`).
    ///
    /// The payload must be a JSON object (the spec's `ResumePayloadSchema`); anything else is
    /// refused with [`Error::InvalidInput`] (field `resume payload`) before any request. Like a
    /// create, a resume is not retried unless [`retry_creates`](crate::ClientBuilder::retry_creates)
    /// is on: a repeated resume could answer the next interrupt too.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let run_info = run.resume(serde_json::json!({"approved": true})).await?;
    /// println!("{} is {}", run_info.run_id, run_info.status);
    /// assert!(run.resume(serde_json::json!("yes")).await.is_err()); // not an object
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(&self, payload: Value) -> Call<RunInfo> {
        if !payload.is_object() {
            return Call::fail(Error::invalid(
                "resume payload",
                format!("must be a JSON object, not {}", json_kind(&payload)),
            ));
        }
        Call::new(self.clone(), move |run| async move {
            let req = run
                .scope
                .req(RunOp::Resume, Some(run.run_id))
                .json_body(&payload)?;
            async {
                let v: Value = run.client.json(&req).await?;
                RunInfo::from_value(req.op.id, v)
            }
            .instrument(run.span(req.op.id))
            .await
        })
    }

    /// Drive the run to its end, answering each interrupt with `answer` (human in the loop).
    ///
    /// Waits (each wait at most `deadline_per_wait`, see [`wait`](Self::wait)); when the run is
    /// interrupted, calls `answer` with the interrupt payload and resumes the run with what it
    /// returns, then waits again. Returns the first outcome that is not an interrupt. An error of
    /// `answer` stops the loop and is returned as is (the run stays interrupted).
    ///
    /// At most `max_rounds` interrupts are answered; if the run is interrupted once more the
    /// result is [`Error::TooManyInterrupts`], naming the run (it stays interrupted and can
    /// still be resumed). Per-call options: [`RunHandle::with_options`].
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use std::time::Duration;
    /// let outcome = run
    ///     .run_to_completion(Duration::from_secs(60), 5, |question| async move {
    ///         println!("the agent asks: {question}");
    ///         Ok(serde_json::json!({"answer": "yes"}))
    ///     })
    ///     .await?;
    /// println!("{outcome}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_to_completion<F, Fut>(
        &self,
        deadline_per_wait: Duration,
        max_rounds: u32,
        mut answer: F,
    ) -> Result<WaitOutcome>
    where
        F: FnMut(Value) -> Fut,
        Fut: Future<Output = Result<Value>>,
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
            let reply = answer(payload).await?;
            self.resume(reply).await?;
        }
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
