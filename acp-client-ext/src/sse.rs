//! Incremental, zero-copy decoder for `text/event-stream` (server-sent events).
//!
//! [`Decoder`] implements the parsing rules of the WHATWG HTML standard,
//! section 9.2 "Server-sent events" ("Interpreting an event stream"), over
//! byte chunks as they arrive from the network. It is the foundation of the
//! typed, resumable run stream of this crate.
//!
//! # Why not an existing crate
//!
//! `eventsource-stream` 0.2 (the decoder used by `reqwest-eventsource`) was
//! measured at 0.51–0.64 GB/s on 1 KiB events before this decoder was
//! written, and at 0.42–0.51 GiB/s (1 KiB events) and 0.10–0.12 GiB/s
//! (150 B events) by this crate's bench: it copies every chunk into a
//! `String`, re-parses the buffer with `nom` and allocates a `String` per
//! event for the data. The run stream of an agent can carry large payloads
//! (streamed messages, artifacts), so this decoder aims at a few GB/s:
//!
//! * line ends are found with [`memchr::memchr2`] (`\r` and `\n`), after an
//!   inline eight-bytes-at-a-time check of the first 32 bytes (field lines
//!   are short), and a partially received line is never scanned twice;
//! * input is consumed by moving an index over the chunk it came in: a chunk
//!   fed as [`Bytes`] ([`Decoder::feed_bytes`], what an HTTP body yields) is
//!   used in place, not copied; only the line that a chunk leaves unfinished is
//!   copied, with the next chunk's bytes up to that line's end. Nothing is
//!   allocated per line or per event: `event` and `id` values are
//!   [`FieldStr`]s, stored inline when short;
//! * a field line only records where its value is in the input (after the
//!   UTF-8 check, with an ASCII fast path); the frame is built once, at the
//!   blank line: `event` and `id` copied inline from the input, `data` a
//!   [`Bytes`] slice of it (no copy) for the common single-`data:`-line event.
//!   Only multi-line data is copied (to join the lines with `\n`), and only an
//!   event split across two chunks has its values detached from the input
//!   before the consumed input is dropped.
//!
//! Building each `FieldStr` per line, storing it in the pending event and
//! moving it into the frame cost, on 150 B events, more than the rest of the
//! decoding: `perf annotate` put 30–40 % of the decoder's samples on the
//! moves of those 24-byte values (16-byte loads of bytes just written by
//! narrower stores: store-forwarding stalls), and as much again on cloning
//! the `id` into [`Decoder::last_event_id`]. Recording ranges instead, and
//! building the last event ID from the input rather than by a clone, took
//! 150 B events from 5.2–7 M to 8.3–9.4 M events/s in criterion runs on the
//! shared 2-core machine (load 4–5; a memchr newline scan of the same input
//! ran at 21–34 GB/s meanwhile): see docs/BENCHMARKS.md for the figures of
//! one run, side by side.
//!
//! Earlier measurements (before that change), best of 2000 runs of 1 MiB:
//!
//! | input, 16 KiB chunks          | this decoder               | `eventsource-stream` 0.2 (criterion median) | memchr `\n` scan |
//! |-------------------------------|----------------------------|---------------------------------------------|------------------|
//! | 1 KiB `data:` events          | 11.3 GB/s, 11.0 M events/s | 0.42–0.51 GiB/s          | 24–30 GB/s       |
//! | 150 B events (event, id, data)| 1.26 GB/s, 8.4 M events/s  | 0.10–0.12 GiB/s          | 25–31 GB/s       |
//!
//! On small events the cost is per event, not per byte; what is left per
//! event is mostly the atomic reference count of `data` (the split off the
//! input and the drop of the frame: 12–15 % of the samples) and the line
//! scan.
//!
//! # Policy decisions
//!
//! * **Encoding.** The standard decodes the stream as UTF-8 with replacement
//!   characters. This decoder instead *validates*: [`Frame::data`] is always
//!   valid UTF-8 (unless the decoder was built
//!   [`data_checked_by_caller`](Decoder::data_checked_by_caller)), and an event whose `data`,
//!   `event` or `id` value is not
//!   valid UTF-8 is reported as [`SseError::InvalidUtf8`] and skipped. That
//!   error is not fatal: decoding continues with the next event. Invalid
//!   bytes in comments, unknown fields or `retry` values are ignored like the
//!   rest of those lines.
//! * **Byte order mark.** One UTF-8 BOM is stripped at the very start of the
//!   stream (and at the start of each new connection after
//!   [`Decoder::finish`] or [`Decoder::reset`]), nowhere else.
//! * **`id` with NUL.** An `id` field whose value contains U+0000 is ignored
//!   entirely, as the standard requires: neither [`Frame::id`] nor
//!   [`Decoder::last_event_id`] changes.
//! * **Last event ID.** [`Decoder::last_event_id`] is the event source's
//!   "last event ID string": it is updated when an event is *dispatched*
//!   (at its blank line), also for events without `data` that are not
//!   returned as frames, and it persists across events and connections. An
//!   `id: ` with an empty value resets it to the empty string. The `id` of an
//!   event skipped for invalid UTF-8 elsewhere in it is still committed, so a
//!   resumption does not replay the broken event.
//! * **Retry.** A `retry` value of ASCII digits only (at least one) sets the
//!   reconnection time in milliseconds as soon as the line is read (values
//!   too large for `u64` saturate); any other value is ignored.
//! * **End of stream.** Per the standard, an event not terminated by a blank
//!   line when the stream ends is discarded, as is an unterminated last line:
//!   [`Decoder::finish`] returns the complete events still buffered, then
//!   `Ok(None)`, and never panics.
//! * **Maximum size.** Memory is bounded by `max_event_size`: a single line
//!   (even a comment, even before its line end has arrived) longer than the
//!   limit, or an event whose non-comment lines add up to more than the limit
//!   (line ends not counted), yields [`SseError::EventTooLarge`]. This error
//!   is fatal: the decoder discards its buffers and input fed afterwards, and
//!   keeps returning the error until [`Decoder::reset`] (a reconnection).
//!   The limit is checked in [`Decoder::next_frame`], so call it after each
//!   [`Decoder::feed`].

