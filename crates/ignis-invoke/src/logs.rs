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

/// The REPORT line exactly as AWS formats it.
pub fn report_line(
    request_id: &str,
    duration: Duration,
    memory_mb: u32,
    max_memory_bytes: Option<u64>,
    init: Option<Duration>,
) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    let billed = (duration.as_micros() as u64).div_ceil(1000).max(1);
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
