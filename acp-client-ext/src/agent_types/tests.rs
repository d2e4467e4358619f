use serde_json::json;

use super::*;

fn render(doc: Value) -> String {
    match generate_with(&doc, &Options::default().rustfmt(false)) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn names_every_root_and_each_interrupt_from_its_type() {
    let s = render(
        json!({"metadata": {"ref": {"name": "mail", "version": "2.0.0"}}, "specs": {
            "input": {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0, "default": 3}}},
            "output": {"type": "object"},
            "config": {"type": "string", "description": "A name."},
            "thread_state": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "custom_streaming_update": {"type": "object", "properties": {"i": {"type": "integer"}}},
            "interrupts": [
                {"interrupt_type": "user-approval", "interrupt_payload": {"type": "object",
                    "properties": {"question": {"type": "string"}}}, "resume_payload": {"type": "boolean"}},
                {"interrupt_type": "edit", "interrupt_payload": {"type": "string"}, "resume_payload": null}
            ]
        }}),
    );
    for item in [
        "pub struct Input {",
        "pub count: u64,",
        "pub struct Output(",
        "/// A name.\n",
        "pub struct Config(pub ::std::string::String);",
        "pub struct ThreadState {",
        "pub struct CustomUpdate {",
        "pub struct UserApprovalInterruptPayload {",
        "pub struct UserApprovalResumePayload(pub bool);",
        "pub struct EditInterruptPayload(pub ::std::string::String);",
        "/// The input of agent `mail` (`specs.input` of its ACP descriptor).",
        "// Types of the ACP agent `mail` 2.0.0,",
    ] {
        assert!(s.contains(item), "missing {item:?} in\n{s}");
    }
    assert!(
        !s.contains("EditResumePayload"),
        "a null schema is no schema"
    );
    assert!(!s.contains("//!"), "inner docs would break include!");
}

#[test]
fn defs_become_shared_types_and_clashing_ones_get_the_root_prefix() {
    let message = json!({"type": "object", "properties": {"text": {"type": "string"}},
        "required": ["text"]});
    let s = render(json!({"specs": {
        "input": {"type": "object", "properties": {
                "messages": {"type": "array", "items": {"$ref": "#/$defs/Message"}},
                "mode": {"$ref": "#/definitions/Mode"}},
            "$defs": {"Message": message.clone()},
            "definitions": {"Mode": {"type": "string", "enum": ["fast", "slow"]}}},
        "output": {"type": "object", "properties": {
                "last": {"$ref": "#/$defs/Message"},
                "other": {"$ref": "#/$defs/Mode", "description": "Not the input's Mode."}},
            "$defs": {"Message": message, "Mode": {"type": "integer"}}},
    }}));
    for item in [
        "pub messages: ::std::vec::Vec<Message>,",
        "pub mode: ::std::option::Option<Mode>,",
        "pub last: ::std::option::Option<Message>,",
        "pub other: ::std::option::Option<OutputMode>,",
        "pub struct Message {",
        "pub text: ::std::string::String,",
        "pub enum Mode {",
        "pub struct OutputMode(pub i64);",
    ] {
        assert!(s.contains(item), "missing {item:?} in\n{s}");
    }
    assert_eq!(s.matches("pub struct Message {").count(), 1);
}

#[test]
fn recursive_and_2020_12_schemas() {
    let s = render(json!({"specs": {
        "input": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#"}},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                     "items": false},
            "when": {"type": "string", "format": "date-time", "nullable": true},
            "code": {"type": "string", "pattern": "^[a-z]+$"},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true}}},
    }}));
    for item in [
        "pub children: ::std::vec::Vec<Input>,",
        "pub pair: ::std::option::Option<(::std::string::String, i64)>,",
        "pub when: ::std::option::Option<::std::string::String>,",
        "pub code: ::std::option::Option<::std::string::String>,",
        "pub ratio: ::std::option::Option<f64>,",
    ] {
        assert!(s.contains(item), "missing {item:?} in\n{s}");
    }
}

#[test]
fn refuses_what_it_cannot_follow() {
    let err = |doc: Value| match generate(&doc) {
        Ok(s) => panic!("generated\n{s}"),
        Err(e) => e,
    };
    let e = err(json!({"specs": {"output": {"$ref": "other.json#/Foo"}}}));
    assert!(
        matches!(&e, AgentTypesError::UnsupportedRef { schema, .. } if schema == "specs.output"),
        "{e}"
    );
    let e = err(json!({"specs": {"input": {"$ref": "#/$defs/Missing"}}}));
    assert!(e.to_string().contains("points at nothing"), "{e}");
    let e = err(json!({"specs": {"input": {"type": 3}}}));
    assert!(
        matches!(&e, AgentTypesError::InvalidSchema { schema, .. } if schema == "specs.input"),
        "{e}"
    );
    let e = err(json!(["not", "a", "descriptor"]));
    assert!(e.to_string().contains("found a JSON array"), "{e}");
}

#[test]
fn rustfmt_formats_when_available() {
    let doc =
        json!({"specs": {"output": {"type": "object", "properties": {"a": {"type": "string"}}}}});
    let plain = render(doc.clone());
    let formatted = generate(&doc).unwrap();
    assert!(formatted.contains("pub a: ::std::option::Option<::std::string::String>,"));
    if rustfmt(&plain).is_some() {
        assert!(
            formatted.contains("#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, Default, PartialEq)]")
                || formatted.contains("#[derive(\n    ::serde::Deserialize,"),
            "{formatted}"
        );
    }
}

#[test]
fn titled_inline_schemas_do_not_clash_with_defs_and_identical_ones_merge() {
    // Our own sample with the shape of acp-sdk's echo agent as the Workflow Server serves it:
    // `$defs` `Message`/`Role` in input and output, and inline copies titled `Message`/`Role`
    // (different: a description more) in an interrupt's payload and resume payload.
    let doc: Value = serde_json::from_str(include_str!(
        "../../tests/data/descriptors/parrot_clash.json"
    ))
    .unwrap();
    let s = render(doc);
    let count = |needle: &str| s.matches(needle).count();
    assert_eq!(count("pub struct Message {"), 1, "{s}");
    assert_eq!(count("pub enum Role {"), 1, "{s}");
    // The interrupt payload's inline copies get one type, shared with the resume payload.
    assert_eq!(
        count("pub struct ParrotPauseInterruptPayloadMessage {"),
        1,
        "{s}"
    );
    assert_eq!(
        count("pub enum ParrotPauseInterruptPayloadRole {"),
        1,
        "{s}"
    );
    assert!(!s.contains("ResumePayloadMessage"), "{s}");
    assert!(
        s.contains("pub lines: ::std::option::Option<::std::vec::Vec<Message>>,"),
        "{s}"
    );
    // Stable: the same names every time.
    assert_eq!(
        s,
        render(
            serde_json::from_str(include_str!(
                "../../tests/data/descriptors/parrot_clash.json"
            ))
            .unwrap()
        )
    );
}
