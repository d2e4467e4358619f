//! `acp` driven as a user drives it: the binary against the reference server (started here, on a
//! runtime thread of its own), each subcommand's text and `--json` output, exit statuses,
//! credentials kept out of output and traces, `acp check` in both dialects, and the interactive
//! resume through a pseudo-terminal.

mod support;

use acp_client_ext::AcpClient;
use acp_client_ext::types::RunCreateStateful;
use acp_reference_server::agents::{INTERRUPT, SLOW, STREAM};
use acp_reference_server::{Dialect, Fault, ReferenceServer, ServerConfig, Target};
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

const ACP: &str = env!("CARGO_BIN_EXE_acp");

/// A reference server that lives as long as the test process, on its own runtime.
fn server(dialect: Dialect) -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    static WS: OnceLock<String> = OnceLock::new();
    let cell = match dialect {
        Dialect::WorkflowServer => &WS,
        _ => &SPEC,
    };
    cell.get_or_init(|| {
        let rt = Box::leak(Box::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        ));
        let mut config = ServerConfig::for_dialect(dialect);
        // Keep-alives between the check's slow events, so that their spelling shows.
        config.keepalive_interval = Duration::from_millis(50);
        let server = Box::leak(Box::new(rt.block_on(ReferenceServer::start_with(config))));
        server.url()
    })
}

fn spec() -> &'static str {
    server(Dialect::Spec)
}

