//! The SSE decoder on arbitrary bytes: it never panics, frames are valid UTF-8 and within the
//! size limit, and the outcome does not depend on how the input is cut into chunks.
//!
//! Input layout: two bytes of size limit, one byte of chunk length, then the body.

#![no_main]

use std::time::Duration;

use acp_client_ext::RunEvent;
use acp_client_ext::sse::{Decoder, Frame, SseError};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Result<Frame, SseError>>,
    last_event_id: Option<String>,
    retry: Option<Duration>,
}

fn decode<'a>(limit: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = Decoder::new(limit);
    let items = decoder.decode_all(chunks);
    Outcome {
        items,
        last_event_id: decoder.last_event_id().map(str::to_owned),
        retry: decoder.retry(),
    }
}

fuzz_target!(|data: &[u8]| {
    let [l0, l1, step, body @ ..] = data else {
        return;
    };
    let limit = 1 + usize::from(u16::from_le_bytes([*l0, *l1]));
    let whole = decode(limit, [body]);
    let split = decode(limit, body.chunks(usize::from(*step) + 1));
    assert_eq!(whole, split, "chunking changed the outcome");
    let bytes = decode(limit, body.chunks(1));
    assert_eq!(whole, bytes, "one byte per chunk changed the outcome");
    for frame in whole.items.into_iter().flatten() {
        assert!(std::str::from_utf8(&frame.data).is_ok(), "data is UTF-8");
        assert!(frame.data.len() <= limit, "data within the limit");
        // Typed decoding of the frame must not panic either.
        let _ = RunEvent::from_frame(frame);
    }
});
