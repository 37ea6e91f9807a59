//! The API endpoint's listeners: plain TCP with `TCP_NODELAY`, and TLS (rustls with the aws-lc-rs
//! provider, TLS 1.2 and 1.3 only) with a certificate from `--tls-cert/--tls-key` or a self-signed one
//! generated into the data dir by `--tls`, handshakes in their own tasks so one slow client cannot
//! stall the others; and [`PeerAddr`], the client address middleware sees for either.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::serve::IncomingStream;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("{path}: {detail}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// rustls refused the configuration (e.g. the key does not match the certificate).
    #[error("the TLS certificate and key do not form a usable pair: {0}")]
    Config(String),
    /// Generating the self-signed certificate failed.
    #[error("generating a TLS certificate: {0}")]
    Generate(String),
}

fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::File {
        path: path.to_path_buf(),
        source,
    }
}

fn pem_err(path: &Path, detail: impl ToString) -> TlsError {
    TlsError::Pem {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the certificate comes from.
pub enum CertSource {
    /// PEM files given by the operator.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate kept in `dir` (generated on first use).
    SelfSigned { dir: PathBuf, listen: SocketAddr },
}

/// The server's TLS configuration and the SHA-256 fingerprint of its leaf certificate.
pub fn server_config(source: &CertSource) -> Result<(Arc<ServerConfig>, String), TlsError> {
    let (cert_path, key_path) = match source {
        CertSource::Files { cert, key } => (cert.clone(), key.clone()),
        CertSource::SelfSigned { dir, listen } => ensure_self_signed(dir, *listen)?,
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| pem_err(&cert_path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(&cert_path, e))?;
    let Some(leaf) = certs.first() else {
        return Err(pem_err(&cert_path, "no certificate in the file"));
    };
    let fingerprint = fingerprint(leaf);
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_err(&key_path, e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), fingerprint))
}

/// `AB:CD:...` — the SHA-256 of the certificate's DER, as browsers and `openssl x509 -fingerprint
/// -sha256` print it.
fn fingerprint(cert: &CertificateDer<'_>) -> String {
    ignis_crypto::sha256(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The self-signed certificate in `dir` (`cert.pem`, `key.pem` with mode 0600), made on first use
/// for localhost, the loopback addresses and the listen address.
fn ensure_self_signed(dir: &Path, listen: SocketAddr) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(dir).map_err(file_err(dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(file_err(dir))?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if !listen.ip().is_unspecified() && !listen.ip().is_loopback() {
        names.push(listen.ip().to_string());
    }
    let generated =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    ignis_crypto::write_secret_file(&key_path, generated.key_pair.serialize_pem().as_bytes())
        .map_err(file_err(&key_path))?;
    std::fs::write(&cert_path, generated.cert.pem()).map_err(file_err(&cert_path))?;
    Ok((cert_path, key_path))
}

/// A listener handing axum connections whose TLS handshake has completed.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accept TCP connections on `tcp` and run each handshake in its own task.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                if tx.is_closed() {
                    break;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The client's address, as handed to handlers and middleware (`ConnectInfo<PeerAddr>`), for plain
/// TCP and TLS listeners alike.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<IncomingStream<'_, TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, PlainListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, PlainListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// Plain HTTP: TCP connections with `TCP_NODELAY` (responses leave in one segment, no delayed-ACK
/// stalls).
pub struct PlainListener(pub TcpListener);

impl axum::serve::Listener for PlainListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        let _ = stream.set_nodelay(true);
        (stream, addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}
