//! Threads: create, get, delete, so that a stateful run takes a few lines.

use crate::client::AcpClient;
use crate::error::Error;
use crate::ids::IntoId;
use crate::ops;
use crate::options::Call;
use crate::run::ThreadRuns;
use crate::transport::Req;
use acp_client::types;
use std::fmt;

impl AcpClient {
    /// Create a thread (`POST /threads`) from a [`types::ThreadCreate`] or its builder; a builder
    /// with an invalid field is refused before any request. Without `metadata` the body carries
    /// `"metadata": {}` (a server in the field fails without it). Like every create it is not retried
    /// unless [`retry_creates`](crate::ClientBuilder::retry_creates) is on.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::ThreadCreate;
    /// let thread = client.create_thread(ThreadCreate::default()).await?;
    /// let runs = client.thread_runs(&thread.thread_id)?;
    /// # let _ = runs;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_thread<B>(&self, body: B) -> Call<types::Thread>
    where
        B: TryInto<types::ThreadCreate>,
        B::Error: fmt::Display,
    {
        let req = body
            .try_into()
            .map_err(|e| Error::invalid("thread create body", e.to_string()))
            .and_then(|mut body: types::ThreadCreate| {
                // `metadata` is optional in the spec, but the Agent Workflow Server answers 500
                // without it (and stores a thread that breaks its `POST /threads/search`): always
                // send an object.
                body.metadata.get_or_insert_with(Default::default);
                Req::new(&ops::CREATE_THREAD, &[]).json_body(&body)
            });
        self.json_call(req)
    }

    /// Create an empty thread and return its runs, ready for [`ThreadRuns::create`] or
    /// [`ThreadRuns::wait`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateful;
    /// let echo = client.agent("echo").await?; // runs take its id; found by name
    /// let runs = client.new_thread().await?;
    /// let run = runs.create(RunCreateStateful { agent_id: Some(echo.id().into()), ..Default::default() }).await?;
    /// println!("run {} on thread {}", run.run_id(), runs.thread_id());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new_thread(&self) -> Call<ThreadRuns> {
        Call::new(self.clone(), |c| async move {
            let thread = c.create_thread(types::ThreadCreate::default()).await?;
            c.plain()
                .thread_runs(thread.thread_id.as_str())
                .map_err(|_| {
                    Error::decode(
                        "create_thread response",
                        "thread_id is not a UUID",
                        thread.thread_id.as_bytes(),
                    )
                })
        })
    }

    /// The thread `thread_id` (`GET /threads/{thread_id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let thread = client.get_thread("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11").await?;
    /// println!("{:?}", thread.status);
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_thread(&self, thread_id: impl IntoId) -> Call<types::Thread> {
        self.json_call(
            thread_id
                .into_id("thread_id")
                .map(|id| Req::new(&ops::GET_THREAD, &[&id])),
        )
    }

    /// Delete the thread `thread_id` (`DELETE /threads/{thread_id}`). A thread that does not
    /// exist is an [`Error::Api`] with status 404.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// client.delete_thread("2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_thread(&self, thread_id: impl IntoId) -> Call<()> {
        match thread_id.into_id("thread_id") {
            Ok(id) => {
                let req = Req::new(&ops::DELETE_THREAD, &[&id]);
                Call::new(self.clone(), move |c| async move {
                    c.execute(&req).await.map(drop)
                })
            }
            Err(e) => Call::fail(e),
        }
    }

    /// Threads matching `request` (`POST /threads/search`), from a
    /// [`types::ThreadSearchRequest`] or its builder.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let threads = client.search_threads(acp_client::types::ThreadSearchRequest::default()).await?;
    /// println!("{} threads", threads.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn search_threads<B>(&self, request: B) -> Call<Vec<types::Thread>>
    where
        B: TryInto<types::ThreadSearchRequest>,
        B::Error: fmt::Display,
    {
        let req = request
            .try_into()
            .map_err(|e| Error::invalid("thread search request", e.to_string()))
            .and_then(|r: types::ThreadSearchRequest| {
                Req::new(&ops::SEARCH_THREADS, &[]).json_body(&r)
            });
        self.json_call(req)
    }
}
