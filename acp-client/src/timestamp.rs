//! [`Timestamp`]: the type of every `format: date-time` field of the generated types.
//!
//! The ACP spec says `format: date-time`, which is RFC 3339 and needs an offset. The one public
//! ACP server, agntcy's Agent Workflow Server (Python, FastAPI/pydantic), writes its timestamps
//! from a naive `datetime.now()`, so `created_at` arrives as `"2026-11-30T09:20:14.749047"`, with
//! no offset; a strict `chrono::DateTime<Utc>` rejects that, and with it the whole `Thread` or
//! `Run`. `cargo xtask codegen` therefore maps every `format: date-time` schema to this type
//! (typify's schema conversion), which reads, in order:
//!
//! 1. RFC 3339 with any offset (`Z`, `+02:00`, `-05:30`; `T`, `t` or a space between date and
//!    time), normalised to UTC;
//! 2. ISO 8601 with a `±hhmm` offset (`2025-03-26T10:11:12+0200`), normalised to UTC;
//! 3. naive ISO 8601 (`2025-03-26T10:11:12`, with or without fractional seconds, `T` or space
//!    between date and time), read as UTC, which is what a server running on UTC means;
//! 4. a JSON number, read as seconds since the Unix epoch;
//! 5. any other string (`"yesterday"`) kept as text: the field then has no parsed value
//!    ([`Timestamp::datetime`] is `None`) but the object it belongs to still decodes.
//!
//! Writing is strict: a parsed timestamp is written as RFC 3339 in UTC (`...Z`, fractional
//! seconds only when there are some), an unparsed one as the text that was read.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A date-time as an ACP server sent it: parsed to UTC when it can be, else kept as text.
///
/// See the [module docs](crate::timestamp) for the spellings it reads. Two timestamps are equal when both
/// are parsed and denote the same instant (whatever offset they were written with), or when
/// neither is parsed and their texts are equal.
///
/// ```
/// use acp_client::Timestamp;
/// use chrono::{TimeZone, Utc};
///
/// // The Agent Workflow Server writes naive `datetime.now()`: read as UTC.
/// let t: Timestamp = serde_json::from_str(r#""2026-11-30T09:20:14.749047""#).unwrap();
/// let expected = Utc.with_ymd_and_hms(2026, 11, 30, 9, 20, 14).unwrap()
///     + chrono::Duration::microseconds(749_047);
/// assert_eq!(t.datetime(), Some(expected));
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#""2026-11-30T09:20:14.749047Z""#);
///
/// // An offset is normalised to UTC.
/// let t: Timestamp = "2026-11-30T11:20:14.749047+02:00".parse().unwrap();
/// assert_eq!(t.datetime(), Some(expected));
///
/// // What cannot be read is kept, not an error.
/// let t: Timestamp = serde_json::from_str(r#""yesterday""#).unwrap();
/// assert_eq!(t.datetime(), None);
/// assert_eq!(t.unparsed(), Some("yesterday"));
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#""yesterday""#);
/// ```
#[derive(Clone, Debug)]
pub struct Timestamp {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Read (or built) as a date-time; `text` is the spelling it was read from, if any.
    Parsed {
        at: DateTime<Utc>,
        text: Option<String>,
    },
    /// A spelling none of the rules reads.
    Text(String),
}

impl Timestamp {
    /// Read `text` by the rules of the [module docs](crate::timestamp); never fails.
    pub fn parse(text: &str) -> Self {
        match parse_datetime(text) {
            Some(at) => Self {
                repr: Repr::Parsed {
                    at,
                    text: Some(text.to_string()),
                },
            },
            None => Self {
                repr: Repr::Text(text.to_string()),
            },
        }
    }

    /// The instant, in UTC; `None` when the server's spelling could not be read.
    pub fn datetime(&self) -> Option<DateTime<Utc>> {
        match &self.repr {
            Repr::Parsed { at, .. } => Some(*at),
            Repr::Text(_) => None,
        }
    }

    /// The text the server sent when it could not be read as a date-time, else `None`.
    pub fn unparsed(&self) -> Option<&str> {
        match &self.repr {
            Repr::Parsed { .. } => None,
            Repr::Text(t) => Some(t),
        }
    }

    /// The text as received (for a value built from a `DateTime`, its RFC 3339 spelling).
    pub fn text(&self) -> Cow<'_, str> {
        match &self.repr {
            Repr::Parsed { text: Some(t), .. } | Repr::Text(t) => Cow::Borrowed(t),
            Repr::Parsed { at, text: None } => Cow::Owned(rfc3339(at)),
        }
    }

    /// What is written on the wire: RFC 3339 in UTC when parsed, else the text as received.
    pub fn to_wire(&self) -> Cow<'_, str> {
        match &self.repr {
            Repr::Parsed { at, .. } => Cow::Owned(rfc3339(at)),
            Repr::Text(t) => Cow::Borrowed(t),
        }
    }
}

fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Rules 1–3 of the module docs.
fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self {
            repr: Repr::Parsed { at, text: None },
        }
    }
}

impl From<&str> for Timestamp {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl From<String> for Timestamp {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = std::convert::Infallible;

