//! Typed run events: one server-sent event of a run stream, decoded by its discriminator.
//!
//! An ACP run stream sends `event: agent_event` frames whose `data` is a JSON object with a
//! `type` field: `"values"` ([`ValuesUpdate`]) or `"custom"` ([`CustomUpdate`]), and since ACP
//! 0.2.2 `"interrupt"` ([`InterruptUpdate`], the spec's `ValueRunInterruptUpdate`) or `"error"`
//! ([`ErrorUpdate`], `ValueRunErrorUpdate`). All four are decoded by their `type` whatever the
//! spec version the crate is built from (0.2.1 has no interrupt or error events). Decoding reads
//! the `type` first, with a small scan of the top-level object that stops at the `type` key (it
//! never builds a tree), then deserializes the payload once, straight into that variant: the
//! run id and status are read, the run's data (`values`, `update`) is only checked to be JSON
//! and kept as its bytes ([`RawValue`]) until the caller decodes it into a type of its own.
//!
//! Anything else is kept, not refused, so that an older client keeps working against a newer
//! server: a frame with another `event:` name, or a payload whose `type` is unknown or missing,
//! becomes [`RunEvent::Other`] with the raw bytes. A `values` or `custom` payload whose body
//! does not match (or that is not JSON at all) is an [`Error::Decode`] carrying an excerpt of
//! the raw data; an `interrupt` or `error` payload that does not fit the spec's schema (a server
//! older than 0.2.2 writing its own error events, say) is kept as [`RunEvent::Other`], as
//! before these events were decoded.

use crate::decode::decode_raw;
use crate::error::{Error, Result};
use crate::json_scan::{Scan, top_level_bytes, top_level_str};
use crate::sse::{FieldStr, Frame};
use acp_client::types::RunStatus;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use uuid::Uuid;

/// The SSE event name ACP servers use for run updates.
///
/// ```
/// use acp_client_ext::{RunEvent, event::AGENT_EVENT};
/// // A payload of unknown type is kept, under the event name it arrived with.
/// let RunEvent::Other(raw) = RunEvent::parse(br#"{"type":"new"}"#)? else { unreachable!() };
/// assert_eq!(raw.event_type(), AGENT_EVENT);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
pub const AGENT_EVENT: &str = "agent_event";

/// One event of a run stream.
///
/// New variants may be added (the enum is `#[non_exhaustive]`); events this version does not
/// know arrive as [`RunEvent::Other`]. The run's data (`values`, a custom `update`) is kept as
/// the JSON it arrived as and decoded when asked, into your own type
/// ([`ValuesUpdate::values_as`], [`CustomUpdate::update_as`]): no tree is built for it, and no
/// generated wrapper whose shape changes between spec versions stands between you and it.
///
/// ```
/// use acp_client_ext::{RunEvent, RunStatus};
/// #[derive(serde::Deserialize)]
/// struct Progress { i: u32 }
///
/// let ev = RunEvent::parse(br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"pending","values":{"i":0}}"#)?;
/// match &ev {
///     RunEvent::Values(update) => assert_eq!(update.values_as::<Progress>()?.i, 0),
///     other => panic!("unexpected {other:?}"),
/// }
/// assert_eq!(ev.status(), Some(RunStatus::Pending));
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RunEvent {
    /// A `values` update: the run's current output values (and messages).
    Values(ValuesUpdate),
    /// A `custom` update: an agent-specific payload.
    Custom(CustomUpdate),
    /// An `interrupt` update (ACP 0.2.2 on): the run stopped and asks a question.
    Interrupt(InterruptUpdate),
    /// An `error` update (ACP 0.2.2 on): the run failed.
    Error(ErrorUpdate),
    /// Any other event: another SSE event name, or a payload `type` this version does not know.
    Other(RawEvent),
}

/// A `values` update of a run stream (the spec's `ValueRunResultUpdate`), with the values kept
/// as received.
///
/// ```
/// use acp_client_ext::RunEvent;
/// let RunEvent::Values(update) = RunEvent::parse(
///     br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"success","values":{"count":3}}"#,
/// )? else { unreachable!() };
/// assert_eq!(update.values().get(), r#"{"count":3}"#);
/// assert_eq!(update.values_json()?["count"], 3);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[non_exhaustive]
pub struct ValuesUpdate {
    /// The run.
    #[serde(deserialize_with = "run_id")]
    pub run_id: Uuid,
    /// The run's status when the update was sent.
    pub status: RunStatus,
    /// The values (what the agent's `specs.output` describes), as received.
    pub values: Box<RawValue>,
    /// The messages, as received, if the update has them.
    #[serde(default)]
    pub messages: Option<Box<RawValue>>,
}