use std::fmt;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The default limit on the size of one event: 16 MiB.
///
/// ```
/// use acp_client_ext::sse::{Decoder, DEFAULT_MAX_EVENT_SIZE};
/// assert_eq!(DEFAULT_MAX_EVENT_SIZE, 16 << 20);
/// assert_eq!(Decoder::default().max_event_size(), DEFAULT_MAX_EVENT_SIZE);
/// ```
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Words of eight bytes searched inline for a line end before `memchr2`.
const SWAR_WORDS: usize = 4;

/// One dispatched server-sent event.
///
/// ```
/// use acp_client_ext::sse::Decoder;
/// let mut decoder = Decoder::default();
/// decoder.feed(b"id: 1\nretry: 500\ndata: hi\n\n");
/// let frame = decoder.next_frame()?.expect("one event");
/// assert_eq!((&frame.data[..], frame.id.as_deref()), (&b"hi"[..], Some("1")));
/// assert_eq!(frame.retry, Some(std::time::Duration::from_millis(500)));
/// # Ok::<(), acp_client_ext::sse::SseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The `event` field: the event type. `None` (also for an empty `event:`
    /// value) means the default type, `"message"`.
    pub event: Option<FieldStr>,
    /// The `data` lines joined with `\n` (no trailing newline). Always valid
    /// UTF-8 when produced by a [`Decoder`] that checks it (the default).
    pub data: Bytes,
    /// The `id` field of this event, if it had one (the last one if several).
    /// `Some("")` is an explicit reset of the last event ID.
    pub id: Option<FieldStr>,
    /// The valid `retry` field of this event, if it had one.
    pub retry: Option<Duration>,
}

impl Frame {
    /// The event type: the `event` field, or `"message"` if absent.
    ///
    /// ```
    /// # use acp_client_ext::sse::Frame;
    /// let frame = Frame { event: None, data: "x".into(), id: None, retry: None };
    /// assert_eq!(frame.event_type(), "message");
    /// ```
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// The string value of the `event` or `id` field of a [`Frame`]: an
/// immutable UTF-8 string that costs no allocation.
///
/// A value of up to [`FieldStr::INLINE_CAPACITY`] bytes (event types, ids)
/// is stored inline; a longer one shares the input buffer of the
/// [`Decoder`], as [`Frame::data`] does (a [`Bytes`] slice, no copy). So
/// decoding a frame allocates no string, and cloning one never copies more
/// than the inline bytes.
///
/// It dereferences to [`str`], and compares, hashes and orders as one (so it
/// can key a map looked up by `&str`). Build one from a `&'static str` (no
/// copy), a [`String`] (no copy) or a `&str`, and convert it back with
/// `String::from`.
///
/// ```
/// use acp_client_ext::sse::{Decoder, FieldStr};
///
/// let mut decoder = Decoder::default();
/// decoder.feed(b"event: update\nid: 7\ndata: {}\n\n");
/// let frame = decoder.next_frame()?.expect("one event");
/// let id: &FieldStr = frame.id.as_ref().expect("an id");
/// assert_eq!(id, "7");
/// assert_eq!(id.parse::<u64>(), Ok(7)); // any `str` method
/// assert_eq!(frame.event.as_deref(), Some("update"));
/// assert_eq!(format!("{id} {id:?}"), r#"7 "7""#);
///
/// // Frames can be built too, e.g. in tests.
/// assert_eq!(frame.event, Some(FieldStr::from("update")));
/// assert_eq!(String::from(id.clone()), "7");
/// # Ok::<(), acp_client_ext::sse::SseError>(())
/// ```
#[derive(Clone)]
pub struct FieldStr(Repr);

/// Invariant: UTF-8.
#[derive(Clone)]
enum Repr {
    /// The value in `raw[..len]`, its length in the last byte, `raw[INLINE_CAPACITY]`. One
    /// array rather than a `bytes` array and a `len` beside it, so that it is built in
    /// registers (the 23 bytes and the length as one 24-byte unit) and stored once: built
    /// field by field, then moved whole, its loads met partial stores (store-forwarding
    /// stalls, ~30% of the decoder's samples on ~150 B events, `perf annotate`, 2026-12-02).
    Inline([u8; FieldStr::INLINE_CAPACITY + 1]),
    Shared(Bytes),
}

/// `head` (the value, then any bytes) with its last byte set to `len`: the inline form,
/// assembled as two words and a 16-byte block so that no byte is stored alone.
#[inline(always)]
fn inline_raw(
    head: &[u8; FieldStr::INLINE_CAPACITY + 1],
    len: usize,
) -> [u8; FieldStr::INLINE_CAPACITY + 1] {
    let (block, tail) = head.split_at(16);
    let mut tail = u64::from_le_bytes(tail.try_into().unwrap_or_default());
    tail = (tail & 0x00ff_ffff_ffff_ffff) | ((len as u64) << 56);
    let mut raw = [0; FieldStr::INLINE_CAPACITY + 1];
    let (lo, hi) = raw.split_at_mut(16);
    lo.copy_from_slice(block);
    hi.copy_from_slice(&tail.to_le_bytes());
    raw
}

impl FieldStr {
    /// The length up to which a value is stored inline, without allocation
    /// or reference count (longer values share the input buffer).
    ///
    /// ```
    /// use acp_client_ext::sse::FieldStr;
    /// let short = FieldStr::from("a".repeat(FieldStr::INLINE_CAPACITY));
    /// assert_eq!(short.len(), FieldStr::INLINE_CAPACITY);
    /// ```
    pub const INLINE_CAPACITY: usize = 23;

