//! The generated types decode JSON as real ACP servers write it, and survive a round trip.
//!
//! Payloads are wire text, written the way a Python FastAPI/pydantic server emits them: unknown
//! extra fields, `null` for unset optional fields, `Z` and `+00:00` datetimes with microseconds,
//! lowercase UUIDs. Every positive case goes through [`decode`], which also serializes the value,
//! decodes that again and checks both serializations are equal.
//!
//! An optional array or object field decodes to `Option`: `Some` when the payload has it, `None`
//! when it is absent or `null` (the codegen normalizer rule `nullable-optional`; see
//! `null_optional_collections_decode`).
//!
//! The section "As the Agent Workflow Server writes it" decodes payloads the way agntcy's Python
//! server really sends them, beyond the spec: naive `datetime.now()` timestamps, `null` for every
//! unset field (defaulted and required ones included), and enum values and output types the spec
//! does not list. The rules that make the generated types read them are in
//! `xtask/src/postprocess.rs`.

use acp_client::types::{
    Action, Agent, AgentAcpDescriptor, Content, ContentArrayItem, ErrorResponse, IfExists,
    IfNotExists, Message, MessageTextBlockType, MultitaskStrategy, OnCompletion, OnDisconnect,
    RunCreateStateful, RunCreateStatefulStreamMode, RunOutput, RunOutputStream,
    RunOutputStreamEvent, RunStateful, RunStateless, RunStatus, RunWaitResponseStateful,
    RunWaitResponseStateless, Status, StreamEventPayload, StreamingMode, Thread, ThreadState,
    ThreadStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;
use uuid::{Uuid, uuid};

const RUN_ID: Uuid = uuid!("3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12");
const AGENT_ID: Uuid = uuid!("7d5e0c1b-2f4a-4b8e-b3d9-1a6c8e2f0b47");
const THREAD_ID: Uuid = uuid!("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d");

/// A free-form schema value (`OutputSchema`, `InputSchema`, ...) as JSON. Those are map
/// newtypes in ACP 0.2.1 and enums over JSON kinds from 0.2.3; reading them through serde keeps
/// these tests valid across that spec bump.
fn as_json(v: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("serializes")
}

/// Decode `json` into `T`, then check the round trip: serialize, decode again, serialize again,
/// and compare the two serialized values. Panics with the reason and the payload on failure.
#[track_caller]
fn decode<T: DeserializeOwned + Serialize>(json: &str) -> T {
    try_decode(json).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

/// [`decode`] without the panic: the first failure, naming the type.
fn try_decode<T: DeserializeOwned + Serialize>(json: &str) -> Result<T, String> {
    let name = std::any::type_name::<T>();
    let value: T = serde_json::from_str(json).map_err(|e| format!("{name} rejected it: {e}"))?;
    let first = serde_json::to_value(&value).map_err(|e| format!("{name} serialize: {e}"))?;
    let again: T = serde_json::from_value(first.clone())
        .map_err(|e| format!("{name} rejected its own serialization {first}: {e}"))?;
    let second = serde_json::to_value(&again).map_err(|e| format!("{name} serialize: {e}"))?;
    if first != second {
        return Err(format!("{name} round trip changed {first} into {second}"));
    }
    Ok(value)
}

/// The serde error for a payload that `T` must reject.
#[track_caller]
fn reject<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    match serde_json::from_str::<T>(json) {
        Ok(value) => panic!(
            "{} accepted a payload it must reject:\n{json}\ndecoded as {value:?}",
            std::any::type_name::<T>()
        ),
        Err(e) => e.to_string(),
    }
}

/// 2025-03-26T10:11:12 UTC plus `micros` microseconds.
fn at(micros: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2025, 3, 26)
        .and_then(|d| d.and_hms_micro_opt(10, 11, 12, micros))
        .expect("valid timestamp")
        .and_utc()
}

// ---------------------------------------------------------------------------------------------
// RunOutput: regression test for the typify bug that merged the three `type` enums (all titled
// "Output Type") into one accepting only "result". Each kind must land in its own variant.

#[test]
fn run_output_result() {
    let out: RunOutput = decode(
        r#"{
            "type": "result",
            "values": {"answer": "Paris", "confidence": 0.97, "sources": ["wiki"]},
            "messages": [
                {"role": "user", "content": "What is the capital of France?", "id": null},
                {"role": "assistant", "content": "Paris.", "id": "msg-2", "metadata": {"model": "gpt-4o"}}
            ],
            "usage": {"prompt_tokens": 21, "completion_tokens": 3}
        }"#,
    );
    let RunOutput::Result(result) = out else {
        panic!("expected RunOutput::Result, got {out:?}")
    };
    let values = as_json(&result.values.expect("values"));
    assert_eq!(values["answer"], "Paris");
    assert_eq!(values["confidence"], 0.97);
    let messages = result.messages.as_deref().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].id, None);
    assert!(messages[0].metadata.is_none());
    assert_eq!(messages[1].role, "assistant");
    assert_eq!(messages[1].id.as_deref(), Some("msg-2"));
    assert_eq!(
        messages[1].metadata.as_ref().expect("metadata")["model"],
        "gpt-4o"
    );
}

#[test]
fn run_output_result_minimal() {
    // `values` null and `messages` absent: the smallest result a server can send.
    let out: RunOutput = decode(r#"{"type": "result", "values": null}"#);
    let RunOutput::Result(result) = out else {
        panic!("expected RunOutput::Result, got {out:?}")
    };
    assert!(result.values.is_none());
    assert!(result.messages.is_none());
}

#[test]
fn run_output_interrupt() {
    let out: RunOutput = decode(
        r#"{
            "type": "interrupt",
            "interrupt": {
                "interrupt_type": "approval",
                "question": "Send this email to 3 recipients?",
                "draft": {"to": ["a@example.com"], "subject": "Q1 report"}
            },
            "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12"
        }"#,
    );
    let RunOutput::Interrupt(interrupt) = out else {
        panic!("expected RunOutput::Interrupt, got {out:?}")
    };
    assert_eq!(as_json(&interrupt.interrupt)["interrupt_type"], "approval");
    assert_eq!(
        as_json(&interrupt.interrupt)["draft"]["subject"],
        "Q1 report"
    );
}

#[test]
fn run_output_error() {
    let out: RunOutput = decode(
        r#"{
            "type": "error",
            "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12",
            "errcode": 500,
            "description": "ValueError: tool 'search' timed out after 30s",
            "traceback": null
        }"#,
    );
    let RunOutput::Error(error) = out else {
        panic!("expected RunOutput::Error, got {out:?}")
    };
    assert_eq!(error.run_id, RUN_ID);
    assert_eq!(error.errcode, 500);
    assert!(error.description.starts_with("ValueError"));
}

