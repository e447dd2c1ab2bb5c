//! Cuts the generated file into pieces: for fine-grained snapshots, so that a one-field
//! change of the spec shows as a few lines in one or two snapshot files, and into the
//! source files the client compiles from, so that the same change leaves every other
//! file's spans, and so rustc's incremental results, as they were.
//!
//! One cut serves both. [`cut`] walks the generated file once and assigns every item to
//! a piece (an operation, a type, or the client frame), recording the module it lives
//! in ([`Place`]). The snapshots ([`pieces`]) and the compiled files ([`source_files`])
//! are two renderings of that one assignment, so what is compiled is what is reviewed,
//! moved by one rule ([`compiled_files`]):
//!
//! | in the piece (its snapshot)          | compiled file                      | paths          |
//! |--------------------------------------|------------------------------------|----------------|
//! | operation, top level                 | `operations/<id>.rs`               | as they are    |
//! | operation, inside `mod builder {..}` | `builder/<id>.rs`                  | one level down |
//! | type, top level                      | `types/<snake>.rs`                 | one level down |
//! | type, inside `mod builder {..}`      | `types/builder/<snake>.rs`         | as they are    |
//! | the client piece                     | `xplenty.rs`, with the includes    |                |
//!
//! Files in `types/` and `builder/` are each included into a module of their own, so
//! `super::` in them is shifted one level ([`OneLevelDown`]); the frame `xplenty.rs` is
//! the client piece with each other file's include where that file's first item stood.
//! [`compiled_from_pieces`] applies the rule to the reviewed text of the pieces, and a
//! test (`the_compiled_client_is_its_snapshots_by_one_rule` in `tests/rules.rs`) checks
//! that it gives the compiled files, and that every compiled item is reviewed in exactly
//! one piece. Before, the two cuts were two walks, each with its own matching rules, and
//! nothing said they cut alike.

use std::collections::{BTreeMap, BTreeSet};

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

/// One file of the compiled client: its path relative to `OUT_DIR`, and its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub code: String,
}

/// The module an item of an operation or type lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The top level: `impl Client` blocks.
    Root,
    /// The client's `builder` module: operation builders.
    Builder,
    /// `types`.
    Types,
    /// `types::builder`: struct builders.
    TypesBuilder,
}

impl Place {
    /// Where an item of a piece of `kind` lives: at its snapshot's top level, or inside
    /// `mod builder { .. }`.
    fn of(kind: PieceKind, in_builder: bool) -> Place {
        match (kind, in_builder) {
            (PieceKind::Type, false) => Place::Types,
            (PieceKind::Type, true) => Place::TypesBuilder,
            (_, false) => Place::Root,
            (_, true) => Place::Builder,
        }
    }

    fn in_builder(self) -> bool {
        matches!(self, Place::Builder | Place::TypesBuilder)
    }

    /// The directory of its files.
    fn dir(self) -> &'static str {
        match self {
            Place::Root => "operations",
            Place::Builder => "builder",
            Place::Types => "types",
            Place::TypesBuilder => "types/builder",
        }
    }

    /// Whether each file is included into a module of its own.
    ///
    /// In `types` and `builder` it is, re-exported whole: rustc's incremental mode cuts
    /// code into codegen units by module, so an edit of one type or operation
    /// re-generates its own machine code, not its whole module's. The few struct
    /// builders of `types::builder` and the `impl Client` blocks are included as they are.
    fn own_module(self) -> bool {
        matches!(self, Place::Builder | Place::Types)
    }
}

type PieceKey = (PieceKind, String);

/// The one walk's result.
struct Cut {
    /// The file, with each item of an operation or type replaced by a slot.
    frame: Vec<Entry>,
    /// The items of each operation and type, in file order, with their places.
    pieces: BTreeMap<PieceKey, Vec<(Place, syn::Item)>>,
}

