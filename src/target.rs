//! Targets: parse what the user typed (hosts, `host:port`, IPv6, URLs with a path prefix,
//! `mongodb://` URIs, CIDR blocks, files with comments) into a de-duplicated set, and
//! expand that set into endpoints lazily, so a /16 does not cost memory per endpoint.
//!
//! Parsing is all-or-nothing: one bad line is an error naming its source and line, and
//! nothing is scanned.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use thiserror::Error;

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

/// Which protocol family a target pinned, from its URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// No scheme given: every probe may try the endpoint.
    Any,
    /// `http://` or `https://`: only HTTP probes.
    Http,
    /// `mongodb://`: only the MongoDB probe.
    MongoDb,
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

    /// The address connected to, as reports show it next to a name (`127.0.0.1:9200` for
    /// `localhost:9200`); `None` when the endpoint was given as an address.
    pub fn address_note(&self) -> Option<String> {
        None
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
    #[error("{origin}: {input:?}: {reason}")]
    Invalid {
        /// `argument 2`, `targets.txt:14`, `stdin:3`.
        origin: String,
        /// The offending text, trimmed.
        input: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The whole set expands to more hosts than `--max-hosts` allows.
    #[error(
        "the targets expand to {hosts} hosts, more than --max-hosts {cap}; split the ranges or raise --max-hosts"
    )]
    TooManyHosts {
        /// Hosts the set would expand to.
        hosts: u128,
        /// The cap.
        cap: u64,
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

/// A CIDR block, or a single address as a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `v6::/n`, or a bare address.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP address"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length {p:?} must be 0 to {max}"))?,
        };
        Ok(Cidr {
            network: mask(ip, prefix),
            prefix,
        })
    }

    /// Number of addresses in the block.
    pub fn size(&self) -> u128 {
        let bits = if self.network.is_ipv4() { 32 } else { 128 } - u32::from(self.prefix);
        1u128.checked_shl(bits).unwrap_or(u128::MAX)
    }

    /// Whether `ip` lies inside the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }

    /// Every address in the block, in order. Callers check [`Cidr::size`] first.
    pub fn hosts(&self) -> impl Iterator<Item = IpAddr> + use<> {
        let start = ip_to_u128(self.network);
        let v4 = self.network.is_ipv4();
        (0..self.size()).map(move |offset| u128_to_ip(start + offset, v4))
    }
}

fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn u128_to_ip(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(value as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// What one line of input named, before expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A fully pinned endpoint (`host:port`, a URL, a `mongodb://` URI host).
    Endpoint(Endpoint),
    /// A host with no port: tried on every probe's default port (or `-p`).
    Host(Host),
    /// A block of hosts with no port.
    Block(Cidr),
}

/// Parses one target. `text` is already trimmed and comment-free.
pub fn parse_target(text: &str) -> Result<Vec<TargetSpec>, String> {
    if text.is_empty() {
        return Err("empty target".into());
    }
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("a target is one word with no spaces or control characters".into());
    }
    if let Some((scheme, _)) = text.split_once("://") {
        return parse_uri(&scheme.to_ascii_lowercase(), text);
    }
    if text.contains('/') {
        return Cidr::parse(text)
            .map(|c| vec![TargetSpec::Block(c)])
            .map_err(|e| format!("not a CIDR block: {e}"));
    }
    let (host, port) = split_host_port(text)?;
    Ok(vec![match port {
        Some(port) => TargetSpec::Endpoint(Endpoint::new(host, port)),
        None => TargetSpec::Host(host),
    }])
}

/// Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
fn split_host_port(text: &str) -> Result<(Host, Option<u16>), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or("an opening '[' needs a closing ']' (IPv6 is written [::1]:9200)")?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("{inside:?} inside brackets is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(parse_port(
                p.strip_prefix(':').ok_or("expected ':port' after ']'")?,
            )?),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    if text.matches(':').count() > 1 {
        return text
            .parse::<Ipv6Addr>()
            .map(|ip| (Host::Ip(IpAddr::V6(ip)), None))
            .map_err(|_| "not an IPv6 address; to give a port write it as [::1]:9200".to_string());
    }
    let (host, port) = match text.split_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (text, None),
    };
    Ok((parse_host(host)?, port))
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("port {text:?} must be a number from 1 to 65535"))
}

