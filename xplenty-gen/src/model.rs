use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

/// Where an operation lives: under the account (`/{account_id}/api/...`) or directly
/// under the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Global,
}

/// The shape of an operation's success body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuccessBody {
    /// No body (`204`, or a `200` documented as empty).
    Empty,
    /// One component schema.
    Schema(String),
    /// An array of one component schema.
    Array(String),
    /// A bare JSON boolean.
    Boolean,
}

/// One operation of the spec, as the extras, the endpoint table and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: String,
    /// Upper case, as on the wire.
    pub method: String,
    /// The path template, relative to the scope's base.
    pub path: String,
    pub scope: Scope,
    pub tag: String,
    pub summary: String,
    pub status: u16,
    pub success: SuccessBody,
    /// The request body's component schema, if any.
    pub request_body: Option<String>,
    /// Takes `offset` and `limit` and answers an array: the client streams its pages.
    pub paginated: bool,
}

impl Operation {
    /// The builder type progenitor emits for this operation (`list_clusters` ->
    /// `ListClusters`).
    pub fn builder_name(&self) -> String {
        heck::ToUpperCamelCase::to_upper_camel_case(self.id.as_str())
    }
}

pub(crate) const GLOBAL_SERVER: &str = "https://api.xplenty.com";

/// The operations of a checked document, in document order.
pub fn operations(document: &OpenAPI) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in &document.paths.paths {
        let ReferenceOr::Item(item) = item else { continue };
        let scope = if item.servers.iter().any(|s| s.url == GLOBAL_SERVER) { Scope::Global } else { Scope::Account };
        for (method, op) in item.iter() {
            let (status, success) = success(document, op);
            let query: Vec<String> = op
                .parameters
                .iter()
                .chain(item.parameters.iter())
                .filter_map(|p| resolve_parameter(document, p))
                .filter(|p| matches!(p, openapiv3::Parameter::Query { .. }))
                .map(|p| p.parameter_data_ref().name.clone())
                .collect();
            let paginated = matches!(success, SuccessBody::Array(_))
                && query.iter().any(|q| q == "offset")
                && query.iter().any(|q| q == "limit");
            out.push(Operation {
                id: op.operation_id.clone().unwrap_or_default(),
                method: method.to_uppercase(),
                path: path.clone(),
                scope,
                tag: op.tags.first().cloned().unwrap_or_default(),
                summary: op.summary.clone().unwrap_or_default(),
                status,
                success,
                request_body: op.request_body.as_ref().and_then(|b| body_schema(document, b)),
                paginated,
            });
        }
    }
    out
}

fn resolve_parameter<'a>(
    document: &'a OpenAPI,
    parameter: &'a ReferenceOr<openapiv3::Parameter>,
) -> Option<&'a openapiv3::Parameter> {
    match parameter {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            match document.components.as_ref()?.parameters.get(name)? {
                ReferenceOr::Item(p) => Some(p),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

fn body_schema(document: &OpenAPI, body: &ReferenceOr<openapiv3::RequestBody>) -> Option<String> {
    let body = match body {
        ReferenceOr::Item(b) => b,
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/requestBodies/")?;
            document.components.as_ref()?.request_bodies.get(name)?.as_item()?
        }
    };
    let media = body.content.values().next()?;
    ref_name(media.schema.as_ref()?)
}

fn success(document: &OpenAPI, op: &openapiv3::Operation) -> (u16, SuccessBody) {
    for (code, response) in &op.responses.responses {
        let openapiv3::StatusCode::Code(code) = code else { continue };
        if !(200..300).contains(code) {
            continue;
        }
        let response = match response {
            ReferenceOr::Item(r) => Some(r),
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/responses/")
                .and_then(|n| document.components.as_ref()?.responses.get(n)?.as_item()),
        };
        let Some(schema) = response.and_then(|r| r.content.values().next()).and_then(|m| m.schema.as_ref()) else {
            return (*code, SuccessBody::Empty);
        };
        let body = if let Some(name) = ref_name(schema) {
            SuccessBody::Schema(name)
        } else if let ReferenceOr::Item(Schema { schema_kind: SchemaKind::Type(t), .. }) = schema {
            match t {
                Type::Array(a) => match a.items.as_ref().map(|i| i.clone().unbox()) {
                    Some(items) => ref_name(&items).map(SuccessBody::Array).unwrap_or(SuccessBody::Empty),
                    None => SuccessBody::Empty,
                },
                Type::Boolean(_) => SuccessBody::Boolean,
                _ => SuccessBody::Empty,
            }
        } else {
            SuccessBody::Empty
        };
        return (*code, body);
    }
    (0, SuccessBody::Empty)
}

fn ref_name(schema: &ReferenceOr<Schema>) -> Option<String> {
    match schema {
        ReferenceOr::Reference { reference } => reference.strip_prefix("#/components/schemas/").map(str::to_owned),
        ReferenceOr::Item(_) => None,
    }
}
