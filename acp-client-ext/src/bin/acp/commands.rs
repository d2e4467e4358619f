//! The client from the globals, and the subcommands that are one or two library calls.

use crate::args::{CancelKind, Cli, Command, RunRef, RunsCommand, ThreadsCommand};
use crate::out::{Failure, Out, SERVER, USAGE, json_arg, object_arg, to_json};
use acp_client_ext::{AcpClient, CancelAction, RunHandle, RunScope, types};
use serde_json::{Value, json};

/// The client the globals describe. Credentials: `ACP_API_KEY` (in `ACP_API_KEY_HEADER`),
/// `ACP_BEARER_TOKEN`, or `--api-key-file`; never from an argument, never printed.
pub fn client(cli: &Cli) -> Result<AcpClient, Failure> {
    let url = cli
        .url
        .as_deref()
        .ok_or_else(|| Failure::usage("no server: pass --url URL or set ACP_URL"))?;
    let mut b = AcpClient::builder(url);
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let Some(h) = env("ACP_API_KEY_HEADER") {
        b = b.api_key_header(h);
    }
    if let Some(path) = &cli.api_key_file {
        let key = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "--api-key-file {}: cannot read: {e}",
                path.display()
            ))
        })?;
        b = b.api_key(key.trim().to_string());
    } else if let Some(key) = env("ACP_API_KEY") {
        b = b.api_key(key);
    }
    if let Some(token) = env("ACP_BEARER_TOKEN") {
        b = b.bearer_token(token);
    }
    if let Some(t) = cli.timeout {
        b = b.request_timeout(t);
    }
    Ok(b.build()?)
}

pub async fn dispatch(cli: &Cli, out: &Out) -> Result<(), Failure> {
    // `acp op` checks its arguments before it needs a server (`--list` needs none).
    if let Command::Op(args) = &cli.command {
        return crate::op::op(cli, out, args).await;
    }
    let client = client(cli)?;
    match &cli.command {
        Command::Agents { name } => agents(&client, out, name.as_deref()).await,
        Command::Agent { agent } => show_agent(&client, out, agent).await,
        Command::Run(args) => crate::run::run(&client, out, args).await,
        Command::Runs { command } => runs(&client, out, command).await,
        Command::Threads { command } => threads(&client, out, command).await,
        Command::Check(args) => crate::check::check(&client, out, args).await,
        Command::Op(_) | Command::AgentTypes { .. } | Command::Completions { .. } => Ok(()),
    }
}

