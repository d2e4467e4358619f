//! A scan of a JSON object's top level for one key, without parsing the values it passes:
//! what the run stream reads of every event (its `type`, before the one parse of the payload
//! into the caller's type) and where a create's tag goes into a body already written
//! ([`creates`](crate::creates)). Nothing here validates: serde (or the server) does, and a
//! scan that cannot be sure says [`Scan::Unsure`] / [`Place::Unsure`], on which callers parse.

/// What a scan of a top-level object for one key found (`T`: the value's text, `&str` or
/// `&[u8]`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan<T> {
    /// The key, with a string value without escapes.
    Found(T),
    /// The key, with a non-string value.
    NotString,
    /// The object has no such key.
    Absent,
    /// The scan could not tell: not an object, malformed, or escapes.
    Unsure,
}

impl<T> Scan<T> {
    pub(crate) fn found(self) -> Option<T> {
        match self {
            Scan::Found(s) => Some(s),
            _ => None,
        }
    }
}

pub(crate) fn skip_ws(d: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = d.get(i) {
        i += 1;
    }
    i
}

/// With `d[i] == '"'`: the index of the closing quote, and whether there were escapes.
fn string_end(d: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', d.get(j..)?)?;
        if d[k] == b'"' {
            return Some((k, escaped));
        }
        escaped = true;
        j = k + 2;
    }
}

/// The index just after the JSON value starting at `d[i]` (not validated: serde does that).
fn skip_value(d: &[u8], i: usize) -> Option<usize> {
    match d.get(i)? {
        b'"' => string_end(d, i).map(|(e, _)| e + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match d.get(j)? {
                    b'"' => {
                        j = string_end(d, j)?.0 + 1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(&b) = d.get(j) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// Where a scan of a top-level object for one key found its value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The key's value starts at this index.
    Value(usize),
    /// The object has no such key; `close` is the index of its closing brace, `empty` whether
    /// it has no keys at all.
    Absent { close: usize, empty: bool },
    /// The scan could not tell: not an object, malformed, or escapes in a key.
    Unsure,
}

/// Find where the value of `key` is in the top-level JSON object `d`, stopping at that key
/// (the first, if the object repeats it).
pub(crate) fn top_level(d: &[u8], key: &[u8]) -> Place {
    let mut i = skip_ws(d, 0);
    if d.get(i) != Some(&b'{') {
        return Place::Unsure;
    }
    i = skip_ws(d, i + 1);
    if d.get(i) == Some(&b'}') {
        return Place::Absent {
            close: i,
            empty: true,
        };
    }
    loop {
        if d.get(i) != Some(&b'"') {
            return Place::Unsure;
        }
        let Some((end, false)) = string_end(d, i) else {
            return Place::Unsure;
        };
        let k = &d[i + 1..end];
        i = skip_ws(d, end + 1);
        if d.get(i) != Some(&b':') {
            return Place::Unsure;
        }
        i = skip_ws(d, i + 1);
        if k == key {
            return if i < d.len() {
                Place::Value(i)
            } else {
                Place::Unsure
            };
        }
        let Some(j) = skip_value(d, i) else {
            return Place::Unsure;
        };
        i = skip_ws(d, j);
        match d.get(i) {
            Some(b',') => i = skip_ws(d, i + 1),
            Some(b'}') => {
                return Place::Absent {
                    close: i,
                    empty: false,
                };
            }
            _ => return Place::Unsure,
        }
    }
}

/// Find the string value of `key` in the top-level JSON object `d`, stopping at that key.
pub(crate) fn top_level_str<'a>(d: &'a [u8], key: &[u8]) -> Scan<&'a str> {
    match top_level_bytes(d, key) {
        Scan::Found(b) => std::str::from_utf8(b).map_or(Scan::Unsure, Scan::Found),
        Scan::NotString => Scan::NotString,
        Scan::Absent => Scan::Absent,
        Scan::Unsure => Scan::Unsure,
    }
}

/// [`top_level_str`] without the UTF-8 check of the value: for callers that compare it with
/// known ASCII names (an event's `type`, on every event of a stream).
pub(crate) fn top_level_bytes<'a>(d: &'a [u8], key: &[u8]) -> Scan<&'a [u8]> {
    match top_level(d, key) {
        Place::Value(i) => match d[i] {
            b'"' => match string_end(d, i) {
                Some((e, false)) => Scan::Found(&d[i + 1..e]),
                _ => Scan::Unsure,
            },
            _ => Scan::NotString,
        },
        Place::Absent { .. } => Scan::Absent,
        Place::Unsure => Scan::Unsure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_the_top_level_key_only() {
        let d = br#" { "run_id" : "x", "values": {"type": "nested", "a": [1, {"b": "}"}]}, "type" : "values" } "#;
        assert_eq!(top_level_str(d, b"type"), Scan::Found("values"));
        assert_eq!(top_level_str(d, b"run_id"), Scan::Found("x"));
        assert_eq!(top_level_str(d, b"nope"), Scan::Absent);
        assert_eq!(top_level_bytes(d, b"type"), Scan::Found(&b"values"[..]));
        assert_eq!(
            top_level_str(b"{\"type\": \"\xff\"}", b"type"),
            Scan::Unsure
        );
        assert_eq!(
            top_level_bytes(b"{\"type\": \"\xff\"}", b"type"),
            Scan::Found(&b"\xff"[..])
        );
        assert_eq!(top_level_str(br#"{"type": 3}"#, b"type"), Scan::NotString);
        assert_eq!(top_level_str(br#"{"ty\"pe": 3}"#, b"type"), Scan::Unsure);
        assert_eq!(
            top_level_str(br#"{"type": "va\u006cues"}"#, b"type"),
            Scan::Unsure
        );
        assert_eq!(
            top_level_str(br#"{"a": "\"", "type": "custom"}"#, b"type"),
            Scan::Found("custom")
        );
        assert_eq!(
            top_level_str(br#"{"a": -1.5e3, "b": null, "type": "custom"}"#, b"type"),
            Scan::Found("custom")
        );
        assert_eq!(top_level_str(b"{}", b"type"), Scan::Absent);
        for bad in [
            &b""[..],
            b"[1]",
            b"\"s\"",
            b"{",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":1",
            b"{\"a\" 1}",
        ] {
            assert_eq!(
                top_level_str(bad, b"type"),
                Scan::Unsure,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn place_gives_the_value_or_the_closing_brace() {
        let d = br#"{"a": {"m": 1}, "metadata" : null }"#;
        assert_eq!(top_level(d, b"metadata"), Place::Value(29));
        assert_eq!(&d[29..33], b"null");
        assert_eq!(
            top_level(d, b"nope"),
            Place::Absent {
                close: d.len() - 1,
                empty: false
            }
        );
        assert_eq!(
            top_level(b" { } ", b"metadata"),
            Place::Absent {
                close: 3,
                empty: true
            }
        );
        assert_eq!(top_level(br#"{"metadata":"#, b"metadata"), Place::Unsure);
        assert_eq!(top_level(br#"{"a":1,"#, b"metadata"), Place::Unsure);
    }
}
