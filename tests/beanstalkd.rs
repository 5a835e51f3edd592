//! The beanstalkd probe against a fake server replaying the bytes of Debian's beanstalkd
//! 1.12 (`tests/fixtures/beanstalkd/SOURCES.md`): open on a real `stats` answer, with tubes
//! from `list-tubes` and job counts from `stats-tube`; no finding for look-alikes, HTTP
//! and silent ports. The fake logs every command line it got, so each test also checks
//! that nothing but `stats`, `list-tubes` and `stats-tube` went out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::beanstalkd;
use ajar::probe::trace::Trace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The command lines a fake received, over all its connections.
type Log = Arc<Mutex<Vec<String>>>;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/beanstalkd/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The answers of the real server at setup: stats, two tubes, their stats.
fn real_answers() -> HashMap<String, Vec<u8>> {
    HashMap::from([
        ("stats".to_string(), fixture("stats-1.12.txt")),
        ("list-tubes".to_string(), fixture("list-tubes-1.12.txt")),
        (
            "stats-tube default".to_string(),
            fixture("stats-tube-default-1.12.txt"),
        ),
        (
            "stats-tube ajar_probe_tube".to_string(),
            fixture("stats-tube-ajar_probe_tube-1.12.txt"),
        ),
    ])
}

/// A fake answering each command line from `answers`, `stats-tube` of an unknown tube
/// with `NOT_FOUND` and anything else with `UNKNOWN_COMMAND`, as beanstalkd does.
async fn fake(answers: HashMap<String, Vec<u8>>) -> (FakeServer, Log) {
    let (server, log, _) = counting_fake(answers).await;
    (server, log)
}

/// [`fake`], also counting the connections it accepted.
async fn counting_fake(answers: HashMap<String, Vec<u8>>) -> (FakeServer, Log, Arc<AtomicUsize>) {
    let log: Log = Arc::default();
    let connections = Arc::new(AtomicUsize::new(0));
    let (seen, count) = (log.clone(), connections.clone());
    let answers = Arc::new(answers);
    let server = serve(false, move |conn: BoxConn| {
        count.fetch_add(1, Ordering::SeqCst);
        answer_lines(conn, answers.clone(), seen.clone())
    })
    .await;
    (server, log, connections)
}

/// Answers one connection's command lines as beanstalkd does.
async fn answer_lines(mut conn: BoxConn, answers: Arc<HashMap<String, Vec<u8>>>, seen: Log) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            let answer = match answers.get(&line) {
                Some(bytes) => bytes.clone(),
                None if line.starts_with("stats-tube ") => b"NOT_FOUND\r\n".to_vec(),
                None => fixture("unknown-command-1.12.txt"),
            };
            seen.lock().expect("log").push(line);
            if conn.write_all(&answer).await.is_err() {
                return;
            }
        }
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 16 {
            return;
        }
    }
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().expect("log").clone()
}

async fn direct(server: &FakeServer) -> (ProbeOutcome, Trace) {
    let cx = support::context(Duration::from_secs(2));
    let mut trace = Trace::new(server.addr);
    trace.set_probe("beanstalkd");
    let outcome = beanstalkd::probe(&cx, &server.endpoint(), false, &mut trace).await;
    (outcome, trace)
}

fn found(outcome: ProbeOutcome) -> ajar::finding::Finding {
    match outcome {
        ProbeOutcome::Found(f) => *f,
        other => panic!("expected a finding, got {other:?}"),
    }
}

/// A `OK <bytes>` reply around `body`.
fn ok(body: &str) -> Vec<u8> {
    format!("OK {}\r\n{body}\r\n", body.len()).into_bytes()
}

#[tokio::test]
async fn open_server_through_the_engine() {
    let (server, log) = fake(real_answers()).await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "beanstalkd");
    assert_eq!(finding.check, "beanstalkd-open");
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.version.as_deref(), Some("1.12"));
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "tube");
    let tubes: Vec<(&str, Option<u64>)> = inventory
        .items
        .iter()
        .map(|i| (i.name.as_str(), i.documents))
        .collect();
    assert_eq!(
        tubes,
        vec![("ajar_probe_tube", Some(1)), ("default", Some(0))]
    );
    assert_eq!(
        (
            inventory.total_items,
            inventory.total_documents,
            inventory.truncated
        ),
        (2, Some(1), false)
    );
    assert_eq!(
        support::requests(&finding),
        vec!["stats", "list-tubes", "stats-tube NAME (x2)"]
    );
    assert_eq!(
        finding.evidence[0].response,
        "OK: version 1.12, current-jobs-ready 1, total-jobs 1, current-tubes 2, current-connections 1"
    );
    assert_eq!(
        finding.evidence[2].response,
        "default: 0 jobs; ajar_probe_tube: 1 jobs"
    );
    assert_eq!(
        finding.summary,
        "beanstalkd answers stats without credentials (it has none): 1 jobs queued, readable by any client"
    );
    // Whatever other probes sent first, beanstalkd got these and no command that reads or
    // changes a job.
    let sent = lines(&log);
    for want in [
        "stats",
        "list-tubes",
        "stats-tube default",
        "stats-tube ajar_probe_tube",
    ] {
        assert!(sent.contains(&want.to_string()), "{want}: {sent:?}");
    }
    let forbidden = [
        "peek", "reserve", "put", "use", "watch", "kick", "delete", "bury",
    ];
    let command = |l: &String| l.split(' ').next().unwrap_or_default().to_string();
    assert!(
        sent.iter().map(command).all(|c| !forbidden
            .iter()
            .any(|f| c == *f || c.starts_with(&format!("{f}-")))),
        "{sent:?}"
    );
}

