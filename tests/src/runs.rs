//! Runs: the run record, its event log and the run state machine.
//!
//! ```text
//!             resume                  cancel(interrupt)
//!   pending <-------- interrupted <---------------------- pending
//!     |  \---------------------------> success | error | timeout
//!     \-- cancel(rollback) -> interrupted, then the run and its checkpoints are deleted
//! ```
//!
//! Every run keeps its full SSE event log (`Vec<Bytes>` of `data` payloads behind a `RwLock`,
//! with a `watch` counter announcing appends) so streams can be joined and resumed with
//! `Last-Event-ID`. The log is *open* while the run is pending; the final event of each
//! segment (a `values` update carrying the status `success`/`error`/`timeout`/`interrupted`)
//! closes it, and a resume re-opens it.
//!
//! Under [`Dialect::WorkflowServer`] a segment ends without a terminal status event: a
//! successful one sends its output as one more `running` update and the log closes, an
//! interrupted or timed-out one just closes, and a segment ending in `error`: three `error` events, and the log stays open
//! for ever (streams then send only keep-alives). The run also keeps a delivery cursor there:
//! the streams of that dialect send each event once, to whichever connection comes first.

use std::sync::{
    Arc, Mutex, RwLock,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    agents::{self, AgentKind},
    dialect::{Dialect, Shape},
    errors::ApiError,
    state::{AppState, ServerEvent},
};

/// Status of a run (the spec's `RunStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Running (or queued).
    Pending,
    /// Finished with an error.
    Error,
    /// Finished successfully.
    Success,
    /// Timed out.
    Timeout,
    /// Waiting for a resume, or cancelled.
    Interrupted,
}

impl RunStatus {
    /// The spec's string for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Error => "error",
            RunStatus::Success => "success",
            RunStatus::Timeout => "timeout",
            RunStatus::Interrupted => "interrupted",
        }
    }
    /// Parses the spec's string.
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "pending" => RunStatus::Pending,
            "error" => RunStatus::Error,
            "success" => RunStatus::Success,
            "timeout" => RunStatus::Timeout,
            "interrupted" => RunStatus::Interrupted,
            _ => return None,
        })
    }
}

/// Requested stream modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamModes {
    /// `values` updates.
    pub values: bool,
    /// `custom` updates.
    pub custom: bool,
}

/// Mutable part of a run.
#[derive(Debug)]
pub(crate) struct RunMeta {
    pub status: RunStatus,
    pub updated_at: DateTime<Utc>,
    pub output: Option<Value>,
    /// Resume payloads received so far (interrupt agent).
    pub answers: Vec<Value>,
    /// Whether the run is interrupted by its agent (resumable) rather than cancelled.
    pub resumable: bool,
}

#[derive(Debug)]
struct Log {
    events: Vec<Bytes>,
    open: bool,
}

/// One run.
#[derive(Debug)]
pub(crate) struct Run {
    pub id: Uuid,
    /// What the create request asked for.
    pub spec: RunSpec,
    pub created_at: DateTime<Utc>,
    pub seq: u64,
    pub meta: Mutex<RunMeta>,
    log: RwLock<Log>,
    log_tx: watch::Sender<u64>,
    status_tx: watch::Sender<RunStatus>,
    /// Cancels the run's current task.
    pub token: CancellationToken,
    /// Set once the run was deleted (rollback / DELETE).
    pub deleted: AtomicBool,
    /// Events already sent by a stream ([`Dialect::WorkflowServer`] only).
    delivered: AtomicUsize,
}

/// What a run was created with.
#[derive(Debug)]
pub(crate) struct RunSpec {
    pub thread_id: Option<Uuid>,
    pub agent: AgentKind,
    /// The create request echoed back as `creation` (with defaults filled in).
    pub creation: Value,
    pub input: Map<String, Value>,
    pub metadata: Option<Map<String, Value>>,
    pub modes: StreamModes,
    pub cancel_on_disconnect: bool,
    /// The server's dialect, which shapes every JSON of the run.
    pub dialect: Dialect,
}

impl Run {
    pub fn new(p: RunSpec, seq: u64, token: CancellationToken) -> Run {
        let now = Utc::now();
        Run {
            id: Uuid::new_v4(),
            spec: p,
            created_at: now,
            seq,
            meta: Mutex::new(RunMeta {
                status: RunStatus::Pending,
                updated_at: now,
                output: None,
                answers: Vec::new(),
                resumable: false,
            }),
            log: RwLock::new(Log {
                events: Vec::new(),
                open: true,
            }),
            log_tx: watch::channel(0).0,
            status_tx: watch::channel(RunStatus::Pending).0,
            token,
            deleted: AtomicBool::new(false),
            delivered: AtomicUsize::new(0),
        }
    }