    /// An empty string.
    ///
    /// ```
    /// use acp_client_ext::sse::FieldStr;
    /// const EMPTY: FieldStr = FieldStr::new();
    /// assert!(EMPTY.is_empty());
    /// assert_eq!(EMPTY, FieldStr::default());
    /// ```
    pub const fn new() -> Self {
        Self(Repr::Inline([0; Self::INLINE_CAPACITY + 1]))
    }

    /// `bytes` if it is valid UTF-8 (without copying it), or `bytes` back.
    ///
    /// ```
    /// # use acp_client_ext::sse::FieldStr;
    /// # use bytes::Bytes;
    /// assert_eq!(FieldStr::from_utf8(Bytes::from_static(b"id-1")).unwrap(), "id-1");
    /// assert!(FieldStr::from_utf8(Bytes::from_static(b"\xff")).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// The input, unchanged, when it is not valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Bytes> {
        if is_utf8(&bytes) {
            Ok(Self(Repr::Shared(bytes)))
        } else {
            Err(bytes)
        }
    }

    /// `value` copied inline, if it fits. UTF-8 checked by the caller.
    fn inline(value: &[u8]) -> Option<Self> {
        if value.len() > Self::INLINE_CAPACITY {
            return None;
        }
        let mut head = [0; Self::INLINE_CAPACITY + 1];
        head.get_mut(..value.len())?.copy_from_slice(value);
        Some(Self(Repr::Inline(inline_raw(&head, value.len()))))
    }

