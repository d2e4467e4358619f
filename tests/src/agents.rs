//! Scriptable agents.
//!
//! Each agent has a fixed UUID (the spec's `Agent.agent_id` is `format: uuid`). When creating a
//! run, `agent_id` must be that UUID, as the spec says: an agent *name* is answered 404 like any
//! unknown agent, in every dialect (find an agent by name with `POST /agents/search`). Without
//! `agent_id` the `echo` agent is used (the spec's "default agent for this service").
//!
//! | name        | input (JSON object)                                      | behaviour |
//! |-------------|----------------------------------------------------------|-----------|
//! | `echo`      | anything (config: `{"greeting": "hello"}`, optional)      | succeeds at once with values = input |
//! | `stream`    | `{"count": N=3, "size": S=0, "delay_ms": D=0}`           | N `values` updates `{"i":k,"pad":"x"*S}` then success with `{"count":N}` |
//! | `custom`    | same as `stream`                                         | N `custom` updates `{"i":k}` (plus `values` updates if `stream_mode` has `values`), then success |
//! | `interrupt` | `{"interrupts": K=1}`                                    | interrupts K times with `{"question":..,"round":n}`; each resume payload is collected; then success with `{"answers":[...]}`. A resume payload with `"fail": true` is rejected: that segment ends in `error` |
//! | `fail`      | `{"timeout": false}`                                     | ends with status `error` (or `timeout`), output `{"type":"error","errcode":42,..}` |
//! | `slow`      | `{"deadline_ms": 3600000}`                               | runs until cancelled or the deadline, then succeeds with `{"slept_ms": ..}` |
//! | `org.agntcy.echo_agent` | `{"messages": [{"type": "human", "content": ".."}]}` | [`crate::Dialect::WorkflowServer`] only, see below |
//!
//! # acp-sdk's echo agent
//!
//! Under [`crate::Dialect::WorkflowServer`] the server also serves, beside the agents above
//! (which behave the same in both dialects), an agent that behaves like the echo agent of
//! agntcy's acp-sdk (`examples/echo-agent`: `echo_agent/agent.py`, `langgraph.py`, and its
//! manifest `deploy/echo-agent-manifest.json`), under its name `org.agntcy.echo_agent`,
//! version `0.1.0` ([`ACP_SDK_ECHO`] is our id for it; a Workflow Server takes the id from its
//! deployment). Its input is `{"messages": [{"type": "human"|"assistant", "content": ".."}]}`;
//! it appends `{"type": "assistant", "content": C}` where `C` is the content of the last
//! `human` message, lower-cased if `config.configurable.to_lower` is true, else upper-cased if
//! `to_upper` is; its output is `{"messages": [...the input's..., that reply]}` (the input's
//! messages unchanged when there is no human message or none at all). With `interrupt_count` > 0 it interrupts once with `{"messages": <that output>}`
//! (the graph re-runs its node on resume, so any count gives one interrupt), and the resume
//! payload's `messages` are echoed the same way for the output (upstream also sleeps
//! `sleep_secs`, default 1 s, after a resume; this one does not). Its descriptor declares a
//! config schema, so the dialect requires `config`.
//!
//! Stream modes: `stream_mode` selects which updates are emitted (`values`, `custom` or both);
//! when absent, `stream` emits values and `custom` emits custom updates. The last SSE event of
//! every run segment is always a `values` update carrying the final status and values (not
//! under [`crate::Dialect::WorkflowServer`], see [`crate::runs`]).
//!
//! Configuration: only `echo` declares a config schema (`specs.config` with properties, all
//! optional: `{"greeting": {"type": "string", "default": "hello"}}`); the others declare the
//! empty object schema. The descriptor is the same in every dialect; only
//! [`crate::Dialect::WorkflowServer`] enforces it, answering 422 to a run of `echo` created
//! without `config`, as the Workflow Server does for agents that declare a config schema.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use uuid::{Uuid, uuid};

