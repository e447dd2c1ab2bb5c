//! Bodies built the way a user writes them, and names that say what they hold: public API
//! only, asserting the JSON a call would send and what a value prints.

use serde_json::json;
use xplenty_api::types::{self, HookCreate, HookEvent, JobRun, PackageCreate, WebHookSettings};

#[test]
fn an_optional_setter_takes_a_str_and_a_map_setter_takes_pairs() {
    let run: JobRun = JobRun::builder()
        .cluster_id(812_u64)
        .package_id(2041_u64)
        .variables([("run_date", "'2024-05-01'"), ("region", "'eu'")])
        .try_into()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&run).unwrap(),
        json!({"cluster_id": 812, "package_id": 2041, "variables": {"region": "'eu'", "run_date": "'2024-05-01'"}})
    );
    let package: PackageCreate = PackageCreate::builder().name("orders").description("nightly").try_into().unwrap();
    assert_eq!(serde_json::to_value(&package).unwrap(), json!({"name": "orders", "description": "nightly"}));
}

#[test]
fn a_body_with_only_optional_fields_has_a_default() {
    let package = PackageCreate { name: Some("orders".into()), ..Default::default() };
    assert_eq!(serde_json::to_value(&package).unwrap(), json!({"name": "orders"}));
}

#[test]
fn a_web_hook_is_built_without_repeating_its_tag() {
    let hook: HookCreate = HookCreate::web()
        .name("ops")
        .events([HookEvent::JobCompleted])
        .settings(WebHookSettings::builder().url("https://hooks.example/x"))
        .try_into()
        .unwrap();
    assert!(matches!(hook, HookCreate::Web(_)));
    assert_eq!(
        serde_json::to_value(&hook).unwrap(),
        json!({"type": "web", "name": "ops", "events": ["job.completed"], "settings": {"url": "https://hooks.example/x"}})
    );
}

#[test]
fn a_call_takes_the_builder_itself() {
    // Compiles without `try_into()?`: `.body(..)` and `run_job_and_wait` take builders.
    let client = xplenty_api::Client::builder("acme-analytics", "k3y").base_url("http://127.0.0.1:9").build().unwrap();
    let _hook = client.create_hook().body(HookCreate::pager_duty().events([HookEvent::JobFailed]));
    let _run = client.run_job_and_wait(JobRun::builder().cluster_id(1_u64).package_id(2_u64));
}

#[test]
fn variants_say_what_they_hold() {
    let entries: Vec<types::HookEventEntry> =
        serde_json::from_value(json!(["job.completed", {"name": "job.failed", "last_response": {}}])).unwrap();
    assert!(format!("{:?}", entries[0]).starts_with("HookEvent(JobCompleted"), "{:?}", entries[0]);
    assert!(format!("{:?}", entries[1]).starts_with("HookEventStatus("), "{:?}", entries[1]);
    let spanner: types::Connection =
        serde_json::from_value(json!({"id": 5, "type": "googlecloudspanner", "name": "s"})).unwrap();
    assert!(matches!(spanner, types::Connection::GoogleCloudSpanner(_)));
    // The error body is `ErrorBody`: `types` has no second `Error` beside `xplenty_api::Error`.
    let body: types::ErrorBody = serde_json::from_value(json!({"message": "nope"})).unwrap();
    assert_eq!(body.message.as_deref(), Some("nope"));
}
