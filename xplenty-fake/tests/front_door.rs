//! The front door of the service, on the wire: every form of credentials, `Accept` and
//! request body the service's own clients send is taken, and what is stored (read back
//! with a GET) is in the spec's declared types. Evidence for each form:
//! `shared/reference/service-evidence.md` (B1-B9).

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{Value, json};
use xplenty_fake::{Clock, FakeXplenty};

const ACCEPT: &str = "application/vnd.xplenty+json; version=2";

async fn fake() -> FakeXplenty {
    FakeXplenty::builder().clock(Clock::manual()).rate_limit(100_000).start().await.unwrap()
}

fn basic(credentials: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
}

/// A request as any HTTP client sends it: its status and JSON body (`null` if not JSON).
async fn send(
    fake: &FakeXplenty,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, String)],
    body: Option<(&str, String)>,
) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!("{}/{}/api{path_and_query}", fake.base_url(), fake.account_id());
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), url);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if let Some((content_type, body)) = body {
        request = request.header("content-type", content_type).body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn usual(fake: &FakeXplenty) -> Vec<(&'static str, String)> {
    vec![("authorization", basic(&format!("{}:", fake.api_key()))), ("accept", ACCEPT.to_owned())]
}

/// GETs what a create answered, by its id, as the docs' own client would.
async fn stored(fake: &FakeXplenty, collection: &str, created: &Value) -> Value {
    let id = created["id"].as_u64().unwrap_or_else(|| panic!("an id in {created}"));
    let (status, body) = send(fake, "GET", &format!("/{collection}/{id}"), &usual(fake), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn create(fake: &FakeXplenty, path: &str, headers: &[(&str, String)], body: Option<(&str, String)>) -> Value {
    let (status, answer) = send(fake, "POST", path, headers, body).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

fn json_body(value: Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

#[tokio::test]
async fn the_key_with_or_without_the_colon_in_any_scheme_case_is_let_in() {
    // B1: the official Python and Ruby clients send base64(key) without the colon.
    let fake = fake().await;
    let key = fake.api_key().to_owned();
    for (i, authorization) in [
        basic(&format!("{key}:")),
        basic(&key),
        basic(&format!("{key}:any-password")),
        format!("basic {}", base64::engine::general_purpose::STANDARD.encode(&key)),
        format!("BASIC {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))),
    ]
    .into_iter()
    .enumerate()
    {
        let headers = [("authorization", authorization.clone()), ("accept", ACCEPT.to_owned())];
        let name = format!("auth-{i}");
        let created = create(&fake, "/clusters", &headers, json_body(json!({"nodes": 2, "name": name}))).await;
        assert_eq!(stored(&fake, "clusters", &created).await["name"], name, "{authorization}");
    }
    for wrong in [basic("other-key:"), basic("other-key"), basic(&format!("x{key}")), format!("Bearer {key}")] {
        let headers = [("authorization", wrong.clone()), ("accept", ACCEPT.to_owned())];
        let (status, body) = send(&fake, "POST", "/clusters", &headers, json_body(json!({"nodes": 2}))).await;
        assert_eq!(status, 401, "{wrong}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn every_accept_form_the_clients_send_is_served() {
    // B8: `application/vnd.xplenty+json version=2` (no `;`) from the last PyPI release.
    let fake = fake().await;
    let auth = basic(fake.api_key());
    for (i, accept) in [
        Some("application/vnd.xplenty+json; version=2"),
        Some("application/vnd.xplenty+json version=2"),
        Some("application/vnd.xplenty+json"),
        Some("application/json"),
        Some("*/*"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let mut headers = vec![("authorization", auth.clone())];
        headers.extend(accept.map(|a| ("accept", a.to_owned())));
        let name = format!("accept-{i}");
        let created = create(&fake, "/clusters", &headers, json_body(json!({"nodes": 2, "name": name}))).await;
        assert_eq!(stored(&fake, "clusters", &created).await["name"], name, "{accept:?}");
    }
    for refused in ["text/html", "application/vnd.xplenty+json; version=1", "application/vnd.xplenty+json version=3"] {
        let headers = [("authorization", auth.clone()), ("accept", refused.to_owned())];
        let (status, body) = send(&fake, "GET", "/clusters", &headers, None).await;
        assert_eq!(status, 406, "{refused}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn json_wrapped_in_the_resource_name_is_read() {
    // B4 (xplenty.jar, xplenty.dll) and B6: `"False"` is false.
    let fake = fake().await;
    let body = json!({"cluster": {"name": "Test Cluster", "description": "asdasd", "nodes": 1, "type": "sandbox",
        "time_to_idle": 200, "terminate_on_idle": "False"}});
    let created = create(&fake, "/clusters", &usual(&fake), json_body(body)).await;
    let cluster = stored(&fake, "clusters", &created).await;
    assert_eq!(
        (&cluster["name"], &cluster["nodes"], &cluster["terminate_on_idle"], &cluster["time_to_idle"]),
        (&json!("Test Cluster"), &json!(1), &json!(false), &json!(200))
    );
    let job = json!({"job": {"variables": {"run_date": "'2024-05-01'"}, "cluster_id": 812, "package_id": 2041}});
    let created = create(&fake, "/jobs", &usual(&fake), json_body(job)).await;
    let job = stored(&fake, "jobs", &created).await;
    assert_eq!((&job["cluster_id"], &job["package_id"]), (&json!(812), &json!(2041)));
    assert_eq!(job["variables"]["run_date"], "'2024-05-01'");
}

#[tokio::test]
async fn a_schedule_wrapped_with_indexed_packages_and_a_partial_update_are_read() {
    // B4, B7 (`packages` as {"0": {...}}) and B9 (an update of the status alone).
    let fake = fake().await;
    let body = json!({"schedule": {"name": "java-flow schedule", "status": "disabled",
        "task": {"nodes": 2, "packages": {"0": {"variables": {"run_date": "'2024-05-01'"}, "package_id": 2041}},
            "terminate_on_idle": true, "time_to_idle": 1800},
        "start_at": "2026-12-02T16:07:54Z", "interval_amount": 1, "interval_unit": "days"}});
    let created = create(&fake, "/schedules", &usual(&fake), json_body(body)).await;
    let schedule = stored(&fake, "schedules", &created).await;
    assert_eq!(schedule["task"]["packages"][0]["package_id"], 2041, "{schedule}");
    let id = created["id"].as_u64().unwrap();
    let update = json!({"schedule": {"id": id, "status": "enabled"}});
    let (status, answer) = send(&fake, "PUT", &format!("/schedules/{id}"), &usual(&fake), json_body(update)).await;
    assert_eq!(status, 200, "{answer}");
    let schedule = stored(&fake, "schedules", &created).await;
    assert_eq!((&schedule["status"], &schedule["name"]), (&json!("enabled"), &json!("java-flow schedule")));
}

#[tokio::test]
async fn form_encoded_bodies_with_bracket_keys_are_read() {
    // B2: the docs' own form era (`cluster[nodes]=4`), as xplenty3 sends it.
    let fake = fake().await;
    let form = "cluster%5Btype%5D=production&cluster%5Bnodes%5D=2&cluster%5Bname%5D=py-flow&\
        cluster%5Bdescription%5D=python+flow&cluster%5Bterminate_on_idle%5D=0&cluster%5Btime_to_idle%5D=3600";
    let created =
        create(&fake, "/clusters", &usual(&fake), Some(("application/x-www-form-urlencoded", form.into()))).await;
    let cluster = stored(&fake, "clusters", &created).await;
    assert_eq!(
        (&cluster["name"], &cluster["description"], &cluster["nodes"], &cluster["terminate_on_idle"]),
        (&json!("py-flow"), &json!("python flow"), &json!(2), &json!(false))
    );
    assert_eq!(cluster["time_to_idle"], 3600);
    // B5: `job_id` for the package, as the Python clients send it.
    let form = "job%5Bcluster_id%5D=812&job%5Bjob_id%5D=2041&job%5Bvariables%5D%5Brun_date%5D=%272024-05-01%27";
    let created = create(&fake, "/jobs", &usual(&fake), Some(("application/x-www-form-urlencoded", form.into()))).await;
    let job = stored(&fake, "jobs", &created).await;
    assert_eq!((&job["cluster_id"], &job["package_id"]), (&json!(812), &json!(2041)));
    assert_eq!(job["variables"]["run_date"], "'2024-05-01'");
    // The docs' create-schedule form: `schedule[task][packages][0][package_id]=1`.
    let form = "schedule[name]=s&schedule[start_at]=2024-06-01T00:00:00Z&schedule[interval_amount]=1&\
        schedule[interval_unit]=days&schedule[task][nodes]=2&schedule[task][packages][0][package_id]=2041";
    let created =
        create(&fake, "/schedules", &usual(&fake), Some(("application/x-www-form-urlencoded", form.into()))).await;
    let schedule = stored(&fake, "schedules", &created).await;
    assert_eq!(
        (&schedule["task"]["nodes"], &schedule["task"]["packages"]),
        (&json!(2), &json!([{"package_id": 2041}]))
    );
}

#[tokio::test]
async fn fields_in_the_query_of_a_post_are_merged_with_the_body() {
    // B3: the official gem puts the fields in the query string.
    let fake = fake().await;
    let path = "/clusters?cluster%5Bname%5D=rb-flow&cluster%5Bnodes%5D=2&cluster%5Btype%5D=production";
    let created = create(&fake, path, &usual(&fake), None).await;
    let cluster = stored(&fake, "clusters", &created).await;
    assert_eq!((&cluster["name"], &cluster["nodes"]), (&json!("rb-flow"), &json!(2)));
    let path = "/jobs?job%5Bcluster_id%5D=812&job%5Bpackage_id%5D=2041&job%5Bvariables%5D%5Brun_date%5D=%272024%27";
    let created = create(&fake, path, &usual(&fake), None).await;
    assert_eq!(stored(&fake, "jobs", &created).await["package_id"], 2041);
}

#[tokio::test]
async fn another_content_type_is_415_and_bad_values_are_422() {
    let fake = fake().await;
    let before = fake.snapshot();
    let (status, body) = send(&fake, "POST", "/clusters", &usual(&fake), Some(("text/plain", "nodes=2".into()))).await;
    assert_eq!(status, 415);
    assert!(body["message"].is_string(), "{body}");
    // A body the spec declares no forms for takes only JSON.
    let form = Some(("application/x-www-form-urlencoded", "package[name]=p".to_owned()));
    assert_eq!(send(&fake, "POST", "/packages", &usual(&fake), form).await.0, 415);
    for bad in [
        r#"{"nodes": 18446744073709551616}"#,
        r#"{"nodes": "99999999999999999999"}"#,
        r#"{"nodes": null}"#,
        r#"{"nodes": 2, "terminate_on_idle": null}"#,
        r#"{"nodes": "two"}"#,
    ] {
        let (status, body) =
            send(&fake, "POST", "/clusters", &usual(&fake), Some(("application/json", bad.into()))).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["message"].is_string());
    }
    let (status, _) = send(&fake, "POST", "/clusters", &usual(&fake), None).await;
    assert_eq!(status, 422, "a missing required body");
    assert_eq!(fake.snapshot(), before, "nothing refused changed anything");
}

/// The spellings a boolean may come in, with the boolean.
fn boolean() -> impl Strategy<Value = (Value, bool)> {
    prop_oneof![
        any::<bool>().prop_map(|b| (json!(b), b)),
        any::<bool>().prop_map(|b| (json!(u8::from(b)), b)),
        prop::sample::select(vec![
            ("true", true),
            ("True", true),
            ("t", true),
            ("1", true),
            ("false", false),
            ("False", false),
            ("FALSE", false),
            ("f", false),
            ("0", false),
        ])
        .prop_map(|(s, b)| (json!(s), b)),
    ]
}

/// An integer as a number or as its decimal text.
fn integer() -> impl Strategy<Value = (Value, u64)> {
    (1_u64..1_000_000, any::<bool>()).prop_map(|(n, text)| (if text { json!(n.to_string()) } else { json!(n) }, n))
}

/// Text as itself, or a number or boolean standing for its JSON text.
fn text() -> impl Strategy<Value = (Value, String)> {
    prop_oneof![
        "[a-z]{1,12}".prop_map(|s| (json!(s.clone()), s)),
        any::<u32>().prop_map(|n| (json!(n), n.to_string())),
        any::<bool>().prop_map(|b| (json!(b), b.to_string())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever tolerated spelling comes in, flat or wrapped, the cluster is answered in
    /// the declared types.
    #[test]
    fn every_tolerated_spelling_is_answered_canonically(
        nodes in integer(),
        terminate in boolean(),
        idle in integer(),
        name in text(),
        arg in text(),
        wrapped in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let fake = fake().await;
            let mut body = json!({"nodes": nodes.0, "terminate_on_idle": terminate.0, "time_to_idle": idle.0,
                "name": name.0, "bootstrap_actions": [{"script_path": "s3://b/x.sh", "args": [arg.0]}]});
            if wrapped {
                body = json!({"cluster": body});
            }
            let created = create(&fake, "/clusters", &usual(&fake), json_body(body)).await;
            for answer in [created.clone(), stored(&fake, "clusters", &created).await] {
                assert_eq!(answer["nodes"], json!(nodes.1));
                assert_eq!(answer["terminate_on_idle"], json!(terminate.1));
                assert_eq!(answer["time_to_idle"], json!(idle.1));
                assert_eq!(answer["name"], json!(name.1));
                assert_eq!(answer["bootstrap_actions"][0]["args"], json!([arg.1]));
            }
        });
    }
}
