//! A blocking ACP client (feature `blocking`), for scripts, command-line tools and code that is
//! not async.
//!
//! It mirrors the async client as `reqwest::blocking` mirrors `reqwest`: the same operations
//! under the same names, the same [`Error`] type, the same policies (retries, rejoined streams,
//! waits robust to early answers), with every call returning when it is done and a stream being
//! an [`Iterator`]. Each [`Client`] owns a small tokio runtime (one worker thread) on which the
//! async client does the work; clones share it, and it stops when the last clone is dropped.
//!
//! # Errors
//!
//! Every call returns the async client's [`Error`]. Called from inside an async runtime (a
//! tokio task, `#[tokio::main]`, `spawn_blocking`), where blocking would stall the runtime or
//! nest one runtime in another, a call does nothing and returns [`Error::BlockingInRuntime`];
//! it never panics. Use [`AcpClient`] there.
//!
//! ```no_run
//! use acp_client_ext::blocking::Client;
//! use acp_client_ext::types::RunCreateStateful;
//! use std::time::Duration;
//!
//! let client = Client::new("http://127.0.0.1:8123")?;
//! let runs = client.new_thread()?;
//! let body = || RunCreateStateful { agent_id: Some("stream".into()), ..Default::default() };
//! for event in runs.stream(body())? {
//!     println!("{:?}", event?);
//! }
//! let outcome = runs.create(body())?.wait(Duration::from_secs(30))?;
//! println!("{outcome}");
//! # Ok::<(), acp_client_ext::Error>(())
//! ```

