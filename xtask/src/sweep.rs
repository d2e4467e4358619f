//! `cargo xtask sweep`: generate a client from every known ACP release and decode sample payloads.
//!
//! For each document of [`spec::KNOWN`] in `$ACP_SPEC_DIR` (hash-checked), the sweep writes the
//! same stand-alone trial crate as `cargo xtask codegen --spec PATH --out DIR` into a temporary
//! directory, adds `tests/samples.rs` (from [`sample_tests`]: run outputs and stream events of
//! that version, plus what the version must reject) and runs `cargo test --test samples` in it.
//! All trial crates build into `target/sweep`, so dependencies are compiled once.
//!
//! Then it checks that `acp-client-ext` — its library with every library feature, and its
//! examples — compiles unchanged against that version's client ([`check_ext`]): a spec bump must
//! not reach users' code through run data. The trial workspace (`target/sweep/ext-<version>`)
//! holds a copy of `acp-client` whose `generated.rs` is that version's, and `acp-client-ext`
//! itself (a symbolic link, so nothing is copied or edited); it takes the workspace's manifest
//! and `Cargo.lock` and checks into the workspace's own target directory (`cargo check` only),
//! where `cargo clippy`/`cargo check` of the workspace already built the dependencies: only
//! `acp-client`, `acp-client-ext` and, once, a few dev-dependencies of the examples are checked
//! per version (about 15 s each on 2 cores, against minutes for a target directory of its own).

use crate::codegen;
use crate::spec::{self, KNOWN, Known};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Sweep every known version; print one line per version and fail if any failed.
pub fn run(root: &Path, spec_dir: Option<&Path>) -> Result<()> {
    let started = Instant::now();
    let dir = spec_dir.context(
        "cargo xtask sweep reads the released documents from $ACP_SPEC_DIR \
         (e.g. ACP_SPEC_DIR=../shared/acp-spec)",
    )?;
    let work = tempfile::Builder::new().prefix("acp-sweep-").tempdir()?;
    let target_dir = root.join("target/sweep");
    let mut failed = Vec::new();
    for known in KNOWN {
        let one = Instant::now();
        match sweep_one(root, dir, known, work.path(), &target_dir) {
            Ok(passed) => println!(
                "{} ok: {passed} sample tests passed, acp-client-ext and its examples compile ({:.0?})",
                known.version,
                one.elapsed()
            ),
            Err(e) => {
                println!("{} FAILED: {e:#}", known.version);
                failed.push(known.version);
            }
        }
    }
    eprintln!("sweep took {:.0?}", started.elapsed());
    if !failed.is_empty() {
        bail!("sweep failed for ACP {}", failed.join(", "));
    }
    Ok(())
}

/// Generate, write and test the trial crate of one version; the number of tests that passed.
fn sweep_one(
    root: &Path,
    spec_dir: &Path,
    known: &Known,
    work: &Path,
    target_dir: &Path,
) -> Result<usize> {
    let path = spec_dir.join(known.file());
    let file = spec::read(&path, None)?;
    if file.sha256 != known.sha256 {
        bail!(
            "sha256 mismatch for {}: expected {} (sweep table), actual {}",
            path.display(),
            known.sha256,
            file.sha256
        );
    }
    let generated = codegen::generate(&file)?;
    if generated.version != known.version {
        bail!("{}: info.version is {}", path.display(), generated.version);
    }
    let out = work.join(format!("acp-{}", known.version));
    codegen::write_trial_crate(root, &out, &generated.source)?;
    std::fs::create_dir_all(out.join("tests"))?;
    std::fs::write(out.join("tests/samples.rs"), sample_tests(known.version))?;

    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--quiet", "--test", "samples"])
        .current_dir(&out)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .context("running cargo test")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "cargo test in the trial crate failed:\n{}",
            tail(&format!("{stdout}{stderr}"), 30)
        );
    }
    check_ext(
        root,
        known.version,
        &generated.source,
        &workspace_target(root),
    )?;
    Ok(passed(&stdout))
}