    /// The string.
    ///
    /// Every constructor checks the bytes, but this crate has no `unsafe`
    /// code, so this checks them again (nanoseconds for the short values of
    /// `event` and `id` fields).
    ///
    /// ```
    /// use acp_client_ext::sse::FieldStr;
    /// let s = FieldStr::from("update");
    /// assert_eq!(s.as_str(), "update");
    /// ```
    pub fn as_str(&self) -> &str {
        // Never the default: the bytes are immutable and were checked.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The string as bytes (no check).
    ///
    /// ```
    /// use acp_client_ext::sse::FieldStr;
    /// assert_eq!(FieldStr::from("id-7").as_bytes(), b"id-7");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(raw) => {
                let len = usize::from(raw[Self::INLINE_CAPACITY]);
                raw.get(..len).unwrap_or_default()
            }
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The length in bytes (no check).
    ///
    /// ```
    /// use acp_client_ext::sse::FieldStr;
    /// assert_eq!(FieldStr::from("é").len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the string is empty (no check).
    ///
    /// ```
    /// use acp_client_ext::sse::FieldStr;
    /// assert!(FieldStr::from("").is_empty());
    /// assert!(!FieldStr::from("x").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl Default for FieldStr {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for FieldStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for FieldStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for FieldStr {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<str> for FieldStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for FieldStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for FieldStr {}

impl PartialOrd for FieldStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FieldStr {
    /// As [`str`]: by bytes.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for FieldStr {
    /// As [`str`], as `Borrow<str>` requires.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for FieldStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for FieldStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&'static str> for FieldStr {
    /// No copy of a long string: it is static.
    fn from(s: &'static str) -> Self {
        Self::inline(s.as_bytes())
            .unwrap_or_else(|| Self(Repr::Shared(Bytes::from_static(s.as_bytes()))))
    }
}

impl From<String> for FieldStr {
    /// No copy of a long string: takes over its allocation.
    fn from(s: String) -> Self {
        Self::inline(s.as_bytes()).unwrap_or_else(|| Self(Repr::Shared(Bytes::from(s))))
    }
}

impl From<FieldStr> for String {
    /// Copies the bytes into a new `String`.
    fn from(s: FieldStr) -> Self {
        s.as_str().to_owned()
    }
}

impl From<FieldStr> for Bytes {
    /// No copy of a shared value; an inline one is copied.
    fn from(s: FieldStr) -> Self {
        match s.0 {
            Repr::Inline(_) => Bytes::copy_from_slice(s.as_bytes()),
            Repr::Shared(bytes) => bytes,
        }
    }
}

impl PartialEq<str> for FieldStr {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for FieldStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for FieldStr {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<FieldStr> for str {
    fn eq(&self, other: &FieldStr) -> bool {
        other == self
    }
}

impl PartialEq<FieldStr> for &str {
    fn eq(&self, other: &FieldStr) -> bool {
        other == self
    }
}

impl PartialEq<FieldStr> for String {
    fn eq(&self, other: &FieldStr) -> bool {
        other == self
    }
}

/// An error while decoding an event stream.
///
/// ```
/// use acp_client_ext::sse::{Decoder, SseError};
/// let mut decoder = Decoder::default();
/// decoder.feed(b"data: \xff\n\n");
/// assert_eq!(decoder.next_frame(), Err(SseError::InvalidUtf8 { field: "data" }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line or an event exceeded the decoder's size limit. Fatal: see
    /// [`Decoder::reset`].
    #[error("server-sent event exceeds the limit of {limit} bytes")]
    EventTooLarge {
        /// The limit given to [`Decoder::new`].
        limit: usize,
    },
    /// The value of a field of an event was not valid UTF-8. The event was
    /// skipped; decoding can go on.
    #[error("server-sent event field `{field}` is not valid UTF-8")]
    InvalidUtf8 {
        /// The first offending field: `"data"`, `"event"` or `"id"`.
        field: &'static str,
    },
}

impl SseError {
    /// Whether the decoder is unusable after this error until
    /// [`Decoder::reset`]. [`SseError::InvalidUtf8`] only skips one event.
    ///
    /// ```
    /// use acp_client_ext::sse::SseError;
    /// assert!(SseError::EventTooLarge { limit: 8 }.is_fatal());
    /// assert!(!SseError::InvalidUtf8 { field: "id" }.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        matches!(self, SseError::EventTooLarge { .. })
    }
}

/// The data lines of the pending event.
#[derive(Debug, Default)]
enum Data {
    /// No `data` field yet: the event will not be dispatched.
    #[default]
    None,
    /// Exactly one `data` line, still in the input buffer: `buf[start..end]`
    /// (valid until the consumed input is dropped, see [`Decoder::own_pending`]).
    At(usize, usize),
    /// Exactly one `data` line: a zero-copy slice of the input.
    One(Bytes),
    /// Several lines, joined with `\n`.
    Many(BytesMut),
}

/// The pending `event` or `id` value.
#[derive(Debug, Default)]
enum Value {
    /// None (for `event`, also an empty value).
    #[default]
    None,
    /// `buf[start..end]`, checked as UTF-8, still in the input buffer (as
    /// [`Data::At`]). The frame's [`FieldStr`] is built once, at dispatch:
    /// building it per line and moving it into the frame cost more than the
    /// rest of a small event (store-forwarding stalls on the moves).
    At(usize, usize),
    /// A value whose line was dropped from the input buffer.
    Owned(FieldStr),
}

impl Value {
    /// Whether the value is (still) a range of the input longer than the
    /// inline capacity, which needs the input buffer split to share it.
    fn is_long_range(&self) -> bool {
        matches!(self, Value::At(start, end) if end - start > FieldStr::INLINE_CAPACITY)
    }
}

/// The fields that matter; the others are ignored.
#[derive(Debug, Clone, Copy)]
enum Field {
    Data,
    Event,
    Id,
    Retry,
}

/// The event being assembled (the standard's buffers).
#[derive(Debug, Default)]
struct Pending {
    event: Value,
    data: Data,
    id: Value,
    retry: Option<Duration>,
    /// Sum of the lengths of the non-comment lines, without line ends.
    size: usize,
    /// The first field whose value was not valid UTF-8.
    invalid: Option<&'static str>,
}

/// Incremental decoder of a `text/event-stream` body.
///
/// Feed it chunks of bytes as they arrive with [`feed`](Self::feed), then
/// call [`next_frame`](Self::next_frame) until it returns `Ok(None)`; at the
/// end of the body, call [`finish`](Self::finish) until it returns
/// `Ok(None)`. The result does not depend on how the input is split in
/// chunks.
///
/// ```
/// use acp_client_ext::sse::{Decoder, DEFAULT_MAX_EVENT_SIZE};
///
/// let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_SIZE);
/// decoder.feed(b": keep-alive\n\nevent: update\nid: 7\ndata: {\"a\":");
/// assert_eq!(decoder.next_frame()?, None); // event not complete yet
///
/// decoder.feed(b"1}\r\ndata: second line\r\n\r\ndata: trailing");
/// let frame = decoder.next_frame()?.expect("one complete event");
/// assert_eq!(frame.event.as_deref(), Some("update"));
/// assert_eq!(frame.id.as_deref(), Some("7"));
/// assert_eq!(&frame.data[..], b"{\"a\":1}\nsecond line");
/// assert_eq!(decoder.last_event_id(), Some("7"));
/// assert_eq!(decoder.next_frame()?, None);
///
/// // End of the body: the unterminated trailing event is dropped.
/// assert_eq!(decoder.finish()?, None);
/// # Ok::<(), acp_client_ext::sse::SseError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    /// Input; `buf[..pos]` is consumed. A chunk fed when nothing was left of the previous
    /// one is this, in place.
    buf: Bytes,
    /// The rest of the last chunk fed, after the line end that completed the line `buf`
    /// ended with: decoded in place once `buf` is.
    next: Option<Bytes>,
    /// The start of the current line in `buf`.
    pos: usize,
    /// `buf[pos..scanned]` is known to hold no `\r` or `\n`.
    scanned: usize,
    /// Whether the start of the connection (a possible BOM) is behind us.
    started: bool,
    /// The previous line ended with `\r` at the end of the input: a `\n`
    /// at the start of the next input belongs to that line end.
    skip_lf: bool,
    pending: Pending,
    max_event_size: usize,
    /// Set by a fatal error.
    failed: Option<SseError>,
    last_event_id: Option<FieldStr>,
    retry: Option<Duration>,
    /// Whether `data` values are checked as UTF-8 here (always, but for the run stream's
    /// decoder: [`Decoder::data_checked_by_caller`]).
    check_data: bool,
}

impl Default for Decoder {
    /// A decoder with [`DEFAULT_MAX_EVENT_SIZE`].
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_SIZE)
    }
}

impl Decoder {
    /// A decoder that rejects lines and events larger than `max_event_size`
    /// bytes (see [`DEFAULT_MAX_EVENT_SIZE`]).
    ///
    /// ```
    /// use acp_client_ext::sse::{Decoder, SseError};
    /// let mut decoder = Decoder::new(8);
    /// decoder.feed(b"data: too long for eight bytes\n\n");
    /// assert_eq!(decoder.next_frame(), Err(SseError::EventTooLarge { limit: 8 }));
    /// ```
    pub fn new(max_event_size: usize) -> Self {
        Self {
            buf: Bytes::new(),
            next: None,
            pos: 0,
            scanned: 0,
            started: false,
            skip_lf: false,
            pending: Pending::default(),
            max_event_size,
            failed: None,
            last_event_id: None,
            retry: None,
            check_data: true,
        }
    }

