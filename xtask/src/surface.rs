//! The public surface of a generated client, read back from its source with `syn`.
//!
//! `extract` is a pure function of the source text. It reads what a user of `acp-client` names:
//! - schemas: the structs and enums directly in `mod types` (not its `builder`, `defaults` and
//!   `error` submodules), with struct fields (type and optionality), newtype/tuple payloads and
//!   enum variants with their payloads;
//! - operations: the methods of the `Client*Ext` traits, each with its builder's parameters (the
//!   fields of the builder struct in the top-level `mod builder`, except `client` and `body`), its
//!   request body and the success and error types of its `send()`.
//!
//! Types are printed as short strings: `::std::option::Option<::std::vec::Vec<types::Message>>`
//! reads `Option<Vec<Message>>`, so old and new sources compare the same way and a diff is
//! readable in a pull request.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use syn::visit_mut::VisitMut;

/// Everything `extract` read from one generated source.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Surface {
    /// `mod types` items by name.
    pub schemas: BTreeMap<String, Schema>,
    /// Trait methods by name.
    pub operations: BTreeMap<String, Operation>,
}

/// One type of `mod types`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// A struct with named fields.
    Struct(BTreeMap<String, Field>),
    /// A tuple struct (one field: a newtype), with its field types.
    Tuple(Vec<String>),
    /// An enum, variants in source order (the order an untagged enum tries them in).
    Enum(Vec<Variant>),
}

impl Schema {
    /// `struct`, `newtype`, `tuple struct` or `enum`.
    pub fn kind(&self) -> &'static str {
        match self {
            Schema::Struct(_) => "struct",
            Schema::Tuple(t) if t.len() == 1 => "newtype",
            Schema::Tuple(_) => "tuple struct",
            Schema::Enum(_) => "enum",
        }
    }
}

/// A named field of a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The Rust type, shortened.
    pub ty: String,
    /// `Option<..>` or `#[serde(default ..)]`: a payload may leave it out.
    pub optional: bool,
}

/// An enum variant: its name and payload, `""` (unit), `(T, ..)` or `{ a: T, .. }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub payload: String,
}

/// One method of a `Client*Ext` trait and what its builder takes and returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The trait that declares it, e.g. `ClientThreadsExt`.
    pub group: String,
    /// Builder parameters (path and query) by name, type without the builder's `Result<_, String>`.
    pub params: BTreeMap<String, String>,
    /// The request body's type, when there is one.
    pub body: Option<String>,
    /// `T` of `send()`'s `Result<ResponseValue<T>, Error<E>>`.
    pub response: String,
    /// `E` of `send()`'s `Result<ResponseValue<T>, Error<E>>`.
    pub error: String,
}

