//! Telemetry: the request spans carry the OpenTelemetry HTTP client conventions' fields and the
//! ACP ids (any subscriber sees them), and with feature `opentelemetry` the caller's trace
//! context reaches the server as `traceparent` on every request, a stream's rejoin included.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use acp_client_ext::AcpClient;
use acp_reference_server::{Fault, ReferenceServer, Target, agents};
use support::{read_all, stream_body};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One span as a layer saw it: its name and every field recorded on it, as text.
#[derive(Debug, Clone, Default)]
struct SpanRec {
    name: &'static str,
    fields: HashMap<&'static str, String>,
}

impl SpanRec {
    fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

impl Visit for SpanRec {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.fields.insert(field.name(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields.insert(field.name(), value.to_string());
    }
}

/// The spans' ids in the order they were created, and what was recorded on each.
type Recorded = (Vec<Id>, HashMap<Id, SpanRec>);

/// Records every span's name and fields, in the order the spans were created.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Recorded>>);

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut rec = SpanRec {
            name: attrs.metadata().name(),
            ..SpanRec::default()
        };
        attrs.record(&mut rec);
        let mut all = self.0.lock().expect("lock");
        all.0.push(id.clone());
        all.1.insert(id.clone(), rec);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(rec) = self.0.lock().expect("lock").1.get_mut(id) {
            values.record(rec);
        }
    }
}

impl Spans {
    /// The request spans (`acp_request`), in order.
    fn requests(&self) -> Vec<SpanRec> {
        self.named("acp_request")
    }

    /// The spans named `name`, in order.
    fn named(&self, name: &str) -> Vec<SpanRec> {
        let all = self.0.lock().expect("lock");
        all.0
            .iter()
            .filter_map(|id| all.1.get(id))
            .filter(|r| r.name == name)
            .cloned()
            .collect()
    }
}

/// The subscriber of one test: `layer` on a registry, the thread's default for the guard's life.
/// A second live dispatcher makes each new callsite consult this thread's default too (see
/// `support::capture_traces`).
fn install<L>(layer: L) -> (tracing::Dispatch, tracing::subscriber::DefaultGuard)
where
    L: Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    let second = tracing::Dispatch::new(tracing_subscriber::registry());
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    (second, guard)
}

