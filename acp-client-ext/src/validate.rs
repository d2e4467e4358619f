//! Checking input, configuration and resume payloads against an agent's descriptor before
//! sending them (feature `validate`).
//!
//! An ACP server may accept a run whose input its agent cannot use (`{"count": "five"}` for an
//! integer `count`) and report the mistake late, or never. A [`Validator`] compiles the JSON
//! Schemas of one agent's descriptor once (`specs.input`, `specs.config` and each interrupt's
//! `resume_payload`, with the [`jsonschema`] crate) and refuses a payload locally, with an error
//! that names the JSON path and the rule it breaks.
//!
//! Its own feature, apart from `agent-types`: a program checks payloads at run time without
//! the code generator's dependencies, and a `build.rs` generates types without the validator's.
//!
//! # How it is meant to be used
//!
//! Build a [`Validator`] when the agent's descriptor is read (once per agent, it compiles the
//! schemas), keep it beside the agent, and call [`Validator::check_input`],
//! [`Validator::check_config`] or [`Validator::check_resume`] before creating a run or resuming
//! one; send only when they return `Ok`. (Agent handles are meant to do this for you when
//! validation is switched on; until then, call it yourself.)
//!
//! ```
//! use acp_client_ext::validate::Validator;
//! use serde_json::json;
//!
//! let descriptor = json!({
//!     "metadata": {"ref": {"name": "stream", "version": "0.1.0"}, "description": "Streams."},
//!     "specs": {
//!         "capabilities": {},
//!         "input": {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}}},
//!         "output": {"type": "object"},
//!         "config": {"type": "object"},
//!     }
//! });
//! let validator = Validator::new(&descriptor)?;
//! assert!(validator.check_input(&json!({"count": 5})).is_ok());
//!
//! let err = validator.check_input(&json!({"count": "five"})).unwrap_err();
//! assert_eq!(err.path, "/count");
//! assert_eq!(err.rule, "type");
//! assert_eq!(
//!     err.to_string(),
//!     r#"input does not match the agent's schema at /count: type: "five" is not of type "integer""#
//! );
//! # Ok::<(), acp_client_ext::validate::SchemaError>(())
//! ```
//!
//! # Caveats
//!
//! - Schemas are read as JSON Schema 2020-12 (what OpenAPI 3.1 descriptors use) unless they
//!   declare another draft with `$schema`; OpenAPI 3.0's `"nullable": true` is honoured.
//! - `$ref`s to other documents are not fetched (no network or file access): such a schema
//!   fails to compile with [`SchemaError::Invalid`].
//! - `format` is an annotation, as 2020-12 says: `"format": "email"` does not reject a string.
//! - A schema the descriptor does not have accepts everything.

use std::fmt;

use serde_json::Value;

// The descriptor reader of `agent_types`; included by path when that feature is off, so that
// either feature builds without the other (not every part of it is used here).
#[cfg(feature = "agent-types")]
use crate::agent_types::specs;
#[cfg(not(feature = "agent-types"))]
#[allow(dead_code)]
#[path = "agent_types/specs.rs"]
mod specs;

/// The longest message a [`ValidationError`] keeps (messages quote the offending value).
const MESSAGE_LEN: usize = 300;

/// The compiled schemas of one agent; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Validator {
    input: Option<jsonschema::Validator>,
    config: Option<jsonschema::Validator>,
    interrupts: Vec<(Option<String>, Option<jsonschema::Validator>)>,
}

/// What was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// A run's `input`.
    Input,
    /// A run's `config.configurable` (what `specs.config` describes).
    Config,
    /// The payload resuming an interrupted run.
    Resume {
        /// The interrupt it answers, when known.
        interrupt_type: Option<String>,
    },
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Input => f.write_str("input"),
            Payload::Config => f.write_str("config"),
            Payload::Resume {
                interrupt_type: Some(t),
            } => write!(f, "resume payload for interrupt `{t}`"),
            Payload::Resume {
                interrupt_type: None,
            } => f.write_str("resume payload"),
        }
    }
}

