//! The NATS probe against fake servers replaying the bytes of nats-server 2.9.10
//! (`tests/fixtures/nats/SOURCES.md`): open on PONG, auth-required on INFO's
//! `auth_required` (nothing sent) and on `-ERR 'Authorization Violation'`, the TLS upgrade
//! INFO's `tls_required` asks for, JetStream stream names, and no finding for look-alikes,
//! HTTP and silent ports. Every fake logs the lines it received, so each test also checks
//! what went out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::nats;
use ajar::probe::trace::Trace;
use ajar::targets::{Protocol, TargetSpec, Transport, parse_target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The control lines a fake received, in order, over all its connections.
type Log = Arc<Mutex<Vec<String>>>;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/nats/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// How a fake behaves after its INFO.
#[derive(Clone)]
struct Fake {
    /// The INFO line, sent on accept.
    info: Vec<u8>,
    /// The answer to PING (after CONNECT).
    ping: Vec<u8>,
    /// Whether to upgrade to TLS right after INFO (as `tls_required` says).
    upgrade: bool,
    /// The JetStream API's reply payload to `$JS.API.STREAM.NAMES`, if it answers.
    names: Option<Vec<u8>>,
}

impl Fake {
    fn new(info: &str, ping: &[u8]) -> Fake {
        Fake {
            info: fixture(info),
            ping: ping.to_vec(),
            upgrade: false,
            names: None,
        }
    }
}

async fn fake(config: Fake) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(false, move |conn: BoxConn| {
        let (config, seen) = (config.clone(), seen.clone());
        async move { session(conn, &config, &seen).await }
    })
    .await;
    (server, log)
}