    /// Current status.
    pub fn status(&self) -> RunStatus {
        *self.status_tx.borrow()
    }

    /// Subscribes to status changes.
    pub fn watch_status(&self) -> watch::Receiver<RunStatus> {
        self.status_tx.subscribe()
    }

    /// Subscribes to log appends.
    pub fn watch_log(&self) -> watch::Receiver<u64> {
        self.log_tx.subscribe()
    }

    /// Appends an intermediate event (dropped if the log is closed).
    pub fn push(&self, data: Bytes) {
        {
            let Ok(mut log) = self.log.write() else {
                return;
            };
            if !log.open {
                return;
            }
            log.events.push(data);
        }
        self.log_tx.send_modify(|v| *v += 1);
    }

    /// Copies up to `max` events starting at index `from`; also tells whether the log is open.
    pub fn read_events(&self, from: usize, max: usize) -> (Vec<Bytes>, bool) {
        let Ok(log) = self.log.read() else {
            return (Vec::new(), false);
        };
        let end = log.events.len().min(from.saturating_add(max));
        let batch = if from < end {
            log.events[from..end].to_vec()
        } else {
            Vec::new()
        };
        (batch, log.open)
    }

    /// Index of the first event no stream has sent yet ([`Dialect::WorkflowServer`]).
    pub fn undelivered(&self) -> usize {
        self.delivered.load(Ordering::SeqCst)
    }

    /// Records that the events before `upto` were sent by a stream.
    pub fn mark_delivered(&self, upto: usize) {
        self.delivered.fetch_max(upto, Ordering::SeqCst);
    }

    /// Number of events in the log.
    pub fn event_count(&self) -> usize {
        self.log.read().map(|l| l.events.len()).unwrap_or(0)
    }

    /// The `Run` JSON object (RunStateful when on a thread, RunStateless otherwise).
    pub fn to_json(&self) -> Value {
        let (status, updated_at) = match self.meta.lock() {
            Ok(m) => (m.status, m.updated_at),
            Err(_) => (self.status(), self.created_at),
        };
        let d = self.spec.dialect;
        let mut o = json!({
            "run_id": self.id,
            "agent_id": self.spec.agent.id(),
            "created_at": d.timestamp(self.created_at),
            "updated_at": d.timestamp(updated_at),
            "status": d.status(status),
            "creation": self.spec.creation,
        });
        if let (Some(t), Some(obj)) = (self.spec.thread_id, o.as_object_mut()) {
            obj.insert("thread_id".into(), json!(t));
        }
        d.fill(&mut o, Shape::Run);
        o
    }

    /// The current output (None while pending).
    pub fn output(&self) -> Option<Value> {
        self.meta.lock().ok()?.output.clone()
    }

    /// Serialized `values` update.
    pub fn values_event(&self, status: RunStatus, values: &Value) -> Bytes {
        let d = self.spec.dialect;
        let mut v = json!({"type": "values", "run_id": self.id, "status": d.status(status), "values": values});
        d.fill(&mut v, Shape::ValuesUpdate);
        Bytes::from(v.to_string())
    }

    /// The Workflow Server's `error` event for a failed run.
    fn error_event(&self, description: &Value) -> Bytes {
        Bytes::from(
            json!({"type": "error", "run_id": self.id, "status": "error", "errcode": 500, "description": description})
                .to_string(),
        )
    }
}

/// Ends the current segment of a run: sets status and output, appends the final event and
/// closes the log, updates the thread. Returns false (and does nothing) if the run is not
/// pending any more (e.g. it was cancelled first).
pub(crate) fn finish(
    state: &AppState,
    run: &Run,
    status: RunStatus,
    output: Option<Value>,
    values: Value,
    resumable: bool,
) -> bool {
    let description = output
        .as_ref()
        .and_then(|o| o.get("description"))
        .cloned()
        .unwrap_or(Value::Null);
    {
        let Ok(mut meta) = run.meta.lock() else {
            return false;
        };
        if meta.status != RunStatus::Pending {
            return false;
        }
        meta.status = status;
        meta.updated_at = Utc::now();
        meta.output = output;
        meta.resumable = resumable;
    }
    if let Ok(mut log) = run.log.write() {
        match (run.spec.dialect, status) {
            (Dialect::Spec, _) => {
                log.events.push(run.values_event(status, &values));
                log.open = false;
            }
            (Dialect::WorkflowServer, RunStatus::Error) => {
                let event = run.error_event(&description);
                log.events.extend([event.clone(), event.clone(), event]);
            }
            // The agent's last output still arrives, as an update like the others (status
            // `running`): what the Workflow Server leaves out is a terminal status event.
            (Dialect::WorkflowServer, RunStatus::Success) => {
                log.events
                    .push(run.values_event(RunStatus::Pending, &values));
                log.open = false;
            }
            (Dialect::WorkflowServer, _) => log.open = false,
        }
    }
    run.log_tx.send_modify(|v| *v += 1);
    if let Some(t) = run.spec.thread_id {
        let vals = values.as_object().cloned().unwrap_or_default();
        state.threads.run_segment_ended(t, run.id, status, vals);
    }
    run.status_tx.send_replace(status);
    state.events.emit(ServerEvent::RunStatus {
        run_id: run.id,
        status: status.as_str().into(),
    });
    true
}

