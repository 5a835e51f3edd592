//! MQTT probe tests: a fake broker on loopback that parses each packet it gets and answers
//! with the bytes of `tests/fixtures/mqtt/` (captured from Debian's Mosquitto 2.0.11, or
//! reconstructed from the OASIS 3.1.1 and 5.0 standards; see SOURCES.md). Each fake logs
//! the packets it received, so every test also checks what the probe sent: CONNECT without
//! user name or password, one SUBSCRIBE, DISCONNECT, and never a PUBLISH.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::mqtt;
use ajar::probe::trace::Trace;
use ajar::targets::{Endpoint, Protocol, TargetSpec, Transport, parse_target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The retained payload of the captured broker: it must never reach a report.
const MARKER: &str = "ajar-retained-payload-3d0d00e21cb6beecfb0479db79bc46f1";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/mqtt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A packet the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// CONNECT: protocol level, connect flags, keep alive, client id.
    Connect(u8, u8, u16, String),
    /// SUBSCRIBE: filters with their options byte.
    Subscribe(Vec<(String, u8)>),
    Disconnect,
    /// Any other packet type (a PUBLISH would be type 3).
    Other(u8),
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// What the fake does on a CONNECT.
#[derive(Clone)]
enum Reply {
    Bytes(Vec<u8>),
    Close,
    Silent,
}

/// The fake's script: its answer to the n-th CONNECT (0-based) of a level, and the bytes
/// it sends after SUBSCRIBE.
#[derive(Clone)]
struct Script {
    connack: fn(u8, usize) -> Reply,
    after_subscribe: Vec<u8>,
}

fn remaining_length(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().take(4).enumerate() {
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads one packet: first byte and body; `None` at end of stream.
async fn read_packet(conn: &mut BoxConn) -> Option<(u8, Vec<u8>)> {
    let first = conn.read_u8().await.ok()?;
    let mut len = Vec::new();
    loop {
        let b = conn.read_u8().await.ok()?;
        len.push(b);
        if b & 0x80 == 0 || len.len() == 4 {
            break;
        }
    }
    let (n, _) = remaining_length(&len)?;
    if n > 65_536 {
        return None;
    }
    let mut body = vec![0u8; n];
    conn.read_exact(&mut body).await.ok()?;
    Some((first, body))
}

fn string_at(body: &[u8], at: usize) -> Option<(String, usize)> {
    let len = usize::from(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    let text = body.get(at + 2..at + 2 + len)?;
    Some((String::from_utf8_lossy(text).into_owned(), at + 2 + len))
}

fn parse_connect(body: &[u8]) -> Option<Seen> {
    let (name, at) = string_at(body, 0)?;
    if name != "MQTT" {
        return None;
    }
    let (level, flags) = (*body.get(at)?, *body.get(at + 1)?);
    let keepalive = u16::from_be_bytes([*body.get(at + 2)?, *body.get(at + 3)?]);
    let mut at = at + 4;
    if level == 5 {
        at += 1 + usize::from(*body.get(at)?);
    }
    let (id, _) = string_at(body, at)?;
    Some(Seen::Connect(level, flags, keepalive, id))
}

fn parse_subscribe(level: u8, body: &[u8]) -> Option<Seen> {
    let mut at = 2;
    if level == 5 {
        at += 1 + usize::from(*body.get(at)?);
    }
    let mut filters = Vec::new();
    while at < body.len() {
        let (filter, next) = string_at(body, at)?;
        filters.push((filter, *body.get(next)?));
        at = next + 1;
    }
    Some(Seen::Subscribe(filters))
}

/// A fake broker following `script`; every packet is logged.
async fn fake(tls: bool, script: Script) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let counts: Arc<Mutex<[usize; 8]>> = Arc::default();
    let server = serve(tls, move |mut conn: BoxConn| {
        let (script, seen, counts) = (script.clone(), seen.clone(), counts.clone());
        async move {
            let mut level = 4;
            while let Some((first, body)) = read_packet(&mut conn).await {
                let packet = match first >> 4 {
                    1 => parse_connect(&body),
                    8 => parse_subscribe(level, &body),
                    14 => Some(Seen::Disconnect),
                    other => Some(Seen::Other(other)),
                };
                let Some(packet) = packet else { return };
                seen.lock().expect("log").push(packet.clone());
                let reply = match packet {
                    Seen::Connect(l, ..) => {
                        level = l;
                        let nth = {
                            let mut counts = counts.lock().expect("counts");
                            let slot = &mut counts[usize::from(l & 7)];
                            *slot += 1;
                            *slot - 1
                        };
                        (script.connack)(l, nth)
                    }
                    Seen::Subscribe(_) => Reply::Bytes(script.after_subscribe.clone()),
                    Seen::Disconnect | Seen::Other(_) => return,
                };
                match reply {
                    Reply::Bytes(bytes) => {
                        if conn.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Reply::Close => return,
                    Reply::Silent => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        return;
                    }
                }
            }
        }
    })
    .await;
    (server, log)
}

fn packets(log: &Log) -> Vec<Seen> {
    log.lock().expect("log").clone()
}

/// The log once the fake has read the probe's DISCONNECT (or after a second): the probe
/// returns as soon as DISCONNECT is written, maybe before the fake has read it.
async fn settled(log: &Log) -> Vec<Seen> {
    for _ in 0..100 {
        if packets(log).last() == Some(&Seen::Disconnect) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    packets(log)
}

/// The CONNECTs of a log: (level, flags, keep alive), and the client ids.
fn connects(log: &Log) -> (Vec<(u8, u8, u16)>, Vec<String>) {
    packets(log)
        .into_iter()
        .filter_map(|p| match p {
            Seen::Connect(level, flags, keepalive, id) => Some(((level, flags, keepalive), id)),
            _ => None,
        })
        .unzip()
}

fn subscribed() -> Seen {
    Seen::Subscribe(vec![("#".into(), 0), ("$SYS/#".into(), 0)])
}

/// Runs the engine on the fake as an `mqtt://` target would (the MQTT probe only).
async fn scan(server: &FakeServer) -> Finding {
    let endpoint = Endpoint {
        protocol: Protocol::Only("mqtt"),
        ..server.endpoint()
    };
    support::found(support::probe(&endpoint).await)
}

fn evidence(finding: &Finding) -> Vec<(String, String)> {
    finding
        .evidence
        .iter()
        .map(|e| (format!("{} {}", e.probe, e.request), e.response.clone()))
        .collect()
}

const CONNECT_311: &str =
    "mqtt CONNECT MQTT 3.1.1 (level 4), clean session, keepalive 10, no username or password";
const CONNECT_5: &str =
    "mqtt CONNECT MQTT 5.0 (level 5), clean start, keepalive 10, no username or password";
/// The SUBSCRIBE line at the 2 s step timeout of `support::probe` (window 400 ms).
const SUBSCRIBE: &str =
    "mqtt SUBSCRIBE # and $SYS/# (QoS 0), retained topic names for 400 ms, payloads discarded";
const CAPTURED_SUBACK: &str = "SUBACK #: granted QoS 0, $SYS/#: granted QoS 0; 53 retained topics (1 outside $SYS); $SYS/broker/version: mosquitto version 2.0.11";

fn open_311() -> Script {
    Script {
        connack: |_, _| Reply::Bytes(fixture("connack-open-v311.bin")),
        after_subscribe: fixture("subscribe-open-v311.bin"),
    }
}

fn assert_captured_inventory(finding: &Finding) {
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "retained-topic");
    assert_eq!(
        (
            inventory.total_items,
            inventory.user_items,
            inventory.truncated
        ),
        (53, 1, false)
    );
    let first = &inventory.items[0];
    assert_eq!(
        (first.name.as_str(), first.size_bytes, first.system),
        ("ajar/probe/retained", Some(54), false)
    );
    assert!(
        inventory
            .items
            .iter()
            .any(|d| d.name == "$SYS/broker/version" && d.system && d.size_bytes == Some(24))
    );
    let captured = String::from_utf8_lossy(&fixture("subscribe-open-v311.bin")).into_owned();
    assert!(captured.contains(MARKER), "the capture carries the payload");
    let report = serde_json::to_string(finding).expect("json");
    assert!(!report.contains(MARKER), "a payload leaked: {report}");
    assert!(!report.contains("ajar-retained-payload"), "{report}");
}

#[tokio::test]
async fn anonymous_mosquitto_is_open_with_retained_topic_names_only() {
    let (server, log) = fake(false, open_311()).await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.service.as_str(), finding.check.as_str()),
        ("mqtt", "mqtt-open")
    );
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(
        (finding.product.as_deref(), finding.version.as_deref()),
        (Some("Mosquitto"), Some("2.0.11"))
    );
    assert_eq!(
        finding.summary,
        "Mosquitto 2.0.11 accepts anonymous MQTT 3.1.1 clients and grants a subscription to #: 53 retained topics (1 outside $SYS)"
    );
    assert_eq!(
        finding.details,
        [("protocol".to_string(), "3.1.1".to_string())]
    );
    assert_captured_inventory(&finding);
    assert_eq!(
        evidence(&finding),
        [
            (
                CONNECT_311.to_string(),
                "CONNACK return code 0 (connection accepted)".to_string()
            ),
            (SUBSCRIBE.to_string(), CAPTURED_SUBACK.to_string()),
            ("mqtt DISCONNECT".to_string(), "sent".to_string()),
        ]
    );
    let (connects, ids) = connects(&log);
    assert_eq!(
        connects,
        [(4, 0x02, 10)],
        "clean session, no user name, no password"
    );
    assert!(ids[0].starts_with("ajar-") && ids[0].len() == 17, "{ids:?}");
    assert_eq!(
        settled(&log).await[1..],
        [subscribed(), Seen::Disconnect],
        "one SUBSCRIBE, then DISCONNECT, no PUBLISH"
    );
    assert!(
        finding
            .remediation
            .as_deref()
            .is_some_and(|r| r.contains("allow_anonymous false"))
    );
}

#[tokio::test]
async fn password_file_is_auth_required_from_connack_5() {
    let (server, log) = fake(
        false,
        Script {
            connack: |_, _| Reply::Bytes(fixture("connack-auth-v311.bin")),
            after_subscribe: Vec::new(),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity, finding.check.as_str()),
        (Exposure::AuthRequired, Severity::Info, "mqtt-auth-required")
    );
    assert_eq!(
        finding.summary,
        "MQTT broker refuses clients without credentials: CONNACK return code 5 (not authorized)"
    );
    assert_eq!(
        (finding.inventory.as_ref(), finding.version.as_ref()),
        (None, None)
    );
    assert_eq!(
        evidence(&finding),
        [(
            CONNECT_311.to_string(),
            "CONNACK return code 5 (not authorized)".to_string()
        )]
    );
    assert_eq!(connects(&log).0, [(4, 0x02, 10)]);
}

/// Return code 1 (3.1.1 section 3.1.2.2) sends the probe to MQTT 5.0, whose 0x87 from
/// Mosquitto's password broker is auth-required.
#[tokio::test]
async fn refused_level_4_retries_with_level_5() {
    let (server, log) = fake(
        false,
        Script {
            connack: |level, _| match level {
                4 => Reply::Bytes(fixture("connack-refused-version-v311.bin")),
                _ => Reply::Bytes(fixture("connack-auth-v5.bin")),
            },
            after_subscribe: Vec::new(),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.check.as_str()),
        (Exposure::AuthRequired, "mqtt-auth-required")
    );
    assert_eq!(
        finding.details,
        [("protocol".to_string(), "5.0".to_string())]
    );
    assert_eq!(
        evidence(&finding),
        [
            (
                CONNECT_311.to_string(),
                "CONNACK return code 1 (unacceptable protocol version)".to_string()
            ),
            (
                CONNECT_5.to_string(),
                "CONNACK reason code 0x87 (not authorized)".to_string()
            ),
        ]
    );
    assert_eq!(connects(&log).0, [(4, 0x02, 10), (5, 0x02, 10)]);
}

/// A 5.0-only broker may answer a 3.1.1 CONNECT with a 5.0 CONNACK 0x84 (5.0 section
/// 3.1.2.2); the retry in 5.0 against Mosquitto's captured 5.0 replies is open.
#[tokio::test]
async fn a_v5_only_broker_is_read_in_v5() {
    let (server, log) = fake(
        false,
        Script {
            connack: |level, _| match level {
                4 => Reply::Bytes(fixture("connack-unsupported-version-v5.bin")),
                _ => Reply::Bytes(fixture("connack-open-v5.bin")),
            },
            after_subscribe: fixture("subscribe-open-v5.bin"),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity, finding.check.as_str()),
        (Exposure::Open, Severity::High, "mqtt-open")
    );
    assert_eq!(finding.version.as_deref(), Some("2.0.11"));
    assert_eq!(
        finding.details,
        [("protocol".to_string(), "5.0".to_string())]
    );
    assert_captured_inventory(&finding);
    assert_eq!(
        evidence(&finding),
        [
            (
                CONNECT_311.to_string(),
                "CONNACK return code 132 (unsupported protocol version)".to_string()
            ),
            (
                CONNECT_5.to_string(),
                "CONNACK reason code 0x00 (connection accepted)".to_string()
            ),
            (SUBSCRIBE.to_string(), CAPTURED_SUBACK.to_string()),
            ("mqtt DISCONNECT".to_string(), "sent".to_string()),
        ]
    );
    assert_eq!(connects(&log).0, [(4, 0x02, 10), (5, 0x02, 10)]);
    assert_eq!(settled(&log).await[2..], [subscribed(), Seen::Disconnect]);
}

/// Return code 2 is retried once with an id of letters and digits only.
#[tokio::test]
async fn a_rejected_client_id_is_retried_without_the_dash() {
    let (server, log) = fake(
        false,
        Script {
            connack: |_, nth| match nth {
                0 => Reply::Bytes(fixture("connack-id-rejected-v311.bin")),
                _ => Reply::Bytes(fixture("connack-open-v311.bin")),
            },
            after_subscribe: fixture("subscribe-open-v311.bin"),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    let (connects, ids) = connects(&log);
    assert_eq!(connects, [(4, 0x02, 10), (4, 0x02, 10)]);
    assert!(ids[0].starts_with("ajar-"), "{ids:?}");
    assert!(ids[1].starts_with("ajar") && ids[1].len() <= 23, "{ids:?}");
    assert!(ids[1].chars().all(|c| c.is_ascii_alphanumeric()), "{ids:?}");
    assert_eq!(
        evidence(&finding)[0].1,
        "CONNACK return code 2 (identifier rejected)"
    );
}

/// Connected anonymously but both subscriptions refused (an ACL): never open.
#[tokio::test]
async fn refused_subscriptions_are_undetermined() {
    let (server, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Bytes(fixture("connack-open-v311.bin")),
            after_subscribe: fixture("suback-refused-v311.bin"),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity, finding.check.as_str()),
        (Exposure::Undetermined, Severity::Low, "mqtt-undetermined")
    );
    assert_eq!(finding.inventory, None);
    assert_eq!(
        finding.summary,
        "MQTT broker accepts anonymous MQTT 3.1.1 clients but refuses them a subscription to #"
    );
    assert_eq!(
        evidence(&finding)[1].1,
        "SUBACK #: refused 0x80, $SYS/#: refused 0x80; 0 retained topics (0 outside $SYS)"
    );
}

/// Mosquitto grants `#` to anonymous clients its empty acl_file denies every read, then
/// sends nothing (captured): a grant alone is not proof of readable data.
#[tokio::test]
async fn a_grant_without_any_retained_message_is_undetermined() {
    let (server, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Bytes(fixture("connack-open-v311.bin")),
            after_subscribe: fixture("suback-acl-deny-v311.bin"),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity, finding.check.as_str()),
        (Exposure::Undetermined, Severity::Low, "mqtt-undetermined")
    );
    assert_eq!(finding.inventory, None);
    assert_eq!(
        finding.summary,
        "MQTT broker accepts anonymous MQTT 3.1.1 clients and grants # but sent no retained message within 400 ms: an ACL may deny reads, or nothing is retained"
    );
    assert_eq!(
        evidence(&finding)[1],
        (
            SUBSCRIBE.to_string(),
            "SUBACK #: granted QoS 0, $SYS/#: granted QoS 0; 0 retained topics (0 outside $SYS)"
                .to_string()
        )
    );
}

/// A CONNACK without a SUBACK after it is not proof of readable data.
#[tokio::test]
async fn no_suback_is_undetermined() {
    let (server, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Bytes(fixture("connack-open-v311.bin")),
            after_subscribe: Vec::new(),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Undetermined, Severity::Low)
    );
    assert_eq!(
        finding.summary,
        "MQTT broker accepts anonymous MQTT 3.1.1 clients, but SUBSCRIBE got no SUBACK (nothing before the timeout)"
    );
    assert_eq!(
        evidence(&finding)[1],
        (
            SUBSCRIBE.to_string(),
            "no SUBACK: nothing before the timeout".to_string()
        )
    );
    assert_eq!(finding.inventory, None);
}

