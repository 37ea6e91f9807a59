//! Peers measured next to Ignis on the same machine with the same payload and the same keep-alive
//! client: `cargo lambda watch` serving the `lambda_runtime` echo, and serverless-offline (v3)
//! serving Python and Node.js echo handlers, both through their Lambda Invoke API. They are either
//! already running (`--peer-cargo-lambda URL`, `--peer-serverless-offline URL`) or started by the
//! bench from the scripts in `bench/peers/` (`--peers DIR`), which also gives their cold starts:
//! the first invoke after a fresh start, over a few restarts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::client::Client;
use crate::invoke::{self, Row, Target};
use crate::Stats;

/// Which peer server.
#[derive(Clone, Copy)]
pub enum Kind {
    CargoLambda,
    ServerlessOffline,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::CargoLambda => "cargo lambda watch",
            Kind::ServerlessOffline => "serverless-offline",
        }
    }

    /// (function name on the peer, row label).
    fn functions(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::CargoLambda => &[("bootstrap", "rust echo (lambda_runtime)")],
            Kind::ServerlessOffline => &[
                ("ignis-bench-peer-dev-py-echo", "python echo (python3.11)"),
                ("ignis-bench-peer-dev-node-echo", "node echo (nodejs20.x)"),
            ],
        }
    }

    fn script(self, dir: &Path) -> PathBuf {
        match self {
            Kind::CargoLambda => dir.join("cargo-lambda.sh"),
            Kind::ServerlessOffline => dir.join("serverless").join("start.sh"),
        }
    }
}

/// Where a peer is: an already running one, or one the bench starts from the setup directory.
pub enum Source {
    Url(String),
    Dir(PathBuf),
}

/// The port of a loopback `http://127.0.0.1:PORT` URL.
pub fn loopback_port(url: &str) -> anyhow::Result<u16> {
    let rest = url
        .strip_prefix("http://")
        .context("peer URL must be http://127.0.0.1:PORT")?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let (host, port) = hostport.rsplit_once(':').context("peer URL needs a port")?;
    if host != "127.0.0.1" && host != "localhost" {
        bail!("peers are measured on loopback only, not {host}");
    }
    Ok(port.parse()?)
}

/// A peer process tree started by the bench; terminated (children first) when dropped.
struct Peer(Child);

/// CPU time (user + system, in seconds) used so far by `pid` and its live descendants: the server
/// and its function processes (USER_HZ is 100 on Linux).
pub fn tree_cpu_secs(pid: u32) -> f64 {
    let mut pids = descendants(pid);
    pids.push(pid);
    let ticks: u64 = pids
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the comm: state(0) ppid(1) ... utime(11) stime(12).
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    ticks as f64 / 100.0
}

/// Every descendant of `pid`, from /proc (cargo-lambda runs the function in its own process group).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parent = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok());
            if let Some(pp) = ppid {
                parent.push((p, pp));
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(parent.iter().filter(|(_, pp)| *pp == cur).map(|(p, _)| *p));
        i += 1;
    }
    out.remove(0);
    out
}

impl Drop for Peer {
    fn drop(&mut self) {
        let mut pids = descendants(self.0.id());
        pids.push(self.0.id());
        let _ = Command::new("kill")
            .arg("-TERM")
            .args(pids.iter().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
        let left: Vec<String> = pids
            .iter()
            .filter(|p| Path::new(&format!("/proc/{p}")).exists())
            .map(u32::to_string)
            .collect();
        if !left.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&left)
                .stderr(Stdio::null())
                .status();
        }
    }
}

async fn start(kind: Kind, dir: &Path, port: u16, log: &Path) -> anyhow::Result<Peer> {
    let script = kind.script(dir);
    let out = std::fs::File::create(log)?;
    let child = Command::new(&script)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", script.display()))?;
    let mut peer = Peer(child);
    for _ in 0..1200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            // Let the server finish starting so that the first invoke measures the function's
            // cold start, not the server's.
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(peer);
        }
        if let Ok(Some(status)) = peer.0.try_wait() {
            bail!(
                "{} exited ({status}) before listening; see {}",
                kind.name(),
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "{} did not listen on {port}; see {}",
        kind.name(),
        log.display()
    )
}

fn target(port: u16, function: &str, cpu_root: Option<u32>) -> Target {
    Target {
        port,
        cpu_root,
        key: "testing".into(),
        secret: "testing".into(),
        function: function.into(),
    }
}

/// Measure one peer: cold starts over `cold_runs` fresh starts when the bench starts it, then warm
/// latency and throughput of each of its functions.
pub async fn run(
    kind: Kind,
    source: &Source,
    n: usize,
    cold_runs: usize,
    work: &Path,
) -> anyhow::Result<Vec<Row>> {
    let functions = kind.functions();
    let mut colds: Vec<Stats> = functions.iter().map(|_| Stats::default()).collect();
    let (port, peer) = match source {
        Source::Url(url) => (loopback_port(url)?, None),
        Source::Dir(dir) => {
            let port = crate::free_port()?;
            let log = work.join(format!("peer-{port}.log"));
            let mut peer = None;
            for run in 0..cold_runs.max(1) {
                drop(peer.take());
                eprintln!("  starting {} (run {})", kind.name(), run + 1);
                let p = start(kind, dir, port, &log).await?;
                for ((function, _), cold) in functions.iter().zip(colds.iter_mut()) {
                    let mut client = Client::new(port, "testing", "testing");
                    client.reconnect().await?;
                    cold.0
                        .push(invoke::invoke(&mut client, function, false).await?.0);
                }
                peer = Some(p);
            }
            (port, peer)
        }
    };
    let cpu_root = peer.as_ref().map(|p: &Peer| p.0.id());
    let mut rows = Vec::new();
    for ((function, label), cold) in functions.iter().zip(colds) {
        let t = target(port, function, cpu_root);
        let mut row = invoke::measure(kind.name(), label, &t, n).await?;
        if !cold.0.is_empty() {
            row.cold = Some(cold);
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_must_be_loopback_with_a_port() {
        assert_eq!(loopback_port("http://127.0.0.1:9000").unwrap(), 9000);
        assert_eq!(loopback_port("http://localhost:3002/").unwrap(), 3002);
        assert!(loopback_port("http://10.0.0.1:9000").is_err());
        assert!(loopback_port("https://127.0.0.1:9000").is_err());
        assert!(loopback_port("http://127.0.0.1").is_err());
    }

    #[test]
    fn a_child_is_a_descendant_and_cpu_is_counted() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let me = std::process::id();
        assert!(descendants(me).contains(&child.id()));
        // Burn some CPU so that at least one tick is accounted to this process.
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(100) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(tree_cpu_secs(me) > 0.0);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
