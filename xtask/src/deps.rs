//! `cargo xtask deps`: the module graph of acp-client-ext's library (`src/`, without `src/bin/`)
//! and of its `acp` binary (`src/bin/acp/`), and every cycle in them.
//!
//! One node per module file: `lib.rs`/`main.rs` is `crate`, `foo.rs` and `foo/mod.rs` are `foo`,
//! `foo/bar.rs` is `foo::bar`; a file its parent declares as `#[cfg(test)] mod x;` belongs to
//! that parent, and inline `mod x { .. }` blocks belong to their file. An edge `a -> b` is any
//! path in `a` that names a module of the same crate: `use crate::..`, `use super::..`,
//! `use self::..` and `use child::..` (resolved against the module the `use` is in), and every
//! `crate::`/`super::`/`self::` path in code, types, impls, function bodies and macro arguments.
//! Test-only code counts like the rest. A path through a re-export (`crate::Error` where the
//! crate root has `pub use error::Error`) is followed to the module that defines the name, so
//! that spelling a path through the root hides no dependency; a path to a module's re-export of
//! another crate's item (`crate::run::RunStatus`) is an edge to that module. Not
//! edges: `mod x;` declarations, a module naming itself, and a module naming one of its
//! descendants (a parent re-exporting its child). A cycle is a strongly connected component of
//! more than one node.

use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit_mut::VisitMut;

/// A module path below the crate root (`[]` is the root).
type ModPath = Vec<String>;

/// The two crates of acp-client-ext whose graphs `deps` prints: (label, source root, excluded
/// subdirectory).
const CRATES: [(&str, &str, Option<&str>); 2] = [
    ("library", "acp-client-ext/src", Some("bin")),
    ("binary acp", "acp-client-ext/src/bin/acp", None),
];

/// `cargo xtask deps [--allow-cycles]`: prints both graphs and their cycles; an error when a
/// cycle exists unless `allow_cycles`.
pub fn run(root: &Path, allow_cycles: bool) -> Result<()> {
    let mut total = 0;
    for (label, dir, exclude) in CRATES {
        let sources = read_tree(&root.join(dir), exclude)?;
        let graph = Graph::from_sources(&sources)?;
        print!("{}", graph.report(&format!("{label} ({dir})")));
        total += graph.cycles().len();
    }
    if total > 0 && !allow_cycles {
        bail!("{total} module cycle(s) (see above; --allow-cycles only prints them)");
    }
    Ok(())
}

/// Every `.rs` file under `dir` (paths relative to it, `/`-separated), skipping the
/// subdirectory `exclude` of `dir`.
pub fn read_tree(dir: &Path, exclude: Option<&str>) -> Result<Vec<(String, String)>> {
    fn walk(
        base: &Path,
        dir: &Path,
        exclude: Option<&Path>,
        out: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if Some(path.as_path()) != exclude {
                    walk(base, &path, exclude, out)?;
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                out.push((rel, text));
            }
        }
        Ok(())
    }
    let exclude = exclude.map(|e| dir.join(e));
    let mut out = Vec::new();
    walk(dir, dir, exclude.as_deref(), &mut out)?;
    Ok(out)
}

/// The module a file is, from its path relative to the crate's source root.
pub fn module_of_file(rel: &str) -> ModPath {
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    let Some(last) = parts.pop() else {
        return Vec::new();
    };
    let stem = last.strip_suffix(".rs").unwrap_or(&last);
    match (parts.is_empty(), stem) {
        (true, "lib" | "main") => {}
        (_, "mod") => {}
        _ => parts.push(stem.to_owned()),
    }
    parts
}

/// `crate`, or `a::b`.
pub fn display(m: &[String]) -> String {
    if m.is_empty() {
        "crate".to_owned()
    } else {
        m.join("::")
    }
}

/// A crate's module graph: nodes are module files, edges carry one path that made them.
#[derive(Debug, Default)]
pub struct Graph {
    /// Every node, by display name.
    pub nodes: BTreeSet<String>,
    /// `from -> to`, with the first path seen and the file it is in.
    pub edges: BTreeMap<(String, String), String>,
}

