//! Test helpers: a minimal blocking HTTP/1.1 keep-alive client playing the runtime, and
//! invocation builders.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ignis_runtime_api::{serve, Invocation, RuntimeApi};

/// Binds a loopback listener and serves the Runtime API on it.
pub fn start() -> (RuntimeApi, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let api = serve(listener).expect("serve");
    (api, addr)
}

/// Current Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// An invocation with the given id and payload, a 3 s deadline and no optional headers.
pub fn invocation(id: &str, payload: &'static [u8]) -> Invocation {
    Invocation {
        request_id: id.to_owned(),
        deadline_ms: now_ms() + 3_000,
        invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".to_owned(),
        trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
            .to_owned(),
        client_context: None,
        cognito_identity: None,
        payload: Bytes::from_static(payload),
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// One keep-alive connection to the Runtime API, spoken by hand.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// Connects (with `TCP_NODELAY`, as real runtime clients do).
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one request (with `Content-Length`) and reads its response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Resp> {
        let mut req = Vec::with_capacity(256 + body.len());
        write!(req, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n")?;
        for (k, v) in headers {
            write!(req, "{k}: {v}\r\n")?;
        }
        if method != "GET" || !body.is_empty() {
            write!(req, "Content-Length: {}\r\n", body.len())?;
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        self.stream.write_all(&req)?;
        self.read_response()
    }

    /// `GET /next`.
    pub fn next(&mut self) -> io::Result<Resp> {
        self.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"")
    }

    /// `POST /{id}/response`.
    pub fn respond(&mut self, id: &str, body: &[u8]) -> io::Result<Resp> {
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        self.request("POST", &path, &[], body)
    }

    /// Reads one response (`Content-Length` framed, as the server always sends).
    pub fn read_response(&mut self) -> io::Result<Resp> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            self.fill()?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            .to_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, status_line.to_owned()))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let start = head_end + 4;
        while self.buf.len() < start + len {
            self.fill()?;
        }
        let body = self.buf[start..start + len].to_vec();
        self.buf.drain(..start + len);
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// Whether the server closed the connection (EOF or reset within `wait`).
    pub fn closed_by_server(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).expect("timeout");
        let mut b = [0u8; 1];
        let closed = match self.stream.read(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
        };
        self.stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        closed
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
