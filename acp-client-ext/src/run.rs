//! Runs: where they live ([`RunScope`]), what the server says of them ([`RunInfo`]), and the
//! [`RunHandle`] that creating one returns.
//!
//! Thread runs and stateless runs have the same operations under two URL prefixes
//! (`/threads/{thread_id}/runs/...` and `/runs/...`), so one handle type serves both; only the
//! create bodies differ ([`ThreadRuns`] takes a `RunCreateStateful`, [`StatelessRuns`] a
//! `RunCreateStateless`). Streaming, waiting, cancelling and resuming live in their own modules
//! as further methods of the handle.

use crate::client::AcpClient;
use crate::error::{Error, Result};
use crate::ids::IntoId;
use crate::ops::{self, Op};
use crate::options::{Call, Customize, RequestOptions};
use crate::transport::Req;
use serde::{Deserialize, Deserializer};
use std::fmt;
use uuid::Uuid;

/// Where a run lives: on a thread, or on its own.
///
/// ```
/// use acp_client_ext::RunScope;
/// let thread = uuid::Uuid::nil();
/// assert_eq!(RunScope::Thread(thread).thread_id(), Some(thread));
/// assert_ne!(RunScope::Thread(thread), RunScope::Stateless);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunScope {
    /// A stateful run on this thread: `/threads/{thread_id}/runs/...`.
    Thread(Uuid),
    /// A stateless run: `/runs/...`.
    Stateless,
}

/// The operations on runs that exist in both scopes (each scope has its own `operationId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunOp {
    Create,
    CreateStream,
    CreateWait,
    Get,
    Resume,
    Delete,
    Cancel,
    Stream,
    Wait,
}

impl RunScope {
    /// The operation of the table for `kind` in this scope.
    pub(crate) fn op(&self, kind: RunOp) -> &'static Op {
        use RunOp::*;
        match (self, kind) {
            (RunScope::Thread(_), Create) => &ops::CREATE_THREAD_RUN,
            (RunScope::Thread(_), CreateStream) => &ops::CREATE_STREAM_THREAD_RUN,
            (RunScope::Thread(_), CreateWait) => &ops::CREATE_WAIT_THREAD_RUN,
            (RunScope::Thread(_), Get) => &ops::GET_THREAD_RUN,
            (RunScope::Thread(_), Resume) => &ops::RESUME_THREAD_RUN,
            (RunScope::Thread(_), Delete) => &ops::DELETE_THREAD_RUN,
            (RunScope::Thread(_), Cancel) => &ops::CANCEL_THREAD_RUN,
            (RunScope::Thread(_), Stream) => &ops::STREAM_THREAD_RUN,
            (RunScope::Thread(_), Wait) => &ops::WAIT_THREAD_RUN,
            (RunScope::Stateless, Create) => &ops::CREATE_STATELESS_RUN,
            (RunScope::Stateless, CreateStream) => &ops::CREATE_STREAM_STATELESS_RUN,
            (RunScope::Stateless, CreateWait) => &ops::CREATE_WAIT_STATELESS_RUN,
            (RunScope::Stateless, Get) => &ops::GET_STATELESS_RUN,
            (RunScope::Stateless, Resume) => &ops::RESUME_STATELESS_RUN,
            (RunScope::Stateless, Delete) => &ops::DELETE_STATELESS_RUN,
            (RunScope::Stateless, Cancel) => &ops::CANCEL_STATELESS_RUN,
            (RunScope::Stateless, Stream) => &ops::STREAM_STATELESS_RUN,
            (RunScope::Stateless, Wait) => &ops::WAIT_STATELESS_RUN,
        }
    }

    /// A request of `kind` in this scope: on the run `run_id`, or on the collection.
    pub(crate) fn req(&self, kind: RunOp, run_id: Option<Uuid>) -> Req {
        let op = self.op(kind);
        match (self, run_id) {
            (RunScope::Thread(t), Some(r)) => Req::new(op, &[t, &r]),
            (RunScope::Thread(t), None) => Req::new(op, &[t]),
            (RunScope::Stateless, Some(r)) => Req::new(op, &[&r]),
            (RunScope::Stateless, None) => Req::new(op, &[]),
        }
    }

    /// The thread, for a thread run.
    ///
    /// ```
    /// use acp_client_ext::RunScope;
    /// let thread = uuid::Uuid::nil();
    /// assert_eq!(RunScope::Thread(thread).thread_id(), Some(thread));
    /// assert_eq!(RunScope::Stateless.thread_id(), None);
    /// ```
    pub fn thread_id(&self) -> Option<Uuid> {
        match self {
            RunScope::Thread(t) => Some(*t),
            RunScope::Stateless => None,
        }
    }
}

