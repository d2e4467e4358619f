//! `acp`: the Agent Connect Protocol command-line tool (feature `cli`).
//!
//! Subcommands: `agents`, `agent`, `run`, `runs`, `threads`, `op`, `check`, `agent-types`,
//! `validate`, `agent-openapi`, `test`, `completions`; `acp --help` lists them with the exit statuses. The library does the work:
//! every subcommand is a few calls of `acp_client_ext` and printing.
//!
//! Layout: this file parses and dispatches; [`args`] is the command line, [`out`] the output
//! and the exit statuses, [`context`] what commands share (the client, agent and run lookup,
//! JSON arguments); each command is a module of its own that imports `context` and `out` and
//! no other command.

#![forbid(unsafe_code)]
// Nothing a user or a server sends may panic the tool.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agent_openapi;
mod agent_types;
mod agents;
mod args;
mod check;
mod context;
mod op;
mod out;
mod run;
mod runs;
mod scenario;
mod threads;
mod validate;

use args::{Cli, Command};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use context::Session;
use out::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    out::init_tracing(cli.verbose);
    let url_on_command_line = matches.value_source("url") == Some(ValueSource::CommandLine);
    let session = Session::new(&cli, url_on_command_line);
    let result = match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "acp", &mut std::io::stdout());
            Ok(())
        }
        command => match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(dispatch(&session, command)),
            Err(e) => Err(Failure::server(format!("starting the runtime: {e}"))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("acp: {}", failure.message);
            }
            ExitCode::from(failure.status)
        }
    }
}

/// The commands that talk to a server.
async fn dispatch(session: &Session<'_>, command: &Command) -> Result<(), Failure> {
    // `acp op` checks its arguments before it needs a server (`--list` needs none).
    // These need a server only for an agent named rather than a file.
    match command {
        Command::Op(args) => return op::op(session, args).await,
        Command::AgentTypes {
            target,
            format_types,
            no_rustfmt,
        } => return agent_types::agent_types(session, target, *format_types, !no_rustfmt).await,
        Command::Validate { target } => return validate::validate(session, target).await,
        Command::Test { files, env } => return scenario::test(session, files, env).await,
        Command::AgentOpenapi { target } => {
            return agent_openapi::agent_openapi(session, target).await;
        }
        _ => {}
    }
    let ctx = session.connect()?;
    match command {
        Command::Agents { name, version } => {
            agents::agents(&ctx, name.as_deref(), version.as_deref()).await
        }
        Command::Agent { agent } => agents::agent(&ctx, agent).await,
        Command::Run(args) => run::run(&ctx, args).await,
        Command::Runs { command } => runs::runs(&ctx, command).await,
        Command::Threads { command } => threads::threads(&ctx, command).await,
        Command::Check(args) => check::check(&ctx, args).await,
        Command::Op(_)
        | Command::AgentTypes { .. }
        | Command::Validate { .. }
        | Command::AgentOpenapi { .. }
        | Command::Test { .. }
        | Command::Completions { .. } => Ok(()),
    }
}
