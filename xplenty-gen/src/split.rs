//! Cuts the generated file into pieces: for fine-grained snapshots, so that a one-field
//! change of the spec shows as a few lines in one or two snapshot files, and into the
//! source files the client compiles from, so that the same change leaves every other
//! file's spans, and so rustc's incremental results, as they were.

use std::collections::BTreeMap;

use heck::ToSnakeCase;
use syn::visit_mut::VisitMut;

/// What a piece holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PieceKind {
    /// One operation: its `Client` method and its builder.
    Operation,
    /// One type of `types`, with its impls and struct builder.
    Type,
    /// Everything else: the client frame, modules, the operation table.
    Client,
}

/// One reviewable piece of the generated code.
#[derive(Debug, Clone)]
pub struct Piece {
    pub kind: PieceKind,
    /// Operation id, type name, or `client`.
    pub name: String,
    pub code: String,
}

impl Piece {
    /// A file-name-safe name, unique across all pieces: `operation__list_clusters`,
    /// `type__Cluster`, `client`.
    pub fn snapshot_name(&self) -> String {
        match self.kind {
            PieceKind::Operation => format!("operation__{}", self.name),
            PieceKind::Type => format!("type__{}", self.name),
            PieceKind::Client => "client".to_owned(),
        }
    }
}

#[derive(Default)]
struct Buckets {
    operations: BTreeMap<String, Vec<syn::Item>>,
    types: BTreeMap<String, Vec<syn::Item>>,
    rest: Vec<syn::Item>,
}

pub(crate) fn pieces(file: &syn::File) -> Vec<Piece> {
    let mut buckets = Buckets::default();
    for item in &file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "types" => {
                let mut frame = m.clone();
                let items = m.content.as_ref().map(|c| c.1.clone()).unwrap_or_default();
                let mut kept = Vec::new();
                for item in items {
                    match &item {
                        syn::Item::Mod(inner) if inner.ident == "builder" => {
                            let mut inner_frame = inner.clone();
                            let mut inner_kept = Vec::new();
                            for item in inner.content.as_ref().map(|c| c.1.clone()).unwrap_or_default() {
                                match item_name(&item) {
                                    Some(name) => buckets.types.entry(name).or_default().push(in_builder_module(item)),
                                    None => inner_kept.push(item),
                                }
                            }
                            if let Some(c) = inner_frame.content.as_mut() {
                                c.1 = inner_kept;
                            }
                            kept.push(syn::Item::Mod(inner_frame));
                        }
                        _ => match item_name(&item) {
                            Some(name) => buckets.types.entry(name).or_default().push(item),
                            None => kept.push(item),
                        },
                    }
                }
                if let Some(c) = frame.content.as_mut() {
                    c.1 = kept;
                }
                buckets.rest.push(syn::Item::Mod(frame));
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                let mut frame = m.clone();
                let mut kept = Vec::new();
                for item in m.content.as_ref().map(|c| c.1.clone()).unwrap_or_default() {
                    match item_name(&item) {
                        Some(name) => {
                            buckets.operations.entry(name.to_snake_case()).or_default().push(in_builder_module(item))
                        }
                        None => kept.push(item),
                    }
                }
                if let Some(c) = frame.content.as_mut() {
                    c.1 = kept;
                }
                buckets.rest.push(syn::Item::Mod(frame));
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() && is_operation_impl(imp) => {
                for method in &imp.items {
                    let syn::ImplItem::Fn(f) = method else { continue };
                    let mut single = imp.clone();
                    single.items = vec![method.clone()];
                    buckets.operations.entry(f.sig.ident.to_string()).or_default().insert(0, syn::Item::Impl(single));
                }
            }
            other => buckets.rest.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    for (name, items) in buckets.operations {
        out.push(Piece { kind: PieceKind::Operation, name, code: render(items) });
    }
    for (name, items) in buckets.types {
        out.push(Piece { kind: PieceKind::Type, name, code: render(items) });
    }
    out.push(Piece { kind: PieceKind::Client, name: "client".to_owned(), code: render(buckets.rest) });
    out
}

/// One file of the compiled client: its path relative to `OUT_DIR`, and its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub code: String,
}

/// `xplenty.rs` (the frame, which `include!`s the rest), then one file per operation
/// (its `Client` method and its builder) and per type (with its struct builder).
pub(crate) fn source_files(file: &syn::File) -> Vec<SourceFile> {
    let mut parts: BTreeMap<String, Vec<syn::Item>> = BTreeMap::new();
    let mut root = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "types" || m.ident == "builder" => {
                root.push(syn::Item::Mod(split_module(m, &m.ident.to_string(), &mut parts)));
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() && is_operation_impl(imp) => {
                for method in &imp.items {
                    let syn::ImplItem::Fn(f) = method else { continue };
                    let mut single = imp.clone();
                    single.items = vec![method.clone()];
                    let path = format!("operations/{}.rs", f.sig.ident);
                    root.push(include(&path));
                    parts.entry(path).or_default().push(syn::Item::Impl(single));
                }
            }
            other => root.push(other.clone()),
        }
    }
    let mut out = vec![SourceFile { path: "xplenty.rs".to_owned(), code: crate::format::file(&file_of(root)) }];
    for (path, items) in parts {
        out.push(SourceFile { path, code: crate::format::file(&file_of(items)) });
    }
    out
}

