//! What every example shares: "embedded reference server, or `ACP_URL`", and readable output.
//!
//! * Without `ACP_URL`, [`connect`] starts the reference server on a free loopback port and
//!   points an [`AcpClient`] at it; the server stops when the [`Setup`] is dropped.
//! * With `ACP_URL` (plus `ACP_API_KEY`, `ACP_API_KEY_HEADER` or `ACP_BEARER_TOKEN` as needed),
//!   the client comes from [`AcpClient::from_env`] and every run uses the agent `ACP_AGENT_ID`
//!   (looked up with `GET /agents/{id}`; without it, the first agent an unfiltered
//!   `POST /agents/search` lists, which some servers refuse) with the input `ACP_INPUT` (a JSON
//!   object, default `{}`), since the reference server's agents and inputs do not exist there.
//!   The agent's descriptor is read: when it declares a config schema with properties, every run
//!   sends `ACP_CONFIG` (a JSON object), or else the defaults the schema gives (`{}` without
//!   any), since servers that validate config refuse a run without it (the Agent Workflow Server
//!   answers 422).
//! * Errors print as one sentence each ([`finish`]), and a step the server does not implement
//!   ([`unsupported`]) is reported and skipped rather than ending the example.
//! * `RUST_LOG=acp_client_ext=debug` shows every request the client sends.

use acp_client_ext::{AcpClient, Error as AcpError, RunEvent, WaitOutcome, types};
use acp_reference_server::ReferenceServer;
use serde_json::{Map, Value, json};
use std::error::Error;
use std::fmt::Display;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What an example's body returns: any error; [`finish`] prints it as a sentence.
pub type Res<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

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
    agent_id: String,
    input: Map<String, Value>,
    config: Option<Value>,
}

/// Connects to `ACP_URL`, or starts the embedded reference server; prints which.
pub async fn connect(example: &str) -> Res<Setup> {
    clock();
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    if std::env::var_os("ACP_URL").is_none() {
        let server = ReferenceServer::start().await;
        let client = AcpClient::new(server.url())?;
        say(format!(
            "{example}: embedded ACP reference server at {} (set ACP_URL to use your own server)",
            server.url()
        ));
        return Ok(Setup {
            client,
            server: Some(server),
            remote: None,
        });
    }
    let client = AcpClient::from_env()?;
    say(format!("{example}: ACP server at {}", client.base_url()));
    let agent_id = match std::env::var("ACP_AGENT_ID") {
        Ok(id) if !id.trim().is_empty() => {
            let id = id.trim().to_string();
            match client.get_agent(id.as_str()).await {
                Ok(a) => say(format!("   agent {id}: {}", a.metadata.ref_.name)),
                Err(e) if unsupported(&e) => {
                    say(format!("   agent {id} (GET /agents/{{id}}: {e})"))
                }
                Err(e) => return Err(e.into()),
            }
            id
        }
        _ => match client.search_agents().await {
            Ok(agents) => match agents.first() {
                Some(a) => a.agent_id.to_string(),
                None => return Err("the server lists no agent; set ACP_AGENT_ID".into()),
            },
            Err(e) => {
                return Err(format!("cannot list the agents ({e}); set ACP_AGENT_ID").into());
            }
        },
    };
    let input = match std::env::var("ACP_INPUT") {
        Ok(s) => match serde_json::from_str(&s) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("ACP_INPUT must be a JSON object".into()),
            Err(e) => return Err(format!("ACP_INPUT is not JSON: {e}").into()),
        },
        Err(_) => Map::new(),
    };
    let config = config_for(&client, &agent_id).await?;
    Ok(Setup {
        client,
        server: None,
        remote: Some(Remote {
            agent_id,
            input,
            config,
        }),
    })
}

/// The config every run of `agent_id` sends: `ACP_CONFIG`, else the defaults of the config
/// schema the agent's descriptor declares, else none.
async fn config_for(client: &AcpClient, agent_id: &str) -> Res<Option<Value>> {
    if let Ok(s) = std::env::var("ACP_CONFIG") {
        return match serde_json::from_str(&s) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            Ok(_) => Err("ACP_CONFIG must be a JSON object".into()),
            Err(e) => Err(format!("ACP_CONFIG is not JSON: {e}").into()),
        };
    }
    let descriptor = match client.agent_descriptor(agent_id).await {
        Ok(d) => d,
        Err(e) if unsupported(&e) => {
            say(format!("   no descriptor ({e}); runs send no config"));
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    // Through serde: the descriptor's schemas are free-form JSON.
    let schema = serde_json::to_value(&descriptor.specs.config)?;
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
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

    /// A create body: the reference server's agent `name` with `input`, or the configured
    /// remote agent, input and config. Built as JSON and read through serde, so it fits the
    /// generated body types of every ACP release.
    fn body<T: serde::de::DeserializeOwned>(&self, name: &str, input: Value) -> T {
        let body = match &self.remote {
            None => json!({"agent_id": super::agent_id(name), "input": input}),
            Some(r) => {
                let mut body = json!({"agent_id": r.agent_id, "input": r.input});
                if let Some(config) = &r.config {
                    body["config"] = json!({"configurable": config});
                }
                body
            }
        };
        match serde_json::from_value(body) {
            Ok(b) => b,
            Err(e) => panic!("a create body of this shape always decodes: {e}"),
        }
    }

    /// A thread run of the reference agent `name` with `input` (or of the remote agent).
    pub fn stateful(&self, name: &str, input: Value) -> types::RunCreateStateful {
        self.body(name, input)
    }

    /// A stateless run of the reference agent `name` with `input` (or of the remote agent).
    pub fn stateless(&self, name: &str, input: Value) -> types::RunCreateStateless {
        self.body(name, input)
    }
}

/// Whether `e` says the server does not implement the operation: `501`, `405`, a `500` whose
/// message is "Not implemented" (FastAPI servers' stubs), or a `404` whose message is FastAPI's
/// bare "Not Found" for a route it does not have.
pub fn unsupported(e: &AcpError) -> bool {
    match e {
        AcpError::Api {
            status, message, ..
        } => match status.as_u16() {
            501 | 405 => true,
            500 => message.trim().eq_ignore_ascii_case("not implemented"),
            404 => message.trim() == "Not Found",
            _ => false,
        },
        _ => false,
    }
}

/// Runs one step: its value, or `None` after saying that the server does not implement it.
pub async fn step<T>(
    what: &str,
    fut: impl std::future::IntoFuture<Output = Result<T, AcpError>>,
) -> Res<Option<T>> {
    match fut.await {
        Ok(v) => Ok(Some(v)),
        Err(e) if unsupported(&e) => {
            say(format!(
                "   {what}: not supported by this server ({e}); skipped"
            ));
            Ok(None)
        }
        Err(e) => Err(e.into()),
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
        RunEvent::Values(u) => format!("values  {status:<11} {}", short(&u.values)),
        RunEvent::Custom(u) => format!("custom  {status:<11} {}", short(&u.update)),
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
