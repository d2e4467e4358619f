//! Agent handles (see [`crate::Agent`]): an agent found by name or id, that starts runs with
//! input, configuration and metadata of any `Serialize` type, the bodies written for you.

use super::{Rt, RunHandle, RunStream, Wrap};
use crate::agent::{AnyInput, RunInput};
use crate::error::Result;
use crate::ids::IntoId;
use crate::options::RequestOptions;
use crate::wait::WaitOutcome;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// An agent of the server, found by [`Client::agent`](super::Client::agent): its id, name and
/// descriptor, and the runs it starts (see [`crate::Agent`]). Cheap to clone.
///
/// `I` and `O` are the types of its input and output ([`typed`](Self::typed)); by default the
/// input is [`AnyInput`] (`run` takes any `Serialize` value) and the output
/// [`serde_json::Value`].
///
/// ```no_run
/// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
/// let echo = client.agent("echo")?;
/// println!("{} is {}", echo.name(), echo.id());
/// for event in echo.stream(&serde_json::json!({"hello": "world"}))? {
///     println!("{:?}", event?.status());
/// }
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
pub struct Agent<I = AnyInput, O = Value> {
    inner: crate::Agent<I, O>,
    rt: Rt,
}

impl<I, O> Clone for Agent<I, O> {
    fn clone(&self) -> Self {
        Agent {
            inner: self.inner.clone(),
            rt: self.rt.clone(),
        }
    }
}

impl<I, O> fmt::Debug for Agent<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Agent")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<I, O> Wrap for Agent<I, O> {
    type Async = crate::Agent<I, O>;
    fn wrap(inner: crate::Agent<I, O>, rt: &Rt) -> Self {
        Agent {
            inner,
            rt: rt.clone(),
        }
    }
}

impl<I, O> Agent<I, O> {
    /// The agent's id (what runs are created with).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// assert!(uuid::Uuid::parse_str(client.agent("echo")?.id()).is_ok());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The agent's name (`metadata.ref.name`).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// assert_eq!(client.agent("echo")?.name(), "echo");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// The agent's version (`metadata.ref.version`), if the server says.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// println!("{:?}", client.agent("echo")?.version());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn version(&self) -> Option<&str> {
        self.inner.version()
    }

    /// The agent object the server answered (see [`crate::Agent::listing`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// println!("{}", client.agent("echo")?.listing()["metadata"]["description"]);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn listing(&self) -> &Value {
        self.inner.listing()
    }

    /// The agent's ACP descriptor as the server sent it (see [`crate::Agent::descriptor`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// println!("{}", client.agent("interrupt")?.descriptor()["specs"]["capabilities"]);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn descriptor(&self) -> &Value {
        self.inner.descriptor()
    }

    /// The async handle underneath.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?;
    /// assert_eq!(echo.as_async().id(), echo.id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn as_async(&self) -> &crate::Agent<I, O> {
        &self.inner
    }

    /// This handle with the input type `I2` and output type `O2` (see [`crate::Agent::typed`]).
    ///
    /// ```no_run
    /// #[derive(serde::Serialize)]
    /// struct Input { text: String }
    /// #[derive(serde::Deserialize)]
    /// struct Output { text: String }
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?.typed::<Input, Output>();
    /// let out = echo.run(&Input { text: "hi".into() }).output(std::time::Duration::from_secs(10))?;
    /// assert_eq!(out.text, "hi");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn typed<I2, O2>(self) -> Agent<I2, O2> {
        self.rt.wrap(self.inner.typed())
    }

    /// What the agent's descriptor declares it can do (see [`crate::Agent::capabilities`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// assert!(client.agent("echo")?.capabilities().threads);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn capabilities(&self) -> crate::descriptor::Capabilities {
        self.inner.capabilities()
    }

    /// Refuse what the descriptor says the agent cannot do, or send everything (see
    /// [`crate::Agent::enforce_capabilities`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?.enforce_capabilities(false);
    /// # let _ = echo;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn enforce_capabilities(self, on: bool) -> Self {
        self.rt.wrap(self.inner.enforce_capabilities(on))
    }

    /// Check input, config and resume payloads against the descriptor's schemas before
    /// sending (see [`crate::Agent::validating`]).
    ///
    /// ```no_run
    /// use acp_client_ext::Error;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let stream = client.agent("stream")?.validating(true)?;
    /// let err = stream.run(&serde_json::json!({"count": "five"})).create().unwrap_err();
    /// assert!(matches!(err, Error::Validation(_)));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    #[cfg(feature = "validate")]
    pub fn validating(self, on: bool) -> Result<Self> {
        Ok(self.rt.wrap(self.inner.validating(on)?))
    }

    /// This handle with `options` applied to every call made through it (and through the runs
    /// it starts).
    ///
    /// ```no_run
    /// use acp_client_ext::RequestOptions;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?.with_options(RequestOptions::new().header("x-tenant", "acme"));
    /// # let _ = echo;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Self {
        self.rt.wrap(self.inner.with_options(options))
    }

    /// Stateless runs of this agent (see [`crate::Agent::stateless`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.agent("echo")?.stateless().run(&serde_json::json!({"a": 1})).create()?;
    /// assert_eq!(run.thread_id(), None);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stateless(&self) -> AgentRuns<I, O> {
        self.rt.wrap(self.inner.stateless())
    }

    /// Runs of this agent on the thread `thread` (a [`ThreadRuns`](super::ThreadRuns), a
    /// [`Uuid`](uuid::Uuid) or a string holding one; see [`crate::Agent::on_thread`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let thread = client.new_thread()?;
    /// let run = client.agent("echo")?.on_thread(&thread)?.run(&serde_json::json!({"a": 1})).create()?;
    /// assert_eq!(run.thread_id(), Some(thread.thread_id()));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn on_thread(&self, thread: impl IntoId) -> Result<AgentRuns<I, O>> {
        self.inner.on_thread(thread).map(|r| self.rt.wrap(r))
    }
}

