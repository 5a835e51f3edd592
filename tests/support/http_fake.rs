//! A replaying HTTP/1.1 server: each request path (with its query, or without as a
//! fallback) maps to a canned reply whose bytes come from a documented real response.
//! Every request line is recorded, so tests can assert what ajar sent, and that it never
//! sent anything but GET.
//!
//! Besides fixed routes, a [`Routes::handler`] can compute a reply from the request target
//! (an Elasticsearch `/<idx1>,<idx2>/_mapping` answer depends on the names asked for), and a
//! reply can go out with `Transfer-Encoding: chunked` instead of `Content-Length`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BoxConn, FakeServer, serve};

/// One canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status line after `HTTP/1.1 `, e.g. `200 OK`.
    pub status: String,
    /// Headers in order, sent as given (no Content-Length: it is added).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked` (in chunks of this many bytes)
    /// instead of `Content-Length`.
    pub chunked: Option<usize>,
}

impl Reply {
    /// A reply with a status line and body.
    pub fn new(status: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: status.into(),
            headers: Vec::new(),
            body: body.into(),
            chunked: None,
        }
    }

    /// `200 OK` with `application/json; charset=UTF-8`, as Elasticsearch sends.
    pub fn json(body: &str) -> Reply {
        Reply::new("200 OK", body).header("content-type", "application/json; charset=UTF-8")
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends the body chunked, `size` bytes a chunk.
    pub fn chunked(mut self, size: usize) -> Reply {
        self.chunked = Some(size.max(1));
        self
    }

    /// The reply as bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {}\r\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        match self.chunked {
            None => {
                out.extend_from_slice(
                    format!(
                        "content-length: {}\r\nconnection: close\r\n\r\n",
                        self.body.len()
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(&self.body);
            }
            Some(size) => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
                for chunk in self.body.chunks(size) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
        }
        out
    }
}

/// Computes a reply from the request target (path and query), or passes with `None`.
pub type Handler = Arc<dyn Fn(&str) -> Option<Reply> + Send + Sync>;

/// Routes of a fake HTTP server.
#[derive(Clone, Default)]
pub struct Routes {
    exact: HashMap<String, Reply>,
    handlers: Vec<Handler>,
    fallback: Option<Reply>,
}

impl Routes {
    /// No routes: every request gets a 404.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Serves `reply` for `path` (`/_cat/indices` matches any query; a path with `?`
    /// matches only that query).
    pub fn at(mut self, path: &str, reply: Reply) -> Routes {
        self.exact.insert(path.to_string(), reply);
        self
    }

    /// Asks `handler` for every target no exact route matched, before the fallback.
    pub fn handler(
        mut self,
        handler: impl Fn(&str) -> Option<Reply> + Send + Sync + 'static,
    ) -> Routes {
        self.handlers.push(Arc::new(handler));
        self
    }

    /// Serves `reply` for every path not routed (a honeypot, a catch-all proxy).
    pub fn otherwise(mut self, reply: Reply) -> Routes {
        self.fallback = Some(reply);
        self
    }

    /// The reply for a request target.
    pub fn reply_for(&self, target: &str) -> Reply {
        let path = target.split('?').next().unwrap_or(target);
        self.exact
            .get(target)
            .or_else(|| self.exact.get(path))
            .cloned()
            .or_else(|| self.handlers.iter().find_map(|h| h(target)))
            .or_else(|| self.fallback.clone())
            .unwrap_or_else(|| {
                Reply::new("404 Not Found", "not found").header("content-type", "text/plain")
            })
    }
}

/// Request lines seen by a fake server (`GET /_cat/indices?format=json HTTP/1.1`).
pub type Hits = Arc<Mutex<Vec<String>>>;

/// Starts a replaying HTTP server (HTTPS when `tls`).
pub async fn http_server(tls: bool, routes: Routes) -> (FakeServer, Hits) {
    start(tls, routes, false).await
}

/// Like [`http_server`], but a connection whose first byte cannot start an HTTP method
/// (a binary protocol spoken to the port) gets an immediate `400 Bad Request` and is closed,
/// as nginx and Node.js (Kibana) do; [`http_server`] waits for the end of a request head
/// that never comes, as Go's net/http and Netty (Elasticsearch) do.
pub async fn http_server_strict(tls: bool, routes: Routes) -> (FakeServer, Hits) {
    start(tls, routes, true).await
}

async fn start(tls: bool, routes: Routes, strict: bool) -> (FakeServer, Hits) {
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    let routes = Arc::new(routes);
    let server = serve(tls, move |conn| {
        serve_http_with(conn, routes.clone(), seen.clone(), strict)
    })
    .await;
    (server, hits)
}

/// nginx's answer to a request line it cannot parse.
pub const NGINX_400: &str = "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 150\r\nConnection: close\r\n\r\n<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// Reads one request head from `conn`, records its request line in `hits` and answers
/// from `routes`, then closes. A request head that never ends (a binary protocol spoken
/// to this port) gets no answer until the client gives up, as most HTTP servers do.
pub async fn serve_http(conn: BoxConn, routes: Arc<Routes>, hits: Hits) {
    serve_http_with(conn, routes, hits, false).await;
}

/// [`serve_http`], answering non-HTTP first bytes with nginx's 400 when `strict`.
pub async fn serve_http_with(mut conn: BoxConn, routes: Arc<Routes>, hits: Hits, strict: bool) {
    if strict {
        let mut first = [0u8; 1];
        match conn.read(&mut first).await {
            Ok(1) if first[0].is_ascii_uppercase() => {
                let mut rest = first.to_vec();
                let Some(line) = read_head(&mut conn, &mut rest).await else {
                    return;
                };
                return answer(conn, &routes, &hits, line).await;
            }
            Ok(1) => {
                let _ = conn.write_all(NGINX_400.as_bytes()).await;
                let _ = conn.shutdown().await;
                return;
            }
            _ => return,
        }
    }
    let Some(line) = read_request_line(&mut conn).await else {
        return;
    };
    answer(conn, &routes, &hits, line).await;
}

async fn answer(mut conn: BoxConn, routes: &Routes, hits: &Hits, line: String) {
    let target = line.split(' ').nth(1).unwrap_or("/").to_string();
    if let Ok(mut hits) = hits.lock() {
        hits.push(line);
    }
    let _ = conn.write_all(&routes.reply_for(&target).to_bytes()).await;
    let _ = conn.shutdown().await;
}

/// Reads a request head (up to the blank line, at most 64 KiB) and returns its first line.
pub async fn read_request_line(conn: &mut BoxConn) -> Option<String> {
    let mut buf = Vec::new();
    read_head(conn, &mut buf).await
}

async fn read_head(conn: &mut BoxConn, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(buf).to_string();
    Some(head.lines().next().unwrap_or_default().to_string())
}

/// The request lines recorded so far.
pub fn lines(hits: &Hits) -> Vec<String> {
    hits.lock().map(|h| h.clone()).unwrap_or_default()
}

/// The request targets (path and query) recorded so far.
pub fn targets(hits: &Hits) -> Vec<String> {
    lines(hits)
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap_or_default().to_string())
        .collect()
}
