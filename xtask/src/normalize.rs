//! Rewrites an ACP OpenAPI 3.1 document into the OpenAPI 3.0.3 that progenitor parses.
//!
//! `normalize` is a pure function of the document: it returns the rewritten document and a report
//! of every rule that fired (rule name, JSON pointer, what changed), so a reviewer of a spec bump
//! sees exactly what the generator was fed. A construct no rule can convert is an error naming its
//! JSON pointer; nothing is silently dropped.
//!
//! Rules, in the order they run:
//! - `openapi-version`: `openapi: 3.1.x` becomes `3.0.3`; 3.1-only top-level keys
//!   (`webhooks`, `jsonSchemaDialect`) are removed.
//! - `type-array`: `type: [T, "null"]` becomes `type: T, nullable: true`; several non-null types
//!   become an `anyOf` of one schema per type.
//! - `null-type`: a schema that is only `type: "null"` becomes `enum: [null], nullable: true`.
//! - `null-alternative`: `{"type": "null"}` inside `anyOf`/`oneOf` is removed and the parent
//!   becomes `nullable: true`.
//! - `const`: `const: V` becomes `enum: [V]` (with `type` added when it can be read off `V`).
//! - `examples`: a schema's `examples: [..]` array becomes `example: <first>`.
//! - `nullable-optional`: an optional (not `required`) property whose schema is an array or an
//!   object becomes `nullable`. typify maps such a property to a bare `Vec`/`Map` with
//!   `#[serde(default)]`, which accepts a missing field but not `null`, and pydantic servers write
//!   `"messages": null`; with `nullable` it is an `Option` that reads both (and is still omitted
//!   when sent empty).
//! - `error-body-any`: the `ErrorResponse` schema (declared a JSON string) accepts any JSON value,
//!   because real servers answer `{"detail": "..."}` too; forgiving in what we read.
//! - `title-collision`: typify names inline types after their `title` and merges inline schemas that
//!   share one, so `RunResult.type`, `RunInterrupt.type` and `RunError.type` (all titled
//!   "Output Type") would become a single enum accepting only `"result"`. Every inline title that is
//!   shared by schemas of different content, or that equals a component's name, is replaced by a name
//!   built from where the schema sits (`RunResult` + `type` -> `RunResultType`).

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// One rule that fired, at one place in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// The rule's name, as listed in the module docs.
    pub rule: &'static str,
    /// JSON pointer of the schema or key that was rewritten.
    pub pointer: String,
    /// What was changed, in a few words.
    pub detail: String,
}

/// Everything `normalize` did to a document.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub fired: Vec<Fired>,
}

impl Report {
    pub(crate) fn fire(&mut self, rule: &'static str, pointer: &str, detail: impl Into<String>) {
        self.fired.push(Fired {
            rule,
            pointer: pointer.to_string(),
            detail: detail.into(),
        });
    }

    /// Counts per rule, in rule order of first appearance: `const x3, examples x12`.
    pub fn summary(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for f in &self.fired {
            match counts.iter_mut().find(|(r, _)| *r == f.rule) {
                Some((_, n)) => *n += 1,
                None => counts.push((f.rule, 1)),
            }
        }
        if counts.is_empty() {
            return "no rule fired".to_string();
        }
        counts
            .iter()
            .map(|(r, n)| format!("{r} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A construct that no rule converts into OpenAPI 3.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconvertible {
    /// JSON pointer of the offending schema.
    pub pointer: String,
    /// The keyword or construct that could not be converted.
    pub construct: String,
}

impl fmt::Display for Unconvertible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot convert `{}` to OpenAPI 3.0 at #{}",
            self.construct, self.pointer
        )
    }
}

impl std::error::Error for Unconvertible {}

/// JSON Schema 2020-12 keywords that have no OpenAPI 3.0 equivalent and that we refuse rather than
/// drop, since dropping them would change what the generated types accept.
const UNCONVERTIBLE: &[&str] = &[
    "prefixItems",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "patternProperties",
    "$defs",
    "$dynamicRef",
    "contains",
];