/// One PUBLISH packet: topic, QoS 0, RETAIN as given, payload.
fn publish(retain: bool, topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(topic.as_bytes());
    body.extend_from_slice(payload);
    let mut out = vec![0x30 | u8::from(retain)];
    let mut n = body.len();
    loop {
        let mut digit = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            digit |= 0x80;
        }
        out.push(digit);
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&body);
    out
}

/// Payloads are skipped unread whatever their size, live (non-retained) messages are not
/// listed, and distinct topics stop at 200.
#[tokio::test]
async fn payloads_are_skipped_and_topics_capped() {
    static STREAM: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let stream = STREAM.get_or_init(|| {
        let mut bytes = vec![0x90, 0x04, 0x00, 0x01, 0x00, 0x00];
        bytes.extend(publish(
            true,
            "plant/blob",
            &b"SECRET-PAYLOAD".repeat(20_000),
        ));
        bytes.extend(publish(false, "live/only", b"SECRET-LIVE"));
        bytes.extend(publish(true, "plant/blob", b"SECRET-AGAIN"));
        for i in 0..300 {
            bytes.extend(publish(true, &format!("sensor/{i:03}"), b"SECRET-21.5"));
        }
        bytes
    });
    let (server, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Bytes(fixture("connack-open-v311.bin")),
            after_subscribe: stream.clone(),
        },
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(
        (finding.product.as_ref(), finding.version.as_ref()),
        (None, None)
    );
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!((inventory.items.len(), inventory.truncated), (200, true));
    assert_eq!(
        (
            inventory.items[0].name.as_str(),
            inventory.items[0].size_bytes
        ),
        ("plant/blob", Some(280_000))
    );
    assert!(!inventory.items.iter().any(|d| d.name == "live/only"));
    assert_eq!(inventory.items[199].name, "sensor/198");
    let report = serde_json::to_string(&finding).expect("json");
    assert!(!report.contains("SECRET"), "{report}");
    assert!(
        finding
            .summary
            .ends_with("listing stopped at 200 topics or 1 MiB"),
        "{}",
        finding.summary
    );
}

