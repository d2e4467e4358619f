//! The xtask's promises on bad input, drift and fetching, each on a throwaway workspace root.
//! No network and no real spec file: the documents are small ones written here.

use crate::codegen::{self, GENERATED_PATH, Options};
use crate::deps::{self, Graph};
use crate::spec::{Pin, sha256_hex};
use crate::{bump, fetch, spec};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

const SENTINEL: &str = "// committed file: must stay untouched\n";

/// A workspace root with a pin for `doc` (or for `pinned_bytes`) and a sentinel generated file.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new(pinned_bytes: &[u8]) -> Root {
        let dir = tempfile::tempdir().expect("tempdir");
        let pin = Pin {
            version: "9.9.9".into(),
            file: "acp-9.9.9.json".into(),
            url: "http://127.0.0.1:9/openapi.json".into(),
            sha256: sha256_hex(pinned_bytes),
        };
        std::fs::create_dir_all(dir.path().join("openapi")).unwrap();
        std::fs::write(dir.path().join(spec::PIN_PATH), pin.to_file_text()).unwrap();
        std::fs::create_dir_all(dir.path().join("acp-client/src")).unwrap();
        std::fs::write(dir.path().join(GENERATED_PATH), SENTINEL).unwrap();
        Root { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A spec directory (like `../shared/acp-spec`) holding the pinned file name with `bytes`.
    fn spec_dir_with(&self, bytes: &[u8]) -> PathBuf {
        let d = self.path().join("shared-spec");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("acp-9.9.9.json"), bytes).unwrap();
        d
    }

    fn generated(&self) -> String {
        std::fs::read_to_string(self.path().join(GENERATED_PATH)).unwrap()
    }

    fn pin_text(&self) -> String {
        std::fs::read_to_string(self.path().join(spec::PIN_PATH)).unwrap()
    }

    /// The names of the files in `openapi/` (the pin and the cached documents).
    fn openapi_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join("openapi"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `cargo xtask bump --spec <root>/new.json [--commit C]` with `bytes` as the new document.
    fn bump(&self, bytes: &[u8], commit: Option<&str>) -> anyhow::Result<bump::Bumped> {
        let path = self.path().join("new.json");
        std::fs::write(&path, bytes).unwrap();
        bump::run(
            self.path(),
            &bump::Options {
                spec: Some(path),
                version: None,
                commit: commit.map(str::to_string),
            },
        )
    }

    fn codegen(&self, spec_dir: Option<PathBuf>, check: bool) -> anyhow::Result<()> {
        codegen::run(
            self.path(),
            &Options {
                check,
                spec_dir,
                ..Options::default()
            },
        )
    }
}

/// A tiny OpenAPI 3.1 document with a const, a null alternative and two colliding titles.
fn tiny_doc() -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "openapi": "3.1.1",
        "info": {"title": "Tiny", "version": "9.9.9"},
        "paths": {"/things/{id}": {"get": {
            "operationId": "get_thing",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}
        }}},
        "components": {"schemas": {
            "Out": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]},
            "A": {"type": "object", "required": ["type"], "properties": {"type": {"title": "Kind", "type": "string", "enum": ["a"]}, "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}},
            "B": {"type": "object", "required": ["type"], "properties": {"type": {"title": "Kind", "const": "b"}}}
        }}
    }))
    .unwrap()
}

#[test]
fn missing_spec_says_where_it_looked_and_how_to_fetch() {
    let root = Root::new(b"whatever");
    let err = root.codegen(None, false).unwrap_err().to_string();
    assert!(err.contains("acp-9.9.9.json not found"), "{err}");
    assert!(err.contains("openapi"), "{err}");
    assert!(err.contains("ACP_SPEC_DIR"), "{err}");
    assert!(err.contains("cargo xtask fetch-spec"), "{err}");
    assert_eq!(root.generated(), SENTINEL);
}

#[test]
fn sha256_mismatch_names_both_hashes_and_writes_nothing() {
    let root = Root::new(b"the pinned bytes");
    let dir = root.spec_dir_with(&tiny_doc());
    let err = root.codegen(Some(dir), false).unwrap_err().to_string();
    assert!(err.contains("sha256 mismatch"), "{err}");
    assert!(err.contains(&sha256_hex(b"the pinned bytes")), "{err}");
    assert!(err.contains(&sha256_hex(&tiny_doc())), "{err}");
    assert_eq!(root.generated(), SENTINEL);
}

