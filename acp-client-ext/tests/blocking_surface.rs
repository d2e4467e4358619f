//! The blocking client cannot fall behind the async one: this test reads both public surfaces
//! from the sources (`src/**/*.rs`, with `syn`) and fails when a public method of the async
//! client, its agent handles, runs or streams has no blocking counterpart of the same name,
//! receiver and parameter names, unless the allow-list below says why it makes no sense
//! blocking.
//!
//! The async methods are collected from every inherent `impl` of the mirrored types wherever it
//! lives (the operations of `AcpClient` and `RunHandle` are spread over several files); the
//! blocking ones from `src/blocking.rs` or `src/blocking/`. It reads sources, not compiled
//! items, so it needs no feature and also sees methods behind one (`validating`, feature
//! `validate`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::{FnArg, ImplItem, Item, Pat, Type, Visibility};

/// Each async type and its blocking counterpart in `acp_client_ext::blocking`.
const MIRRORED: [(&str, &str); 8] = [
    ("AcpClient", "Client"),
    ("Agent", "Agent"),
    ("AgentRuns", "AgentRuns"),
    ("RunRequest", "RunRequest"),
    ("ThreadRuns", "ThreadRuns"),
    ("StatelessRuns", "StatelessRuns"),
    ("RunHandle", "RunHandle"),
    ("RunStream", "RunStream"),
];

/// Public async methods without a blocking counterpart, on purpose: `(type, method, why)`.
const ALLOWED_MISSING: &[(&str, &str, &str)] = &[
    // The generated low-level client is async (every operation of it is awaited) and has no
    // blocking form; blocking code reaches an operation the typed calls do not cover with
    // `Client::send_operation`, and async code has `Client::as_async().generated()`.
    (
        "AcpClient",
        "generated",
        "the generated client is async only",
    ),
];

/// One public method: how it takes `self` and the names of its other parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    receiver: &'static str,
    params: Vec<String>,
}

#[derive(Debug, Clone)]
struct Method {
    signature: Signature,
    file: PathBuf,
}

/// `type -> method -> (signature, file)` of the public methods of inherent impls of `types`.
type Surface = BTreeMap<String, BTreeMap<String, Method>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn signature(sig: &syn::Signature) -> Signature {
    let mut receiver = "none";
    let mut params = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => {
                receiver = match (&r.reference, r.mutability.is_some()) {
                    (Some(_), false) => "&self",
                    (Some(_), true) => "&mut self",
                    // `mut self` binds the value mutably: to the caller it is `self`.
                    (None, _) => "self",
                };
            }
            FnArg::Typed(t) => params.push(match &*t.pat {
                Pat::Ident(i) => i.ident.to_string(),
                _ => "_".to_string(),
            }),
        }
    }
    Signature { receiver, params }
}

fn collect(items: &[Item], file: &Path, types: &BTreeSet<&str>, out: &mut Surface) {
    for item in items {
        match item {
            Item::Impl(imp) if imp.trait_.is_none() => {
                let Type::Path(ty) = &*imp.self_ty else {
                    continue;
                };
                let Some(last) = ty.path.segments.last() else {
                    continue;
                };
                let name = last.ident.to_string();
                if !types.contains(name.as_str()) {
                    continue;
                }
                for it in &imp.items {
                    if let ImplItem::Fn(f) = it
                        && matches!(f.vis, Visibility::Public(_))
                    {
                        out.entry(name.clone()).or_default().insert(
                            f.sig.ident.to_string(),
                            Method {
                                signature: signature(&f.sig),
                                file: file.to_path_buf(),
                            },
                        );
                    }
                }
            }
            Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if let Some((_, inner)) = &m.content {
                    collect(inner, file, types, out);
                }
            }
            _ => {}
        }
    }
}

/// The async surface (every library source but the blocking module and the `acp` binary) and
/// the blocking one, from the sources under `src`.
fn surfaces(src: &Path) -> (Surface, Surface) {
    let async_types: BTreeSet<&str> = MIRRORED.iter().map(|(a, _)| *a).collect();
    let blocking_types: BTreeSet<&str> = MIRRORED.iter().map(|(_, b)| *b).collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let (mut asynchronous, mut blocking) = (Surface::new(), Surface::new());
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        if first == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if first == "blocking" || first == "blocking.rs" {
            collect(&parsed.items, rel, &blocking_types, &mut blocking);
        } else {
            collect(&parsed.items, rel, &async_types, &mut asynchronous);
        }
    }
    (asynchronous, blocking)
}