/// A PUBLISH that claims 200 MB ends the window at its fixed header: nothing of it is
/// read, the topics before it are kept, and the listing says it was cut.
#[tokio::test]
async fn a_huge_publish_ends_the_window_unread() {
    let (server, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Bytes(fixture("connack-open-v311.bin")),
            after_subscribe: {
                let mut bytes = vec![0x90, 0x04, 0x00, 0x01, 0x00, 0x00];
                bytes.extend(publish(true, "plant/status", b"SECRET-ON"));
                // RETAIN, remaining length 200,000,000 (0x80 0x84 0xAF 0x5F), then only
                // the start of a topic.
                bytes.extend([0x31, 0x80, 0x84, 0xAF, 0x5F, 0x00, 0x03, b'b', b'i', b'g']);
                bytes
            },
        },
    )
    .await;
    let started = std::time::Instant::now();
    let finding = scan(&server).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(finding.exposure, Exposure::Open);
    let inventory = finding.inventory.as_ref().expect("inventory");
    let names: Vec<&str> = inventory.items.iter().map(|d| d.name.as_str()).collect();
    assert_eq!((names, inventory.truncated), (vec!["plant/status"], true));
}

fn context() -> ajar::probe::ProbeContext {
    support::context(Duration::from_millis(800))
}

