//! The generator on tiny fixture specs: each spec rule rejects what it should, naming
//! the operation and the JSON pointer, all problems at once; each extra is emitted.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit_mut::VisitMut;
use xplenty_gen::{GenError, PieceKind, Problem, compiled_from_pieces, generate};

const TINY: &str = include_str!("fixtures/tiny.yaml");

/// The fixture with one piece of text replaced; panics if the piece is not there, so a
/// test cannot silently check an unchanged spec.
fn tiny_with(from: &str, to: &str) -> String {
    assert!(TINY.contains(from), "fixture lacks {from:?}");
    TINY.replacen(from, to, 1)
}

fn problems(spec: &str) -> Vec<Problem> {
    match generate(spec) {
        Err(GenError::Spec(problems)) => problems,
        Err(other) => panic!("expected spec problems, got: {other}"),
        Ok(_) => panic!("the spec was accepted"),
    }
}

fn assert_problem(spec: &str, operation: Option<&str>, pointer: &str, message: &str) {
    let found = problems(spec);
    assert!(
        found.iter().any(|p| p.operation.as_deref().map(|o| o.split(' ').next().unwrap()) == operation
            && p.pointer == pointer
            && p.message.contains(message)),
        "no problem ({operation:?}, {pointer}, {message:?}) in {found:#?}"
    );
}

#[test]
fn the_fixture_generates_and_is_deterministic() {
    let first = generate(TINY).unwrap();
    let second = generate(TINY).unwrap();
    assert_eq!(first.code(), second.code());
    assert_eq!(first.operations().len(), 4);
}

#[test]
fn rejects_other_openapi_versions() {
    assert_problem(&tiny_with("openapi: 3.0.3", "openapi: 3.0.1"), None, "#/openapi", "3.0.3");
}

#[test]
fn rejects_missing_duplicate_and_badly_named_operation_ids() {
    assert_problem(
        &tiny_with("operationId: create_cluster", "operationId: list_clusters"),
        Some("list_clusters"),
        "#/paths/~1clusters/post/operationId",
        "duplicate",
    );
    assert_problem(
        &tiny_with("operationId: get_user", "operationId: getUser"),
        Some("getUser"),
        "#/paths/~1user/get/operationId",
        "snake_case",
    );
    assert_problem(&tiny_with("      operationId: get_user\n", ""), Some("<no"), "#/paths/~1user/get", "operationId");
}

#[test]
fn rejects_operations_without_one_tag_or_a_summary() {
    assert_problem(
        &tiny_with("tags: [user]", "tags: [user, misc]"),
        Some("get_user"),
        "#/paths/~1user/get/tags",
        "one tag",
    );
    assert_problem(
        &tiny_with("summary: Get the authenticated user", "description: no summary"),
        Some("get_user"),
        "#/paths/~1user/get",
        "summary",
    );
}

#[test]
fn rejects_more_than_one_success_or_other_error_shapes() {
    let two_successes = tiny_with(
        "        '201':\n          description: The new cluster.",
        "        '200':\n          description: Also.\n        '201':\n          description: The new cluster.",
    );
    assert_problem(&two_successes, Some("create_cluster"), "#/paths/~1clusters/post/responses", "exactly one success");
    let default = tiny_with(
        "        '204':\n          description: No longer watching.",
        "        '204':\n          description: No longer watching.\n        default:\n          description: Anything else.",
    );
    assert_problem(
        &default,
        Some("unwatch_cluster"),
        "#/paths/~1clusters~1{cluster_id}~1watchers/delete/responses/default",
        "only one 2xx",
    );
    let inline_error = tiny_with(
        "        '4XX':\n          $ref: '#/components/responses/Error'\n        '5XX':\n          $ref: '#/components/responses/Error'\n  /user:",
        "        '4XX':\n          description: Bad.\n        '5XX':\n          $ref: '#/components/responses/Error'\n  /user:",
    );
    assert_problem(
        &inline_error,
        Some("unwatch_cluster"),
        "#/paths/~1clusters~1{cluster_id}~1watchers/delete/responses/4XX",
        "$ref",
    );
}