/// An item of the frame.
enum Entry {
    /// An item of the client piece.
    Item(syn::Item),
    /// A module the cut went into (`types`, `types::builder`, `builder`): the module
    /// (its content left out) and its entries.
    Module(syn::ItemMod, Vec<Entry>),
    /// Where an item of a piece stood.
    Slot(PieceKey, Place),
}

/// The one cut: every item of the file, assigned to a piece.
fn cut(file: &syn::File) -> Cut {
    let mut pieces = BTreeMap::new();
    let frame = cut_items(&file.items, Place::Root, &mut pieces);
    Cut { frame, pieces }
}

/// The entries of the items of the module at `place`.
fn cut_items(
    items: &[syn::Item],
    place: Place,
    pieces: &mut BTreeMap<PieceKey, Vec<(Place, syn::Item)>>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for item in items {
        if let Some((inner, module, content)) = inner_module(place, item) {
            let mut frame = module.clone();
            frame.content.as_mut().expect("a module with content").1.clear();
            entries.push(Entry::Module(frame, cut_items(content, inner, pieces)));
            continue;
        }
        let mut assign = |kind, name: String, item: syn::Item| {
            let key = (kind, name);
            entries.push(Entry::Slot(key.clone(), place));
            pieces.entry(key).or_default().push((place, item));
        };
        match (place, item, item_name(item)) {
            // The `impl Client` block of the operations: one block per method.
            (Place::Root, syn::Item::Impl(imp), _) if imp.trait_.is_none() && is_operation_impl(imp) => {
                for method in &imp.items {
                    let syn::ImplItem::Fn(f) = method else { continue };
                    let mut single = imp.clone();
                    single.items = vec![method.clone()];
                    assign(PieceKind::Operation, f.sig.ident.to_string(), syn::Item::Impl(single));
                }
            }
            (Place::Builder, _, Some(name)) => assign(PieceKind::Operation, name.to_snake_case(), item.clone()),
            (Place::Types | Place::TypesBuilder, _, Some(name)) => assign(PieceKind::Type, name, item.clone()),
            _ => entries.push(Entry::Item(item.clone())),
        }
    }
    entries
}

/// The place of the items of `item`, if it is a module the cut goes into.
fn inner_module(place: Place, item: &syn::Item) -> Option<(Place, &syn::ItemMod, &[syn::Item])> {
    let syn::Item::Mod(module) = item else { return None };
    let (_, content) = module.content.as_ref()?;
    let inner = match (place, module.ident.to_string().as_str()) {
        (Place::Root, "types") => Place::Types,
        (Place::Root, "builder") => Place::Builder,
        (Place::Types, "builder") => Place::TypesBuilder,
        _ => return None,
    };
    Some((inner, module, content))
}

pub(crate) fn pieces(file: &syn::File) -> Vec<Piece> {
    let Cut { frame, pieces } = cut(file);
    let mut out: Vec<Piece> = pieces
        .into_iter()
        .map(|((kind, name), items)| {
            let items = items
                .into_iter()
                .map(|(place, item)| if place.in_builder() { in_builder_module(item) } else { item })
                .collect();
            Piece { kind, name, code: render(items) }
        })
        .collect();
    let client = frame_items(frame, &mut |_, _| Vec::new());
    out.push(Piece { kind: PieceKind::Client, name: "client".to_owned(), code: render(client) });
    out
}

/// `xplenty.rs` (the frame, which `include!`s the rest), then the files of the pieces
/// by the rule of [`compiled_files`], sorted by path.
pub(crate) fn source_files(file: &syn::File) -> Vec<SourceFile> {
    let Cut { frame, pieces } = cut(file);
    let stems = stems(pieces.keys());
    let mut included = BTreeSet::new();
    let root = frame_items(frame, &mut |key, place| {
        let stem = &stems[key];
        let path = format!("{}/{stem}.rs", place.dir());
        match included.insert(path.clone()) {
            false => Vec::new(),
            true if place.own_module() => include_in_module(stem, &path).into(),
            true => vec![include(&path)],
        }
    });
    let mut out = vec![SourceFile { path: "xplenty.rs".to_owned(), code: crate::format::file(&file_of(root)) }];
    out.extend(compiled_files(pieces, &stems));
    out
}

