//! The spec pin (`openapi/pin.toml`) and finding, verifying and parsing the pinned document.

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where the pin lives, relative to the workspace root.
pub const PIN_PATH: &str = "openapi/pin.toml";

/// The ACP spec version the workspace is generated from.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Pin {
    /// `info.version` of the document, e.g. `0.2.1`.
    pub version: String,
    /// File name in the cache and in `$ACP_SPEC_DIR`, e.g. `acp-0.2.1.json`.
    pub file: String,
    /// Upstream URL at a fixed commit.
    pub url: String,
    /// Lower-case hex sha256 of the document's bytes.
    pub sha256: String,
}

impl Pin {
    pub fn load(root: &Path) -> Result<Pin> {
        let path = root.join(PIN_PATH);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow!("{}: {}", path.display(), e.message()))
    }

    /// The pin file's text: a fixed comment header and the four keys (written by `bump`).
    pub fn to_file_text(&self) -> String {
        format!(
            "# The ACP OpenAPI document `acp-client` is generated from. The spec's bytes are not committed:\n\
             # `cargo xtask codegen` reads them from `--spec PATH`, the local cache `openapi/<file>` (written by\n\
             # `cargo xtask fetch-spec`) or `$ACP_SPEC_DIR/<file>`, and refuses any file whose sha256 differs.\n\
             # Change this file only through `cargo xtask bump` (see README.md here).\n\
             version = {:?}\nfile = {:?}\nurl = {:?}\nsha256 = {:?}\n",
            self.version, self.file, self.url, self.sha256
        )
    }
}

/// A spec document read from disk: its bytes, where it came from and its hash.
pub struct SpecFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Find the pinned document: `explicit`, else the cache `openapi/<file>`, else
/// `<spec_dir>/<file>` (`$ACP_SPEC_DIR`). The error lists every place looked at and how to get
/// the file.
pub fn locate(
    root: &Path,
    pin: &Pin,
    explicit: Option<&Path>,
    spec_dir: Option<&Path>,
) -> Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        bail!("spec file {} (from --spec) does not exist", p.display());
    }
    let cache = root.join("openapi").join(&pin.file);
    if cache.is_file() {
        return Ok(cache);
    }
    if let Some(dir) = spec_dir {
        let p = dir.join(&pin.file);
        if p.is_file() {
            return Ok(p);
        }
    }
    let env_desc = match spec_dir {
        Some(d) => d.join(&pin.file).display().to_string(),
        None => "$ACP_SPEC_DIR (unset)".to_string(),
    };
    bail!(
        "spec file {} not found; looked in --spec (not given), {}, {}; \
         run `cargo xtask fetch-spec` or set ACP_SPEC_DIR (e.g. ACP_SPEC_DIR=../shared/acp-spec)",
        pin.file,
        cache.display(),
        env_desc
    )
}

/// Read a spec file; when `pin` is given, its sha256 must match.
pub fn read(path: &Path, pin: Option<&Pin>) -> Result<SpecFile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let sha256 = sha256_hex(&bytes);
    if let Some(pin) = pin
        && pin.sha256 != sha256
    {
        bail!(
            "sha256 mismatch for {}: expected {} ({PIN_PATH}, ACP {}), actual {}",
            path.display(),
            pin.sha256,
            pin.version,
            sha256
        );
    }
    Ok(SpecFile {
        path: path.to_path_buf(),
        bytes,
        sha256,
    })
}

/// Parse a document as JSON; a syntax error names line and column.
pub fn parse_json(path: &Path, bytes: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        anyhow!(
            "{}: malformed JSON at line {}, column {}: {}",
            path.display(),
            e.line(),
            e.column(),
            e
        )
    })
}

/// The document's `info.version`.
pub fn info_version(doc: &serde_json::Value) -> Result<String> {
    doc.pointer("/info/version")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the document has no info.version string"))
}

/// A published ACP spec document: its version, upstream commit and the sha256 of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub version: &'static str,
    pub commit: &'static str,
    pub sha256: &'static str,
}

impl Known {
    /// The file name the document has in `$ACP_SPEC_DIR` and in the cache.
    pub fn file(&self) -> String {
        file_name(self.version)
    }
}

/// Every document `cargo xtask sweep` checks, from `../shared/acp-spec/README.md`. `bump --spec`
/// also reads the upstream commit of a known document from here.
pub const KNOWN: &[Known] = &[
    Known {
        version: "0.2.0",
        commit: "bb132bd84c6a98c3e01b769f09d18a7453020dd9",
        sha256: "afef752cb773e58bd2f4f94196f7c89fb61e061da521f4954215c698d29cd83d",
    },
    Known {
        version: "0.2.1",
        commit: "7c36e18fa4003725f8e1350bad6605fc4be9b9f3",
        sha256: "5955d5c18741648c93f15519e534cb46512c4db41f08d02faff82c2fac7cc57a",
    },
    Known {
        version: "0.2.2",
        commit: "c823e9368ed88c9f06346d9e67aafbeef727c8b0",
        sha256: "68c05c45aa4762634cafaaf85188db49884ee816371c83969cba87692183963d",
    },
    Known {
        version: "0.2.3",
        commit: "bce2eed163cd9a288829328ec39a45823fff165a",
        sha256: "e078880df68123bf2d0154bdb4effec2444db9c24f2851e776ec7ef67e92c572",
    },
];

/// `acp-<version>.json`: the name of a spec document in the cache and in `$ACP_SPEC_DIR`.
pub fn file_name(version: &str) -> String {
    format!("acp-{version}.json")
}
