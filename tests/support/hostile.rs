//! Hostile and broken servers on loopback, for the negative tests: a port that accepts and
//! never answers, one that drips a reply a byte at a time, one that streams a huge body (one
//! byte, or a listing row, repeated), one that answers garbage or hangs up at once, a closed
//! port, a port that speaks TLS and plain HTTP on the same socket (nginx `ssl` with
//! `error_page 497`), and a port that answers MongoDB's HTTP notice but no wire protocol.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::http_fake::{Hits, Routes, read_request_line, serve_http};
use super::{BoxConn, FakeServer, serve, tls_acceptor};

/// A random `u64` from the standard library's per-process random hasher keys.
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// `len` random bytes.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&random_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Accepts, reads whatever comes, and never answers (until the client hangs up).
pub async fn silent() -> FakeServer {
    serve(false, |mut conn| async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = conn.read(&mut buf).await {
            if n == 0 {
                return;
            }
        }
    })
    .await
}

/// Reads the request, then sends `reply` one byte every `every`.
pub async fn drip(reply: Vec<u8>, every: Duration) -> FakeServer {
    let reply = Arc::new(reply);
    serve(false, move |mut conn| {
        let reply = reply.clone();
        async move {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            for byte in reply.iter() {
                if conn.write_all(&[*byte]).await.is_err() || conn.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
    })
    .await
}

/// Reads what the client sends first, answers `len` random bytes that start with
/// `\x00\xff\xfe\xfd` (not HTTP, not TLS, not a sane MongoDB length), and closes.
pub async fn garbage(len: usize) -> FakeServer {
    serve(false, move |mut conn| async move {
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf).await;
        let mut bytes = vec![0x00, 0xff, 0xfe, 0xfd];
        bytes.extend(random_bytes(len.saturating_sub(4)));
        let _ = conn.write_all(&bytes).await;
        let _ = conn.shutdown().await;
    })
    .await
}

/// Accepts and closes at once, without reading or writing a byte.
pub async fn immediate_close() -> FakeServer {
    serve(false, |conn| async move { drop(conn) }).await
}

/// A loopback port nothing listens on (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    port
}

/// One response with a huge body, streamed without holding it in memory: `prefix`, then
/// `fill` repeated, then `suffix`, `len` bytes in all, with a `Content-Length` of `len`.
#[derive(Clone, Debug)]
pub struct Huge {
    /// Status line after `HTTP/1.1 `.
    pub status: String,
    /// Content type header value.
    pub content_type: String,
    /// First bytes of the body.
    pub prefix: Vec<u8>,
    /// Filler byte.
    pub fill: u8,
    /// Last bytes of the body.
    pub suffix: Vec<u8>,
    /// Body length in bytes.
    pub len: usize,
}

/// A huge body made of a repeated `unit` (a listing row, say): `prefix`, then `unit` over
/// and over (the last copy cut where the length runs out), then `suffix`, `len` bytes in
/// all. [`Huge`] is the one-byte case.
#[derive(Clone, Debug)]
pub struct Repeating {
    /// Status line after `HTTP/1.1 `.
    pub status: String,
    /// Content type header value.
    pub content_type: String,
    /// First bytes of the body.
    pub prefix: Vec<u8>,
    /// The bytes repeated after the prefix (never empty).
    pub unit: Vec<u8>,
    /// Last bytes of the body.
    pub suffix: Vec<u8>,
    /// Body length in bytes.
    pub len: usize,
}

impl From<Huge> for Repeating {
    fn from(huge: Huge) -> Repeating {
        Repeating {
            status: huge.status,
            content_type: huge.content_type,
            prefix: huge.prefix,
            unit: vec![huge.fill],
            suffix: huge.suffix,
            len: huge.len,
        }
    }
}

