//! `cargo bench -p xplenty-tests --bench client`: what the generated client costs next
//! to a careful hand-written one (reqwest + serde), measured side by side in one run
//! against a loopback server that answers from memory. Prints medians and ratios.
//!
//! Rounds of the two clients are interleaved so machine noise hits both alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// ---------------------------------------------------------------- memory accounting

/// Counts live heap bytes and their peak, for the paging figures.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------- fixtures

const ACCOUNT: &str = "acme-analytics";
const KEY: &str = "bench-key";
const PAGES: usize = 100;
const PAGE_SIZE: usize = 100;

fn cluster_json(id: usize) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": format!("nightly-etl-{id}"), "description": "Runs the nightly load",
        "status": "available", "owner_id": 3107, "plan_id": 4, "nodes": 4, "type": "production",
        "created_at": "2024-05-02T01:00:00Z", "updated_at": "2024-05-02T01:07:12Z",
        "available_since": "2024-05-02T01:07:12Z", "terminated_at": null, "idle_since": null,
        "running_jobs_count": 1, "terminate_on_idle": true, "terminated_on_idle": false, "time_to_idle": 1800,
        "region": "amazon-web-services::eu-west-1", "zone": "eu-west-1a",
        "master_instance_type": "m5.xlarge", "slave_instance_type": "m5.xlarge",
        "master_spot_price": null, "slave_spot_price": 0.12, "master_spot_percentage": null, "slave_spot_percentage": 0.5,
        "allow_fallback": true, "stack": "white-everest",
        "creator": {"type": "Schedule", "id": 55, "display_name": "Nightly load",
                    "url": "https://api.xplenty.com/acme-analytics/api/schedules/55",
                    "html_url": "https://app.xplenty.com/acme-analytics/schedules/55"},
        "url": format!("https://api.xplenty.com/acme-analytics/api/clusters/{id}"),
        "html_url": format!("https://app.xplenty.com/acme-analytics/clusters/{id}")
    })
}

fn job_json(id: usize) -> serde_json::Value {
    let output = |n: usize| {
        serde_json::json!({
            "id": id * 10 + n, "name": format!("output_{n}"), "records_count": 48211,
            "created_at": "2024-05-01T01:12:00Z", "updated_at": "2024-05-01T01:40:00Z",
            "preview_url": format!("https://api.xplenty.com/acme-analytics/api/jobs/{id}/outputs/{n}/preview"),
            "url": format!("https://api.xplenty.com/acme-analytics/api/jobs/{id}/outputs/{n}"),
            "component": {"name": "warehouse_out", "type": "redshift_destination", "fields": ["order_id", "total", "placed_at"]}
        })
    };
    serde_json::json!({
        "id": id, "status": "completed", "variables": {"run_date": "'2024-05-01'", "target": "'analytics'"},
        "owner_id": 3107, "progress": 1.0, "outputs_count": 3, "outputs": [output(1), output(2), output(3)],
        "started_at": "2024-05-02T01:10:00Z", "created_at": "2024-05-02T01:09:30Z", "updated_at": "2024-05-02T01:40:00Z",
        "failed_at": null, "completed_at": "2024-05-02T01:40:00Z", "cluster_id": 812, "package_id": 2041,
        "errors": null, "runtime_in_seconds": 1800, "attempts": 0, "master_auto_retry_attempts": null,
        "url": format!("https://api.xplenty.com/acme-analytics/api/jobs/{id}"),
        "html_url": format!("https://app.xplenty.com/acme-analytics/jobs/{id}"),
        "log_url": format!("https://api.xplenty.com/acme-analytics/api/jobs/{id}/log")
    })
}

