//! Asynchronous invoke benchmarks: latency of the 202 (the event is committed to the durable queue
//! before it), acknowledged Event invokes per second with concurrent clients (group commit), and
//! the drain rate of the pollers for a no-op Python function (completions counted through the
//! server's `ignis_function_invocations` metric).

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;

use crate::client::Client;
use crate::Stats;

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";
const NAME: &str = "bench-async-noop";

fn noop_zip() -> anyhow::Result<String> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("app.py", zip::write::SimpleFileOptions::default())?;
    w.write_all(b"def handler(event, context):\n    return None\n")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(w.finish()?.into_inner()))
}

async fn event(client: &mut Client) -> anyhow::Result<Duration> {
    let path = format!("/2015-03-31/functions/{NAME}/invocations");
    let t = Instant::now();
    let (status, _, body) = client
        .call_full(
            "POST",
            &path,
            None,
            &[("x-amz-invocation-type", "Event")],
            b"{\"ping\":1}",
        )
        .await?;
    let elapsed = t.elapsed();
    if status != 202 {
        bail!(
            "Event invoke answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(elapsed)
}

/// Completed invocations of the bench function, from `/metrics`.
async fn completed(client: &mut Client) -> anyhow::Result<u64> {
    let text = client.get_text("/metrics").await?;
    let mut total = 0u64;
    for line in text.lines() {
        if line.starts_with("ignis_function_invocations")
            && line.contains(&format!("function=\"{NAME}\""))
        {
            if let Some(v) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
                total += v as u64;
            }
        }
    }
    Ok(total)
}

/// Run the asynchronous benchmarks against the server on `port`.
pub async fn run(port: u16, key: &str, secret: &str, n: usize) -> anyhow::Result<()> {
    let mut client = Client::new(port, key, secret);
    client.reconnect().await?;
    let body = serde_json::json!({
        "FunctionName": NAME, "Runtime": "python3.11", "Role": ROLE,
        "Handler": "app.handler", "Code": {"ZipFile": noop_zip()?},
    })
    .to_string();
    let status = client
        .call("POST", "/2015-03-31/functions", None, body.as_bytes())
        .await?;
    if status != 201 {
        bail!("CreateFunction answered {status}");
    }

    let start = Instant::now();
    let mut sent = 0u64;
    let mut one = Stats::default();
    for _ in 0..n.max(200) {
        one.0.push(event(&mut client).await?);
        sent += 1;
    }
    println!(
        "Event invoke 202, 1 client (durable enqueue) p50 {:>7.3} ms  p99 {:>7.3} ms",
        one.pct(0.5),
        one.pct(0.99)
    );

    for clients in [16usize, 64] {
        let t = Instant::now();
        let deadline = t + Duration::from_secs(3);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (key, secret) = (key.to_string(), secret.to_string());
            tasks.push(tokio::spawn(async move {
                let mut c = Client::new(port, &key, &secret);
                c.reconnect().await?;
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    lat.push(event(&mut c).await?);
                }
                Ok::<Vec<Duration>, anyhow::Error>(lat)
            }));
        }
        let mut all = Stats::default();
        for task in tasks {
            all.0.extend(task.await.context("bench task")??);
        }
        let secs = t.elapsed().as_secs_f64();
        sent += all.0.len() as u64;
        println!(
            "Event invoke 202, {clients:>2} clients: {:>7.0} acknowledged/s  p50 {:>7.3} ms  p99 {:>7.3} ms",
            all.0.len() as f64 / secs,
            all.pct(0.5),
            all.pct(0.99)
        );
    }

    let enqueued_at = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut done = completed(&mut client).await?;
    while done < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        done = completed(&mut client).await?;
    }
    let total = start.elapsed();
    println!(
        "drain (no-op python3.11, pollers): {done} of {sent} events run in {:.1} s after the first enqueue ({:.1} s of enqueueing): {:>6.0} events/s",
        total.as_secs_f64(),
        enqueued_at.as_secs_f64(),
        done as f64 / total.as_secs_f64()
    );
    Ok(())
}
