//! Rust types from an agent's descriptor (feature `agent-types`).
//!
//! An ACP agent descriptor says, as JSON Schemas, what the agent takes and returns. [`generate`]
//! turns those schemas into the source of a Rust module, with [typify] (the generator progenitor
//! uses for the ACP client itself), so the compiler checks what a program sends and reads:
//!
//! | descriptor (`specs.`…) | type |
//! |---|---|
//! | `input` | `Input` |
//! | `output` | `Output` |
//! | `config` | `Config` |
//! | `thread_state` | `ThreadState` |
//! | `custom_streaming_update` | `CustomUpdate` |
//! | `interrupts[]` with `interrupt_type` `"approval"`: `interrupt_payload`, `resume_payload` | `ApprovalInterruptPayload`, `ApprovalResumePayload` |
//!
//! A type is generated only for the schemas the descriptor has. Every type is `Serialize`,
//! `Deserialize`, `Clone`, `Debug` and `PartialEq`, with the schema's `description` as its docs.
//! Named subschemas (`$defs`, `definitions`, or any other local `$ref` target) become types of
//! their own, shared between the roots when they are the same schema and prefixed with the
//! root's name (`OutputMessage`) when two roots define different schemas under one name; a
//! titled inline object, enum or union (pydantic titles every copy of a model) is named the same
//! way, so that it cannot clash with a `$defs` entry of that title, and identical schemas share
//! one type wherever they sit. A field that is required but may be `null` is an `Option`
//! (`Option<Vec<Message>>`, not an empty `Vec`): `null` and `[]` are different values an agent
//! may tell apart, and a round trip keeps them. A root
//! that is not an object (a string, an array, any value) becomes a newtype around the matching
//! Rust type. Nested anonymous objects get names derived from their parent (`InputOptions`).
//!
//! By default the module needs only `serde` (with `derive`) and `serde_json`: string formats
//! that typify would map to other crates (`date-time`, `date`, `uuid`) stay `String`, and
//! `pattern` constraints are dropped (check them at run time with `validate` instead).
//! [`Options::format_types`] keeps typify's mapping (then the module needs `chrono`, `uuid`
//! and `regress`). The output is formatted with prettyplease and then, if it can be run,
//! rustfmt (`$RUSTFMT` or `rustfmt` on the `PATH`).
//!
//! The input may be a descriptor (`GET /agents/{agent_id}/descriptor`), an agent manifest (it
//! has the descriptor's `specs` at the top), an OASF agent record whose manifest extension
//! carries them under `data.acp`, or a bare `specs` object.
//!
//! From the command line: `acp agent-types descriptor.json > src/agent.rs` (feature `cli`).
//!
//! # Example: in a `build.rs`
//!
//! ```no_run
//! // build.rs, with `acp-client-ext = { version = "0.1", features = ["agent-types"] }`
//! // under [build-dependencies] and `serde`, `serde_json` under [dependencies].
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     println!("cargo::rerun-if-changed=mailcomposer.json");
//!     let descriptor: serde_json::Value =
//!         serde_json::from_str(&std::fs::read_to_string("mailcomposer.json")?)?;
//!     let source = acp_client_ext::agent_types::generate(&descriptor)?;
//!     let out = std::path::Path::new(&std::env::var("OUT_DIR")?).join("mailcomposer.rs");
//!     std::fs::write(out, source)?;
//!     Ok(())
//! }
//! // src/main.rs:
//! // mod mailcomposer { include!(concat!(env!("OUT_DIR"), "/mailcomposer.rs")); }
//! ```
//!
//! # Example: the generated types
//!
//! ```
//! use serde_json::json;
//!
//! let descriptor = json!({
//!     "metadata": {"ref": {"name": "counter", "version": "1.0.0"}, "description": "Counts."},
//!     "specs": {
//!         "capabilities": {},
//!         "input": {"type": "object", "description": "What to count.",
//!                   "properties": {"count": {"type": "integer", "minimum": 0}},
//!                   "required": ["count"]},
//!         "output": {"type": "string"},
//!         "config": {"type": "object"},
//!     }
//! });
//! let source = acp_client_ext::agent_types::generate(&descriptor)?;
//! assert!(source.contains("pub struct Input {"));
//! assert!(source.contains("pub count: u64,"));
//! assert!(source.contains("pub struct Output(pub ::std::string::String);"));
//! assert!(source.contains("/// What to count."));
//! # Ok::<(), acp_client_ext::agent_types::AgentTypesError>(())
//! ```
//!
//! # Caveats
//!
//! - Only references inside the descriptor's own schemas (`#/...`) are followed; a `$ref` to
//!   another document or to an `$anchor` is refused with [`AgentTypesError::UnsupportedRef`].
//! - typify reads JSON Schema draft 7; the 2020-12 keywords descriptors use are rewritten first
//!   (`$defs`, `prefixItems`, OpenAPI's `nullable` and boolean `exclusiveMinimum`), and
//!   a `prefixItems` becomes a tuple only when it is closed (`"items": false`) or of fixed
//!   length (otherwise an array of any values);
//!   keywords typify does not know (`unevaluatedProperties`, `dependentRequired`, ..) do not
//!   shape the types. typify panics on some schemas it cannot handle; such a panic is caught
//!   and returned as [`AgentTypesError::Typify`] (the panic hook still prints it to stderr).

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};

