//! Developer workflows of the acp-rs workspace: `cargo xtask <command>`.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod codegen;
mod fetch;
mod normalize;
mod spec;
#[cfg(test)]
mod tests;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Developer workflows of the acp-rs workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Regenerate acp-client/src/generated.rs from the pinned ACP spec.
    Codegen {
        /// Compare with the committed file and fail if it is stale; writes nothing.
        #[arg(long)]
        check: bool,
        /// Read this spec document instead of looking for the pinned one.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Write a stand-alone trial crate into DIR instead (needs --spec; the pin is untouched).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// List every normalization rule that fired.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Download the pinned spec into openapi/ (the local cache) and verify its sha256.
    FetchSpec {
        /// Fetch from this URL instead of the pin's (a mirror); the pinned hash still applies.
        #[arg(long)]
        url: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = workspace_root();
    match cli.command {
        Cmd::Codegen {
            check,
            spec,
            out,
            verbose,
        } => codegen::run(
            &root,
            &codegen::Options {
                check,
                spec,
                out,
                verbose,
                spec_dir: std::env::var_os("ACP_SPEC_DIR").map(PathBuf::from),
            },
        ),
        Cmd::FetchSpec { url } => {
            let dest = fetch::run(&root, url.as_deref())?;
            eprintln!("wrote {}", dest.display());
            Ok(())
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
