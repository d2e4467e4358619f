//! Runs: of a thread ([`ThreadRuns`]), stateless ([`StatelessRuns`]), one run ([`RunHandle`]).

use super::{Client, Rt, RunStream, Wrap, gone};
use crate::cancel::CancelAction;
use crate::error::Result;
use crate::ids::IntoId;
use crate::interrupt::Interrupt;
use crate::options::{Customize, RequestOptions};
use crate::run::{RunInfo, RunScope};
use crate::wait::WaitOutcome;
use acp_client::types;
use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, select};
use serde::Serialize;
use std::fmt;
use std::pin::pin;
use std::time::Duration;
use uuid::Uuid;

/// The runs of one thread (see [`crate::ThreadRuns`]).
///
/// ```no_run
/// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
/// let thread = client.new_thread()?;
/// let echo = client.agent("echo")?;
/// echo.on_thread(&thread)?.run(&serde_json::json!({"turn": 1})).wait(std::time::Duration::from_secs(10))?;
/// println!("{} runs", thread.list(None, None)?.len());
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Clone)]
pub struct ThreadRuns {
    inner: crate::ThreadRuns,
    rt: Rt,
}

impl fmt::Debug for ThreadRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::ThreadRuns")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Wrap for ThreadRuns {
    type Async = crate::ThreadRuns;
    fn wrap(inner: crate::ThreadRuns, rt: &Rt) -> ThreadRuns {
        ThreadRuns {
            inner,
            rt: rt.clone(),
        }
    }
}

/// The thread of a [`ThreadRuns`], e.g. for [`Agent::on_thread`](super::Agent::on_thread).
impl IntoId for &ThreadRuns {
    fn into_id(self, _field: &'static str) -> Result<Uuid> {
        Ok(self.thread_id())
    }
}

impl ThreadRuns {
    /// The thread these runs belong to.
    ///
    /// ```
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let runs = client.thread_runs("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(runs.thread_id().to_string(), "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn thread_id(&self) -> Uuid {
        self.inner.thread_id()
    }

    /// The scope of these runs.
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let runs = Client::new("http://127.0.0.1:8123")?.thread_runs(uuid::Uuid::nil())?;
    /// assert_eq!(runs.scope(), RunScope::Thread(uuid::Uuid::nil()));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn scope(&self) -> RunScope {
        self.inner.scope()
    }

    /// The async runs underneath.
    ///
    /// ```
    /// let runs = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?.thread_runs(uuid::Uuid::nil())?;
    /// assert_eq!(runs.as_async().thread_id(), runs.thread_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn as_async(&self) -> &crate::ThreadRuns {
        &self.inner
    }

    /// These runs with `options` applied to every call made through them (and through the
    /// handles and streams they return).
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, blocking::Client};
    /// let runs = Client::new("http://127.0.0.1:8123")?.thread_runs(uuid::Uuid::nil())?;
    /// let traced = runs.with_options(RequestOptions::new().header("x-request-id", "42"));
    /// assert!(format!("{traced:?}").contains("x-request-id"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> ThreadRuns {
        self.rt.wrap(self.inner.clone().customized(options))
    }

    /// See [`crate::ThreadRuns::create`]. (An [`Agent`](super::Agent) writes the body for you:
    /// `agent.on_thread(&runs)?.run(&input).create()`.)
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateful;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?;
    /// let run = client.new_thread()?.create(RunCreateStateful { agent_id: Some(echo.id().into()), ..Default::default() })?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn create<B>(&self, body: B) -> Result<RunHandle>
    where
        B: TryInto<types::RunCreateStateful, Error: fmt::Display>,
    {
        self.rt.handle(self.inner.create(body))
    }

    /// See [`crate::ThreadRuns::stream`]: create a run and iterate over its events.
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateful;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let stream = client.agent("stream")?;
    /// for event in client.new_thread()?.stream(RunCreateStateful { agent_id: Some(stream.id().into()), ..Default::default() })? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn stream<B>(&self, body: B) -> Result<RunStream>
    where
        B: TryInto<types::RunCreateStateful, Error: fmt::Display>,
    {
        self.rt.handle(self.inner.stream(body))
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
        B: TryInto<types::RunCreateStateful, Error: fmt::Display>,
    {
        self.rt.call(self.inner.wait(body, deadline))
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
        self.rt.call(self.inner.list(limit, offset))
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
        self.inner.run(run_id).map(|r| self.rt.wrap(r))
    }
}

/// Stateless runs (see [`crate::StatelessRuns`]).
///
/// ```no_run
/// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
/// let echo = client.agent("echo")?;
/// let run = echo.stateless().run(&serde_json::json!({"a": 1})).create()?;
/// let same = client.stateless_runs().run(run.run_id())?;
/// println!("{}", same.get()?.status);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Clone)]
pub struct StatelessRuns {
    inner: crate::StatelessRuns,
    rt: Rt,
}

impl fmt::Debug for StatelessRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::StatelessRuns")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Wrap for StatelessRuns {
    type Async = crate::StatelessRuns;
    fn wrap(inner: crate::StatelessRuns, rt: &Rt) -> StatelessRuns {
        StatelessRuns {
            inner,
            rt: rt.clone(),
        }
    }
}

