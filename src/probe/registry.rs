//! The probe registry: every native protocol probe's facts in one table, plus the compiled
//! data-driven HTTP probes of `probes/` (shipped and `--probes DIR`).
//!
//! Each native probe declares its own facts next to its code (a `pub static PROBE:
//! NativeProbe` in its module): id, services, default ports, URI schemes, whether the
//! server speaks first and how its bytes look, the HTTP notice that points at it, its
//! default credentials. The registry feeds default ports, `ajar probes`, the scheme table
//! of target parsing and the engine's detection order; the engine and the target parser
//! never name a protocol. Adding a native protocol is one module and one line in
//! [`NATIVE`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::Severity;
use crate::rules::RuleSet;
use crate::targets::{Endpoint, Protocol};

/// The future a native probe runs as.
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = ProbeOutcome> + Send + 'a>>;

/// A native probe's entry point: the context, the endpoint, whether to speak TLS, and the
/// trace its exchanges are recorded in.
pub type RunFn = for<'a> fn(&'a ProbeContext, &'a Endpoint, bool, &'a mut Trace) -> ProbeFuture<'a>;

/// Every native probe, in the order tried when no port says otherwise.
pub static NATIVE: &[&NativeProbe] = &[
    &super::http::PROBE,
    &super::mongodb::PROBE,
    &super::mysql::PROBE,
    &super::postgres::PROBE,
    &super::redis::PROBE,
    &super::memcached::PROBE,
    &super::nats::PROBE,
    &super::beanstalkd::PROBE,
    &super::clickhouse::PROBE,
    &super::ldap::PROBE,
    &super::zookeeper::PROBE,
    &super::amqp::PROBE,
    &super::mqtt::PROBE,
    &super::cassandra::PROBE,
    &super::tarantool::PROBE,
    &super::rsync::PROBE,
];

/// One native protocol probe and the facts the rest of ajar needs about it.
pub struct NativeProbe {
    /// Stable id (`http`, `mongodb`), used in `ajar probes` and in pinned targets.
    pub id: &'static str,
    /// How evidence and notes name it over plain text and over TLS (`http`, `https`).
    pub labels: [&'static str; 2],
    /// The services it identifies, with their default ports.
    pub services: &'static [ServiceInfo],
    /// The URI schemes whose targets it owns (`mongodb://`).
    pub schemes: &'static [Scheme],
    /// Server-first protocols: whether bytes a server sent unasked are this protocol's
    /// greeting. `None` for client-first protocols.
    pub greeting: Option<fn(&[u8]) -> bool>,
    /// Whether bytes a server sent in answer to another protocol's request are this
    /// protocol's (an HTTP status line sent back to a MongoDB message).
    pub answers: Option<fn(&[u8]) -> bool>,
    /// Text an HTTP server sends on this protocol's port when spoken to in HTTP
    /// (MongoDB's "trying to access MongoDB over HTTP on the native driver port").
    pub http_notice: Option<&'static str>,
    /// Well-known logins tried only under `--default-credentials`.
    pub default_credentials: &'static [Credential],
    /// Runs the probe.
    pub run: RunFn,
}

impl NativeProbe {
    /// The label of this probe over plain text or TLS.
    pub fn label(&self, tls: bool) -> &'static str {
        self.labels[usize::from(tls)]
    }

    /// Whether this probe may run on an endpoint whose scheme pinned `protocol`.
    pub fn accepts(&self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Any => true,
            Protocol::Only(id) => id == self.id,
        }
    }
}

impl std::fmt::Debug for NativeProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl PartialEq for NativeProbe {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// A well-known login of a product, tried once per endpoint under `--default-credentials`.
#[derive(Debug, Clone, Copy)]
pub struct Credential {
    /// The user name (reported in the evidence).
    pub user: &'static str,
    /// The password (never reported).
    pub password: &'static str,
}

/// How a URI scheme's targets are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriStyle {
    /// One host in a URL whose path is a base path (`https://host:9200/es/`).
    Url,
    /// One or more comma-separated hosts, options after `?` (`mongodb://h1,h2/?tls=true`);
    /// credentials before `@` are ignored.
    HostList,
    /// A scheme ajar knows but cannot scan; the text says what to write instead.
    Refused(&'static str),
}

/// A URI scheme a probe owns, for target parsing.
#[derive(Debug, Clone, Copy)]
pub struct Scheme {
    /// The scheme, lowercase, without `://`.
    pub name: &'static str,
    /// The probe its targets are pinned to.
    pub probe: &'static str,
    /// Port when the URI gives none.
    pub default_port: u16,
    /// `Some(true)` for a TLS-only scheme (`https`), `Some(false)` for plain text only,
    /// `None` to let detection find out (unless a `tls_options` option says TLS).
    pub tls: Option<bool>,
    /// How its targets are written.
    pub style: UriStyle,
    /// Query options that ask for TLS (`tls=true`), lowercase.
    pub tls_options: &'static [&'static str],
}

/// A service a native probe identifies, for `ajar probes` and for default ports.
#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo {
    /// The lowercase service id used in reports.
    pub id: &'static str,
    /// Product name for humans.
    pub name: &'static str,
    /// Default ports, tried for targets given without a port.
    pub ports: &'static [u16],
    /// How ajar tells open from protected, for `ajar probes`.
    pub check: &'static str,
    /// Severity of an open finding with user data (system-only data is `medium`, personal
    /// data `critical`).
    pub severity: Severity,
    /// What the operator should do about an open finding.
    pub remediation: &'static str,
    /// Documentation on securing it.
    pub references: &'static [&'static str],
}

