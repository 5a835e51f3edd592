//! Tarantool 2.6.0 as Debian bookworm packages it, started by
//! `scripts/servers/tarantool.server.sh` as two instances, each with a space
//! `ajar_probe_space`: TARANTOOL_GUEST, where guest was granted read on it, and
//! TARANTOOL_DEFAULT, where guest keeps its default rights. Each test scans its instance
//! through the binary (a bare `127.0.0.1:PORT`, not the default port 3301) and checks the
//! exact verdict.

use serde_json::Value;

use super::server;

/// Scans the real instance `name` and returns its one finding, after checking the report
/// has nothing else; `None` when the instance is not running.
async fn scan(name: &str) -> Option<Value> {
    let addr = server(name)?;
    let (f, _) = super::scan_one(&addr, &[]).await;
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "tarantool", "{f:#}");
    assert_eq!(f["version"], "2.6.0", "{f:#}");
    assert_eq!(f["details"]["protocol"], "Binary", "{f:#}");
    assert_eq!(f["details"]["session_user"], "guest", "{f:#}");
    assert_eq!(f["evidence"][0]["request"], "(connect and listen)", "{f:#}");
    assert_eq!(
        f["evidence"][1]["request"], "IPROTO SELECT space 281 (_vspace) iterator ALL limit 1000",
        "{f:#}"
    );
    Some(f.clone())
}

#[tokio::test]
async fn tarantool_guest_with_read_on_a_space_is_open_and_names_it() {
    let Some(f) = scan("TARANTOOL_GUEST").await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "tarantool-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    let items = f["inventory"]["items"].as_array().expect("items");
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["ajar_probe_space"], "{f:#}");
    assert_eq!(f["inventory"]["unit"], "space", "{f:#}");
    assert_eq!(f["details"]["engine"], "memtx", "{f:#}");
    assert_eq!(
        f["evidence"][1]["response"],
        "OK: 10 spaces visible to guest, 1 user space (id >= 512): ajar_probe_space",
        "{f:#}"
    );
}

#[tokio::test]
async fn tarantool_guest_with_default_rights_is_auth_required() {
    let Some(f) = scan("TARANTOOL_DEFAULT").await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "tarantool-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(
        f["evidence"][1]["response"], "OK: 9 spaces visible to guest, all system spaces (id < 512)",
        "{f:#}"
    );
}