/// What the blocking surface lacks or gets wrong, one line each.
fn drift(asynchronous: &Surface, blocking: &Surface) -> Vec<String> {
    let allowed: BTreeSet<(&str, &str)> =
        ALLOWED_MISSING.iter().map(|(t, m, _)| (*t, *m)).collect();
    let empty = BTreeMap::new();
    let mut problems = Vec::new();
    for (a, b) in MIRRORED {
        let async_methods = asynchronous.get(a).unwrap_or(&empty);
        let blocking_methods = blocking.get(b).unwrap_or(&empty);
        for (name, method) in async_methods {
            let allowed = allowed.contains(&(a, name.as_str()));
            match (blocking_methods.get(name), allowed) {
                (None, false) => problems.push(format!(
                    "{a}::{name} ({}) has no blocking counterpart blocking::{b}::{name}",
                    method.file.display()
                )),
                (Some(_), true) => problems.push(format!(
                    "{a}::{name} is in the allow-list but blocking::{b}::{name} exists: remove it from ALLOWED_MISSING"
                )),
                (Some(m), false) if m.signature != method.signature => problems.push(format!(
                    "blocking::{b}::{name} takes {:?}, {a}::{name} takes {:?}",
                    m.signature, method.signature
                )),
                _ => {}
            }
        }
    }
    for (t, m, _) in ALLOWED_MISSING {
        if !asynchronous.get(*t).is_some_and(|ms| ms.contains_key(*m)) {
            problems.push(format!(
                "{t}::{m} is in the allow-list but is no public async method: remove it from ALLOWED_MISSING"
            ));
        }
    }
    problems
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_public_async_method_has_a_blocking_counterpart() {
    let (asynchronous, blocking) = surfaces(&src());
    let problems = drift(&asynchronous, &blocking);
    assert!(
        problems.is_empty(),
        "the blocking client has drifted from the async one:\n  {}",
        problems.join("\n  ")
    );
}

/// The surfaces are read where they live, so the check above cannot pass by reading nothing.
#[test]
fn the_surfaces_are_read_from_every_file_they_live_in() {
    let (asynchronous, blocking) = surfaces(&src());
    for (a, b) in MIRRORED {
        assert!(
            asynchronous.get(a).is_some_and(|m| !m.is_empty()),
            "no async {a}"
        );
        assert!(
            blocking.get(b).is_some_and(|m| !m.is_empty()),
            "no blocking {b}"
        );
    }
    // A few methods of each part, from the files that hold them.
    for (ty, method, file) in [
        ("AcpClient", "search_agents", "agents.rs"),
        ("AcpClient", "new_thread", "threads.rs"),
        ("AcpClient", "agent", "agent.rs"),
        ("AcpClient", "send_operation", "client.rs"),
        ("RunHandle", "wait", "wait.rs"),
        ("RunHandle", "cancel", "cancel.rs"),
        ("RunHandle", "run_to_completion", "resume.rs"),
        ("RunHandle", "stream_from", "stream/mod.rs"),
        ("RunStream", "resume_stream", "resume.rs"),
        ("RunStream", "suspected_redeliveries", "stream/mod.rs"),
        ("RunRequest", "output", "agent.rs"),
    ] {
        let found = asynchronous.get(ty).and_then(|m| m.get(method));
        assert_eq!(
            found.map(|m| m.file.clone()),
            Some(PathBuf::from(file)),
            "{ty}::{method}"
        );
    }
    // Crate-private helpers are not part of the surface.
    assert!(!asynchronous["RunStream"].contains_key("handle"));
    assert!(!asynchronous["AcpClient"].contains_key("settings"));
}

/// A blocking surface mirroring `asynchronous` exactly (but for the allow-list): the baseline
/// the check is shown to catch departures from, independent of the real blocking sources.
fn mirror_of(asynchronous: &Surface) -> Surface {
    let mut mirror = Surface::new();
    for (a, b) in MIRRORED {
        let mut methods = asynchronous[a].clone();
        methods.retain(|name, _| !ALLOWED_MISSING.iter().any(|(t, m, _)| *t == a && m == name));
        mirror.insert(b.to_string(), methods);
    }
    mirror
}

/// The check fails, naming the method, when a blocking counterpart is missing or takes other
/// parameters, or when the allow-list is stale.
#[test]
fn a_missing_or_different_blocking_method_is_reported() {
    let (asynchronous, _) = surfaces(&src());
    let complete = mirror_of(&asynchronous);
    assert_eq!(drift(&asynchronous, &complete), Vec::<String>::new());

    let mut missing = complete.clone();
    missing
        .get_mut("RunStream")
        .unwrap()
        .remove("suspected_redeliveries");
    assert_eq!(
        drift(&asynchronous, &missing),
        vec![
            "RunStream::suspected_redeliveries (stream/mod.rs) has no blocking counterpart blocking::RunStream::suspected_redeliveries"
        ]
    );

    let mut different = complete.clone();
    different
        .get_mut("RunHandle")
        .unwrap()
        .get_mut("wait")
        .unwrap()
        .signature
        .params
        .clear();
    let problems = drift(&asynchronous, &different);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("blocking::RunHandle::wait takes"),
        "{problems:?}"
    );

    let mut allowed_but_present = complete;
    let generated = asynchronous["AcpClient"]["generated"].clone();
    allowed_but_present
        .get_mut("Client")
        .unwrap()
        .insert("generated".into(), generated);
    let problems = drift(&asynchronous, &allowed_but_present);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("remove it from ALLOWED_MISSING"),
        "{problems:?}"
    );
}
