//! `acp validate FILE|AGENT`: a descriptor, manifest or OASF record checked against the
//! descriptor format and the SDK's capability rules (the library's
//! `acp_client_ext::descriptor::validate`).

use crate::context::{Session, document};
use crate::out::Failure;
use acp_client_ext::descriptor::{self, locate};
use serde_json::json;

pub async fn validate(session: &Session<'_>, target: &str) -> Result<(), Failure> {
    let (shown, doc) = document(session, target).await?;
    let violations = descriptor::validate(&doc);
    let source = locate(&doc).map(|l| l.source.as_str());
    let out = &session.out;
    out.record(&json!({
        "file": shown,
        "source": source,
        "valid": violations.is_empty(),
        "violations": violations.iter().map(|v| json!({
            "path": v.path, "rule": v.rule.name(), "keyword": v.keyword, "message": v.message,
        })).collect::<Vec<_>>(),
    }));
    for v in &violations {
        out.text(format!("{shown}: {v}"));
    }
    if violations.is_empty() {
        out.text(format!("{shown}: valid ({})", source.unwrap_or("document")));
        Ok(())
    } else {
        let n = violations.len();
        out.text(format!(
            "{shown}: invalid: {n} violation{}",
            if n == 1 { "" } else { "s" }
        ));
        Err(Failure::new(1, ""))
    }
}
