//! Output: text or NDJSON on stdout, traces on stderr, run events and outcomes as printed, and
//! the exit status of every failure (one mapping from the library's errors, [`exit_status`]).
//!
//! A leaf module: it imports nothing of the binary.

use acp_client_ext::{Error, RunEvent, RunStatus, WaitOutcome};
use serde_json::{Value, json};
use std::io::{IsTerminal as _, Write as _};

/// Exit statuses (documented in `--help`).
pub const FAILED_RUN: u8 = 1;
pub const USAGE: u8 = 2;
pub const INTERRUPTED: u8 = 3;
pub const SERVER: u8 = 4;

/// An error and the exit status it earns.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    pub fn new(status: u8, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A problem of the command line (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(USAGE, message)
    }

    /// A problem of the server or the connection (exit 4).
    pub fn server(message: impl Into<String>) -> Failure {
        Failure::new(SERVER, message)
    }

    /// The same failure with `hint` after its message.
    pub fn hint(mut self, hint: impl AsRef<str>) -> Failure {
        self.message = format!("{}; {}", self.message, hint.as_ref());
        self
    }
}

/// The exit status of a library error, by its kind: what the user said wrong (the command
/// line, or the `ACP_*` variables that stand for its flags) is a usage error (2); a run that did
/// not end as asked is a failed run (1); the server, the connection and the client's own
/// set-up (a CA file that does not load, a TLS backend that does not start: not the user's
/// words) are 4. The one place that decides it.
pub fn exit_status(e: &Error) -> u8 {
    match e {
        // Values the library refused before sending: a thread or run id that is not a UUID, a
        // URL that does not parse, an agent name the server does not know, an ACP_* variable
        // that is missing or malformed.
        Error::InvalidInput { .. } | Error::AgentNotFound { .. } | Error::Environment { .. } => {
            USAGE
        }
        // A payload the agent's schemas refuse, checked before sending.
        #[cfg(feature = "validate")]
        Error::Validation(_) => USAGE,
        Error::UnexpectedOutcome { .. } => FAILED_RUN,
        Error::TooManyInterrupts { .. } => INTERRUPTED,
        Error::Api { .. }
        | Error::Transport { .. }
        | Error::Timeout { .. }
        | Error::Redirect { .. }
        | Error::Decode { .. }
        | Error::Stream { .. }
        | Error::Descriptor { .. } => SERVER,
        // The client's set-up, not the command line: not a usage error.
        Error::CaFile { .. } | Error::HttpClient(_) | Error::Generated(_) => SERVER,
        // Variants added later (the library's error is non-exhaustive): a failure of the
        // server or the set-up unless this table says otherwise.
        _ => SERVER,
    }
}

/// What kind of failure an error answer is, said first: a step the server cannot do reads
/// differently from one it refused or one it failed at.
fn kind_of(e: &Error) -> Option<&'static str> {
    let Error::Api { status, .. } = e else {
        return None;
    };
    Some(if e.is_unsupported() {
        // 501, 405, FastAPI's bare 404 for a route it lacks, the Agent Workflow Server's
        // 500 {"detail": "Not implemented"} stubs.
        "not implemented by the server"
    } else if status.is_server_error() {
        "server error"
    } else {
        "refused"
    })
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let message = match kind_of(&e) {
            Some(kind) => format!("{kind}: {e}"),
            None => e.to_string(),
        };
        Failure::new(exit_status(&e), message)
    }
}

/// `-v` traces to stderr; ANSI colours only when stderr is a terminal and `NO_COLOR` is unset
/// or empty (<https://no-color.org>).
pub fn init_tracing(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = if verbose > 1 { "trace" } else { "debug" };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "acp_client_ext={level},acp={level}"
        )))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .init();
}

/// Where results go: text for people, or one JSON object a line.
pub struct Out {
    pub json: bool,
}

impl Out {
    /// A line of text (text mode only).
    pub fn text(&self, line: impl AsRef<str>) {
        if !self.json {
            emit(line.as_ref());
        }
    }

    /// A JSON record (JSON mode only).
    pub fn record(&self, v: &Value) {
        if self.json {
            emit(&v.to_string());
        }
    }

