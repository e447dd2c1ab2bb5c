//! The `xplenty` command line, a target of the same model as the client.
//!
//! Every operation becomes `xplenty <resource> <action>`: the resource is the
//! operation's tag, the action its id with the resource noun taken out
//! (`list_clusters` -> `clusters list`, `get_job_log` -> `jobs log`), or the
//! [override](ACTION_OVERRIDES) where that reads oddly. Path parameters are positional,
//! query parameters and the top-level fields of an object body are flags, `--body` takes
//! a whole body. The generated code calls the typed client: each flag's text is turned
//! into a JSON value after the schema's type and deserialised into the setter's Rust type,
//! which the model carries (and the client's generation checks against progenitor's
//! builders): this target reads the model alone, and progenitor does not run for it.
//!
//! Every flag's text is checked by a clap value parser of its kind (`rt::parse_integer`
//! and the like), and every input is turned into its typed value before the client is
//! asked for (`rt::Connect::client`): a usage error never needs a credential.
//!
//! The generated code calls a small hand-written runtime in the CLI crate, `crate::rt`:
//! `Kind`, `Field`, `Ctx`, `Connect`, `Outcome`, `optional`, `required`, `body`,
//! `from_json`, `check_run_body`, `max_items`, `print`, `print_list`, `print_empty`,
//! `no_table`, the `parse_*` value parsers, `global_args`, `job_wait_args` and `run_job`.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToKebabCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::visit_mut::VisitMut;

use crate::body_rules::{BodyRules, enum_values, union_members};
use crate::spec::model::resolve;
use crate::{GenError, Location, Operation, SuccessBody};

/// Actions whose derived name reads oddly: operation id -> action.
pub const ACTION_OVERRIDES: &[(&str, &str)] = &[
    // "terminate" is what the API calls stopping a job; people say stop.
    ("terminate_job", "stop"),
    ("get_connection_type_help", "type-help"),
    ("test_new_connection", "test-new"),
    ("list_public_keys", "keys"),
    ("create_public_key", "add-key"),
    ("search_public_keys", "search-keys"),
    ("get_public_key", "key"),
    ("delete_public_key", "delete-key"),
    ("get_public_keys_help", "keys-help"),
    ("validate_package_sync", "validate-now"),
    // The API's help operations: `help` stays clap's (`xplenty clusters help list`).
    ("get_clusters_help", "api-help"),
    ("get_members_help", "api-help"),
    ("get_accounts_help", "api-help"),
    ("get_user_help", "api-help"),
    ("get_packages_help", "api-help"),
    ("get_schedules_help", "api-help"),
    ("get_connections_help", "api-help"),
    ("get_hooks_help", "api-help"),
];

/// Names of library functions the spec's descriptions mention, as the commands that do
/// the same: help speaks of commands, not of the client's methods.
const HELP_WORDS: &[(&str, &str)] =
    &[("wait_for_cluster", "xplenty clusters wait"), ("wait_for_job", "xplenty jobs wait")];

/// Commands the CLI adds by hand next to the generated ones; no operation may take them.
pub const RESERVED: &[(&str, &str)] = &[("clusters", "wait"), ("jobs", "wait")];

/// Resources the CLI adds by hand.
pub const RESERVED_RESOURCES: &[&str] = &["completions", "auth", "account"];

/// Flags every command has (see `crate::rt::global_args` of the CLI).
pub const GLOBAL_FLAGS: &[&str] = &["account", "api-key", "base-url", "profile", "output", "debug", "fake", "help"];

/// Visible aliases of body fields: field name -> alias.
const FIELD_ALIASES: &[(&str, &str)] = &[("variables", "var")];

/// One generated command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliCommand {
    pub resource: String,
    pub action: String,
    pub operation: String,
}

/// One reviewable piece of the generated CLI: one per resource, and the root.
#[derive(Debug, Clone)]
pub struct CliPiece {
    /// The resource (tag), or `root`.
    pub name: String,
    pub code: String,
}

impl CliPiece {
    /// `cli__clusters`, `cli__root`.
    pub fn snapshot_name(&self) -> String {
        format!("cli__{}", self.name)
    }
}

/// What [`generate_cli`] produced.
#[derive(Debug, Clone)]
pub struct GeneratedCli {
    /// The formatted code, written to `OUT_DIR` by the CLI's `build.rs`.
    pub code: String,
    /// Every command, in spec order.
    pub commands: Vec<CliCommand>,
    pieces: Vec<CliPiece>,
}

impl GeneratedCli {
    /// The generated code cut into one piece per resource, plus the root.
    pub fn pieces(&self) -> Vec<CliPiece> {
        self.pieces.clone()
    }
}