impl ValuesUpdate {
    /// The values as received (untyped view; `.get()` is the JSON text).
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Values(u) = RunEvent::parse(br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"pending","values":[1]}"#)? else { unreachable!() };
    /// assert_eq!(u.values().get(), "[1]");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn values(&self) -> &RawValue {
        &self.values
    }

    /// The values decoded into `T` (your own `Deserialize` type, or one generated from the
    /// agent's descriptor with `acp agent-types`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `T` when the values do not fit it.
    ///
    /// ```
    /// # use acp_client_ext::{Error, RunEvent};
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Progress { i: u32 }
    /// let RunEvent::Values(u) = RunEvent::parse(br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"pending","values":{"i":"x"}}"#)? else { unreachable!() };
    /// let Err(Error::Decode { what, .. }) = u.values_as::<Progress>() else { panic!() };
    /// assert!(what.contains("Progress"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn values_as<T: DeserializeOwned>(&self) -> Result<T> {
        decode_raw::<T>(&self.values, || format!("values of run {}", self.run_id))
    }

    /// The values as a [`serde_json::Value`] (builds the tree; prefer
    /// [`values_as`](Self::values_as) with a type of your own).
    ///
    /// # Errors
    ///
    /// Never in practice: the values were checked to be JSON when the event was decoded.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Values(u) = RunEvent::parse(br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"pending","values":{"n":1}}"#)? else { unreachable!() };
    /// assert_eq!(u.values_json()?, serde_json::json!({"n": 1}));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn values_json(&self) -> Result<serde_json::Value> {
        self.values_as()
    }

    /// The messages decoded into `T` (for example `Vec<acp_client_ext::types::Message>`), or
    /// `None` when the update has none.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `T` when the messages do not fit it.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Values(u) = RunEvent::parse(br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"pending","values":{},"messages":[{"role":"ai","content":"hi"}]}"#)? else { unreachable!() };
    /// let messages: Option<Vec<serde_json::Value>> = u.messages_as()?;
    /// assert_eq!(messages.map(|m| m.len()), Some(1));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn messages_as<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        self.messages
            .as_deref()
            .map(|m| decode_raw::<T>(m, || format!("messages of run {}", self.run_id)))
            .transpose()
    }
}

/// A `custom` update of a run stream (the spec's `CustomRunResultUpdate`), with the update
/// kept as received.
///
/// ```
/// use acp_client_ext::RunEvent;
/// #[derive(serde::Deserialize)]
/// struct Tick { i: u32 }
/// let RunEvent::Custom(c) = RunEvent::parse(br#"{"type":"custom","status":"pending","update":{"i":2}}"#)? else { unreachable!() };
/// assert_eq!(c.update_as::<Tick>()?.i, 2);
/// assert_eq!(c.update().get(), r#"{"i":2}"#);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[non_exhaustive]
pub struct CustomUpdate {
    /// The run, if the server says.
    #[serde(default)]
    pub run_id: Option<Uuid>,
    /// The run's status when the update was sent.
    pub status: RunStatus,
    /// The update (what the agent's `specs.custom_streaming_update` describes), as received.
    pub update: Box<RawValue>,
}

impl CustomUpdate {
    /// The update as received (untyped view).
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Custom(c) = RunEvent::parse(br#"{"type":"custom","status":"pending","update":"tick"}"#)? else { unreachable!() };
    /// assert_eq!(c.update().get(), r#""tick""#);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn update(&self) -> &RawValue {
        &self.update
    }

    /// The update decoded into `T`.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `T` when the update does not fit it.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Custom(c) = RunEvent::parse(br#"{"type":"custom","status":"pending","update":{"i":1}}"#)? else { unreachable!() };
    /// assert!(c.update_as::<Vec<u8>>().is_err());
    /// assert_eq!(c.update_as::<serde_json::Value>()?["i"], 1);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn update_as<T: DeserializeOwned>(&self) -> Result<T> {
        decode_raw::<T>(&self.update, || match self.run_id {
            Some(r) => format!("custom update of run {r}"),
            None => "custom update".to_string(),
        })
    }
}

/// An `interrupt` update of a run stream (the spec's `ValueRunInterruptUpdate`, ACP 0.2.2 on),
/// with the interrupt payload kept as received.
///
/// ```
/// use acp_client_ext::RunEvent;
/// #[derive(serde::Deserialize)]
/// struct Question { question: String }
/// let RunEvent::Interrupt(i) = RunEvent::parse(
///     br#"{"type":"interrupt","status":"interrupted","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","interrupt":{"question":"go on?"}}"#,
/// )? else { unreachable!() };
/// assert_eq!(i.interrupt_as::<Question>()?.question, "go on?");
/// assert!(i.status.is_settled());
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[non_exhaustive]
pub struct InterruptUpdate {
    /// The run.
    #[serde(deserialize_with = "run_id")]
    pub run_id: Uuid,
    /// The run's status when the update was sent (`interrupted`).
    pub status: RunStatus,
    /// What the agent asks (what the agent's `specs.interrupts` describe), as received.
    pub interrupt: Box<RawValue>,
}

impl InterruptUpdate {
    /// The interrupt payload as received (untyped view; `.get()` is the JSON text).
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Interrupt(i) = RunEvent::parse(br#"{"type":"interrupt","status":"interrupted","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","interrupt":{"q":1}}"#)? else { unreachable!() };
    /// assert_eq!(i.interrupt().get(), r#"{"q":1}"#);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn interrupt(&self) -> &RawValue {
        &self.interrupt
    }

