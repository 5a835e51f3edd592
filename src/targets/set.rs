//! From parsed targets to the endpoints of a scan: names resolved once, every spelling of
//! one server folded into one endpoint, exclusions applied to addresses, `--max-hosts`
//! counted after both, and expansion done lazily from address ranges.
//!
//! Memory follows the number of target lines, never the number of addresses: portless
//! addresses and blocks become [`IpRanges`], and endpoints are produced one by one.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use super::parse::{Cidr, TargetSpec, parse_host, parse_target, strip_comment};
use super::ranges::IpRanges;
use super::resolve::Resolved;
use super::scope::Scope;
use super::shard::Shard;
use super::{Endpoint, Host, Protocol, TargetError, Transport};

/// Hosts or blocks never to scan, compared with addresses (names are resolved first).
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    ranges: IpRanges,
    names: Vec<Arc<str>>,
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
            if value.contains('/') || value.contains(':') {
                let block = Cidr::parse(value).map_err(invalid)?;
                ex.ranges.insert(block.first(), block.last());
            } else {
                match parse_host(value).map_err(invalid)? {
                    Host::Name(name) => ex.names.push(name),
                    Host::Ip(ip) => ex.ranges.insert_addr(ip),
                }
            }
        }
        ex.ranges.normalize();
        Ok(ex)
    }

    /// The names among the exclusions, to resolve with the targets.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.names.is_empty()
    }
}

/// A name that could not be resolved, and the targets that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The name.
    pub name: Arc<str>,
    /// The resolver's reason.
    pub reason: String,
}

/// Accumulates parsed targets from arguments, files and stdin.
#[derive(Debug)]
pub struct TargetSetBuilder {
    specs: Vec<TargetSpec>,
    max_hosts: u64,
    inputs: usize,
    scope: Option<Scope>,
}

impl TargetSetBuilder {
    /// A builder that refuses to expand to more than `max_hosts` distinct hosts.
    pub fn new(max_hosts: u64) -> Self {
        TargetSetBuilder {
            specs: Vec::new(),
            max_hosts,
            inputs: 0,
            scope: None,
        }
    }

