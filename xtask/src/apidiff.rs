//! The API diff of two generated surfaces, rendered as Markdown for a spec bump's pull request.
//!
//! `diff` and `render` are pure. A change is *breaking* when code written against the old client
//! can stop compiling or stop decoding: anything removed, a type or optionality changed, a kind
//! changed (struct -> enum), a required field or parameter added, a request body added, or an enum
//! variant added (an exhaustive `match` no longer covers it). Everything else is *additive*.

use crate::surface::{Field, Operation, Schema, Surface, Variant};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What a change is about: the two Markdown groups of each section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Operation,
    Schema,
}

/// One line of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub breaking: bool,
    pub scope: Scope,
    /// Markdown text of the bullet.
    pub text: String,
}

/// How many of each kind of change, for the summary line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub operations_added: usize,
    pub operations_removed: usize,
    pub operations_changed: usize,
    pub schemas_added: usize,
    pub schemas_removed: usize,
    pub schemas_changed_kind: usize,
    pub fields_added: usize,
    pub fields_removed: usize,
    pub fields_changed: usize,
    pub variants_added: usize,
    pub variants_removed: usize,
    pub variants_changed: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApiDiff {
    pub changes: Vec<Change>,
    pub counts: Counts,
}

impl ApiDiff {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    pub fn additive(&self) -> usize {
        self.changes.len() - self.breaking()
    }

    fn push(&mut self, breaking: bool, scope: Scope, text: String) {
        self.changes.push(Change {
            breaking,
            scope,
            text,
        });
    }
}

/// Compare two surfaces.
pub fn diff(old: &Surface, new: &Surface) -> ApiDiff {
    let mut d = ApiDiff::default();
    for (name, op) in &old.operations {
        if !new.operations.contains_key(name) {
            d.counts.operations_removed += 1;
            d.push(
                true,
                Scope::Operation,
                format!("`{name}` removed (was in `{}`)", op.group),
            );
        }
    }
    for (name, op) in &new.operations {
        match old.operations.get(name) {
            None => {
                d.counts.operations_added += 1;
                d.push(
                    false,
                    Scope::Operation,
                    format!("`{name}` added in `{}`: {}", op.group, signature(op)),
                );
            }
            Some(before) => {
                let n = d.changes.len();
                diff_operation(&mut d, name, before, op);
                if d.changes.len() > n {
                    d.counts.operations_changed += 1;
                }
            }
        }
    }
    for (name, schema) in &old.schemas {
        if !new.schemas.contains_key(name) {
            d.counts.schemas_removed += 1;
            d.push(
                true,
                Scope::Schema,
                format!("`{name}` removed (was {})", describe(schema)),
            );
        }
    }
    for (name, schema) in &new.schemas {
        match old.schemas.get(name) {
            None => {
                d.counts.schemas_added += 1;
                d.push(
                    false,
                    Scope::Schema,
                    format!("`{name}` added: {}", describe(schema)),
                );
            }
            Some(before) => diff_schema(&mut d, name, before, schema),
        }
    }
    d
}

fn diff_operation(d: &mut ApiDiff, name: &str, old: &Operation, new: &Operation) {
    if old.group != new.group {
        d.push(
            true,
            Scope::Operation,
            format!("`{name}`: moved from `{}` to `{}`", old.group, new.group),
        );
    }
    for (p, ty) in &old.params {
        match new.params.get(p) {
            None => d.push(
                true,
                Scope::Operation,
                format!("`{name}`: parameter `{p}` removed"),
            ),
            Some(t) if t != ty => d.push(
                true,
                Scope::Operation,
                format!("`{name}`: parameter `{p}` changed type `{ty}` → `{t}`"),
            ),
            Some(_) => {}
        }
    }
    for (p, ty) in &new.params {
        if !old.params.contains_key(p) {
            let required = !ty.starts_with("Option<");
            let which = if required { "required" } else { "optional" };
            d.push(
                required,
                Scope::Operation,
                format!("`{name}`: {which} parameter `{p}: {ty}` added"),
            );
        }
    }
    match (&old.body, &new.body) {
        (Some(a), Some(b)) if a != b => d.push(
            true,
            Scope::Operation,
            format!("`{name}`: request body `{a}` → `{b}`"),
        ),
        (Some(a), None) => d.push(
            true,
            Scope::Operation,
            format!("`{name}`: request body `{a}` removed"),
        ),
        (None, Some(b)) => d.push(
            true,
            Scope::Operation,
            format!("`{name}`: request body `{b}` added"),
        ),
        _ => {}
    }
    if old.response != new.response {
        d.push(
            true,
            Scope::Operation,
            format!("`{name}`: response `{}` → `{}`", old.response, new.response),
        );
    }
    if old.error != new.error {
        d.push(
            true,
            Scope::Operation,
            format!("`{name}`: error type `{}` → `{}`", old.error, new.error),
        );
    }
}