    /// Pretty JSON (text mode only).
    pub fn pretty(&self, v: &Value) {
        if !self.json {
            emit(&serde_json::to_string_pretty(v).unwrap_or_default());
        }
    }

    /// A value: pretty JSON in text mode, one line in JSON mode.
    pub fn value(&self, v: &Value) {
        if self.json {
            emit(&v.to_string());
        } else {
            emit(&serde_json::to_string_pretty(v).unwrap_or_default());
        }
    }

    /// One event of a run stream: `KIND [STATUS] DATA`, or `{"event","id","status","data"}`.
    pub fn event(&self, event: &RunEvent, id: Option<&str>) {
        let status = event.status().map(|s| s.to_string());
        let (kind, data) = match event {
            RunEvent::Values(u) => ("values", to_json(&u.values)),
            RunEvent::Custom(u) => ("custom", to_json(&u.update)),
            RunEvent::Other(raw) => (
                raw.payload_type().unwrap_or("event"),
                raw.json::<Value>()
                    .unwrap_or_else(|_| Value::String(raw.data_str().to_string())),
            ),
            RunEvent::Interrupt(u) => ("interrupt", to_json(&u.interrupt)),
            RunEvent::Error(u) => (
                "error",
                json!({"errcode": u.errcode, "description": u.description}),
            ),
            _ => ("event", Value::Null),
        };
        self.record(&json!({"event": kind, "id": id, "status": status, "data": data}));
        let status = status.map(|s| format!(" [{s}]")).unwrap_or_default();
        self.text(format!("{kind}{status} {data}"));
    }

    /// A run's status as its last word (`runs join`), and the exit it earns.
    pub fn status(&self, run_id: uuid::Uuid, status: &RunStatus) -> Result<(), Failure> {
        self.record(&json!({"run_id": run_id, "status": status.as_str()}));
        self.text(format!("run {run_id} {status}"));
        exit_for(status)
    }

    /// The outcome of a run that is not waiting for an answer, and the exit it earns.
    pub fn outcome(&self, outcome: &WaitOutcome) -> Result<(), Failure> {
        let run = outcome.run();
        let mut record = json!({
            "run_id": run.run_id,
            "thread_id": run.thread_id,
            "status": outcome.status().to_string(),
        });
        let result = match outcome {
            WaitOutcome::Completed { values, .. } => {
                record["outcome"] = json!("completed");
                record["values"] = to_json(values);
                self.text(format!("run {} completed", run.run_id));
                self.pretty(&to_json(values));
                Ok(())
            }
            WaitOutcome::Failed { error, .. } => {
                record["outcome"] = json!("failed");
                record["error"] = to_json(error);
                self.text(format!(
                    "run {} failed ({}): {}",
                    run.run_id, error.errcode, error.description
                ));
                Err(Failure::new(FAILED_RUN, ""))
            }
            WaitOutcome::Interrupted { payload, .. } => {
                record["outcome"] = json!("interrupted");
                record["payload"] = payload.clone();
                self.text(format!("run {} is interrupted and asks:", run.run_id));
                self.pretty(payload);
                let thread = run
                    .thread_id
                    .map(|t| format!(" --thread {t}"))
                    .unwrap_or_default();
                self.text(format!(
                    "answer with: acp runs resume {}{thread} --payload '{{...}}'",
                    run.run_id
                ));
                Err(Failure::new(INTERRUPTED, ""))
            }
            _ => {
                record["outcome"] = json!("ended");
                self.text(format!("run {} ended: {}", run.run_id, outcome.status()));
                exit_for(outcome.status())
            }
        };
        self.record(&record);
        result
    }
}

/// The exit a run's status earns.
fn exit_for(status: &RunStatus) -> Result<(), Failure> {
    match status {
        RunStatus::Success | RunStatus::Pending => Ok(()),
        RunStatus::Interrupted => Err(Failure::new(INTERRUPTED, "")),
        _ => Err(Failure::new(FAILED_RUN, "")),
    }
}

fn emit(line: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (`acp ... | head`) is not worth a panic.
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// Any serializable value as JSON (the client's types all are).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
