//! The discriminated unions (`Connection`, `Hook`, `HookCreate`) read right by a plain
//! JSON Schema (draft 4) validator, which knows nothing of `discriminator`: every example
//! of them matches exactly one `oneOf` member, because each member's `type` admits only
//! its own tags. The spec's examples always; the docs' examples too when
//! `XPLENTY_DOCS_GIT` names a git directory of `xplenty/xplenty-api-doc-v2`.

use std::path::Path;

use serde_json::{Value, json};

const UNIONS: &[&str] = &["Connection", "Hook", "HookCreate"];

fn raw_spec() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(root.join("spec/xplenty.yaml")).unwrap();
    xplenty_gen::load(&text).unwrap_or_else(|e| panic!("{e}")).raw
}

/// OpenAPI's `nullable` in plain JSON Schema terms; everything else is left as written
/// (`oneOf` stays `oneOf`; `discriminator` and `example` are unknown keywords to draft 4).
fn plain(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(plain);
            if map.get("nullable") == Some(&Value::Bool(true)) {
                match map.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = t.clone();
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(plain),
        _ => {}
    }
}

struct Checker {
    components: Value,
}

impl Checker {
    fn valid(&self, schema: &str, instance: &Value) -> bool {
        let schema = json!({"$ref": format!("#/components/schemas/{schema}"), "components": self.components});
        jsonschema::draft4::new(&schema).expect("the schema compiles").is_valid(instance)
    }

    fn members(&self, union: &str) -> Vec<String> {
        self.components["schemas"][union]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["$ref"].as_str().unwrap().rsplit('/').next().unwrap().to_owned())
            .collect()
    }

    /// The members `example` matches, by name; a problem unless exactly one and the union too.
    fn problem(&self, union: &str, origin: &str, example: &Value) -> Option<String> {
        let matched: Vec<String> = self.members(union).into_iter().filter(|m| self.valid(m, example)).collect();
        let union_valid = self.valid(union, example);
        (matched.len() != 1 || !union_valid)
            .then(|| format!("{origin}: {union} members matched {matched:?}, union valid {union_valid}: {example}"))
    }
}

/// The spec's examples of each union: its own, its members', and every response example
/// of an operation answering it (arrays item by item).
fn spec_examples(spec: &Value) -> Vec<(&'static str, String, Value)> {
    let schemas = &spec["components"]["schemas"];
    let mut out = Vec::new();
    for union in UNIONS {
        let schema = &schemas[*union];
        out.push((*union, format!("{union}.example"), schema["example"].clone()));
        for member in schema["oneOf"].as_array().unwrap() {
            let name = member["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
            if let Some(example) = schemas[name].get("example") {
                out.push((*union, format!("{name}.example"), example.clone()));
            }
        }
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let bodies = op["responses"].as_object().into_iter().flatten().map(|(_, r)| r).chain(op.get("requestBody"));
            for media in bodies.filter_map(|b| b.get("content")).filter_map(Value::as_object).flat_map(|c| c.values()) {
                let (Some(schema), Some(example)) = (media.get("schema"), media.get("example")) else { continue };
                let (reference, items) = match schema.get("items") {
                    Some(items) => (items.get("$ref"), example.as_array().cloned().unwrap_or_default()),
                    None => (schema.get("$ref"), vec![example.clone()]),
                };
                let Some(name) = reference.and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) else { continue };
                if let Some(union) = UNIONS.iter().find(|u| **u == name) {
                    out.extend(items.into_iter().map(|e| (*union, format!("{method} {path}"), e)));
                }
            }
        }
    }
    out
}

/// JSON blocks of the docs' hook and connection sections, sorted to their union: objects
/// with an `id` and a `type` are answers, hook bodies with `events` and no `id` creates.
fn docs_examples(git_dir: &str) -> Vec<(&'static str, String, Value)> {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").arg("--git-dir").arg(git_dir).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut out = Vec::new();
    for file in git(&["ls-tree", "-r", "--name-only", "HEAD", "sections/"]).lines() {
        let hooks = file.contains("hook");
        if !hooks && !file.contains("connection") {
            continue;
        }
        let text = git(&["show", &format!("HEAD:{file}")]);
        for block in text.split("```json").skip(1).filter_map(|b| b.split("```").next()) {
            let Ok(value) = serde_json::from_str::<Value>(block) else { continue };
            let items = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            for item in items.into_iter().filter(|i| i.get("type").is_some()) {
                let union = match (hooks, item.get("id").is_some()) {
                    (true, true) => "Hook",
                    (true, false) if item.get("events").is_some() => "HookCreate",
                    (false, true) => "Connection",
                    _ => continue,
                };
                out.push((union, file.to_owned(), item));
            }
        }
    }
    out
}

#[test]
fn every_union_example_matches_exactly_one_member_under_plain_json_schema() {
    let spec = raw_spec();
    let mut components = spec["components"].clone();
    plain(&mut components);
    let checker = Checker { components };
    let mut examples = spec_examples(&spec);
    assert!(examples.len() >= 25, "found {} examples", examples.len());
    if let Ok(dir) = std::env::var("XPLENTY_DOCS_GIT") {
        let docs = docs_examples(&dir);
        assert!(!docs.is_empty(), "no docs examples under {dir}");
        eprintln!("{} docs examples", docs.len());
        examples.extend(docs);
    }
    let problems: Vec<String> =
        examples.iter().filter_map(|(union, origin, example)| checker.problem(union, origin, example)).collect();
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn a_member_refuses_the_tags_of_the_others() {
    let spec = raw_spec();
    let mut components = spec["components"].clone();
    plain(&mut components);
    let checker = Checker { components };
    let web = json!({"id": 1, "type": "web", "settings": {"url": "https://hooks.acme.example/x"}});
    assert!(checker.valid("WebHook", &web));
    let mut slack = web.clone();
    slack["type"] = json!("slack");
    assert!(!checker.valid("WebHook", &slack), "WebHook admits only `web`");
    let s3 = json!({"id": 2, "type": "s3"});
    assert_eq!(checker.members("Connection").iter().filter(|m| checker.valid(m, &s3)).count(), 1);
}