/// A run's status: the generated [`types::RunStatus`](acp_client::types::RunStatus), read leniently (a status the spec does
/// not list, such as a server's own `running`, is [`RunStatus::Other`] rather than an error),
/// with [`parse`](RunStatus::parse), [`as_str`](RunStatus::as_str),
/// [`is_terminal`](RunStatus::is_terminal) and [`is_settled`](RunStatus::is_settled).
///
/// ```
/// use acp_client_ext::RunStatus;
/// let status: RunStatus = serde_json::from_str(r#""running""#).unwrap();
/// assert_eq!(status, RunStatus::Other("running".into()));
/// assert_eq!(RunStatus::Success.to_string(), "success");
/// ```
pub use acp_client::types::RunStatus;

/// A run as the server describes it (`RunStateful` or `RunStateless`), read leniently: only
/// `run_id` and `status` are required; `null` reads as absent; times are
/// [`Timestamp`](acp_client::Timestamp)s (any offset, naive ones as UTC, unparsable ones kept as
/// text); ids a server spells its own way are kept as strings, and the whole object stays
/// available in [`RunInfo::raw`] (a `RunInfo` deserialized by the caller, as below, has
/// `Value::Null` there: the object is kept only by the client's own reads).
///
/// ```
/// use acp_client_ext::{RunInfo, RunStatus};
/// // As the Agent Workflow Server writes it: a naive time, a status the spec does not list.
/// let json = r#"{"run_id": "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11", "status": "running",
///                "agent_id": 7, "thread_id": null, "created_at": "2026-11-30T09:20:14.749047"}"#;
/// let info: RunInfo = serde_json::from_str(json).unwrap();
/// assert_eq!(info.status, RunStatus::Other("running".into()));
/// assert_eq!(info.agent_id.as_deref(), Some("7"));
/// assert_eq!(info.thread_id, None);
/// let created = info.created_at.and_then(|t| t.datetime()).unwrap();
/// assert_eq!(created.to_rfc3339(), "2026-11-30T09:20:14.749047+00:00");
/// ```
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct RunInfo {
    /// The run's id.
    pub run_id: Uuid,
    /// The run's thread, for a stateful run.
    #[serde(default, deserialize_with = "lenient_uuid")]
    pub thread_id: Option<Uuid>,
    /// The agent the run uses.
    #[serde(default, deserialize_with = "lenient_string")]
    pub agent_id: Option<String>,
    /// Where the run is.
    pub status: RunStatus,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<acp_client::Timestamp>,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: Option<acp_client::Timestamp>,
    /// The whole object as received: see [`raw`](RunInfo::raw).
    #[serde(skip)]
    raw: RawObject,
}

impl RunInfo {
    /// The whole object as received, fields the spec does not name included (`Value::Null` for
    /// a `RunInfo` the caller deserialized itself).
    ///
    /// The object's text is kept as it came and parsed into a `Value` on the first call (then
    /// kept): most callers read only the typed fields, and building and dropping the tree of
    /// every run a client reads was ~10% of a create-and-wait's instructions (callgrind of
    /// `bench_client URL overhead`).
    pub fn raw(&self) -> &serde_json::Value {
        self.raw.value()
    }

