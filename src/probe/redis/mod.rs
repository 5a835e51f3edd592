//! The Redis probe (also Valkey, and KeyDB, which reports itself as Redis): RESP2 over
//! plain TCP or TLS (`rediss://`), two read-only commands and nothing else.
//!
//! 1. `PING`: `+PONG` means commands run without credentials; `-NOAUTH` (requirepass or
//!    an ACL default user with a password), `-WRONGPASS`, `-NOPERM` and, before Redis 2.8,
//!    `-ERR operation not permitted` mean credentials are required; `-DENIED` is protected
//!    mode (no password set, non-loopback clients refused): not open, and not protected by
//!    a password either, so `undetermined`.
//! 2. `INFO` (default sections): open only when it comes back in Redis's own shape with
//!    a `# Server` section, a numeric `redis_version` and a `# Keyspace` section; the
//!    inventory is the keyspace's `dbN` lines, key counts only. `redis_mode:sentinel` is a
//!    Sentinel (service `redis-sentinel`), which holds no keys.
//!
//! Never `KEYS`, `SCAN`, `GET`, `CONFIG` or any write: key names and values are not read.
//! Sources: /work/shared/services.md (Redis row), the Redis 7.0.15 replies in
//! `tests/fixtures/redis/SOURCES.md`.

mod info;
mod outcome;
mod resp;

use tokio::time::Instant;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity, policy};
use crate::sanitize::clip;
use crate::targets::Endpoint;
use info::Info;
use outcome::{describe, not_redis, read_failure};
use resp::{Conn, Reply};

/// Largest INFO reply read; a Redis 7 default INFO is about 4 KB.
const MAX_INFO: usize = 64 << 10;
/// Largest reply to PING read (it is `+PONG` or an error line).
const MAX_PING: usize = 1024;
/// Longest server error text kept in evidence and summaries.
const MAX_ERROR_TEXT: usize = 160;

const REDIS_REMEDIATION: &str = "Require authentication (requirepass, or ACL users with the default user disabled: `user default off`), keep protected-mode yes, bind only private interfaces (bind 127.0.0.1 or a private address), and use TLS (tls-port) for remote clients.";
const SENTINEL_REMEDIATION: &str = "Set requirepass (and sentinel auth-pass towards the masters) in sentinel.conf, and bind Sentinel to private interfaces only: anyone who reaches it can read the topology and trigger failovers.";

/// The Redis probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "redis",
    labels: ["redis", "rediss"],
    services: &[
        ServiceInfo {
            id: "redis",
            name: "Redis 2.x-7.x, Valkey, KeyDB",
            ports: &[6379, 6380],
            check: "RESP PING then INFO; open when INFO returns Redis's sections with redis_version and # Keyspace (key counts only); -NOAUTH/-WRONGPASS/-NOPERM/-ERR operation not permitted is auth-required, -DENIED (protected mode) undetermined",
            severity: Severity::High,
            remediation: REDIS_REMEDIATION,
            references: &[
                "https://redis.io/docs/latest/operate/oss_and_stack/management/security/",
                "https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/",
            ],
        },
        ServiceInfo {
            id: "redis-sentinel",
            name: "Redis Sentinel",
            ports: &[26379],
            check: "RESP PING then INFO with redis_mode:sentinel; open when INFO answers without credentials (topology and failover control, no keys)",
            severity: Severity::Medium,
            remediation: SENTINEL_REMEDIATION,
            references: &[
                "https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/",
            ],
        },
    ],
    schemes: &[
        Scheme {
            name: "redis",
            probe: "redis",
            default_port: 6379,
            tls: Some(false),
            style: UriStyle::HostList,
            tls_options: &[],
        },
        Scheme {
            name: "rediss",
            probe: "redis",
            default_port: 6379,
            tls: Some(true),
            style: UriStyle::HostList,
            tls_options: &[],
        },
    ],
    // Protected mode writes `-DENIED` on accept, before any command (networking.c,
    // clientAcceptHandler): the one time Redis speaks first.
    greeting: Some(|bytes| bytes.starts_with(b"-DENIED Redis is running in protected mode")),
    answers: Some(is_redis_error),
    http_notice: None,
    default_credentials: &[],
    run,
};

