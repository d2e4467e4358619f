//! Descriptors as documents: our own ok and ko samples (`tests/data/validate/`) checked by the
//! library and by `acp validate`, each ko naming the rule it breaks; the agent's own OpenAPI
//! document of each ok sample with exactly the paths and methods acp-sdk's pruning gives; and
//! `acp agent-types` / `acp validate` taking an agent from the reference server or `acp --json
//! agent` output.
#![cfg(feature = "validate")]

use acp_client_ext::descriptor::{self, Rule};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/validate")
        .join(name)
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

const OK: [&str; 8] = [
    "ok_full.json",
    "ok_no_threads.json",
    "ok_no_streaming.json",
    "ok_no_interrupts.json",
    "ok_values_only_no_callbacks.json",
    "ok_minimal.json",
    "ok_manifest_sdk.json",
    "ok_oasf_record.json",
];

/// Each ko sample, the one violation it must give: rule, path, keyword.
const KO: [(&str, Rule, &str, Option<&str>); 8] = [
    (
        "ko_thread_state_without_threads.json",
        Rule::ThreadStateWithoutThreads,
        "/specs/thread_state",
        None,
    ),
    (
        "ko_interrupts_missing.json",
        Rule::InterruptsMissing,
        "/specs/interrupts",
        None,
    ),
    (
        "ko_interrupts_without_capability.json",
        Rule::InterruptsWithoutCapability,
        "/specs/interrupts",
        None,
    ),
    (
        "ko_custom_streaming_update_missing.json",
        Rule::CustomUpdateMissing,
        "/specs/custom_streaming_update",
        None,
    ),
    (
        "ko_custom_streaming_update_without_capability.json",
        Rule::CustomUpdateWithoutCapability,
        "/specs/custom_streaming_update",
        None,
    ),
    (
        "ko_schema_no_input.json",
        Rule::Schema,
        "/specs",
        Some("required"),
    ),
    (
        "ko_schema_capabilities_not_an_object.json",
        Rule::Schema,
        "/specs/capabilities",
        Some("type"),
    ),
    ("ko_not_a_descriptor.json", Rule::NotADescriptor, "", None),
];

#[test]
fn every_ok_sample_is_valid_and_every_ko_sample_names_its_rule() {
    for name in OK {
        let found = descriptor::validate(&load(name));
        assert!(found.is_empty(), "{name}: {found:?}");
    }
    for (name, rule, path, keyword) in KO {
        let found = descriptor::validate(&load(name));
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].rule, rule, "{name}");
        assert_eq!(found[0].path, path, "{name}");
        assert_eq!(found[0].keyword.as_deref(), keyword, "{name}");
    }
}

#[test]
fn violations_in_a_manifest_are_located_in_the_manifest() {
    let mut doc = load("ok_manifest_sdk.json");
    doc["extensions"][0]["data"]["acp"]["capabilities"]["threads"] = Value::Bool(false);
    let found = descriptor::validate(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::ThreadStateWithoutThreads);
    assert_eq!(found[0].path, "/extensions/0/data/acp/thread_state");
    let mut doc = load("ok_oasf_record.json");
    doc["modules"][1]["data"]["acp"]["capabilities"]["interrupts"] = Value::Bool(false);
    let found = descriptor::validate(&doc);
    assert_eq!(found[0].path, "/modules/1/data/acp/interrupts");
}

/// Every ACP 0.2.1 operation, as (path, method).
fn all_routes() -> BTreeSet<(String, String)> {
    acp_client_ext::Operation::all()
        .map(|o| (o.path().to_string(), o.method().to_ascii_lowercase()))
        .collect()
}

fn routes(api: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in api["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((path.clone(), method.clone()));
        }
    }
    out
}

