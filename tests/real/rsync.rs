//! The rsync daemon of the Debian package installed here (3.5.0, protocol 32), started by
//! `scripts/servers/rsync.server.sh` on a non-default port with two listed modules:
//! ajar_open (read only, no authentication) and ajar_locked (`auth users = ajar`). The
//! test scans it through the binary as a bare `127.0.0.1:PORT` and checks the verdict.

use super::server;
use crate::support::cli::{Run, json, stderr};

#[tokio::test]
async fn rsync_daemon_with_an_open_module_is_open_and_names_the_locked_one() {
    let Some(addr) = server("RSYNC_DAEMON") else {
        return;
    };
    let out = Run::new(&["scan", &addr, "-f", "json", "--timeout", "5s"])
        .output()
        .await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!("one finding expected: {report:#}, stderr {}", stderr(&out));
    };
    for list in ["unidentified", "silent", "errors"] {
        assert_eq!(report[list], serde_json::json!([]), "{list}: {report:#}");
    }
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "rsync", "{f:#}");
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "rsync-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["version"], "32.0", "{f:#}");
    assert_eq!(
        f["details"]["auth_digests"], "sha512 sha256 sha1 md5 md4",
        "{f:#}"
    );
    assert_eq!(f["details"]["protected_modules"], "ajar_locked", "{f:#}");
    let items = f["inventory"]["items"].as_array().expect("items");
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["ajar_open"], "{f:#}");
    let requests: Vec<&str> = f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["request"].as_str())
        .collect();
    assert_eq!(
        requests,
        [
            "(connect and listen)",
            "@RSYNCD: 30.0, #list",
            "@RSYNCD: 30.0, module ajar_open",
            "@RSYNCD: 30.0, module ajar_locked",
        ],
        "{f:#}"
    );
    assert_eq!(
        f["evidence"][3]["response"],
        "@RSYNCD: AUTHREQD: authentication required (challenge not answered)",
        "{f:#}"
    );
}
