//! The `ajar` binary as a user and a CI job see it: exit codes, stdout carrying only the
//! report, target errors naming their line, and the JSON, JSONL and human formats.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::http_fake::{Reply, Routes, http_server};

/// ES 7.2.0 banner, from /work/shared/protocols.md ES-05 (real capture,
/// gist sanudatta11/30e81f66e2aab57cee2453259a552a81), with the cluster name changed so the
/// test can tell it came through.
pub(crate) fn es7_banner() -> String {
    include_str!("fixtures/elastic/es-05-7.2.0-root.json").replace(
        "\"cluster_name\" : \"elasticsearch\"",
        "\"cluster_name\" : \"cli-cluster\"",
    )
}

/// `_cat/indices?format=json&bytes=b` shape from protocols.md ES-21 (docs/reference/cat/indices.asciidoc).
pub(crate) const ES7_INDICES: &str = r#"[{"health":"yellow","status":"open","index":"customers","uuid":"u8FNjxh8Rfy_awN11oDKYQ","pri":"1","rep":"1","docs.count":"1200","docs.deleted":"0","store.size":"90000","pri.store.size":"90000"},{"health":"green","status":"open","index":".kibana_1","uuid":"nYFWZEO7TUiOjLQXBaYJpA","pri":"1","rep":"0","docs.count":"3","docs.deleted":"0","store.size":"214","pri.store.size":"214"}]"#;

pub(crate) const ES7_MAPPING: &str = r#"{"customers":{"mappings":{"properties":{"contact":{"properties":{"email":{"type":"keyword"}}},"signup":{"type":"date"}}}}}"#;

pub(crate) async fn open_es() -> crate::support::FakeServer {
    open_es_with_hits().await.0
}

/// [`open_es`] and the request lines it served, for tests that wait on its last request
/// (`GET /customers/_mapping`).
pub(crate) async fn open_es_with_hits()
-> (crate::support::FakeServer, crate::support::http_fake::Hits) {
    let routes = Routes::new()
        .at("/", Reply::json(&es7_banner()))
        .at("/_cat/indices", Reply::json(ES7_INDICES))
        .at("/customers/_mapping", Reply::json(ES7_MAPPING));
    http_server(false, routes).await
}

