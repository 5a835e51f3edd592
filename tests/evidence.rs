//! Seeing why: every endpoint result carries its evidence (JSON), `-v` prints it, `--debug`
//! logs each exchange; the human summary splits outcomes and counts severities; strings
//! from servers are escaped in the human output and in JSON.

use std::sync::Arc;

use serde_json::Value;

use crate::cli::{es7_banner, open_es};
use crate::support::cli::{Run, closed_port, json, stderr, stdout};
use crate::support::hostile::silent;
use crate::support::http_fake::{Reply, Routes, http_server, serve_http};
use crate::support::serve_at;

/// An nginx-like page: unknown to ajar.
async fn unknown_http() -> crate::support::FakeServer {
    let routes = Routes::new().otherwise(
        Reply::new("200 OK", "<html><title>Welcome to nginx!</title></html>\n")
            .header("Server", "nginx/1.24.0")
            .header("Content-Type", "text/html"),
    );
    http_server(false, routes).await.0
}

/// An unknown endpoint says why: its JSON entry lists the requests of every probe tried
/// and what answered; before, only a one-line note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_silent_endpoints_carry_their_evidence() {
    let web = unknown_http().await;
    let quiet = silent().await;
    let out = Run::new(&["scan", "-f", "json", "--timeout", "500ms"])
        .arg(format!("127.0.0.1:{}", web.addr.port()))
        .arg(format!("127.0.0.1:{}", quiet.addr.port()))
        .output()
        .await;
    let report = json(&out);
    let unknown = &report["unidentified"][0];
    assert_eq!(
        unknown["endpoint"],
        format!("127.0.0.1:{}", web.addr.port())
    );
    let evidence = unknown["evidence"].as_array().expect("evidence");
    assert_eq!(evidence[0]["probe"], "http");
    assert_eq!(evidence[0]["request"], "GET /");
    assert_eq!(
        evidence[0]["response"],
        "HTTP 200, text/html, 46 bytes, server \"nginx/1.24.0\""
    );
    // Silent listeners are their own list, not errors.
    assert_eq!(report["errors"], Value::Array(vec![]));
    let quiet_entry = &report["silent"][0];
    assert_eq!(
        quiet_entry["endpoint"],
        format!("127.0.0.1:{}", quiet.addr.port())
    );
    assert_eq!(quiet_entry["evidence"][0]["request"], "GET /");
    assert_eq!(
        quiet_entry["evidence"][0]["response"],
        "no complete response before the timeout"
    );

    // -v prints the same exchanges under each entry of the human format.
    let out = Run::new(&["scan", "-v", "--timeout", "500ms"])
        .arg(format!("127.0.0.1:{}", web.addr.port()))
        .output()
        .await;
    let text = stdout(&out);
    assert!(
        text.contains(
            "\n    [http] GET / -> HTTP 200, text/html, 46 bytes, server \"nginx/1.24.0\"\n"
        ),
        "{text}"
    );
}

/// `--debug` logs each exchange to stderr (stdout stays the report) and the peak memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_every_exchange_to_stderr() {
    let es = open_es().await;
    let out = Run::new(&["scan", "-f", "json", "--debug"])
        .arg(format!("localhost:{}", es.addr.port()))
        .output()
        .await;
    let report = json(&out);
    assert_eq!(report["results"][0]["exposure"], "open");
    let log = stderr(&out);
    assert!(
        log.contains("GET /_cat/indices?format=json&bytes=b&v -> HTTP 200"),
        "{log}"
    );
    assert!(
        log.contains("resolved") && log.contains("localhost"),
        "{log}"
    );
    assert_eq!(
        log.matches("resolved").count(),
        1,
        "one lookup per name: {log}"
    );
    assert!(log.contains("peak_memory_kib="), "{log}");
    // RUST_LOG does the same without the flag.
    let out = Run::new(&["scan", "-q"])
        .arg(format!("127.0.0.1:{}", es.addr.port()))
        .env("RUST_LOG", "ajar=debug")
        .output()
        .await;
    assert!(
        stderr(&out).contains("GET / -> HTTP 200"),
        "{}",
        stderr(&out)
    );
}

