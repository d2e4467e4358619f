//! Agents: which ones the server offers, and their ACP descriptors.

use crate::client::AcpClient;
use crate::error::Error;
use crate::ids::IntoId;
use crate::ops;
use crate::options::Call;
use crate::transport::Req;
use acp_client::types;
use std::fmt;

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
    pub fn search_agents(&self) -> Call<Vec<types::Agent>> {
        self.search_agents_with(types::AgentSearchRequest::default())
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
    pub fn search_agents_with<B>(&self, request: B) -> Call<Vec<types::Agent>>
    where
        B: TryInto<types::AgentSearchRequest>,
        B::Error: fmt::Display,
    {
        let req = request
            .try_into()
            .map_err(|e| Error::invalid("agent search request", e.to_string()))
            .and_then(|r: types::AgentSearchRequest| {
                // A search only reads: retried like a GET.
                Req::new(&ops::SEARCH_AGENTS, &[]).json_body(&r)
            });
        self.json_call(req)
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
    pub fn get_agent(&self, agent_id: impl IntoId) -> Call<types::Agent> {
        self.by_agent_id(&ops::GET_AGENT, agent_id)
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
    pub fn agent_descriptor(&self, agent_id: impl IntoId) -> Call<types::AgentAcpDescriptor> {
        self.by_agent_id(&ops::GET_AGENT_DESCRIPTOR, agent_id)
    }

    /// `GET` an operation whose one parameter is the agent id.
    fn by_agent_id<T>(&self, op: &'static ops::Op, agent_id: impl IntoId) -> Call<T>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        self.json_call(agent_id.into_id("agent_id").map(|id| Req::new(op, &[&id])))
    }
}