impl StatelessRuns {
    /// The async runs underneath.
    ///
    /// ```
    /// let runs = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?.stateless_runs();
    /// assert!(format!("{:?}", runs.as_async()).contains("StatelessRuns"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn as_async(&self) -> &crate::StatelessRuns {
        &self.inner
    }

    /// These runs with `options` applied to every call made through them (and through the
    /// handles and streams they return).
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, blocking::Client};
    /// let runs = Client::new("http://127.0.0.1:8123")?.stateless_runs();
    /// let traced = runs.with_options(RequestOptions::new().header("x-request-id", "42"));
    /// assert!(format!("{traced:?}").contains("x-request-id"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> StatelessRuns {
        self.rt.wrap(self.inner.clone().customized(options))
    }

    /// See [`crate::StatelessRuns::create`]. (An [`Agent`](super::Agent) writes the body for
    /// you: `agent.run(&input).create()`.)
    ///
    /// ```no_run
    /// use acp_client_ext::types::RunCreateStateless;
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let echo = client.agent("echo")?;
    /// let run = client.stateless_runs().create(RunCreateStateless { agent_id: Some(echo.id().into()), ..Default::default() })?;
    /// # let _ = run;
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn create<B>(&self, body: B) -> Result<RunHandle>
    where
        B: TryInto<types::RunCreateStateless, Error: fmt::Display>,
    {
        self.rt.handle(self.inner.create(body))
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
        B: TryInto<types::RunCreateStateless, Error: fmt::Display>,
    {
        self.rt.handle(self.inner.stream(body))
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
        B: TryInto<types::RunCreateStateless, Error: fmt::Display>,
    {
        self.rt.call(self.inner.wait(body, deadline))
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
        self.inner.run(run_id).map(|r| self.rt.wrap(r))
    }
}

/// One run on the server (see [`crate::RunHandle`]). Cheap to clone.
///
/// ```no_run
/// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
/// let run = client.agent("slow")?.run(&serde_json::json!({})).create()?;
/// run.cancel(acp_client_ext::CancelAction::Interrupt, true)?;
/// println!("{}", run.get()?.status);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Clone)]
pub struct RunHandle {
    inner: crate::RunHandle,
    /// The blocking form of the handle's client (sharing its options).
    client: Client,
}

impl fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::RunHandle")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Wrap for RunHandle {
    type Async = crate::RunHandle;
    fn wrap(inner: crate::RunHandle, rt: &Rt) -> RunHandle {
        RunHandle {
            client: rt.wrap(inner.client().clone()),
            inner,
        }
    }
}

impl RunHandle {
    fn rt(&self) -> &Rt {
        &self.client.rt
    }

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

    /// The client this handle calls through (with the handle's options).
    ///
    /// ```
    /// use acp_client_ext::{RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// assert_eq!(run.client().base_url(), "http://127.0.0.1:8123");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
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

    /// This handle with `options` applied to every call made through it (see
    /// [`crate::RunHandle::with_options`]).
    ///
    /// ```
    /// use acp_client_ext::{RequestOptions, RunScope, blocking::Client};
    /// let run = Client::new("http://127.0.0.1:8123")?.run(RunScope::Stateless, "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11")?;
    /// let traced = run.with_options(RequestOptions::new().header("x-request-id", "42"));
    /// assert_eq!(traced.run_id(), run.run_id());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> RunHandle {
        self.rt().wrap(self.inner.with_options(options))
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
        self.rt().call(self.inner.get())
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
        self.rt().call(self.inner.delete())
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
        self.rt().call(self.inner.cancel(action, wait))
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
        self.rt().call(self.inner.interrupt())
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
        self.rt().call(self.inner.rollback())
    }

    /// See [`crate::RunHandle::resume`].
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// run.resume(serde_json::json!({"approved": true}))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume<P: Serialize>(&self, payload: P) -> Result<RunInfo> {
        self.rt().call(self.inner.resume(payload))
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
        self.rt().handle(self.inner.stream())
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
        self.rt().handle(self.inner.stream_from(last_event_id))
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
        self.rt().call(self.inner.wait(deadline))
    }

    /// Drive the run to its end, answering each interrupt with `answer` (the async
    /// [`crate::RunHandle::run_to_completion`] itself: the same waits, the same bound of
    /// `max_rounds` answered interrupts, then [`Error::TooManyInterrupts`](crate::Error::TooManyInterrupts)).
    ///
    /// `answer` is called on the calling thread, outside the client's runtime: it may block
    /// (read a terminal, ask a person) and make blocking calls of its own. An error it returns
    /// ends the run's conversation with that error.
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let outcome = run.run_to_completion(std::time::Duration::from_secs(60), 5, |interrupt| {
    ///     println!("round {}: the agent asks {}", interrupt.round(), interrupt.payload());
    ///     Ok(serde_json::json!({"answer": "yes"}))
    /// })?;
    /// println!("{outcome}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_to_completion<F, P>(
        &self,
        deadline_per_wait: Duration,
        max_rounds: u32,
        mut answer: F,
    ) -> Result<WaitOutcome>
    where
        F: FnMut(&Interrupt) -> Result<P>,
        P: Serialize,
    {
        // The async conversation asks each question over `asks` and awaits its answer; the
        // runtime drives it until it ends or asks, and the question is answered here, between
        // two turns of the runtime.
        let (asks, mut questions) = mpsc::unbounded::<(Interrupt, oneshot::Sender<Result<P>>)>();
        let conversation = self.inner.run_to_completion(
            deadline_per_wait,
            max_rounds,
            async |interrupt: Interrupt| {
                let (reply, answered) = oneshot::channel();
                asks.unbounded_send((interrupt, reply))
                    .map_err(|_| gone())?;
                answered.await.map_err(|_| gone())?
            },
        );
        let mut conversation = pin!(conversation);
        loop {
            match self
                .rt()
                .block_on(select(conversation.as_mut(), questions.next()))?
            {
                Either::Left((outcome, _)) => return outcome,
                Either::Right((Some((interrupt, reply)), _)) => {
                    // The conversation awaits this answer: it cannot have gone.
                    let _ = reply.send(answer(&interrupt));
                }
                // `asks` lives as long as the conversation: not reached.
                Either::Right((None, _)) => return self.rt().block_on(conversation)?,
            }
        }
    }
}