/// Registers a new run and starts its task. `after` is a run to wait for first (enqueue).
pub(crate) fn start(
    state: &AppState,
    p: RunSpec,
    after: Option<Arc<Run>>,
    delay_s: u64,
) -> Arc<Run> {
    let seq = state.seq.fetch_add(1, Ordering::Relaxed);
    let run = Arc::new(Run::new(p, seq, state.shutdown.child_token()));
    if let Ok(mut runs) = state.runs.lock() {
        runs.insert(run.id, run.clone());
    }
    if let Some(t) = run.spec.thread_id {
        state.threads.run_started(t, run.id);
    }
    state.events.emit(ServerEvent::RunStatus {
        run_id: run.id,
        status: RunStatus::Pending.as_str().into(),
    });
    let st = state.clone();
    let r = run.clone();
    tokio::spawn(async move {
        let token = r.token.clone();
        if let Some(prev) = after {
            let mut rx = prev.watch_status();
            tokio::select! {
                _ = rx.wait_for(|s| *s != RunStatus::Pending) => {}
                _ = token.cancelled() => return,
            }
        }
        if delay_s > 0 {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(delay_s)) => {}
                _ = token.cancelled() => return,
            }
        }
        agents::drive(&st, &r).await;
    });
    run
}

/// Resumes an interrupted run with `payload`.
pub(crate) fn resume(state: &AppState, run: &Arc<Run>, payload: Value) -> Result<(), ApiError> {
    {
        let Ok(mut meta) = run.meta.lock() else {
            return Err(ApiError::conflict("run state unavailable"));
        };
        if meta.status != RunStatus::Interrupted || !meta.resumable {
            return Err(ApiError::conflict(format!(
                "run {} is {} and cannot be resumed",
                run.id,
                if meta.status == RunStatus::Interrupted {
                    "cancelled"
                } else {
                    meta.status.as_str()
                }
            )));
        }
        meta.status = RunStatus::Pending;
        meta.updated_at = Utc::now();
        meta.output = None;
        meta.resumable = false;
        meta.answers.push(payload);
    }
    if let Ok(mut log) = run.log.write() {
        log.open = true;
    }
    if let Some(t) = run.spec.thread_id {
        state.threads.run_started(t, run.id);
    }
    run.status_tx.send_replace(RunStatus::Pending);
    state.events.emit(ServerEvent::RunStatus {
        run_id: run.id,
        status: RunStatus::Pending.as_str().into(),
    });
    let st = state.clone();
    let r = run.clone();
    tokio::spawn(async move { agents::drive(&st, &r).await });
    Ok(())
}

/// Cancels a run: a pending run becomes `interrupted` (not resumable); with `rollback` the run
/// and its checkpoints are deleted too. Cancelling a finished run only deletes it on rollback.
pub(crate) fn cancel(state: &AppState, run: &Arc<Run>, rollback: bool) {
    let was_pending = finish(
        state,
        run,
        RunStatus::Interrupted,
        Some(json!({"type": "interrupt", "interrupt": {"reason": "cancelled"}})),
        json!({}),
        false,
    );
    run.token.cancel();
    if was_pending {
        state
            .events
            .emit(ServerEvent::RunCancelled { run_id: run.id });
    }
    if rollback {
        delete(state, run);
    }
}

/// Removes a run (and, on a thread, the checkpoints it produced).
pub(crate) fn delete(state: &AppState, run: &Arc<Run>) {
    run.token.cancel();
    run.deleted.store(true, Ordering::SeqCst);
    if let Ok(mut runs) = state.runs.lock() {
        runs.remove(&run.id);
    }
    if let Some(t) = run.spec.thread_id {
        state.threads.forget_run(t, run.id);
    }
}

/// Waits (notification driven) until the run is no longer pending, up to `within`.
/// Returns true when it stopped being pending.
pub(crate) async fn wait_settled(run: &Run, within: std::time::Duration) -> bool {
    let mut rx = run.watch_status();
    matches!(
        tokio::time::timeout(within, rx.wait_for(|s| *s != RunStatus::Pending)).await,
        Ok(Ok(_))
    )
}
