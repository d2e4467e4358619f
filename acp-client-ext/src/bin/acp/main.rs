//! `acp`: the Agent Connect Protocol command-line tool (feature `cli`).
//!
//! For now one subcommand: `acp agent-types <descriptor.json|manifest.json>` prints the Rust
//! types of an agent's descriptor (see `acp_client_ext::agent_types`). Exit status: 0 done,
//! 2 a usage or input error (a missing file, not JSON, not a descriptor, a schema that cannot
//! be converted), 1 anything else (stdout closed).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use acp_client_ext::agent_types::{self, AgentTypesError, Options};
use clap::{Parser, Subcommand};

/// The Agent Connect Protocol command-line tool.
#[derive(Debug, Parser)]
#[command(name = "acp", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the Rust types (Input, Output, Config, ThreadState, interrupt payloads) of an
    /// agent's ACP descriptor.
    ///
    /// Reads an agent descriptor (GET /agents/{id}/descriptor), an agent manifest or a bare
    /// `specs` object, and prints a Rust module for `include!` or a `mod` file; it needs only
    /// the serde (with `derive`) and serde_json crates.
    AgentTypes {
        /// The descriptor or manifest, as JSON (`-` reads stdin).
        file: PathBuf,
        /// Map string formats to chrono and uuid types and check `pattern`s with regress
        /// (the module then needs those crates).
        #[arg(long)]
        format_types: bool,
        /// Do not run rustfmt on the output.
        #[arg(long)]
        no_rustfmt: bool,
    },
}

/// An error and the exit status it earns.
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn input(message: String) -> Failure {
        Failure { status: 2, message }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::AgentTypes {
            file,
            format_types,
            no_rustfmt,
        } => agent_types_command(&file, format_types, !no_rustfmt),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("acp: {}", failure.message);
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
    .map_err(|e| Failure::input(format!("{shown}: cannot read: {e}")))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        // serde_json ends its message with " at line L column C", said here as `file:L:C:`.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or_default();
        Failure::input(format!(
            "{shown}:{}:{}: not JSON: {message}",
            e.line(),
            e.column()
        ))
    })?;
    let options = Options::default()
        .format_types(format_types)
        .rustfmt(rustfmt);
    let source = agent_types::generate_with(&doc, &options).map_err(|e| {
        Failure::input(match e {
            AgentTypesError::NotADescriptor { .. } => format!("{shown}: not a descriptor: {e}"),
            e => format!("{shown}: {e}"),
        })
    })?;
    let mut out = std::io::stdout().lock();
    out.write_all(source.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure {
            status: 1,
            message: format!("writing to stdout: {e}"),
        })
}