use crate::{
    dialect::Dialect,
    runs::{Run, RunStatus, finish},
    state::AppState,
};

/// The `echo` agent.
pub const ECHO: Uuid = uuid!("00000000-0000-4000-8000-00000000ec40");
/// The `stream` agent.
pub const STREAM: Uuid = uuid!("00000000-0000-4000-8000-000000000057");
/// The `custom` agent.
pub const CUSTOM: Uuid = uuid!("00000000-0000-4000-8000-0000000000c5");
/// The `interrupt` agent.
pub const INTERRUPT: Uuid = uuid!("00000000-0000-4000-8000-000000000117");
/// The `fail` agent.
pub const FAIL: Uuid = uuid!("00000000-0000-4000-8000-00000000fa11");
/// The `slow` agent.
pub const SLOW: Uuid = uuid!("00000000-0000-4000-8000-000000005105");

/// Our id of acp-sdk's echo agent, `org.agntcy.echo_agent` ([`crate::Dialect::WorkflowServer`]
/// only).
pub const ACP_SDK_ECHO: Uuid = uuid!("00000000-0000-4000-8000-0000ac9ec400");

/// The error code reported by the `fail` agent.
pub const FAIL_ERRCODE: i64 = 42;

/// One of the built-in agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    /// See module docs.
    Echo,
    /// See module docs.
    Stream,
    /// See module docs.
    Custom,
    /// See module docs.
    Interrupt,
    /// See module docs.
    Fail,
    /// See module docs.
    Slow,
    /// acp-sdk's echo agent, `org.agntcy.echo_agent` ([`crate::Dialect::WorkflowServer`]
    /// only; see the module docs).
    AcpSdkEcho,
}

/// Every agent, in listing order.
pub const ALL: [AgentKind; 6] = [
    AgentKind::Echo,
    AgentKind::Stream,
    AgentKind::Custom,
    AgentKind::Interrupt,
    AgentKind::Fail,
    AgentKind::Slow,
];

/// The agents only [`crate::Dialect::WorkflowServer`] serves, listed after [`ALL`].
pub const WORKFLOW_SERVER_ONLY: [AgentKind; 1] = [AgentKind::AcpSdkEcho];

impl AgentKind {
    /// The agents a server speaking `dialect` serves, in listing order.
    pub fn served(dialect: Dialect) -> Vec<AgentKind> {
        let extra: &[AgentKind] = match dialect {
            Dialect::Spec => &[],
            Dialect::WorkflowServer => &WORKFLOW_SERVER_ONLY,
        };
        ALL.iter().chain(extra).copied().collect()
    }

    /// Finds an agent a server speaking `dialect` serves by UUID.
    pub fn served_by_id(id: Uuid, dialect: Dialect) -> Option<AgentKind> {
        Self::served(dialect).into_iter().find(|a| a.id() == id)
    }

    /// The agent's UUID.
    pub fn id(self) -> Uuid {
        match self {
            AgentKind::Echo => ECHO,
            AgentKind::Stream => STREAM,
            AgentKind::Custom => CUSTOM,
            AgentKind::Interrupt => INTERRUPT,
            AgentKind::Fail => FAIL,
            AgentKind::Slow => SLOW,
            AgentKind::AcpSdkEcho => ACP_SDK_ECHO,
        }
    }

