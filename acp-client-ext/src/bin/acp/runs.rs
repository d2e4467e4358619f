//! `acp runs get|join|cancel|rollback|resume|delete`: one existing run.

use crate::args::{CancelKind, RunsCommand};
use crate::context::{Context, object_arg};
use crate::out::Failure;
use acp_client_ext::{CancelAction, RunHandle};
use serde_json::json;

pub async fn runs(ctx: &Context<'_>, command: &RunsCommand) -> Result<(), Failure> {
    let out = ctx.out;
    match command {
        RunsCommand::Get(r) => {
            let info = ctx.run_handle(r)?.get().await?;
            out.value(info.raw());
        }
        RunsCommand::Join { run, last_event_id } => {
            let handle = ctx.run_handle(run)?;
            let events = match last_event_id {
                Some(id) => handle.stream_from(id.as_str()).await?,
                None => handle.stream().await?,
            };
            let last = ctx.print_events(events).await?;
            return ctx.status_exit(&handle, last.status.as_ref()).await;
        }
        RunsCommand::Cancel { run, action } => {
            let action = match action {
                CancelKind::Interrupt => CancelAction::Interrupt,
                CancelKind::Rollback => CancelAction::Rollback,
            };
            let handle = ctx.run_handle(run)?;
            handle.cancel(action, true).await?;
            done(ctx, "cancelled", &handle);
        }
        RunsCommand::Rollback(r) => {
            let handle = ctx.run_handle(r)?;
            handle.rollback().await?;
            done(ctx, "rolled back", &handle);
        }
        RunsCommand::Resume { run, payload } => {
            let handle = ctx.run_handle(run)?;
            let info = handle.resume(object_arg("payload", payload)?).await?;
            out.record(info.raw());
            out.text(format!("run {} resumed: {}", info.run_id, info.status));
        }
        RunsCommand::Delete(r) => {
            let handle = ctx.run_handle(r)?;
            handle.delete().await?;
            done(ctx, "deleted", &handle);
        }
    }
    Ok(())
}

fn done(ctx: &Context<'_>, what: &str, run: &RunHandle) {
    ctx.out
        .record(&json!({"run_id": run.run_id(), "thread_id": run.thread_id(), "done": what}));
    ctx.out.text(format!("run {} {what}", run.run_id()));
}