async fn session(mut conn: BoxConn, config: &Fake, seen: &Log) {
    if conn.write_all(&config.info).await.is_err() {
        return;
    }
    if config.upgrade {
        let Ok(tls) = support::tls_acceptor().accept(conn).await else {
            return;
        };
        conn = Box::new(tls);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        while let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            let words: Vec<&str> = line.split(' ').collect();
            let answer = match words.as_slice() {
                ["PING"] => config.ping.clone(),
                ["PUB", "$JS.API.STREAM.NAMES", reply, "0"] => match &config.names {
                    Some(payload) => {
                        let mut msg = format!("MSG {reply} 1 {}\r\n", payload.len()).into_bytes();
                        msg.extend_from_slice(payload);
                        msg.extend_from_slice(b"\r\n");
                        msg
                    }
                    None => Vec::new(),
                },
                [op, ..] if op.starts_with("CONNECT") || *op == "SUB" || *op == "UNSUB" => {
                    Vec::new()
                }
                // Empty payload line of the PUB, or anything else.
                [""] => Vec::new(),
                _ => b"-ERR 'Unknown Protocol Operation'\r\n".to_vec(),
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

async fn direct(server: &FakeServer, tls: bool) -> (ProbeOutcome, Trace) {
    let cx = support::context(Duration::from_secs(2));
    let mut trace = Trace::new(server.addr);
    trace.set_probe("nats");
    let outcome = nats::probe(&cx, &server.endpoint(), tls, &mut trace).await;
    (outcome, trace)
}

fn found(outcome: ProbeOutcome) -> ajar::finding::Finding {
    match outcome {
        ProbeOutcome::Found(f) => *f,
        other => panic!("expected a finding, got {other:?}"),
    }
}

const CONNECT: &str = r#"CONNECT {"verbose":false,"pedantic":false,"name":"ajar"}"#;
const INFO_OPEN: &str = "INFO: nats-server 2.9.10 (go1.19.8), auth_required false, tls_required false, tls_verify false, jetstream false, max_payload 1048576";

#[tokio::test]
async fn open_server_through_the_engine() {
    let (server, log) = fake(Fake::new(
        "info-open-2.9.10.txt",
        &fixture("pong-2.9.10.txt"),
    ))
    .await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "nats");
    assert_eq!(finding.check, "nats-open");
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.version.as_deref(), Some("2.9.10"));
    assert_eq!(finding.product.as_deref(), Some("nats-server"));
    assert!(!finding.tls);
    assert!(finding.inventory.is_none());
    assert_eq!(
        support::requests(&finding),
        vec!["(connect and listen)", &format!("{CONNECT} + PING")]
    );
    assert_eq!(finding.evidence[0].response, INFO_OPEN);
    assert_eq!(finding.evidence[1].response, "PONG");
    assert!(
        finding
            .details
            .contains(&("max_payload".to_string(), "1048576".to_string()))
    );
    assert!(finding.remediation.is_some());
    // The greeting routed the endpoint straight to NATS: whatever the first probe sent on
    // its own connection, the NATS connection carried CONNECT and PING, nothing else.
    let sent = lines(&log);
    assert!(sent.contains(&CONNECT.to_string()), "{sent:?}");
    assert!(
        sent.iter()
            .all(|l| !l.starts_with("PUB") && !l.starts_with("SUB")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn auth_required_in_info_sends_nothing() {
    let (server, log) = fake(Fake::new("info-token-2.9.10.txt", b"PONG\r\n")).await;
    let finding = found(direct(&server, false).await.0);
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.version.as_deref(), Some("2.9.10"));
    assert_eq!(
        finding.summary,
        "NATS requires authentication (INFO auth_required): no CONNECT sent"
    );
    // Give the fake a moment: nothing may arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(lines(&log), Vec::<String>::new());
    // Through the engine too, with the exact check id.
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.check, "nats-auth-required");
    assert_eq!(support::requests(&finding), vec!["(connect and listen)"]);
    assert!(finding.evidence[0].response.contains("auth_required true"));
}

/// A server whose INFO does not ask for auth yet refuses the CONNECT (nats-server sends
/// this when the account or no_auth_user does not admit an anonymous client).
#[tokio::test]
async fn authorization_violation_is_auth_required() {
    let (server, log) = fake(Fake::new(
        "info-open-2.9.10.txt",
        &fixture("err-authorization-violation-2.9.10.txt"),
    ))
    .await;
    let (outcome, trace) = direct(&server, false).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(
        trace.entries()[1].response,
        "-ERR 'Authorization Violation'"
    );
    assert_eq!(lines(&log), vec![CONNECT.to_string(), "PING".to_string()]);
}

#[tokio::test]
async fn another_error_after_info_is_undetermined() {
    let (server, _) = fake(Fake::new(
        "info-open-2.9.10.txt",
        b"-ERR 'Authentication Timeout'\r\n",
    ))
    .await;
    let finding = found(direct(&server, false).await.0);
    assert_eq!(finding.exposure, Exposure::Undetermined);
    assert_eq!(finding.severity, Severity::Low);
    assert_eq!(
        finding.summary,
        "NATS INFO, then no PONG to CONNECT and PING: -ERR 'Authentication Timeout'"
    );
}

#[tokio::test]
async fn jetstream_stream_names_are_listed() {
    let reply = fixture("stream-names-2.9.10.txt");
    let start = reply
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("MSG line")
        + 2;
    let payload = reply[start..reply.len() - 2].to_vec();
    let mut config = Fake::new("info-jetstream-2.9.10.txt", b"PONG\r\n");
    config.names = Some(payload);
    let (server, log) = fake(config).await;
    let (outcome, trace) = direct(&server, false).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "stream");
    let names: Vec<&str> = inventory.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["ajar_probe_stream"]);
    assert_eq!((inventory.total_items, inventory.truncated), (1, false));
    assert_eq!(
        finding.summary,
        "NATS accepts clients without credentials: any client can subscribe to every subject; JetStream streams: 1"
    );
    assert_eq!(
        trace.entries()[2].response,
        "stream_names_response: total 1, streams [ajar_probe_stream]"
    );
    let sent = lines(&log);
    assert_eq!(sent.len(), 6, "{sent:?}");
    let inbox = sent[2]
        .strip_prefix("SUB ")
        .and_then(|s| s.strip_suffix(" 1"));
    let inbox = inbox.expect("SUB line");
    assert!(
        inbox.starts_with("_INBOX.ajar") && inbox.len() > 20,
        "{inbox}"
    );
    assert_eq!(
        sent,
        vec![
            CONNECT.to_string(),
            "PING".into(),
            format!("SUB {inbox} 1"),
            "UNSUB 1 1".into(),
            format!("PUB $JS.API.STREAM.NAMES {inbox} 0"),
            String::new(),
        ]
    );
}

/// JetStream on in INFO, but no reply on the inbox: still open, no inventory, bounded.
#[tokio::test]
async fn jetstream_without_reply_is_open_without_streams() {
    let (server, _) = fake(Fake::new("info-jetstream-2.9.10.txt", b"PONG\r\n")).await;
    let cx = support::context(Duration::from_millis(500));
    let mut trace = Trace::new(server.addr);
    let started = std::time::Instant::now();
    let outcome = nats::probe(&cx, &server.endpoint(), false, &mut trace).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert!(finding.inventory.is_none());
    assert_eq!(
        trace.entries()[2].response,
        "no reply on the inbox (JetStream not serving this account)"
    );
}