use crate::cancel::CancelAction;
use crate::client::AcpClient;
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::event::RunEvent;
use crate::ids::IntoId;
use crate::options::RequestOptions;
use crate::run::{RunInfo, RunScope, RunStatus};
use crate::wait::WaitOutcome;
use acp_client::types;
use futures::StreamExt;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The runtime a blocking client owns.
struct Runtime {
    rt: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    fn new() -> Result<Runtime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("acp-blocking")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        Ok(Runtime { rt: Some(rt) })
    }

    /// Run `f` to completion on this runtime, unless the caller is itself inside one.
    fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInRuntime);
        }
        match &self.rt {
            Some(rt) => Ok(rt.block_on(f)),
            None => Err(Error::Runtime(std::io::Error::other(
                "the blocking client's runtime is gone",
            ))),
        }
    }

    fn enter(&self) -> Option<tokio::runtime::EnterGuard<'_>> {
        self.rt.as_ref().map(tokio::runtime::Runtime::enter)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Dropping a runtime inside another one panics; shutting it down in the background never
        // does (what is left is a spawned cancel of a dropped stream at most).
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A blocking ACP client: the async [`AcpClient`] and the runtime that drives it. Cheap to
/// clone; clones share the connections and the runtime.
///
/// ```
/// use acp_client_ext::blocking::Client;
/// let client = Client::new("http://127.0.0.1:8123")?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: AcpClient,
    rt: Arc<Runtime>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Client")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Client {
    /// A client for the server at `base_url`, with default settings.
    ///
    /// ```
    /// assert!(acp_client_ext::blocking::Client::new("not a url").is_err());
    /// ```
    pub fn new(base_url: impl Into<String>) -> Result<Client> {
        Client::from_async(AcpClient::new(base_url)?)
    }

    /// A client configured by `builder` (credentials, timeouts, retries: see [`ClientBuilder`]).
    ///
    /// ```
    /// use acp_client_ext::{AcpClient, blocking::Client};
    /// let client = Client::from_builder(AcpClient::builder("http://127.0.0.1:8123").api_key("sk-x"))?;
    /// assert!(!format!("{client:?}").contains("sk-x"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn from_builder(builder: ClientBuilder) -> Result<Client> {
        Client::from_async(builder.build()?)
    }

    /// A client configured from the environment (`ACP_URL`, `ACP_API_KEY`, ...; see
    /// [`ClientBuilder::from_env`]).
    ///
    /// ```
    /// # unsafe { std::env::remove_var("ACP_URL") };
    /// let err = acp_client_ext::blocking::Client::from_env().unwrap_err();
    /// assert!(err.to_string().contains("ACP_URL"));
    /// ```
    pub fn from_env() -> Result<Client> {
        Client::from_async(AcpClient::from_env()?)
    }

    /// The blocking form of an async client (sharing its connections and settings).
    ///
    /// ```
    /// let async_client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
    /// let client = acp_client_ext::blocking::Client::from_async(async_client)?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn from_async(client: AcpClient) -> Result<Client> {
        Ok(Client {
            inner: client,
            rt: Arc::new(Runtime::new()?),
        })
    }

    /// The async client underneath.
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// assert_eq!(client.as_async().base_url(), client.base_url());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn as_async(&self) -> &AcpClient {
        &self.inner
    }

    /// The server's base URL, without a trailing slash.
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123/")?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    /// This client with `options` applied to every call (see [`AcpClient::with_options`]).
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, blocking::Client};
    /// let client = Client::new("http://127.0.0.1:8123")?;
    /// let tenant = client.with_options(RequestOptions::new().header("x-tenant", "acme"));
    /// assert!(format!("{tenant:?}").contains("x-tenant"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Client {
        self.wrap(self.inner.with_options(options))
    }

    fn wrap(&self, inner: AcpClient) -> Client {
        Client {
            inner,
            rt: self.rt.clone(),
        }
    }

    fn block<T>(&self, f: impl Future<Output = Result<T>>) -> Result<T> {
        self.rt.block_on(f)?
    }

    /// See [`AcpClient::search_agents`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// for agent in client.search_agents()? {
    ///     println!("{} {}", agent.agent_id, agent.metadata.ref_.name);
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn search_agents(&self) -> Result<Vec<types::Agent>> {
        self.block(self.inner.search_agents().into_future())
    }

    /// See [`AcpClient::search_agents_with`].
    ///
    /// ```no_run
    /// use acp_client_ext::types::AgentSearchRequest;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.search_agents_with(AgentSearchRequest { name: Some("echo".into()), ..Default::default() })?;
    /// # let _ = echo;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn search_agents_with<B>(&self, request: B) -> Result<Vec<types::Agent>>
    where
        B: TryInto<types::AgentSearchRequest>,
        B::Error: fmt::Display,
    {
        self.block(self.inner.search_agents_with(request).into_future())
    }

    /// See [`AcpClient::get_agent`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let agent = client.get_agent("00000000-0000-4000-8000-00000000ec40")?;
    /// # let _ = agent;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn get_agent(&self, agent_id: impl IntoId) -> Result<types::Agent> {
        self.block(self.inner.get_agent(agent_id).into_future())
    }

    /// See [`AcpClient::agent_descriptor`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let d = client.agent_descriptor("00000000-0000-4000-8000-00000000ec40")?;
    /// println!("{:?}", d.specs.capabilities.interrupts);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn agent_descriptor(&self, agent_id: impl IntoId) -> Result<types::AgentAcpDescriptor> {
        self.block(self.inner.agent_descriptor(agent_id).into_future())
    }

    /// See [`AcpClient::create_thread`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let thread = client.create_thread(acp_client_ext::types::ThreadCreate::default())?;
    /// # let _ = thread;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn create_thread<B>(&self, body: B) -> Result<types::Thread>
    where
        B: TryInto<types::ThreadCreate>,
        B::Error: fmt::Display,
    {
        self.block(self.inner.create_thread(body).into_future())
    }

    /// See [`AcpClient::new_thread`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let runs = client.new_thread()?;
    /// println!("thread {}", runs.thread_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn new_thread(&self) -> Result<ThreadRuns> {
        let runs = self.block(self.inner.new_thread().into_future())?;
        Ok(ThreadRuns {
            client: self.clone(),
            inner: runs,
        })
    }

    /// See [`AcpClient::get_thread`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let thread = client.get_thread("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// # let _ = thread;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn get_thread(&self, thread_id: impl IntoId) -> Result<types::Thread> {
        self.block(self.inner.get_thread(thread_id).into_future())
    }

    /// See [`AcpClient::delete_thread`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// client.delete_thread("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn delete_thread(&self, thread_id: impl IntoId) -> Result<()> {
        self.block(self.inner.delete_thread(thread_id).into_future())
    }

    /// See [`AcpClient::search_threads`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let threads = client.search_threads(acp_client_ext::types::ThreadSearchRequest::default())?;
    /// # let _ = threads;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn search_threads<B>(&self, request: B) -> Result<Vec<types::Thread>>
    where
        B: TryInto<types::ThreadSearchRequest>,
        B::Error: fmt::Display,
    {
        self.block(self.inner.search_threads(request).into_future())
    }

    /// See [`AcpClient::thread_runs`].
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// assert!(client.thread_runs("not-a-uuid").is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_runs(&self, thread_id: impl IntoId) -> Result<ThreadRuns> {
        Ok(ThreadRuns {
            client: self.clone(),
            inner: self.inner.thread_runs(thread_id)?,
        })
    }

    /// See [`AcpClient::stateless_runs`].
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.stateless_runs().run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), None);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stateless_runs(&self) -> StatelessRuns {
        StatelessRuns {
            client: self.clone(),
            inner: self.inner.stateless_runs(),
        }
    }

    /// See [`AcpClient::run`]: a handle on an existing run, without asking the server.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let client = Client::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.scope(), RunScope::Stateless);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, scope: RunScope, run_id: impl IntoId) -> Result<RunHandle> {
        Ok(self.handle(self.inner.run(scope, run_id)?))
    }

    fn handle(&self, inner: crate::RunHandle) -> RunHandle {
        RunHandle {
            client: self.clone(),
            inner,
        }
    }

    fn events(&self, inner: crate::RunStream) -> RunStream {
        RunStream {
            rt: self.rt.clone(),
            inner: Some(inner),
        }
    }
}