/// Rewrite a 3.1 document into 3.0.3; see the module docs for the rules.
pub fn normalize(doc: &Value) -> Result<(Value, Report), Unconvertible> {
    let mut doc = doc.clone();
    let mut report = Report::default();
    let Some(root) = doc.as_object_mut() else {
        return Err(Unconvertible {
            pointer: String::new(),
            construct: "document that is not a JSON object".into(),
        });
    };

    if let Some(Value::String(v)) = root.get("openapi")
        && v.starts_with("3.1")
    {
        report.fire("openapi-version", "/openapi", format!("{v} -> 3.0.3"));
        root.insert("openapi".into(), Value::String("3.0.3".into()));
    }
    for key in ["webhooks", "jsonSchemaDialect"] {
        if root.remove(key).is_some() {
            report.fire("openapi-version", &format!("/{key}"), "removed (3.1 only)");
        }
    }

    let mut inline = Vec::new();
    let component_names: Vec<String> = root
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_object)
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();

    // Component schemas: the root of each is named by its key, everything below is inline.
    if let Some(Value::Object(schemas)) = root
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
    {
        for (name, schema) in schemas.iter_mut() {
            let ptr = format!("/components/schemas/{}", escape(name));
            if name == "ErrorResponse" && schema.get("type") == Some(&Value::from("string")) {
                if let Some(obj) = schema.as_object_mut() {
                    obj.remove("type");
                }
                report.fire(
                    "error-body-any",
                    &ptr,
                    "type string -> any JSON value (servers also send {\"detail\": ...})",
                );
            }
            walk_schema(
                schema,
                &ptr,
                &mut report,
                &mut inline,
                std::slice::from_ref(name),
                true,
            )?;
        }
    }

    // Schemas inside paths: parameters, request bodies, responses.
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let path_ptr = format!("/paths/{}", escape(path));
            for (method, op) in item.iter_mut() {
                let op_ptr = format!("{path_ptr}/{}", escape(method));
                let op_name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(pascal)
                    .unwrap_or_else(|| pascal(method));
                for (sub_ptr, name, schema) in operation_schemas(op) {
                    let ptr = format!("{op_ptr}{sub_ptr}");
                    let place = [op_name.clone(), name];
                    walk_schema(schema, &ptr, &mut report, &mut inline, &place, false)?;
                }
            }
        }
    }

    rename_colliding_titles(&mut doc, &inline, &component_names, &mut report);
    Ok((doc, report))
}

