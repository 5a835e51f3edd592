//! A replaying HTTP/1.1 server: each request path (with its query, or without as a
//! fallback) maps to a canned reply whose bytes come from a documented real response.
//! Every request line is recorded, so tests can assert what ajar sent, and that it never
//! sent anything but GET.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{FakeServer, serve};

/// One canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status line after `HTTP/1.1 `, e.g. `200 OK`.
    pub status: String,
    /// Headers in order, sent as given (no Content-Length: it is added).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// A reply with a status line and body.
    pub fn new(status: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: status.into(),
            headers: Vec::new(),
            body: body.into(),
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

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {}\r\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

/// Routes of a fake HTTP server.
#[derive(Clone, Default)]
pub struct Routes {
    exact: HashMap<String, Reply>,
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

    /// Serves `reply` for every path not routed (a honeypot, a catch-all proxy).
    pub fn otherwise(mut self, reply: Reply) -> Routes {
        self.fallback = Some(reply);
        self
    }

    fn reply_for(&self, target: &str) -> Reply {
        let path = target.split('?').next().unwrap_or(target);
        self.exact
            .get(target)
            .or_else(|| self.exact.get(path))
            .or(self.fallback.as_ref())
            .cloned()
            .unwrap_or_else(|| {
                Reply::new("404 Not Found", "not found").header("content-type", "text/plain")
            })
    }
}

/// Request lines seen by a fake server (`GET /_cat/indices?format=json HTTP/1.1`).
pub type Hits = Arc<Mutex<Vec<String>>>;

/// Starts a replaying HTTP server (HTTPS when `tls`).
pub async fn http_server(tls: bool, routes: Routes) -> (FakeServer, Hits) {
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    let routes = Arc::new(routes);
    let server = serve(tls, move |mut conn| {
        let routes = routes.clone();
        let seen = seen.clone();
        async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let line = head.lines().next().unwrap_or_default().to_string();
            let target = line.split(' ').nth(1).unwrap_or("/").to_string();
            if let Ok(mut hits) = seen.lock() {
                hits.push(line);
            }
            let _ = conn.write_all(&routes.reply_for(&target).to_bytes()).await;
            let _ = conn.shutdown().await;
        }
    })
    .await;
    (server, hits)
}

/// The request lines recorded so far.
pub fn lines(hits: &Hits) -> Vec<String> {
    hits.lock().map(|h| h.clone()).unwrap_or_default()
}
