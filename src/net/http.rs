//! The one HTTP client of a scan: reqwest over the shared rustls configuration, no
//! proxies, no redirects followed, every request bounded in time and every body in size.
//!
//! Transport failures are sorted into the few kinds that decide what a probe does next: a
//! refused port is closed, an empty reply or reset on plain text suggests a TLS-only port,
//! bytes that are not HTTP mean another protocol.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap};
use url::Url;

use super::Net;
use super::budget::{Budget, Reservation};
use crate::targets::Endpoint;

/// Largest body [`HttpReply::json`] parses into a `serde_json::Value`. A value tree costs
/// up to forty times its text (an 8 MiB body of `{}`s is hundreds of MB), so anything that
/// may be larger, data listings above all, is parsed with bounded typed parsers instead.
pub const JSON_VALUE_MAX: usize = 64 << 10;

/// A response read within the size cap.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, at most the cap.
    pub body: Vec<u8>,
    /// True when the body was longer than the cap and cut.
    pub truncated: bool,
    /// The share of the scan's [`Budget`] this body holds while it lives.
    pub reservation: Reservation,
}

impl HttpReply {
    /// A header value as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All values of a header (`WWW-Authenticate` is often sent several times).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The media type, lowercased, without parameters (`application/json`).
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .and_then(|ct| ct.split(';').next())
            .map(|ct| ct.trim().to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// Whether the media type is JSON (`application/json`, `application/vnd...+json`).
    pub fn is_json_type(&self) -> bool {
        let mt = self.media_type();
        mt == "application/json" || mt.ends_with("+json")
    }

    /// The body parsed as JSON, when it is complete, parses, and is at most
    /// [`JSON_VALUE_MAX`] bytes; listings use bounded typed parsers instead.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.truncated || self.body.len() > JSON_VALUE_MAX {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text, lossily, for matching and for notes.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A short description for evidence: `HTTP 401, application/json, 310 bytes`.
    pub fn describe(&self) -> String {
        let mt = self.media_type();
        let mt = if mt.is_empty() {
            "no content type".to_string()
        } else {
            mt
        };
        let size = if self.truncated {
            format!("more than {} bytes (cut)", self.body.len())
        } else {
            format!("{} bytes", self.body.len())
        };
        format!("HTTP {}, {mt}, {size}", self.status)
    }
}

/// Why an HTTP exchange produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The port refused the connection.
    Refused,
    /// No TCP answer before the timeout.
    ConnectTimeout,
    /// Connected, but no complete response before the timeout.
    Timeout,
    /// The server closed or reset the connection without a response: typical of a
    /// TLS-only port spoken to in plain text, or of a server that hangs up at once.
    EmptyReply,
    /// The server answered with bytes that are not HTTP.
    NotHttp(String),
    /// The server answered HTTP, but its response head is larger than the client reads
    /// (too many or too long headers): an HTTP server, and a hostile or broken one.
    HeadTooLarge,
    /// The TLS handshake failed.
    Tls(String),
    /// The server speaks TLS but its certificate failed `--verify-tls`.
    Certificate(String),
    /// The host name did not resolve.
    Resolve(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Refused => f.write_str("connection refused"),
            HttpError::ConnectTimeout => f.write_str("connect timed out"),
            HttpError::Timeout => f.write_str("no complete response before the timeout"),
            HttpError::EmptyReply => f.write_str("connection closed without a response"),
            HttpError::NotHttp(e) => write!(f, "not an HTTP response: {e}"),
            HttpError::HeadTooLarge => f.write_str(
                "an HTTP response head too large to read (too many or too long headers)",
            ),
            HttpError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            HttpError::Certificate(e) => {
                write!(f, "TLS certificate not trusted (--verify-tls): {e}")
            }
            HttpError::Resolve(e) => write!(f, "cannot resolve: {e}"),
            HttpError::Other(e) => f.write_str(e),
        }
    }
}

/// The scan's HTTP client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    budget: Budget,
}

