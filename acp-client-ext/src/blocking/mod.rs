//! A blocking ACP client (feature `blocking`), for scripts, command-line tools and code that is
//! not async.
//!
//! It is the async client, driven: every blocking type wraps its async counterpart
//! ([`Client`] an [`AcpClient`], [`Agent`] an [`crate::Agent`], [`RunHandle`] a
//! [`crate::RunHandle`], ...) together with the runtime that drives it, and every method hands
//! its work to the async method of the same name through one of two adapters: one that runs
//! an async [`Call`](crate::Call) to completion, and one that makes a [`crate::RunStream`] an
//! [`Iterator`]. So the blocking client has the async one's operations under the same names and
//! signatures (minus `async` and `Call`: a method returns its [`Result`] when it is done), the
//! same [`Error`] type and the same policies (retries, rejoined streams, waits robust to early
//! answers, validation, the bodies agent handles write), and it cannot do anything the async
//! client does not: there is no logic of its own to drift. A test
//! (`tests/blocking_surface.rs`) reads both surfaces from the sources and fails when an async
//! method has no blocking counterpart.
//!
//! Each [`Client`] owns a small tokio runtime (one worker thread); the handles made from it
//! (agents, runs, streams) and its clones share it, and it stops when the last of them is
//! dropped.
//!
//! # An agent, by name
//!
//! ```no_run
//! use acp_client_ext::blocking::Client;
//! use serde::{Deserialize, Serialize};
//! use std::time::Duration;
//!
//! #[derive(Serialize)]
//! struct Input { text: String }
//! #[derive(Deserialize)]
//! struct Output { text: String }
//!
//! let client = Client::new("http://127.0.0.1:8123")?;
//!
//! // The echo agent: found by name, its input and output typed, its body written for you.
//! let echo = client.agent("echo")?.typed::<Input, Output>();
//! let out = echo.run(&Input { text: "hello".into() }).output(Duration::from_secs(30))?;
//! assert_eq!(out.text, "hello");
//!
//! // A stream is an iterator of events.
//! let mut events = client.agent("stream")?.stream(&serde_json::json!({"count": 3}))?;
//! for event in events.by_ref() {
//!     println!("{:?}", event?.status());
//! }
//! println!("run {:?} ended {:?}", events.run_id(), events.last_status());
//!
//! // On a thread, and waited for.
//! let thread = client.new_thread()?;
//! let outcome = client.agent("echo")?.on_thread(&thread)?.run(&serde_json::json!({"turn": 1})).wait(Duration::from_secs(30))?;
//! println!("{outcome}");
//! # Ok::<(), acp_client_ext::Error>(())
//! ```
//!
//! # Per-call options
//!
//! A blocking method sends its request when it is called, so there is no `Call` to set
//! options on: give them to the handle instead, with `with_options` on [`Client`], [`Agent`],
//! [`ThreadRuns`], [`StatelessRuns`] or [`RunHandle`] (cheap: a clone sharing the connection
//! pool), and make the call through the handle it returns.
//!
//! ```no_run
//! use acp_client_ext::{RequestOptions, blocking::Client};
//! use std::time::Duration;
//! let client = Client::new("http://127.0.0.1:8123")?;
//! let quick = client.with_options(RequestOptions::new().timeout(Duration::from_secs(2)));
//! let agents = quick.search_agents()?;
//! # let _ = agents;
//! # Ok::<(), acp_client_ext::Error>(())
//! ```
//!
//! # Errors
//!
//! Every call returns the async client's [`Error`]. Called from inside an async runtime (a
//! tokio task, `#[tokio::main]`, `spawn_blocking`), where blocking would stall the runtime or
//! nest one runtime in another, a call does nothing and returns [`Error::BlockingInRuntime`];
//! it never panics. Use [`AcpClient`] there.

mod agent;
mod response;
mod runs;
mod stream;

pub use agent::{Agent, AgentRuns, RunRequest};
pub use response::Response;
pub use runs::{RunHandle, StatelessRuns, ThreadRuns};
pub use stream::RunStream;

use crate::client::AcpClient;
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::ids::IntoId;
use crate::ops::Operation;
use crate::options::RequestOptions;
use crate::retry::RetryPolicy;
use crate::run::RunScope;
use acp_client::types;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::Arc;

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

/// The runtime shared by a blocking client and every handle made from it, and the adapters
/// through which all of them do their work.
#[derive(Clone)]
struct Rt(Arc<Runtime>);

impl Rt {
    fn new() -> Result<Rt> {
        Ok(Rt(Arc::new(Runtime::new()?)))
    }

    /// Run `f` to completion on this runtime, unless the caller is itself inside one.
    fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInRuntime);
        }
        match &self.0.rt {
            Some(rt) => Ok(rt.block_on(f)),
            None => Err(gone()),
        }
    }

    /// The adapter of every blocking call: run the async `call` (a [`Call`](crate::Call), or
    /// the future of an `async fn`) to completion on this runtime.
    fn call<T>(&self, call: impl IntoFuture<Output = Result<T>>) -> Result<T> {
        self.block_on(call.into_future())?
    }

    /// [`call`](Self::call), for a call that returns an async handle: its blocking form, on
    /// this runtime.
    fn handle<B: Wrap>(&self, call: impl IntoFuture<Output = Result<B::Async>>) -> Result<B> {
        self.call(call).map(|inner| self.wrap(inner))
    }

    /// The blocking form of an async handle, on this runtime.
    fn wrap<B: Wrap>(&self, inner: B::Async) -> B {
        B::wrap(inner, self)
    }

    /// Enter this runtime (so that what is dropped may spawn on it), unless the caller is
    /// inside a runtime already.
    fn enter(&self) -> Option<tokio::runtime::EnterGuard<'_>> {
        match tokio::runtime::Handle::try_current() {
            Ok(_) => None,
            Err(_) => self.0.rt.as_ref().map(tokio::runtime::Runtime::enter),
        }
    }
}