#[tokio::test]
async fn tls_required_upgrades_then_is_open() {
    let mut config = Fake::new("info-tls-2.9.10.txt", b"PONG\r\n");
    config.upgrade = true;
    let (server, log) = fake(config).await;
    let (outcome, trace) = direct(&server, false).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert!(finding.tls);
    let requests: Vec<&str> = trace.entries().iter().map(|e| e.request.as_str()).collect();
    assert_eq!(
        requests,
        vec![
            "(connect and listen)",
            "TLS upgrade (INFO tls_required)",
            &format!("{CONNECT} + PING")
        ]
    );
    assert!(trace.entries()[0].response.contains("tls_required true"));
    assert_eq!(lines(&log), vec![CONNECT.to_string(), "PING".to_string()]);
    // tls:// pins NATS over TLS: the TLS-first attempt fails on the plain INFO, then the
    // plain INFO and the upgrade.
    let specs = parse_target(&format!("tls://127.0.0.1:{}", server.addr.port())).expect("parse");
    let [TargetSpec::Endpoint(endpoint)] = specs.as_slice() else {
        panic!("{specs:?}");
    };
    assert_eq!(
        (endpoint.protocol, endpoint.transport),
        (Protocol::Only("nats"), Transport::Tls)
    );
    let cx = support::context(Duration::from_secs(2));
    let Outcome::Found(finding) = ajar::scan::probe_endpoint(&cx, endpoint).await else {
        panic!("expected a finding");
    };
    assert!(finding.tls);
    assert_eq!(finding.check, "nats-open");
}

/// The upgrade fails (the server asks for TLS but speaks none): NATS, undetermined.
#[tokio::test]
async fn failed_upgrade_is_undetermined() {
    let (server, _) = fake(Fake::new("info-tls-2.9.10.txt", b"PONG\r\n")).await;
    let finding = found(direct(&server, false).await.0);
    assert_eq!(finding.exposure, Exposure::Undetermined);
    assert!(
        finding
            .summary
            .starts_with("NATS requires TLS and the upgrade failed"),
        "{}",
        finding.summary
    );
}

/// INFO lines that are not nats-server's, and other protocols' bytes: never NATS.
#[tokio::test]
async fn lookalikes_are_not_nats() {
    let cases: [&[u8]; 5] = [
        // No max_payload.
        b"INFO {\"server_id\":\"N1\",\"version\":\"2.9.10\"}\r\n",
        // No server_id.
        b"INFO {\"version\":\"2.9.10\",\"max_payload\":1048576}\r\n",
        // Not JSON.
        b"INFO {server_id: N1}\r\n",
        // An SMTP-like greeting.
        b"220 mail ESMTP ready\r\n",
        // An HTTP answer.
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    ];
    for reply in cases {
        let server = serve(false, move |mut conn: BoxConn| async move {
            let _ = conn.write_all(reply).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
        })
        .await;
        let (outcome, _) = direct(&server, false).await;
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
    }
}

/// An INFO without a line end is read up to the cap, then judged not NATS, quickly.
#[tokio::test]
async fn endless_info_is_bounded() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let _ = conn.write_all(b"INFO {\"server_id\":\"").await;
        let chunk = vec![b'N'; 8192];
        for _ in 0..100 {
            if conn.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    let started = std::time::Instant::now();
    let (outcome, trace) = direct(&server, false).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
    assert_eq!(trace.entries()[0].response, "no line end within 64 KiB");
}

/// A client-first server (HTTP, Redis, anything waiting to be asked) is silent to NATS,
/// within the step timeout; a port that hangs up at once asks for TLS.
#[tokio::test]
async fn silent_and_closing_ports() {
    let silent = serve(false, |mut conn: BoxConn| async move {
        let mut sink = [0u8; 64];
        while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let cx = support::context(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let outcome = nats::probe(&cx, &silent.endpoint(), false, &mut Trace::new("t")).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    assert!(started.elapsed() < Duration::from_secs(1));
    let closing = serve(false, |conn: BoxConn| async move { drop(conn) }).await;
    let outcome = nats::probe(&cx, &closing.endpoint(), false, &mut Trace::new("t")).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
}

/// An HTTP server through the engine is HTTP's business, never a NATS finding.
#[tokio::test]
async fn http_server_is_not_nats() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
            )
            .await;
    })
    .await;
    let outcome = support::probe(&server.endpoint()).await;
    assert!(
        !matches!(&outcome, Outcome::Found(f) if f.service == "nats"),
        "{outcome:?}"
    );
}

/// The registry's greeting and answer tests recognise nats-server's own bytes.
#[test]
fn greeting_and_answer_bytes() {
    let greets = nats::PROBE.greeting.expect("greeting");
    assert!(greets(&fixture("info-open-2.9.10.txt")));
    assert!(!greets(b"INFORMATION\r\n"));
    let answers = nats::PROBE.answers.expect("answers");
    assert!(answers(&fixture(
        "err-unknown-protocol-operation-2.9.10.txt"
    )));
    assert!(!answers(b"-ERR unknown command 'GET'\r\n"));
}
