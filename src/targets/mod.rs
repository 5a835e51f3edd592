//! Targets: parse what the user typed (hosts, `host:port`, IPv6, URLs with a path prefix,
//! `mongodb://` URIs, CIDR blocks, files with comments), resolve each name once, fold the
//! spellings of one server into one endpoint, apply exclusions to addresses, and expand the
//! set into endpoints lazily, so a /8 costs one range, not sixteen million addresses.
//!
//! - [`parse`]: one target line into specs; one spelling per address.
//! - [`input`]: reading target files and stdin within bounds.
//! - [`import`]: nmap XML and masscan output as target files, detected from their bytes.
//! - [`resolve`]: names to addresses, once each.
//! - [`ranges`]: address sets as merged ranges.
//! - [`scope`]: the CIDRs and domains the user owns; anything outside is refused.
//! - [`shard`]: `--shard K/N`, one of N disjoint parts of a scan.
//! - [`set`]: specs, resolved names and exclusions into the [`TargetSet`] the engine reads.
//!
//! Parsing is all-or-nothing: one bad line is an error naming its source and line, and
//! nothing is sent.

pub mod import;
pub mod input;
pub mod parse;
pub mod ranges;
pub mod resolve;
pub mod scope;
pub mod set;
pub mod shard;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use thiserror::Error;

pub use parse::{Cidr, TargetSpec, parse_ports, parse_target, strip_comment};
pub use set::{Exclusions, TargetSet, TargetSetBuilder, Unresolved};

/// A host to connect to: an address, or a name resolved at connect time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A literal IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A DNS name, lowercased.
    Name(Arc<str>),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

impl Host {
    /// The host as it goes into a URL or `host:port`: IPv6 in brackets.
    pub fn url_form(&self) -> String {
        match self {
            Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
            other => other.to_string(),
        }
    }
}

/// Which probe a target pinned, from its URI scheme (the registry's scheme table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// No scheme given: every probe may try the endpoint.
    Any,
    /// A scheme owned by the probe with this id (`http`, `mongodb`): only it runs.
    Only(&'static str),
}

/// Whether the endpoint is spoken to in plain text, over TLS, or found out per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// Try plain text, and TLS when the plain answer says the port wants TLS.
    Auto,
    /// Plain text only (`http://`).
    Plain,
    /// TLS only (`https://`, `mongodb://...?tls=true`).
    Tls,
}

/// One thing to probe: a host, a port, and what the target pinned about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Where to connect.
    pub host: Host,
    /// TCP port.
    pub port: u16,
    /// Path prefix for HTTP services behind a proxy (`/es/`); always ends in `/`.
    pub base_path: Option<Arc<str>>,
    /// Protocol pinned by the target's scheme.
    pub protocol: Protocol,
    /// Transport pinned by the target's scheme.
    pub transport: Transport,
}

impl Endpoint {
    /// An endpoint with nothing pinned: every probe, plain text or TLS.
    pub fn new(host: Host, port: u16) -> Self {
        Endpoint {
            host,
            port,
            base_path: None,
            protocol: Protocol::Any,
            transport: Transport::Auto,
        }
    }

    /// `host:port`, IPv6 as `[::1]:9200`: the endpoint id in every report.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host.url_form(), self.port)
    }

    /// The path prefix, `/` when none was given.
    pub fn base_path(&self) -> &str {
        self.base_path.as_deref().unwrap_or("/")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authority())
    }
}

/// Why a target could not be parsed, with where it came from.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// A line (or argument) that is not a target.
    #[error("{origin}: {}: {reason}", parse::shown(.input))]
    Invalid {
        /// `argument 2`, `targets.txt:14`, `stdin:3`.
        origin: String,
        /// The offending text, trimmed.
        input: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The whole set expands to more hosts than `--max-hosts` allows (counted after
    /// de-duplication and exclusions).
    #[error(
        "the targets expand to {hosts} hosts, more than --max-hosts {cap}; split the ranges or raise --max-hosts"
    )]
    TooManyHosts {
        /// Hosts the set would expand to.
        hosts: u128,
        /// The cap.
        cap: u64,
    },
    /// Targets outside `--scope` (after exclusions): nothing is sent.
    #[error(
        "{count} {} outside the scope of {scope}: {first}; widen the scope or exclude them",
        if *.count == 1 { "target is" } else { "targets are" }
    )]
    OutOfScope {
        /// Where the scope came from.
        scope: String,
        /// How many targets are outside.
        count: usize,
        /// The first few, comma-separated.
        first: String,
    },
    /// A target file could not be read.
    #[error("cannot read {path}: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
}
