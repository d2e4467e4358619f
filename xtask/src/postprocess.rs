//! Post-processing of progenitor's output: makes every generated type read what real ACP servers
//! send, without changing what the client sends.
//!
//! The one public ACP server, agntcy's Agent Workflow Server (FastAPI/pydantic), writes `null`
//! for every unset field, naive `datetime.now()` timestamps and run statuses the spec does not
//! list (`"running"`). Each such fault would make a whole `Thread` or `Run` fail to decode. The
//! rules below work on kinds of type, not on names, so they survive spec bumps. Like the
//! normalizer's, each rule that fires is reported (`cargo xtask codegen -v` lists them).
//!
//! Rules, in the order they run:
//! - `timestamp`: every `format: date-time` schema becomes `crate::Timestamp` (hand-written in
//!   `acp-client/src/timestamp.rs`: RFC 3339 with any offset, naive ISO 8601 read as UTC, and
//!   unreadable text kept). This is done by typify's schema conversion
//!   ([`timestamp_conversion`]), not here; this pass reports each field it produced and fails if
//!   a `chrono::DateTime` is left (a date-time schema shape the conversion did not match).
//! - `open-enum`: an enum of two or more string values (all unit variants with
//!   `#[serde(rename = "...")]`) gets a last variant `#[serde(untagged)] Other(String)` that
//!   keeps any value the spec does not list, loses `Copy`, and its `Display` writes the kept text.
//!   Its `Deserialize` is generated here, not derived: a match of the string on the spec's values
//!   (`crate::lenient::open_enum`), where serde's derive of an enum with an untagged variant
//!   buffers each value and tries the variants in turn (~4% of a typed stream's CPU per event).
//!   `FromStr`/`TryFrom` stay strict (a typo in user input is an error), serializing a known value
//!   is unchanged, and the JSON schema still lists only the spec's values (`#[schemars(skip)]`;
//!   schemars 0.8 does not understand a variant-level `untagged`). One-value enums are left
//!   strict: they are `const` discriminators (`type: "result"`), and the untagged unions that
//!   pick a variant by them would otherwise take the first variant for every payload.
//! - `open-union`: an untagged enum whose variants all wrap a generated struct (`RunOutput`,
//!   `StreamEventPayload`: one struct per `type`) gets a last variant
//!   `Unknown(serde_json::Value)`, so an event or output of a `type` this spec version does not
//!   know (or a known `type` with required fields missing) is kept as JSON instead of failing
//!   the object around it. Untagged enums over built-in types (`Content`) are left alone.
//! - `empty-default`: a type of a required field that has no `Default` but an obvious empty
//!   value gets one, so `null-empty` can apply to that field: a newtype over a map, list or
//!   string (the free-form schemas `OutputSchema`, `InterruptPayloadSchema`, ...), empty; an
//!   untagged enum with an `Object(Map)`, `String(String)` or `Array(Vec)` variant (a message's
//!   `Content`), the first of those, empty.
//! - `null-default`: a field with a default (`#[serde(default)]` or a spec `default`, not an
//!   `Option`) reads `null` as absent: `deserialize_with` `crate::lenient::null_as_default`, or,
//!   for a spec default, a function in the private module `types::null_defaults` that calls
//!   `crate::lenient::null_or` with typify's default function. Absent still gives the default.
//! - `null-empty`: a required field whose empty reading is obvious (a string, an array, a map, a
//!   free-form object newtype, or an enum given a default by `empty-default`, such as a message's
//!   `content`) reads `null` as empty (`crate::lenient::null_as_default`). A missing required
//!   field is still an error.
//!
//! `Option` fields already read `null` as `None`, and the normalizer's `nullable-optional` makes
//! optional collections `Option`s; nothing here changes serialization.

use crate::normalize::Report;
use anyhow::{Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use syn::punctuated::Punctuated;
use syn::{Attribute, Fields, Item, Type, parse_quote};

/// The path generated code uses for the hand-written timestamp type.
pub const TIMESTAMP_TYPE: &str = "crate::Timestamp";

/// The typify conversion that maps `format: date-time` to [`TIMESTAMP_TYPE`] (rule `timestamp`).
///
/// typify compares a schema with the conversion's schema ignoring its metadata (title,
/// description, default), so this matches every plain `{"type": "string", "format":
/// "date-time"}` property; [`run`] fails on any other shape that still became a `DateTime`.
pub fn timestamp_conversion() -> schemars::schema::SchemaObject {
    schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::String.into()),
        format: Some("date-time".to_string()),
        ..Default::default()
    }
}