/// What the first pass learns of every file before paths are resolved.
#[derive(Default)]
struct Modules {
    /// Every module path (files, inline blocks, `#[path]` aliases) to the file module it lives in.
    file_of: BTreeMap<ModPath, ModPath>,
    /// A file module declared `#[cfg(test)] mod x;` folds into its parent's node.
    test_files: BTreeSet<ModPath>,
    /// Names each module binds with `use`, to the absolute path they stand for (`None`: a path
    /// into another crate).
    bindings: BTreeMap<ModPath, BTreeMap<String, Option<ModPath>>>,
}

impl Modules {
    /// The graph node of a module path: the file it is in, test files folded into their parent.
    fn node(&self, m: &[String]) -> Option<ModPath> {
        let mut file = self.file_of.get(m)?.clone();
        while self.test_files.contains(&file) {
            file.pop();
            file = self.file_of.get(&file)?.clone();
        }
        Some(file)
    }

    /// The module an absolute path names: its longest prefix that is a module, re-exports
    /// followed when they lead to another module of the crate (a re-export of another crate's
    /// item is the module that re-exports it; a binding loop ends at the module that binds it).
    fn target(&self, path: &[String]) -> Option<ModPath> {
        let mut path = path.to_vec();
        for _ in 0..16 {
            let k = (0..=path.len())
                .rev()
                .find(|&k| self.file_of.contains_key(&path[..k]))?;
            let module = path[..k].to_vec();
            let bound = path
                .get(k)
                .and_then(|name| self.bindings.get(&module)?.get(name));
            match bound {
                None | Some(None) => return Some(module),
                Some(Some(bound)) => {
                    let mut next = bound.clone();
                    next.extend_from_slice(&path[k + 1..]);
                    if next == path {
                        return Some(module);
                    }
                    path = next;
                }
            }
        }
        None
    }

    fn is_module(&self, m: &[String]) -> bool {
        self.file_of.contains_key(m)
    }
}

/// Resolves the leading `crate`/`super`/`self`/child-module segments of a path written in
/// module `cur`; `None` for anything else (other crates, local names).
fn absolute(
    cur: &[String],
    segs: &[String],
    modules: &Modules,
    allow_child: bool,
) -> Option<ModPath> {
    let first = segs.first()?;
    match first.as_str() {
        "crate" => Some(segs[1..].to_vec()),
        "self" => {
            let mut p = cur.to_vec();
            p.extend_from_slice(&segs[1..]);
            Some(p)
        }
        "super" => {
            let mut p = cur.to_vec();
            let mut rest = segs;
            while rest.first().map(String::as_str) == Some("super") {
                p.pop()?;
                rest = &rest[1..];
            }
            p.extend_from_slice(rest);
            Some(p)
        }
        _ if allow_child => {
            let mut p = cur.to_vec();
            p.push(first.clone());
            modules.is_module(&p).then(|| {
                p.extend_from_slice(&segs[1..]);
                p
            })
        }
        _ => None,
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().trim() == "test")
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Flattens a use tree into (absolute path, bound name) pairs; `glob` paths bind no name.
fn use_paths(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" && !prefix.is_empty() {
                let bound = prefix.last().cloned();
                out.push((prefix.clone(), bound));
            } else {
                let mut p = prefix.clone();
                p.push(name.clone());
                out.push((p, Some(name)));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut p = prefix.clone();
            if r.ident != "self" {
                p.push(r.ident.to_string());
            }
            out.push((p, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, out);
            }
        }
    }
}

/// First pass over one file: inline modules, `mod x;` declarations (`#[cfg(test)]`, `#[path]`).
struct Declarations<'a> {
    file: ModPath,
    rel_dir: String,
    cur: ModPath,
    modules: &'a mut Modules,
    /// `#[path]` declarations: module path -> file (relative to the source root).
    aliases: Vec<(ModPath, String)>,
    uses: Vec<(ModPath, syn::UseTree)>,
}

