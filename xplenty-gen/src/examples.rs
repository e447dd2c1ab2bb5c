//! The spec's examples as Rust, for the code the build scripts of `xplenty-tests` and
//! `xplenty-fake` include: one call per operation with every parameter and the body set
//! to the spec's examples ([`example_calls`]), the wire tests and the fake's
//! `call_documented` made of those calls, the table of decoders, and the fake's table of
//! what the spec documents and validates of each operation. Everything is built with
//! `quote!` and printed by prettyplease, so the emitted code is Rust by construction.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::model::resolve;
use crate::{GenError, Location, Operation, Problem, Scope, SuccessBody};

/// The account of the wire tests' client (`support::client` in `tests/tests/operations.rs`).
const ACCOUNT: &str = "acme-analytics";

/// One operation called with the spec's examples, and what goes over the wire.
#[derive(Debug, Clone)]
pub struct ExampleCall {
    /// The operation id, which is also the client method.
    pub id: String,
    /// The builder chain after `client.<id>()`: one `.<setter>(<example>)` per parameter
    /// with a usable example, then `.body(..)`. Conversions that can fail (date-times,
    /// the body) end in `.map_err(|e| e.to_string())?`, so the chain belongs in a function
    /// returning `Result<_, String>`.
    pub setters: TokenStream,
    /// Upper case, as on the wire.
    pub method: String,
    /// The path the server sees: the account prefix for account operations, then the path
    /// with its parameters' examples substituted.
    pub path: String,
    /// The query parameters set, as (name, example as text).
    pub query: Vec<(String, String)>,
    /// The request body example as JSON text.
    pub body: Option<String>,
    /// The documented success status.
    pub status: u16,
    /// The success example as JSON text, when the operation answers with a body.
    pub response: Option<String>,
}