    /// The agent's name.
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Echo => "echo",
            AgentKind::Stream => "stream",
            AgentKind::Custom => "custom",
            AgentKind::Interrupt => "interrupt",
            AgentKind::Fail => "fail",
            AgentKind::Slow => "slow",
            AgentKind::AcpSdkEcho => "org.agntcy.echo_agent",
        }
    }

    /// Finds one of [`ALL`] by UUID.
    pub fn by_id(id: Uuid) -> Option<AgentKind> {
        ALL.into_iter().find(|a| a.id() == id)
    }

    fn description(self) -> &'static str {
        match self {
            AgentKind::Echo => "Echoes its input as output values.",
            AgentKind::Stream => "Streams N values updates, then succeeds.",
            AgentKind::Custom => "Streams N custom updates, then succeeds.",
            AgentKind::Interrupt => {
                "Interrupts K times asking a question, collecting resume payloads."
            }
            AgentKind::Fail => "Always ends in error (errcode 42).",
            AgentKind::Slow => "Runs until cancelled or until its deadline.",
            AgentKind::AcpSdkEcho => "Provides a test interface to echo input to output.",
        }
    }

    fn metadata(self) -> Value {
        if self == AgentKind::AcpSdkEcho {
            return json!({
                "ref": {
                    "name": self.name(),
                    "version": "0.1.0",
                    "url": "github.com/agntcy/acp-sdk.git//examples/echo-agent",
                },
                "description": self.description(),
            });
        }
        json!({
            "ref": {
                "name": self.name(),
                "version": "0.1.0",
                "url": format!("https://acp-rs.invalid/agents/{}", self.name()),
            },
            "description": self.description(),
        })
    }

    /// The spec's `Agent` object.
    pub fn to_json(self) -> Value {
        json!({ "agent_id": self.id(), "metadata": self.metadata() })
    }

    /// Whether the agent's descriptor declares a config schema (one with properties).
    pub fn declares_config(self) -> bool {
        matches!(self, AgentKind::Echo | AgentKind::AcpSdkEcho)
    }

    /// The spec's `AgentACPDescriptor`.
    pub fn descriptor(self) -> Value {
        if self == AgentKind::AcpSdkEcho {
            return acp_sdk_echo_descriptor();
        }
        let object = json!({"type": "object"});
        let stream_input = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 0, "default": 3},
                "size": {"type": "integer", "minimum": 0, "default": 0},
                "delay_ms": {"type": "integer", "minimum": 0, "default": 0}
            }
        });
        let (input, output) = match self {
            AgentKind::Echo => (object.clone(), object.clone()),
            AgentKind::Stream | AgentKind::Custom => (
                stream_input,
                json!({"type": "object", "properties": {"count": {"type": "integer"}}}),
            ),
            AgentKind::Interrupt => (
                json!({"type": "object", "properties": {"interrupts": {"type": "integer", "minimum": 0, "default": 1}}}),
                json!({"type": "object", "properties": {"answers": {"type": "array", "items": {"type": "object"}}}}),
            ),
            AgentKind::Fail => (
                json!({"type": "object", "properties": {"timeout": {"type": "boolean", "default": false}}}),
                object.clone(),
            ),
            AgentKind::Slow => (
                json!({"type": "object", "properties": {"deadline_ms": {"type": "integer", "minimum": 0, "default": 3_600_000}}}),
                json!({"type": "object", "properties": {"slept_ms": {"type": "integer"}}}),
            ),
            AgentKind::AcpSdkEcho => (object.clone(), object.clone()),
        };
        let mut specs = json!({
            "capabilities": {
                "threads": true,
                "interrupts": self == AgentKind::Interrupt,
                "callbacks": false,
                "streaming": {"values": true, "custom": self == AgentKind::Custom},
            },
            "input": input,
            "output": output,
            "config": if self.declares_config() {
                json!({"type": "object", "properties": {
                    "greeting": {"type": "string", "default": "hello"}}})
            } else {
                object
            },
            "thread_state": {"type": "object"},
        });
        if let Some(obj) = specs.as_object_mut() {
            if self == AgentKind::Custom {
                obj.insert(
                    "custom_streaming_update".into(),
                    json!({"type": "object", "properties": {"i": {"type": "integer"}}}),
                );
            }
            if self == AgentKind::Interrupt {
                obj.insert(
                    "interrupts".into(),
                    json!([{
                        "interrupt_type": "question",
                        "interrupt_payload": {"type": "object", "properties": {
                            "question": {"type": "string"}, "round": {"type": "integer"}}},
                        "resume_payload": {"type": "object"}
                    }]),
                );
            }
        }
        json!({ "metadata": self.metadata(), "specs": specs })
    }
}

