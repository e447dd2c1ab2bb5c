//! What the real service sends, beyond its docs, decoded on the wire: ids and numbers as
//! text, plan ids as text, numeric variable values, `0`/`1` booleans, hook events as
//! objects, hooks and connections typed by their `type`, and list pages with one bad
//! item. The spec declares the tolerance (`x-tolerant`); requests stay strict.

use futures::StreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use xplenty_api::{Client, ErrorKind, types};
use xplenty_tests::{Reply, TestServer};

fn client(server: &TestServer) -> Client {
    Client::builder("acme-analytics", "k3y").base_url(server.base_url()).build().expect("client")
}

#[tokio::test]
async fn a_cluster_list_decodes_plan_ids_numeric_text_and_zero_one_booleans() {
    let server = TestServer::start().await;
    server.push(Reply::json(
        200,
        json!([
            {"id": "33", "name": "etl", "status": "available", "nodes": "2", "plan_id": "pro",
             "terminate_on_idle": 1, "time_to_idle": "3600", "master_spot_price": "0.25"},
            {"id": 34, "name": "dwh", "status": "available", "plan_id": "expert--7", "terminate_on_idle": "false", "owner_id": 7.0}
        ]),
    ));
    let clusters = client(&server).list_clusters().send().await.unwrap().into_inner();

    assert_eq!(clusters[0].id, 33);
    assert_eq!(clusters[0].nodes, Some(2));
    assert_eq!(clusters[0].plan_id.as_deref(), Some("pro"));
    assert_eq!(clusters[0].terminate_on_idle, Some(true));
    assert_eq!(clusters[0].time_to_idle, Some(3600));
    assert_eq!(clusters[0].master_spot_price, Some(0.25));
    assert_eq!(clusters[1].plan_id.as_deref(), Some("expert--7"));
    assert_eq!(clusters[1].terminate_on_idle, Some(false));
    assert_eq!(clusters[1].owner_id, Some(7));
}

#[tokio::test]
async fn job_variables_hand_back_the_text_of_any_scalar() {
    let server = TestServer::start().await;
    server.push(Reply::json(
        200,
        json!({"id": 90187, "status": "running", "progress": "0.5",
               "variables": {"max_rows": 50000, "ratio": 1.5, "run_date": "2024-05-01", "strict": true, "unset": null}}),
    ));
    let job = client(&server).get_job().job_id(90187_u64).send().await.unwrap();

    assert_eq!(job.progress, Some(0.5));
    let variables: Vec<(&str, &str)> = job.variables.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(variables, [("max_rows", "50000"), ("ratio", "1.5"), ("run_date", "2024-05-01"), ("strict", "true")]);

    server.push(Reply::json(200, json!({"_MAX_COMBINED_SPLIT_SIZE": 134217728, "_DEFAULT_TIMEZONE": "UTC"})));
    let system = client(&server).list_system_variables().send().await.unwrap();
    assert_eq!(system.get("_MAX_COMBINED_SPLIT_SIZE").map(String::as_str), Some("134217728"));
}

#[tokio::test]
async fn ids_sent_as_text_decode_in_accounts_schedules_and_payment_methods() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": "1", "account_id": "acme-analytics", "name": "Acme"})));
    let account = client(&server)
        .update_account()
        .account_id("acme-analytics")
        .body(types::AccountUpdate::builder().name("Acme".to_owned()))
        .send()
        .await
        .unwrap();
    assert_eq!(account.id, 1);

    server.push(Reply::json(200, json!({"id": 12, "name": "nightly", "status": "enabled", "task": {"packages": [{"package_id": "7"}, {"package_id": 8}]}})));
    let schedule = client(&server).get_schedule().schedule_id(12_u64).send().await.unwrap();
    let ids: Vec<u64> = schedule.task.as_ref().unwrap().packages.iter().map(|p| p.package_id).collect();
    assert_eq!(ids, [7, 8]);

    server.push(Reply::json(200, json!({"card_last_4": 4242, "card_type": "Visa"})));
    let payment = client(&server).get_payment_method().send().await.unwrap();
    assert_eq!(payment.card_last_4.as_deref(), Some("4242"));
}

