//! Agent handles: an agent found by name or id, with its descriptor, that starts runs with
//! input, configuration and metadata of any `Serialize` type.
//!
//! [`AcpClient::agent`] resolves a name through `POST /agents/search` (or checks an id with
//! `GET /agents/{agent_id}`) and reads the agent's descriptor once. The [`Agent`] it returns
//! starts runs, stateless ([`Agent::run`], [`Agent::stream`], [`Agent::stateless`]) or on a
//! thread ([`Agent::on_thread`]); [`Agent::typed`] gives it the types of its input and output,
//! so the compiler checks every call. Run bodies are written by this module as JSON (not
//! through the generated `InputSchema`), so user code does not change when a spec version
//! changes the generated wrappers.
//!
//! ```no_run
//! # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
//! use serde::{Deserialize, Serialize};
//! use std::time::Duration;
//!
//! #[derive(Serialize)]
//! struct Input { count: u32 }
//! #[derive(Deserialize)]
//! struct Output { count: u32 }
//!
//! let agent = client.agent("stream").await?.typed::<Input, Output>();
//! let out: Output = agent.run(&Input { count: 3 }).output(Duration::from_secs(30)).await?;
//! assert_eq!(out.count, 3);
//! # Ok(())
//! # }
//! ```

use crate::checks::{Checks, Gate};
use crate::client::AcpClient;
use crate::creates::{Doubt, create_call, create_run};
use crate::descriptor::Capabilities;
use crate::error::{Error, Result};
use crate::ids::IntoId;
use crate::ops;
use crate::options::{Call, Customize, RequestOptions};
use crate::run::{RunHandle, RunOp, RunScope};
use crate::stream::{RunStream, create_stream};
use crate::transport::Req;
use crate::wait::{WaitOutcome, create_and_wait};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// What the client knows of an agent: read once, shared by every clone of its handle.
struct AgentInfo {
    /// The agent object the server listed (`GET /agents/{id}` or the search).
    listing: Value,
    id: String,
    name: String,
    version: Option<String>,
    descriptor: Value,
    capabilities: Capabilities,
}

/// The input type of an agent handle that has none of its own (the default of [`Agent`] and
/// [`AgentRuns`]): its [`run`](Agent::run) takes any `Serialize` value. Never constructed.
#[derive(Debug, Clone, Copy)]
pub enum AnyInput {}

/// What [`Agent::run`] and [`AgentRuns::run`] take as the input of an agent whose input type
/// is `I`: any `Serialize` value when `I` is [`AnyInput`] (an untyped handle), else an `I`
/// (a handle made with [`Agent::typed`]). Implemented for those and nothing else.
pub trait RunInput<I> {
    /// The input as the JSON the run's body carries.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] (field `input`) when it cannot be serialized.
    fn to_input(&self) -> Result<Box<RawValue>>;
}

impl<T: Serialize + ?Sized> RunInput<AnyInput> for T {
    fn to_input(&self) -> Result<Box<RawValue>> {
        to_raw("input", self)
    }
}

impl<I: Serialize> RunInput<I> for I {
    fn to_input(&self) -> Result<Box<RawValue>> {
        to_raw("input", self)
    }
}

/// An agent of the server, found by [`AcpClient::agent`]: its id, name and descriptor, and the
/// runs it starts. Cheap to clone.
///
/// `I` and `O` are the types of its input and output ([`Agent::typed`]). By default the input
/// is [`AnyInput`]: [`run`](Agent::run) takes any `Serialize` value (`&json!({..})`, your
/// struct, a map), and the output is [`serde_json::Value`]. Give the handle your own types, or
/// the ones `acp agent-types` generates from the descriptor, with `.typed::<Input, Output>()`:
/// then `run` takes only an `&Input`.
///
/// ```no_run
/// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
/// use futures::TryStreamExt;
/// let echo = client.agent("echo").await?;
/// println!("{} is {}", echo.name(), echo.id());
/// let mut events = echo.stream(&serde_json::json!({"hello": "world"})).await?;
/// while let Some(event) = events.try_next().await? {
///     println!("{:?}", event.status());
/// }
/// # Ok(())
/// # }
/// ```
pub struct Agent<I = AnyInput, O = Value> {
    client: AcpClient,
    info: Arc<AgentInfo>,
    checks: Checks,
    types: PhantomData<fn(&I) -> O>,
}

