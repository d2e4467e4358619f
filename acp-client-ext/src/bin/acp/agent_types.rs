//! `acp agent-types FILE|AGENT`: the Rust types of an agent's descriptor.

use crate::context::{Session, document};
use crate::out::Failure;
use acp_client_ext::agent_types::{self, AgentTypesError, Options};
use std::io::Write as _;

pub async fn agent_types(
    session: &Session<'_>,
    target: &str,
    format_types: bool,
    rustfmt: bool,
) -> Result<(), Failure> {
    let (shown, doc) = document(session, target).await?;
    let options = Options::default()
        .format_types(format_types)
        .rustfmt(rustfmt);
    let source = agent_types::generate_with(&doc, &options).map_err(|e| {
        Failure::usage(match e {
            AgentTypesError::NotADescriptor { .. } => format!("{shown}: not a descriptor: {e}"),
            e => format!("{shown}: {e}"),
        })
    })?;
    let mut out = std::io::stdout().lock();
    out.write_all(source.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::new(1, format!("writing to stdout: {e}")))
}