impl<I, O> Agent<I, O> {
    /// A stateless run of this agent with `input`, to create, stream or wait for (see
    /// [`RunRequest`]); `input` is any `Serialize` value for an untyped handle, an `&I` for a
    /// typed one (see [`RunInput`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let outcome = client.agent("echo")?
    ///     .run(&serde_json::json!({"text": "hi"}))
    ///     .config(&serde_json::json!({"greeting": "hello"}))
    ///     .wait(std::time::Duration::from_secs(10))?;
    /// assert!(outcome.is_completed());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run<T: RunInput<I> + ?Sized>(&self, input: &T) -> RunRequest<O> {
        self.rt.wrap(self.inner.run(input))
    }

    /// Create a stateless run with `input` and iterate over its events.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let events: Vec<_> = client.agent("stream")?.stream(&serde_json::json!({"count": 2}))?.collect::<Result<_, _>>()?;
    /// assert!(events.last().is_some_and(|e| e.is_final()));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream<T: RunInput<I> + ?Sized>(&self, input: &T) -> Result<RunStream> {
        self.rt.handle(self.inner.stream(input))
    }
}

/// The runs of one agent in one scope, stateless or on a thread (see [`crate::AgentRuns`]).
///
/// ```no_run
/// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
/// let thread = client.new_thread()?;
/// let on_thread = client.agent("echo")?.on_thread(&thread)?;
/// on_thread.run(&serde_json::json!({"turn": 1})).wait(std::time::Duration::from_secs(10))?;
/// on_thread.run(&serde_json::json!({"turn": 2})).wait(std::time::Duration::from_secs(10))?;
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
pub struct AgentRuns<I = AnyInput, O = Value> {
    inner: crate::AgentRuns<I, O>,
    rt: Rt,
}

impl<I, O> Clone for AgentRuns<I, O> {
    fn clone(&self) -> Self {
        AgentRuns {
            inner: self.inner.clone(),
            rt: self.rt.clone(),
        }
    }
}

impl<I, O> fmt::Debug for AgentRuns<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::AgentRuns")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<I, O> Wrap for AgentRuns<I, O> {
    type Async = crate::AgentRuns<I, O>;
    fn wrap(inner: crate::AgentRuns<I, O>, rt: &Rt) -> Self {
        AgentRuns {
            inner,
            rt: rt.clone(),
        }
    }
}

