//! memcached 1.6.18 as Debian bookworm packages it, started by
//! `scripts/servers/memcached.server.sh`: MEMCACHED_OPEN (no authentication, three items
//! `ajar_probe_a/_b/_c` stored at setup) and MEMCACHED_AUTH (ASCII authentication, `-Y`).
//! Each test scans its server through the binary and checks the exact verdict.

use serde_json::Value;

use super::server;

/// Scans the real server `name` and returns its one finding, after checking the report has
/// nothing else; `None` when the server is not running.
async fn scan(name: &str) -> Option<(String, Value)> {
    let addr = server(name)?;
    let (f, _) = super::scan_one(&addr, &[]).await;
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "memcached", "{f:#}");
    Some((addr, f.clone()))
}

#[tokio::test]
async fn memcached_without_auth_is_open_and_counts_the_items() {
    let Some((_, f)) = scan("MEMCACHED_OPEN").await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "memcached-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["version"], "1.6.18", "{f:#}");
    assert_eq!(f["evidence"][0]["request"], "stats", "{f:#}");
    // The three items the set-up stored (stats counts them; no key or value is read).
    let item = &f["inventory"]["items"][0];
    assert_eq!(item["name"], "items", "{f:#}");
    assert_eq!(item["documents"], 3, "{f:#}");
    assert!(item["size_bytes"].as_u64().is_some_and(|b| b > 0), "{f:#}");
    assert!(f["details"]["curr_connections"].as_str().is_some(), "{f:#}");
}

#[tokio::test]
async fn memcached_with_ascii_auth_requires_credentials() {
    let Some((_, f)) = scan("MEMCACHED_AUTH").await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "memcached-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    // Before login every command, `version` included, gets CLIENT_ERROR.
    assert!(f["version"].is_null(), "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(
        f["evidence"][0]["response"], "CLIENT_ERROR unauthenticated (ASCII authentication, -Y)",
        "{f:#}"
    );
}