impl VisitMut for Declarations<'_> {
    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        self.cur.push(m.ident.to_string());
        if m.content.is_some() {
            self.modules
                .file_of
                .insert(self.cur.clone(), self.file.clone());
            syn::visit_mut::visit_item_mod_mut(self, m);
        } else {
            if let Some(p) = path_attr(&m.attrs) {
                let rel = if self.rel_dir.is_empty() {
                    p
                } else {
                    format!("{}/{p}", self.rel_dir)
                };
                self.aliases.push((self.cur.clone(), rel));
            }
            if is_cfg_test(&m.attrs) {
                self.modules.test_files.insert(self.cur.clone());
            }
        }
        self.cur.pop();
    }

    fn visit_item_use_mut(&mut self, u: &mut syn::ItemUse) {
        self.uses.push((self.cur.clone(), u.tree.clone()));
    }
}

/// Second pass over one file: every path that names a module of the crate.
struct References<'a> {
    cur: ModPath,
    modules: &'a Modules,
    found: Vec<(ModPath, String)>,
}

impl References<'_> {
    fn note(&mut self, segs: &[String], allow_child: bool) {
        if let Some(abs) = absolute(&self.cur, segs, self.modules, allow_child) {
            self.found.push((abs, segs.join("::")));
        }
    }
}

impl VisitMut for References<'_> {
    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        self.cur.push(m.ident.to_string());
        syn::visit_mut::visit_item_mod_mut(self, m);
        self.cur.pop();
    }

    fn visit_item_use_mut(&mut self, u: &mut syn::ItemUse) {
        let mut out = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut out);
        for (segs, _) in out {
            self.note(&segs, true);
        }
    }

    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.note(&segs, true);
        }
        syn::visit_mut::visit_path_mut(self, p);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        for segs in token_paths(m) {
            self.note(&segs, false);
        }
        syn::visit_mut::visit_macro_mut(self, m);
    }
}

/// `crate::a::b`, `super::x`, `self::y` sequences in a macro's tokens (which syn leaves
/// unparsed).
fn token_paths(tokens: &syn::Macro) -> Vec<Vec<String>> {
    #[derive(PartialEq)]
    enum Tok {
        Ident(String),
        Colon,
        Other,
    }
    fn flatten(mut c: syn::buffer::Cursor<'_>, out: &mut Vec<Tok>) {
        while !c.eof() {
            if let Some((inside, _, _, rest)) = c.any_group() {
                flatten(inside, out);
                out.push(Tok::Other);
                c = rest;
            } else if let Some((id, rest)) = c.ident() {
                out.push(Tok::Ident(id.to_string()));
                c = rest;
            } else if let Some((p, rest)) = c.punct() {
                out.push(if p.as_char() == ':' {
                    Tok::Colon
                } else {
                    Tok::Other
                });
                c = rest;
            } else if let Some((_, rest)) = c.token_tree() {
                out.push(Tok::Other);
                c = rest;
            } else {
                break;
            }
        }
    }
    let buffer = syn::buffer::TokenBuffer::new2(tokens.tokens.clone());
    let mut flat = Vec::new();
    flatten(buffer.begin(), &mut flat);
    let colon = |i: usize| flat.get(i) == Some(&Tok::Colon);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        let start =
            matches!(&flat[i], Tok::Ident(id) if id == "crate" || id == "super" || id == "self");
        let after_path_sep = i >= 2 && colon(i - 1) && colon(i - 2);
        if !start || after_path_sep {
            i += 1;
            continue;
        }
        let mut segs = Vec::new();
        if let Tok::Ident(id) = &flat[i] {
            segs.push(id.clone());
        }
        let mut j = i + 1;
        while colon(j) && colon(j + 1) {
            match flat.get(j + 2) {
                Some(Tok::Ident(id)) => {
                    segs.push(id.clone());
                    j += 3;
                }
                _ => break,
            }
        }
        if segs.len() > 1 {
            paths.push(segs);
        }
        i = j;
    }
    paths
}

