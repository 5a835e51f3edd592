//! AMQP 0-9-1 probe tests: a fake broker on loopback replays frames captured from Debian's
//! RabbitMQ 3.10.8, or reconstructed for RabbitMQ 4.1 and AMQP 1.0 brokers
//! (`tests/fixtures/amqp/`, SOURCES.md), and logs every frame the probe sends, so each test
//! also checks what was (and was not) sent: never a channel, never a password in a plain
//! scan.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::amqp::{self, wire};
use ajar::probe::trace::Trace;
use ajar::targets::{Endpoint, Protocol, TargetSpec, Transport, parse_target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The frames of a fixture file, one per line.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/amqp/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .flat_map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).expect("hex"))
                .collect::<Vec<u8>>()
        })
        .collect()
}

/// One client frame a fake received: class, method, arguments (all on channel 0).
type Frame = (u16, u16, Vec<u8>);
/// The frames of every AMQP connection a fake took, one list per connection.
type Log = Arc<Mutex<Vec<Vec<Frame>>>>;

/// What a fake broker sends on one connection: after the protocol header, then after each
/// client frame (empty: nothing); once the list is done it hangs up.
#[derive(Clone)]
struct Script {
    after_header: Vec<u8>,
    after_frames: Vec<Vec<u8>>,
}

fn script(after_header: &str, after_frames: &[&str]) -> Script {
    Script {
        after_header: fixture(after_header),
        after_frames: after_frames
            .iter()
            .map(|f| if f.is_empty() { Vec::new() } else { fixture(f) })
            .collect(),
    }
}

/// A fake broker: its n-th AMQP connection plays `scripts[n]` (the last one after that).
/// Anything that is not the 0-9-1 header (HTTP, a TLS hello, other probes) gets
/// RabbitMQ's answer to it, its own header, and a hang-up, as the real broker does.
async fn fake(tls: bool, scripts: Vec<Script>) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let count = Arc::new(AtomicUsize::new(0));
    let scripts = Arc::new(scripts);
    let server = serve(tls, move |conn: BoxConn| {
        let (seen, count, scripts) = (seen.clone(), count.clone(), scripts.clone());
        async move { session(conn, &seen, &count, &scripts).await }
    })
    .await;
    (server, log)
}

