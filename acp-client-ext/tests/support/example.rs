//! What every example shares: "embedded reference server, or `ACP_URL`", and readable output.
//!
//! * Without `ACP_URL`, [`connect`] starts the reference server of this crate on a free loopback
//!   port and points an [`AcpClient`] at it; the server stops when the [`Setup`] is dropped.
//! * With `ACP_URL` (plus `ACP_API_KEY`, `ACP_API_KEY_HEADER` or `ACP_BEARER_TOKEN` as needed),
//!   the client comes from [`AcpClient::from_env`] and every run uses the agent `ACP_AGENT_ID`
//!   (default: the first agent `POST /agents/search` lists) with the input `ACP_INPUT` (a JSON
//!   object, default `{}`), since the reference server's agents and inputs do not exist there.
//! * `RUST_LOG=acp_client_ext=debug` shows every request the client sends.

use acp_client_ext::{AcpClient, RunEvent, WaitOutcome, types};
use acp_reference_server::ReferenceServer;
use serde_json::{Map, Value};
use std::error::Error;
use std::fmt::Display;
use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What an example's `main` returns: any error, printed by the runtime, and exit status 1.
pub type Res<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// The client, and the embedded server when there is one.
pub struct Setup {
    pub client: AcpClient,
    /// `Some` when the examples run against the embedded reference server.
    server: Option<ReferenceServer>,
    /// With `ACP_URL`: the agent every run uses.
    remote_agent: Option<String>,
    /// With `ACP_URL`: the input every run sends.
    remote_input: Option<Map<String, Value>>,
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
            remote_agent: None,
            remote_input: None,
        });
    }
    let client = AcpClient::from_env()?;
    let agent = match std::env::var("ACP_AGENT_ID") {
        Ok(id) if !id.trim().is_empty() => id,
        _ => match client.search_agents().await?.first() {
            Some(a) => a.agent_id.to_string(),
            None => return Err("the server lists no agent; set ACP_AGENT_ID".into()),
        },
    };
    let input = match std::env::var("ACP_INPUT") {
        Ok(s) => match serde_json::from_str(&s)? {
            Value::Object(m) => m,
            _ => return Err("ACP_INPUT must be a JSON object".into()),
        },
        Err(_) => Map::new(),
    };
    say(format!(
        "{example}: ACP server at {}, agent {agent}",
        client.base_url()
    ));
    Ok(Setup {
        client,
        server: None,
        remote_agent: Some(agent),
        remote_input: Some(input),
    })
}

impl Setup {
    /// Whether the examples talk to the embedded reference server (and may rely on its agents).
    pub fn embedded(&self) -> bool {
        self.server.is_some()
    }

    /// The agent to run: the reference server's agent `name`, or the configured remote agent.
    pub fn agent(&self, name: &str) -> String {
        self.remote_agent
            .clone()
            .unwrap_or_else(|| name.to_string())
    }

    /// The input to send: `input` on the reference server, `ACP_INPUT` elsewhere.
    pub fn input(&self, input: Value) -> Option<types::InputSchema> {
        let map = match &self.remote_input {
            Some(m) => m.clone(),
            None => match input {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        };
        // Through serde rather than the constructor: `InputSchema` is a map newtype in ACP 0.2.1
        // and an enum over JSON kinds from 0.2.3, and a JSON object fits both.
        serde_json::from_value(Value::Object(map)).ok()
    }

    /// A thread run of the reference agent `name` with `input` (or of the remote agent).
    pub fn stateful(&self, name: &str, input: Value) -> types::RunCreateStateful {
        types::RunCreateStateful {
            agent_id: Some(self.agent(name)),
            input: self.input(input),
            ..Default::default()
        }
    }

    /// A stateless run of the reference agent `name` with `input` (or of the remote agent).
    pub fn stateless(&self, name: &str, input: Value) -> types::RunCreateStateless {
        types::RunCreateStateless {
            agent_id: Some(self.agent(name)),
            input: self.input(input),
            ..Default::default()
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
pub async fn with_progress<F: Future>(what: &str, fut: F) -> F::Output {
    let started = Instant::now();
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_millis(500),
        Duration::from_millis(500),
    );
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