#[test]
fn run_output_keeps_unknown_or_incomplete_type_as_json() {
    // `RunOutput` is `#[serde(untagged)]` and every variant's `type` is a one-value enum, so an
    // unknown discriminator matches no typed variant even when the rest of the body would fit
    // one; it lands in `Unknown` (codegen rule `open-union`) instead of failing the wait response
    // around it.
    let out: RunOutput = decode(r#"{"type": "cancelled", "values": {"answer": "Paris"}}"#);
    let RunOutput::Unknown(raw) = &out else {
        panic!("expected RunOutput::Unknown, got {out:?}")
    };
    assert_eq!(raw["type"], "cancelled");
    assert_eq!(raw["values"]["answer"], "Paris");
    for body in [
        r#"{"type": "Result", "values": {}}"#,
        r#"{"values": {"answer": "Paris"}}"#,
        // A known `type` whose required fields are missing is not typed either (no fall-through
        // into another variant).
        r#"{"type": "interrupt"}"#,
        r#"{"type": "error", "description": "boom"}"#,
    ] {
        let out: RunOutput = decode(body);
        assert!(matches!(out, RunOutput::Unknown(_)), "{body}: {out:?}");
    }
    // Any JSON is kept, even a non-object: the enclosing object still decodes.
    let out: RunOutput = decode("42");
    assert!(
        matches!(&out, RunOutput::Unknown(v) if *v == json!(42)),
        "{out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Streaming: the SSE event and its `data` payload.

const VALUES_EVENT: &str = r#"{
    "id": "1",
    "event": "agent_event",
    "data": {
        "type": "values",
        "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12",
        "status": "pending",
        "values": {"step": "retrieve", "documents": 3},
        "messages": [{"role": "assistant", "content": [{"type": "text", "text": "Searching..."}]}]
    }
}"#;

const CUSTOM_EVENT: &str = r#"{
    "id": "2",
    "event": "agent_event",
    "data": {
        "type": "custom",
        "run_id": null,
        "status": "pending",
        "update": {"token": "Par", "index": 0},
        "seq": 17
    }
}"#;

#[test]
fn stream_event_values() {
    let event: RunOutputStream = decode(VALUES_EVENT);
    assert_eq!(event.id, "1");
    assert_eq!(event.event, RunOutputStreamEvent::AgentEvent);
    let StreamEventPayload::ValueRunResultUpdate(update) = event.data else {
        panic!("expected ValueRunResultUpdate, got {:?}", event.data)
    };
    assert_eq!(update.run_id, RUN_ID);
    assert_eq!(update.status, RunStatus::Pending);
    assert_eq!(as_json(&update.values)["documents"], 3);
    assert_eq!(update.messages.as_ref().map(Vec::len), Some(1));
}

#[test]
fn stream_event_custom() {
    let event: RunOutputStream = decode(CUSTOM_EVENT);
    assert_eq!(event.id, "2");
    let StreamEventPayload::CustomRunResultUpdate(update) = event.data else {
        panic!("expected CustomRunResultUpdate, got {:?}", event.data)
    };
    assert_eq!(update.run_id, None);
    assert_eq!(update.status, RunStatus::Pending);
    assert_eq!(update.update["token"], "Par");
}

#[test]
fn stream_payload_alone() {
    // The SSE `data:` line on its own, as a client reads it from an event stream.
    let values: StreamEventPayload = decode(
        r#"{"type": "values", "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12",
            "status": "success", "values": {"answer": "Paris"}, "messages": []}"#,
    );
    let StreamEventPayload::ValueRunResultUpdate(update) = values else {
        panic!("expected ValueRunResultUpdate, got {values:?}")
    };
    assert_eq!(update.status, RunStatus::Success);
    assert_eq!(as_json(&update.values)["answer"], "Paris");
    // An empty list is kept apart from an absent or `null` one.
    assert_eq!(update.messages.as_ref().map(Vec::len), Some(0));

    let custom: StreamEventPayload = decode(
        r#"{"type": "custom", "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12",
            "status": "interrupted", "update": {"progress": 0.5}}"#,
    );
    let StreamEventPayload::CustomRunResultUpdate(update) = custom else {
        panic!("expected CustomRunResultUpdate, got {custom:?}")
    };
    assert_eq!(update.run_id, Some(RUN_ID));
    assert_eq!(update.status, RunStatus::Interrupted);
    assert_eq!(update.update["progress"], 0.5);

    // An event type this spec version does not know is kept as JSON (codegen rule `open-union`).
    let debug: StreamEventPayload =
        decode(r#"{"type": "debug", "status": "pending", "update": {}, "values": {}}"#);
    assert!(
        matches!(&debug, StreamEventPayload::Unknown(v) if v["type"] == "debug"),
        "{debug:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Message.content: a string, or a list of text blocks and arbitrary blocks.

#[test]
fn message_content_string() {
    let msg: Message = decode(r#"{"role": "user", "content": "hi", "id": null}"#);
    let Content::String(text) = &msg.content else {
        panic!("expected Content::String, got {:?}", msg.content)
    };
    assert_eq!(text, "hi");
    assert_eq!(msg.role, "user");
}

#[test]
fn message_content_text_block() {
    let msg: Message = decode(
        r#"{"role": "assistant", "content": [{"type": "text", "text": "hi"}], "id": "m-1"}"#,
    );
    let Content::Array(blocks) = &msg.content else {
        panic!("expected Content::Array, got {:?}", msg.content)
    };
    let [
        ContentArrayItem::TextBlock {
            text,
            type_,
            metadata,
        },
    ] = blocks.as_slice()
    else {
        panic!("expected one TextBlock, got {blocks:?}")
    };
    assert_eq!(text, "hi");
    assert_eq!(*type_, MessageTextBlockType::Text);
    assert!(metadata.is_none());
}

#[test]
fn message_content_any_block() {
    let msg: Message = decode(
        r#"{
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Here is the chart:", "metadata": {"lang": "en"}},
                {"type": "image", "metadata": {"mime_type": "image/png", "url": "https://cdn.example.com/c.png", "width": 640}}
            ]
        }"#,
    );
    let Content::Array(blocks) = &msg.content else {
        panic!("expected Content::Array, got {:?}", msg.content)
    };
    let [
        ContentArrayItem::TextBlock {
            metadata: text_meta,
            ..
        },
        ContentArrayItem::AnyBlock { type_, metadata },
    ] = blocks.as_slice()
    else {
        panic!("expected TextBlock then AnyBlock, got {blocks:?}")
    };
    assert_eq!(
        text_meta.as_ref().expect("text block metadata")["lang"],
        "en"
    );
    assert_eq!(type_, "image");
    let metadata = metadata.as_ref().expect("any block metadata");
    assert_eq!(metadata["mime_type"], "image/png");
    assert_eq!(metadata["width"], 640);
}

#[test]
fn message_content_block_with_text_but_other_type_is_any_block() {
    // Only `"type": "text"` makes a TextBlock; any other type is an AnyBlock, whatever it holds.
    let msg: Message = decode(
        r#"{"role": "tool", "content": [{"type": "tool_result", "text": "42", "tool_call_id": "c1"}]}"#,
    );
    let Content::Array(blocks) = &msg.content else {
        panic!("expected Content::Array, got {:?}", msg.content)
    };
    assert!(
        matches!(blocks.as_slice(), [ContentArrayItem::AnyBlock { type_, .. }] if type_ == "tool_result"),
        "{blocks:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// RunCreateStateful: stream_mode shapes and defaults.

#[test]
fn stream_mode_one_mode() {
    let run: RunCreateStateful = decode(r#"{"input": {"q": "hi"}, "stream_mode": "values"}"#);
    assert!(
        matches!(
            run.stream_mode,
            Some(RunCreateStatefulStreamMode::StreamingMode(
                StreamingMode::Values
            ))
        ),
        "{:?}",
        run.stream_mode
    );
}

#[test]
fn stream_mode_list() {
    let run: RunCreateStateful = decode(r#"{"stream_mode": ["values", "custom"]}"#);
    let Some(RunCreateStatefulStreamMode::Array(modes)) = &run.stream_mode else {
        panic!("expected a list of modes, got {:?}", run.stream_mode)
    };
    assert_eq!(modes, &[StreamingMode::Values, StreamingMode::Custom]);
}

#[test]
fn stream_mode_null_and_absent() {
    let null: RunCreateStateful = decode(r#"{"stream_mode": null}"#);
    assert!(null.stream_mode.is_none());
    let absent: RunCreateStateful = decode(r#"{"input": {"q": "hi"}}"#);
    assert!(absent.stream_mode.is_none());
    // A mode this spec version does not list is kept (codegen rule `open-enum`).
    let other: RunCreateStateful = decode(r#"{"stream_mode": "events"}"#);
    assert!(
        matches!(&other.stream_mode, Some(RunCreateStatefulStreamMode::StreamingMode(StreamingMode::Other(m))) if m == "events"),
        "{:?}",
        other.stream_mode
    );
    reject::<RunCreateStateful>(r#"{"stream_mode": 3}"#);
}

#[test]
fn run_create_stateful_defaults() {
    // Defaults are plain enum values filled in by `#[serde(default = ...)]`, not `Option`s.
    let run: RunCreateStateful = decode("{}");
    assert_eq!(run.if_not_exists, IfNotExists::Reject);
    assert_eq!(run.on_disconnect, OnDisconnect::Cancel);
    assert_eq!(run.multitask_strategy, MultitaskStrategy::Reject);
    assert!(!run.stream_subgraphs);
    assert!(run.agent_id.is_none() && run.input.is_none() && run.config.is_none());
    // `Default` agrees with the spec defaults, and they are always sent explicitly.
    let default = RunCreateStateful::default();
    assert_eq!(default.if_not_exists, IfNotExists::Reject);
    assert_eq!(default.on_disconnect, OnDisconnect::Cancel);
    assert_eq!(default.multitask_strategy, MultitaskStrategy::Reject);
    assert_eq!(
        serde_json::to_value(&default).expect("serialize"),
        json!({
            "if_not_exists": "reject",
            "multitask_strategy": "reject",
            "on_disconnect": "cancel",
            "stream_subgraphs": false
        })
    );
}

#[test]
fn run_create_stateful_explicit_values() {
    let run: RunCreateStateful = decode(
        r#"{"if_not_exists": "create", "on_disconnect": "continue",
            "multitask_strategy": "enqueue", "stream_subgraphs": true}"#,
    );
    assert_eq!(run.if_not_exists, IfNotExists::Create);
    assert_eq!(run.on_disconnect, OnDisconnect::Continue);
    assert_eq!(run.multitask_strategy, MultitaskStrategy::Enqueue);
    assert!(run.stream_subgraphs);
}

// ---------------------------------------------------------------------------------------------
// Runs, threads, agents.

/// A stateful run as a pydantic server dumps it: every field present, unset ones `null`,
/// `+00:00` datetimes, and a field this spec version does not know (`kwargs`).
const RUN_STATEFUL: &str = r#"{
    "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12",
    "thread_id": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
    "agent_id": "7d5e0c1b-2f4a-4b8e-b3d9-1a6c8e2f0b47",
    "created_at": "2025-03-26T10:11:12+00:00",
    "updated_at": "2025-03-26T10:11:12.123456+00:00",
    "status": "success",
    "kwargs": {"foo": "bar"},
    "creation": {
        "agent_id": "7d5e0c1b-2f4a-4b8e-b3d9-1a6c8e2f0b47",
        "input": {"messages": [{"role": "user", "content": "What is the capital of France?"}]},
        "metadata": {"user": "alice"},
        "config": {"tags": ["prod"], "recursion_limit": 25, "configurable": {"model": "gpt-4o"}},
        "webhook": "https://hooks.example.com/acp/runs",
        "stream_mode": null,
        "on_disconnect": "cancel",
        "multitask_strategy": "reject",
        "after_seconds": null,
        "stream_subgraphs": false,
        "if_not_exists": "create"
    }
}"#;

#[test]
fn run_stateful_with_creation() {
    let run: RunStateful = decode(RUN_STATEFUL);
    assert_eq!(run.run_id, RUN_ID);
    assert_eq!(run.thread_id, Some(THREAD_ID));
    assert_eq!(run.agent_id, AGENT_ID);
    assert_eq!(run.status, RunStatus::Success);
    assert_eq!(run.created_at, at(0));
    assert_eq!(run.updated_at, at(123_456));

    let creation = &run.creation;
    assert_eq!(
        creation.agent_id.as_deref(),
        Some("7d5e0c1b-2f4a-4b8e-b3d9-1a6c8e2f0b47")
    );
    let input = as_json(creation.input.as_ref().expect("input"));
    assert_eq!(input["messages"][0]["role"], "user");
    assert_eq!(
        creation.metadata.as_ref().expect("metadata")["user"],
        "alice"
    );
    let config = creation.config.as_ref().expect("config");
    assert_eq!(config.tags.as_ref().expect("tags"), &["prod"]);
    assert_eq!(config.recursion_limit, Some(25));
    assert_eq!(
        as_json(config.configurable.as_ref().expect("configurable"))["model"],
        "gpt-4o"
    );
    assert_eq!(
        creation.webhook.as_deref().map(String::as_str),
        Some("https://hooks.example.com/acp/runs")
    );
    assert!(creation.stream_mode.is_none() && creation.after_seconds.is_none());
    assert_eq!(creation.if_not_exists, IfNotExists::Create);
    assert_eq!(creation.on_disconnect, OnDisconnect::Cancel);
}

#[test]
fn run_wait_response_stateful() {
    let body = format!(
        r#"{{"run": {RUN_STATEFUL},
            "output": {{"type": "result", "values": {{"answer": "Paris"}},
                        "messages": [{{"role": "assistant", "content": "Paris."}}]}}}}"#
    );
    let wait: RunWaitResponseStateful = decode(&body);
    let run = wait.run.expect("run");
    assert_eq!(run.run_id, RUN_ID);
    assert_eq!(run.status, RunStatus::Success);
    let Some(RunOutput::Result(result)) = wait.output else {
        panic!("expected RunOutput::Result, got {:?}", wait.output)
    };
    assert_eq!(as_json(&result.values.expect("values"))["answer"], "Paris");

    // A wait that ended in an interrupt, with an `error` field this spec version does not know.
    let body = format!(
        r#"{{"run": {RUN_STATEFUL}, "error": null,
            "output": {{"type": "interrupt", "interrupt": {{"interrupt_type": "question"}}}}}}"#
    );
    let wait: RunWaitResponseStateful = decode(&body);
    assert!(
        matches!(&wait.output, Some(RunOutput::Interrupt(i)) if as_json(&i.interrupt)["interrupt_type"] == "question"),
        "{:?}",
        wait.output
    );

    // Both fields are optional.
    let empty: RunWaitResponseStateful = decode(r#"{"run": null, "output": null}"#);
    assert!(empty.run.is_none() && empty.output.is_none());
}

#[test]
fn thread() {
    let thread: Thread = decode(
        r#"{
            "thread_id": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
            "created_at": "2025-03-26T10:11:12.123456Z",
            "updated_at": "2025-03-26T11:11:12.123456+01:00",
            "metadata": {"owner": "alice", "graph_id": "agent"},
            "status": "interrupted",
            "values": {"messages_count": 2, "plan": ["search", "answer"]},
            "messages": [
                {"role": "user", "content": "hi", "id": "m-1"},
                {"role": "assistant", "content": [{"type": "text", "text": "hello"}], "id": "m-2"}
            ],
            "interrupts": {}
        }"#,
    );
    assert_eq!(thread.thread_id, THREAD_ID.to_string());
    assert_eq!(thread.created_at, at(123_456));
    // `+01:00` is converted to UTC.
    assert_eq!(thread.updated_at, at(123_456));
    assert_eq!(thread.status, Status::Interrupted);
    assert_eq!(thread.metadata["owner"], "alice");
    assert_eq!(
        as_json(thread.values.as_ref().expect("values"))["messages_count"],
        2
    );
    let messages = thread.messages.as_deref().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].id.as_deref(), Some("m-2"));

    // The smallest thread: `values` null, `messages` absent (the agent does not support messages).
    let bare: Thread = decode(
        r#"{"thread_id": "t-1", "created_at": "2025-03-26T10:11:12Z",
            "updated_at": "2025-03-26T10:11:12Z", "metadata": {}, "status": "idle", "values": null}"#,
    );
    assert_eq!(bare.status, Status::Idle);
    assert!(bare.values.is_none() && bare.messages.is_none());
}

