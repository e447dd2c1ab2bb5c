//! Support for the generated open enums: every enumeration of the spec decodes values
//! the server adds later into an `Unknown(String)` variant instead of failing.

use std::fmt;
use std::marker::PhantomData;

/// Deserialises a string into an open enum without an intermediate allocation for
/// known values.
#[doc(hidden)]
pub struct OpenEnumVisitor<T>(PhantomData<fn() -> T>);

impl<T> OpenEnumVisitor<T> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for OpenEnumVisitor<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for OpenEnumVisitor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenEnumVisitor")
    }
}

impl<T> serde::de::Visitor<'_> for OpenEnumVisitor<T>
where
    T: for<'s> From<&'s str> + From<String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<T, E> {
        Ok(T::from(value))
    }
}
