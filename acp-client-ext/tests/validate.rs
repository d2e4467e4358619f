//! `validate`: payloads checked against the reference server's agents' descriptors (and a few
//! written here), failing with the JSON path and the rule; and an agent handle with validation
//! on, which sends nothing the schema refuses.
#![cfg(feature = "validate")]

mod support;

use acp_client_ext::Error;
use acp_client_ext::validate::{Payload, SchemaError, ValidationError, Validator};
use acp_reference_server::ReferenceServer;
use acp_reference_server::agents::AgentKind;
use serde_json::{Value, json};
use support::{T, client};

fn validator(agent: AgentKind) -> Validator {
    Validator::new(&agent.descriptor()).unwrap()
}

fn fails(result: Result<(), ValidationError>) -> ValidationError {
    match result {
        Ok(()) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn input_of_the_wrong_type_names_the_path_and_the_rule() {
    let stream = validator(AgentKind::Stream);
    let err = fails(stream.check_input(&json!({"count": "five"})));
    assert_eq!(err.what, Payload::Input);
    assert_eq!(err.path, "/count");
    assert_eq!(err.rule, "type");
    assert_eq!(err.schema_path, "/properties/count/type");
    assert!(err.message.contains("\"five\""), "{}", err.message);
    assert_eq!(
        err.to_string(),
        r#"input does not match the agent's schema at /count: type: "five" is not of type "integer""#
    );
    let err = fails(stream.check_input(&json!({"count": 2, "size": -1})));
    assert_eq!((err.path.as_str(), err.rule.as_str()), ("/size", "minimum"));
}

#[test]
fn valid_input_passes() {
    let stream = validator(AgentKind::Stream);
    stream.check_input(&json!({"count": 5})).unwrap();
    stream.check_input(&json!({})).unwrap();
    validator(AgentKind::Echo)
        .check_input(&json!({"anything": [1, "two"]}))
        .unwrap();
}

#[test]
fn input_that_is_not_an_object_fails_at_the_top_level() {
    let err = fails(validator(AgentKind::Echo).check_input(&json!("hello")));
    assert_eq!((err.path.as_str(), err.rule.as_str()), ("", "type"));
    assert!(err.to_string().contains("at the top level"), "{err}");
}

#[test]
fn config_is_checked_against_specs_config() {
    let echo = validator(AgentKind::Echo);
    echo.check_config(&json!({"greeting": "hi"})).unwrap();
    let err = fails(echo.check_config(&json!({"greeting": 5})));
    assert_eq!(err.what, Payload::Config);
    assert_eq!(
        (err.path.as_str(), err.rule.as_str()),
        ("/greeting", "type")
    );
}

#[test]
fn resume_payloads_are_checked_per_interrupt_type() {
    let interrupt = validator(AgentKind::Interrupt);
    interrupt
        .check_resume(Some("question"), &json!({"answer": "yes"}))
        .unwrap();
    interrupt
        .check_resume(None, &json!({"answer": "yes"}))
        .unwrap();
    let err = fails(interrupt.check_resume(Some("question"), &json!("yes")));
    assert_eq!(
        err.what,
        Payload::Resume {
            interrupt_type: Some("question".into())
        }
    );
    assert_eq!((err.path.as_str(), err.rule.as_str()), ("", "type"));
    let err = fails(interrupt.check_resume(Some("approval"), &json!({})));
    assert_eq!(err.rule, "interrupt_type");
    assert!(err.message.contains("it declares: question"), "{err}");
    // An agent without interrupts declares no resume payload: nothing to check against a
    // type-less resume, and a named one is unknown.
    validator(AgentKind::Echo)
        .check_resume(None, &json!(1))
        .unwrap();
}

fn descriptor(specs: Value) -> Value {
    json!({"metadata": {"ref": {"name": "t", "version": "1"}, "description": "t"}, "specs": specs})
}

#[test]
fn several_interrupts_without_a_type_accept_a_payload_matching_any() {
    let v = Validator::new(&descriptor(json!({"input": {}, "interrupts": [
        {"interrupt_type": "approve", "interrupt_payload": {},
         "resume_payload": {"type": "object", "required": ["approved"]}},
        {"interrupt_type": "edit", "interrupt_payload": {},
         "resume_payload": {"type": "object", "required": ["text"]}}]})))
    .unwrap();
    v.check_resume(None, &json!({"text": "new"})).unwrap();
    let err = fails(v.check_resume(None, &json!({})));
    assert_eq!(
        (err.rule.as_str(), &err.what),
        (
            "required",
            &Payload::Resume {
                interrupt_type: Some("approve".into())
            }
        )
    );
    let err = fails(v.check_resume(Some("edit"), &json!({"approved": true})));
    assert!(err.message.contains("\"text\""), "{}", err.message);
}

#[test]
fn refs_to_defs_and_openapi_nullable_are_understood() {
    let v = Validator::new(&descriptor(json!({
        "input": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
            "note": {"type": "string", "nullable": true}},
            "$defs": {"Item": {"type": "object", "required": ["name"],
                               "properties": {"name": {"type": "string"}}}}},
        "output": {}})))
    .unwrap();
    v.check_input(&json!({"items": [{"name": "a"}], "note": null}))
        .unwrap();
    let err = fails(v.check_input(&json!({"items": [{"name": "a"}, {}]})));
    assert_eq!(
        (err.path.as_str(), err.rule.as_str()),
        ("/items/1", "required")
    );
}

#[test]
fn schemas_that_do_not_compile_name_their_place() {
    let err = Validator::new(&descriptor(json!({"input": {}, "config": {"type": 3}}))).unwrap_err();
    assert!(
        matches!(&err, SchemaError::Invalid { schema, .. } if schema == "specs.config"),
        "{err}"
    );
    let remote = json!({"input": {"$ref": "https://example.invalid/schema.json"}});
    let err = Validator::new(&descriptor(remote)).unwrap_err();
    assert!(
        matches!(&err, SchemaError::Invalid { schema, .. } if schema == "specs.input"),
        "{err}"
    );
    let err = Validator::new(&json!(["no"])).unwrap_err();
    assert!(matches!(err, SchemaError::NotADescriptor { .. }), "{err}");
}

#[test]
fn every_reference_agent_descriptor_compiles_and_is_send_and_sync() {
    fn send_sync<T: Send + Sync + Clone>(_: &T) {}
    for agent in acp_reference_server::agents::ALL {
        let v = validator(agent);
        send_sync(&v);
        v.check_config(&json!({})).unwrap();
    }
}

#[tokio::test]
async fn a_payload_the_schema_refuses_is_not_sent() {
    let s = ReferenceServer::start().await;
    let c = client(&s);
    let stream = c
        .agent("stream")
        .await
        .expect("agent")
        .validating(true)
        .expect("schemas compile");
    let err = stream
        .run(&json!({"count": "five"}))
        .create()
        .await
        .expect_err("refused");
    let Error::Validation(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((v.path.as_str(), v.rule.as_str()), ("/count", "type"));
    assert!(err.to_string().contains("/count"), "{err}");
    assert_eq!(s.requests("POST", "/runs"), 0, "nothing was sent");
    assert_eq!(s.requests("POST", "/runs/*"), 0, "nothing was sent");

    // A valid payload goes through; switched off, the bad one is sent.
    stream
        .run(&json!({"count": 1}))
        .wait(T)
        .await
        .expect("valid input runs");
    assert_eq!(s.requests("POST", "/runs/wait"), 1);
    let lax = stream.validating(false).expect("off");
    let _ = lax.run(&json!({"count": "five"})).create().await;
    assert_eq!(s.requests("POST", "/runs"), 1);
}
