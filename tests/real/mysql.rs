//! MariaDB 10.11.19 as Debian bookworm packages it (`mariadb-server`), started by
//! `scripts/servers/mysql.server.sh` as two instances: MYSQL_NOPASS, where root has no
//! password (as `mariadb-install-db --auth-root-authentication-method=normal` leaves it),
//! and MYSQL_AUTH, where every root account has a random one. Both hold a database named
//! `ajar_probe_shop` that the set-up created.

use serde_json::Value;

use super::server;
use crate::support::cli::{Run, json, stderr};

/// Scans the real server `name` through the binary (`scan ADDR -f json --timeout 5s`, plus
/// `flags`) and returns its one finding, after checking the fields every MySQL finding of
/// these servers shares. `None` when the server is not running.
async fn scan(name: &str, flags: &[&str]) -> Option<Value> {
    let addr = server(name)?;
    let mut run = Run::new(&["scan", &addr, "-f", "json", "--timeout", "5s"]);
    for flag in flags {
        run = run.arg(*flag);
    }
    let out = run.output().await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!(
            "{name}: one finding expected: {report:#}, stderr {}",
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
    assert_eq!(f["service"], "mysql", "{f:#}");
    assert_eq!(f["product"], "MariaDB", "{f:#}");
    assert_eq!(f["version"], "10.11.19", "{f:#}");
    assert_eq!(
        f["details"]["server_version"], "5.5.5-10.11.19-MariaDB-0+deb12u1",
        "{f:#}"
    );
    assert_eq!(
        f["details"]["auth_plugin"], "mysql_native_password",
        "{f:#}"
    );
    Some(f.clone())
}

/// The evidence rows as (request, response).
fn evidence(f: &Value) -> Vec<(&str, &str)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["request"].as_str().unwrap_or_default(),
                e["response"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

fn assert_auth_required(f: &Value) {
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "mysql-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
}

#[tokio::test]
async fn mariadb_plain_scans_are_auth_required_from_the_handshake() {
    for name in ["MYSQL_NOPASS", "MYSQL_AUTH"] {
        let Some(f) = scan(name, &[]).await else {
            return;
        };
        assert_auth_required(&f);
        let rows = evidence(&f);
        assert_eq!(rows.len(), 1, "only the greeting, no login: {f:#}");
        assert_eq!(rows[0].0, "(connect and listen)");
        assert!(
            rows[0].1.starts_with("handshake v10: server version"),
            "{f:#}"
        );
    }
}

#[tokio::test]
async fn mariadb_root_without_password_is_default_credentials_and_lists_names() {
    let Some(f) = scan("MYSQL_NOPASS", &["--default-credentials"]).await else {
        return;
    };
    assert_eq!(f["exposure"], "default-credentials", "{f:#}");
    assert_eq!(f["check"], "mysql-default-credentials", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["details"]["user"], "root", "{f:#}");
    let items: Vec<(&str, bool)> = f["inventory"]["items"]
        .as_array()
        .expect("inventory")
        .iter()
        .map(|d| (d["name"].as_str().unwrap_or_default(), d["system"] == true))
        .collect();
    assert_eq!(
        items,
        [
            ("ajar_probe_shop", false),
            ("information_schema", true),
            ("mysql", true),
            ("performance_schema", true),
            ("sys", true),
        ],
        "{f:#}"
    );
    let rows = evidence(&f);
    assert_eq!(rows[1].1, "OK packet: logged in", "{f:#}");
    assert_eq!(rows[2].0, "COM_QUERY SHOW DATABASES", "{f:#}");
}

#[tokio::test]
async fn mariadb_root_with_password_refuses_the_empty_login() {
    let Some(f) = scan("MYSQL_AUTH", &["--default-credentials"]).await else {
        return;
    };
    assert_auth_required(&f);
    assert_eq!(
        evidence(&f)[1],
        (
            "HandshakeResponse41 user root, empty password, plugin mysql_native_password",
            "ERR 1045 (28000): Access denied for user 'root'@'127.0.0.1' (using password: NO)"
        ),
        "{f:#}"
    );
}
