//! The corpus of the WHATWG parsing rules, each case run over every way of
//! splitting its input in two (and three, for short inputs) chunks and one
//! byte at a time.

use std::time::Duration;

use super::{DEFAULT_MAX_EVENT_SIZE, Decoder, Frame, SseError};

type Outcome = Result<Frame, SseError>;

/// A frame with `data` and no other field.
fn f(data: &str) -> Frame {
    Frame {
        event: None,
        data: bytes::Bytes::copy_from_slice(data.as_bytes()),
        id: None,
        retry: None,
    }
}

trait FrameExt {
    fn event(self, event: &str) -> Self;
    fn id(self, id: &str) -> Self;
    fn retry(self, ms: u64) -> Self;
}

impl FrameExt for Frame {
    fn event(mut self, event: &str) -> Self {
        self.event = Some(event.to_owned().into());
        self
    }
    fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned().into());
        self
    }
    fn retry(mut self, ms: u64) -> Self {
        self.retry = Some(Duration::from_millis(ms));
        self
    }
}

const TOO_LARGE: SseError = SseError::EventTooLarge { limit: 16 };

fn utf8(field: &'static str) -> Outcome {
    Err(SseError::InvalidUtf8 { field })
}

struct Case {
    name: &'static str,
    input: &'static [u8],
    limit: usize,
    expected: Vec<Outcome>,
    last_event_id: Option<&'static str>,
    retry: Option<u64>,
}

fn case(name: &'static str, input: &'static [u8], expected: Vec<Outcome>) -> Case {
    Case {
        name,
        input,
        limit: DEFAULT_MAX_EVENT_SIZE,
        expected,
        last_event_id: None,
        retry: None,
    }
}

impl Case {
    fn last_id(mut self, id: &'static str) -> Self {
        self.last_event_id = Some(id);
        self
    }
    fn retry(mut self, ms: u64) -> Self {
        self.retry = Some(ms);
        self
    }
    fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

#[derive(Debug, PartialEq)]
struct Run {
    outcomes: Vec<Outcome>,
    last_event_id: Option<String>,
    retry: Option<Duration>,
}

fn run<'a>(limit: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> Run {
    let mut decoder = Decoder::new(limit);
    let outcomes = decoder.decode_all(chunks);
    Run {
        outcomes,
        last_event_id: decoder.last_event_id().map(str::to_owned),
        retry: decoder.retry(),
    }
}

