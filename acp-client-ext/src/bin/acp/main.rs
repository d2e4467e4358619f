//! `acp`: the Agent Connect Protocol command-line tool (feature `cli`).
//!
//! Subcommands: `agents`, `agent`, `run`, `runs`, `threads`, `op`, `check`, `agent-types`,
//! `completions`; `acp --help` lists them with the exit statuses. The library does the work:
//! every subcommand is a few calls of `acp_client_ext` and printing.

#![forbid(unsafe_code)]
// Nothing a user or a server sends may panic the tool.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod args;
mod check;
mod commands;
mod op;
mod out;
mod run;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use acp_client_ext::agent_types::{self, AgentTypesError, Options};
use args::{Cli, Command};
use clap::{CommandFactory, Parser};
pub use out::{Failure, Out};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose > 0 {
        let level = if cli.verbose > 1 { "trace" } else { "debug" };
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
                "acp_client_ext={level},acp={level}"
            )))
            .with_writer(std::io::stderr)
            .init();
    }
    let out = Out { json: cli.json };
    let result = match cli.command {
        Command::AgentTypes {
            ref file,
            format_types,
            no_rustfmt,
        } => agent_types_command(file, format_types, !no_rustfmt),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "acp", &mut std::io::stdout());
            Ok(())
        }
        _ => match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(commands::dispatch(&cli, &out)),
            Err(e) => Err(Failure::new(4, format!("starting the runtime: {e}"))),
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

fn agent_types_command(file: &Path, format_types: bool, rustfmt: bool) -> Result<(), Failure> {
    let shown = file.display();
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| Failure::usage(format!("{shown}: cannot read: {e}")))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        // serde_json ends its message with " at line L column C", said here as `file:L:C:`.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or_default();
        Failure::usage(format!(
            "{shown}:{}:{}: not JSON: {message}",
            e.line(),
            e.column()
        ))
    })?;
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
