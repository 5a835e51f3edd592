//! Accepted findings: exposures the operator has looked at and decided to live with for a
//! while (a demo cluster, a honeypot of their own), each with a reason and an expiry date.
//! An accepted finding stays in every report, marked, but no longer fails the build; once
//! its date has passed the entry stops suppressing and the run says so.
//!
//! Entries come from `[[accept]]` tables in ajar.toml or in a file of their own
//! (`--accept FILE`):
//!
//! ```toml
//! [[accept]]
//! check = "memcached-open"        # a check id; `*` and `?` match any text / one character
//! endpoint = "127.0.0.1:11211"    # host:port glob, an address, or a CIDR block (any port)
//! reason = "session cache of the demo stack, firewalled at the edge"
//! expires = "2027-06-30"          # the last day it holds, UTC
//! ```

use std::net::IpAddr;

use serde::Deserialize;

use crate::finding::{Acceptance, Finding};
use crate::rules::RuleError;
use crate::targets::Cidr;

/// One `[[accept]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    /// A check id or a glob of them.
    pub check: String,
    /// `host:port` glob, address or CIDR block.
    pub endpoint: String,
    /// Why the finding is accepted.
    pub reason: String,
    /// `YYYY-MM-DD`, the last day the entry holds.
    pub expires: String,
}

/// A validated entry, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptEntry {
    check: String,
    endpoint: EndpointPattern,
    /// Why the finding is accepted.
    pub reason: String,
    /// The last day the entry holds, `YYYY-MM-DD`.
    pub expires: String,
    /// `ajar.toml:41`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum EndpointPattern {
    /// Addresses in a block, any port.
    Block(Cidr),
    /// A glob over `host:port` (and the address a name was scanned at).
    Glob(String),
}

impl AcceptEntry {
    /// Validates one table; `place` builds an error at a key of it (`expires`, `endpoint`).
    pub fn new(
        raw: RawEntry,
        source: String,
        place: impl Fn(&str, String) -> RuleError,
    ) -> Result<AcceptEntry, RuleError> {
        let check = raw.check.trim().to_ascii_lowercase();
        if check.is_empty() {
            return Err(place(
                "check",
                "give a check id such as redis-open (`ajar probes` lists them)".into(),
            ));
        }
        let endpoint = raw.endpoint.trim();
        let endpoint = if endpoint.contains('/') || endpoint.parse::<IpAddr>().is_ok() {
            let block = Cidr::parse(endpoint)
                .map_err(|e| place("endpoint", format!("not a CIDR block: {e}")))?;
            EndpointPattern::Block(block)
        } else if endpoint.is_empty() {
            return Err(place(
                "endpoint",
                "give host:port (globs allowed), an address or a CIDR block".into(),
            ));
        } else {
            EndpointPattern::Glob(endpoint.to_ascii_lowercase())
        };
        if raw.reason.trim().is_empty() {
            return Err(place(
                "reason",
                "say why the finding is accepted; the report shows it".into(),
            ));
        }
        if !crate::time::valid_date(raw.expires.trim()) {
            return Err(place(
                "expires",
                format!(
                    "{:?} is not a date; write YYYY-MM-DD, the last day the entry holds",
                    raw.expires
                ),
            ));
        }
        Ok(AcceptEntry {
            check,
            endpoint,
            reason: raw.reason.trim().to_string(),
            expires: raw.expires.trim().to_string(),
            source,
        })
    }