/// Derives the action of an operation: its id without the resource noun (plural or
/// singular), a leading `get_`/`list_` dropped when something is left after it, in
/// kebab-case; [`ACTION_OVERRIDES`] first.
pub fn action_name(resource: &str, operation_id: &str) -> String {
    if let Some((_, action)) = ACTION_OVERRIDES.iter().find(|(id, _)| *id == operation_id) {
        return (*action).to_owned();
    }
    let nouns = [resource.to_owned(), singular(resource)];
    let words: Vec<&str> = operation_id.split('_').filter(|w| !nouns.iter().any(|n| n == w)).collect();
    let words = match words.as_slice() {
        [verb, rest @ ..] if (*verb == "get" || *verb == "list") && !rest.is_empty() => rest.to_vec(),
        _ => words,
    };
    words.join("-")
}

fn singular(plural: &str) -> String {
    if let Some(stem) = plural.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = plural.strip_suffix('s') {
        stem.to_owned()
    } else {
        plural.to_owned()
    }
}

/// The kind of value a flag carries, after the schema's type.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    String(Vec<String>),
    Integer,
    Number,
    Boolean,
    Array(Box<Kind>),
    /// An object of free keys: `--flag key=value`, repeated.
    Map,
    /// Anything else: the flag's text is JSON.
    Json,
}