    /// Decode a run object; the error carries an excerpt of the JSON.
    pub(crate) fn from_value(what: &str, v: serde_json::Value) -> Result<RunInfo> {
        // Deserialize from a borrow: the object is kept whole in `raw`, so no clone is needed.
        let mut info = RunInfo::deserialize(&v)
            .map_err(|e| Error::decode(what, e, v.to_string().as_bytes()))?;
        info.raw = RawObject::parsed(v);
        Ok(info)
    }

    /// Decode a run object from its text, kept unparsed until [`raw`](RunInfo::raw) is asked
    /// for; the error carries an excerpt of the JSON.
    pub(crate) fn from_raw(what: &str, text: Box<serde_json::value::RawValue>) -> Result<RunInfo> {
        let mut info: RunInfo = serde_json::from_str(text.get())
            .map_err(|e| Error::decode(what, e, text.get().as_bytes()))?;
        info.raw = RawObject::unparsed(text);
        Ok(info)
    }
}

/// A JSON object as received: its text, parsed into a `Value` when first asked for.
#[derive(Clone, Default)]
struct RawObject {
    text: Option<Box<serde_json::value::RawValue>>,
    value: std::sync::OnceLock<serde_json::Value>,
}

impl RawObject {
    fn parsed(v: serde_json::Value) -> RawObject {
        RawObject {
            text: None,
            value: v.into(),
        }
    }

    fn unparsed(text: Box<serde_json::value::RawValue>) -> RawObject {
        RawObject {
            text: Some(text),
            value: std::sync::OnceLock::new(),
        }
    }

    fn value(&self) -> &serde_json::Value {
        self.value.get_or_init(|| {
            // The text is a `RawValue`: JSON serde_json has read once already, so this parse
            // does not fail (and `Null` would stand in if it did).
            self.text
                .as_ref()
                .and_then(|t| serde_json::from_str(t.get()).ok())
                .unwrap_or_default()
        })
    }
}

impl fmt::Debug for RawObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

fn lenient_uuid<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Uuid>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok())))
}

fn lenient_string<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.map(|v| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }))
}

/// One run on the server: its ids, and the operations on it (get, stream, wait, cancel,
/// rollback, resume, delete). Cheap to clone.
///
/// ```no_run
/// # async fn demo(client: acp_client_ext::AcpClient, thread_id: uuid::Uuid) -> acp_client_ext::Result<()> {
/// use acp_client::types::RunCreateStateful;
/// let echo = client.agent("echo").await?; // runs take its id; found by name
/// let run = client
///     .thread_runs(thread_id)?
///     .create(RunCreateStateful { agent_id: Some(echo.id().into()), ..Default::default() })
///     .await?;
/// println!("run {} is {}", run.run_id(), run.get().await?.status);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RunHandle {
    pub(crate) client: AcpClient,
    pub(crate) scope: RunScope,
    pub(crate) run_id: Uuid,
    pub(crate) created: Option<RunInfo>,
    /// What is checked before a resume (an agent handle's validation).
    pub(crate) checks: crate::checks::Checks,
}

