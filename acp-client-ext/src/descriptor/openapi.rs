//! The agent's own OpenAPI document, as acp-sdk's `generate-agent-oapi` makes it
//! (`agntcy_acp/manifest/generator.py`, `generate_agent_oapi`): the ACP operations, pruned by
//! the agent's capabilities, with the agent's schemas in place of the spec's free-form
//! payloads.
//!
//! The paths and methods are this crate's table of the spec's operations
//! ([`Operation::all`](crate::Operation::all)); the component schemas are those of the
//! generated types ([`crate::types`], through their `schemars::JsonSchema` derive). The SDK's
//! pruning is followed exactly, quirks included (it was written for paths of an earlier spec
//! version): without threads every `/threads` path goes; without interrupts only
//! `POST /runs/{run_id}` (the stateless resume) goes; without streaming only
//! `GET /runs/{run_id}/stream` goes, and `stream_mode` leaves the run-create bodies; without
//! callbacks `webhook` leaves them.

use super::capabilities::Capabilities;
use super::locate::locate;
use super::rules::{Rule, Violation, validate};
use crate::ops::Operation;
use crate::types;
use schemars::r#gen::SchemaSettings;
use serde_json::{Map, Value, json};

/// Why [`agent_openapi`] made no document: the capability rules (or the format) it broke,
/// as [`validate`] reports them (the SDK refuses such descriptors too).
pub type Refusal = Vec<Violation>;

/// The agent's own OpenAPI 3.1 document for `doc`, a descriptor, a manifest or an OASF record
/// (see [`locate`]).
///
/// # Errors
///
/// The violations of [`validate`] when there are any.
///
/// ```
/// let doc = serde_json::json!({
///     "metadata": {"ref": {"name": "a", "version": "1.0.0"}, "description": "An agent."},
///     "specs": {"capabilities": {"threads": false}, "input": {"type": "string"},
///               "output": {"type": "object"}, "config": {"type": "object"}}});
/// let api = acp_client_ext::descriptor::agent_openapi(&doc).unwrap();
/// assert_eq!(api["openapi"], "3.1.0");
/// assert_eq!(api["info"]["title"], "ACP Spec for a");
/// assert!(api["paths"].get("/threads").is_none());
/// assert!(api["paths"]["/runs"]["post"].is_object());
/// assert_eq!(api["components"]["schemas"]["InputSchema"], serde_json::json!({"type": "string"}));
/// ```
pub fn agent_openapi(doc: &Value) -> Result<Value, Refusal> {
    let violations = validate(doc);
    if !violations.is_empty() {
        return Err(violations);
    }
    let Some(found) = locate(doc) else {
        return Err(vec![Violation {
            path: String::new(),
            rule: Rule::NotADescriptor,
            keyword: None,
            message: "not an ACP descriptor".into(),
        }]);
    };
    let d = &found.descriptor;
    let specs = &d["specs"];
    let caps = Capabilities::of_specs(specs);
    let name = d["metadata"]["ref"]["name"].as_str().unwrap_or("the agent");

    let mut schemas = component_schemas();
    let put = |schemas: &mut Map<String, Value>, key: &str, schema: &Value| {
        schemas.insert(key.to_string(), convert(key, schema));
    };
    put(&mut schemas, "InputSchema", &specs["input"]);
    put(&mut schemas, "OutputSchema", &specs["output"]);
    put(&mut schemas, "ConfigSchema", &specs["config"]);
    if let Some(s) = specs
        .get("thread_state")
        .filter(|s| caps.threads && !s.is_null())
    {
        put(&mut schemas, "ThreadStateSchema", s);
    }
    if caps.interrupts {
        let mut payloads = Vec::new();
        let mut resumes = Vec::new();
        for int in specs["interrupts"].as_array().into_iter().flatten() {
            let kind = int["interrupt_type"].as_str().unwrap_or("interrupt");
            for (suffix, key, list) in [
                ("InterruptPayload", "interrupt_payload", &mut payloads),
                ("ResumePayload", "resume_payload", &mut resumes),
            ] {
                let component = format!("{kind}{suffix}");
                put(&mut schemas, &component, &int[key]);
                list.push(json!({
                    "type": "object",
                    "properties": {kind: {"$ref": format!("#/components/schemas/{component}")}},
                    "additionalProperties": false,
                    "required": [kind],
                }));
            }
        }
        schemas.insert("InterruptPayloadSchema".into(), json!({"oneOf": payloads}));
        schemas.insert("ResumePayloadSchema".into(), json!({"oneOf": resumes}));
    }
    // A resume route the SDK's pruning keeps (the thread one) still names the payload.
    for free in ["InterruptPayloadSchema", "ResumePayloadSchema"] {
        schemas
            .entry(free.to_string())
            .or_insert_with(|| json!({"type": "object", "description": "Free-form: this agent declares no interrupts."}));
    }
    for body in ["RunCreate", "RunCreateStateless", "RunCreateStateful"] {
        if let Some(Value::Object(props)) =
            schemas.get_mut(body).and_then(|b| b.get_mut("properties"))
        {
            if !caps.streaming() {
                props.remove("stream_mode");
            }
            if !caps.callbacks {
                props.remove("webhook");
            }
        }
    }

    let mut paths = Map::new();
    for op in Operation::all() {
        let (path, method) = (op.path(), op.method());
        let dropped = (!caps.threads && path.starts_with("/threads"))
            || (!caps.interrupts && method == "POST" && path == "/runs/{run_id}")
            || (!caps.streaming() && method == "GET" && path == "/runs/{run_id}/stream");
        if dropped {
            continue;
        }
        let item = paths
            .entry(path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(method.to_ascii_lowercase(), operation(&op));
        }
    }
    let mut tags = vec![json!({"name": "Agents"}), json!({"name": "Stateless Runs"})];
    if caps.threads {
        tags.push(json!({"name": "Threads"}));
        tags.push(json!({"name": "Thread Runs"}));
    }
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("ACP Spec for {name}"),
            "version": "0.2.1",
            "description": "The Agent Connect Protocol operations this agent supports, with its own schemas (made by acp-client-ext from its descriptor).",
        },
        "tags": tags,
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// acp-sdk's `_convert_acp_spec_schema`: the schema's own `#/$defs/` references, made to
/// point into its place among the components.
fn convert(name: &str, schema: &Value) -> Value {
    let text = schema.to_string().replace(
        "\"#/$defs/",
        &format!("\"#/components/schemas/{name}/$defs/"),
    );
    serde_json::from_str(&text).unwrap_or_else(|_| schema.clone())
}

