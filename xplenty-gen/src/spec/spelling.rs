//! Variant names from wire values, spelled as the spec's own prose spells them, so a
//! union's variant and the enum of its tag agree (`Connection::GoogleCloudSpanner`,
//! `ConnectionType::GoogleCloudSpanner`).

use heck::ToUpperCamelCase;

/// How the spec's own prose spells words: every word of its descriptions, summaries and
/// titles. A tag is a run of lowercase letters (`googlecloudspanner`); the prose says
/// where its words begin ("Google Cloud Spanner").
pub(crate) struct Spelling(Vec<String>);

impl Spelling {
    pub(crate) fn of(spec: &serde_json::Value) -> Spelling {
        fn walk(value: &serde_json::Value, words: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(object) => {
                    for (key, value) in object {
                        match (key.as_str(), value) {
                            ("description" | "summary" | "title", serde_json::Value::String(text)) => words.extend(
                                text.split(|c: char| !c.is_ascii_alphanumeric())
                                    .filter(|w| !w.is_empty())
                                    .map(str::to_owned),
                            ),
                            _ => walk(value, words),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, words)),
                _ => {}
            }
        }
        let mut words = Vec::new();
        walk(spec, &mut words);
        Spelling(words)
    }

    /// The variant a wire value (a union's tag, an enum's value) becomes: the run of
    /// consecutive words in the spec's prose that spells it (ignoring case), each word in
    /// UpperCamelCase (`googlecloudspanner` -> `GoogleCloudSpanner`, `hipchat` -> `HipChat`
    /// from "HipChat"; a one-letter word after the first ends a run: "hour(s)" is not
    /// `HourS`). Of several such runs, the one with the most word starts wins, then
    /// the first. A value the prose never spells is its UpperCamelCase form (`gs` -> `Gs`);
    /// a Rust keyword gets `Value` appended (`self` -> `SelfValue`).
    pub(crate) fn variant_name(&self, tag: &str) -> String {
        let name = self.spelled(tag);
        let word = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if word && syn::parse_str::<syn::Ident>(&name).is_err() { format!("{name}Value") } else { name }
    }

    fn spelled(&self, tag: &str) -> String {
        let plain = tag.to_upper_camel_case();
        if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return plain;
        }
        let mut best: Option<String> = None;
        for start in 0..self.0.len() {
            let mut spelled = String::new();
            let mut name = String::new();
            for word in &self.0[start..] {
                spelled.push_str(&word.to_ascii_lowercase());
                // A one-letter word is a plural's tail ("hour(s)"), not a word start.
                if !tag.starts_with(&spelled) || (word.len() < 2 && spelled.len() > 1) {
                    break;
                }
                name.push_str(&word.to_upper_camel_case());
                if spelled.len() == tag.len() {
                    let starts = |n: &str| n.chars().filter(char::is_ascii_uppercase).count();
                    if best.as_deref().is_none_or(|b| starts(&name) > starts(b)) {
                        best = Some(name.clone());
                    }
                    break;
                }
            }
        }
        best.filter(|name| name.eq_ignore_ascii_case(tag)).unwrap_or(plain)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_take_the_word_starts_their_prose_gives_them() {
        let spec = json!({"components": {"schemas": {"Kind": {
            "description": "MySQL, Google Cloud Spanner, a data flow, every hour(s) or days; HipChat",
            "enum": ["mysql", "googlecloudspanner", "dataflow", "hours", "days", "hipchat", "gs", "self"]
        }}}});
        let spelling = Spelling::of(&spec);
        let names: Vec<String> = ["mysql", "googlecloudspanner", "dataflow", "hours", "days", "hipchat", "gs", "self"]
            .iter()
            .map(|v| spelling.variant_name(v))
            .collect();
        assert_eq!(names, ["MySql", "GoogleCloudSpanner", "DataFlow", "Hours", "Days", "HipChat", "Gs", "SelfValue"]);
    }
}
