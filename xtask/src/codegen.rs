//! `cargo xtask codegen`: spec -> normalize -> progenitor -> rustfmt -> `acp-client/src/generated.rs`.

use crate::normalize::{self, Report};
use crate::postprocess;
use crate::spec::{self, Pin};
use anyhow::{Context, Result, anyhow, bail};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The one generated file of the workspace, relative to its root.
pub const GENERATED_PATH: &str = "acp-client/src/generated.rs";

#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Compare with the committed file instead of writing it.
    pub check: bool,
    /// Read this document instead of the pinned one.
    pub spec: Option<PathBuf>,
    /// Write a stand-alone trial crate here instead of `acp-client` (the pin is not consulted).
    pub out: Option<PathBuf>,
    /// Print every normalization rule that fired, not only the summary.
    pub verbose: bool,
    /// Where shared spec documents live (`$ACP_SPEC_DIR`).
    pub spec_dir: Option<PathBuf>,
}

/// What a codegen run produced.
pub struct Generated {
    pub source: String,
    /// What the normalizer rewrote in the document.
    pub report: Report,
    /// What the post-process made lenient in the generated types (`postprocess.rs`).
    pub post: Report,
    pub version: String,
}

pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let started = std::time::Instant::now();
    let (file, pin) = if opts.out.is_some() {
        let path = opts.spec.as_deref().ok_or_else(|| {
            anyhow!("--out needs --spec PATH (a trial crate does not use the pin)")
        })?;
        (spec::read(path, None)?, None)
    } else {
        let pin = Pin::load(root)?;
        let path = spec::locate(root, &pin, opts.spec.as_deref(), opts.spec_dir.as_deref())?;
        (spec::read(&path, Some(&pin))?, Some(pin))
    };
    let generated = generate(&file)?;
    if let Some(pin) = &pin
        && pin.version != generated.version
    {
        bail!(
            "{}: info.version is {} but {} pins {}",
            file.path.display(),
            generated.version,
            spec::PIN_PATH,
            pin.version
        );
    }
    print_report(&generated, opts.verbose);

    if let Some(out) = &opts.out {
        write_trial_crate(root, out, &generated.source)?;
        eprintln!(
            "wrote trial crate {} (ACP {})",
            out.display(),
            generated.version
        );
        return Ok(());
    }

    let target = root.join(GENERATED_PATH);
    let committed = std::fs::read_to_string(&target).unwrap_or_default();
    if opts.check {
        if committed == generated.source {
            eprintln!("{GENERATED_PATH} is up to date (ACP {})", generated.version);
            return Ok(());
        }
        eprintln!("{}", short_diff(&committed, &generated.source, 40));
        bail!("{GENERATED_PATH} is stale: run `cargo xtask codegen` and commit the result");
    }
    if committed == generated.source {
        eprintln!("{GENERATED_PATH} unchanged (ACP {})", generated.version);
    } else {
        write_atomically(&target, generated.source.as_bytes())?;
        eprintln!(
            "wrote {GENERATED_PATH}: {} lines, ACP {} in {:.1?}",
            generated.source.lines().count(),
            generated.version,
            started.elapsed()
        );
    }
    Ok(())
}

/// Generate the client's source from a spec document's bytes, in memory.
pub fn generate(file: &spec::SpecFile) -> Result<Generated> {
    let doc = spec::parse_json(&file.path, &file.bytes)?;
    let version = spec::info_version(&doc)?;
    let (normalized, report) =
        normalize::normalize(&doc).map_err(|e| anyhow!("{}: {e}", file.path.display()))?;
    let openapi: openapiv3::OpenAPI = serde_json::from_value(normalized).map_err(|e| {
        anyhow!(
            "{}: the normalized document is not OpenAPI 3.0: {e}",
            file.path.display()
        )
    })?;

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Separate)
        .with_derive("schemars::JsonSchema")
        // Rule `timestamp` of postprocess.rs: a date-time is the hand-written lenient
        // `acp_client::Timestamp`, which reads the naive timestamps real servers write.
        .with_conversion(
            postprocess::timestamp_conversion(),
            postprocess::TIMESTAMP_TYPE,
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    let tokens = Generator::new(&settings)
        .generate_tokens(&openapi)
        .map_err(|e| anyhow!("progenitor: {e}"))?;
    let mut ast: syn::File =
        syn::parse2(tokens).context("progenitor produced unparsable tokens")?;
    let post = postprocess::run(&mut ast)?;
    syn::visit_mut::visit_file_mut(&mut DocLines, &mut ast);
    let body = prettyplease::unparse(&ast);
    let header = format!(
        "// @generated by `cargo xtask codegen` from the Agent Connect Protocol OpenAPI spec {version}\n\
         // (sha256 {}). Do not edit: change the xtask or the pin in openapi/ and regenerate.\n\n",
        file.sha256
    );
    let source = rustfmt(&(header + &body))?;
    Ok(Generated {
        source,
        report,
        post,
        version,
    })
}

