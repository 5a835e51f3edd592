//! Probes: one type per wire protocol behind the closed [`ProbeKind`] enum. A probe speaks its
//! protocol to one endpoint and says what it found; it never decides from the port number.
//!
//! - [`http`]: one `GET /`, then the HTTP products it recognises ([`elastic`], [`kibana`],
//!   which also covers OpenSearch Dashboards).
//! - [`mongodb`]: the MongoDB wire protocol (OP_MSG, and OP_QUERY for pre-3.6 servers).

pub mod elastic;
pub mod http;
pub mod kibana;
pub mod mongodb;
pub mod pii;
pub mod trace;

use crate::finding::Finding;
use crate::net::budget::Budget;
use crate::net::http::HttpClient;
use crate::net::{Names, Net, TlsPolicy};
use crate::targets::{Endpoint, Protocol};
use trace::Trace;

/// Caps on how much a probe reads and lists, so one endpoint's cost stays bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest HTTP body read (bytes); longer ones are cut.
    pub max_body: usize,
    /// Largest MongoDB message accepted (bytes), checked before allocating.
    pub max_message: usize,
    /// Most data sets (indices, databases) kept in an inventory.
    pub max_items: usize,
    /// Most data sets whose field or collection names are read for PII hints.
    pub max_detailed: usize,
    /// Most bytes of large replies (past [`Budget::FREE`]) held at once, over the scan.
    pub max_buffered: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 8 << 20,
            max_message: 16 << 20,
            max_items: 1000,
            max_detailed: 25,
            max_buffered: 128 << 20,
        }
    }
}

/// Everything a probe needs, shared by all probes of a scan.
#[derive(Clone)]
pub struct ProbeContext {
    /// TCP/TLS connections with deadlines.
    pub net: Net,
    /// The HTTP client.
    pub http: HttpClient,
    /// Read and listing caps.
    pub limits: Limits,
    /// The scan-wide budget for large replies.
    pub budget: Budget,
}

impl ProbeContext {
    /// A context with the step timeout and caps, accepting any certificate or verifying
    /// against the system's roots, resolving names as it goes (tests and tools; a scan
    /// uses [`ProbeContext::for_scan`]).
    pub fn new(
        timeout: std::time::Duration,
        verify_tls: bool,
        limits: Limits,
    ) -> anyhow::Result<ProbeContext> {
        let policy = if verify_tls {
            TlsPolicy::verify(&[])?
        } else {
            TlsPolicy::AcceptAny
        };
        ProbeContext::for_scan(timeout, &policy, limits, Names::default())
    }

    /// The context of a scan: its step timeout, certificate policy, caps, and the address
    /// each host name of the scan was resolved to.
    pub fn for_scan(
        timeout: std::time::Duration,
        policy: &TlsPolicy,
        limits: Limits,
        names: Names,
    ) -> anyhow::Result<ProbeContext> {
        let net = Net::new(timeout, policy, names);
        let budget = Budget::new(limits.max_buffered);
        let http = HttpClient::new(&net, limits.max_body, budget.clone())?;
        Ok(ProbeContext {
            net,
            http,
            limits,
            budget,
        })
    }
}

/// What one probe made of one endpoint over one transport.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeOutcome {
    /// The probe's service answered; the finding holds the verdict.
    Found(Box<Finding>),
    /// Something answered that is not this probe's service.
    NotThis {
        /// What it spoke, for the report (`HTTP 200 text/html, Server: nginx`).
        note: String,
        /// Another probe that should run next (an HTTP answer saying "this is MongoDB").
        hint: Option<ProbeKind>,
        /// True when a real exchange happened over the transport used, so the endpoint's
        /// transport (plain or TLS) is now known.
        transport_confirmed: bool,
        /// True when the answer proves the endpoint speaks this probe's protocol (a valid
        /// HTTP response that is no known product): probes of other protocols are skipped,
        /// since one port speaks one protocol.
        speaks_protocol: bool,
    },
    /// The plain-text attempt ended as a TLS-only port ends one (closed without a reply,
    /// reset, or a "plain HTTP sent to HTTPS port" answer): retry over TLS.
    WantsTls(String),
    /// The port refused the connection.
    Closed,
    /// No answer to connect before the timeout.
    Unreachable,
    /// Connected, but nothing came back before the timeout.
    Silent,
    /// The probe could not run (name resolution and the like).
    Failed(String),
}

