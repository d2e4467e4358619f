//! `cargo xtask test`: every test of the workspace, each suite with the features it needs.
//!
//! `cargo test --workspace` builds every crate with its default features, so the suites gated
//! on `cli`, `blocking`, `validate` and `opentelemetry` (and the unit and doc tests inside those
//! modules) are skipped by it. This is the one list of the others; `.ci/run` runs it, and
//! `cargo xtask test --list` prints which command runs what.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// One `cargo test` invocation: what it runs, and its arguments after `cargo test`.
pub struct Suite {
    pub what: &'static str,
    pub args: &'static [&'static str],
}

/// The feature set of the gated suites (`cli` implies `agent-types` and `validate`).
const GATED: &str = "cli,blocking,validate";

pub const SUITES: &[Suite] = &[
    Suite {
        what: "every crate with its default features: unit, integration and doc tests \
               (acp-client, acp-client-ext, acp-reference-server, xtask)",
        args: &["--workspace"],
    },
    Suite {
        what: "acp-client-ext with cli, blocking, validate: the unit tests of agent_types and \
               blocking, the acp binary's, and the suites agent_types, validate, cli, blocking, \
               descriptors, scenarios, capabilities, readme_tables",
        args: &[
            "-p",
            "acp-client-ext",
            "--features",
            GATED,
            "--lib",
            "--bin",
            "acp",
            "--test",
            "agent_types",
            "--test",
            "validate",
            "--test",
            "cli",
            "--test",
            "blocking",
            "--test",
            "descriptors",
            "--test",
            "scenarios",
            "--test",
            "capabilities",
            "--test",
            "readme_tables",
        ],
    },
    Suite {
        what: "the doc tests of the gated modules (cargo refuses --lib and --doc together)",
        args: &["-p", "acp-client-ext", "--features", GATED, "--doc"],
    },
    Suite {
        what: "validate without agent-types: its own copy of agent_types/specs.rs \
               (validate::specs::tests) and the validator",
        args: &[
            "-p",
            "acp-client-ext",
            "--features",
            "validate",
            "--lib",
            "--test",
            "validate",
        ],
    },
    Suite {
        what: "TLS through rustls with ring (feature rustls-ring, reqwest without a provider): \
               the proxy, mutual-TLS and certificate tests",
        args: &[
            "-p",
            "acp-client-ext",
            "--no-default-features",
            "--features",
            "rustls-ring",
            "--test",
            "proxies_and_tls",
        ],
    },
    Suite {
        what: "TLS through native-tls (OpenSSL on Linux): the proxy, mutual-TLS and certificate \
               tests, the client identity split into certificates and a PKCS#8 key",
        args: &[
            "-p",
            "acp-client-ext",
            "--no-default-features",
            "--features",
            "native-tls",
            "--test",
            "proxies_and_tls",
        ],
    },
    Suite {
        what: "opentelemetry: traceparent on every request (rejoins too), the spans' fields",
        args: &[
            "-p",
            "acp-client-ext",
            "--features",
            "opentelemetry",
            "--lib",
            "--test",
            "telemetry",
        ],
    },
];

pub fn run(root: &Path, list: bool) -> Result<()> {
    if list {
        for suite in SUITES {
            println!("cargo test {}\n    {}", suite.args.join(" "), suite.what);
        }
        return Ok(());
    }
    for (i, suite) in SUITES.iter().enumerate() {
        eprintln!(
            "\n== xtask test {}/{}: cargo test {}\n   {}",
            i + 1,
            SUITES.len(),
            suite.args.join(" "),
            suite.what
        );
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .arg("test")
            .args(suite.args)
            .status()?;
        if !status.success() {
            bail!("cargo test {} failed ({status})", suite.args.join(" "));
        }
    }
    eprintln!("\nxtask test: all {} suites passed", SUITES.len());
    Ok(())
}
