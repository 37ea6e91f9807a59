//! Invoke benchmarks: cold start (split into platform time and runtime init from the REPORT line),
//! warm invoke latency, and throughput with 1/4/16 concurrent clients, for a Python echo function.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;

use crate::client::Client;
use crate::Stats;

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";

fn echo_zip() -> anyhow::Result<String> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("app.py", zip::write::SimpleFileOptions::default())?;
    w.write_all(b"def handler(event, context):\n    return event\n")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(w.finish()?.into_inner()))
}

fn init_ms(log_b64: &str) -> Option<f64> {
    let log = base64::engine::general_purpose::STANDARD
        .decode(log_b64)
        .ok()?;
    let log = String::from_utf8(log).ok()?;
    let rest = log.split("Init Duration: ").nth(1)?;
    rest.split(' ').next()?.parse().ok()
}

async fn invoke(
    client: &mut Client,
    name: &str,
    tail: bool,
) -> anyhow::Result<(Duration, Option<f64>)> {
    let path = format!("/2015-03-31/functions/{name}/invocations");
    let extra: &[(&str, &str)] = if tail {
        &[("x-amz-log-type", "Tail")]
    } else {
        &[]
    };
    let t = Instant::now();
    let (status, headers, body) = client
        .call_full("POST", &path, None, extra, b"{\"ping\":1}")
        .await?;
    let elapsed = t.elapsed();
    if status != 200 || headers.contains_key("x-amz-function-error") {
        bail!(
            "Invoke answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let init = headers
        .get("x-amz-log-result")
        .and_then(|v| v.to_str().ok())
        .and_then(init_ms);
    Ok((elapsed, init))
}

/// Run the invoke benchmarks against the server on `port`.
pub async fn run(
    port: u16,
    key: &str,
    secret: &str,
    n: usize,
    memory_mb: u32,
) -> anyhow::Result<()> {
    let mut client = Client::new(port, key, secret);
    client.reconnect().await?;
    let name = "bench-py-echo";
    let body = serde_json::json!({
        "FunctionName": name, "Runtime": "python3.11", "Role": ROLE,
        "Handler": "app.handler", "Code": {"ZipFile": echo_zip()?},
        // CPU is proportional to memory (1769 MB = 1 vCPU, as on AWS).
        "MemorySize": memory_mb,
    })
    .to_string();
    let status = client
        .call("POST", "/2015-03-31/functions", None, body.as_bytes())
        .await?;
    if status != 201 {
        bail!("CreateFunction answered {status}");
    }

    // Cold starts: each configuration change retires the environments.
    let mut cold = Stats::default();
    let mut inits = Vec::new();
    for i in 0..20 {
        let cfg = serde_json::json!({"Description": format!("cold {i}")}).to_string();
        let path = format!("/2015-03-31/functions/{name}/configuration");
        client.call("PUT", &path, None, cfg.as_bytes()).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (d, init) = invoke(&mut client, name, true).await?;
        cold.0.push(d);
        inits.extend(init);
    }
    inits.sort_by(f64::total_cmp);
    let init_p50 = inits.get(inits.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "cold start (python3.11 echo, {memory_mb} MB) total p50 {:>7.3} ms  p99 {:>7.3} ms | runtime init (REPORT Init Duration) p50 {init_p50:.2} ms",
        cold.pct(0.5),
        cold.pct(0.99)
    );

    let mut warm = Stats::default();
    for _ in 0..n.max(200) {
        warm.0.push(invoke(&mut client, name, false).await?.0);
    }
    println!(
        "warm invoke (python3.11 echo, {memory_mb} MB) p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms",
        warm.pct(0.5),
        warm.pct(0.9),
        warm.pct(0.99)
    );

    for clients in [1usize, 4, 16] {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (key, secret) = (key.to_string(), secret.to_string());
            tasks.push(tokio::spawn(async move {
                let mut c = Client::new(port, &key, &secret);
                c.reconnect().await?;
                let mut count = 0u64;
                while Instant::now() < deadline {
                    invoke(&mut c, name, false).await?;
                    count += 1;
                }
                Ok::<u64, anyhow::Error>(count)
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.context("bench task")??;
        }
        println!(
            "throughput {clients:>2} client(s)           {:>8.0} invokes/s",
            total as f64 / 3.0
        );
    }
    Ok(())
}
