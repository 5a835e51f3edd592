//! ClickHouse 18.16.1 as Debian packages it (`clickhouse-server`), its native TCP port,
//! started by `scripts/servers/clickhouse.server.sh` as two instances:
//! CLICKHOUSE_NATIVE_OPEN, where user `default` has an empty password (the package's
//! users.xml), and CLICKHOUSE_NATIVE_AUTH, where it has a random one. Both hold a
//! database named `ajar_probe_db` with an empty table `customers`, which the set-up
//! created. Their ports (17051, 17054) are
//! not ClickHouse's, so these scans also show detection on any port.

use serde_json::Value;

use super::server;

/// Scans `target` (the real server `name`'s address, written as `scheme` gives it)
/// through the binary and returns its one finding, after the fields every ClickHouse
/// finding shares. `None` when the server is not running.
async fn scan(name: &str, scheme: &str) -> Option<Value> {
    let addr = server(name)?;
    let target = format!("{scheme}{addr}");
    let (f, _) = super::scan_one(&target, &[]).await;
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "clickhouse", "{f:#}");
    assert_eq!(f["tls"], false, "{f:#}");
    Some(f.clone())
}

/// The evidence rows as (probe, request, response).
fn evidence(f: &Value) -> Vec<(&str, &str, &str)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["probe"].as_str().unwrap_or_default(),
                e["request"].as_str().unwrap_or_default(),
                e["response"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

const HELLO: &str = "Hello: client ajar 1.0, revision 54401, user default, empty password";

fn assert_open(f: &Value) {
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "clickhouse-open", "{f:#}");
    // ajar_probe_db holds a table: open with user data is the product's severity.
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["product"], "ClickHouse", "{f:#}");
    assert_eq!(f["version"], "18.16.1", "{f:#}");
    assert_eq!(f["details"]["server_name"], "ClickHouse", "{f:#}");
    assert_eq!(f["details"]["revision"], "54412", "{f:#}");
    let items: Vec<(&str, bool)> = f["inventory"]["items"]
        .as_array()
        .expect("inventory")
        .iter()
        .map(|d| (d["name"].as_str().unwrap_or_default(), d["system"] == true))
        .collect();
    assert_eq!(
        items,
        [
            ("ajar_probe_db", false),
            ("default", false),
            ("system", true)
        ],
        "{f:#}"
    );
    assert_eq!(f["inventory"]["total_items"], 3, "{f:#}");
    assert_eq!(f["inventory"]["truncated"], false, "{f:#}");
    let rows = evidence(f);
    assert_eq!(rows.len(), 3, "{f:#}");
    assert_eq!((rows[0].0, rows[0].1), ("clickhouse", HELLO), "{f:#}");
    assert!(
        rows[0]
            .2
            .starts_with("Hello: ClickHouse 18.16.1, revision 54412, time zone "),
        "{f:#}"
    );
    assert_eq!(
        (rows[1].1, rows[1].2),
        (
            "Query SHOW DATABASES",
            "3 rows of column name String, EndOfStream: ajar_probe_db, default, system"
        ),
        "{f:#}"
    );
    assert!(
        rows[2]
            .1
            .starts_with("Query SELECT database, name FROM system.tables WHERE")
    );
    assert_eq!(
        rows[2].2, "1 rows of columns database, name String, EndOfStream: 1 tables in 1 databases",
        "{f:#}"
    );
}

#[tokio::test]
async fn clickhouse_native_default_user_without_password_is_open() {
    let Some(f) = scan("CLICKHOUSE_NATIVE_OPEN", "").await else {
        return;
    };
    assert_open(&f);
}

#[tokio::test]
async fn clickhouse_native_scheme_target_is_open() {
    let Some(f) = scan("CLICKHOUSE_NATIVE_OPEN", "clickhouse://").await else {
        return;
    };
    assert_open(&f);
}

#[tokio::test]
async fn clickhouse_native_default_user_with_password_requires_credentials() {
    let Some(f) = scan("CLICKHOUSE_NATIVE_AUTH", "").await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "clickhouse-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    assert_eq!(f["version"], Value::Null, "{f:#}");
    assert_eq!(f["details"]["error_code"], "194", "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(
        evidence(&f),
        [(
            "clickhouse",
            HELLO,
            "Exception 194: DB::Exception: Password required for user default"
        )],
        "{f:#}"
    );
}
