//! The HTTP probe: one `GET /`, then the HTTP products that recognise the answer
//! (Elasticsearch/OpenSearch, Kibana) judge access with their own follow-up requests.
//!
//! Recognition is by structure (JSON fields, security headers), never by a tagline string
//! or by the port. Answers that say "wrong protocol" are turned into hints: MongoDB's
//! "It looks like you are trying to access MongoDB over HTTP" points at the MongoDB probe,
//! and an empty reply or "plain HTTP request was sent to HTTPS port" asks for TLS.

use serde_json::Value;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome, elastic, kibana, panels};
use crate::finding::{Exposure, Finding, Severity};
use crate::net::http::{HttpClient, HttpError, HttpReply};
use crate::sanitize::clip;
use crate::targets::Endpoint;

/// The HTTP probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: super::registry::HTTP,
    labels: ["http", "https"],
    services: SERVICES,
    schemes: &[
        Scheme {
            name: "http",
            probe: super::registry::HTTP,
            default_port: 80,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
        Scheme {
            name: "https",
            probe: super::registry::HTTP,
            default_port: 443,
            tls: Some(true),
            style: UriStyle::Url,
            tls_options: &[],
        },
    ],
    greeting: None,
    answers: Some(|bytes| bytes.starts_with(b"HTTP/")),
    http_notice: None,
    default_credentials: &[],
    run,
};

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(probe(cx, endpoint, tls, trace))
}

const ES_REMEDIATION: &str = "Enable security (xpack.security.enabled: true, on by default since 8.0) with TLS and passwords for every user, bind network.host to a private interface, and drop anonymous access (xpack.security.authc.anonymous) unless it is read-only and intended.";
const OS_REMEDIATION: &str = "Enable the security plugin (plugins.security.disabled: false) with TLS and internal users or SSO, and never expose port 9200 beyond the application network.";
const KIBANA_REMEDIATION: &str = "Enable Elasticsearch security so Kibana demands a login, remove anonymous authentication providers, and keep Kibana behind a proxy or VPN.";

/// The products the HTTP probe identifies natively; the data-driven ones are in
/// `probes/`.
pub const SERVICES: &[ServiceInfo] = &[
    ServiceInfo {
        id: "elasticsearch",
        name: "Elasticsearch 1.x-9.x",
        ports: &[9200],
        check: "GET / banner and a decoy path; open when _cat/indices returns the product's listing and the listed indices' mappings agree",
        severity: Severity::High,
        remediation: ES_REMEDIATION,
        references: &[
            "https://www.elastic.co/guide/en/elasticsearch/reference/current/manually-configure-security.html",
        ],
    },
    ServiceInfo {
        id: "opensearch",
        name: "OpenSearch 1.x-2.x, Amazon OpenSearch Service",
        ports: &[9200],
        check: "GET / banner (version.distribution); open when _cat/indices returns the product's listing and the mappings agree",
        severity: Severity::High,
        remediation: OS_REMEDIATION,
        references: &["https://opensearch.org/docs/latest/security/configuration/index/"],
    },
    ServiceInfo {
        id: "kibana",
        name: "Kibana 4.x-8.x",
        ports: &[5601],
        check: "kbn-name header; open when /api/status and saved objects answer without credentials",
        severity: Severity::High,
        remediation: KIBANA_REMEDIATION,
        references: &[
            "https://www.elastic.co/guide/en/kibana/current/using-kibana-with-security.html",
        ],
    },
    ServiceInfo {
        id: "opensearch-dashboards",
        name: "OpenSearch Dashboards 1.x-2.x",
        ports: &[5601],
        check: "osd-name header; open when /api/status and saved objects answer without credentials",
        severity: Severity::High,
        remediation: "Enable the OpenSearch security plugin and the Dashboards security plugin, so that every user logs in.",
        references: &["https://opensearch.org/docs/latest/security/configuration/index/"],
    },
];

