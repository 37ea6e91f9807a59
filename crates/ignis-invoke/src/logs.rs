//! Function logs: capture of a runtime's stdout/stderr (read continuously so the runtime never blocks
//! on a full pipe, drained once more after each outcome so nothing written before the response is
//! lost), and the platform lines AWS writes around each invocation (START / END / REPORT).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::net::unix::pipe::Receiver;

/// Most bytes of output kept between two drains (older bytes are dropped, as a log line limit).
const MAX_BUFFERED: usize = 1 << 20;
/// Size of `X-Amz-Log-Result` before base64 (the last 4 KB).
pub const TAIL_BYTES: usize = 4096;

/// Captured output of one environment.
#[derive(Debug, Clone)]
pub struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
    pipes: Arc<Vec<Receiver>>,
}

/// Read what is available from `pipe` into `out` without blocking; false once the pipe is closed.
///
/// This reads the descriptor directly rather than through tokio's readiness cache: a final drain
/// must see bytes the runtime wrote just before answering, even if the reactor has not yet
/// reported them. The descriptor is non-blocking, so this never waits.
fn read_available(pipe: &Receiver, out: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16384];
    loop {
        // SAFETY: `chunk` is a valid writable buffer of `chunk.len()` bytes and the descriptor
        // stays open for the call (owned by `pipe`, which outlives it).
        let n = unsafe { libc::read(pipe.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        match n {
            0 => return false,
            n if n > 0 => append(out, &chunk[..n as usize]),
            _ => {
                let e = std::io::Error::last_os_error();
                return matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                );
            }
        }
    }
}

/// Like [`read_available`], through tokio so that `WouldBlock` clears the cached readiness.
fn read_through_reactor(pipe: &Receiver, out: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16384];
    loop {
        match pipe.try_read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => append(out, &chunk[..n]),
            Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
        }
    }
}

fn append(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    if out.len() > MAX_BUFFERED {
        let excess = out.len() - MAX_BUFFERED;
        out.drain(..excess);
    }
}

impl LogCapture {
    /// Start capturing the two output pipes of an environment (must be called in a tokio runtime).
    pub fn start(stdout: OwnedFd, stderr: OwnedFd) -> std::io::Result<Self> {
        let capture = Self {
            buf: Arc::new(Mutex::new(Vec::new())),
            pipes: Arc::new(vec![
                Receiver::from_owned_fd(stdout)?,
                Receiver::from_owned_fd(stderr)?,
            ]),
        };
        for i in 0..2 {
            let c = capture.clone();
            tokio::spawn(async move { c.pump(i).await });
        }
        Ok(capture)
    }

    async fn pump(&self, i: usize) {
        let pipe = &self.pipes[i];
        loop {
            if pipe.readable().await.is_err() {
                return;
            }
            let open = match self.buf.lock() {
                Ok(mut buf) => read_through_reactor(pipe, &mut buf),
                Err(_) => false,
            };
            if !open {
                return;
            }
        }
    }

    /// Everything captured since the last take, after reading what the pipes hold right now.
    pub fn take(&self) -> Vec<u8> {
        let Ok(mut buf) = self.buf.lock() else {
            return Vec::new();
        };
        for pipe in self.pipes.iter() {
            read_available(pipe, &mut buf);
        }
        std::mem::take(&mut *buf)
    }
}

/// `START RequestId: … Version: …`
pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}\n")
}

/// `END RequestId: …`
pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}\n")
}

/// Billed duration of a run: rounded up to the millisecond, at least 1 ms.
pub fn billed_ms(duration: Duration) -> u64 {
    (duration.as_micros() as u64).div_ceil(1000).max(1)
}

/// The REPORT line exactly as AWS formats it.
pub fn report_line(
    request_id: &str,
    duration: Duration,
    memory_mb: u32,
    max_memory_bytes: Option<u64>,
    init: Option<Duration>,
) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    let billed = billed_ms(duration);
    let used_mb = max_memory_bytes
        .map(|b| b.div_ceil(1024 * 1024))
        .unwrap_or(0);
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {used_mb} MB\t"
    );
    if let Some(init) = init {
        line.push_str(&format!(
            "Init Duration: {:.2} ms\t",
            init.as_secs_f64() * 1000.0
        ));
    }
    line.push('\n');
    line
}

/// Log levels of `LoggingConfig`, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// TRACE.
    Trace,
    /// DEBUG.
    Debug,
    /// INFO.
    Info,
    /// WARN.
    Warn,
    /// ERROR.
    Error,
    /// FATAL.
    Fatal,
}

impl Level {
    /// Parse a level name (any case; `WARNING` and `CRITICAL` as Python names them).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "TRACE" => Level::Trace,
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARN" | "WARNING" => Level::Warn,
            "ERROR" => Level::Error,
            "FATAL" | "CRITICAL" => Level::Fatal,
            _ => return None,
        })
    }
}

