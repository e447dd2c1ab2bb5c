//! `cargo run -p xplenty-fake --example webhook_receiver`: a web hook receiver that checks
//! `X-Hook-Signature` and decodes each notification, fed by the embedded fake.
//!
//! It serves on 127.0.0.1, registers itself as a web hook of the fake, runs a job and
//! prints each verified event until the job ends. A notification that does not verify is
//! answered 401.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;
use xplenty_api::types::{HookCreate, HookEvent, JobRun};
use xplenty_api::webhook::{WebhookEvent, WebhookResource, WebhookVerifier};
use xplenty_fake::{Clock, FakeXplenty};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = FakeXplenty::builder().clock(Clock::scaled(20.0)).start().await?;
    let client = fake.client();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    let hook: HookCreate = serde_json::from_value(serde_json::json!({
        "type": "web", "name": "example receiver", "settings": {"url": url}, "events": ["job"]
    }))?;
    let hook = serde_json::to_value(client.create_hook().body(hook).send().await?.into_inner())?;
    let hook_id = hook["id"].as_u64().ok_or("the hook has an id")?;
    let salt = hook["salt"].as_str().ok_or("a web hook has a salt")?.to_owned();
    println!("Receiving the notifications of hook {hook_id} at {url}");

    let verifier = WebhookVerifier::new(&url, salt).hook_id(hook_id);
    let (events, mut received) = mpsc::unbounded_channel::<WebhookEvent>();
    tokio::spawn(serve(listener, verifier, events));

    let run: JobRun = JobRun::builder().cluster_id(812_u64).package_id(2041_u64).try_into()?;
    let job = client.run_job().body(run).send().await?;
    println!("Ran job {}", job.id);
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), received.recv()).await?.ok_or("receiver ended")?;
        let about = match &event.resource {
            WebhookResource::Job(job) => format!("job {} is {:?}", job.id, job.status),
            WebhookResource::Cluster(cluster) => format!("cluster {} is {:?}", cluster.id, cluster.status),
            other => format!("{other:?}"),
        };
        println!("  verified {}: {about}", event.event);
        if matches!(event.event, HookEvent::JobCompleted | HookEvent::JobFailed | HookEvent::JobStopped) {
            return Ok(());
        }
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    verifier: WebhookVerifier,
    events: mpsc::UnboundedSender<WebhookEvent>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        let (verifier, events) = (verifier.clone(), events.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (verifier, events) = (verifier.clone(), events.clone());
                async move {
                    let headers = request.headers().clone();
                    let body = request.into_body().collect().await?.to_bytes();
                    let status = match verifier.verify_request(&headers, &body) {
                        Ok(event) => {
                            let _ = events.send(event);
                            hyper::StatusCode::OK
                        }
                        Err(refused) => {
                            eprintln!("  refused a notification: {refused}");
                            hyper::StatusCode::UNAUTHORIZED
                        }
                    };
                    let mut response = hyper::Response::new(Full::new(Bytes::new()));
                    *response.status_mut() = status;
                    Ok::<_, hyper::Error>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
