//! The memcached probe against fake servers replaying documented bytes
//! (`tests/fixtures/memcached/SOURCES.md`): open on a real `stats` block, auth-required on
//! ASCII auth's `CLIENT_ERROR unauthenticated` and on a SASL server's binary auth error,
//! and nothing at all for look-alikes and hostile replies. Every fake records what it was
//! sent, so each test also checks that only `stats` (and, for binary-only servers,
//! `version` and `stat`) went out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::memcached;
use ajar::probe::trace::Trace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// memcached 1.6.18's `stats` with three items in 216 bytes (captured, SOURCES.md).
const STATS: &[u8] = include_bytes!("fixtures/memcached/stats-1.6.18.txt");
/// memcached 1.6.18 with `-Y` answering any command before login.
const UNAUTHENTICATED: &[u8] = include_bytes!("fixtures/memcached/unauthenticated-1.6.18.txt");
/// Binary `version` reply of a SASL server.
const BIN_VERSION: &[u8] = include_bytes!("fixtures/memcached/bin-version-1.6.18.bin");
/// Binary `stat` reply of a SASL server before login.
const BIN_AUTH_ERROR: &[u8] = include_bytes!("fixtures/memcached/bin-stat-auth-error.bin");

/// The text command lines a fake received, over all its connections.
type Log = Arc<Mutex<Vec<String>>>;

/// A text-protocol fake: `stats` gets `reply`, any other line memcached's `ERROR`.
async fn text_server(reply: Vec<u8>) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(false, move |conn: BoxConn| {
        let (reply, seen) = (reply.clone(), seen.clone());
        async move { text_session(conn, &reply, &seen).await }
    })
    .await;
    (server, log)
}

async fn text_session(mut conn: BoxConn, reply: &[u8], seen: &Log) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        while let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            let answer: &[u8] = if line == "stats" { reply } else { b"ERROR\r\n" };
            seen.lock().expect("log").push(line);
            if conn.write_all(answer).await.is_err() {
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

/// A binary-only (SASL) fake: hangs up on text, answers binary `version` and `stat`.
async fn sasl_server() -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(false, move |mut conn: BoxConn| {
        let seen = seen.clone();
        async move {
            let mut header = [0u8; 24];
            loop {
                if conn.read_exact(&mut header[..1]).await.is_err() || header[0] != 0x80 {
                    return;
                }
                if conn.read_exact(&mut header[1..]).await.is_err() {
                    return;
                }
                seen.lock()
                    .expect("log")
                    .push(format!("binary {:#04x}", header[1]));
                let reply = match header[1] {
                    0x0b => BIN_VERSION,
                    0x10 => BIN_AUTH_ERROR,
                    _ => return,
                };
                if conn.write_all(reply).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (server, log)
}

/// Runs the memcached probe alone on `server`, in plain text.
async fn probe_direct(server: &FakeServer) -> (ProbeOutcome, Trace) {
    probe_over(server, false).await
}

/// Runs the memcached probe alone on `server`, over TLS when `tls`.
async fn probe_over(server: &FakeServer, tls: bool) -> (ProbeOutcome, Trace) {
    let cx = support::context(Duration::from_secs(2));
    let mut trace = Trace::new(server.addr);
    trace.set_probe("memcached");
    let outcome = memcached::probe(&cx, &server.endpoint(), tls, &mut trace).await;
    (outcome, trace)
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().expect("log").clone()
}

#[tokio::test]
async fn open_stats_through_the_engine() {
    let (server, log) = text_server(STATS.to_vec()).await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "memcached");
    assert_eq!(finding.check, "memcached-open");
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.version.as_deref(), Some("1.6.18"));
    assert_eq!(
        finding.details,
        vec![("curr_connections".to_string(), "1".to_string())]
    );
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "cache");
    assert_eq!(inventory.items.len(), 1);
    assert_eq!(inventory.items[0].name, "items");
    assert_eq!(inventory.items[0].documents, Some(3));
    assert_eq!(inventory.items[0].size_bytes, Some(216));
    assert_eq!(inventory.total_documents, Some(3));
    assert_eq!(support::requests(&finding), vec!["stats"]);
    assert_eq!(
        finding.evidence[0].response,
        "STAT block: version 1.6.18, curr_items 3, bytes 216, curr_connections 1"
    );
    // Whatever other probes sent first, memcached got `stats` and nothing else that parses
    // as one of its commands: no get, set or metadump.
    let sent = lines(&log);
    assert!(sent.contains(&"stats".to_string()), "{sent:?}");
    assert!(
        sent.iter().all(|l| !l.starts_with("get")
            && !l.starts_with("set")
            && !l.starts_with("lru_crawler")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn empty_cache_is_open_but_medium() {
    let text = String::from_utf8(STATS.to_vec()).expect("text");
    let text = text
        .replace("STAT curr_items 3\r\n", "STAT curr_items 0\r\n")
        .replace("STAT bytes 216\r\n", "STAT bytes 0\r\n");
    assert_ne!(text.as_bytes(), STATS, "the fixture has the lines replaced");
    let (server, log) = text_server(text.into_bytes()).await;
    let (outcome, _) = probe_direct(&server).await;
    let ProbeOutcome::Found(finding) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.inventory.as_ref().and_then(|i| i.total_documents),
        Some(0)
    );
    assert_eq!(lines(&log), vec!["stats"]);
}

#[tokio::test]
async fn ascii_auth_is_auth_required() {
    let (server, log) = text_server(UNAUTHENTICATED.to_vec()).await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "memcached");
    assert_eq!(finding.check, "memcached-auth-required");
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.version, None);
    assert!(finding.inventory.is_none());
    assert_eq!(support::requests(&finding), vec!["stats"]);
    assert_eq!(
        finding.evidence[0].response,
        "CLIENT_ERROR unauthenticated (ASCII authentication, -Y)"
    );
    assert!(lines(&log).contains(&"stats".to_string()));
}

#[tokio::test]
async fn sasl_only_is_auth_required_with_version() {
    let (server, log) = sasl_server().await;
    let (outcome, trace) = probe_direct(&server).await;
    let ProbeOutcome::Found(finding) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.version.as_deref(), Some("1.6.18"));
    assert!(finding.inventory.is_none());
    let requests: Vec<&str> = trace.entries().iter().map(|e| e.request.as_str()).collect();
    assert_eq!(
        requests,
        vec![
            "stats",
            "binary version (0x80 0x0b)",
            "binary stat (0x80 0x10)"
        ]
    );
    assert_eq!(
        trace.entries()[2].response,
        "status 0x0020 auth error (SASL)"
    );
    assert_eq!(lines(&log), vec!["binary 0x0b", "binary 0x10"]);
}

