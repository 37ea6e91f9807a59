//! `ignis-bench`: control-plane latency of a real `ignis server` on loopback with SigV4-signed
//! requests — CreateFunction (1 KB zip, durable commit), GetFunction, ListFunctions (page of 50 over
//! 1000 functions) — and, when `moto_server` is available, the same requests against it, with ratios.
//!
//! Usage: `cargo run --release -p ignis-bench -- [--ignis target/release/ignis] [--moto PATH] [--n 1000]
//! [--only-async | --no-async]` (the async part: Event invoke 202 latency, acknowledged/s, drain rate)
//!
//! The invoke part measures a Python echo and a `provided.al2023` `lambda_runtime` echo
//! (tests/e2e/stock/rust-echo, built on demand; `--rust-echo PATH` or `--no-rust-echo`) and, with
//! `--peers bench/peers` (setup: `bench/peers/setup.sh`) or `--peer-cargo-lambda URL` /
//! `--peer-serverless-offline URL`, the same functions on the peers, printed as one table.

mod async_bench;
mod client;
mod invoke;
mod peers;
mod report;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;

use client::Client;

struct Args {
    ignis: PathBuf,
    moto: Option<PathBuf>,
    n: usize,
    memory_mb: u32,
    control_plane: bool,
    invoke: bool,
    async_invoke: bool,
    /// The `lambda_runtime` echo `bootstrap`; `None` leaves the Rust echo out.
    rust_echo: Option<PathBuf>,
    cargo_lambda: Option<peers::Source>,
    serverless_offline: Option<peers::Source>,
    cold_runs: usize,
}

/// Where the e2e suite builds tests/e2e/stock/rust-echo.
fn rust_echo_target() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/ignis-e2e/rust-echo-target")
}

