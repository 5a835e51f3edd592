//! Redis 7.0.15 as Debian bookworm packages it (redis-server), started by
//! `scripts/servers/redis.server.sh`: without a password (keys in db0 and db3), with
//! `requirepass`, and a Sentinel monitoring the first. Each is scanned through the binary
//! on its own port (no port hint: detection by protocol) and as a `redis://` target.

use serde_json::Value;

use super::server;

/// Scans `target` (`ADDR`, or a URI around it) through the binary and returns its one
/// finding, after checking the report has nothing else.
async fn scan(target: &str) -> Value {
    let (f, _) = super::scan_one(target, &[]).await;
    f.clone()
}

/// The requests of a finding's evidence.
fn requests(f: &Value) -> Vec<&str> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["request"].as_str())
        .collect()
}

#[tokio::test]
async fn redis_without_password_is_open_with_key_counts() {
    let Some(addr) = server("REDIS_OPEN") else {
        return;
    };
    for target in [addr.clone(), format!("redis://{addr}/0")] {
        let f = scan(&target).await;
        assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
        assert_eq!(
            (&f["service"], &f["exposure"], &f["check"], &f["version"]),
            (
                &Value::from("redis"),
                &Value::from("open"),
                &Value::from("redis-open"),
                &Value::from("7.0.15")
            ),
            "{f:#}"
        );
        assert_eq!(f["severity"], "high", "{f:#}");
        assert_eq!(f["tls"], false);
        // ajar_probe_a and ajar_probe_b in db0, ajar_probe_c in db3: counts, never names.
        let items: Vec<(&str, u64)> = f["inventory"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().expect("name"),
                    i["documents"].as_u64().expect("count"),
                )
            })
            .collect();
        assert_eq!(items, [("db0", 2), ("db3", 1)], "{f:#}");
        assert_eq!(f["inventory"]["total_documents"], 3);
        assert_eq!(f["details"]["redis_mode"], "standalone");
        assert_eq!(f["details"]["role"], "master");
        assert_eq!(requests(&f), ["PING", "INFO"], "{f:#}");
        assert!(
            !f.to_string().contains("ajar_probe_"),
            "a key name leaked: {f:#}"
        );
    }
}

#[tokio::test]
async fn redis_with_requirepass_requires_credentials() {
    let Some(addr) = server("REDIS_AUTH") else {
        return;
    };
    let f = scan(&addr).await;
    assert_eq!(
        (&f["service"], &f["exposure"], &f["check"], &f["severity"]),
        (
            &Value::from("redis"),
            &Value::from("auth-required"),
            &Value::from("redis-auth-required"),
            &Value::from("info")
        ),
        "{f:#}"
    );
    assert!(f["version"].is_null(), "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(requests(&f), ["PING"], "{f:#}");
    assert_eq!(
        f["evidence"][0]["response"], "-NOAUTH Authentication required.",
        "{f:#}"
    );
}

#[tokio::test]
async fn sentinel_is_told_apart_from_redis() {
    let Some(addr) = server("REDIS_SENTINEL") else {
        return;
    };
    let f = scan(&addr).await;
    assert_eq!(
        (&f["service"], &f["exposure"], &f["check"], &f["version"]),
        (
            &Value::from("redis-sentinel"),
            &Value::from("open"),
            &Value::from("redis-sentinel-open"),
            &Value::from("7.0.15")
        ),
        "{f:#}"
    );
    assert_eq!(f["severity"], "medium", "{f:#}");
    assert_eq!(f["details"]["redis_mode"], "sentinel");
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(
        f["summary"],
        "Redis Sentinel 7.0.15 answers INFO without credentials: monitored masters 1"
    );
}