#[test]
fn thread_state() {
    let state: ThreadState = decode(
        r#"{
            "checkpoint": {"checkpoint_id": "5c8d6a2e-1f3b-4e7a-9d0c-2b4f6e8a0c1d", "checkpoint_ns": ""},
            "values": {"plan": ["search"], "done": false},
            "messages": [{"role": "user", "content": "hi"}],
            "metadata": {"step": 3, "source": "loop", "writes": null},
            "created_at": "2025-03-26T10:11:12.123456Z"
        }"#,
    );
    assert_eq!(
        state.checkpoint.checkpoint_id,
        uuid!("5c8d6a2e-1f3b-4e7a-9d0c-2b4f6e8a0c1d")
    );
    assert_eq!(as_json(&state.values)["done"], false);
    assert_eq!(state.messages.as_ref().map(Vec::len), Some(1));
    let metadata = state.metadata.as_ref().expect("metadata");
    assert_eq!(metadata["step"], 3);
    assert!(metadata["writes"].is_null());
}

#[test]
fn agent() {
    let agent: Agent = decode(
        r#"{
            "agent_id": "7d5e0c1b-2f4a-4b8e-b3d9-1a6c8e2f0b47",
            "metadata": {
                "ref": {"name": "org.agntcy.mailcomposer", "version": "0.0.1", "url": null},
                "description": "Compose emails from a conversation."
            }
        }"#,
    );
    assert_eq!(agent.agent_id, AGENT_ID);
    assert_eq!(agent.metadata.ref_.name, "org.agntcy.mailcomposer");
    assert_eq!(agent.metadata.ref_.version, "0.0.1");
    assert_eq!(agent.metadata.ref_.url, None);
    assert!(agent.metadata.description.starts_with("Compose"));
}

