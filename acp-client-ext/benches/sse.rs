//! Throughput of the SSE decoder (`acp_client_ext::sse::Decoder`) against a
//! plain memchr newline scan of the same bytes (the lower bound of any
//! framing) and against `eventsource-stream` 0.2.
//!
//! Run: `cargo bench -p acp-client-ext --bench sse`; smoke test:
//! `cargo bench -p acp-client-ext --bench sse -- --test`.

use std::convert::Infallible;
use std::hint::black_box;

use acp_client_ext::sse::{DEFAULT_MAX_EVENT_SIZE, Decoder};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use eventsource_stream::Eventsource;
use futures::StreamExt;

/// Total size of each generated input.
const INPUT_SIZE: usize = 1 << 20;

/// `data:`-only events of exactly 1 KiB (a JSON-like payload).
fn events_1kib() -> Vec<u8> {
    let mut input = Vec::with_capacity(INPUT_SIZE + 1024);
    let mut n = 0u64;
    while input.len() < INPUT_SIZE {
        let start = input.len();
        input.extend_from_slice(format!("data: {{\"seq\":{n},\"text\":\"").as_bytes());
        // 6 + payload + 2 + 2 = 1024.
        while input.len() < start + 1024 - 4 {
            input.push(b'a' + (input.len() % 26) as u8);
        }
        input.extend_from_slice(b"\"}\n\n");
        n += 1;
    }
    input
}

/// Typical run-stream events of exactly 150 bytes: `event`, `id` and one
/// `data` line.
fn events_150b() -> Vec<u8> {
    let mut input = Vec::with_capacity(INPUT_SIZE + 150);
    let mut n = 0u64;
    while input.len() < INPUT_SIZE {
        let start = input.len();
        input.extend_from_slice(
            format!("event: agent_event\nid: {n:08}\ndata: {{\"type\":\"delta\",\"seq\":{n:08},\"text\":\"")
                .as_bytes(),
        );
        while input.len() < start + 150 - 4 {
            input.push(b'a' + (input.len() % 26) as u8);
        }
        input.extend_from_slice(b"\"}\n\n");
        n += 1;
    }
    input
}

fn chunked(input: &[u8], size: usize) -> Vec<Bytes> {
    input.chunks(size).map(Bytes::copy_from_slice).collect()
}

fn decode(chunks: &[Bytes]) -> usize {
    let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_SIZE);
    let mut events = 0;
    for chunk in chunks {
        // As a body's chunks come (`Bytes`): decoded in place.
        decoder.feed_bytes(chunk.clone());
        while let Some(frame) = decoder.next_frame().expect("valid input") {
            black_box(&frame);
            events += 1;
        }
    }
    while let Some(frame) = decoder.finish().expect("valid input") {
        black_box(&frame);
        events += 1;
    }
    events
}

fn memchr_scan(chunks: &[Bytes]) -> usize {
    chunks
        .iter()
        .map(|chunk| memchr::memchr_iter(b'\n', chunk).count())
        .sum()
}

fn eventsource_stream(chunks: &[Bytes]) -> usize {
    let stream = futures::stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
    futures::executor::block_on(stream.eventsource().fold(0, |events, event| {
        black_box(&event.expect("valid input"));
        async move { events + 1 }
    }))
}

fn bench(c: &mut Criterion) {
    for (name, input, event_size) in [
        ("sse_1KiB_events", events_1kib(), 1024),
        ("sse_150B_events", events_150b(), 150),
    ] {
        let events = input.len() / event_size;
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(input.len() as u64));
        for chunk_size in [16 * 1024, 1024] {
            let chunks = chunked(&input, chunk_size);
            let label = format!("{}KiB_chunks", chunk_size / 1024);
            assert_eq!(decode(&chunks), events);
            assert_eq!(eventsource_stream(&chunks), events);
            group.bench_with_input(BenchmarkId::new("decoder", &label), &chunks, |b, chunks| {
                b.iter(|| decode(chunks))
            });
            group.bench_with_input(
                BenchmarkId::new("memchr_scan", &label),
                &chunks,
                |b, chunks| b.iter(|| memchr_scan(chunks)),
            );
            group.bench_with_input(
                BenchmarkId::new("eventsource_stream", &label),
                &chunks,
                |b, chunks| b.iter(|| eventsource_stream(chunks)),
            );
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
