//! A soak against the fake: 200 run-and-wait workflows at once on one client, with 5xx
//! answers, dropped connections and delays injected at random into the calls they make.
//! Every workflow ends within its deadline with a result or a clear error, no job is run
//! twice (no `POST` is repeated), nothing panics. Prints its figures.

use std::time::{Duration, Instant};

use xplenty_api::WorkflowError;
use xplenty_api::types::{JobRun, JobStatus};
use xplenty_fake::{Clock, FakeXplenty, Fault};

const WORKFLOWS: usize = 200;
const DEADLINE: Duration = Duration::from_secs(15);

/// A small deterministic generator (xorshift), so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn inject_some(fake: &FakeXplenty, rng: &mut Rng) {
    for operation in ["run_job", "list_jobs", "get_job"] {
        let fault = match rng.below(3) {
            0 => Fault::Status([500, 502, 503][rng.below(3) as usize], "soak".into()),
            1 => Fault::Drop,
            _ => Fault::Delay(Duration::from_millis(20 + rng.below(80))),
        };
        fake.inject(operation, fault, 1 + rng.below(3) as u32);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_workflows_under_faults_all_end_in_time() {
    let started = Instant::now();
    // 50 times real time: a job takes about half a second.
    let fake = FakeXplenty::builder().clock(Clock::scaled(50.0)).start().await.unwrap();
    let client = fake.client();
    let mut rng = Rng(0x5eed_2024);
    inject_some(&fake, &mut rng);

    let workflows = (0..WORKFLOWS).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let run: JobRun = JobRun::builder().cluster_id(812_u64).package_id(2041_u64).try_into().unwrap();
            let began = Instant::now();
            let result = client
                .run_job_and_wait(run)
                .poll_interval(Duration::from_millis(100))
                .deadline(Some(DEADLINE))
                .send()
                .await;
            (result, began.elapsed())
        })
    });
    let all = tokio::spawn(futures::future::join_all(workflows));
    // More faults while the waits run.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        inject_some(&fake, &mut rng);
    }
    let results = all.await.unwrap();

    let (mut completed, mut api_errors, mut other) = (0, 0, 0);
    let mut slowest = Duration::ZERO;
    for result in results {
        let (result, took) = result.expect("no workflow panicked");
        slowest = slowest.max(took);
        assert!(took <= DEADLINE + Duration::from_secs(2), "a workflow took {took:?}");
        match result {
            Ok(job) => {
                assert_eq!(job.status, JobStatus::Completed);
                completed += 1;
            }
            Err(WorkflowError::Api(e)) => {
                assert!(!e.to_string().is_empty());
                api_errors += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                other += 1;
            }
        }
    }
    let journal = fake.journal();
    let runs: Vec<_> = journal.iter().filter(|e| e.operation == Some("run_job")).collect();
    let created: Vec<u64> =
        runs.iter().filter(|e| e.status == 201).filter_map(|e| e.response_body.as_ref()?.get("id")?.as_u64()).collect();
    let mut distinct = created.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let lists = journal.iter().filter(|e| e.operation == Some("list_jobs")).count();
    let gets = journal.iter().filter(|e| e.operation == Some("get_job")).count();
    println!(
        "soak: {WORKFLOWS} workflows in {:.1?}: {completed} completed, {api_errors} call errors, {other} other; \
         {} run_job requests ({} jobs created), {lists} list_jobs, {gets} get_job, {} calls in all; slowest {slowest:.1?}",
        started.elapsed(),
        runs.len(),
        created.len(),
        journal.len()
    );
    // Never a POST twice: at most one run request a workflow, each creating one job.
    assert!(runs.len() <= WORKFLOWS, "{} run_job requests", runs.len());
    assert_eq!(distinct.len(), created.len());
    assert_eq!(completed + api_errors + other, WORKFLOWS);
    // The faults are few: most workflows complete.
    assert!(completed >= WORKFLOWS * 9 / 10, "{completed} completed");
    // Shared polls: far fewer than one poll a workflow and interval.
    assert!(lists + gets < WORKFLOWS * 3, "{lists} lists and {gets} gets");
    assert!(started.elapsed() < Duration::from_secs(45));
}
