//! Redis probe tests: a fake server on loopback that parses each RESP command it gets and
//! answers with the bytes of `tests/fixtures/redis/` (captured from Debian's redis-server
//! 7.0.15, or reconstructed from its binary's strings; see SOURCES.md). Each fake logs the
//! commands it received, so every test also checks that only PING and INFO were sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::redis;
use ajar::probe::trace::Trace;
use ajar::targets::{Endpoint, Protocol, TargetSpec, Transport, parse_target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The commands a fake received, upper-cased, in order.
type Log = Arc<Mutex<Vec<String>>>;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/redis/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What the fake answers to one command: fixture bytes, raw bytes, or a hang-up.
#[derive(Clone)]
enum Answer {
    Bytes(Vec<u8>),
    Close,
}

/// Reads one RESP array command from `conn` (what ajar sends); `None` at end of stream.
async fn read_command(conn: &mut BoxConn, buf: &mut Vec<u8>) -> Option<Vec<String>> {
    loop {
        if let Some(command) = parse_command(buf) {
            return Some(command);
        }
        let mut chunk = [0u8; 1024];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 65_536 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One complete `*N\r\n$len\r\narg\r\n...` at the head of `buf`, taken out of it.
fn parse_command(buf: &mut Vec<u8>) -> Option<Vec<String>> {
    let text = String::from_utf8_lossy(buf).into_owned();
    let mut lines = text.split("\r\n");
    let count: usize = lines.next()?.strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::new();
    let mut used = text.find("\r\n")? + 2;
    for _ in 0..count {
        let len_line = lines.next()?;
        let arg = lines.next()?;
        if arg.len() < len_line.strip_prefix('$')?.parse().ok()? || !text[used..].contains("\r\n") {
            return None;
        }
        used += len_line.len() + 2 + arg.len() + 2;
        if used > text.len() {
            return None;
        }
        args.push(arg.to_ascii_uppercase());
    }
    buf.drain(..used);
    Some(args)
}

/// A fake that answers PING and INFO as given and any other command with Redis's
/// unknown-command error; every command is logged.
async fn fake(tls: bool, ping: Answer, info: Answer) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(tls, move |mut conn| {
        let (ping, info, seen) = (ping.clone(), info.clone(), seen.clone());
        async move {
            let mut buf = Vec::new();
            while let Some(args) = read_command(&mut conn, &mut buf).await {
                let name = args.first().cloned().unwrap_or_default();
                seen.lock().expect("log").push(args.join(" "));
                let answer = match name.as_str() {
                    "PING" => ping.clone(),
                    "INFO" => info.clone(),
                    _ => Answer::Bytes(b"-ERR unknown command\r\n".to_vec()),
                };
                match answer {
                    Answer::Bytes(bytes) => {
                        if conn.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Answer::Close => return,
                }
            }
        }
    })
    .await;
    (server, log)
}

fn commands(log: &Log) -> Vec<String> {
    log.lock().expect("log").clone()
}

fn context() -> ajar::probe::ProbeContext {
    support::context(Duration::from_millis(800))
}

/// Runs the whole engine on the fake as a `redis://` target would (the Redis probe only).
async fn scan(server: &FakeServer) -> Finding {
    let endpoint = Endpoint {
        protocol: Protocol::Only("redis"),
        ..server.endpoint()
    };
    support::found(support::probe(&endpoint).await)
}

/// (request, response) pairs of a finding's evidence.
fn evidence(finding: &Finding) -> Vec<(String, String)> {
    finding
        .evidence
        .iter()
        .map(|e| (format!("{} {}", e.probe, e.request), e.response.clone()))
        .collect()
}

fn bytes(name: &str) -> Answer {
    Answer::Bytes(fixture(name))
}

#[tokio::test]
async fn open_redis_7_lists_databases_with_key_counts_only() {
    let (server, log) = fake(false, bytes("ping-open.resp"), bytes("info-open.resp")).await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.service.as_str(), finding.check.as_str()),
        ("redis", "redis-open")
    );
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(finding.version.as_deref(), Some("7.0.15"));
    assert_eq!(finding.product.as_deref(), Some("Redis"));
    let inventory = finding.inventory.as_ref().expect("inventory");
    let rows: Vec<(&str, Option<u64>)> = inventory
        .items
        .iter()
        .map(|d| (d.name.as_str(), d.documents))
        .collect();
    assert_eq!(rows, [("db0", Some(2)), ("db3", Some(1))]);
    assert_eq!(
        (
            inventory.unit.as_str(),
            inventory.total_items,
            inventory.total_documents
        ),
        ("database", 2, Some(3))
    );
    assert_eq!(
        finding.details,
        [
            ("redis_mode".to_string(), "standalone".to_string()),
            ("role".to_string(), "master".to_string())
        ]
    );
    assert_eq!(
        evidence(&finding),
        [
            ("redis PING".to_string(), "+PONG".to_string()),
            (
                "redis INFO".to_string(),
                "bulk string of 5001 bytes: redis_version 7.0.15, redis_mode standalone, role master, keyspace db0 keys=2 expires=0; db3 keys=1 expires=0".to_string()
            )
        ]
    );
    assert_eq!(commands(&log), ["PING", "INFO"]);
    assert!(
        finding
            .remediation
            .as_deref()
            .is_some_and(|r| r.contains("requirepass"))
    );
}

#[tokio::test]
async fn requirepass_noauth_is_auth_required_after_ping_alone() {
    let (server, log) = fake(false, bytes("ping-noauth.resp"), bytes("info-noauth.resp")).await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity, finding.check.as_str()),
        (
            Exposure::AuthRequired,
            Severity::Info,
            "redis-auth-required"
        )
    );
    assert_eq!(finding.inventory, None);
    assert_eq!(finding.version, None);
    assert_eq!(
        evidence(&finding),
        [(
            "redis PING".to_string(),
            "-NOAUTH Authentication required.".to_string()
        )]
    );
    assert_eq!(commands(&log), ["PING"]);
}

