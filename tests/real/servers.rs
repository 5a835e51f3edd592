//! The HTTP data stores and infrastructure APIs of issue 6, as Debian bookworm packages them,
//! started by `scripts/servers/*.server.sh` in an open and a protected configuration each:
//! etcd 3.4.23, InfluxDB 1.6.7~rc0, Prometheus 2.42.0, Docker Registry 2.8.2, ClickHouse
//! 18.16.1, RabbitMQ 3.10.8 (management), NATS 2.9.10 (monitoring), ZooKeeper 3.8.0
//! (AdminServer) and webdis 0.1.9 over Redis 7.0.
//!
//! The open servers hold something named `ajar_probe…` that their set-up created (a database,
//! a repository, keys, a queue, a znode), so each test can tell that the inventory or the
//! counts came from that very server.

use serde_json::Value;

use super::server;
use crate::support::cli::{Run, json, stderr};

/// Scans the real server `name` through the binary (`scan ADDR -f json --timeout 5s`, plus
/// `flags`) and checks its one finding against `want`, a row of five words:
/// `service exposure check version evidence`, where `version` is what the package reports
/// (`-` where the product does not tell it without credentials) and `evidence` a piece of the
/// request that decided (`/v3/kv/range`). `None` when the server is not running.
async fn found(name: &str, flags: &[&str], want: &str) -> Option<Value> {
    let addr = server(name)?;
    let [service, exposure, check, version, evidence] = want
        .split_whitespace()
        .collect::<Vec<_>>()
        .try_into()
        .expect("five words");
    let mut run = Run::new(&["scan", &addr, "-f", "json", "--timeout", "5s"]);
    for flag in flags {
        run = run.arg(*flag);
    }
    let out = run.output().await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!(
            "{name}: one finding expected; report {report:#}, stderr {}",
            stderr(&out)
        );
    };
    for list in ["unidentified", "silent", "errors"] {
        assert_eq!(
            report[list],
            serde_json::json!([]),
            "{name}: {list}: {report:#}"
        );
    }
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], service, "{f:#}");
    assert_eq!(f["exposure"], exposure, "{f:#}");
    assert_eq!(f["check"], check, "{f:#}");
    match version {
        "-" => assert!(f["version"].is_null(), "no version expected: {f:#}"),
        v => assert_eq!(f["version"], v, "{f:#}"),
    }
    let requests = f["evidence"].as_array().expect("evidence");
    assert!(
        requests
            .iter()
            .any(|e| e["request"].as_str().is_some_and(|r| r.contains(evidence))),
        "no evidence for {evidence}: {f:#}"
    );
    match exposure {
        "auth-required" => {
            assert_eq!(f["severity"], "info", "{f:#}");
            assert!(f["inventory"].is_null(), "{f:#}");
        }
        "default-credentials" => {
            let severity = f["severity"].as_str().unwrap_or_default();
            assert!(matches!(severity, "high" | "critical"), "{f:#}");
        }
        _ => {}
    }
    Some(f.clone())
}