/// One request as [`HttpClient::send`] takes it: `GET path` unless told otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// `GET`, `HEAD` or `POST`.
    pub method: &'a str,
    /// Relative to the base URL; may carry a query.
    pub path: &'a str,
    /// Extra headers (`Accept`, `Cookie`).
    pub headers: &'a [(String, String)],
    /// A body (a login form), sent with `content_type`.
    pub body: Option<&'a str>,
    /// The body's media type.
    pub content_type: Option<&'a str>,
    /// HTTP basic credentials (only under `--default-credentials`).
    pub basic_auth: Option<(&'a str, &'a str)>,
    /// Most body bytes read.
    pub max_body: usize,
}

impl Default for Outgoing<'_> {
    fn default() -> Self {
        Outgoing {
            method: "GET",
            path: "",
            headers: &[],
            body: None,
            content_type: None,
            basic_auth: None,
            max_body: 64 << 10,
        }
    }
}

impl HttpClient {
    /// Builds the client on the shared TLS configuration. `max_body` caps every body read;
    /// bodies past [`Budget::FREE`] bytes reserve their cap from `budget` first.
    pub fn new(net: &Net, max_body: usize, budget: Budget) -> anyhow::Result<HttpClient> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, "application/json, */*;q=0.5".parse()?);
        let mut builder = reqwest::Client::builder();
        // Names were resolved once before the scan: the client connects where the other
        // probes do, and sends no lookup of its own.
        for (name, ip) in net.names().iter() {
            builder = builder.resolve(name, std::net::SocketAddr::new(*ip, 0));
        }
        let client = builder
            .use_preconfigured_tls(net.tls_config().clone())
            .user_agent(concat!("ajar/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .connect_timeout(net.timeout)
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(Duration::from_secs(2))
            .build()?;
        Ok(HttpClient {
            client,
            timeout: net.timeout,
            max_body,
            budget,
        })
    }

    /// The cap on body sizes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The base URL of an endpoint: scheme, host, port and path prefix.
    pub fn base_url(endpoint: &Endpoint, tls: bool) -> Url {
        let scheme = if tls { "https" } else { "http" };
        let text = format!(
            "{scheme}://{}{}",
            endpoint.authority(),
            endpoint.base_path()
        );
        // Endpoint parts were validated when parsed; an unparsable one falls back to the
        // bare authority rather than panicking.
        Url::parse(&text).unwrap_or_else(|_| {
            Url::parse(&format!("{scheme}://{}/", endpoint.authority()))
                .unwrap_or_else(|_| Url::parse("http://127.0.0.1/").expect("static URL"))
        })
    }

    /// `GET base + path` (path relative, may carry a query), reading at most `max_body`
    /// bytes, the whole exchange bounded by the step timeout.
    pub async fn get(&self, base: &Url, path: &str) -> Result<HttpReply, HttpError> {
        self.get_capped(base, path, self.max_body).await
    }

    /// [`HttpClient::get`] with a smaller body cap, for answers that are small by nature
    /// (banners, status, errors): a hostile server then costs little memory per slot.
    pub async fn get_capped(
        &self,
        base: &Url,
        path: &str,
        max_body: usize,
    ) -> Result<HttpReply, HttpError> {
        let request = Outgoing {
            path,
            max_body,
            ..Outgoing::default()
        };
        self.send(base, &request).await
    }

    /// Sends `request` relative to `base`, reading at most its `max_body` bytes (and never
    /// more than the client's cap), the whole exchange bounded by the step timeout.
    pub async fn send(&self, base: &Url, request: &Outgoing<'_>) -> Result<HttpReply, HttpError> {
        let path = request.path;
        let max_body = request.max_body.min(self.max_body);
        let url = base
            .join(path.trim_start_matches('/'))
            .map_err(|e| HttpError::Other(format!("bad path {path:?}: {e}")))?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::Other(format!("bad method {:?}", request.method)))?;
        let mut builder = self.client.request(method, url);
        for (name, value) in request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some((user, password)) = request.basic_auth {
            builder = builder.basic_auth(user, Some(password));
        }
        if let Some(content_type) = request.content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        if let Some(body) = request.body {
            builder = builder.body(body.to_string());
        }
        let exchange = async {
            let mut response = builder.send().await.map_err(|e| classify(&e))?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            let mut body = Vec::new();
            let mut truncated = false;
            let mut reservation = Reservation::default();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if reservation.is_empty()
                            && body.len() + chunk.len() > Budget::FREE
                            && max_body > Budget::FREE
                        {
                            reservation = self.budget.reserve(max_body).await;
                        }
                        let room = max_body.saturating_sub(body.len());
                        if chunk.len() > room {
                            body.extend_from_slice(&chunk[..room]);
                            truncated = true;
                            break;
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) if e.is_timeout() => return Err(HttpError::Timeout),
                    Err(e) => {
                        return Err(HttpError::Other(format!("reading the body: {}", chain(&e))));
                    }
                }
            }
            Ok(HttpReply {
                status,
                headers,
                body,
                truncated,
                reservation,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout),
        }
    }
}

