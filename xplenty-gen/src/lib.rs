//! The one generation path of xplenty-rs, stage by stage:
//!
//! 1. `spec`: load the YAML, check the project's rules (every problem at once), and
//!    read the [`Model`] every later stage shares ([`describe`] stops here);
//! 2. [`progenitor`]: one settings value, one run;
//! 3. parse progenitor's tokens with syn;
//! 4. `passes`: what progenitor cannot emit, one file per pass;
//! 5. format with prettyplease.
//!
//! [`generate`] runs them all; `build.rs` of `xplenty-api`, `cargo xtask` and the CLI
//! target take its [`Generated`]. The spec-derived test code ([`examples`]) needs the
//! model alone.

mod body_rules;
mod cli;
mod endpoints;
mod error;
pub mod examples;
mod format;
mod json_schema;
mod passes;
pub mod progenitor;
mod spec;
mod split;

use std::time::{Duration, Instant};

pub use cli::{ACTION_OVERRIDES, CliCommand, CliPiece, GeneratedCli, action_name, generate_cli};
pub use endpoints::endpoint_table;
pub use error::GenError;
pub use format::HEADER;
pub use json_schema::to_json_schema;
pub use spec::check::{Problem, check};
pub use spec::load::{Spec, load};
pub use spec::model::{Location, Model, OpenEnum, Operation, Parameter, Scope, SuccessBody, TaggedUnion, operations};
pub use spec::normalise::normalise_media_types;
pub use spec::tolerance::EXTENSION as TOLERANT_EXTENSION;
pub use split::{Piece, PieceKind, SourceFile, compiled_from_pieces};

/// What one run of the generator produced.
pub struct Generated {
    /// The formatted files of the client, as `build.rs` writes them: `xplenty.rs`, the
    /// frame, which `include!`s one file per operation and per type. Separate files keep
    /// an edit's span changes inside its own file, so incremental compilation reuses the
    /// rest.
    pub files: Vec<SourceFile>,
    /// The model of the spec it was generated from.
    pub model: Model,
    /// Names of every type in the generated `types` module.
    pub type_names: std::collections::BTreeSet<String>,
    /// How long each stage took.
    pub timings: Timings,
    file: syn::File,
}

impl Generated {
    /// The operations of the spec, in spec order.
    pub fn operations(&self) -> &[Operation] {
        &self.model.operations
    }

    /// The generated code cut into reviewable pieces: one per operation, one per type,
    /// and one for the client frame. Each piece is formatted on its own.
    pub fn pieces(&self) -> Vec<Piece> {
        split::pieces(&self.file)
    }

    /// The whole client as one formatted file.
    pub fn code(&self) -> String {
        format::file(&self.file)
    }
}

/// Wall time of each stage of [`generate`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub load: Duration,
    pub check: Duration,
    pub model: Duration,
    pub progenitor: Duration,
    pub parse: Duration,
    pub passes: Duration,
    pub format: Duration,
}

impl Timings {
    pub fn total(&self) -> Duration {
        self.load + self.check + self.model + self.progenitor + self.parse + self.passes + self.format
    }
}

/// Reads and generates the spec at `path`.
pub fn generate_file(path: &std::path::Path) -> Result<Generated, GenError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| GenError::Read { path: path.display().to_string(), source })?;
    generate(&text)
}

/// For a package's `build.rs`: the spec the package builds from is `copy`, a copy that
/// `cargo xtask regen` writes of the workspace's `spec/xplenty.yaml`. Inside the
/// workspace, a copy that differs (the maintainer edited the spec and has not run regen
/// yet) would silently build the old spec, so this prints a cargo warning saying so. A
/// published package has no workspace spec beside it, and nothing is said.
pub fn warn_if_spec_copy_is_stale(copy: &std::path::Path) {
    let Some(workspace_spec) =
        copy.parent().and_then(|spec_dir| spec_dir.parent()).and_then(|package| package.parent())
    else {
        return;
    };
    let workspace_spec = workspace_spec.join("spec/xplenty.yaml");
    let Ok(source) = std::fs::read(&workspace_spec) else { return };
    println!("cargo::rerun-if-changed={}", workspace_spec.display());
    if std::fs::read(copy).ok() != Some(source) {
        println!(
            "cargo::warning={} differs from {}: this build uses the old copy; run `cargo xtask regen`",
            copy.display(),
            workspace_spec.display()
        );
    }
}

/// Runs `stage`, adding its wall time to `slot`.
fn timed<T>(slot: &mut Duration, stage: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = stage();
    *slot += started.elapsed();
    out
}

/// The spec stage alone: load, check, model. What the test emitters and the fake's
/// build need, without running progenitor.
pub fn describe(text: &str) -> Result<Model, GenError> {
    describe_timed(text, &mut Timings::default())
}

fn describe_timed(text: &str, timings: &mut Timings) -> Result<Model, GenError> {
    let spec = timed(&mut timings.load, || load(text))?;
    let problems = timed(&mut timings.check, || check(&spec));
    if !problems.is_empty() {
        return Err(GenError::Spec(problems));
    }
    Ok(timed(&mut timings.model, || Model::new(spec)))
}

/// Generates the client from the text of an OpenAPI 3.0.3 YAML document.
///
/// Same input, byte-identical output: nothing here depends on time, hashing order or
/// the environment.
pub fn generate(text: &str) -> Result<Generated, GenError> {
    let mut timings = Timings::default();
    let model = describe_timed(text, &mut timings)?;
    let (tokens, mut type_names) = timed(&mut timings.progenitor, || {
        let mut document = model.spec.document.clone();
        normalise_media_types(&mut document);
        progenitor::run(&document, &progenitor::settings(&model))
    })?;
    let mut file: syn::File = timed(&mut timings.parse, || syn::parse2(tokens))
        .map_err(|e| GenError::Generator(format!("progenitor emitted code syn cannot parse: {e}")))?;
    timed(&mut timings.passes, || passes::apply(&mut file, &model, &mut type_names))?;
    let files = timed(&mut timings.format, || split::source_files(&file));
    Ok(Generated { files, model, type_names, timings, file })
}
