//! What every example shares besides its client: "embedded reference server, or `ACP_URL`",
//! the agent and input a run uses there, and readable output. Each example makes its own
//! [`AcpClient`] in its body (the set-up a reader copies); this module only says where the
//! server is and what to run on it.
//!
//! * [`server`]: without `ACP_URL` it starts the reference server on a free loopback port (it
//!   stops when the [`Server`] or the [`Setup`] holding it is dropped); with `ACP_URL` it is that
//!   URL. An example then builds its client for [`Server::url`], with the credentials the
//!   environment gives (`ACP_API_KEY`, `ACP_API_KEY_HEADER`, `ACP_BEARER_TOKEN`).
//! * [`setup`]: says which server the example runs against. On the embedded server an example
//!   finds the reference agents by name, as any user would: [`Setup::agent`] is
//!   `client.agent("stream")`. With `ACP_URL` every run uses one agent: `ACP_AGENT` (a name) or
//!   `ACP_AGENT_ID` (an id), found with `client.agent(..)`; without either, the first agent an
//!   unfiltered `POST /agents/search` lists (which some servers refuse). Every run sends the
//!   input `ACP_INPUT` (a JSON object, default `{}`), since the reference server's agents and
//!   inputs do not exist there. When the agent's descriptor declares a config schema with
//!   properties, every run sends `ACP_CONFIG` (a JSON object), or else the defaults the schema
//!   gives (`{}` without any), since servers that validate config refuse a run without it (the
//!   Agent Workflow Server answers 422).
//! * Errors print as one sentence each ([`finish`]); a step the server does not implement, or
//!   (with `ACP_URL`) fails on or refuses, is reported by its kind ([`refusal`]) and skipped
//!   rather than ending the example ([`step`]).
//! * `RUST_LOG=acp_client_ext=debug` shows every request the client sends.

use acp_client_ext::{
    AcpClient, Agent, AgentRuns, Error as AcpError, RunEvent, RunRequest, WaitOutcome,
};
use acp_reference_server::ReferenceServer;
use serde::Serialize;
use serde_json::{Map, Value};
use std::error::Error;
use std::fmt::Display;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What an example's body returns: any error; [`finish`] prints it as a sentence.
pub type Res<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// Where an example's server is.
pub struct Server {
    /// `ACP_URL`, or the embedded reference server's URL.
    pub url: String,
    /// `Some` when the example runs against the embedded reference server.
    embedded: Option<ReferenceServer>,
}

/// `ACP_URL`, or else the embedded reference server, started on a free loopback port.
pub async fn server() -> Res<Server> {
    clock();
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let url = std::env::var("ACP_URL").ok();
    let _ = REMOTE.set(url.is_some());
    match url {
        Some(url) => Ok(Server {
            url: url.trim().to_string(),
            embedded: None,
        }),
        None => {
            let server = ReferenceServer::start().await;
            Ok(Server {
                url: server.url(),
                embedded: Some(server),
            })
        }
    }
}

/// The client, and the embedded server when there is one.
pub struct Setup {
    pub client: AcpClient,
    /// `Some` when the examples run against the embedded reference server.
    server: Option<ReferenceServer>,
    /// With `ACP_URL`: the agent, input and config every run uses.
    remote: Option<Remote>,
}

/// What every run sends to a server given by `ACP_URL`.
struct Remote {
    agent: Agent,
    input: Value,
    config: Option<Value>,
}

/// The example `example` with its `client` of `server`: prints which server it runs against
/// and, with `ACP_URL`, finds the agent, input and config every run uses.
pub async fn setup(example: &str, client: AcpClient, server: Server) -> Res<Setup> {
    if let Some(embedded) = server.embedded {
        say(format!(
            "{example}: embedded ACP reference server at {} (set ACP_URL to use your own server)",
            embedded.url()
        ));
        return Ok(Setup {
            client,
            server: Some(embedded),
            remote: None,
        });
    }
    say(format!("{example}: ACP server at {}", client.base_url()));
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let key = match env("ACP_AGENT").or_else(|| env("ACP_AGENT_ID")) {
        Some(key) => key,
        None => match client.search_agents().await {
            Ok(agents) => match agents.first() {
                Some(a) => a.agent_id.to_string(),
                None => return Err("the server lists no agent; set ACP_AGENT".into()),
            },
            Err(e) => {
                return Err(format!(
                    "cannot list the agents ({e}); set ACP_AGENT (a name) or ACP_AGENT_ID"
                )
                .into());
            }
        },
    };
    let agent = client.agent(key).await?;
    say(format!("   agent {} ({})", agent.name(), agent.id()));
    let input = match env("ACP_INPUT") {
        Some(s) => match serde_json::from_str(&s) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return Err("ACP_INPUT must be a JSON object".into()),
            Err(e) => return Err(format!("ACP_INPUT is not JSON: {e}").into()),
        },
        None => Value::Object(Map::new()),
    };
    let config = config_for(&agent)?;
    Ok(Setup {
        client,
        server: None,
        remote: Some(Remote {
            agent,
            input,
            config,
        }),
    })
}