#[test]
fn rejects_bodies_with_two_media_types_or_inline_schemas() {
    let two = tiny_with(
        "          application/json:\n            schema:\n              $ref: '#/components/schemas/ClusterCreate'",
        "          text/plain:\n            schema:\n              type: string\n          application/json:\n            schema:\n              $ref: '#/components/schemas/ClusterCreate'",
    );
    assert_problem(
        &two,
        Some("create_cluster"),
        "#/paths/~1clusters/post/requestBody/content",
        "exactly one media type",
    );
}

#[test]
fn rejects_undeclared_path_parameters_and_dangling_refs() {
    let undeclared =
        tiny_with("        - name: cluster_id\n          in: path", "        - name: other_id\n          in: query");
    assert_problem(
        &undeclared,
        Some("unwatch_cluster"),
        "#/paths/~1clusters~1{cluster_id}~1watchers/delete",
        "`cluster_id` is not declared",
    );
    let dangling = tiny_with("$ref: '#/components/schemas/User'", "$ref: '#/components/schemas/Nobody'");
    assert_problem(
        &dangling,
        Some("get_user"),
        "#/paths/~1user/get/responses/200/content/application~1vnd.xplenty+json/schema",
        "does not resolve",
    );
    let typo = tiny_with("$ref: '#/components/schemas/User'", "$ref: '#/components/schemas/Usr'");
    assert_problem(
        &typo,
        Some("get_user"),
        "#/paths/~1user/get/responses/200/content/application~1vnd.xplenty+json/schema",
        "$ref `#/components/schemas/Usr` does not resolve; did you mean `#/components/schemas/User`?",
    );
}

#[test]
fn rejects_unknown_types_and_names_the_generator_would_change() {
    let unknown = tiny_with("        id:\n          type: integer", "        id:\n          type: integr");
    assert_problem(
        &unknown,
        None,
        "#/components/schemas/Cluster/properties/id/type",
        "unknown type `integr` (one of string, number, integer, boolean, array, object); did you mean `integer`?",
    );
    let renamed = tiny_with("    ClusterStatus:\n", "    Cluster_status:\n")
        .replace("#/components/schemas/ClusterStatus'", "#/components/schemas/Cluster_status'");
    assert_problem(
        &renamed,
        None,
        "#/components/schemas/Cluster_status",
        "the generator would rename it; did you mean `ClusterStatus`?",
    );
}

#[test]
fn rejects_inline_enums_closed_objects_and_missing_examples() {
    let inline = tiny_with(
        "        name:\n          type: string\n      example:\n        nodes: 2",
        "        name:\n          type: string\n          enum: [a, b]\n      example:\n        nodes: 2",
    );
    assert_problem(&inline, None, "#/components/schemas/ClusterCreate/properties/name", "inline enum");
    let closed =
        tiny_with("    User:\n      type: object", "    User:\n      type: object\n      additionalProperties: false");
    assert_problem(&closed, None, "#/components/schemas/User", "additionalProperties: false");
    let no_example = tiny_with("      example:\n        id: 3\n", "");
    assert_problem(&no_example, None, "#/components/schemas/User", "needs an example");
}

#[test]
fn rejects_enum_values_that_make_no_distinct_rust_variant() {
    assert_problem(
        &tiny_with(
            "enum: [pending, available, pending_terminate]",
            "enum: [pending, available, pending-terminate, pending_terminate]",
        ),
        None,
        "#/components/schemas/ClusterStatus/enum/3",
        "both become",
    );
    assert_problem(
        // `self` is the keyword `Self` in UpperCamelCase and becomes `SelfValue`.
        &tiny_with("enum: [pending, available, pending_terminate]", "enum: [pending, self, self_value]"),
        None,
        "#/components/schemas/ClusterStatus/enum/2",
        "both become the variant `SelfValue`",
    );
    assert_problem(
        &tiny_with("enum: [pending, available, pending_terminate]", "enum: [pending, '\"']"),
        None,
        "#/components/schemas/ClusterStatus/enum/1",
        "variant name",
    );
    assert_problem(
        &tiny_with("enum: [pending, available, pending_terminate]", "enum: [pending, '2.0']"),
        None,
        "#/components/schemas/ClusterStatus/enum/1",
        "variant name",
    );
}

