//! Where an agent's ACP descriptor sits in a document: a descriptor itself, an agent manifest
//! in acp-sdk's layout, an OASF record's `modules`, or a bare `specs` object.

use serde_json::{Map, Value, json};

/// The name acp-sdk gives the manifest extension of an OASF record
/// (`agntcy_acp.agws_v0.OASF_EXTENSION_NAME_MANIFEST`). Manifests in the field also spell it
/// `oasf.agntcy.org/feature/runtime/manifest` (acp-sdk's own echo agent); [`locate`] takes any
/// name that ends in `runtime/manifest`.
pub const MANIFEST_EXTENSION: &str = "schema.oasf.agntcy.org/features/runtime/manifest";

/// What kind of document the descriptor was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DescriptorSource {
    /// An ACP agent descriptor, `{"metadata": .., "specs": ..}` (`GET /agents/{id}/descriptor`).
    Descriptor,
    /// acp-sdk's agent manifest: `extensions[name=".../runtime/manifest"].data.acp` holds the
    /// specs; `name`, `version` and `description` at the top.
    Manifest,
    /// An OASF record whose `modules[]` (OASF 0.8) has one with `data.acp`.
    OasfRecord,
    /// A bare `specs` object (`input`, `output`, `config`, `capabilities` at the top).
    Specs,
}

impl DescriptorSource {
    /// `descriptor`, `manifest`, `OASF record` or `specs object`, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DescriptorSource::Descriptor => "descriptor",
            DescriptorSource::Manifest => "manifest",
            DescriptorSource::OasfRecord => "OASF record",
            DescriptorSource::Specs => "specs object",
        }
    }
}

/// A descriptor found in a document by [`locate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// What the document is.
    pub source: DescriptorSource,
    /// The descriptor, `{"metadata": {"ref": {"name", "version", "url"?}, "description"},
    /// "specs"}`: the document itself for a descriptor, else made from the manifest's or
    /// record's `name`, `version`, `description` and first locator's `url` (fields the
    /// document lacks are left out).
    pub descriptor: Value,
    /// The JSON pointer of the specs in the document (`/specs`, `/extensions/0/data/acp`,
    /// `/modules/1/data/acp`, or `""` for a bare specs object).
    pub specs_pointer: String,
}

/// Finds the ACP descriptor in `doc`; `None` when it is none of the [`DescriptorSource`]s.
///
/// ```
/// use acp_client_ext::descriptor::{DescriptorSource, locate};
/// let manifest = serde_json::json!({"name": "a", "version": "1.0.0", "description": "An agent.",
///     "extensions": [{"name": "schema.oasf.agntcy.org/features/runtime/manifest",
///                     "data": {"acp": {"capabilities": {}, "input": {}, "output": {}, "config": {}}}}]});
/// let found = locate(&manifest).unwrap();
/// assert_eq!(found.source, DescriptorSource::Manifest);
/// assert_eq!(found.specs_pointer, "/extensions/0/data/acp");
/// assert_eq!(found.descriptor["metadata"]["ref"]["name"], "a");
/// assert!(locate(&serde_json::json!([1, 2])).is_none());
/// ```
pub fn locate(doc: &Value) -> Option<Located> {
    let top = doc.as_object()?;
    if top.get("specs").is_some_and(Value::is_object) {
        return Some(Located {
            source: DescriptorSource::Descriptor,
            descriptor: doc.clone(),
            specs_pointer: "/specs".into(),
        });
    }
    let holder = |list: &str, pick: &dyn Fn(&Value) -> bool| {
        top.get(list)?
            .as_array()?
            .iter()
            .enumerate()
            .find_map(|(n, m)| {
                let acp = m.get("data")?.get("acp")?;
                (acp.is_object() && pick(m)).then(|| (n, acp.clone()))
            })
    };
    let runtime = |m: &Value| {
        m.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.ends_with("runtime/manifest"))
    };
    let found = holder("extensions", &runtime)
        .or_else(|| holder("extensions", &|_| true))
        .map(|(n, acp)| {
            (
                DescriptorSource::Manifest,
                format!("/extensions/{n}/data/acp"),
                acp,
            )
        })
        .or_else(|| {
            holder("modules", &|_| true).map(|(n, acp)| {
                (
                    DescriptorSource::OasfRecord,
                    format!("/modules/{n}/data/acp"),
                    acp,
                )
            })
        });
    if let Some((source, specs_pointer, specs)) = found {
        return Some(Located {
            source,
            descriptor: from_record(top, specs),
            specs_pointer,
        });
    }
    ["input", "output", "config", "capabilities"]
        .iter()
        .any(|k| top.contains_key(*k))
        .then(|| Located {
            source: DescriptorSource::Specs,
            descriptor: json!({"specs": doc}),
            specs_pointer: String::new(),
        })
}

/// `{metadata, specs}` from a manifest's or record's top-level fields.
fn from_record(top: &Map<String, Value>, specs: Value) -> Value {
    let mut agent_ref = Map::new();
    for k in ["name", "version"] {
        if let Some(v) = top.get(k) {
            agent_ref.insert(k.into(), v.clone());
        }
    }
    if let Some(url) = top
        .get("locators")
        .and_then(|l| l.get(0))
        .and_then(|l| l.get("url"))
    {
        agent_ref.insert("url".into(), url.clone());
    }
    let mut metadata = Map::new();
    metadata.insert("ref".into(), Value::Object(agent_ref));
    if let Some(d) = top.get("description") {
        metadata.insert("description".into(), d.clone());
    }
    json!({"metadata": metadata, "specs": specs})
}
