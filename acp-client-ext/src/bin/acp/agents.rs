//! `acp agents` (a search) and `acp agent NAME|ID` (the agent and its descriptor).

use crate::context::Context;
use crate::out::{Failure, to_json};
use acp_client_ext::{Error, types};
use serde_json::{Value, json};

/// `acp agents [--name N] [--version V]`.
pub async fn agents(
    ctx: &Context<'_>,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<(), Failure> {
    let request = types::AgentSearchRequest {
        name: name.map(str::to_string),
        version: version.map(str::to_string),
        ..Default::default()
    };
    let unfiltered = name.is_none() && version.is_none();
    let agents = ctx
        .client
        .search_agents_with(request)
        .await
        .map_err(|e| match e {
            // The Agent Workflow Server: 422 "At least one of 'name' or 'version' must be
            // provided".
            Error::Api { status, .. } if unfiltered && status.as_u16() == 422 => {
                Failure::from(e).hint(
                    "this server refuses a search without a filter: pass --name NAME or --version VERSION",
                )
            }
            e => Failure::from(e),
        })?;
    let out = ctx.out;
    for a in &agents {
        out.record(&to_json(a));
        let m = &a.metadata;
        out.text(format!(
            "{}  {} {}  {}",
            a.agent_id, m.ref_.name, m.ref_.version, m.description
        ));
    }
    if agents.is_empty() {
        out.text("no agents");
    }
    Ok(())
}

/// `acp agent NAME|ID`: the agent found by the library, its listing and its descriptor.
pub async fn agent(ctx: &Context<'_>, name_or_id: &str) -> Result<(), Failure> {
    let handle = ctx.agent(name_or_id).await?;
    // The handle knows the descriptor and the agent object it was found by.
    let a: types::Agent =
        serde_json::from_value(handle.listing().clone()).map_err(acp_client_ext::Error::from)?;
    let descriptor = handle.descriptor();
    let out = ctx.out;
    if out.json {
        out.record(&json!({"agent": to_json(&a), "descriptor": descriptor}));
        return Ok(());
    }
    let m = &a.metadata;
    out.text(format!("agent {}", a.agent_id));
    out.text(format!("name: {}", m.ref_.name));
    out.text(format!("version: {}", m.ref_.version));
    out.text(format!("description: {}", m.description));
    let specs = &descriptor["specs"];
    out.text("capabilities:");
    out.value(&specs["capabilities"]);
    for key in [
        "input",
        "output",
        "config",
        "thread_state",
        "custom_streaming_update",
    ] {
        if let Some(schema) = specs.get(key).filter(|v| !v.is_null()) {
            out.text(format!("{key} schema:"));
            out.value(schema);
        }
    }
    if let Some(list) = specs.get("interrupts").and_then(Value::as_array) {
        for i in list {
            out.text(format!(
                "interrupt {}:",
                i["interrupt_type"].as_str().unwrap_or("?")
            ));
            out.value(i);
        }
    }
    Ok(())
}