use serde_json::Value;

pub(crate) mod specs;

/// Why [`generate`] could not produce a module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentTypesError {
    /// The document is not a descriptor, a manifest or a `specs` object.
    #[error("expected {expected}; found {found}")]
    NotADescriptor {
        /// What is accepted.
        expected: &'static str,
        /// What the document is instead.
        found: String,
    },
    /// A `$ref` that cannot be followed.
    #[error("{schema}: unsupported $ref {reference:?}: {reason}")]
    UnsupportedRef {
        /// Where the reference is: `specs.input`, `specs.interrupts[0].resume_payload`, ...
        schema: String,
        /// The reference as written.
        reference: String,
        /// Why it cannot be followed.
        reason: &'static str,
    },
    /// A schema that is not a JSON Schema (for example `"type": 3`).
    #[error("{schema}: not a JSON Schema: {message}")]
    InvalidSchema {
        /// Where the schema is.
        schema: String,
        /// What the schema reader said.
        message: String,
    },
    /// typify refused (or panicked on) the schemas.
    #[error("typify could not convert the schemas: {message}")]
    Typify {
        /// typify's error or panic message.
        message: String,
    },
    /// The descriptor value could not be serialized (only from [`generate_from_descriptor`]).
    #[error("could not serialize the descriptor: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// How [`generate_with`] generates; [`Options::default`] is what [`generate`] uses.
#[derive(Debug, Clone)]
pub struct Options {
    format_types: bool,
    rustfmt: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format_types: false,
            rustfmt: true,
        }
    }
}

impl Options {
    /// Keeps typify's types for string formats and patterns: `date-time` becomes
    /// `chrono::DateTime<Utc>`, `date` `chrono::NaiveDate`, `uuid` `uuid::Uuid`, and a string
    /// with a `pattern` a newtype checked with `regress`. Off by default, so the module needs
    /// only `serde` and `serde_json`.
    ///
    /// ```
    /// use acp_client_ext::agent_types::{Options, generate_with};
    /// let specs = serde_json::json!({"output": {"type": "string", "format": "uuid"}});
    /// let plain = generate_with(&specs, &Options::default())?;
    /// assert!(plain.contains("pub struct Output(pub ::std::string::String);"));
    /// let typed = generate_with(&specs, &Options::default().format_types(true))?;
    /// assert!(typed.contains("pub struct Output(pub ::uuid::Uuid);"));
    /// # Ok::<(), acp_client_ext::agent_types::AgentTypesError>(())
    /// ```
    #[must_use]
    pub fn format_types(mut self, yes: bool) -> Self {
        self.format_types = yes;
        self
    }