impl RunHandle {
    /// The run's id.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.run_id().to_string(), "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// The run's thread, for a thread run.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let thread = uuid::Uuid::nil();
    /// let run = client.thread_runs(thread)?.run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), Some(thread));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_id(&self) -> Option<Uuid> {
        self.scope.thread_id()
    }

    /// Thread or stateless.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.scope(), RunScope::Stateless);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn scope(&self) -> RunScope {
        self.scope
    }

    /// The run as the server described it when it was created (not refreshed; see [`get`](Self::get)).
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// // A handle made from an id, not by `create`, has no creation snapshot.
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert!(run.created().is_none());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn created(&self) -> Option<&RunInfo> {
        self.created.as_ref()
    }

    /// The client this handle uses.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// let again = run.client().run(run.scope(), run.run_id())?;
    /// assert_eq!(again.run_id(), run.run_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn client(&self) -> &AcpClient {
        &self.client
    }

    /// The run as the server describes it now.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// let info = run.get().await?;
    /// assert_eq!(info.run_id, run.run_id());
    /// println!("{}", info.status);
    /// # Ok(())
    /// # }
    /// ```
    pub fn get(&self) -> Call<RunInfo> {
        Call::new(self.clone(), |run| async move {
            fetch_run(&run.client, run.scope, run.run_id).await
        })
    }

    /// Delete the run. Deleting a run that is already gone is an [`Error::Api`] with status 404.
    ///
    /// ```no_run
    /// # async fn demo(run: acp_client_ext::RunHandle) -> acp_client_ext::Result<()> {
    /// run.delete().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete(&self) -> Call<()> {
        Call::new(self.clone(), |run| async move {
            let req = run.scope.req(RunOp::Delete, Some(run.run_id));
            run.client.execute(&req).await.map(drop)
        })
    }

    /// This handle with `options` applied to every call made through it (a stream keeps them
    /// for its rejoins, a wait for its polls). Cheap: the connection pool is shared.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RequestOptions, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// let traced = run.with_options(RequestOptions::new().header("x-request-id", "42"));
    /// assert_eq!(traced.run_id(), run.run_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> RunHandle {
        self.clone().customized(options)
    }

    /// A tracing span naming this run (never any secret).
    pub(crate) fn span(&self, operation: &'static str) -> tracing::Span {
        crate::telemetry::operation_span(operation, self.scope.thread_id(), Some(self.run_id))
    }
}

/// The runs of one thread; from [`AcpClient::thread_runs`].
///
/// ```
/// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
/// let runs = client.thread_runs("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
/// assert_eq!(runs.thread_id().to_string(), "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11");
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ThreadRuns {
    pub(crate) client: AcpClient,
    pub(crate) thread_id: Uuid,
}

/// Stateless runs; from [`AcpClient::stateless_runs`].
///
/// ```
/// use acp_client_ext::{AcpClient, RunScope};
/// let runs = AcpClient::new("http://127.0.0.1:8123")?.stateless_runs();
/// assert_eq!(runs.run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?.scope(), RunScope::Stateless);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StatelessRuns {
    pub(crate) client: AcpClient,
}

impl AcpClient {
    /// The runs of the thread `thread_id` (a [`Uuid`] or a string holding one).
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let runs = client.thread_runs(uuid::Uuid::nil())?;
    /// assert_eq!(runs.scope(), RunScope::Thread(uuid::Uuid::nil()));
    /// assert!(client.thread_runs("not-a-uuid").is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_runs(&self, thread_id: impl IntoId) -> Result<ThreadRuns> {
        Ok(ThreadRuns {
            client: self.clone(),
            thread_id: thread_id.into_id("thread_id")?,
        })
    }

    /// Stateless runs.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.stateless_runs().run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.scope(), RunScope::Stateless);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stateless_runs(&self) -> StatelessRuns {
        StatelessRuns {
            client: self.clone(),
        }
    }

    /// A handle on an existing run, without asking the server.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), None);
    /// assert!(client.run(RunScope::Stateless, "nope").is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, scope: RunScope, run_id: impl IntoId) -> Result<RunHandle> {
        Ok(RunHandle {
            client: self.clone(),
            scope,
            run_id: run_id.into_id("run_id")?,
            created: None,
            checks: Default::default(),
        })
    }
}

impl Customize for RunHandle {
    fn customized(mut self, options: RequestOptions) -> Self {
        self.client = self.client.with_options(options);
        self
    }
}

impl Customize for ThreadRuns {
    fn customized(mut self, options: RequestOptions) -> Self {
        self.client = self.client.with_options(options);
        self
    }
}

impl Customize for StatelessRuns {
    fn customized(mut self, options: RequestOptions) -> Self {
        self.client = self.client.with_options(options);
        self
    }
}