/// Apply the rules to the generated file's `mod types`; every rule that fired is in the report.
pub fn run(file: &mut syn::File) -> Result<Report> {
    let mut report = Report::default();
    let Some(items) = file.items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    }) else {
        bail!("progenitor's output has no `mod types`");
    };
    let text = quote_items(items);
    if text.contains("chrono :: DateTime") {
        bail!(
            "a date-time schema became chrono::DateTime instead of {TIMESTAMP_TYPE}: \
             extend postprocess::timestamp_conversion for its shape"
        );
    }
    apply(items, &mut report);
    Ok(report)
}

fn quote_items(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| quote::ToTokens::to_token_stream(i).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rules on the items of `mod types` (also used by the unit tests on small inputs).
fn apply(items: &mut Vec<Item>, report: &mut Report) {
    let structs: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    let has_default: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Struct(s) if derives(&s.attrs).contains("Default") => Some(s.ident.to_string()),
            Item::Enum(e) if derives(&e.attrs).contains("Default") => Some(e.ident.to_string()),
            Item::Impl(imp) if trait_name(imp).as_deref() == Some("Default") => self_name(imp),
            _ => None,
        })
        .collect();

    // Newtypes over a map, list or string: free-form objects whose empty value is obvious.
    let mut empty_types: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Struct(s) => match &s.fields {
                Fields::Unnamed(f)
                    if f.unnamed.len() == 1 && is_empty_builtin(&f.unnamed[0].ty) =>
                {
                    Some(s.ident.to_string())
                }
                _ => None,
            },
            _ => None,
        })
        .collect();

    // Types of required fields (no default, not an `Option`): the only ones `empty-default` serves.
    let mut required_types = BTreeSet::new();
    for item in items.iter() {
        let fields: Vec<&syn::Field> = match item {
            Item::Struct(s) => s.fields.iter().collect(),
            Item::Enum(e) => e.variants.iter().flat_map(|v| v.fields.iter()).collect(),
            _ => continue,
        };
        for f in fields.into_iter().filter(|f| f.ident.is_some()) {
            if !is_option(&f.ty) && !serde_keys(&f.attrs).contains_key("default") {
                required_types.extend(last_ident(&f.ty));
            }
        }
    }

    let mut new_items: Vec<Item> = Vec::new();
    for name in &empty_types {
        if has_default.contains(name) || !required_types.contains(name) {
            continue;
        }
        let ident = quote::format_ident!("{name}");
        new_items.push(parse_quote! {
            impl ::std::default::Default for #ident {
                fn default() -> Self {
                    Self(::std::default::Default::default())
                }
            }
        });
        report.fire(
            "empty-default",
            &format!("types::{name}"),
            "Default = empty",
        );
    }
    let mut open_enums = BTreeSet::new();
    for item in items.iter_mut() {
        let Item::Enum(e) = item else { continue };
        let name = e.ident.to_string();
        if is_string_enum(e) && e.variants.len() >= 2 {
            let (values, variants): (Vec<String>, Vec<&syn::Ident>) = e
                .variants
                .iter()
                .filter_map(|v| Some((serde_keys(&v.attrs).remove("rename")??, &v.ident)))
                .unzip();
            let ident = &e.ident;
            new_items.push(parse_quote! {
                impl<'de> ::serde::Deserialize<'de> for #ident {
                    fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
                    where
                        D: ::serde::Deserializer<'de>,
                    {
                        crate::lenient::open_enum(
                            deserializer,
                            |value| match value {
                                #(#values => ::std::option::Option::Some(Self::#variants),)*
                                _ => ::std::option::Option::None,
                            },
                            Self::Other,
                        )
                    }
                }
            });
            remove_derive(&mut e.attrs, "Deserialize");
            e.variants.push(parse_quote! {
                /// A value this version of the spec does not list, as the server sent it.
                #[serde(untagged)]
                #[schemars(skip)]
                Other(::std::string::String)
            });
            remove_derive(&mut e.attrs, "Copy");
            open_enums.insert(name.clone());
            report.fire(
                "open-enum",
                &format!("types::{name}"),
                "unknown values -> Other(String)",
            );
        } else if is_untagged(&e.attrs) {
            let all_structs = !e.variants.is_empty()
                && e.variants.iter().all(|v| match &v.fields {
                    Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                        last_ident(&f.unnamed[0].ty).is_some_and(|t| structs.contains(&t))
                    }
                    _ => false,
                });
            if all_structs {
                e.variants.push(parse_quote! {
                    /// A payload that matches no variant of this spec version (an unknown `type`,
                    /// or a known one with fields missing), kept as the server sent it.
                    Unknown(::serde_json::Value)
                });
                report.fire(
                    "open-union",
                    &format!("types::{name}"),
                    "payload of no known variant -> Unknown(serde_json::Value)",
                );
                continue;
            }
            if has_default.contains(&name) || !required_types.contains(&name) {
                continue;
            }
            let empty = ["Object", "String", "Array"].iter().find_map(|want| {
                e.variants.iter().find(|v| {
                    v.ident == want
                        && matches!(&v.fields, Fields::Unnamed(f)
                            if f.unnamed.len() == 1 && is_empty_builtin(&f.unnamed[0].ty))
                })
            });
            if let Some(v) = empty {
                let ident = &e.ident;
                let variant = &v.ident;
                new_items.push(parse_quote! {
                    impl ::std::default::Default for #ident {
                        fn default() -> Self {
                            Self::#variant(::std::default::Default::default())
                        }
                    }
                });
                empty_types.insert(name.clone());
                report.fire(
                    "empty-default",
                    &format!("types::{name}"),
                    format!("Default = empty {variant}"),
                );
            }
        }
    }

    // `Display` of the open enums writes the kept text.
    for item in items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        if trait_name(imp).as_deref() != Some("Display")
            || !self_name(imp).is_some_and(|n| open_enums.contains(&n))
        {
            continue;
        }
        for ii in &mut imp.items {
            let syn::ImplItem::Fn(f) = ii else { continue };
            for stmt in &mut f.block.stmts {
                if let syn::Stmt::Expr(syn::Expr::Match(m), _) = stmt {
                    m.arms
                        .push(parse_quote! { Self::Other(ref s) => f.write_str(s), });
                }
            }
        }
    }

    // Fields: `timestamp` (report only), `null-default`, `null-empty`.
    let mut helpers: BTreeMap<String, syn::ItemFn> = BTreeMap::new();
    for item in items.iter_mut() {
        let (owner, fields): (String, Vec<&mut syn::Field>) = match item {
            Item::Struct(s) => (
                s.ident.to_string(),
                match &mut s.fields {
                    Fields::Named(n) => n.named.iter_mut().collect(),
                    _ => Vec::new(),
                },
            ),
            Item::Enum(e) => (
                e.ident.to_string(),
                e.variants
                    .iter_mut()
                    .flat_map(|v| match &mut v.fields {
                        Fields::Named(n) => n.named.iter_mut().collect::<Vec<_>>(),
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
            _ => continue,
        };
        for field in fields {
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let place = format!(
                "types::{owner}.{}",
                ident.to_string().trim_start_matches("r#")
            );
            if quote::ToTokens::to_token_stream(&field.ty).to_string() == "crate :: Timestamp" {
                report.fire(
                    "timestamp",
                    &place,
                    "date-time -> crate::Timestamp (lenient)",
                );
            }
            let serde = serde_keys(&field.attrs);
            if serde.contains_key("deserialize_with") || serde.contains_key("with") {
                continue;
            }
            if is_option(&field.ty) {
                continue;
            }
            match serde.get("default") {
                Some(None) => {
                    field.attrs.push(parse_quote! {
                        #[serde(deserialize_with = "crate::lenient::null_as_default")]
                    });
                    report.fire("null-default", &place, "null -> Default::default()");
                }
                Some(Some(path)) => {
                    let Ok(default) = syn::parse_str::<syn::ExprPath>(path) else {
                        continue;
                    };
                    let fn_name = format!(
                        "{}_{}",
                        snake(&owner),
                        ident.to_string().trim_start_matches("r#")
                    );
                    let fn_ident = quote::format_ident!("{fn_name}");
                    let ty = &field.ty;
                    helpers.insert(
                        fn_name.clone(),
                        parse_quote! {
                            pub(super) fn #fn_ident<'de, D>(deserializer: D) -> ::std::result::Result<#ty, D::Error>
                            where
                                D: ::serde::Deserializer<'de>,
                            {
                                crate::lenient::null_or(deserializer, #default)
                            }
                        },
                    );
                    let with = format!("null_defaults::{fn_name}");
                    field
                        .attrs
                        .push(parse_quote! { #[serde(deserialize_with = #with)] });
                    report.fire("null-default", &place, format!("null -> {path}()"));
                }
                None => {
                    let empty = is_empty_builtin(&field.ty)
                        || last_ident(&field.ty).is_some_and(|t| {
                            empty_types.contains(&t)
                                && matches!(&field.ty, Type::Path(p) if p.path.segments.len() == 1)
                        });
                    if empty {
                        field.attrs.push(parse_quote! {
                            #[serde(deserialize_with = "crate::lenient::null_as_default")]
                        });
                        report.fire("null-empty", &place, "required, null -> empty");
                    }
                }
            }
        }
    }
    if !helpers.is_empty() {
        let fns = helpers.into_values();
        new_items.push(parse_quote! {
            /// Readers for fields with a spec default that take `null` as absent
            /// (`cargo xtask codegen` rule `null-default`).
            mod null_defaults {
                use super::*;
                #(#fns)*
            }
        });
    }
    items.extend(new_items);
}

/// An enum of string values: every variant a unit variant renamed to its wire text.
fn is_string_enum(e: &syn::ItemEnum) -> bool {
    derives(&e.attrs).contains("Deserialize")
        && !e.variants.is_empty()
        && e.variants.iter().all(|v| {
            matches!(v.fields, Fields::Unit) && serde_keys(&v.attrs).contains_key("rename")
        })
}

fn is_untagged(attrs: &[Attribute]) -> bool {
    serde_keys(attrs).contains_key("untagged")
}

/// The keys of every `#[serde(...)]` attribute, with their string value if any.
fn serde_keys(attrs: &[Attribute]) -> BTreeMap<String, Option<String>> {
    let mut keys = BTreeMap::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let value = if meta.input.peek(syn::Token![=]) {
                let lit: syn::LitStr = meta.value()?.parse()?;
                Some(lit.value())
            } else {
                None
            };
            keys.insert(key, value);
            Ok(())
        });
    }
    keys
}

/// The last path segment of every derive.
fn derives(attrs: &[Attribute]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        if let Ok(paths) =
            attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            out.extend(
                paths
                    .iter()
                    .filter_map(|p| p.segments.last().map(|s| s.ident.to_string())),
            );
        }
    }
    out
}

