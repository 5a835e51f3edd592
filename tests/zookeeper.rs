//! The ZooKeeper client-protocol probe against fake servers replaying bytes captured from
//! ZooKeeper 3.8.0 (`tests/fixtures/zookeeper/SOURCES.md`): open on a root listing that
//! holds /zookeeper, auth-required on SESSIONCLOSEDREQUIRESASLAUTH, NOAUTH and a hang-up,
//! undetermined on listings no server sends, and no finding at all for look-alike
//! ConnectResponses, other protocols and silence. The fake parses every frame it is sent
//! the way ZooKeeper does, so each test also checks that only a ConnectRequest,
//! `getChildren /`, `closeSession` and `srvr` went out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ajar::finding::{Exposure, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::trace::Trace;
use ajar::probe::zookeeper;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// ZooKeeper 3.8.0's ConnectResponse to a new session (37 bytes, readOnly false).
const CONNECT: &[u8] = include_bytes!("fixtures/zookeeper/connect-response-3.8.0.bin");
/// Its reply to getChildren / on a server holding /ajar_probe.
const CHILDREN: &[u8] = include_bytes!("fixtures/zookeeper/children-root-3.8.0.bin");
/// Its reply to closeSession.
const CLOSE: &[u8] = include_bytes!("fixtures/zookeeper/close-session-3.8.0.bin");
/// Its `srvr` answer.
const SRVR: &[u8] = include_bytes!("fixtures/zookeeper/srvr-3.8.0.txt");
/// getChildren / on a server with sessionRequireClientSASLAuth=true: err -124.
const SASL_REQUIRED: &[u8] = include_bytes!("fixtures/zookeeper/children-sasl-required-3.8.0.bin");
/// getChildren / when the ACL of / denies 127.0.0.1: err -102.
const NOAUTH: &[u8] = include_bytes!("fixtures/zookeeper/children-noauth-3.8.0.bin");
/// A four-letter word outside the whitelist.
const NOT_WHITELISTED: &[u8] = include_bytes!("fixtures/zookeeper/mntr-not-whitelisted-3.8.0.txt");

/// The evidence requests, as the probe writes them.
const REQ_CONNECT: &str =
    "ConnectRequest (protocolVersion 0, sessionId 0, timeOut 10000, readOnly false)";
const REQ_LIST: &str = "getChildren / (op 8, xid 1, watch false)";
const REQ_CLOSE: &str = "closeSession (op -11, xid 2)";
const CONNECT_FACTS: &str =
    "ConnectResponse: timeOut 10000 ms, sessionId 0x1000107a6880002, readOnly false";
const SRVR_FACTS: &str = "Zookeeper version: 3.8.0, Mode: standalone, Node count: 6";

/// What a fake answers.
#[derive(Clone)]
struct Script {
    /// The reply to a ConnectRequest.
    connect: Vec<u8>,
    /// The reply to getChildren; `None` hangs up instead.
    children: Option<Vec<u8>>,
    /// Whether the server closes the connection right after the getChildren reply (as
    /// it does after -124).
    close_after_children: bool,
    /// The answer to `srvr`.
    srvr: Vec<u8>,
}

impl Script {
    fn open() -> Script {
        Script {
            connect: CONNECT.to_vec(),
            children: Some(CHILDREN.to_vec()),
            close_after_children: false,
            srvr: SRVR.to_vec(),
        }
    }

    fn children(reply: Vec<u8>) -> Script {
        Script {
            children: Some(reply),
            ..Script::open()
        }
    }
}

/// What the fake was sent, over all its connections: `connect`, `getChildren / watch=false`,
/// `closeSession`, `op N`, `4lw WORD`.
type Log = Arc<Mutex<Vec<String>>>;

async fn zk_server(script: Script, tls: bool) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(tls, move |conn: BoxConn| {
        let (script, seen) = (script.clone(), seen.clone());
        async move { session(conn, &script, &seen).await }
    })
    .await;
    (server, log)
}

fn note(log: &Log, line: String) {
    log.lock().expect("log").push(line);
}

