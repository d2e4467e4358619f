//! `cargo xtask fetch-spec`: download the pinned document into the local cache and verify it.
//! [`download`] is also how `cargo xtask bump --version V --commit C` gets a new document.

use crate::codegen::write_atomically;
use crate::spec::{self, PIN_PATH, Pin};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The upstream URL of the spec document at one commit of `agntcy/acp-spec`.
pub fn upstream_url(commit: &str) -> String {
    format!("https://raw.githubusercontent.com/agntcy/acp-spec/{commit}/openapi.json")
}

/// Download `url` (the pin's upstream URL unless overridden), check its sha256 against the pin and
/// write it to `openapi/<file>`. A wrong hash writes nothing.
pub fn run(root: &Path, url: Option<&str>) -> Result<PathBuf> {
    let pin = Pin::load(root)?;
    let url = url.unwrap_or(&pin.url);
    let bytes = download(url)?;
    let actual = spec::sha256_hex(&bytes);
    if actual != pin.sha256 {
        bail!(
            "sha256 mismatch for {url}: expected {} ({PIN_PATH}, ACP {}), actual {actual}; nothing written",
            pin.sha256,
            pin.version
        );
    }
    let dest = root.join("openapi").join(&pin.file);
    write_atomically(&dest, &bytes)?;
    Ok(dest)
}

/// GET `url` and return the body; any status but 2xx is an error.
pub fn download(url: &str) -> Result<Vec<u8>> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let resp = client
        .get(url)
        .send()
        .with_context(|| format!("fetching {url}"))?;
    if !resp.status().is_success() {
        bail!("fetching {url}: HTTP {}", resp.status());
    }
    let bytes = resp.bytes().with_context(|| format!("reading {url}"))?;
    Ok(bytes.to_vec())
}
