//! `acp threads create|get|list|history|delete`.

use crate::args::ThreadsCommand;
use crate::context::{Context, object_arg};
use crate::out::{Failure, to_json};
use acp_client_ext::types;
use serde_json::{Value, json};

pub async fn threads(ctx: &Context<'_>, command: &ThreadsCommand) -> Result<(), Failure> {
    let (client, out) = (&ctx.client, ctx.out);
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
            // No typed call of the library: the operation by its operationId, through the
            // library's transport (credentials, retries, errors). The id is checked first, as
            // every typed call does.
            ctx.thread_scope(thread)?;
            let answer = client
                .send_operation(
                    "get_thread_history",
                    &[("thread_id", thread.as_str())],
                    &[],
                    None,
                )
                .await?;
            let bytes = answer.bytes().await.map_err(|e| {
                Failure::server(format!("get_thread_history: reading the answer: {e}"))
            })?;
            let history: Value = serde_json::from_slice(&bytes).map_err(|e| {
                Failure::server(format!("get_thread_history: the answer is not JSON: {e}"))
            })?;
            if out.json {
                for state in history.as_array().into_iter().flatten() {
                    out.record(state);
                }
            } else {
                out.value(&history);
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