#[test]
fn agent_acp_descriptor() {
    let descriptor: AgentAcpDescriptor = decode(
        r##"{
            "metadata": {
                "ref": {
                    "name": "org.agntcy.mailcomposer",
                    "version": "0.0.1",
                    "url": "https://directory.example.com/agents/mailcomposer/0.0.1"
                },
                "description": "Compose emails from a conversation, asking for approval before sending."
            },
            "specs": {
                "capabilities": {
                    "threads": true,
                    "interrupts": true,
                    "callbacks": false,
                    "streaming": {"values": true, "custom": null}
                },
                "input": {
                    "type": "object",
                    "title": "MailComposerInput",
                    "properties": {
                        "messages": {"type": "array", "items": {"$ref": "#/$defs/Message"}},
                        "is_completed": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null}
                    },
                    "required": ["messages"],
                    "$defs": {
                        "Message": {
                            "type": "object",
                            "properties": {"type": {"enum": ["human", "assistant"]}, "content": {"type": "string"}},
                            "required": ["type", "content"]
                        }
                    }
                },
                "output": {
                    "type": "object",
                    "title": "MailComposerOutput",
                    "properties": {"final_email": {"type": "string", "description": "The email, once approved."}}
                },
                "config": {
                    "type": "object",
                    "title": "MailComposerConfig",
                    "properties": {"test": {"type": "boolean", "default": false}}
                },
                "custom_streaming_update": {"type": "object", "properties": {"token": {"type": "string"}}},
                "thread_state": {"type": "object", "additionalProperties": true},
                "interrupts": [
                    {
                        "interrupt_type": "approval",
                        "interrupt_payload": {
                            "type": "object",
                            "properties": {"email": {"type": "string"}},
                            "required": ["email"]
                        },
                        "resume_payload": {
                            "type": "object",
                            "properties": {"approved": {"type": "boolean"}, "feedback": {"type": ["string", "null"]}},
                            "required": ["approved"]
                        }
                    }
                ]
            },
            "deployment": {"deployment_options": [{"type": "source_code", "name": "src"}]}
        }"##,
    );
    assert_eq!(descriptor.metadata.ref_.name, "org.agntcy.mailcomposer");
    assert_eq!(
        descriptor.metadata.ref_.url.as_deref(),
        Some("https://directory.example.com/agents/mailcomposer/0.0.1")
    );
    let specs = &descriptor.specs;
    let caps = &specs.capabilities;
    assert!(caps.threads && caps.interrupts && !caps.callbacks);
    let streaming = caps.streaming.as_ref().expect("streaming");
    assert_eq!(streaming.values, Some(true));
    assert_eq!(streaming.custom, None);
    assert_eq!(specs.input["title"], "MailComposerInput");
    assert_eq!(specs.input["required"], json!(["messages"]));
    assert_eq!(specs.output["properties"]["final_email"]["type"], "string");
    assert_eq!(specs.config["properties"]["test"]["default"], false);
    let custom_update = specs.custom_streaming_update.as_ref();
    assert_eq!(
        custom_update.expect("custom_streaming_update")["type"],
        "object"
    );
    let thread_state = specs.thread_state.as_ref().expect("thread_state");
    assert_eq!(thread_state["additionalProperties"], true);
    let Some([interrupt]) = specs.interrupts.as_deref() else {
        panic!("expected one interrupt, got {:?}", specs.interrupts)
    };
    assert_eq!(interrupt.interrupt_type, "approval");
    assert_eq!(interrupt.interrupt_payload["required"], json!(["email"]));
    assert_eq!(
        interrupt.resume_payload["properties"]["approved"]["type"],
        "boolean"
    );
}

