//! What the commands share: the client the globals and the environment describe, the agent a
//! name or id names, the run a [`RunRef`] names, JSON arguments, and printing a run's events.
//!
//! Commands import this module and [`crate::out`], never each other; this module imports only
//! [`crate::args`] and [`crate::out`].

use crate::args::{Cli, RunRef};
use crate::out::{Failure, Out};
use acp_client_ext::{
    AcpClient, Agent, ClientBuilder, Error, RunHandle, RunScope, RunStatus, RunStream,
};
use futures::TryStreamExt as _;
use serde_json::Value;

/// The command line before a client exists (`acp op` checks its arguments first; `--list`
/// needs no server).
pub struct Session<'a> {
    cli: &'a Cli,
    /// Whether `--url` was on the command line (rather than from `ACP_URL`).
    url_on_command_line: bool,
    pub out: Out,
}

/// A command's world: the client and where output goes.
pub struct Context<'a> {
    pub client: AcpClient,
    pub out: &'a Out,
}

impl<'a> Session<'a> {
    pub fn new(cli: &'a Cli, url_on_command_line: bool) -> Session<'a> {
        Session {
            cli,
            url_on_command_line,
            out: Out { json: cli.json },
        }
    }

    /// `--url` (or `ACP_URL`), if given.
    pub fn url(&self) -> Option<&str> {
        self.cli.url.as_deref()
    }

    /// The client the globals describe. Everything but `--url`, `--api-key-file` and
    /// `--timeout` comes from the library's reading of the environment
    /// ([`ClientBuilder::from_env`]: `ACP_URL`, `ACP_API_KEY`, `ACP_API_KEY_HEADER`,
    /// `ACP_BEARER_TOKEN`, the timeouts, `ACP_MAX_RETRIES`, `ACP_CA_FILE`); credentials never
    /// come from an argument and are never printed.
    pub fn connect(&self) -> Result<Context<'_>, Failure> {
        let cli = self.cli;
        let mut b = match &cli.url {
            None => return Err(Failure::usage("no server: pass --url URL or set ACP_URL")),
            // The URL typed on the command line, the rest of `ACP_*` as the library reads it.
            Some(url) if self.url_on_command_line => {
                AcpClient::builder(url).apply_env_prefix("ACP_")?
            }
            Some(_) => ClientBuilder::from_env()?,
        };
        if let Some(path) = &cli.api_key_file {
            let key = std::fs::read_to_string(path).map_err(|e| {
                Failure::usage(format!(
                    "--api-key-file {}: cannot read: {e}",
                    path.display()
                ))
            })?;
            b = b.api_key(key.trim().to_string());
        }
        if let Some(t) = cli.timeout {
            b = b.request_timeout(t);
        }
        Ok(Context {
            client: b.build()?,
            out: &self.out,
        })
    }
}

/// What a stream left behind.
pub struct Last {
    pub status: Option<RunStatus>,
    pub run_id: Option<uuid::Uuid>,
    pub last_event_id: Option<String>,
}

impl Context<'_> {
    /// The agent `name_or_id` names, found by the library ([`AcpClient::agent`]).
    pub async fn agent(&self, name_or_id: &str) -> Result<Agent, Failure> {
        self.client.agent(name_or_id).await.map_err(|e| match e {
            Error::AgentNotFound { .. } => Failure::from(e).hint("acp agents lists them"),
            e => Failure::from(e),
        })
    }

    /// The scope `--thread ID` names.
    pub fn thread_scope(&self, thread: &str) -> Result<RunScope, Failure> {
        Ok(self.client.thread_runs(thread)?.scope())
    }

    /// The run a [`RunRef`] names.
    pub fn run_handle(&self, r: &RunRef) -> Result<RunHandle, Failure> {
        let scope = match &r.thread {
            Some(t) => self.thread_scope(t)?,
            None => RunScope::Stateless,
        };
        Ok(self.client.run(scope, r.run.as_str())?)
    }

    /// Print every event of `events` as it arrives.
    pub async fn print_events(&self, mut events: RunStream) -> Result<Last, Failure> {
        while let Some(event) = events.try_next().await? {
            self.out.event(&event, events.last_event_id());
        }
        Ok(Last {
            status: events.last_status().cloned(),
            run_id: events.run_id(),
            last_event_id: events.last_event_id().map(str::to_string),
        })
    }

    /// A joined stream's ending: the status it ended on when settled, else the run's own.
    pub async fn status_exit(
        &self,
        run: &RunHandle,
        status: Option<&RunStatus>,
    ) -> Result<(), Failure> {
        let status = match status.filter(|s| s.is_settled()) {
            Some(s) => s.clone(),
            None => run.get().await?.status,
        };
        self.out.status(run.run_id(), &status)
    }
}