    /// Whether to run rustfmt on the output (default: yes, when it can be run; without it the
    /// output is prettyplease's formatting).
    #[must_use]
    pub fn rustfmt(mut self, yes: bool) -> Self {
        self.rustfmt = yes;
        self
    }
}

/// The source of a Rust module with the types of the agent `descriptor` describes (see the
/// [module docs](self) for the names and what the module needs).
///
/// The source has no inner attributes or inner doc comments, so it can be `include!`d.
///
/// # Errors
///
/// [`AgentTypesError`]: the document is not a descriptor, a schema is invalid, a `$ref` points
/// outside the descriptor, or typify refuses the schemas.
///
/// # Example
///
/// ```
/// let specs = serde_json::json!({"output": {"type": "object",
///     "properties": {"answers": {"type": "array", "items": {"type": "string"}}}}});
/// let source = acp_client_ext::agent_types::generate(&specs)?;
/// assert!(source.contains("pub answers: ::std::vec::Vec<::std::string::String>,"));
/// # Ok::<(), acp_client_ext::agent_types::AgentTypesError>(())
/// ```
pub fn generate(descriptor: &Value) -> Result<String, AgentTypesError> {
    generate_with(descriptor, &Options::default())
}

/// [`generate`] for a descriptor the client has already read
/// (`client.get_acp_descriptor_by_id()`).
///
/// # Errors
///
/// As [`generate`].
///
/// # Example
///
/// ```
/// use acp_client_ext::types::AgentAcpDescriptor;
/// let descriptor: AgentAcpDescriptor = serde_json::from_value(serde_json::json!({
///     "metadata": {"ref": {"name": "echo", "version": "0.1.0"}, "description": "Echoes."},
///     "specs": {"capabilities": {}, "input": {"type": "object"},
///               "output": {"type": "object"}, "config": {"type": "object"}}
/// }))?;
/// let source = acp_client_ext::agent_types::generate_from_descriptor(&descriptor)?;
/// assert!(source.contains("pub struct Config("));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generate_from_descriptor(
    descriptor: &crate::types::AgentAcpDescriptor,
) -> Result<String, AgentTypesError> {
    generate(&serde_json::to_value(descriptor)?)
}

/// [`generate`] with [`Options`].
///
/// # Errors
///
/// As [`generate`].
pub fn generate_with(descriptor: &Value, options: &Options) -> Result<String, AgentTypesError> {
    let found = specs::locate(descriptor).map_err(|e| AgentTypesError::NotADescriptor {
        expected: specs::EXPECTED,
        found: e.0,
    })?;
    let roots = roots(&found);
    let mut collector = Collector {
        roots: &roots,
        format_types: options.format_types,
        assigned: HashMap::new(),
        taken: BTreeMap::new(),
        pending: Vec::new(),
        hints: HashMap::new(),
        named: Vec::new(),
    };
    for (i, root) in roots.iter().enumerate() {
        collector
            .taken
            .insert(name_key(&root.name), (i, String::new()));
    }
    let mut defs: Vec<(String, Value)> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        let mut schema = collector.normalize(i, "", &root.schema)?;
        if let Value::Object(obj) = &mut schema {
            obj.entry("description")
                .or_insert_with(|| Value::String(root.doc.clone()));
        }
        defs.push((root.name.clone(), schema));
    }
    // First named, first converted: a `$defs` entry of an earlier root keeps the plain name
    // before a titled copy further on is met.
    while !collector.pending.is_empty() {
        let (i, pointer, name) = collector.pending.remove(0);
        let raw = roots[i]
            .schema
            .pointer(&pointer)
            .cloned()
            .unwrap_or_default();
        defs.push((name, collector.normalize(i, &pointer, &raw)?));
    }
    let mut typed = Vec::with_capacity(defs.len());
    for (name, schema) in defs {
        let schema: schemars::schema::Schema =
            serde_json::from_value(schema).map_err(|e| AgentTypesError::InvalidSchema {
                schema: roots
                    .iter()
                    .find(|r| r.name == name)
                    .map_or_else(|| format!("definition {name}"), |r| r.place.clone()),
                message: e.to_string(),
            })?;
        typed.push((name, schema));
    }
    let mut file = typify(typed)?;
    syn::visit_mut::visit_file_mut(&mut DocLines, &mut file);
    let body = prettyplease::unparse(&file);
    let body = if options.rustfmt {
        rustfmt(&body).unwrap_or(body)
    } else {
        body
    };
    Ok(header(&found, &roots) + &body)
}

