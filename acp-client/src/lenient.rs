//! Serde helpers the generated types use to read `null` where the spec has no room for it.
//!
//! pydantic servers (agntcy's Agent Workflow Server among them) write every unset field as
//! `null`, optional or not. `cargo xtask codegen` post-processes the generated types (rules in
//! `xtask/src/lenient.rs`) and puts these readers on the fields that would otherwise reject it:
//!
//! - `null-default`: a field with a default (`#[serde(default)]` or a spec `default`) reads `null`
//!   as if it were absent: the spec default, or the type's `Default`
//!   ([`null_as_default`], [`null_or`]).
//! - `null-empty`: a required string, array, map, free-form object or message content reads
//!   `null` as empty ([`null_as_default`]); a missing required field is still an error.
//! - `open-enum`: a string enum keeps a value the spec does not list (the Agent Workflow
//!   Server's run status `"running"`) as its `Other(String)` variant ([`open_enum`]).
//!
//! Only reading is lenient: what the client writes is unchanged (unset optional fields are
//! omitted, defaults are written out), so requests stay spec-valid.

use serde::{Deserialize, Deserializer};

/// Read `T`, or `T::default()` for `null`.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct S {
///     #[serde(default, deserialize_with = "acp_client::lenient::null_as_default")]
///     tags: Vec<String>,
/// }
/// let s: S = serde_json::from_str(r#"{"tags": null}"#).unwrap();
/// assert!(s.tags.is_empty());
/// ```
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Read `T`, or `default()` for `null`: for fields whose spec default is not `T::default()`.
///
/// The generated code calls it from one small function per such field (`types::null_defaults`),
/// since `deserialize_with` takes a path, not a closure.
pub fn null_or<'de, D, T>(deserializer: D, default: impl FnOnce() -> T) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_else(default))
}

/// Read a string enum of the spec's values that keeps any other string (`open-enum`): `known`
/// maps a listed value to its variant, `other` wraps the rest.
///
/// The generated `Deserialize` of every open enum calls it. It reads the string in place (a
/// borrowed `&str` when the input allows) and allocates only for an unlisted value; the derive
/// it replaces, with a `#[serde(untagged)] Other(String)` variant, buffered every value into
/// serde's private `Content` first and tried the variants in turn: ~4% of the client's CPU per
/// event on a typed run stream, whose every event carries a status (`perf`, 2026-12-02).
/// Anything but a string is an error ("expected a string").
///
/// ```
/// #[derive(Debug, PartialEq)]
/// enum Status { Idle, Other(String) }
/// impl<'de> serde::Deserialize<'de> for Status {
///     fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
///         acp_client::lenient::open_enum(d, |v| (v == "idle").then_some(Status::Idle), Status::Other)
///     }
/// }
/// assert_eq!(serde_json::from_str::<Status>(r#""idle""#).unwrap(), Status::Idle);
/// assert_eq!(serde_json::from_str::<Status>(r#""running""#).unwrap(), Status::Other("running".into()));
/// assert!(serde_json::from_str::<Status>("1").is_err());
/// ```
pub fn open_enum<'de, D, T>(
    deserializer: D,
    known: impl FnOnce(&str) -> Option<T>,
    other: impl FnOnce(String) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Open<K, O>(K, O);
    impl<'de, T, K, O> serde::de::Visitor<'de> for Open<K, O>
    where
        K: FnOnce(&str) -> Option<T>,
        O: FnOnce(String) -> T,
    {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            let Open(known, other) = self;
            Ok(known(v).unwrap_or_else(|| other(v.to_owned())))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<T, E> {
            let Open(known, other) = self;
            Ok(match known(&v) {
                Some(t) => t,
                None => other(v),
            })
        }
    }
    deserializer.deserialize_str(Open(known, other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct S {
        #[serde(default, deserialize_with = "null_as_default")]
        flag: bool,
        #[serde(default = "ten", deserialize_with = "ten_or_null")]
        n: u32,
        #[serde(deserialize_with = "null_as_default")]
        name: String,
    }

    fn ten() -> u32 {
        10
    }

    fn ten_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        null_or(d, ten)
    }

    #[test]
    fn null_reads_as_default_absent_as_default_required_stays_required() {
        let s: S = serde_json::from_str(r#"{"flag": null, "n": null, "name": null}"#).unwrap();
        assert!(!s.flag && s.n == 10 && s.name.is_empty());
        let s: S = serde_json::from_str(r#"{"name": "x"}"#).unwrap();
        assert!(!s.flag && s.n == 10 && s.name == "x");
        let s: S = serde_json::from_str(r#"{"flag": true, "n": 3, "name": "y"}"#).unwrap();
        assert!(s.flag && s.n == 3 && s.name == "y");
        let err = serde_json::from_str::<S>(r#"{"flag": true}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `name`"), "{err}");
        assert!(serde_json::from_str::<S>(r#"{"name": 3}"#).is_err());
    }
}