/// Splits every multi-line `#[doc = "..."]` into one attribute per line.
///
/// prettyplease prints a multi-line doc attribute as a `/** ... */` block, and rustfmt then indents
/// its lines inside traits and impls; rustdoc reads the indented code fences of progenitor's
/// usage examples as indented code blocks and tries to compile them as doctests. One `///` per
/// line keeps the fences where progenitor put them (marked `ignore`).
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
                Some(text) if text.contains('\n') => {
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

pub fn print_report(generated: &Generated, verbose: bool) {
    eprintln!("normalized: {}", generated.report.summary());
    if verbose {
        for f in &generated.report.fired {
            eprintln!("  {:<17} #{}: {}", f.rule, f.pointer, f.detail);
        }
    }
    eprintln!("made lenient: {}", generated.post.summary());
    if verbose {
        for f in &generated.post.fired {
            eprintln!("  {:<17} {}: {}", f.rule, f.pointer, f.detail);
        }
    }
}

/// Format with the toolchain's rustfmt (prettyplease alone differs from it in hundreds of places).
fn rustfmt(source: &str) -> Result<String> {
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2024"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = source.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().context("waiting for rustfmt")?;
    writer
        .join()
        .map_err(|_| anyhow!("rustfmt writer thread panicked"))?
        .context("writing to rustfmt")?;
    if !out.status.success() {
        bail!("rustfmt failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8(out.stdout).context("rustfmt wrote non-UTF-8")
}

/// Write via a temporary file in the same directory and a rename, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("target has no parent directory")?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

fn short_diff(old: &str, new: &str, max_lines: usize) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header("committed", "regenerated")
        .to_string();
    let total = text.lines().count();
    let mut out: Vec<&str> = text.lines().take(max_lines).collect();
    let more = format!("... ({} more diff lines)", total.saturating_sub(max_lines));
    if total > max_lines {
        out.push(&more);
    }
    out.join("\n")
}

/// The hand-written modules of `acp-client` that generated code refers to (`crate::Timestamp`,
/// `crate::lenient::...`); a trial crate gets copies of them, declared as in `acp-client`.
pub const HAND_WRITTEN_MODULES: &[&str] = &["lenient", "timestamp"];

/// A stand-alone crate around a generated file, for trying a spec without touching the pin. It
/// takes the workspace's lock file so its dependencies resolve to the versions already built, and
/// copies of the hand-written modules of `acp-client` the generated code uses.
pub fn write_trial_crate(root: &Path, out: &Path, source: &str) -> Result<()> {
    let manifest = std::fs::read_to_string(root.join("acp-client/Cargo.toml"))?;
    let deps = manifest
        .split_once("[dependencies]")
        .map(|(_, d)| d)
        .ok_or_else(|| anyhow!("acp-client/Cargo.toml has no [dependencies]"))?;
    let workspace = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut resolved = String::new();
    // Only the `[dependencies]` table: the next table (`[dev-dependencies]`, ...) ends it.
    let deps = deps
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['));
    for line in deps.filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
        if line.contains(".workspace = true") {
            let spec = workspace
                .lines()
                .find(|l| l.starts_with(&format!("{name} =")))
                .ok_or_else(|| anyhow!("no workspace dependency {name}"))?;
            resolved.push_str(spec);
        } else {
            resolved.push_str(line);
        }
        resolved.push('\n');
    }
    let cargo_toml = format!(
        "[package]\nname = \"acp-client-trial\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{resolved}"
    );
    std::fs::create_dir_all(out.join("src"))?;
    std::fs::write(out.join("Cargo.toml"), cargo_toml)?;
    let mut lib =
        String::from("#[allow(clippy::all, unused)]\nmod generated;\npub use generated::*;\n");
    for module in HAND_WRITTEN_MODULES {
        let from = root.join(format!("acp-client/src/{module}.rs"));
        let text = std::fs::read_to_string(&from)
            .with_context(|| format!("reading {} for the trial crate", from.display()))?;
        std::fs::write(out.join(format!("src/{module}.rs")), text)?;
        lib += &format!("pub mod {module};\n");
    }
    lib += "pub use timestamp::Timestamp;\n";
    std::fs::write(out.join("src/lib.rs"), lib)?;
    if root.join("Cargo.lock").is_file() {
        std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))?;
    }
    write_atomically(&out.join("src/generated.rs"), source.as_bytes())
}
