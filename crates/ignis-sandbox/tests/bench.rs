//! Latency benchmark of the process driver (ignored by default; run as root):
//! `cargo test -p ignis-sandbox --release --test bench -- --ignored --nocapture`
//!
//! Prints create→ready (runtime exec'd) and destroy p50/p99 over 200 envs running `/bin/true`.
//! `IGNIS_BENCH_RSS_MB=N` first makes this (host) process N MiB bigger, to show how the clone's
//! page-table copy grows with the size of the server. `IGNIS_BENCH_NO_INIT=1` runs the runtime as
//! pid 1 (no init), to measure what the init costs.

use std::time::{Duration, Instant};

use ignis_sandbox::{EnvSpec, ProcessSandbox, Sandbox, SandboxOptions};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[test]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
fn create_destroy_latency() {
    const N: usize = 200;
    let ballast_mb: usize = std::env::var("IGNIS_BENCH_RSS_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let ballast = vec![1u8; ballast_mb << 20];
    let base = std::env::temp_dir().join(format!("ignis-sbx-bench-{}", std::process::id()));
    let code = base.join("code");
    std::fs::create_dir_all(&code).unwrap();
    let init = std::env::var_os("IGNIS_BENCH_NO_INIT").is_none();
    let options = SandboxOptions {
        init,
        ..SandboxOptions::default()
    };
    let sandbox = ProcessSandbox::with_options(&base.join("state"), options).expect("sandbox");
    let mut create = Vec::with_capacity(N);
    let mut destroy = Vec::with_capacity(N);
    for i in 0..N + 10 {
        let spec = EnvSpec {
            id: format!("bench-{}-{i}", std::process::id()),
            code_dir: code.clone(),
            argv: vec!["/bin/true".into()],
            memory_mb: 128,
            tmp_mb: 64,
            pids_max: 64,
            runtime_api_port: 9001,
            ..Default::default()
        };
        let t0 = Instant::now();
        let env = sandbox.create(&spec).expect("create");
        let t1 = Instant::now();
        sandbox.destroy(env).expect("destroy");
        let t2 = Instant::now();
        if i >= 10 {
            // the first few warm up caches
            create.push(t1 - t0);
            destroy.push(t2 - t1);
        }
    }
    create.sort();
    destroy.sort();
    println!(
        "process sandbox over {N} envs (/bin/true, init {init}, host process +{ballast_mb} MiB, {}):",
        sandbox.cgroup_description()
    );
    println!(
        "  create->ready p50 {:?} p99 {:?}",
        percentile(&create, 0.5),
        percentile(&create, 0.99)
    );
    println!(
        "  destroy       p50 {:?} p99 {:?}",
        percentile(&destroy, 0.5),
        percentile(&destroy, 0.99)
    );
    drop(sandbox);
    drop(ballast);
    let _ = std::fs::remove_dir_all(&base);
}