/// One schema of the descriptor that becomes a named type.
struct Root {
    /// The type's name.
    name: String,
    /// Where the schema is in the descriptor (`specs.input`).
    place: String,
    /// The default docs, when the schema has no `description`.
    doc: String,
    schema: Value,
}

fn roots(found: &specs::Specs<'_>) -> Vec<Root> {
    let agent = found
        .name
        .map_or_else(|| "the agent".to_string(), |n| format!("agent `{n}`"));
    let mut roots = Vec::new();
    let mut add = |name: String, place: String, what: &str, schema: Option<&Value>| {
        if let Some(schema) = schema {
            roots.push(Root {
                doc: format!("The {what} of {agent} (`{place}` of its ACP descriptor)."),
                name,
                place,
                schema: schema.clone(),
            });
        }
    };
    add("Input".into(), "specs.input".into(), "input", found.input);
    add(
        "Output".into(),
        "specs.output".into(),
        "output",
        found.output,
    );
    add(
        "Config".into(),
        "specs.config".into(),
        "configuration",
        found.config,
    );
    add(
        "ThreadState".into(),
        "specs.thread_state".into(),
        "thread state",
        found.thread_state,
    );
    add(
        "CustomUpdate".into(),
        "specs.custom_streaming_update".into(),
        "custom streaming update",
        found.custom_update,
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, int) in found.interrupts.iter().enumerate() {
        let mut base = int.kind.map(pascal).unwrap_or_default();
        if base.is_empty() && found.interrupts.len() > 1 {
            base = format!("Interrupt{i}");
        }
        let n = seen.entry(name_key(&base)).or_default();
        *n += 1;
        if *n > 1 {
            base = format!("{base}{n}");
        }
        let kind = int.kind.map_or_else(String::new, |k| format!("`{k}` "));
        add(
            format!("{base}InterruptPayload"),
            format!("specs.interrupts[{i}].interrupt_payload"),
            &format!("{kind}interrupt payload"),
            int.payload,
        );
        add(
            format!("{base}ResumePayload"),
            format!("specs.interrupts[{i}].resume_payload"),
            &format!("payload answering a {kind}interrupt"),
            int.resume,
        );
    }
    roots
}

/// Rewrites the roots' schemas into what typify reads, naming every `$ref` target once.
struct Collector<'a> {
    roots: &'a [Root],
    format_types: bool,
    /// (root, JSON pointer in that root) -> definition name.
    assigned: HashMap<(usize, String), String>,
    /// [`name_key`] of every name in use -> where its schema is.
    taken: BTreeMap<String, (usize, String)>,
    /// Definitions named but not converted yet: (root, pointer, name).
    pending: Vec<(usize, String, String)>,
    /// (root, pointer) of an inline titled schema moved out to a definition -> its title.
    hints: HashMap<(usize, String), String>,
    /// Every definition named so far, in order: (name, root, pointer), to merge a schema
    /// identical to one of them whatever name it would get.
    named: Vec<(String, usize, String)>,
}