impl<I, O> AgentRuns<I, O> {
    /// A run of the agent in this scope with `input` (see [`crate::AgentRuns::run`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.agent("slow")?.stateless().run(&serde_json::json!({})).create()?;
    /// run.cancel(acp_client_ext::CancelAction::Interrupt, true)?;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run<T: RunInput<I> + ?Sized>(&self, input: &T) -> RunRequest<O> {
        self.rt.wrap(self.inner.run(input))
    }

    /// Create a run with `input` and iterate over its events.
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let thread = client.new_thread()?;
    /// for event in client.agent("stream")?.on_thread(&thread)?.stream(&serde_json::json!({"count": 2}))? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream<T: RunInput<I> + ?Sized>(&self, input: &T) -> Result<RunStream> {
        self.rt.handle(self.inner.stream(input))
    }
}

/// One run of an agent, not created yet (see [`crate::RunRequest`]): its input, and the
/// configuration and metadata set with [`config`](Self::config) and
/// [`metadata`](Self::metadata). Nothing is sent until [`create`](Self::create),
/// [`stream`](Self::stream), [`wait`](Self::wait) or [`output`](Self::output) is called.
#[must_use = "a run request sends nothing until create, stream, wait or output is called"]
pub struct RunRequest<O = Value> {
    inner: crate::RunRequest<O>,
    rt: Rt,
}

impl<O> fmt::Debug for RunRequest<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::RunRequest")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<O> Wrap for RunRequest<O> {
    type Async = crate::RunRequest<O>;
    fn wrap(inner: crate::RunRequest<O>, rt: &Rt) -> Self {
        RunRequest {
            inner,
            rt: rt.clone(),
        }
    }
}

impl<O> RunRequest<O> {
    /// The agent's own configuration for this run (`config.configurable`; see
    /// [`crate::RunRequest::config`]).
    ///
    /// ```no_run
    /// #[derive(serde::Serialize)]
    /// struct EchoConfig { greeting: String }
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.agent("echo")?
    ///     .run(&serde_json::json!({}))
    ///     .config(&EchoConfig { greeting: "hi".into() })
    ///     .create()?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn config<C: Serialize + ?Sized>(self, configurable: &C) -> Self {
        self.rt.wrap(self.inner.config(configurable))
    }

    /// The whole `config` of the run (see [`crate::RunRequest::config_object`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.agent("echo")?
    ///     .run(&serde_json::json!({}))
    ///     .config_object(&serde_json::json!({"tags": ["nightly"]}))
    ///     .create()?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn config_object<C: Serialize + ?Sized>(self, config: &C) -> Self {
        self.rt.wrap(self.inner.config_object(config))
    }

    /// Metadata to assign to the run (a JSON object; see [`crate::RunRequest::metadata`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.agent("echo")?
    ///     .run(&serde_json::json!({}))
    ///     .metadata(&std::collections::HashMap::from([("trace", "42")]))
    ///     .create()?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn metadata<M: Serialize + ?Sized>(self, metadata: &M) -> Self {
        self.rt.wrap(self.inner.metadata(metadata))
    }

    /// Create the run (see [`crate::RunRequest::create`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let run = client.agent("echo")?.run(&serde_json::json!({"a": 1})).create()?;
    /// println!("{}", run.run_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn create(self) -> Result<RunHandle> {
        self.rt.handle(self.inner.create())
    }

    /// Create the run and iterate over its events (see [`crate::RunRequest::stream`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// for event in client.agent("stream")?.run(&serde_json::json!({"count": 2})).stream()? {
    ///     println!("{:?}", event?.status());
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream(self) -> Result<RunStream> {
        self.rt.handle(self.inner.stream())
    }

    /// Create the run and wait for its outcome, at most `deadline` (see
    /// [`crate::RunRequest::wait`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let outcome = client.agent("echo")?.run(&serde_json::json!({"a": 1})).wait(std::time::Duration::from_secs(10))?;
    /// assert!(outcome.is_completed());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn wait(self, deadline: Duration) -> Result<WaitOutcome> {
        self.rt.call(self.inner.wait(deadline))
    }
}

impl<O: DeserializeOwned + Send + 'static> RunRequest<O> {
    /// Create the run, wait for it (at most `deadline`) and decode its output values into `O`
    /// (see [`crate::RunRequest::output`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let out = client.agent("echo")?.run(&serde_json::json!({"a": 1})).output(std::time::Duration::from_secs(10))?;
    /// assert_eq!(out["a"], 1);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn output(self, deadline: Duration) -> Result<O> {
        self.rt.call(self.inner.output(deadline))
    }
}