#[test]
fn agent_acp_descriptor_minimal() {
    // Only the required parts: optional capabilities and schemas absent.
    let descriptor: AgentAcpDescriptor = decode(
        r#"{"metadata": {"ref": {"name": "echo", "version": "1.0.0"}, "description": "Echo."},
            "specs": {"capabilities": {}, "input": {}, "output": {}, "config": {}}}"#,
    );
    let caps = &descriptor.specs.capabilities;
    assert!(!caps.threads && !caps.interrupts && !caps.callbacks && caps.streaming.is_none());
    let specs = &descriptor.specs;
    assert!(specs.interrupts.is_none());
    assert!(specs.thread_state.is_none() && specs.custom_streaming_update.is_none());
    assert!(descriptor.metadata.ref_.url.is_none());
}

// ---------------------------------------------------------------------------------------------
// ErrorResponse: the spec says a JSON string; FastAPI answers `{"detail": ...}`. Both decode.

#[test]
fn error_response_string() {
    let err: ErrorResponse = decode(r#""Run not found""#);
    assert_eq!(err.0, json!("Run not found"));
    assert_eq!(err.as_str(), Some("Run not found"));
}

#[test]
fn error_response_fastapi_detail() {
    let err: ErrorResponse = decode(r#"{"detail": "Not Found"}"#);
    assert_eq!(err["detail"], "Not Found");

    // FastAPI's 422 validation error body.
    let err: ErrorResponse = decode(
        r#"{"detail": [{"type": "missing", "loc": ["body", "input"], "msg": "Field required",
            "input": null}]}"#,
    );
    assert_eq!(err["detail"][0]["loc"], json!(["body", "input"]));
}

// ---------------------------------------------------------------------------------------------
// Timestamps: every spelling reads; unreadable text is kept (`acp_client::Timestamp`).

#[test]
fn naive_datetime_reads_as_utc() {
    // Pydantic writes a naive `datetime` (e.g. from `datetime.now()`) without an offset. The spec's
    // `format: date-time` is RFC 3339, which requires one; the generated types read it as UTC
    // (`acp_client::Timestamp`, codegen rule `timestamp`) instead of rejecting the thread.
    let thread: Thread = decode(
        r#"{"thread_id": "t-1", "created_at": "2025-03-26T10:11:12.123456",
            "updated_at": "2025-03-26T10:11:12.123456", "metadata": {}, "status": "idle"}"#,
    );
    assert_eq!(thread.created_at.datetime(), Some(at(123_456)));
    assert_eq!(thread.updated_at, at(123_456));
    // Written back strictly: RFC 3339 in UTC.
    assert_eq!(
        as_json(&thread)["created_at"],
        "2025-03-26T10:11:12.123456Z"
    );
}

#[test]
fn timestamp_spellings() {
    let cases = [
        ("2025-03-26T10:11:12Z", at(0)),
        ("2025-03-26T10:11:12.123456Z", at(123_456)),
        ("2025-03-26T12:11:12+02:00", at(0)),
        ("2025-03-26T04:41:12.5-05:30", at(500_000)),
        ("2025-03-26T10:11:12+00:00", at(0)),
        ("2025-03-26T10:11:12", at(0)),
        ("2025-03-26T10:11:12.000001", at(1)),
        ("2025-03-26 10:11:12", at(0)),
        ("2025-03-26 10:11:12.25", at(250_000)),
        ("2025-03-26 10:11:12+00:00", at(0)),
    ];
    for (text, expected) in cases {
        let body = format!(
            r#"{{"thread_id": "t-1", "created_at": "{text}", "updated_at": "{text}",
                "metadata": {{}}, "status": "idle"}}"#
        );
        let thread: Thread = decode(&body);
        assert_eq!(thread.created_at.datetime(), Some(expected), "{text}");
        assert_eq!(thread.created_at.text(), text);
        assert_eq!(
            as_json(&thread)["updated_at"],
            expected.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            "{text}"
        );
    }
}

