//! Invoke benchmarks on Ignis: cold start (split into platform time and runtime init from the REPORT
//! line), warm invoke latency, and throughput with 1/4/16 concurrent clients, for a Python echo
//! function and a `provided.al2023` echo built on the stock `lambda_runtime` crate. The warm and
//! throughput loops are shared with the peers (same payload, same keep-alive client).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;

use crate::client::Client;
use crate::Stats;

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";
/// The request payload every target gets.
pub const PAYLOAD: &[u8] = b"{\"ping\":1}";
/// Concurrent clients of the throughput runs.
pub const CLIENTS: [usize; 3] = [1, 4, 16];
/// Seconds each throughput run lasts.
const TPUT_SECS: f64 = 3.0;

/// One echo function on one server on loopback.
#[derive(Clone)]
pub struct Target {
    pub port: u16,
    pub key: String,
    pub secret: String,
    pub function: String,
    /// The server process, when the bench started it: its CPU (and its functions') per invoke.
    pub cpu_root: Option<u32>,
}

/// What was measured for one function on one server: a row of the comparison table.
pub struct Row {
    pub server: String,
    pub function: String,
    pub cold: Option<Stats>,
    /// Median runtime init (REPORT `Init Duration`) of the cold starts, where reported.
    pub init_p50: Option<f64>,
    pub warm: Stats,
    /// Server-side CPU (server and function processes) per warm invoke, in microseconds.
    pub cpu_us: Option<f64>,
    /// (clients, invokes per second).
    pub tput: Vec<(usize, f64)>,
}

fn python_zip() -> anyhow::Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("app.py", zip::write::SimpleFileOptions::default())?;
    w.write_all(b"def handler(event, context):\n    return event\n")?;
    Ok(w.finish()?.into_inner())
}

fn bootstrap_zip(binary: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    w.start_file("bootstrap", opts)?;
    w.write_all(&bytes)?;
    Ok(w.finish()?.into_inner())
}

fn init_ms(log_b64: &str) -> Option<f64> {
    let log = base64::engine::general_purpose::STANDARD
        .decode(log_b64)
        .ok()?;
    let log = String::from_utf8(log).ok()?;
    let rest = log.split("Init Duration: ").nth(1)?;
    rest.split(' ').next()?.parse().ok()
}