    /// The entry as ajar.toml writes it, for `ajar config`.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let endpoint = match &self.endpoint {
            EndpointPattern::Block(b) => b.to_string(),
            EndpointPattern::Glob(g) => g.clone(),
        };
        format!(
            "check = {}\nendpoint = {}\nreason = {}\nexpires = {}\n",
            q(&self.check),
            q(&endpoint),
            q(&self.reason),
            q(&self.expires)
        )
    }

    /// Whether the entry names `finding`.
    pub fn matches(&self, finding: &Finding) -> bool {
        if !glob(&self.check, &finding.check.to_ascii_lowercase()) {
            return false;
        }
        match &self.endpoint {
            EndpointPattern::Block(block) => {
                [Some(finding.endpoint.as_str()), finding.address.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter_map(address_of)
                    .any(|ip| block.contains(ip))
            }
            EndpointPattern::Glob(pattern) => {
                [Some(finding.endpoint.as_str()), finding.address.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|e| glob(pattern, &e.to_ascii_lowercase()))
            }
        }
    }

    /// Whether the entry has expired on `today` (`YYYY-MM-DD`): it holds through its date.
    pub fn expired_on(&self, today: &str) -> bool {
        today > self.expires.as_str()
    }

    /// What the finding carries when this entry matches it.
    pub fn acceptance(&self, today: &str) -> Acceptance {
        Acceptance {
            reason: self.reason.clone(),
            expires: Some(self.expires.clone()),
            source: self.source.clone(),
            expired: self.expired_on(today),
        }
    }
}

/// The address of `host:port`, `[v6]:port` or a bare address.
fn address_of(endpoint: &str) -> Option<IpAddr> {
    if let Ok(sock) = endpoint.parse::<std::net::SocketAddr>() {
        return Some(sock.ip().to_canonical());
    }
    endpoint.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// `*` matches any run of characters, `?` one; everything else itself. Iterative with one
/// backtrack point, so a hostile pattern costs O(pattern × text).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(check: &str, endpoint: &str, expires: &str) -> AcceptEntry {
        AcceptEntry::new(
            RawEntry {
                check: check.into(),
                endpoint: endpoint.into(),
                reason: "demo".into(),
                expires: expires.into(),
            },
            "ajar.toml:3".into(),
            |key, message| RuleError {
                file: "ajar.toml".into(),
                line: 3,
                column: 1,
                field: key.into(),
                message,
            },
        )
        .expect("valid entry")
    }

    fn finding(check: &str, endpoint: &str, address: Option<&str>) -> Finding {
        let mut f = Finding::sample(check, endpoint, crate::finding::Severity::High);
        f.address = address.map(Into::into);
        f
    }

    #[test]
    fn globs() {
        assert!(glob("*-open", "redis-open"));
        assert!(glob("127.0.0.?:*", "127.0.0.5:6379"));
        assert!(!glob("127.0.0.?:*", "127.0.0.15:6379"));
        assert!(glob("*", ""));
        assert!(!glob("redis-open", "redis-open-x"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
    }

    #[test]
    fn matches_by_check_glob_block_and_name() {
        let f = finding("redis-open", "127.0.0.7:6379", None);
        assert!(entry("redis-open", "127.0.0.7:6379", "2027-01-01").matches(&f));
        assert!(entry("*-open", "127.0.0.0/24", "2027-01-01").matches(&f));
        assert!(entry("redis-*", "127.0.0.7", "2027-01-01").matches(&f));
        assert!(entry("REDIS-OPEN", "127.0.0.*:*", "2027-01-01").matches(&f));
        assert!(!entry("memcached-open", "127.0.0.7:6379", "2027-01-01").matches(&f));
        assert!(!entry("redis-open", "127.0.1.0/24", "2027-01-01").matches(&f));
        assert!(!entry("redis-open", "127.0.0.7:6380", "2027-01-01").matches(&f));
        // A name scanned at an address: either spelling matches.
        let named = finding("redis-open", "localhost:6379", Some("127.0.0.1:6379"));
        assert!(entry("redis-open", "localhost:*", "2027-01-01").matches(&named));
        assert!(entry("redis-open", "127.0.0.1/32", "2027-01-01").matches(&named));
        let v6 = finding("redis-open", "[::1]:6379", None);
        assert!(entry("redis-open", "::1", "2027-01-01").matches(&v6));
        assert!(entry("redis-open", "[::1]:6379", "2027-01-01").matches(&v6));
    }

    #[test]
    fn holds_through_its_last_day() {
        let e = entry("redis-open", "127.0.0.1:6379", "2027-06-30");
        assert!(!e.expired_on("2027-06-30"));
        assert!(e.expired_on("2027-07-01"));
        assert!(e.acceptance("2027-07-01").expired);
        assert_eq!(e.acceptance("2027-01-01").source, "ajar.toml:3");
    }
}