impl Kind {
    fn tokens(&self) -> TokenStream {
        match self {
            Kind::String(_) => quote!(crate::rt::Kind::String),
            Kind::Integer => quote!(crate::rt::Kind::Integer),
            Kind::Number => quote!(crate::rt::Kind::Number),
            Kind::Boolean => quote!(crate::rt::Kind::Boolean),
            Kind::Array(inner) => {
                let inner = inner.tokens();
                quote!(crate::rt::Kind::Array(&#inner))
            }
            Kind::Map => quote!(crate::rt::Kind::Map),
            Kind::Json => quote!(crate::rt::Kind::Json),
        }
    }

    fn many(&self) -> bool {
        matches!(self, Kind::Array(_) | Kind::Map)
    }

    /// The clap value parser that checks a flag's text (each value, for arrays), so a
    /// value of the wrong type is a usage error clap reports; `None` for free text.
    fn parser(&self) -> Option<TokenStream> {
        match self {
            Kind::String(values) if values.is_empty() => None,
            Kind::String(values) => Some(quote!(::clap::builder::PossibleValuesParser::new([#(#values),*]))),
            Kind::Integer => Some(quote!(crate::rt::parse_integer)),
            Kind::Number => Some(quote!(crate::rt::parse_number)),
            Kind::Boolean => Some(quote!(crate::rt::parse_boolean)),
            Kind::Array(inner) => inner.parser(),
            Kind::Map => Some(quote!(crate::rt::parse_key_value)),
            Kind::Json => Some(quote!(crate::rt::parse_json)),
        }
    }

    fn value_name(&self) -> &'static str {
        match self {
            Kind::String(_) => "TEXT",
            Kind::Integer => "N",
            Kind::Number => "NUMBER",
            Kind::Boolean => "true|false",
            Kind::Array(_) => "VALUE",
            Kind::Map => "KEY=VALUE",
            Kind::Json => "JSON",
        }
    }
}

/// A parameter or body field, as the CLI sees it.
#[derive(Debug, Clone)]
struct Input {
    /// As on the wire.
    name: String,
    /// The clap id and long flag.
    flag: String,
    aliases: Vec<String>,
    kind: Kind,
    required: bool,
    help: Option<String>,
    long_help: Option<String>,
}

fn kind_of(raw: &Value, schema: &Value) -> Kind {
    let schema = resolve(raw, schema);
    if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return kind_of(raw, only);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => Kind::String(enum_values(raw, schema)),
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("array") => match schema.get("items").map(|items| kind_of(raw, items)) {
            Some(inner @ (Kind::String(_) | Kind::Integer | Kind::Number | Kind::Boolean)) => {
                Kind::Array(Box::new(inner))
            }
            _ => Kind::Json,
        },
        Some("object") if schema.get("properties").is_none() && schema.get("additionalProperties").is_some() => {
            let value_kind = schema.get("additionalProperties").map(|v| kind_of(raw, v));
            if matches!(value_kind, Some(Kind::String(_))) { Kind::Map } else { Kind::Json }
        }
        _ => Kind::Json,
    }
}

/// The first sentence of a description, for short help.
fn short_help(description: Option<&str>) -> Option<String> {
    let text = description?.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = match text.find(". ") {
        Some(end) => &text[..=end],
        None => text.as_str(),
    };
    Some(first.trim_end_matches('.').to_owned()).filter(|s| !s.is_empty())
}

fn long_help(description: Option<&str>) -> Option<String> {
    let text = description?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The raw operation object of `operation`.
fn raw_operation<'a>(raw: &'a Value, operation: &Operation) -> Option<(&'a Value, &'a Value)> {
    let item = raw.get("paths")?.get(&operation.path)?;
    Some((item, item.get(operation.method.to_lowercase())?))
}

struct Parameters {
    path: Vec<Input>,
    query: Vec<Input>,
}

fn parameters(raw: &Value, operation: &Operation) -> Parameters {
    let mut path = Vec::new();
    let mut query = Vec::new();
    for parameter in &operation.parameters {
        let description = parameter.raw.get("description").and_then(Value::as_str);
        let input = Input {
            flag: parameter.name.to_kebab_case(),
            name: parameter.name.clone(),
            aliases: Vec::new(),
            kind: parameter.raw.get("schema").map(|s| kind_of(raw, s)).unwrap_or(Kind::Json),
            required: parameter.required,
            help: short_help(description),
            long_help: long_help(description),
        };
        match parameter.location {
            Location::Path => path.push(input),
            Location::Query => query.push(input),
        }
    }
    // Positional in the order the path names them.
    path.sort_by_key(|p| operation.path.find(&format!("{{{}}}", p.name)).unwrap_or(usize::MAX));
    Parameters { path, query }
}

/// The top-level fields of an object body; none for other shapes (they take `--body`).
fn body_fields(raw: &Value, schema_name: &str) -> Vec<Input> {
    let Some(schema) = raw.pointer(&format!("/components/schemas/{schema_name}")) else { return Vec::new() };
    let schema = resolve(raw, schema);
    let required: BTreeSet<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    properties
        .iter()
        .filter(|(_, property)| resolve(raw, property).get("readOnly").and_then(Value::as_bool) != Some(true))
        .map(|(name, property)| {
            let description = property
                .get("description")
                .and_then(Value::as_str)
                .or_else(|| resolve(raw, property).get("description").and_then(Value::as_str));
            let mut aliases = Vec::new();
            if let Some(stem) = name.strip_suffix("_id") {
                aliases.push(stem.to_kebab_case());
            }
            aliases
                .extend(FIELD_ALIASES.iter().filter(|(field, _)| field == name).map(|(_, alias)| (*alias).to_owned()));
            Input {
                name: name.clone(),
                flag: name.to_kebab_case(),
                aliases,
                kind: kind_of(raw, property),
                required: required.contains(name.as_str()),
                help: short_help(description),
                long_help: long_help(description),
            }
        })
        .collect()
}

/// Rewrites `crate::types::X` and `types::X` to `::xplenty_api::types::X`.
fn public_paths(mut ty: syn::Type) -> syn::Type {
    struct Rewrite;
    impl VisitMut for Rewrite {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            let first = path.segments.first().map(|s| s.ident.to_string());
            let second = path.segments.iter().nth(1).map(|s| s.ident.to_string());
            match (first.as_deref(), second.as_deref(), path.leading_colon.is_some()) {
                (Some("crate" | "super"), Some("types"), false) => {
                    path.segments[0].ident = format_ident!("xplenty_api");
                    path.leading_colon = Some(Default::default());
                }
                (Some("types"), _, false) => {
                    path.segments.insert(0, syn::PathSegment::from(format_ident!("xplenty_api")));
                    path.leading_colon = Some(Default::default());
                }
                _ => {}
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    Rewrite.visit_type_mut(&mut ty);
    ty
}

/// A flag or positional; `templated`: the command has `--body-template`, which needs no
/// other input.
fn arg_tokens(input: &Input, positional: bool, templated: bool) -> TokenStream {
    let id = &input.flag;
    let mut arg = quote!(::clap::Arg::new(#id));
    if positional {
        let value_name = input.name.to_uppercase();
        arg = if templated {
            quote!(#arg.value_name(#value_name).required_unless_present("body-template"))
        } else {
            quote!(#arg.value_name(#value_name).required(true))
        };
    } else {
        let value_name = input.kind.value_name();
        arg = quote!(#arg.long(#id).value_name(#value_name));
        for alias in &input.aliases {
            arg = quote!(#arg.visible_alias(#alias));
        }
    }
    if let Some(help) = &input.help {
        let help = speak_commands(help);
        arg = quote!(#arg.help(#help));
    }
    if let Some(long) = input.long_help.as_ref().filter(|l| Some(*l) != input.help.as_ref()) {
        let long = speak_commands(long);
        arg = quote!(#arg.long_help(#long));
    }
    if input.kind.many() {
        arg = quote!(#arg.action(::clap::ArgAction::Append));
        if matches!(input.kind, Kind::Array(_)) {
            arg = quote!(#arg.value_delimiter(','));
        }
    }
    if let Some(parser) = input.kind.parser() {
        arg = quote!(#arg.value_parser(#parser));
    }
    arg
}

struct Generated {
    command: TokenStream,
    function: TokenStream,
    action: String,
    function_name: syn::Ident,
}

/// A command that does more than send its operation's call, declared here for the
/// generator to read: `jobs run` takes `--cluster auto` (a cluster is found or made
/// later), checks the rest of the body up front, and can wait for the job.
struct Runner {
    operation: &'static str,
    /// A body field that also takes `auto`: parsed by `parser`, filled in by `run`, so
    /// no rule requires it at parse time.
    chosen_later: &'static str,
    parser: &'static str,
    /// The flags the runner adds (by `args`), which no generated flag may take.
    flags: &'static [&'static str],
    args: &'static str,
    /// Checks the body at parse time, without the field chosen later.
    check: &'static str,
    /// Sends the call: `run(&client, m, ctx, body, |body| <the call with body>)`.
    run: &'static str,
}

const RUNNERS: &[Runner] = &[Runner {
    operation: "run_job",
    chosen_later: "cluster_id",
    parser: "crate::rt::parse_cluster",
    flags: &["wait", "timeout", "poll", "nodes", "keep-cluster", "detach"],
    args: "crate::rt::job_wait_args",
    check: "crate::rt::check_run_body",
    run: "crate::rt::run_job",
}];

/// A runner's path as tokens (the table above holds Rust paths).
fn path_tokens(path: &str) -> TokenStream {
    path.parse().unwrap_or_default()
}

fn cli_error(operation: &Operation, message: impl std::fmt::Display) -> GenError {
    GenError::Extras(format!("cli: {}: {message}", operation.id))
}

/// The model's setter of parameter `name` and its value type (which the client's
/// generation checked against progenitor's builder).
fn setter(operation: &Operation, name: &str) -> Result<(syn::Ident, syn::Type), GenError> {
    let parameter = operation
        .parameters
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| cli_error(operation, format!("no parameter `{name}`")))?;
    let ty = syn::parse_str::<syn::Type>(&parameter.rust_type)
        .map_err(|e| cli_error(operation, format!("parameter `{name}`: type `{}`: {e}", parameter.rust_type)))?;
    Ok((format_ident!("{}", parameter.setter), public_paths(ty)))
}

/// One command's parts as they are gathered: its clap args, the code that reads and
/// types every input (`parse`, before any client exists, so a usage error needs no
/// credential) and the code that sets it on the call (`build`).
struct Parts<'o> {
    operation: &'o Operation,
    taken: BTreeSet<String>,
    args: Vec<TokenStream>,
    parse: Vec<TokenStream>,
    build: Vec<TokenStream>,
}

impl<'o> Parts<'o> {
    fn new(operation: &'o Operation, runner: Option<&Runner>) -> Self {
        let mut taken: BTreeSet<String> = GLOBAL_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        taken.extend(runner.into_iter().flat_map(|r| r.flags).map(|f| (*f).to_owned()));
        Parts { operation, taken, args: Vec::new(), parse: Vec::new(), build: Vec::new() }
    }

    fn take(&mut self, name: &str) -> Result<(), GenError> {
        if self.taken.insert(name.to_owned()) {
            Ok(())
        } else {
            Err(cli_error(self.operation, format!("two flags are named --{name}")))
        }
    }

    /// Path parameters as positionals, query parameters as flags; `templated`: the
    /// command has `--body-template`, which needs no other input.
    fn parameters(&mut self, parameters: &Parameters, templated: bool) -> Result<(), GenError> {
        for (i, input) in parameters.path.iter().enumerate() {
            // Its id is taken too: a body field of the same name becomes `--field-<name>`.
            self.take(&input.flag)?;
            self.args.push(arg_tokens(input, true, templated));
            let local = format_ident!("path_{i}");
            let setter = self.read_parameter(input, &local, quote!(required))?;
            self.build.push(quote! {
                call = call.#setter(#local);
            });
        }
        for (i, input) in parameters.query.iter().enumerate() {
            // Paged lists take `--limit` as the number of items to show, over every page.
            if self.operation.paginated && input.name == "limit" {
                continue;
            }
            self.take(&input.flag)?;
            let mut arg = arg_tokens(input, false, templated);
            if input.required {
                arg = if templated {
                    quote!(#arg.required_unless_present("body-template"))
                } else {
                    quote!(#arg.required(true))
                };
            }
            self.args.push(arg);
            let local = format_ident!("query_{i}");
            let setter = self.read_parameter(input, &local, quote!(optional))?;
            self.build.push(quote! {
                if let Some(value) = #local {
                    call = call.#setter(value);
                }
            });
        }
        Ok(())
    }

    /// Reads parameter `input` into `local` at parse time with `crate::rt::<reader>`
    /// (`required` or `optional`), typed as its setter takes it; returns the setter.
    fn read_parameter(
        &mut self,
        input: &Input,
        local: &syn::Ident,
        reader: TokenStream,
    ) -> Result<syn::Ident, GenError> {
        let (setter, ty) = setter(self.operation, &input.name)?;
        let (id, kind) = (&input.flag, input.kind.tokens());
        self.parse.push(quote! {
            let #local = crate::rt::#reader::<#ty>(m, #id, &#kind)?;
        });
        Ok(setter)
    }

    /// The body's fields as flags, `--body`, `--body-template` and the body's checks;
    /// returns the template check, which answers before any other input is read.
    fn body(
        &mut self,
        raw: &Value,
        schema: &str,
        fields: &[Input],
        runner: Option<&Runner>,
    ) -> Result<TokenStream, GenError> {
        let body_type = format_ident!("{schema}");
        let mut field_tokens = Vec::new();
        let shape = body_shape(raw, schema);
        // Flags first, so an alias never shadows a flag; an alias already taken is dropped.
        // A field whose flag is taken (a `body` field, say) is `--field-<name>`.
        let mut fields = fields.to_vec();
        if let Some((tag, members)) = &shape.union
            && !fields.iter().any(|f| &f.name == tag)
        {
            // A union body's tag is a flag: it chooses the template and the fields checked.
            fields.push(Input {
                name: tag.clone(),
                flag: tag.to_kebab_case(),
                aliases: Vec::new(),
                kind: Kind::String(members.clone()),
                required: true,
                help: Some(format!("The body's `{tag}`: one of {}", members.join(", "))),
                long_help: None,
            });
        }
        for input in &mut fields {
            if self.take(&input.flag).is_err() {
                input.flag = format!("field-{}", input.flag);
                self.take(&input.flag)?;
            }
        }
        let chosen_later = runner.map(|r| r.chosen_later);
        for input in &fields {
            let mut input = input.clone();
            input.aliases.retain(|alias| self.take(alias).is_ok());
            let mut arg = arg_tokens(&input, false, true);
            if let Some(runner) = runner.filter(|r| r.chosen_later == input.name) {
                let parser = path_tokens(runner.parser);
                arg = quote!(#arg.value_parser(#parser));
            }
            self.args.push(arg);
            let (name, id, kind) = (&input.name, &input.flag, input.kind.tokens());
            field_tokens.push(quote!(crate::rt::Field { name: #name, id: #id, kind: #kind }));
        }
        self.args.push(quote! {
            ::clap::Arg::new("body")
                .long("body")
                .value_name("@FILE|-|JSON")
                .help("The whole body as JSON: inline, @file.json, or - for standard input; flags override its fields")
        });
        self.args.push(quote! {
            ::clap::Arg::new("body-template")
                .long("body-template")
                .action(::clap::ArgAction::SetTrue)
                .help("Print a starting body built from the spec's example (per --type for a union) and exit; edit it and pass it with --body @FILE")
        });
        self.take("body-template")?;
        let templates = shape.templates.iter().map(|(tag, json)| quote!((#tag, #json)));
        let tag_flag = shape.union.as_ref().map(|(tag, _)| tag.to_kebab_case()).unwrap_or_default();
        let template_check = quote! {
            if let Some(outcome) = crate::rt::body_template(m, #tag_flag, &[#(#templates),*])? {
                return Ok(outcome);
            }
        };
        let rules = shape.rules.tokens(&quote!(crate::rt), |rule| Some(rule.field.as_str()) == chosen_later);
        match runner {
            // The field chosen later is filled in by the runner; the rest of the body is
            // checked now.
            Some(runner) => {
                let check = path_tokens(runner.check);
                self.parse.push(quote! {
                    let body = crate::rt::body(m, &[#(#field_tokens),*])?;
                    crate::rt::check_body(&body, &#rules)?;
                    #check::<::xplenty_api::types::#body_type>(m, &body)?;
                });
            }
            None => {
                self.parse.push(quote! {
                    let body = crate::rt::body(m, &[#(#field_tokens),*])?;
                    crate::rt::check_body(&body, &#rules)?;
                    let body = crate::rt::from_json::<::xplenty_api::types::#body_type>(body, "the body")?;
                });
                self.build.push(quote! {
                    call = call.body(body);
                });
            }
        }
        Ok(template_check)
    }

    /// What sends the call and prints its answer: every page of a list, the runner, or
    /// one call.
    fn send(&mut self, body: Option<&str>, runner: Option<&Runner>) -> Result<TokenStream, GenError> {
        let operation = self.operation;
        if operation.paginated {
            let SuccessBody::Array(schema) = &operation.success else {
                return Err(cli_error(operation, "a paginated operation answers an array of one schema"));
            };
            let (limit_setter, limit_ty) = setter(operation, "limit")?;
            self.args.push(quote! {
                ::clap::Arg::new("limit")
                    .long("limit")
                    .value_name("N")
                    .value_parser(::clap::value_parser!(u64))
                    .help("Stop after N items (every page is read by default)")
            });
            self.parse.push(quote! {
                let max = crate::rt::max_items(m);
                let page = match max.map(|n| n.clamp(1, 100)) {
                    Some(page) => Some(crate::rt::from_json::<#limit_ty>(::serde_json::json!(page), "--limit")?),
                    None => None,
                };
            });
            self.build.push(quote! {
                if let Some(page) = page {
                    call = call.#limit_setter(page);
                }
            });
            return Ok(quote! {
                crate::rt::print_list(ctx, #schema, call.stream_all(), max).await
            });
        }
        if let Some(runner) = runner {
            let body_type = format_ident!("{}", body.ok_or_else(|| cli_error(operation, "its runner needs a body"))?);
            let run = path_tokens(runner.run);
            return Ok(quote! {
                #run(&client, m, ctx, body, move |body| {
                    let body = crate::rt::from_json::<::xplenty_api::types::#body_type>(body, "the body");
                    async move { Ok(call.body(body?).send().await?.into_inner()) }
                })
                .await
            });
        }
        let id = &operation.id;
        Ok(match &operation.success {
            SuccessBody::Empty => quote! {
                call.send().await?;
                crate::rt::print_empty(ctx, #id)
            },
            SuccessBody::Boolean => {
                // A bare boolean has no table form: said before the call.
                self.parse.push(quote! {
                    crate::rt::no_table(ctx, "a boolean")?;
                });
                quote! {
                    let response = call.send().await?;
                    crate::rt::print(ctx, "", &*response)
                }
            }
            SuccessBody::Schema(schema) | SuccessBody::Array(schema) => quote! {
                let response = call.send().await?;
                crate::rt::print(ctx, #schema, &*response)
            },
        })
    }
}

fn operation_code(raw: &Value, operation: &Operation, action: &str) -> Result<Generated, GenError> {
    let runner = RUNNERS.iter().find(|r| r.operation == operation.id);
    let parameters = parameters(raw, operation);
    let body = operation.request_body.as_deref().map(|schema| (schema, body_fields(raw, schema)));
    let mut parts = Parts::new(operation, runner);
    if operation.paginated {
        parts.take("limit")?;
    }
    if body.is_some() {
        parts.take("body")?;
    }
    parts.parameters(&parameters, body.is_some())?;
    let template_check = match &body {
        Some((schema, fields)) => Some(parts.body(raw, schema, fields, runner)?),
        None => None,
    };
    let send = parts.send(body.as_ref().map(|(schema, _)| *schema), runner)?;
    let Parts { mut parse, build, args, .. } = parts;
    if let Some(check) = template_check {
        parse.insert(0, check);
    }
    let m = if !parse.is_empty() || runner.is_some() { quote!(m) } else { quote!(_m) };
    let call_mut = if build.is_empty() { quote!(call) } else { quote!(mut call) };
    let summary = &operation.summary;
    let description = raw_operation(raw, operation).and_then(|(_, op)| op.get("description")).and_then(Value::as_str);
    let mut command = quote!(::clap::Command::new(#action).about(#summary));
    if let Some(long) = long_help(description) {
        let long = speak_commands(&format!("{summary}.\n\n{long}\n\nSends {} {}.", operation.method, operation.path));
        command = quote!(#command.long_about(#long));
    }
    let args_tokens = args.iter().map(|a| quote!(.arg(#a)));
    let extra = runner.map(|r| {
        let args = path_tokens(r.args);
        quote!(.args(#args()))
    });
    let command = quote!(#command #(#args_tokens)* #extra);
    let (id, method) = (&operation.id, format_ident!("{}", operation.id));
    let function_name = format_ident!("run_{}", operation.id);
    let doc = format!("`xplenty {} {action}`: calls `{id}`.", operation.tag);
    let function = quote! {
        #[doc = #doc]
        async fn #function_name(
            connect: &crate::rt::Connect,
            #m: &::clap::ArgMatches,
            ctx: &crate::rt::Ctx,
        ) -> ::std::result::Result<crate::rt::Outcome, crate::rt::CliError> {
            #(#parse)*
            let client = connect.client()?;
            let #call_mut = client.#method();
            #(#build)*
            #send
        }
    };
    Ok(Generated { command, function, action: action.to_owned(), function_name })
}

/// Generates the `xplenty` command line from the spec's model alone (progenitor does not
/// run): each flag converts into its parameter's setter type, which the client's
/// generation checks against progenitor's builders.
pub fn generate_cli(model: &crate::Model) -> Result<GeneratedCli, GenError> {
    let operations = &model.operations;
    let raw = &model.spec.raw;
    // Resources in the order the spec lists its tags.
    let tags: Vec<(String, Option<String>)> = raw
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((t.get("name")?.as_str()?.to_owned(), t.get("description").and_then(Value::as_str).map(str::to_owned)))
        })
        .collect();
    let untagged: Vec<&str> =
        operations.iter().filter(|o| !tags.iter().any(|(t, _)| *t == o.tag)).map(|o| o.id.as_str()).collect();
    if !untagged.is_empty() {
        return Err(GenError::Extras(format!("cli: operations with a tag the spec does not list: {untagged:?}")));
    }
    let commands = command_names(operations)?;
    let mut pieces = Vec::new();
    let mut all_items: Vec<TokenStream> = Vec::new();
    let mut resource_commands = Vec::new();
    let mut resource_arms = Vec::new();
    for (tag, description) in &tags {
        let ops: Vec<(&Operation, &CliCommand)> =
            operations.iter().zip(&commands).filter(|(o, _)| &o.tag == tag).collect();
        if ops.is_empty() {
            continue;
        }
        let items = resource_items(raw, tag, description.as_deref(), &ops)?;
        pieces.push(CliPiece { name: tag.clone(), code: render(items.clone())? });
        all_items.push(items);
        let snake = tag.to_snake_case();
        let (command_fn, dispatch_fn) = (format_ident!("{snake}_command"), format_ident!("dispatch_{snake}"));
        resource_commands.push(quote!(.subcommand(#command_fn())));
        resource_arms.push(quote!(Some((#tag, m)) => #dispatch_fn(connect, m, ctx).await,));
    }
    let title = raw.pointer("/info/title").and_then(Value::as_str).unwrap_or("Xplenty API");
    let root = root_items(title, &commands, &resource_commands, &resource_arms);
    pieces.insert(0, CliPiece { name: "root".to_owned(), code: render(root.clone())? });
    all_items.insert(0, root);
    let code = format!(
        "// Generated by xplenty-gen (cli) from spec/xplenty.yaml; do not edit.\n{}",
        render(quote!(#(#all_items)*))?
    );
    Ok(GeneratedCli { code, commands, pieces })
}

/// Each operation's command name, in spec order; every clash, reserved name or name
/// that is not a kebab-case word is reported at once.
fn command_names(operations: &[Operation]) -> Result<Vec<CliCommand>, GenError> {
    let mut commands = Vec::new();
    let mut seen: BTreeMap<(String, String), String> =
        RESERVED.iter().map(|(r, a)| (((*r).to_owned(), (*a).to_owned()), "the CLI itself".to_owned())).collect();
    let mut problems = Vec::new();
    for operation in operations {
        let action = action_name(&operation.tag, &operation.id);
        if action == "help" {
            problems.push(format!(
                "{}: `{} help` would shadow clap's help; add an override to ACTION_OVERRIDES",
                operation.id, operation.tag
            ));
        }
        if action.is_empty() || !action.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            problems.push(format!("{}: derived action `{action}` is not a kebab-case word", operation.id));
        }
        if RESERVED_RESOURCES.contains(&operation.tag.as_str()) {
            problems.push(format!("{}: tag `{}` is a command of the CLI itself", operation.id, operation.tag));
        }
        if let Some(other) = seen.insert((operation.tag.clone(), action.clone()), operation.id.clone()) {
            problems.push(format!(
                "{}: `{} {action}` is taken by {other}; add an override to ACTION_OVERRIDES",
                operation.id, operation.tag
            ));
        }
        commands.push(CliCommand { resource: operation.tag.clone(), action, operation: operation.id.clone() });
    }
    for (id, _) in ACTION_OVERRIDES {
        if !operations.iter().any(|o| o.id == *id) {
            problems.push(format!("ACTION_OVERRIDES names `{id}`, which is no operation"));
        }
    }
    for runner in RUNNERS {
        if !operations.iter().any(|o| o.id == runner.operation) {
            problems.push(format!("RUNNERS names `{}`, which is no operation", runner.operation));
        }
    }
    if problems.is_empty() { Ok(commands) } else { Err(GenError::Extras(format!("cli: {}", problems.join("; ")))) }
}

/// `xplenty <tag>`: its command, its dispatch and one function per action.
fn resource_items(
    raw: &Value,
    tag: &str,
    description: Option<&str>,
    ops: &[(&Operation, &CliCommand)],
) -> Result<TokenStream, GenError> {
    let mut subcommands = Vec::new();
    let mut arms = Vec::new();
    let mut functions = Vec::new();
    for (operation, command) in ops {
        let generated = operation_code(raw, operation, &command.action)?;
        subcommands.push(generated.command);
        let (action, function) = (&generated.action, &generated.function_name);
        arms.push(quote!(Some((#action, m)) => ::std::boxed::Box::pin(#function(connect, m, ctx)).await,));
        functions.push(generated.function);
    }
    let snake = tag.to_snake_case();
    let command_fn = format_ident!("{snake}_command");
    let dispatch_fn = format_ident!("dispatch_{snake}");
    let about = description.unwrap_or(tag);
    let (command_doc, dispatch_doc) =
        (format!("`xplenty {tag}`: its actions."), format!("Runs an action of `xplenty {tag}`."));
    Ok(quote! {
        #[doc = #command_doc]
        fn #command_fn() -> ::clap::Command {
            ::clap::Command::new(#tag)
                .about(#about)
                .subcommand_required(true)
                .arg_required_else_help(true)
                #(.subcommand(#subcommands))*
        }
        #[doc = #dispatch_doc]
        async fn #dispatch_fn(
            connect: &crate::rt::Connect,
            matches: &::clap::ArgMatches,
            ctx: &crate::rt::Ctx,
        ) -> ::std::result::Result<crate::rt::Outcome, crate::rt::CliError> {
            match matches.subcommand() {
                #(#arms)*
                other => Err(crate::rt::CliError::unknown(#tag, other.map(|(name, _)| name))),
            }
        }
        #(#functions)*
    })
}

/// The root: `command()`, `dispatch()` and the table of every generated command.
fn root_items(
    title: &str,
    commands: &[CliCommand],
    resource_commands: &[TokenStream],
    resource_arms: &[TokenStream],
) -> TokenStream {
    let about = format!("The command line of the {title}, generated from its OpenAPI description");
    let table_resource = commands.iter().map(|c| c.resource.as_str());
    let table_action = commands.iter().map(|c| c.action.as_str());
    let table_operation = commands.iter().map(|c| c.operation.as_str());
    quote! {
        /// The command tree generated from the spec: `xplenty <resource> <action>`.
        pub fn command() -> ::clap::Command {
            ::clap::Command::new("xplenty")
                .about(#about)
                .subcommand_required(true)
                .arg_required_else_help(true)
                .args(crate::rt::global_args())
                #(#resource_commands)*
        }
        /// Runs the generated command `matches` names.
        pub async fn dispatch(
            connect: &crate::rt::Connect,
            matches: &::clap::ArgMatches,
            ctx: &crate::rt::Ctx,
        ) -> ::std::result::Result<crate::rt::Outcome, crate::rt::CliError> {
            match matches.subcommand() {
                #(#resource_arms)*
                other => Err(crate::rt::CliError::unknown("xplenty", other.map(|(name, _)| name))),
            }
        }
        /// Every generated command: resource, action, operation id.
        pub const COMMANDS: &[(&str, &str, &str)] = &[
            #((#table_resource, #table_action, #table_operation)),*
        ];
    }
}

/// Help text with the library's function names said as the commands that do the same.
fn speak_commands(text: &str) -> String {
    HELP_WORDS.iter().fold(text.to_owned(), |text, (function, command)| {
        text.replace(&format!("`{function}`"), &format!("`{command}`"))
    })
}

/// What the spec says of a body beyond its Rust type: templates, a union's tag, rules.
struct BodyShape {
    /// Union members' tag values (in `oneOf` order) and the tag property.
    union: Option<(String, Vec<String>)>,
    /// (tag value or "", template JSON), the untagged one first.
    templates: Vec<(String, String)>,
    rules: BodyRules,
}

fn body_shape(raw: &Value, schema_name: &str) -> BodyShape {
    let pointer = format!("/components/schemas/{schema_name}");
    let schema = raw.pointer(&pointer).map(|s| resolve(raw, s)).unwrap_or(&Value::Null);
    let mut shape = BodyShape {
        union: None,
        templates: vec![(String::new(), template(raw, schema))],
        rules: BodyRules::of(raw, schema),
    };
    if let Some((tag, members)) = union_members(raw, schema) {
        for (value, member) in &members {
            let mut text = template(raw, member);
            if let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&text) {
                object.insert(tag.to_owned(), Value::String(value.clone()));
                text = serde_json::to_string_pretty(&Value::Object(object)).unwrap_or(text);
            }
            shape.templates.push((value.clone(), text));
        }
        shape.union = Some((tag.to_owned(), members.into_iter().map(|(value, _)| value).collect()));
    }
    shape
}

/// A starting body: the schema's example (checked against the schema by the spec
/// rules), else its properties' examples, as pretty JSON.
fn template(raw: &Value, schema: &Value) -> String {
    let value = schema.get("example").cloned().unwrap_or_else(|| {
        let properties = schema.get("properties").and_then(Value::as_object);
        let object = properties
            .into_iter()
            .flatten()
            .filter(|(_, p)| resolve(raw, p).get("readOnly").and_then(Value::as_bool) != Some(true))
            .filter_map(|(name, p)| {
                let p = resolve(raw, p);
                Some((name.clone(), p.get("example").or_else(|| p.get("default"))?.clone()))
            })
            .collect();
        Value::Object(object)
    });
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".to_owned())
}

fn render(tokens: TokenStream) -> Result<String, GenError> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| GenError::Extras(format!("cli: generated code does not parse: {e}")))?;
    Ok(prettyplease::unparse(&file).replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_runners_name_rust_paths() {
        for runner in super::RUNNERS {
            for path in [runner.parser, runner.args, runner.check, runner.run] {
                assert!(syn::parse_str::<syn::Path>(path).is_ok(), "{}: `{path}`", runner.operation);
            }
        }
    }
}
