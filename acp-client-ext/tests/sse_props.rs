//! Property tests of the SSE decoder: no panics on any input, independence
//! from chunking, and encode-then-decode identity.

use std::time::Duration;

use acp_client_ext::sse::{DEFAULT_MAX_EVENT_SIZE, Decoder, Frame, SseError};
use proptest::prelude::*;

/// Everything a decoder produced for one input.
#[derive(Debug, PartialEq)]
struct Run {
    outcomes: Vec<Result<Frame, SseError>>,
    last_event_id: Option<String>,
    retry: Option<Duration>,
}

/// Feeds `input` cut at `cuts` (any order, any values: taken modulo the
/// length), draining frames after each chunk, then finishes.
fn run(limit: usize, input: &[u8], cuts: &[usize]) -> Run {
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (input.len() + 1)).collect();
    cuts.push(0);
    cuts.push(input.len());
    cuts.sort_unstable();
    let mut decoder = Decoder::new(limit);
    let outcomes = decoder.decode_all(cuts.windows(2).map(|w| &input[w[0]..w[1]]));
    Run {
        outcomes,
        last_event_id: decoder.last_event_id().map(str::to_owned),
        retry: decoder.retry(),
    }
}

/// Inputs made of the pieces of event streams, so that fields, line ends and
/// the BOM actually occur (and of arbitrary bytes).
fn sse_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"data"[..]),
        Just(&b"event"[..]),
        Just(&b"id"[..]),
        Just(&b"retry"[..]),
        Just(&b":"[..]),
        Just(&b" "[..]),
        Just(&b"\r"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\0"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xC3"[..]),
        Just(&b"\xA9"[..]),
        Just(&b"\xFF"[..]),
        Just(&b"12"[..]),
        Just(&b"x"[..]),
    ];
    prop_oneof![
        proptest::collection::vec(token, 0..200).prop_map(|tokens| tokens.concat()),
        proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![Just(DEFAULT_MAX_EVENT_SIZE), 0..64usize]
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(any::<usize>(), 0..16)
}

/// One event to encode.
#[derive(Debug, Clone)]
struct Event {
    event: Option<String>,
    data: Vec<String>,
    id: Option<String>,
    retry: Option<u32>,
    /// Separate the fields with comments.
    comments: bool,
    /// Omit the space after the colon where the value allows it.
    compact: bool,
}

fn event() -> impl Strategy<Value = Event> {
    (
        proptest::option::of("[^\r\n]{0,12}"),
        proptest::collection::vec("[^\r\n]{0,40}", 1..4),
        proptest::option::of("[^\r\n\0]{0,12}"),
        proptest::option::of(any::<u32>()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(event, data, id, retry, comments, compact)| Event {
            event,
            data,
            id,
            retry,
            comments,
            compact,
        })
}

fn encode(events: &[Event], line_ends: &[u8], bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut ends = line_ends.iter().cycle();
    let mut end = |out: &mut Vec<u8>| {
        let end: &[u8] = match ends.next().map(|end| end % 3) {
            Some(0) | None => b"\n",
            Some(1) => b"\r",
            _ => b"\r\n",
        };
        // A blank line "\n" right after a "\r" would merge with it into one
        // "\r\n" line end.
        let end: &[u8] = if end == b"\n" && out.last() == Some(&b'\r') {
            b"\r"
        } else {
            end
        };
        out.extend_from_slice(end);
    };
    let line = |out: &mut Vec<u8>, field: &str, value: &str, compact: bool| {
        out.extend_from_slice(field.as_bytes());
        out.push(b':');
        if !compact || value.starts_with(' ') {
            out.push(b' ');
        }
        out.extend_from_slice(value.as_bytes());
    };
    for event in events {
        if let Some(name) = &event.event {
            line(&mut out, "event", name, event.compact);
            end(&mut out);
        }
        if event.comments {
            line(&mut out, "", "keep-alive", false);
            end(&mut out);
        }
        if let Some(id) = &event.id {
            line(&mut out, "id", id, event.compact);
            end(&mut out);
        }
        for data in &event.data {
            line(&mut out, "data", data, event.compact);
            end(&mut out);
        }
        if let Some(retry) = event.retry {
            line(&mut out, "retry", &retry.to_string(), event.compact);
            end(&mut out);
        }
        if event.comments {
            out.push(b':');
            end(&mut out);
        }
        // The blank line.
        end(&mut out);
    }
    out
}

fn expected(events: &[Event]) -> Run {
    Run {
        outcomes: events
            .iter()
            .map(|event| {
                Ok(Frame {
                    event: event
                        .event
                        .clone()
                        .filter(|name| !name.is_empty())
                        .map(Into::into),
                    data: event.data.join("\n").into(),
                    id: event.id.clone().map(Into::into),
                    retry: event.retry.map(|ms| Duration::from_millis(ms.into())),
                })
            })
            .collect(),
        last_event_id: events.iter().rev().find_map(|event| event.id.clone()),
        retry: events
            .iter()
            .rev()
            .find_map(|event| event.retry)
            .map(|ms| Duration::from_millis(ms.into())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics(input in sse_like(), limit in limit(), cuts in cuts()) {
        let run = run(limit, &input, &cuts);
        // Data is always valid UTF-8 and within the limit.
        for frame in run.outcomes.iter().flatten() {
            prop_assert!(std::str::from_utf8(&frame.data).is_ok());
            prop_assert!(frame.data.len() <= limit);
        }
    }

    #[test]
    fn chunking_does_not_matter(
        input in sse_like(),
        limit in limit(),
        cuts in cuts(),
    ) {
        let whole = run(limit, &input, &[]);
        prop_assert_eq!(&run(limit, &input, &cuts), &whole);
        let one_by_one: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&run(limit, &input, &one_by_one), &whole);
    }

    #[test]
    fn encode_then_decode_is_identity(
        events in proptest::collection::vec(event(), 0..8),
        line_ends in proptest::collection::vec(any::<u8>(), 1..8),
        bom in any::<bool>(),
        cuts in cuts(),
    ) {
        let input = encode(&events, &line_ends, bom);
        prop_assert_eq!(run(DEFAULT_MAX_EVENT_SIZE, &input, &cuts), expected(&events));
    }
}