    /// Refuses, at [`TargetSetBuilder::build`], every target outside `scope`.
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Names the scope forbids resolving at all (not under a listed domain, and no
    /// blocks listed): refused before their DNS query is sent.
    pub fn names_out_of_scope(&self) -> Vec<Arc<str>> {
        match &self.scope {
            Some(scope) => self
                .names()
                .into_iter()
                .filter(|n| !scope.may_resolve(n))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Adds one command-line argument or line; `origin` names it in errors.
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

    /// Adds every line of a target list held in memory; `name` is the file name (or
    /// `stdin`) for errors.
    pub fn add_lines(&mut self, name: &str, content: &str) -> Result<(), TargetError> {
        self.add_reader(name, content.as_bytes())
    }

    /// Adds every line read from `reader`, within the bounds of [`super::input`]; nmap
    /// XML and masscan output are told from their first bytes and read by
    /// [`super::import`].
    pub fn add_reader<R: std::io::BufRead>(
        &mut self,
        name: &str,
        reader: R,
    ) -> Result<(), TargetError> {
        let (format, reader) = super::import::peek(name, reader)?;
        if format != super::import::Format::Plain {
            return super::import::read(format, name, reader, &mut |origin, target| {
                self.add(origin, target)
            });
        }
        super::input::for_each_line(name, reader, |origin, line| {
            let text = strip_comment(line);
            if text.is_empty() {
                Ok(())
            } else {
                self.add(origin, text)
            }
        })
    }

    /// How many target lines and arguments were added.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Every host name the targets use, to resolve before [`TargetSetBuilder::build`].
    pub fn names(&self) -> Vec<Arc<str>> {
        let mut names: Vec<Arc<str>> = self
            .specs
            .iter()
            .filter_map(|spec| match spec {
                TargetSpec::Endpoint(Endpoint {
                    host: Host::Name(n),
                    ..
                })
                | TargetSpec::Host(Host::Name(n)) => Some(n.clone()),
                _ => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Builds the endpoint set: resolves names from `resolved`, folds spellings of one
    /// server together, applies exclusions to addresses, and checks the host cap.
    pub fn build(
        self,
        ports: &[u16],
        exclusions: &Exclusions,
        resolved: &Resolved,
    ) -> Result<TargetSet, TargetError> {
        let mut excluded = exclusions.ranges.clone();
        for name in &exclusions.names {
            // An exclusion that cannot be applied fails closed: scanning on without it
            // could reach the very host it was meant to protect.
            if let Some(reason) = resolved.failed.get(name) {
                return Err(TargetError::Invalid {
                    origin: "--exclude".into(),
                    input: name.to_string(),
                    reason: format!(
                        "cannot resolve: {}; an exclusion that cannot be applied stops the scan",
                        crate::sanitize::clip(reason, 120)
                    ),
                });
            }
            for addr in resolved.addrs.get(name).into_iter().flatten() {
                excluded.insert_addr(*addr);
            }
        }
        excluded.normalize();
        let excluded_names: HashSet<&str> = exclusions.names.iter().map(|n| n.as_ref()).collect();
        let is_excluded = |host: &Host, addr: IpAddr| {
            excluded.contains(addr)
                || matches!(host, Host::Name(n) if excluded_names.contains(n.as_ref()))
        };

        let mut unresolved: Vec<Unresolved> = Vec::new();
        let mut address_of = |host: &Host| -> Option<IpAddr> {
            match host {
                Host::Ip(ip) => Some(*ip),
                Host::Name(name) => {
                    let addr = resolved.scan_address(name);
                    if addr.is_none() && !unresolved.iter().any(|u| u.name == *name) {
                        unresolved.push(Unresolved {
                            name: name.clone(),
                            reason: resolved
                                .failed
                                .get(name)
                                .cloned()
                                .unwrap_or_else(|| "not resolved".into()),
                        });
                    }
                    addr
                }
            }
        };

        let mut ranges = IpRanges::new();
        let mut named: Vec<(Arc<str>, IpAddr)> = Vec::new();
        let mut pinned: Vec<(usize, IpAddr, Endpoint)> = Vec::new();
        let mut any_target = false;
        for (index, spec) in self.specs.into_iter().enumerate() {
            match spec {
                TargetSpec::Block(block) => {
                    any_target = true;
                    ranges.insert(block.first(), block.last());
                }
                TargetSpec::Host(host) => {
                    let Some(addr) = address_of(&host) else {
                        continue;
                    };
                    any_target = true;
                    match host {
                        Host::Ip(ip) => ranges.insert_addr(ip),
                        Host::Name(name) if !is_excluded(&Host::Name(name.clone()), addr) => {
                            named.push((name, addr));
                        }
                        Host::Name(_) => {}
                    }
                }
                TargetSpec::Endpoint(endpoint) => {
                    let Some(addr) = address_of(&endpoint.host) else {
                        continue;
                    };
                    any_target = true;
                    if !is_excluded(&endpoint.host, addr) {
                        pinned.push((index, addr, endpoint));
                    }
                }
            }
        }
        // The unspecified addresses are not hosts; blocks such as 0.0.0.0/8 skip them.
        excluded.insert_addr(IpAddr::from([0u8, 0, 0, 0]));
        excluded.insert_addr(IpAddr::from([0u16; 8]));
        excluded.normalize();
        ranges.normalize();
        ranges.subtract(&excluded);

        // Portless names: one per address, the first given; an address also given
        // literally is scanned under its name.
        let mut seen = HashSet::new();
        named.retain(|(_, addr)| seen.insert(*addr));
        let mut named_addrs = IpRanges::new();
        for (_, addr) in &named {
            named_addrs.insert_addr(*addr);
        }
        named_addrs.normalize();
        ranges.subtract(&named_addrs);

        if let Some(scope) = &self.scope {
            check_scope(scope, &ranges, &named, &pinned)?;
        }
        let pinned = dedupe_pinned(pinned);
        let mut pinned_keys: Vec<(IpAddr, u16)> = pinned
            .iter()
            .filter(|(_, e)| e.base_path.is_none())
            .map(|(addr, e)| (*addr, e.port))
            .collect();
        pinned_keys.sort_unstable();
        pinned_keys.dedup();

        let mut ports = ports.to_vec();
        ports.dedup();
        let port_set: HashSet<u16> = ports.iter().copied().collect();
        let covered = |addr: IpAddr| ranges.contains(addr) || seen.contains(&addr);
        let overlap = pinned_keys
            .iter()
            .filter(|(addr, port)| port_set.contains(port) && covered(*addr))
            .count() as u128;

        let mut pinned_addrs: Vec<IpAddr> = pinned.iter().map(|(a, _)| *a).collect();
        pinned_addrs.sort_unstable();
        pinned_addrs.dedup();
        let hosts = ranges
            .count()
            .saturating_add(named.len() as u128)
            .saturating_add(pinned_addrs.iter().filter(|a| !covered(**a)).count() as u128);
        if hosts > u128::from(self.max_hosts) {
            return Err(TargetError::TooManyHosts {
                hosts,
                cap: self.max_hosts,
            });
        }
        let expanded = ranges
            .count()
            .saturating_add(named.len() as u128)
            .saturating_mul(ports.len() as u128);
        let len = expanded
            .saturating_sub(overlap)
            .saturating_add(pinned.len() as u128);

        let mut names: HashMap<Arc<str>, IpAddr> = HashMap::new();
        for (addr, endpoint) in &pinned {
            if let Host::Name(name) = &endpoint.host {
                names.insert(name.clone(), *addr);
            }
        }
        for (name, addr) in &named {
            names.insert(name.clone(), *addr);
        }
        Ok(TargetSet {
            endpoints: pinned.into_iter().map(|(_, e)| e).collect(),
            named,
            ranges,
            ports,
            pinned: pinned_keys,
            names: Arc::new(names),
            len: u64::try_from(len).unwrap_or(u64::MAX),
            hosts: u64::try_from(hosts).unwrap_or(u64::MAX),
            unresolved,
            had_targets: any_target,
            shard: None,
        })
    }
}

/// Every target left after exclusions must be in `scope`; the error lists the first few
/// that are not.
fn check_scope(
    scope: &Scope,
    ranges: &IpRanges,
    named: &[(Arc<str>, IpAddr)],
    pinned: &[(usize, IpAddr, Endpoint)],
) -> Result<(), TargetError> {
    let mut outside: Vec<String> = Vec::new();
    if let Some(addr) = scope.first_outside(ranges) {
        outside.push(addr.to_string());
    }
    let show = |host: &Host, addr: IpAddr| match host {
        Host::Name(name) => format!("{name} ({addr})"),
        Host::Ip(_) => addr.to_string(),
    };
    for (name, addr) in named {
        let host = Host::Name(name.clone());
        if !scope.holds(&host, *addr) {
            outside.push(show(&host, *addr));
        }
    }
    for (_, addr, endpoint) in pinned {
        if !scope.holds(&endpoint.host, *addr) {
            outside.push(show(&endpoint.host, *addr));
        }
    }
    if outside.is_empty() {
        return Ok(());
    }
    outside.dedup();
    Err(TargetError::OutOfScope {
        scope: scope.source().to_string(),
        count: outside.len(),
        first: outside.into_iter().take(5).collect::<Vec<_>>().join(", "),
    })
}

/// Folds pinned endpoints that name one server (same address, port and path prefix)
/// into the first one given, keeping its spelling; when the spellings pinned different
/// probes or transports, the merged endpoint allows every probe and both transports.
fn dedupe_pinned(mut pinned: Vec<(usize, IpAddr, Endpoint)>) -> Vec<(IpAddr, Endpoint)> {
    pinned.sort_by(|a, b| {
        (a.1, a.2.port, &a.2.base_path, a.0).cmp(&(b.1, b.2.port, &b.2.base_path, b.0))
    });
    let mut out: Vec<(usize, IpAddr, Endpoint)> = Vec::with_capacity(pinned.len());
    for (index, addr, endpoint) in pinned {
        if let Some((_, last_addr, last)) = out.last_mut()
            && *last_addr == addr
            && last.port == endpoint.port
            && last.base_path == endpoint.base_path
        {
            if last.protocol != endpoint.protocol {
                last.protocol = Protocol::Any;
            }
            if last.transport != endpoint.transport {
                last.transport = Transport::Auto;
            }
            continue;
        }
        out.push((index, addr, endpoint));
    }
    out.sort_by_key(|(index, _, _)| *index);
    out.into_iter().map(|(_, a, e)| (a, e)).collect()
}

/// The endpoints of a scan, produced on demand.
#[derive(Debug, Clone)]
pub struct TargetSet {
    endpoints: Vec<Endpoint>,
    named: Vec<(Arc<str>, IpAddr)>,
    ranges: IpRanges,
    ports: Vec<u16>,
    pinned: Vec<(IpAddr, u16)>,
    names: Arc<HashMap<Arc<str>, IpAddr>>,
    len: u64,
    hosts: u64,
    unresolved: Vec<Unresolved>,
    had_targets: bool,
    shard: Option<Shard>,
}

impl TargetSet {
    /// Keeps only the endpoints of `shard`; the length is recounted (one pass over the
    /// expansion, which stays lazy).
    pub fn with_shard(mut self, shard: Shard) -> TargetSet {
        self.shard = Some(shard);
        self.len = self.endpoints().count() as u64;
        self
    }

    /// The part of the scan this set is, when split with `--shard`.
    pub fn shard(&self) -> Option<Shard> {
        self.shard
    }

    /// Whether this set (and its shard) holds the endpoint `authority` (`host:port` as a
    /// report writes it): how a baseline tells a finding that is gone from one this run
    /// did not look at.
    pub fn holds_authority(&self, authority: &str) -> bool {
        let Ok(specs) = super::parse::parse_target(authority) else {
            return false;
        };
        let Some(TargetSpec::Endpoint(endpoint)) = specs.into_iter().next() else {
            return false;
        };
        let Some(addr) = self.address_of(&endpoint.host) else {
            return false;
        };
        let port = endpoint.port;
        let listed = self.pinned.binary_search(&(addr, port)).is_ok()
            || self
                .endpoints
                .iter()
                .any(|e| e.port == port && self.address_of(&e.host) == Some(addr))
            || (self.ports.contains(&port)
                && (self.ranges.contains(addr) || self.named.iter().any(|(_, a)| *a == addr)));
        listed && self.shard.is_none_or(|s| s.holds(addr, port))
    }

    /// Number of endpoints [`TargetSet::endpoints`] yields.
    pub fn len(&self) -> usize {
        usize::try_from(self.len).unwrap_or(usize::MAX)
    }

    /// Whether there is nothing to scan.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Distinct hosts (addresses) among the endpoints.
    pub fn hosts(&self) -> u64 {
        self.hosts
    }

    /// Names that did not resolve; their targets are not among the endpoints.
    pub fn unresolved(&self) -> &[Unresolved] {
        &self.unresolved
    }

    /// True when targets were given and resolved but exclusions removed every one.
    pub fn all_excluded(&self) -> bool {
        self.had_targets && self.is_empty()
    }

    /// The address each name in the set is scanned at, for the connection layer.
    pub fn names(&self) -> Arc<HashMap<Arc<str>, IpAddr>> {
        self.names.clone()
    }

    /// The address an endpoint's host is scanned at.
    pub fn address_of(&self, host: &Host) -> Option<IpAddr> {
        match host {
            Host::Ip(ip) => Some(*ip),
            Host::Name(name) => self.names.get(name).copied(),
        }
    }

    /// Memory the set holds, in stored ranges and entries, for tests of its flatness.
    pub fn stored_entries(&self) -> usize {
        self.endpoints.len() + self.named.len() + self.ranges.ranges() + self.pinned.len()
    }

    /// Pinned endpoints first, in input order, then every portless host on every port,
    /// port by port, so consecutive endpoints hit different hosts and per-host limits
    /// rarely wait. An address and port already pinned is not expanded again.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> + '_ {
        let expanded = self.ports.iter().flat_map(move |&port| {
            let named = self
                .named
                .iter()
                .map(move |(name, addr)| (Host::Name(name.clone()), *addr));
            let addrs = self.ranges.addrs().map(|addr| (Host::Ip(addr), addr));
            named
                .chain(addrs)
                .filter(move |(_, addr)| self.pinned.binary_search(&(*addr, port)).is_err())
                .map(move |(host, _)| Endpoint::new(host, port))
        });
        let shard = self.shard;
        self.endpoints
            .iter()
            .cloned()
            .chain(expanded)
            .filter(move |e| {
                shard.is_none_or(|s| {
                    self.address_of(&e.host)
                        .is_some_and(|addr| s.holds(addr, e.port))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::resolve::{StaticResolver, resolve_all};

    fn build(
        lines: &str,
        ports: &[u16],
        exclude: &[&str],
        max: u64,
    ) -> Result<TargetSet, TargetError> {
        build_with(lines, ports, exclude, max, &StaticResolver::new(&[]))
    }

    fn build_with(
        lines: &str,
        ports: &[u16],
        exclude: &[&str],
        max: u64,
        resolver: &StaticResolver,
    ) -> Result<TargetSet, TargetError> {
        let mut b = TargetSetBuilder::new(max);
        b.add_lines("t", lines)?;
        let ex = Exclusions::parse(&exclude.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
        let mut names = b.names();
        names.extend(ex.names().iter().cloned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let resolved = runtime.block_on(resolve_all(names, resolver));
        b.build(ports, &ex, &resolved)
    }

    fn all(set: &TargetSet) -> Vec<String> {
        let list: Vec<String> = set.endpoints().map(|e| e.authority()).collect();
        assert_eq!(set.len(), list.len(), "len() agrees with the endpoints");
        list
    }

    fn localhost() -> StaticResolver {
        StaticResolver::new(&[("localhost", &["127.0.0.1".parse().expect("ip")])])
    }

    #[test]
    fn dedupes_and_expands_port_major() {
        let set = build(
            "127.0.0.1\n127.0.0.1\n127.0.0.2:9200\n127.0.0.0/31\n127.0.0.1:9200\n",
            &[9200, 27017],
            &[],
            1000,
        )
        .expect("set");
        assert_eq!(
            all(&set),
            [
                "127.0.0.2:9200",
                "127.0.0.1:9200",
                "127.0.0.0:9200",
                "127.0.0.0:27017",
                "127.0.0.1:27017",
            ]
        );
    }

    #[test]
    fn one_server_under_several_spellings_is_one_endpoint() {
        let set = build_with(
            "127.0.0.1:9200\n127.0.0.1:9200\nlocalhost:9200\n[::ffff:127.0.0.1]:9200\nhttp://127.0.0.1:9200/\n",
            &[9200],
            &[],
            1000,
            &localhost(),
        )
        .expect("set");
        let endpoints: Vec<Endpoint> = set.endpoints().collect();
        assert_eq!(endpoints.len(), 1, "{endpoints:?}");
        assert_eq!(
            endpoints[0].authority(),
            "127.0.0.1:9200",
            "the first spelling"
        );
        // The spellings pinned different probes and transports: all may run.
        assert_eq!(
            (endpoints[0].protocol, endpoints[0].transport),
            (Protocol::Any, Transport::Auto)
        );
        // A name given alone keeps its spelling, and is scanned at its address.
        let set =
            build_with("localhost\n127.0.0.1\n", &[9200], &[], 10, &localhost()).expect("set");
        assert_eq!(all(&set), ["localhost:9200"]);
        assert_eq!(
            set.address_of(&Host::Name("localhost".into())),
            Some("127.0.0.1".parse().expect("ip"))
        );
        // A path prefix is another service on the same port: kept apart.
        let set = build(
            "127.0.0.1:9200\nhttp://127.0.0.1:9200/es/\n",
            &[9200],
            &[],
            10,
        )
        .expect("set");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn exclusions_hold_whatever_the_spelling() {
        let set = build_with(
            "localhost:9200\n[::ffff:127.0.0.1]:9200\n127.0.0.1\n127.0.0.0/24\nlocalhost\n",
            &[9200],
            &["127.0.0.0/8"],
            1000,
            &localhost(),
        )
        .expect("set");
        assert!(set.is_empty(), "{:?}", all(&set));
        assert!(set.all_excluded());
        // A name in --exclude excludes its addresses too.
        let set = build_with(
            "127.0.0.1:9200\n127.0.0.2:9200\n",
            &[9200],
            &["localhost"],
            10,
            &localhost(),
        )
        .expect("set");
        assert_eq!(all(&set), ["127.0.0.2:9200"]);
        let set = build("127.0.0.0/30\n", &[9200], &["::ffff:127.0.0.0/127"], 10).expect("set");
        assert_eq!(all(&set), ["127.0.0.2:9200", "127.0.0.3:9200"]);
    }

    #[test]
    fn an_exclusion_that_does_not_resolve_stops_the_scan() {
        let error = build_with(
            "127.0.0.1:9200\n",
            &[9200],
            &["gone.invalid"],
            10,
            &localhost(),
        )
        .expect_err("fails closed");
        assert_eq!(
            error.to_string(),
            "--exclude: \"gone.invalid\": cannot resolve: Name or service not known; an exclusion that cannot be applied stops the scan"
        );
    }

    #[test]
    fn unresolved_names_are_kept_apart() {
        let set = build_with(
            "nowhere.invalid:9200\nlocalhost:9200\n",
            &[9200],
            &[],
            10,
            &localhost(),
        )
        .expect("set");
        assert_eq!(all(&set), ["localhost:9200"]);
        assert_eq!(set.unresolved().len(), 1);
        assert_eq!(set.unresolved()[0].name.as_ref(), "nowhere.invalid");
        assert!(!set.all_excluded());
    }

    #[test]
    fn caps_hosts_after_dedupe_and_exclusions_without_expanding() {
        assert_eq!(
            build("127.0.0.0/16\n", &[9200], &[], 256).expect_err("too many"),
            TargetError::TooManyHosts {
                hosts: 65536,
                cap: 256
            }
        );
        // Overlapping blocks and repeated addresses count once; excluded ones not at all.
        let set = build(
            "127.0.0.0/30\n127.0.0.0/30\n127.0.0.1\n127.0.0.2:9200\n",
            &[9200],
            &[],
            4,
        )
        .expect("four hosts");
        assert_eq!(set.hosts(), 4);
        assert!(
            build(
                "127.0.0.0/16\n",
                &[9200],
                &["127.0.1.0/24", "127.0.0.0/17"],
                256
            )
            .is_err()
        );
        let set = build(
            "127.0.0.0/24\n",
            &[9200],
            &["127.0.0.0/25", "127.0.0.128/26"],
            64,
        )
        .expect("64");
        assert_eq!(set.len(), 64);
        // A /8 and a /65 are a handful of ranges; the /65 is refused by count, not by memory.
        let set = build("127.0.0.0/8\n", &[1, 2, 3], &[], 1 << 32).expect("a /8");
        assert_eq!(set.len(), 3 << 24);
        assert!(set.stored_entries() <= 2, "{}", set.stored_entries());
        assert_eq!(
            build("::/65\n", &[9200], &[], 1 << 32).expect_err("too many"),
            TargetError::TooManyHosts {
                // `::` itself is not a host.
                hosts: (1 << 63) - 1,
                cap: 1 << 32
            }
        );
        // The unspecified address inside a block is not a host.
        let set = build("0.0.0.0/30\n", &[9200], &[], 10).expect("set");
        assert_eq!(all(&set), ["0.0.0.1:9200", "0.0.0.2:9200", "0.0.0.3:9200"]);
    }

    #[test]
    fn reports_lines_with_clipped_input() {
        let mut b = TargetSetBuilder::new(1000);
        let err = b
            .add_lines("targets.txt", "# estate\n127.0.0.1\n\n127.0.0.1:notaport\n")
            .expect_err("bad line");
        assert_eq!(
            err.to_string(),
            "targets.txt:4: \"127.0.0.1:notaport\": port \"notaport\" must be a number from 1 to 65535"
        );
        let huge = format!("127.0.0.1:{}\n", "9".repeat(4000));
        let err = b.add_lines("t", &huge).expect_err("bad port");
        assert!(err.to_string().len() < 300, "{err}");
    }
}