#[test]
fn rejects_servers_other_than_the_global_host() {
    assert_problem(
        &tiny_with("      - url: https://api.xplenty.com\n", "      - url: https://example.com\n"),
        None,
        "#/paths/~1user/servers",
        "exactly",
    );
}

#[test]
fn reports_every_problem_at_once() {
    let broken =
        tiny_with("tags: [user]", "tags: []").replacen("summary: Stop watching a cluster", "description: x", 1);
    let found = problems(&broken);
    assert!(
        found.iter().any(|p| p.message.contains("one tag")) && found.iter().any(|p| p.message.contains("summary")),
        "{found:#?}"
    );
    let report = GenError::Spec(found).to_string();
    assert!(report.contains("get_user (GET /user) at #/paths/~1user/get/tags"), "{report}");
}

#[test]
fn a_yaml_error_names_the_line() {
    let broken = tiny_with("      summary: List clusters", "      summary: [unclosed");
    match generate(&broken) {
        Err(GenError::Parse { line: Some(line), .. }) => assert!((15..=20).contains(&line), "line {line}"),
        Err(other) => panic!("expected a parse error, got {other}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn extras_open_enums_are_emitted_with_an_unknown_variant() {
    let code = generate(TINY).unwrap().code();
    assert!(code.contains("pub enum ClusterStatus"));
    assert!(code.contains("Unknown(::std::string::String)"));
    assert!(code.contains("PendingTerminate"));
    assert!(code.contains("crate::types::ClusterStatus"), "fields use the open enum");
}

#[test]
fn extras_stream_all_exists_only_on_paged_lists() {
    let generated = generate(TINY).unwrap();
    assert_eq!(generated.code().matches("pub fn stream_all(").count(), 1);
    let list = generated.operations().iter().find(|o| o.id == "list_clusters").unwrap();
    assert!(list.paginated);
    let unpaged = generate(&tiny_with("        - $ref: '#/components/parameters/Offset'\n", "")).unwrap();
    assert_eq!(unpaged.code().matches("pub fn stream_all(").count(), 0);
}

#[test]
fn extras_route_global_operations_and_name_errors() {
    let generated = generate(TINY).unwrap();
    let code = &generated.code();
    let dense: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(code.contains(r#"id: "get_user","#) && code.contains("scope: crate::runtime::Scope::Global"));
    // Each `send` hands over its operation's named row, which `OPERATIONS` lists.
    assert!(
        dense.contains("crate::runtime::send(client,&crate::generated::rows::LIST_CLUSTERS,self.request(),)"),
        "send hands its row and its request over"
    );
    assert!(dense.contains("rows::LIST_CLUSTERS"), "the table lists the row");
    assert!(!code.contains("pub fn new(baseurl"), "progenitor's unwrapping constructor is gone");
}

#[test]
fn what_every_request_carries_is_settled_at_generation() {
    let generated = generate(TINY).unwrap();
    let code = &generated.code();
    let operations = generated.operations().len();
    let global = generated.operations().iter().filter(|o| o.scope == xplenty_gen::Scope::Global).count();
    let dense: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(!code.contains("api-version"), "the version travels in Accept only");
    assert!(!code.contains(r#"from_static("application/json")"#));
    assert_eq!(dense.matches("HeaderValue::from_static(crate::runtime::ACCEPT_VALUE").count(), operations);
    assert_eq!(dense.matches("client.inner().root_url()").count(), global, "global calls start at the root");
    assert_eq!(dense.matches("client.baseurl,").count(), operations - global, "account calls at the account base");
}

#[test]
fn every_call_builds_its_request_and_its_row_says_how_the_answer_is_read() {
    let generated = generate(TINY).unwrap();
    let code = generated.code();
    let dense: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    // One way through: no hooks, no operation info, nothing read back by the builder.
    for gone in ["client.pre(", "client.exec(", "OperationInfo", "ClientHooks", "UnexpectedResponse", "send_raw"] {
        assert!(!dense.contains(gone), "{gone} is still generated");
    }
    let requests = dense.matches("fnrequest(self)->Result<::reqwest::Request,Error<types::ErrorBody>>{").count();
    assert_eq!(requests, generated.operations().len(), "every builder only builds its request");
    assert_eq!(dense.matches("Ok(request)}").count(), generated.operations().len());
    for op in generated.operations() {
        let answers_body = op.success != xplenty_gen::SuccessBody::Empty;
        let row = format!("id:\"{}\",", op.id);
        let row = &dense[dense.find(&row).unwrap_or_else(|| panic!("{}: no row", op.id))..];
        let facts = format!("status:{}u16,answers_body:{answers_body},", op.status);
        assert!(row[..row.find("};").unwrap()].contains(&facts), "{}: {facts}", op.id);
    }
}

#[test]
fn the_vendor_media_type_is_typed_not_raw() {
    let code = generate(TINY).unwrap().code();
    assert!(!code.contains("ByteStream>"), "a vendor-typed response became raw bytes");
}

#[test]
fn answered_objects_must_declare_their_tolerance_and_get_the_tolerant_reading() {
    let untolerant =
        tiny_with("    User:\n      type: object\n      x-tolerant: true\n", "    User:\n      type: object\n");
    assert_problem(&untolerant, None, "#/components/schemas/User", "declare `x-tolerant: true`");
    let misplaced = tiny_with(
        "    ClusterStatus:\n      type: string\n",
        "    ClusterStatus:\n      type: string\n      x-tolerant: true\n",
    );
    assert_problem(&misplaced, None, "#/components/schemas/ClusterStatus/x-tolerant", "only object schemas");

    let code = generate(TINY).unwrap().code();
    let cluster = &code[code.find("pub struct Cluster {").unwrap()..];
    let id = &cluster[..cluster.find("pub id: u64").unwrap()];
    assert!(id.trim_end().ends_with(r#"#[serde(deserialize_with = "crate::runtime::tolerant")]"#), "{id}");
    let create = &code[code.find("pub struct ClusterCreate {").unwrap()..];
    let create = &create[..create.find('}').unwrap()];
    assert!(!create.contains("tolerant"), "a schema without x-tolerant reads strictly: {create}");
}

#[test]
fn discriminated_unions_need_a_mapping_of_every_member_and_become_open_enums() {
    let union = "    AnyUser:\n      oneOf:\n        - $ref: '#/components/schemas/User'\n      discriminator:\n        propertyName: kind\n";
    let unmapped = tiny_with("    User:\n", &format!("{union}      example: {{id: 1}}\n    User:\n"));
    assert_problem(&unmapped, None, "#/components/schemas/AnyUser/discriminator", "needs a mapping");

    let mapped = tiny_with(
        "    User:\n",
        &format!(
            "{union}        mapping:\n          person: '#/components/schemas/User'\n      example: {{id: 1}}\n    User:\n"
        ),
    );
    let code = generate(&mapped).unwrap().code();
    assert!(code.contains("pub enum AnyUser"), "{code}");
    assert!(code.contains("Person(User)"));
    assert!(code.contains("Unknown(::serde_json::Map<::std::string::String, ::serde_json::Value>)"));
}

#[test]
fn the_compiled_files_are_one_module_per_type_and_operation_each_included_once() {
    let generated = generate(TINY).unwrap();
    let root = &generated.files[0];
    assert_eq!(root.path, "xplenty.rs");
    for file in &generated.files[1..] {
        assert_eq!(root.code.matches(&format!("\"/{}\"", file.path)).count(), 1, "{}", file.path);
        let Some(name) = file.path.strip_prefix("types/").or_else(|| file.path.strip_prefix("builder/")) else {
            continue;
        };
        if let Some(module) = name.strip_suffix(".rs").filter(|m| !m.contains('/')) {
            // A module of its own (its own codegen unit), re-exported whole.
            assert!(root.code.contains(&format!("mod __{module} {{")), "no module for {}", file.path);
            assert!(root.code.contains(&format!("pub use __{module}::*;")));
        }
    }
    assert!(generated.files.iter().any(|f| f.path == "types/cluster.rs"));
    assert!(generated.files.iter().any(|f| f.path == "builder/list_clusters.rs"));
}

/// The compiled files are the reviewed pieces moved by one rule: the rule applied to
/// the pieces' code gives every compiled file but the frame, item for item; the frame is
/// the client piece with one include of each other file, in its directory's module; and
/// every item compiled is an item of one piece, every item of a piece is compiled.
#[test]
fn the_compiled_files_are_the_reviewed_pieces_by_one_rule() {
    assert_compiled_files_are_reviewed_pieces(&generate(TINY).unwrap());
}

/// The same for the workspace spec, whose pieces are the reviewed snapshots.
#[test]
fn the_compiled_client_is_its_snapshots_by_one_rule() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/xplenty.yaml");
    assert_compiled_files_are_reviewed_pieces(&xplenty_gen::generate_file(std::path::Path::new(spec)).unwrap());
}

fn assert_compiled_files_are_reviewed_pieces(generated: &xplenty_gen::Generated) {
    let pieces = generated.pieces();
    let (frame, files) = generated.files.split_first().unwrap();
    assert_eq!(frame.path, "xplenty.rs");

    // The rule, applied to the reviewed code. An item a piece shows inside
    // `mod builder { .. }` is printed one level deeper than in its file, where
    // prettyplease may break a line differently (and put a closure's body in braces),
    // so items are compared as their pieces print them.
    let from_pieces = compiled_from_pieces(&pieces).unwrap();
    let paths = |files: &[xplenty_gen::SourceFile]| files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&from_pieces), paths(files));
    for (expected, compiled) in from_pieces.iter().zip(files) {
        assert_eq!(reviewed_form(expected), reviewed_form(compiled), "{} is not its pieces by the rule", compiled.path);
    }

    // The frame, without its includes, is the client piece.
    let mut frame = syn::parse_file(&frame.code).unwrap();
    let mut includes = Vec::new();
    strip_includes(&mut frame.items, "", &mut includes);
    let client = pieces.iter().find(|p| p.kind == PieceKind::Client).unwrap();
    assert_eq!(prettyplease::unparse(&frame), client.code, "the frame is not the client piece");
    for (module, path) in &includes {
        assert_eq!(module_of(path).0, module, "{path} is included in `{module}`");
    }
    let mut included: Vec<String> = includes.into_iter().map(|(_, path)| path).collect();
    included.sort();
    assert_eq!(included, paths(files), "the frame includes each other file once");

    // Each item, keyed by its module and its code: the pieces it is reviewed in and the
    // files it is compiled in.
    let mut reviewed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for piece in pieces.iter().filter(|p| p.kind != PieceKind::Client) {
        let module = if piece.kind == PieceKind::Type { "types" } else { "" };
        for item in syn::parse_file(&piece.code).unwrap().items {
            let (module, items) = match item {
                syn::Item::Mod(m) if m.ident == "builder" => {
                    (format!("{module}::builder").trim_start_matches("::").to_owned(), m.content.unwrap().1)
                }
                item => (module.to_owned(), vec![item]),
            };
            for item in items {
                let key = (module.clone(), as_in_piece(&module, item));
                reviewed.entry(key).or_default().push(piece.snapshot_name());
            }
        }
    }
    let mut compiled: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file.path).0;
        let mut pieces_of_file = BTreeSet::new();
        for code in reviewed_form(file) {
            let key = (module.to_owned(), code);
            pieces_of_file.extend(reviewed.get(&key).into_iter().flatten().cloned());
            compiled.entry(key).or_default().push(file.path.clone());
        }
        assert_eq!(pieces_of_file.len(), 1, "{} holds items of {pieces_of_file:?}", file.path);
    }
    let unreviewed: Vec<_> = compiled.keys().filter(|key| !reviewed.contains_key(*key)).collect();
    let uncompiled: Vec<_> = reviewed.keys().filter(|key| !compiled.contains_key(*key)).collect();
    assert!(unreviewed.is_empty(), "compiled, not reviewed: {unreviewed:#?}");
    assert!(uncompiled.is_empty(), "reviewed, not compiled: {uncompiled:#?}");
    for (key, in_pieces) in &reviewed {
        assert_eq!(in_pieces.len(), compiled[key].len(), "{key:?} is in {in_pieces:?} and {:?}", compiled[key]);
    }
}

/// The items of a compiled file as its piece shows them: `super::` paths one level up
/// again where the file is a module of its own, printed inside `mod builder { .. }`
/// where they live in a `builder` module.
fn reviewed_form(file: &xplenty_gen::SourceFile) -> Vec<String> {
    let (module, own_module) = module_of(&file.path);
    let items = syn::parse_file(&file.code).unwrap_or_else(|e| panic!("{}: {e}", file.path)).items;
    items
        .into_iter()
        .map(|mut item| {
            if own_module {
                OneLevelUp.visit_item_mut(&mut item);
            }
            as_in_piece(module, item)
        })
        .collect()
}

/// One item as a piece prints it in `module`.
fn as_in_piece(module: &str, item: syn::Item) -> String {
    let item = if module.ends_with("builder") {
        syn::parse_quote! { mod builder { #item } }
    } else {
        item
    };
    prettyplease::unparse(&syn::File { shebang: None, frontmatter: None, attrs: Vec::new(), items: vec![item] })
}

/// The module a compiled file's items live in, and whether the file is a module of its
/// own (its `super::` paths one level down).
fn module_of(path: &str) -> (&'static str, bool) {
    match path.rsplit_once('/').map(|(dir, _)| dir) {
        Some("operations") => ("", false),
        Some("builder") => ("builder", true),
        Some("types") => ("types", true),
        Some("types/builder") => ("types::builder", false),
        _ => panic!("unexpected compiled file {path}"),
    }
}

/// Removes the frame's includes (`include!(..)`, `mod __x { use super::*; include!(..) }`
/// with its `pub use __x::*;`) from the items of `module` and the modules in it,
/// recording each included path with its module.
fn strip_includes(items: &mut Vec<syn::Item>, module: &str, includes: &mut Vec<(String, String)>) {
    let included = |item: &syn::Item| match item {
        syn::Item::Macro(m) if m.mac.path.is_ident("include") => {
            let tokens = m.mac.tokens.to_string();
            let path = tokens.rsplit('"').nth(1).unwrap().trim_start_matches('/').to_owned();
            Some(path)
        }
        _ => None,
    };
    let mut own_modules = Vec::new();
    let mut kept = Vec::new();
    for mut item in std::mem::take(items) {
        if let Some(path) = included(&item) {
            includes.push((module.to_owned(), path));
            continue;
        }
        match &mut item {
            syn::Item::Mod(m) if m.ident.to_string().starts_with("__") => {
                let content = &m.content.as_ref().unwrap().1;
                assert_eq!(content.len(), 2, "{}", m.ident);
                assert!(matches!(&content[0], syn::Item::Use(_)));
                let path = included(&content[1]).unwrap();
                let stem = path.rsplit('/').next().unwrap().trim_end_matches(".rs");
                assert_eq!(m.ident, format!("__{stem}"));
                own_modules.push(m.ident.to_string());
                includes.push((module.to_owned(), path));
            }
            syn::Item::Use(u) if matches!(&u.tree, syn::UseTree::Path(p) if p.ident.to_string().starts_with("__")) => {
                let syn::UseTree::Path(p) = &u.tree else { unreachable!() };
                assert!(matches!(*p.tree, syn::UseTree::Glob(_)));
                assert_eq!(own_modules.last(), Some(&p.ident.to_string()), "re-exported whole after its module");
            }
            syn::Item::Mod(m) if m.content.is_some() => {
                let inner = format!("{module}::{}", m.ident).trim_start_matches("::").to_owned();
                strip_includes(&mut m.content.as_mut().unwrap().1, &inner, includes);
                kept.push(item);
            }
            _ => kept.push(item),
        }
    }
    *items = kept;
}

/// Undoes the compiled files' shift: `super::super::X` is `super::X` again.
struct OneLevelUp;

impl VisitMut for OneLevelUp {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.first().is_some_and(|s| s.ident == "super") {
            let rest = path.segments.iter().skip(1).cloned().collect();
            path.segments = rest;
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

#[test]
fn an_added_operation_changes_only_its_own_piece_and_the_table() {
    // Sorted first by id, so a row named by its position would shift every other one.
    let added = tiny_with(
        "paths:\n",
        "paths:\n  /apples:\n    get:\n      operationId: list_apples\n      tags: [clusters]\n      summary: List apples\n      responses:\n        '200':\n          description: The apples.\n          content:\n            application/vnd.xplenty+json:\n              schema:\n                $ref: '#/components/schemas/Cluster'\n              example:\n                id: 1\n        '4XX':\n          $ref: '#/components/responses/Error'\n        '5XX':\n          $ref: '#/components/responses/Error'\n",
    );
    let pieces = |spec: &str| -> std::collections::BTreeMap<String, String> {
        generate(spec).unwrap().pieces().into_iter().map(|p| (p.snapshot_name(), p.code)).collect()
    };
    let (before, after) = (pieces(TINY), pieces(&added));
    let changed: Vec<&str> = after
        .iter()
        .filter(|(name, code)| before.get(*name) != Some(code))
        .map(|(name, _)| name.as_str())
        .chain(before.keys().filter(|name| !after.contains_key(*name)).map(String::as_str))
        .collect();
    assert_eq!(changed, ["client", "operation__list_apples"]);
}

#[test]
fn extras_a_body_shows_how_it_is_sent() {
    let code = generate(TINY).unwrap().code();
    assert_eq!(code.matches("```rust,no_run").count(), 1, "{code}");
    assert!(code.contains("/// Built and sent with [`Client::create_cluster`]"), "{code}");
    assert!(code.contains(".body(xplenty_api::types::ClusterCreate::builder().nodes(2u64))"), "{code}");
    // The body's example lacks the required `nodes`: no example rather than a wrong one.
    let unbuildable = generate(&tiny_with(
        "            example:\n              nodes: 2\n",
        "            example:\n              name: x\n",
    ))
    .unwrap()
    .code();
    assert_eq!(unbuildable.matches("```rust,no_run").count(), 0);
}

#[test]
fn the_cli_is_generated_from_the_model_alone_with_the_builders_types() {
    // The CLI's build runs no progenitor: the model carries each setter's type.
    // The CLI's tables (overrides, runners) name the real spec's operations.
    let spec = include_str!("../../spec/xplenty.yaml");
    let cli = xplenty_gen::generate_cli(&xplenty_gen::describe(spec).unwrap()).unwrap();
    assert!(cli.code.contains("crate::rt::required::<u64>"), "a path id converts into the setter's u64");
    // And the model's types are the ones progenitor's builders store.
    let generated = generate(TINY).unwrap();
    let dense: String = generated.code().chars().filter(|c| !c.is_whitespace()).collect();
    for op in generated.operations() {
        for parameter in &op.parameters {
            let ty: String = parameter.rust_type.replace("types::", "crate::types::").split_whitespace().collect();
            let (plain, optional) = (
                format!("{}:Result<{ty},String>", parameter.setter),
                format!("{}:Result<Option<{ty}>,String>", parameter.setter),
            );
            assert!(dense.contains(&plain) || dense.contains(&optional), "{}: {} is not `{ty}`", op.id, parameter.name);
        }
    }
}