/// Whether bytes sent in answer to another protocol's request are a Redis error line
/// (Redis answers an HTTP request line with `-ERR wrong number of arguments for 'get'`).
fn is_redis_error(bytes: &[u8]) -> bool {
    [
        b"-ERR ".as_slice(),
        b"-NOAUTH ",
        b"-DENIED ",
        b"-WRONGTYPE ",
    ]
    .iter()
    .any(|p| bytes.starts_with(p))
}

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(probe(cx, endpoint, tls, trace))
}

/// How a server refused a command: credentials needed, protected mode, or another error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Auth,
    ProtectedMode,
    Other,
}

fn refusal(error: &str) -> Refusal {
    let code = error.split(' ').next().unwrap_or_default();
    match code {
        "NOAUTH" | "WRONGPASS" | "NOPERM" => Refusal::Auth,
        "DENIED" => Refusal::ProtectedMode,
        "ERR" if error.starts_with("ERR operation not permitted") => Refusal::Auth,
        _ => Refusal::Other,
    }
}

/// Probes one endpoint for Redis over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let stream = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => stream,
        Err(error) => return ProbeOutcome::from_connect_error(error),
    };
    let mut conn = Conn::new(stream);
    let mut probe = Probe {
        endpoint,
        tls,
        trace,
    };
    let step = cx.net.timeout;
    let ping = conn
        .call(&resp::encode(&["PING"]), MAX_PING, Instant::now() + step)
        .await;
    let pong = match ping {
        Ok(Reply::Simple(text)) if text == "PONG" => {
            probe.trace.record("PING", "+PONG");
            true
        }
        Ok(Reply::Error(error)) => {
            let shown = clip(&error, MAX_ERROR_TEXT);
            probe.trace.record("PING", format!("-{shown}"));
            match refusal(&error) {
                Refusal::Auth => {
                    return probe.found(
                        None,
                        Exposure::AuthRequired,
                        None,
                        format!("Redis refuses commands without credentials: -{shown}"),
                    );
                }
                Refusal::ProtectedMode => {
                    return probe.found(None, Exposure::Undetermined, None, "Redis in protected mode (-DENIED): no password is set for the default user; only the protected-mode guard turns non-loopback clients away".into());
                }
                // A renamed PING, a loading dataset: INFO may still tell.
                Refusal::Other => false,
            }
        }
        Ok(other) => {
            probe.trace.record("PING", describe(&other));
            return not_redis(format!("answers PING with {}", describe(&other)), &[], true);
        }
        Err(error) => {
            probe.trace.record("PING", error.to_string());
            return read_failure(error, tls);
        }
    };
    let reply = conn
        .call(&resp::encode(&["INFO"]), MAX_INFO, Instant::now() + step)
        .await;
    match reply {
        Ok(Reply::Bulk(bytes)) => match info::parse(&bytes) {
            Some(info) => {
                probe.trace.record("INFO", info.facts(bytes.len()));
                probe.judge(&info)
            }
            None => {
                let why = format!(
                    "a bulk string of {} bytes not in INFO's format",
                    bytes.len()
                );
                probe.trace.record("INFO", &why);
                if pong {
                    probe.found(
                        None,
                        Exposure::Undetermined,
                        None,
                        format!("answers PING with +PONG but INFO with {why}"),
                    )
                } else {
                    not_redis(format!("INFO answered with {why}"), &[], true)
                }
            }
        },
        Ok(Reply::Error(error)) => {
            let shown = clip(&error, MAX_ERROR_TEXT);
            probe.trace.record("INFO", format!("-{shown}"));
            match refusal(&error) {
                Refusal::Auth => probe.found(
                    None,
                    Exposure::AuthRequired,
                    None,
                    format!("Redis refuses INFO without credentials: -{shown}"),
                ),
                Refusal::ProtectedMode => probe.found(
                    None,
                    Exposure::Undetermined,
                    None,
                    "Redis in protected mode (-DENIED)".into(),
                ),
                Refusal::Other if pong => probe.found(
                    None,
                    Exposure::Undetermined,
                    None,
                    format!("answers PING without credentials but refuses INFO: -{shown}"),
                ),
                Refusal::Other => not_redis(
                    format!("answers PING and INFO with errors: -{shown}"),
                    &[],
                    true,
                ),
            }
        }
        Ok(other) => {
            probe.trace.record("INFO", describe(&other));
            if pong {
                probe.found(
                    None,
                    Exposure::Undetermined,
                    None,
                    format!("answers PING with +PONG but INFO with {}", describe(&other)),
                )
            } else {
                not_redis(format!("answers INFO with {}", describe(&other)), &[], true)
            }
        }
        Err(error) => {
            probe.trace.record("INFO", error.to_string());
            if pong {
                probe.found(
                    None,
                    Exposure::Undetermined,
                    None,
                    format!("answers PING with +PONG, then INFO: {error}"),
                )
            } else {
                read_failure(error, tls)
            }
        }
    }
}

