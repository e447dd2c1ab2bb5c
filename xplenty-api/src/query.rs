//! Query encodings the generated code uses beyond progenitor's own.

use std::fmt::Display;

/// The items of a `style: form, explode: false` array parameter as one value:
/// `s3,postgres`.
pub(crate) fn comma_joined<T: Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}