fn be32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// One connection, handled as NIOServerCnxn does: four lowercase letters are a four-letter
/// word, anything else a frame length; a length over jute.maxbuffer closes the connection.
async fn session(mut conn: BoxConn, script: &Script, log: &Log) {
    let mut first = true;
    loop {
        let mut len = [0u8; 4];
        if conn.read_exact(&mut len).await.is_err() {
            return;
        }
        if first && len.iter().all(u8::is_ascii_lowercase) {
            let word = String::from_utf8_lossy(&len).into_owned();
            note(log, format!("4lw {word}"));
            let answer = if word == "srvr" {
                &script.srvr[..]
            } else {
                NOT_WHITELISTED
            };
            let _ = conn.write_all(answer).await;
            return;
        }
        let Ok(n) = usize::try_from(be32(&len)) else {
            return;
        };
        if n > 0xfffff {
            return;
        }
        let mut body = vec![0u8; n];
        if conn.read_exact(&mut body).await.is_err() {
            return;
        }
        if first {
            first = false;
            if !(n == 44 || n == 45) || be32(&body) != 0 {
                return;
            }
            note(log, "connect".into());
            if conn.write_all(&script.connect).await.is_err() {
                return;
            }
            continue;
        }
        if n < 8 {
            return;
        }
        match be32(&body[4..]) {
            8 => {
                let path_len = usize::try_from(be32(&body[8..])).unwrap_or(0);
                let path = String::from_utf8_lossy(&body[12..12 + path_len]).into_owned();
                let watch = body[12 + path_len] != 0;
                note(log, format!("getChildren {path} watch={watch}"));
                let Some(reply) = &script.children else {
                    return;
                };
                if conn.write_all(reply).await.is_err() || script.close_after_children {
                    return;
                }
            }
            -11 => {
                note(log, "closeSession".into());
                let _ = conn.write_all(CLOSE).await;
                return;
            }
            op => {
                note(log, format!("op {op}"));
                return;
            }
        }
    }
}

/// Runs the ZooKeeper probe alone on `server`.
async fn probe_over(server: &FakeServer, tls: bool, timeout: Duration) -> (ProbeOutcome, Trace) {
    let cx = support::context(timeout);
    let mut trace = Trace::new(server.addr);
    trace.set_probe("zookeeper");
    let outcome = zookeeper::probe(&cx, &server.endpoint(), tls, &mut trace).await;
    (outcome, trace)
}

async fn probe_direct(server: &FakeServer) -> (ProbeOutcome, Trace) {
    probe_over(server, false, Duration::from_secs(2)).await
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().expect("log").clone()
}

fn exchanges(trace: &Trace) -> Vec<(&str, &str)> {
    trace
        .entries()
        .iter()
        .map(|e| (e.request.as_str(), e.response.as_str()))
        .collect()
}

fn found(outcome: ProbeOutcome) -> ajar::finding::Finding {
    match outcome {
        ProbeOutcome::Found(finding) => *finding,
        other => panic!("expected a finding, got {other:?}"),
    }
}

/// A getChildren reply with the fixture's header (xid 1, zxid 4, err 0) and these names.
fn children_reply(names: &[&str]) -> Vec<u8> {
    let mut body = CHILDREN[4..20].to_vec();
    body.extend_from_slice(&(names.len() as i32).to_be_bytes());
    for name in names {
        body.extend_from_slice(&(name.len() as i32).to_be_bytes());
        body.extend_from_slice(name.as_bytes());
    }
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend(body);
    frame
}

const ALL_FOUR: [&str; 4] = [
    "connect",
    "getChildren / watch=false",
    "closeSession",
    "4lw srvr",
];