/// Parses an IPv4 address or a DNS name.
fn parse_host(text: &str) -> Result<Host, String> {
    if text.is_empty() {
        return Err("missing host".into());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let looks_numeric = text.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric {
        return Err(format!("{text:?} is not a valid IPv4 address"));
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.len() > 253 || !name.split('.').all(valid_label) {
        return Err(format!("{text:?} is not a valid host name"));
    }
    Ok(Host::Name(Arc::from(name.to_ascii_lowercase())))
}

fn parse_uri(scheme: &str, text: &str) -> Result<Vec<TargetSpec>, String> {
    match scheme {
        "http" | "https" => parse_http_url(text).map(|e| vec![TargetSpec::Endpoint(e)]),
        "mongodb" => parse_mongodb_uri(text),
        "mongodb+srv" => Err(
            "mongodb+srv:// needs a DNS SRV lookup; give the hosts as mongodb://host:port".into(),
        ),
        other => Err(format!(
            "unknown scheme {other:?}: use http://, https://, mongodb:// or host:port"
        )),
    }
}

fn parse_http_url(text: &str) -> Result<Endpoint, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a valid URL: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a target URL takes a path prefix but no query or fragment".into());
    }
    let host = match url.host() {
        Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => parse_host(name)?,
        None => return Err("the URL has no host".into()),
    };
    let port = url
        .port_or_known_default()
        .ok_or("the URL has no port and its scheme has no default")?;
    let path = url.path();
    let base_path = match path {
        "" | "/" => None,
        p if p.ends_with('/') => Some(Arc::from(p)),
        p => Some(Arc::from(format!("{p}/"))),
    };
    Ok(Endpoint {
        host,
        port,
        base_path,
        protocol: Protocol::Http,
        transport: if url.scheme() == "https" {
            Transport::Tls
        } else {
            Transport::Plain
        },
    })
}

/// `mongodb://[user:pass@]host1[:port1][,host2...][/db][?opts]`. Credentials are ignored:
/// ajar never authenticates.
fn parse_mongodb_uri(text: &str) -> Result<Vec<TargetSpec>, String> {
    let rest = &text["mongodb://".len()..];
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hosts.is_empty() {
        return Err("the mongodb:// URI names no host".into());
    }
    let query = tail.split_once('?').map_or("", |(_, q)| q);
    let tls = query.split('&').any(|kv| {
        let kv = kv.to_ascii_lowercase();
        kv == "tls=true" || kv == "ssl=true"
    });
    hosts
        .split(',')
        .map(|h| {
            let (host, port) = split_host_port(h)?;
            Ok(TargetSpec::Endpoint(Endpoint {
                host,
                port: port.unwrap_or(27017),
                base_path: None,
                protocol: Protocol::MongoDb,
                transport: if tls { Transport::Tls } else { Transport::Auto },
            }))
        })
        .collect()
}

/// Strips a `#` comment (whole line, or after white space) and trims.
pub fn strip_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    let cut = line
        .char_indices()
        .find(|&(i, c)| c == '#' && line[..i].ends_with(char::is_whitespace))
        .map_or(line.len(), |(i, _)| i);
    line[..cut].trim()
}

/// Parses a port list: `9200,27017`, `9200-9210`, or both.
pub fn parse_ports(text: &str) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_port(a.trim())?, parse_port(b.trim())?);
                if a > b {
                    return Err(format!("port range {part:?} runs backwards"));
                }
                ports.extend(a..=b);
            }
            None => ports.push(parse_port(part)?),
        }
    }
    if ports.is_empty() {
        return Err("no ports given".into());
    }
    let mut seen = HashSet::new();
    ports.retain(|p| seen.insert(*p));
    Ok(ports)
}

/// Hosts or blocks never to scan.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    blocks: Vec<Cidr>,
    names: HashSet<Arc<str>>,
}