    /// This decoder without the UTF-8 check of `data` values: its frames' `data` may be any
    /// bytes, for a caller that checks them itself, once. [`RunEvent::from_frame`] and
    /// [`TypedEvent::from_frame`] do (a frame that carries run events and whose data is not
    /// UTF-8 is an [`Error::Decode`](crate::Error::Decode)), and hand serde the checked `str`,
    /// so that serde does not check each string of the payload again; a checking decoder in
    /// front of them checks the data twice. The run stream decodes this way (it skips such an
    /// event with [`SseError::InvalidUtf8`], as a checking decoder does): ~8% fewer
    /// instructions a 1 KiB event than checking here (callgrind of `bench_client URL typed`).
    /// `event` and `id` values are still checked.
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default().data_checked_by_caller();
    /// decoder.feed(b"data: \xff\n\n");
    /// let frame = decoder.next_frame()?.expect("the frame, unchecked");
    /// assert!(std::str::from_utf8(&frame.data).is_err());
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    ///
    /// [`RunEvent::from_frame`]: crate::RunEvent::from_frame
    /// [`TypedEvent::from_frame`]: crate::event::TypedEvent::from_frame
    pub fn data_checked_by_caller(mut self) -> Self {
        self.check_data = false;
        self
    }

    /// Appends a chunk of the body to the input buffer. No parsing happens
    /// here: call [`next_frame`](Self::next_frame) afterwards (the size limit
    /// is enforced there). Ignored after a fatal error.
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default();
    /// decoder.feed(b"data: a");
    /// decoder.feed(b"b\n\n");
    /// assert_eq!(&decoder.next_frame()?.expect("one event").data[..], b"ab");
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed.is_none() && !chunk.is_empty() {
            self.feed_bytes(Bytes::copy_from_slice(chunk));
        }
    }

    /// As [`feed`](Self::feed), without copying the chunk: the frames decoded from it share
    /// its bytes (their [`Frame::data`] is a slice of it). Only a line left unfinished by the
    /// input before is copied, with the bytes of `chunk` that finish it.
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// use bytes::Bytes;
    /// let mut decoder = Decoder::default();
    /// decoder.feed_bytes(Bytes::from_static(b"data: a\n\ndata: b"));
    /// decoder.feed_bytes(Bytes::from_static(b"c\n\n"));
    /// assert_eq!(&decoder.next_frame()?.expect("first").data[..], b"a");
    /// assert_eq!(&decoder.next_frame()?.expect("second").data[..], b"bc");
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn feed_bytes(&mut self, chunk: Bytes) {
        if self.failed.is_some() || chunk.is_empty() {
            return;
        }
        if let Some(next) = &mut self.next {
            // Fed twice without decoding in between (rare): joined.
            let mut joined = BytesMut::with_capacity(next.len() + chunk.len());
            joined.extend_from_slice(next);
            joined.extend_from_slice(&chunk);
            *next = joined.freeze();
            return;
        }
        if self.pos == self.buf.len() {
            // Nothing left of the input before (no value of the pending event refers to it:
            // they are detached before decoding stops for more input).
            self.buf = chunk;
            self.pos = 0;
            self.scanned = 0;
            return;
        }
        // The line left unfinished goes on in `chunk`: copy up to its end, keep the rest.
        let end = find_eol(&chunk, 0).map(|k| match (chunk[k], chunk.get(k + 1)) {
            (b'\r', Some(b'\n')) => k + 2,
            _ => k + 1,
        });
        match end {
            Some(end) if end < chunk.len() => {
                self.append(&chunk[..end]);
                self.next = Some(chunk.slice(end..));
            }
            _ => self.append(&chunk),
        }
    }

    /// Appends `more` to the input: in place when the input's buffer is this decoder's alone
    /// (with room to grow, so a long line fed in many chunks is not copied again and again),
    /// else into a copy of the unconsumed input.
    fn append(&mut self, more: &[u8]) {
        let buf = std::mem::take(&mut self.buf);
        let mut buf = buf.try_into_mut().unwrap_or_else(|shared| {
            let mut own = BytesMut::with_capacity(2 * shared.len() + more.len());
            own.extend_from_slice(&shared);
            own
        });
        buf.extend_from_slice(more);
        self.buf = buf.freeze();
    }

    /// Decodes the next complete event from the buffered input.
    ///
    /// Returns `Ok(None)` when more input is needed. Events without `data`
    /// lines are consumed silently (their `id` and `retry` still apply).
    ///
    /// # Errors
    ///
    /// [`SseError::InvalidUtf8`] for an event that was skipped (call again to
    /// go on), [`SseError::EventTooLarge`] when the limit was exceeded (fatal,
    /// returned again by every later call until [`reset`](Self::reset)).
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default();
    /// decoder.feed(b"data: 1\n\ndata: 2\n");
    /// assert_eq!(&decoder.next_frame()?.expect("first event").data[..], b"1");
    /// assert_eq!(decoder.next_frame()?, None); // the second is not terminated yet
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn next_frame(&mut self) -> Result<Option<Frame>, SseError> {
        self.decode(false)
    }

    /// Signals the end of the body and returns the complete events still
    /// buffered, one per call, then `Ok(None)`.
    ///
    /// Per the standard, an event without its terminating blank line (and an
    /// unterminated last line) is discarded. When `Ok(None)` is returned, the
    /// decoder is ready for the body of a new connection: the per-connection
    /// state is cleared (a BOM is allowed again) while
    /// [`last_event_id`](Self::last_event_id) and [`retry`](Self::retry) are
    /// kept, as a reconnecting event source does.
    ///
    /// # Errors
    ///
    /// As [`next_frame`](Self::next_frame).
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default();
    /// decoder.feed(b"data: done\n\ndata: cut off");
    /// assert_eq!(&decoder.finish()?.expect("complete event").data[..], b"done");
    /// assert_eq!(decoder.finish()?, None); // the unterminated event is dropped
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn finish(&mut self) -> Result<Option<Frame>, SseError> {
        let result = self.decode(true);
        if let Ok(None) = result {
            self.reset();
        }
        result
    }

    /// Decodes a whole body given in chunks: every frame and every non-fatal error, in order, up
    /// to the first fatal error (which is the last item); at the end of the input the
    /// unterminated rest is dropped as by [`finish`](Self::finish). For bodies already in hand
    /// (a capture, a test); a live stream calls [`feed`](Self::feed) and
    /// [`next_frame`](Self::next_frame) as bytes arrive.
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let body = b"id: 1\ndata: a\n\ndata: b\n\ndata: unterminated";
    /// let items = Decoder::default().decode_all(body.chunks(3));
    /// let data: Vec<_> = items.iter().map(|f| f.as_ref().unwrap().data.clone()).collect();
    /// assert_eq!(data, ["a", "b"]);
    /// ```
    pub fn decode_all<'a>(
        &mut self,
        chunks: impl IntoIterator<Item = &'a [u8]>,
    ) -> Vec<Result<Frame, SseError>> {
        let mut items = Vec::new();
        for chunk in chunks {
            self.feed(chunk);
            if !self.drain_into(&mut items, Decoder::next_frame) {
                return items;
            }
        }
        self.drain_into(&mut items, Decoder::finish);
        items
    }

    /// Takes items from `next` until it needs input (`true`) or fails fatally (`false`).
    /// Bounded: every call consumes input, or ends the loop.
    fn drain_into(
        &mut self,
        items: &mut Vec<Result<Frame, SseError>>,
        next: fn(&mut Decoder) -> Result<Option<Frame>, SseError>,
    ) -> bool {
        loop {
            match next(self) {
                Ok(Some(frame)) => items.push(Ok(frame)),
                Ok(None) => return true,
                Err(e) => {
                    let fatal = e.is_fatal();
                    items.push(Err(e));
                    if fatal {
                        return false;
                    }
                }
            }
        }
    }

    /// Clears the per-connection state (buffered input, the pending event, a
    /// fatal error) for a new connection, keeping
    /// [`last_event_id`](Self::last_event_id) and [`retry`](Self::retry).
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default();
    /// decoder.feed(b"id: 3\ndata: a\n\ndata: half");
    /// assert!(decoder.next_frame()?.is_some());
    /// decoder.reset(); // reconnect: the half event is gone, the id stays
    /// assert_eq!(decoder.last_event_id(), Some("3"));
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn reset(&mut self) {
        self.buf = Bytes::new();
        self.next = None;
        self.pos = 0;
        self.scanned = 0;
        self.started = false;
        self.skip_lf = false;
        self.pending = Pending::default();
        self.failed = None;
    }

    /// The last event ID string: the value of the last `id` field (without
    /// NUL) of a dispatched event, persisting across events. `None` if no
    /// event has set one; `Some("")` after an explicit empty `id`. This is
    /// the value to send as `Last-Event-ID` when reconnecting.
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default();
    /// decoder.feed(b"id: 41\n\n"); // an event without data still sets the id
    /// assert_eq!(decoder.next_frame()?, None);
    /// assert_eq!(decoder.last_event_id(), Some("41"));
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The reconnection time most recently set by a valid `retry` field.
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// let mut decoder = Decoder::default();
    /// decoder.feed(b"retry: 2500\n");
    /// assert_eq!(decoder.next_frame()?, None); // applied as soon as the line is read
    /// assert_eq!(decoder.retry(), Some(std::time::Duration::from_millis(2500)));
    /// # Ok::<(), acp_client_ext::sse::SseError>(())
    /// ```
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The size limit given to [`new`](Self::new).
    ///
    /// ```
    /// use acp_client_ext::sse::Decoder;
    /// assert_eq!(Decoder::new(1024).max_event_size(), 1024);
    /// ```
    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    #[cold]
    fn fail(&mut self) -> SseError {
        let err = SseError::EventTooLarge {
            limit: self.max_event_size,
        };
        self.failed = Some(err.clone());
        self.buf = Bytes::new();
        self.next = None;
        self.pos = 0;
        self.scanned = 0;
        self.pending = Pending::default();
        err
    }

    fn decode(&mut self, eof: bool) -> Result<Option<Frame>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if !self.started {
            let n = self.buf.len().min(BOM.len());
            if self.buf[..n] == BOM[..n] {
                if n < BOM.len() && !eof {
                    return Ok(None); // maybe a BOM, wait for more
                }
                if n == BOM.len() {
                    self.pos = n;
                    self.scanned = n;
                }
            }
            self.started = true;
        }
        loop {
            if self.skip_lf {
                let Some(&b) = self.buf.get(self.pos) else {
                    if self.go_on_in_next() {
                        continue;
                    }
                    return Ok(self.need_input());
                };
                if b == b'\n' {
                    self.pos += 1;
                    self.scanned = self.pos;
                }
                self.skip_lf = false;
            }
            let Some(end) = find_eol(&self.buf, self.scanned) else {
                if self.go_on_in_next() {
                    continue;
                }
                // An unterminated line: check the limit, wait for more input.
                self.scanned = self.buf.len();
                let len = self.buf.len() - self.pos;
                if len > 0 {
                    let comment = self.buf[self.pos] == b':';
                    if len > self.max_event_size
                        || (!comment && self.pending.size + len > self.max_event_size)
                    {
                        return Err(self.fail());
                    }
                }
                return Ok(self.need_input());
            };
            let start = self.pos;
            let len = end - start;
            // Length of the line end: `\r\n`, `\n` or `\r` (if `\r` ends the
            // buffered input, a `\n` may still follow in the next chunk).
            let eol = if self.buf[end] == b'\r' {
                match self.buf.get(end + 1) {
                    Some(b'\n') => 2,
                    Some(_) => 1,
                    None => {
                        self.skip_lf = true;
                        1
                    }
                }
            } else {
                1
            };
            self.pos = end + eol;
            self.scanned = self.pos;
            if len == 0 {
                if let Some(frame) = self.dispatch()? {
                    return Ok(Some(frame));
                }
                continue;
            }
            if self.buf[start] == b':' {
                // Comment (keep-alive).
                if len > self.max_event_size {
                    return Err(self.fail());
                }
                continue;
            }
            self.pending.size += len;
            if self.pending.size > self.max_event_size {
                return Err(self.fail());
            }
            self.field(start, end);
        }
    }

    /// At the end of `buf`: go on with the rest of the chunk that finished its last line, if
    /// there is one (`true`).
    fn go_on_in_next(&mut self) -> bool {
        let Some(next) = self.next.take() else {
            return false;
        };
        self.own_pending();
        if self.pos < self.buf.len() {
            // Not so (`buf` ends with a line end): keep the bytes in between.
            self.buf.advance(self.pos);
            self.append(&next);
        } else {
            self.buf = next;
        }
        self.pos = 0;
        self.scanned = 0;
        true
    }

    /// Drops the consumed input before waiting for more.
    fn need_input(&mut self) -> Option<Frame> {
        self.own_pending();
        self.buf.advance(self.pos);
        self.scanned -= self.pos;
        self.pos = 0;
        // Let go of the chunk before the body reads the next one: all of it when it is used
        // up, else all but a copy of its unfinished line. The body's read buffer is then its
        // reader's alone again and reused in place; holding on to the chunk made hyper
        // allocate a fresh buffer for every read (page faults, measured: as costly as the
        // copy of each chunk this decoder no longer makes).
        if self.buf.is_empty() {
            self.buf = Bytes::new();
        } else if !self.buf.is_unique() {
            let mut own = BytesMut::with_capacity(2 * self.buf.len());
            own.extend_from_slice(&self.buf);
            self.buf = own.freeze();
        }
        None
    }

    /// Processes the field line `buf[start..end]` (already consumed).
    fn field(&mut self, start: usize, end: usize) {
        let line = &self.buf[start..end];
        let (field, name_len) = match line[0] {
            b'd' if line.starts_with(b"data") => (Field::Data, 4),
            b'e' if line.starts_with(b"event") => (Field::Event, 5),
            b'i' if line.starts_with(b"id") => (Field::Id, 2),
            b'r' if line.starts_with(b"retry") => (Field::Retry, 5),
            _ => return, // an unknown field
        };
        let value_start = match line.get(name_len) {
            None => line.len(), // no colon: empty value
            Some(b':') if line.get(name_len + 1) == Some(&b' ') => name_len + 2,
            Some(b':') => name_len + 1,
            Some(_) => return, // a longer name such as `database`
        };
        let value = &line[value_start..];
        match field {
            Field::Data => {
                if self.check_data && !is_utf8(value) {
                    self.pending.invalid.get_or_insert("data");
                }
                match &mut self.pending.data {
                    Data::None => {
                        // Zero-copy, and the slice is only taken at dispatch.
                        self.pending.data = Data::At(start + value_start, end);
                    }
                    Data::At(from, to) => {
                        let first = &self.buf[*from..*to];
                        let mut joined = BytesMut::with_capacity(first.len() + 1 + value.len());
                        joined.extend_from_slice(first);
                        joined.put_u8(b'\n');
                        joined.extend_from_slice(value);
                        self.pending.data = Data::Many(joined);
                    }
                    Data::One(first) => {
                        let mut joined = BytesMut::with_capacity(first.len() + 1 + value.len());
                        joined.extend_from_slice(first);
                        joined.put_u8(b'\n');
                        joined.extend_from_slice(value);
                        self.pending.data = Data::Many(joined);
                    }
                    Data::Many(joined) => {
                        joined.put_u8(b'\n');
                        joined.extend_from_slice(value);
                    }
                }
            }
            Field::Event => {
                if value.is_empty() {
                    self.pending.event = Value::None;
                } else if is_utf8(value) {
                    self.pending.event = Value::At(start + value_start, end);
                } else {
                    self.pending.invalid.get_or_insert("event");
                }
            }
            Field::Id => {
                if value.contains(&0) {
                    // Ignored entirely.
                } else if is_utf8(value) {
                    self.pending.id = Value::At(start + value_start, end);
                } else {
                    self.pending.invalid.get_or_insert("id");
                }
            }
            Field::Retry => {
                if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                    let ms = value.iter().fold(0u64, |ms, &digit| {
                        ms.saturating_mul(10)
                            .saturating_add(u64::from(digit - b'0'))
                    });
                    let retry = Duration::from_millis(ms);
                    self.pending.retry = Some(retry);
                    self.retry = Some(retry);
                }
            }
        }
    }

    /// Detaches the values of the pending event from the consumed input,
    /// which is about to be dropped (an event split across chunks; rare with
    /// chunks larger than events).
    #[cold]
    fn own_pending(&mut self) {
        for value in [&mut self.pending.event, &mut self.pending.id] {
            if let Value::At(from, to) = *value {
                // Copied, not split off: a split would move the other ranges.
                let bytes = &self.buf[from..to];
                let owned = FieldStr::inline(bytes)
                    .unwrap_or_else(|| FieldStr(Repr::Shared(Bytes::copy_from_slice(bytes))));
                *value = Value::Owned(owned);
            }
        }
        if let Data::At(from, to) = self.pending.data {
            self.pending.data = Data::One(self.split_value(from, to));
        }
    }

    /// The value `buf[from..to]` of a consumed line, checked as UTF-8, copied
    /// inline (it must fit).
    #[inline(always)]
    fn inline_str(&self, from: usize, to: usize) -> FieldStr {
        const RAW: usize = FieldStr::INLINE_CAPACITY + 1;
        // A copy of fixed size is much cheaper than one of `len` bytes: take
        // the bytes after the value too when the buffer has them.
        match self.buf.get(from..).and_then(<[u8]>::first_chunk::<RAW>) {
            Some(head) => FieldStr(Repr::Inline(inline_raw(head, to - from))),
            None => FieldStr::inline(&self.buf[from..to]).unwrap_or_default(),
        }
    }

    /// A value of the dispatched event: inline, or shared with `head`, the
    /// consumed input split off the buffer.
    #[inline(always)]
    fn value(&self, value: Value, head: Option<&Bytes>) -> Option<FieldStr> {
        match (value, head) {
            (Value::None, _) => None,
            (Value::At(from, to), None) => Some(self.inline_str(from, to)),
            (Value::At(from, to), Some(head)) => Some(
                FieldStr::inline(&head[from..to])
                    .unwrap_or_else(|| FieldStr(Repr::Shared(head.slice(from..to)))),
            ),
            (Value::Owned(s), _) => Some(s),
        }
    }

    /// Splits the value `buf[from..to]` of a consumed line off the input
    /// buffer, without copying it.
    #[inline(always)]
    fn split_value(&mut self, from: usize, to: usize) -> Bytes {
        // The input advanced first, then split: the value is moved as the split built it. (Split
        // and then advanced, its fields were stored one by one and loaded whole right after: a
        // store-forwarding stall, ~9% of the decoder's samples on ~150 B events.)
        self.buf.advance(from);
        let value = self.buf.split_to(to - from);
        self.pos -= to;
        self.scanned -= to;
        value
    }

    /// The blank line: dispatches the pending event, if it has data.
    #[inline(always)]
    fn dispatch(&mut self) -> Result<Option<Frame>, SseError> {
        let pending = &mut self.pending;
        pending.size = 0;
        let retry = pending.retry.take();
        let invalid = pending.invalid.take();
        let event = std::mem::take(&mut pending.event);
        let id = std::mem::take(&mut pending.id);
        let data = std::mem::take(&mut pending.data);
        // Values to share with the input (rare: long ids) get one slice of the
        // consumed input, shared by all.
        let head = (event.is_long_range() || id.is_long_range()).then(|| {
            let head = self.buf.split_to(self.pos);
            self.scanned -= self.pos;
            self.pos = 0;
            head
        });
        // An inline id is built again from the input rather than cloned from
        // `id`: the clone would read the value back right after its stores (a
        // store-forwarding stall, measured as ~10 % of a small event).
        let id_inline = match (&id, &head) {
            (&Value::At(from, to), None) => {
                self.last_event_id = Some(self.inline_str(from, to));
                true
            }
            _ => false,
        };
        let (event, id) = (
            self.value(event, head.as_ref()),
            self.value(id, head.as_ref()),
        );
        if let Some(id) = &id
            && !id_inline
        {
            self.last_event_id = Some(id.clone());
        }
        if let Some(field) = invalid {
            return Err(SseError::InvalidUtf8 { field });
        }
        let data = match data {
            Data::None => return Ok(None),
            Data::At(from, to) => match head {
                Some(head) => head.slice(from..to),
                // Zero-copy: split the value off the input buffer.
                None => self.split_value(from, to),
            },
            Data::One(data) => data,
            Data::Many(data) => data.freeze(),
        };
        Ok(Some(Frame {
            event,
            data,
            id,
            retry,
        }))
    }
}