    /// The interrupt payload decoded into `T` (e.g. the agent's generated
    /// `...InterruptPayload` type).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `T` when the payload does not fit it.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Interrupt(i) = RunEvent::parse(br#"{"type":"interrupt","status":"interrupted","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","interrupt":{"q":1}}"#)? else { unreachable!() };
    /// assert!(i.interrupt_as::<String>().is_err());
    /// assert_eq!(i.interrupt_as::<serde_json::Value>()?["q"], 1);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn interrupt_as<T: DeserializeOwned>(&self) -> Result<T> {
        decode_raw::<T>(&self.interrupt, || {
            format!("interrupt payload of run {}", self.run_id)
        })
    }
}

/// An `error` update of a run stream (the spec's `ValueRunErrorUpdate`, ACP 0.2.2 on).
///
/// ```
/// use acp_client_ext::{RunEvent, RunStatus};
/// let RunEvent::Error(e) = RunEvent::parse(
///     br#"{"type":"error","status":"error","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","errcode":500,"description":"resume not possible"}"#,
/// )? else { unreachable!() };
/// assert_eq!((e.errcode(), e.description()), (500, "resume not possible"));
/// assert_eq!(e.status, RunStatus::Error);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[non_exhaustive]
pub struct ErrorUpdate {
    /// The run.
    #[serde(deserialize_with = "run_id")]
    pub run_id: Uuid,
    /// The run's status when the update was sent (`error`).
    pub status: RunStatus,
    /// The error's code, as the server chose it.
    pub errcode: i64,
    /// What went wrong, in the server's words.
    pub description: String,
}

impl ErrorUpdate {
    /// The error's code.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Error(e) = RunEvent::parse(br#"{"type":"error","status":"error","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","errcode":7,"description":"x"}"#)? else { unreachable!() };
    /// assert_eq!(e.errcode(), 7);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn errcode(&self) -> i64 {
        self.errcode
    }

    /// What went wrong.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Error(e) = RunEvent::parse(br#"{"type":"error","status":"error","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","errcode":7,"description":"boom"}"#)? else { unreachable!() };
    /// assert_eq!(e.description(), "boom");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// An event kept as received, for events this version does not decode.
///
/// ```
/// use acp_client_ext::RunEvent;
/// let ev = RunEvent::parse(br#"{"type":"handoff","status":"pending","to":{}}"#)?;
/// let RunEvent::Other(raw) = &ev else { panic!("expected Other") };
/// assert_eq!(raw.payload_type(), Some("handoff"));
/// assert_eq!(raw.json::<serde_json::Value>()?["to"], serde_json::json!({}));
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawEvent {
    /// The SSE `event` field; `None` for the default type (`message`).
    pub event: Option<String>,
    /// The SSE `id` field, if the event had one.
    pub id: Option<String>,
    /// The `data` lines, joined with `\n`. Not validated as JSON.
    pub data: Bytes,
}

impl RawEvent {
    /// The SSE event type: the `event` field, or `"message"`.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Other(raw) = RunEvent::parse(b"{}")? else { unreachable!() };
    /// assert_eq!(raw.event_type(), "agent_event");
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// The data as text (empty if it is not UTF-8, which frames from this crate's decoder never
    /// are).
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Other(raw) = RunEvent::parse(br#"{"type":"x"}"#)? else { unreachable!() };
    /// assert_eq!(raw.data_str(), r#"{"type":"x"}"#);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn data_str(&self) -> &str {
        std::str::from_utf8(&self.data).unwrap_or_default()
    }

    /// The top-level string `type` of a JSON object payload, if it has one.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Other(raw) = RunEvent::parse(br#"{"type":"handoff","to":1}"#)? else { unreachable!() };
    /// assert_eq!(raw.payload_type(), Some("handoff"));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn payload_type(&self) -> Option<&str> {
        top_level_str(&self.data, b"type").found()
    }

    /// Decode the data as JSON into `T`; the error carries an excerpt of the data.
    ///
    /// ```
    /// # use acp_client_ext::RunEvent;
    /// let RunEvent::Other(raw) = RunEvent::parse(br#"{"type":"handoff","to":1}"#)? else { unreachable!() };
    /// let v: serde_json::Value = raw.json()?;
    /// assert_eq!(v["to"], 1);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.data)
            .map_err(|e| Error::decode(format!("{} event", self.event_type()), e, &self.data))
    }
}

