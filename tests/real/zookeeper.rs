//! ZooKeeper 3.8.0 as Debian bookworm packages it, started by
//! `scripts/servers/zookeeper.server.sh`: ZOOKEEPER_OPEN (the open server's client port,
//! holding /ajar_probe) and ZOOKEEPER_SASL (sessionRequireClientSASLAuth=true). Both listen
//! on ports that are not 2181, so detection finds ZooKeeper by its protocol. Each test scans
//! its server through the binary and checks the exact verdict.

use serde_json::Value;

use super::server;

/// Scans the real server `name` and returns its one finding, after checking the report has
/// nothing else; `None` when the server is not running.
async fn scan(name: &str) -> Option<Value> {
    let addr = server(name)?;
    let (f, _) = super::scan_one(&addr, &[]).await;
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "zookeeper", "{f:#}");
    assert_eq!(f["tls"], false, "{f:#}");
    assert_eq!(f["version"], "3.8.0", "{f:#}");
    Some(f.clone())
}

fn requests(f: &Value) -> Vec<&str> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["request"].as_str())
        .collect()
}

#[tokio::test]
async fn zookeeper_without_auth_lists_the_root_znodes() {
    let Some(f) = scan("ZOOKEEPER_OPEN").await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "zookeeper-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["details"]["mode"], "standalone", "{f:#}");
    assert_eq!(f["details"]["session_timeout_ms"], "10000", "{f:#}");
    // The set-up's /ajar_probe and ZooKeeper's own /zookeeper, names only.
    let inventory = &f["inventory"];
    assert_eq!(inventory["unit"], "znode", "{f:#}");
    assert_eq!(inventory["total_items"], 2, "{f:#}");
    assert_eq!(inventory["user_items"], 1, "{f:#}");
    assert_eq!(inventory["truncated"], false, "{f:#}");
    let items: Vec<(&str, bool)> = inventory["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().expect("name"),
                i["system"].as_bool().expect("system"),
            )
        })
        .collect();
    assert_eq!(items, [("ajar_probe", false), ("zookeeper", true)], "{f:#}");
    assert_eq!(
        requests(&f),
        [
            "ConnectRequest (protocolVersion 0, sessionId 0, timeOut 10000, readOnly false)",
            "getChildren / (op 8, xid 1, watch false)",
            "closeSession (op -11, xid 2)",
            "srvr",
        ],
        "{f:#}"
    );
    assert_eq!(
        f["evidence"][2]["response"], "reply xid 2, err 0 (session closed)",
        "{f:#}"
    );
}

#[tokio::test]
async fn zookeeper_requiring_sasl_refuses_the_listing() {
    let Some(f) = scan("ZOOKEEPER_SASL").await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "zookeeper-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    // The server closed the session itself: no closeSession is sent.
    assert_eq!(
        requests(&f),
        [
            "ConnectRequest (protocolVersion 0, sessionId 0, timeOut 10000, readOnly false)",
            "getChildren / (op 8, xid 1, watch false)",
            "srvr",
        ],
        "{f:#}"
    );
    assert_eq!(
        f["evidence"][1]["response"],
        "reply xid 1, err -124 SESSIONCLOSEDREQUIRESASLAUTH (session closed: the server requires authentication)",
        "{f:#}"
    );
    // ZooKeeper's own znodes only: nothing was created on this server.
    assert_eq!(f["details"]["znodes"], "5", "{f:#}");
}
