//! Threads: create, get, delete, so that a stateful run takes a few lines.

use crate::client::{AcpClient, Call};
use crate::error::{Error, Result};
use crate::ids::IntoId;
use crate::run::ThreadRuns;
use acp_client::types;
use reqwest::Method;
use std::fmt;
use tracing::Instrument;

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
    pub async fn create_thread<B>(&self, body: B) -> Result<types::Thread>
    where
        B: TryInto<types::ThreadCreate>,
        B::Error: fmt::Display,
    {
        let mut body: types::ThreadCreate = body
            .try_into()
            .map_err(|e| Error::invalid("thread create body", e.to_string()))?;
        // `metadata` is optional in the spec, but the Agent Workflow Server answers 500 without
        // it (and stores a thread that breaks its `POST /threads/search`): always send an object.
        body.metadata.get_or_insert_with(Default::default);
        let call = Call::new("create thread", Method::POST, "/threads".to_string())
            .json_body(&body)?
            .creates();
        let span = tracing::info_span!("acp", operation = "create thread");
        self.json(&call).instrument(span).await
    }

    /// Create an empty thread and return its runs, ready for [`ThreadRuns::create`] or
    /// [`ThreadRuns::wait`].
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateful;
    /// let runs = client.new_thread().await?;
    /// let run = runs.create(RunCreateStateful { agent_id: Some("echo".into()), ..Default::default() }).await?;
    /// println!("run {} on thread {}", run.run_id(), runs.thread_id());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn new_thread(&self) -> Result<ThreadRuns> {
        let thread = self.create_thread(types::ThreadCreate::default()).await?;
        self.thread_runs(thread.thread_id.as_str()).map_err(|_| {
            Error::decode(
                "create thread response",
                "thread_id is not a UUID",
                thread.thread_id.as_bytes(),
            )
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
    pub async fn get_thread(&self, thread_id: impl IntoId) -> Result<types::Thread> {
        let id = thread_id.into_id("thread_id")?;
        let call = Call::new("get thread", Method::GET, format!("/threads/{id}"));
        let span = tracing::info_span!("acp", operation = "get thread", thread_id = %id);
        self.json(&call).instrument(span).await
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
    pub async fn delete_thread(&self, thread_id: impl IntoId) -> Result<()> {
        let id = thread_id.into_id("thread_id")?;
        let call = Call::new("delete thread", Method::DELETE, format!("/threads/{id}"));
        let span = tracing::info_span!("acp", operation = "delete thread", thread_id = %id);
        self.send(&call).instrument(span).await.map(drop)
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
    pub async fn search_threads<B>(&self, request: B) -> Result<Vec<types::Thread>>
    where
        B: TryInto<types::ThreadSearchRequest>,
        B::Error: fmt::Display,
    {
        let request: types::ThreadSearchRequest = request
            .try_into()
            .map_err(|e| Error::invalid("thread search request", e.to_string()))?;
        let call = Call::new(
            "search threads",
            Method::POST,
            "/threads/search".to_string(),
        )
        .json_body(&request)?;
        let span = tracing::info_span!("acp", operation = "search threads");
        self.json(&call).instrument(span).await
    }
}