/// The names in the finding's inventory.
fn inventory_names(finding: &Value) -> Vec<&str> {
    finding["inventory"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no inventory: {finding:#}"))
        .iter()
        .filter_map(|item| item["name"].as_str())
        .collect()
}

/// The detail `key` (an extractor's value), as the JSON report writes it.
fn detail<'a>(finding: &'a Value, key: &str) -> &'a str {
    finding["details"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no detail {key}: {finding:#}"))
}

#[tokio::test]
async fn etcd_without_auth_is_open_and_counts_the_keys() {
    let want = "etcd open etcd-open 3.4.23 /v3/kv/range";
    let Some(f) = found("ETCD_OPEN", &[], want).await else {
        return;
    };
    // /ajar_probe/a, /b and /c, counted with count_only (no key or value read).
    assert_eq!(detail(&f, "keys"), "3");
}

#[tokio::test]
async fn etcd_with_auth_enabled_requires_credentials() {
    // /version answers anyone, so the version is known even here.
    let want = "etcd auth-required etcd-auth-required 3.4.23 /v3/kv/range";
    found("ETCD_AUTH", &[], want).await;
}

#[tokio::test]
async fn influxdb_without_auth_is_open_and_lists_the_database() {
    let want = "influxdb open influxdb-open 1.6.7~rc0 SHOW%20DATABASES";
    let Some(f) = found("INFLUXDB_OPEN", &[], want).await else {
        return;
    };
    assert!(inventory_names(&f).contains(&"ajar_probe_db"), "{f:#}");
}

#[tokio::test]
async fn influxdb_with_auth_enabled_requires_credentials() {
    // /ping's X-Influxdb-Version header is sent with auth on too.
    let want = "influxdb auth-required influxdb-auth-required 1.6.7~rc0 SHOW%20DATABASES";
    found("INFLUXDB_AUTH", &[], want).await;
}

#[tokio::test]
async fn prometheus_without_web_config_is_open_and_names_the_job() {
    let want = "prometheus open prometheus-open 2.42.0+ds /api/v1/";
    let Some(f) = found("PROMETHEUS_OPEN", &[], want).await else {
        return;
    };
    assert!(inventory_names(&f).contains(&"ajar_probe_job"), "{f:#}");
}

/// Every path answers 401 "Unauthorized" with a bare `WWW-Authenticate: Basic`, byte for
/// byte what any Go exporter behind the same web config sends: nothing says Prometheus, so
/// ajar names no product; the endpoint is unknown, with the credentials demand in its note.
#[tokio::test]
async fn prometheus_with_basic_auth_users_is_unknown_but_asks_for_credentials() {
    let Some(addr) = server("PROMETHEUS_AUTH") else {
        return;
    };
    let out = Run::new(&["scan", &addr, "-f", "json", "--timeout", "5s"])
        .output()
        .await;
    let report = json(&out);
    assert_eq!(report["results"], serde_json::json!([]), "{report:#}");
    let note = report["unidentified"][0]["note"]
        .as_str()
        .unwrap_or_default();
    assert!(note.starts_with("http: HTTP 401"), "{note}");
    assert!(
        note.contains(
            "WWW-Authenticate: Basic (credentials required; the service behind it is unknown)"
        ),
        "{note}"
    );
}

#[tokio::test]
async fn registry_without_auth_is_open_and_lists_the_repository() {
    // The registry API tells no version (only Docker-Distribution-Api-Version: registry/2.0).
    let want = "docker-registry open docker-registry-open - /v2/_catalog";
    let Some(f) = found("REGISTRY_OPEN", &[], want).await else {
        return;
    };
    assert_eq!(inventory_names(&f), ["ajar_probe/repo"], "{f:#}");
}

#[tokio::test]
async fn registry_with_htpasswd_requires_credentials() {
    let want = "docker-registry auth-required docker-registry-auth-required - /v2/";
    found("REGISTRY_AUTH", &[], want).await;
}

#[tokio::test]
async fn clickhouse_default_user_without_password_is_open() {
    let want = "clickhouse open clickhouse-http-open 18.16.1 SHOW%20DATABASES";
    let Some(f) = found("CLICKHOUSE_OPEN", &[], want).await else {
        return;
    };
    let names = inventory_names(&f);
    for db in ["ajar_probe_db", "default", "system"] {
        assert!(names.contains(&db), "{db} missing: {f:#}");
    }
}

#[tokio::test]
async fn clickhouse_default_user_with_password_requires_credentials() {
    // 18.16 answers 401 "Code: 194 ... Password required for user default"; SELECT version()
    // is refused the same way, so no version.
    let want = "clickhouse auth-required clickhouse-http-auth-required - SHOW%20DATABASES";
    found("CLICKHOUSE_AUTH", &[], want).await;
}

#[tokio::test]
async fn rabbitmq_management_requires_credentials_without_the_flag() {
    // The version is only in /api/overview, which needs a login.
    let want = "rabbitmq auth-required rabbitmq-management-auth-required - /api/overview";
    found("RABBITMQ_MGMT", &[], want).await;
}

#[tokio::test]
async fn rabbitmq_management_accepts_guest_from_loopback() {
    let want =
        "rabbitmq default-credentials rabbitmq-management-default-credentials 3.10.8 /api/whoami";
    let Some(f) = found("RABBITMQ_MGMT", &["--default-credentials"], want).await else {
        return;
    };
    assert!(
        f["summary"].as_str().is_some_and(|s| s.contains("guest")),
        "{f:#}"
    );
    // ajar_probe_queue, made at set-up, is the broker's only queue.
    assert_eq!(detail(&f, "queues"), "1");
}

#[tokio::test]
async fn nats_monitoring_is_open() {
    let want = "nats open nats-monitoring-open 2.9.10 /varz";
    let Some(f) = found("NATS_MONITOR", &[], want).await else {
        return;
    };
    // Nobody is connected to the client port of the test server.
    assert_eq!(detail(&f, "connections"), "0");
}

#[tokio::test]
async fn zookeeper_admin_server_is_open() {
    let want = "zookeeper open zookeeper-admin-open 3.8.0 /commands/srvr";
    let Some(f) = found("ZOOKEEPER_ADMIN", &[], want).await else {
        return;
    };
    // ZooKeeper's own five znodes plus /ajar_probe.
    assert_eq!(detail(&f, "znodes"), "6");
    assert_eq!(detail(&f, "mode"), "standalone");
}

#[tokio::test]
async fn webdis_over_redis_without_password_is_open() {
    // webdis sends `Server: Webdis` and no version; the probe never sends INFO.
    let want = "redis open webdis-open - /DBSIZE";
    let Some(f) = found("WEBDIS_OPEN", &[], want).await else {
        return;
    };
    // ajar_probe_a and ajar_probe_b.
    assert_eq!(detail(&f, "keys"), "2");
}

#[tokio::test]
async fn webdis_over_redis_with_requirepass_requires_credentials() {
    let want = "redis auth-required webdis-auth-required - /DBSIZE";
    found("WEBDIS_AUTH", &[], want).await;
}
