//! Runs the ACP reference server: `acp-reference-server --port 8123`.

use std::time::Duration;

use acp_reference_server::{Dialect, ReferenceServer, ServerConfig};
use clap::Parser;

/// ACP 0.2.1 reference server (binds 127.0.0.1 only).
#[derive(Parser)]
struct Args {
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 8123)]
    port: u16,
    /// Error bodies as {"detail": "..."} instead of a JSON string.
    #[arg(long)]
    detail_errors: bool,
    /// Server-side wait cap in seconds.
    #[arg(long, default_value_t = 30)]
    wait_timeout: u64,
    /// SSE keep-alive interval in seconds (default: 15, or 10 for workflow-server).
    #[arg(long)]
    keepalive: Option<u64>,
    /// What to say on the wire: `spec` (ACP 0.2.1) or `workflow-server` (agntcy's Agent
    /// Workflow Server, deviations included).
    #[arg(long, default_value = "spec", value_parser = parse_dialect)]
    dialect: Dialect,
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    Dialect::parse(s).ok_or_else(|| format!("unknown dialect `{s}` (spec, workflow-server)"))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let defaults = ServerConfig::for_dialect(args.dialect);
    let config = ServerConfig {
        port: args.port,
        detail_errors: args.detail_errors,
        wait_timeout: Duration::from_secs(args.wait_timeout),
        keepalive_interval: args
            .keepalive
            .map_or(defaults.keepalive_interval, Duration::from_secs),
        ..defaults
    };
    let server = match ReferenceServer::try_start_with(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {e}", args.port);
            std::process::exit(1);
        }
    };
    println!("{}", server.url());
    std::future::pending::<()>().await;
}