impl RunEvent {
    /// Decode one frame of a run stream (see the [module docs](self) for the rules).
    ///
    /// ```
    /// use acp_client_ext::{RunEvent, sse::Frame};
    /// let frame = Frame {
    ///     event: Some("agent_event".into()),
    ///     data: r#"{"type":"custom","status":"pending","update":{"i":1}}"#.into(),
    ///     id: Some("4".into()),
    ///     retry: None,
    /// };
    /// let RunEvent::Custom(update) = RunEvent::from_frame(frame)? else { panic!() };
    /// assert_eq!(update.update_as::<serde_json::Value>()?["i"], 1);
    ///
    /// let other = Frame { event: Some("metadata".into()), data: "{}".into(), id: None, retry: None };
    /// assert!(matches!(RunEvent::from_frame(other)?, RunEvent::Other(_)));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the payload's `type` is `values` or `custom` but the body does not
    /// match that type, or when an `agent_event` (or unnamed) frame's data is not JSON (or not
    /// UTF-8, which a frame from [`sse::Decoder`](crate::sse::Decoder) always is).
    pub fn from_frame(frame: Frame) -> Result<RunEvent> {
        let typed = match std::str::from_utf8(&frame.data) {
            Ok(text) => typed_payload(&frame, text)?,
            Err(e) if carries_run_events(&frame) => {
                return Err(Error::decode(
                    what(frame.id.as_ref(), "run event"),
                    e,
                    &frame.data,
                ));
            }
            Err(_) => None,
        };
        // The rare path: the strings are copied here only.
        Ok(typed.unwrap_or_else(|| {
            RunEvent::Other(RawEvent {
                event: frame.event.map(String::from),
                id: frame.id.map(String::from),
                data: frame.data,
            })
        }))
    }

    /// Decode the data of one `agent_event` (the JSON payload alone).
    ///
    /// ```
    /// use acp_client_ext::{Error, RunEvent};
    /// // A known type whose body does not match is a decode error with an excerpt.
    /// let err = RunEvent::parse(br#"{"type":"values","status":"pending"}"#).unwrap_err();
    /// assert!(matches!(err, Error::Decode { ref excerpt, .. } if excerpt.contains("values")));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`from_frame`](Self::from_frame).
    pub fn parse(data: &[u8]) -> Result<RunEvent> {
        let text = std::str::from_utf8(data).map_err(|e| Error::decode("run event", e, data))?;
        match decode_typed(text, None)? {
            Some(ev) => Ok(ev),
            None => Ok(RunEvent::Other(RawEvent {
                event: Some(AGENT_EVENT.to_string()),
                id: None,
                data: Bytes::copy_from_slice(data),
            })),
        }
    }

    /// The run's status carried by the event, read leniently. For [`RunEvent::Other`], the
    /// top-level string `status` of the payload, if any.
    ///
    /// ```
    /// use acp_client_ext::{RunEvent, RunStatus};
    /// let ev = RunEvent::parse(br#"{"type":"interrupt","status":"interrupted"}"#)?;
    /// assert_eq!(ev.status(), Some(RunStatus::Interrupted));
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn status(&self) -> Option<RunStatus> {
        match self {
            RunEvent::Values(v) => Some(v.status.clone()),
            RunEvent::Custom(c) => Some(c.status.clone()),
            RunEvent::Interrupt(i) => Some(i.status.clone()),
            RunEvent::Error(e) => Some(e.status.clone()),
            RunEvent::Other(raw) => top_level_str(&raw.data, b"status")
                .found()
                .map(RunStatus::parse),
        }
    }

    /// The run the event belongs to, if it says. For [`RunEvent::Other`], the top-level
    /// `run_id` of the payload, if it is a UUID.
    ///
    /// ```
    /// use acp_client_ext::RunEvent;
    /// let ev = RunEvent::parse(br#"{"type":"custom","status":"pending","update":{}}"#)?;
    /// assert_eq!(ev.run_id(), None); // optional for custom updates
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run_id(&self) -> Option<Uuid> {
        match self {
            RunEvent::Values(v) => Some(v.run_id),
            RunEvent::Custom(c) => c.run_id,
            RunEvent::Interrupt(i) => Some(i.run_id),
            RunEvent::Error(e) => Some(e.run_id),
            RunEvent::Other(raw) => top_level_str(&raw.data, b"run_id")
                .found()
                .and_then(|s| Uuid::parse_str(s).ok()),
        }
    }

    /// Whether the event carries a status after which the run makes no progress on its own
    /// (success, error, timeout or interrupted); see [`RunStatus::is_settled`].
    ///
    /// ```
    /// use acp_client_ext::RunEvent;
    /// let ev = RunEvent::parse(br#"{"type":"custom","status":"success","update":{}}"#)?;
    /// assert!(ev.is_final());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn is_final(&self) -> bool {
        self.status().is_some_and(|s| s.is_settled())
    }
}

/// An event of a [`RunStream`](crate::RunStream) read with
/// [`values_into::<T>()`](crate::RunStream::values_into): a `values` update decoded straight
/// into `T`, or any other event as a [`RunEvent`].
///
/// The payload of a `values` update is parsed once, into [`TypedValues<T>`]: the envelope's
/// run id and status and the values themselves in one pass of `serde_json`, without keeping the
/// values as JSON first ([`RunEvent::Values`] keeps them as a [`RawValue`], which
/// [`ValuesUpdate::values_as`] then parses a second time).
///
/// ```
/// use acp_client_ext::event::TypedEvent;
/// use acp_client_ext::{RunStatus, sse::Frame};
/// #[derive(Debug, serde::Deserialize)]
/// struct Progress { i: u32 }
///
/// let frame = Frame {
///     event: Some("agent_event".into()),
///     data: r#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"pending","values":{"i":4}}"#.into(),
///     id: Some("1".into()),
///     retry: None,
/// };
/// let TypedEvent::Values(update) = TypedEvent::<Progress>::from_frame(frame)? else { panic!() };
/// assert_eq!((update.values.i, update.status), (4, RunStatus::Pending));
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TypedEvent<T> {
    /// A `values` update, its values decoded into `T`.
    Values(TypedValues<T>),
    /// Any other event (`custom`, `interrupt`, `error`, other names and types), as
    /// [`RunStream`](crate::RunStream) yields it.
    Other(RunEvent),
}