/// The runtime stopped (cannot happen while a handle holds it; an error rather than a panic).
fn gone() -> Error {
    Error::Runtime(std::io::Error::other(
        "the blocking client's runtime is gone",
    ))
}

/// A blocking type: an async handle and the runtime that drives it.
trait Wrap {
    /// The async handle.
    type Async;
    /// `inner`, driven by `rt`.
    fn wrap(inner: Self::Async, rt: &Rt) -> Self;
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
    rt: Rt,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Client")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Wrap for Client {
    type Async = AcpClient;
    fn wrap(inner: AcpClient, rt: &Rt) -> Client {
        Client {
            inner,
            rt: rt.clone(),
        }
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

    /// Start configuring a client for `base_url` (see [`AcpClient::builder`]); give the
    /// builder to [`from_builder`](Self::from_builder).
    ///
    /// ```
    /// use acp_client_ext::blocking::Client;
    /// let client = Client::from_builder(Client::builder("http://127.0.0.1:8123").api_key("sk-x"))?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        AcpClient::builder(base_url)
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

    /// The blocking form of an async client (sharing its connections and settings), on a
    /// runtime of its own.
    ///
    /// ```
    /// let async_client = acp_client_ext::AcpClient::new("http://127.0.0.1:8123")?;
    /// let client = acp_client_ext::blocking::Client::from_async(async_client)?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8123");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn from_async(client: AcpClient) -> Result<Client> {
        Ok(Rt::new()?.wrap(client))
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

    /// The retry policy in force (see [`AcpClient::retry_policy`]).
    ///
    /// ```
    /// use acp_client_ext::{RetryPolicy, blocking::Client};
    /// let client = Client::new("http://127.0.0.1:8123")?;
    /// assert_eq!(client.retry_policy(), &RetryPolicy::default());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.inner.retry_policy()
    }

    /// This client with `options` applied to every call (see [`AcpClient::with_options`]):
    /// the blocking way to set per-call options.
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, blocking::Client};
    /// let client = Client::new("http://127.0.0.1:8123")?;
    /// let tenant = client.with_options(RequestOptions::new().header("x-tenant", "acme"));
    /// assert!(format!("{tenant:?}").contains("x-tenant"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Client {
        self.rt.wrap(self.inner.with_options(options))
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
        self.rt.call(self.inner.search_agents())
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
        self.rt.call(self.inner.search_agents_with(request))
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
        self.rt.call(self.inner.get_agent(agent_id))
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
        self.rt.call(self.inner.agent_descriptor(agent_id))
    }

    /// The agent `name_or_id`, with its descriptor (see [`AcpClient::agent`]): a handle that
    /// starts its runs.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?;
    /// let out = echo.run(&serde_json::json!({"a": 1})).output(std::time::Duration::from_secs(10))?;
    /// assert_eq!(out["a"], 1);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn agent(&self, name_or_id: impl Into<String>) -> Result<Agent> {
        self.rt.handle(self.inner.agent(name_or_id))
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
        self.rt.call(self.inner.create_thread(body))
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
        self.rt.handle(self.inner.new_thread())
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
        self.rt.call(self.inner.get_thread(thread_id))
    }

    /// See [`AcpClient::delete_thread`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// client.delete_thread("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn delete_thread(&self, thread_id: impl IntoId) -> Result<()> {
        self.rt.call(self.inner.delete_thread(thread_id))
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
        self.rt.call(self.inner.search_threads(request))
    }

    /// See [`AcpClient::thread_runs`].
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// assert!(client.thread_runs("not-a-uuid").is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_runs(&self, thread_id: impl IntoId) -> Result<ThreadRuns> {
        self.inner.thread_runs(thread_id).map(|r| self.rt.wrap(r))
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
        self.rt.wrap(self.inner.stateless_runs())
    }

    /// See [`AcpClient::run`]: a handle on an existing run, without asking the server.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let client = Client::new("http://127.0.0.1:8123")?;
    /// let run = client.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.thread_id(), None);
    /// assert!(client.run(RunScope::Stateless, "nope").is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run(&self, scope: RunScope, run_id: impl IntoId) -> Result<RunHandle> {
        self.inner.run(scope, run_id).map(|r| self.rt.wrap(r))
    }

    /// Send any ACP operation by its `operationId` (see [`AcpClient::send_operation`]); the
    /// answer's body is read through the blocking [`Response`].
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let answer = client.send_operation("search_agents", &[], &[], Some(&serde_json::json!({})))?;
    /// let agents: serde_json::Value = answer.json()?;
    /// # let _ = agents;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn send_operation(
        &self,
        operation_id: &str,
        path_params: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response> {
        let answer = self
            .inner
            .send_operation(operation_id, path_params, query, body);
        let operation = Operation::find(operation_id).map_or("send_operation", |op| op.id());
        self.rt
            .call(answer)
            .map(|r| Response::new(r, operation, &self.rt))
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
