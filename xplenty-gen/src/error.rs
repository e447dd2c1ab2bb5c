use std::fmt;

use crate::Problem;

/// Why generation failed.
#[derive(Debug)]
pub enum GenError {
    /// The spec file could not be read.
    Read { path: String, source: std::io::Error },
    /// The YAML is not an OpenAPI document; `line` and `column` are 1-based.
    Parse { line: Option<usize>, column: Option<usize>, message: String },
    /// The document breaks the project's spec rules; every problem is listed.
    Spec(Vec<Problem>),
    /// progenitor refused (or panicked on) the document.
    Generator(String),
    /// The extras do not fit what progenitor generated.
    Extras(String),
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Read { path, .. } => write!(f, "cannot read {path}"),
            GenError::Parse { line: Some(line), column, message } => {
                write!(f, "spec is not valid OpenAPI YAML at line {line}")?;
                if let Some(column) = column {
                    write!(f, ", column {column}")?;
                }
                write!(f, ": {message}")
            }
            GenError::Parse { line: None, message, .. } => write!(f, "spec is not valid OpenAPI YAML: {message}"),
            GenError::Spec(problems) => {
                writeln!(f, "spec breaks {} rule(s):", problems.len())?;
                for problem in problems {
                    writeln!(f, "  - {problem}")?;
                }
                Ok(())
            }
            GenError::Generator(message) => write!(f, "progenitor failed: {message}"),
            GenError::Extras(message) => write!(f, "extras do not fit the generated client: {message}"),
        }
    }
}

impl std::error::Error for GenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GenError::Read { source, .. } => Some(source),
            GenError::Parse { .. } | GenError::Spec(_) | GenError::Generator(_) | GenError::Extras(_) => None,
        }
    }
}
