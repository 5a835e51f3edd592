//! One target as the user typed it: `127.0.0.1`, `db1.internal:27017`, `[::1]:9200`, a
//! CIDR block, `https://host:9200/es/`, `mongodb://h1,h2/?tls=true`. Parsing never touches
//! the network; names are resolved later, once each ([`super::resolve`]).
//!
//! Addresses have one spelling. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is the IPv4 address
//! it maps. The system resolver also reads `0x7f000001`, `2130706433`, `127.1` and
//! `0177.0.0.1` as addresses, so a parser that took them for host names would let them
//! past exclusions and scope; ajar refuses them, naming the address they stand for. The
//! unspecified addresses `0.0.0.0` and `::` are not hosts (connecting to them reaches this
//! machine) and are refused as targets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use super::{Endpoint, Host, Protocol, Transport};
use crate::probe::registry::{self, Scheme, UriStyle};
use crate::sanitize::clip;

/// Longest input shown back in an error, in characters.
const SHOWN: usize = 60;

/// Server or user text as an error message shows it: escaped, clipped, quoted.
pub fn shown(text: &str) -> String {
    format!("\"{}\"", clip(text, SHOWN))
}

/// A CIDR block, or a single address as a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `v6::/n`, or a bare address. An IPv4-mapped IPv6 block of
    /// prefix 96 or more is the IPv4 block it maps.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        // Not yet canonical: a mapped block's prefix counts IPv6 bits.
        let mut ip = match addr.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => parse_ip(addr)?,
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let mut prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length {} must be 0 to {max}", shown(p)))?,
        };
        if let IpAddr::V6(v6) = ip
            && let Some(v4) = v6.to_ipv4_mapped()
            && prefix >= 96
        {
            ip = IpAddr::V4(v4);
            prefix -= 96;
        }
        Ok(Cidr {
            network: mask(ip, prefix),
            prefix,
        })
    }

    /// The first address of the block.
    pub fn first(&self) -> IpAddr {
        self.network
    }

    /// The last address of the block.
    pub fn last(&self) -> IpAddr {
        match self.network {
            IpAddr::V4(v4) => {
                let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) | host))
            }
            IpAddr::V6(v6) => {
                let host = u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) | host))
            }
        }
    }

    /// Number of addresses in the block, saturating at `u128::MAX` for `::/0`.
    pub fn size(&self) -> u128 {
        let bits = if self.network.is_ipv4() { 32 } else { 128 } - u32::from(self.prefix);
        1u128.checked_shl(bits).unwrap_or(u128::MAX)
    }

    /// Whether `ip` lies inside the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

/// An address in its one accepted spelling, IPv4-mapped IPv6 turned into IPv4.
fn parse_ip(text: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(ip.to_canonical());
    }
    if let Some(v4) = inet_aton(text) {
        return Err(non_standard(text, v4));
    }
    Err(format!("{} is not an IP address", shown(text)))
}

fn non_standard(text: &str, v4: Ipv4Addr) -> String {
    format!(
        "{} is a non-standard spelling of the IPv4 address {v4} (the system resolver reads it so); write {v4}",
        shown(text)
    )
}

/// What the C library's `inet_aton` makes of `text`: one to four parts in decimal, octal
/// (leading `0`) or hex (`0x`), the last filling the remaining bytes. `None` when it is
/// not such a number, or out of range.
pub fn inet_aton(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        let (digits, radix) =
            if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (hex, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (*part, 10)
            };
        if digits.is_empty() && radix != 16 {
            return None;
        }
        let value = if digits.is_empty() {
            0
        } else {
            if !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            u64::from_str_radix(digits, radix).ok()?
        };
        values.push(value);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let tail_bits = 32 - 8 * head.len() as u32;
    if *last >= 1u64 << tail_bits {
        return None;
    }
    let mut n: u64 = 0;
    for (i, v) in head.iter().enumerate() {
        n |= v << (24 - 8 * i as u32);
    }
    n |= last;
    u32::try_from(n).ok().map(Ipv4Addr::from)
}

/// What one line of input named, before names are resolved.
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
            .map_err(|_| format!("{} inside brackets is not an IPv6 address", shown(inside)))?;
        let port = match after {
            "" => None,
            p => Some(parse_port(
                p.strip_prefix(':').ok_or("expected ':port' after ']'")?,
            )?),
        };
        return Ok((host_ip(IpAddr::V6(ip))?, port));
    }
    if text.matches(':').count() > 1 {
        let ip = text.parse::<Ipv6Addr>().map_err(|_| {
            "not an IPv6 address; to give a port write it as [::1]:9200".to_string()
        })?;
        return Ok((host_ip(IpAddr::V6(ip))?, None));
    }
    let (host, port) = match text.split_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (text, None),
    };
    Ok((parse_host(host)?, port))
}

/// A literal address as a host: canonical, and never the unspecified address.
fn host_ip(ip: IpAddr) -> Result<Host, String> {
    let ip = ip.to_canonical();
    if ip.is_unspecified() {
        return Err(format!(
            "{ip} is the unspecified address, not a host (connecting to it reaches this machine); write 127.0.0.1 or ::1"
        ));
    }
    Ok(Host::Ip(ip))
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("port {} must be a number from 1 to 65535", shown(text)))
}