/// A `values` update (the spec's `ValueRunResultUpdate`) with its values decoded into `T`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
#[non_exhaustive]
pub struct TypedValues<T> {
    /// The run.
    #[serde(deserialize_with = "run_id")]
    pub run_id: Uuid,
    /// The run's status when the update was sent.
    pub status: RunStatus,
    /// The values, decoded into `T`.
    pub values: T,
    /// The messages, as received, if the update has them.
    #[serde(default)]
    pub messages: Option<Box<RawValue>>,
}

impl<T: DeserializeOwned> TypedEvent<T> {
    /// Decode one frame of a run stream: a `values` update straight into `T` (one parse of
    /// the payload), anything else as [`RunEvent::from_frame`] does.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `T` when the values do not fit it, and the errors of
    /// [`RunEvent::from_frame`].
    pub fn from_frame(frame: Frame) -> Result<Self> {
        match std::str::from_utf8(&frame.data) {
            Ok(text) => Self::decode(&frame, text).0,
            // Not UTF-8: as `RunEvent::from_frame` has it (an error, or kept raw).
            Err(_) => RunEvent::from_frame(frame).map(TypedEvent::Other),
        }
    }

    /// An event decoded as a [`RunEvent`] already: its values decoded into `T` (a second
    /// parse of them).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `T` when the values do not fit it.
    ///
    /// ```
    /// use acp_client_ext::{RunEvent, event::TypedEvent};
    /// let ev = RunEvent::parse(br#"{"type":"values","run_id":"2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11","status":"success","values":[1,2]}"#)?;
    /// let TypedEvent::Values(v) = TypedEvent::<Vec<u8>>::from_event(ev)? else { panic!() };
    /// assert_eq!(v.values, [1, 2]);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn from_event(event: RunEvent) -> Result<Self> {
        Ok(match event {
            RunEvent::Values(v) => TypedEvent::Values(TypedValues {
                values: v.values_as()?,
                run_id: v.run_id,
                status: v.status,
                messages: v.messages,
            }),
            other => TypedEvent::Other(other),
        })
    }

    /// The item, and the event as far as the stream's bookkeeping needs it even when the item
    /// is an error (values that do not fit `T` still say the run's status).
    /// `text` is the frame's data, checked as UTF-8: serde reads it as a `str` and checks none
    /// of its strings again.
    pub(crate) fn decode(frame: &Frame, text: &str) -> (Result<Self>, Meta) {
        if carries_run_events(frame)
            && top_level_bytes(text.as_bytes(), b"type") == Scan::Found(&b"values"[..])
        {
            match serde_json::from_str::<TypedValues<T>>(text) {
                Ok(v) => {
                    let meta = Meta {
                        status: Some(v.status.clone()),
                        run_id: Some(v.run_id),
                        interrupt: None,
                    };
                    return (Ok(TypedEvent::Values(v)), meta);
                }
                Err(e) => {
                    // Rare: decoded again as a `RunEvent`, for what the stream must know.
                    let what = match frame.id.as_deref() {
                        Some(id) => {
                            format!("values event (id {id}) as {}", std::any::type_name::<T>())
                        }
                        None => format!("values event as {}", std::any::type_name::<T>()),
                    };
                    let error = Error::decode(what, e, text.as_bytes());
                    let (event, meta) = RunEvent::decode(frame, text);
                    return (event.and(Err(error)), meta);
                }
            }
        }
        let (event, meta) = RunEvent::decode(frame, text);
        (event.map(TypedEvent::Other), meta)
    }
}

impl<T> TypedEvent<T> {
    /// The run's status carried by the event (as [`RunEvent::status`]).
    ///
    /// ```
    /// use acp_client_ext::{RunEvent, RunStatus, event::TypedEvent};
    /// let ev = TypedEvent::<()>::Other(RunEvent::parse(br#"{"type":"custom","status":"error","update":{}}"#)?);
    /// assert_eq!(ev.status(), Some(RunStatus::Error));
    /// assert!(ev.is_final());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn status(&self) -> Option<RunStatus> {
        match self {
            TypedEvent::Values(v) => Some(v.status.clone()),
            TypedEvent::Other(e) => e.status(),
        }
    }

    /// The run the event belongs to, if it says (as [`RunEvent::run_id`]).
    ///
    /// ```
    /// use acp_client_ext::{RunEvent, event::TypedEvent};
    /// let ev = TypedEvent::<()>::Other(RunEvent::parse(br#"{"type":"custom","status":"error","update":{}}"#)?);
    /// assert_eq!(ev.run_id(), None);
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn run_id(&self) -> Option<Uuid> {
        match self {
            TypedEvent::Values(v) => Some(v.run_id),
            TypedEvent::Other(e) => e.run_id(),
        }
    }

    /// Whether the event carries a settled status (as [`RunEvent::is_final`]).
    ///
    /// ```
    /// use acp_client_ext::{RunEvent, event::TypedEvent};
    /// let ev = TypedEvent::<()>::Other(RunEvent::parse(br#"{"type":"custom","status":"pending","update":{}}"#)?);
    /// assert!(!ev.is_final());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn is_final(&self) -> bool {
        self.status().is_some_and(|s| s.is_settled())
    }
}