#[test]
fn unreadable_timestamp_is_kept_as_text() {
    let thread: Thread = decode(
        r#"{"thread_id": "t-1", "created_at": "yesterday", "updated_at": "2025-03-26T10:11:12Z",
            "metadata": {}, "status": "idle"}"#,
    );
    assert_eq!(thread.created_at.datetime(), None);
    assert_eq!(thread.created_at.unparsed(), Some("yesterday"));
    assert_eq!(thread.created_at.to_string(), "yesterday");
    assert_eq!(as_json(&thread)["created_at"], "yesterday");
    assert_eq!(thread.updated_at, at(0));
    // A timestamp is still required, and must be text or a number.
    reject::<Thread>(
        r#"{"thread_id": "t-1", "updated_at": "2025-03-26T10:11:12Z", "metadata": {}, "status": "idle"}"#,
    );
    reject::<Thread>(
        r#"{"thread_id": "t-1", "created_at": {}, "updated_at": "2025-03-26T10:11:12Z",
            "metadata": {}, "status": "idle"}"#,
    );
}

// ---------------------------------------------------------------------------------------------
// `null` for optional arrays and objects.

#[test]
fn null_optional_collections_decode() {
    // A pydantic model writes `null` for every unset optional field, arrays and objects included
    // (`messages: Optional[List[Message]] = None`). The codegen normalizer rule `nullable-optional`
    // makes every optional array/object property an `Option`, so `null` decodes to `None`, just
    // like an absent field. `decode` checks the round trip: `None` is omitted when serialized and
    // reads back as `None`.
    let msg: Message = decode(r#"{"role": "user", "content": "hi", "id": null, "metadata": null}"#);
    assert!(msg.metadata.is_none() && msg.id.is_none());

    let msg: Message = decode(
        r#"{"role": "user", "content": [{"type": "text", "text": "hi", "metadata": null}]}"#,
    );
    assert!(
        matches!(
            &msg.content,
            Content::Array(blocks)
                if matches!(blocks.as_slice(), [ContentArrayItem::TextBlock { metadata: None, .. }])
        ),
        "{:?}",
        msg.content
    );

    let out: RunOutput =
        decode(r#"{"type": "result", "values": {"answer": "Paris"}, "messages": null}"#);
    let RunOutput::Result(result) = out else {
        panic!("expected RunOutput::Result, got {out:?}")
    };
    assert!(result.messages.is_none());
    assert_eq!(as_json(&result.values.expect("values"))["answer"], "Paris");

    let payload: StreamEventPayload = decode(
        r#"{"type": "values", "run_id": "3f1c2a9e-8b7d-4c6e-9a21-5d0f7e3b4c12",
            "status": "pending", "values": {}, "messages": null}"#,
    );
    let StreamEventPayload::ValueRunResultUpdate(update) = payload else {
        panic!("expected ValueRunResultUpdate, got {payload:?}")
    };
    assert!(update.messages.is_none());

    let thread: Thread = decode(
        r#"{"thread_id": "t-1", "created_at": "2025-03-26T10:11:12Z",
            "updated_at": "2025-03-26T10:11:12Z", "metadata": {}, "status": "idle",
            "values": null, "messages": null}"#,
    );
    assert!(thread.messages.is_none() && thread.values.is_none());

    let state: ThreadState = decode(
        r#"{"checkpoint": {"checkpoint_id": "5c8d6a2e-1f3b-4e7a-9d0c-2b4f6e8a0c1d"},
            "values": {}, "messages": null, "metadata": null}"#,
    );
    assert!(state.messages.is_none() && state.metadata.is_none());

    let run: RunCreateStateful = decode(
        r#"{"agent_id": null, "input": {"q": "hi"}, "metadata": null, "config": null,
            "webhook": null, "stream_mode": null, "after_seconds": null}"#,
    );
    assert!(run.metadata.is_none() && run.config.is_none());
    assert_eq!(as_json(run.input.as_ref().expect("input"))["q"], "hi");

    let run: RunCreateStateful =
        decode(r#"{"config": {"tags": null, "recursion_limit": null, "configurable": null}}"#);
    let config = run.config.as_ref().expect("config");
    assert!(config.tags.is_none());
    assert!(config.recursion_limit.is_none() && config.configurable.is_none());

    let descriptor: AgentAcpDescriptor = decode(
        r#"{"metadata": {"ref": {"name": "echo", "version": "1.0.0", "url": null},
                         "description": "Echo."},
            "specs": {"capabilities": {"threads": false, "interrupts": false,
                                       "callbacks": false, "streaming": null},
                      "input": {}, "output": {}, "config": {},
                      "custom_streaming_update": null, "thread_state": null,
                      "interrupts": null}}"#,
    );
    let specs = &descriptor.specs;
    assert!(specs.interrupts.is_none());
    assert!(specs.thread_state.is_none() && specs.custom_streaming_update.is_none());
    assert!(specs.capabilities.streaming.is_none());
}

// ---------------------------------------------------------------------------------------------
// As the Agent Workflow Server writes it: naive times, `null` for every unset field (defaulted and
// required ones too), values the spec does not list.

/// A naive `datetime.now()` timestamp and the instant it is read as (UTC).
const NAIVE: &str = "2026-11-30T09:20:14.749047";

fn naive_at() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 11, 30)
        .and_then(|d| d.and_hms_micro_opt(9, 20, 14, 749_047))
        .expect("valid timestamp")
        .and_utc()
}

/// A run's `creation` with every field `null`, as pydantic dumps an unset `RunCreateStateless`.
const CREATION_NULLS: &str = r#"{"agent_id": null, "input": null, "metadata": null,
    "config": null, "webhook": null, "stream_mode": null, "on_disconnect": null,
    "multitask_strategy": null, "after_seconds": null, "stream_subgraphs": null,
    "if_not_exists": null, "on_completion": null}"#;

fn pydantic_run(status: &str, thread_id: &str) -> String {
    format!(
        r#"{{"run_id": "{RUN_ID}", "thread_id": {thread_id}, "agent_id": "{AGENT_ID}",
            "created_at": "{NAIVE}", "updated_at": "{NAIVE}", "status": "{status}",
            "creation": {CREATION_NULLS}}}"#
    )
}

