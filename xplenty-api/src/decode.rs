//! Decoding helpers the generated types use.

use serde::{Deserialize, Deserializer};

/// Reads `null` as the empty value, for arrays and maps the spec marks optional.
#[doc(hidden)]
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