/// The one rule: the files the items of the operations and types are compiled from.
/// A piece's items at `place` go to `<place's directory>/<stem>.rs`, in the order of
/// the piece, shifted one level down where that directory's files are modules of their
/// own.
fn compiled_files(
    pieces: BTreeMap<PieceKey, Vec<(Place, syn::Item)>>,
    stems: &BTreeMap<PieceKey, String>,
) -> Vec<SourceFile> {
    let mut files: BTreeMap<String, Vec<syn::Item>> = BTreeMap::new();
    for (key, items) in pieces {
        for (place, mut item) in items {
            if place.own_module() {
                OneLevelDown.visit_item_mut(&mut item);
            }
            files.entry(format!("{}/{}.rs", place.dir(), stems[&key])).or_default().push(item);
        }
    }
    files.into_iter().map(|(path, items)| SourceFile { path, code: crate::format::file(&file_of(items)) }).collect()
}

/// The rule of `compiled_files` applied to the reviewed code of the pieces, each
/// parsed back: every compiled file but the frame `xplenty.rs` (the client piece with the
/// includes added where the other files' items stood, which the pieces do not show).
///
/// The files have the items of [`Generated::files`](crate::Generated::files), in the
/// same order; the layout may differ where a piece shows an item inside
/// `mod builder { .. }`, one level deeper than in its file: prettyplease breaks a line
/// there, and puts a closure's body in braces, where the compiled file need not.
pub fn compiled_from_pieces(pieces: &[Piece]) -> Result<Vec<SourceFile>, String> {
    let mut parsed = BTreeMap::new();
    for piece in pieces.iter().filter(|piece| piece.kind != PieceKind::Client) {
        let file = syn::parse_file(&piece.code).map_err(|e| format!("{}: {e}", piece.snapshot_name()))?;
        let mut items = Vec::new();
        for item in file.items {
            match item {
                syn::Item::Mod(m) if m.ident == "builder" => {
                    let content = m.content.map(|(_, content)| content).unwrap_or_default();
                    items.extend(content.into_iter().map(|item| (Place::of(piece.kind, true), item)));
                }
                item => items.push((Place::of(piece.kind, false), item)),
            }
        }
        if parsed.insert((piece.kind, piece.name.clone()), items).is_some() {
            return Err(format!("two pieces are named {}", piece.snapshot_name()));
        }
    }
    let stems = stems(parsed.keys());
    Ok(compiled_files(parsed, &stems))
}

/// The file name (without `.rs`) of each piece: an operation's id; a type's snake-case
/// name, with `_2`, `_3`, .. added in name order where names differ only in case
/// (`ClusterURL`, `ClusterUrl`), so that each type has files of its own, also on a file
/// system that ignores case.
fn stems<'a>(keys: impl Iterator<Item = &'a PieceKey>) -> BTreeMap<PieceKey, String> {
    let mut taken = BTreeSet::new();
    keys.map(|key| {
        let (kind, name) = key;
        let snake = if *kind == PieceKind::Type { name.to_snake_case() } else { name.clone() };
        let mut stem = snake.clone();
        for n in 2.. {
            if taken.insert((*kind, stem.clone())) {
                break;
            }
            stem = format!("{snake}_{n}");
        }
        (key.clone(), stem)
    })
    .collect()
}

/// The frame's items, each slot replaced by what `slot` gives for it.
fn frame_items(frame: Vec<Entry>, slot: &mut impl FnMut(&PieceKey, Place) -> Vec<syn::Item>) -> Vec<syn::Item> {
    let mut items = Vec::new();
    for entry in frame {
        match entry {
            Entry::Item(item) => items.push(item),
            Entry::Module(mut module, entries) => {
                module.content.as_mut().expect("a module with content").1 = frame_items(entries, slot);
                items.push(syn::Item::Mod(module));
            }
            Entry::Slot(key, place) => items.extend(slot(&key, place)),
        }
    }
    items
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
