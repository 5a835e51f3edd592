//! The run's outcome as CI sees it: exit codes that tell the truth (nothing scanned is not
//! a clean estate, a lost report is not a usage error), SIGTERM keeping the report, piped
//! targets, and certificate verification with the system roots or `--ca-file`.

use std::time::Duration;

use serde_json::Value;

use crate::cli::{ES7_INDICES, es7_banner, open_es};
use crate::support::cli::{Run, closed_port, json, stderr, stdout};
use crate::support::http_fake::{Reply, Routes, serve_http};
use crate::support::{serve_with, signed_tls_acceptor, tls_fixture};

/// SIGTERM (a cancelled CI job, `timeout`, Kubernetes) writes the report like Ctrl-C and
/// exits 143; before, the report was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_what_was_found_and_exits_143() {
    let (es, hits) = crate::cli::open_es_with_hits().await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let out = Run::new(&["scan", "--timeout", "60s", "-f", "json"])
        .arg(format!("127.0.0.1:{}", es.addr.port()))
        .arg(format!(
            "127.0.0.1:{}",
            silent.local_addr().expect("addr").port()
        ))
        // Once the open endpoint's last request is served, its finding is a moment away;
        // the silent one holds the scan for a minute.
        .signal_once_served(
            "-TERM",
            hits,
            "GET /customers/_mapping",
            Duration::from_millis(1000),
        )
        .output()
        .await;
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["endpoints"]["scanned"], 1);
    assert_eq!(report["results"][0]["exposure"], "open");
    assert!(stderr(&out).contains("terminated"), "{}", stderr(&out));
}

/// When every target is excluded, nothing is scanned: a warning and exit 3, not a green
/// build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_target_excluded_is_exit_3_with_a_warning() {
    let out = Run::new(&[
        "scan",
        "127.0.0.1",
        "127.0.0.2:9200",
        "--exclude",
        "127.0.0.0/8",
        "-f",
        "json",
    ])
    .output()
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the exclusions remove every target"),
        "{}",
        stderr(&out)
    );
    let report = json(&out);
    assert_eq!(report["endpoints"]["total"], 0);
}

/// A report that cannot be written (`-o /dev/full`) exits 4, and the scan's summary still
/// reaches stderr; before, it was exit 2, "nothing was scanned".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_report_is_exit_4_with_the_summary_on_stderr() {
    let es = open_es().await;
    let out = Run::new(&["scan", "-f", "json", "-o", "/dev/full"])
        .arg(format!("127.0.0.1:{}", es.addr.port()))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("writing the report to /dev/full: No space left on device"),
        "{err}"
    );
    assert!(
        err.contains("the report is lost; the scan found: 1 open (1,203 documents, 90.2 kB)"),
        "{err}"
    );
}

