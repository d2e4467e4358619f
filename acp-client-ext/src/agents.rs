//! Agents: which ones the server offers, and their ACP descriptors.

use crate::client::{AcpClient, Call};
use crate::error::{Error, Result};
use crate::ids::IntoId;
use acp_client::types;
use reqwest::Method;
use std::fmt;
use tracing::Instrument;

impl AcpClient {
    /// The agents the server offers (`POST /agents/search` with the default request: the first
    /// page as the server sizes it by default). See [`search_agents_with`](Self::search_agents_with)
    /// to filter or paginate.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// for agent in client.search_agents().await? {
    ///     println!("{} {}", agent.agent_id, agent.metadata.ref_.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn search_agents(&self) -> Result<Vec<types::Agent>> {
        self.search_agents_with(types::AgentSearchRequest::default())
            .await
    }

    /// The agents matching `request` (`POST /agents/search`), from a
    /// [`types::AgentSearchRequest`] or its builder.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::AgentSearchRequest;
    /// let echo = client
    ///     .search_agents_with(AgentSearchRequest { name: Some("echo".into()), ..Default::default() })
    ///     .await?;
    /// # let _ = echo;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn search_agents_with<B>(&self, request: B) -> Result<Vec<types::Agent>>
    where
        B: TryInto<types::AgentSearchRequest>,
        B::Error: fmt::Display,
    {
        let request: types::AgentSearchRequest = request
            .try_into()
            .map_err(|e| Error::invalid("agent search request", e.to_string()))?;
        // A search only reads: retried like a GET.
        let call = Call::new("search agents", Method::POST, "/agents/search".to_string())
            .json_body(&request)?;
        let span = tracing::info_span!("acp", operation = "search agents");
        self.json(&call).instrument(span).await
    }

    /// The agent `agent_id` (`GET /agents/{agent_id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let agent = client.get_agent("00000000-0000-4000-8000-00000000ec40").await?;
    /// println!("{}", agent.metadata.ref_.name);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_agent(&self, agent_id: impl IntoId) -> Result<types::Agent> {
        let id = agent_id.into_id("agent_id")?;
        let call = Call::new("get agent", Method::GET, format!("/agents/{id}"));
        let span = tracing::info_span!("acp", operation = "get agent", agent_id = %id);
        self.json(&call).instrument(span).await
    }

    /// The ACP descriptor of the agent `agent_id` (`GET /agents/{agent_id}/descriptor`): its
    /// capabilities and the schemas of its input, output, config and interrupts.
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// let d = client.agent_descriptor("00000000-0000-4000-8000-00000000ec40").await?;
    /// println!("interrupts: {:?}", d.specs.capabilities.interrupts);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn agent_descriptor(
        &self,
        agent_id: impl IntoId,
    ) -> Result<types::AgentAcpDescriptor> {
        let id = agent_id.into_id("agent_id")?;
        let call = Call::new(
            "get agent descriptor",
            Method::GET,
            format!("/agents/{id}/descriptor"),
        );
        let span = tracing::info_span!("acp", operation = "get agent descriptor", agent_id = %id);
        self.json(&call).instrument(span).await
    }
}