/// A function's `LoggingConfig` as it shapes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogFormat {
    /// `LogFormat: JSON` (else Text, where nothing is filtered or reshaped).
    pub json: bool,
    /// Lowest application level kept (JSON only; default INFO).
    pub application: Level,
    /// Lowest system level kept (JSON only; default INFO).
    pub system: Level,
}

impl LogFormat {
    /// The format of a function's `LoggingConfig`.
    pub fn of(cfg: &ignis_core::model::LoggingConfig) -> Self {
        let level = |v: &Option<String>| v.as_deref().and_then(Level::parse).unwrap_or(Level::Info);
        Self {
            json: cfg.log_format.as_deref() == Some("JSON"),
            application: level(&cfg.application_log_level),
            system: level(&cfg.system_log_level),
        }
    }
}

fn rfc3339_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split('\t')
        .find_map(|part| part.trim().strip_prefix(name))
        .map(|v| v.trim_end_matches(" ms").trim_end_matches(" MB").trim())
}

/// Reshape one invocation's text log for `LogFormat: JSON`, as Lambda does: START, END and
/// REPORT become `platform.start`, `platform.runtimeDone` and `platform.report` records (INFO,
/// kept if the system level allows), application lines are kept or dropped by their level (a
/// JSON object's `level`, else INFO). `status` is the invocation's outcome (`success`, `error`,
/// `timeout`, `failure`).
pub fn to_json_format(log: &[u8], fmt: &LogFormat, status: &str, now_ms: i64) -> Vec<u8> {
    let time = rfc3339_ms(now_ms);
    let mut out = Vec::with_capacity(log.len() + 256);
    for line in log.split_inclusive(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let trimmed = text.trim_end_matches('\n');
        let record = if let Some(rest) = trimmed.strip_prefix("START RequestId: ") {
            let (id, version) = rest.split_once(" Version: ").unwrap_or((rest, ""));
            Some(serde_json::json!({"time": time, "type": "platform.start",
                "record": {"requestId": id, "version": version}}))
        } else if let Some(id) = trimmed.strip_prefix("END RequestId: ") {
            Some(
                serde_json::json!({"time": time, "type": "platform.runtimeDone",
                "record": {"requestId": id.trim(), "status": status}}),
            )
        } else if let Some(rest) = trimmed.strip_prefix("REPORT RequestId: ") {
            let id = rest.split('\t').next().unwrap_or("").trim();
            let num = |name: &str| field(trimmed, name).and_then(|v| v.parse::<f64>().ok());
            let mut metrics = serde_json::json!({
                "durationMs": num("Duration: ").unwrap_or(0.0),
                "billedDurationMs": num("Billed Duration: ").unwrap_or(0.0) as u64,
                "memorySizeMB": num("Memory Size: ").unwrap_or(0.0) as u64,
                "maxMemoryUsedMB": num("Max Memory Used: ").unwrap_or(0.0) as u64,
            });
            if let Some(init) = num("Init Duration: ") {
                metrics["initDurationMs"] = serde_json::json!(init);
            }
            Some(serde_json::json!({"time": time, "type": "platform.report",
                "record": {"requestId": id, "metrics": metrics, "status": status}}))
        } else {
            None
        };
        match record {
            Some(r) => {
                if Level::Info >= fmt.system {
                    out.extend_from_slice(r.to_string().as_bytes());
                    out.push(b'\n');
                }
            }
            None => {
                let level = serde_json::from_str::<serde_json::Value>(trimmed)
                    .ok()
                    .and_then(|v| {
                        v.get("level")
                            .and_then(|l| l.as_str())
                            .and_then(Level::parse)
                    })
                    .unwrap_or(Level::Info);
                if level >= fmt.application {
                    out.extend_from_slice(line);
                }
            }
        }
    }
    out
}

/// Where invocations report besides their caller: the function log store and the metrics.
#[derive(Debug, Clone)]
pub struct Observer {
    /// The log store (`/aws/lambda/NAME` groups, a stream per environment).
    pub logs: ignis_observe::LogStore,
    /// Prometheus metrics.
    pub metrics: std::sync::Arc<ignis_observe::Metrics>,
    /// Usage metering (requests and billed GB-seconds).
    pub meter: std::sync::Arc<ignis_observe::metering::Meter>,
}

/// The `resource` metric label of an invoked ARN: `NAME`, or `NAME:QUALIFIER` for a version or
/// alias (CloudWatch's `Resource` dimension).
pub fn resource_of(invoked_arn: &str) -> &str {
    invoked_arn
        .split_once(":function:")
        .map_or(invoked_arn, |(_, rest)| rest)
}