impl<I, O> Clone for Agent<I, O> {
    fn clone(&self) -> Self {
        Agent {
            client: self.client.clone(),
            info: self.info.clone(),
            checks: self.checks.clone(),
            types: PhantomData,
        }
    }
}

impl<I, O> fmt::Debug for Agent<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.info.id)
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .field("checks", &self.checks)
            .finish_non_exhaustive()
    }
}

impl AcpClient {
    /// The agent `name_or_id`: a UUID is taken as an agent id and checked
    /// (`GET /agents/{agent_id}`); anything else is a name, looked up with
    /// `POST /agents/search` (the first agent listed under exactly that name, whatever its
    /// version). Then its descriptor is read (`GET /agents/{agent_id}/descriptor`), once.
    ///
    /// # Errors
    ///
    /// [`Error::AgentNotFound`] when no agent has that name, [`Error::Api`] (404) for an
    /// unknown id, and the errors of any request.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let by_name = client.agent("echo").await?;
    /// let by_id = client.agent(by_name.id()).await?;
    /// assert_eq!(by_id.name(), "echo");
    /// # Ok(())
    /// # }
    /// ```
    pub fn agent(&self, name_or_id: impl Into<String>) -> Call<Agent> {
        let key = name_or_id.into();
        Call::new(self.clone(), move |c| async move { resolve(&c, key).await })
    }
}

/// The `agent_id` and `metadata.ref` of an `Agent` object, read leniently.
fn listed(v: &Value) -> Option<(String, String, Option<String>)> {
    let id = match v.get("agent_id")? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let r = v.get("metadata")?.get("ref")?;
    let name = r.get("name")?.as_str()?.to_string();
    let version = r.get("version").and_then(Value::as_str).map(str::to_string);
    Some((id, name, version))
}

async fn resolve(c: &AcpClient, key: String) -> Result<Agent> {
    let key = key.trim().to_string();
    let agent: Value = match Uuid::parse_str(&key) {
        Ok(id) => {
            let req = Req::new(&ops::GET_AGENT, &[&id]);
            c.json(&req).await?
        }
        Err(_) => {
            let req =
                Req::new(&ops::SEARCH_AGENTS, &[]).json_body(&serde_json::json!({"name": key}))?;
            let found: Vec<Value> = c.json(&req).await?;
            found
                .into_iter()
                .find(|a| listed(a).is_some_and(|(_, name, _)| name == key))
                .ok_or_else(|| Error::AgentNotFound { name: key.clone() })?
        }
    };
    let Some((id, name, version)) = listed(&agent) else {
        return Err(Error::decode(
            "agent",
            "no agent_id or metadata.ref.name",
            agent.to_string().as_bytes(),
        ));
    };
    let id_path = id.as_str().into_id("agent_id")?;
    let req = Req::new(&ops::GET_AGENT_DESCRIPTOR, &[&id_path]);
    let descriptor: Value = c.json(&req).await?;
    let capabilities = Capabilities::of(&descriptor);
    let checks = Checks {
        gate: Some(Arc::new(Gate {
            agent: name.clone(),
            capabilities,
        })),
        ..Checks::default()
    };
    Ok(Agent {
        client: c.plain(),
        info: Arc::new(AgentInfo {
            listing: agent,
            id,
            name,
            version,
            descriptor,
            capabilities,
        }),
        checks,
        types: PhantomData,
    })
}