#[tokio::test]
async fn old_operation_not_permitted_is_auth_required() {
    let (server, _) = fake(false, bytes("ping-not-permitted.resp"), Answer::Close).await;
    let finding = scan(&server).await;
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert!(
        finding.summary.contains("-ERR operation not permitted"),
        "{}",
        finding.summary
    );
}

/// A server that does what Redis's protected mode does on accept: writes `-DENIED ...`
/// before any command and hangs up (networking.c, clientAcceptHandler).
async fn denying() -> FakeServer {
    serve(false, |mut conn: BoxConn| async move {
        let _ = conn.write_all(&fixture("greeting-denied.resp")).await;
        let _ = conn.shutdown().await;
    })
    .await
}

/// Protected mode refuses every non-loopback client: never open, reported undetermined
/// (no password stops anyone; the guard does), whether the engine hears the greeting or
/// the probe reads it after its PING.
#[tokio::test]
async fn protected_mode_denied_is_never_open() {
    let server = denying().await;
    for endpoint in [
        server.endpoint(),
        Endpoint {
            protocol: Protocol::Only("redis"),
            ..server.endpoint()
        },
    ] {
        let finding = support::found(support::probe(&endpoint).await);
        assert_eq!(
            (finding.exposure, finding.severity, finding.check.as_str()),
            (Exposure::Undetermined, Severity::Low, "redis-undetermined")
        );
        assert!(
            finding.summary.contains("protected mode"),
            "{}",
            finding.summary
        );
        assert!(finding.inventory.is_none());
        assert!(
            finding.evidence.iter().any(|e| e.request == "PING"
                && e.response
                    .starts_with("-DENIED Redis is running in protected mode")),
            "{:#?}",
            finding.evidence
        );
    }
    let outcome = redis::probe(&context(), &server.endpoint(), false, &mut Trace::new("t")).await;
    let ProbeOutcome::Found(finding) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(finding.exposure, Exposure::Undetermined);
}

#[tokio::test]
async fn sentinel_is_its_own_service_without_keys() {
    let (server, log) = fake(
        false,
        bytes("ping-sentinel.resp"),
        bytes("info-sentinel.resp"),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.service.as_str(), finding.check.as_str()),
        ("redis-sentinel", "redis-sentinel-open")
    );
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::Medium)
    );
    assert_eq!(finding.inventory, None);
    assert_eq!(
        finding.summary,
        "Redis Sentinel 7.0.15 answers INFO without credentials: monitored masters 1"
    );
    assert_eq!(commands(&log), ["PING", "INFO"]);
}

