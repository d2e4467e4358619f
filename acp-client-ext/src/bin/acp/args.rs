//! The command line: globals, subcommands and their arguments (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// What `--help` says about exit statuses and credentials.
const AFTER_HELP: &str = "\
Credentials come only from the environment or a file, never from the command line, and are never
printed: ACP_API_KEY (sent in the header ACP_API_KEY_HEADER, default x-api-key), ACP_BEARER_TOKEN,
or --api-key-file FILE.

Any ACP operation, by the spec's operationId (`acp op --list` prints the table):
  acp op get_thread thread_id=ID
  acp op search_threads --body '{\"limit\": 5}'
  acp op cancel_thread_run thread_id=ID run_id=ID --query action=interrupt
  acp op stream_stateless_run_output run_id=ID     (events, one a line)

Exit status:
  0  success (the run completed)
  1  the run failed (status error or timeout, or it was cancelled)
  2  usage error (bad arguments, bad JSON, unknown agent, an ACP_* variable that does not parse)
  3  the run is interrupted and waits for an answer (--no-input, or stdin is not a terminal)
  4  the server or the connection failed (an error status, a transport error, a timeout), or
     the client could not be set up (a CA file that does not load)";

/// acp: a command-line client for the Agent Connect Protocol (ACP).
#[derive(Debug, Parser)]
#[command(name = "acp", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// The ACP server's base URL.
    #[arg(long, env = "ACP_URL", global = true)]
    pub url: Option<String>,
    /// Read the API key from this file (instead of ACP_API_KEY).
    #[arg(long, value_name = "FILE", global = true)]
    pub api_key_file: Option<PathBuf>,
    /// Print NDJSON (one JSON object a line) for scripts instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The timeout of each request (e.g. 30s, 2m, 500ms; plain numbers are seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub timeout: Option<Duration>,
    /// Trace what the client does to stderr (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the server's agents.
    Agents {
        /// Only agents with this name.
        #[arg(long)]
        name: Option<String>,
        /// Only agents of this version (some servers, such as the Agent Workflow Server, refuse a
        /// search without a name or a version).
        #[arg(long)]
        version: Option<String>,
    },
    /// Show an agent and its ACP descriptor (capabilities, schemas).
    Agent {
        /// The agent's id or name.
        agent: String,
    },
    /// Start a run and stream its events (or wait for it); answer interrupts at a prompt.
    Run(RunArgs),
    /// Act on an existing run.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Threads: create, get, list, history, delete.
    Threads {
        #[command(subcommand)]
        command: ThreadsCommand,
    },
    /// Try every ACP operation against the server (on a scratch thread and runs) and report
    /// what it does that the spec does not say.
    Check(CheckArgs),
    /// Send any ACP operation by its operationId, from the table of the spec's operations.
    ///
    /// Path parameters are NAME=VALUE pairs named as in the path template (`acp op --list`):
    /// `acp op get_thread_run thread_id=ID run_id=ID`. The answer is printed as JSON (pretty, or
    /// one line with --json); an event stream's events one a line. The request goes through the
    /// library (credentials, retries, redirects, errors and exit statuses as every command).
    Op(OpArgs),
    /// Print the Rust types (Input, Output, Config, ThreadState, interrupt payloads) of an
    /// agent's ACP descriptor.
    ///
    /// Reads an agent descriptor (GET /agents/{id}/descriptor), an agent manifest or a bare
    /// `specs` object, and prints a Rust module for `include!` or a `mod` file; it needs only
    /// the serde (with `derive`) and serde_json crates.
    AgentTypes {
        /// The descriptor, manifest or OASF record, as a JSON file (`-` reads stdin; `acp
        /// --json agent` output is taken too), or the name or id of an agent on the server.
        #[arg(value_name = "FILE|AGENT")]
        target: String,
        /// Map string formats to chrono and uuid types and check `pattern`s with regress
        /// (the module then needs those crates).
        #[arg(long)]
        format_types: bool,
        /// Do not run rustfmt on the output.
        #[arg(long)]
        no_rustfmt: bool,
    },
    /// Check an agent's ACP descriptor: the format's JSON Schema and the SDK's capability rules.
    ///
    /// Reads a descriptor, an agent manifest (acp-sdk's `extensions[...].data.acp` layout or an
    /// OASF record's `modules`), or takes an agent's name or id on the server. Prints each
    /// violation as `PATH: RULE: MESSAGE`. Exit status: 0 valid, 1 invalid, 2 unreadable.
    Validate {
        /// The document (a JSON file, `-` for stdin) or an agent's name or id.
        #[arg(value_name = "FILE|AGENT")]
        target: String,
    },
    /// Print the agent's own OpenAPI 3.1 document, as acp-sdk's `generate-agent-oapi` makes it:
    /// the ACP operations its capabilities allow, with its schemas in place of the free-form
    /// payloads.
    AgentOpenapi {
        /// The document (a JSON file, `-` for stdin) or an agent's name or id.
        #[arg(value_name = "FILE|AGENT")]
        target: String,
    },
    /// Run acp-sdk test-client scenario files (YAML): each operation by its operationId, its
    /// inputs rendered with Jinja over `env` and earlier `results`, its answer compared with
    /// `output_at_least`, `output_exact` or `output_stream` as the SDK compares them.
    ///
    /// One line per operation, the differences of each failure, then `N passed, M failed`.
    /// The server is the file's `client_config.host`, `<env_prefix>HOST` or
    /// `<env_prefix>ENDPOINT`, else --url / ACP_URL. Exit status: 0 when every operation
    /// passed, 1 otherwise, 2 for a file that cannot be read.
    Test {
        /// The scenario files.
        #[arg(required = true, value_name = "SCENARIO.yaml")]
        files: Vec<String>,
        /// Set an environment variable for the templates (NAME=VALUE; repeatable).
        #[arg(long, value_name = "NAME=VALUE")]
        env: Vec<String>,
    },
    /// Print a shell completion script (e.g. `acp completions bash > /etc/bash_completion.d/acp`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The agent's id or name.
    pub agent: String,
    /// The run's input: JSON, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// The agent's configurable values (what its descriptor's config schema describes; sent as
    /// the run's `config.configurable`): a JSON object, or @FILE. Without it (and without
    /// --config-object) a run of an agent that declares a config schema sends `config: {}`.
    #[arg(long, value_name = "JSON|@FILE")]
    pub config: Option<String>,
    /// The run's whole `config` object (`{"configurable": {...}}`): a JSON object, or @FILE.
    #[arg(long, value_name = "JSON|@FILE", conflicts_with = "config")]
    pub config_object: Option<String>,
    /// Run on this thread (default: a stateless run).
    #[arg(long, value_name = "ID", conflicts_with = "new_thread")]
    pub thread: Option<String>,
    /// Run on a new thread.
    #[arg(long)]
    pub new_thread: bool,
    /// Stream the run's events as they arrive (the default).
    #[arg(long, conflicts_with = "wait")]
    pub stream: bool,
    /// Wait for the run's outcome, at most DURATION, instead of streaming (one create-and-wait
    /// request: `POST .../runs/wait`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
    /// End at an interrupt (exit 3) instead of asking for the answer.
    #[arg(long)]
    pub no_input: bool,
}