/// Runs `acp` with `args` against `url`, with no credentials from the test's environment.
fn acp_at(url: &str, args: &[&str]) -> Output {
    Command::new(ACP)
        .arg("--url")
        .arg(url)
        .args(args)
        .env_remove("ACP_URL")
        .env_remove("ACP_API_KEY")
        .env_remove("ACP_BEARER_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn acp(args: &[&str]) -> Output {
    acp_at(spec(), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Every line of `--json` output, parsed.
fn ndjson(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// A client of the spec server and a runtime to drive it, for set-ups the test makes itself.
fn with_client<T>(f: impl AsyncFnOnce(AcpClient) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { f(AcpClient::new(spec()).unwrap()).await })
}

#[test]
fn help_documents_exit_statuses_and_credentials() {
    let o = Command::new(ACP).arg("--help").output().unwrap();
    assert_eq!(code(&o), 0);
    let help = stdout(&o);
    for needle in [
        "3  the run is interrupted",
        "4  the server or the connection failed",
        "ACP_API_KEY",
        "check",
        "completions",
    ] {
        assert!(help.contains(needle), "{needle:?} not in {help}");
    }
    let o = Command::new(ACP)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("_acp()"));
}

#[test]
fn usage_errors_exit_2() {
    let o = acp(&["run", "echo", "--input", "{not json"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--input: not JSON"));
    let o = acp(&["run", "no-such-agent"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no agent named \"no-such-agent\""));
    let o = Command::new(ACP)
        .args(["agents"])
        .env_remove("ACP_URL")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("ACP_URL"));
    let o = acp(&["frobnicate"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn agents_and_agent_in_text_and_json() {
    let o = acp(&["agents"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(
        text.contains("00000000-0000-4000-8000-000000000057  stream 0.1.0"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 6);

    let o = acp(&["--json", "agents", "--name", "interrupt"]);
    let lines = ndjson(&o);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["metadata"]["ref"]["name"], "interrupt");

    let o = acp(&["agent", "interrupt"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    for needle in [
        "name: interrupt",
        "input schema:",
        "\"interrupts\": {",
        "interrupt question:",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    let o = acp(&["--json", "agent", &INTERRUPT.to_string()]);
    let lines = ndjson(&o);
    assert_eq!(
        lines[0]["descriptor"]["specs"]["capabilities"]["interrupts"],
        true
    );
}

#[test]
fn run_streams_events_then_the_outcome() {
    let o = acp(&["run", "stream", "--input", r#"{"count": 2}"#]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"values [pending] {"i":0,"pad":""}"#);
    assert_eq!(lines[1], r#"values [pending] {"i":1,"pad":""}"#);
    assert_eq!(lines[2], r#"values [success] {"count":2}"#);
    assert!(lines[3].starts_with("run ") && lines[3].ends_with(" completed"));

    let o = acp(&[
        "--json",
        "run",
        "stream",
        "--new-thread",
        "--input",
        r#"{"count": 2}"#,
    ]);
    assert_eq!(code(&o), 0);
    let lines = ndjson(&o);
    assert!(lines[0]["thread_id"].is_string());
    assert_eq!(lines[1]["event"], "values");
    assert_eq!(lines[1]["id"], "1");
    // Every line is a thread, an event or the outcome: nothing else on stdout.
    assert!(
        lines
            .iter()
            .all(|l| l.get("thread_id").is_some() || l.get("event").is_some())
    );
    let last = lines.last().unwrap();
    assert_eq!(last["outcome"], "completed");
    assert_eq!(last["values"], json!({"count": 2}));
    assert_eq!(last["thread_id"], lines[0]["thread_id"]);
}

#[test]
fn run_waits_and_exits_by_outcome() {
    let o = acp(&["run", "echo", "--wait", "30s", "--input", r#"{"q": "hi"}"#]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\"q\": \"hi\""));
    // Not a terminal: no spinner on stderr.
    assert!(!stderr(&o).contains("waiting"));

    let o = acp(&["--json", "run", "fail", "--wait", "30s"]);
    assert_eq!(code(&o), 1);
    let last = ndjson(&o).pop().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["error"]["errcode"], 42);

    let o = acp(&["run", "fail"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("failed (42)"));
}

#[test]
fn an_interrupt_without_a_terminal_ends_with_3_then_runs_resume_answers_it() {
    let o = acp(&["--json", "run", "interrupt", "--new-thread", "--no-input"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let last = ndjson(&o).pop().unwrap();
    assert_eq!(last["outcome"], "interrupted");
    assert!(last["payload"]["question"].is_string());
    let run = last["run_id"].as_str().unwrap().to_string();
    let thread = last["thread_id"].as_str().unwrap().to_string();

    let o = acp(&[
        "runs",
        "resume",
        &run,
        "--thread",
        &thread,
        "--payload",
        r#"{"ok": true}"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("run {run} resumed")));
    let o = acp(&["runs", "join", &run, "--thread", &thread]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("success"));
    let o = acp(&["--json", "runs", "get", &run, "--thread", &thread]);
    assert_eq!(ndjson(&o)[0]["status"], "success");

    // Text mode, stdin not a terminal: the question and how to answer it.
    let o = acp(&["run", "interrupt"]);
    assert_eq!(code(&o), 3);
    assert!(stdout(&o).contains("acp runs resume "), "{}", stdout(&o));
}

#[test]
fn runs_cancel_rollback_delete_and_errors_exit_4() {
    let ((thread, thread_b), a, b) = with_client(async |c| {
        let body = || RunCreateStateful {
            agent_id: Some(SLOW.to_string()),
            ..Default::default()
        };
        // One slow run per thread: a thread with a pending run refuses another.
        let (t1, t2) = (c.new_thread().await.unwrap(), c.new_thread().await.unwrap());
        let a = t1.create(body()).await.unwrap().run_id().to_string();
        let b = t2.create(body()).await.unwrap().run_id().to_string();
        (
            (t1.thread_id().to_string(), t2.thread_id().to_string()),
            a,
            b,
        )
    });
    let o = acp(&["runs", "cancel", &a, "--thread", &thread]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), format!("run {a} cancelled"));
    let o = acp(&["--json", "runs", "get", &a, "--thread", &thread]);
    assert_eq!(ndjson(&o)[0]["status"], "interrupted");
    let o = acp(&["--json", "runs", "delete", &a, "--thread", &thread]);
    assert_eq!(ndjson(&o)[0]["done"], "deleted");

    let o = acp(&["runs", "rollback", &b, "--thread", &thread_b]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = acp(&["runs", "get", &b, "--thread", &thread_b]);
    assert_eq!(code(&o), 4);
    assert!(stderr(&o).contains("404"), "{}", stderr(&o));

    let o = acp_at("http://127.0.0.1:9", &["agents"]);
    assert_eq!(code(&o), 4);
}

#[test]
fn threads_create_get_list_history_delete() {
    let o = acp(&[
        "--json",
        "threads",
        "create",
        "--metadata",
        r#"{"owner": "cli-test"}"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let thread = ndjson(&o)[0]["thread_id"].as_str().unwrap().to_string();
    let o = acp(&["threads", "get", &thread]);
    assert!(
        stdout(&o).contains("\"owner\": \"cli-test\""),
        "{}",
        stdout(&o)
    );
    let o = acp(&["--json", "threads", "list", "--limit", "100"]);
    assert!(ndjson(&o).iter().any(|t| t["thread_id"] == thread.as_str()));
    let o = acp(&["run", "echo", "--thread", &thread, "--input", r#"{"n": 1}"#]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = acp(&["--json", "threads", "history", &thread]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!ndjson(&o).is_empty());
    let o = acp(&["threads", "delete", &thread]);
    assert_eq!(stdout(&o).trim(), format!("thread {thread} deleted"));
    let o = acp(&["threads", "get", &thread]);
    assert_eq!(code(&o), 4);
}

#[test]
fn credentials_never_appear_in_output_or_traces() {
    const KEY: &str = "sk-cli-test-very-secret";
    const TOKEN: &str = "tok-cli-test-very-secret";
    let file = std::env::temp_dir().join(format!("acp-cli-key-{}", std::process::id()));
    std::fs::write(&file, format!("{KEY}\n")).unwrap();
    let runs: [Vec<&str>; 3] = [
        vec!["-vv", "run", "stream", "--input", r#"{"count": 1}"#],
        vec!["-vv", "--json", "agents"],
        vec!["-vv", "runs", "get", "00000000-0000-4000-8000-000000000000"],
    ];
    for args in runs {
        for env in [("ACP_API_KEY", KEY), ("ACP_BEARER_TOKEN", TOKEN)] {
            let o = Command::new(ACP)
                .args(["--url", spec()])
                .args(&args)
                .env(env.0, env.1)
                .output()
                .unwrap();
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert!(all.contains("DEBUG"), "-vv traces: {all}");
            assert!(!all.contains(KEY) && !all.contains(TOKEN), "{all}");
        }
        let file_arg = file.to_str().unwrap();
        let o = Command::new(ACP)
            .args(["--url", spec(), "--api-key-file", file_arg])
            .args(&args)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains(KEY), "{all}");
    }
    let _ = std::fs::remove_file(file);
}

#[test]
fn proxy_and_identity_secrets_never_appear_in_output_or_traces() {
    // `ACP_PROXY` with credentials and a client identity from `ACP_CLIENT_CERT`/`_KEY`: the
    // request goes through the proxy, and neither the proxy password (plain or encoded) nor the
    // private key shows in stdout, stderr or `-vv` traces, on success or on the proxy's 407.
    const USER: &str = "cli-proxy-user";
    const PASSWORD: &str = "pw-cli-proxy-very-secret";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let proxy = rt.block_on(support::relay::Relay::forward_proxy(Some(
        support::relay::basic(USER, PASSWORD),
    )));
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["acp-cli-test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("client.crt"), dir.path().join("client.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    let key_pem = key.serialize_pem();
    std::fs::write(&key_file, &key_pem).unwrap();
    let key_body = &key_pem[40..80];
    let encoded = support::relay::base64(format!("{USER}:{PASSWORD}").as_bytes());

    for (password, want) in [(PASSWORD, 0), ("wrong-password", 4)] {
        let o = Command::new(ACP)
            .args(["--url", spec(), "-vv", "--json", "agents"])
            .env_remove("ACP_URL")
            .env_remove("RUST_LOG")
            .env(
                "ACP_PROXY",
                format!("http://{USER}:{password}@{}", proxy.addr),
            )
            .env("ACP_CLIENT_CERT", &cert_file)
            .env("ACP_CLIENT_KEY", &key_file)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(code(&o), want, "{all}");
        assert!(all.contains("DEBUG"), "-vv traces: {all}");
        for secret in [password, encoded.as_str(), key_body, "PRIVATE KEY"] {
            assert!(!all.contains(secret), "{secret:?} in {all}");
        }
    }
    let seen = proxy.seen();
    assert_eq!(seen.len(), 2, "both went through the proxy: {seen:#?}");
    assert_eq!(
        seen[0].header("proxy-authorization"),
        Some(support::relay::basic(USER, PASSWORD).as_str())
    );
}

/// The check's agent: one that streams several events slowly (so that the SSE probes see
/// keep-alives and a rejoin mid-run).
const CHECK_ARGS: [&str; 5] = [
    "check",
    "--agent",
    "stream",
    "--input",
    r#"{"count": 4, "delay_ms": 200}"#,
];

#[test]
fn check_finds_no_deviation_in_the_spec_dialect() {
    let o = acp_at(server(Dialect::Spec), &CHECK_ARGS);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report = stdout(&o);
    assert!(
        report.contains("No deviations from the spec found."),
        "{report}"
    );
    for op in [
        "search_agents",
        "get_thread_history",
        "copy_thread",
        "patch_thread",
        "cancel_thread_run",
        "create_and_stream_stateless_run_output",
        "search_stateless_runs",
        "delete_stateless_run",
    ] {
        assert!(report.contains(op), "{op} not tried: {report}");
    }
    let mut args = vec!["--json"];
    args.extend(CHECK_ARGS);
    let o = acp_at(server(Dialect::Spec), &args);
    let lines = ndjson(&o);
    assert!(lines.iter().all(|l| l.get("deviation").is_none()));
    let ops: std::collections::HashSet<&str> = lines
        .iter()
        .filter_map(|l| l["operation"].as_str())
        .collect();
    assert_eq!(ops.len(), 30, "every ACP operation: {ops:?}");
}

#[test]
fn check_reports_the_workflow_server_dialects_deviations() {
    let mut args = vec!["--json"];
    args.extend(CHECK_ARGS);
    let o = acp_at(server(Dialect::WorkflowServer), &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let found: std::collections::BTreeMap<String, String> = ndjson(&o)
        .into_iter()
        .filter_map(|l| {
            Some((
                l["deviation"].as_str()?.to_string(),
                l["seen"].as_str()?.to_string(),
            ))
        })
        .collect();
    let expect = [
        ("timestamps", "naive"),
        ("null for absent fields", "is null"),
        ("error bodies", "{\"detail\""),
        ("SSE ids", "ids count per connection"),
        ("SSE keep-alives", "glued"),
        ("end of a stream", "running"),
        ("run status", "\"running\""),
        ("search without filters", "422"),
        (
            "operations not implemented",
            "get_thread_history, copy_thread, cancel_thread_run, cancel_stateless_run, delete_stateless_run",
        ),
    ];
    for (topic, seen) in expect {
        let got = found
            .get(topic)
            .unwrap_or_else(|| panic!("{topic} not reported: {found:#?}"));
        assert!(got.contains(seen), "{topic}: {got}");
    }
    assert_eq!(found.len(), expect.len(), "nothing else: {found:#?}");
}

#[test]
fn an_interrupt_is_answered_at_the_prompt_on_a_terminal() {
    let mut cmd = Command::new(ACP);
    cmd.args([
        "--url",
        spec(),
        "run",
        "interrupt",
        "--input",
        r#"{"interrupts": 2}"#,
    ])
    .env_remove("ACP_API_KEY");
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("? ").unwrap();
    p.exp_string("answer (a JSON object): ").unwrap();
    p.send_line("not json").unwrap();
    p.exp_string("try again").unwrap();
    p.send_line(r#"{"round": 1, "ok": true}"#).unwrap();
    p.exp_string("answer (a JSON object): ").unwrap();
    p.send_line(r#"{"round": 2}"#).unwrap();
    p.exp_string("completed").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("\"ok\": true"), "{rest}");
    match p.process.wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }
}

/// `acp op --list --json`: every operation of the table as `(operation_id, method, path)`.
fn op_table() -> Vec<(String, String, String)> {
    let o = Command::new(ACP)
        .args(["--json", "op", "--list"])
        .env_remove("ACP_URL")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "--list needs no server: {}", stderr(&o));
    ndjson(&o)
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap().to_string();
            (s("operation_id"), s("method"), s("path"))
        })
        .collect()
}

#[test]
fn op_list_prints_every_operation_of_the_table() {
    let table = op_table();
    let expected: Vec<(String, String, String)> = acp_client_ext::Operation::all()
        .map(|o| (o.id().into(), o.method().into(), o.path().into()))
        .collect();
    assert_eq!(table, expected);
    // The whole spec: 30 operations, the ones without a typed call too.
    assert_eq!(table.len(), 30);
    for id in [
        "patch_thread",
        "copy_thread",
        "get_thread_history",
        "search_stateless_runs",
    ] {
        assert!(table.iter().any(|(i, ..)| i == id), "{id}");
    }
    let o = acp(&["op", "--list"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 30);
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "get_thread_run",
                    "GET",
                    "/threads/{thread_id}/runs/{run_id}"
                ]),
        "{text}"
    );
    let help = stdout(&Command::new(ACP).arg("--help").output().unwrap());
    assert!(help.contains("acp op get_thread thread_id=ID"), "{help}");
}

#[test]
fn op_sends_a_body_and_fills_path_parameters() {
    // POST with a body: create_thread, its answer pretty-printed.
    let o = acp(&[
        "op",
        "create_thread",
        "--body",
        r#"{"metadata": {"by": "acp op"}}"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let created: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(stdout(&o).lines().count() > 1, "pretty JSON");
    let thread_id = created["thread_id"].as_str().unwrap().to_string();
    assert_eq!(created["metadata"]["by"], "acp op");

    // GET with a path parameter, as one NDJSON line.
    let o = acp(&[
        "--json",
        "op",
        "get_thread",
        &format!("thread_id={thread_id}"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines = ndjson(&o);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["thread_id"], thread_id.as_str());
    assert_eq!(lines[0]["metadata"]["by"], "acp op");

    // A body from a file, and the search finds the thread.
    let file = std::env::temp_dir().join(format!("acp-op-search-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"metadata": {"by": "acp op"}, "limit": 100}"#).unwrap();
    let o = acp(&[
        "--json",
        "op",
        "search_threads",
        "--body",
        &format!("@{}", file.display()),
    ]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let found = &ndjson(&o)[0];
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["thread_id"] == thread_id.as_str()),
        "{found}"
    );

    // An error status is the library's error, exit 4.
    let o = acp(&[
        "op",
        "get_thread",
        "thread_id=00000000-0000-4000-8000-00000000dead",
    ]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("get_thread"), "{}", stderr(&o));

    // A delete answers 204: nothing printed, exit 0.
    let o = acp(&["op", "delete_thread", &format!("thread_id={thread_id}")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn op_streams_events_line_by_line() {
    let body = json!({"agent_id": STREAM.to_string(), "input": {"count": 3}}).to_string();
    let o = acp(&[
        "--json",
        "op",
        "create_and_stream_stateless_run_output",
        "--body",
        &body,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines = ndjson(&o);
    // Three updates and the final values, each its own line with its SSE id, as the server
    // sent them (the raw events, not the library's typed ones).
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines.iter().all(|l| l["event"] == "agent_event"));
    assert_eq!(lines[3]["data"]["values"], json!({"count": 3}));
    assert!(
        lines
            .iter()
            .all(|l| l["id"].is_string() && l["data"].is_object())
    );

    let o = acp(&[
        "op",
        "create_and_stream_stateless_run_output",
        "--body",
        &body,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("agent_event {"))
            .count(),
        4,
        "{text}"
    );
}

#[test]
fn op_refuses_bad_input_before_any_request() {
    // A server of its own, so that its request counter sees only this test.
    let url = {
        let rt = Box::leak(Box::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        ));
        let server: &'static ReferenceServer =
            Box::leak(Box::new(rt.block_on(ReferenceServer::start())));
        (server, server.url())
    };
    let (server, url) = url;
    let id = "thread_id=00000000-0000-4000-8000-000000000001";
    let cases: &[(&[&str], &str)] = &[
        (&["op", "get_thred", id], "did you mean get_thread?"),
        (&["op", "get_thread"], "needs the path parameter thread_id"),
        (
            &["op", "get_thread_run", id],
            "needs the path parameter run_id",
        ),
        (
            &["op", "get_thread", id, "run_id=1"],
            "\"run_id\" is not a path parameter",
        ),
        (
            &["op", "search_threads", "--body", "{\n \"limit\": 1,\n}"],
            "--body:3:1: not JSON",
        ),
        (
            &["op", "search_threads", "--query", "limit"],
            "expected NAME=VALUE",
        ),
    ];
    for (args, needle) in cases {
        let o = acp_at(&url, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{args:?}");
    }
    // Not one request reached the server, for any operation of the table.
    for (_, method, path) in op_table() {
        let pattern: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "*" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        assert_eq!(server.requests(&method, &pattern), 0, "{method} {path}");
    }
    // The same server answers a well-formed call (the counter counts).
    let o = acp_at(&url, &["op", "search_agents", "--body", "{}"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(server.requests("POST", "/agents/search"), 1);
}

/// A reference server of its own in `dialect`, so that its request counters see only the test
/// that started it. It lives as long as the test process.
fn own_server(dialect: Dialect) -> &'static ReferenceServer {
    let rt = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
    ));
    Box::leak(Box::new(
        rt.block_on(ReferenceServer::with_dialect(dialect)),
    ))
}

/// The run of the outcome record that ends a `--json` run.
fn outcome_run(o: &Output) -> String {
    let last = ndjson(o).pop().unwrap();
    assert_eq!(last["outcome"], "completed", "{last}");
    last["run_id"].as_str().unwrap().to_string()
}

#[test]
fn run_config_is_the_agents_configurable_values() {
    // `--config` is what the descriptor's config schema describes: it reaches the server as
    // `config.configurable` (the run's `creation` is the create body as the server read it).
    let o = acp(&[
        "--json",
        "run",
        "echo",
        "--wait",
        "30s",
        "--config",
        r#"{"greeting": "hi"}"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let run = outcome_run(&o);
    let o = acp(&["--json", "runs", "get", &run]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let config = &ndjson(&o)[0]["creation"]["config"];
    assert_eq!(config, &json!({"configurable": {"greeting": "hi"}}));

    // The same, streamed.
    let o = acp(&["--json", "run", "echo", "--config", r#"{"greeting": "yo"}"#]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = acp(&["--json", "runs", "get", &outcome_run(&o)]);
    assert_eq!(
        ndjson(&o)[0]["creation"]["config"]["configurable"]["greeting"],
        "yo"
    );

    // The whole object under its own flag.
    let o = acp(&[
        "--json",
        "run",
        "echo",
        "--wait",
        "30s",
        "--config-object",
        r#"{"configurable": {"greeting": "whole"}}"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = acp(&["--json", "runs", "get", &outcome_run(&o)]);
    assert_eq!(
        ndjson(&o)[0]["creation"]["config"],
        json!({"configurable": {"greeting": "whole"}})
    );

    // The whole object travels, members other than `configurable` too.
    let o = acp(&[
        "--json",
        "run",
        "echo",
        "--wait",
        "30s",
        "--config-object",
        r#"{"tags": ["a"]}"#,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = acp(&["--json", "runs", "get", &outcome_run(&o)]);
    assert_eq!(ndjson(&o)[0]["creation"]["config"], json!({"tags": ["a"]}));

    // Not both.
    let o = acp(&["run", "echo", "--config", "{}", "--config-object", "{}"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--config-object"), "{}", stderr(&o));
    let o = acp(&["run", "echo", "--config", "[1]"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--config: must be a JSON object"));
}

#[test]
fn a_run_without_config_of_an_agent_declaring_one_works_on_the_workflow_server() {
    // The Workflow Server answers 422 to a run of `echo` (it declares a config schema) without
    // `config`; the agent handle sends `config: {}`.
    let ws = server(Dialect::WorkflowServer);
    for extra in [&[][..], &["--wait", "30s"][..]] {
        let mut args = vec!["--json", "run", "echo", "--input", r#"{"q": "hi"}"#];
        args.extend(extra);
        let o = acp_at(ws, &args);
        assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
        let last = ndjson(&o).pop().unwrap();
        assert_eq!(last["values"], json!({"q": "hi"}), "{extra:?}");
        let run = last["run_id"].as_str().unwrap();
        let o = acp_at(ws, &["--json", "runs", "get", run]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(ndjson(&o)[0]["creation"]["config"], json!({}), "{extra:?}");
    }
}

#[test]
fn run_wait_on_a_new_thread_is_one_create_and_wait_on_the_workflow_server() {
    let ws = own_server(Dialect::WorkflowServer);
    let o = acp_at(
        &ws.url(),
        &[
            "run",
            "echo",
            "--new-thread",
            "--wait",
            "30s",
            "--input",
            r#"{"q": "hi"}"#,
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("thread "), "{text}");
    assert!(
        lines[1].starts_with("run ") && lines[1].ends_with(" completed"),
        "{text}"
    );
    assert!(text.contains("\"q\": \"hi\""), "{text}");
    // One create-and-wait: no background create (broken on that server) and no second wait.
    assert_eq!(ws.requests("POST", "/threads/*/runs/wait"), 1);
    assert_eq!(ws.requests("POST", "/threads/*/runs"), 0);
    assert_eq!(ws.requests("GET", "/threads/*/runs/*/wait"), 0);

    // Stateless too.
    let o = acp_at(&ws.url(), &["run", "echo", "--wait", "30s"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(ws.requests("POST", "/runs/wait"), 1);
    assert_eq!(ws.requests("POST", "/runs"), 0);
}

#[test]
fn agents_on_the_workflow_server_says_to_pass_a_filter() {
    let ws = server(Dialect::WorkflowServer);
    let o = acp_at(ws, &["agents"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("422"), "{err}");
    assert!(
        err.contains("pass --name NAME or --version VERSION"),
        "{err}"
    );
    let o = acp_at(ws, &["agents", "--version", "0.1.0"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let listed = stdout(&o);
    for name in ["echo", "stream", "interrupt"] {
        assert!(listed.contains(&format!("  {name} 0.1.0  ")), "{listed}");
    }
    assert!(listed.lines().all(|l| l.contains(" 0.1.0  ")), "{listed}");
    let o = acp_at(ws, &["--json", "agents", "--name", "stream"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(ndjson(&o)[0]["metadata"]["ref"]["name"], "stream");
    // A spec server lists without a filter: no hint there.
    let o = acp(&["agents"]);
    assert!(!stderr(&o).contains("--version"), "{}", stderr(&o));
}

#[test]
fn check_without_an_agent_tells_a_refused_search_from_an_empty_one() {
    let o = acp_at(server(Dialect::WorkflowServer), &["check"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("the server refused an unfiltered agent search (422: "),
        "{err}"
    );
    assert!(err.contains("pass --agent"), "{err}");

    // A loopback peer that lists no agents, for exactly one connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Read, Write};
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0usize;
        for _ in 0..100 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = reader.into_inner();
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
            )
            .unwrap();
        request_line
    });
    let o = acp_at(&format!("http://{addr}"), &["check"]);
    // Unblock the peer if acp never connected (then the assertion below fails).
    let _ = std::net::TcpStream::connect(addr);
    let request_line = peer.join().unwrap();
    assert!(
        request_line.starts_with("POST /agents/search "),
        "{request_line:?}"
    );
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("the server lists no agents"), "{err}");
    assert!(err.contains("pass --agent"), "{err}");
    assert!(!err.contains("refused"), "{err}");
}

#[test]
fn verbose_traces_have_ansi_colours_only_on_a_terminal() {
    const ESC: &str = "\x1b[";
    // Through a pipe (what `Command::output` gives): plain text.
    let o = acp(&["-v", "agents"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("DEBUG"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(ESC), "{:?}", stderr(&o));

    // On a terminal: colours, unless NO_COLOR says otherwise.
    let on_terminal = |no_color: Option<&str>| {
        let mut cmd = Command::new(ACP);
        cmd.args(["--url", spec(), "-v", "agents"])
            .env_remove("ACP_API_KEY")
            .env_remove("ACP_BEARER_TOKEN")
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
        let all = p.exp_eof().unwrap();
        assert!(all.contains("DEBUG"), "{all:?}");
        all
    };
    assert!(on_terminal(None).contains(ESC));
    assert!(!on_terminal(Some("1")).contains(ESC));
    // An empty NO_COLOR does not count (no-color.org).
    assert!(on_terminal(Some("")).contains(ESC));
}

#[test]
fn a_client_set_up_problem_is_not_a_usage_error() {
    let with_env = |var: &str, value: &str| {
        Command::new(ACP)
            .arg("agents")
            .env("ACP_URL", spec())
            .env(var, value)
            .env_remove("ACP_API_KEY")
            .env_remove("ACP_BEARER_TOKEN")
            .output()
            .unwrap()
    };
    // A CA file that does not load is the set-up, not the command line: 4.
    let o = with_env("ACP_CA_FILE", "/nonexistent/acp-cli-test-ca.pem");
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("CA file"), "{}", stderr(&o));
    // A malformed ACP_* variable stands for a flag the user wrote wrong: 2, naming it.
    let o = with_env("ACP_MAX_RETRIES", "lots");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("ACP_MAX_RETRIES"), "{}", stderr(&o));
    // The same environment with a good value works (ACP_URL read by the library).
    let o = with_env("ACP_MAX_RETRIES", "1");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 6);
}

#[test]
fn a_failed_step_says_its_kind() {
    // A stub of the Workflow Server (500 {"detail": "Not implemented"}): not implemented.
    let ws = server(Dialect::WorkflowServer);
    let o = acp_at(ws, &["--json", "run", "echo", "--wait", "30s"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let run = outcome_run(&o);
    let o = acp_at(ws, &["runs", "delete", &run]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("acp: not implemented by the server: delete_stateless_run"),
        "{}",
        stderr(&o)
    );
    // A 4xx: refused.
    let o = acp(&["runs", "get", "00000000-0000-4000-8000-00000000dead"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("acp: refused: get_stateless_run"),
        "{}",
        stderr(&o)
    );
    // Any other 5xx: a server error (a create is not retried, so one fault is enough).
    let own = own_server(Dialect::Spec);
    own.inject(Target::CreateRun, Fault::Status(500), 1);
    let o = acp_at(&own.url(), &["run", "echo", "--wait", "30s"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("acp: server error: create_and_wait_for_stateless_run_output"),
        "{}",
        stderr(&o)
    );
}