/// A payload the agent's schema refuses: where, by which rule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationError {
    /// What was checked.
    pub what: Payload,
    /// Where in the payload, as a JSON pointer (`/count`, `/items/0/name`; `""` is the whole
    /// payload).
    pub path: String,
    /// The schema keyword that failed (`type`, `required`, `minimum`, ...), or
    /// `interrupt_type` for a resume payload naming an interrupt the agent does not declare.
    pub rule: String,
    /// What is wrong, in words (it quotes the offending value, cut at 300 bytes).
    pub message: String,
    /// Where the rule is in the schema, as a JSON pointer (`/properties/count/type`).
    pub schema_path: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "at the top level"
        } else {
            "at "
        };
        let path = self.path.as_str();
        write!(
            f,
            "{} does not match the agent's schema {at}{path}: {}: {}",
            self.what, self.rule, self.message
        )
    }
}

impl std::error::Error for ValidationError {}

/// A descriptor a [`Validator`] cannot be built from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The document is not a descriptor, a manifest or a `specs` object.
    #[error("expected {expected}; found {found}")]
    NotADescriptor {
        /// What is accepted.
        expected: &'static str,
        /// What the document is instead.
        found: String,
    },
    /// A schema that does not compile (not a JSON Schema, or a `$ref` that cannot be resolved).
    #[error("{schema}: {message}")]
    Invalid {
        /// Where the schema is in the descriptor: `specs.input`,
        /// `specs.interrupts[0].resume_payload`, ...
        schema: String,
        /// What the compiler said.
        message: String,
    },
    /// The descriptor value could not be serialized (only from
    /// [`Validator::from_descriptor`]).
    #[error("could not serialize the descriptor: {0}")]
    Serialize(String),
}

impl Validator {
    /// Compiles the input, config and resume-payload schemas of `descriptor`: an ACP agent
    /// descriptor, an agent manifest, or a bare `specs` object (the forms the `agent-types`
    /// generator accepts).
    ///
    /// # Errors
    ///
    /// [`SchemaError`] when the document is not a descriptor or one of those schemas does not
    /// compile.
    pub fn new(descriptor: &Value) -> Result<Validator, SchemaError> {
        let found = specs::locate(descriptor).map_err(|e| SchemaError::NotADescriptor {
            expected: specs::EXPECTED,
            found: e.0,
        })?;
        let input = compile("specs.input", found.input)?;
        let config = compile("specs.config", found.config)?;
        let interrupts = found
            .interrupts
            .iter()
            .enumerate()
            .map(|(i, int)| {
                let place = format!("specs.interrupts[{i}].resume_payload");
                Ok((int.kind.map(str::to_string), compile(&place, int.resume)?))
            })
            .collect::<Result<_, SchemaError>>()?;
        Ok(Validator {
            input,
            config,
            interrupts,
        })
    }