/// Which run: its id, and its thread for a thread run.
#[derive(Debug, Args)]
pub struct RunRef {
    /// The run's id.
    pub run: String,
    /// The run's thread (without it: a stateless run).
    #[arg(long, value_name = "ID")]
    pub thread: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Show a run.
    Get(RunRef),
    /// Join a run's stream (events from the start, or after --last-event-id).
    Join {
        #[command(flatten)]
        run: RunRef,
        /// Only the events after this one.
        #[arg(long)]
        last_event_id: Option<String>,
    },
    /// Cancel a run (it stays, interrupted).
    Cancel {
        #[command(flatten)]
        run: RunRef,
        /// What the cancel does.
        #[arg(long, value_enum, default_value_t = CancelKind::Interrupt)]
        action: CancelKind,
    },
    /// Cancel a run and roll it back (it is gone afterwards).
    Rollback(RunRef),
    /// Answer an interrupted run.
    Resume {
        #[command(flatten)]
        run: RunRef,
        /// The answer: a JSON object, or @FILE.
        #[arg(long)]
        payload: String,
    },
    /// Delete a run.
    Delete(RunRef),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CancelKind {
    /// The run stops, interrupted.
    Interrupt,
    /// The run stops and is removed.
    Rollback,
}

#[derive(Debug, Subcommand)]
pub enum ThreadsCommand {
    /// Create a thread.
    Create {
        /// The thread's metadata: a JSON object, or @FILE.
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Show a thread.
    Get {
        /// The thread's id.
        thread: String,
    },
    /// List threads.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 10)]
        limit: u64,
    },
    /// Show a thread's state history.
    History {
        /// The thread's id.
        thread: String,
    },
    /// Delete a thread.
    Delete {
        /// The thread's id.
        thread: String,
    },
}

#[derive(Debug, Args)]
pub struct OpArgs {
    /// The operationId (e.g. get_thread); `--list` prints them all.
    #[arg(required_unless_present = "list", value_name = "OPERATION_ID")]
    pub operation: Option<String>,
    /// Path parameters, named as in the path template: thread_id=ID run_id=ID.
    #[arg(value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The request body: JSON, or @FILE (`@-`: stdin).
    #[arg(long, value_name = "JSON|@FILE")]
    pub body: Option<String>,
    /// A query parameter, repeatable: --query action=interrupt --query wait=true.
    #[arg(long, value_name = "KEY=VALUE")]
    pub query: Vec<String>,
    /// Print the table of operations (operationId, method, path) and exit.
    #[arg(long, conflicts_with_all = ["operation", "params", "body", "query"])]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The agent the scratch runs use (id or name; default: the first one listed). One that
    /// streams several events lets the SSE probes say more.
    #[arg(long)]
    pub agent: Option<String>,
    /// The scratch runs' input: JSON, or @FILE.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// The scratch runs' configurable values (sent as `config.configurable`): a JSON object, or
    /// @FILE (default: the defaults of the agent's config schema).
    #[arg(long, value_name = "JSON|@FILE")]
    pub config: Option<String>,
    /// The scratch runs' whole `config` object: a JSON object, or @FILE.
    #[arg(long, value_name = "JSON|@FILE", conflicts_with = "config")]
    pub config_object: Option<String>,
}

/// `30s`, `2m`, `500ms`, `1h`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 30s, 2m, 500ms)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive duration"))
}