/// Probes one endpoint over HTTP (`tls` false) or HTTPS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let base = HttpClient::base_url(endpoint, tls);
    let root_request = format!("GET {}", base.path());
    let root = match cx.http.get_capped(&base, "", SMALL_BODY).await {
        Ok(reply) => reply,
        Err(error) => {
            trace.record(&root_request, error.to_string());
            if !tls && matches!(error, HttpError::NotHttp(_)) {
                return not_http(cx, endpoint, trace, error).await;
            }
            return transport_outcome(error, tls);
        }
    };
    trace.record(&root_request, root_facts(&root));
    let mut site = Site {
        cx,
        endpoint,
        base: &base,
        tls,
        trace,
    };
    if let Some(outcome) = elastic::recognise(&mut site, &root).await {
        return outcome;
    }
    if let Some(outcome) = kibana::recognise(&mut site, &root).await {
        return outcome;
    }
    let text = if root.body.len() <= 4096 {
        root.text()
    } else {
        String::new()
    };
    if let Some(native) = cx.registry.by_http_notice(&text) {
        return ProbeOutcome::NotThis {
            note: format!("answers HTTP with the {} port's notice", native.id),
            hint: Some(native.id),
            transport_confirmed: true,
            speaks_protocol: false,
        };
    }
    if !tls && root.status == 400 && wants_tls_text(&text) {
        return ProbeOutcome::WantsTls(format!(
            "{}: plain HTTP sent to a TLS port",
            root.describe()
        ));
    }
    // Last, the data-driven probes: after the answers that send ajar elsewhere, so a
    // MongoDB port or a TLS port never gets forty requests meant for web consoles.
    let mut notes = Vec::new();
    if let Some(outcome) = panels::recognise(&mut site, &root, &mut notes).await {
        return outcome;
    }
    let mut note = describe_unknown(&root);
    for catch_all in notes {
        note.push_str(&format!("; {catch_all}"));
    }
    ProbeOutcome::NotThis {
        note,
        hint: None,
        transport_confirmed: true,
        speaks_protocol: true,
    }
}

/// Cap for answers that are small by nature: banners, status pages, security errors.
pub const SMALL_BODY: usize = 64 << 10;

/// One HTTP endpoint being judged: what product modules need to send follow-ups, and the
/// trace their exchanges are recorded in.
pub struct Site<'a> {
    /// Shared clients and caps.
    pub cx: &'a ProbeContext,
    /// The endpoint.
    pub endpoint: &'a Endpoint,
    /// Scheme, authority and path prefix.
    pub base: &'a url::Url,
    /// Whether the exchange is over TLS.
    pub tls: bool,
    /// Where each exchange is recorded as evidence.
    pub trace: &'a mut Trace,
}

impl Site<'_> {
    /// `GET` a path relative to the base URL, for a data listing (the full body cap).
    pub async fn get(&self, path: &str) -> Result<HttpReply, HttpError> {
        self.cx.http.get(self.base, path).await
    }

    /// `GET` for an answer that is small by nature, under [`SMALL_BODY`].
    pub async fn get_small(&self, path: &str) -> Result<HttpReply, HttpError> {
        self.cx.http.get_capped(self.base, path, SMALL_BODY).await
    }

    /// The request line as evidence shows it: `GET /es/_cat/indices?...`.
    pub fn request_line(&self, path: &str) -> String {
        format!("GET {}{path}", self.base.path())
    }

    /// Records one exchange of this site in the trace.
    pub fn record(&mut self, path: &str, response: impl AsRef<str>) {
        let line = self.request_line(path);
        self.trace.record(line, response);
    }

    /// The base URL as reported (`https://127.0.0.1:9200/es/`).
    pub fn url(&self) -> String {
        self.base.to_string()
    }

    /// A finding for this endpoint with the parts every HTTP product shares; the product
    /// fills in version, details and inventory, and the engine the evidence.
    pub fn finding(
        &self,
        service: &str,
        exposure: Exposure,
        severity: Severity,
        summary: String,
    ) -> Finding {
        Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: Some(self.url()),
            tls: self.tls,
            service: service.to_string(),
            check: String::new(),
            product: None,
            version: None,
            exposure,
            severity,
            summary,
            details: Vec::new(),
            evidence: Vec::new(),
            inventory: None,
            remediation: None,
            references: Vec::new(),
        }
    }
}

fn wants_tls_text(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("plain http request was sent to https port")
        || lower.contains("client sent an http request to an https server")
        || lower.contains("speaking plain http to an ssl-enabled server")
}

/// The facts of the `GET /` answer that identify a product or a protection: status, type
/// and size, the banner's version fields, a security error's type, the product headers.
fn root_facts(root: &HttpReply) -> String {
    let mut facts = root.describe();
    if let Some(json) = root.json() {
        let text = |pointer: &str| json.pointer(pointer).and_then(Value::as_str);
        for (pointer, name) in [
            ("/version/number", "version.number"),
            ("/version/distribution", "version.distribution"),
            ("/version/lucene_version", "version.lucene_version"),
            ("/error/type", "error.type"),
        ] {
            if let Some(value) = text(pointer) {
                facts.push_str(&format!(", {name} {:?}", clip(value, 60)));
            }
        }
        if let Some(message) = text("/Message") {
            facts.push_str(&format!(", Message {:?}", clip(message, 120)));
        }
    }
    for realm in root.header_all("www-authenticate") {
        facts.push_str(&format!(", WWW-Authenticate {:?}", clip(realm, 80)));
    }
    for header in [
        "x-elastic-product",
        "kbn-name",
        "kbn-version",
        "osd-name",
        "osd-version",
        "server",
        "location",
    ] {
        if let Some(value) = root.headers.get(header) {
            let value = String::from_utf8_lossy(value.as_bytes());
            facts.push_str(&format!(", {header} {:?}", clip(&value, 100)));
        }
    }
    facts
}