#[test]
fn pydantic_thread() {
    // `POST /threads`, byte for byte as the Agent Workflow Server answers it.
    let body = r#"{"thread_id":"a1415078-3a52-4c4b-9d0e-1f2a3b4c5d6e","created_at":"2026-11-30T09:20:14.749047","updated_at":"2026-11-30T09:20:14.749047","metadata":{},"status":"idle","values":null,"messages":null}"#;
    let thread: Thread = decode(body);
    assert_eq!(thread.created_at, naive_at());
    assert_eq!(thread.updated_at, naive_at());
    assert_eq!(thread.status, Status::Idle);
    assert!(thread.values.is_none() && thread.messages.is_none());

    // A status the spec does not list, `null` metadata, a message with `null` content and role.
    let thread: Thread = decode(&format!(
        r#"{{"thread_id": "t-1", "created_at": "{NAIVE}", "updated_at": "{NAIVE}",
            "metadata": null, "status": "busy-ish", "values": {{"n": 1}},
            "messages": [{{"role": null, "content": null, "id": null, "metadata": null}}],
            "interrupts": null}}"#
    ));
    assert_eq!(thread.status, Status::Other("busy-ish".into()));
    assert_eq!(thread.status.to_string(), "busy-ish");
    assert_eq!(as_json(&thread.status), json!("busy-ish"));
    assert!(thread.metadata.is_empty());
    let [message] = thread.messages.as_deref().expect("messages") else {
        panic!("expected one message, got {:?}", thread.messages)
    };
    assert_eq!(message.role, "");
    assert!(
        matches!(&message.content, Content::String(s) if s.is_empty()),
        "{message:?}"
    );
    // A missing required field is still an error.
    reject::<Thread>(&format!(
        r#"{{"created_at": "{NAIVE}", "updated_at": "{NAIVE}", "metadata": {{}}, "status": "idle"}}"#
    ));
}

#[test]
fn pydantic_thread_state() {
    let state: ThreadState = decode(&format!(
        r#"{{"checkpoint": {{"checkpoint_id": "5c8d6a2e-1f3b-4e7a-9d0c-2b4f6e8a0c1d",
                             "checkpoint_ns": null}},
            "values": null, "messages": null, "metadata": null, "created_at": "{NAIVE}"}}"#
    ));
    assert!(
        as_json(&state.values)
            .as_object()
            .is_some_and(|m| m.is_empty())
    );
    assert!(state.messages.is_none() && state.metadata.is_none());
}

#[test]
fn pydantic_run_stateful() {
    let run: RunStateful = decode(&pydantic_run("running", &format!("\"{THREAD_ID}\"")));
    assert_eq!(run.status, RunStatus::Other("running".into()));
    assert_eq!(run.created_at, naive_at());
    assert_eq!(run.thread_id, Some(THREAD_ID));
    // Every `null` of the creation reads as absent: spec defaults filled in.
    let creation = &run.creation;
    assert_eq!(creation.if_not_exists, IfNotExists::Reject);
    assert_eq!(creation.on_disconnect, OnDisconnect::Cancel);
    assert_eq!(creation.multitask_strategy, MultitaskStrategy::Reject);
    assert!(!creation.stream_subgraphs);
    assert!(creation.agent_id.is_none() && creation.input.is_none());
    assert!(creation.stream_mode.is_none() && creation.after_seconds.is_none());
    // Written back without the nulls: defaults explicit, unset fields omitted.
    assert_eq!(
        as_json(&run)["creation"],
        json!({"if_not_exists": "reject", "multitask_strategy": "reject",
               "on_disconnect": "cancel", "stream_subgraphs": false})
    );
    assert_eq!(as_json(&run)["created_at"], "2026-11-30T09:20:14.749047Z");
}

#[test]
fn pydantic_run_stateless() {
    let run: RunStateless = decode(&pydantic_run("success", "null"));
    assert_eq!(run.status, RunStatus::Success);
    assert!(run.thread_id.is_none());
    assert_eq!(run.updated_at, naive_at());
    assert_eq!(run.creation.on_completion, OnCompletion::Delete);
    assert_eq!(run.creation.on_disconnect, OnDisconnect::Cancel);

    // Known enum values the spec added later, or a server invented, are kept.
    let body = pydantic_run("queued", "null")
        .replace(r#""on_completion": null"#, r#""on_completion": "archive""#);
    let run: RunStateless = decode(&body);
    assert_eq!(run.status, RunStatus::Other("queued".into()));
    assert_eq!(
        run.creation.on_completion,
        OnCompletion::Other("archive".into())
    );
    assert_eq!(as_json(&run)["creation"]["on_completion"], "archive");
}

#[test]
fn pydantic_run_wait_response_stateful() {
    let run = pydantic_run("success", &format!("\"{THREAD_ID}\""));
    let wait: RunWaitResponseStateful = decode(&format!(
        r#"{{"run": {run}, "output": {{"type": "result", "values": {{"answer": 42}},
            "messages": null}}}}"#
    ));
    assert_eq!(
        wait.run.as_ref().map(|r| &r.status),
        Some(&RunStatus::Success)
    );
    assert!(
        matches!(&wait.output, Some(RunOutput::Result(r)) if r.messages.is_none()),
        "{:?}",
        wait.output
    );

    // An output of a `type` this version does not know keeps the run.
    let wait: RunWaitResponseStateful = decode(&format!(
        r#"{{"run": {run}, "output": {{"type": "cancelled", "reason": null}}}}"#
    ));
    assert!(wait.run.is_some());
    assert!(
        matches!(&wait.output, Some(RunOutput::Unknown(v)) if v["type"] == "cancelled"),
        "{:?}",
        wait.output
    );
}

#[test]
fn pydantic_run_wait_response_stateless() {
    let run = pydantic_run("running", "null");
    let wait: RunWaitResponseStateless = decode(&format!(
        r#"{{"run": {run}, "output": {{"type": "error", "run_id": "{RUN_ID}", "errcode": 500,
            "description": null}}}}"#
    ));
    let run = wait.run.expect("run");
    assert_eq!(run.status, RunStatus::Other("running".into()));
    let Some(RunOutput::Error(error)) = wait.output else {
        panic!("expected RunOutput::Error, got {:?}", wait.output)
    };
    // A required description written as `null` reads as empty.
    assert_eq!(error.description, "");
    assert_eq!(error.errcode, 500);
    let wait: RunWaitResponseStateless = decode(r#"{"run": null, "output": null}"#);
    assert!(wait.run.is_none() && wait.output.is_none());
}

#[test]
fn pydantic_agent() {
    let agent: Agent = decode(&format!(
        r#"{{"agent_id": "{AGENT_ID}", "metadata": {{"ref": {{"name": "mailcomposer",
            "version": "0.0.1", "url": null}}, "description": null}}}}"#
    ));
    assert_eq!(agent.metadata.ref_.name, "mailcomposer");
    assert!(agent.metadata.ref_.url.is_none());
    assert_eq!(agent.metadata.description, "");
}