/// Parses an IPv4 address or a DNS name (lowercased, without a trailing dot).
pub fn parse_host(text: &str) -> Result<Host, String> {
    if text.is_empty() {
        return Err("missing host".into());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return host_ip(ip);
    }
    if let Some(v4) = inet_aton(text.strip_suffix('.').unwrap_or(text)) {
        return Err(non_standard(text, v4));
    }
    let looks_numeric = text.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric {
        return Err(format!("{} is not a valid IPv4 address", shown(text)));
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
        return Err(format!("{} is not a valid host name", shown(text)));
    }
    Ok(Host::Name(Arc::from(name.to_ascii_lowercase())))
}

fn parse_uri(scheme: &str, text: &str) -> Result<Vec<TargetSpec>, String> {
    let Some(known) = registry::NATIVE
        .iter()
        .flat_map(|p| p.schemes.iter())
        .find(|s| s.name == scheme)
    else {
        let names: Vec<String> = registry::native_schemes()
            .iter()
            .filter(|s| !matches!(s.style, UriStyle::Refused(_)))
            .map(|s| format!("{}://", s.name))
            .collect();
        return Err(format!(
            "unknown scheme {}: use {} or host:port",
            shown(scheme),
            names.join(", ")
        ));
    };
    match known.style {
        UriStyle::Url => parse_url(known, text).map(|e| vec![TargetSpec::Endpoint(e)]),
        UriStyle::HostList => parse_host_list(known, text),
        UriStyle::Refused(why) => Err(why.to_string()),
    }
}

/// The transport a scheme pins, or that its options ask for.
fn transport_of(scheme: &Scheme, tls_option: bool) -> Transport {
    match scheme.tls {
        Some(true) => Transport::Tls,
        Some(false) => Transport::Plain,
        None if tls_option => Transport::Tls,
        None => Transport::Auto,
    }
}

fn parse_url(scheme: &Scheme, text: &str) -> Result<Endpoint, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a valid URL: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a target URL takes a path prefix but no query or fragment".into());
    }
    // The URL parser turns `0x7f.1` into 127.0.0.1 itself; judge the host as typed.
    let typed = text
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .map(|authority| authority.rsplit_once('@').map_or(authority, |(_, h)| h))
        .unwrap_or("");
    let typed_host = if typed.starts_with('[') {
        typed.split_once(']').map_or(typed, |(h, _)| h)
    } else {
        typed.rsplit_once(':').map_or(typed, |(h, _)| h)
    };
    let host = match url.host() {
        Some(url::Host::Ipv4(_)) => parse_host(typed_host)?,
        Some(url::Host::Ipv6(ip)) => host_ip(IpAddr::V6(ip))?,
        Some(url::Host::Domain(name)) => parse_host(name)?,
        None => return Err("the URL has no host".into()),
    };
    let port = url.port().unwrap_or(scheme.default_port);
    let path = url.path();
    // A last segment with an extension names a file (`/adminer.php`), which is the base
    // itself; any other path is a directory prefix (`/es` is `/es/`).
    let is_file = |p: &str| p.rsplit('/').next().is_some_and(|last| last.contains('.'));
    let base_path = match path {
        "" | "/" => None,
        p if p.ends_with('/') || is_file(p) => Some(Arc::from(p)),
        p => Some(Arc::from(format!("{p}/"))),
    };
    Ok(Endpoint {
        host,
        port,
        base_path,
        protocol: Protocol::Only(scheme.probe),
        transport: transport_of(scheme, false),
    })
}

