//! MongoDB wire-protocol emulators from PyPI, started by `scripts/servers/mongoemu.server.sh`
//! on ports that are not 27017: NX-27017 0.8.1 (a MongoDB server backed by SQLite, which has
//! no authentication) and MockupDB 1.8.1 replying as an open and as an authorizing MongoDB
//! 6.0.5 (`scripts/servers/mockupdb_server.py`). Neither answers HTTP, so each is also the
//! case of a MongoDB silent to the HTTP probe that detection must still find.

use serde_json::Value;

use super::server;
use crate::support::cli::{Run, json, stderr};

/// Scans `addr` bare (no port hint, no scheme) and returns its one finding.
async fn scan(addr: &str) -> Value {
    let out = Run::new(&["scan", addr, "-f", "json", "--timeout", "3s"])
        .output()
        .await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!(
            "{addr}: one finding expected; {report:#}, stderr {}",
            stderr(&out)
        );
    };
    assert_eq!(f["endpoint"], addr, "{f:#}");
    f.clone()
}

/// The (name, system) pairs of a finding's inventory, in order.
fn databases(f: &Value) -> Vec<(String, bool)> {
    f["inventory"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().expect("name").to_string(),
                i["system"].as_bool().expect("system"),
            )
        })
        .collect()
}

/// The verdict triple every assertion starts with.
fn verdict(f: &Value) -> (&str, &str, &str) {
    (
        f["service"].as_str().unwrap_or(""),
        f["exposure"].as_str().unwrap_or(""),
        f["check"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn nx_27017_without_authentication_is_open_with_its_database_and_collection() {
    let Some(addr) = server("MONGO_NX_OPEN") else {
        return;
    };
    let f = scan(&addr).await;
    assert_eq!(verdict(&f), ("mongodb", "open", "mongodb-open"), "{f:#}");
    // NX-27017 0.8.1 reports buildInfo version 7.0.0.
    assert_eq!(f["version"], "7.0.0", "{f:#}");
    assert_eq!(f["severity"], "critical", "{f:#}");
    assert_eq!(
        databases(&f),
        [
            ("ajar_probe_db".to_string(), false),
            ("admin".to_string(), true)
        ],
        "{f:#}"
    );
    assert_eq!(
        f["inventory"]["items"][0]["collections"],
        serde_json::json!(["people"])
    );
    assert_eq!(f["inventory"]["total_documents"], 1, "{f:#}");
    // Metadata only: the seeded document's value never reaches the report.
    assert!(!f.to_string().contains("nobody@example"), "{f:#}");
}

#[tokio::test]
async fn mockupdb_answering_as_an_open_mongodb_is_open_with_its_listing() {
    let Some(addr) = server("MONGO_MOCKUP_OPEN") else {
        return;
    };
    let f = scan(&addr).await;
    assert_eq!(verdict(&f), ("mongodb", "open", "mongodb-open"), "{f:#}");
    assert_eq!(f["version"], "6.0.5", "{f:#}");
    assert_eq!(
        databases(&f),
        [
            ("ajar_probe_db".to_string(), false),
            ("admin".to_string(), true)
        ],
        "{f:#}"
    );
    assert_eq!(f["inventory"]["items"][0]["size_bytes"], 73728, "{f:#}");
    assert_eq!(
        f["inventory"]["items"][0]["collections"],
        serde_json::json!(["customers"])
    );
    assert_eq!(f["inventory"]["total_size_bytes"], 114688, "{f:#}");
}

#[tokio::test]
async fn mockupdb_refusing_list_databases_is_auth_required_not_open() {
    let Some(addr) = server("MONGO_MOCKUP_AUTH") else {
        return;
    };
    let f = scan(&addr).await;
    assert_eq!(
        verdict(&f),
        ("mongodb", "auth-required", "mongodb-auth-required"),
        "{f:#}"
    );
    assert_eq!(f["version"], "6.0.5", "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    let last = f["evidence"]
        .as_array()
        .and_then(|e| e.last())
        .expect("evidence");
    assert_eq!(
        last["response"],
        "ok 0, code 13 (Unauthorized): command listDatabases requires authentication",
        "{f:#}"
    );
}