/// One probe run: where it talks to and its trace.
struct Probe<'a> {
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
}

impl Probe<'_> {
    /// The verdict from a well-formed INFO.
    fn judge(&mut self, info: &Info) -> ProbeOutcome {
        if info.is_sentinel() {
            let masters = info
                .sentinel_masters
                .map_or_else(|| "unknown".to_string(), |n| n.to_string());
            return self.found(
                Some(info),
                Exposure::Open,
                None,
                format!("Redis Sentinel {} answers INFO without credentials: monitored masters {masters}", info.version),
            );
        }
        let Some(dbs) = &info.keyspace else {
            return self.found(
                Some(info),
                Exposure::Undetermined,
                None,
                format!(
                    "{} {} answers INFO without credentials, but without its # Keyspace section",
                    info.product, info.version
                ),
            );
        };
        let mut inventory = Inventory {
            unit: "database".into(),
            ..Inventory::default()
        };
        let mut keys: u64 = 0;
        for db in dbs {
            keys = keys.saturating_add(db.keys);
        }
        inventory.items = dbs
            .iter()
            .take(1000)
            .map(|db| DataSet {
                name: db.name.clone(),
                documents: Some(db.keys),
                ..DataSet::default()
            })
            .collect();
        inventory.total_items = dbs.len() as u64;
        inventory.truncated = dbs.len() > inventory.items.len();
        inventory.recount();
        inventory.total_documents = Some(keys);
        let summary = format!(
            "{} {} answers INFO without credentials: {} keys in {} databases",
            info.product,
            info.version,
            keys,
            dbs.len()
        );
        self.found(Some(info), Exposure::Open, Some(inventory), summary)
    }

    fn found(
        &mut self,
        info: Option<&Info>,
        exposure: Exposure,
        inventory: Option<Inventory>,
        summary: String,
    ) -> ProbeOutcome {
        let sentinel = info.is_some_and(Info::is_sentinel);
        let open_severity = if sentinel {
            Severity::Medium
        } else {
            Severity::High
        };
        let severity = policy::severity(exposure, open_severity, inventory.as_ref(), false);
        let mut details = Vec::new();
        if let Some(info) = info {
            if let Some(mode) = &info.mode {
                details.push(("redis_mode".to_string(), mode.clone()));
            }
            if let Some(role) = &info.role {
                details.push(("role".to_string(), role.clone()));
            }
        }
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: if sentinel { "redis-sentinel" } else { "redis" }.into(),
            check: String::new(),
            product: info.map(|i| i.product.to_string()),
            version: info.map(|i| i.version.clone()),
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error texts of Debian's redis-server 7.0.15 binary (`strings`), and Redis 2.6's.
    #[test]
    fn sorts_refusals_by_their_error_code() {
        for (error, want) in [
            ("NOAUTH Authentication required.", Refusal::Auth),
            (
                "WRONGPASS invalid username-password pair or user is disabled.",
                Refusal::Auth,
            ),
            (
                "NOPERM this user has no permissions to run the 'info' command",
                Refusal::Auth,
            ),
            ("ERR operation not permitted", Refusal::Auth),
            (
                "DENIED Redis is running in protected mode because",
                Refusal::ProtectedMode,
            ),
            ("ERR unknown command 'INFO'", Refusal::Other),
            (
                "LOADING Redis is loading the dataset in memory",
                Refusal::Other,
            ),
            ("noauth", Refusal::Other),
        ] {
            assert_eq!(refusal(error), want, "{error}");
        }
    }

    #[test]
    fn recognises_its_error_lines_and_protected_mode_greeting() {
        assert!(is_redis_error(
            b"-ERR wrong number of arguments for 'get' command\r\n"
        ));
        assert!(!is_redis_error(b"HTTP/1.1 400 Bad Request\r\n"));
        let greets = PROBE.greeting.expect("greeting");
        assert!(greets(
            b"-DENIED Redis is running in protected mode because protected"
        ));
        assert!(!greets(b"-ERR unknown command\r\n"));
    }
}
