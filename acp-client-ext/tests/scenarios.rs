//! `acp test`: our own scenario files in acp-sdk test-client's format
//! (`tests/data/scenarios/`), run through the `acp` binary against the reference server in
//! the Workflow Server dialect (its acp-sdk-like echo agent): one that passes, and one with a
//! wrong expectation that fails with a diff.

use acp_reference_server::{Dialect, ReferenceServer, agents};
use std::path::PathBuf;
use std::process::{Command, Output};

fn scenario(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scenarios")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn acp_test(server: &ReferenceServer, files: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_acp"))
        .arg("test")
        .args(files)
        .env_remove("ACP_URL")
        .env("SCENARIO_HOST", server.url())
        .env("SCENARIO_AGENT_ID", agents::ACP_SDK_ECHO.to_string())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_passes_against_the_workflow_server_dialect() {
    let server = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
    let out = acp_test(&server, &[scenario("echo_upper_lower.yaml")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("ok "))
            .count(),
        7,
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l == "7 passed, 0 failed"),
        "{stdout}"
    );
    // The operations reached the server: two create-and-waits, one create, one resume.
    assert_eq!(server.requests("POST", "/runs/wait"), 2);
    assert_eq!(server.requests("POST", "/runs"), 1);
    assert_eq!(
        server.requests("POST", "/runs/*"),
        3,
        "the waits and the resume"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_expectation_fails_with_a_diff() {
    let server = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
    let files = [
        scenario("echo_wrong_expectation.yaml"),
        scenario("echo_upper_lower.yaml"),
    ];
    let out = acp_test(&server, &files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  0 create_and_wait_for_stateless_run_output"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "values_changed root['output']['values']['messages'][1]['content']: expected \"quiet please\", got \"QUIET PLEASE\""
        ),
        "{stdout}"
    );
    assert!(stdout.contains("ok    1 get_stateless_run"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l == "8 passed, 1 failed"),
        "{stdout}"
    );
    server.shutdown().await;
}