/// Sorts a reqwest error into the kinds probes act on.
fn classify(error: &reqwest::Error) -> HttpError {
    let mut io_kind = None;
    let mut hyper_kind = None;
    let mut tls = None;
    let mut certificate = false;
    visit_causes(error, &mut |err| {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() != std::io::ErrorKind::Other
        {
            io_kind.get_or_insert(io.kind());
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() {
                hyper_kind.get_or_insert("incomplete");
            } else if h.is_parse() && h.to_string().contains("too large") {
                // `is_parse_too_large` needs hyper's server feature; its message is
                // "message head is too large".
                hyper_kind.get_or_insert("too large");
            } else if h.is_parse() || h.is_parse_status() {
                hyper_kind.get_or_insert("parse");
            }
        }
        if let Some(e) = err.downcast_ref::<rustls::Error>() {
            tls.get_or_insert(e.to_string());
            certificate |= super::is_certificate_error(err);
        }
    });
    use std::io::ErrorKind as K;
    if error.is_timeout() {
        return if error.is_connect() {
            HttpError::ConnectTimeout
        } else {
            HttpError::Timeout
        };
    }
    if io_kind == Some(K::ConnectionRefused) {
        return HttpError::Refused;
    }
    if matches!(io_kind, Some(K::HostUnreachable | K::NetworkUnreachable)) {
        return HttpError::ConnectTimeout;
    }
    if let Some(tls) = tls {
        return if certificate {
            HttpError::Certificate(tls)
        } else {
            HttpError::Tls(tls)
        };
    }
    if hyper_kind == Some("too large") {
        return HttpError::HeadTooLarge;
    }
    if hyper_kind == Some("parse") {
        return HttpError::NotHttp(chain(error));
    }
    if hyper_kind == Some("incomplete")
        || matches!(
            io_kind,
            Some(K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe)
        )
    {
        return HttpError::EmptyReply;
    }
    if error.is_connect() {
        let text = chain(error);
        if text.contains("dns error") || text.contains("failed to lookup") {
            return HttpError::Resolve(text);
        }
        if text.contains("tls") || text.contains("TLS") || text.contains("handshake") {
            return HttpError::Tls(text);
        }
        return HttpError::EmptyReply;
    }
    HttpError::Other(chain(error))
}

/// Calls `f` on `error` and every cause under it, looking inside `io::Error`s too: their
/// `source()` skips the error they wrap, which is where rustls puts a certificate failure.
fn visit_causes(
    error: &(dyn std::error::Error + 'static),
    f: &mut dyn FnMut(&(dyn std::error::Error + 'static)),
) {
    let mut next = Some(error);
    for _ in 0..32 {
        let Some(err) = next else { return };
        f(err);
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            visit_causes(inner, f);
        }
        next = err.source();
    }
}

/// The error and all its sources on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(err) = source {
        let s = err.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = err.source();
    }
    text
}
