//! Typed decode throughput: SSE bytes to the caller's own type (framing with
//! `acp_client_ext::sse::Decoder`, built `data_checked_by_caller` as the run
//! stream's is, so that each event's data is checked as UTF-8 once, by
//! `from_frame`; then either [`TypedEvent::from_frame`], the
//! payload parsed once with its values straight into `Values`, as
//! `RunStream::values_into` does, or [`RunEvent::from_frame`] then
//! `ValuesUpdate::values_as::<Values>()`, the values parsed twice) against one
//! `serde_json::from_slice` of the same payloads into a struct of the whole
//! update (no framing, no discriminator scan), which is the floor of any typed
//! decode.
//!
//! The payloads are ACP `values` updates as the reference server's `stream`
//! agent sends them: ~1 KiB and ~150 B; `Values` is the size of the payload
//! (its `pad` string owns the padding).
//!
//! Run: `cargo bench -p acp-client-ext --bench decode`; smoke test:
//! `cargo bench -p acp-client-ext --bench decode -- --test`.

use std::hint::black_box;

use acp_client_ext::RunEvent;
use acp_client_ext::event::TypedEvent;
use acp_client_ext::sse::{DEFAULT_MAX_EVENT_SIZE, Decoder};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Events per input.
const EVENTS: usize = 1024;
const RUN_ID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

/// `values` payloads of `size` bytes each (to within the digits of the index).
fn payloads(size: usize) -> Vec<Vec<u8>> {
    (0..EVENTS)
        .map(|k| {
            let head = format!(
                r#"{{"type":"values","run_id":"{RUN_ID}","status":"pending","values":{{"i":{k},"pad":""#
            );
            let pad = size.saturating_sub(head.len() + 3);
            let mut p = head.into_bytes();
            p.extend((0..pad).map(|j| b'a' + (j % 26) as u8));
            p.extend_from_slice(b"\"}}");
            p
        })
        .collect()
}

/// The payloads as the server frames them (`id`, `event`, `data`), in 16 KiB chunks.
fn sse_chunks(payloads: &[Vec<u8>]) -> Vec<Bytes> {
    let mut input = Vec::new();
    for (n, p) in payloads.iter().enumerate() {
        input.extend_from_slice(format!("id: {}\nevent: agent_event\ndata: ", n + 1).as_bytes());
        input.extend_from_slice(p);
        input.extend_from_slice(b"\n\n");
    }
    input
        .chunks(16 * 1024)
        .map(Bytes::copy_from_slice)
        .collect()
}

/// The `values` of an update, as a user types them.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read by serde and black_box only
struct Values {
    i: u64,
    pad: String,
}

/// The whole update in one struct: what a single serde pass decodes.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read by serde and black_box only
struct Update {
    run_id: uuid::Uuid,
    status: String,
    values: Values,
}

fn values_of(event: RunEvent) -> Values {
    match event {
        RunEvent::Values(update) => update.values_as().expect("typed values"),
        other => panic!("not a values update: {other:?}"),
    }
}

fn typed(chunks: &[Bytes]) -> usize {
    // As the run stream decodes: the data's UTF-8 checked once, by `from_frame`.
    let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_SIZE).data_checked_by_caller();
    let mut events = 0;
    for chunk in chunks {
        decoder.feed_bytes(chunk.clone());
        while let Some(frame) = decoder.next_frame().expect("valid input") {
            let event = RunEvent::from_frame(frame).expect("valid event");
            black_box(values_of(event));
            events += 1;
        }
    }
    events
}

fn typed_into(chunks: &[Bytes]) -> usize {
    // As the run stream decodes: the data's UTF-8 checked once, by `from_frame`.
    let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_SIZE).data_checked_by_caller();
    let mut events = 0;
    for chunk in chunks {
        decoder.feed_bytes(chunk.clone());
        while let Some(frame) = decoder.next_frame().expect("valid input") {
            match TypedEvent::<Values>::from_frame(frame).expect("valid event") {
                TypedEvent::Values(update) => black_box(update.values),
                _ => panic!("not a values update"),
            };
            events += 1;
        }
    }
    events
}

fn parse_only(payloads: &[Vec<u8>]) -> usize {
    let mut events = 0;
    for p in payloads {
        black_box(values_of(RunEvent::parse(p).expect("valid event")));
        events += 1;
    }
    events
}

fn serde_alone(payloads: &[Vec<u8>]) -> usize {
    let mut events = 0;
    for p in payloads {
        black_box(serde_json::from_slice::<Update>(p).expect("valid payload"));
        events += 1;
    }
    events
}

fn bench(c: &mut Criterion) {
    for (name, size) in [("decode_1KiB_values", 1024), ("decode_150B_values", 150)] {
        let payloads = payloads(size);
        let chunks = sse_chunks(&payloads);
        assert_eq!(typed(&chunks), EVENTS);
        assert_eq!(typed_into(&chunks), EVENTS);
        assert_eq!(serde_alone(&payloads), EVENTS);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(EVENTS as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter("sse_to_values_into"),
            &chunks,
            |b, c| b.iter(|| typed_into(c)),
        );
        group.bench_with_input(
            BenchmarkId::from_parameter("sse_to_values_as"),
            &chunks,
            |b, c| b.iter(|| typed(c)),
        );
        group.bench_with_input(
            BenchmarkId::from_parameter("parse_values_as"),
            &payloads,
            |b, p| b.iter(|| parse_only(p)),
        );
        group.bench_with_input(
            BenchmarkId::from_parameter("serde_from_slice"),
            &payloads,
            |b, p| b.iter(|| serde_alone(p)),
        );
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
