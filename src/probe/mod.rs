//! Probes: one module per wire protocol, each declaring its facts in the [`registry`]. A
//! probe speaks its protocol to one endpoint and says what it found; it never decides from
//! the port number.
//!
//! - [`http`]: one `GET /`, then the HTTP products it recognises ([`elastic`], [`kibana`],
//!   which also covers OpenSearch Dashboards), then the data-driven probes of `probes/`
//!   ([`panels`]).
//! - [`mongodb`]: the MongoDB wire protocol (OP_MSG, and OP_QUERY for pre-3.6 servers).

pub mod amqp;
pub mod beanstalkd;
pub mod cassandra;
pub mod clickhouse;
pub mod elastic;
pub mod http;
pub mod kibana;
pub mod ldap;
pub mod memcached;
pub mod mongodb;
pub mod mqtt;
pub mod mysql;
pub mod nats;
pub mod panels;
pub mod pii;
pub mod postgres;
pub mod redis;
pub mod registry;
pub mod rsync;
pub mod tarantool;
pub mod trace;
pub mod zookeeper;

use crate::finding::Finding;
use crate::net::budget::Budget;
use crate::net::http::HttpClient;
use crate::net::{Names, Net, TlsPolicy};
use registry::Registry;

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
    /// Every probe of the scan, native and data-driven.
    pub registry: Registry,
    /// `--default-credentials`: whether probes may log in with well-known pairs.
    pub default_credentials: bool,
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
            registry: Registry::shipped()?,
            default_credentials: false,
        })
    }

    /// This context with another set of probes (`--probes DIR`, or a test's own).
    pub fn with_registry(mut self, registry: Registry) -> ProbeContext {
        self.registry = registry;
        self
    }

    /// This context allowed (or not) to try default credentials.
    pub fn with_default_credentials(mut self, allowed: bool) -> ProbeContext {
        self.default_credentials = allowed;
        self
    }
}

/// What one probe made of one endpoint over one transport.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeOutcome {
    /// The probe's service answered; the finding holds the verdict.
    Found(Box<Finding>),
    /// Several products answered under different base paths of one HTTP endpoint
    /// (phpMyAdmin at `/phpmyadmin/` and Adminer at `/adminer/`), each with its evidence.
    FoundSeveral(Vec<Finding>),
    /// Something answered that is not this probe's service.
    NotThis {
        /// What it spoke, for the report (`HTTP 200 text/html, Server: nginx`).
        note: String,
        /// The id of another probe that should run next (an HTTP answer carrying a native
        /// protocol's "wrong port" notice), as the registry recognised it.
        hint: Option<&'static str>,
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

impl ProbeOutcome {
    /// What a failed connect means to the engine, the same for every native probe:
    /// refused is closed, a connect timeout unreachable, a TLS handshake that fails or
    /// stalls is not this probe's protocol, and a certificate that fails `--verify-tls` (or
    /// a socket error) is an error of the endpoint.
    pub fn from_connect_error(error: crate::net::ConnectError) -> ProbeOutcome {
        use crate::net::ConnectError;
        match error {
            ConnectError::Refused => ProbeOutcome::Closed,
            ConnectError::Timeout => ProbeOutcome::Unreachable,
            ConnectError::Resolve(e) => ProbeOutcome::Failed(format!("cannot resolve: {e}")),
            e @ (ConnectError::Tls(_) | ConnectError::TlsTimeout) => ProbeOutcome::NotThis {
                note: e.to_string(),
                hint: None,
                transport_confirmed: false,
                speaks_protocol: false,
            },
            e @ ConnectError::Certificate(_) => ProbeOutcome::Failed(e.to_string()),
            ConnectError::Io(e) => ProbeOutcome::Failed(format!("socket error: {e}")),
        }
    }
}