/// An HTTP server that answers `routes`, except that the path `huge_path` (any query) gets
/// the streamed [`Huge`] (or [`Repeating`]) body. Request lines are recorded in the
/// returned hits.
pub async fn huge_http(
    routes: Routes,
    huge_path: &str,
    huge: impl Into<Repeating>,
) -> (FakeServer, Hits) {
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    let routes = Arc::new(routes);
    let huge = Arc::new(huge.into());
    let huge_path = Arc::new(huge_path.to_string());
    let server = serve(false, move |mut conn| {
        let (routes, seen, huge, huge_path) = (
            routes.clone(),
            seen.clone(),
            huge.clone(),
            huge_path.clone(),
        );
        async move {
            let Some(line) = read_request_line(&mut conn).await else {
                return;
            };
            let target = line.split(' ').nth(1).unwrap_or("/").to_string();
            if let Ok(mut hits) = seen.lock() {
                hits.push(line);
            }
            if target.split('?').next() == Some(huge_path.as_str()) {
                stream_huge(&mut conn, &huge).await;
            } else {
                let _ = conn.write_all(&routes.reply_for(&target).to_bytes()).await;
            }
            let _ = conn.shutdown().await;
        }
    })
    .await;
    (server, hits)
}

async fn stream_huge(conn: &mut BoxConn, huge: &Repeating) {
    let head = format!(
        "HTTP/1.1 {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        huge.status, huge.content_type, huge.len
    );
    if conn.write_all(head.as_bytes()).await.is_err() || conn.write_all(&huge.prefix).await.is_err()
    {
        return;
    }
    // Whole units per block, so that consecutive blocks continue the pattern.
    let unit: &[u8] = if huge.unit.is_empty() {
        b" "
    } else {
        &huge.unit
    };
    let block = unit.repeat((64 * 1024 / unit.len()).max(1));
    let mut left = huge
        .len
        .saturating_sub(huge.prefix.len() + huge.suffix.len());
    while left > 0 {
        let n = left.min(block.len());
        if conn.write_all(&block[..n]).await.is_err() {
            return;
        }
        left -= n;
    }
    let _ = conn.write_all(&huge.suffix).await;
}

/// One port, two protocols, the way nginx `listen 443 ssl` or a Go TLS server behaves: a
/// connection whose first byte is a TLS handshake record (0x16) is served over TLS from
/// `routes`; any other connection gets the raw bytes `plain_reply` (for example nginx's
/// "400 The plain HTTP request was sent to HTTPS port") and is closed. Request lines of both
/// kinds are recorded.
pub async fn tls_or_plain(plain_reply: Vec<u8>, routes: Routes) -> (FakeServer, Hits) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    let routes = Arc::new(routes);
    let plain_reply = Arc::new(plain_reply);
    let acceptor = tls_acceptor();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (routes, seen, plain_reply, acceptor) = (
                routes.clone(),
                seen.clone(),
                plain_reply.clone(),
                acceptor.clone(),
            );
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                match tcp.peek(&mut first).await {
                    Ok(1) if first[0] == 0x16 => {
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            serve_http(Box::new(tls), routes, seen).await;
                        }
                    }
                    Ok(_) => {
                        let mut conn: BoxConn = Box::new(tcp);
                        if let Some(line) = read_request_line(&mut conn).await
                            && let Ok(mut hits) = seen.lock()
                        {
                            hits.push(line);
                        }
                        let _ = conn.write_all(&plain_reply).await;
                        let _ = conn.shutdown().await;
                    }
                    Err(_) => {}
                }
            });
        }
    });
    (FakeServer { addr }, hits)
}

/// MongoDB's answer to an HTTP request on its wire port (MG-07, 3.6.3+ text with `\r\n`).
pub const MONGODB_HTTP_NOTICE: &[u8] = b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 85\r\n\r\nIt looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n";

/// Answers [`MONGODB_HTTP_NOTICE`] when the first four bytes are `GET `, as mongod does,
/// and closes every other connection without a reply (no wire protocol behind it).
pub async fn mongodb_http_notice() -> FakeServer {
    serve(false, |mut conn| async move {
        let mut first = [0u8; 4];
        if conn.read_exact(&mut first).await.is_err() {
            return;
        }
        if &first == b"GET " {
            let mut rest = [0u8; 4096];
            let _ = conn.read(&mut rest).await;
            let _ = conn.write_all(MONGODB_HTTP_NOTICE).await;
        }
        let _ = conn.shutdown().await;
    })
    .await
}