#[tokio::test]
async fn request_spans_carry_the_http_conventions_and_the_acp_ids() {
    let spans = Spans::default();
    let _subscriber = install(spans.clone());
    let server = ReferenceServer::start().await;
    let client = support::client(&server);
    let port = server.addr().port().to_string();

    // A create-and-stream whose stream is cut after 2 events: the client rejoins it.
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);
    let mut stream = client
        .stateless_runs()
        .stream(stream_body(4, 0))
        .await
        .expect("stream");
    let got = read_all(&mut stream).await;
    assert!(got.iter().all(|g| g.item.is_ok()), "every event arrived");
    let run_id = stream.run_id().expect("run id").to_string();

    let requests = spans.requests();
    let create = requests
        .iter()
        .find(|r| r.get("acp.operation") == Some("create_and_stream_stateless_run_output"))
        .expect("the create's span");
    for (field, want) in [
        ("otel.name", "POST /runs/stream"),
        ("otel.kind", "client"),
        ("http.request.method", "POST"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("url.full", format!("{}/runs/stream", server.url()).as_str()),
        ("url.template", "/runs/stream"),
        ("http.response.status_code", "200"),
        ("acp.agent_id", agents::STREAM.to_string().as_str()),
    ] {
        assert_eq!(create.get(field), Some(want), "{field} of {create:#?}");
    }
    for absent in [
        "error.type",
        "otel.status_code",
        "http.request.resend_count",
    ] {
        assert_eq!(create.get(absent), None, "{absent} of {create:#?}");
    }

    let rejoin = requests
        .iter()
        .find(|r| r.get("acp.operation") == Some("stream_stateless_run_output"))
        .expect("the rejoin's span");
    for (field, want) in [
        ("otel.name", "GET /runs/{run_id}/stream"),
        ("http.request.method", "GET"),
        ("url.template", "/runs/{run_id}/stream"),
        ("acp.run_id", run_id.as_str()),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(rejoin.get(field), Some(want), "{field} of {rejoin:#?}");
    }
    assert_eq!(
        rejoin.get("url.full"),
        Some(format!("{}/runs/{run_id}/stream", server.url()).as_str())
    );

    // The stream's span covers the whole stream: its rejoin, its events, how it ended.
    let streams = spans.named("acp_run_stream");
    assert_eq!(streams.len(), 1, "{streams:#?}");
    let events = got.len().to_string();
    for (field, want) in [
        ("acp.operation", "create_and_stream_stateless_run_output"),
        ("acp.run_id", run_id.as_str()),
        ("acp.stream.reconnects", "1"),
        ("acp.stream.events", events.as_str()),
        ("acp.stream.end", "settled"),
        ("acp.run.status", "success"),
    ] {
        assert_eq!(
            streams[0].get(field),
            Some(want),
            "{field} of {:#?}",
            streams[0]
        );
    }

    // A stream dropped after its first event says so.
    let mut stream = client
        .stateless_runs()
        .stream(stream_body(4, 0))
        .await
        .expect("stream");
    futures::StreamExt::next(&mut stream)
        .await
        .expect("an event")
        .expect("ok");
    drop(stream);
    let dropped = spans.named("acp_run_stream").pop().expect("its span");
    assert_eq!(dropped.get("acp.stream.events"), Some("1"), "{dropped:#?}");
    assert_eq!(
        dropped.get("acp.stream.end"),
        Some("dropped"),
        "{dropped:#?}"
    );

    // A thread run names its thread; a 503 answered once is resent, numbered; a 404 fails.
    let thread = client
        .create_thread(acp_client_ext::types::ThreadCreate::default())
        .await
        .expect("thread");
    server.inject(Target::Get, Fault::Status(503), 1);
    client.get_thread(&thread.thread_id).await.expect("thread");
    let gets: Vec<SpanRec> = spans
        .requests()
        .into_iter()
        .filter(|r| r.get("acp.operation") == Some("get_thread"))
        .collect();
    assert_eq!(gets.len(), 2, "{gets:#?}");
    let thread_id = thread.thread_id.to_string();
    assert_eq!(gets[0].get("acp.thread_id"), Some(thread_id.as_str()));
    assert_eq!(gets[0].get("http.response.status_code"), Some("503"));
    assert_eq!(gets[0].get("error.type"), Some("503"));
    assert_eq!(gets[0].get("otel.status_code"), Some("ERROR"));
    assert_eq!(gets[0].get("http.request.resend_count"), None);
    assert_eq!(gets[1].get("http.request.resend_count"), Some("1"));
    assert_eq!(gets[1].get("http.response.status_code"), Some("200"));
    assert_eq!(gets[1].get("error.type"), None);

    // A redirect: the hop is a resend to the other server, the 307 no error.
    let target = format!("{}/agents/search", server.url());
    let app = axum::Router::new().route(
        "/agents/search",
        axum::routing::post(move || {
            let target = target.clone();
            async move {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, target)],
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let redirector = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    AcpClient::new(format!("http://{redirector}"))
        .expect("client")
        .search_agents()
        .await
        .expect("agents after the redirect");
    task.abort();
    let searches: Vec<SpanRec> = spans
        .requests()
        .into_iter()
        .filter(|r| r.get("acp.operation") == Some("search_agents"))
        .collect();
    assert_eq!(searches.len(), 2, "{searches:#?}");
    let redirector_port = redirector.port().to_string();
    assert_eq!(
        searches[0].get("server.port"),
        Some(redirector_port.as_str())
    );
    assert_eq!(searches[0].get("http.response.status_code"), Some("307"));
    assert_eq!(searches[0].get("error.type"), None);
    assert_eq!(searches[0].get("otel.status_code"), None);
    assert_eq!(searches[1].get("server.port"), Some(port.as_str()));
    assert_eq!(
        searches[1].get("url.full"),
        Some(format!("{}/agents/search", server.url()).as_str())
    );
    assert_eq!(searches[1].get("http.request.resend_count"), Some("1"));
    assert_eq!(searches[1].get("http.response.status_code"), Some("200"));

    // A failure without an answer: error.type is the kind.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    AcpClient::builder(format!("http://{closed}"))
        .retry(acp_client_ext::RetryPolicy::none())
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect_err("nothing listens");
    let failed = spans.requests().pop().expect("the failed request's span");
    assert_eq!(failed.get("acp.operation"), Some("search_agents"));
    assert_eq!(failed.get("error.type"), Some("connect"));
    assert_eq!(failed.get("otel.status_code"), Some("ERROR"));
    assert_eq!(failed.get("http.response.status_code"), None);
}

#[cfg(feature = "opentelemetry")]
#[tokio::test]
async fn traceparent_carries_the_callers_trace_on_the_create_and_the_rejoin() {
    use opentelemetry::trace::{TraceContextExt, TracerProvider};
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    // An SDK tracer without an exporter: sampled spans with real ids, exported nowhere.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let _subscriber =
        install(tracing_opentelemetry::layer().with_tracer(provider.tracer("telemetry-test")));

    let server = ReferenceServer::start().await;
    let relay = support::relay::Relay::reverse(server.addr()).await;
    let client = AcpClient::builder(relay.url())
        .retry(support::fast_retries())
        .build()
        .expect("client");
    server.inject(Target::Stream, Fault::DropAfterEvents(2), 1);

    let caller = tracing::info_span!("caller");
    let caller_cx = caller.context();
    let trace_id = caller_cx.span().span_context().trace_id();
    let caller_span_id = caller_cx.span().span_context().span_id();
    assert!(caller_cx.span().span_context().is_valid());
    let got = async {
        let mut stream = client
            .stateless_runs()
            .stream(stream_body(4, 0))
            .await
            .expect("stream");
        read_all(&mut stream).await
    }
    .instrument(caller)
    .await;
    assert!(got.iter().all(|g| g.item.is_ok()));

    let seen = relay.seen();
    let create = seen
        .iter()
        .find(|s| s.request_line.starts_with("POST /runs/stream "))
        .expect("the create");
    let rejoin = seen
        .iter()
        .find(|s| s.request_line.starts_with("GET /runs/") && s.request_line.contains("/stream"))
        .expect("the rejoin");
    let mut span_ids = Vec::new();
    for s in [create, rejoin] {
        let tp = s
            .header("traceparent")
            .unwrap_or_else(|| panic!("traceparent on {s:#?}"));
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(parts[0], "00", "{tp}");
        assert_eq!(parts[1], trace_id.to_string(), "the caller's trace: {tp}");
        assert_ne!(
            parts[2],
            caller_span_id.to_string(),
            "the parent is the request's own span: {tp}"
        );
        assert_eq!(parts[3], "01", "sampled: {tp}");
        span_ids.push(parts[2].to_string());
        // The forwarded head is what the server read.
        assert!(
            s.forwarded
                .as_deref()
                .is_some_and(|f| f.contains(&format!("traceparent: {tp}")))
        );
    }
    assert_ne!(span_ids[0], span_ids[1], "one span per request");

    // Outside any span: no trace context to send.
    client.search_agents().await.expect("agents");
    let last = relay.seen().pop().expect("the search");
    assert!(last.request_line.starts_with("POST /agents/search"));
    let tp = last
        .header("traceparent")
        .expect("its own root span's context");
    assert!(!tp.contains(&trace_id.to_string()), "{tp}");
}