/// The workspace's target directory: `$CARGO_TARGET_DIR` when set, else `target/`.
fn workspace_target(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The library features of `acp-client-ext` the check enables (not `cli`: the binary is not
/// run data's way into users' code, and it would add clap to every version's check).
const EXT_FEATURES: &str = "blocking,agent-types,validate";

/// The features for a release whose run types predate the ones the agent OpenAPI document
/// names (`descriptor::agent_openapi`, feature `validate`, uses 0.2.1's `RunStateless`,
/// `RunStateful`, `RunWaitResponseStateless` and `RunWaitResponseStateful`; 0.2.0 has `Run` and
/// `RunWaitResponse`): everything else is still checked against it.
fn ext_features(version: &str) -> &'static str {
    if version == "0.2.0" {
        "blocking,agent-types"
    } else {
        EXT_FEATURES
    }
}

/// `cargo check` of `acp-client-ext` (library and examples) against the client generated from
/// `source`, in the trial workspace `target/sweep/ext-<version>`, checked into `target_dir` (the
/// workspace's: see the module docs).
fn check_ext(root: &Path, version: &str, source: &str, target_dir: &Path) -> Result<()> {
    let ws = root.join("target/sweep").join(format!("ext-{version}"));
    write_ext_workspace(root, &ws, source)?;
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "check",
            "--quiet",
            "-p",
            "acp-client-ext",
            "--lib",
            "--examples",
        ])
        .args(["--features", ext_features(version)])
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .context("running cargo check")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "acp-client-ext does not compile against the ACP {version} client \
             (trial workspace {}):\n{}",
            ws.display(),
            tail(&stderr, 40)
        );
    }
    Ok(())
}

/// The trial workspace of [`check_ext`]: the workspace manifest with the members `acp-client`
/// (a copy, with `source` as its `generated.rs`) and `acp-client-ext` (a link to the real one),
/// and the workspace's lock file.
fn write_ext_workspace(root: &Path, ws: &Path, source: &str) -> Result<()> {
    if ws.exists() {
        std::fs::remove_dir_all(ws).with_context(|| format!("clearing {}", ws.display()))?;
    }
    let client = ws.join("acp-client");
    std::fs::create_dir_all(client.join("src"))?;
    for file in ["Cargo.toml", "README.md"] {
        std::fs::copy(root.join("acp-client").join(file), client.join(file))
            .with_context(|| format!("copying acp-client/{file}"))?;
    }
    for entry in std::fs::read_dir(root.join("acp-client/src"))? {
        let path = entry?.path();
        if let Some(name) = path.file_name()
            && path.extension().is_some_and(|e| e == "rs")
        {
            std::fs::copy(&path, client.join("src").join(name))?;
        }
    }
    std::fs::write(client.join("src/generated.rs"), source)?;
    link_dir(&root.join("acp-client-ext"), &ws.join("acp-client-ext"))?;

    let mut manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml"))?)
            .context("parsing the workspace's Cargo.toml")?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(toml::Value::as_table_mut)
        .context("the workspace's Cargo.toml has no [workspace]")?;
    workspace.insert(
        "members".into(),
        toml::Value::Array(vec!["acp-client".into(), "acp-client-ext".into()]),
    );
    // Path dependencies outside the trial workspace point back into the real one.
    if let Some(deps) = workspace
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
    {
        for (name, dep) in deps.iter_mut() {
            if name == "acp-client" || name == "acp-client-ext" {
                continue;
            }
            if let Some(path) = dep.get_mut("path") {
                let real: PathBuf = root.join(path.as_str().unwrap_or_default());
                *path = toml::Value::String(real.display().to_string());
            }
        }
    }
    std::fs::write(ws.join("Cargo.toml"), toml::to_string(&manifest)?)?;
    if root.join("Cargo.lock").is_file() {
        std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock"))?;
    }
    Ok(())
}

#[cfg(unix)]
fn link_dir(from: &Path, to: &Path) -> Result<()> {
    std::os::unix::fs::symlink(from, to)
        .with_context(|| format!("linking {} to {}", to.display(), from.display()))
}