/// A run's configuration as the command line gives it.
pub enum RunConfig {
    /// Neither `--config` nor `--config-object`.
    None,
    /// `--config`: the agent's configurable values (sent as `config.configurable`).
    Configurable(Value),
    /// `--config-object`: the whole `config` object (`configurable`, `tags`, `recursion_limit`).
    Object(Value),
}

impl RunConfig {
    /// From `--config` and `--config-object` (clap keeps them apart).
    pub fn from_args(config: Option<&str>, object: Option<&str>) -> Result<RunConfig, Failure> {
        Ok(match (config, object) {
            (Some(c), _) => RunConfig::Configurable(object_arg("config", c)?),
            (None, Some(o)) => RunConfig::Object(object_arg("config-object", o)?),
            (None, None) => RunConfig::None,
        })
    }
}

/// A JSON argument `--FLAG`: inline JSON, `@FILE`, or `@-` (stdin).
pub fn json_arg(flag: &str, raw: &str) -> Result<Value, Failure> {
    let (shown, text, from_file) = match raw.strip_prefix('@') {
        Some("-") => (
            format!("--{flag} @-"),
            std::io::read_to_string(std::io::stdin())
                .map_err(|e| Failure::usage(format!("--{flag} @-: cannot read stdin: {e}")))?,
            true,
        ),
        Some(path) => (
            format!("--{flag} {raw}"),
            std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--{flag} {raw}: cannot read: {e}")))?,
            true,
        ),
        None => (format!("--{flag}"), raw.to_string(), false),
    };
    parse_json(&shown, &text, from_file)
}

/// A JSON object argument `--FLAG`.
pub fn object_arg(flag: &str, raw: &str) -> Result<Value, Failure> {
    let v = json_arg(flag, raw)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(Failure::usage(format!("--{flag}: must be a JSON object")))
    }
}

/// The document `target` names, for the commands that read descriptors: a file (`-` is stdin)
/// when one exists there, else an agent's name or id on the server (its descriptor, through
/// the library's [`AcpClient::agent`]). `acp --json agent` output (`{"agent", "descriptor"}`)
/// is taken as its descriptor. Returns how to name it in messages, and the document.
pub async fn document(session: &Session<'_>, target: &str) -> Result<(String, Value), Failure> {
    let path = std::path::Path::new(target);
    let doc = if target == "-" || path.exists() {
        let text = if target == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(path)
        }
        .map_err(|e| Failure::usage(format!("{target}: cannot read: {e}")))?;
        parse_json(target, &text, true)?
    } else if target.contains(['/', '\\']) || target.ends_with(".json") {
        return Err(Failure::usage(format!(
            "{target}: cannot read: no such file"
        )));
    } else {
        let ctx = session.connect().map_err(|f| {
            Failure::usage(format!(
                "{target}: no such file, and no server to find an agent of that name on ({})",
                f.message
            ))
        })?;
        ctx.agent(target).await?.descriptor().clone()
    };
    let doc = match doc {
        Value::Object(mut o)
            if o.contains_key("agent") && o.get("descriptor").is_some_and(Value::is_object) =>
        {
            o.remove("descriptor").unwrap_or_default()
        }
        doc => doc,
    };
    Ok((target.to_string(), doc))
}

/// `text` as JSON; an error names `shown` and where: `SHOWN:LINE:COLUMN: not JSON: ...` for a
/// file or a text of several lines, `SHOWN: not JSON: ... (column C)` for one line.
pub fn parse_json(shown: &str, text: &str, from_file: bool) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json ends its message with " at line L column C", said here as `:L:C:`.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or_default();
        Failure::usage(if from_file || text.contains('\n') {
            format!("{shown}:{}:{}: not JSON: {message}", e.line(), e.column())
        } else {
            format!("{shown}: not JSON: {message} (column {})", e.column())
        })
    })
}
