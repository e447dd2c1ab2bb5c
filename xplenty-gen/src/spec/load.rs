use crate::GenError;

/// A loaded spec: the typed document progenitor reads, and the same document as plain
/// JSON, which the checks walk so every problem can name its JSON pointer.
#[derive(Debug, Clone)]
pub struct Spec {
    pub document: openapiv3::OpenAPI,
    pub raw: serde_json::Value,
}

/// Parses the YAML text; a parse error names the line.
pub fn load(text: &str) -> Result<Spec, GenError> {
    let parse_error = |e: serde_norway::Error| {
        let location = e.location();
        GenError::Parse {
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message: e.to_string(),
        }
    };
    let raw: serde_json::Value = serde_norway::from_str(text).map_err(parse_error)?;
    let document: openapiv3::OpenAPI = serde_norway::from_str(text).map_err(parse_error)?;
    Ok(Spec { document, raw })
}