/// Every schema directly inside an operation, with its pointer relative to the operation and a
/// name for its place (the parameter's name, `body` or `response<code>`).
fn operation_schemas(op: &mut Value) -> Vec<(String, String, &mut Value)> {
    let mut out = Vec::new();
    let Some(op) = op.as_object_mut() else {
        return out;
    };
    for (key, val) in op.iter_mut() {
        match key.as_str() {
            "parameters" => {
                if let Some(params) = val.as_array_mut() {
                    for (i, p) in params.iter_mut().enumerate() {
                        let name = p.get("name").and_then(Value::as_str).unwrap_or("param");
                        let name = name.to_string();
                        if let Some(s) = p.get_mut("schema") {
                            out.push((format!("/parameters/{i}/schema"), name, s));
                        }
                    }
                }
            }
            "requestBody" => {
                for (mt, s) in content_schemas(val.get_mut("content")) {
                    out.push((
                        format!("/requestBody/content/{}/schema", escape(&mt)),
                        "body".into(),
                        s,
                    ));
                }
            }
            "responses" => {
                if let Some(responses) = val.as_object_mut() {
                    for (code, resp) in responses.iter_mut() {
                        for (mt, s) in content_schemas(resp.get_mut("content")) {
                            out.push((
                                format!("/responses/{code}/content/{}/schema", escape(&mt)),
                                format!("response{code}"),
                                s,
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn content_schemas(content: Option<&mut Value>) -> Vec<(String, &mut Value)> {
    match content.and_then(Value::as_object_mut) {
        Some(content) => content
            .iter_mut()
            .filter_map(|(mt, media)| media.get_mut("schema").map(|s| (mt.clone(), s)))
            .collect(),
        None => Vec::new(),
    }
}

/// An inline schema that carries a `title`, remembered for the collision pass.
struct InlineTitle {
    pointer: String,
    title: String,
    /// Where the schema sits, as name parts (`["RunResult", "type"]`).
    place: Vec<String>,
    /// The schema's content without its annotations, to tell real collisions from repeats.
    content: Value,
}

fn walk_schema(
    schema: &mut Value,
    ptr: &str,
    report: &mut Report,
    inline: &mut Vec<InlineTitle>,
    place: &[String],
    is_component_root: bool,
) -> Result<(), Unconvertible> {
    let Some(obj) = schema.as_object_mut() else {
        // `true`/`false` schemas and the like pass through untouched.
        return Ok(());
    };
    if obj.contains_key("$ref") {
        return Ok(());
    }
    if let Some(kw) = UNCONVERTIBLE.iter().find(|k| obj.contains_key(**k)) {
        return Err(Unconvertible {
            pointer: ptr.to_string(),
            construct: (*kw).to_string(),
        });
    }

    // type arrays
    if let Some(Value::Array(types)) = obj.get("type").cloned() {
        let has_null = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        match rest.len() {
            0 => {
                obj.remove("type");
                obj.insert("enum".into(), Value::Array(vec![Value::Null]));
            }
            1 => {
                obj.insert("type".into(), rest[0].clone());
            }
            _ => {
                obj.remove("type");
                let alts = rest
                    .iter()
                    .map(|t| Value::Object(Map::from_iter([("type".to_string(), t.clone())])))
                    .collect();
                obj.insert("anyOf".into(), Value::Array(alts));
            }
        }
        if has_null {
            obj.insert("nullable".into(), Value::Bool(true));
        }
        report.fire(
            "type-array",
            ptr,
            format!("type array -> {} type(s), nullable={has_null}", rest.len()),
        );
    }

    if obj.get("type") == Some(&Value::from("null")) {
        obj.remove("type");
        obj.insert("enum".into(), Value::Array(vec![Value::Null]));
        obj.insert("nullable".into(), Value::Bool(true));
        report.fire("null-type", ptr, "type null -> enum [null], nullable");
    }

    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = obj.get_mut(key) {
            let before = alts.len();
            alts.retain(|a| !is_null_schema(a));
            if alts.len() != before {
                obj.insert("nullable".into(), Value::Bool(true));
                report.fire(
                    "null-alternative",
                    ptr,
                    format!("{key}: null alternative -> nullable"),
                );
            }
        }
    }

    if let Some(c) = obj.remove("const") {
        if !obj.contains_key("type")
            && let Some(t) = json_type(&c)
        {
            obj.insert("type".into(), Value::from(t));
        }
        obj.insert("enum".into(), Value::Array(vec![c.clone()]));
        report.fire("const", ptr, format!("const {c} -> enum [{c}]"));
    }

    if let Some(Value::Array(examples)) = obj.get("examples").cloned() {
        obj.remove("examples");
        if let Some(first) = examples.into_iter().next() {
            obj.insert("example".into(), first);
        }
        report.fire("examples", ptr, "examples array -> example");
    }

    if !is_component_root
        && becomes_named_type(obj)
        && let Some(Value::String(title)) = obj.get("title")
    {
        let mut content = Value::Object(obj.clone());
        strip_annotations(&mut content);
        inline.push(InlineTitle {
            pointer: ptr.to_string(),
            title: title.clone(),
            place: place.to_vec(),
            content,
        });
    }

    let required: Vec<String> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for (name, sub) in props.iter_mut() {
            let Some(p) = sub.as_object_mut() else {
                continue;
            };
            let collection = matches!(
                p.get("type").and_then(Value::as_str),
                Some("array" | "object")
            );
            if collection
                && !required.contains(name)
                && !p.contains_key("$ref")
                && p.get("nullable") != Some(&Value::Bool(true))
            {
                p.insert("nullable".into(), Value::Bool(true));
                report.fire(
                    "nullable-optional",
                    &format!("{ptr}/properties/{}", escape(name)),
                    "optional array/object -> nullable (servers send null)",
                );
            }
        }
    }

    // Recurse into sub-schemas.
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for (name, sub) in props.iter_mut() {
            let mut p = place.to_vec();
            p.push(name.clone());
            walk_schema(
                sub,
                &format!("{ptr}/properties/{}", escape(name)),
                report,
                inline,
                &p,
                false,
            )?;
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = obj.get_mut(key)
            && sub.is_object()
        {
            let mut p = place.to_vec();
            p.push(if key == "items" {
                "item".into()
            } else {
                key.into()
            });
            walk_schema(sub, &format!("{ptr}/{key}"), report, inline, &p, false)?;
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = obj.get_mut(key) {
            for (i, sub) in alts.iter_mut().enumerate() {
                // allOf parts describe the same object, so their properties keep the parent's place.
                let mut p = place.to_vec();
                if key != "allOf" {
                    p.push(format!("variant{i}"));
                }
                walk_schema(sub, &format!("{ptr}/{key}/{i}"), report, inline, &p, false)?;
            }
        }
    }
    Ok(())
}

fn rename_colliding_titles(
    doc: &mut Value,
    inline: &[InlineTitle],
    component_names: &[String],
    report: &mut Report,
) {
    let mut groups: BTreeMap<String, Vec<&InlineTitle>> = BTreeMap::new();
    for t in inline {
        groups.entry(type_key(&t.title)).or_default().push(t);
    }
    let components: Vec<String> = component_names.iter().map(|n| type_key(n)).collect();
    let mut taken: Vec<String> = components.clone();
    taken.extend(groups.keys().cloned());

    for (key, members) in &groups {
        let clashes_component = components.contains(key);
        let differing = members.iter().any(|m| m.content != members[0].content);
        if !(clashes_component || differing) {
            continue;
        }
        for m in members {
            let mut name: String = m.place.iter().map(|p| pascal(p)).collect();
            let base = name.clone();
            let mut n = 2;
            while taken.contains(&type_key(&name)) {
                name = format!("{base}{n}");
                n += 1;
            }
            taken.push(type_key(&name));
            if let Some(Value::Object(obj)) = doc.pointer_mut(&m.pointer) {
                obj.insert("title".into(), Value::String(name.clone()));
            }
            let why = if clashes_component {
                "equals a component name"
            } else {
                "shared by schemas of different content"
            };
            report.fire(
                "title-collision",
                &m.pointer,
                format!("title {:?} ({why}) -> {name:?}", m.title),
            );
        }
    }
}

/// Whether typify generates a named type for this schema (plain scalars and arrays it maps to
/// built-in types, whose titles cannot collide).
fn becomes_named_type(obj: &Map<String, Value>) -> bool {
    ["enum", "properties", "oneOf", "anyOf", "allOf"]
        .iter()
        .any(|k| obj.contains_key(*k))
}

fn is_null_schema(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.get("type") == Some(&Value::from("null"))
        && o.keys()
            .all(|k| matches!(k.as_str(), "type" | "title" | "description"))
}

fn json_type(v: &Value) -> Option<&'static str> {
    match v {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        _ => None,
    }
}

fn strip_annotations(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in ["title", "description", "example", "examples", "default"] {
                o.remove(k);
            }
            o.values_mut().for_each(strip_annotations);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_annotations),
        _ => {}
    }
}

/// How typify turns a title into a type name, reduced to a comparison key.
fn type_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `if_not_exists` -> `IfNotExists`, `run_id` -> `RunId`, `RunResult` stays.
fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// JSON pointer escaping (RFC 6901).
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc_with(schemas: Value) -> Value {
        json!({"openapi": "3.1.1", "info": {"title": "t", "version": "1"}, "paths": {},
               "components": {"schemas": schemas}})
    }

    fn run(schemas: Value) -> (Value, Report) {
        normalize(&doc_with(schemas)).expect("normalizes")
    }

    fn rules(r: &Report) -> Vec<&'static str> {
        r.fired.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn openapi_version_is_rewritten_and_31_keys_removed() {
        let mut d = doc_with(json!({}));
        d["webhooks"] = json!({});
        d["jsonSchemaDialect"] = json!("x");
        let (out, r) = normalize(&d).unwrap();
        assert_eq!(out["openapi"], "3.0.3");
        assert!(out.get("webhooks").is_none() && out.get("jsonSchemaDialect").is_none());
        assert_eq!(rules(&r), ["openapi-version"; 3]);
    }

    #[test]
    fn type_array_with_null_becomes_nullable() {
        let (out, r) = run(json!({"A": {"type": ["string", "null"]}}));
        assert_eq!(
            out["components"]["schemas"]["A"],
            json!({"type": "string", "nullable": true})
        );
        assert!(rules(&r).contains(&"type-array"));
    }

    #[test]
    fn type_array_of_several_types_becomes_any_of() {
        let (out, _) = run(json!({"A": {"type": ["string", "integer"]}}));
        assert_eq!(
            out["components"]["schemas"]["A"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn lone_null_type_becomes_null_enum() {
        let (out, r) = run(json!({"A": {"type": "null"}}));
        assert_eq!(
            out["components"]["schemas"]["A"],
            json!({"enum": [null], "nullable": true})
        );
        assert_eq!(rules(&r)[1], "null-type");
    }

    #[test]
    fn null_alternative_in_any_of_becomes_nullable() {
        let (out, r) = run(json!({"A": {"anyOf": [{"type": "string"}, {"type": "null"}]}}));
        assert_eq!(
            out["components"]["schemas"]["A"],
            json!({"anyOf": [{"type": "string"}], "nullable": true})
        );
        assert!(rules(&r).contains(&"null-alternative"));
    }

    #[test]
    fn null_alternative_in_one_of_becomes_nullable() {
        let (out, _) = run(
            json!({"A": {"oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]}, "B": {"type": "string"}}),
        );
        assert_eq!(out["components"]["schemas"]["A"]["nullable"], true);
        assert_eq!(
            out["components"]["schemas"]["A"]["oneOf"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn const_becomes_single_enum_with_type() {
        let (out, r) =
            run(json!({"A": {"type": "object", "properties": {"t": {"const": "text"}}}}));
        assert_eq!(
            out["components"]["schemas"]["A"]["properties"]["t"],
            json!({"enum": ["text"], "type": "string"})
        );
        assert!(rules(&r).contains(&"const"));
    }

    #[test]
    fn optional_collections_become_nullable_required_ones_do_not() {
        let (out, r) = run(
            json!({"A": {"type": "object", "required": ["req"], "properties": {
            "req": {"type": "array"}, "opt": {"type": "array"}, "meta": {"type": "object"},
            "name": {"type": "string"}, "r": {"$ref": "#/components/schemas/B"}
        }}, "B": {"type": "object"}}),
        );
        let p = &out["components"]["schemas"]["A"]["properties"];
        assert_eq!(p["opt"]["nullable"], true);
        assert_eq!(p["meta"]["nullable"], true);
        assert!(p["req"].get("nullable").is_none());
        assert!(p["name"].get("nullable").is_none());
        assert!(p["r"].get("nullable").is_none());
        assert_eq!(
            rules(&r)
                .iter()
                .filter(|r| **r == "nullable-optional")
                .count(),
            2
        );
    }

    #[test]
    fn examples_array_becomes_example() {
        let (out, r) = run(json!({"A": {"type": "string", "examples": ["x", "y"]}}));
        assert_eq!(
            out["components"]["schemas"]["A"],
            json!({"type": "string", "example": "x"})
        );
        assert!(rules(&r).contains(&"examples"));
    }

    #[test]
    fn error_response_accepts_any_json() {
        let (out, r) = run(json!({"ErrorResponse": {"type": "string", "title": "ErrorResponse"}}));
        assert_eq!(
            out["components"]["schemas"]["ErrorResponse"],
            json!({"title": "ErrorResponse"})
        );
        assert!(rules(&r).contains(&"error-body-any"));
    }

    #[test]
    fn colliding_inline_titles_get_names_from_their_place() {
        let s = |v: &str| json!({"type": "object", "properties": {"type": {"title": "Output Type", "type": "string", "enum": [v]}}});
        let (out, r) = run(json!({"RunResult": s("result"), "RunError": s("error")}));
        let c = &out["components"]["schemas"];
        assert_eq!(
            c["RunResult"]["properties"]["type"]["title"],
            "RunResultType"
        );
        assert_eq!(c["RunError"]["properties"]["type"]["title"], "RunErrorType");
        assert_eq!(
            rules(&r)
                .iter()
                .filter(|r| **r == "title-collision")
                .count(),
            2
        );
    }

    #[test]
    fn identical_inline_titles_are_left_alone() {
        let s = json!({"type": "object", "properties": {"m": {"title": "Mode", "type": "string", "enum": ["a"]}}});
        let (out, r) = run(json!({"A": s.clone(), "B": s}));
        assert_eq!(
            out["components"]["schemas"]["A"]["properties"]["m"]["title"],
            "Mode"
        );
        assert!(!rules(&r).contains(&"title-collision"));
    }

    #[test]
    fn inline_title_equal_to_a_component_name_is_renamed() {
        let (out, _) = run(json!({
            "Config": {"type": "object"},
            "A": {"type": "object", "properties": {"config": {"title": "Config", "type": "object", "properties": {"x": {"type": "string"}}}}}
        }));
        assert_eq!(
            out["components"]["schemas"]["A"]["properties"]["config"]["title"],
            "AConfig"
        );
    }

    #[test]
    fn unconvertible_construct_names_its_pointer() {
        let err = normalize(&doc_with(
            json!({"A": {"type": "object", "properties": {"p": {"prefixItems": []}}}}),
        ))
        .unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/A/properties/p");
        assert_eq!(err.construct, "prefixItems");
        assert!(
            err.to_string()
                .contains("#/components/schemas/A/properties/p")
        );
    }

    #[test]
    fn schemas_in_operations_are_normalized() {
        let d = json!({"openapi": "3.1.1", "info": {"title": "t", "version": "1"}, "paths": {"/x/{id}": {"get": {
            "operationId": "get_x",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": ["string", "null"]}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"const": 1}}}}}
        }}}});
        let (out, _) = normalize(&d).unwrap();
        let op = &out["paths"]["/x/{id}"]["get"];
        assert_eq!(op["parameters"][0]["schema"]["nullable"], true);
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"],
            json!({"enum": [1], "type": "integer"})
        );
    }

    /// A document with every construct the rules handle, normalized in one go.
    #[test]
    fn golden_document_with_every_construct() {
        let input = json!({
            "openapi": "3.1.1", "info": {"title": "t", "version": "1"}, "paths": {}, "webhooks": {},
            "components": {"schemas": {
                "ErrorResponse": {"type": "string"},
                "Mode": {"type": "string", "enum": ["values", "custom"]},
                "Req": {"type": "object", "examples": [{"mode": "values"}], "properties": {
                    "mode": {"anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Mode"}}, {"$ref": "#/components/schemas/Mode"}, {"type": "null"}]},
                    "name": {"type": ["string", "null"]},
                    "kind": {"title": "Kind", "const": "a"},
                    "nothing": {"type": "null"}
                }},
                "Other": {"type": "object", "properties": {"kind": {"title": "Kind", "const": "b"}}}
            }}
        });
        let expected = json!({
            "openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {
                "ErrorResponse": {},
                "Mode": {"type": "string", "enum": ["values", "custom"]},
                "Req": {"type": "object", "example": {"mode": "values"}, "properties": {
                    "mode": {"anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Mode"}}, {"$ref": "#/components/schemas/Mode"}], "nullable": true},
                    "name": {"type": "string", "nullable": true},
                    "kind": {"title": "ReqKind", "type": "string", "enum": ["a"]},
                    "nothing": {"enum": [null], "nullable": true}
                }},
                "Other": {"type": "object", "properties": {"kind": {"title": "OtherKind", "type": "string", "enum": ["b"]}}}
            }}
        });
        let (out, report) = normalize(&input).unwrap();
        assert_eq!(out, expected);
        assert_eq!(
            report.summary(),
            "openapi-version x2, error-body-any x1, const x2, examples x1, null-alternative x1, type-array x1, null-type x1, title-collision x2"
        );
    }
}