impl Graph {
    /// The graph of one crate from its files (paths relative to its source root, `/`-separated).
    pub fn from_sources(sources: &[(String, String)]) -> Result<Graph> {
        let mut modules = Modules::default();
        let mut files = Vec::new();
        for (rel, text) in sources {
            let file = syn::parse_file(text).with_context(|| format!("parsing {rel}"))?;
            let m = module_of_file(rel);
            modules.file_of.insert(m.clone(), m.clone());
            files.push((rel.clone(), m, file));
        }
        let mut aliases = Vec::new();
        let mut uses = Vec::new();
        for (rel, m, file) in &mut files {
            let rel_dir = rel
                .rsplit_once('/')
                .map(|(d, _)| d.to_owned())
                .unwrap_or_default();
            let mut d = Declarations {
                file: m.clone(),
                rel_dir,
                cur: m.clone(),
                modules: &mut modules,
                aliases: Vec::new(),
                uses: Vec::new(),
            };
            d.visit_file_mut(file);
            aliases.append(&mut d.aliases);
            uses.append(&mut d.uses);
        }
        for (declared, rel) in aliases {
            let target = module_of_file(&rel);
            if modules.file_of.contains_key(&target) {
                modules.file_of.insert(declared, target);
            }
        }
        for (cur, tree) in uses {
            let mut out = Vec::new();
            use_paths(&tree, &mut Vec::new(), &mut out);
            for (segs, name) in out {
                if let Some(name) = name {
                    let abs = absolute(&cur, &segs, &modules, true);
                    modules
                        .bindings
                        .entry(cur.clone())
                        .or_default()
                        .insert(name, abs);
                }
            }
        }
        let mut graph = Graph::default();
        for (rel, m, file) in &mut files {
            let Some(from) = modules.node(m) else {
                continue;
            };
            graph.nodes.insert(display(&from));
            let mut r = References {
                cur: m.clone(),
                modules: &modules,
                found: Vec::new(),
            };
            r.visit_file_mut(file);
            for (abs, text) in r.found {
                let Some(to) = modules.target(&abs).and_then(|t| modules.node(&t)) else {
                    continue;
                };
                if to == from || to.starts_with(&from) {
                    continue;
                }
                graph
                    .edges
                    .entry((display(&from), display(&to)))
                    .or_insert_with(|| format!("{text} in {rel}"));
            }
        }
        Ok(graph)
    }

    /// Strongly connected components of more than one node, each sorted, in name order.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let names: Vec<&String> = self.nodes.iter().collect();
        let index: BTreeMap<&String, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut adj = vec![Vec::new(); names.len()];
        for (from, to) in self.edges.keys() {
            if let (Some(&a), Some(&b)) = (index.get(from), index.get(to)) {
                adj[a].push(b);
            }
        }
        // Tarjan, iterative: (node, next child position) frames.
        let n = names.len();
        let (mut idx, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
        let (mut stack, mut next, mut out) = (Vec::new(), 0, Vec::new());
        for root in 0..n {
            if idx[root] != usize::MAX {
                continue;
            }
            let mut frames = vec![(root, 0)];
            idx[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on[root] = true;
            while let Some(&mut (v, ref mut pos)) = frames.last_mut() {
                if let Some(&w) = adj[v].get(*pos) {
                    *pos += 1;
                    if idx[w] == usize::MAX {
                        idx[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on[w] = true;
                        frames.push((w, 0));
                    } else if on[w] {
                        low[v] = low[v].min(idx[w]);
                    }
                    continue;
                }
                frames.pop();
                if let Some(&(parent, _)) = frames.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == idx[v] {
                    let mut scc = Vec::new();
                    while let Some(w) = stack.pop() {
                        on[w] = false;
                        scc.push(names[w].clone());
                        if w == v {
                            break;
                        }
                    }
                    if scc.len() > 1 {
                        scc.sort();
                        out.push(scc);
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The text `deps` prints for this graph: every node's edges, then every cycle with the
    /// edges inside it and a path that made each.
    pub fn report(&self, title: &str) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{title}: {} modules, {} edges",
            self.nodes.len(),
            self.edges.len()
        );
        for node in &self.nodes {
            let to: Vec<&str> = self
                .edges
                .keys()
                .filter(|(f, _)| f == node)
                .map(|(_, t)| t.as_str())
                .collect();
            if !to.is_empty() {
                let _ = writeln!(s, "  {node} -> {}", to.join(", "));
            }
        }
        let cycles = self.cycles();
        if cycles.is_empty() {
            let _ = writeln!(s, "  no cycles");
        }
        for scc in cycles {
            let _ = writeln!(s, "  cycle {{{}}}", scc.join(", "));
            for ((f, t), why) in &self.edges {
                if scc.contains(f) && scc.contains(t) {
                    let _ = writeln!(s, "    {f} -> {t}: {why}");
                }
            }
        }
        s
    }
}
