//! `--format sarif` through the binary against fake servers on 127.0.0.1: the log
//! validates against the official SARIF 2.1.0 schema (tests/data/), rule ids, levels and
//! `security-severity` are exact, and fingerprints are the same in two runs.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::cli::open_es;
use crate::elastic::{BASIC_SECURITY, ES_11_401, secured};
use crate::support::cli::{Run, json, stderr};
use crate::support::http_fake::http_server;

/// The Python with the `jsonschema` package: `AJAR_PYTHON` (scripts/test.sh points it at
/// the pinned virtualenv it makes), else `python3` from PATH.
fn python() -> String {
    std::env::var("AJAR_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// An Elasticsearch 7.x with security on (ES-11 401 body and challenge).
async fn secured_es() -> crate::support::FakeServer {
    let routes = secured(
        "401 Unauthorized",
        ES_11_401,
        &[
            ("WWW-Authenticate", BASIC_SECURITY),
            ("content-type", "application/json; charset=UTF-8"),
        ],
    );
    http_server(false, routes).await.0
}

async fn sarif(targets: &[String]) -> Value {
    let mut run = Run::new(&["scan", "-q", "--format", "sarif"]);
    for t in targets {
        run = run.arg(t.clone());
    }
    let out = run.output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json(&out)
}

/// Validates `log` against tests/data/sarif-schema-2.1.0.json with Python's `jsonschema`.
/// Without python3 or the package the check is skipped locally, and fails under `CI=true`.
pub(crate) fn assert_valid_sarif(log: &Value) {
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let script = "import json,sys,jsonschema\n\
                  schema=json.load(open(sys.argv[1]))\n\
                  jsonschema.Draft4Validator.check_schema(schema)\n\
                  errors=list(jsonschema.Draft4Validator(schema).iter_errors(json.load(sys.stdin)))\n\
                  [print(e.json_path, e.message) for e in errors]\n\
                  sys.exit(1 if errors else 0)\n";
    let probe = Command::new(python())
        .args(["-c", "import jsonschema"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but python3 with the jsonschema package is missing: cannot validate SARIF"
        );
        eprintln!("python3 jsonschema missing: SARIF schema validation skipped");
        return;
    }
    let mut child = Command::new(python())
        .args(["-c", script, schema])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(log.to_string().as_bytes())
            .expect("write log");
    }
    let out = child.wait_with_output().expect("python3 output");
    assert!(
        out.status.success(),
        "SARIF does not validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_validator_rejects_a_broken_log() {
    // A level SARIF does not define and a missing `runs`: the check above must catch both,
    // or a passing validation proves nothing.
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let Ok(out) = Command::new(python())
        .args([
            "-c",
            "import json,sys,jsonschema\n\
             v=jsonschema.Draft4Validator(json.load(open(sys.argv[1])))\n\
             bad=[{'version':'2.1.0'},{'version':'2.1.0','runs':[{'tool':{'driver':{'name':'ajar'}},\
             'results':[{'message':{'text':'x'},'level':'fatal'}]}]}]\n\
             sys.exit(0 if all(not v.is_valid(b) for b in bad) else 1)\n",
            schema,
        ])
        .output()
    else {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "python3 missing");
        return;
    };
    if String::from_utf8_lossy(&out.stderr).contains("No module named") {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "jsonschema missing"
        );
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_validates_with_exact_rules_levels_and_stable_fingerprints() {
    let open = open_es().await;
    let protected = secured_es().await;
    let targets = vec![open.addr.to_string(), protected.addr.to_string()];
    let first = sarif(&targets).await;
    assert_valid_sarif(&first);
    assert_eq!(first["version"], "2.1.0");
    assert_eq!(
        first["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let run = &first["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "ajar");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));

    let rules: Vec<(String, String, String)> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_string(),
                r["defaultConfiguration"]["level"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                r["properties"]["security-severity"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let want = |id: &str, level: &str, score: &str| (id.into(), level.into(), score.into());
    assert_eq!(
        rules,
        [
            want("elasticsearch-auth-required", "note", "0.0"),
            want("elasticsearch-open", "error", "9.5"),
        ]
    );
    let open_rule = &driver["rules"][1];
    assert!(
        open_rule["help"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("References:")),
        "{open_rule}"
    );
    assert_eq!(
        open_rule["helpUri"].as_str(),
        open_rule["help"]["text"]
            .as_str()
            .and_then(|t| t.split("\n- ").nth(1))
    );

    let results = run["results"].as_array().expect("results");
    let got: Vec<(&str, &str, &str, u64)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or(""),
                r["level"].as_str().unwrap_or(""),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or(""),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap_or(0),
            )
        })
        .collect();
    let open_uri = format!("http://{}/", open.addr);
    let protected_uri = format!("http://{}/", protected.addr);
    assert_eq!(
        got,
        [
            ("elasticsearch-open", "error", open_uri.as_str(), 1),
            (
                "elasticsearch-auth-required",
                "note",
                protected_uri.as_str(),
                1
            ),
        ]
    );
    assert_eq!(results[0]["ruleIndex"], 1);
    assert_eq!(results[1]["ruleIndex"], 0);

    // The fingerprint is SHA-256 of "check\nendpoint", and the same in a second run.
    let fingerprints = |log: &Value| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                r["partialFingerprints"]["ajarEndpointCheck/v1"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    let sha = |text: String| -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(
        fingerprints(&first),
        [
            sha(format!("elasticsearch-open\n{}", open.addr)),
            sha(format!("elasticsearch-auth-required\n{}", protected.addr)),
        ]
    );
    let second = sarif(&targets).await;
    assert_eq!(fingerprints(&first), fingerprints(&second));
    assert_ne!(fingerprints(&first)[0], fingerprints(&first)[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_of_a_scan_that_found_nothing_still_validates() {
    let port = crate::support::cli::closed_port();
    let log = sarif(&[format!("127.0.0.1:{port}")]).await;
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"],
        Value::Array(vec![])
    );
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}