/// One [`ExampleCall`] per operation, in the order of `operations`. A required parameter
/// without an example that can be written as Rust is an error naming the operation; every
/// such problem is reported at once.
pub fn example_calls(raw: &Value, operations: &[Operation]) -> Result<Vec<ExampleCall>, GenError> {
    let mut calls = Vec::new();
    let mut problems = Vec::new();
    for op in operations {
        match example_call(raw, op) {
            Ok(call) => calls.push(call),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() { Ok(calls) } else { Err(GenError::Spec(problems)) }
}

fn example_call(root: &Value, op: &Operation) -> Result<ExampleCall, Problem> {
    let method = op.method.to_lowercase();
    let pointer = format!("#/paths/{}/{method}", op.path.replace('~', "~0").replace('/', "~1"));
    let problem = |pointer: String, message: String| Problem {
        operation: Some(format!("{} ({} {})", op.id, op.method, op.path)),
        pointer,
        message,
    };
    if ident(&op.id).is_none() {
        return Err(problem(pointer, format!("operationId `{}` is not a Rust identifier", op.id)));
    }
    let raw = &root["paths"][&op.path][&method];
    let mut setters = TokenStream::new();
    let mut path = op.path.clone();
    let mut query = Vec::new();
    for parameter in &op.parameters {
        let name = parameter.name.as_str();
        let example = &parameter.raw["example"];
        let Some(value) = literal(root, &parameter.raw["schema"], example) else {
            if parameter.required {
                let message = format!("cannot write a Rust value for required parameter `{name}` from its example");
                return Err(problem(parameter.pointer.clone(), message));
            }
            continue;
        };
        // The model's setter, which generation checked against progenitor's builder.
        let Some(setter) = ident(&parameter.setter) else {
            let message = format!("parameter `{name}` has no builder setter");
            return Err(problem(parameter.pointer.clone(), message));
        };
        setters.extend(quote!(.#setter(#value)));
        match parameter.location {
            Location::Path => path = path.replace(&format!("{{{name}}}"), &plain(example)),
            Location::Query => query.push((name.to_owned(), plain(example))),
        }
    }
    let body = raw.pointer("/requestBody/content/application~1json/example").map(Value::to_string);
    if let (Some(text), Some(schema)) = (&body, &op.request_body) {
        let Some(schema) = type_ident(schema) else {
            return Err(problem(
                format!("{pointer}/requestBody"),
                format!("schema `{schema}` is not a Rust type name"),
            ));
        };
        setters.extend(quote! {
            .body(serde_json::from_str::<xplenty_api::types::#schema>(#text).map_err(|e| e.to_string())?)
        });
    }
    let prefix = match op.scope {
        Scope::Account => format!("/{ACCOUNT}/api"),
        Scope::Global => String::new(),
    };
    let response = match op.success {
        // An empty answer is answered empty, whatever the spec shows.
        SuccessBody::Empty => None,
        _ => success_example(root, raw, op.status).map(Value::to_string),
    };
    Ok(ExampleCall {
        id: op.id.clone(),
        setters,
        method: op.method.clone(),
        path: format!("{prefix}{path}"),
        query,
        body,
        status: op.status,
        response,
    })
}

/// One `#[tokio::test]` per call: a test server answers with the response example, and
/// the test asserts the status, the method, full path, query and body the server
/// received, and that the decoded answer holds what the example holds. The tests return
/// `Result<(), String>` so the setters' conversions can use `?`.
pub fn wire_tests(calls: &[ExampleCall]) -> String {
    let tests = calls.iter().map(|call| {
        let id = format_ident!("{}", call.id);
        let name = &call.id;
        let setters = &call.setters;
        let status = Literal::u16_unsuffixed(call.status);
        let reply = match &call.response {
            Some(text) => quote!(Reply::json(#status, serde_json::from_str(#text).unwrap())),
            None => quote!(Reply::Answer { status: #status, headers: Vec::new(), body: Vec::new() }),
        };
        let check = call.response.as_ref().map(
            |text| quote!(support::assert_decoded(#name, serde_json::to_value(response.into_inner()).unwrap(), #text);),
        );
        let (method, path) = (&call.method, &call.path);
        let query = call.query.iter().map(|(k, v)| quote!((#k, #v)));
        let body = match &call.body {
            Some(text) => quote!(Some(#text)),
            None => quote!(None),
        };
        quote! {
            #[tokio::test]
            async fn #id() -> Result<(), String> {
                let server = TestServer::start().await;
                server.push(#reply);
                let client = support::client(&server);
                let response = client.#id() #setters .send().await.expect(#name);
                assert_eq!(response.status(), #status);
                support::assert_request(&server.single_request(), #method, #path, &[#(#query),*], #body);
                #check
                Ok(())
            }
        }
    });
    unparse(quote!(#(#tests)*))
}

/// The fake's `call_documented(client, id)`: calls the operation with its examples and
/// answers its status, or why it failed.
pub fn documented_calls(calls: &[ExampleCall]) -> String {
    let arms = calls.iter().map(|call| {
        let id = format_ident!("{}", call.id);
        let (name, setters) = (&call.id, &call.setters);
        quote!(#name => client.#id() #setters .send().await.map_err(|e| e.to_string())?.status().as_u16(),)
    });
    unparse(quote! {
        /// Calls operation `id` with the spec's example parameters and body: its status, or
        /// why it failed.
        pub async fn call_documented(client: &xplenty_api::Client, id: &str) -> Result<u16, String> {
            Ok(match id {
                #(#arms)*
                other => return Err(format!("no call generated for {other}")),
            })
        }
    })
}

/// `decode_into(name, json)`, which decodes JSON into the generated type of that name.
/// Names that are not Rust identifiers get no arm (the lookup answers `None`).
pub fn decoders(type_names: &[String]) -> String {
    let arms = type_names
        .iter()
        .filter_map(|name| Some((name, type_ident(name)?)))
        .map(|(name, ty)| quote!(#name => serde_json::from_value::<xplenty_api::types::#ty>(value).map(drop),));
    unparse(quote! {
        /// Decodes JSON into the generated type named `name`; `None` if there is no such type.
        pub fn decode_into(name: &str, value: serde_json::Value) -> Option<Result<(), serde_json::Error>> {
            Some(match name {
                #(#arms)*
                _ => return None,
            })
        }
    })
}

/// The vendor extension on a request body that declares the forms the service accepts
/// besides flat JSON (see `spec/README.md`): `wrapper` (the resource name Rails wraps the
/// fields in), `forms` (`wrapped`, `form`, `query`) and `aliases` (a field the service
/// also takes under another name). The client ignores it; the fake and the example
/// checks read it.
pub const ACCEPTS_EXTENSION: &str = "x-accepts";

/// The fake's `OPERATION_SPECS`, one row per operation in the order given (the fake looks
/// rows up by binary search, so give them sorted by id): the operation's id, what the spec
/// documents of it and what its requests and answer are checked against.
pub fn operation_table(root: &Value, operations: &[Operation]) -> String {
    let rows = operations.iter().map(|op| {
        let (id, documented, validation) = (&op.id, documented_row(root, op), validation_row(root, op));
        quote!(OperationSpec::new(#id, #documented, #validation),)
    });
    let count = operations.len();
    unparse(quote! {
        /// What the spec says of each operation, sorted by id.
        pub(crate) static OPERATION_SPECS: [OperationSpec; #count] = [#(#rows)*];
    })
}

/// What the spec documents of one operation, as the fake's `Documented`: the success
/// status, example, schema and its fields, the request body's required fields and the path
/// parameters' examples.
fn documented_row(root: &Value, op: &Operation) -> TokenStream {
    let raw = &root["paths"][&op.path][op.method.to_lowercase()];
    let example = success_example(root, raw, op.status).map(Value::to_string).unwrap_or_default();
    let (schema, has_body) = match &op.success {
        SuccessBody::Empty => (String::new(), false),
        SuccessBody::Boolean => (String::new(), true),
        SuccessBody::Schema(name) | SuccessBody::Array(name) => (name.clone(), true),
    };
    let names = |pointer: &str| -> Vec<String> {
        match root.pointer(pointer) {
            Some(Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    };
    let required =
        op.request_body.as_ref().map(|body| names(&format!("/components/schemas/{body}/required"))).unwrap_or_default();
    // A union's fields are those of its members (a connection of any type).
    let mut fields = names(&format!("/components/schemas/{schema}/properties"));
    let members = root.pointer(&format!("/components/schemas/{schema}/oneOf")).and_then(Value::as_array);
    for member in members.into_iter().flatten().filter_map(|m| m["$ref"].as_str()) {
        fields.extend(names(&format!("{}/properties", member.trim_start_matches('#'))));
    }
    fields.sort();
    fields.dedup();
    let path_examples = op
        .parameters
        .iter()
        .filter(|p| p.location == Location::Path)
        .filter_map(|p| Some((p.name.as_str(), plain(p.raw.get("example")?))))
        .map(|(name, example)| quote!((#name, #example)));
    let status = Literal::u16_unsuffixed(op.status);
    quote! {
        Documented {
            status: #status,
            example: #example,
            schema: #schema,
            has_body: #has_body,
            required: &[#(#required),*],
            fields: &[#(#fields),*],
            path_examples: &[#(#path_examples),*],
        }
    }
}

/// What the spec says one operation's requests and success answer look like, as the
/// fake's `Validation`: the JSON Schemas (by [`crate::to_json_schema`], the code the spec's
/// own tests use) of its path and query parameters, its request body and its success
/// answer, as JSON text, each also as the spec writes it (without the tolerant widening),
/// the rules its body is refused by in words (`xplenty_api::body_rules`), and what the
/// request body's [`ACCEPTS_EXTENSION`] declares.
fn validation_row(root: &Value, op: &Operation) -> TokenStream {
    let raw = &root["paths"][&op.path][op.method.to_lowercase()];
    let entries = op.parameters.iter().map(|p| {
        let schema = crate::to_json_schema(root, p.raw.get("schema").unwrap_or(&Value::Null)).to_string();
        let location = match p.location {
            Location::Path => "path",
            Location::Query => "query",
        };
        let (name, required, joined) = (&p.name, p.required, p.comma_joined);
        quote!(Param { name: #name, location: #location, required: #required, joined: #joined, schema: #schema },)
    });
    let body = raw.get("requestBody").map(|b| resolve(root, b));
    let body_schema = body
        .and_then(|b| b.pointer("/content/application~1json/schema"))
        .map(|s| crate::to_json_schema(root, s).to_string())
        .unwrap_or_default();
    let body_strict = body
        .and_then(|b| b.pointer("/content/application~1json/schema"))
        .map(|s| crate::json_schema::to_strict_json_schema(root, s).to_string())
        .unwrap_or_default();
    let body_required = body.is_some_and(|b| b["required"] == Value::Bool(true));
    let rules = body
        .and_then(|b| b.pointer("/content/application~1json/schema"))
        .map(|s| crate::body_rules::BodyRules::of(root, s))
        .unwrap_or_default()
        .tokens(&quote!(::xplenty_api::body_rules), |_| false);
    let accepts = body.and_then(|b| b.get(ACCEPTS_EXTENSION));
    let wrapper = accepts.and_then(|a| a["wrapper"].as_str()).unwrap_or_default();
    let forms: Vec<&str> =
        accepts.and_then(|a| a["forms"].as_array()).into_iter().flatten().filter_map(Value::as_str).collect();
    let aliases = accepts
        .and_then(|a| a["aliases"].as_object())
        .into_iter()
        .flatten()
        .filter_map(|(from, to)| Some((from.as_str(), to.as_str()?)))
        .map(|(from, to)| quote!((#from, #to)));
    let answer_schema = raw
        .pointer(&format!("/responses/{}", op.status))
        .map(|r| resolve(root, r))
        .and_then(|r| r.pointer("/content/application~1vnd.xplenty+json/schema"));
    let answer = answer_schema.map(|s| crate::to_json_schema(root, s).to_string()).unwrap_or_default();
    let answer_strict =
        answer_schema.map(|s| crate::json_schema::to_strict_json_schema(root, s).to_string()).unwrap_or_default();
    quote! {
        Validation {
            params: &[#(#entries)*],
            body_required: #body_required,
            body: #body_schema,
            body_strict: #body_strict,
            rules: #rules,
            accepts: Accepts { wrapper: #wrapper, forms: &[#(#forms),*], aliases: &[#(#aliases),*] },
            answer: #answer,
            answer_strict: #answer_strict,
        }
    }
}

/// Code that fails to compile with `error`: what a build script writes in place of code it
/// cannot emit, so only the target that includes it fails, with the reason.
pub fn compile_error(error: &impl std::fmt::Display) -> String {
    let message = error.to_string();
    unparse(quote!(compile_error!(#message);))
}

/// The example of the success answer with `status`.
fn success_example<'a>(root: &'a Value, operation: &'a Value, status: u16) -> Option<&'a Value> {
    let response = resolve(root, operation.pointer(&format!("/responses/{status}"))?);
    response.pointer("/content/application~1vnd.xplenty+json/example")
}

/// A Rust expression of the parameter's type for a builder setter, from its example;
/// `None` when the example does not fit the schema or the type has no literal.
pub(crate) fn literal(root: &Value, schema: &Value, example: &Value) -> Option<TokenStream> {
    // progenitor turns a referenced enum into a type that a string converts into.
    let is_enum = schema.get("$ref").is_some() && resolve(root, schema).get("enum").is_some();
    let schema = resolve(root, schema);
    Some(match (schema.get("type").and_then(Value::as_str), example) {
        (_, Value::String(s)) if is_enum => quote!(#s),
        (Some("integer"), Value::Number(n))
            if schema.get("minimum").and_then(Value::as_i64).is_some_and(|m| m >= 0) =>
        {
            let n = Literal::u64_suffixed(n.as_u64()?);
            quote!(#n)
        }
        (Some("integer"), Value::Number(n)) => {
            let n = n.as_i64()?;
            // A negative literal is a minus and a literal, as the Rust grammar has it.
            let magnitude = Literal::i64_suffixed(n.checked_abs()?);
            if n < 0 { quote!(-#magnitude) } else { quote!(#magnitude) }
        }
        (Some("number"), Value::Number(n)) => {
            let n = n.as_f64()?;
            let magnitude = Literal::f64_suffixed(n.abs());
            if n < 0.0 { quote!(-#magnitude) } else { quote!(#magnitude) }
        }
        (Some("boolean"), Value::Bool(b)) => quote!(#b),
        (Some("string"), Value::String(s)) if schema.get("format").and_then(Value::as_str) == Some("date-time") => {
            quote!(#s.parse::<chrono::DateTime<chrono::Utc>>().map_err(|e| e.to_string())?)
        }
        (Some("string"), Value::String(s)) => quote!(#s),
        _ => return None,
    })
}

/// The example as it appears in a URL: a string as is, anything else as JSON text.
fn plain(example: &Value) -> String {
    match example {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `name` as an identifier, if it is one (keywords are not).
fn ident(name: &str) -> Option<syn::Ident> {
    syn::parse_str(name).ok()
}

/// The generated type of a schema (see [`crate::progenitor::type_name`]).
fn type_ident(schema: &str) -> Option<syn::Ident> {
    ident(&crate::progenitor::type_name(schema))
}

fn unparse(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the emitted tokens are Rust");
    prettyplease::unparse(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = include_str!("../tests/fixtures/tiny.yaml");

    fn tiny() -> (Value, Vec<Operation>) {
        let spec = crate::load(TINY).unwrap();
        let operations = crate::operations(&spec);
        (spec.raw, operations)
    }

    fn call<'a>(calls: &'a [ExampleCall], id: &str) -> &'a ExampleCall {
        calls.iter().find(|c| c.id == id).unwrap()
    }

    /// The model's operations of a changed spec: each parameter carries its declaration.
    fn operations_of(raw: &Value) -> Vec<Operation> {
        let document = serde_json::from_value(raw.clone()).unwrap();
        crate::operations(&crate::Spec { document, raw: raw.clone() })
    }

    #[test]
    fn a_path_example_is_substituted_under_the_account() {
        let (raw, operations) = tiny();
        let calls = example_calls(&raw, &operations).unwrap();
        let unwatch = call(&calls, "unwatch_cluster");
        assert_eq!(unwatch.path, "/acme-analytics/api/clusters/7/watchers");
        assert_eq!(unwatch.setters.to_string(), quote!(.cluster_id(7u64)).to_string());
        assert!(unwatch.query.is_empty());
        assert_eq!((unwatch.method.as_str(), unwatch.status, &unwatch.response), ("DELETE", 204, &None));
    }

    #[test]
    fn a_global_operation_has_no_account_prefix() {
        let (raw, operations) = tiny();
        let calls = example_calls(&raw, &operations).unwrap();
        let user = call(&calls, "get_user");
        assert_eq!(user.path, "/user");
        assert_eq!(user.response.as_deref(), Some(r#"{"id":3}"#));
    }

    #[test]
    fn query_examples_and_the_body_are_set() {
        let (raw, operations) = tiny();
        let calls = example_calls(&raw, &operations).unwrap();
        let list = call(&calls, "list_clusters");
        let query: Vec<(&str, &str)> = list.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(query, [("offset", "0"), ("limit", "20"), ("status", "available")]);
        let setters = quote!(.offset(0u64).limit(20u64).status("available"));
        assert_eq!(list.setters.to_string(), setters.to_string());
        let create = call(&calls, "create_cluster");
        assert_eq!(create.body.as_deref(), Some(r#"{"nodes":2}"#));
        assert!(create.setters.to_string().contains("xplenty_api :: types :: ClusterCreate"));
    }

    #[test]
    fn a_type_parameter_is_set_with_type_() {
        let (mut raw, _) = tiny();
        let parameters = raw.pointer_mut("/paths/~1clusters/get/parameters").unwrap().as_array_mut().unwrap();
        parameters.push(serde_json::json!({
            "name": "type", "in": "query", "schema": {"type": "string"}, "example": "production"
        }));
        let operations = operations_of(&raw);
        let calls = example_calls(&raw, &operations).unwrap();
        let list = call(&calls, "list_clusters");
        assert!(list.setters.to_string().ends_with(&quote!(.type_("production")).to_string()));
        assert_eq!(list.query.last().unwrap(), &("type".to_owned(), "production".to_owned()));
    }

    #[test]
    fn setter_names_follow_progenitor() {
        use crate::spec::model::setter_name;
        assert_eq!(setter_name("type"), "type_");
        assert_eq!(setter_name("include-deleted"), "include_deleted");
        assert_eq!(setter_name("cluster_id"), "cluster_id");
    }

    #[test]
    fn a_required_parameter_without_example_names_its_operation() {
        let (mut raw, _) = tiny();
        let parameter = raw.pointer_mut("/paths/~1clusters~1{cluster_id}~1watchers/delete/parameters/0").unwrap();
        parameter.as_object_mut().unwrap().remove("example");
        let error = example_calls(&raw, &operations_of(&raw)).unwrap_err().to_string();
        assert!(error.contains("unwatch_cluster"), "{error}");
        assert!(error.contains("`cluster_id`"), "{error}");
    }

    #[test]
    fn an_optional_parameter_without_example_is_left_out() {
        let (mut raw, _) = tiny();
        raw["components"]["parameters"]["Limit"].as_object_mut().unwrap().remove("example");
        let calls = example_calls(&raw, &operations_of(&raw)).unwrap();
        assert!(!call(&calls, "list_clusters").query.iter().any(|(k, _)| k == "limit"));
    }

    #[test]
    fn literals_have_the_parameter_type() {
        let (raw, _) = tiny();
        let literal = |schema: Value, example: Value| literal(&raw, &schema, &example).map(|t| t.to_string());
        let datetime = serde_json::json!({"type": "string", "format": "date-time"});
        let parsed = literal(datetime, "2024-05-02T01:00:00Z".into()).unwrap();
        assert!(parsed.contains("chrono :: DateTime < chrono :: Utc >"), "{parsed}");
        assert_eq!(literal(serde_json::json!({"type": "integer"}), (-3).into()).unwrap(), "- 3i64");
        assert_eq!(literal(serde_json::json!({"type": "boolean"}), true.into()).unwrap(), "true");
        assert_eq!(literal(serde_json::json!({"type": "integer", "minimum": 0}), "x".into()), None);
    }

    #[test]
    fn every_emitter_writes_rust() {
        let (raw, operations) = tiny();
        let calls = example_calls(&raw, &operations).unwrap();
        let names: Vec<String> = raw["components"]["schemas"].as_object().unwrap().keys().cloned().collect();
        for (what, code) in [
            ("wire_tests", wire_tests(&calls)),
            ("documented_calls", documented_calls(&calls)),
            ("decoders", decoders(&names)),
            ("operation_table", operation_table(&raw, &operations)),
            ("compile_error", compile_error(&"no")),
        ] {
            syn::parse_file(&code).unwrap_or_else(|e| panic!("{what} is not Rust: {e}\n{code}"));
        }
        let tests = wire_tests(&calls);
        assert_eq!(tests.matches("#[tokio::test]").count(), operations.len());
        assert!(tests.contains(r#""/acme-analytics/api/clusters/7/watchers""#), "{tests}");
    }

    #[test]
    fn the_table_has_one_row_per_operation() {
        let (raw, operations) = tiny();
        let table = operation_table(&raw, &operations);
        for row in ["OperationSpec::new(", "Documented {", "Validation {"] {
            assert_eq!(table.matches(row).count(), operations.len(), "{row}");
        }
        assert!(table.contains(r#"name: "offset""#), "{table}");
    }
}