/// One RequestResponse invoke; the elapsed time and, with `tail`, the REPORT line's init duration.
pub async fn invoke(
    client: &mut Client,
    function: &str,
    tail: bool,
) -> anyhow::Result<(Duration, Option<f64>)> {
    let path = format!("/2015-03-31/functions/{function}/invocations");
    let extra: &[(&str, &str)] = if tail {
        &[("x-amz-log-type", "Tail")]
    } else {
        &[]
    };
    let t = Instant::now();
    let (status, headers, body) = client
        .call_full("POST", &path, None, extra, PAYLOAD)
        .await?;
    let elapsed = t.elapsed();
    if status != 200 || headers.contains_key("x-amz-function-error") {
        bail!(
            "Invoke of {function} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let init = headers
        .get("x-amz-log-result")
        .and_then(|v| v.to_str().ok())
        .and_then(init_ms);
    Ok((elapsed, init))
}

/// `n` sequential warm invokes on one keep-alive connection (after a few unmeasured ones), and the
/// server's CPU per invoke when its process is known.
pub async fn warm(target: &Target, n: usize) -> anyhow::Result<(Stats, Option<f64>)> {
    let mut client = Client::new(target.port, &target.key, &target.secret);
    client.reconnect().await?;
    for _ in 0..20 {
        invoke(&mut client, &target.function, false).await?;
    }
    let cpu_before = target.cpu_root.map(crate::peers::tree_cpu_secs);
    let mut warm = Stats::default();
    for _ in 0..n.max(200) {
        warm.0
            .push(invoke(&mut client, &target.function, false).await?.0);
    }
    let cpu_us = match (target.cpu_root, cpu_before) {
        (Some(pid), Some(before)) => {
            Some((crate::peers::tree_cpu_secs(pid) - before) * 1e6 / warm.0.len() as f64)
        }
        _ => None,
    };
    Ok((warm, cpu_us))
}

/// Invokes per second with `clients` concurrent keep-alive connections for a few seconds.
pub async fn throughput(target: &Target, clients: usize) -> anyhow::Result<f64> {
    // Let every client make its environment warm before the clock starts.
    let start = Instant::now() + Duration::from_millis(500);
    let deadline = start + Duration::from_secs_f64(TPUT_SECS);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let t = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(t.port, &t.key, &t.secret);
            c.reconnect().await?;
            let mut count = 0u64;
            loop {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                invoke(&mut c, &t.function, false).await?;
                if now >= start {
                    count += 1;
                }
            }
            Ok::<u64, anyhow::Error>(count)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.context("bench task")??;
    }
    Ok(total as f64 / TPUT_SECS)
}

/// Warm latency and throughput of a target, as a row without cold starts.
pub async fn measure(server: &str, label: &str, target: &Target, n: usize) -> anyhow::Result<Row> {
    let (warm, cpu_us) = warm(target, n).await?;
    let mut tput = Vec::new();
    for clients in CLIENTS {
        tput.push((clients, throughput(target, clients).await?));
    }
    let row = Row {
        server: server.into(),
        function: label.into(),
        cold: None,
        init_p50: None,
        warm,
        cpu_us,
        tput,
    };
    eprintln!(
        "  measured {server} {label}: warm p50 {:.3} ms",
        row.warm.pct(0.5)
    );
    Ok(row)
}

/// Create `name` on Ignis, measure cold starts (each configuration change retires the
/// environments), then warm latency and throughput.
async fn ignis_function(
    target: &Target,
    label: &str,
    create: serde_json::Value,
    n: usize,
) -> anyhow::Result<Row> {
    let mut client = Client::new(target.port, &target.key, &target.secret);
    client.reconnect().await?;
    let status = client
        .call(
            "POST",
            "/2015-03-31/functions",
            None,
            create.to_string().as_bytes(),
        )
        .await?;
    if status != 201 {
        bail!("CreateFunction {} answered {status}", target.function);
    }
    let mut cold = Stats::default();
    let mut inits = Vec::new();
    for i in 0..20 {
        let cfg = serde_json::json!({"Description": format!("cold {i}")}).to_string();
        let path = format!("/2015-03-31/functions/{}/configuration", target.function);
        client.call("PUT", &path, None, cfg.as_bytes()).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (d, init) = invoke(&mut client, &target.function, true).await?;
        cold.0.push(d);
        inits.extend(init);
    }
    inits.sort_by(f64::total_cmp);
    let mut row = measure("ignis", label, target, n).await?;
    row.init_p50 = inits.get(inits.len() / 2).copied();
    row.cold = Some(cold);
    Ok(row)
}

/// Run the invoke benchmarks against the Ignis server on `port`: the Python echo and, when
/// `rust_echo` (a `lambda_runtime` bootstrap binary) is given, the `provided.al2023` echo.
pub async fn run(
    port: u16,
    server_pid: u32,
    key: &str,
    secret: &str,
    n: usize,
    memory_mb: u32,
    rust_echo: Option<&Path>,
) -> anyhow::Result<Vec<Row>> {
    let b64 = |z: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(z);
    let target = |function: &str| Target {
        port,
        key: key.into(),
        secret: secret.into(),
        function: function.into(),
        cpu_root: Some(server_pid),
    };
    let mut rows = Vec::new();
    if let Some(binary) = rust_echo {
        let name = "bench-rust-echo";
        let create = serde_json::json!({
            "FunctionName": name, "Runtime": "provided.al2023", "Role": ROLE,
            "Handler": "bootstrap", "Code": {"ZipFile": b64(bootstrap_zip(binary)?)},
            // CPU is proportional to memory (1769 MB = 1 vCPU, as on AWS).
            "MemorySize": memory_mb,
        });
        rows.push(ignis_function(&target(name), "rust echo (provided.al2023)", create, n).await?);
    }
    let name = "bench-py-echo";
    let create = serde_json::json!({
        "FunctionName": name, "Runtime": "python3.11", "Role": ROLE,
        "Handler": "app.handler", "Code": {"ZipFile": b64(python_zip()?)},
        "MemorySize": memory_mb,
    });
    rows.push(ignis_function(&target(name), "python echo (python3.11)", create, n).await?);
    Ok(rows)
}