/// The schemas of the generated request and response types, as components.
fn component_schemas() -> Map<String, Value> {
    let settings = SchemaSettings::draft2019_09().with(|s| {
        s.definitions_path = "#/components/schemas/".into();
    });
    let mut generator = settings.into_generator();
    macro_rules! add {
        ($($t:ty),*) => { $( let _ = generator.subschema_for::<$t>(); )* };
    }
    add!(
        types::Agent,
        types::AgentAcpDescriptor,
        types::AgentSearchRequest,
        types::Thread,
        types::ThreadCreate,
        types::ThreadPatch,
        types::ThreadSearchRequest,
        types::ThreadState,
        types::RunCreateStateless,
        types::RunCreateStateful,
        types::RunStateless,
        types::RunStateful,
        types::RunSearchRequest,
        types::RunWaitResponseStateless,
        types::RunWaitResponseStateful,
        types::RunOutputStream,
        types::ResumePayloadSchema,
        types::ErrorResponse
    );
    generator
        .take_definitions()
        .into_iter()
        .filter_map(|(k, v)| Some((k, serde_json::to_value(v).ok()?)))
        .collect()
}

/// The request and response components of an operation, and its tag.
fn shapes(id: &str) -> (Option<&'static str>, Option<&'static str>, &'static str) {
    match id {
        "search_agents" => (Some("AgentSearchRequest"), Some("[Agent]"), "Agents"),
        "get_agent_by_id" => (None, Some("Agent"), "Agents"),
        "get_acp_descriptor_by_id" => (None, Some("AgentACPDescriptor"), "Agents"),
        "create_thread" => (Some("ThreadCreate"), Some("Thread"), "Threads"),
        "search_threads" => (Some("ThreadSearchRequest"), Some("[Thread]"), "Threads"),
        "get_thread" | "copy_thread" => (None, Some("Thread"), "Threads"),
        "patch_thread" => (Some("ThreadPatch"), Some("Thread"), "Threads"),
        "delete_thread" => (None, None, "Threads"),
        "get_thread_history" => (None, Some("[ThreadState]"), "Threads"),
        "create_stateless_run" => (
            Some("RunCreateStateless"),
            Some("RunStateless"),
            "Stateless Runs",
        ),
        "create_and_stream_stateless_run_output" => (
            Some("RunCreateStateless"),
            Some("~RunOutputStream"),
            "Stateless Runs",
        ),
        "create_and_wait_for_stateless_run_output" | "wait_for_stateless_run_output" => {
            let body =
                (id == "create_and_wait_for_stateless_run_output").then_some("RunCreateStateless");
            (body, Some("RunWaitResponseStateless"), "Stateless Runs")
        }
        "search_stateless_runs" => (
            Some("RunSearchRequest"),
            Some("[RunStateless]"),
            "Stateless Runs",
        ),
        "get_stateless_run" | "cancel_stateless_run" => {
            (None, Some("RunStateless"), "Stateless Runs")
        }
        "resume_stateless_run" => (
            Some("ResumePayloadSchema"),
            Some("RunStateless"),
            "Stateless Runs",
        ),
        "delete_stateless_run" => (None, None, "Stateless Runs"),
        "stream_stateless_run_output" => (None, Some("~RunOutputStream"), "Stateless Runs"),
        "create_thread_run" => (
            Some("RunCreateStateful"),
            Some("RunStateful"),
            "Thread Runs",
        ),
        "create_and_stream_thread_run_output" => (
            Some("RunCreateStateful"),
            Some("~RunOutputStream"),
            "Thread Runs",
        ),
        "create_and_wait_for_thread_run_output" | "wait_for_thread_run_output" => {
            let body =
                (id == "create_and_wait_for_thread_run_output").then_some("RunCreateStateful");
            (body, Some("RunWaitResponseStateful"), "Thread Runs")
        }
        "list_thread_runs" => (None, Some("[RunStateful]"), "Thread Runs"),
        "get_thread_run" | "cancel_thread_run" => (None, Some("RunStateful"), "Thread Runs"),
        "resume_thread_run" => (
            Some("ResumePayloadSchema"),
            Some("RunStateful"),
            "Thread Runs",
        ),
        "delete_thread_run" => (None, None, "Thread Runs"),
        "stream_thread_run_output" => (None, Some("~RunOutputStream"), "Thread Runs"),
        _ => (
            None,
            None,
            if id.contains("thread") {
                "Threads"
            } else {
                "Stateless Runs"
            },
        ),
    }
}

fn component_ref(name: &str) -> Value {
    // schemars names AgentAcpDescriptor after the Rust type.
    let name = if name == "AgentACPDescriptor" {
        "AgentAcpDescriptor"
    } else {
        name
    };
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(item) => {
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}})
        }
        None => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

/// One operation object: id, tag, path parameters, body and success answer.
fn operation(op: &Operation) -> Value {
    let (body, answer, tag) = shapes(op.id());
    let parameters: Vec<Value> = op
        .path_params()
        .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}))
        .collect();
    let mut o = json!({"operationId": op.id(), "tags": [tag]});
    if !parameters.is_empty() {
        o["parameters"] = Value::from(parameters);
    }
    if let Some(body) = body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": component_ref(body)}}});
    }
    o["responses"] = match answer {
        Some(a) => match a.strip_prefix('~') {
            Some(stream) => {
                json!({"200": {"description": "Success", "content": {"text/event-stream": {"schema": component_ref(stream)}}}})
            }
            None => {
                json!({"200": {"description": "Success", "content": {"application/json": {"schema": component_ref(a)}}}})
            }
        },
        None => json!({"204": {"description": "Success"}}),
    };
    o
}