impl<I, O> Agent<I, O> {
    /// The agent's id (what runs are created with).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let agent = client.agent("echo").await?;
    /// assert!(uuid::Uuid::parse_str(agent.id()).is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The agent's name (`metadata.ref.name`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// assert_eq!(client.agent("echo").await?.name(), "echo");
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The agent's version (`metadata.ref.version`), if the server says.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// println!("{:?}", client.agent("echo").await?.version());
    /// # Ok(())
    /// # }
    /// ```
    pub fn version(&self) -> Option<&str> {
        self.info.version.as_deref()
    }

    /// The agent object the server answered when the handle was made (`GET /agents/{id}`, or
    /// the entry of `POST /agents/search`): `agent_id` and `metadata` (`ref`, `description`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let agent = client.agent("echo").await?;
    /// println!("{}", agent.listing()["metadata"]["description"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn listing(&self) -> &Value {
        &self.info.listing
    }

    /// The agent's ACP descriptor as the server sent it (read once, when the handle was made):
    /// decode it with `serde_json::from_value::<acp_client_ext::types::AgentAcpDescriptor>`
    /// for the generated type, or generate Rust types from it with `acp agent-types`.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let agent = client.agent("interrupt").await?;
    /// println!("{}", agent.descriptor()["specs"]["capabilities"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn descriptor(&self) -> &Value {
        &self.info.descriptor
    }

    /// What the agent's descriptor declares it can do (`specs.capabilities`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let echo = client.agent("echo").await?;
    /// assert!(echo.capabilities().threads && !echo.capabilities().interrupts);
    /// # Ok(())
    /// # }
    /// ```
    pub fn capabilities(&self) -> Capabilities {
        self.info.capabilities
    }

    /// Whether this handle refuses, before any request, what the agent's descriptor says it
    /// cannot do (`on`, the default), or sends everything (`false`, for servers whose
    /// descriptors understate their agents). Refused: a streamed run (`create_and_stream_*`)
    /// when no streaming mode is declared (`specs.capabilities.streaming` missing, or `values`
    /// and `custom` both false), any thread run when `threads` is false, and a resume
    /// (`resume_*_run`, also from a stream or `run_to_completion`) of its runs when
    /// `interrupts` is false; each with [`Error::Unsupported`] naming the capability. (Rejoining
    /// an existing run's stream by its handle, `RunHandle::stream`, is not refused.)
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::Error;
    /// let echo = client.agent("echo").await?; // declares no interrupts
    /// let run = echo.run(&serde_json::json!({})).create().await?;
    /// let err = run.resume(serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::Unsupported { capability: "interrupts", .. }));
    /// let lax = echo.enforce_capabilities(false);
    /// let run = lax.run(&serde_json::json!({})).create().await?;
    /// let _sent = run.resume(serde_json::json!({})).await; // whatever the server answers
    /// # Ok(())
    /// # }
    /// ```
    pub fn enforce_capabilities(mut self, on: bool) -> Self {
        self.checks.gate = on.then(|| {
            Arc::new(Gate {
                agent: self.info.name.clone(),
                capabilities: self.info.capabilities,
            })
        });
        self
    }

    /// This handle with the input type `I2` and output type `O2`: [`run`](Self::run) then
    /// takes only an `&I2` (`.typed::<AnyInput, O2>()` keeps any input and types the output), and [`RunRequest::output`] decodes into `O2`. The types may be
    /// yours or generated from the descriptor (`acp agent-types`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// #[derive(serde::Serialize)]
    /// struct Input { text: String }
    /// #[derive(serde::Deserialize)]
    /// struct Output { text: String }
    /// let echo = client.agent("echo").await?.typed::<Input, Output>();
    /// let out = echo.run(&Input { text: "hi".into() }).output(std::time::Duration::from_secs(10)).await?;
    /// assert_eq!(out.text, "hi");
    /// # Ok(())
    /// # }
    /// ```
    pub fn typed<I2, O2>(self) -> Agent<I2, O2> {
        Agent {
            client: self.client,
            info: self.info,
            checks: self.checks,
            types: PhantomData,
        }
    }

    /// Check the input, configuration and resume payloads of this handle's runs against the
    /// descriptor's JSON Schemas before sending them (`on`), or stop checking. A payload that
    /// fails is refused with [`Error::Validation`], naming the JSON path and the rule, before
    /// any request. The schemas are compiled once, here.
    ///
    /// # Errors
    ///
    /// [`Error::Descriptor`] when a schema of the descriptor does not compile.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::Error;
    /// let stream = client.agent("stream").await?.validating(true)?;
    /// let err = stream.run(&serde_json::json!({"count": "five"})).create().await.unwrap_err();
    /// assert!(matches!(err, Error::Validation(ref v) if v.path == "/count" && v.rule == "type"));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "validate")]
    pub fn validating(mut self, on: bool) -> Result<Self> {
        self.checks.validator = if on {
            let v = crate::validate::Validator::new(&self.info.descriptor).map_err(|e| {
                Error::Descriptor {
                    agent: self.info.name.clone(),
                    reason: e.to_string(),
                }
            })?;
            Some(Arc::new(v))
        } else {
            None
        };
        Ok(self)
    }

    /// This handle with `options` applied to every call made through it (and through the runs
    /// it starts).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client_ext::RequestOptions;
    /// let agent = client.agent("echo").await?.with_options(RequestOptions::new().header("x-tenant", "acme"));
    /// # let _ = agent;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Self {
        self.clone().customized(options)
    }

    /// Stateless runs of this agent (`/runs/...`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let echo = client.agent("echo").await?;
    /// let run = echo.stateless().run(&serde_json::json!({"a": 1})).create().await?;
    /// assert_eq!(run.thread_id(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stateless(&self) -> AgentRuns<I, O> {
        AgentRuns {
            agent: self.clone(),
            scope: RunScope::Stateless,
        }
    }

    /// Runs of this agent on the thread `thread` (a [`ThreadRuns`](crate::ThreadRuns), a
    /// [`Uuid`] or a string holding one).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `thread` is not a UUID.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let echo = client.agent("echo").await?;
    /// let thread = client.new_thread().await?;
    /// let run = echo.on_thread(&thread)?.run(&serde_json::json!({"a": 1})).create().await?;
    /// assert_eq!(run.thread_id(), Some(thread.thread_id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_thread(&self, thread: impl IntoId) -> Result<AgentRuns<I, O>> {
        Ok(AgentRuns {
            agent: self.clone(),
            scope: RunScope::Thread(thread.into_id("thread_id")?),
        })
    }
}