/// The index of the first `\r` or `\n` in `buf[from..]`. Lines of field
/// names and short values are common: their ends are searched eight bytes at
/// a time inline before calling `memchr2`.
#[inline]
fn find_eol(buf: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    const CR: u64 = u64::from_ne_bytes([b'\r'; 8]);
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let rest = buf.get(from..)?;
    let (words, _) = rest.as_chunks::<8>();
    for (i, word) in words.iter().take(SWAR_WORDS).enumerate() {
        // Bytes of `w` that are 0 get their high bit set in the lowest
        // position of `zero(w)` (higher ones may be false positives).
        let zero = |w: u64| w.wrapping_sub(LO) & !w & HI;
        let word = u64::from_le_bytes(*word);
        let found = zero(word ^ CR) | zero(word ^ LF);
        if found != 0 {
            return Some(from + i * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let skip = words.len().min(SWAR_WORDS) * 8;
    memchr::memchr2(b'\r', b'\n', &rest[skip..]).map(|i| from + skip + i)
}

/// UTF-8 validation with a fast path for ASCII, the common case of JSON.
fn is_utf8(bytes: &[u8]) -> bool {
    is_ascii(bytes) || std::str::from_utf8(bytes).is_ok()
}

/// Branch-free ASCII check, eight bytes at a time (the compiler vectorizes
/// it); faster than `<[u8]>::is_ascii` on lines of up to a few KiB.
fn is_ascii(bytes: &[u8]) -> bool {
    let (words, tail) = bytes.as_chunks::<8>();
    let high_bits = words
        .iter()
        .fold(0u64, |acc, word| acc | u64::from_ne_bytes(*word));
    let high_bits = tail
        .iter()
        .fold(high_bits, |acc, &byte| acc | u64::from(byte));
    high_bits & 0x8080_8080_8080_8080 == 0
}

#[cfg(test)]
mod tests;
