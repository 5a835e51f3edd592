//! PostgreSQL 15.18 (Debian postgresql-15) through the binary, in the four clusters of
//! `scripts/servers/postgres.server.sh`: trust (with a database `ajar_probe_db` and TLS),
//! scram-sha-256 with a random password, scram-sha-256 with postgres:postgres, and a
//! pg_hba.conf without a TCP line.

use serde_json::{Value, json};

use super::server;
use crate::support::cli::{Run, json as report_of, stderr};

const VERSION: &str = "15.18 (Debian 15.18-0+deb12u1)";

/// Scans `target` of the real server `name` with `flags` and returns its one finding.
async fn scan(name: &str, scheme: &str, flags: &[&str]) -> Option<Value> {
    let addr = server(name)?;
    let target = format!("{scheme}{addr}");
    let mut run = Run::new(&["scan", &target, "-f", "json", "--timeout", "5s"]);
    for flag in flags {
        run = run.arg(*flag);
    }
    let out = run.output().await;
    let report = report_of(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!(
            "{name}: one finding expected; {report:#}; stderr {}",
            stderr(&out)
        );
    };
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "postgresql", "{f:#}");
    Some(f.clone())
}

fn database_names(f: &Value) -> Vec<(String, bool)> {
    f["inventory"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().expect("name").to_string(),
                d["system"].as_bool().expect("system"),
            )
        })
        .collect()
}

fn initdb_and(user: &str) -> Vec<(String, bool)> {
    vec![
        (user.to_string(), false),
        ("postgres".into(), true),
        ("template0".into(), true),
        ("template1".into(), true),
    ]
}

#[tokio::test]
async fn trust_is_open() {
    let Some(f) = scan("PG_TRUST", "", &[]).await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "postgresql-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["version"], VERSION, "{f:#}");
    assert_eq!(f["tls"], false, "{f:#}");
    assert_eq!(database_names(&f), initdb_and("ajar_probe_db"), "{f:#}");
    assert_eq!(f["details"]["authentication"], "none (trust)", "{f:#}");
}

#[tokio::test]
async fn trust_over_tls_is_open() {
    let Some(f) = scan("PG_TRUST", "postgresql://", &[]).await else {
        return;
    };
    // TLS only when the set-up found openssl; the first exchange says which.
    let first = &f["evidence"][0];
    if f["tls"] == true {
        assert_eq!(first["request"], "SSLRequest (code 80877103)", "{f:#}");
        assert_eq!(first["response"], "S: the server accepts TLS", "{f:#}");
    }
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(database_names(&f), initdb_and("ajar_probe_db"), "{f:#}");
}

#[tokio::test]
async fn scram_is_auth_required() {
    for flags in [&[][..], &["--default-credentials"][..]] {
        let Some(f) = scan("PG_SCRAM", "", flags).await else {
            return;
        };
        assert_eq!(f["exposure"], "auth-required", "{flags:?} {f:#}");
        assert_eq!(f["check"], "postgresql-auth-required", "{f:#}");
        assert_eq!(f["severity"], "info", "{f:#}");
        assert!(f["version"].is_null(), "{f:#}");
        assert_eq!(
            f["details"]["authentication"], "SASL (SCRAM-SHA-256)",
            "{f:#}"
        );
        assert!(f.get("inventory").is_none_or(Value::is_null), "{f:#}");
    }
}

#[tokio::test]
async fn default_login_only_under_the_flag() {
    let Some(f) = scan("PG_DEFAULT", "", &[]).await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["evidence"].as_array().map(Vec::len), Some(1), "{f:#}");

    let Some(f) = scan("PG_DEFAULT", "", &["--default-credentials"]).await else {
        return;
    };
    assert_eq!(f["exposure"], "default-credentials", "{f:#}");
    assert_eq!(f["check"], "postgresql-default-credentials", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["version"], VERSION, "{f:#}");
    assert_eq!(f["details"]["login"], "default user postgres", "{f:#}");
    assert_eq!(database_names(&f), initdb_and("ajar_probe_db"), "{f:#}");
    let text = f["evidence"].to_string();
    assert!(
        !text.contains("p="),
        "no SCRAM proof in the evidence: {text}"
    );
    assert_eq!(
        f["evidence"][2],
        json!({"probe": "postgresql", "request": "password message (user postgres, password not shown)", "response": "AuthenticationOk"}),
        "{f:#}"
    );
}

#[tokio::test]
async fn no_pg_hba_entry_is_auth_required() {
    let Some(f) = scan("PG_NOHBA", "", &[]).await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "postgresql-auth-required", "{f:#}");
    assert_eq!(f["details"]["sqlstate"], "28000", "{f:#}");
    assert_eq!(
        f["summary"],
        "PostgreSQL refused by pg_hba.conf: no pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", database \"postgres\", no encryption",
        "{f:#}"
    );
}