async fn session(mut conn: BoxConn, log: &Log, count: &AtomicUsize, scripts: &[Script]) {
    let mut header = [0u8; 8];
    if conn.read_exact(&mut header).await.is_err() {
        return;
    }
    if &header != wire::HEADER {
        let _ = conn
            .write_all(&fixture("rabbitmq-3.10.8-http-answer.hex"))
            .await;
        return;
    }
    let n = count.fetch_add(1, Ordering::SeqCst);
    let script = &scripts[n.min(scripts.len() - 1)];
    let index = {
        let mut log = log.lock().expect("log");
        log.push(Vec::new());
        log.len() - 1
    };
    if conn.write_all(&script.after_header).await.is_err() {
        return;
    }
    for reply in &script.after_frames {
        let mut head = [0u8; 7];
        if conn.read_exact(&mut head).await.is_err() {
            return;
        }
        assert_eq!(head[0], 1, "only method frames");
        assert_eq!(&head[1..3], &[0, 0], "only channel 0");
        let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
        let mut rest = vec![0u8; size.min(1 << 16) + 1];
        if conn.read_exact(&mut rest).await.is_err() {
            return;
        }
        assert_eq!(rest.last(), Some(&0xCE), "frame end");
        let class = u16::from_be_bytes([rest[0], rest[1]]);
        let method = u16::from_be_bytes([rest[2], rest[3]]);
        log.lock().expect("log")[index].push((class, method, rest[4..size].to_vec()));
        if !reply.is_empty() && conn.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// The (class, method) ids every connection received, once the fake has read `want`
/// frames in all (the probe does not wait for the fake to read its last frame).
async fn methods(log: &Log, want: usize) -> Vec<Vec<(u16, u16)>> {
    for _ in 0..100 {
        if log.lock().expect("log").iter().map(Vec::len).sum::<usize>() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    log.lock()
        .expect("log")
        .iter()
        .map(|c| {
            c.iter()
                .map(|(class, method, _)| (*class, *method))
                .collect()
        })
        .collect()
}

/// A StartOk's mechanism and response.
fn sasl(start_ok: &[u8]) -> (String, Vec<u8>) {
    let table = u32::from_be_bytes(start_ok[..4].try_into().expect("table")) as usize;
    let rest = &start_ok[4 + table..];
    let mech_len = usize::from(rest[0]);
    let mechanism = String::from_utf8(rest[1..1 + mech_len].to_vec()).expect("mechanism");
    let rest = &rest[1 + mech_len..];
    let len = u32::from_be_bytes(rest[..4].try_into().expect("response")) as usize;
    (mechanism, rest[4..4 + len].to_vec())
}

fn context(default_credentials: bool) -> ajar::probe::ProbeContext {
    support::context(Duration::from_millis(800)).with_default_credentials(default_credentials)
}

/// Runs the whole engine on the fake as an `amqp://` target would (the AMQP probe only).
async fn scan(server: &FakeServer, default_credentials: bool) -> Finding {
    let endpoint = Endpoint {
        protocol: Protocol::Only("amqp"),
        ..server.endpoint()
    };
    support::found(ajar::scan::probe_endpoint(&context(default_credentials), &endpoint).await)
}

fn detail<'a>(finding: &'a Finding, key: &str) -> Option<&'a str> {
    finding
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn evidence(finding: &Finding) -> Vec<(&str, &str)> {
    finding
        .evidence
        .iter()
        .map(|e| (e.request.as_str(), e.response.as_str()))
        .collect()
}

const HEADER_REQUEST: &str = "protocol header AMQP\\x00\\x00\\x09\\x01 (AMQP 0-9-1)";
const START_3_10: &str = "Connection.Start 0-9: product RabbitMQ, version 3.10.8, platform Erlang/OTP 25.2.3, cluster_name ajar_probe@vm, mechanisms PLAIN AMQPLAIN, locales en_US";
const TUNE: &str = "Connection.Tune: channel_max 2047, frame_max 131072, heartbeat 60";
const ACCESS_REFUSED: &str = "Connection.Close 403: ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.";
const CAPABILITIES: &str = "publisher_confirms,exchange_exchange_bindings,basic.nack,consumer_cancel_notify,connection.blocked,consumer_priorities,authentication_failure_close,per_consumer_qos,direct_reply_to";

fn guest_script() -> Script {
    script(
        "rabbitmq-3.10.8-start.hex",
        &[
            "rabbitmq-3.10.8-tune.hex",
            "",
            "rabbitmq-3.10.8-open-ok.hex",
            "rabbitmq-3.10.8-close-ok.hex",
        ],
    )
}

fn refusing_script(start: &str) -> Script {
    script(start, &["rabbitmq-3.10.8-access-refused.hex", ""])
}

/// A bare `127.0.0.1:PORT`: every probe gets its turn, the HTTP one first; RabbitMQ's
/// header in answer to HTTP and the others' bytes never stops the AMQP probe.
#[tokio::test]
async fn rabbitmq_3_10_on_any_port_is_auth_required_from_connection_start_alone() {
    let (server, log) = fake(false, vec![guest_script()]).await;
    let f = support::found(ajar::scan::probe_endpoint(&context(false), &server.endpoint()).await);
    assert_eq!(f.service, "amqp");
    assert_eq!(f.check, "amqp-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert!(!f.tls);
    assert_eq!(f.product.as_deref(), Some("RabbitMQ"));
    assert_eq!(f.version.as_deref(), Some("3.10.8"));
    assert_eq!(
        f.summary,
        "RabbitMQ 3.10.8 requires a login: SASL mechanisms PLAIN AMQPLAIN (--default-credentials tries guest/guest)"
    );
    assert_eq!(
        f.details,
        [
            ("amqp_version", "0-9"),
            ("platform", "Erlang/OTP 25.2.3"),
            ("cluster_name", "ajar_probe@vm"),
            ("mechanisms", "PLAIN AMQPLAIN"),
            ("locales", "en_US"),
            ("capabilities", CAPABILITIES),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(evidence(&f), [(HEADER_REQUEST, START_3_10)]);
    assert_eq!(f.evidence[0].probe, "amqp");
    assert!(f.inventory.is_none());
    assert_eq!(
        methods(&log, 0).await,
        [vec![]],
        "a plain scan sends no login"
    );
}

#[tokio::test]
async fn guest_guest_is_default_credentials_after_open_ok_and_closes_cleanly() {
    let (server, log) = fake(false, vec![guest_script()]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.check, "amqp-default-credentials");
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some("3.10.8"));
    assert_eq!(detail(&f, "user"), Some("guest"));
    assert_eq!(detail(&f, "vhost"), Some("/"));
    assert_eq!(
        evidence(&f),
        [
            (HEADER_REQUEST, START_3_10),
            ("Connection.StartOk mechanism PLAIN, user guest", TUNE),
            (
                "Connection.TuneOk, Connection.Open vhost /",
                "Connection.OpenOk: vhost / is open"
            ),
            ("Connection.Close 200", "Connection.CloseOk"),
        ]
    );
    assert!(
        !serde_json::to_string(&f)
            .expect("json")
            .contains("guest\\u0000"),
        "no password in the finding"
    );
    assert_eq!(
        methods(&log, 4).await,
        [vec![(10, 11), (10, 31), (10, 40), (10, 50)]],
        "StartOk, TuneOk, Open, Close: no channel, no declare, publish or consume"
    );
    let frames = log.lock().expect("log")[0].clone();
    assert_eq!(
        sasl(&frames[0].2),
        ("PLAIN".to_string(), b"\0guest\0guest".to_vec())
    );
    assert_eq!(
        frames[1].2,
        [0x07, 0xff, 0, 2, 0, 0, 0, 0],
        "TuneOk: no heartbeats"
    );
    assert_eq!(frames[2].2, b"\x01/\x00\x00", "Open vhost /");
    assert_eq!(frames[3].2, [0, 200, 0, 0, 0, 0, 0], "Close 200");
}

#[tokio::test]
async fn refused_guest_is_auth_required_and_the_close_is_acknowledged() {
    let (server, log) = fake(false, vec![refusing_script("rabbitmq-3.10.8-start.hex")]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.check, "amqp-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.summary,
        "RabbitMQ 3.10.8 refuses the default user guest (403: ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.)"
    );
    assert_eq!(
        evidence(&f),
        [
            (HEADER_REQUEST, START_3_10),
            (
                "Connection.StartOk mechanism PLAIN, user guest",
                ACCESS_REFUSED
            ),
        ]
    );
    assert_eq!(detail(&f, "user"), None);
    assert_eq!(methods(&log, 2).await, [vec![(10, 11), (10, 51)]]);
}

/// Brokers that ignore `authentication_failure_close` drop the socket on a bad login.
#[tokio::test]
async fn a_hang_up_after_the_login_is_auth_required() {
    let (server, _log) = fake(false, vec![script("rabbitmq-3.10.8-start.hex", &[""])]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(
        f.summary,
        "RabbitMQ 3.10.8 refuses the default user guest (the server closed the connection)"
    );
    assert_eq!(
        evidence(&f)[1],
        (
            "Connection.StartOk mechanism PLAIN, user guest",
            "the server closed the connection: login refused"
        )
    );
}

/// A login that passes but cannot open `/` proves no access to data: never open.
#[tokio::test]
async fn a_refused_vhost_is_undetermined() {
    let refused = script(
        "rabbitmq-3.10.8-start.hex",
        &[
            "rabbitmq-3.10.8-tune.hex",
            "",
            "rabbitmq-3.10.8-vhost-not-found.hex",
            "",
        ],
    );
    let (server, log) = fake(false, vec![refused]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.check, "amqp-undetermined");
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(
        evidence(&f)[2],
        (
            "Connection.TuneOk, Connection.Open vhost /",
            "Connection.Close 530: NOT_ALLOWED - vhost ajar_no_such_vhost not found"
        )
    );
    assert_eq!(detail(&f, "vhost"), None);
    assert_eq!(
        methods(&log, 4).await,
        [vec![(10, 11), (10, 31), (10, 40), (10, 51)]]
    );
}

/// RabbitMQ 4.1 offers ANONYMOUS by default: a plain scan logs in with it, no
/// credentials, and OpenOk for `/` is open.
#[tokio::test]
async fn anonymous_login_that_opens_the_vhost_is_open() {
    let anonymous = script(
        "rabbitmq-4.1-start-anonymous.hex",
        &[
            "rabbitmq-3.10.8-tune.hex",
            "",
            "rabbitmq-3.10.8-open-ok.hex",
            "rabbitmq-3.10.8-close-ok.hex",
        ],
    );
    let (server, log) = fake(false, vec![anonymous]).await;
    let f = scan(&server, false).await;
    assert_eq!(f.check, "amqp-open");
    assert_eq!(f.exposure, Exposure::Open);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some("4.1.0"));
    assert_eq!(detail(&f, "mechanisms"), Some("PLAIN AMQPLAIN ANONYMOUS"));
    assert_eq!(detail(&f, "vhost"), Some("/"));
    assert_eq!(detail(&f, "user"), None);
    assert_eq!(
        f.summary,
        "RabbitMQ 4.1.0 lets an ANONYMOUS login open vhost / without credentials"
    );
    assert_eq!(
        evidence(&f)[1],
        (
            "Connection.StartOk mechanism ANONYMOUS (no credentials)",
            TUNE
        )
    );
    assert_eq!(
        methods(&log, 4).await,
        [vec![(10, 11), (10, 31), (10, 40), (10, 50)]]
    );
    let start_ok = log.lock().expect("log")[0][0].2.clone();
    assert_eq!(sasl(&start_ok), ("ANONYMOUS".to_string(), Vec::new()));
}

/// ANONYMOUS refused (4.1 maps it to guest, which is loopback-only): auth-required in a
/// plain scan; under --default-credentials a second connection tries guest.
#[tokio::test]
async fn refused_anonymous_is_auth_required_then_guest_gets_its_own_connection() {
    let start = "rabbitmq-4.1-start-anonymous.hex";
    let (server, log) = fake(false, vec![refusing_script(start)]).await;
    let f = scan(&server, false).await;
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert!(
        f.summary
            .starts_with("RabbitMQ 4.1.0 offers ANONYMOUS but refuses it (403: ACCESS_REFUSED"),
        "{}",
        f.summary
    );
    assert_eq!(methods(&log, 2).await, [vec![(10, 11), (10, 51)]]);

    let (server, log) = fake(false, vec![refusing_script(start), guest_script()]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(detail(&f, "user"), Some("guest"));
    let requests = support::requests(&f);
    assert_eq!(
        requests,
        [
            HEADER_REQUEST,
            "Connection.StartOk mechanism ANONYMOUS (no credentials)",
            HEADER_REQUEST,
            "Connection.StartOk mechanism PLAIN, user guest",
            "Connection.TuneOk, Connection.Open vhost /",
            "Connection.Close 200",
        ]
    );
    assert_eq!(
        methods(&log, 6).await,
        [
            vec![(10, 11), (10, 51)],
            vec![(10, 11), (10, 31), (10, 40), (10, 50)]
        ]
    );
}

#[tokio::test]
async fn an_amqp_1_0_header_is_identified_and_undetermined() {
    let (server, log) = fake(false, vec![script("amqp-1.0-sasl-header.hex", &[])]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.service, "amqp");
    assert_eq!(f.check, "amqp-undetermined");
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!((f.product.as_deref(), f.version.as_deref()), (None, None));
    assert_eq!(detail(&f, "protocol"), Some("AMQP 1.0.0 (SASL layer)"));
    assert_eq!(
        evidence(&f),
        [(HEADER_REQUEST, "a protocol header: AMQP 1.0.0 (SASL layer)")]
    );
    assert_eq!(methods(&log, 0).await, [vec![]], "no login to a 1.0 broker");
}

/// A broker that closes before Connection.Start (RabbitMQ's Connection.Close frame, here
/// the captured 403, replayed in answer to the header) is AMQP, but nothing is judged.
#[tokio::test]
async fn a_close_before_start_is_undetermined() {
    let (server, log) = fake(
        false,
        vec![script("rabbitmq-3.10.8-access-refused.hex", &[])],
    )
    .await;
    let f = scan(&server, true).await;
    assert_eq!(f.check, "amqp-undetermined");
    assert_eq!(
        f.summary,
        "an AMQP server closes the connection before Connection.Start: Connection.Close 403: ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."
    );
    assert_eq!(methods(&log, 0).await, [vec![]]);
}

/// `amqps://` pins the probe over TLS; a bare endpoint on a TLS port is found over TLS
/// after the plain attempt fails.
#[tokio::test]
async fn amqps_scans_over_tls() {
    let (server, _log) = fake(true, vec![guest_script()]).await;
    let specs = parse_target(&format!("amqps://127.0.0.1:{}", server.addr.port())).expect("parse");
    let [TargetSpec::Endpoint(endpoint)] = specs.as_slice() else {
        panic!("{specs:?}");
    };
    assert_eq!(
        (endpoint.protocol, endpoint.transport),
        (Protocol::Only("amqp"), Transport::Tls)
    );
    let f = support::found(ajar::scan::probe_endpoint(&context(true), endpoint).await);
    assert!(f.tls);
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(f.evidence[0].probe, "amqps");
    let pinned = Endpoint {
        protocol: Protocol::Only("amqp"),
        ..server.endpoint()
    };
    let f = support::found(ajar::scan::probe_endpoint(&context(false), &pinned).await);
    assert!(f.tls);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    let plain = parse_target("amqp://127.0.0.1").expect("parse");
    let [TargetSpec::Endpoint(plain)] = plain.as_slice() else {
        panic!("{plain:?}");
    };
    assert_eq!((plain.port, plain.transport), (5672, Transport::Plain));
}

async fn run_probe(server: &FakeServer) -> (ProbeOutcome, Duration) {
    let began = Instant::now();
    let outcome = amqp::probe(
        &context(true),
        &server.endpoint(),
        false,
        &mut Trace::new("t"),
    )
    .await;
    (outcome, began.elapsed())
}

#[tokio::test]
async fn an_http_server_is_not_amqp_at_once() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let (outcome, took) = run_probe(&server).await;
    match outcome {
        ProbeOutcome::NotThis {
            note,
            hint,
            transport_confirmed,
            speaks_protocol,
        } => {
            assert_eq!(
                note,
                "not AMQP: not an AMQP frame: \"HTTP/1.1 400 Bad Request\\x0d\\x0aConten\""
            );
            assert_eq!(hint, Some("http"));
            assert!(transport_confirmed);
            assert!(!speaks_protocol);
        }
        other => panic!("{other:?}"),
    }
    assert!(took < Duration::from_millis(500), "{took:?}");
}

/// A Redis reads the header as an inline command and waits for its line end: silence.
/// One that answers with an error line is not AMQP and hints Redis.
#[tokio::test]
async fn redis_and_silent_ports_are_not_amqp() {
    let silent = serve(false, |conn: BoxConn| async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(conn);
    })
    .await;
    let (outcome, took) = run_probe(&silent).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    assert!(took < Duration::from_millis(1500), "{took:?}");

    let redis = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).await;
        let _ = conn.write_all(b"-ERR unknown command 'AMQP'\r\n").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let (outcome, took) = run_probe(&redis).await;
    match outcome {
        ProbeOutcome::NotThis { hint, .. } => assert_eq!(hint, Some("redis")),
        other => panic!("{other:?}"),
    }
    assert!(took < Duration::from_millis(500), "{took:?}");

    let closing = serve(false, |conn: BoxConn| async move { drop(conn) }).await;
    let (outcome, _) = run_probe(&closing).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
}

/// A frame that claims 4 GiB, or more than the cap, is refused before anything is
/// buffered; a frame without its end octet is not AMQP either.
#[tokio::test]
async fn oversized_and_malformed_frames_are_refused() {
    for (bytes, want) in [
        (
            vec![1, 0, 0, 0xff, 0xff, 0xff, 0xff],
            "a 4294967295-byte frame, over the 65536-byte cap",
        ),
        (
            vec![1, 0, 0, 0, 1, 0, 1],
            "a 65537-byte frame, over the 65536-byte cap",
        ),
        (
            vec![1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 10, 0],
            "a frame without its 0xCE frame-end octet",
        ),
    ] {
        let server = serve(false, move |mut conn: BoxConn| {
            let bytes = bytes.clone();
            async move {
                let mut buf = [0u8; 8];
                let _ = conn.read_exact(&mut buf).await;
                let _ = conn.write_all(&bytes).await;
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        })
        .await;
        match run_probe(&server).await.0 {
            ProbeOutcome::NotThis { note, .. } => assert_eq!(note, format!("not AMQP: {want}")),
            other => panic!("{other:?}"),
        }
    }
}

/// RabbitMQ's answer to HTTP is what `answers` recognises, so other probes hint AMQP.
#[test]
fn rabbitmq_answer_to_http_is_recognised() {
    let answers = amqp::PROBE.answers.expect("answers");
    assert!(answers(&fixture("rabbitmq-3.10.8-http-answer.hex")));
    assert!(answers(&fixture("amqp-1.0-sasl-header.hex")));
    assert!(!answers(b"HTTP/1.1 400 Bad Request\r\n"));
    assert!(!answers(b"AMQP"));
    assert!(amqp::PROBE.greeting.is_none(), "AMQP is client-first");
}

#[tokio::test]
async fn the_outcome_of_a_bare_scan_names_the_amqp_service() {
    let (server, _log) = fake(false, vec![guest_script()]).await;
    let outcome = support::probe(&server.endpoint()).await;
    let Outcome::Found(f) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(f.service, "amqp");
}

/// Through the binary, on a bare `127.0.0.1:PORT` no AMQP default owns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_finds_guest_on_a_bare_port() {
    let (server, _log) = fake(false, vec![guest_script()]).await;
    let addr = format!("127.0.0.1:{}", server.addr.port());
    let out = crate::support::cli::Run::new(&["scan", &addr, "-f", "json", "--timeout", "2s"])
        .arg("--default-credentials")
        .output()
        .await;
    let report = crate::support::cli::json(&out);
    let f = &report["results"][0];
    assert_eq!(f["endpoint"], addr.as_str(), "{report:#}");
    assert_eq!(f["service"], "amqp", "{report:#}");
    assert_eq!(f["check"], "amqp-default-credentials", "{report:#}");
    assert_eq!(f["version"], "3.10.8", "{report:#}");
    assert_eq!(f["details"]["user"], "guest", "{report:#}");
    assert_eq!(report["results"].as_array().map(Vec::len), Some(1));
}