/// Metadata keywords that may stand beside a `$ref` without changing what it means to typify.
const REF_SIBLINGS: [&str; 8] = [
    "$ref",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

impl Collector<'_> {
    /// A copy of `schema` (at `pointer` in root `i`) as typify reads it.
    fn normalize(
        &mut self,
        i: usize,
        pointer: &str,
        schema: &Value,
    ) -> Result<Value, AgentTypesError> {
        let mut schema = schema.clone();
        specs::for_each_subschema_at(&mut schema, pointer, &mut |sub, at| self.hoist(i, sub, at));
        specs::openapi_nullable(&mut schema);
        let mut error = None;
        self.fix(i, &mut schema, &mut error);
        match error {
            Some(e) => Err(e),
            None => Ok(schema),
        }
    }

    fn fix(&mut self, i: usize, schema: &mut Value, error: &mut Option<AgentTypesError>) {
        if error.is_some() {
            return;
        }
        let Value::Object(obj) = schema else { return };
        for key in [
            "$schema",
            "$id",
            "$comment",
            "$anchor",
            "$dynamicAnchor",
            "$vocabulary",
            "$defs",
            "definitions",
        ] {
            obj.remove(key);
        }
        if let Some(prefix) = obj.remove("prefixItems") {
            // typify makes a tuple only of a fixed length (`minItems` = `maxItems`); a closed
            // `prefixItems` without bounds (what a tuple means) gets them, and any other
            // prefix is read as an array of any values.
            let rest = obj.remove("items");
            let len = prefix.as_array().map_or(0, Vec::len);
            let unbounded = !obj.contains_key("minItems") && !obj.contains_key("maxItems");
            if unbounded && rest == Some(Value::Bool(false)) {
                obj.insert("minItems".into(), len.into());
                obj.insert("maxItems".into(), len.into());
            }
            let min = obj.get("minItems").and_then(Value::as_u64);
            if min.is_some_and(|m| m > 0) && min == obj.get("maxItems").and_then(Value::as_u64) {
                obj.insert("items".into(), prefix);
                if let Some(rest) = rest {
                    obj.insert("additionalItems".into(), rest);
                }
            }
        }
        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(Value::Bool(on)) = obj.get(exclusive).cloned() {
                obj.remove(exclusive);
                if let (true, Some(b)) = (on, obj.remove(bound)) {
                    obj.insert(exclusive.into(), b);
                }
            }
        }
        if !self.format_types {
            obj.remove("pattern");
            if matches!(
                obj.get("format").and_then(Value::as_str),
                Some("date" | "date-time" | "uuid")
            ) {
                obj.remove("format");
            }
        }
        if let Some(Value::String(reference)) = obj.get("$ref").cloned() {
            match self.ref_target(i, &reference) {
                Ok(name) => {
                    let target = Value::String(format!("#/definitions/{name}"));
                    if obj.keys().all(|k| REF_SIBLINGS.contains(&k.as_str())) {
                        obj.insert("$ref".into(), target);
                    } else {
                        // typify reads a `$ref` with constraints beside it as the reference
                        // alone; as an `allOf` member it merges them.
                        obj.remove("$ref");
                        let member = serde_json::json!({ "$ref": target });
                        match obj.get_mut("allOf") {
                            Some(Value::Array(all)) => all.push(member),
                            _ => {
                                obj.insert("allOf".into(), Value::from(vec![member]));
                            }
                        }
                    }
                }
                Err(e) => {
                    *error = Some(e);
                    return;
                }
            }
        }
        specs::for_each_subschema(schema, &mut |sub| self.fix(i, sub, error));
    }

    /// Moves a titled inline schema that typify would make a type of (an object, an enum, a
    /// union of two or more non-null schemas) out to a definition of its own, named through
    /// [`Self::ref_target`] like any `$ref` target: typify names such a schema by its `title`
    /// wherever it sits, so two different ones with one title (pydantic writes `"title":
    /// "Message"` into every copy of a model) would otherwise be two types with one name.
    /// Other subschemas are walked on.
    fn hoist(&mut self, i: usize, sub: &mut Value, at: &str) {
        let Some(title) = sub.get("title").and_then(Value::as_str) else {
            specs::for_each_subschema_at(sub, at, &mut |s, p| self.hoist(i, s, p));
            return;
        };
        if !makes_a_type(sub) || sub.get("$ref").is_some() {
            specs::for_each_subschema_at(sub, at, &mut |s, p| self.hoist(i, s, p));
            return;
        }
        self.hints.insert((i, at.to_string()), title.to_string());
        let mut reference = serde_json::Map::new();
        // Written as a URI fragment: `%` is the one character ref_target decodes.
        reference.insert("$ref".into(), format!("#{}", at.replace('%', "%25")).into());
        if let Some(d) = sub.get("description") {
            reference.insert("description".into(), d.clone());
        }
        *sub = Value::Object(reference);
    }

    /// The definition name for `reference` in root `i`, assigning one on first sight.
    fn ref_target(&mut self, i: usize, reference: &str) -> Result<String, AgentTypesError> {
        let unsupported = |reason| AgentTypesError::UnsupportedRef {
            schema: self.roots[i].place.clone(),
            reference: reference.to_string(),
            reason,
        };
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(unsupported(
                "only references inside the descriptor's schemas (`#/...`) can be followed",
            ));
        };
        let pointer = percent_decode(fragment);
        if pointer.is_empty() {
            return Ok(self.roots[i].name.clone());
        }
        if !pointer.starts_with('/') {
            return Err(unsupported("`$anchor` references are not supported"));
        }
        if let Some(name) = self.assigned.get(&(i, pointer.clone())) {
            return Ok(name.clone());
        }
        if self.roots[i].schema.pointer(&pointer).is_none() {
            return Err(unsupported("it points at nothing in this schema"));
        }
        let last = pointer.rsplit('/').next().unwrap_or_default();
        let hinted = self.hints.get(&(i, pointer.clone())).cloned();
        let base = pascal(&hinted.unwrap_or_else(|| last.replace("~1", "/").replace("~0", "~")));
        // The same schema as one already named (under any name): that type.
        if let Some(name) = self
            .named
            .iter()
            .find(|(_, j, q)| self.same_schema((i, &pointer), (*j, q)))
            .map(|(n, _, _)| n.clone())
        {
            self.assigned.insert((i, pointer), name.clone());
            return Ok(name);
        }
        let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            format!("Def{base}")
        } else {
            base
        };
        let mut candidate = base.clone();
        let mut n = 1;
        loop {
            match self.taken.get(&name_key(&candidate)) {
                None => {
                    self.taken
                        .insert(name_key(&candidate), (i, pointer.clone()));
                    self.pending.push((i, pointer.clone(), candidate.clone()));
                    self.named.push((candidate.clone(), i, pointer.clone()));
                    break;
                }
                Some((j, q)) if self.same_schema((i, &pointer), (*j, q)) => break,
                Some(_) => {
                    n += 1;
                    let root = &self.roots[i].name;
                    candidate = match n {
                        2 => format!("{root}{base}"),
                        _ => format!("{root}{base}{n}"),
                    };
                }
            }
        }
        self.assigned.insert((i, pointer), candidate.clone());
        Ok(candidate)
    }

    /// Whether two reference targets mean the same schema: equal, and so is everything they
    /// reach through references (which would otherwise resolve in different roots), wherever
    /// in their roots they are.
    fn same_schema(&self, a: (usize, &str), b: (usize, &str)) -> bool {
        match (self.closure(a), self.closure(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// Every schema `start` reaches by references, in the order first reached, each reference
    /// replaced by the index of its target in that order (so that the same shape at other
    /// pointers compares equal); `None` if one of them is the root itself (whose name differs
    /// per root) or is not a local pointer.
    fn closure(&self, (i, start): (usize, &str)) -> Option<Vec<Value>> {
        if start.is_empty() {
            return None;
        }
        let doc = &self.roots[i].schema;
        let mut order = vec![start.to_string()];
        let mut out = Vec::new();
        let mut k = 0;
        while let Some(p) = order.get(k).cloned() {
            k += 1;
            let mut value = doc.pointer(&p)?.clone();
            let mut ok = true;
            renumber_refs(&mut value, &mut |r| {
                let target = r
                    .strip_prefix('#')
                    .map(percent_decode)
                    .filter(|t| t.starts_with('/'));
                let Some(target) = target else {
                    ok = false;
                    return Value::Null;
                };
                let n = order.iter().position(|o| *o == target).unwrap_or_else(|| {
                    order.push(target);
                    order.len() - 1
                });
                Value::from(n)
            });
            if !ok {
                return None;
            }
            out.push(value);
        }
        Some(out)
    }
}

/// Replaces every `$ref` string of `schema` (and its subschemas) by what `f` makes of it.
fn renumber_refs(schema: &mut Value, f: &mut dyn FnMut(&str) -> Value) {
    if let Some(Value::String(r)) = schema.get("$ref").cloned()
        && let Value::Object(obj) = schema
    {
        obj.insert("$ref".into(), f(&r));
    }
    specs::for_each_subschema(schema, &mut |sub| renumber_refs(sub, f));
}

/// Whether typify makes a named type of a titled schema: an object, an enum, or a union of
/// two or more schemas besides `null`.
fn makes_a_type(schema: &Value) -> bool {
    let is = |k: &str| schema.get(k).is_some();
    let union = ["oneOf", "anyOf"].iter().any(|k| {
        schema.get(*k).and_then(Value::as_array).is_some_and(|m| {
            m.iter()
                .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                .count()
                > 1
        })
    });
    is("properties") || is("enum") || union || schema.get("type") == Some(&Value::from("object"))
}

/// Runs typify on the named schemas, turning its panics into errors.
fn typify(defs: Vec<(String, schemars::schema::Schema)>) -> Result<syn::File, AgentTypesError> {
    let mut settings = typify::TypeSpaceSettings::default();
    settings
        .with_derive("PartialEq".to_string())
        // Deterministic field order in maps, unlike HashMap.
        .with_map_type("::std::collections::BTreeMap");
    let run = move || {
        let mut space = typify::TypeSpace::new(&settings);
        space.add_ref_types(defs).map(|()| space.to_stream())
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(tokens)) => syn::parse2(tokens).map_err(|e| AgentTypesError::Typify {
            message: format!("typify produced unparsable tokens: {e}"),
        }),
        Ok(Err(e)) => Err(AgentTypesError::Typify {
            message: e.to_string(),
        }),
        Err(panic) => Err(AgentTypesError::Typify {
            message: panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_else(|| "typify panicked".into()),
        }),
    }
}

/// `// ...` lines naming the agent and the generator (no `//!`: the module may be `include!`d).
fn header(found: &specs::Specs<'_>, roots: &[Root]) -> String {
    let agent = match (found.name, found.version) {
        (Some(n), Some(v)) => format!(" `{n}` {v}"),
        (Some(n), None) => format!(" `{n}`"),
        _ => String::new(),
    };
    let types: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
    format!(
        "// Types of the ACP agent{agent}, generated from its descriptor by acp-client-ext {} \
         (`acp agent-types`).\n// Do not edit: regenerate. Types: {}.\n\n",
        env!("CARGO_PKG_VERSION"),
        types.join(", ")
    )
}

/// "user_approval", "user-approval", "userApproval" -> "UserApproval".
fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Names that typify would turn into the same Rust identifier compare equal under this key.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `%24defs` -> `$defs` (a `$ref` is a URI; its fragment may be percent-encoded).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits multi-line `#[doc]` attributes into one per line, so prettyplease prints `///` lines
/// rather than `/** */` blocks (as `cargo xtask codegen` does for the client), and starts each
/// line with a space (typify writes `///A name.`).
struct DocLines;

impl syn::visit_mut::VisitMut for DocLines {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        let mut out = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            let text = match &attr.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            };
            match text {
                Some(text) => {
                    for line in text.lines() {
                        let line = if line.is_empty() || line.starts_with(' ') {
                            line.to_string()
                        } else {
                            format!(" {line}")
                        };
                        out.push(syn::parse_quote!(#[doc = #line]));
                    }
                }
                _ => out.push(attr),
            }
        }
        *attrs = out;
    }
}

/// Formats with the toolchain's rustfmt; `None` when it cannot be run or fails.
fn rustfmt(source: &str) -> Option<String> {
    let program = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let mut child = Command::new(program)
        .args(["--edition", "2024"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = source.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

#[cfg(test)]
mod tests;