fn corpus() -> Vec<Case> {
    vec![
        // Fields and values.
        case("single data line", b"data: hello\n\n", vec![Ok(f("hello"))]),
        case("no space after colon", b"data:hello\n\n", vec![Ok(f("hello"))]),
        case("only one space removed", b"data:  hello\n\n", vec![Ok(f(" hello"))]),
        case("tab is not removed", b"data:\thello\n\n", vec![Ok(f("\thello"))]),
        case("trailing spaces kept", b"data: a \n\n", vec![Ok(f("a "))]),
        case("colon in value", b"data: a:b: c\n\n", vec![Ok(f("a:b: c"))]),
        case("NUL in data kept", b"data: a\0b\n\n", vec![Ok(f("a\0b"))]),
        case(
            "multi-line data joined with LF",
            b"data: a\ndata: b\ndata:c\n\n",
            vec![Ok(f("a\nb\nc"))],
        ),
        case(
            "empty data lines count",
            b"data\ndata:\ndata: \n\n",
            vec![Ok(f("\n\n"))],
        ),
        case("field without colon is empty data", b"data\n\n", vec![Ok(f(""))]),
        case("empty data with colon", b"data:\n\n", vec![Ok(f(""))]),
        case(
            "data line with only a space after the colon",
            b"data: \n\n",
            vec![Ok(f(""))],
        ),
        case(
            "multiple events",
            b"data: 1\n\ndata: 2\n\ndata: 3\n\n",
            vec![Ok(f("1")), Ok(f("2")), Ok(f("3"))],
        ),
        case(
            "several blank lines between events",
            b"\n\ndata: 1\n\n\n\n\ndata: 2\n\n",
            vec![Ok(f("1")), Ok(f("2"))],
        ),
        case("only blank lines", b"\n\n\r\n\r\r", vec![]),
        case("empty input", b"", vec![]),
        // Line ends.
        case(
            "CRLF line ends",
            b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
            vec![Ok(f("a\nb")), Ok(f("c"))],
        ),
        case(
            "CR line ends",
            b"data: a\rdata: b\r\rdata: c\r\r",
            vec![Ok(f("a\nb")), Ok(f("c"))],
        ),
        case(
            "mixed line ends",
            b"data: a\r\n\rdata: b\n\r\ndata: c\rdata: d\r\n\n",
            vec![Ok(f("a")), Ok(f("b")), Ok(f("c\nd"))],
        ),
        case("LF then CR is two line ends", b"data: a\n\r", vec![Ok(f("a"))]),
        case(
            "CR CR LF: a line end, then a blank line",
            b"data: a\r\r\ndata: b\n\n",
            vec![Ok(f("a")), Ok(f("b"))],
        ),
        case(
            "CRLF is one line end, not a blank line",
            b"data: a\r\ndata: b\r\n\r\n",
            vec![Ok(f("a\nb"))],
        ),
        case(
            "CR inside the data ends the line",
            b"data: a\rb\n\n",
            vec![Ok(f("a"))],
        ),
        // Byte order mark.
        case("BOM stripped at start", b"\xEF\xBB\xBFdata: a\n\n", vec![Ok(f("a"))]),
        case(
            "only the first BOM is stripped",
            b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n",
            vec![Ok(f("b"))],
        ),
        case(
            "BOM later in the stream is not stripped",
            b"data: a\n\n\xEF\xBB\xBFdata: b\n\ndata: c\n\n",
            vec![Ok(f("a")), Ok(f("c"))],
        ),
        case(
            "BOM inside a value is kept",
            b"data: \xEF\xBB\xBFx\n\n",
            vec![Ok(f("\u{FEFF}x"))],
        ),
        case(
            "partial BOM at start is not stripped",
            b"\xEF\xBBdata: a\n\ndata: b\n\n",
            vec![Ok(f("b"))],
        ),
        case("BOM alone", b"\xEF\xBB\xBF", vec![]),
        case("partial BOM alone", b"\xEF\xBB", vec![]),
        case("BOM then blank line", b"\xEF\xBB\xBF\n\ndata: a\n\n", vec![Ok(f("a"))]),
        // Comments.
        case(
            "comments ignored",
            b": keep-alive\n\n:\n\ndata: a\n: inside\ndata: b\n\n:x\n",
            vec![Ok(f("a\nb"))],
        ),
        case("comment only stream", b":ok\n\n: ping\n\n", vec![]),
        case(
            "comment with data-like text",
            b":data: x\n\ndata: y\n\n",
            vec![Ok(f("y"))],
        ),
        // Event type.
        case(
            "event type",
            b"event: add\ndata: x\n\n",
            vec![Ok(f("x").event("add"))],
        ),
        case(
            "event type does not carry over",
            b"event: a\ndata: 1\n\ndata: 2\n\n",
            vec![Ok(f("1").event("a")), Ok(f("2"))],
        ),
        case(
            "last event field wins",
            b"event: a\nevent: b\ndata: x\n\n",
            vec![Ok(f("x").event("b"))],
        ),
        case(
            "empty event type means message",
            b"event: a\nevent:\ndata: x\n\n",
            vec![Ok(f("x"))],
        ),
        case("event without colon", b"event\ndata: x\n\n", vec![Ok(f("x"))]),
        case(
            "event name spaces",
            b"event:  two words \ndata: x\n\n",
            vec![Ok(f("x").event(" two words "))],
        ),
        case(
            "event without data is not dispatched and resets type",
            b"event: a\n\ndata: x\n\n",
            vec![Ok(f("x"))],
        ),
        case(
            "field order does not matter",
            b"data: x\nid: 1\nevent: e\nretry: 5\n\n",
            vec![Ok(f("x").event("e").id("1").retry(5))],
        )
        .last_id("1")
        .retry(5),
        // Unknown fields.
        case(
            "unknown fields ignored",
            b"foo: bar\ndata: x\nData: y\nDATA\n\n",
            vec![Ok(f("x"))],
        ),
        case(
            "names similar to known fields ignored",
            b"database: x\ndat: x\nd\nids: 1\nevents: e\nretry1: 5\nretrys\ndata: y\n\n",
            vec![Ok(f("y"))],
        ),
        case(
            "space before colon makes another field",
            b"data : x\n\ndata: y\n\n",
            vec![Ok(f("y"))],
        ),
        case(
            "field name with leading space",
            b" data: x\n\ndata: y\n\n",
            vec![Ok(f("y"))],
        ),
        // Id.
        case(
            "id",
            b"id: 1\ndata: x\n\n",
            vec![Ok(f("x").id("1"))],
        )
        .last_id("1"),
        case(
            "id persists in last_event_id but not in frames",
            b"id: 1\ndata: x\n\ndata: y\n\n",
            vec![Ok(f("x").id("1")), Ok(f("y"))],
        )
        .last_id("1"),
        case(
            "id with NUL ignored",
            b"id: 1\ndata: x\n\nid: a\0b\ndata: y\n\n",
            vec![Ok(f("x").id("1")), Ok(f("y"))],
        )
        .last_id("1"),
        case(
            "id with NUL does not override an earlier id of the event",
            b"id: 2\nid: \0\ndata: y\n\n",
            vec![Ok(f("y").id("2"))],
        )
        .last_id("2"),
        case(
            "empty id resets",
            b"id: 1\ndata: x\n\nid\ndata: y\n\n",
            vec![Ok(f("x").id("1")), Ok(f("y").id(""))],
        )
        .last_id(""),
        case(
            "id without data updates last_event_id",
            b"id: 5\n\n",
            vec![],
        )
        .last_id("5"),
        case(
            "id of an unterminated event is not committed",
            b"data: a\n\nid: 9\ndata: b\n",
            vec![Ok(f("a"))],
        ),
        case(
            "id value keeps spaces",
            b"id:  7 \ndata: x\n\n",
            vec![Ok(f("x").id(" 7 "))],
        )
        .last_id(" 7 "),
        // Retry.
        case(
            "retry",
            b"retry: 1500\ndata: x\n\n",
            vec![Ok(f("x").retry(1500))],
        )
        .retry(1500),
        case(
            "retry without data still applies",
            b"retry: 10\n\ndata: x\n\n",
            vec![Ok(f("x"))],
        )
        .retry(10),
        case(
            "retry of an unterminated event applies once its line is complete",
            b"data: x\n\nretry: 42\n",
            vec![Ok(f("x"))],
        )
        .retry(42),
        case(
            "unterminated retry line is dropped",
            b"data: x\n\nretry: 42",
            vec![Ok(f("x"))],
        ),
        case(
            "invalid retry values ignored",
            b"retry: 15x\nretry: -1\nretry: 1.5\nretry:\nretry\nretry:  100\nretry: +1\ndata: x\n\n",
            vec![Ok(f("x"))],
        ),
        case(
            "invalid retry keeps earlier value",
            b"retry: 7\nretry: x\ndata: x\n\n",
            vec![Ok(f("x").retry(7))],
        )
        .retry(7),
        case("retry zero", b"retry:0\ndata: x\n\n", vec![Ok(f("x").retry(0))]).retry(0),
        case(
            "huge retry saturates",
            b"retry: 99999999999999999999999\ndata: x\n\n",
            vec![Ok(f("x").retry(u64::MAX))],
        )
        .retry(u64::MAX),
        // End of stream.
        case(
            "trailing event without blank line dropped",
            b"data: a\n\ndata: b\n",
            vec![Ok(f("a"))],
        ),
        case(
            "trailing unterminated line dropped",
            b"data: a\n\ndata: b",
            vec![Ok(f("a"))],
        ),
        case("only an unterminated line", b"data: a", vec![]),
        case(
            "trailing CR dispatches",
            b"data: a\r\r",
            vec![Ok(f("a"))],
        ),
        // UTF-8.
        case(
            "multi-byte UTF-8",
            "event: ü\ndata: é😀\nid: ß\n\n".as_bytes(),
            vec![Ok(f("é😀").event("ü").id("ß"))],
        )
        .last_id("ß"),
        case(
            "invalid UTF-8 in data skips the event",
            b"data: \xff\n\ndata: ok\n\n",
            vec![utf8("data"), Ok(f("ok"))],
        ),
        case(
            "invalid UTF-8 in a later data line",
            b"data: a\ndata: \xC3\n\ndata: ok\n\n",
            vec![utf8("data"), Ok(f("ok"))],
        ),
        case(
            "truncated sequence at line end",
            b"data: \xC3\ndata: \xA9\n\n",
            vec![utf8("data")],
        ),
        case(
            "invalid UTF-8 in event",
            b"event: \xff\ndata: x\n\n",
            vec![utf8("event")],
        ),
        case(
            "invalid UTF-8 in id is not committed",
            b"id: 1\n\nid: \xff\ndata: x\n\n",
            vec![utf8("id")],
        )
        .last_id("1"),
        case(
            "valid id of an invalid event is committed",
            b"id: 3\ndata: \xff\n\n",
            vec![utf8("data")],
        )
        .last_id("3"),
        case(
            "first invalid field reported",
            b"event: \xff\ndata: \xff\n\n",
            vec![utf8("event")],
        ),
        case(
            "invalid UTF-8 in an event without data is still reported",
            b"event: \xfe\n\n",
            vec![utf8("event")],
        ),
        case(
            "invalid UTF-8 in comments and unknown fields is ignored",
            b": \xff\n\xff: y\nretry: \xff\ndata: x\n\n",
            vec![Ok(f("x"))],
        ),
        // Size limit (16 bytes in these cases).
        case("line at the limit", b"data: 0123456789\n\n", vec![Ok(f("0123456789"))]).limit(16),
        case(
            "line over the limit",
            b"data: 0123456789a\n\ndata: x\n\n",
            vec![Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "event at the limit",
            b"data:012\ndata:345\n\n",
            vec![Ok(f("012\n345"))],
        )
        .limit(16),
        case(
            "event over the limit",
            b"data: 0123\ndata: 4567\n\n",
            vec![Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "other fields count",
            b"event: abcdefgh\ndata: x\n\n",
            vec![Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "events before the large one are returned",
            b"data: a\n\nid: 1\ndata: b\n\ndata: 0123456789abcdef\n\n",
            vec![Ok(f("a")), Ok(f("b").id("1")), Err(TOO_LARGE)],
        )
        .limit(16)
        .last_id("1"),
        case(
            "unterminated line over the limit",
            b"data: 0123456789abcdef",
            vec![Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "unterminated line over the rest of the limit",
            b"data:0123456\ndata: 01",
            vec![Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "comments do not count towards the event",
            b":0123456789\n:0123456789\ndata:0123456789\n\n",
            vec![Ok(f("0123456789"))],
        )
        .limit(16),
        case(
            "a comment line over the limit",
            b":0123456789abcdefg\n\ndata: x\n\n",
            vec![Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "an unterminated comment over the limit",
            b"data: x\n\n:0123456789abcdefg",
            vec![Ok(f("x")), Err(TOO_LARGE)],
        )
        .limit(16),
        case(
            "blank lines reset the size",
            b"data:0123456789\n\ndata:0123456789\n\n",
            vec![Ok(f("0123456789")), Ok(f("0123456789"))],
        )
        .limit(16),
        case(
            "line ends do not count",
            b"data:0123456789a\r\n\r\n",
            vec![Ok(f("0123456789a"))],
        )
        .limit(16),
        // The Agent Workflow Server writes its keep-alive as a bare `:` without a line end: it
        // glues onto the next line, which becomes a comment. The event has no `id` of its own
        // and the last event ID stays the previous one.
        case(
            "keep-alive glued to an id line",
            b"id: 1\ndata: a\n\n:id: 2\ndata: b\n\nid: 3\ndata: c\n\n",
            vec![Ok(f("a").id("1")), Ok(f("b")), Ok(f("c").id("3"))],
        )
        .last_id("3"),
        case(
            "keep-alive glued to the last id line",
            b"id: 1\ndata: a\n\n:id: 2\ndata: b\n\n",
            vec![Ok(f("a").id("1")), Ok(f("b"))],
        )
        .last_id("1"),
        case(
            "keep-alives glued to each other and to a data line",
            b"::: :data: lost\nid: 4\ndata: kept\n\n",
            vec![Ok(f("kept").id("4"))],
        )
        .last_id("4"),
        // A realistic stream.
        case(
            "run stream",
            b"\xEF\xBB\xBF: connected\r\n\r\nretry: 3000\r\n\r\nevent: agent_event\r\nid: run-1:0\r\ndata: {\"type\":\"start\"}\r\n\r\n: ping\r\n\r\nevent: agent_event\r\nid: run-1:1\r\ndata: {\"type\":\r\ndata: \"message\"}\r\n\r\nevent: done\r\ndata\r\n\r\n",
            vec![
                Ok(f("{\"type\":\"start\"}").event("agent_event").id("run-1:0")),
                Ok(f("{\"type\":\n\"message\"}").event("agent_event").id("run-1:1")),
                Ok(f("").event("done")),
            ],
        )
        .last_id("run-1:1")
        .retry(3000),
    ]
}

fn expected_run(case: &Case) -> Run {
    Run {
        outcomes: case.expected.clone(),
        last_event_id: case.last_event_id.map(str::to_owned),
        retry: case.retry.map(Duration::from_millis),
    }
}

#[test]
fn corpus_whole_input() {
    for case in corpus() {
        assert_eq!(
            run(case.limit, [case.input]),
            expected_run(&case),
            "case {:?}",
            case.name
        );
    }
}

#[test]
fn corpus_split_in_two_at_every_byte() {
    for case in corpus() {
        let expected = expected_run(&case);
        for i in 0..=case.input.len() {
            let (a, b) = case.input.split_at(i);
            assert_eq!(
                run(case.limit, [a, b]),
                expected,
                "case {:?} split at {i}",
                case.name
            );
        }
    }
}

#[test]
fn corpus_split_in_three() {
    for case in corpus().into_iter().filter(|case| case.input.len() <= 64) {
        let expected = expected_run(&case);
        let input = case.input;
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let chunks = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(
                    run(case.limit, chunks),
                    expected,
                    "case {:?} split at {i} and {j}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn corpus_one_byte_at_a_time() {
    for case in corpus() {
        assert_eq!(
            run(case.limit, case.input.chunks(1)),
            expected_run(&case),
            "case {:?} byte by byte",
            case.name
        );
    }
}

#[test]
fn single_data_line_is_a_slice_of_the_input() {
    let mut decoder = Decoder::default();
    decoder.feed(b"data: aaaa\n\ndata: bbbb\n\n");
    let first = decoder.next_frame().unwrap().unwrap();
    let second = decoder.next_frame().unwrap().unwrap();
    // Both point into the same input buffer, 12 bytes apart: no copy.
    assert_eq!(
        second.data.as_ptr() as usize - first.data.as_ptr() as usize,
        12
    );
}

#[test]
fn too_large_is_fatal_until_reset() {
    let mut decoder = Decoder::new(8);
    decoder.feed(b"id: 1\n\ndata: 0123456789\n\n");
    assert_eq!(
        decoder.next_frame(),
        Err(SseError::EventTooLarge { limit: 8 })
    );
    assert!(SseError::EventTooLarge { limit: 8 }.is_fatal());
    decoder.feed(b"data: x\n\n");
    assert_eq!(
        decoder.next_frame(),
        Err(SseError::EventTooLarge { limit: 8 })
    );
    assert_eq!(decoder.finish(), Err(SseError::EventTooLarge { limit: 8 }));
    assert_eq!(decoder.last_event_id(), Some("1"));
    decoder.reset();
    decoder.feed(b"data: x\n\n");
    assert_eq!(decoder.next_frame(), Ok(Some(f("x"))));
    assert_eq!(decoder.last_event_id(), Some("1"));
}

#[test]
fn invalid_utf8_is_not_fatal() {
    let err = SseError::InvalidUtf8 { field: "data" };
    assert!(!err.is_fatal());
    assert_eq!(
        err.to_string(),
        "server-sent event field `data` is not valid UTF-8"
    );
}

#[test]
fn finish_starts_a_new_connection() {
    let mut decoder = Decoder::default();
    decoder.feed(b"retry: 9\nid: 1\ndata: a\n\nid: 2\ndata: b\n\ndata: c");
    assert_eq!(decoder.finish(), Ok(Some(f("a").id("1").retry(9))));
    assert_eq!(decoder.finish(), Ok(Some(f("b").id("2"))));
    assert_eq!(decoder.finish(), Ok(None));
    assert_eq!(decoder.finish(), Ok(None));
    // New connection: BOM allowed again, state kept.
    decoder.feed(b"\xEF\xBB\xBFdata: d\n\n");
    assert_eq!(decoder.next_frame(), Ok(Some(f("d"))));
    assert_eq!(decoder.last_event_id(), Some("2"));
    assert_eq!(decoder.retry(), Some(Duration::from_millis(9)));
}

#[test]
fn finish_discards_cr_pending_lf() {
    let mut decoder = Decoder::default();
    decoder.feed(b"data: a\r\r");
    assert_eq!(decoder.finish(), Ok(Some(f("a"))));
    assert_eq!(decoder.finish(), Ok(None));
    decoder.feed(b"\ndata: b\n\n");
    // The LF belongs to the new connection: a blank line.
    assert_eq!(decoder.next_frame(), Ok(Some(f("b"))));
}

#[test]
fn long_line_fed_byte_by_byte_is_linear() {
    // Quadratic rescanning would make this take minutes.
    let mut decoder = Decoder::default();
    let data = vec![b'x'; 1 << 20];
    decoder.feed(b"data: ");
    for byte in data.chunks(1) {
        decoder.feed(byte);
        assert_eq!(decoder.next_frame(), Ok(None));
    }
    decoder.feed(b"\n\n");
    let frame = decoder.next_frame().unwrap().unwrap();
    assert_eq!(frame.data.len(), 1 << 20);
}

#[test]
fn defaults() {
    assert_eq!(Decoder::default().max_event_size(), DEFAULT_MAX_EVENT_SIZE);
    assert_eq!(DEFAULT_MAX_EVENT_SIZE, 16 * 1024 * 1024);
    assert_eq!(f("x").event_type(), "message");
    assert_eq!(f("x").event("e").event_type(), "e");
    let decoder = Decoder::new(1);
    assert_eq!(decoder.last_event_id(), None);
    assert_eq!(decoder.retry(), None);
}

/// Values of every length up to past the inline capacity, at the end of the input and with
/// bytes after them (the inline copy takes 24 bytes when it can, and keeps the length in the
/// last): each reads back as itself, with none of the bytes after it and not the length byte.
#[test]
fn field_str_values_of_every_length_read_back_whole() {
    use super::FieldStr;
    for len in 0..=FieldStr::INLINE_CAPACITY + 3 {
        let id: String = ('a'..='z').cycle().take(len).collect();
        for rest in ["", "data: next\n\nid: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n"] {
            let input = format!("event: {id}\nid: {id}\ndata: x\n\n{rest}");
            let mut decoder = Decoder::default();
            decoder.feed(input.as_bytes());
            let frame = decoder.next_frame().unwrap().unwrap();
            let event = frame.event.clone().unwrap_or_default();
            assert_eq!(
                (event.as_str(), event.len()),
                (id.as_str(), len),
                "{len} {rest:?}"
            );
            assert_eq!(frame.id.as_deref(), Some(id.as_str()), "{len} {rest:?}");
            assert_eq!(decoder.last_event_id(), Some(id.as_str()));
            assert_eq!(FieldStr::from(id.clone()), id.as_str());
            assert_eq!(FieldStr::from(id.clone()).as_bytes(), id.as_bytes());
        }
    }
}

#[test]
fn field_str_inline_and_shared() {
    use super::FieldStr;
    let long = "an-event-type-longer-than-the-inline-capacity";
    let input = format!("event: {long}\nid: é7\ndata: x\n\n");
    let mut decoder = Decoder::default();
    decoder.feed(input.as_bytes());
    let frame = decoder.next_frame().unwrap().unwrap();
    assert_eq!(frame, f("x").event(long).id("é7"));
    let (event, id) = (frame.event.unwrap(), frame.id.unwrap());
    assert_eq!(event.len(), long.len());
    assert_eq!(id, FieldStr::from(String::from("é7")));
    assert_eq!(format!("{id}/{id:?}"), "é7/\"é7\"");
    let set: std::collections::HashSet<FieldStr> = [event, id].into_iter().collect();
    assert!(set.contains(long) && set.contains("é7"));
    assert_eq!(decoder.last_event_id(), Some("é7"));
    assert!(FieldStr::new().is_empty());
}

/// Chunks fed as `Bytes` are decoded in place: the data of an event that lies within one
/// chunk is a slice of that chunk's memory; an event split across chunks is joined (copied).
#[test]
fn chunks_fed_as_bytes_are_decoded_in_place() {
    use bytes::Bytes;
    let first = Bytes::from_static(b"id: 1\ndata: in the first chunk\n\ndata: spl");
    let second = Bytes::from_static(b"it\n\ndata: in the second chunk\n\n");
    let within = |data: &Bytes, chunk: &Bytes| {
        let range = chunk.as_ptr_range();
        range.contains(&data.as_ptr()) && data.len() <= chunk.len()
    };
    let mut decoder = Decoder::default();
    decoder.feed_bytes(first.clone());
    let a = decoder.next_frame().unwrap().unwrap();
    assert_eq!(&a.data[..], b"in the first chunk");
    assert!(within(&a.data, &first), "not copied");
    assert_eq!(decoder.next_frame(), Ok(None));
    decoder.feed_bytes(second.clone());
    let b = decoder.next_frame().unwrap().unwrap();
    assert_eq!(&b.data[..], b"split");
    assert!(
        !within(&b.data, &first) && !within(&b.data, &second),
        "joined"
    );
    let c = decoder.next_frame().unwrap().unwrap();
    assert_eq!(&c.data[..], b"in the second chunk");
    assert!(within(&c.data, &second), "the rest of the chunk in place");
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(decoder.last_event_id(), Some("1"));
}

/// A line fed a byte at a time as `Bytes` (every feed a chunk of its own, the line unfinished
/// until the last) decodes as the whole line would, and the limit still holds for it.
#[test]
fn a_long_line_in_many_small_chunks() {
    use bytes::Bytes;
    let line = format!("data: {}\n\n", "y".repeat(5000));
    let mut decoder = Decoder::default();
    for byte in line.as_bytes() {
        decoder.feed_bytes(Bytes::copy_from_slice(&[*byte]));
        if let Some(frame) = decoder.next_frame().unwrap() {
            assert_eq!(frame.data.len(), 5000);
            assert!(frame.data.iter().all(|&b| b == b'y'));
            return;
        }
    }
    panic!("no event");
}

#[test]
fn the_limit_holds_for_a_line_fed_in_many_chunks() {
    use bytes::Bytes;
    let mut decoder = Decoder::new(100);
    let mut result = Ok(None);
    for _ in 0..30 {
        decoder.feed_bytes(Bytes::from_static(b"data: xxxx"));
        result = decoder.next_frame();
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(SseError::EventTooLarge { limit: 100 }));
}