#[tokio::test]
async fn open_root_listing_through_the_engine() {
    let (server, log) = zk_server(Script::open(), false).await;
    // A kernel-chosen port, not 2181: detection finds ZooKeeper by its protocol.
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "zookeeper");
    assert_eq!(finding.check, "zookeeper-open");
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.version.as_deref(), Some("3.8.0"));
    assert!(!finding.tls);
    assert_eq!(
        finding.summary,
        "ZooKeeper 3.8.0 lists the root znodes without credentials: 2 under / (1 besides /zookeeper; names only)"
    );
    let details: Vec<(&str, &str)> = finding
        .details
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            ("session_timeout_ms", "10000"),
            ("mode", "standalone"),
            ("znodes", "6")
        ]
    );
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "znode");
    let items: Vec<(&str, bool)> = inventory
        .items
        .iter()
        .map(|i| (i.name.as_str(), i.system))
        .collect();
    assert_eq!(items, [("ajar_probe", false), ("zookeeper", true)]);
    assert_eq!((inventory.total_items, inventory.user_items), (2, 1));
    assert!(!inventory.truncated);
    assert_eq!(
        support::requests(&finding),
        [REQ_CONNECT, REQ_LIST, REQ_CLOSE, "srvr"]
    );
    assert_eq!(finding.evidence[0].response, CONNECT_FACTS);
    assert_eq!(
        finding.evidence[1].response,
        "reply xid 1, err 0: 2 children: zookeeper, ajar_probe"
    );
    assert_eq!(
        finding.evidence[2].response,
        "reply xid 2, err 0 (session closed)"
    );
    assert_eq!(finding.evidence[3].response, SRVR_FACTS);
    assert!(
        finding
            .references
            .iter()
            .any(|r| r.contains("sc_authOptions"))
    );
    assert!(
        finding
            .remediation
            .as_deref()
            .is_some_and(|r| r.contains("enforce.auth.enabled"))
    );
    // Whatever other probes sent first, ZooKeeper itself got a session, one listing, a
    // close and srvr: never getData (op 4), exists (3) or a write.
    let sent = lines(&log);
    for want in ALL_FOUR {
        assert!(sent.iter().any(|l| l == want), "{want}: {sent:?}");
    }
    assert!(sent.iter().all(|l| !l.starts_with("op ")), "{sent:?}");
}

#[tokio::test]
async fn open_alone_sends_exactly_four_things() {
    let (server, log) = zk_server(Script::open(), false).await;
    let (outcome, trace) = probe_direct(&server).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(lines(&log), ALL_FOUR);
    assert_eq!(exchanges(&trace).len(), 4);
}

#[tokio::test]
async fn only_the_system_znode_is_open_but_medium() {
    let (server, log) = zk_server(Script::children(children_reply(&["zookeeper"])), false).await;
    let finding = found(probe_direct(&server).await.0);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::Medium);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!((inventory.total_items, inventory.user_items), (1, 0));
    assert_eq!(lines(&log), ALL_FOUR);
}

#[tokio::test]
async fn sasl_required_is_auth_required_and_not_closed_twice() {
    let script = Script {
        close_after_children: true,
        ..Script::children(SASL_REQUIRED.to_vec())
    };
    let (server, log) = zk_server(script, false).await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "zookeeper");
    assert_eq!(finding.check, "zookeeper-auth-required");
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.version.as_deref(), Some("3.8.0"));
    assert!(finding.inventory.is_none());
    assert!(finding.remediation.is_none());
    assert_eq!(support::requests(&finding), [REQ_CONNECT, REQ_LIST, "srvr"]);
    assert_eq!(
        finding.evidence[1].response,
        "reply xid 1, err -124 SESSIONCLOSEDREQUIRESASLAUTH (session closed: the server requires authentication)"
    );
    let sent = lines(&log);
    assert!(!sent.contains(&"closeSession".to_string()), "{sent:?}");
    assert!(
        sent.contains(&"getChildren / watch=false".to_string()),
        "{sent:?}"
    );
}

#[tokio::test]
async fn noauth_on_root_is_auth_required() {
    let (server, log) = zk_server(Script::children(NOAUTH.to_vec()), false).await;
    let (outcome, trace) = probe_direct(&server).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(
        finding.summary,
        "ZooKeeper 3.8.0 refuses to list / without credentials: NOAUTH (its ACL denies the world)"
    );
    assert_eq!(
        exchanges(&trace)[1],
        (
            REQ_LIST,
            "reply xid 1, err -102 NOAUTH (the ACL of / denies this session)"
        )
    );
    // The session is still open after NOAUTH, so the probe closes it.
    assert_eq!(lines(&log), ALL_FOUR);
}