/// Drop the derive `name` (matched on its last path segment: `::serde::Deserialize` too).
fn remove_derive(attrs: &mut [Attribute], name: &str) {
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        if let Ok(paths) =
            attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            let kept: Vec<&syn::Path> = paths
                .iter()
                .filter(|p| p.segments.last().is_none_or(|s| s.ident != name))
                .collect();
            *attr = parse_quote! { #[derive(#(#kept),*)] };
        }
    }
}

fn trait_name(imp: &syn::ItemImpl) -> Option<String> {
    imp.trait_
        .as_ref()
        .and_then(|(_, p, _)| p.segments.last())
        .map(|s| s.ident.to_string())
}

fn self_name(imp: &syn::ItemImpl) -> Option<String> {
    last_ident(&imp.self_ty)
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn is_option(ty: &Type) -> bool {
    last_ident(ty).as_deref() == Some("Option")
}

/// A built-in type whose `Default` is the obvious reading of `null`: text, list or map.
fn is_empty_builtin(ty: &Type) -> bool {
    matches!(
        last_ident(ty).as_deref(),
        Some("String" | "Vec" | "Map" | "HashMap" | "BTreeMap")
    )
}

/// `RunCreateStateful` -> `run_create_stateful`.
fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(src: &str) -> (String, Report) {
        let file: syn::File = syn::parse_str(&format!("pub mod types {{ {src} }}")).unwrap();
        let mut file = file;
        let report = run(&mut file).expect("post-processes");
        (prettyplease::unparse(&file), report)
    }

    fn count(r: &Report, rule: &str) -> usize {
        r.fired.iter().filter(|f| f.rule == rule).count()
    }

    const STATUS: &str = r#"
        #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Copy, Debug, PartialEq, schemars::JsonSchema)]
        pub enum Status {
            #[serde(rename = "idle")]
            Idle,
            #[serde(rename = "busy")]
            Busy,
        }
        impl ::std::fmt::Display for Status {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match *self {
                    Self::Idle => f.write_str("idle"),
                    Self::Busy => f.write_str("busy"),
                }
            }
        }
        impl ::std::str::FromStr for Status {
            type Err = &'static str;
            fn from_str(value: &str) -> ::std::result::Result<Self, &'static str> {
                match value {
                    "idle" => Ok(Self::Idle),
                    "busy" => Ok(Self::Busy),
                    _ => Err("invalid value"),
                }
            }
        }
    "#;

    #[test]
    fn open_enum_gets_other_loses_copy_and_displays_it() {
        let (out, r) = process(STATUS);
        assert_eq!(count(&r, "open-enum"), 1);
        assert!(out.contains("#[serde(untagged)]"), "{out}");
        assert!(out.contains("#[schemars(skip)]"), "{out}");
        assert!(out.contains("Other(::std::string::String)"), "{out}");
        assert!(!out.contains("Copy"), "{out}");
        // Deserialize is a match on the listed values, not serde's derive.
        assert!(!out.contains("::serde::Deserialize,"), "{out}");
        assert!(out.contains("crate::lenient::open_enum"), "{out}");
        assert!(
            out.contains(r#""busy" => ::std::option::Option::Some(Self::Busy)"#),
            "{out}"
        );
        assert!(
            out.contains("Self::Other(ref s) => f.write_str(s)"),
            "{out}"
        );
        // FromStr stays strict: no new arm.
        assert!(out.contains(r#"_ => Err("invalid value")"#), "{out}");
    }

    #[test]
    fn one_value_enums_stay_strict() {
        let (out, r) = process(
            r#"#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Copy)]
               pub enum RunResultType { #[serde(rename = "result")] Result }"#,
        );
        assert_eq!(count(&r, "open-enum"), 0);
        assert!(out.contains("Copy") && !out.contains("Other"), "{out}");
    }

    #[test]
    fn untagged_union_of_structs_gets_unknown_others_do_not() {
        let (out, r) = process(
            r#"#[derive(::serde::Deserialize)] pub struct A { pub x: i64 }
               #[derive(::serde::Deserialize)] pub struct B { pub y: i64 }
               #[derive(::serde::Deserialize)] #[serde(untagged)]
               pub enum Out { A(A), B(B) }
               #[derive(::serde::Deserialize)] #[serde(untagged)]
               pub enum Mode { One(Status), Many(::std::vec::Vec<Status>) }"#,
        );
        assert_eq!(count(&r, "open-union"), 1);
        assert_eq!(r.fired[0].pointer, "types::Out");
        assert!(out.contains("Unknown(::serde_json::Value)"), "{out}");
    }

    #[test]
    fn untagged_enum_with_string_variant_gets_an_empty_default() {
        let (out, r) = process(
            r#"#[derive(::serde::Deserialize)] #[serde(untagged)]
               pub enum Content { String(::std::string::String), Array(::std::vec::Vec<i64>) }
               #[derive(::serde::Deserialize)] #[serde(untagged)]
               pub enum Schema { Integer(i64), Object(::serde_json::Map<::std::string::String, ::serde_json::Value>), String(::std::string::String) }
               #[derive(::serde::Deserialize)] #[serde(untagged)]
               pub enum Num { Integer(i64), Number(f64) }
               #[derive(::serde::Deserialize)]
               pub struct Message { pub content: Content, pub schema: Schema, pub n: Num }"#,
        );
        assert_eq!(count(&r, "empty-default"), 2);
        assert!(
            out.contains("impl ::std::default::Default for Content")
                && out.contains("Self::String(::std::default::Default::default())"),
            "{out}"
        );
        assert!(
            out.contains("Self::Object(::std::default::Default::default())"),
            "{out}"
        );
        assert!(!out.contains("for Num"), "{out}");
        // and the required `content` and `schema` read null as empty, the number does not
        let places: Vec<&str> = r
            .fired
            .iter()
            .filter(|f| f.rule == "null-empty")
            .map(|f| f.pointer.as_str())
            .collect();
        assert_eq!(places, ["types::Message.content", "types::Message.schema"]);
    }

    #[test]
    fn defaulted_fields_read_null_as_their_default() {
        let (out, r) = process(
            r#"#[derive(::serde::Deserialize)]
               pub struct Run {
                   #[serde(default = "defaults::run_if_exists")]
                   pub if_exists: IfExists,
                   #[serde(default = "defaults::default_nzu64::<::std::num::NonZeroU64, 10>")]
                   pub limit: ::std::num::NonZeroU64,
                   #[serde(default)]
                   pub stream: bool,
                   #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                   pub opt: ::std::option::Option<bool>,
               }"#,
        );
        assert_eq!(count(&r, "null-default"), 3);
        assert!(
            out.contains(r#"#[serde(deserialize_with = "null_defaults::run_if_exists")]"#),
            "{out}"
        );
        assert!(out.contains("mod null_defaults"), "{out}");
        assert!(
            out.contains("crate::lenient::null_or(deserializer, defaults::run_if_exists)"),
            "{out}"
        );
        assert!(out.contains("fn run_limit<'de, D>"), "{out}");
        assert!(
            out.contains(r#"#[serde(deserialize_with = "crate::lenient::null_as_default")]"#),
            "{out}"
        );
        // the Option field is left alone: serde already reads null as None
        assert_eq!(out.matches("deserialize_with").count(), 3, "{out}");
    }

    #[test]
    fn required_text_lists_maps_and_free_form_newtypes_read_null_as_empty() {
        let (out, r) = process(
            r#"#[derive(::serde::Deserialize, Default)]
               pub struct OutputSchema(pub ::serde_json::Map<::std::string::String, ::serde_json::Value>);
               #[derive(::serde::Deserialize)]
               #[serde(transparent)]
               pub struct StateSchema(pub ::serde_json::Map<::std::string::String, ::serde_json::Value>);
               #[derive(::serde::Deserialize)]
               #[serde(transparent)]
               pub struct Unused(pub ::std::vec::Vec<i64>);
               #[derive(::serde::Deserialize)]
               pub struct RunError {
                   pub state: StateSchema,
                   pub description: ::std::string::String,
                   pub tags: ::std::vec::Vec<::std::string::String>,
                   pub meta: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                   pub values: OutputSchema,
                   pub errcode: i64,
                   pub run_id: ::uuid::Uuid,
                   pub status: Status,
               }"#,
        );
        let places: Vec<&str> = r
            .fired
            .iter()
            .filter(|f| f.rule == "null-empty")
            .map(|f| f.pointer.as_str())
            .collect();
        assert_eq!(
            places,
            [
                "types::RunError.state",
                "types::RunError.description",
                "types::RunError.tags",
                "types::RunError.meta",
                "types::RunError.values"
            ]
        );
        assert_eq!(out.matches("null_as_default").count(), 5, "{out}");
        // a Default for the newtype that needs one, none for the one that has one or is unused
        assert_eq!(count(&r, "empty-default"), 1);
        assert!(
            out.contains("impl ::std::default::Default for StateSchema"),
            "{out}"
        );
        assert!(!out.contains("for Unused"), "{out}");
    }

    #[test]
    fn timestamp_fields_are_reported_and_left_over_datetimes_refused() {
        let (_, r) = process("pub struct Thread { pub created_at: crate::Timestamp }");
        assert_eq!(count(&r, "timestamp"), 1);
        assert_eq!(r.fired[0].pointer, "types::Thread.created_at");
        let mut file: syn::File = syn::parse_str(
            "pub mod types { pub struct T { pub at: ::chrono::DateTime<::chrono::offset::Utc> } }",
        )
        .unwrap();
        let err = run(&mut file).unwrap_err().to_string();
        assert!(err.contains("chrono::DateTime"), "{err}");
    }

    #[test]
    fn the_conversion_matches_date_time_strings_only() {
        let s = timestamp_conversion();
        assert_eq!(s.format.as_deref(), Some("date-time"));
        assert!(s.metadata.is_none());
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(snake("RunCreateStateful"), "run_create_stateful");
        assert_eq!(snake("Thread"), "thread");
    }
}