    /// [`Validator::new`] for a descriptor the client has already read.
    ///
    /// # Errors
    ///
    /// As [`Validator::new`].
    ///
    /// ```
    /// use acp_client_ext::{types::AgentAcpDescriptor, validate::Validator};
    /// let descriptor: AgentAcpDescriptor = serde_json::from_value(serde_json::json!({
    ///     "metadata": {"ref": {"name": "echo", "version": "0.1.0"}, "description": "Echoes."},
    ///     "specs": {"capabilities": {}, "input": {"type": "object"}, "output": {},
    ///               "config": {"type": "object", "properties": {"greeting": {"type": "string"}}}}
    /// }))?;
    /// let validator = Validator::from_descriptor(&descriptor)?;
    /// let err = validator.check_config(&serde_json::json!({"greeting": 1})).unwrap_err();
    /// assert_eq!((err.path.as_str(), err.rule.as_str()), ("/greeting", "type"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_descriptor(
        descriptor: &crate::types::AgentAcpDescriptor,
    ) -> Result<Validator, SchemaError> {
        let value =
            serde_json::to_value(descriptor).map_err(|e| SchemaError::Serialize(e.to_string()))?;
        Validator::new(&value)
    }

    /// Checks a run's `input` against `specs.input`.
    ///
    /// # Errors
    ///
    /// The first rule the input breaks.
    pub fn check_input(&self, input: &Value) -> Result<(), ValidationError> {
        check(self.input.as_ref(), input, Payload::Input)
    }

    /// Checks a run's `config.configurable` (the agent's own settings, which `specs.config`
    /// describes; not the whole `config` with `tags` and `recursion_limit`).
    ///
    /// # Errors
    ///
    /// The first rule the configuration breaks.
    pub fn check_config(&self, configurable: &Value) -> Result<(), ValidationError> {
        check(self.config.as_ref(), configurable, Payload::Config)
    }

    /// Checks the payload resuming an interrupt against that interrupt's `resume_payload`.
    ///
    /// `interrupt_type` names the interrupt (as `specs.interrupts[].interrupt_type`). With
    /// `None`, the payload is checked against the agent's only interrupt, or, if it declares
    /// several, must match one of them (the error is then the first interrupt's).
    ///
    /// # Errors
    ///
    /// The first rule the payload breaks; rule `interrupt_type` if the agent declares no
    /// interrupt of that type.
    ///
    /// ```
    /// use acp_client_ext::validate::Validator;
    /// use serde_json::json;
    /// let validator = Validator::new(&json!({"specs": {"input": {}, "interrupts": [{
    ///     "interrupt_type": "approval", "interrupt_payload": {},
    ///     "resume_payload": {"type": "object", "required": ["approved"]}}]}}))?;
    /// assert!(validator.check_resume(Some("approval"), &json!({"approved": true})).is_ok());
    /// let err = validator.check_resume(None, &json!({})).unwrap_err();
    /// assert_eq!((err.path.as_str(), err.rule.as_str()), ("", "required"));
    /// let err = validator.check_resume(Some("edit"), &json!({})).unwrap_err();
    /// assert_eq!(err.rule, "interrupt_type");
    /// # Ok::<(), acp_client_ext::validate::SchemaError>(())
    /// ```
    pub fn check_resume(
        &self,
        interrupt_type: Option<&str>,
        payload: &Value,
    ) -> Result<(), ValidationError> {
        let what = |t: Option<&str>| Payload::Resume {
            interrupt_type: t.map(str::to_string),
        };
        match interrupt_type {
            Some(t) => {
                let Some((_, schema)) = self
                    .interrupts
                    .iter()
                    .find(|(kind, _)| kind.as_deref() == Some(t))
                else {
                    let declared: Vec<&str> = self
                        .interrupts
                        .iter()
                        .filter_map(|(kind, _)| kind.as_deref())
                        .collect();
                    return Err(ValidationError {
                        what: what(Some(t)),
                        path: String::new(),
                        rule: "interrupt_type".into(),
                        message: format!(
                            "the agent declares no interrupt `{t}` (it declares: {})",
                            if declared.is_empty() {
                                "none".to_string()
                            } else {
                                declared.join(", ")
                            }
                        ),
                        schema_path: String::new(),
                    });
                };
                check(schema.as_ref(), payload, what(Some(t)))
            }
            None => {
                let mut first = None;
                for (kind, schema) in &self.interrupts {
                    match check(schema.as_ref(), payload, what(kind.as_deref())) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                first.map_or(Ok(()), Err)
            }
        }
    }
}

/// Compiles one schema of the descriptor (`None`: it has none).
fn compile(
    place: &str,
    schema: Option<&Value>,
) -> Result<Option<jsonschema::Validator>, SchemaError> {
    let Some(schema) = schema else {
        return Ok(None);
    };
    let mut schema = schema.clone();
    specs::openapi_nullable(&mut schema);
    jsonschema::validator_for(&schema)
        .map(Some)
        .map_err(|e| SchemaError::Invalid {
            schema: place.to_string(),
            message: e.to_string(),
        })
}

fn check(
    schema: Option<&jsonschema::Validator>,
    payload: &Value,
    what: Payload,
) -> Result<(), ValidationError> {
    let Some(schema) = schema else {
        return Ok(());
    };
    match schema.iter_errors(payload).next() {
        None => Ok(()),
        Some(e) => {
            let mut message = e.to_string();
            if message.len() > MESSAGE_LEN {
                let mut cut = MESSAGE_LEN;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push('…');
            }
            Err(ValidationError {
                what,
                path: e.instance_path().as_str().to_string(),
                rule: e.kind().keyword().to_string(),
                message,
                schema_path: e.schema_path().as_str().to_string(),
            })
        }
    }
}