async fn run_probe(endpoint: &Endpoint, tls: bool) -> ProbeOutcome {
    mqtt::probe(&context(), endpoint, tls, &mut Trace::new("t")).await
}

#[tokio::test]
async fn an_http_server_is_not_mqtt_and_hints_http() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 256];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    match run_probe(&server.endpoint(), false).await {
        ProbeOutcome::NotThis {
            note,
            hint,
            transport_confirmed,
            speaks_protocol,
        } => {
            assert!(
                note.starts_with("not MQTT: not a CONNACK: \"HTTP/1.1 400 Bad Request"),
                "{note}"
            );
            assert_eq!(
                (hint, transport_confirmed, speaks_protocol),
                (Some("http"), true, false)
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Bytes that start like a CONNACK but are not one (a length no CONNACK has, bad flags).
#[tokio::test]
async fn odd_connacks_are_not_mqtt() {
    for bytes in [
        b"\x20\xff\xff\xff\x7f".to_vec(),
        b"\x20\x02\x07\x00".to_vec(),
        b"\x20\x04\x00\x00\x09\x00".to_vec(),
        b"\x20\x03\x00\x00\x00".to_vec(),
    ] {
        let answer = bytes.clone();
        let server = serve(false, move |mut conn: BoxConn| {
            let answer = answer.clone();
            async move {
                let mut buf = [0u8; 256];
                let _ = conn.read(&mut buf).await;
                let _ = conn.write_all(&answer).await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        })
        .await;
        let outcome = run_probe(&server.endpoint(), false).await;
        assert!(
            matches!(&outcome, ProbeOutcome::NotThis { note, .. } if note.starts_with("not MQTT: not a CONNACK")),
            "{bytes:?}: {outcome:?}"
        );
    }
}

/// A Redis waits for the rest of what it takes for an inline command (SOURCES.md): silent,
/// as is any port that never answers; a hang-up without a byte asks for TLS.
#[tokio::test]
async fn a_silent_port_is_silent_and_a_hang_up_asks_for_tls() {
    let (silent, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Silent,
            after_subscribe: Vec::new(),
        },
    )
    .await;
    assert_eq!(
        run_probe(&silent.endpoint(), false).await,
        ProbeOutcome::Silent
    );
    let (closing, _) = fake(
        false,
        Script {
            connack: |_, _| Reply::Close,
            after_subscribe: Vec::new(),
        },
    )
    .await;
    let outcome = run_probe(&closing.endpoint(), false).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    let outcome = run_probe(&closing.endpoint(), true).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
}

/// `mqtts://` pins the MQTT probe over TLS; the default ports follow the schemes.
#[tokio::test]
async fn mqtts_scheme_scans_over_tls() {
    let (server, log) = fake(true, open_311()).await;
    let specs = parse_target(&format!("mqtts://127.0.0.1:{}", server.addr.port())).expect("parse");
    let [TargetSpec::Endpoint(endpoint)] = specs.as_slice() else {
        panic!("{specs:?}");
    };
    assert_eq!(
        (endpoint.protocol, endpoint.transport),
        (Protocol::Only("mqtt"), Transport::Tls)
    );
    let outcome =
        ajar::scan::probe_endpoint(&support::context(Duration::from_secs(2)), endpoint).await;
    let Outcome::Found(finding) = outcome else {
        panic!("{outcome:?}");
    };
    assert!(finding.tls);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.evidence[0].probe, "mqtts");
    assert_eq!(settled(&log).await[1..], [subscribed(), Seen::Disconnect]);
    for (uri, port, transport) in [
        ("mqtt://127.0.0.1", 1883, Transport::Plain),
        ("mqtts://127.0.0.1", 8883, Transport::Tls),
    ] {
        let specs = parse_target(uri).expect("parse");
        let [TargetSpec::Endpoint(e)] = specs.as_slice() else {
            panic!("{specs:?}");
        };
        assert_eq!(
            (e.port, e.transport, e.protocol),
            (port, transport, Protocol::Only("mqtt"))
        );
    }
}

/// A bare `127.0.0.1:PORT` on a port no probe owns: detection reaches the MQTT probe after
/// the others' turns, as with a broker on a non-default port.
#[tokio::test]
async fn detected_on_any_port_without_a_scheme() {
    let (server, _) = fake(false, open_311()).await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(
        (finding.service.as_str(), finding.exposure),
        ("mqtt", Exposure::Open)
    );
    assert_eq!(finding.version.as_deref(), Some("2.0.11"));
}