/// The protocol probes, a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// HTTP services: Elasticsearch, OpenSearch, Kibana.
    Http,
    /// The MongoDB wire protocol.
    MongoDb,
}

impl ProbeKind {
    /// Every probe, in the order tried when no port hint applies.
    pub const ALL: [ProbeKind; 2] = [ProbeKind::Http, ProbeKind::MongoDb];

    /// Whether this probe may run on an endpoint whose scheme pinned `protocol`.
    pub fn accepts(self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Any => true,
            Protocol::Http => self == ProbeKind::Http,
            Protocol::MongoDb => self == ProbeKind::MongoDb,
        }
    }

    /// Whether `port` is a default port of a service this probe speaks for; such probes
    /// go first, which saves time but never decides the verdict.
    pub fn is_default_port(self, port: u16) -> bool {
        SERVICES
            .iter()
            .any(|s| s.probe == self && s.ports.contains(&port))
    }

    /// Runs the probe against `endpoint` over plain text or TLS, recording each exchange
    /// in `trace`.
    pub async fn run(
        self,
        cx: &ProbeContext,
        endpoint: &Endpoint,
        tls: bool,
        trace: &mut Trace,
    ) -> ProbeOutcome {
        match self {
            ProbeKind::Http => http::probe(cx, endpoint, tls, trace).await,
            // Boxed: the MongoDB future is several KB, and every concurrency slot would
            // otherwise carry it inline.
            ProbeKind::MongoDb => Box::pin(mongodb::probe(cx, endpoint, tls, trace)).await,
        }
    }

    /// The probe and transport as evidence and notes name them: `https`, `mongodb+tls`.
    pub fn label(self, tls: bool) -> &'static str {
        match (self, tls) {
            (ProbeKind::Http, false) => "http",
            (ProbeKind::Http, true) => "https",
            (ProbeKind::MongoDb, false) => "mongodb",
            (ProbeKind::MongoDb, true) => "mongodb+tls",
        }
    }
}

/// A service ajar can identify, for `ajar probes` and for default ports.
#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo {
    /// The lowercase service id used in reports.
    pub id: &'static str,
    /// Product name for humans.
    pub name: &'static str,
    /// Default ports, tried for targets given without a port.
    pub ports: &'static [u16],
    /// The probe that speaks its protocol.
    pub probe: ProbeKind,
    /// How ajar tells open from protected, for `ajar probes`.
    pub check: &'static str,
}

/// Every service ajar identifies.
pub const SERVICES: &[ServiceInfo] = &[
    ServiceInfo {
        id: "elasticsearch",
        name: "Elasticsearch 1.x-9.x",
        ports: &[9200],
        probe: ProbeKind::Http,
        check: "GET / banner and a decoy path; open when _cat/indices returns the product's listing and the listed indices' mappings agree",
    },
    ServiceInfo {
        id: "opensearch",
        name: "OpenSearch 1.x-2.x, Amazon OpenSearch Service",
        ports: &[9200],
        probe: ProbeKind::Http,
        check: "GET / banner (version.distribution); open when _cat/indices returns the product's listing and the mappings agree",
    },
    ServiceInfo {
        id: "kibana",
        name: "Kibana 4.x-8.x",
        ports: &[5601],
        probe: ProbeKind::Http,
        check: "kbn-name header; open when /api/status and saved objects answer without credentials",
    },
    ServiceInfo {
        id: "opensearch-dashboards",
        name: "OpenSearch Dashboards 1.x-2.x",
        ports: &[5601],
        probe: ProbeKind::Http,
        check: "osd-name header; open when /api/status and saved objects answer without credentials",
    },
    ServiceInfo {
        id: "mongodb",
        name: "MongoDB 2.6-8.x (mongod, mongos)",
        ports: &[27017, 27018, 27019],
        probe: ProbeKind::MongoDb,
        check: "hello/isMaster handshake; open when listDatabases returns a well-formed list (an empty one confirmed by listCollections)",
    },
];

/// The default ports of every service, de-duplicated, in table order.
pub fn default_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    for port in SERVICES.iter().flat_map(|s| s.ports.iter().copied()) {
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}