/// The probes of one scan: the native ones and the compiled data-driven HTTP probes.
#[derive(Clone)]
pub struct Registry {
    natives: Vec<&'static NativeProbe>,
    rules: Arc<RuleSet>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("natives", &self.natives)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Registry {
    /// The native probes with the given data-driven probes.
    pub fn new(rules: RuleSet) -> Registry {
        Registry {
            natives: NATIVE.to_vec(),
            rules: Arc::new(rules),
        }
    }

    /// The native probes and the probes shipped in the binary, compiled once per process
    /// (every context of a test run shares them).
    pub fn shipped() -> anyhow::Result<Registry> {
        static SHIPPED: std::sync::OnceLock<Result<Arc<RuleSet>, String>> =
            std::sync::OnceLock::new();
        let compiled = SHIPPED.get_or_init(|| {
            RuleSet::shipped().map(Arc::new).map_err(|errors| {
                let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
                format!("a shipped probe does not compile: {}", shown.join("; "))
            })
        });
        match compiled {
            Ok(rules) => Ok(Registry {
                natives: NATIVE.to_vec(),
                rules: rules.clone(),
            }),
            Err(error) => Err(anyhow::anyhow!("{error}")),
        }
    }

    /// This registry with one more native probe, tried after the others (tests add probes
    /// of their own to exercise detection).
    pub fn with_native(mut self, probe: &'static NativeProbe) -> Registry {
        self.natives.push(probe);
        self
    }

    /// Every native probe, in table order.
    pub fn natives(&self) -> &[&'static NativeProbe] {
        &self.natives
    }

    /// The data-driven HTTP probes.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The native probe with this id.
    pub fn native(&self, id: &str) -> Option<&'static NativeProbe> {
        self.natives.iter().copied().find(|p| p.id == id)
    }

    /// The native probe that owns `port` through one of its services, or, for the HTTP
    /// probe, through a data-driven probe.
    fn owns_port(&self, probe: &NativeProbe, port: u16) -> bool {
        probe.services.iter().any(|s| s.ports.contains(&port))
            || (probe.id == HTTP && self.rules.iter().any(|r| r.ports.contains(&port)))
    }

    /// The probes that may run on `endpoint`, the port's usual owners first, then the rest
    /// in table order.
    pub fn order(&self, endpoint: &Endpoint) -> Vec<&'static NativeProbe> {
        let mut queue: Vec<&'static NativeProbe> = self
            .natives
            .iter()
            .copied()
            .filter(|p| p.accepts(endpoint.protocol))
            .collect();
        queue.sort_by_key(|p| !self.owns_port(p, endpoint.port));
        queue
    }

    /// Whether detection listens for a greeting on `endpoint`: always when any probe may
    /// run (a server that speaks first, in a protocol ajar knows or not, says so before it
    /// is asked anything), and for a pinned probe only if its protocol is server-first.
    pub fn listens_for_greeting(&self, endpoint: &Endpoint) -> bool {
        match endpoint.protocol {
            Protocol::Any => true,
            Protocol::Only(_) => self
                .natives
                .iter()
                .any(|p| p.greeting.is_some() && p.accepts(endpoint.protocol)),
        }
    }

    /// The server-first probe whose greeting `bytes` are.
    pub fn by_greeting(&self, bytes: &[u8]) -> Option<&'static NativeProbe> {
        self.natives
            .iter()
            .copied()
            .find(|p| p.greeting.is_some_and(|greets| greets(bytes)))
    }

    /// The probe whose protocol `bytes`, sent in answer to another protocol, are.
    pub fn by_answer(&self, bytes: &[u8]) -> Option<&'static NativeProbe> {
        self.natives.iter().copied().find(|p| {
            p.answers.is_some_and(|answers| answers(bytes))
                || p.greeting.is_some_and(|greets| greets(bytes))
        })
    }

    /// The probe whose "wrong port" notice an HTTP server sent in `text`.
    pub fn by_http_notice(&self, text: &str) -> Option<&'static NativeProbe> {
        self.natives
            .iter()
            .copied()
            .find(|p| p.http_notice.is_some_and(|notice| text.contains(notice)))
    }

    /// Every URI scheme of every native probe.
    pub fn schemes(&self) -> Vec<Scheme> {
        self.natives
            .iter()
            .flat_map(|p| p.schemes.iter().copied())
            .collect()
    }

    /// The default ports of every service and data-driven probe, de-duplicated, native
    /// services first in table order.
    pub fn default_ports(&self) -> Vec<u16> {
        let mut ports = Vec::new();
        let natives = self
            .natives
            .iter()
            .flat_map(|p| p.services.iter().flat_map(|s| s.ports.iter().copied()));
        for port in natives.chain(self.rules.ports()) {
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        ports
    }

    /// The native service with this id, for the finding builder.
    pub fn service(&self, id: &str) -> Option<&'static ServiceInfo> {
        self.natives
            .iter()
            .flat_map(|p| p.services.iter())
            .find(|s| s.id == id)
    }
}

/// The id of the HTTP probe, which also runs the data-driven probes.
pub const HTTP: &str = "http";

/// The schemes of the native probes, for target parsing without a scan's registry (tests,
/// tools): the same table every registry has.
pub fn native_schemes() -> Vec<Scheme> {
    NATIVE
        .iter()
        .flat_map(|p| p.schemes.iter().copied())
        .collect()
}