#[cfg(not(unix))]
fn link_dir(from: &Path, _to: &Path) -> Result<()> {
    bail!(
        "the sweep links {} into its trial workspace: supported on Unix only",
        from.display()
    )
}

/// Sum of `N passed` over the `test result:` lines of libtest's output.
fn passed(stdout: &str) -> usize {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: "))
        .filter_map(|l| {
            let before = l.split(" passed").next()?;
            before.rsplit(' ').next()?.parse::<usize>().ok()
        })
        .sum()
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether `version` is at least `min` (both `major.minor.patch`).
fn at_least(version: &str, min: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    parse(version) >= parse(min)
}

/// `tests/samples.rs` of one version's trial crate.
///
/// Every version decodes the three `RunOutput` variants and the `values` and `custom` stream
/// events, and what the Agent Workflow Server writes beyond the spec (naive timestamps, `null`s,
/// unknown enum values and output types; `xtask/src/postprocess.rs`). 0.2.2 added the `interrupt` and `error` stream events (`ValueRunInterruptUpdate`,
/// `ValueRunErrorUpdate`, discriminated by `type` in `RunOutputStream.data`); 0.2.3 made run
/// inputs any JSON value. Versions without a feature must reject its payload (or, for stream
/// events, keep it untyped as `StreamEventPayload::Unknown`), so the sweep also shows where the
/// wire format changed.
pub fn sample_tests(version: &str) -> String {
    let mut src = format!(
        "//! ACP {version} sample payloads, decoded by the client generated from that spec.\n"
    );
    src += COMMON;
    src += if at_least(version, "0.2.2") {
        STREAM_INTERRUPT_AND_ERROR
    } else {
        NO_STREAM_INTERRUPT
    };
    src += if at_least(version, "0.2.3") {
        ANY_INPUT
    } else {
        OBJECT_INPUT_ONLY
    };
    src
}

const COMMON: &str = r#"
use acp_client_trial::types::*;
use serde_json::json;

const RUN_ID: &str = "3f1c1a3e-2b4d-4c6e-8f10-1a2b3c4d5e6f";

fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(v)
}

fn event(data: serde_json::Value) -> serde_json::Value {
    json!({"id": "1", "event": "agent_event", "data": data})
}

#[test]
fn run_output_result() {
    let out: RunOutput = decode(json!({
        "type": "result",
        "values": {"answer": 42},
        "messages": [{"role": "assistant", "content": "42"}]
    }))
    .unwrap();
    assert!(matches!(out, RunOutput::Result(_)), "{out:?}");
}

#[test]
fn run_output_interrupt() {
    let out: RunOutput =
        decode(json!({"type": "interrupt", "interrupt": {"question": "proceed?"}})).unwrap();
    assert!(matches!(out, RunOutput::Interrupt(_)), "{out:?}");
}

#[test]
fn run_output_error() {
    let out: RunOutput = decode(json!({
        "type": "error", "run_id": RUN_ID, "errcode": 500, "description": "boom"
    }))
    .unwrap();
    assert!(matches!(&out, RunOutput::Error(e) if e.errcode == 500), "{out:?}");
}

#[test]
fn stream_values() {
    let ev: RunOutputStream = decode(event(json!({
        "type": "values", "run_id": RUN_ID, "status": "success", "values": {"answer": 42}
    })))
    .unwrap();
    assert!(matches!(ev.data, StreamEventPayload::ValueRunResultUpdate(_)), "{ev:?}");
}