/// Read the surface of a generated client from its source.
pub fn extract(source: &str) -> Result<Surface> {
    let file = syn::parse_file(source).context("the generated source does not parse")?;
    let mut surface = Surface::default();
    let mut builders = BTreeMap::new();
    let mut sends = BTreeMap::new();
    let mut methods = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "types" => {
                for item in module_items(m) {
                    if let Some((name, schema)) = schema_of(item) {
                        surface.schemas.insert(name, schema);
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                for item in module_items(m) {
                    match item {
                        syn::Item::Struct(s) => {
                            builders.insert(s.ident.to_string(), s);
                        }
                        syn::Item::Impl(i) => {
                            if let (Some(name), Some(send)) = (self_type_name(i), send_of(i)) {
                                sends.insert(name, send);
                            }
                        }
                        _ => {}
                    }
                }
            }
            syn::Item::Trait(t) => {
                let group = t.ident.to_string();
                if group.starts_with("Client") && group.ends_with("Ext") {
                    for ti in &t.items {
                        if let syn::TraitItem::Fn(f) = ti {
                            methods.push((group.clone(), f.sig.clone()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (group, sig) in methods {
        let name = sig.ident.to_string();
        let builder = match &sig.output {
            syn::ReturnType::Type(_, ty) => last_segment(ty),
            syn::ReturnType::Default => None,
        }
        .with_context(|| format!("{group}::{name} returns no builder"))?;
        let strukt = builders
            .get(&builder)
            .with_context(|| format!("{group}::{name}: no struct builder::{builder}"))?;
        let (response, error) = sends
            .get(&builder)
            .cloned()
            .with_context(|| format!("{group}::{name}: builder::{builder} has no send()"))?;
        let mut params = BTreeMap::new();
        let mut body = None;
        for field in &strukt.fields {
            let Some(ident) = &field.ident else { continue };
            let ty = type_string(unwrap_result(&field.ty));
            match ident.to_string().as_str() {
                "client" => {}
                "body" => body = Some(ty),
                p => {
                    params.insert(p.to_string(), ty);
                }
            }
        }
        surface.operations.insert(
            name,
            Operation {
                group,
                params,
                body,
                response,
                error,
            },
        );
    }
    Ok(surface)
}

fn module_items(m: &syn::ItemMod) -> &[syn::Item] {
    m.content
        .as_ref()
        .map(|(_, items)| &items[..])
        .unwrap_or(&[])
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// A public struct or enum of `mod types`.
fn schema_of(item: &syn::Item) -> Option<(String, Schema)> {
    match item {
        syn::Item::Struct(s) if is_pub(&s.vis) => {
            let schema = match &s.fields {
                syn::Fields::Named(named) => Schema::Struct(
                    named
                        .named
                        .iter()
                        .filter_map(|f| {
                            let ty = type_string(&f.ty);
                            let optional = ty.starts_with("Option<") || has_serde_default(f);
                            Some((f.ident.as_ref()?.to_string(), Field { ty, optional }))
                        })
                        .collect(),
                ),
                syn::Fields::Unnamed(t) => {
                    Schema::Tuple(t.unnamed.iter().map(|f| type_string(&f.ty)).collect())
                }
                syn::Fields::Unit => Schema::Tuple(Vec::new()),
            };
            Some((s.ident.to_string(), schema))
        }
        syn::Item::Enum(e) if is_pub(&e.vis) => {
            let variants = e
                .variants
                .iter()
                .map(|v| Variant {
                    name: v.ident.to_string(),
                    payload: payload_string(&v.fields),
                })
                .collect();
            Some((e.ident.to_string(), Schema::Enum(variants)))
        }
        _ => None,
    }
}

fn payload_string(fields: &syn::Fields) -> String {
    match fields {
        syn::Fields::Unit => String::new(),
        syn::Fields::Unnamed(t) => {
            let tys: Vec<String> = t.unnamed.iter().map(|f| type_string(&f.ty)).collect();
            format!("({})", tys.join(", "))
        }
        syn::Fields::Named(n) => {
            let fs: Vec<String> = n
                .named
                .iter()
                .map(|f| {
                    let name = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                    format!("{name}: {}", type_string(&f.ty))
                })
                .collect();
            format!(" {{ {} }}", fs.join(", "))
        }
    }
}

/// `#[serde(default)]` or `#[serde(default = "..")]` on a field.
fn has_serde_default(field: &syn::Field) -> bool {
    let mut found = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                found = true;
            }
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// The name of an impl's self type: `impl<'a> GetThread<'a>` -> `GetThread`.
fn self_type_name(i: &syn::ItemImpl) -> Option<String> {
    if i.trait_.is_some() {
        return None;
    }
    last_segment(&i.self_ty)
}

/// `(T, E)` from an impl's `fn send(self) -> Result<ResponseValue<T>, Error<E>>`.
fn send_of(i: &syn::ItemImpl) -> Option<(String, String)> {
    let send = i.items.iter().find_map(|it| match it {
        syn::ImplItem::Fn(f) if f.sig.ident == "send" => Some(f),
        _ => None,
    })?;
    let syn::ReturnType::Type(_, ty) = &send.sig.output else {
        return None;
    };
    let [ok, err] = generic_args(ty, "Result")?[..] else {
        return None;
    };
    let [t] = generic_args(ok, "ResponseValue")?[..] else {
        return None;
    };
    let [e] = generic_args(err, "Error")?[..] else {
        return None;
    };
    Some((type_string(t), type_string(e)))
}

/// The type arguments of `ty` when its last path segment is `name`.
fn generic_args<'t>(ty: &'t syn::Type, name: &str) -> Option<Vec<&'t syn::Type>> {
    let syn::Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
    )
}

/// A builder field `Result<T, String>` is a parameter of type `T`.
fn unwrap_result(ty: &syn::Type) -> &syn::Type {
    match generic_args(ty, "Result").as_deref() {
        Some([t, _]) => t,
        _ => ty,
    }
}

fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// A type as short text: no leading `::`, no `std::..`, `types::`, `builder::` or `super::`
/// prefixes, printed by prettyplease on one line.
pub fn type_string(ty: &syn::Type) -> String {
    let mut ty = ty.clone();
    ShortPaths.visit_type_mut(&mut ty);
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![syn::parse_quote!(type T = #ty;)],
    };
    let text = prettyplease::unparse(&file);
    let text = text.trim();
    let text = text
        .strip_prefix("type T = ")
        .and_then(|t| t.strip_suffix(';'))
        .unwrap_or(text);
    // prettyplease wraps long types over several lines, with a trailing comma.
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(",>", ">")
}

/// Drops path prefixes that only say where a type lives.
struct ShortPaths;

const NOISE: &[&str] = &[
    "std",
    "core",
    "alloc",
    "string",
    "vec",
    "option",
    "boxed",
    "collections",
    "primitive",
    "types",
    "builder",
    "super",
    "self",
];

impl VisitMut for ShortPaths {
    fn visit_type_path_mut(&mut self, tp: &mut syn::TypePath) {
        if tp.qself.is_none() {
            tp.path.leading_colon = None;
            while tp.path.segments.len() > 1
                && NOISE
                    .iter()
                    .any(|n| tp.path.segments.first().is_some_and(|s| s.ident == n))
            {
                let rest: Vec<syn::PathSegment> =
                    tp.path.segments.iter().skip(1).cloned().collect();
                tp.path.segments = rest.into_iter().collect();
            }
        }
        syn::visit_mut::visit_type_path_mut(self, tp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"
pub mod types {
    pub struct Thing {
        pub id: ::uuid::Uuid,
        #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
        pub tags: ::std::vec::Vec<::std::string::String>,
        #[serde(rename = "type")]
        pub type_: ThingType,
        pub note: ::std::option::Option<::std::string::String>,
    }
    pub enum ThingType { #[serde(rename = "a")] A, B }
    #[serde(untagged)]
    pub enum Payload { Object(::serde_json::Map<::std::string::String, ::serde_json::Value>), Text(::std::string::String) }
    pub struct Wrapper(pub ::serde_json::Value);
    struct Private;
    pub mod builder {
        pub struct Thing { id: ::std::result::Result<::uuid::Uuid, ::std::string::String> }
    }
}
pub struct Client;
pub trait ClientThingsExt {
    fn get_thing(&self) -> builder::GetThing<'_>;
}
pub mod builder {
    use super::types;
    pub struct GetThing<'a> {
        client: &'a super::Client,
        id: Result<::uuid::Uuid, String>,
        limit: Result<Option<i64>, String>,
        body: Result<types::builder::Thing, String>,
    }
    impl<'a> GetThing<'a> {
        pub async fn send(self) -> Result<ResponseValue<::std::vec::Vec<types::Thing>>, Error<types::Wrapper>> {
            todo!()
        }
    }
}
"#;

    #[test]
    fn reads_schemas_fields_variants_and_operations() {
        let s = extract(SOURCE).unwrap();
        let Schema::Struct(fields) = &s.schemas["Thing"] else {
            panic!("Thing is not a struct");
        };
        assert_eq!(
            fields["id"],
            Field {
                ty: "uuid::Uuid".into(),
                optional: false
            }
        );
        assert_eq!(fields["tags"].ty, "Vec<String>");
        assert!(fields["tags"].optional, "serde default is optional");
        assert!(fields["note"].optional);
        assert!(!fields["type_"].optional);
        let Schema::Enum(vs) = &s.schemas["Payload"] else {
            panic!("Payload is not an enum");
        };
        assert_eq!(
            vs[0].payload,
            "(serde_json::Map<String, serde_json::Value>)"
        );
        assert_eq!(vs[1].name, "Text");
        assert_eq!(s.schemas["ThingType"].kind(), "enum");
        assert_eq!(s.schemas["Wrapper"].kind(), "newtype");
        assert!(!s.schemas.contains_key("Private"));
        assert_eq!(
            s.schemas.len(),
            4,
            "types::builder is not part of the surface"
        );

        let op = &s.operations["get_thing"];
        assert_eq!(op.group, "ClientThingsExt");
        assert_eq!(op.params["id"], "uuid::Uuid");
        assert_eq!(op.params["limit"], "Option<i64>");
        assert_eq!(op.params.len(), 2);
        assert_eq!(op.body.as_deref(), Some("Thing"));
        assert_eq!(op.response, "Vec<Thing>");
        assert_eq!(op.error, "Wrapper");
    }

    #[test]
    fn type_strings_are_short_and_on_one_line() {
        let ty: syn::Type = syn::parse_quote!(
            ::std::option::Option<
                ::std::collections::HashMap<
                    ::std::string::String,
                    ::std::vec::Vec<super::VeryLongTypeNameNumberOne>,
                >,
            >
        );
        assert_eq!(
            type_string(&ty),
            "Option<HashMap<String, Vec<VeryLongTypeNameNumberOne>>>"
        );
        let ty: syn::Type = syn::parse_quote!(&'a ::std::primitive::str);
        assert_eq!(type_string(&ty), "&'a str");
    }

    #[test]
    fn an_empty_or_foreign_file_has_an_empty_surface() {
        assert_eq!(extract("// nothing here\n").unwrap(), Surface::default());
        assert!(extract("fn (").is_err());
    }
}