pub(crate) use meta::Meta;

mod meta {
    use super::{RunStatus, Uuid};

    /// What a run stream's bookkeeping reads from an event, also when the item yielded for it
    /// is an error. (Named in the sealed `StreamItem` trait, never outside this crate.)
    #[derive(Debug, Default)]
    pub struct Meta {
        pub(crate) status: Option<RunStatus>,
        pub(crate) run_id: Option<Uuid>,
        /// For an `interrupt` event, its payload (`None` if it could not be read).
        pub(crate) interrupt: Option<Option<serde_json::Value>>,
    }
}

impl RunEvent {
    /// [`from_frame`](Self::from_frame) of a frame whose data is `text` (checked as UTF-8), and
    /// what the stream's bookkeeping reads from the event (nothing when it is an error).
    pub(crate) fn decode(frame: &Frame, text: &str) -> (Result<RunEvent>, Meta) {
        let item = typed_payload(frame, text).map(|typed| {
            typed.unwrap_or_else(|| {
                RunEvent::Other(RawEvent {
                    event: frame.event.as_ref().map(|e| e.as_str().to_owned()),
                    id: frame.id.as_ref().map(|i| i.as_str().to_owned()),
                    data: frame.data.clone(),
                })
            })
        });
        let mut meta = Meta::default();
        if let Ok(event) = &item {
            meta.status = event.status();
            meta.run_id = event.run_id();
            if let RunEvent::Interrupt(update) = event {
                meta.interrupt = Some(serde_json::from_str(update.interrupt().get()).ok());
            }
        }
        (item, meta)
    }
}

/// Whether the frame's event name is one whose payload is a run event (`type`, `status`, ...):
/// [`AGENT_EVENT`], or none (the default, `message`). Compared as bytes: it is asked of every
/// event, and [`FieldStr::as_str`] checks its UTF-8 again.
fn carries_run_events(frame: &Frame) -> bool {
    match frame.event.as_ref().map(FieldStr::as_bytes) {
        None | Some(b"message") => true,
        Some(name) => name == AGENT_EVENT.as_bytes(),
    }
}

/// The typed event of a frame whose data is `text`: `None` for one to keep raw (an event name
/// other than [`AGENT_EVENT`] or the default, or a payload of unknown `type`).
fn typed_payload(frame: &Frame, text: &str) -> Result<Option<RunEvent>> {
    if carries_run_events(frame) {
        decode_typed(text, frame.id.as_ref())
    } else {
        Ok(None)
    }
}

/// Decode an `agent_event` payload: `Some` for a known `type`, `None` for anything to keep raw.
fn decode_typed(text: &str, id: Option<&FieldStr>) -> Result<Option<RunEvent>> {
    let data = text.as_bytes();
    let tag = match top_level_bytes(data, b"type") {
        Scan::Found(t) => Tag::of(t),
        Scan::Absent | Scan::NotString => Tag::Unknown,
        // Escapes, odd spacing or not JSON: let serde_json decide (rare, and small payloads).
        Scan::Unsure => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => v
                .get("type")
                .and_then(serde_json::Value::as_str)
                .map_or(Tag::Unknown, |t| Tag::of(t.as_bytes())),
            Err(e) => return Err(Error::decode(what(id, "run event"), e, data)),
        },
    };
    Ok(match tag {
        Tag::Values => Some(RunEvent::Values(
            serde_json::from_str(text)
                .map_err(|e| Error::decode(what(id, "values event"), e, data))?,
        )),
        Tag::Custom => Some(RunEvent::Custom(
            serde_json::from_str(text)
                .map_err(|e| Error::decode(what(id, "custom event"), e, data))?,
        )),
        // Not refused when they do not fit: kept raw, as before they were decoded.
        Tag::Interrupt => serde_json::from_str(text).ok().map(RunEvent::Interrupt),
        Tag::Error => serde_json::from_str(text).ok().map(RunEvent::Error),
        Tag::Unknown => None,
    })
}

fn what(id: Option<&FieldStr>, kind: &str) -> String {
    match id {
        Some(id) => format!("{kind} (id {id})"),
        None => kind.to_string(),
    }
}

enum Tag {
    Values,
    Custom,
    Interrupt,
    Error,
    Unknown,
}