#[test]
fn pydantic_thread_naive_times_nulls_unknown_status() {
    // As agntcy's Agent Workflow Server writes it: naive `datetime.now()`, `null`s, a status
    // the spec does not list.
    let thread: Thread = decode(json!({
        "thread_id": "a1415078-3a52-4c4b-9d0e-1f2a3b4c5d6e",
        "created_at": "2026-11-30T09:20:14.749047", "updated_at": "2026-11-30 09:20:14",
        "metadata": {}, "status": "busy-ish", "values": null, "messages": null
    }))
    .unwrap();
    let created = thread.created_at.datetime().expect("naive time read as UTC");
    assert_eq!(created.to_rfc3339(), "2026-11-30T09:20:14.749047+00:00");
    assert!(thread.updated_at.datetime().is_some());
    assert_eq!(thread.status.to_string(), "busy-ish");
    assert_eq!(serde_json::to_value(&thread.status).unwrap(), json!("busy-ish"));
    let garbage: Thread = decode(json!({
        "thread_id": "t", "created_at": "yesterday", "updated_at": "2026-11-30T09:20:14+02:00",
        "metadata": null, "status": "idle"
    }))
    .unwrap();
    assert_eq!(garbage.created_at.unparsed(), Some("yesterday"));
    assert_eq!(garbage.updated_at.to_string(), "2026-11-30T07:20:14Z");
}

#[test]
fn stream_values_unknown_status() {
    let ev: RunOutputStream = decode(event(json!({
        "type": "values", "run_id": RUN_ID, "status": "running", "values": {"n": 1}, "messages": null
    })))
    .unwrap();
    assert!(
        matches!(&ev.data, StreamEventPayload::ValueRunResultUpdate(u)
            if u.status == RunStatus::Other("running".into())),
        "{ev:?}"
    );
}

#[test]
fn nulls_read_as_defaults() {
    let run: RunCreateStateful = decode(json!({
        "agent_id": null, "input": null, "stream_mode": null, "on_disconnect": null,
        "multitask_strategy": null, "if_not_exists": null, "stream_subgraphs": null
    }))
    .unwrap();
    assert_eq!(run.on_disconnect, OnDisconnect::Cancel);
    assert_eq!(run.if_not_exists, IfNotExists::Reject);
    assert!(!run.stream_subgraphs);
    let out: RunOutput = decode(json!({
        "type": "error", "run_id": RUN_ID, "errcode": 500, "description": null
    }))
    .unwrap();
    assert!(matches!(&out, RunOutput::Error(e) if e.description.is_empty()), "{out:?}");
}

#[test]
fn unknown_output_type_is_kept() {
    let out: RunOutput = decode(json!({"type": "cancelled", "values": {"n": 1}})).unwrap();
    assert!(matches!(&out, RunOutput::Unknown(v) if v["type"] == "cancelled"), "{out:?}");
}

#[test]
fn stream_custom() {
    let ev: RunOutputStream = decode(event(json!({
        "type": "custom", "run_id": RUN_ID, "status": "pending", "update": {"token": "4"}
    })))
    .unwrap();
    assert!(matches!(ev.data, StreamEventPayload::CustomRunResultUpdate(_)), "{ev:?}");
}
"#;

const STREAM_INTERRUPT_AND_ERROR: &str = r#"
#[test]
fn stream_interrupt() {
    let ev: RunOutputStream = decode(event(json!({
        "type": "interrupt", "run_id": RUN_ID, "status": "interrupted",
        "interrupt": {"question": "proceed?"}
    })))
    .unwrap();
    assert!(
        matches!(&ev.data, StreamEventPayload::ValueRunInterruptUpdate(u) if u.status == RunStatus::Interrupted),
        "{ev:?}"
    );
}

#[test]
fn stream_error() {
    let ev: RunOutputStream = decode(event(json!({
        "type": "error", "run_id": RUN_ID, "status": "error", "errcode": 500, "description": "boom"
    })))
    .unwrap();
    assert!(
        matches!(&ev.data, StreamEventPayload::ValueRunErrorUpdate(u) if u.errcode == 500),
        "{ev:?}"
    );
}
"#;

