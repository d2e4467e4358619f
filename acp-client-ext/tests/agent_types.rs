//! `agent-types` end to end: the reference server's agents' descriptors, fetched over HTTP,
//! become modules (by the library function and by `acp agent-types`) that compile in a scratch
//! crate and decode what those agents really return.
//!
//! Run with `cargo test -p acp-client-ext --features cli --test agent_types`; the scratch crate
//! builds with the workspace's `Cargo.lock`, offline, into the workspace's target directory
//! (so serde and serde_json are built once, not per run).
#![cfg(feature = "agent-types")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use acp_client_ext::agent_types;
use acp_reference_server::{ReferenceServer, agents};
use serde_json::{Value, json};

/// One value an agent really produced (or accepted), and the generated type it must decode into.
struct Sample {
    agent: &'static str,
    ty: &'static str,
    value: Value,
    /// Whether re-encoding the decoded value must give the same JSON (not for inputs and
    /// configs, whose defaults fill in missing fields).
    round_trips: bool,
}

fn sample(agent: &'static str, ty: &'static str, value: Value, round_trips: bool) -> Sample {
    Sample {
        agent,
        ty,
        value,
        round_trips,
    }
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Value {
    let resp = http.post(&url).json(&body).send().await.unwrap();
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.json().await.unwrap()
}

/// Runs every agent once and collects its real outputs, interrupt payloads and updates.
async fn real_samples(http: &reqwest::Client, base: &str) -> Vec<Sample> {
    let id = |a: agents::AgentKind| a.id().to_string();
    let wait = |agent: agents::AgentKind, input: Value| {
        let body = json!({"agent_id": id(agent), "input": input});
        post(http, format!("{base}/runs/wait"), body)
    };
    let mut samples = Vec::new();

    let input = json!({"question": "hello", "n": 1});
    let out = wait(agents::AgentKind::Echo, input.clone()).await;
    samples.push(sample("echo", "Input", input, true));
    samples.push(sample(
        "echo",
        "Output",
        out["output"]["values"].clone(),
        true,
    ));
    samples.push(sample("echo", "Config", json!({"greeting": "hi"}), true));

    let out = wait(agents::AgentKind::Stream, json!({"count": 2})).await;
    assert_eq!(out["output"]["values"], json!({"count": 2}));
    samples.push(sample("stream", "Input", json!({"count": 2}), false));
    samples.push(sample(
        "stream",
        "Output",
        out["output"]["values"].clone(),
        true,
    ));

    // The custom agent's updates come only as a stream: read its SSE `data:` lines.
    let body = json!({"agent_id": id(agents::AgentKind::Custom), "input": {"count": 2},
        "stream_mode": "custom"});
    let text = http
        .post(format!("{base}/runs/stream"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let updates: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter(|e| e["type"] == "custom")
        .map(|e| e["update"].clone())
        .collect();
    assert_eq!(updates, [json!({"i": 0}), json!({"i": 1})], "{text}");
    for u in updates {
        samples.push(sample("custom", "CustomUpdate", u, true));
    }

    let out = wait(agents::AgentKind::Interrupt, json!({"interrupts": 1})).await;
    assert_eq!(out["output"]["type"], "interrupt", "{out}");
    samples.push(sample(
        "interrupt",
        "QuestionInterruptPayload",
        out["output"]["interrupt"].clone(),
        true,
    ));
    let run_id = out["run"]["run_id"].as_str().unwrap().to_string();
    let answer = json!({"answer": "yes"});
    samples.push(sample(
        "interrupt",
        "QuestionResumePayload",
        answer.clone(),
        true,
    ));
    post(http, format!("{base}/runs/{run_id}"), answer).await;
    let done: Value = http
        .get(format!("{base}/runs/{run_id}/wait"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        done["output"]["values"],
        json!({"answers": [{"answer": "yes"}]})
    );
    samples.push(sample(
        "interrupt",
        "Output",
        done["output"]["values"].clone(),
        true,
    ));

    // The fail agent's output is its error object.
    let out = wait(agents::AgentKind::Fail, json!({})).await;
    assert_eq!(out["output"]["type"], "error", "{out}");
    samples.push(sample("fail", "Output", out["output"].clone(), true));

    let out = wait(agents::AgentKind::Slow, json!({"deadline_ms": 5})).await;
    assert_eq!(out["output"]["values"], json!({"slept_ms": 5}));
    samples.push(sample(
        "slow",
        "Output",
        out["output"]["values"].clone(),
        true,
    ));
    samples
}

/// Our own descriptors in `tests/data/descriptors/` (shapes seen in the field, such as the
/// `$defs`/inline-title clash of acp-sdk's echo agent as the Workflow Server serves it): each
/// becomes module `data_<file stem>` of the scratch crate.
fn data_descriptors() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/descriptors");
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().replace('-', "_");
            (format!("data_{stem}"), p)
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no descriptors in {}", dir.display());
    found
}

/// Values our data descriptors' types must decode (and give back unchanged).
fn data_samples() -> Vec<Sample> {
    let lines =
        json!({"lines": [{"role": "user", "text": "hello"}, {"role": "agent", "text": "hello"}]});
    vec![
        sample("data_parrot_clash", "Input", lines.clone(), true),
        sample("data_parrot_clash", "Output", lines.clone(), true),
        sample(
            "data_parrot_clash",
            "ParrotPauseInterruptPayload",
            lines.clone(),
            true,
        ),
        sample(
            "data_parrot_clash",
            "ParrotPauseResumePayload",
            json!({"lines": null}),
            true,
        ),
    ]
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Hand-written uses of generated fields: these lines compile only if the generated types have
/// these fields with these types.
const TYPED_CHECKS: &str = r##"
fn typed_checks() {
    let out: stream::Output = serde_json::from_str(r#"{"count": 4}"#).unwrap();
    let count: Option<i64> = out.count;
    assert_eq!(count, Some(4));
    let input = stream::Input::default();
    assert_eq!((input.count, input.size, input.delay_ms), (3u64, 0u64, 0u64));
    let config: echo::Config = serde_json::from_str("{}").unwrap();
    let greeting: String = config.greeting;
    assert_eq!(greeting, "hello");
    let q: interrupt::QuestionInterruptPayload =
        serde_json::from_str(r#"{"question": "why?", "round": 1}"#).unwrap();
    assert_eq!((q.question.as_deref(), q.round), (Some("why?"), Some(1i64)));
    let answers: Vec<serde_json::Map<String, serde_json::Value>> =
        interrupt::Output::default().answers;
    assert!(answers.is_empty());
    let slept: Option<i64> = slow::Output::default().slept_ms;
    assert_eq!(slept, None);
    let i: Option<i64> = custom::CustomUpdate { i: Some(2) }.i;
    assert_eq!(i, Some(2));
    let timeout: bool = fail::Input::default().timeout;
    assert!(!timeout);
    // The clash shape: the `$defs` types keep their names, the inline copies get their own.
    let m = data_parrot_clash::Message { role: data_parrot_clash::Role::User, text: "a".into() };
    let lines: Option<Vec<data_parrot_clash::Message>> = data_parrot_clash::Input { lines: Some(vec![m]) }.lines;
    assert_eq!(lines.map(|l| l.len()), Some(1));
    let copy = data_parrot_clash::ParrotPauseInterruptPayloadMessage {
        role: data_parrot_clash::ParrotPauseInterruptPayloadRole::Tool,
        text: "b".into(),
    };
    let resume = data_parrot_clash::ParrotPauseResumePayload { lines: Some(vec![copy]) };
    assert!(resume.lines.is_some());
}
"##;

fn scratch_main(samples: &[Sample]) -> String {
    let mut arms = String::new();
    for (i, s) in samples.iter().enumerate() {
        arms.push_str(&format!(
            "    check::<{}::{}>({i}, &samples[{i}], {});\n",
            s.agent, s.ty, s.round_trips
        ));
    }
    let mods: String = agents::ALL
        .iter()
        .map(|a| a.name().to_string())
        .chain(data_descriptors().into_iter().map(|(m, _)| m))
        .map(|m| format!("mod {m};\n"))
        .collect();
    format!(
        r#"{mods}
fn check<T: serde::de::DeserializeOwned + serde::Serialize>(
    i: usize,
    value: &serde_json::Value,
    round_trips: bool,
) {{
    let decoded: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("sample {{i}} does not decode: {{e}}: {{value}}"));
    let again = serde_json::to_value(&decoded).unwrap();
    if round_trips {{
        assert_eq!(&again, value, "sample {{i}} changed in a round trip");
    }}
    println!("ok {{i}}");
}}
{TYPED_CHECKS}
fn main() {{
    let path = std::env::args().nth(1).expect("samples file");
    let samples: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
{arms}    typed_checks();
    println!("all {{}} decoded", samples.len());
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_agents_descriptors_become_modules_that_decode_their_real_outputs() {
    let server = ReferenceServer::start().await;
    let base = server.url();
    let http = reqwest::Client::new();
    let dir = tempfile_dir();
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();

    for agent in agents::ALL {
        let descriptor: Value = http
            .get(format!("{base}/agents/{}/descriptor", agent.id()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let module = agent_types::generate(&descriptor).unwrap();
        assert!(module.contains("pub struct Input"), "{module}");
        assert!(module.contains("pub struct Output"), "{module}");
        assert!(module.contains("pub struct Config"), "{module}");
        assert!(module.contains("pub struct ThreadState"), "{module}");
        assert_eq!(
            module.contains("pub struct QuestionInterruptPayload"),
            agent == agents::AgentKind::Interrupt
        );
        assert_eq!(
            module.contains("pub struct CustomUpdate"),
            agent == agents::AgentKind::Custom
        );
        // The command prints the same module.
        #[cfg(feature = "cli")]
        {
            let file = dir.join(format!("{}.json", agent.name()));
            std::fs::write(&file, serde_json::to_vec_pretty(&descriptor).unwrap()).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_acp"))
                .arg("agent-types")
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8(out.stdout).unwrap(), module);
        }
        std::fs::write(src.join(format!("{}.rs", agent.name())), module).unwrap();
    }

    for (module, path) in data_descriptors() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let source =
            agent_types::generate(&doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        std::fs::write(src.join(format!("{module}.rs")), source).unwrap();
    }
    let mut samples = real_samples(&http, &base).await;
    samples.extend(data_samples());
    server.shutdown().await;
    let values: Vec<&Value> = samples.iter().map(|s| &s.value).collect();
    let samples_file = dir.join("samples.json");
    std::fs::write(&samples_file, serde_json::to_vec(&values).unwrap()).unwrap();
    std::fs::write(src.join("main.rs"), scratch_main(&samples)).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        r#"[package]
name = "agent-types-scratch"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[workspace]
"#,
    )
    .unwrap();
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let out = Command::new(cargo)
        .args(["run", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--")
        .arg(&samples_file)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "scratch crate built and ran in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "scratch crate failed ({}):\n{stderr}\n{stdout}",
        dir.display()
    );
    assert!(
        stdout.contains(&format!("all {} decoded", samples.len())),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh scratch directory under the system temp dir.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "acp-agent-types-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(feature = "cli")]
mod cli {
    use std::process::{Command, Output};

    fn acp(args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_acp"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(stdin.unwrap_or_default().as_bytes())
            .unwrap();
        drop(pipe);
        child.wait_with_output().unwrap()
    }

    fn stderr(out: &Output) -> String {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    #[test]
    fn a_missing_file_is_an_input_error() {
        let out = acp(&["agent-types", "/nonexistent/descriptor.json"], None);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).starts_with("acp: /nonexistent/descriptor.json: cannot read:"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }

    #[test]
    fn invalid_json_is_reported_with_line_and_column() {
        let out = acp(
            &["agent-types", "-"],
            Some("{\n  \"specs\": {\"input\": {},}\n}"),
        );
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(stderr(&out), "acp: -:2:25: not JSON: trailing comma\n");
    }

    #[test]
    fn a_document_that_is_not_a_descriptor_says_what_was_expected() {
        let out = acp(
            &["agent-types", "-"],
            Some(r#"{"agent_id": "x", "metadata": {}}"#),
        );
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.starts_with("acp: -: not a descriptor: expected an ACP agent descriptor"));
        assert!(err.contains("GET /agents/{agent_id}/descriptor"), "{err}");
    }

    #[test]
    fn usage_errors_exit_2_and_help_exits_0() {
        assert_eq!(acp(&[], None).status.code(), Some(2));
        assert_eq!(acp(&["agent-types"], None).status.code(), Some(2));
        let help = acp(&["agent-types", "--help"], None);
        assert_eq!(help.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&help.stdout).contains("--format-types"));
    }

    #[test]
    fn a_bare_specs_object_on_stdin_prints_a_module() {
        let out = acp(
            &["agent-types", "-"],
            Some(r#"{"output": {"type": "string", "description": "The answer."}}"#),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let module = String::from_utf8(out.stdout).unwrap();
        assert!(module.contains("/// The answer.\n"), "{module}");
        assert!(module.contains("pub struct Output(pub ::std::string::String);"));
    }
}
