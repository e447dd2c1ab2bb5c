//! What a request body must carry beyond its JSON shape, in the words a user reads:
//! "`type` is required: one of web, slack, hipchat, email, pagerduty".
//!
//! Not part of the library's API (hidden from its docs and its semver promise): the
//! `xplenty` CLI refuses a body by these rules before sending it, and `xplenty-fake`
//! answers its 422 by them, so both say the same. `xplenty-gen` writes the rules of each
//! body from the spec's `required` lists and union discriminators.

use serde_json::Value;

/// A field a body must carry, named when it is missing.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// The union member (the tag's value) it applies to; empty for every body.
    pub when: &'a str,
    pub field: &'a str,
    /// The allowed values, when the field is an enum.
    pub one_of: &'a [&'a str],
}

/// The rules of one body; `tag` is a union body's tag field (empty otherwise).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub tag: &'a str,
    pub rules: &'a [Rule<'a>],
}

/// Why `body` breaks `rules`, naming the field and its allowed values, or `None` when it
/// keeps to them (or is not an object: its schema says why).
pub fn refusal(body: &Value, rules: &Rules<'_>) -> Option<String> {
    let Value::Object(object) = body else { return None };
    let tag = object.get(rules.tag).and_then(Value::as_str);
    for rule in rules.rules {
        if !rule.when.is_empty() && tag != Some(rule.when) {
            continue;
        }
        let one_of =
            if rule.one_of.is_empty() { String::new() } else { format!(": one of {}", rule.one_of.join(", ")) };
        let member = if rule.when.is_empty() { String::new() } else { format!(" for {} {}", rules.tag, rule.when) };
        match object.get(rule.field) {
            None | Some(Value::Null) => return Some(format!("`{}` is required{member}{one_of}", rule.field)),
            // A union's tag chooses the shape: any other value is refused here.
            Some(Value::String(value)) if rule.field == rules.tag && !rule.one_of.contains(&value.as_str()) => {
                return Some(format!("`{}` `{value}` is not one of {}", rule.field, rule.one_of.join(", ")));
            }
            Some(_) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HOOK: Rules<'static> = Rules {
        tag: "type",
        rules: &[
            Rule { when: "", field: "type", one_of: &["web", "email"] },
            Rule { when: "web", field: "url", one_of: &[] },
        ],
    };

    #[test]
    fn names_the_missing_or_unknown_tag_and_the_members_fields() {
        assert_eq!(refusal(&json!({}), &HOOK).as_deref(), Some("`type` is required: one of web, email"));
        assert_eq!(refusal(&json!({"type": "fax"}), &HOOK).as_deref(), Some("`type` `fax` is not one of web, email"));
        assert_eq!(refusal(&json!({"type": "web"}), &HOOK).as_deref(), Some("`url` is required for type web"));
        assert_eq!(refusal(&json!({"type": "web", "url": "u"}), &HOOK), None);
        assert_eq!(refusal(&json!({"type": "email"}), &HOOK), None);
        assert_eq!(refusal(&json!([1]), &HOOK), None);
    }
}