// The hand-written client's types: the same fields, written as a careful author would.

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandCreator {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<u64>,
    display_name: Option<String>,
    url: Option<String>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandCluster {
    id: u64,
    name: Option<String>,
    description: Option<String>,
    status: Option<String>,
    owner_id: Option<u64>,
    plan_id: Option<u64>,
    nodes: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    available_since: Option<chrono::DateTime<chrono::Utc>>,
    terminated_at: Option<chrono::DateTime<chrono::Utc>>,
    idle_since: Option<chrono::DateTime<chrono::Utc>>,
    running_jobs_count: Option<u64>,
    terminate_on_idle: Option<bool>,
    terminated_on_idle: Option<bool>,
    time_to_idle: Option<u64>,
    region: Option<String>,
    zone: Option<String>,
    master_instance_type: Option<String>,
    slave_instance_type: Option<String>,
    master_spot_price: Option<f64>,
    slave_spot_price: Option<f64>,
    master_spot_percentage: Option<f64>,
    slave_spot_percentage: Option<f64>,
    allow_fallback: Option<bool>,
    stack: Option<String>,
    creator: Option<HandCreator>,
    url: Option<String>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandComponent {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    fields: Vec<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandOutput {
    id: u64,
    name: Option<String>,
    records_count: Option<u64>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    preview_url: Option<String>,
    url: Option<String>,
    component: Option<HandComponent>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandJob {
    id: u64,
    status: Option<String>,
    #[serde(default)]
    variables: std::collections::BTreeMap<String, String>,
    owner_id: Option<u64>,
    progress: Option<f64>,
    outputs_count: Option<u64>,
    #[serde(default)]
    outputs: Vec<HandOutput>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    failed_at: Option<chrono::DateTime<chrono::Utc>>,
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    cluster_id: Option<u64>,
    package_id: Option<u64>,
    errors: Option<String>,
    runtime_in_seconds: Option<u64>,
    attempts: Option<u64>,
    master_auto_retry_attempts: Option<u64>,
    url: Option<String>,
    html_url: Option<String>,
    log_url: Option<String>,
}

// ---------------------------------------------------------------- the server

/// Pre-serialised answers: one cluster, and 100 pages of clusters with Link headers.
struct Answers {
    cluster: Vec<u8>,
    pages: Vec<Vec<u8>>,
}

fn http_response(body: &[u8], link: Option<String>) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.xplenty+json\r\ncontent-length: {}\r\nx-ratelimit-limit: 5000\r\nx-ratelimit-remaining: 4999\r\n",
        body.len()
    );
    if let Some(link) = link {
        head.push_str(&format!("link: {link}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn answers(base: &str) -> Answers {
    let cluster = http_response(cluster_json(812).to_string().as_bytes(), None);
    let pages = (0..PAGES)
        .map(|page| {
            let items: Vec<_> = (0..PAGE_SIZE).map(|i| cluster_json(page * PAGE_SIZE + i)).collect();
            let next = page * PAGE_SIZE + PAGE_SIZE;
            let link = format!("<{base}/{ACCOUNT}/api/clusters?offset={next}&limit={PAGE_SIZE}>; rel=\"next\"");
            http_response(serde_json::to_vec(&items).unwrap().as_slice(), Some(link))
        })
        .collect();
    Answers { cluster, pages }
}

/// Serves on its own thread and runtime, so the client side is measured alone.
fn start_server() -> (String, std::sync::mpsc::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answers = std::sync::Arc::new(answers(&base));
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            loop {
                if stopped.try_recv().is_ok() {
                    return;
                }
                let Ok(Ok((mut stream, _))) = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await
                else {
                    continue;
                };
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::with_capacity(4096);
                    let mut chunk = [0u8; 4096];
                    loop {
                        // GET requests only: a request ends at the blank line.
                        let end = loop {
                            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                                break end + 4;
                            }
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let line =
                            String::from_utf8_lossy(&buffer[..buffer.iter().position(|&b| b == b'\r').unwrap_or(0)])
                                .into_owned();
                        buffer.drain(..end);
                        let reply = match line.split_once("offset=") {
                            Some((_, rest)) => {
                                let offset: usize = rest
                                    .split(|c: char| !c.is_ascii_digit())
                                    .next()
                                    .unwrap_or("0")
                                    .parse()
                                    .unwrap_or(0);
                                &answers.pages[(offset / PAGE_SIZE).min(PAGES - 1)]
                            }
                            None => &answers.cluster,
                        };
                        if stream.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    (base, stop)
}

// ---------------------------------------------------------------- the clients

fn generated_client(base: &str) -> xplenty_api::Client {
    // No client-side budget: the hand-written client has none, and it would hold calls
    // back after 5,000 of them.
    xplenty_api::Client::builder(ACCOUNT, KEY).base_url(base).rate_budget(None).build().unwrap()
}

/// The careful hand-written client: same timeouts and headers as the generated one.
struct HandClient {
    http: reqwest::Client,
    base: String,
}

impl HandClient {
    fn new(base: &str) -> Self {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_static("Basic YmVuY2gta2V5Og==");
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static(xplenty_api::meta::ACCEPT_VALUE));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent("hand-written/1")
            .build()
            .unwrap();
        HandClient { http, base: format!("{base}/{ACCOUNT}/api") }
    }

    async fn get_cluster(&self, id: u64) -> Result<HandCluster, reqwest::Error> {
        self.http.get(format!("{}/clusters/{id}", self.base)).send().await?.error_for_status()?.json().await
    }
}

// ---------------------------------------------------------------- measuring

/// Runs a warm-up round and then `rounds` rounds of both measurements, alternating which
/// goes first so neither always runs on a warmer cache.
async fn interleaved<G, H, GF, HF>(rounds: usize, ours: &mut Vec<f64>, theirs: &mut Vec<f64>, generated: G, hand: H)
where
    G: Fn() -> GF,
    H: Fn() -> HF,
    GF: std::future::Future<Output = f64>,
    HF: std::future::Future<Output = f64>,
{
    for round in 0..rounds + 1 {
        let (g, h) = if round % 2 == 0 {
            let g = generated().await;
            (g, hand().await)
        } else {
            let h = hand().await;
            (generated().await, h)
        };
        if round > 0 {
            ours.push(g);
            theirs.push(h);
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Row {
    what: String,
    generated: String,
    hand: String,
    ratio: Option<(f64, &'static str)>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `--calls-only` stops after the call measurements, for profiling them alone.
    let calls_only = std::env::args().any(|a| a == "--calls-only");
    // `--profile generated|hand`: only that client's sequential calls, for callgrind.
    let args: Vec<String> = std::env::args().collect();
    if let Some(side) = args.iter().position(|a| a == "--profile").and_then(|i| args.get(i + 1)) {
        let (base, stop) = start_server();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (generated, hand) = (generated_client(&base), HandClient::new(&base));
        eprintln!(
            "call future: generated {} bytes, hand-written {} bytes",
            std::mem::size_of_val(&generated.get_cluster().cluster_id(1_u64).send()),
            std::mem::size_of_val(&hand.get_cluster(1))
        );
        runtime.block_on(async {
            for _ in 0..200 {
                match side.as_str() {
                    "generated" => drop(generated.get_cluster().cluster_id(812_u64).send().await.unwrap()),
                    _ => drop(hand.get_cluster(812).await.unwrap()),
                }
            }
        });
        let _ = stop.send(());
        return;
    }
    let rounds = if quick { 3 } else { 15 };
    let (base, stop) = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let generated = generated_client(&base);
    let hand = HandClient::new(&base);
    let mut rows = Vec::new();

    // 1. One call, sequential: median per-call latency.
    let calls = 300;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    runtime.block_on(interleaved(
        rounds,
        &mut ours,
        &mut theirs,
        || async {
            let started = Instant::now();
            for _ in 0..calls {
                generated.get_cluster().cluster_id(812_u64).send().await.unwrap();
            }
            started.elapsed().as_secs_f64() / calls as f64
        },
        || async {
            let started = Instant::now();
            for _ in 0..calls {
                hand.get_cluster(812).await.unwrap();
            }
            started.elapsed().as_secs_f64() / calls as f64
        },
    ));
    let (g, h) = (median(ours), median(theirs));
    rows.push(Row {
        what: "get_cluster latency (median)".into(),
        generated: format!("{:.1} µs", g * 1e6),
        hand: format!("{:.1} µs", h * 1e6),
        ratio: Some((g / h, "≤ 1.02")),
    });

    // 2. 32 calls in flight: throughput.
    let total = 2_000;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    runtime.block_on(interleaved(
        rounds,
        &mut ours,
        &mut theirs,
        || async {
            let started = Instant::now();
            futures::stream::iter(0..total)
                .map(|_| generated.get_cluster().cluster_id(812_u64).send())
                .buffer_unordered(32)
                .try_for_each(|_| async { Ok(()) })
                .await
                .unwrap();
            total as f64 / started.elapsed().as_secs_f64()
        },
        || async {
            let started = Instant::now();
            futures::stream::iter(0..total)
                .map(|_| hand.get_cluster(812))
                .buffer_unordered(32)
                .try_for_each(|_| async { Ok(()) })
                .await
                .unwrap();
            total as f64 / started.elapsed().as_secs_f64()
        },
    ));
    let (g, h) = (median(ours), median(theirs));
    rows.push(Row {
        what: "32 in flight (throughput)".into(),
        generated: format!("{g:.0} calls/s"),
        hand: format!("{h:.0} calls/s"),
        ratio: Some((g / h, "≥ 0.95")),
    });

    if calls_only {
        let _ = stop.send(());
        print_table(rows);
        return;
    }

    // 3. Decoding a page of 100.
    let clusters = serde_json::to_vec(&(0..100).map(cluster_json).collect::<Vec<_>>()).unwrap();
    let jobs = serde_json::to_vec(&(0..100).map(job_json).collect::<Vec<_>>()).unwrap();
    let decode_rounds = if quick { 20 } else { 200 };
    let mut measure = |label: &str, bytes: &[u8], ours: &dyn Fn(&[u8]), theirs: &dyn Fn(&[u8])| {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..decode_rounds {
            let started = Instant::now();
            ours(bytes);
            a.push(started.elapsed().as_secs_f64());
            let started = Instant::now();
            theirs(bytes);
            b.push(started.elapsed().as_secs_f64());
        }
        let (g, h) = (median(a), median(b));
        rows.push(Row {
            what: format!("decode {label} ({} KiB)", bytes.len() / 1024),
            generated: format!("{:.1} µs", g * 1e6),
            hand: format!("{:.1} µs", h * 1e6),
            ratio: Some((g / h, "≤ 1.10")),
        });
    };
    measure(
        "100 clusters",
        &clusters,
        &|b| drop(std::hint::black_box(serde_json::from_slice::<Vec<xplenty_api::types::Cluster>>(b).unwrap())),
        &|b| drop(std::hint::black_box(serde_json::from_slice::<Vec<HandCluster>>(b).unwrap())),
    );
    measure(
        "100 jobs",
        &jobs,
        &|b| drop(std::hint::black_box(serde_json::from_slice::<Vec<xplenty_api::types::Job>>(b).unwrap())),
        &|b| drop(std::hint::black_box(serde_json::from_slice::<Vec<HandJob>>(b).unwrap())),
    );

    // 4. Paging at scale: stream_all through Link headers, items/s and peak heap.
    for items in [1_000usize, 10_000] {
        let (rate, peak) = runtime.block_on(async {
            let baseline = LIVE.load(Ordering::Relaxed);
            PEAK.store(baseline, Ordering::Relaxed);
            let started = Instant::now();
            let mut seen = 0usize;
            let mut stream = generated.list_clusters().stream_all().take(items);
            while let Some(cluster) = stream.next().await {
                std::hint::black_box(cluster.unwrap());
                seen += 1;
            }
            assert_eq!(seen, items);
            (items as f64 / started.elapsed().as_secs_f64(), PEAK.load(Ordering::Relaxed) - baseline)
        });
        rows.push(Row {
            what: format!("stream_all {items} items ({} pages)", items / PAGE_SIZE),
            generated: format!("{rate:.0} items/s, peak +{:.0} KiB", peak as f64 / 1024.0),
            hand: "-".into(),
            ratio: None,
        });
    }

    // 5. Generation of the full spec.
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/xplenty.yaml")).unwrap();
    let timings: Vec<f64> =
        (0..5).map(|_| xplenty_gen::generate(&spec).unwrap().timings.total().as_secs_f64()).collect();
    rows.push(Row {
        what: "generate the client from the spec".into(),
        generated: format!("{:.0} ms", median(timings) * 1e3),
        hand: "-".into(),
        ratio: None,
    });

    // 6. Calls spent by 20 concurrent job waits on the fake (100 ms polls), counted from
    // its journal: one client (polls shared) against one client a wait (one GET a wait and
    // poll, as waits were before they shared).
    let (shared, separate) = runtime.block_on(wait_calls());
    rows.push(Row {
        what: "calls of 20 concurrent job waits (fake journal, runs included)".into(),
        generated: format!("{shared} shared"),
        hand: format!("{separate} one GET a wait"),
        ratio: Some((shared as f64 / separate as f64, "shared <= 40")),
    });

    let _ = stop.send(());
    print_table(rows);
}

/// Journal entries of 20 job runs and their waits, shared and then unshared.
async fn wait_calls() -> (usize, usize) {
    use xplenty_fake::{Clock, FakeXplenty};
    let fake = FakeXplenty::builder().clock(Clock::scaled(20.0)).start().await.unwrap();
    let mut counts = Vec::new();
    for shared in [true, false] {
        fake.reset();
        let one = fake.client();
        let clients: Vec<xplenty_api::Client> =
            (0..20).map(|_| if shared { one.clone() } else { fake.client() }).collect();
        let mut ids = Vec::new();
        for client in &clients {
            let run = xplenty_api::types::JobRun::builder().cluster_id(812_u64).package_id(2041_u64);
            ids.push(client.run_job().body(run).send().await.unwrap().id);
        }
        let waits = clients
            .iter()
            .zip(&ids)
            .map(|(client, id)| client.wait_for_job(*id).poll_interval(Duration::from_millis(100)).until_done());
        futures::future::try_join_all(waits).await.unwrap();
        counts.push(fake.journal().len());
    }
    (counts[0], counts[1])
}

fn print_table(rows: Vec<Row>) {
    println!("\n| measure | xplenty-api | hand-written | ratio | goal |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let (ratio, goal) = match row.ratio {
            Some((r, goal)) => (format!("{r:.3}"), goal.to_owned()),
            None => ("".into(), "".into()),
        };
        println!("| {} | {} | {} | {ratio} | {goal} |", row.what, row.generated, row.hand);
    }
}