/// The runs of one thread (see [`crate::ThreadRuns`]).
#[derive(Debug, Clone)]
pub struct ThreadRuns {
    client: Client,
    inner: crate::ThreadRuns,
}

impl ThreadRuns {
    /// The thread.
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let runs = client.thread_runs(uuid::Uuid::nil())?;
    /// assert_eq!(runs.thread_id(), uuid::Uuid::nil());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_id(&self) -> Uuid {
        self.inner.thread_id()
    }

    /// See [`crate::ThreadRuns::create`].
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateful;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.new_thread()?.create(RunCreateStateful { agent_id: Some("echo".into()), ..Default::default() })?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn create<B>(&self, body: B) -> Result<RunHandle>
    where
        B: TryInto<types::RunCreateStateful>,
        B::Error: fmt::Display,
    {
        let run = self.client.block(self.inner.create(body).into_future())?;
        Ok(self.client.handle(run))
    }

    /// See [`crate::ThreadRuns::stream`]: create a run and iterate over its events.
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateful;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// for event in client.new_thread()?.stream(RunCreateStateful::default())? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream<B>(&self, body: B) -> Result<RunStream>
    where
        B: TryInto<types::RunCreateStateful>,
        B::Error: fmt::Display,
    {
        let events = self.client.block(self.inner.stream(body).into_future())?;
        Ok(self.client.events(events))
    }

    /// See [`crate::ThreadRuns::wait`]: create a run and wait for its outcome.
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateful;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let outcome = client.new_thread()?.wait(RunCreateStateful::default(), std::time::Duration::from_secs(5))?;
    /// println!("{outcome}");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn wait<B>(&self, body: B, deadline: Duration) -> Result<WaitOutcome>
    where
        B: TryInto<types::RunCreateStateful>,
        B::Error: fmt::Display,
    {
        self.client
            .block(self.inner.wait(body, deadline).into_future())
    }

    /// See [`crate::ThreadRuns::list`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let runs = client.thread_runs(uuid::Uuid::nil())?.list(Some(10), None)?;
    /// # let _ = runs;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn list(&self, limit: Option<u32>, offset: Option<u32>) -> Result<Vec<RunInfo>> {
        self.client
            .block(self.inner.list(limit, offset).into_future())
    }

    /// A handle on an existing run of this thread.
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.thread_runs(uuid::Uuid::nil())?.run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), Some(uuid::Uuid::nil()));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, run_id: impl IntoId) -> Result<RunHandle> {
        Ok(self.client.handle(self.inner.run(run_id)?))
    }
}

/// Stateless runs (see [`crate::StatelessRuns`]).
#[derive(Debug, Clone)]
pub struct StatelessRuns {
    client: Client,
    inner: crate::StatelessRuns,
}