/// The echo `bootstrap`, built with cargo when missing.
fn build_rust_echo() -> anyhow::Result<PathBuf> {
    let target = rust_echo_target();
    let binary = target.join("release/bootstrap");
    if !binary.exists() {
        eprintln!("building tests/e2e/stock/rust-echo");
        let status = Command::new("cargo")
            .args(["build", "--release", "--manifest-path"])
            .arg("tests/e2e/stock/rust-echo/Cargo.toml")
            .arg("--target-dir")
            .arg(&target)
            .status()?;
        if !status.success() {
            bail!("building tests/e2e/stock/rust-echo failed");
        }
    }
    Ok(binary)
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        ignis: PathBuf::from("target/release/ignis"),
        moto: [".venv/bin/moto_server"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists()),
        n: 1000,
        memory_mb: 1769,
        control_plane: true,
        invoke: true,
        async_invoke: true,
        rust_echo: Some(PathBuf::new()),
        cargo_lambda: None,
        serverless_offline: None,
        cold_runs: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--ignis" => args.ignis = it.next().context("--ignis PATH")?.into(),
            "--moto" => args.moto = Some(it.next().context("--moto PATH")?.into()),
            "--no-moto" => args.moto = None,
            "--n" => args.n = it.next().context("--n N")?.parse()?,
            "--only-invoke" => args.control_plane = false,
            "--memory" => args.memory_mb = it.next().context("--memory MB")?.parse()?,
            "--only-control-plane" => {
                args.invoke = false;
                args.async_invoke = false;
            }
            "--only-async" => {
                args.invoke = false;
                args.control_plane = false;
            }
            "--no-async" => args.async_invoke = false,
            "--rust-echo" => args.rust_echo = Some(it.next().context("--rust-echo PATH")?.into()),
            "--no-rust-echo" => args.rust_echo = None,
            "--peers" => {
                let dir = PathBuf::from(it.next().context("--peers DIR")?);
                args.cargo_lambda = Some(peers::Source::Dir(dir.clone()));
                args.serverless_offline = Some(peers::Source::Dir(dir));
            }
            "--peer-cargo-lambda" => {
                let url = it.next().context("--peer-cargo-lambda URL")?;
                peers::loopback_port(&url)?;
                args.cargo_lambda = Some(peers::Source::Url(url));
            }
            "--peer-serverless-offline" => {
                let url = it.next().context("--peer-serverless-offline URL")?;
                peers::loopback_port(&url)?;
                args.serverless_offline = Some(peers::Source::Url(url));
            }
            "--peer-cold-runs" => {
                args.cold_runs = it.next().context("--peer-cold-runs N")?.parse()?
            }
            "--help" | "-h" => {
                println!("{}", USAGE);
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(args)
}

const USAGE: &str = "ignis-bench [--ignis target/release/ignis] [--n 1000] [--memory MB]
  [--only-invoke | --only-control-plane | --only-async | --no-async] [--moto PATH | --no-moto]
  [--rust-echo BOOTSTRAP | --no-rust-echo]   lambda_runtime echo (default: built from tests/e2e/stock/rust-echo)
  [--peers bench/peers]                      start cargo lambda watch and serverless-offline from the
                                             setup dir (bench/peers/setup.sh installs them) and measure them
  [--peer-cargo-lambda http://127.0.0.1:9000] [--peer-serverless-offline http://127.0.0.1:3002]
                                             measure already running peers (no cold starts)
  [--peer-cold-runs 3]                       fresh peer starts whose first invoke is its cold start";

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A child process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_ready(client: &mut Client, path: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if client.reconnect().await.is_ok() && client.get_unsigned(path).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("server did not become ready")
}

fn one_kb_zip() -> anyhow::Result<String> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("app.py", opts)?;
    let mut body = b"def handler(event, context):\n    return event\n".to_vec();
    body.resize(900, b'#');
    w.write_all(&body)?;
    let bytes = w.finish()?.into_inner();
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Latency samples.
#[derive(Default)]
pub(crate) struct Stats(pub(crate) Vec<Duration>);

impl Stats {
    /// The `p` quantile in milliseconds.
    pub(crate) fn pct(&self, p: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort();
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }
}

struct Results {
    create: Stats,
    get: Stats,
    list: Stats,
}

async fn run_suite(
    client: &mut Client,
    n: usize,
    tag: &str,
    role: &str,
) -> anyhow::Result<Results> {
    let zip = one_kb_zip()?;
    let mut r = Results {
        create: Stats::default(),
        get: Stats::default(),
        list: Stats::default(),
    };
    for i in 0..n {
        let body = serde_json::json!({
            "FunctionName": format!("bench-{tag}-{i:05}"),
            "Runtime": "python3.11",
            "Role": role,
            "Handler": "app.handler",
            "Code": {"ZipFile": zip},
        })
        .to_string();
        let t = Instant::now();
        let status = client
            .call("POST", "/2015-03-31/functions", None, body.as_bytes())
            .await?;
        r.create.0.push(t.elapsed());
        if status != 201 {
            bail!("CreateFunction answered {status}");
        }
    }
    for i in 0..(2 * n) {
        let path = format!("/2015-03-31/functions/bench-{tag}-{:05}", i % n);
        let t = Instant::now();
        let status = client.call("GET", &path, None, b"").await?;
        r.get.0.push(t.elapsed());
        if status != 200 {
            bail!("GetFunction answered {status}");
        }
    }
    for _ in 0..(n / 2).max(50) {
        let t = Instant::now();
        let status = client
            .call("GET", "/2015-03-31/functions", Some("MaxItems=50"), b"")
            .await?;
        r.list.0.push(t.elapsed());
        if status != 200 {
            bail!("ListFunctions answered {status}");
        }
    }
    Ok(r)
}

fn print_row(name: &str, ignis: &Stats, peer: Option<&Stats>) {
    let (p50, p99) = (ignis.pct(0.5), ignis.pct(0.99));
    match peer {
        Some(m) => println!(
            "{name:<32} ignis p50 {p50:>7.3} ms  p99 {p99:>7.3} ms | moto p50 {:>7.3} ms  p99 {:>7.3} ms | p50 ratio {:>5.1}x",
            m.pct(0.5),
            m.pct(0.99),
            m.pct(0.5) / p50
        ),
        None => println!("{name:<32} ignis p50 {p50:>7.3} ms  p99 {p99:>7.3} ms"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let dir = std::env::temp_dir().join(format!("ignis-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let (key, secret) = (
        "AKIABENCHBENCHBENCH0",
        "benchsecretbenchsecretbenchsecretbench00",
    );
    let _ignis = Server(
        Command::new(&args.ignis)
            .args(["server", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("IGNIS_ACCESS_KEY_ID", key)
            .env("IGNIS_SECRET_ACCESS_KEY", secret)
            .env("IGNIS_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", args.ignis.display()))?,
    );
    let mut ignis = Client::new(port, key, secret);
    wait_ready(&mut ignis, "/health").await?;
    if args.invoke {
        println!("ignis-bench invoke: SigV4-signed, loopback, process sandbox");
        let rust_echo = match &args.rust_echo {
            Some(p) if p.as_os_str().is_empty() => Some(build_rust_echo()?),
            other => other.clone(),
        };
        let mut rows = invoke::run(
            port,
            _ignis.0.id(),
            key,
            secret,
            args.n,
            args.memory_mb,
            rust_echo.as_deref(),
        )
        .await?;
        let peer_list = [
            (peers::Kind::CargoLambda, &args.cargo_lambda),
            (peers::Kind::ServerlessOffline, &args.serverless_offline),
        ];
        for (kind, source) in peer_list {
            if let Some(source) = source {
                rows.extend(peers::run(kind, source, args.n, args.cold_runs, &dir).await?);
            }
        }
        report::print(&rows);
    }
    if args.async_invoke {
        println!("ignis-bench async: Event invokes, SigV4-signed, loopback");
        async_bench::run(port, key, secret, args.n).await?;
    }
    if !args.control_plane {
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    println!(
        "ignis-bench: {} functions, SigV4-signed, loopback, one keep-alive connection",
        args.n
    );
    let ig = run_suite(
        &mut ignis,
        args.n,
        "i",
        "arn:aws:iam::000000000000:role/bench",
    )
    .await?;

    let moto = match &args.moto {
        Some(path) => {
            let mport = free_port()?;
            let _m = Server(
                Command::new(path)
                    .args(["-p", &mport.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .with_context(|| format!("starting {}", path.display()))?,
            );
            let mut m = Client::new(mport, "testing", "testing");
            wait_ready(&mut m, "/moto-api/").await?;
            // moto checks that the execution role exists in its IAM.
            let form = "Action=CreateRole&Version=2010-05-08&RoleName=bench&AssumeRolePolicyDocument=%7B%7D";
            let status = m.call_form("/", form.as_bytes()).await?;
            if status != 200 {
                bail!("moto CreateRole answered {status}");
            }
            Some(run_suite(&mut m, args.n, "m", "arn:aws:iam::123456789012:role/bench").await?)
        }
        None => {
            println!("(moto_server not found: pass --moto PATH to compare)");
            None
        }
    };
    print_row(
        "CreateFunction (1 KB zip)",
        &ig.create,
        moto.as_ref().map(|m| &m.create),
    );
    print_row("GetFunction", &ig.get, moto.as_ref().map(|m| &m.get));
    print_row(
        &format!("ListFunctions (50 of {})", args.n),
        &ig.list,
        moto.as_ref().map(|m| &m.list),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