const NO_STREAM_INTERRUPT: &str = r#"
#[test]
fn stream_interrupt_and_error_are_not_in_this_version() {
    // Not typed in this version: kept as JSON (`Unknown`), the event itself still decodes.
    let interrupt = event(json!({
        "type": "interrupt", "run_id": RUN_ID, "status": "interrupted",
        "interrupt": {"question": "proceed?"}
    }));
    let ev: RunOutputStream = decode(interrupt).unwrap();
    assert!(matches!(&ev.data, StreamEventPayload::Unknown(v) if v["type"] == "interrupt"), "{ev:?}");
    let error = event(json!({
        "type": "error", "run_id": RUN_ID, "status": "error", "errcode": 500, "description": "boom"
    }));
    let ev: RunOutputStream = decode(error).unwrap();
    assert!(matches!(&ev.data, StreamEventPayload::Unknown(v) if v["type"] == "error"), "{ev:?}");
}
"#;

const ANY_INPUT: &str = r#"
#[test]
fn string_input() {
    let run: RunCreateStateless = decode(json!({"agent_id": RUN_ID, "input": "hello"})).unwrap();
    assert!(matches!(&run.input, Some(InputSchema::String(s)) if s == "hello"), "{run:?}");
}

#[test]
fn number_input() {
    let run: RunCreateStateless = decode(json!({"agent_id": RUN_ID, "input": 42})).unwrap();
    assert!(matches!(run.input, Some(InputSchema::Integer(42))), "{run:?}");
    let run: RunCreateStateless = decode(json!({"agent_id": RUN_ID, "input": 2.5})).unwrap();
    assert!(matches!(run.input, Some(InputSchema::Number(n)) if n == 2.5), "{run:?}");
}
"#;

const OBJECT_INPUT_ONLY: &str = r#"
#[test]
fn only_object_inputs_in_this_version() {
    let run: RunCreateStateless = decode(json!({"agent_id": RUN_ID, "input": {"q": "hello"}})).unwrap();
    assert!(run.input.is_some());
    assert!(decode::<RunCreateStateless>(json!({"agent_id": RUN_ID, "input": "hello"})).is_err());
    assert!(decode::<RunCreateStateless>(json!({"agent_id": RUN_ID, "input": 42})).is_err());
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(at_least("0.2.2", "0.2.2"));
        assert!(at_least("0.2.10", "0.2.3"));
        assert!(!at_least("0.2.1", "0.2.2"));
    }

    #[test]
    fn samples_follow_the_version() {
        let old = sample_tests("0.2.1");
        assert!(old.contains("fn stream_interrupt_and_error_are_not_in_this_version"));
        assert!(old.contains("fn only_object_inputs_in_this_version"));
        assert!(!old.contains("ValueRunErrorUpdate"));
        // what real servers send beyond the spec, in every version
        for new in ["0.2.0", "0.2.3"] {
            let src = sample_tests(new);
            assert!(src.contains("fn pydantic_thread_naive_times_nulls_unknown_status"));
            assert!(src.contains("RunStatus::Other(\"running\".into())"));
            assert!(src.contains("RunOutput::Unknown"));
        }
        let mid = sample_tests("0.2.2");
        assert!(mid.contains("StreamEventPayload::ValueRunInterruptUpdate"));
        assert!(mid.contains("StreamEventPayload::ValueRunErrorUpdate"));
        assert!(!mid.contains("InputSchema::String"));
        let new = sample_tests("0.2.3");
        assert!(new.contains("InputSchema::String") && new.contains("InputSchema::Integer(42)"));
    }

    #[test]
    fn counts_passed_tests_of_every_binary() {
        let out = "running 3 tests\n...\ntest result: ok. 3 passed; 0 failed; 0 ignored\n\n\
                   test result: ok. 4 passed; 0 failed\n";
        assert_eq!(passed(out), 7);
    }

    #[test]
    fn the_table_names_each_release_once() {
        let mut versions: Vec<&str> = KNOWN.iter().map(|k| k.version).collect();
        versions.dedup();
        assert_eq!(versions, ["0.2.0", "0.2.1", "0.2.2", "0.2.3"]);
        assert!(
            KNOWN
                .iter()
                .all(|k| k.sha256.len() == 64 && k.commit.len() == 40)
        );
    }
}