/// The config every run of `agent` sends: `ACP_CONFIG`, else the defaults of the config schema
/// the agent's descriptor declares, else none.
fn config_for(agent: &Agent) -> Res<Option<Value>> {
    if let Ok(s) = std::env::var("ACP_CONFIG") {
        return match serde_json::from_str(&s) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            Ok(_) => Err("ACP_CONFIG must be a JSON object".into()),
            Err(e) => Err(format!("ACP_CONFIG is not JSON: {e}").into()),
        };
    }
    let Some(properties) = agent.descriptor()["specs"]["config"]["properties"].as_object() else {
        return Ok(None);
    };
    let defaults: Map<String, Value> = properties
        .iter()
        .filter_map(|(k, p)| Some((k.clone(), p.get("default")?.clone())))
        .collect();
    let config = Value::Object(defaults);
    say(format!(
        "   the agent declares a config schema; runs send config {}",
        short(&config)
    ));
    Ok(Some(config))
}

impl Setup {
    /// Whether the examples talk to the embedded reference server (and may rely on its agents).
    pub fn embedded(&self) -> bool {
        self.server.is_some()
    }

    /// The agent a step runs: the reference server's agent `name`, found by name
    /// (`client.agent(name)`), or the agent configured for `ACP_URL`.
    pub async fn agent(&self, name: &str) -> Res<Agent> {
        match &self.remote {
            None => Ok(self.client.agent(name).await?),
            Some(r) => Ok(r.agent.clone()),
        }
    }

    /// A run of `runs` with `input` (any `Serialize`); with `ACP_URL`, with the configured
    /// input and config instead.
    pub fn run<I: Serialize>(&self, runs: &AgentRuns, input: &I) -> Res<RunRequest> {
        Ok(match &self.remote {
            None => runs.run(&serde_json::to_value(input)?),
            Some(r) => {
                let run = runs.run(&r.input);
                match &r.config {
                    Some(config) => run.config(config),
                    None => run,
                }
            }
        })
    }
}

/// Whether the examples run against a server given by `ACP_URL` (set once by [`server`]).
static REMOTE: OnceLock<bool> = OnceLock::new();

/// What kind of refusal an error of a step is, in a few words: the server does not implement
/// the operation ([`AcpError::is_unsupported`]), failed on it (a 5xx), or refused it (a 4xx);
/// `None` for anything else (a transport failure, a decode error, ...).
pub fn refusal(e: &AcpError) -> Option<&'static str> {
    if e.is_unsupported() {
        return Some("not supported by this server");
    }
    match e.status()?.as_u16() {
        500..=599 => Some("the server failed on it"),
        400..=499 => Some("the server refused it"),
        _ => None,
    }
}

/// Runs one step: its value, or `None` after saying why the server did not do it. A step the
/// server does not implement is skipped everywhere; against a server given by `ACP_URL`, so is
/// one it failed on or refused (a real server is not the reference server: the example goes on
/// and says so). Any other error ends the example.
pub async fn step<T>(
    what: &str,
    fut: impl std::future::IntoFuture<Output = Result<T, AcpError>>,
) -> Res<Option<T>> {
    match fut.await {
        Ok(v) => Ok(Some(v)),
        Err(e) => match refusal(&e) {
            Some(kind) if e.is_unsupported() || REMOTE.get() == Some(&true) => {
                say(format!("   {what}: {kind} ({e}); skipped"));
                Ok(None)
            }
            _ => Err(e.into()),
        },
    }
}

/// An example's exit: 0, or the error as a sentence (with its causes) and 1.
pub fn finish(result: Res) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut line = format!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                line.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{line}");
            ExitCode::FAILURE
        }
    }
}

fn clock() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Prints one line, stamped with the time since the example started.
pub fn say(line: impl Display) {
    println!("[{:6.2}s] {line}", clock().elapsed().as_secs_f64());
}

/// Awaits `fut`, printing how long it has been waiting every half second.
pub async fn with_progress<F: std::future::IntoFuture>(what: &str, fut: F) -> F::Output {
    let started = Instant::now();
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_millis(500),
        Duration::from_millis(500),
    );
    let fut = fut.into_future();
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = ticks.tick() => {
                say(format!("   ... {what}: {:.1}s", started.elapsed().as_secs_f64()));
            }
        }
    }
}

/// One line for a run event: kind, status and payload (shortened).
pub fn describe(event: &RunEvent) -> String {
    let status = event
        .status()
        .map_or_else(|| "-".to_string(), |s| s.to_string());
    match event {
        RunEvent::Values(u) => format!("values  {status:<11} {}", shorten(u.values().get())),
        RunEvent::Custom(u) => format!("custom  {status:<11} {}", shorten(u.update().get())),
        RunEvent::Interrupt(u) => format!("interrupt {status:<9} {}", shorten(u.interrupt().get())),
        RunEvent::Error(u) => format!(
            "error   {status:<11} ({}) {}",
            u.errcode(),
            shorten(u.description())
        ),
        RunEvent::Other(raw) => format!(
            "{:<7} {status:<11} {}",
            raw.payload_type().unwrap_or(raw.event_type()),
            shorten(raw.data_str())
        ),
        other => format!("{other:?}"),
    }
}

/// One line for a wait outcome.
pub fn outcome(o: &WaitOutcome) -> String {
    match o {
        WaitOutcome::Completed { values, .. } => format!("completed: {}", short(values)),
        WaitOutcome::Interrupted { payload, .. } => format!("interrupted: {}", short(payload)),
        WaitOutcome::Failed { error, .. } => {
            format!("failed ({}): {}", error.errcode, error.description)
        }
        other => other.to_string(),
    }
}

/// A JSON value on one line, at most 90 characters.
pub fn short(v: &impl serde::Serialize) -> String {
    shorten(&serde_json::to_string(v).unwrap_or_default())
}

fn shorten(s: &str) -> String {
    const MAX: usize = 90;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
