//! What the spec says of each operation, one row per operation (written by `build.rs` with
//! `xplenty_gen::examples::operation_table`): what it documents and what its requests and
//! answer are checked against, and what the fake derives from the row on first use. A
//! request looks its row up once and passes it along.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/operations.rs"));

/// One operation's row.
pub(crate) struct OperationSpec {
    pub(crate) id: &'static str,
    pub(crate) documented: Documented,
    pub(crate) validation: Validation,
    /// Set by `shape::kind`: it is derived from the other operations' rows too, so not
    /// in `build.rs`.
    pub(crate) kind: OnceLock<Kind>,
    /// Set by `validate` on the operation's first call: compiling every schema would slow
    /// down the start of every fake.
    pub(crate) validators: OnceLock<Validators>,
}

impl OperationSpec {
    /// A row as `build.rs` writes it, with nothing derived yet.
    const fn new(id: &'static str, documented: Documented, validation: Validation) -> Self {
        OperationSpec { id, documented, validation, kind: OnceLock::new(), validators: OnceLock::new() }
    }
}

/// The row of operation `id`; `None` for an operation the fake's spec does not have.
pub(crate) fn operation_spec(id: &str) -> Option<&'static OperationSpec> {
    OPERATION_SPECS.binary_search_by(|row| row.id.cmp(id)).ok().map(|i| &OPERATION_SPECS[i])
}

/// What the spec documents of one operation.
#[derive(Debug)]
pub(crate) struct Documented {
    pub(crate) status: u16,
    /// The success example as JSON text; empty when there is none.
    pub(crate) example: &'static str,
    /// The success body's component schema (of its items for an array); empty for none.
    pub(crate) schema: &'static str,
    pub(crate) has_body: bool,
    /// Required fields of the request body.
    pub(crate) required: &'static [&'static str],
    /// Property names of `schema`.
    pub(crate) fields: &'static [&'static str],
    /// Path parameter name and example.
    pub(crate) path_examples: &'static [(&'static str, &'static str)],
}

impl Documented {
    pub(crate) fn example(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.example).ok()
    }
}

/// What an operation does. Collection paths are templates relative to the scope's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Create {
        collection: &'static str,
    },
    Get {
        collection: &'static str,
    },
    Update {
        collection: &'static str,
    },
    Delete {
        collection: &'static str,
    },
    List {
        collection: &'static str,
    },
    Search {
        collection: &'static str,
    },
    Watch,
    Unwatch,
    Watchers,
    /// `GET` of a single resource that a `PUT` on the same path with the same schema changes.
    SingletonGet,
    SingletonUpdate,
    /// `POST /x/{id}/clone`: a copy of the item, stored under a new id.
    Clone {
        collection: &'static str,
    },
    /// `POST /x/{id}/run`: runs the item's task now (a schedule starts its jobs).
    Run {
        collection: &'static str,
    },
    /// Answers the documented example (paged when the operation is paginated).
    Example,
}

/// A path or query parameter of an operation.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    /// `path` or `query`.
    pub(crate) location: &'static str,
    pub(crate) required: bool,
    /// An array sent comma-joined in one value (`style: form, explode: false`).
    pub(crate) joined: bool,
    /// JSON Schema as JSON text.
    pub(crate) schema: &'static str,
}

/// What a request body's `x-accepts` declares the service takes besides flat JSON (see
/// `spec/README.md`); empty when the body has no such declaration.
#[derive(Debug)]
pub(crate) struct Accepts {
    /// The resource name the fields may come wrapped in (`{"cluster": {...}}`).
    pub(crate) wrapper: &'static str,
    /// `wrapped`, `form` (urlencoded bracket keys), `query` (fields in a POST's query).
    pub(crate) forms: &'static [&'static str],
    /// A field the service also takes under another name: (other name, field).
    pub(crate) aliases: &'static [(&'static str, &'static str)],
}

impl Accepts {
    pub(crate) fn form(&self, form: &str) -> bool {
        self.forms.contains(&form)
    }
}

/// What the spec says an operation's requests and success answer look like. Schemas are
/// JSON text, empty when there is none; `*_strict` are the schemas as written, without the
/// tolerant widening.
#[derive(Debug)]
pub(crate) struct Validation {
    pub(crate) params: &'static [Param],
    pub(crate) body_required: bool,
    pub(crate) body: &'static str,
    pub(crate) body_strict: &'static str,
    /// The body's required fields and union tag, checked first: a refusal names the field
    /// and its allowed values, as the CLI's does.
    pub(crate) rules: xplenty_api::body_rules::Rules<'static>,
    pub(crate) accepts: Accepts,
    pub(crate) answer: &'static str,
    pub(crate) answer_strict: &'static str,
}

/// A schema compiled, or why it does not compile (a bug of the spec or the converter).
pub(crate) type Compiled = Result<Validator, String>;

/// An operation's schemas, compiled.
pub(crate) struct Validators {
    pub(crate) params: Vec<(&'static Param, Value, Compiled)>,
    pub(crate) body: Option<(Value, Compiled)>,
    /// The body schema as written: what a tolerated spelling is coerced to.
    pub(crate) body_strict: Option<Value>,
    pub(crate) answer: Option<Compiled>,
    pub(crate) answer_strict: Option<Compiled>,
}
