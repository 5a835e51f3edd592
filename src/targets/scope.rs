//! The scope: the address blocks and domain names the user owns (`--scope FILE`, `scope`
//! in ajar.toml). A target outside it, or a name that resolves outside it, stops the run
//! before a packet is sent, so a typo in a range or a stale DNS record never turns into a
//! scan of someone else's network.
//!
//! An address is in scope when a listed block holds it. A name is in scope when it is a
//! listed domain or under one, or when its address is; and when blocks are listed, the
//! address a name resolves to must be in one of them whatever the name, since that
//! address is what is scanned.

use std::net::IpAddr;

use super::parse::{Cidr, parse_host};
use super::ranges::IpRanges;
use super::{Host, TargetError};

/// The blocks and domains a scan may reach.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    ranges: IpRanges,
    domains: Vec<String>,
    /// Where the scope came from (`scope.txt`, `ajar.toml`), for errors.
    source: String,
}

impl Scope {
    /// An empty scope read from `source`; entries come from [`Scope::add`].
    pub fn new(source: &str) -> Scope {
        Scope {
            source: source.to_string(),
            ..Scope::default()
        }
    }

    /// Adds one entry: a CIDR block, an address, or a domain (`example.internal` holds
    /// itself and every name under it; a leading `*.` or `.` is the same).
    pub fn add(&mut self, origin: &str, text: &str) -> Result<(), TargetError> {
        let text = text.trim();
        let invalid = |reason: String| TargetError::Invalid {
            origin: origin.to_string(),
            input: text.to_string(),
            reason,
        };
        if text.contains('/') || text.contains(':') {
            let block = Cidr::parse(text).map_err(|e| invalid(format!("not a CIDR block: {e}")))?;
            self.ranges.insert(block.first(), block.last());
        } else {
            let domain = text.trim_start_matches("*.").trim_start_matches('.');
            match parse_host(domain).map_err(invalid)? {
                Host::Ip(ip) => self.ranges.insert_addr(ip),
                Host::Name(name) => self.domains.push(name.to_string()),
            }
        }
        self.ranges.normalize();
        Ok(())
    }

    /// Adds every line of a scope file (`#` comments and blank lines allowed).
    pub fn add_lines<R: std::io::BufRead>(
        &mut self,
        name: &str,
        reader: R,
    ) -> Result<(), TargetError> {
        super::input::for_each_line(name, reader, |origin, line| {
            let text = super::parse::strip_comment(line);
            if text.is_empty() {
                Ok(())
            } else {
                self.add(origin, text)
            }
        })
    }

    /// Whether nothing was listed: such a scope would refuse everything, which is a
    /// mistake to report, not a scan to run.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.domains.is_empty()
    }

    /// Where the scope came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `name` is a listed domain or under one.
    pub fn holds_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        self.domains.iter().any(|d| {
            name.eq_ignore_ascii_case(d)
                || (name.len() > d.len()
                    && name.is_char_boundary(name.len() - d.len() - 1)
                    && name[name.len() - d.len()..].eq_ignore_ascii_case(d)
                    && name.as_bytes()[name.len() - d.len() - 1] == b'.')
        })
    }

    /// Whether a listed block holds `addr`.
    pub fn holds_addr(&self, addr: IpAddr) -> bool {
        self.ranges.contains(addr.to_canonical())
    }

    /// Whether a name may be resolved at all: it may when it is under a listed domain, or
    /// when blocks are listed (its address decides). A name that fails here is refused
    /// before its DNS query.
    pub fn may_resolve(&self, name: &str) -> bool {
        self.holds_name(name) || !self.ranges.is_empty()
    }

    /// Whether the host `host`, scanned at `addr`, is in scope.
    pub fn holds(&self, host: &Host, addr: IpAddr) -> bool {
        match host {
            Host::Ip(_) => self.holds_addr(addr),
            Host::Name(name) => {
                // An address in a listed block is ours whatever the name; without blocks,
                // the name's domain decides.
                self.holds_addr(addr) || (self.ranges.is_empty() && self.holds_name(name))
            }
        }
    }

    /// The first address of `ranges` outside the listed blocks, if any.
    pub fn first_outside(&self, ranges: &IpRanges) -> Option<IpAddr> {
        let mut outside = ranges.clone();
        outside.subtract(&self.ranges);
        outside.addrs().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn scope(lines: &str) -> Scope {
        let mut s = Scope::new("scope.txt");
        s.add_lines("scope.txt", lines.as_bytes())
            .expect("valid scope");
        s
    }

    fn name(n: &str) -> Host {
        Host::Name(Arc::from(n))
    }

    #[test]
    fn blocks_and_domains() {
        let s = scope("# ours\n127.0.0.0/24\n::1\n*.corp.example\n");
        assert!(s.holds_addr("127.0.0.9".parse().expect("ip")));
        assert!(s.holds_addr("::ffff:127.0.0.9".parse().expect("ip")));
        assert!(!s.holds_addr("127.0.1.1".parse().expect("ip")));
        assert!(s.holds_addr("::1".parse().expect("ip")));
        assert!(s.holds_name("corp.example"));
        assert!(s.holds_name("db.eu.CORP.example."));
        assert!(!s.holds_name("notcorp.example"));
        assert!(!s.holds_name("corp.example.evil"));
    }

    #[test]
    fn a_name_is_judged_by_the_address_it_is_scanned_at_when_blocks_are_listed() {
        let s = scope("127.0.0.0/24\ncorp.example\n");
        let inside = "127.0.0.5".parse().expect("ip");
        let outside = "192.0.2.7".parse().expect("ip");
        assert!(s.holds(&name("db.corp.example"), inside));
        // Our name, someone else's address (a stale record): refused.
        assert!(!s.holds(&name("db.corp.example"), outside));
        // Any name that resolves inside the blocks is ours to scan.
        assert!(s.holds(&name("localhost"), inside));
        assert!(s.may_resolve("other.example"));

        let domains_only = scope("corp.example\n");
        assert!(domains_only.holds(&name("db.corp.example"), outside));
        assert!(!domains_only.holds(&name("db.other.example"), inside));
        assert!(!domains_only.may_resolve("db.other.example"));
        assert!(!domains_only.holds(&Host::Ip(inside), inside));
    }

    #[test]
    fn finds_the_first_address_outside() {
        let s = scope("127.0.0.0/25\n");
        let mut r = IpRanges::new();
        r.insert(
            "127.0.0.0".parse().expect("ip"),
            "127.0.0.255".parse().expect("ip"),
        );
        r.normalize();
        assert_eq!(
            s.first_outside(&r),
            Some("127.0.0.128".parse().expect("ip"))
        );
    }

    #[test]
    fn bad_lines_name_their_place() {
        let mut s = Scope::new("scope.txt");
        let err = s
            .add_lines("scope.txt", "127.0.0.0/8\n10.0.0.0/33\n".as_bytes())
            .expect_err("a bad block");
        assert!(err.to_string().starts_with("scope.txt:2: "), "{err}");
    }
}