async fn agents(client: &AcpClient, out: &Out, name: Option<&str>) -> Result<(), Failure> {
    let request = types::AgentSearchRequest {
        name: name.map(str::to_string),
        ..Default::default()
    };
    let agents = client.search_agents_with(request).await?;
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

/// The agent `agent` names: an id as is (checked with `GET /agents/{id}`), a name through
/// `POST /agents/search`.
pub async fn resolve_agent(client: &AcpClient, agent: &str) -> Result<types::Agent, Failure> {
    if uuid::Uuid::parse_str(agent).is_ok() {
        return Ok(client.get_agent(agent).await?);
    }
    let request = types::AgentSearchRequest {
        name: Some(agent.to_string()),
        ..Default::default()
    };
    let found = client.search_agents_with(request).await?;
    found
        .into_iter()
        .find(|a| a.metadata.ref_.name == agent)
        .ok_or_else(|| Failure::usage(format!("no agent named {agent:?} (acp agents lists them)")))
}

async fn show_agent(client: &AcpClient, out: &Out, agent: &str) -> Result<(), Failure> {
    let a = resolve_agent(client, agent).await?;
    let descriptor = client.agent_descriptor(a.agent_id.to_string()).await?;
    if out.json {
        out.record(&json!({"agent": to_json(&a), "descriptor": to_json(&descriptor)}));
        return Ok(());
    }
    let m = &a.metadata;
    out.text(format!("agent {}", a.agent_id));
    out.text(format!("name: {}", m.ref_.name));
    out.text(format!("version: {}", m.ref_.version));
    out.text(format!("description: {}", m.description));
    let specs = to_json(&descriptor.specs);
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

/// The run a [`RunRef`] names.
pub fn run_handle(client: &AcpClient, r: &RunRef) -> Result<RunHandle, Failure> {
    let scope = match &r.thread {
        Some(t) => RunScope::Thread(
            uuid::Uuid::parse_str(t)
                .map_err(|_| Failure::usage(format!("--thread {t:?} is not a UUID")))?,
        ),
        None => RunScope::Stateless,
    };
    Ok(client.run(scope, r.run.as_str())?)
}

async fn runs(client: &AcpClient, out: &Out, command: &RunsCommand) -> Result<(), Failure> {
    match command {
        RunsCommand::Get(r) => {
            let info = run_handle(client, r)?.get().await?;
            out.value(&info.raw);
        }
        RunsCommand::Join { run, last_event_id } => {
            let handle = run_handle(client, run)?;
            let events = match last_event_id {
                Some(id) => handle.stream_from(id.as_str()).await?,
                None => handle.stream().await?,
            };
            let last = crate::run::print_events(out, events).await?;
            return crate::run::status_exit(out, &handle, last.status.as_ref()).await;
        }
        RunsCommand::Cancel { run, action } => {
            let action = match action {
                CancelKind::Interrupt => CancelAction::Interrupt,
                CancelKind::Rollback => CancelAction::Rollback,
            };
            let handle = run_handle(client, run)?;
            handle.cancel(action, true).await?;
            done(out, "cancelled", &handle);
        }
        RunsCommand::Rollback(r) => {
            let handle = run_handle(client, r)?;
            handle.rollback().await?;
            done(out, "rolled back", &handle);
        }
        RunsCommand::Resume { run, payload } => {
            let handle = run_handle(client, run)?;
            let info = handle.resume(object_arg("payload", payload)?).await?;
            out.record(&info.raw);
            out.text(format!("run {} resumed: {}", info.run_id, info.status));
        }
        RunsCommand::Delete(r) => {
            let handle = run_handle(client, r)?;
            handle.delete().await?;
            done(out, "deleted", &handle);
        }
    }
    Ok(())
}

fn done(out: &Out, what: &str, run: &RunHandle) {
    out.record(&json!({"run_id": run.run_id(), "thread_id": run.thread_id(), "done": what}));
    out.text(format!("run {} {what}", run.run_id()));
}

async fn threads(client: &AcpClient, out: &Out, command: &ThreadsCommand) -> Result<(), Failure> {
    match command {
        ThreadsCommand::Create { metadata } => {
            let mut body = json!({});
            if let Some(m) = metadata {
                body["metadata"] = object_arg("metadata", m)?;
            }
            let create: types::ThreadCreate = serde_json::from_value(body)
                .map_err(|e| Failure::usage(format!("--metadata: {e}")))?;
            let thread = client.create_thread(create).await?;
            out.record(&to_json(&thread));
            out.text(format!("thread {}", thread.thread_id));
        }
        ThreadsCommand::Get { thread } => {
            out.value(&to_json(&client.get_thread(thread.as_str()).await?));
        }
        ThreadsCommand::List { limit } => {
            let search: types::ThreadSearchRequest =
                serde_json::from_value(json!({ "limit": limit }))
                    .map_err(|e| Failure::usage(format!("--limit: {e}")))?;
            let threads = client.search_threads(search).await?;
            for t in &threads {
                out.record(&to_json(t));
                out.text(format!("{}  {}", t.thread_id, to_json(&t.status)));
            }
            if threads.is_empty() {
                out.text("no threads");
            }
        }
        ThreadsCommand::History { thread } => {
            use acp_client::prelude::*;
            let id = uuid::Uuid::parse_str(thread)
                .map_err(|_| Failure::new(USAGE, format!("{thread:?} is not a UUID")))?;
            let history = client
                .generated()
                .get_thread_history()
                .thread_id(id)
                .send()
                .await
                .map_err(|e| Failure::new(SERVER, acp_client_ext::Error::from(e).to_string()))?;
            for state in history.iter() {
                out.record(&to_json(state));
            }
            if !out.json {
                out.value(&to_json(&history.into_inner()));
            }
        }
        ThreadsCommand::Delete { thread } => {
            client.delete_thread(thread.as_str()).await?;
            out.record(&json!({"thread_id": thread, "done": "deleted"}));
            out.text(format!("thread {thread} deleted"));
        }
    }
    Ok(())
}

/// `--input`/`--config` as given, checked to be JSON objects.
pub fn body_parts(input: &str, config: Option<&str>) -> Result<(Value, Option<Value>), Failure> {
    let input = object_arg("input", input)?;
    let config = config.map(|c| json_arg("config", c)).transpose()?;
    Ok((input, config))
}