impl<I, O> Agent<I, O> {
    /// A stateless run of this agent with `input`, to create, stream or wait for (see
    /// [`RunRequest`]); shorthand for `self.stateless().run(input)`. `input` is any
    /// `Serialize` value for an untyped handle, an `&I` for one made with
    /// [`typed`](Self::typed) (see [`RunInput`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use std::time::Duration;
    /// let echo = client.agent("echo").await?;
    /// let outcome = echo
    ///     .run(&serde_json::json!({"text": "hi"}))
    ///     .config(&serde_json::json!({"greeting": "hello"}))
    ///     .metadata(&serde_json::json!({"trace": "42"}))
    ///     .wait(Duration::from_secs(10))
    ///     .await?;
    /// assert_eq!(outcome.output_as::<serde_json::Value>()?["text"], "hi");
    ///
    /// // Any `Serialize` input, without `.typed()` first:
    /// #[derive(serde::Serialize)]
    /// struct Greeting<'a> { text: &'a str }
    /// let outcome = echo.run(&Greeting { text: "hello" }).wait(Duration::from_secs(10)).await?;
    /// assert_eq!(outcome.output_as::<serde_json::Value>()?["text"], "hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn run<T: RunInput<I> + ?Sized>(&self, input: &T) -> RunRequest<O> {
        self.stateless().run(input)
    }

    /// Create a stateless run with `input` and stream its events; shorthand for
    /// `self.run(input).stream()`.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let events: Vec<_> = client.agent("stream").await?.stream(&serde_json::json!({"count": 2})).await?.try_collect().await?;
    /// assert!(events.last().is_some_and(|e| e.is_final()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream<T: RunInput<I> + ?Sized>(&self, input: &T) -> Call<RunStream> {
        self.run(input).stream()
    }
}