#[tokio::test]
async fn hang_up_after_the_session_is_auth_required() {
    let script = Script {
        children: None,
        ..Script::open()
    };
    let (server, log) = zk_server(script, false).await;
    let (outcome, trace) = probe_direct(&server).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(
        finding.summary,
        "ZooKeeper 3.8.0 hung up on getChildren / without an answer after giving a session: taken as a refusal of unauthenticated sessions"
    );
    assert_eq!(
        exchanges(&trace)[1],
        (REQ_LIST, "connection closed without an answer")
    );
    assert_eq!(
        lines(&log),
        ["connect", "getChildren / watch=false", "4lw srvr"]
    );
}

#[tokio::test]
async fn refused_srvr_leaves_the_version_unknown() {
    let script = Script {
        srvr: NOT_WHITELISTED.to_vec(),
        ..Script::open()
    };
    let (server, _) = zk_server(script, false).await;
    let (outcome, trace) = probe_direct(&server).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.version, None);
    assert_eq!(
        finding.summary,
        "ZooKeeper lists the root znodes without credentials: 2 under / (1 besides /zookeeper; names only)"
    );
    assert_eq!(
        exchanges(&trace)[3],
        (
            "srvr",
            "\"mntr is not executed because it is not in the whitelist.\"; version unknown"
        )
    );
    assert_eq!(
        finding.details,
        [("session_timeout_ms".to_string(), "10000".to_string())]
    );
}

/// Listings after a real ConnectResponse that no ZooKeeper sends: undetermined, never open.
#[tokio::test]
async fn odd_listings_are_undetermined() {
    let mut trailing = children_reply(&["zookeeper"]);
    trailing.push(0);
    let len = (trailing.len() - 4) as u32;
    trailing[..4].copy_from_slice(&len.to_be_bytes());
    let mut wrong_xid = CHILDREN.to_vec();
    wrong_xid[7] = 9;
    let mut other_error = NOAUTH.to_vec();
    other_error[16..20].copy_from_slice(&(-101i32).to_be_bytes());
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "no /zookeeper",
            children_reply(&["ajar_probe"]),
            "reply xid 1, err 0: 1 children: ajar_probe",
        ),
        (
            "a name with a slash",
            children_reply(&["zookeeper", "a/b"]),
            "reply xid 1, err 0, but a child name no znode can have",
        ),
        (
            "trailing bytes",
            trailing,
            "reply xid 1, err 0, but bytes after the last child name",
        ),
        ("another xid", wrong_xid, "reply xid 9, not 1"),
        ("NONODE on /", other_error, "reply xid 1, err -101"),
    ];
    for (what, reply, evidence) in cases {
        let (server, _) = zk_server(Script::children(reply), false).await;
        let (outcome, trace) = probe_direct(&server).await;
        let finding = found(outcome);
        assert_eq!(finding.exposure, Exposure::Undetermined, "{what}");
        assert_eq!(finding.severity, Severity::Low, "{what}");
        assert!(finding.inventory.is_none(), "{what}");
        assert_eq!(exchanges(&trace)[1], (REQ_LIST, evidence), "{what}");
    }
}

/// ConnectResponses that are not ZooKeeper's, and other protocols' answers: no finding.
#[tokio::test]
async fn lookalikes_are_not_zookeeper() {
    let mut version_one = CONNECT.to_vec();
    version_one[7] = 1;
    let mut expired = CONNECT.to_vec();
    expired[8..12].copy_from_slice(&[0; 4]);
    let mut short_password = CONNECT.to_vec();
    short_password[23] = 8;
    let cases: [(&str, Vec<u8>); 6] = [
        ("protocolVersion 1", version_one),
        ("timeOut 0 (session expired)", expired),
        ("an 8-byte password", short_password),
        (
            "an HTTP answer",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ),
        ("a Redis error", b"-ERR unknown command\r\n".to_vec()),
        ("an echo of the request", ajar_connect_request()),
    ];
    for (what, connect) in cases {
        let script = Script {
            connect,
            ..Script::open()
        };
        let (server, log) = zk_server(script, false).await;
        let started = Instant::now();
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
            "{what}: {outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: at once"
        );
        assert_eq!(
            lines(&log),
            ["connect"],
            "{what}: nothing after the ConnectRequest"
        );
    }
}

/// The probe's own ConnectRequest, as an echo server would send it back (49 bytes).
fn ajar_connect_request() -> Vec<u8> {
    let mut out = vec![0, 0, 0, 45];
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&10_000i32.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&16i32.to_be_bytes());
    out.extend_from_slice(&[0; 17]);
    out
}