/// Append one invocation's log to a stream of the store, one event per line. A leading START
/// line is stamped `started` (when the invocation began); everything else now.
pub fn store_invocation_log(
    store: &ignis_observe::LogStore,
    group: &str,
    stream: &str,
    started: Option<i64>,
    log: &[u8],
) {
    let now = ignis_observe::logs::store::now_ms();
    let events: Vec<(i64, &[u8])> = ignis_observe::logs::store::split_lines(log)
        .enumerate()
        .map(|(i, line)| match started {
            Some(t) if i == 0 && line.starts_with(b"START ") => (t.min(now), line),
            _ => (now, line),
        })
        .collect();
    if let Err(e) = store.append(group, stream, &events) {
        tracing::warn!(error = %e, group, "writing function logs failed");
    }
}

/// Base64 of the last 4 KB of `log`, for `X-Amz-Log-Result`.
pub fn tail_base64(log: &[u8]) -> String {
    let start = log.len().saturating_sub(TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&log[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_format() {
        let l = report_line(
            "abc",
            Duration::from_micros(1234),
            128,
            Some(40 * 1024 * 1024),
            Some(Duration::from_micros(12_340)),
        );
        assert_eq!(l, "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 12.34 ms\t\n");
        let l = report_line("abc", Duration::from_micros(3000), 256, None, None);
        assert!(l.contains("Billed Duration: 3 ms\t") && !l.contains("Init"));
    }

    #[test]
    fn json_format_reshapes_platform_lines_and_filters_levels() {
        let log = format!(
            "{}{{\"level\": \"DEBUG\", \"msg\": \"noisy\"}}\n{{\"level\": \"ERROR\", \"msg\": \"bad\"}}\nplain\n{}{}",
            start_line("r1", "$LATEST"),
            end_line("r1"),
            report_line("r1", Duration::from_micros(2500), 128, Some(30 << 20), Some(Duration::from_millis(12)))
        );
        let fmt = LogFormat {
            json: true,
            application: Level::Info,
            system: Level::Info,
        };
        let out = String::from_utf8(to_json_format(
            log.as_bytes(),
            &fmt,
            "success",
            1_700_000_000_123,
        ))
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        let start: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(start["type"], "platform.start");
        assert_eq!(start["time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(start["record"]["version"], "$LATEST");
        assert!(lines[1].contains("\"bad\"") && lines[2] == "plain");
        let report: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(report["record"]["metrics"]["billedDurationMs"], 3);
        assert_eq!(report["record"]["metrics"]["maxMemoryUsedMB"], 30);
        assert_eq!(report["record"]["metrics"]["initDurationMs"], 12.0);
        assert_eq!(report["record"]["status"], "success");
        let quiet = LogFormat {
            json: true,
            application: Level::Error,
            system: Level::Warn,
        };
        let out = String::from_utf8(to_json_format(log.as_bytes(), &quiet, "success", 0)).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
    }

    #[test]
    fn resource_label_of_invoked_arn() {
        assert_eq!(
            resource_of("arn:aws:lambda:us-east-1:123456789012:function:f"),
            "f"
        );
        assert_eq!(
            resource_of("arn:aws:lambda:us-east-1:123456789012:function:f:prod"),
            "f:prod"
        );
    }

    #[test]
    fn invocation_log_goes_to_the_store_line_by_line() {
        let dir = std::env::temp_dir().join(format!("ignis-invoke-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store =
            ignis_observe::LogStore::open(ignis_observe::LogStoreConfig::new(&dir)).unwrap();
        let log = format!(
            "{}hello\nworld\n{}",
            start_line("r1", "$LATEST"),
            end_line("r1")
        );
        store_invocation_log(&store, "/aws/lambda/f", "s", Some(5), log.as_bytes());
        let api = ignis_observe::LogsApi::new(store, "us-east-1", "123456789012");
        let out = api
            .handle_blocking(
                "GetLogEvents",
                serde_json::json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s", "startFromHead": true}),
            )
            .unwrap();
        let messages: Vec<&str> = out["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(
            messages,
            [
                "START RequestId: r1 Version: $LATEST\n",
                "hello\n",
                "world\n",
                "END RequestId: r1\n"
            ]
        );
        assert_eq!(out["events"][0]["timestamp"], 5);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tail_keeps_last_4kb() {
        let log = vec![b'x'; 10_000];
        let t = base64::engine::general_purpose::STANDARD
            .decode(tail_base64(&log))
            .unwrap();
        assert_eq!(t.len(), TAIL_BYTES);
    }

    #[tokio::test]
    async fn capture_reads_pipe_output_in_order() {
        let (r1, w1) = std::io::pipe().unwrap();
        let (r2, _w2) = std::io::pipe().unwrap();
        let cap = LogCapture::start(OwnedFd::from(r1), OwnedFd::from(r2)).unwrap();
        use std::io::Write;
        let mut w1 = w1;
        w1.write_all(b"hello\n").unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        w1.write_all(b"world\n").unwrap();
        assert_eq!(cap.take(), b"hello\nworld\n");
        assert!(cap.take().is_empty());
    }
}