#[test]
fn the_agent_openapi_document_has_the_routes_the_capabilities_allow() {
    let all = all_routes();
    assert_eq!(all.len(), 30);
    let without = |drop: &dyn Fn(&str, &str) -> bool| -> BTreeSet<(String, String)> {
        all.iter().filter(|(p, m)| !drop(p, m)).cloned().collect()
    };
    let threads = |p: &str, _: &str| p.starts_with("/threads");
    let resume = |p: &str, m: &str| p == "/runs/{run_id}" && m == "post";
    let stream = |p: &str, m: &str| p == "/runs/{run_id}/stream" && m == "get";
    // Written out per sample: what acp-sdk's generate-agent-oapi keeps.
    let expected: [(&str, BTreeSet<(String, String)>); 8] = [
        ("ok_full.json", all.clone()),
        ("ok_no_threads.json", without(&threads)),
        ("ok_no_streaming.json", without(&stream)),
        ("ok_no_interrupts.json", without(&resume)),
        ("ok_values_only_no_callbacks.json", all.clone()),
        (
            "ok_minimal.json",
            without(&|p, m| threads(p, m) || resume(p, m) || stream(p, m)),
        ),
        ("ok_manifest_sdk.json", all.clone()),
        ("ok_oasf_record.json", all.clone()),
    ];
    assert_eq!(expected.len(), OK.len());
    for (name, routes_expected) in expected {
        let doc = load(name);
        let api = descriptor::agent_openapi(&doc).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(api["openapi"], "3.1.0");
        assert_eq!(routes(&api), routes_expected, "{name}");
        let specs = descriptor::locate(&doc).unwrap().descriptor["specs"].clone();
        let schemas = &api["components"]["schemas"];
        assert_eq!(schemas["InputSchema"], specs["input"], "{name}");
        assert_eq!(schemas["ConfigSchema"], specs["config"], "{name}");
        let caps = descriptor::Capabilities::of_specs(&specs);
        assert_eq!(
            schemas.get("confirm_largeResumePayload").is_some(),
            caps.interrupts,
            "{name}"
        );
        let create = &schemas["RunCreateStateless"]["properties"];
        assert_eq!(create.get("webhook").is_some(), caps.callbacks, "{name}");
        assert_eq!(
            create.get("stream_mode").is_some(),
            caps.streaming(),
            "{name}"
        );
        // Every local reference resolves.
        let text = api.to_string();
        for r in text.split("\"$ref\":\"#/").skip(1) {
            let pointer = format!("/{}", r.split('"').next().unwrap());
            assert!(
                api.pointer(&pointer).is_some(),
                "{name}: dangling $ref #{pointer}"
            );
        }
    }
    // The SDK refuses to make one for an invalid descriptor; so do we.
    let err = descriptor::agent_openapi(&load("ko_interrupts_missing.json")).unwrap_err();
    assert_eq!(err[0].rule, Rule::InterruptsMissing);
}

#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use acp_reference_server::ReferenceServer;
    use std::process::{Command, Output};

    fn acp(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_acp"))
            .args(args)
            .env_remove("ACP_URL")
            .output()
            .unwrap()
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn acp_validate_exits_0_valid_1_invalid_naming_the_rule_2_unreadable() {
        for name in OK {
            let out = acp(&["validate", data(name).to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stdout));
            assert!(text(&out.stdout).contains(": valid ("), "{name}");
        }
        for (name, rule, path, _) in KO {
            let out = acp(&["validate", data(name).to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(1), "{name}");
            let stdout = text(&out.stdout);
            let shown = if path.is_empty() { "/" } else { path };
            assert!(
                stdout.contains(&format!("{shown}: {}", rule.name())),
                "{name}: {stdout}"
            );
        }
        let out = acp(&["--json", "validate", data(KO[0].0).to_str().unwrap()]);
        let record: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(record["valid"], false);
        assert_eq!(
            record["violations"][0]["rule"],
            "thread-state-without-threads"
        );
        assert_eq!(
            acp(&["validate", "/nonexistent/x.json"]).status.code(),
            Some(2)
        );
        let junk =
            std::env::temp_dir().join(format!("acp-validate-junk-{}.json", std::process::id()));
        std::fs::write(&junk, "{not json").unwrap();
        assert_eq!(
            acp(&["validate", junk.to_str().unwrap()]).status.code(),
            Some(2)
        );
        let _ = std::fs::remove_file(junk);
    }

    #[test]
    fn acp_agent_openapi_prints_the_pruned_document() {
        let out = acp(&[
            "agent-openapi",
            data("ok_no_threads.json").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let api: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(api["info"]["title"], "ACP Spec for org.example.ledger");
        assert!(routes(&api).iter().all(|(p, _)| !p.starts_with("/threads")));
        let out = acp(&[
            "agent-openapi",
            data("ko_interrupts_missing.json").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("interrupts-missing"),
            "{}",
            text(&out.stderr)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_agent_by_name_or_acp_json_agent_output_is_taken_as_its_descriptor() {
        let server = ReferenceServer::start().await;
        let url = server.url();
        let by_name = acp(&["--url", &url, "agent-types", "interrupt"]);
        assert_eq!(by_name.status.code(), Some(0), "{}", text(&by_name.stderr));
        assert!(text(&by_name.stdout).contains("pub struct QuestionInterruptPayload"));
        let shown = acp(&["--url", &url, "--json", "agent", "interrupt"]);
        assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
        let file = std::env::temp_dir().join(format!("acp-agent-{}.json", std::process::id()));
        std::fs::write(&file, &shown.stdout).unwrap();
        let from_file = acp(&["agent-types", file.to_str().unwrap()]);
        assert_eq!(
            from_file.status.code(),
            Some(0),
            "{}",
            text(&from_file.stderr)
        );
        assert_eq!(text(&from_file.stdout), text(&by_name.stdout));
        let _ = std::fs::remove_file(&file);
        let valid = acp(&["--url", &url, "validate", "interrupt"]);
        assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stdout));
        let api = acp(&["--url", &url, "agent-openapi", "echo"]);
        assert_eq!(api.status.code(), Some(0), "{}", text(&api.stderr));
        // No file and no server: a usage error naming both.
        let lost = acp(&["validate", "interrupt"]);
        assert_eq!(lost.status.code(), Some(2));
        assert!(
            text(&lost.stderr).contains("no such file"),
            "{}",
            text(&lost.stderr)
        );
        server.shutdown().await;
    }
}