/// A PONG is not proof: an INFO that is not Redis's format leaves the verdict open, and a
/// claimed 1 GB bulk string is refused before anything is allocated.
#[tokio::test]
async fn pong_with_odd_info_is_undetermined() {
    for info in [
        b"$20\r\n<html>not info</html>\r\n".to_vec(),
        b"$1000000000\r\n".to_vec(),
        b"+OK\r\n".to_vec(),
        b"$32\r\n# Server\r\nredis_version:7.0.15\r\n\r\n".to_vec(),
    ] {
        let (server, _) = fake(false, bytes("ping-open.resp"), Answer::Bytes(info.clone())).await;
        let finding = scan(&server).await;
        assert_eq!(
            (finding.exposure, finding.severity),
            (Exposure::Undetermined, Severity::Low),
            "{}: {finding:#?}",
            String::from_utf8_lossy(&info)
        );
        assert!(finding.inventory.is_none());
    }
}

#[tokio::test]
async fn an_http_server_is_not_redis() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 256];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let outcome = redis::probe(&context(), &server.endpoint(), false, &mut Trace::new("t")).await;
    match outcome {
        ProbeOutcome::NotThis { note, hint, .. } => {
            assert!(note.starts_with("not Redis: not a RESP reply"), "{note}");
            assert_eq!(hint, Some("http"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_silent_port_is_silent_and_a_hang_up_asks_for_tls() {
    let silent = serve(false, |conn: BoxConn| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(conn);
    })
    .await;
    let outcome = redis::probe(&context(), &silent.endpoint(), false, &mut Trace::new("t")).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    let (closing, _) = fake(false, Answer::Close, Answer::Close).await;
    let outcome = redis::probe(&context(), &closing.endpoint(), false, &mut Trace::new("t")).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
}

/// `rediss://` pins the Redis probe over TLS; the TLS fake answers as the open server.
#[tokio::test]
async fn rediss_scheme_scans_over_tls() {
    let (server, log) = fake(true, bytes("ping-open.resp"), bytes("info-open.resp")).await;
    let specs = parse_target(&format!("rediss://127.0.0.1:{}", server.addr.port())).expect("parse");
    let [TargetSpec::Endpoint(endpoint)] = specs.as_slice() else {
        panic!("{specs:?}");
    };
    assert_eq!(
        (endpoint.protocol, endpoint.transport),
        (Protocol::Only("redis"), Transport::Tls)
    );
    let outcome = ajar::scan::probe_endpoint(&context(), endpoint).await;
    let Outcome::Found(finding) = outcome else {
        panic!("{outcome:?}");
    };
    assert!(finding.tls);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.evidence[0].probe, "rediss");
    assert_eq!(commands(&log), ["PING", "INFO"]);
    let plain = parse_target("redis://:secret@127.0.0.1/0").expect("parse");
    let [TargetSpec::Endpoint(plain)] = plain.as_slice() else {
        panic!("{plain:?}");
    };
    assert_eq!((plain.port, plain.transport), (6379, Transport::Plain));
}

/// Redis on a port no probe owns, closing on the HTTP probe's `GET` as Redis does (it
/// treats `Host:` as a cross-protocol attack and hangs up). Before: the hang-up sent the
/// HTTP probe to a TLS retry that stalled for the whole timeout, then MongoDB waited for
/// its own, and only then did Redis get a turn. Now the TLS retry and every other probe
/// run at once, so Redis is found long before one timeout (30 s here) could end.
#[tokio::test]
async fn redis_that_hangs_up_on_http_is_found_without_waiting_out_a_timeout() {
    let info = fixture("info-open.resp");
    let ping = fixture("ping-open.resp");
    let server = serve(false, move |mut conn| {
        let (ping, info) = (ping.clone(), info.clone());
        async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            let Ok(n) = conn.read(&mut chunk).await else {
                return;
            };
            if chunk[..n].starts_with(b"GET ") || chunk[0] == 0x16 {
                return; // HTTP or a TLS ClientHello: hang up / say nothing.
            }
            buf.extend_from_slice(&chunk[..n]);
            while let Some(args) = read_command(&mut conn, &mut buf).await {
                let answer = match args.first().map(String::as_str) {
                    Some("PING") => ping.clone(),
                    Some("INFO") => info.clone(),
                    _ => b"-ERR unknown command\r\n".to_vec(),
                };
                if conn.write_all(&answer).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    let cx = support::context(Duration::from_secs(30));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let detection = ajar::scan::detect(&cx, &server.endpoint(), deadline).await;
    let ajar::finding::Outcome::Found(finding) = detection.outcome else {
        panic!("expected Redis, got {:?}", detection.outcome);
    };
    assert_eq!(finding.check, "redis-open");
    assert_eq!(finding.evidence[0].request, "PING");
}
