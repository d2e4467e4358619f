//! `acp agent-openapi FILE|AGENT`: the agent's own OpenAPI document (the library's
//! `acp_client_ext::descriptor::agent_openapi`).

use crate::context::{Session, document};
use crate::out::Failure;
use acp_client_ext::descriptor;

pub async fn agent_openapi(session: &Session<'_>, target: &str) -> Result<(), Failure> {
    let (shown, doc) = document(session, target).await?;
    match descriptor::agent_openapi(&doc) {
        Ok(api) => {
            session.out.value(&api);
            Ok(())
        }
        Err(violations) => {
            for v in &violations {
                eprintln!("{shown}: {v}");
            }
            Err(Failure::new(
                1,
                format!("{shown}: not a valid descriptor: no OpenAPI document made"),
            ))
        }
    }
}