/// Replies that are not memcached's `stats`: never a memcached finding.
#[tokio::test]
async fn lookalikes_are_not_memcached() {
    let cases: [&[u8]; 6] = [
        // A bare END: no version, no curr_items.
        b"END\r\n",
        // STAT lines without END (cut short).
        b"STAT pid 1\r\nSTAT version 1.6.18\r\nSTAT curr_items 3\r\n",
        // No version.
        b"STAT pid 1\r\nSTAT curr_items 3\r\nEND\r\n",
        // A non-numeric item count.
        b"STAT version 1.6.18\r\nSTAT curr_items lots\r\nEND\r\n",
        // A foreign line inside the block.
        b"STAT version 1.6.18\r\nSTAT curr_items 3\r\nhello\r\nEND\r\n",
        // Redis's answer to an unknown command.
        b"-ERR unknown command 'stats'\r\n",
    ];
    for reply in cases {
        let (server, _) = text_server(reply.to_vec()).await;
        let (outcome, _) = probe_direct(&server).await;
        assert!(
            matches!(
                outcome,
                ProbeOutcome::NotThis {
                    transport_confirmed: true,
                    speaks_protocol: false,
                    ..
                }
            ),
            "{:?}: {outcome:?}",
            String::from_utf8_lossy(reply)
        );
        // Through the whole engine too, for the two that look most like memcached (each
        // engine run waits out the other probes' timeouts).
        if !reply.starts_with(b"STAT version") {
            continue;
        }
        let outcome = support::probe(&server.endpoint()).await;
        assert!(
            !matches!(&outcome, Outcome::Found(f) if f.service == "memcached"),
            "{:?}: {outcome:?}",
            String::from_utf8_lossy(reply)
        );
    }
}

/// An endless stream of STAT lines is read up to the cap and judged not memcached.
#[tokio::test]
async fn endless_stats_are_bounded() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut line = [0u8; 7];
        if conn.read_exact(&mut line).await.is_err() {
            return;
        }
        let chunk = b"STAT version 1.6.18\r\n".repeat(200);
        for _ in 0..1000 {
            if conn.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    let started = std::time::Instant::now();
    let (outcome, trace) = probe_direct(&server).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded in time"
    );
    assert!(trace.entries()[0].response.starts_with("not a stats block"));
}

/// A server that accepts and says nothing is silent.
#[tokio::test]
async fn silence_is_silent() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut sink = [0u8; 64];
        while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let cx = support::context(Duration::from_millis(300));
    let mut trace = Trace::new(server.addr);
    let outcome = memcached::probe(&cx, &server.endpoint(), false, &mut trace).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
}

/// memcached with TLS (`-Z`): plain text is dropped, so the probe asks for TLS, and over
/// TLS the same `stats` block is open.
#[tokio::test]
async fn tls_port_wants_tls_then_is_open() {
    let server = serve(true, |conn: BoxConn| async move {
        text_session(conn, STATS, &Log::default()).await
    })
    .await;
    let (outcome, _) = probe_over(&server, false).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    let (outcome, _) = probe_over(&server, true).await;
    let ProbeOutcome::Found(finding) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(finding.exposure, Exposure::Open);
    assert!(finding.tls);
    assert_eq!(finding.version.as_deref(), Some("1.6.18"));
    // Through the engine, which retries over TLS by itself.
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "memcached");
    assert_eq!(finding.exposure, Exposure::Open);
    assert!(finding.tls);
}

/// A port that hangs up on text and on binary without a byte (as a TLS-only port may) gets
/// a TLS retry, never a memcached finding.
#[tokio::test]
async fn hang_up_on_both_wants_tls() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut first = [0u8; 1];
        let _ = conn.read_exact(&mut first).await;
    })
    .await;
    let (outcome, trace) = probe_direct(&server).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    let requests: Vec<&str> = trace.entries().iter().map(|e| e.request.as_str()).collect();
    assert_eq!(requests, vec!["stats", "binary version (0x80 0x0b)"]);
}