/// `GET` a run.
pub(crate) async fn fetch_run(
    client: &AcpClient,
    scope: RunScope,
    run_id: Uuid,
) -> Result<RunInfo> {
    let req = scope.req(RunOp::Get, Some(run_id));
    let text: Box<serde_json::value::RawValue> = client.json(&req).await?;
    RunInfo::from_raw(req.op.id, text)
}

impl ThreadRuns {
    /// The thread these runs belong to.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
    /// let runs = client.thread_runs("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(runs.thread_id().to_string(), "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_id(&self) -> Uuid {
        self.thread_id
    }

    /// The scope of these runs.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let thread = uuid::Uuid::nil();
    /// let runs = AcpClient::new("http://127.0.0.1:8123")?.thread_runs(thread)?;
    /// assert_eq!(runs.scope(), RunScope::Thread(thread));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn scope(&self) -> RunScope {
        RunScope::Thread(self.thread_id)
    }

    /// The thread's runs, newest first as the server orders them (`limit`, `offset` paginate).
    ///
    /// A server that refuses the query parameters themselves (the Agent Workflow Server answers
    /// `422` to any `limit` or `offset`) is asked again without them, and the page is cut from
    /// its first page (its default size, 10 by the spec): what lies beyond it is not reached.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient, thread_id: uuid::Uuid) -> acp_client_ext::Result<()> {
    /// let runs = client.thread_runs(thread_id)?.list(Some(10), None).await?;
    /// for run in &runs {
    ///     println!("{} {}", run.run_id, run.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self, limit: Option<u32>, offset: Option<u32>) -> Call<Vec<RunInfo>> {
        let mut req = Req::new(&ops::LIST_THREAD_RUNS, &[&self.thread_id]);
        // Parameters equal to the spec's defaults (`limit=10`, `offset=0`) are left out.
        if let Some(l) = limit {
            if l == 0 {
                return Call::fail(Error::invalid("limit", "must be at least 1"));
            }
            if l != 10 {
                req = req.query("limit", l);
            }
        }
        if let Some(o) = offset.filter(|&o| o != 0) {
            req = req.query("offset", o);
        }
        Call::new(self.clone(), move |runs| async move {
            let (list, dropped): (Vec<serde_json::Value>, _) = runs
                .client
                .json_dropping_refused_query(&req, &["limit", "offset"])
                .await?;
            // A server that refuses the parameters answered its first page: the page asked for
            // is cut from it.
            let (skip, take) = if dropped.is_empty() {
                (0, usize::MAX)
            } else {
                let offset = offset.unwrap_or(0) as usize;
                (offset, limit.map_or(usize::MAX, |l| l as usize))
            };
            list.into_iter()
                .skip(skip)
                .take(take)
                .map(|v| RunInfo::from_value(req.op.id, v))
                .collect()
        })
    }

    /// A handle on an existing run of this thread.
    ///
    /// ```
    /// let client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
    /// let thread = uuid::Uuid::nil();
    /// let run = client.thread_runs(thread)?.run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), Some(thread));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, run_id: impl IntoId) -> Result<RunHandle> {
        self.client.run(self.scope(), run_id)
    }
}

impl StatelessRuns {
    /// A handle on an existing stateless run.
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, RunScope};
    /// let client = AcpClient::new("http://127.0.0.1:8123")?;
    /// let run = client.stateless_runs().run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.scope(), RunScope::Stateless);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, run_id: impl IntoId) -> Result<RunHandle> {
        self.client.run(RunScope::Stateless, run_id)
    }
}

/// The thread of a [`ThreadRuns`](crate::ThreadRuns), e.g. for
/// [`Agent::on_thread`](crate::Agent::on_thread).
impl IntoId for &ThreadRuns {
    fn into_id(self, _field: &'static str) -> Result<Uuid> {
        Ok(self.thread_id())
    }
}