#[test]
fn pydantic_agent_acp_descriptor() {
    let descriptor: AgentAcpDescriptor = decode(
        r#"{"metadata": {"ref": {"name": "echo", "version": "1.0.0", "url": null},
                         "description": "Echo."},
            "specs": {"capabilities": {"threads": null, "interrupts": true, "callbacks": null,
                                       "streaming": {"values": true, "custom": null}},
                      "input": {"type": "object"}, "output": null, "config": null,
                      "custom_streaming_update": null, "thread_state": null,
                      "interrupts": [{"interrupt_type": "approval", "interrupt_payload": null,
                                      "resume_payload": {"type": "object"}}]},
            "deployment": null}"#,
    );
    let specs = &descriptor.specs;
    let caps = &specs.capabilities;
    assert!(!caps.threads && caps.interrupts && !caps.callbacks);
    assert_eq!(caps.streaming.as_ref().and_then(|s| s.custom), None);
    assert_eq!(specs.input["type"], "object");
    assert!(specs.output.is_empty() && specs.config.is_empty());
    let interrupts = specs.interrupts.as_deref().expect("interrupts");
    assert!(interrupts[0].interrupt_payload.is_empty());
    assert_eq!(interrupts[0].resume_payload["type"], "object");
}

#[test]
fn pydantic_run_outputs() {
    let result: RunOutput = decode(
        r#"{"type": "result", "values": null, "messages": [{"role": "assistant",
                   "content": [{"type": "text", "text": null, "metadata": null}], "id": null}]}"#,
    );
    let RunOutput::Result(result) = result else {
        panic!("expected RunOutput::Result, got {result:?}")
    };
    let messages = result.messages.expect("messages");
    assert!(
        matches!(&messages[0].content, Content::Array(b)
            if matches!(b.as_slice(), [ContentArrayItem::TextBlock { text, .. }] if text.is_empty())),
        "{messages:?}"
    );

    let interrupt: RunOutput = decode(r#"{"type": "interrupt", "interrupt": null}"#);
    let RunOutput::Interrupt(interrupt) = interrupt else {
        panic!("expected RunOutput::Interrupt, got {interrupt:?}")
    };
    assert!(
        as_json(&interrupt.interrupt)
            .as_object()
            .is_some_and(|m| m.is_empty())
    );

    let error: RunOutput = decode(&format!(
        r#"{{"type": "error", "run_id": "{RUN_ID}", "errcode": 504, "description": null,
            "traceback": null}}"#
    ));
    assert!(
        matches!(&error, RunOutput::Error(e) if e.errcode == 504 && e.description.is_empty()),
        "{error:?}"
    );
}

#[test]
fn pydantic_stream_events() {
    // `values` with a status the spec does not list.
    let event: RunOutputStream = decode(&format!(
        r#"{{"id": "1", "event": "agent_event", "data": {{"type": "values", "run_id": "{RUN_ID}",
            "status": "running", "values": {{"n": 1}}, "messages": null}}}}"#
    ));
    let StreamEventPayload::ValueRunResultUpdate(update) = &event.data else {
        panic!("expected ValueRunResultUpdate, got {:?}", event.data)
    };
    assert_eq!(update.status, RunStatus::Other("running".into()));
    assert_eq!(update.status.to_string(), "running");
    assert_eq!(as_json(&update.values)["n"], 1);

    // `custom` with `null` run id and update.
    let event: RunOutputStream = decode(
        r#"{"id": "2", "event": "agent_event", "data": {"type": "custom", "run_id": null,
            "status": "pending", "update": null}}"#,
    );
    let StreamEventPayload::CustomRunResultUpdate(update) = &event.data else {
        panic!("expected CustomRunResultUpdate, got {:?}", event.data)
    };
    assert!(update.run_id.is_none() && update.update.is_empty());

    // `interrupt` and `error` events (typed from ACP 0.2.2 on) and anything newer: kept as JSON.
    for data in [
        format!(
            r#"{{"type": "interrupt", "run_id": "{RUN_ID}", "status": "interrupted", "interrupt": {{"q": 1}}}}"#
        ),
        format!(
            r#"{{"type": "error", "run_id": "{RUN_ID}", "status": "error", "errcode": 500, "description": "boom"}}"#
        ),
        r#"{"type": "progress", "percent": 50}"#.to_string(),
    ] {
        let event: RunOutputStream = decode(&format!(
            r#"{{"id": "3", "event": "agent_event", "data": {data}}}"#
        ));
        let StreamEventPayload::Unknown(raw) = &event.data else {
            panic!("expected Unknown, got {:?}", event.data)
        };
        assert_eq!(
            *raw,
            serde_json::from_str::<serde_json::Value>(&data).unwrap()
        );
    }
    // The SSE event name stays a one-value discriminator.
    reject::<RunOutputStream>(
        r#"{"id": "4", "event": "other_event", "data": {"type": "progress"}}"#,
    );
}

#[test]
fn known_enum_values_serialize_unchanged() {
    fn round_trip<T>(values: &[T], texts: &[&str])
    where
        T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + std::fmt::Display,
    {
        for (value, text) in values.iter().zip(texts) {
            assert_eq!(as_json(value), json!(text));
            assert_eq!(value.to_string(), *text);
            let back: T = serde_json::from_value(json!(text)).expect("decodes");
            assert_eq!(&back, value);
        }
    }
    round_trip(
        &[
            RunStatus::Pending,
            RunStatus::Error,
            RunStatus::Success,
            RunStatus::Timeout,
            RunStatus::Interrupted,
        ],
        &["pending", "error", "success", "timeout", "interrupted"],
    );
    round_trip(
        &[
            Status::Idle,
            Status::Busy,
            Status::Interrupted,
            Status::Error,
        ],
        &["idle", "busy", "interrupted", "error"],
    );
    round_trip(&[ThreadStatus::Idle, ThreadStatus::Busy], &["idle", "busy"]);
    round_trip(
        &[OnDisconnect::Cancel, OnDisconnect::Continue],
        &["cancel", "continue"],
    );
    round_trip(
        &[MultitaskStrategy::Reject, MultitaskStrategy::Enqueue],
        &["reject", "enqueue"],
    );
    round_trip(
        &[IfNotExists::Create, IfNotExists::Reject],
        &["create", "reject"],
    );
    round_trip(
        &[IfExists::Raise, IfExists::DoNothing],
        &["raise", "do_nothing"],
    );
    round_trip(
        &[OnCompletion::Delete, OnCompletion::Keep],
        &["delete", "keep"],
    );
    round_trip(
        &[Action::Interrupt, Action::Rollback],
        &["interrupt", "rollback"],
    );
    round_trip(
        &[StreamingMode::Values, StreamingMode::Custom],
        &["values", "custom"],
    );
    // Unknown values round-trip as their text; parsing user input stays strict.
    round_trip(&[RunStatus::Other("running".into())], &["running"]);
    assert!("running".parse::<RunStatus>().is_err());
    assert!(RunStatus::try_from("cancelled").is_err());
    assert_eq!(
        "success".parse::<RunStatus>().ok(),
        Some(RunStatus::Success)
    );
}