impl Exclusions {
    /// Parses `--exclude` values: addresses, CIDR blocks or host names.
    pub fn parse(values: &[String]) -> Result<Exclusions, TargetError> {
        let mut ex = Exclusions::default();
        for (i, value) in values.iter().enumerate() {
            let value = value.trim();
            let invalid = |reason: String| TargetError::Invalid {
                origin: format!("--exclude {}", i + 1),
                input: value.to_string(),
                reason,
            };
            if value.contains('/') || value.parse::<IpAddr>().is_ok() {
                ex.blocks.push(Cidr::parse(value).map_err(invalid)?);
            } else {
                match parse_host(value).map_err(invalid)? {
                    Host::Name(name) => {
                        ex.names.insert(name);
                    }
                    Host::Ip(ip) => ex.blocks.push(Cidr {
                        network: ip,
                        prefix: if ip.is_ipv4() { 32 } else { 128 },
                    }),
                }
            }
        }
        Ok(ex)
    }

    /// Whether `host` is excluded.
    pub fn excludes(&self, host: &Host) -> bool {
        match host {
            Host::Ip(ip) => self.blocks.iter().any(|b| b.contains(*ip)),
            Host::Name(name) => self.names.contains(name),
        }
    }
}

/// Accumulates parsed targets from arguments, files and stdin, then de-duplicates.
#[derive(Debug)]
pub struct TargetSetBuilder {
    specs: Vec<TargetSpec>,
    max_hosts: u64,
    inputs: usize,
}

impl TargetSetBuilder {
    /// A builder that refuses to expand to more than `max_hosts` hosts.
    pub fn new(max_hosts: u64) -> Self {
        TargetSetBuilder {
            specs: Vec::new(),
            max_hosts,
            inputs: 0,
        }
    }

    /// Adds one command-line argument; `origin` names it in errors.
    pub fn add(&mut self, origin: &str, text: &str) -> Result<(), TargetError> {
        let text = text.trim();
        let specs = parse_target(text).map_err(|reason| TargetError::Invalid {
            origin: origin.to_string(),
            input: text.to_string(),
            reason,
        })?;
        self.inputs += 1;
        self.specs.extend(specs);
        Ok(())
    }

    /// Adds every line of a target list; `name` is the file name (or `stdin`) for errors.
    pub fn add_lines(&mut self, name: &str, content: &str) -> Result<(), TargetError> {
        for (number, line) in content.lines().enumerate() {
            let text = strip_comment(line);
            if !text.is_empty() {
                self.add(&format!("{name}:{}", number + 1), text)?;
            }
        }
        Ok(())
    }

    /// How many target lines and arguments were added.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// De-duplicates, applies exclusions and checks the host cap.
    pub fn build(self, ports: &[u16], exclusions: &Exclusions) -> Result<TargetSet, TargetError> {
        let mut total: u128 = 0;
        for spec in &self.specs {
            if let TargetSpec::Block(b) = spec {
                total = total.saturating_add(b.size());
            } else {
                total += 1;
            }
        }
        if total > u128::from(self.max_hosts) {
            return Err(TargetError::TooManyHosts {
                hosts: total,
                cap: self.max_hosts,
            });
        }
        let mut seen_endpoints = HashSet::new();
        let mut seen_hosts = HashSet::new();
        let mut endpoints = Vec::new();
        let mut hosts = Vec::new();
        for spec in self.specs {
            match spec {
                TargetSpec::Endpoint(ep) => {
                    if !exclusions.excludes(&ep.host) && seen_endpoints.insert(ep.clone()) {
                        endpoints.push(ep);
                    }
                }
                TargetSpec::Host(host) => {
                    if !exclusions.excludes(&host) && seen_hosts.insert(host.clone()) {
                        hosts.push(host);
                    }
                }
                TargetSpec::Block(block) => {
                    for ip in block.hosts() {
                        let host = Host::Ip(ip);
                        if !exclusions.excludes(&host) && seen_hosts.insert(host.clone()) {
                            hosts.push(host);
                        }
                    }
                }
            }
        }
        // An explicit `host:port` (or URI without a path prefix) is more specific than a
        // portless host expanded onto the same port: the explicit one is probed, once.
        let pinned: HashSet<(Host, u16)> = endpoints
            .iter()
            .filter(|e| e.base_path.is_none())
            .map(|e| (e.host.clone(), e.port))
            .collect();
        Ok(TargetSet {
            endpoints,
            hosts,
            ports: ports.to_vec(),
            pinned,
        })
    }
}