fn diff_schema(d: &mut ApiDiff, name: &str, old: &Schema, new: &Schema) {
    match (old, new) {
        (Schema::Struct(a), Schema::Struct(b)) => diff_fields(d, name, a, b),
        (Schema::Enum(a), Schema::Enum(b)) => diff_variants(d, name, a, b),
        (Schema::Tuple(a), Schema::Tuple(b)) if a.len() == b.len() => {
            if a != b {
                d.counts.fields_changed += 1;
                d.push(
                    true,
                    Scope::Schema,
                    format!("`{name}`: `({})` → `({})`", a.join(", "), b.join(", ")),
                );
            }
        }
        _ => {
            d.counts.schemas_changed_kind += 1;
            d.push(
                true,
                Scope::Schema,
                format!("`{name}`: {} → {}", describe(old), describe(new)),
            );
        }
    }
}

fn diff_fields(
    d: &mut ApiDiff,
    name: &str,
    old: &BTreeMap<String, Field>,
    new: &BTreeMap<String, Field>,
) {
    for (f, before) in old {
        match new.get(f) {
            None => {
                d.counts.fields_removed += 1;
                d.push(
                    true,
                    Scope::Schema,
                    format!("`{name}.{f}` removed (was `{}`)", before.ty),
                );
            }
            Some(after) if after != before => {
                d.counts.fields_changed += 1;
                let mut text = format!("`{name}.{f}`: ");
                if after.optional != before.optional {
                    text += &format!(
                        "{} → {}, ",
                        optionality(before.optional),
                        optionality(after.optional)
                    );
                }
                if after.ty == before.ty {
                    text += &format!("type `{}` unchanged", after.ty);
                } else {
                    text += &format!("`{}` → `{}`", before.ty, after.ty);
                }
                d.push(true, Scope::Schema, text);
            }
            Some(_) => {}
        }
    }
    for (f, after) in new {
        if !old.contains_key(f) {
            d.counts.fields_added += 1;
            d.push(
                !after.optional,
                Scope::Schema,
                format!(
                    "`{name}.{f}: {}` added ({})",
                    after.ty,
                    optionality(after.optional)
                ),
            );
        }
    }
}

fn diff_variants(d: &mut ApiDiff, name: &str, old: &[Variant], new: &[Variant]) {
    let find = |vs: &[Variant], n: &str| vs.iter().find(|v| v.name == n).cloned();
    for v in old {
        match find(new, &v.name) {
            None => {
                d.counts.variants_removed += 1;
                d.push(
                    true,
                    Scope::Schema,
                    format!("`{name}::{}{}` removed", v.name, v.payload),
                );
            }
            Some(after) if after.payload != v.payload => {
                d.counts.variants_changed += 1;
                d.push(
                    true,
                    Scope::Schema,
                    format!(
                        "`{name}::{}`: payload `{}` → `{}`",
                        v.name,
                        v.payload.trim(),
                        after.payload.trim()
                    ),
                );
            }
            Some(_) => {}
        }
    }
    for v in new {
        if find(old, &v.name).is_none() {
            d.counts.variants_added += 1;
            d.push(
                true,
                Scope::Schema,
                format!(
                    "`{name}::{}{}` added (an exhaustive `match` misses it)",
                    v.name, v.payload
                ),
            );
        }
    }
}

fn optionality(optional: bool) -> &'static str {
    if optional { "optional" } else { "required" }
}

