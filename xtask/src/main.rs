//! Developer workflows of the acp-rs workspace: `cargo xtask <command>`.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod apidiff;
mod bench;
mod bump;
mod codegen;
mod deps;
mod fetch;
mod normalize;
mod postprocess;
mod spec;
mod suites;
mod surface;
mod sweep;
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
    /// Move the pin to a new spec document, regenerate the client and print the API diff
    /// (Markdown, on stdout). Nothing is written unless the document parses and generates.
    Bump {
        /// Read the new document from this file (it is also copied into the cache openapi/).
        #[arg(long, required_unless_present = "commit")]
        spec: Option<PathBuf>,
        /// The document's expected info.version (needed to download with --commit).
        #[arg(long, requires = "commit")]
        version: Option<String>,
        /// The agntcy/acp-spec commit of the document: downloaded from there unless --spec is
        /// given, and recorded in the pin's url (optional with --spec for a known release).
        #[arg(long)]
        commit: Option<String>,
    },
    /// Generate a trial crate from every known ACP release in $ACP_SPEC_DIR and decode sample
    /// payloads of each with `cargo test` (builds into target/sweep).
    Sweep,
    /// Print the module graphs of acp-client-ext's library and of its `acp` binary (every path
    /// from one module file to another) and every cycle in them; fails when there is a cycle.
    Deps {
        /// Print the cycles but exit 0.
        #[arg(long)]
        allow_cycles: bool,
    },
    /// Run every test of the workspace: `cargo test --workspace`, then each feature-gated suite
    /// with its features (what `cargo test --workspace` skips).
    Test {
        /// Print each `cargo test` command and what it runs; run nothing.
        #[arg(long)]
        list: bool,
    },
    /// Download the pinned spec into openapi/ (the local cache) and verify its sha256.
    FetchSpec {
        /// Fetch from this URL instead of the pin's (a mirror); the pinned hash still applies.
        #[arg(long)]
        url: Option<String>,
    },
    /// Whole-process benchmarks against the release reference server (acp-client-ext vs bare
    /// reqwest and the Python SDKs, overhead, memory, codegen and build times) and the criterion
    /// benches of acp-client-ext, in one run, written to docs/BENCHMARKS.md.
    BenchCompare {
        /// Tiny sizes, to check that every bench still runs (CI); writes target/bench-quick.md.
        #[arg(long)]
        quick: bool,
        /// Skip the Python peers (they need a virtualenv from PyPI under target/bench-venv).
        #[arg(long)]
        no_python: bool,
        /// Skip the clean debug build timing of acp-client.
        #[arg(long)]
        no_build_time: bool,
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
        Cmd::Bump {
            spec,
            version,
            commit,
        } => {
            let bumped = bump::run(
                &root,
                &bump::Options {
                    spec,
                    version,
                    commit,
                },
            )?;
            eprintln!(
                "bumped {} from ACP {} to {} and wrote {}: {} breaking, {} additive change(s)\n\
                 next: fix acp-client-ext if needed, `cargo test --workspace`, then commit {0} and {3} together",
                spec::PIN_PATH,
                bumped.previous.as_deref().unwrap_or("(no pin)"),
                bumped.pin.version,
                codegen::GENERATED_PATH,
                bumped.diff.breaking(),
                bumped.diff.additive(),
            );
            print!("{}", bumped.markdown);
            Ok(())
        }
        Cmd::Sweep => sweep::run(
            &root,
            std::env::var_os("ACP_SPEC_DIR")
                .map(PathBuf::from)
                .as_deref(),
        ),
        Cmd::BenchCompare {
            quick,
            no_python,
            no_build_time,
        } => bench::run(
            &root,
            &bench::Options {
                quick,
                no_python,
                no_build_time,
                spec_dir: std::env::var_os("ACP_SPEC_DIR").map(PathBuf::from),
            },
        ),
        Cmd::Deps { allow_cycles } => deps::run(&root, allow_cycles),
        Cmd::Test { list } => suites::run(&root, list),
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