/// Runs the binary off the async runtime, so fake servers keep serving meanwhile.
async fn ajar(args: Vec<String>, stdin: &'static str) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ajar"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ajar");
        if let Some(mut input) = child.stdin.take() {
            use std::io::Write;
            input.write_all(stdin.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("ajar output")
    })
    .await
    .expect("join")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A port on 127.0.0.1 that refuses connections.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_target_line_is_a_usage_error_and_nothing_is_scanned() {
    let dir = std::env::temp_dir().join(format!("ajar-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("targets.txt");
    std::fs::write(&file, "# estate\n127.0.0.1:9200\n\n127.0.0.1:99999\n").expect("write");
    let out = ajar(
        args(&["scan", "-q", "-i", file.to_str().expect("utf-8")]),
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no report for a rejected target list"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "targets.txt:4: \"127.0.0.1:99999\": port \"99999\" must be a number from 1 to 65535"
        ),
        "{stderr}"
    );
    let out = ajar(args(&["scan", "10.0.0.0/8", "-q"]), "").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than --max-hosts 65536"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_report_counts_closed_endpoints_and_exits_zero() {
    let port = closed_port();
    let out = ajar(
        args(&["scan", &format!("127.0.0.1:{port}"), "--format", "json"]),
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(report["tool"]["name"], "ajar");
    assert_eq!(report["targets"], 1);
    assert_eq!(report["endpoints"]["total"], 1);
    assert_eq!(report["endpoints"]["closed"], 1);
    assert_eq!(report["results"], Value::Array(vec![]));
    assert_eq!(report["interrupted"], false);
    assert!(
        report["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_streams_findings_and_fail_on_gates_ci() {
    let es = open_es().await;
    let port = closed_port();
    let targets = format!("127.0.0.1:{}\n127.0.0.1:{port}\n", es.addr.port());
    let input: &'static str = Box::leak(targets.into_boxed_str());
    let out = ajar(
        args(&[
            "scan",
            "-i",
            "-",
            "--format",
            "jsonl",
            "--fail-on",
            "critical",
            "-q",
        ]),
        input,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a critical finding trips --fail-on critical"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let result = &lines[0];
    assert_eq!(result["type"], "result");
    assert_eq!(result["endpoint"], format!("127.0.0.1:{}", es.addr.port()));
    assert_eq!(result["service"], "elasticsearch");
    assert_eq!(result["version"], "7.2.0");
    assert_eq!(result["exposure"], "open");
    assert_eq!(result["severity"], "critical");
    assert_eq!(result["details"]["cluster_name"], "cli-cluster");
    assert_eq!(result["inventory"]["total_documents"], 1203);
    assert_eq!(
        result["inventory"]["items"][0]["pii_fields"][0]["field"],
        "contact.email"
    );
    let summary = &lines[1];
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["endpoints"]["open"], 1);
    assert_eq!(summary["endpoints"]["closed"], 1);
    assert!(summary.get("results").is_none());

    let out = ajar(
        args(&[
            "scan",
            &format!("127.0.0.1:{}", es.addr.port()),
            "--fail-on",
            "critical",
            "-q",
            "-f",
            "json",
        ]),
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let out = ajar(
        args(&[
            "scan",
            &format!("127.0.0.1:{port}"),
            "--fail-on",
            "info",
            "-q",
        ]),
        "",
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing found, nothing to fail on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_output_has_table_and_summary_and_output_file() {
    let es = open_es().await;
    let port = closed_port();
    let target_es = format!("127.0.0.1:{}", es.addr.port());
    let target_closed = format!("127.0.0.1:{port}");
    let out = ajar(args(&["scan", &target_es, &target_closed]), "").await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("SEVERITY  EXPOSURE  ENDPOINT"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("critical  open      127.0.0.1:"),
        "{stdout}"
    );
    assert!(lines[1].contains("elasticsearch  7.2.0"), "{stdout}");
    assert!(
        lines[1].contains("2 indices (1 user), 1,203 documents, 90.2 kB; personal data: email")
    );
    let summary = lines.last().copied().unwrap_or_default();
    assert!(
        summary.starts_with(
            "1 open (1,203 documents, 90.2 kB), 0 auth-required; by severity: 1 critical; 2 endpoints: 1 closed; "
        ) && summary.ends_with(" s"),
        "{summary}"
    );
    assert!(
        out.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );

    let file = std::env::temp_dir().join(format!("ajar-cli-out-{}.json", std::process::id()));
    let out = ajar(
        args(&[
            "scan",
            &target_es,
            "-f",
            "json",
            "-o",
            file.to_str().expect("utf-8"),
        ]),
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "the report went to the file");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("report file")).expect("JSON");
    assert_eq!(report["results"][0]["service"], "elasticsearch");
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_lists_services_and_help_teaches_by_example() {
    let out = ajar(args(&["probes"]), "").await;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("mongodb") && l.contains("27017,27018,27019"))
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("elasticsearch") && l.contains("9200"))
    );
    let out = ajar(args(&["scan", "--help"]), "").await;
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("--fail-on high"));
    for line in [
        "0    the scan finished, covered every target, and nothing reached --fail-on",
        "1    --fail-on (with --fail-on-new: a new one) matched a finding that is not accepted",
        "2    usage, config or input error, or a target outside --scope: nothing was sent",
        "3    the scan is incomplete: a name did not resolve, an endpoint could not be probed,",
        "4    the report could not be written",
        "130  interrupted by Ctrl-C (SIGINT); 143 stopped by SIGTERM",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}: {help}");
    }
    assert!(
        help.contains("--ca-file <FILE>") && help.contains("[env: AJAR_CA_FILE"),
        "{help}"
    );
    assert!(
        help.contains("-v, --verbose") && help.contains("--debug"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_writes_what_was_found_and_exits_130() {
    let (es, hits) = open_es_with_hits().await;
    // Accepts connections (the kernel completes the handshake) but never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let targets = vec![
        "scan".to_string(),
        format!("127.0.0.1:{}", es.addr.port()),
        format!("127.0.0.1:{}", silent.local_addr().expect("addr").port()),
        "--timeout".into(),
        "60s".into(),
        "--format".into(),
        "json".into(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let child = Command::new(env!("CARGO_BIN_EXE_ajar"))
            .args(&targets)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ajar");
        // The open endpoint answers within milliseconds; the silent one holds the scan.
        // Wait for its last request (a loaded machine starts the binary late), then a
        // moment for its finding.
        for _ in 0..3000 {
            let served = hits
                .lock()
                .expect("hits")
                .iter()
                .any(|l| l.starts_with("GET /customers/_mapping"));
            if served {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(1000));
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        child.wait_with_output().expect("ajar output")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(130));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON report");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["endpoints"]["total"], 2);
    assert_eq!(report["endpoints"]["scanned"], 1);
    assert_eq!(report["results"][0]["service"], "elasticsearch");
    assert_eq!(report["results"][0]["exposure"], "open");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_tls_refuses_a_self_signed_certificate() {
    // HTTPS Elasticsearch with the self-signed test certificate.
    let routes = Routes::new()
        .at("/", Reply::json(&es7_banner()))
        .at("/_cat/indices", Reply::json(ES7_INDICES));
    let (server, _) = http_server(true, routes).await;
    let target = format!("https://127.0.0.1:{}/", server.addr.port());

    let out = ajar(args(&["scan", &target, "-f", "json"]), "").await;
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["results"][0]["exposure"], "open",
        "unverified by default"
    );
    assert_eq!(report["results"][0]["tls"], true);

    // Under --verify-tls the certificate failure is an error of the endpoint, not an
    // unknown service, and a run that could scan nothing is not a clean result (exit 3).
    let out = ajar(args(&["scan", &target, "-f", "json", "--verify-tls"]), "").await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["results"], Value::Array(vec![]));
    assert_eq!(report["endpoints"]["unidentified"], 0);
    assert_eq!(report["endpoints"]["failed"], 1);
    let note = report["errors"][0]["note"].as_str().expect("note");
    assert!(
        note.starts_with("TLS certificate not trusted (--verify-tls): "),
        "{note}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("nothing could be scanned (1 endpoint failed)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ajar probes` lists every native data store with its default ports and URI schemes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_lists_every_native_store_with_ports_and_schemes() {
    let out = ajar(args(&["probes"]), "").await;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..3], ["PROBE", "PORTS", "SCHEMES"]);
    for (id, ports, schemes) in [
        ("mongodb", "27017,27018,27019", "mongodb://"),
        ("redis", "6379,6380", "redis://,rediss://"),
        ("redis-sentinel", "26379", "redis://,rediss://"),
        ("memcached", "11211", "memcached://"),
        ("mysql", "3306", "mysql://,mariadb://"),
        ("postgresql", "5432", "postgres://,postgresql://"),
        ("clickhouse", "9000,9440", "clickhouse://"),
        ("cassandra", "9042,9142", "-"),
        ("scylladb", "9042,9142", "-"),
        ("zookeeper", "2181,2281", "-"),
        ("nats", "4222", "nats://,tls://"),
        ("mqtt", "1883,8883", "mqtt://,mqtts://"),
        ("amqp", "5672,5671", "amqp://,amqps://"),
        ("beanstalkd", "11300", "-"),
        ("tarantool", "3301", "-"),
        ("ldap", "389,636", "ldap://,ldaps://"),
        ("rsync", "873", "rsync://"),
        ("elasticsearch", "9200", "http://,https://"),
    ] {
        let row = rows
            .iter()
            .find(|r| r.first() == Some(&id))
            .unwrap_or_else(|| panic!("{id} is not listed: {text}"));
        assert_eq!(row[1..3], [ports, schemes], "{id}: {text}");
        assert!(
            row.iter().any(|c| c.starts_with(&format!("{id}-open"))),
            "{id}'s check ids: {text}"
        );
    }
}