impl<I, O> Customize for Agent<I, O> {
    fn customized(mut self, options: RequestOptions) -> Self {
        self.client = self.client.with_options(options);
        self
    }
}

/// The runs of one agent in one scope (stateless, or on a thread): from [`Agent::stateless`]
/// or [`Agent::on_thread`].
///
/// ```no_run
/// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
/// let echo = client.agent("echo").await?;
/// let thread = client.new_thread().await?;
/// let on_thread = echo.on_thread(&thread)?;
/// on_thread.run(&serde_json::json!({"turn": 1})).wait(std::time::Duration::from_secs(10)).await?;
/// on_thread.run(&serde_json::json!({"turn": 2})).wait(std::time::Duration::from_secs(10)).await?;
/// # Ok(())
/// # }
/// ```
pub struct AgentRuns<I = AnyInput, O = Value> {
    agent: Agent<I, O>,
    scope: RunScope,
}

impl<I, O> Clone for AgentRuns<I, O> {
    fn clone(&self) -> Self {
        AgentRuns {
            agent: self.agent.clone(),
            scope: self.scope,
        }
    }
}

impl<I, O> fmt::Debug for AgentRuns<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentRuns")
            .field("agent", &self.agent)
            .field("scope", &self.scope)
            .finish()
    }
}

impl<I, O> AgentRuns<I, O> {
    /// A run of the agent in this scope with `input` (any `Serialize` value for an untyped
    /// handle, an `&I` for a typed one: see [`RunInput`]): set its configuration and metadata, then
    /// [`create`](RunRequest::create), [`stream`](RunRequest::stream),
    /// [`wait`](RunRequest::wait) or [`output`](RunRequest::output) it.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let run = client.agent("slow").await?.stateless().run(&serde_json::json!({})).create().await?;
    /// run.cancel(acp_client_ext::CancelAction::Interrupt, true).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn run<T: RunInput<I> + ?Sized>(&self, input: &T) -> RunRequest<O> {
        RunRequest {
            agent: self.agent.clone().typed(),
            scope: self.scope,
            input: input.to_input(),
            config: None,
            config_object: None,
            metadata: None,
        }
    }

    /// Create a run with `input` and stream its events; shorthand for
    /// `self.run(input).stream()`.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let thread = client.new_thread().await?;
    /// let events = client.agent("stream").await?.on_thread(&thread)?.stream(&serde_json::json!({"count": 2})).await?;
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream<T: RunInput<I> + ?Sized>(&self, input: &T) -> Call<RunStream> {
        self.run(input).stream()
    }
}

fn to_raw<T: Serialize + ?Sized>(field: &'static str, value: &T) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| Error::invalid(field, format!("cannot be serialized: {e}")))
}

/// One run of an agent, not created yet: its input, and the configuration and metadata set
/// with [`config`](Self::config) and [`metadata`](Self::metadata). Nothing is sent until one of
/// [`create`](Self::create), [`stream`](Self::stream), [`wait`](Self::wait) or
/// [`output`](Self::output) is awaited.
///
/// The body is written as JSON by this crate: `agent_id`, `input`, `config` (`{"configurable":
/// ..}` when set; `{}` when not set and the descriptor declares `specs.config`, since servers
/// that validate it, such as the Agent Workflow Server, refuse a run without one) and
/// `metadata`. Other fields take the server's defaults.
#[must_use = "a run request sends nothing until create, stream, wait or output is awaited"]
pub struct RunRequest<O = Value> {
    agent: Agent<(), O>,
    scope: RunScope,
    input: Result<Box<RawValue>>,
    config: Option<Result<Box<RawValue>>>,
    config_object: Option<Result<Box<RawValue>>>,
    metadata: Option<Result<Box<RawValue>>>,
}