/// ``struct `{ a, b }` ``, ``newtype of `T` ``, ``enum `{ A, B(T) }` `` (Markdown).
fn describe(schema: &Schema) -> String {
    match schema {
        Schema::Struct(fields) => {
            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
            format!("{} `{{ {} }}`", schema.kind(), names.join(", "))
        }
        Schema::Tuple(tys) if tys.len() == 1 => format!("newtype of `{}`", tys[0]),
        Schema::Tuple(tys) => format!("tuple struct `({})`", tys.join(", ")),
        Schema::Enum(vs) => {
            let names: Vec<String> = vs
                .iter()
                .map(|v| format!("{}{}", v.name, v.payload))
                .collect();
            format!("enum `{{ {} }}`", names.join(", "))
        }
    }
}

/// `(param: T, ..) body B -> R`.
fn signature(op: &Operation) -> String {
    let params: Vec<String> = op.params.iter().map(|(p, t)| format!("{p}: {t}")).collect();
    let body = op
        .body
        .as_ref()
        .map(|b| format!(", body `{b}`"))
        .unwrap_or_default();
    format!("`({})`{body} → `{}`", params.join(", "), op.response)
}

/// The Markdown of a diff: breaking changes first, then additive ones, then a summary line.
pub fn render(d: &ApiDiff, old_label: &str, new_label: &str) -> String {
    let mut out = format!("## API diff: ACP {old_label} → {new_label}\n\n");
    out += "Generated surface of `acp-client`: `types` schemas and the `Client*Ext` operations.\n";
    for (breaking, title) in [(true, "Breaking changes"), (false, "Additive changes")] {
        let changes: Vec<&Change> = d
            .changes
            .iter()
            .filter(|c| c.breaking == breaking)
            .collect();
        if changes.is_empty() {
            continue;
        }
        let _ = write!(out, "\n### {title} ({})\n", changes.len());
        for (scope, heading) in [(Scope::Operation, "Operations"), (Scope::Schema, "Schemas")] {
            let lines: BTreeSet<&str> = changes
                .iter()
                .filter(|c| c.scope == scope)
                .map(|c| c.text.as_str())
                .collect();
            if lines.is_empty() {
                continue;
            }
            let _ = write!(out, "\n**{heading}**\n\n");
            for line in lines {
                let _ = writeln!(out, "- {line}");
            }
        }
    }
    if d.changes.is_empty() {
        out += "\nNo change to the generated API.\n";
    }
    let c = &d.counts;
    let _ = write!(
        out,
        "\n**Summary:** {} breaking, {} additive. Operations: +{} −{} ~{}; \
         schemas: +{} −{}, {} changed kind; fields: +{} −{} ~{}; enum variants: +{} −{} ~{}.\n",
        d.breaking(),
        d.additive(),
        c.operations_added,
        c.operations_removed,
        c.operations_changed,
        c.schemas_added,
        c.schemas_removed,
        c.schemas_changed_kind,
        c.fields_added,
        c.fields_removed,
        c.fields_changed,
        c.variants_added,
        c.variants_removed,
        c.variants_changed,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: &str) -> Field {
        Field {
            ty: ty.into(),
            optional: ty.starts_with("Option<"),
        }
    }

    fn strukt(fields: &[(&str, &str)]) -> Schema {
        Schema::Struct(
            fields
                .iter()
                .map(|(n, t)| (n.to_string(), field(t)))
                .collect(),
        )
    }

    fn enm(variants: &[(&str, &str)]) -> Schema {
        Schema::Enum(
            variants
                .iter()
                .map(|(n, p)| Variant {
                    name: n.to_string(),
                    payload: p.to_string(),
                })
                .collect(),
        )
    }

    fn op(params: &[(&str, &str)], body: Option<&str>, response: &str) -> Operation {
        Operation {
            group: "ClientThingsExt".into(),
            params: params
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
            body: body.map(str::to_string),
            response: response.into(),
            error: "ErrorResponse".into(),
        }
    }

    fn surface(schemas: Vec<(&str, Schema)>, ops: Vec<(&str, Operation)>) -> Surface {
        Surface {
            schemas: schemas
                .into_iter()
                .map(|(n, s)| (n.to_string(), s))
                .collect(),
            operations: ops.into_iter().map(|(n, o)| (n.to_string(), o)).collect(),
        }
    }

    fn old() -> Surface {
        surface(
            vec![
                (
                    "Thing",
                    strukt(&[("id", "String"), ("note", "Option<String>")]),
                ),
                (
                    "Input",
                    Schema::Tuple(vec!["serde_json::Map<String, Value>".into()]),
                ),
                ("Kind", enm(&[("A", ""), ("B", "")])),
                ("Gone", strukt(&[])),
            ],
            vec![
                ("get_thing", op(&[("id", "uuid::Uuid")], None, "Thing")),
                ("drop_thing", op(&[("id", "uuid::Uuid")], None, "()")),
            ],
        )
    }

    fn new() -> Surface {
        surface(
            vec![
                (
                    "Thing",
                    strukt(&[
                        ("id", "Option<String>"),
                        ("size", "i64"),
                        ("tag", "Option<String>"),
                    ]),
                ),
                ("Input", enm(&[("Object", "(Map)"), ("String", "(String)")])),
                ("Kind", enm(&[("A", ""), ("C", "")])),
                ("Fresh", strukt(&[("x", "i64")])),
            ],
            vec![
                (
                    "get_thing",
                    op(
                        &[("id", "uuid::Uuid"), ("limit", "Option<i64>")],
                        None,
                        "Vec<Thing>",
                    ),
                ),
                ("put_thing", op(&[], Some("Thing"), "Thing")),
            ],
        )
    }

    #[test]
    fn classifies_every_kind_of_change() {
        let d = diff(&old(), &new());
        let breaking: Vec<&str> = d
            .changes
            .iter()
            .filter(|c| c.breaking)
            .map(|c| c.text.as_str())
            .collect();
        let additive: Vec<&str> = d
            .changes
            .iter()
            .filter(|c| !c.breaking)
            .map(|c| c.text.as_str())
            .collect();
        for expected in [
            "`drop_thing` removed (was in `ClientThingsExt`)",
            "`get_thing`: response `Thing` → `Vec<Thing>`",
            "`Gone` removed (was struct `{  }`)",
            "`Input`: newtype of `serde_json::Map<String, Value>` → enum `{ Object(Map), String(String) }`",
            "`Kind::B` removed",
            "`Kind::C` added (an exhaustive `match` misses it)",
            "`Thing.id`: required → optional, `String` → `Option<String>`",
            "`Thing.note` removed (was `Option<String>`)",
            "`Thing.size: i64` added (required)",
        ] {
            assert!(
                breaking.contains(&expected),
                "missing breaking {expected:?} in {breaking:#?}"
            );
        }
        for expected in [
            "`get_thing`: optional parameter `limit: Option<i64>` added",
            "`put_thing` added in `ClientThingsExt`: `()`, body `Thing` → `Thing`",
            "`Fresh` added: struct `{ x }`",
            "`Thing.tag: Option<String>` added (optional)",
        ] {
            assert!(
                additive.contains(&expected),
                "missing additive {expected:?} in {additive:#?}"
            );
        }
        assert_eq!(breaking.len(), 9, "{breaking:#?}");
        assert_eq!(additive.len(), 4, "{additive:#?}");
        assert_eq!(
            d.counts,
            Counts {
                operations_added: 1,
                operations_removed: 1,
                operations_changed: 1,
                schemas_added: 1,
                schemas_removed: 1,
                schemas_changed_kind: 1,
                fields_added: 2,
                fields_removed: 1,
                fields_changed: 1,
                variants_added: 1,
                variants_removed: 1,
                variants_changed: 0,
            }
        );
    }

    #[test]
    fn markdown_puts_breaking_first_and_ends_with_the_summary() {
        let md = render(&diff(&old(), &new()), "1.0", "2.0");
        assert!(md.starts_with("## API diff: ACP 1.0 → 2.0\n"));
        let breaking = md
            .find("### Breaking changes (9)")
            .expect("breaking section");
        let additive = md
            .find("### Additive changes (4)")
            .expect("additive section");
        assert!(breaking < additive);
        assert!(md.find("- `Kind::C` added").unwrap() < additive);
        assert!(md.find("- `Fresh` added").unwrap() > additive);
        let last = md.lines().last().unwrap();
        assert!(
            last.starts_with("**Summary:** 9 breaking, 4 additive."),
            "{last}"
        );
    }

    #[test]
    fn identical_surfaces_have_no_change() {
        let d = diff(&old(), &old());
        assert!(d.changes.is_empty());
        let md = render(&d, "1.0", "1.0");
        assert!(md.contains("No change to the generated API."));
        assert!(md.contains("**Summary:** 0 breaking, 0 additive."));
    }
}