impl StatelessRuns {
    /// See [`crate::StatelessRuns::create`].
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateless;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.stateless_runs().create(RunCreateStateless::default())?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn create<B>(&self, body: B) -> Result<RunHandle>
    where
        B: TryInto<types::RunCreateStateless>,
        B::Error: fmt::Display,
    {
        let run = self.client.block(self.inner.create(body).into_future())?;
        Ok(self.client.handle(run))
    }

    /// See [`crate::StatelessRuns::stream`].
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateless;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let events: Vec<_> = client.stateless_runs().stream(RunCreateStateless::default())?.collect();
    /// # let _ = events;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream<B>(&self, body: B) -> Result<RunStream>
    where
        B: TryInto<types::RunCreateStateless>,
        B::Error: fmt::Display,
    {
        let events = self.client.block(self.inner.stream(body).into_future())?;
        Ok(self.client.events(events))
    }

    /// See [`crate::StatelessRuns::wait`].
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateless;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let outcome = client.stateless_runs().wait(RunCreateStateless::default(), std::time::Duration::from_secs(5))?;
    /// # let _ = outcome;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn wait<B>(&self, body: B, deadline: Duration) -> Result<WaitOutcome>
    where
        B: TryInto<types::RunCreateStateless>,
        B::Error: fmt::Display,
    {
        self.client
            .block(self.inner.wait(body, deadline).into_future())
    }

    /// A handle on an existing stateless run.
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.stateless_runs().run("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), None);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, run_id: impl IntoId) -> Result<RunHandle> {
        Ok(self.client.handle(self.inner.run(run_id)?))
    }
}

/// One run on the server (see [`crate::RunHandle`]). Cheap to clone.
#[derive(Debug, Clone)]
pub struct RunHandle {
    client: Client,
    inner: crate::RunHandle,
}

impl RunHandle {
    /// The run's id.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.run_id().to_string(), "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run_id(&self) -> Uuid {
        self.inner.run_id()
    }

    /// The run's thread, for a thread run.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), None);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_id(&self) -> Option<Uuid> {
        self.inner.thread_id()
    }

    /// Thread or stateless.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.scope(), RunScope::Stateless);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn scope(&self) -> RunScope {
        self.inner.scope()
    }

    /// The run as the server described it when it was created (see [`crate::RunHandle::created`]).
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert!(run.created().is_none());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn created(&self) -> Option<&RunInfo> {
        self.inner.created()
    }

    /// The async handle underneath.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.as_async().run_id(), run.run_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn as_async(&self) -> &crate::RunHandle {
        &self.inner
    }

    /// This handle with `options` applied to every call made through it.
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// let traced = run.with_options(RequestOptions::new().header("x-request-id", "42"));
    /// assert_eq!(traced.run_id(), run.run_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> RunHandle {
        self.client.handle(self.inner.with_options(options))
    }

    /// See [`crate::RunHandle::get`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// println!("{}", run.get()?.status);
    /// # Ok(())
    /// # }
    /// ```
    pub fn get(&self) -> Result<RunInfo> {
        self.client.block(self.inner.get().into_future())
    }

    /// See [`crate::RunHandle::delete`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// run.delete()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete(&self) -> Result<()> {
        self.client.block(self.inner.delete().into_future())
    }

    /// See [`crate::RunHandle::cancel`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// run.cancel(acp_client_ext::CancelAction::Interrupt, true)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel(&self, action: CancelAction, wait: bool) -> Result<()> {
        self.client
            .block(self.inner.cancel(action, wait).into_future())
    }

    /// See [`crate::RunHandle::interrupt`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// run.interrupt()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn interrupt(&self) -> Result<()> {
        self.client.block(self.inner.interrupt().into_future())
    }

    /// See [`crate::RunHandle::rollback`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// run.rollback()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rollback(&self) -> Result<()> {
        self.client.block(self.inner.rollback().into_future())
    }

    /// See [`crate::RunHandle::resume`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// run.resume(serde_json::json!({"approved": true}))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(&self, payload: Value) -> Result<RunInfo> {
        self.client.block(self.inner.resume(payload).into_future())
    }

    /// See [`crate::RunHandle::stream`]: join the run's stream.
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// for event in run.stream()? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(&self) -> Result<RunStream> {
        let events = self.client.block(self.inner.stream().into_future())?;
        Ok(self.client.events(events))
    }

    /// See [`crate::RunHandle::stream_from`]: the events after `last_event_id`.
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let rest: Vec<_> = run.stream_from("3")?.collect::<Result<_, _>>()?;
    /// # let _ = rest;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream_from(&self, last_event_id: impl Into<String>) -> Result<RunStream> {
        let events = self
            .client
            .block(self.inner.stream_from(last_event_id).into_future())?;
        Ok(self.client.events(events))
    }

    /// See [`crate::RunHandle::wait`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// println!("{}", run.wait(std::time::Duration::from_secs(30))?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self, deadline: Duration) -> Result<WaitOutcome> {
        self.client.block(self.inner.wait(deadline).into_future())
    }

    /// Drive the run to its end, answering each interrupt with `answer` (see
    /// [`crate::RunHandle::run_to_completion`]: the same waits, the same bound of `max_rounds`
    /// answered interrupts, then [`Error::TooManyInterrupts`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let outcome = run.run_to_completion(std::time::Duration::from_secs(60), 5, |question| {
    ///     println!("the agent asks: {question}");
    ///     Ok(serde_json::json!({"answer": "yes"}))
    /// })?;
    /// println!("{outcome}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_to_completion(
        &self,
        deadline_per_wait: Duration,
        max_rounds: u32,
        mut answer: impl FnMut(Value) -> Result<Value>,
    ) -> Result<WaitOutcome> {
        let mut rounds = 0u32;
        loop {
            let outcome = self.wait(deadline_per_wait)?;
            let WaitOutcome::Interrupted { payload, .. } = outcome else {
                return Ok(outcome);
            };
            if rounds >= max_rounds {
                return Err(Error::TooManyInterrupts {
                    run_id: self.run_id(),
                    rounds,
                });
            }
            rounds += 1;
            self.resume(answer(payload)?)?;
        }
    }
}