#[tokio::test]
async fn hooks_are_typed_by_their_type_and_events_may_be_objects() {
    let server = TestServer::start().await;
    server.push(Reply::json(
        200,
        json!([
            {"id": 1, "type": "slack", "active": 1, "settings": {"url": "https://hooks.slack.example/x"},
             "events": ["job.failed", {"id": "2", "name": "cluster.error", "last_trigger_status": "none"}]},
            {"id": 2, "type": "web", "salt": "s", "settings": {"url": "http://127.0.0.1/h", "basic_auth": 0},
             "events": ["job"]},
            {"id": 3, "type": "carrier-pigeon", "settings": {"loft": "north"}}
        ]),
    ));
    let hooks = client(&server).list_hooks().send().await.unwrap().into_inner();

    let types::Hook::Slack(slack) = &hooks[0] else { panic!("a slack hook without team and channel: {:?}", hooks[0]) };
    assert_eq!(slack.active, Some(true));
    assert_eq!(slack.settings.as_ref().unwrap().url, "https://hooks.slack.example/x");
    assert!(matches!(&slack.events[0], types::HookEventEntry::HookEvent(types::HookEvent::JobFailed)));
    let types::HookEventEntry::HookEventStatus(status) = &slack.events[1] else { panic!("an event object") };
    assert_eq!((status.id, status.name.clone()), (Some(2), Some(types::HookEvent::ClusterError)));

    let types::Hook::Web(web) = &hooks[1] else { panic!("a web hook") };
    assert_eq!(web.settings.as_ref().unwrap().basic_auth, Some(false));
    let types::Hook::Unknown(other) = &hooks[2] else { panic!("an unknown hook type still decodes") };
    assert_eq!(other["settings"]["loft"], "north");
    assert_eq!(hooks[2].tag(), Some("carrier-pigeon"));
}

#[tokio::test]
async fn connections_are_typed_by_their_type_and_unknown_types_keep_their_fields() {
    let server = TestServer::start().await;
    server.push(Reply::json(
        200,
        json!([
            {"id": "63", "type": "postgres", "name": "orders", "host": "db.example", "port": "5432", "ssl": 1},
            {"id": 64, "type": "shopify", "name": "shop", "shop": "acme-store.example", "hmac": "ab12"},
            {"id": 65, "type": "snowflake", "account_name": "acme", "warehouse": "LOAD_WH"},
            {"id": 66, "type": "quantumdb", "qubits": 5}
        ]),
    ));
    let connections = client(&server).list_connections().send().await.unwrap().into_inner();

    let types::Connection::Postgres(db) = &connections[0] else { panic!("postgres: {:?}", connections[0]) };
    assert_eq!((db.id, db.host.as_deref(), db.port, db.ssl), (63, Some("db.example"), Some(5432), Some(true)));
    let types::Connection::Shopify(shop) = &connections[1] else { panic!("shopify") };
    assert_eq!((shop.shop.as_deref(), shop.hmac.as_deref()), (Some("acme-store.example"), Some("ab12")));
    let types::Connection::Snowflake(snow) = &connections[2] else { panic!("snowflake") };
    assert_eq!(snow.warehouse.as_deref(), Some("LOAD_WH"));
    let types::Connection::Unknown(other) = &connections[3] else { panic!("unknown type") };
    assert_eq!(other["qubits"], 5);
}

#[tokio::test]
async fn requests_stay_strict_while_answers_are_read_tolerantly() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": "812", "name": "etl", "status": "available", "terminate_on_idle": 1})));
    let body = types::ClusterUpdate::builder().terminate_on_idle(true).time_to_idle(600_u64);
    let cluster = client(&server).update_cluster().cluster_id(812_u64).body(body).send().await.unwrap();

    assert_eq!((cluster.id, cluster.terminate_on_idle), (812, Some(true)));
    assert_eq!(server.single_request().json(), json!({"terminate_on_idle": true, "time_to_idle": 600}));
}