    /// Lenient like deserialization: what cannot be read is kept as text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Parsed { at: a, .. }, Repr::Parsed { at: b, .. }) => a == b,
            (Repr::Text(a), Repr::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Timestamp {}

impl PartialEq<DateTime<Utc>> for Timestamp {
    fn eq(&self, other: &DateTime<Utc>) -> bool {
        self.datetime().as_ref() == Some(other)
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.repr {
            Repr::Parsed { at, .. } => {
                0u8.hash(state);
                at.hash(state);
            }
            Repr::Text(t) => {
                1u8.hash(state);
                t.hash(state);
            }
        }
    }
}

impl fmt::Display for Timestamp {
    /// The wire form: RFC 3339 in UTC when parsed, else the text as received.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date-time string or seconds since the Unix epoch")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Ok(Timestamp::parse(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
                DateTime::from_timestamp(v, 0)
                    .map(Timestamp::from)
                    .ok_or_else(|| E::custom(format_args!("timestamp {v} is out of range")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
                let v = i64::try_from(v)
                    .map_err(|_| E::custom(format_args!("timestamp {v} is out of range")))?;
                self.visit_i64(v)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Timestamp, E> {
                let secs = v.floor();
                let nanos = ((v - secs) * 1e9).round().min(999_999_999.0) as u32;
                if !secs.is_finite() || secs.abs() > i64::MAX as f64 {
                    return Err(E::custom(format_args!("timestamp {v} is out of range")));
                }
                DateTime::from_timestamp(secs as i64, nanos)
                    .map(Timestamp::from)
                    .ok_or_else(|| E::custom(format_args!("timestamp {v} is out of range")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_string()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("date-time".to_string()),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn at(h: u32, m: u32, s: u32, micros: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2025, 3, 26)
            .and_then(|d| d.and_hms_micro_opt(h, m, s, micros))
            .expect("valid")
            .and_utc()
    }

    #[test]
    fn spellings() {
        let cases = [
            ("2025-03-26T10:11:12Z", at(10, 11, 12, 0)),
            ("2025-03-26T10:11:12.5z", at(10, 11, 12, 500_000)),
            ("2025-03-26T12:11:12+02:00", at(10, 11, 12, 0)),
            ("2025-03-26T04:41:12.000001-05:30", at(10, 11, 12, 1)),
            ("2025-03-26 10:11:12+00:00", at(10, 11, 12, 0)),
            ("2025-03-26T12:11:12+0200", at(10, 11, 12, 0)),
            ("2025-03-26T10:11:12.749047", at(10, 11, 12, 749_047)),
            ("2025-03-26T10:11:12", at(10, 11, 12, 0)),
            ("2025-03-26 10:11:12.25", at(10, 11, 12, 250_000)),
            ("2025-03-26T10:11", at(10, 11, 0, 0)),
        ];
        for (text, expected) in cases {
            let t = Timestamp::parse(text);
            assert_eq!(t.datetime(), Some(expected), "{text}");
            assert_eq!(t.text(), text);
            assert_eq!(t.unparsed(), None);
        }
    }

    #[test]
    fn unreadable_text_is_kept() {
        for text in ["yesterday", "", "2025-13-40T99:99:99", "1711447872"] {
            let t = Timestamp::parse(text);
            assert_eq!(t.datetime(), None, "{text}");
            assert_eq!(t.unparsed(), Some(text));
            assert_eq!(t.to_string(), text);
        }
    }

    #[test]
    fn writes_rfc3339_utc() {
        let t = Timestamp::parse("2025-03-26T12:11:12.123+02:00");
        assert_eq!(t.to_string(), "2025-03-26T10:11:12.123Z");
        let t = Timestamp::from(Utc.with_ymd_and_hms(2025, 3, 26, 10, 11, 12).unwrap());
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""2025-03-26T10:11:12Z""#
        );
        assert_eq!(t.text(), "2025-03-26T10:11:12Z");
    }

    #[test]
    fn equality_is_by_instant() {
        let a = Timestamp::parse("2025-03-26T10:11:12Z");
        let b = Timestamp::parse("2025-03-26T11:11:12+01:00");
        assert_eq!(a, b);
        let hash = |t: &Timestamp| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&a), hash(&b));
        // a naive spelling of the same instant (read as UTC) is equal too
        assert_eq!(a, Timestamp::parse("2025-03-26T10:11:12"));
        assert_ne!(a, Timestamp::parse("2025-03-26T10:11:13Z"));
        assert_ne!(a, Timestamp::parse("2025-03-26T10:11:12Z garbage"));
        assert_ne!(Timestamp::parse("x"), Timestamp::parse("y"));
        assert_eq!(Timestamp::parse("x"), Timestamp::parse("x"));
        assert_eq!(a, at(10, 11, 12, 0));
    }

    #[test]
    fn numbers_are_unix_seconds() {
        let t: Timestamp = serde_json::from_str("1742983872").unwrap();
        assert_eq!(t.datetime(), Some(at(10, 11, 12, 0)));
        let t: Timestamp = serde_json::from_str("1742983872.5").unwrap();
        assert_eq!(t.datetime(), Some(at(10, 11, 12, 500_000)));
        assert!(serde_json::from_str::<Timestamp>("null").is_err());
        assert!(serde_json::from_str::<Timestamp>("{}").is_err());
    }

    #[test]
    fn schema_is_a_date_time_string() {
        let schema = schemars::schema_for!(Timestamp);
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["type"], "string");
        assert_eq!(json["format"], "date-time");
    }
}
