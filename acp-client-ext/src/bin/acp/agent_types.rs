//! `acp agent-types DESCRIPTOR`: the Rust types of an agent's descriptor (no server needed).

use crate::context::parse_json;
use crate::out::Failure;
use acp_client_ext::agent_types::{self, AgentTypesError, Options};
use std::io::Write as _;
use std::path::Path;

pub fn agent_types(file: &Path, format_types: bool, rustfmt: bool) -> Result<(), Failure> {
    let shown = file.display().to_string();
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| Failure::usage(format!("{shown}: cannot read: {e}")))?;
    let doc = parse_json(&shown, &text, true)?;
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