/// The descriptor of [`AgentKind::AcpSdkEcho`]: the interface of acp-sdk's echo agent (our
/// own schemas for it: messages of a `type` and a `content`; the config it reads).
fn acp_sdk_echo_descriptor() -> Value {
    let message = json!({
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["human", "assistant", "ai"]},
            "content": {"type": "string"}
        },
        "required": ["type", "content"]
    });
    let messages = json!({
        "type": "object",
        "properties": {"messages": {"anyOf": [{"type": "array", "items": message}, {"type": "null"}]}},
        "required": ["messages"]
    });
    json!({
        "metadata": AgentKind::AcpSdkEcho.metadata(),
        "specs": {
            "capabilities": {"threads": true, "interrupts": true, "callbacks": false},
            "input": messages,
            "output": {"type": "object", "properties": messages["properties"]},
            "config": {"type": "object", "properties": {
                "to_upper": {"type": "boolean", "default": false},
                "to_lower": {"type": "boolean", "default": false},
                "interrupt_count": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 0},
                "sleep_secs": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 1},
                "log_level": {"type": "string", "enum": ["critical", "error", "warning", "info", "debug"], "default": "warning"}
            }},
            "interrupts": [{
                "interrupt_type": "echo_interrupt",
                "interrupt_payload": messages,
                "resume_payload": messages
            }]
        }
    })
}

/// acp-sdk's `_add_echo_message`: appends the echo of the last `human` message.
fn add_echo_message(messages: &Value, to_upper: bool, to_lower: bool) -> Value {
    let Some(list) = messages.as_array().filter(|l| !l.is_empty()) else {
        return messages.clone();
    };
    let last_human = list
        .iter()
        .rev()
        .find(|m| m.get("type").and_then(Value::as_str) == Some("human"));
    let Some(content) = last_human
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
    else {
        return messages.clone();
    };
    let reply = if to_lower {
        content.to_lowercase()
    } else if to_upper {
        content.to_uppercase()
    } else {
        content.to_owned()
    };
    let mut out = list.clone();
    out.push(json!({"type": "assistant", "content": reply}));
    Value::Array(out)
}

