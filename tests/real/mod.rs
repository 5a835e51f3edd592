//! Real servers from Debian packages, started on loopback by `scripts/test.sh`
//! (`scripts/servers/`), which writes one `NAME=host:port` line per server into the file
//! named by `AJAR_SERVERS_ENV`. Each test scans its server through the binary and asserts
//! the exact verdict. Under `CI=true` a missing server fails the test; elsewhere the test
//! says it skipped, on stderr.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The `NAME=host:port` table `scripts/test.sh` wrote, read once.
fn table() -> &'static HashMap<String, String> {
    static TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let Ok(path) = std::env::var("AJAR_SERVERS_ENV") else {
            return HashMap::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    })
}

/// The `host:port` of the real server `name` (`ETCD_OPEN`), or `None` when it is not
/// running: then the test must return at once. Under `CI=true` a missing server panics, so
/// CI never passes on a test that did not run.
pub fn server(name: &str) -> Option<String> {
    match table().get(name) {
        Some(addr) => Some(addr.clone()),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "real server {name} is not running (scripts/test.sh starts it); CI=true forbids skipping"
            )
        }
        None => {
            eprintln!("skipped: real server {name} is not running (run scripts/test.sh)");
            None
        }
    }
}

/// Scans `target` through the binary (`-f json --timeout 5s`, then `flags`), checks that
/// the report holds exactly one finding and nothing unidentified, silent or failed, and
/// returns the finding with everything the binary printed (stdout and stderr), for tests
/// that check a value never leaked.
pub async fn scan_one(target: &str, flags: &[&str]) -> (serde_json::Value, String) {
    use crate::support::cli::{Run, json, stderr, stdout};
    let mut args = vec!["scan", target, "-f", "json", "--timeout", "5s"];
    args.extend_from_slice(flags);
    let out = Run::new(&args).output().await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!(
            "{target}: one finding expected; {report:#}, stderr {}",
            stderr(&out)
        );
    };
    for list in ["unidentified", "silent", "errors"] {
        assert_eq!(
            report[list],
            serde_json::json!([]),
            "{target}: {list}: {report:#}"
        );
    }
    (f.clone(), format!("{}{}", stdout(&out), stderr(&out)))
}

mod amqp;
mod beanstalkd;
mod clickhouse;
mod ldap;
mod memcached;
mod mongodb;
mod mqtt;
mod mysql;
mod nats;
mod postgres;
mod redis;
mod rsync;
mod servers;
mod tarantool;
mod web;
mod wiretap;
mod zookeeper;