#[tokio::test]
async fn empty_queue_is_open_but_medium() {
    let mut answers = real_answers();
    answers.insert("list-tubes".into(), ok("---\n- default\n"));
    let (server, log) = fake(answers).await;
    let finding = found(direct(&server).await.0);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::Medium);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.total_documents, Some(0));
    assert_eq!(
        lines(&log),
        vec!["stats", "list-tubes", "stats-tube default"]
    );
}

/// `list-tubes` refused (a proxy that passes `stats` only): still open, the server-wide
/// ready count (1) keeps it high, no inventory.
#[tokio::test]
async fn without_a_tube_list_is_open_without_inventory() {
    let mut answers = real_answers();
    answers.remove("list-tubes");
    let (server, _) = fake(answers).await;
    let (outcome, trace) = direct(&server).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    assert!(finding.inventory.is_none());
    assert_eq!(trace.entries()[1].response, "no well-formed tube list");
}

/// Tube names that are not beanstalkd names are never sent back; the cap holds.
#[tokio::test]
async fn tube_names_are_checked_and_capped() {
    let mut list = String::from("---\n- bad\rname put 0 0 1 1\n- -dash\n");
    for i in 0..150 {
        list.push_str(&format!("- t{i}\n"));
    }
    let mut answers = real_answers();
    answers.insert("list-tubes".into(), ok(&list));
    let (server, log) = fake(answers).await;
    let finding = found(direct(&server).await.0);
    let inventory = finding.inventory.as_ref().expect("inventory");
    // Every tube went away (NOT_FOUND): none listed, but the count and the cut are kept.
    assert!(inventory.items.is_empty());
    assert_eq!((inventory.total_items, inventory.truncated), (152, true));
    let sent = lines(&log);
    let asked: Vec<&String> = sent
        .iter()
        .filter(|l| l.starts_with("stats-tube"))
        .collect();
    assert_eq!(asked.len(), beanstalkd::MAX_TUBES);
    assert_eq!(asked[0], "stats-tube t0");
    assert!(
        sent.iter()
            .all(|l| !l.contains("put") && !l.contains("-dash"))
    );
}

/// Answers to `stats` that are not beanstalkd's: never a finding.
#[tokio::test]
async fn lookalikes_are_not_beanstalkd() {
    let cases: Vec<Vec<u8>> = vec![
        // A proxy or another text protocol refusing the command.
        fixture("unknown-command-1.12.txt"),
        // OK with a body that is not a YAML dictionary.
        ok("hello"),
        // A dictionary without version.
        ok("---\ncurrent-jobs-ready: 1\ntotal-jobs: 1\n"),
        // A non-numeric count.
        ok("---\nversion: \"1.12\"\ncurrent-jobs-ready: many\ntotal-jobs: 1\n"),
        // A length that does not match the body.
        b"OK 5\r\n---\nversion: 1.12\ncurrent-jobs-ready: 1\ntotal-jobs: 1\n\r\n".to_vec(),
        // memcached's stats block.
        b"STAT pid 1\r\nSTAT version 1.6.18\r\nEND\r\n".to_vec(),
        // Redis's error.
        b"-ERR unknown command 'stats'\r\n".to_vec(),
    ];
    for reply in cases {
        let answers = HashMap::from([("stats".to_string(), reply.clone())]);
        let (server, _) = fake(answers).await;
        let (outcome, _) = direct(&server).await;
        assert!(
            matches!(
                outcome,
                ProbeOutcome::NotThis {
                    speaks_protocol: false,
                    ..
                }
            ),
            "{:?}: {outcome:?}",
            String::from_utf8_lossy(&reply)
        );
    }
}

/// An `OK` announcing more than the cap is refused before any body is read.
#[tokio::test]
async fn huge_length_is_refused() {
    let answers = HashMap::from([("stats".to_string(), b"OK 99999999999\r\n".to_vec())]);
    let (server, _) = fake(answers).await;
    let (outcome, trace) = direct(&server).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        trace.entries()[0].response,
        "OK 99999999999: over the 65536-byte cap"
    );
}

#[tokio::test]
async fn silent_port_is_silent() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut sink = [0u8; 64];
        while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let cx = support::context(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let outcome = beanstalkd::probe(&cx, &server.endpoint(), false, &mut Trace::new("t")).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// An HTTP server through the engine is never beanstalkd, and beanstalkd's answer to an
/// HTTP request line is recognised for the registry.
#[tokio::test]
async fn http_server_is_not_beanstalkd() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let (outcome, _) = direct(&server).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
    let outcome = support::probe(&server.endpoint()).await;
    assert!(
        !matches!(&outcome, Outcome::Found(f) if f.service == "beanstalkd"),
        "{outcome:?}"
    );
    let answers = beanstalkd::PROBE.answers.expect("answers");
    assert!(answers(&fixture("unknown-command-1.12.txt")));
    assert!(!answers(b"-ERR unknown command\r\n"));
}

/// On a port that is not beanstalkd's, the HTTP probe's `GET /` draws `UNKNOWN_COMMAND`
/// lines: that answer hands beanstalkd the next turn, with no TLS attempt, no wait for a
/// greeting and no other protocol's probe. Four connections: the greeting listener, the
/// HTTP request, one raw request that reads the answer, and beanstalkd's own.
#[tokio::test]
async fn an_answer_to_http_in_beanstalkd_routes_straight_to_it() {
    let (server, log, connections) = counting_fake(real_answers()).await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.check, "beanstalkd-open");
    assert_eq!(connections.load(Ordering::SeqCst), 4, "{:?}", lines(&log));
    assert_eq!(
        lines(&log)
            .iter()
            .filter(|l| l.starts_with("GET / HTTP/1.1"))
            .count(),
        2,
        "{:?}",
        lines(&log)
    );
}
