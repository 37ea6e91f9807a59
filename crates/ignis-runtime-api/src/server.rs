//! The listener task, per-connection tasks, and the [`RuntimeApi`] handle that drives them.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::handlers::handle;
use crate::model::{Invocation, Outcome, RuntimeApiError};
use crate::state::{Begin, Phase, Prepared, Shared};
use crate::MAX_CONNECTIONS;

/// Serve the Runtime API on `listener` (already bound, e.g. inside the env's netns; std listener
/// set non-blocking and converted here). Returns a handle; the server task ends when the handle
/// and all clones are dropped or `shutdown()` is called.
///
/// Must be called from within a Tokio runtime (the server tasks are spawned on it); outside one
/// it returns an error of kind [`io::ErrorKind::Other`].
pub fn serve(listener: std::net::TcpListener) -> io::Result<RuntimeApi> {
    let rt = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let local_addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let shared = Arc::new(Shared::new());
    rt.spawn(accept_loop(listener, shared.clone()));
    Ok(RuntimeApi {
        inner: Arc::new(Owner { shared, local_addr }),
    })
}

/// Accepts runtime connections until shutdown.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut http = http1::Builder::new();
    http.keep_alive(true)
        .half_close(false)
        .auto_date_header(false)
        .max_headers(64)
        .max_header_size(64 * 1024);
    let http = Arc::new(http);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, _peer)) => {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                if shared.active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                    tracing::debug!("runtime API connection cap reached; closing new connection");
                    drop(stream);
                    continue;
                }
                shared.active.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(connection(stream, shared.clone(), http.clone()));
            }
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning; other errors
                // (a peer that reset before accept) concern one connection only.
                tracing::debug!(error = %e, "runtime API accept failed");
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                ) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// Serves one keep-alive connection until the runtime closes it or the server shuts down.
async fn connection(stream: TcpStream, shared: Arc<Shared>, http: Arc<http1::Builder>) {
    // Headers and body leave in one segment anyway, but never let delayed ACK stall a reply.
    let _ = stream.set_nodelay(true);
    let mut shutdown = shared.shutdown.subscribe();
    let svc_shared = shared.clone();
    let svc = service_fn(move |req| handle(svc_shared.clone(), req));
    let conn = http.serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "runtime API connection ended with an error");
            }
        }
        _ = shutdown.wait_for(|s| *s) => {}
    }
    shared.active.fetch_sub(1, Ordering::Relaxed);
}

/// Handle on one environment's Runtime API server. Cheap to clone; the server stops when the last
/// clone is dropped or [`RuntimeApi::shutdown`] is called.
#[derive(Clone)]
pub struct RuntimeApi {
    inner: Arc<Owner>,
}

/// Owned by the handles only (never by server tasks), so its drop means "no handle left".
struct Owner {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("local_addr", &self.inner.local_addr)
            .field("phase", &*self.inner.shared.phase.borrow())
            .finish()
    }
}

/// Removes the invocation if the `invoke` future is dropped before its outcome arrived.
struct AbandonGuard<'a> {
    shared: &'a Shared,
    seq: u64,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.abandon(self.seq);
        }
    }
}

impl RuntimeApi {
    /// Resolves when the runtime first calls /next (it finished init) — Ok — or posts /init/error — Err(Outcome::InitError{..}).
    ///
    /// After [`shutdown`](Self::shutdown) it resolves `Err(Outcome::InitError)`: the recorded
    /// init error if any, else one with no error type and an empty body. Never times out by
    /// itself: wrap it in `tokio::time::timeout`.
    pub async fn ready(&self) -> Result<(), Outcome> {
        let shared = &self.inner.shared;
        let mut rx = shared.phase.subscribe();
        let phase = match rx.wait_for(|p| *p != Phase::Init).await {
            Ok(p) => *p,
            Err(_) => Phase::Closed,
        };
        shared.ready_result(phase)
    }

    /// Hand one invocation to the runtime's pending/next /next call and wait for its outcome (one at a time; calling again while one is in flight is an error).
    ///
    /// * If the runtime already failed its init, resolves at once with that
    ///   [`Outcome::InitError`]; if it posts `/init/error` while the invocation waits, with that.
    /// * Enforces no timeout: the caller wraps it in `tokio::time::timeout` (and then kills the
    ///   environment). Dropping the future withdraws the invocation; if the runtime had already
    ///   received it, its late `/response` or `/error` is accepted (`202`) and discarded.
    ///
    /// # Errors
    /// [`RuntimeApiError::Busy`] if another invocation is in flight,
    /// [`RuntimeApiError::Closed`] if the server is or gets shut down,
    /// [`RuntimeApiError::InvalidHeaderValue`] if a field cannot be sent as a header.
    pub async fn invoke(&self, inv: Invocation) -> Result<Outcome, RuntimeApiError> {
        let shared: &Shared = &self.inner.shared;
        let prepared = Prepared::new(inv)?;
        let (tx, rx) = oneshot::channel();
        let seq = match shared.begin_invoke(prepared, tx)? {
            Begin::Started(seq) => seq,
            Begin::Failed(outcome) => return Ok(outcome),
        };
        let mut guard = AbandonGuard {
            shared,
            seq,
            armed: true,
        };
        shared.next_notify.notify_one();
        let result = rx.await;
        guard.armed = false;
        result.map_err(|_| RuntimeApiError::Closed)
    }

    /// Stops the server: the listener closes, runtime connections are dropped, and a waiting
    /// [`invoke`](Self::invoke) returns [`RuntimeApiError::Closed`]. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shared.shutdown();
    }

    /// Address the server listens on (as bound by the caller).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// Number of TCP connections accepted so far (a runtime normally keeps one open).
    pub fn connections_accepted(&self) -> u64 {
        self.inner.shared.accepted.load(Ordering::Relaxed)
    }

    /// Whether the server was shut down.
    pub fn is_closed(&self) -> bool {
        *self.inner.shared.shutdown.borrow()
    }
}
