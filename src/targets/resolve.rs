//! Host names are resolved once each, before the first probe, so that one server given
//! under several spellings is one endpoint, exclusions and `--max-hosts` apply to the
//! addresses actually scanned, and every probe of a name connects to the same address.
//!
//! A name is scanned at one address, as nmap does: its first IPv4 address, or its first
//! IPv6 address when it has none. The other addresses are logged at debug level.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

/// Names resolved at once.
const CONCURRENT_LOOKUPS: usize = 64;

/// Turns a host name into addresses. The scan uses [`SystemResolver`]; tests substitute
/// their own, since a real lookup of any name but `localhost` leaves the machine.
pub trait Resolver: Clone + Send + Sync + 'static {
    /// Every address of `name`, in the resolver's order, or why there is none.
    fn lookup(&self, name: Arc<str>) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send;
}

/// The operating system's resolver (`getaddrinfo`: `/etc/hosts`, then DNS), with a deadline.
#[derive(Debug, Clone, Copy)]
pub struct SystemResolver {
    /// Deadline for one name.
    pub timeout: Duration,
}

impl Resolver for SystemResolver {
    async fn lookup(&self, name: Arc<str>) -> Result<Vec<IpAddr>, String> {
        let lookup = tokio::net::lookup_host((name.as_ref(), 0));
        match tokio::time::timeout(self.timeout, lookup).await {
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(self.timeout)
            )),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(addrs)) => Ok(addrs.map(|a| a.ip().to_canonical()).collect()),
        }
    }
}

/// What became of each name.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Every usable address of each name that resolved (unspecified addresses dropped).
    pub addrs: HashMap<Arc<str>, Vec<IpAddr>>,
    /// Names that did not resolve, with the reason.
    pub failed: HashMap<Arc<str>, String>,
}

impl Resolved {
    /// The address a name is scanned at: its first IPv4 address, else its first.
    pub fn scan_address(&self, name: &str) -> Option<IpAddr> {
        let addrs = self.addrs.get(name)?;
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
    }
}

/// Resolves every name (each once, many at a time).
pub async fn resolve_all<R: Resolver>(names: Vec<Arc<str>>, resolver: &R) -> Resolved {
    let mut names = names;
    names.sort_unstable();
    names.dedup();
    let mut resolved = Resolved::default();
    let mut pending = names.into_iter();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < CONCURRENT_LOOKUPS {
            let Some(name) = pending.next() else { break };
            let resolver = resolver.clone();
            tasks.spawn(async move {
                let result = resolver.lookup(name.clone()).await;
                (name, result)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let Ok((name, result)) = joined else { continue };
        match result {
            Ok(addrs) => {
                let usable: Vec<IpAddr> =
                    addrs.into_iter().filter(|a| !a.is_unspecified()).collect();
                if usable.is_empty() {
                    resolved.failed.insert(
                        name,
                        "resolves to no usable address (0.0.0.0 or :: is not a host)".into(),
                    );
                } else {
                    tracing::debug!(name = %name, addresses = ?usable, "resolved");
                    resolved.addrs.insert(name, usable);
                }
            }
            Err(reason) => {
                tracing::debug!(name = %name, %reason, "did not resolve");
                resolved.failed.insert(name, reason);
            }
        }
    }
    resolved
}

/// A resolver answering from a fixed table, for tests and tools: names absent from it do
/// not resolve.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    table: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl StaticResolver {
    /// A resolver knowing exactly `entries`.
    pub fn new(entries: &[(&str, &[IpAddr])]) -> StaticResolver {
        let table = entries
            .iter()
            .map(|(name, addrs)| (name.to_string(), addrs.to_vec()))
            .collect();
        StaticResolver {
            table: Arc::new(table),
        }
    }
}

impl Resolver for StaticResolver {
    async fn lookup(&self, name: Arc<str>) -> Result<Vec<IpAddr>, String> {
        self.table
            .get(name.as_ref())
            .cloned()
            .ok_or_else(|| "Name or service not known".to_string())
    }
}
