//! The progenitor stage: the project's one settings value, and the run that turns a
//! panic into an error.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use crate::GenError;
use crate::spec::model::Model;

/// The one set of progenitor settings, read from the model: builder interface, no
/// default hooks, the runtime's inner state, and the open enums and unions that
/// replace what typify would emit for them.
pub fn settings(model: &Model) -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        // No default `ClientHooks` impl: the exchange pass cuts the hook calls (and the
        // assertion that they are implemented) and hands the built request to the runtime.
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(quote!(crate::runtime::ClientState))
        .with_map_type("::std::collections::BTreeMap");
    for open_enum in &model.open_enums {
        settings.with_replacement(
            &open_enum.name,
            format!("crate::types::{}", open_enum.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    for union in &model.unions {
        settings.with_replacement(&union.name, format!("crate::types::{}", union.name), std::iter::empty());
    }
    for schema in &model.schemas {
        let name = type_name(schema);
        if name != *schema {
            settings.with_patch(schema, progenitor::TypePatch::default().with_rename(name));
        }
    }
    settings
}

/// Names of the crate root of `xplenty-api`. A schema named like one of them would put two
/// meanings on one word (`types::Error`, the error body, beside `xplenty_api::Error`).
pub const ROOT_NAMES: &[&str] = &["Client", "ClientBuilder", "ConfigError", "Error", "ErrorKind", "ResponseValue"];

/// The one naming rule for generated types: a schema keeps its name, unless it is also a
/// name of the crate root; then it is `<Name>Body` (the `Error` schema is
/// `types::ErrorBody`).
pub fn type_name(schema: &str) -> String {
    if ROOT_NAMES.contains(&schema) { format!("{schema}Body") } else { schema.to_owned() }
}

/// Runs progenitor on the (media-type normalised) document. Returns its tokens and the
/// names of the types it generated.
pub(crate) fn run(
    document: &openapiv3::OpenAPI,
    settings: &progenitor::GenerationSettings,
) -> Result<(TokenStream, BTreeSet<String>), GenError> {
    // progenitor reports some unsupported shapes by panicking; turn that into an error
    // naming the cause instead of a crashed build script.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut generator = progenitor::Generator::new(settings);
        let tokens = generator.generate_tokens(document);
        // The type space also holds built-in types (`Vec<..>`, `DateTime<..>`); keep the
        // named ones progenitor emits into `types`.
        let names: BTreeSet<String> = generator
            .get_type_space()
            .iter_types()
            .map(|t| t.name())
            .filter(|n| {
                n.starts_with(|c: char| c.is_ascii_uppercase())
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .collect();
        tokens.map(|t| (t, names))
    }));
    match outcome {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(e)) => Err(GenError::Generator(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(GenError::Generator(format!("panicked: {message}")))
        }
    }
}
