//! Decoding helpers the generated types use.
//!
//! The spec marks the schemas whose answers the service spells loosely with
//! `x-tolerant: true` (see `spec/README.md`); the generator puts
//! `deserialize_with = "crate::decode::tolerant"` on their scalar fields. Only decoding
//! is tolerant: what the client sends is serialised as declared.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Reads `null` as the empty value, for arrays and maps the spec marks optional.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a field of a tolerant schema, accepting the wire's other spellings of its type
/// whenever the conversion loses nothing: numeric text for integers and numbers, a
/// number or boolean for text (kept as its JSON text), `0`/`1` and their text for
/// booleans; `null` for an array or map is empty.
pub(crate) fn tolerant<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Tolerant<'de>,
{
    T::deserialize_tolerant(deserializer)
}

/// A type with a tolerant reading; implemented for the scalars the generator emits and
/// for `Option`, `Vec` and string-keyed maps of them.
pub(crate) trait Tolerant<'de>: Sized {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// Deserialises `T` tolerantly where serde wants a `Deserialize` (elements, values).
struct Loose<T>(T);

impl<'de, T: Tolerant<'de>> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize_tolerant(deserializer).map(Loose)
    }
}

macro_rules! integer {
    ($ty:ty, $what:literal) => {
        impl<'de> Tolerant<'de> for $ty {
            fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!($what, " or its decimal text"))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        <$ty>::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        <$ty>::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        // 3.0 is 3; 3.5 or 1e300 would lose something.
                        let whole = v.fract() == 0.0 && v >= <$ty>::MIN as f64 && v < <$ty>::MAX as f64;
                        if whole { Ok(v as $ty) } else { Err(E::invalid_value(de::Unexpected::Float(v), &self)) }
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

integer!(u64, "an unsigned integer");
integer!(i64, "an integer");

/// An integer with `minimum: 1`: an unsigned one that is not zero.
impl<'de> Tolerant<'de> for std::num::NonZeroU64 {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u64::deserialize_tolerant(deserializer)?;
        std::num::NonZeroU64::new(value)
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Unsigned(0), &"an integer of at least 1"))
    }
}

impl<'de> Tolerant<'de> for f64 {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or its decimal text")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Tolerant<'de> for bool {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean, 0 or 1")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
                match v {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
                match v {
                    "true" | "t" | "1" => Ok(true),
                    "false" | "f" | "0" => Ok(false),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Tolerant<'de> for String {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text, a number or a boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
                Ok(v)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
                // The number's JSON text (`2.5`, `32.0`), not a rounding of it.
                Ok(serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de, T: Tolerant<'de>> Tolerant<'de> for Option<T> {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<Loose<T>>::deserialize(deserializer)?.map(|Loose(v)| v))
    }
}

impl<'de, T: Tolerant<'de>> Tolerant<'de> for Vec<T> {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Tolerant<'de>> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
                Ok(Vec::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
                deserializer.deserialize_seq(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(Loose(item)) = seq.next_element::<Loose<T>>()? {
                    out.push(item);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_option(V(PhantomData))
    }
}

impl<'de, T: Tolerant<'de>> Tolerant<'de> for BTreeMap<String, T> {
    fn deserialize_tolerant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Tolerant<'de>> Visitor<'de> for V<T> {
            type Value = BTreeMap<String, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(BTreeMap::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(BTreeMap::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
                deserializer.deserialize_map(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    // A `null` value says the entry has no value: it is left out.
                    if let Some(value) = map.next_value_seed(Nullable::<T>(PhantomData))? {
                        out.insert(key, value);
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_option(V(PhantomData))
    }
}

/// A map value: `null`, or `T` read tolerantly.
struct Nullable<T>(PhantomData<T>);

impl<'de, T: Tolerant<'de>> DeserializeSeed<'de> for Nullable<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        Option::<T>::deserialize_tolerant(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read<T: for<'de> Tolerant<'de>>(value: serde_json::Value) -> Result<T, serde_json::Error> {
        T::deserialize_tolerant(value)
    }

    #[test]
    fn integers_accept_their_text_and_whole_floats_only() {
        assert_eq!(read::<u64>(json!(33)).unwrap(), 33);
        assert_eq!(read::<u64>(json!("33")).unwrap(), 33);
        assert_eq!(read::<u64>(json!(3.0)).unwrap(), 3);
        assert!(read::<u64>(json!(3.5)).is_err());
        assert!(read::<u64>(json!(-1)).is_err());
        assert!(read::<u64>(json!("pro")).is_err());
        assert!(read::<u64>(json!(true)).is_err());
        assert_eq!(read::<i64>(json!("-7")).unwrap(), -7);
    }

    #[test]
    fn text_accepts_numbers_and_booleans_as_their_json_text() {
        assert_eq!(read::<String>(json!("pro")).unwrap(), "pro");
        assert_eq!(read::<String>(json!(4242)).unwrap(), "4242");
        assert_eq!(read::<String>(json!(2.5)).unwrap(), "2.5");
        assert_eq!(read::<String>(json!(true)).unwrap(), "true");
        assert!(read::<String>(json!({"a": 1})).is_err());
    }

    #[test]
    fn booleans_accept_zero_and_one() {
        assert!(read::<bool>(json!(1)).unwrap());
        assert!(!read::<bool>(json!(0)).unwrap());
        assert!(read::<bool>(json!("t")).unwrap());
        assert!(read::<bool>(json!(2)).is_err());
        assert!(read::<bool>(json!("yes")).is_err());
    }

    #[test]
    fn collections_read_null_as_empty_and_their_items_tolerantly() {
        assert_eq!(read::<Vec<u64>>(json!(null)).unwrap(), Vec::<u64>::new());
        assert_eq!(read::<Vec<u64>>(json!([1, "2"])).unwrap(), vec![1, 2]);
        let map = read::<BTreeMap<String, String>>(json!({"a": 32, "b": "x", "c": null})).unwrap();
        assert_eq!(map, BTreeMap::from([("a".to_owned(), "32".to_owned()), ("b".to_owned(), "x".to_owned())]));
        assert_eq!(read::<Option<u64>>(json!(null)).unwrap(), None);
        assert_eq!(read::<Option<u64>>(json!("5")).unwrap(), Some(5));
    }
}