/// The module with each named item moved to `<dir>/<snake_name>.rs`; nested `builder`
/// modules likewise, one directory down.
///
/// In `types` and `builder` each file is included into a module of its own, re-exported
/// whole: rustc's incremental mode cuts code into codegen units by module, so an edit of
/// one type or operation re-generates its own machine code, not its whole module's. The
/// few struct builders left in `types::builder` are included as they are.
fn split_module(module: &syn::ItemMod, dir: &str, parts: &mut BTreeMap<String, Vec<syn::Item>>) -> syn::ItemMod {
    let mut frame = module.clone();
    let Some((_, items)) = frame.content.as_mut() else { return frame };
    let mut kept = Vec::new();
    // Each item's file (and module) name: its snake-case name, made unique, so that
    // names differing only in case (`ClusterURL`, `ClusterUrl`) get files of their own,
    // also on a file system that ignores case.
    let mut file_names: BTreeMap<String, String> = BTreeMap::new();
    for item in std::mem::take(items) {
        match (&item, item_name(&item)) {
            (syn::Item::Mod(inner), _) if inner.ident == "builder" => {
                kept.push(syn::Item::Mod(split_module(inner, &format!("{dir}/builder"), parts)));
            }
            (_, Some(name)) => {
                let taken = file_names.len();
                let file_name = file_names
                    .entry(name.clone())
                    .or_insert_with_key(|name| {
                        let snake = name.to_snake_case();
                        let clash = parts.contains_key(&format!("{dir}/{snake}.rs"));
                        if clash { format!("{snake}_{taken}") } else { snake }
                    })
                    .clone();
                let path = format!("{dir}/{file_name}.rs");
                let own_module = !dir.contains('/');
                let items = parts.entry(path.clone()).or_default();
                if items.is_empty() {
                    if own_module {
                        kept.extend(include_in_module(&file_name, &path));
                    } else {
                        kept.push(include(&path));
                    }
                }
                let mut item = item;
                if own_module {
                    OneLevelDown.visit_item_mut(&mut item);
                }
                items.push(item);
            }
            (_, None) => kept.push(item),
        }
    }
    *items = kept;
    frame
}

/// `mod __<name> { use super::*; include!(..); } pub use __<name>::*;`
fn include_in_module(name: &str, path: &str) -> [syn::Item; 2] {
    let module = quote::format_ident!("__{name}");
    let include = include(path);
    [syn::parse_quote! { mod #module { use super::*; #include } }, syn::parse_quote! { pub use #module::*; }]
}

/// Makes `super::X` paths of an item mean what they meant one module up.
struct OneLevelDown;

impl VisitMut for OneLevelDown {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.first().is_some_and(|s| s.ident == "super") {
            path.segments.insert(0, syn::parse_quote!(super));
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

/// `include!(concat!(env!("OUT_DIR"), "/<path>"));`
fn include(path: &str) -> syn::Item {
    let path = format!("/{path}");
    syn::parse_quote! { include!(concat!(env!("OUT_DIR"), #path)); }
}

/// The `impl Client` block with the operation methods (not the constructors).
fn is_operation_impl(imp: &syn::ItemImpl) -> bool {
    let named_client = matches!(imp.self_ty.as_ref(), syn::Type::Path(p) if p.path.is_ident("Client"));
    named_client && imp.items.iter().all(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident != "new_with_client"))
}

/// The type an item defines or implements for.
fn item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Impl(imp) => match imp.self_ty.as_ref() {
            // `impl From<Help> for ::std::collections::BTreeMap<..>` belongs to `Help`.
            syn::Type::Path(p) if p.path.leading_colon.is_some() => trait_argument(imp),
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The type argument of an impl's trait, such as `Help` in `From<Help>`.
fn trait_argument(imp: &syn::ItemImpl) -> Option<String> {
    let (path, _) = imp.trait_.as_ref()?;
    let syn::PathArguments::AngleBracketed(args) = &path.segments.last()?.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(syn::Type::Path(p)) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Wraps an item of the `builder` module (of the client or of `types`) in `mod builder`,
/// so a piece shows where it lives.
fn in_builder_module(item: syn::Item) -> syn::Item {
    syn::parse_quote! { mod builder { #item } }
}

fn render(items: Vec<syn::Item>) -> String {
    let file = file_of(items);
    prettyplease::unparse(&file).replace("\r\n", "\n")
}

/// The items as a file, without printing and re-parsing them.
fn file_of(items: Vec<syn::Item>) -> syn::File {
    syn::File { shebang: None, frontmatter: None, attrs: Vec::new(), items }
}
