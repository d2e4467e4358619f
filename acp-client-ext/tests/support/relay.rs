//! A loopback HTTP/1.1 relay for the telemetry and proxy tests: it reads each request's head,
//! records it, and forwards the request to a loopback server, then pipes the bytes both ways.
//!
//! * [`Relay::reverse`]: in front of one server (the client's base URL is the relay): what the
//!   server receives is recorded (`traceparent` on every request, rejoins included).
//! * [`Relay::forward_proxy`]: a forward proxy: plain-HTTP (the client sends it absolute-URI
//!   requests) and `CONNECT` tunnels (for https, recorded as the `CONNECT` request); with
//!   `credentials`, a request without the right `Proxy-Authorization` is
//!   answered `407`. It strips `Proxy-Authorization` before forwarding, as proxies do.
//!
//! Every forwarded request carries `Connection: close`, so each connection holds one request
//! and the recorded head of the forwarded request is exactly what the server read. Only
//! `127.0.0.1` is ever connected to.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request that reached the relay.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request line as received (`POST http://127.0.0.1:1234/runs HTTP/1.1` for a proxy).
    pub request_line: String,
    /// The headers as received, names lower-cased.
    pub received: Vec<(String, String)>,
    /// The head forwarded to the server, as sent (`None` when refused).
    pub forwarded: Option<String>,
}

impl Seen {
    /// The value of a received header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.received
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running relay; dropping it stops accepting.
pub struct Relay {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
enum Mode {
    Reverse(SocketAddr),
    Proxy { credentials: Option<String> },
}

impl Relay {
    /// A relay in front of `upstream` (a loopback server).
    pub async fn reverse(upstream: SocketAddr) -> Relay {
        Self::start(Mode::Reverse(upstream)).await
    }

    /// A forward proxy; `credentials` is the `Proxy-Authorization` value it requires.
    pub async fn forward_proxy(credentials: Option<String>) -> Relay {
        Self::start(Mode::Proxy { credentials }).await
    }

    /// The relay's URL (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    async fn start(mode: Mode) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (mode, log) = (mode.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = relay_one(conn, mode, log).await;
                });
            }
        });
        Relay { addr, seen, task }
    }
}

/// Reads one request head (at most 64 KiB), returns it and the bytes read past it.
async fn read_head(conn: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed before a request head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn relay_one(
    mut conn: TcpStream,
    mode: Mode,
    log: Arc<Mutex<Vec<Seen>>>,
) -> std::io::Result<()> {
    let (head, rest) = read_head(&mut conn).await?;
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let request_line = lines.next().unwrap_or_default().to_string();
    let received: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut seen = Seen {
        request_line: request_line.clone(),
        received: received.clone(),
        forwarded: None,
    };
    let mut parts = request_line.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    let (upstream, path) = match &mode {
        Mode::Reverse(addr) => (*addr, target.to_string()),
        Mode::Proxy { credentials } => {
            let offered = seen.header("proxy-authorization");
            if credentials.is_some() && offered != credentials.as_deref() {
                log.lock().expect("lock").push(seen);
                conn.write_all(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                      Proxy-Authenticate: Basic realm=\"test\"\r\n\
                      Content-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await?;
                return Ok(());
            }
            if method == "CONNECT" {
                // A tunnel (for https): to `127.0.0.1:port` only.
                let port = target
                    .strip_prefix("127.0.0.1:")
                    .and_then(|p| p.parse().ok());
                log.lock().expect("lock").push(seen);
                let Some(port) = port else {
                    conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        .await?;
                    return Ok(());
                };
                let mut server =
                    TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).await?;
                conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await?;
                server.write_all(&rest).await?;
                tokio::io::copy_bidirectional(&mut conn, &mut server).await?;
                return Ok(());
            }
            // Only loopback targets: `http://127.0.0.1:port/path`.
            let Some(rest) = target.strip_prefix("http://127.0.0.1:") else {
                log.lock().expect("lock").push(seen);
                conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            };
            let (port, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let port: u16 = port.parse().map_err(std::io::Error::other)?;
            let path = if path.is_empty() { "/" } else { path };
            (SocketAddr::from(([127, 0, 0, 1], port)), path.to_string())
        }
    };
    let mut forwarded = format!("{method} {path} {version}\r\n");
    for (name, value) in &received {
        if matches!(
            name.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) {
            continue;
        }
        forwarded.push_str(&format!("{name}: {value}\r\n"));
    }
    forwarded.push_str("connection: close\r\n\r\n");
    seen.forwarded = Some(forwarded.clone());
    log.lock().expect("lock").push(seen);
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(forwarded.as_bytes()).await?;
    server.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut conn, &mut server).await?;
    Ok(())
}

/// RFC 4648 base64, for the expected `Proxy-Authorization` value.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Proxy-Authorization` (or `Authorization`) value of HTTP basic credentials.
pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}
