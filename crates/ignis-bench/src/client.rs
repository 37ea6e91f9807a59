//! A minimal keep-alive HTTP/1.1 client (hyper) that signs requests with SigV4 like botocore.

use std::time::SystemTime;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// One connection to a server on loopback.
pub struct Client {
    port: u16,
    key: String,
    secret: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client for `127.0.0.1:port` signing with `key`/`secret`.
    pub fn new(port: u16, key: &str, secret: &str) -> Self {
        Self {
            port,
            key: key.into(),
            secret: secret.into(),
            sender: None,
        }
    }

    /// (Re)open the connection.
    pub async fn reconnect(&mut self) -> anyhow::Result<()> {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("connection error: {e}");
            }
        });
        self.sender = Some(sender);
        Ok(())
    }

    async fn send(&mut self, req: hyper::Request<Full<Bytes>>) -> anyhow::Result<u16> {
        Ok(self.send_full(req).await?.0)
    }

    async fn send_full(
        &mut self,
        req: hyper::Request<Full<Bytes>>,
    ) -> anyhow::Result<(u16, hyper::HeaderMap, Bytes)> {
        // Servers that close after each response (moto's werkzeug) get a fresh connection.
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.reconnect().await?;
        }
        let sender = self.sender.as_mut().context("not connected")?;
        if sender.ready().await.is_err() {
            self.reconnect().await?;
        }
        let sender = self.sender.as_mut().context("not connected")?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, headers, body))
    }

    /// GET without a signature (health checks).
    pub async fn get_unsigned(&mut self, path: &str) -> anyhow::Result<u16> {
        let req = hyper::Request::get(path)
            .header("host", format!("127.0.0.1:{}", self.port))
            .body(Full::new(Bytes::new()))?;
        self.send(req).await
    }

    /// GET without a signature, returning the body as text (`/metrics`).
    pub async fn get_text(&mut self, path: &str) -> anyhow::Result<String> {
        let req = hyper::Request::get(path)
            .header("host", format!("127.0.0.1:{}", self.port))
            .body(Full::new(Bytes::new()))?;
        let (_, _, body) = self.send_full(req).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// An unsigned form POST (setting up peers that do not check signatures).
    pub async fn call_form(&mut self, path: &str, body: &[u8]) -> anyhow::Result<u16> {
        let req = hyper::Request::post(path)
            .header("host", format!("127.0.0.1:{}", self.port))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(Full::new(Bytes::copy_from_slice(body)))?;
        self.send(req).await
    }

    /// A SigV4-signed request; returns the status after reading the whole body.
    pub async fn call(
        &mut self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> anyhow::Result<u16> {
        Ok(self.call_full(method, path, query, &[], body).await?.0)
    }

    /// A SigV4-signed request with extra headers; returns status, headers and body.
    pub async fn call_full(
        &mut self,
        method: &str,
        path: &str,
        query: Option<&str>,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<(u16, hyper::HeaderMap, Bytes)> {
        let host = format!("127.0.0.1:{}", self.port);
        let mut headers = vec![
            ("host".to_string(), host.clone()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let signed = ignis_api::sigv4::sign(
            method,
            path,
            query,
            &headers,
            body,
            &self.key,
            &self.secret,
            None,
            "us-east-1",
            "lambda",
            SystemTime::now(),
        );
        let uri = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let mut b = hyper::Request::builder().method(method).uri(uri);
        for (k, v) in headers.iter().chain(signed.iter()) {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b.body(Full::new(Bytes::copy_from_slice(body)))?;
        self.send_full(req).await
    }
}