#[test]
fn malformed_json_names_line_and_column_and_writes_nothing() {
    let bad = b"{\n  \"openapi\": \"3.1.1\",\n  \"info\": {\"title\": \n";
    let root = Root::new(bad);
    let dir = root.spec_dir_with(bad);
    let err = root.codegen(Some(dir), false).unwrap_err().to_string();
    assert!(err.contains("malformed JSON at line 4, column 0"), "{err}");
    assert_eq!(root.generated(), SENTINEL);
}

#[test]
fn unconvertible_construct_names_its_pointer_and_writes_nothing() {
    let mut doc: serde_json::Value = serde_json::from_slice(&tiny_doc()).unwrap();
    doc["components"]["schemas"]["A"]["properties"]["n"] = json!({"prefixItems": []});
    let bytes = serde_json::to_vec(&doc).unwrap();
    let root = Root::new(&bytes);
    let dir = root.spec_dir_with(&bytes);
    let err = root.codegen(Some(dir), false).unwrap_err().to_string();
    assert!(
        err.contains("`prefixItems`") && err.contains("#/components/schemas/A/properties/n"),
        "{err}"
    );
    assert_eq!(root.generated(), SENTINEL);
}

#[test]
fn generation_is_deterministic_and_check_detects_drift() {
    let doc = tiny_doc();
    let root = Root::new(&doc);
    let dir = root.spec_dir_with(&doc);

    // The sentinel is stale: --check fails and leaves it alone.
    let err = root
        .codegen(Some(dir.clone()), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is stale"), "{err}");
    assert_eq!(root.generated(), SENTINEL);

    root.codegen(Some(dir.clone()), false).unwrap();
    let first = root.generated();
    assert!(first.starts_with("// @generated by `cargo xtask codegen`"));
    assert!(first.contains(&sha256_hex(&doc)));
    // The colliding "Kind" titles became two types, and B's const became a one-value enum.
    assert!(first.contains("pub enum AType"), "A's kind enum missing");
    assert!(first.contains("pub enum BType"), "B's kind enum missing");
    assert!(first.contains("fn get_thing"));

    root.codegen(Some(dir.clone()), false).unwrap();
    assert_eq!(root.generated(), first, "two runs differ");
    root.codegen(Some(dir.clone()), true).unwrap();

    std::fs::write(
        root.path().join(GENERATED_PATH),
        first.replace("get_thing", "get_thingy"),
    )
    .unwrap();
    assert!(root.codegen(Some(dir), true).is_err());
}

#[test]
fn pin_file_round_trips() {
    let pin = Pin {
        version: "0.2.1".into(),
        file: "acp-0.2.1.json".into(),
        url: "https://example.invalid/openapi.json".into(),
        sha256: "ab".repeat(32),
    };
    let root = Root::new(b"x");
    std::fs::write(root.path().join(spec::PIN_PATH), pin.to_file_text()).unwrap();
    assert_eq!(Pin::load(root.path()).unwrap(), pin);
}

/// Serve `body` once per connection on 127.0.0.1, for `connections` connections.
fn serve(body: Vec<u8>, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/openapi.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    url
}

#[test]
fn fetch_spec_verifies_the_hash_before_writing() {
    let doc = tiny_doc();
    let root = Root::new(&doc);
    let cache = root.path().join("openapi/acp-9.9.9.json");

    let url = serve(b"tampered".to_vec(), 1);
    let err = fetch::run(root.path(), Some(&url)).unwrap_err().to_string();
    assert!(
        err.contains("sha256 mismatch") && err.contains("nothing written"),
        "{err}"
    );
    assert!(!cache.exists());

    let url = serve(doc.clone(), 1);
    let written = fetch::run(root.path(), Some(&url)).unwrap();
    assert_eq!(written, cache);
    assert_eq!(std::fs::read(&cache).unwrap(), doc);

    // The cache is now where codegen looks first, without any spec dir.
    root.codegen(None, false).unwrap();
    assert!(root.generated().contains("fn get_thing"));
}

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn bump_with_malformed_json_names_line_and_column_and_changes_nothing() {
    let root = Root::new(&tiny_doc());
    let pin = root.pin_text();
    // Truncated like upstream commit 8902176: the document ends in the middle of an object.
    let doc = tiny_doc();
    let truncated = &doc[..doc.len() / 2];
    let err = root.bump(truncated, Some(COMMIT)).unwrap_err().to_string();
    let line = truncated.iter().filter(|b| **b == b'\n').count() + 1;
    assert!(
        err.contains(&format!("malformed JSON at line {line}, column ")),
        "{err}"
    );
    assert_eq!(root.generated(), SENTINEL);
    assert_eq!(root.pin_text(), pin);
    assert_eq!(root.openapi_files(), ["pin.toml"]);
}

#[test]
fn bump_refuses_an_unknown_document_without_commit_and_changes_nothing() {
    let root = Root::new(&tiny_doc());
    let pin = root.pin_text();
    let err = root.bump(&tiny_doc(), None).unwrap_err().to_string();
    assert!(
        err.contains("not a known ACP release") && err.contains("--commit"),
        "{err}"
    );
    let err = root
        .bump(&tiny_doc(), Some("main"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("40-hex-digit"), "{err}");
    assert_eq!(root.generated(), SENTINEL);
    assert_eq!(root.pin_text(), pin);
    assert_eq!(root.openapi_files(), ["pin.toml"]);
}

#[test]
fn bump_updates_pin_client_and_cache_and_reports_the_api_diff() {
    let doc = tiny_doc();
    let root = Root::new(&doc);
    root.codegen(Some(root.spec_dir_with(&doc)), false).unwrap();

    // 9.9.10 adds a schema `C` and a required field `A.size`.
    let mut next: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    next["info"]["version"] = json!("9.9.10");
    next["components"]["schemas"]["C"] =
        json!({"type": "object", "properties": {"x": {"type": "integer"}}});
    next["components"]["schemas"]["A"]["properties"]["size"] = json!({"type": "integer"});
    next["components"]["schemas"]["A"]["required"] = json!(["type", "size"]);
    let bytes = serde_json::to_vec_pretty(&next).unwrap();

    let bumped = root.bump(&bytes, Some(COMMIT)).unwrap();
    let pin = Pin::load(root.path()).unwrap();
    assert_eq!(bumped.pin, pin);
    assert_eq!(bumped.previous.as_deref(), Some("9.9.9"));
    assert_eq!(pin.version, "9.9.10");
    assert_eq!(pin.file, "acp-9.9.10.json");
    assert_eq!(pin.sha256, sha256_hex(&bytes));
    assert!(pin.url.contains(COMMIT), "{}", pin.url);
    assert!(root.generated().contains("pub struct C {"));
    assert!(root.generated().contains(&sha256_hex(&bytes)));
    let cached = root.path().join("openapi/acp-9.9.10.json");
    assert_eq!(std::fs::read(cached).unwrap(), bytes);

    let md = &bumped.markdown;
    assert!(md.starts_with("## API diff: ACP 9.9.9 → 9.9.10"), "{md}");
    let breaking = md.find("### Breaking changes (1)").expect(md);
    let additive = md.find("### Additive changes (1)").expect(md);
    let required = md.find("- `A.size: i64` added (required)").expect(md);
    let added = md.find("- `C` added: struct `{ x }`").expect(md);
    assert!(
        breaking < required && required < additive && additive < added,
        "{md}"
    );
    assert!(md.contains("**Summary:** 1 breaking, 1 additive."), "{md}");

    // The pin and the cache agree: a later codegen finds the document without any spec dir.
    root.codegen(None, true).unwrap();
}

/// A crate's graph from (file, text) pairs.
fn graph(files: &[(&str, &str)]) -> Graph {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    Graph::from_sources(&sources).unwrap()
}

fn edges(g: &Graph) -> Vec<String> {
    g.edges.keys().map(|(f, t)| format!("{f} -> {t}")).collect()
}

#[test]
fn deps_module_names_follow_the_file_layout() {
    let name = |f: &str| deps::display(&deps::module_of_file(f));
    assert_eq!(name("lib.rs"), "crate");
    assert_eq!(name("main.rs"), "crate");
    assert_eq!(name("foo.rs"), "foo");
    assert_eq!(name("foo/mod.rs"), "foo");
    assert_eq!(name("foo/bar.rs"), "foo::bar");
    assert_eq!(name("foo/bar/mod.rs"), "foo::bar");
}

#[test]
fn deps_sees_paths_in_uses_types_impls_bodies_and_macros() {
    let g = graph(&[
        (
            "lib.rs",
            "mod a; mod b; mod c; mod d; mod e; mod f; pub use e::Thing;",
        ),
        // A use, and a path through the root's re-export (followed to e).
        ("a.rs", "use crate::b::B; fn h(_: crate::Thing) {}"),
        // Inside a function body, nested in an inline module.
        (
            "b.rs",
            "pub struct B; mod inner { fn f() { let _ = crate::c::make(); } }",
        ),
        // An impl's trait, and `super::` resolved.
        (
            "c.rs",
            "pub fn make() {} struct X; impl super::d::Tr for X {}",
        ),
        // Inside a macro's arguments.
        (
            "d.rs",
            "pub trait Tr {} fn g() { println!(\"{}\", crate::e::N); }",
        ),
        ("e.rs", "pub struct Thing; pub const N: u8 = 1;"),
        // Another crate's paths, a local enum's variants, `self` values: no edges.
        (
            "f.rs",
            "use std::fmt; enum K { A } fn k(s: &str) -> K { let _ = s.len(); K::A }",
        ),
    ]);
    assert_eq!(
        edges(&g),
        ["a -> b", "a -> e", "b -> c", "c -> d", "d -> e"],
        "{g:?}"
    );
    assert!(g.cycles().is_empty());
}

#[test]
fn deps_cycles_are_components_of_more_than_one_module() {
    let g = graph(&[
        ("lib.rs", "mod a; mod b; mod c; mod p; mod x; mod y;"),
        ("a.rs", "use crate::b::B; pub struct A;"),
        (
            "b.rs",
            "pub struct B; fn f(_: super::a::A) {} fn g(_: crate::c::C) {}",
        ),
        // Naming itself is no edge.
        ("c.rs", "pub struct C; fn f(_: crate::c::C, _: self::C) {}"),
        // A parent naming its child is no edge (nor is `mod q;`); the child naming it is.
        ("p/mod.rs", "mod q; use self::q::Q; pub struct P;"),
        ("p/q.rs", "pub struct Q; fn f(_: super::P) {}"),
        // A test file belongs to its parent: its `use super::*` is no edge, its other paths
        // are the parent's.
        ("x.rs", "pub struct X; #[cfg(test)] mod tests;"),
        ("x/tests.rs", "use super::*; use crate::y::Y;"),
        ("y.rs", "pub struct Y; fn f(_: crate::x::X) {}"),
    ]);
    assert!(!g.nodes.contains("x::tests"), "{:?}", g.nodes);
    assert_eq!(
        edges(&g),
        [
            "a -> b",
            "b -> a",
            "b -> c",
            "p::q -> p",
            "x -> y",
            "y -> x"
        ]
    );
    let cycles = g.cycles();
    assert_eq!(cycles, [vec!["a", "b"], vec!["x", "y"]]);
    let report = g.report("t");
    assert!(report.contains("cycle {a, b}"), "{report}");
    assert!(
        report.contains("x -> y: crate::y::Y in x/tests.rs"),
        "{report}"
    );
}

#[test]
fn deps_fails_on_a_cycle_unless_allowed() {
    let root = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = root.path().join("acp-client-ext/src").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a; mod b;");
    write("a.rs", "use crate::b::B; pub struct A;");
    write("b.rs", "pub struct B;");
    write("bin/acp/main.rs", "mod m; mod n;");
    write("bin/acp/m.rs", "use crate::n::N; pub struct M;");
    write("bin/acp/n.rs", "use crate::m::M; pub struct N;");
    // The library's files do not include the binary's.
    let lib = deps::read_tree(&root.path().join("acp-client-ext/src"), Some("bin")).unwrap();
    let names: Vec<&str> = lib.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["a.rs", "b.rs", "lib.rs"]);
    let err = deps::run(root.path(), false).unwrap_err().to_string();
    assert!(err.starts_with("1 module cycle(s)"), "{err}");
    deps::run(root.path(), true).unwrap();
    // Without the cycle, no error.
    write("bin/acp/n.rs", "pub struct N;");
    deps::run(root.path(), false).unwrap();
}
