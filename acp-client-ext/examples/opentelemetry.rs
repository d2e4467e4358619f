//! The client's spans as OpenTelemetry spans, printed by the stdout exporter.
//!
//! ```sh
//! cargo run -p acp-client-ext --features opentelemetry --example opentelemetry
//! ```
//!
//! Wires what a service would: the W3C trace-context propagator, an SDK tracer provider (here
//! with `opentelemetry-stdout`'s exporter in place of an OTLP one), and the
//! `tracing-opentelemetry` layer. Inside one span of its own (`job`), it streams a stateless run
//! of the embedded reference server's agent `stream`, whose connection the server cuts after two
//! events (a fault knob of the reference server), so the client rejoins the stream; then it
//! searches the agents. Each HTTP request is one client span (`POST /runs/stream`,
//! `GET /runs/{run_id}/stream`, `POST /agents/search`) with the HTTP semantic conventions'
//! attributes and the ACP ids, child of `job`, and each request carried its span's
//! `traceparent`. The exporter prints each span as it ends (a simple span processor); the
//! provider is shut down before the example exits.

use std::process::ExitCode;

#[path = "../tests/support/mod.rs"]
mod support;

use acp_client_ext::AcpClient;
use acp_reference_server::{Fault, ReferenceServer, Target};
use futures::StreamExt;
use opentelemetry::trace::TracerProvider;
use support::example::{Res, finish, say};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::main]
async fn main() -> ExitCode {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("acp-example"));
    // This example's spans and the client's, at INFO (the level of the client's spans).
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("opentelemetry", tracing::Level::INFO)
        .with_target("acp_client_ext", tracing::Level::INFO);
    let subscriber = tracing_subscriber::registry().with(layer).with(filter);
    if let Err(e) = tracing::subscriber::set_global_default(subscriber) {
        eprintln!("opentelemetry: cannot install the subscriber: {e}");
        return ExitCode::FAILURE;
    }

    let outcome = run().await;
    // Exports (prints) what is left and stops the exporter.
    if let Err(e) = provider.shutdown() {
        eprintln!("opentelemetry: shutting the tracer provider down: {e}");
    }
    finish(outcome)
}

async fn run() -> Res {
    let server = ReferenceServer::start().await;
    say(format!(
        "opentelemetry: embedded ACP reference server at {}; the stdout exporter prints each span as it ends",
        server.url()
    ));
    let client = AcpClient::new(server.url())?;
    // The server cuts the next create-and-stream after two events: the client rejoins.
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);

    let job = tracing::info_span!("job", "otel.name" = "example job");
    async {
        let mut stream = client
            .stateless_runs()
            .stream(support::stream_body(4, 0))
            .await?;
        let mut events = 0;
        while let Some(event) = stream.next().await {
            event?;
            events += 1;
        }
        say(format!(
            "streamed {events} events of run {} (rejoined once)",
            stream.run_id().map(|id| id.to_string()).unwrap_or_default()
        ));
        let agents = client.search_agents().await?;
        say(format!("{} agents", agents.len()));
        Res::Ok(())
    }
    .instrument(job)
    .await?;
    Ok(())
}