/// A run's events, as an iterator (see [`crate::RunStream`]: rejoined after a dropped
/// connection, each event once). Each `next` blocks until an event arrives or the stream ends;
/// an error ends it.
pub struct RunStream {
    rt: Arc<Runtime>,
    inner: Option<crate::RunStream>,
}

impl fmt::Debug for RunStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::RunStream")
            .field("inner", &self.inner)
            .finish()
    }
}

impl RunStream {
    /// The run's id, once an event or the request named it.
    pub fn run_id(&self) -> Option<Uuid> {
        self.inner.as_ref().and_then(crate::RunStream::run_id)
    }

    /// The id of the last event delivered (for [`RunHandle::stream_from`]).
    pub fn last_event_id(&self) -> Option<&str> {
        self.inner
            .as_ref()
            .and_then(crate::RunStream::last_event_id)
    }

    /// The last run status an event carried.
    pub fn last_status(&self) -> Option<&RunStatus> {
        self.inner.as_ref().and_then(crate::RunStream::last_status)
    }

    /// See [`crate::RunStream::cancel_on_drop`].
    pub fn cancel_on_drop(mut self, yes: bool) -> Self {
        self.inner = self.inner.take().map(|s| s.cancel_on_drop(yes));
        self
    }
}

impl Iterator for RunStream {
    type Item = Result<RunEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        let stream = self.inner.as_mut()?;
        match self.rt.block_on(stream.next()) {
            Ok(item) => item,
            // Inside a runtime: the error once, then the end.
            Err(e) => {
                self.drop_inner();
                Some(Err(e))
            }
        }
    }
}

impl RunStream {
    /// Drop the async stream inside the runtime, so that a cancel-on-drop can be spawned.
    fn drop_inner(&mut self) {
        let _guard = match tokio::runtime::Handle::try_current() {
            Ok(_) => None,
            Err(_) => self.rt.enter(),
        };
        self.inner = None;
    }
}

impl Drop for RunStream {
    fn drop(&mut self) {
        self.drop_inner();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inside_a_runtime_a_call_is_an_error_not_a_panic() {
        let client = Client::new("http://127.0.0.1:9").unwrap();
        let err = client.search_agents().unwrap_err();
        assert!(matches!(err, Error::BlockingInRuntime));
        assert!(err.to_string().contains("inside an async runtime"));
        drop(client); // dropping its runtime here must not panic either
    }
}