/// A de-duplicated set of targets, expanded into endpoints on demand.
#[derive(Debug, Clone)]
pub struct TargetSet {
    endpoints: Vec<Endpoint>,
    hosts: Vec<Host>,
    ports: Vec<u16>,
    pinned: HashSet<(Host, u16)>,
}

impl TargetSet {
    /// Number of endpoints [`TargetSet::endpoints`] yields.
    pub fn len(&self) -> usize {
        let overlap = self
            .hosts
            .iter()
            .flat_map(|h| self.ports.iter().map(move |p| (h, *p)))
            .filter(|(h, p)| self.pinned.contains(&((*h).clone(), *p)))
            .count();
        self.endpoints.len() + self.hosts.len() * self.ports.len() - overlap
    }

    /// Whether there is nothing to scan.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pinned endpoints first, then every portless host on every port, port by port, so
    /// consecutive endpoints hit different hosts and per-host limits rarely wait.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> + '_ {
        let expanded = self.ports.iter().flat_map(move |port| {
            self.hosts
                .iter()
                .filter(move |host| !self.pinned.contains(&((*host).clone(), *port)))
                .map(move |host| Endpoint::new(host.clone(), *port))
        });
        self.endpoints.iter().cloned().chain(expanded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> TargetSpec {
        let mut specs = parse_target(text).expect("valid target");
        assert_eq!(specs.len(), 1);
        specs.remove(0)
    }

    fn ep(text: &str) -> Endpoint {
        match one(text) {
            TargetSpec::Endpoint(e) => e,
            other => panic!("expected an endpoint, got {other:?}"),
        }
    }

    #[test]
    fn parses_plain_hosts_and_ports() {
        assert_eq!(
            one("127.0.0.1"),
            TargetSpec::Host(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(ep("127.0.0.1:9200").authority(), "127.0.0.1:9200");
        assert_eq!(
            one("LocalHost"),
            TargetSpec::Host(Host::Name("localhost".into()))
        );
        assert_eq!(ep("db-1.example.internal:27017").port, 27017);
    }

    #[test]
    fn parses_ipv6_forms() {
        assert_eq!(ep("[::1]:9200").authority(), "[::1]:9200");
        assert_eq!(
            one("::1"),
            TargetSpec::Host(Host::Ip("::1".parse().unwrap()))
        );
        assert_eq!(
            one("[::1]"),
            TargetSpec::Host(Host::Ip("::1".parse().unwrap()))
        );
        assert!(parse_target("::1:9200:x").is_err());
        assert!(parse_target("[::1").is_err());
        assert!(parse_target("[::1]9200").is_err());
    }

    #[test]
    fn parses_urls_with_path_prefix() {
        let e = ep("https://127.0.0.1:9443/es");
        assert_eq!(e.base_path(), "/es/");
        assert_eq!(e.transport, Transport::Tls);
        assert_eq!(e.protocol, Protocol::Http);
        let e = ep("http://[::1]/");
        assert_eq!(
            (e.port, e.base_path(), e.transport),
            (80, "/", Transport::Plain)
        );
        assert!(parse_target("http://127.0.0.1:9200/?q=1").is_err());
        assert!(parse_target("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn parses_mongodb_uris() {
        let specs = parse_target("mongodb://u:p@127.0.0.1,127.0.0.2:27018/db?tls=true").unwrap();
        let eps: Vec<String> = specs
            .iter()
            .map(|s| match s {
                TargetSpec::Endpoint(e) => {
                    assert_eq!(
                        (e.protocol, e.transport),
                        (Protocol::MongoDb, Transport::Tls)
                    );
                    e.authority()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(eps, ["127.0.0.1:27017", "127.0.0.2:27018"]);
        assert!(parse_target("mongodb+srv://cluster0.example.net").is_err());
        assert!(parse_target("mongodb:///db").is_err());
    }

    #[test]
    fn expands_cidr_blocks() {
        let c = Cidr::parse("127.0.0.5/30").unwrap();
        let hosts: Vec<String> = c.hosts().map(|h| h.to_string()).collect();
        assert_eq!(hosts, ["127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"]);
        assert_eq!(Cidr::parse("::1/128").unwrap().size(), 1);
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().size(), 1 << 32);
        assert_eq!(Cidr::parse("::/0").unwrap().size(), u128::MAX);
        assert!(Cidr::parse("127.0.0.1/33").is_err());
        assert!(Cidr::parse("127.0.0.1/-1").is_err());
    }

    #[test]
    fn rejects_hostile_input() {
        for bad in [
            "",
            "999.1.1.1",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:-1",
            "127.0.0.1:http",
            "a b",
            "host\u{0}name",
            "-bad.example",
            "bad..example",
            "\u{202e}evil",
            "http://",
            "127.0.0.1:9200:1",
            "exa mple.com",
            "ünï.example",
            "1.2.3",
            ":9200",
            "[]:1",
            "http://127.0.0.1:99999/",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = "a".repeat(300);
        assert!(parse_target(&long).is_err());
    }

    #[test]
    fn never_panics_on_random_input() {
        // A small deterministic generator over the characters targets are made of, plus
        // multi-byte and control characters: parsing must return Ok or Err, never panic.
        const ALPHABET: &[char] = &[
            '1', '2', '5', '0', '9', '.', ':', '[', ']', '/', '-', '#', '@', '?', '=', ',', 'a',
            'f', 'x', 'h', 't', 'p', 's', 'm', 'o', 'n', 'g', 'd', 'b', ' ', '%', 'ü', '\u{0}',
            '\u{202e}', '\t',
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..50_000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            for candidate in [
                text.clone(),
                format!("http://{text}"),
                format!("mongodb://{text}"),
            ] {
                let _ = parse_target(&candidate);
                let _ = parse_ports(&candidate);
                let _ = strip_comment(&candidate);
            }
        }
    }

    #[test]
    fn strips_comments_and_reports_lines() {
        assert_eq!(strip_comment("  # whole line"), "");
        assert_eq!(strip_comment("127.0.0.1:9200  # es"), "127.0.0.1:9200");
        let mut b = TargetSetBuilder::new(1000);
        let err = b
            .add_lines("targets.txt", "# estate\n127.0.0.1\n\n127.0.0.1:notaport\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "targets.txt:4: \"127.0.0.1:notaport\": port \"notaport\" must be a number from 1 to 65535"
        );
    }

    #[test]
    fn dedupes_and_expands_port_major() {
        let mut b = TargetSetBuilder::new(1000);
        b.add_lines(
            "t",
            "127.0.0.1\n127.0.0.1\n127.0.0.2:9200\n127.0.0.0/31\n127.0.0.1:9200\n",
        )
        .unwrap();
        let set = b.build(&[9200, 27017], &Exclusions::default()).unwrap();
        let all: Vec<String> = set.endpoints().map(|e| e.authority()).collect();
        assert_eq!(
            all,
            [
                "127.0.0.2:9200",
                "127.0.0.1:9200",
                "127.0.0.0:9200",
                "127.0.0.1:27017",
                "127.0.0.0:27017"
            ]
        );
        assert_eq!(set.len(), all.len());
    }

    #[test]
    fn caps_large_blocks_and_applies_exclusions() {
        let mut b = TargetSetBuilder::new(256);
        b.add("argument 1", "127.0.0.0/16").unwrap();
        assert_eq!(
            b.build(&[9200], &Exclusions::default()).unwrap_err(),
            TargetError::TooManyHosts {
                hosts: 65536,
                cap: 256
            }
        );
        let mut b = TargetSetBuilder::new(256);
        b.add("argument 1", "127.0.0.0/30").unwrap();
        let ex = Exclusions::parse(&["127.0.0.0/31".into(), "127.0.0.3".into()]).unwrap();
        let set = b.build(&[9200], &ex).unwrap();
        let all: Vec<String> = set.endpoints().map(|e| e.authority()).collect();
        assert_eq!(all, ["127.0.0.2:9200"]);
    }

    #[test]
    fn parses_port_lists() {
        assert_eq!(
            parse_ports("9200, 27017-27019,9200").unwrap(),
            [9200, 27017, 27018, 27019]
        );
        assert!(parse_ports("10-1").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("").is_err());
    }
}