#[tokio::test]
async fn one_bad_item_costs_one_error_and_the_stream_goes_on() {
    let server = TestServer::start().await;
    let base = server.base_url();
    let next = format!("<{base}/acme-analytics/api/clusters?offset=3&limit=3>; rel=\"next\"");
    server.push(
        Reply::json(200, json!([{"id": 1, "name": "etl", "status": "available"}, {"id": "not-a-number", "name": "broken", "status": "available"}, {"id": 3, "name": "etl", "status": "available"}])).header("link", &next),
    );
    server.push(Reply::json(200, json!([{"id": 4, "name": "etl", "status": "available"}])));
    let items: Vec<_> = client(&server).list_clusters().limit(3_u64).stream_all().collect().await;

    assert_eq!(items.len(), 4, "every item of both pages, the bad one as an error: {items:?}");
    let ids: Vec<Option<u64>> = items.iter().map(|i| i.as_ref().ok().map(|c| c.id)).collect();
    assert_eq!(ids, [Some(1), None, Some(3), Some(4)]);
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!((error.operation(), error.item_offset(), error.status()), ("list_clusters", Some(1), Some(200)));
    assert!(error.body_excerpt().is_some_and(|b| b.contains("not-a-number")), "{error:?}");
    assert!(error.to_string().contains("offset 1"), "{error}");
    assert_eq!(server.requests().len(), 2);
    let second = server.requests()[1].clone();
    assert!(second.query().contains("offset=3") && second.query().contains("limit=3"), "{}", second.target);
}

#[tokio::test]
async fn a_page_that_is_not_an_array_is_one_error_and_the_end() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"clusters": []})));
    let items: Vec<_> = client(&server).list_clusters().stream_all().collect().await;
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().unwrap_err();
    assert_eq!((error.kind(), error.item_offset()), (ErrorKind::Decode, None));
}

#[tokio::test]
async fn list_filters_declared_comma_joined_travel_as_one_value() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!([])));
    let kinds = vec![types::ConnectionType::S3, types::ConnectionType::Postgres];
    client(&server).list_connections().type_(kinds).send().await.unwrap();

    let request = server.single_request();
    let query: Vec<(String, String)> = url::form_urlencoded::parse(request.query().as_bytes()).into_owned().collect();
    assert_eq!(query, [("type".to_owned(), "s3,postgres".to_owned())], "{}", request.target);
}

// ---- arbitrary scalars in every scalar field ----

/// How the spec types a tolerant scalar field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Positive,
    Unsigned,
    Integer,
    Number,
    Boolean,
    Text,
}

/// The spec, parsed once for every case.
static SPEC: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/xplenty.yaml")).unwrap();
    xplenty_gen::load(&text).unwrap().raw
});

/// A tolerant scalar field: (name, kind, required, nullable).
type Field = (String, Kind, bool, bool);

/// The tolerant scalar fields of a component schema.
fn scalar_fields(schema: &str) -> Vec<Field> {
    let raw = &*SPEC;
    let node = &raw["components"]["schemas"][schema];
    assert_eq!(node["x-tolerant"], true, "{schema} is declared tolerant");
    let required: Vec<&str> = node["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let resolve = |v: &Value| -> Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => raw.pointer(r.trim_start_matches('#')).unwrap().clone(),
            None => v.clone(),
        }
    };
    node["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(name, property)| {
            let p = resolve(property);
            if p.get("enum").is_some() || p.get("format").is_some() {
                return None;
            }
            let kind = match p["type"].as_str()? {
                "integer" if p["minimum"].as_f64().is_some_and(|m| m >= 1.0) => Kind::Positive,
                "integer" if p["minimum"].as_f64().is_some_and(|m| m >= 0.0) => Kind::Unsigned,
                "integer" => Kind::Integer,
                "number" => Kind::Number,
                "boolean" => Kind::Boolean,
                "string" => Kind::Text,
                _ => return None,
            };
            let nullable = p["nullable"] == true;
            Some((name.clone(), kind, required.contains(&name.as_str()), nullable))
        })
        .collect()
}