impl<O> fmt::Debug for RunRequest<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunRequest")
            .field("agent", &self.agent)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct CreateBody<'a> {
    agent_id: &'a str,
    input: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<ConfigField<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a RawValue>,
}

/// The create body's `config`: the configurable values, or the caller's whole object.
#[derive(Serialize)]
#[serde(untagged)]
enum ConfigField<'a> {
    Configurable(ConfigBody<'a>),
    Whole(&'a RawValue),
}

#[derive(Serialize)]
struct ConfigBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    configurable: Option<&'a RawValue>,
}

impl<O> RunRequest<O> {
    /// The agent's own configuration for this run (`config.configurable`, what the
    /// descriptor's `specs.config` describes).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// #[derive(serde::Serialize)]
    /// struct EchoConfig { greeting: String }
    /// let run = client.agent("echo").await?
    ///     .run(&serde_json::json!({}))
    ///     .config(&EchoConfig { greeting: "hi".into() })
    ///     .create()
    ///     .await?;
    /// # let _ = run;
    /// # Ok(())
    /// # }
    /// ```
    pub fn config<C: Serialize + ?Sized>(mut self, configurable: &C) -> Self {
        self.config = Some(to_raw("config", configurable));
        self
    }

    /// The whole `config` of the run (a JSON object: `configurable`, `tags`,
    /// `recursion_limit`, as the spec's `Config`), in place of [`config`](Self::config)'s
    /// configurable values. Refused with [`Error::InvalidInput`] when the run is sent if it is
    /// not an object.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let run = client.agent("echo").await?
    ///     .run(&serde_json::json!({}))
    ///     .config_object(&serde_json::json!({"tags": ["nightly"], "configurable": {"greeting": "hi"}}))
    ///     .create()
    ///     .await?;
    /// # let _ = run;
    /// # Ok(())
    /// # }
    /// ```
    pub fn config_object<C: Serialize + ?Sized>(mut self, config: &C) -> Self {
        self.config_object = Some(to_raw("config", config));
        self
    }

    /// Metadata to assign to the run (a JSON object).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let run = client.agent("echo").await?
    ///     .run(&serde_json::json!({}))
    ///     .metadata(&std::collections::HashMap::from([("trace", "42")]))
    ///     .create()
    ///     .await?;
    /// # let _ = run;
    /// # Ok(())
    /// # }
    /// ```
    pub fn metadata<M: Serialize + ?Sized>(mut self, metadata: &M) -> Self {
        self.metadata = Some(to_raw("metadata", metadata));
        self
    }

