//! Cancelling a run: stop it ([`CancelAction::Interrupt`]) or stop it and undo it
//! ([`CancelAction::Rollback`]).

use crate::error::{Error, TimeoutKind};
use crate::options::Call;
use crate::retry::Backoff;
use crate::run::{RunHandle, RunOp, fetch_run};
use reqwest::StatusCode;
use std::fmt;
use tracing::Instrument;

/// What a cancel does to the run (`action=` of `POST .../runs/{run_id}/cancel`).
///
/// ```
/// use acp_client_ext::CancelAction;
/// assert_eq!(CancelAction::Rollback.as_str(), "rollback");
/// assert_eq!(CancelAction::default(), CancelAction::Interrupt);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CancelAction {
    /// Stop the run; it stays on the server with status `interrupted`.
    #[default]
    Interrupt,
    /// Stop the run and delete it (and, on a thread, the state it produced): afterwards the run
    /// is gone and getting it answers 404.
    Rollback,
}

impl CancelAction {
    /// The spec's spelling: `interrupt` or `rollback`.
    ///
    /// ```
    /// assert_eq!(acp_client_ext::CancelAction::Interrupt.as_str(), "interrupt");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            CancelAction::Interrupt => "interrupt",
            CancelAction::Rollback => "rollback",
        }
    }
}

impl fmt::Display for CancelAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<CancelAction> for acp_client::types::Action {
    /// The generated client's equivalent.
    fn from(a: CancelAction) -> Self {
        match a {
            CancelAction::Interrupt => acp_client::types::Action::Interrupt,
            CancelAction::Rollback => acp_client::types::Action::Rollback,
        }
    }
}

impl RunHandle {
    /// Cancel the run (`POST .../runs/{run_id}/cancel?action=..&wait=..`; parameters equal to
    /// the spec's defaults, `action=interrupt` and `wait=false`, are left out).
    ///
    /// With `wait` the server answers only once the run has stopped (and, for a rollback, has
    /// been removed); without it the server may answer first. A server that refuses the `wait`
    /// parameter itself (the Agent Workflow Server answers `422` to any `wait`) is asked again
    /// without it, and the run is then read until it has stopped (or is gone), within the
    /// request timeout. A server without cancel answers an error whose
    /// [`is_unsupported`](crate::Error::is_unsupported) is true. The request obeys the client's
    /// request timeout and is retried like any idempotent request. Cancelling a run that does
    /// not exist is an [`Error::Api`](crate::Error::Api) with status 404.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::CancelAction;
    /// run.cancel(CancelAction::Interrupt, true).await?;
    /// assert_eq!(run.get().await?.status.as_str(), "interrupted");
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel(&self, action: CancelAction, wait: bool) -> Call<()> {
        Call::new(self.clone(), move |run| async move {
            let mut req = run.scope.req(RunOp::Cancel, Some(run.run_id));
            // Only what differs from the spec's defaults (`action=interrupt`, `wait=false`) is
            // sent: a parameter that restates a default is one more thing a server can refuse.
            if action != CancelAction::Interrupt {
                req = req.query("action", action.as_str());
            }
            if wait {
                req = req.query("wait", wait);
            }
            let span = run.span(req.op.id);
            async {
                tracing::debug!(%action, wait, "cancel");
                let (_, dropped) = run
                    .client
                    .execute_dropping_refused_query(&req, &["wait"])
                    .await?;
                if dropped.contains(&"wait") {
                    // The server refused `wait` itself: wait here, by reading the run.
                    run.until_stopped(action).await?;
                }
                Ok(())
            }
            .instrument(span)
            .await
        })
    }

    /// After a cancel the server did not wait for: read the run until it has stopped (for a
    /// rollback, until it is gone), bounded by the request timeout.
    async fn until_stopped(&self, action: CancelAction) -> crate::Result<()> {
        let settings = self.client.settings();
        let limit = settings.request_timeout;
        let policy = settings.retry.clone();
        let poll = async {
            let mut backoff = Backoff::new();
            loop {
                match fetch_run(&self.client, self.scope, self.run_id).await {
                    Ok(info) if action == CancelAction::Interrupt && info.status.is_settled() => {
                        return Ok(());
                    }
                    Err(e)
                        if action == CancelAction::Rollback
                            && e.status() == Some(StatusCode::NOT_FOUND) =>
                    {
                        return Ok(());
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
                tokio::time::sleep(backoff.next(&policy, None)).await;
            }
        };
        tokio::time::timeout(limit, poll)
            .await
            .unwrap_or(Err(Error::Timeout {
                operation: self.scope.op(RunOp::Cancel).id,
                kind: TimeoutKind::Request,
                after: limit,
            }))
    }

    /// Stop the run and wait until it has stopped: `cancel(CancelAction::Interrupt, true)`.
    /// The run stays on the server, `interrupted`.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// run.interrupt().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn interrupt(&self) -> Call<()> {
        self.cancel(CancelAction::Interrupt, true)
    }

    /// Stop the run, undo it and wait until it is gone: `cancel(CancelAction::Rollback, true)`.
    /// Afterwards [`get`](Self::get) answers an [`Error::Api`](crate::Error::Api) with status 404.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// run.rollback().await?;
    /// assert_eq!(run.get().await.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    /// # Ok(())
    /// # }
    /// ```
    pub fn rollback(&self) -> Call<()> {
        self.cancel(CancelAction::Rollback, true)
    }
}
