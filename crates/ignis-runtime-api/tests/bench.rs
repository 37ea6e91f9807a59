//! Micro-benchmark of the warm invoke round trip: `invoke()` → the runtime's parked `/next`
//! returns → the runtime posts `/response` → `invoke()` resolves, over one loopback keep-alive
//! connection with a minimal Rust runtime client on its own thread.
//!
//! Run with `cargo test --release -p ignis-runtime-api --test bench -- --ignored --nocapture`.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{invocation, start, Client};
use ignis_runtime_api::Outcome;

const WARMUP: usize = 500;
const ROUNDS: usize = 5000;

/// CPU time (ns) this thread has used, from `/proc/thread-self/schedstat`.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// CPU time (ns) of every thread of this process, from `/proc/self/task/*/schedstat`.
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let s = std::fs::read_to_string(path).ok()?;
        total += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Multi-thread runtime (2 workers), the invoke loop in a spawned task as the invoke service runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "micro-benchmark: run explicitly with --ignored --nocapture"]
async fn warm_round_trip_latency_multi_thread() {
    tokio::spawn(run("multi_thread(2)"))
        .await
        .expect("bench task");
}

/// Single-threaded runtime: no cross-thread wake-ups, the floor of the server's own cost.
#[tokio::test(flavor = "current_thread")]
#[ignore = "micro-benchmark: run explicitly with --ignored --nocapture"]
async fn warm_round_trip_latency_current_thread() {
    run("current_thread").await;
}

/// Runs the benchmark and prints its numbers, labelled with the runtime flavour.
async fn run(label: &str) {
    let (api, addr) = start();
    let (cpu_tx, cpu_rx) = mpsc::channel::<u64>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let runtime = std::thread::Builder::new()
        .name("runtime-client".into())
        .spawn(move || {
            let mut c = Client::connect(addr);
            let mut start_cpu = 0;
            for i in 0..WARMUP + ROUNDS {
                if i == WARMUP {
                    start_cpu = thread_cpu_ns().unwrap_or(0);
                }
                let next = c.next().expect("next");
                let id = next
                    .header("lambda-runtime-aws-request-id")
                    .expect("request id")
                    .to_owned();
                let posted = c.respond(&id, br#"{"statusCode":200}"#).expect("respond");
                assert_eq!(posted.status, 202);
            }
            cpu_tx
                .send(thread_cpu_ns().unwrap_or(0).saturating_sub(start_cpu))
                .ok();
            // Stay alive until the process CPU time has been sampled.
            done_rx.recv().ok();
        })
        .expect("spawn runtime client");

    let ids: Vec<String> = (0..WARMUP + ROUNDS)
        .map(|i| format!("bench-{i:08}"))
        .collect();
    let mut samples = Vec::with_capacity(ROUNDS);
    let mut proc_start = 0;
    let mut wall_start = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        if i == WARMUP {
            proc_start = process_cpu_ns().unwrap_or(0);
            wall_start = Instant::now();
        }
        let mut inv = invocation(id, b"");
        inv.payload = Bytes::from_static(br#"{"path":"/","httpMethod":"GET"}"#);
        let t = Instant::now();
        let out = api.invoke(inv).await.expect("invoke");
        let dt = t.elapsed();
        assert!(matches!(out, Outcome::Response(_)));
        if i >= WARMUP {
            samples.push(dt);
        }
    }
    let wall = wall_start.elapsed();
    let client_cpu = cpu_rx.recv().expect("client cpu");
    let proc_cpu = process_cpu_ns().unwrap_or(0).saturating_sub(proc_start);
    done_tx.send(()).ok();
    runtime.join().expect("runtime thread");

    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    let server_cpu = proc_cpu.saturating_sub(client_cpu);
    println!(
        "[{label}] warm round trip over {ROUNDS} invokes (1 keep-alive connection, {} accepted): \
         p50 {:?}  p90 {:?}  p99 {:?}  max {:?}  mean {:?}  throughput {:.0}/s",
        api.connections_accepted(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
        mean,
        ROUNDS as f64 / wall.as_secs_f64(),
    );
    println!(
        "[{label}] CPU per round trip: server side (caller + Runtime API) {:.1} µs, runtime client {:.1} µs",
        server_cpu as f64 / ROUNDS as f64 / 1000.0,
        client_cpu as f64 / ROUNDS as f64 / 1000.0,
    );
    assert_eq!(api.connections_accepted(), 1);
}
