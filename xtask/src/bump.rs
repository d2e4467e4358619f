//! `cargo xtask bump`: move the workspace to a new ACP spec document in one command.
//!
//! Everything that can fail runs first, in memory: reading or downloading the document, parsing
//! it (a syntax error names line and column), normalizing, generating, formatting and extracting
//! both API surfaces. Only then are files written: the cache copy `openapi/<file>`, the generated
//! client and the pin. The returned Markdown API diff is for the pull request's body.

use crate::apidiff;
use crate::codegen::{self, GENERATED_PATH, write_atomically};
use crate::fetch;
use crate::spec::{self, KNOWN, PIN_PATH, Pin, SpecFile};
use crate::surface;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Read the new document from this file.
    pub spec: Option<PathBuf>,
    /// The expected `info.version`; with `commit` and no `spec`, download that commit's document.
    pub version: Option<String>,
    /// The upstream `agntcy/acp-spec` commit the document was published at (for the pin's URL).
    pub commit: Option<String>,
}

/// What a bump did.
#[derive(Debug)]
pub struct Bumped {
    pub pin: Pin,
    /// The pin's version before the bump, if there was a readable pin.
    pub previous: Option<String>,
    pub diff: apidiff::ApiDiff,
    /// The diff as Markdown, for the pull request.
    pub markdown: String,
}

pub fn run(root: &Path, opts: &Options) -> Result<Bumped> {
    // 1. The new document's bytes, from a file or from upstream.
    let file = obtain(opts)?;

    // 2. Validate it by generating the client from it, in memory.
    let generated = codegen::generate(&file)?;
    codegen::print_report(&generated, false);
    if let Some(v) = &opts.version
        && *v != generated.version
    {
        bail!(
            "{}: info.version is {} but --version says {v}",
            file.path.display(),
            generated.version
        );
    }

    // 3. The new pin.
    let pin = Pin {
        version: generated.version.clone(),
        file: spec::file_name(&generated.version),
        url: upstream_url(opts.commit.as_deref(), &file)?,
        sha256: file.sha256.clone(),
    };
    let previous = Pin::load(root).ok().map(|p| p.version);

    // 4. The API diff between the committed client and the new one.
    let target = root.join(GENERATED_PATH);
    let committed = std::fs::read_to_string(&target).unwrap_or_default();
    let old = surface::extract(&committed).unwrap_or_else(|e| {
        eprintln!("warning: {GENERATED_PATH}: {e:#}; diffing against an empty API");
        surface::Surface::default()
    });
    let new =
        surface::extract(&generated.source).context("reading the API surface of the new client")?;
    let diff = apidiff::diff(&old, &new);
    let markdown = apidiff::render(
        &diff,
        previous.as_deref().unwrap_or("(no pin)"),
        &pin.version,
    );

    // 5. Nothing failed: write the cache copy, the client and the pin.
    write_atomically(&root.join("openapi").join(&pin.file), &file.bytes)?;
    write_atomically(&target, generated.source.as_bytes())?;
    write_atomically(&root.join(PIN_PATH), pin.to_file_text().as_bytes())?;
    Ok(Bumped {
        pin,
        previous,
        diff,
        markdown,
    })
}

/// Read `--spec PATH`, or download the document of `--commit C` (which needs `--version V`).
fn obtain(opts: &Options) -> Result<SpecFile> {
    if let Some(path) = &opts.spec {
        return spec::read(path, None);
    }
    let (Some(_), Some(commit)) = (&opts.version, &opts.commit) else {
        bail!("bump needs --spec PATH, or --version V --commit C to download upstream");
    };
    check_commit(commit)?;
    let url = fetch::upstream_url(commit);
    let bytes = fetch::download(&url)?;
    Ok(SpecFile {
        path: PathBuf::from(url),
        sha256: spec::sha256_hex(&bytes),
        bytes,
    })
}

/// The pin's URL: from `--commit`, else from the commit of a known document with this hash.
fn upstream_url(commit: Option<&str>, file: &SpecFile) -> Result<String> {
    if let Some(c) = commit {
        check_commit(c)?;
        return Ok(fetch::upstream_url(c));
    }
    KNOWN
        .iter()
        .find(|k| k.sha256 == file.sha256)
        .map(|k| fetch::upstream_url(k.commit))
        .ok_or_else(|| {
            anyhow!(
                "{} (sha256 {}) is not a known ACP release: pass --commit C, the agntcy/acp-spec \
                 commit it was published at, so the pin records its upstream URL",
                file.path.display(),
                file.sha256
            )
        })
}

fn check_commit(c: &str) -> Result<()> {
    if c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        bail!("--commit {c:?} is not a 40-hex-digit git commit")
    }
}