/// Targets piped in with no target argument are scanned, as nuclei reads them; before,
/// the pipe was ignored and 127.0.0.1's default ports were scanned instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_targets_are_read_when_no_target_is_given() {
    let es = open_es().await;
    let out = Run::new(&["scan", "-f", "json"])
        .stdin(format!("# from a pipe\n127.0.0.1:{}\n", es.addr.port()))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["targets"], 1);
    assert_eq!(report["endpoints"]["total"], 1);
    assert_eq!(report["results"][0]["exposure"], "open");
    // An empty pipe is an input error, not a scan of the defaults.
    let out = Run::new(&["scan"]).stdin("").output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("stdin holds no targets"),
        "{}",
        stderr(&out)
    );
    // Arguments win over a pipe.
    let port = closed_port();
    let out = Run::new(&["scan", "-f", "json"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(format!("127.0.0.1:{}\n", es.addr.port()))
        .output()
        .await;
    assert_eq!(json(&out)["endpoints"]["closed"], 1);
}

/// A server with a certificate from the test CA (tests/fixtures/tls/README.md).
async fn signed_https_es() -> String {
    let routes = std::sync::Arc::new(
        Routes::new()
            .at("/", Reply::json(&es7_banner()))
            .at("/_cat/indices", Reply::json(ES7_INDICES)),
    );
    let server = serve_with(Some(signed_tls_acceptor()), move |conn| {
        serve_http(conn, routes.clone(), Default::default())
    })
    .await;
    format!("https://127.0.0.1:{}/", server.addr.port())
}

/// `--ca-file` (and `AJAR_CA_FILE`) adds a CA and turns verification on: the server it
/// signed is verified and probed; without it, `--verify-tls` refuses the same server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_file_verifies_a_private_ca() {
    let target = signed_https_es().await;
    let ca = tls_fixture("ca.pem");
    let out = Run::new(&["scan", &target, "-f", "json", "--ca-file", &ca])
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["results"][0]["exposure"], "open");
    let out = Run::new(&["scan", &target, "-f", "json"])
        .env("AJAR_CA_FILE", &ca)
        .output()
        .await;
    assert_eq!(
        json(&out)["results"][0]["exposure"],
        "open",
        "{}",
        stderr(&out)
    );
    let out = Run::new(&["scan", &target, "-f", "json", "--verify-tls"])
        .output()
        .await;
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json(&out)["endpoints"]["failed"], 1);
}

/// A CA file that is missing, not PEM, or endless is an error before anything is sent;
/// before, it was ignored in silence, or `/dev/zero` read up to 1 GB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ca_files_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("ajar-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let text = dir.join("not-pem.txt");
    std::fs::write(&text, "just words\n").expect("write");
    let missing = dir.join("missing.pem");
    for (file, expected) in [
        (missing.to_str().expect("utf-8"), "cannot read the CA file"),
        (text.to_str().expect("utf-8"), "holds no PEM certificate"),
        ("/dev/zero", "larger than 16 MiB"),
    ] {
        let out = Run::new(&["scan", "127.0.0.1:1", "--ca-file", file])
            .output()
            .await;
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{file}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
        let out = Run::new(&["scan", "127.0.0.1:1", "--verify-tls"])
            .env("AJAR_CA_FILE", file)
            .output()
            .await;
        assert_eq!(out.status.code(), Some(2), "AJAR_CA_FILE={file}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Durations read as humantime does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durations_take_compound_units() {
    let port = closed_port();
    let out = Run::new(&[
        "scan",
        "--timeout",
        "1m30s",
        "--probe-timeout",
        "2min",
        "-q",
    ])
    .arg(format!("127.0.0.1:{port}"))
    .output()
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = Run::new(&["scan", "--timeout", "3h", "127.0.0.1:1"])
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("out of range"), "{}", stderr(&out));
}

/// `--fail-on` still gates on findings when other endpoints fail; exit 1 wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_gate_before_partial_failure() {
    let es = open_es().await;
    let out = Run::new(&["scan", "-f", "json", "--fail-on", "high"])
        .arg(format!("127.0.0.1:{}", es.addr.port()))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = json(&out);
    assert_eq!(report["severities"]["critical"], 1);
}

/// A banner with an answer that is no listing (HTTP 204) is not an open store, so
/// `--fail-on medium` does not fail the build on it; before, "0 indices listed" was
/// `open`, `medium`, and exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_medium_ignores_an_empty_answer_that_is_no_listing() {
    let routes = Routes::new()
        .at("/", Reply::json(&es7_banner()))
        .at("/_cat/indices", Reply::new("204 No Content", ""));
    let (es, _) = crate::support::http_fake::http_server(false, routes).await;
    let out = Run::new(&["scan", "-f", "json", "--fail-on", "medium"])
        .arg(format!("127.0.0.1:{}", es.addr.port()))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["endpoints"]["open"], 0);
    assert_eq!(report["results"], Value::Array(vec![]));
    let note = report["unidentified"][0]["note"]
        .as_str()
        .unwrap_or_default();
    assert!(note.contains("likely a honeypot or decoy"), "{note}");
}