impl Tag {
    fn of(t: &[u8]) -> Tag {
        match t {
            b"values" => Tag::Values,
            b"custom" => Tag::Custom,
            b"interrupt" => Tag::Interrupt,
            b"error" => Tag::Error,
            _ => Tag::Unknown,
        }
    }
}

/// An event's `run_id`, read from the string's bytes (`Uuid::try_parse_ascii`): JSON gives them
/// without a UTF-8 check (`serde_json`'s `deserialize_bytes`), which uuid's own `Deserialize`
/// (through `&str`) makes on every event. Other deserializers hand over a `str`; anything but a
/// string is an error, as before.
fn run_id<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Uuid, D::Error> {
    struct RunId;
    impl serde::de::Visitor<'_> for RunId {
        type Value = Uuid;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a UUID string")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> std::result::Result<Uuid, E> {
            Uuid::try_parse_ascii(v).map_err(E::custom)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Uuid, E> {
            Uuid::try_parse(v).map_err(E::custom)
        }
    }
    deserializer.deserialize_bytes(RunId)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

    fn frame(event: Option<&str>, data: &str) -> Frame {
        Frame {
            event: event.map(|e| e.to_owned().into()),
            data: Bytes::copy_from_slice(data.as_bytes()),
            id: Some("1".into()),
            retry: None,
        }
    }

    #[test]
    fn values_and_custom_are_typed() {
        let v = format!(
            r#"{{"run_id":"{RID}","status":"success","type":"values","values":{{"count":3}},"messages":[]}}"#
        );
        let ev = RunEvent::from_frame(frame(Some("agent_event"), &v)).unwrap();
        let RunEvent::Values(u) = &ev else {
            panic!("{ev:?}")
        };
        assert_eq!(u.values_json().unwrap()["count"], 3);
        assert_eq!(ev.status(), Some(RunStatus::Success));
        assert_eq!(ev.run_id(), Some(Uuid::parse_str(RID).unwrap()));
        assert!(ev.is_final());

        let c = format!(
            r#"{{"type":"custom","run_id":"{RID}","status":"pending","update":{{"i":2}}}}"#
        );
        let ev = RunEvent::from_frame(frame(None, &c)).unwrap();
        assert!(
            matches!(&ev, RunEvent::Custom(u) if u.update_as::<serde_json::Value>().unwrap()["i"] == 2)
        );
        assert!(!ev.is_final());
    }

    /// The run id is read from the string's bytes: escapes, upper case and the other forms
    /// `Uuid::try_parse` takes still read, from JSON text and from a `serde_json::Value`; a
    /// string that is no UUID, or a number, is an error naming the event.
    #[test]
    fn run_ids_read_from_bytes_as_from_text() {
        let rid = Uuid::parse_str(RID).unwrap();
        let escaped = RID.replacen('2', "\\u0032", 1);
        for id in [
            RID.to_owned(),
            RID.to_uppercase(),
            escaped,
            RID.replace('-', ""),
        ] {
            let v = format!(r#"{{"type":"values","run_id":"{id}","status":"pending","values":1}}"#);
            let ev = RunEvent::parse(v.as_bytes()).unwrap();
            assert_eq!(ev.run_id(), Some(rid), "{id}");
            let typed = TypedEvent::<u8>::from_frame(frame(None, &v)).unwrap();
            assert_eq!(typed.run_id(), Some(rid), "{id}");
            let tree: serde_json::Value = serde_json::from_str(&v).unwrap();
            let u: TypedValues<u8> = serde_json::from_value(tree).unwrap();
            assert_eq!(u.run_id, rid, "{id}");
        }
        for id in [r#""not-a-uuid""#, "7", r#""""#] {
            let v = format!(r#"{{"type":"values","run_id":{id},"status":"pending","values":1}}"#);
            let err = RunEvent::from_frame(frame(None, &v)).unwrap_err();
            assert!(
                err.to_string().contains("values event (id 1)"),
                "{id}: {err}"
            );
        }
    }

    /// Data that is not UTF-8 (only a frame built by hand has it: the decoder checks) is a
    /// decode error in a frame that carries run events, and kept raw in any other.
    #[test]
    fn data_that_is_not_utf8_is_an_error_in_run_event_frames_only() {
        let bad = Frame {
            event: Some(AGENT_EVENT.into()),
            data: Bytes::from_static(b"{\"type\":\"values\",\"values\":\"\xff\"}"),
            id: Some("9".into()),
            retry: None,
        };
        let err = RunEvent::from_frame(bad.clone()).unwrap_err();
        assert!(err.to_string().contains("run event (id 9)"), "{err}");
        assert!(TypedEvent::<u8>::from_frame(bad.clone()).is_err());
        assert!(RunEvent::parse(&bad.data).is_err());
        let other = Frame {
            event: Some("ping".into()),
            ..bad
        };
        let RunEvent::Other(raw) = RunEvent::from_frame(other).unwrap() else {
            panic!()
        };
        assert_eq!(raw.event_type(), "ping");
        assert_eq!(&raw.data[..], b"{\"type\":\"values\",\"values\":\"\xff\"}");
    }

    #[test]
    fn escaped_type_goes_through_the_slow_path() {
        let c = r#"{"type":"cust\u006fm","status":"pending","update":{}}"#;
        assert!(matches!(
            RunEvent::parse(c.as_bytes()).unwrap(),
            RunEvent::Custom(_)
        ));
    }

    #[test]
    fn unknown_event_names_and_types_are_kept_raw() {
        let ev = RunEvent::from_frame(frame(Some("ping"), "not json")).unwrap();
        let RunEvent::Other(raw) = &ev else { panic!() };
        assert_eq!(raw.event_type(), "ping");
        assert_eq!(raw.data_str(), "not json");
        assert_eq!(raw.id.as_deref(), Some("1"));

        let e = format!(r#"{{"type":"error","run_id":"{RID}","status":"error","errcode":7}}"#);
        let ev = RunEvent::from_frame(frame(Some("agent_event"), &e)).unwrap();
        assert!(matches!(&ev, RunEvent::Other(r) if r.payload_type() == Some("error")));
        assert_eq!(ev.status(), Some(RunStatus::Error));
        assert_eq!(ev.run_id(), Some(Uuid::parse_str(RID).unwrap()));

        for data in ["{}", r#"{"type":null}"#, r#""just a string""#, "[1,2]"] {
            assert!(
                matches!(
                    RunEvent::parse(data.as_bytes()).unwrap(),
                    RunEvent::Other(_)
                ),
                "{data}"
            );
        }
    }

    #[test]
    fn interrupt_and_error_payloads_are_typed_whatever_the_pin() {
        let i = format!(
            r#"{{"type":"interrupt","run_id":"{RID}","status":"interrupted","interrupt":{{"question":"go on?"}}}}"#
        );
        let ev = RunEvent::from_frame(frame(Some("agent_event"), &i)).unwrap();
        let RunEvent::Interrupt(u) = &ev else {
            panic!("{ev:?}")
        };
        assert_eq!(u.interrupt().get(), r#"{"question":"go on?"}"#);
        assert_eq!(ev.status(), Some(RunStatus::Interrupted));
        assert_eq!(ev.run_id(), Some(Uuid::parse_str(RID).unwrap()));
        assert!(ev.is_final());

        let e = format!(
            r#"{{"type":"error","run_id":"{RID}","status":"error","errcode":500,"description":"boom"}}"#
        );
        let ev = RunEvent::from_frame(frame(None, &e)).unwrap();
        assert!(
            matches!(&ev, RunEvent::Error(u) if u.errcode() == 500 && u.description() == "boom"),
            "{ev:?}"
        );
        assert!(ev.is_final());

        // Not the spec's shape (no interrupt payload; no description): kept raw, not refused.
        for data in [
            r#"{"type":"interrupt","status":"interrupted"}"#.to_owned(),
            format!(r#"{{"type":"error","run_id":"{RID}","status":"error","errcode":500}}"#),
        ] {
            let ev = RunEvent::parse(data.as_bytes()).unwrap();
            assert!(matches!(&ev, RunEvent::Other(_)), "{data}");
            assert!(ev.is_final(), "{data}");
        }
    }

    /// The Agent Workflow Server's in-progress status is `running`, which the spec does not
    /// list: the event and its values are delivered, the status kept as `Other`.
    #[test]
    fn statuses_the_spec_does_not_list_keep_the_event() {
        let data = format!(
            r#"{{"type":"values","run_id":"{RID}","status":"running","values":{{"n":1}}}}"#
        );
        let ev = RunEvent::from_frame(frame(Some("agent_event"), &data)).unwrap();
        let RunEvent::Values(v) = &ev else {
            panic!("{ev:?}")
        };
        assert_eq!(
            serde_json::to_value(&v.values).unwrap(),
            serde_json::json!({"n": 1})
        );
        assert_eq!(ev.status(), Some(RunStatus::Other("running".into())));
        assert!(!ev.is_final());
        for (status, settled) in [("bogus", false), ("error", true), ("interrupted", true)] {
            let data = format!(r#"{{"type":"custom","status":"{status}","update":{{}}}}"#);
            let ev = RunEvent::from_frame(frame(None, &data)).unwrap();
            assert!(matches!(ev, RunEvent::Custom(_)), "{data}");
            assert_eq!(ev.is_final(), settled, "{data}");
        }
    }

    #[test]
    fn mismatched_or_broken_payloads_are_decode_errors_with_excerpts() {
        for data in [
            r#"{"type": "values", this is not json"#,
            r#"{"type":"values","status":"pending","values":{}}"#, // no run_id
            r#"{"type":"custom","status":"pending"}"#,             // no update
            "not json at all",
        ] {
            let err = RunEvent::from_frame(frame(Some("agent_event"), data)).unwrap_err();
            let Error::Decode { what, excerpt, .. } = &err else {
                panic!("{err:?}")
            };
            assert!(what.contains("id 1"), "{what}");
            assert_eq!(excerpt, data);
        }
    }
}
