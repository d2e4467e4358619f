//! `specs.capabilities`, read leniently.

use serde_json::Value;

/// What an agent's descriptor declares it can do (`specs.capabilities`), as the spec reads
/// it: a missing or `null` flag is `false`, missing `streaming` is no streaming.
///
/// ```
/// use acp_client_ext::descriptor::Capabilities;
/// let caps = Capabilities::of(&serde_json::json!({"specs": {"capabilities": {
///     "threads": true, "streaming": {"values": true}}}}));
/// assert!(caps.threads && caps.streaming_values && !caps.streaming_custom);
/// assert!(caps.streaming() && !caps.interrupts && !caps.callbacks);
/// assert_eq!(Capabilities::of(&serde_json::json!({})), Capabilities::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `threads`: thread runs (the `/threads` routes).
    pub threads: bool,
    /// `interrupts`: runs that interrupt and are resumed.
    pub interrupts: bool,
    /// `callbacks`: a `webhook` at run creation.
    pub callbacks: bool,
    /// `streaming.values`: streams of `values` updates.
    pub streaming_values: bool,
    /// `streaming.custom`: streams of custom updates (`specs.custom_streaming_update`).
    pub streaming_custom: bool,
}

impl Capabilities {
    /// The capabilities a descriptor (`{metadata, specs}`) declares.
    pub fn of(descriptor: &Value) -> Capabilities {
        Capabilities::of_specs(descriptor.get("specs").unwrap_or(&Value::Null))
    }

    /// The capabilities of a descriptor's `specs` object.
    pub fn of_specs(specs: &Value) -> Capabilities {
        let caps = specs.get("capabilities").unwrap_or(&Value::Null);
        let flag = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let streaming = caps.get("streaming").unwrap_or(&Value::Null);
        Capabilities {
            threads: flag(caps, "threads"),
            interrupts: flag(caps, "interrupts"),
            callbacks: flag(caps, "callbacks"),
            streaming_values: flag(streaming, "values"),
            streaming_custom: flag(streaming, "custom"),
        }
    }

    /// Whether any streaming mode is declared.
    pub fn streaming(&self) -> bool {
        self.streaming_values || self.streaming_custom
    }
}