/// A ConnectResponse without the readOnly byte (servers before 3.4) still identifies.
#[tokio::test]
async fn connect_response_without_read_only_flag() {
    let mut old = CONNECT[..40].to_vec();
    old[3] = 36;
    let (server, _) = zk_server(
        Script {
            connect: old,
            ..Script::open()
        },
        false,
    )
    .await;
    let (outcome, trace) = probe_direct(&server).await;
    assert_eq!(found(outcome).exposure, Exposure::Open);
    assert_eq!(
        exchanges(&trace)[0].1,
        "ConnectResponse: timeOut 10000 ms, sessionId 0x1000107a6880002"
    );
}

/// Servers of other protocols on the port, and silence: nothing, quickly.
#[tokio::test]
async fn other_servers_and_silence() {
    // An HTTP server answers the binary request with 400 and closes.
    let http = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            )
            .await;
    })
    .await;
    // Redis reads binary bytes as an inline command.
    let redis = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"-ERR unknown command '\\x00\\x00\\x00-', with args beginning with: \r\n")
            .await;
        let _ = conn.read(&mut buf).await;
    })
    .await;
    for (what, server) in [("http", &http), ("redis", &redis)] {
        let started = Instant::now();
        let (outcome, trace) = probe_direct(server).await;
        assert!(
            matches!(outcome, ProbeOutcome::NotThis { .. }),
            "{what}: {outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: at once"
        );
        assert!(
            trace.entries()[0]
                .response
                .starts_with("not a ConnectResponse"),
            "{what}"
        );
    }
    let silent = serve(false, |mut conn: BoxConn| async move {
        let mut sink = [0u8; 64];
        while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let (outcome, _) = probe_over(&silent, false, Duration::from_millis(300)).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    // Through the engine, none of them is ZooKeeper.
    for server in [&http, &redis] {
        let outcome = support::probe(&server.endpoint()).await;
        assert!(
            !matches!(&outcome, Outcome::Found(f) if f.service == "zookeeper"),
            "{outcome:?}"
        );
    }
}

/// A ConnectResponse cut short and then stalled is not ZooKeeper, within one step.
#[tokio::test]
async fn stalled_connect_response() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 49];
        let _ = conn.read_exact(&mut buf).await;
        let _ = conn.write_all(&CONNECT[..10]).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let started = Instant::now();
    let (outcome, _) = probe_over(&server, false, Duration::from_millis(300)).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// A listing far past the read cap is read up to the cap, reported truncated, and the
/// session is closed without waiting for the rest.
#[tokio::test]
async fn huge_listing_is_bounded() {
    let names: Vec<String> = (0..20_000).map(|i| format!("node{i:05}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (server, log) = zk_server(Script::children(children_reply(&refs)), false).await;
    let started = Instant::now();
    let (outcome, trace) = probe_direct(&server).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.severity, Severity::High);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert!(inventory.truncated);
    assert_eq!(inventory.total_items, 20_000);
    // 64 KiB of 13-byte entries, at most the item cap of 1000.
    assert_eq!(inventory.items.len(), 1000);
    assert_eq!(
        exchanges(&trace)[2],
        (
            REQ_CLOSE,
            "sent; reply not awaited (the listing was cut at the read cap)"
        )
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(lines(&log).contains(&"4lw srvr".to_string()));
}

/// secureClientPort: plain bytes get no answer over TLS, so the probe asks for TLS, and
/// over TLS the same session is open.
#[tokio::test]
async fn tls_port_wants_tls_then_is_open() {
    let (server, _) = zk_server(Script::open(), true).await;
    let (outcome, _) = probe_over(&server, false, Duration::from_secs(2)).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    let (outcome, _) = probe_over(&server, true, Duration::from_secs(2)).await;
    let finding = found(outcome);
    assert_eq!(finding.exposure, Exposure::Open);
    assert!(finding.tls);
    assert_eq!(finding.version.as_deref(), Some("3.8.0"));
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(finding.service, "zookeeper");
    assert_eq!(finding.exposure, Exposure::Open);
    assert!(finding.tls);
}