    /// The create body, checked (when the handle validates) and serialized. Takes the parts
    /// (a request is sent once).
    fn take_body(&mut self) -> Result<Bytes> {
        let input = std::mem::replace(&mut self.input, Err(Error::invalid("input", "taken")))?;
        let configurable = self.config.take().transpose()?;
        let whole = self.config_object.take().transpose()?;
        let metadata = self.metadata.take().transpose()?;
        if let Some(whole) = &whole {
            // The configurable values inside the whole object, for the checks.
            #[derive(serde::Deserialize)]
            struct Whole<'a> {
                #[serde(borrow)]
                configurable: Option<&'a RawValue>,
            }
            let Ok(inner) = serde_json::from_str::<Whole<'_>>(whole.get()) else {
                return Err(Error::invalid("config", "must be a JSON object"));
            };
            self.agent.checks.run(&input, inner.configurable)?;
        } else {
            self.agent.checks.run(&input, configurable.as_deref())?;
        }
        let (input, configurable, metadata) =
            (&*input, configurable.as_deref(), metadata.as_deref());
        let declares_config = self
            .agent
            .info
            .descriptor
            .get("specs")
            .and_then(|s| s.get("config"))
            .is_some_and(|c| !c.is_null());
        let config = match &whole {
            Some(whole) => Some(ConfigField::Whole(whole)),
            None => (configurable.is_some() || declares_config)
                .then_some(ConfigField::Configurable(ConfigBody { configurable })),
        };
        let body = CreateBody {
            agent_id: &self.agent.info.id,
            input,
            config,
            metadata,
        };
        Ok(serde_json::to_vec(&body)
            .map_err(|e| Error::invalid("run create body", format!("cannot be serialized: {e}")))?
            .into())
    }

    fn call<T, F, Fut>(mut self, kind: RunOp, f: F) -> Call<T>
    where
        T: Send + 'static,
        F: FnOnce(AcpClient, RunScope, Bytes, Doubt, Checks) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let mut checks = self.agent.checks.clone();
        checks.resume_op = self.scope.op(RunOp::Resume).id;
        let body = checks
            .create(
                self.scope.thread_id().is_some(),
                kind == RunOp::CreateStream,
                self.scope.op(kind).id,
            )
            .and_then(|()| self.take_body());
        create_call(
            &self.agent.client,
            self.scope,
            body,
            move |c, scope, body, doubt| f(c, scope, body, doubt, checks),
        )
    }

    /// Create the run (`POST /runs` or `POST /threads/{thread_id}/runs`). The handle it returns
    /// checks resume payloads when this agent's handle validates.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let run = client.agent("echo").await?.run(&serde_json::json!({"a": 1})).create().await?;
    /// println!("{}", run.run_id());
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(self) -> Call<RunHandle> {
        self.call(RunOp::Create, |c, scope, body, doubt, checks| async move {
            let mut run = create_run(c, scope, body, doubt).await?;
            run.checks = checks;
            Ok(run)
        })
    }

    /// Create the run and stream its events (`POST .../runs/stream`); see
    /// [`RunStream`] for what a stream does when its connection drops.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut events = client.agent("stream").await?.run(&serde_json::json!({"count": 2})).stream().await?;
    /// while let Some(event) = events.try_next().await? {
    ///     println!("{:?}", event.status());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> Call<RunStream> {
        self.call(
            RunOp::CreateStream,
            |c, scope, body, doubt, checks| async move {
                let mut stream = create_stream(c, scope, body, doubt).await?;
                stream.checks = checks;
                Ok(stream)
            },
        )
    }

    /// Create the run and wait for its outcome, at most `deadline` (`POST .../runs/wait`, then
    /// as [`RunHandle::wait`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let outcome = client.agent("echo").await?.run(&serde_json::json!({"a": 1})).wait(std::time::Duration::from_secs(10)).await?;
    /// assert!(outcome.is_completed());
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(self, deadline: Duration) -> Call<WaitOutcome> {
        self.call(RunOp::CreateWait, move |c, scope, body, doubt, _| {
            create_and_wait(c, scope, body, doubt, deadline)
        })
    }
}

impl<O: DeserializeOwned + Send + 'static> RunRequest<O> {
    /// Create the run, wait for it (at most `deadline`) and decode its output values into `O`
    /// (the handle's output type, [`Agent::typed`]).
    ///
    /// # Errors
    ///
    /// [`Error::UnexpectedOutcome`] when the run does not complete (interrupted, failed,
    /// cancelled), [`Error::Decode`] naming `O` when the values do not fit it, and the errors
    /// of [`wait`](Self::wait).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let out = client.agent("echo").await?.run(&serde_json::json!({"a": 1})).output(std::time::Duration::from_secs(10)).await?;
    /// assert_eq!(out["a"], 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn output(self, deadline: Duration) -> Call<O> {
        self.call(
            RunOp::CreateWait,
            move |c, scope, body, doubt, _| async move {
                create_and_wait(c, scope, body, doubt, deadline)
                    .await?
                    .output_as::<O>()
            },
        )
    }
}