/// Whether the tolerant reading of `kind` can take `value` without losing anything.
fn lossless(kind: Kind, value: &Value) -> bool {
    match (kind, value) {
        (Kind::Positive, _) => {
            lossless(Kind::Unsigned, value) && value.as_f64().or_else(|| value.as_str()?.parse().ok()) != Some(0.0)
        }
        (Kind::Unsigned, Value::Number(n)) => {
            n.as_u64().is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64)
        }
        (Kind::Unsigned, Value::String(s)) => s.parse::<u64>().is_ok(),
        (Kind::Integer, Value::Number(n)) => {
            n.as_i64().is_some()
                || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64)
        }
        (Kind::Integer, Value::String(s)) => s.parse::<i64>().is_ok(),
        (Kind::Number, Value::Number(_)) => true,
        (Kind::Number, Value::String(s)) => s.parse::<f64>().is_ok_and(f64::is_finite),
        (Kind::Boolean, Value::Bool(_)) => true,
        (Kind::Boolean, Value::Number(n)) => n.as_u64().is_some_and(|n| n <= 1),
        (Kind::Boolean, Value::String(s)) => ["true", "false", "t", "f", "1", "0"].contains(&s.as_str()),
        (Kind::Text, Value::String(_) | Value::Number(_) | Value::Bool(_)) => true,
        _ => false,
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        (0u32..4).prop_map(|f| Value::from(f as f64)),
        (0u64..100_000).prop_map(|n| Value::from(n.to_string())),
        (-100i64..100).prop_map(|n| Value::from(format!("{n}.5"))),
        prop_oneof![Just("t"), Just("f"), Just("1"), Just("0"), Just("true"), Just("yes"), Just("")]
            .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ]
}

fn check<T: serde::de::DeserializeOwned + serde::Serialize>(
    schema: &str,
    base: Value,
    fields: &[Field],
    pick: usize,
    value: Value,
) -> Result<(), TestCaseError> {
    let (name, kind, required, _) = &fields[pick % fields.len()];
    let mut object = base;
    object[name.as_str()] = value.clone();
    let decoded = serde_json::from_value::<T>(object);
    // `null` is "absent" for an optional field (whatever `nullable` says: absent and null
    // read the same), and an error for a required one.
    let expected = if value.is_null() { !required } else { lossless(*kind, &value) };
    prop_assert_eq!(decoded.is_ok(), expected, "{}.{} = {} ({:?})", schema, name, value, kind);
    if let (Ok(decoded), false) = (decoded, value.is_null()) {
        let back = serde_json::to_value(&decoded).unwrap()[name.as_str()].clone();
        match kind {
            Kind::Text => {
                let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                prop_assert_eq!(back, Value::from(text));
            }
            Kind::Boolean => prop_assert!(back.is_boolean()),
            _ => prop_assert!(back.is_number(), "{} read as {}", value, back),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_scalars_in_any_scalar_field_decode_exactly_when_lossless(pick in any::<usize>(), value in scalar()) {
        static FIELDS: std::sync::LazyLock<[Vec<Field>; 4]> = std::sync::LazyLock::new(|| {
            ["Cluster", "Job", "Schedule", "WebHook"].map(scalar_fields)
        });
        let [cluster, job, schedule, hook] = &*FIELDS;
        check::<types::Cluster>("Cluster", json!({"id": 1, "name": "etl", "status": "available"}), cluster, pick, value.clone())?;
        check::<types::Job>("Job", json!({"id": 1, "status": "running"}), job, pick, value.clone())?;
        check::<types::Schedule>("Schedule", json!({"id": 1, "name": "nightly", "status": "enabled"}), schedule, pick, value.clone())?;
        check::<types::WebHook>("WebHook", json!({"id": 1, "type": "web"}), hook, pick, value)?;
    }
}

#[tokio::test]
async fn the_current_password_travels_in_the_body_never_in_the_url() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, json!({"id": 3107, "api_key": null})));
    server.push(Reply::json(200, json!({"id": 3107, "api_key": "k-123"})));
    let client = client(&server);
    let plain = client.get_user().send().await.unwrap();
    assert_eq!(plain.api_key, None, "api_key is null without the password");
    let credentials = types::UserCredentials::builder().current_password("s3cret pass".to_owned());
    let user = client.get_user().body(credentials).send().await.unwrap();
    assert_eq!(user.api_key.as_deref(), Some("k-123"));

    let requests = server.requests();
    assert_eq!((requests[1].method.as_str(), requests[1].target.as_str()), ("GET", "/user"));
    assert_eq!(requests[1].json(), json!({"current_password": "s3cret pass"}));
    assert!(requests.iter().all(|r| !r.target.contains("s3cret")));
}
