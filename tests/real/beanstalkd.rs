//! beanstalkd 1.12 as Debian bookworm packages it, started by
//! `scripts/servers/beanstalkd.server.sh`: BEANSTALKD_OPEN (in memory; beanstalkd has no
//! authentication), with one job put into tube `ajar_probe_tube` at setup. The test scans
//! it on its non-default port as a bare `127.0.0.1:PORT` target through the binary.

use super::server;
use crate::support::cli::{Run, json, stderr};

#[tokio::test]
async fn beanstalkd_is_open_and_counts_the_jobs_per_tube() {
    let Some(addr) = server("BEANSTALKD_OPEN") else {
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
    assert_eq!(f["service"], "beanstalkd", "{f:#}");
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "beanstalkd-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["version"], "1.12", "{f:#}");
    assert_eq!(f["evidence"][0]["request"], "stats", "{f:#}");
    assert_eq!(f["evidence"][1]["request"], "list-tubes", "{f:#}");
    // The job the set-up put (counted by stats-tube; no job is peeked or reserved).
    let inventory = &f["inventory"];
    assert_eq!(inventory["unit"], "tube", "{f:#}");
    assert_eq!(inventory["total_items"], 2, "{f:#}");
    assert_eq!(inventory["total_documents"], 1, "{f:#}");
    let tubes: Vec<(&str, u64)> = inventory["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().expect("name"),
                t["documents"].as_u64().expect("documents"),
            )
        })
        .collect();
    assert_eq!(tubes, vec![("ajar_probe_tube", 1), ("default", 0)], "{f:#}");
}
