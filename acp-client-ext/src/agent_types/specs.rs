//! Finding an agent's schemas in what a user hands us: an ACP agent descriptor
//! (`{"metadata", "specs"}`), an agent manifest (which has the same `specs` at the top), an OASF
//! agent record whose manifest extension carries them under `data.acp`, or a bare `specs` object.
//!
//! Shared by [`crate::agent_types`] and [`crate::validate`] (the latter includes this file with
//! `#[path]`, so either feature works without the other).

use serde_json::{Map, Value};

/// The schemas one agent declares, borrowed from the document they were found in.
#[derive(Debug)]
pub(crate) struct Specs<'a> {
    /// `metadata.ref.name`, when the document has it.
    pub(crate) name: Option<&'a str>,
    /// `metadata.ref.version`, when the document has it.
    pub(crate) version: Option<&'a str>,
    pub(crate) input: Option<&'a Value>,
    pub(crate) output: Option<&'a Value>,
    pub(crate) config: Option<&'a Value>,
    pub(crate) thread_state: Option<&'a Value>,
    pub(crate) custom_update: Option<&'a Value>,
    pub(crate) interrupts: Vec<Interrupt<'a>>,
}

/// One entry of `specs.interrupts`.
#[derive(Debug)]
pub(crate) struct Interrupt<'a> {
    /// `interrupt_type`; the spec requires it, a lenient reader does not.
    pub(crate) kind: Option<&'a str>,
    pub(crate) payload: Option<&'a Value>,
    pub(crate) resume: Option<&'a Value>,
}

/// Why a document is not something we can read an agent's schemas from: what we found, said in
/// a sentence that follows "expected an ACP agent descriptor ..., found ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotADescriptor(pub(crate) String);

/// What [`locate`] accepts, for error messages.
pub(crate) const EXPECTED: &str = "an ACP agent descriptor ({\"metadata\": .., \"specs\": ..}), \
     an agent manifest with `specs` at the top, or a bare `specs` object \
     (with `input`, `output`, `config`, ..)";

/// The keys that make an object a bare `specs` object.
const SPEC_KEYS: [&str; 4] = ["input", "output", "capabilities", "config"];

/// Finds the agent's schemas in `doc`.
pub(crate) fn locate(doc: &Value) -> Result<Specs<'_>, NotADescriptor> {
    let Value::Object(top) = doc else {
        return Err(NotADescriptor(kind_of(doc).to_string()));
    };
    let (specs, meta_holder) = if let Some(specs) = top.get("specs") {
        let Value::Object(specs) = specs else {
            return Err(NotADescriptor(format!(
                "`specs` is {}, not an object",
                kind_of(specs)
            )));
        };
        (specs, top)
    } else if let Some(acp) = oasf_acp(top) {
        (acp, top)
    } else if SPEC_KEYS.iter().any(|k| top.contains_key(*k)) {
        (top, top)
    } else if top.contains_key("agent_id") && top.contains_key("metadata") {
        return Err(NotADescriptor(
            "an ACP `Agent` (`agent_id` and `metadata`, no `specs`); its descriptor is at \
             GET /agents/{agent_id}/descriptor"
                .into(),
        ));
    } else {
        let keys: Vec<&str> = top.keys().map(String::as_str).take(8).collect();
        return Err(NotADescriptor(format!(
            "an object with keys [{}] and no `specs`",
            keys.join(", ")
        )));
    };
    let agent_ref = meta_holder
        .get("metadata")
        .and_then(|m| m.get("ref"))
        .or_else(|| meta_holder.get("ref"));
    let name = agent_ref
        .and_then(|r| r.get("name"))
        .or_else(|| meta_holder.get("name"))
        .and_then(Value::as_str);
    let version = agent_ref
        .and_then(|r| r.get("version"))
        .or_else(|| meta_holder.get("version"))
        .and_then(Value::as_str);
    let interrupts = match specs.get("interrupts") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(interrupt).collect(),
        Some(other) => {
            return Err(NotADescriptor(format!(
                "`specs.interrupts` is {}, not an array",
                kind_of(other)
            )));
        }
    };
    Ok(Specs {
        name,
        version,
        input: schema(specs, "input"),
        output: schema(specs, "output"),
        config: schema(specs, "config"),
        thread_state: schema(specs, "thread_state"),
        custom_update: schema(specs, "custom_streaming_update"),
        interrupts,
    })
}

/// An OASF agent record: `extensions[].data.acp` of its runtime manifest extension.
fn oasf_acp(top: &Map<String, Value>) -> Option<&Map<String, Value>> {
    top.get("extensions")?
        .as_array()?
        .iter()
        .find_map(|ext| ext.get("data")?.get("acp")?.as_object())
}

fn interrupt(item: &Value) -> Interrupt<'_> {
    Interrupt {
        kind: item.get("interrupt_type").and_then(Value::as_str),
        payload: item.get("interrupt_payload").filter(|s| is_schema(s)),
        resume: item.get("resume_payload").filter(|s| is_schema(s)),
    }
}

/// A schema is an object or a boolean; `null` (which lenient servers write) means absent.
fn schema<'a>(specs: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    specs.get(key).filter(|s| is_schema(s))
}