/// `scheme://[user:pass@]host1[:port1][,host2...][/db][?opts]`. Credentials are ignored:
/// ajar never authenticates with what a target line carries.
fn parse_host_list(scheme: &Scheme, text: &str) -> Result<Vec<TargetSpec>, String> {
    let rest = text.split_once("://").map_or("", |(_, rest)| rest);
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hosts.is_empty() {
        return Err(format!("the {}:// URI names no host", scheme.name));
    }
    let query = tail.split_once('?').map_or("", |(_, q)| q);
    let tls = query.split('&').any(|kv| {
        scheme
            .tls_options
            .contains(&kv.to_ascii_lowercase().as_str())
    });
    hosts
        .split(',')
        .map(|h| {
            let (host, port) = split_host_port(h)?;
            Ok(TargetSpec::Endpoint(Endpoint {
                host,
                port: port.unwrap_or(scheme.default_port),
                base_path: None,
                protocol: Protocol::Only(scheme.probe),
                transport: transport_of(scheme, tls),
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
                    return Err(format!("port range {} runs backwards", shown(part)));
                }
                ports.extend(a..=b);
            }
            None => ports.push(parse_port(part)?),
        }
    }
    if ports.is_empty() {
        return Err("no ports given".into());
    }
    let mut seen = vec![false; usize::from(u16::MAX) + 1];
    ports.retain(|p| !std::mem::replace(&mut seen[usize::from(*p)], true));
    Ok(ports)
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

    fn ip(text: &str) -> Host {
        Host::Ip(text.parse().expect("ip"))
    }

    #[test]
    fn parses_plain_hosts_and_ports() {
        assert_eq!(one("127.0.0.1"), TargetSpec::Host(ip("127.0.0.1")));
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
        assert_eq!(one("::1"), TargetSpec::Host(ip("::1")));
        assert_eq!(one("[::1]"), TargetSpec::Host(ip("::1")));
        assert!(parse_target("::1:9200:x").is_err());
        assert!(parse_target("[::1").is_err());
        assert!(parse_target("[::1]9200").is_err());
    }

    #[test]
    fn one_spelling_per_address() {
        // IPv4-mapped IPv6 is the IPv4 address, in every form that can carry it.
        assert_eq!(ep("[::ffff:127.0.0.1]:9200").authority(), "127.0.0.1:9200");
        assert_eq!(one("::ffff:127.0.0.1"), TargetSpec::Host(ip("127.0.0.1")));
        assert_eq!(ep("http://[::ffff:127.0.0.1]:9200/").host, ip("127.0.0.1"));
        assert_eq!(
            Cidr::parse("::ffff:127.0.0.0/104").expect("block"),
            Cidr::parse("127.0.0.0/8").expect("block")
        );
        // What inet_aton reads as an address is refused, naming the address.
        for (text, means) in [
            ("0x7f000001", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("1.2.3", "1.2.0.3"),
        ] {
            for target in [
                text.to_string(),
                format!("{text}:9200"),
                format!("http://{text}:9200/"),
                format!("mongodb://{text}"),
            ] {
                let error = parse_target(&target).expect_err(&target);
                assert!(
                    error.contains("non-standard spelling")
                        && error.ends_with(&format!("write {means}")),
                    "{target}: {error}"
                );
            }
        }
        assert!(inet_aton("deadbeef").is_none());
        assert!(inet_aton("256.1.1.1").is_none());
        // Not hosts: connecting to the unspecified address reaches this machine.
        for text in [
            "0.0.0.0",
            "0.0.0.0:9200",
            "[::]:9200",
            "::",
            "http://0.0.0.0:9200/",
        ] {
            let error = parse_target(text).expect_err(text);
            assert!(error.contains("unspecified address"), "{text}: {error}");
        }
    }

    #[test]
    fn parses_urls_with_path_prefix() {
        let e = ep("https://127.0.0.1:9443/es");
        assert_eq!(e.base_path(), "/es/");
        assert_eq!(e.transport, Transport::Tls);
        assert_eq!(e.protocol, Protocol::Only("http"));
        let e = ep("http://[::1]/");
        assert_eq!(
            (e.port, e.base_path(), e.transport),
            (80, "/", Transport::Plain)
        );
        // A path ending in a file name is the base itself, not a directory under it.
        assert_eq!(
            ep("http://127.0.0.1/adminer.php").base_path(),
            "/adminer.php"
        );
        assert_eq!(ep("http://127.0.0.1/tools/pma").base_path(), "/tools/pma/");
        assert!(parse_target("http://127.0.0.1:9200/?q=1").is_err());
        assert!(parse_target("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn parses_mongodb_uris() {
        let specs =
            parse_target("mongodb://u:p@127.0.0.1,127.0.0.2:27018/db?tls=true").expect("valid URI");
        let eps: Vec<String> = specs
            .iter()
            .map(|s| match s {
                TargetSpec::Endpoint(e) => {
                    assert_eq!(
                        (e.protocol, e.transport),
                        (Protocol::Only("mongodb"), Transport::Tls)
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
    fn parses_blocks() {
        let c = Cidr::parse("127.0.0.5/30").expect("block");
        assert_eq!(
            (c.first().to_string(), c.last().to_string()),
            ("127.0.0.4".into(), "127.0.0.7".into())
        );
        assert_eq!(Cidr::parse("::1/128").expect("block").size(), 1);
        assert_eq!(Cidr::parse("0.0.0.0/0").expect("block").size(), 1 << 32);
        assert_eq!(Cidr::parse("::/0").expect("block").size(), u128::MAX);
        assert_eq!(Cidr::parse("::/65").expect("block").size(), 1 << 63);
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
        // A huge bad target is shown back in a few dozen characters, once.
        let huge = format!("{}:x", "a".repeat(10 << 20));
        let error = parse_target(&huge).expect_err("bad port");
        assert!(error.len() < 200, "{} bytes", error.len());
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
    fn strips_comments() {
        assert_eq!(strip_comment("  # whole line"), "");
        assert_eq!(strip_comment("127.0.0.1:9200  # es"), "127.0.0.1:9200");
    }

    #[test]
    fn parses_port_lists() {
        assert_eq!(
            parse_ports("9200, 27017-27019,9200").expect("ports"),
            [9200, 27017, 27018, 27019]
        );
        assert_eq!(parse_ports("1-65535").expect("all").len(), 65535);
        assert!(parse_ports("10-1").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("").is_err());
    }
}