/// What an unknown HTTP server said, for the report: status, type and server header.
fn describe_unknown(reply: &HttpReply) -> String {
    let mut note = reply.describe();
    if let Some(server) = reply.header("server") {
        note.push_str(&format!(", Server: {}", clip(server, 60)));
    }
    if let Some(auth) = reply.header("www-authenticate") {
        note.push_str(&format!(
            ", WWW-Authenticate: {} (credentials required; the service behind it is unknown)",
            clip(auth, 80)
        ));
    }
    note
}

/// Most bytes of a non-HTTP answer kept to tell its protocol.
const ANSWER_PEEK: usize = 256;

/// A plain-text answer that is not HTTP: the HTTP client hides its bytes, so one raw
/// request reads them. A TLS record (an alert for the plaintext) sends the engine to TLS;
/// bytes that another native probe recognises as its own (beanstalkd's `UNKNOWN_COMMAND`,
/// AMQP's protocol header) hand it the next turn; other bytes settle that the port speaks
/// plain text, so no TLS attempt is wasted on it.
async fn not_http(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    trace: &mut Trace,
    error: HttpError,
) -> ProbeOutcome {
    let Some(bytes) = raw_answer(cx, endpoint).await else {
        return transport_outcome(error, false);
    };
    let preview = crate::sanitize::byte_preview(&bytes, 60);
    trace.record(
        "GET / (raw, to read the answer)",
        format!("first bytes {preview}"),
    );
    // A TLS record: content type 20-23, major version 3.
    if bytes.len() >= 2 && (20..=23).contains(&bytes[0]) && bytes[1] == 3 {
        return ProbeOutcome::WantsTls(format!("answers plain HTTP with a TLS record ({preview})"));
    }
    if let Some(native) = cx.registry.by_answer(&bytes) {
        return ProbeOutcome::NotThis {
            note: format!("answers HTTP in {}'s protocol ({preview})", native.id),
            hint: Some(native.id),
            transport_confirmed: true,
            speaks_protocol: false,
        };
    }
    ProbeOutcome::NotThis {
        note: format!("answers HTTP with bytes that are not HTTP ({preview})"),
        hint: None,
        transport_confirmed: true,
        speaks_protocol: false,
    }
}

/// Sends `GET /` on a raw connection and returns the first bytes of the answer, or `None`
/// when the server sends nothing (it closed, or waits for more).
async fn raw_answer(cx: &ProbeContext, endpoint: &Endpoint) -> Option<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = cx
        .net
        .connect(&endpoint.host, endpoint.port, false)
        .await
        .ok()?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        endpoint.authority()
    );
    tokio::time::timeout(cx.net.timeout, stream.write_all(request.as_bytes()))
        .await
        .ok()?
        .ok()?;
    let mut buf = vec![0u8; ANSWER_PEEK];
    let n = tokio::time::timeout(cx.net.timeout, stream.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    (n > 0).then(|| {
        buf.truncate(n);
        buf
    })
}

/// Maps a failed first exchange onto what the engine does next.
fn transport_outcome(error: HttpError, tls: bool) -> ProbeOutcome {
    match error {
        HttpError::Refused => ProbeOutcome::Closed,
        HttpError::ConnectTimeout => ProbeOutcome::Unreachable,
        HttpError::Timeout => ProbeOutcome::Silent,
        HttpError::Resolve(e) => ProbeOutcome::Failed(format!("cannot resolve: {e}")),
        // The server speaks TLS; its certificate is what failed: the endpoint could not
        // be probed as asked, which is an error, not an unknown service.
        error @ HttpError::Certificate(_) => ProbeOutcome::Failed(error.to_string()),
        HttpError::EmptyReply | HttpError::NotHttp(_) if !tls => {
            ProbeOutcome::WantsTls(error.to_string())
        }
        // It spoke HTTP; no probe of another protocol will do better on this port.
        HttpError::HeadTooLarge => ProbeOutcome::NotThis {
            note: error.to_string(),
            hint: None,
            transport_confirmed: true,
            speaks_protocol: true,
        },
        other => ProbeOutcome::NotThis {
            note: other.to_string(),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        },
    }
}