fn is_schema(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Bool(_))
}

/// "a JSON array", "a string", ... for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "an object",
    }
}

/// Rewrites what OpenAPI 3.0 says differently from JSON Schema into JSON Schema, in place:
/// `"nullable": true` becomes `null` among the allowed types. Descriptors are OpenAPI 3.1 (JSON
/// Schema 2020-12), but schemas written for 3.0 tools still carry `nullable`, and a validator
/// or generator that ignores it would refuse or mistype every `null`.
pub(crate) fn openapi_nullable(schema: &mut Value) {
    for_each_subschema(schema, &mut openapi_nullable);
    let Value::Object(obj) = schema else { return };
    if obj.get("nullable") != Some(&Value::Bool(true)) {
        obj.remove("nullable");
        return;
    }
    obj.remove("nullable");
    match obj.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            obj.insert("type".into(), Value::from(vec![t, "null".to_string()]));
        }
        Some(Value::Array(ts)) => {
            if !ts.iter().any(|t| t == "null") {
                ts.push("null".into());
            }
        }
        _ => {
            let inner = Value::Object(std::mem::take(obj));
            obj.insert(
                "anyOf".into(),
                Value::from(vec![inner, serde_json::json!({"type": "null"})]),
            );
        }
    }
}

/// Keywords whose value is one subschema.
const ONE: [&str; 12] = [
    "additionalProperties",
    "additionalItems",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
/// Keywords whose value is an array of subschemas (`items` too, in drafts before 2020-12).
const MANY: [&str; 5] = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value maps names to subschemas.
const MAP: [&str; 6] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// Calls `f` on every direct subschema of `schema` (not on values such as `default` or `enum`,
/// which may look like schemas but are data).
pub(crate) fn for_each_subschema(schema: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    let Value::Object(obj) = schema else { return };
    for (key, value) in obj.iter_mut() {
        let key = key.as_str();
        match value {
            Value::Object(_) if ONE.contains(&key) => f(value),
            Value::Array(items) if MANY.contains(&key) => items.iter_mut().for_each(&mut *f),
            Value::Object(map) if MAP.contains(&key) => map
                .values_mut()
                .filter(|v| v.is_object() || v.is_boolean())
                .for_each(&mut *f),
            _ => {}
        }
    }
}

/// [`for_each_subschema`] with each subschema's JSON pointer (under `at`, the pointer of
/// `schema`), skipping `$defs` and `definitions` (reached by `$ref`, never inline).
#[cfg_attr(not(feature = "agent-types"), allow(dead_code))]
pub(crate) fn for_each_subschema_at(
    schema: &mut Value,
    at: &str,
    f: &mut dyn FnMut(&mut Value, &str),
) {
    let Value::Object(obj) = schema else { return };
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    for (key, value) in obj.iter_mut() {
        let key = key.as_str();
        match value {
            Value::Object(_) if ONE.contains(&key) => f(value, &format!("{at}/{key}")),
            Value::Array(items) if MANY.contains(&key) => {
                for (n, item) in items.iter_mut().enumerate() {
                    f(item, &format!("{at}/{key}/{n}"));
                }
            }
            Value::Object(map) if MAP.contains(&key) && key != "$defs" && key != "definitions" => {
                for (name, v) in map.iter_mut() {
                    if v.is_object() || v.is_boolean() {
                        f(v, &format!("{at}/{key}/{}", esc(name)));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_specs_in_a_descriptor_a_manifest_and_a_bare_specs_object() {
        let specs = json!({"input": {"type": "object"}, "output": {"type": "string"}});
        let descriptor =
            json!({"metadata": {"ref": {"name": "a", "version": "1"}}, "specs": specs});
        let found = locate(&descriptor).unwrap();
        assert_eq!(found.name, Some("a"));
        assert_eq!(found.version, Some("1"));
        assert!(found.output.is_some() && found.config.is_none());
        assert!(locate(&specs).unwrap().input.is_some());
        let oasf = json!({"name": "b", "extensions": [{"name": "x", "data": {"acp": specs}}]});
        assert_eq!(locate(&oasf).unwrap().name, Some("b"));
    }

    #[test]
    fn says_what_it_found_instead() {
        assert_eq!(locate(&json!([1])).unwrap_err().0, "a JSON array");
        let agent = json!({"agent_id": "x", "metadata": {}});
        assert!(locate(&agent).unwrap_err().0.contains("/descriptor"));
        assert!(locate(&json!({"a": 1})).unwrap_err().0.contains("[a]"));
        let bad = json!({"specs": {"interrupts": {}}});
        assert!(locate(&bad).unwrap_err().0.contains("not an array"));
    }

    #[test]
    fn nullable_becomes_a_null_type() {
        let mut s = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"$ref": "#/$defs/B", "nullable": true},
            "nullable": {"type": "integer", "nullable": false}}});
        openapi_nullable(&mut s);
        assert_eq!(s["properties"]["a"]["type"], json!(["string", "null"]));
        assert_eq!(s["properties"]["b"]["anyOf"][1], json!({"type": "null"}));
        assert_eq!(s["properties"]["nullable"], json!({"type": "integer"}));
    }
}
