//! The rules a request body is refused by, read from the spec: a union's tag with its
//! allowed values, and the required fields of the body (of each member, for a union).
//! The CLI checks bodies by them before sending and the fake answers its 422 by them,
//! through one check (`xplenty_api::body_rules::refusal`), so both read the same.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::spec::model::resolve;

/// A field a body must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The union member (its tag value) it applies to; empty for every body.
    pub when: String,
    pub field: String,
    /// The allowed values, when the field is an enum.
    pub one_of: Vec<String>,
}

/// The rules of one body schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyRules {
    /// A union body's tag property; empty otherwise.
    pub tag: String,
    pub rules: Vec<Rule>,
}

impl BodyRules {
    /// The rules of `schema` (a body's schema, referenced or inline).
    pub fn of(raw: &Value, schema: &Value) -> BodyRules {
        let schema = resolve(raw, schema);
        let Some((tag, members)) = union_members(raw, schema) else {
            return BodyRules { tag: String::new(), rules: required_rules(raw, schema, "") };
        };
        let values = members.iter().map(|(value, _)| value.clone()).collect();
        let mut rules = vec![Rule { when: String::new(), field: tag.to_owned(), one_of: values }];
        for (value, member) in &members {
            rules.extend(required_rules(raw, member, value).into_iter().filter(|r| r.field != tag));
        }
        BodyRules { tag: tag.to_owned(), rules }
    }

    /// The rules as an `xplenty_api::body_rules::Rules` expression, at `path` (the type's
    /// path in the generated crate), without the rules `skip` names.
    pub fn tokens(&self, path: &TokenStream, skip: impl Fn(&Rule) -> bool) -> TokenStream {
        let tag = &self.tag;
        let rules = self.rules.iter().filter(|rule| !skip(rule)).map(
            |Rule { when, field, one_of }| quote!(#path::Rule { when: #when, field: #field, one_of: &[#(#one_of),*] }),
        );
        quote!(#path::Rules { tag: #tag, rules: &[#(#rules),*] })
    }
}

/// A discriminated union's tag property and its members (tag value, resolved member
/// schema), in the order `oneOf` lists them (the mapping's keys may come sorted).
pub(crate) fn union_members<'a>(raw: &'a Value, schema: &'a Value) -> Option<(&'a str, Vec<(String, &'a Value)>)> {
    let tag = schema.pointer("/discriminator/propertyName").and_then(Value::as_str)?;
    let mapping = schema.pointer("/discriminator/mapping").and_then(Value::as_object)?;
    let refs: Vec<&str> = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("$ref")?.as_str())
        .collect();
    let mut mapping: Vec<(&String, &Value)> = mapping.iter().collect();
    mapping.sort_by_key(|(_, r)| refs.iter().position(|x| Some(*x) == r.as_str()).unwrap_or(usize::MAX));
    let members = mapping
        .into_iter()
        .filter_map(|(value, reference)| {
            let member = raw.pointer(reference.as_str()?.strip_prefix('#')?)?;
            Some((value.clone(), resolve(raw, member)))
        })
        .collect();
    Some((tag, members))
}

/// The required fields of an object schema, with their allowed values.
fn required_rules(raw: &Value, schema: &Value, when: &str) -> Vec<Rule> {
    let required = schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
    required
        .map(|field| {
            let property = schema.pointer(&format!("/properties/{}", field.replace('~', "~0").replace('/', "~1")));
            let one_of = property.map(|p| enum_values(raw, p)).unwrap_or_default();
            Rule { when: when.to_owned(), field: field.to_owned(), one_of }
        })
        .collect()
}

/// A string enum's values (through a `$ref` or a single `allOf`); empty for anything else.
pub(crate) fn enum_values(raw: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(raw, schema);
    if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return enum_values(raw, only);
    }
    if schema.get("type").and_then(Value::as_str) != Some("string") {
        return Vec::new();
    }
    schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_union_names_its_tag_then_each_members_required_fields() {
        let raw = json!({"components": {"schemas": {
            "Create": {
                "oneOf": [{"$ref": "#/components/schemas/Web"}, {"$ref": "#/components/schemas/Mail"}],
                "discriminator": {"propertyName": "type", "mapping": {
                    "mail": "#/components/schemas/Mail", "web": "#/components/schemas/Web"}}
            },
            "Web": {"required": ["type", "url"], "properties": {"type": {"type": "string"}, "url": {"type": "string"}}},
            "Mail": {"required": ["level"], "properties": {"level": {"type": "string", "enum": ["all", "none"]}}}
        }}});
        let rules = BodyRules::of(&raw, &json!({"$ref": "#/components/schemas/Create"}));
        assert_eq!(rules.tag, "type");
        let rule = |when: &str, field: &str, one_of: &[&str]| Rule {
            when: when.to_owned(),
            field: field.to_owned(),
            one_of: one_of.iter().map(|v| (*v).to_owned()).collect(),
        };
        assert_eq!(
            rules.rules,
            vec![rule("", "type", &["web", "mail"]), rule("web", "url", &[]), rule("mail", "level", &["all", "none"])]
        );
    }
}
