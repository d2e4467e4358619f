//! Output (text or NDJSON), reading JSON arguments, and the exit status of each failure.

use acp_client_ext::Error;
use serde_json::Value;
use std::io::Write as _;

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

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(USAGE, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match e {
            Error::InvalidInput { .. } | Error::Environment { .. } => USAGE,
            _ => SERVER,
        };
        Failure::new(status, e.to_string())
    }
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
}

fn emit(line: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (`acp ... | head`) is not worth a panic.
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// A JSON argument: inline JSON, or `@FILE`.
pub fn json_arg(what: &str, raw: &str) -> Result<Value, Failure> {
    let text = match raw.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("--{what} {raw}: cannot read: {e}")))?,
        None => raw.to_string(),
    };
    serde_json::from_str(&text).map_err(|e| Failure::usage(format!("--{what}: not JSON: {e}")))
}

/// A JSON object argument.
pub fn object_arg(what: &str, raw: &str) -> Result<Value, Failure> {
    let v = json_arg(what, raw)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(Failure::usage(format!("--{what}: must be a JSON object")))
    }
}

/// Any serializable value as JSON (the client's types all are).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