/// The human summary splits closed, silent and unknown endpoints, counts severities, says
/// "1 index", and sorts addresses numerically (127.0.0.2 before 127.0.0.10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_summary_splits_outcomes_and_sorts_numerically() {
    let one_index = r#"[{"health":"green","status":"open","index":"orders","uuid":"u8FNjxh8Rfy_awN11oDKYQ","pri":"1","rep":"0","docs.count":"1","docs.deleted":"0","store.size":"300","pri.store.size":"300"}]"#;
    let routes = || {
        Arc::new(
            Routes::new()
                .at("/", Reply::json(&es7_banner()))
                .at("/_cat/indices", Reply::json(one_index))
                .at(
                    "/orders/_mapping",
                    Reply::json(
                        r#"{"orders":{"mappings":{"properties":{"total":{"type":"long"}}}}}"#,
                    ),
                ),
        )
    };
    let start = |ip: [u8; 4]| {
        let routes = routes();
        serve_at(ip, None, move |conn| {
            serve_http(conn, routes.clone(), Default::default())
        })
    };
    let ten = start([127, 0, 0, 10]).await;
    let two = start([127, 0, 0, 2]).await;
    let web = unknown_http().await;
    let quiet = silent().await;
    let out = Run::new(&["scan", "--timeout", "500ms"])
        .arg(ten.addr.to_string())
        .arg(two.addr.to_string())
        .arg(format!("127.0.0.1:{}", web.addr.port()))
        .arg(format!("127.0.0.1:{}", quiet.addr.port()))
        .arg(format!("127.0.0.1:{}", closed_port()))
        .output()
        .await;
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("high"))
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows[0].contains(&format!("{} ", two.addr)),
        "127.0.0.2 first: {text}"
    );
    assert!(rows[1].contains(&format!("{} ", ten.addr)), "{text}");
    assert!(
        rows[0].contains("1 index (1 user), 1 document, 300 B"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\nsilent   127.0.0.1:{}  accepted the connection",
            quiet.addr.port()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\nunknown  127.0.0.1:{}  http: HTTP 200",
            web.addr.port()
        )),
        "{text}"
    );
    let summary = lines.last().copied().unwrap_or_default();
    assert!(
        summary.starts_with(
            "2 open (2 documents, 600 B), 0 auth-required; by severity: 2 high; 5 endpoints: 1 closed, 1 silent, 1 unknown; "
        ),
        "{summary}"
    );
}

/// A cluster and an index name with a CSI (U+009B), DEL, a bidi override, a line
/// separator, a zero-width space and an Arabic letter mark reach neither the terminal nor
/// the JSON raw; the JSON values are unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_strings_are_escaped_in_json_and_human_output() {
    const HIDDEN: [char; 6] = [
        '\u{9b}', '\u{7f}', '\u{202e}', '\u{2028}', '\u{200b}', '\u{61c}',
    ];
    let hostile = "prod\u{9b}31m\u{7f}\u{202e}gol\u{2028}\u{200b}\u{61c}x";
    let banner = es7_banner().replace("cli-cluster", hostile);
    let listing = serde_json::json!([{"health":"green","status":"open","index":hostile,"uuid":"u8FNjxh8Rfy_awN11oDKYQ","pri":"1","rep":"0","docs.count":"5","docs.deleted":"0","store.size":"900","pri.store.size":"900"}]);
    let routes = Routes::new()
        .at("/", Reply::json(&banner))
        .at("/_cat/indices", Reply::json(&listing.to_string()))
        .handler(move |target| {
            target.ends_with("/_mapping").then(|| {
                let mapping = serde_json::json!({hostile: {"mappings": {"properties": {"email": {"type": "keyword"}}}}});
                Reply::json(&mapping.to_string())
            })
        });
    let (es, _) = http_server(false, routes).await;
    let target = format!("127.0.0.1:{}", es.addr.port());
    for format in ["json", "jsonl"] {
        let out = Run::new(&["scan", "-f", format, &target]).output().await;
        let raw = stdout(&out);
        for c in HIDDEN {
            assert!(
                !raw.contains(c),
                "{format} output carries U+{:04X} raw",
                u32::from(c)
            );
        }
        let result: Value = if format == "jsonl" {
            serde_json::from_str(raw.lines().next().unwrap_or_default()).expect("a JSON line")
        } else {
            json(&out)["results"][0].clone()
        };
        // Probes clip and escape names as they read them; whatever reaches the JSON
        // writer is escaped again there, so no path lets the characters through.
        for value in [
            &result["details"]["cluster_name"],
            &result["inventory"]["items"][0]["name"],
        ] {
            let text = value.as_str().expect("a string");
            assert!(text.starts_with("prod"), "{text}");
            assert!(!text.contains(HIDDEN), "{text:?}");
        }
    }
    let out = Run::new(&["scan", "-v", &target]).output().await;
    let text = stdout(&out);
    assert!(text.contains("e.g. prod"), "the index is shown: {text}");
    for c in HIDDEN {
        assert!(
            !text.contains(c),
            "human output carries U+{:04X} raw",
            u32::from(c)
        );
    }
}