/// One segment of [`AgentKind::AcpSdkEcho`].
fn drive_acp_sdk_echo(state: &AppState, run: &Run) {
    let configurable = run
        .spec
        .creation
        .get("config")
        .and_then(|c| c.get("configurable"));
    let flag = |k: &str| {
        configurable
            .and_then(|c| c.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let (to_upper, to_lower) = (flag("to_upper"), flag("to_lower"));
    let interrupts = configurable
        .and_then(|c| c.get("interrupt_count"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let input = run
        .spec
        .input
        .get("messages")
        .cloned()
        .unwrap_or(Value::Null);
    let answers = run
        .meta
        .lock()
        .map(|m| m.answers.clone())
        .unwrap_or_default();
    let echoed = add_echo_message(&input, to_upper, to_lower);
    let messages = match answers.last() {
        None if interrupts > 0 => {
            let payload = json!({"messages": echoed});
            let output = json!({"type": "interrupt", "interrupt": payload});
            finish(
                state,
                run,
                RunStatus::Interrupted,
                Some(output),
                payload,
                true,
            );
            return;
        }
        None => echoed,
        Some(resume) => {
            let resumed = resume.get("messages").cloned().unwrap_or(Value::Null);
            add_echo_message(&resumed, to_upper, to_lower)
        }
    };
    let values = json!({"messages": messages});
    let output = json!({"type": "result", "values": values});
    finish(state, run, RunStatus::Success, Some(output), values, false);
}

fn input_u64(run: &Run, key: &str, default: u64) -> u64 {
    run.spec
        .input
        .get(key)
        .and_then(Value::as_u64)
        .unwrap_or(default)
}

/// Runs (one segment of) the run's agent script to completion or cancellation.
pub(crate) async fn drive(state: &AppState, run: &Run) {
    let token = run.token.clone();
    match run.spec.agent {
        AgentKind::AcpSdkEcho => drive_acp_sdk_echo(state, run),
        AgentKind::Echo => {
            let values = Value::Object(run.spec.input.clone());
            let output = json!({"type": "result", "values": values});
            finish(state, run, RunStatus::Success, Some(output), values, false);
        }
        AgentKind::Stream | AgentKind::Custom => {
            let count = input_u64(run, "count", 3);
            let size = usize::try_from(input_u64(run, "size", 0)).unwrap_or(0);
            let delay = Duration::from_millis(input_u64(run, "delay_ms", 0));
            let pad = "x".repeat(size);
            let rid = run.id.to_string();
            // Formatted by hand (the hot path of large streams); the same JSON as
            // `Run::values_event` / `Run::custom_event` would give, in the spec's key order.
            let status = run.spec.dialect.status(RunStatus::Pending);
            let messages = if run.spec.dialect.is_workflow_server() {
                r#","messages":null"#
            } else {
                ""
            };
            for k in 0..count {
                if token.is_cancelled() {
                    return;
                }
                if run.spec.modes.values {
                    run.push(Bytes::from(format!(
                        r#"{{"type":"values","run_id":"{rid}","status":"{status}","values":{{"i":{k},"pad":"{pad}"}}{messages}}}"#
                    )));
                }
                if run.spec.modes.custom {
                    run.push(Bytes::from(format!(
                        r#"{{"type":"custom","run_id":"{rid}","status":"{status}","update":{{"i":{k}}}}}"#
                    )));
                }
                if !delay.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = token.cancelled() => return,
                    }
                } else if k % 256 == 255 {
                    tokio::task::yield_now().await;
                }
            }
            let values = json!({"count": count});
            let output = json!({"type": "result", "values": values});
            finish(state, run, RunStatus::Success, Some(output), values, false);
        }
        AgentKind::Interrupt => {
            let rounds = input_u64(run, "interrupts", 1);
            let answers = run
                .meta
                .lock()
                .map(|m| m.answers.clone())
                .unwrap_or_default();
            let round = answers.len() as u64;
            let rejected = answers
                .last()
                .is_some_and(|a| a.get("fail") == Some(&Value::Bool(true)));
            if rejected {
                let output = json!({
                    "type": "error",
                    "run_id": run.id,
                    "errcode": FAIL_ERRCODE,
                    "description": format!("the interrupt agent rejected answer {round}"),
                });
                finish(state, run, RunStatus::Error, Some(output), json!({}), false);
            } else if round < rounds {
                let n = round + 1;
                let payload = json!({"question": format!("Question {n} of {rounds}?"), "round": n});
                let output = json!({"type": "interrupt", "interrupt": payload});
                let values = json!({"round": n, "answers": answers});
                finish(
                    state,
                    run,
                    RunStatus::Interrupted,
                    Some(output),
                    values,
                    true,
                );
            } else {
                let values = json!({"answers": answers});
                let output = json!({"type": "result", "values": values});
                finish(state, run, RunStatus::Success, Some(output), values, false);
            }
        }
        AgentKind::Fail => {
            let timeout = run
                .spec
                .input
                .get("timeout")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let status = if timeout {
                RunStatus::Timeout
            } else {
                RunStatus::Error
            };
            let output = json!({
                "type": "error",
                "run_id": run.id,
                "errcode": FAIL_ERRCODE,
                "description": if timeout { "the fail agent timed out on purpose" } else { "the fail agent failed on purpose" },
            });
            finish(state, run, status, Some(output), json!({}), false);
        }
        AgentKind::Slow => {
            let ms = input_u64(run, "deadline_ms", 3_600_000);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => {
                    let values = json!({"slept_ms": ms});
                    let output = json!({"type": "result", "values": values});
                    finish(state, run, RunStatus::Success, Some(output), values, false);
                }
                _ = token.cancelled() => {}
            }
        }
    }
}
