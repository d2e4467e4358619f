//! Checking a descriptor (feature `validate`): the JSON Schema of the format, derived from the
//! generated [`AgentAcpDescriptor`](crate::types::AgentAcpDescriptor) type, and the capability
//! rules of acp-sdk's generator (`agntcy_acp/manifest/generator.py`, `_gen_oas_thread_runs`,
//! `_gen_oas_interrupts`, `_gen_oas_streaming`), which its validator applies too.

use super::capabilities::Capabilities;
use super::locate::{Located, locate};
use serde_json::Value;
use std::fmt;
use std::sync::OnceLock;

/// A rule a descriptor can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The document is no descriptor, manifest, OASF record or specs object.
    NotADescriptor,
    /// The JSON Schema of the ACP descriptor format (from the spec's `AgentACPDescriptor`);
    /// [`Violation::keyword`] says which keyword failed.
    Schema,
    /// `thread_state` declared with `capabilities.threads` false.
    ThreadStateWithoutThreads,
    /// `capabilities.interrupts` true without a non-empty `interrupts` list.
    InterruptsMissing,
    /// An `interrupts` list with `capabilities.interrupts` false.
    InterruptsWithoutCapability,
    /// `capabilities.streaming.custom` true without `custom_streaming_update`.
    CustomUpdateMissing,
    /// `custom_streaming_update` with `capabilities.streaming.custom` false.
    CustomUpdateWithoutCapability,
}

impl Rule {
    /// The rule's name, as `acp validate` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::NotADescriptor => "not-a-descriptor",
            Rule::Schema => "schema",
            Rule::ThreadStateWithoutThreads => "thread-state-without-threads",
            Rule::InterruptsMissing => "interrupts-missing",
            Rule::InterruptsWithoutCapability => "interrupts-without-capability",
            Rule::CustomUpdateMissing => "custom-streaming-update-missing",
            Rule::CustomUpdateWithoutCapability => "custom-streaming-update-without-capability",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing wrong with a descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The JSON pointer of the offending value in the document checked (`/specs/thread_state`,
    /// `/extensions/0/data/acp/interrupts`; `""` for the whole document).
    pub path: String,
    /// The rule broken.
    pub rule: Rule,
    /// For [`Rule::Schema`], the JSON Schema keyword that failed (`required`, `type`, ..).
    pub keyword: Option<String>,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        match &self.keyword {
            Some(k) => write!(f, "{path}: {} ({k}): {}", self.rule, self.message),
            None => write!(f, "{path}: {}: {}", self.rule, self.message),
        }
    }
}

/// The descriptor format's JSON Schema, compiled once.
fn format_schema() -> Option<&'static jsonschema::Validator> {
    static SCHEMA: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let schema = schemars::schema_for!(crate::types::AgentAcpDescriptor);
            let schema = serde_json::to_value(schema).ok()?;
            jsonschema::validator_for(&schema).ok()
        })
        .as_ref()
}

/// Checks `doc`, a descriptor, a manifest (either layout) or an OASF record (see
/// [`locate`]): the descriptor format's JSON Schema, then the capability rules. Empty when
/// valid. Paths are in `doc`.
///
/// ```
/// use acp_client_ext::descriptor::{Rule, validate};
/// let doc = serde_json::json!({
///     "metadata": {"ref": {"name": "a", "version": "1.0.0"}, "description": "An agent."},
///     "specs": {"capabilities": {"threads": false}, "input": {}, "output": {}, "config": {},
///               "thread_state": {"type": "object"}}});
/// let found = validate(&doc);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].rule, Rule::ThreadStateWithoutThreads);
/// assert_eq!(found[0].path, "/specs/thread_state");
/// ```
pub fn validate(doc: &Value) -> Vec<Violation> {
    match locate(doc) {
        Some(found) => validate_located(&found),
        None => vec![Violation {
            path: String::new(),
            rule: Rule::NotADescriptor,
            keyword: None,
            message: "not an ACP descriptor, agent manifest, OASF record or specs object".into(),
        }],
    }
}

/// [`validate`] for a document known to be a descriptor (`{"metadata", "specs"}`).
pub fn validate_descriptor(descriptor: &Value) -> Vec<Violation> {
    validate_located(&Located {
        source: super::DescriptorSource::Descriptor,
        descriptor: descriptor.clone(),
        specs_pointer: "/specs".into(),
    })
}

fn validate_located(found: &Located) -> Vec<Violation> {
    // A path in the assembled descriptor, as a path in the document.
    let in_doc = |p: &str| match p.strip_prefix("/specs") {
        Some(rest) => format!("{}{rest}", found.specs_pointer),
        None => p.to_string(),
    };
    let mut out = Vec::new();
    if let Some(schema) = format_schema() {
        for e in schema.iter_errors(&found.descriptor) {
            let mut message = e.to_string();
            if message.len() > 300 {
                let mut cut = 300;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push('…');
            }
            out.push(Violation {
                path: in_doc(e.instance_path().as_str()),
                rule: Rule::Schema,
                keyword: Some(e.kind().keyword().to_string()),
                message,
            });
        }
    }
    let specs = found.descriptor.get("specs").unwrap_or(&Value::Null);
    if specs
        .get("capabilities")
        .is_some_and(|c| !c.is_object() && !c.is_null())
    {
        // Already a schema violation; the flags cannot be read.
        return out;
    }
    let caps = Capabilities::of_specs(specs);
    let present = |k: &str| specs.get(k).is_some_and(|v| !v.is_null());
    let interrupts = specs
        .get("interrupts")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut rule = |rule: Rule, key: &str, message: &str| {
        out.push(Violation {
            path: in_doc(&format!("/specs/{key}")),
            rule,
            keyword: None,
            message: message.into(),
        });
    };
    if !caps.threads && present("thread_state") {
        rule(
            Rule::ThreadStateWithoutThreads,
            "thread_state",
            "`thread_state` is declared but `capabilities.threads` is false",
        );
    }
    if caps.interrupts && interrupts == 0 {
        rule(
            Rule::InterruptsMissing,
            "interrupts",
            "`capabilities.interrupts` is true but no interrupt is declared",
        );
    }
    if !caps.interrupts && interrupts > 0 {
        rule(
            Rule::InterruptsWithoutCapability,
            "interrupts",
            "interrupts are declared but `capabilities.interrupts` is false",
        );
    }
    if caps.streaming_custom && !present("custom_streaming_update") {
        rule(
            Rule::CustomUpdateMissing,
            "custom_streaming_update",
            "`capabilities.streaming.custom` is true but `custom_streaming_update` is missing",
        );
    }
    if !caps.streaming_custom && present("custom_streaming_update") {
        rule(
            Rule::CustomUpdateWithoutCapability,
            "custom_streaming_update",
            "`custom_streaming_update` is declared but `capabilities.streaming.custom` is false",
        );
    }
    out
}
