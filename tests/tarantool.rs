//! The Tarantool probe against fake servers replaying bytes captured from Tarantool 2.6.0
//! (`tests/fixtures/tarantool/SOURCES.md`): open when guest sees a user space in
//! `_vspace`, auth-required when it sees only system spaces or may not read `_vspace`,
//! undetermined on other errors, a Lua console or a broken reply, and nothing at all for
//! other protocols. Every fake records what it was sent, so each test also checks that the
//! one request was the SELECT on `_vspace`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::tarantool;
use ajar::probe::trace::Trace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

const GREETING: &[u8] = include_bytes!("fixtures/tarantool/greeting-2.6.0.bin");
const CONSOLE: &[u8] = include_bytes!("fixtures/tarantool/console-greeting-2.6.0.bin");
const GRANTED: &[u8] = include_bytes!("fixtures/tarantool/vspace-guest-granted-2.6.0.bin");
const DEFAULT: &[u8] = include_bytes!("fixtures/tarantool/vspace-guest-default-2.6.0.bin");
const DENIED: &[u8] = include_bytes!("fixtures/tarantool/vspace-denied-2.6.0.bin");
const NO_SUCH_SPACE: &[u8] = include_bytes!("fixtures/tarantool/no-such-space-2.6.0.bin");

/// The probe's one request: SELECT (1), sync 1, space 281, index 0, limit 1000, offset 0,
/// iterator ALL (2), key [] (the docs' "Binary protocol" layout, byte by byte).
const SELECT_VSPACE: &[u8] = &[
    0xce, 0, 0, 0, 0x16, 0x82, 0x00, 0x01, 0x01, 0x01, 0x86, 0x10, 0xcd, 0x01, 0x19, 0x11, 0x00,
    0x12, 0xcd, 0x03, 0xe8, 0x13, 0x00, 0x14, 0x02, 0x20, 0x90,
];
const GUEST_UUID: &str = "d746a255-564b-44d3-a522-8f66397bf95d";
const EXPECTED_GREETING: &str = "greeting: Tarantool 2.6.0 (Binary), instance d746a255-564b-44d3-a522-8f66397bf95d, salt of 44 characters";
const REQUEST: &str = "IPROTO SELECT space 281 (_vspace) iterator ALL limit 1000";

/// The requests a fake received, over all its connections.
type Log = Arc<Mutex<Vec<Vec<u8>>>>;

/// A fake that greets with `greeting`, reads one IPROTO request and answers `reply`.
async fn fake(greeting: &'static [u8], reply: Vec<u8>) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(false, move |mut conn: BoxConn| {
        let (reply, seen) = (reply.clone(), seen.clone());
        async move {
            if conn.write_all(greeting).await.is_err() {
                return;
            }
            let mut head = [0u8; 5];
            if conn.read_exact(&mut head).await.is_err() || head[0] != 0xce {
                return;
            }
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            let mut body = vec![0u8; len.min(4096)];
            if conn.read_exact(&mut body).await.is_err() {
                return;
            }
            let mut request = head.to_vec();
            request.extend_from_slice(&body);
            seen.lock().expect("log").push(request);
            let _ = conn.write_all(&reply).await;
            // Anything sent after the reply is logged too, and fails the tests.
            let mut more = [0u8; 4096];
            let later = tokio::time::timeout(Duration::from_secs(3), conn.read(&mut more));
            if let Ok(Ok(n)) = later.await
                && n > 0
            {
                seen.lock().expect("log").push(more[..n].to_vec());
            }
        }
    })
    .await;
    (server, log)
}

async fn scan(server: &FakeServer) -> Finding {
    support::found(support::probe(&server.endpoint()).await)
}

fn requests(log: &Log) -> Vec<Vec<u8>> {
    log.lock().expect("log").clone()
}

/// Every request of a test: the one SELECT on `_vspace` per connection, nothing else.
fn only_vspace_selects(log: &Log) {
    let sent = requests(log);
    assert!(!sent.is_empty(), "no request reached the fake");
    for request in sent {
        assert_eq!(request, SELECT_VSPACE);
    }
}

fn detail<'a>(f: &'a Finding, key: &str) -> Option<&'a str> {
    f.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn guest_granted_a_user_space_is_open_with_its_name() {
    let (server, log) = fake(GREETING, GRANTED.to_vec()).await;
    let f = scan(&server).await;
    assert_eq!(f.service, "tarantool");
    assert_eq!(f.check, "tarantool-open");
    assert_eq!(f.exposure, Exposure::Open);
    // Names only, no counts: a user space of unknown size keeps the service's severity.
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some("2.6.0"));
    assert!(!f.tls);
    assert_eq!(
        f.summary,
        "guest (no login) has rights on 1 user space: ajar_probe_space"
    );
    assert_eq!(
        f.details,
        [
            ("protocol", "Binary"),
            ("instance_uuid", GUEST_UUID),
            ("session_user", "guest"),
            ("system_spaces_visible", "9"),
            ("engine", "memtx"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "space");
    let names: Vec<&str> = inventory.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["ajar_probe_space"]);
    assert!(!inventory.items[0].system);
    assert_eq!(inventory.items[0].documents, None);
    assert_eq!((inventory.total_items, inventory.user_items), (1, 1));
    assert!(!inventory.truncated);
    assert_eq!(support::requests(&f), ["(connect and listen)", REQUEST]);
    assert_eq!(f.evidence[0].response, EXPECTED_GREETING);
    assert_eq!(
        f.evidence[1].response,
        "OK: 10 spaces visible to guest, 1 user space (id >= 512): ajar_probe_space"
    );
    assert!(
        f.remediation
            .as_deref()
            .is_some_and(|r| r.contains("revoke"))
    );
    only_vspace_selects(&log);
}

#[tokio::test]
async fn guest_with_default_rights_sees_system_spaces_only_and_is_auth_required() {
    let (server, log) = fake(GREETING, DEFAULT.to_vec()).await;
    let f = scan(&server).await;
    assert_eq!(f.check, "tarantool-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.version.as_deref(), Some("2.6.0"));
    assert!(f.inventory.is_none());
    assert_eq!(detail(&f, "system_spaces_visible"), Some("9"));
    assert_eq!(
        f.evidence[1].response,
        "OK: 9 spaces visible to guest, all system spaces (id < 512)"
    );
    assert!(f.summary.starts_with("guest sees only system spaces"));
    only_vspace_selects(&log);
}

#[tokio::test]
async fn vspace_access_denied_is_auth_required() {
    let (server, log) = fake(GREETING, DENIED.to_vec()).await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.evidence[1].response,
        "error 42: Read access to space '_vspace' is denied for user 'guest'"
    );
    assert_eq!(
        f.summary,
        "guest may not read _vspace (Read access to space '_vspace' is denied for user 'guest'): a login is needed"
    );
    only_vspace_selects(&log);
}

#[tokio::test]
async fn other_errors_are_undetermined() {
    let (server, log) = fake(GREETING, NO_SUCH_SPACE.to_vec()).await;
    let f = scan(&server).await;
    assert_eq!(f.check, "tarantool-undetermined");
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(
        f.summary,
        "_vspace refused with error 36: Space '9999' does not exist"
    );
    only_vspace_selects(&log);
}

#[tokio::test]
async fn lua_console_is_tarantool_but_nothing_is_sent() {
    let (server, log) = fake(CONSOLE, Vec::new()).await;
    let f = scan(&server).await;
    assert_eq!(f.service, "tarantool");
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.version.as_deref(), Some("2.6.0"));
    assert_eq!(detail(&f, "protocol"), Some("Lua console"));
    assert_eq!(support::requests(&f), ["(connect and listen)"]);
    assert_eq!(
        f.evidence[0].response,
        "greeting: Tarantool 2.6.0 (Lua console)"
    );
    assert!(requests(&log).is_empty(), "no Lua goes to a console");
}

/// The granted reply with its tuple count raised and zero bytes after the real tuples,
/// `total` bytes long: a reply over the probe's 1 MiB cap.
fn oversized_reply(total: usize) -> Vec<u8> {
    let mut packet = GRANTED[5..].to_vec();
    let at = packet
        .windows(6)
        .position(|w| w == [0x30, 0xdd, 0, 0, 0, 0x0a])
        .expect("IPROTO_DATA array32 of 10");
    packet[at + 2..at + 6].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    packet.resize(total, 0);
    let mut reply = vec![0xce];
    reply.extend_from_slice(&(total as u32).to_be_bytes());
    reply.extend_from_slice(&packet);
    reply
}

#[tokio::test]
async fn a_reply_over_the_cap_keeps_its_whole_tuples_and_says_truncated() {
    let (server, _) = fake(GREETING, oversized_reply((1 << 20) + 100)).await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::Open);
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.items[0].name, "ajar_probe_space");
    assert!(inventory.truncated);
    assert!(
        f.evidence[1]
            .response
            .contains("(more may exist past the limit)")
    );
}

#[tokio::test]
async fn broken_replies_after_a_real_greeting_are_undetermined_never_open() {
    // The granted reply under another sync id.
    let mut other_sync = GRANTED.to_vec();
    let at = other_sync
        .windows(10)
        .position(|w| w == [0x01, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x01])
        .expect("sync");
    other_sync[at + 9] = 7;
    // The granted reply cut in the middle (the size prefix still says the whole).
    let cut = GRANTED[..GRANTED.len() / 2].to_vec();
    // A 4 GiB size prefix, then nothing.
    let huge = vec![0xce, 0xff, 0xff, 0xff, 0xff];
    // Text where MessagePack belongs.
    let text = b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec();
    for (reply, want) in [
        (
            other_sync,
            "greeted, then sent a reply that is not well-formed IPROTO",
        ),
        (cut, "greeted, then no answer before the timeout"),
        (huge, "greeted, then no answer before the timeout"),
        (
            text,
            "greeted, then sent a reply that is not well-formed IPROTO",
        ),
    ] {
        let (server, _) = fake(GREETING, reply).await;
        let cx = support::context(Duration::from_millis(500));
        let mut trace = Trace::new(server.addr);
        let outcome = tarantool::probe(&cx, &server.endpoint(), false, &mut trace).await;
        let ProbeOutcome::Found(f) = outcome else {
            panic!("expected a finding: {outcome:?}");
        };
        assert_eq!(f.exposure, Exposure::Undetermined, "{want}");
        assert_eq!(f.summary, want);
        assert!(f.inventory.is_none());
    }
}

#[tokio::test]
async fn greetings_of_other_protocols_are_not_tarantool() {
    let greets = tarantool::PROBE.greeting.expect("server-first");
    assert!(greets(GREETING));
    assert!(greets(CONSOLE));
    for bytes in [
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".as_slice(),
        b"@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n",
        b"Tarantool is a database\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    ] {
        assert!(!greets(bytes), "{bytes:?}");
    }
    // A 128-byte greeting whose first line names no Tarantool: not this, at once.
    let mut fake_greeting = GREETING.to_vec();
    fake_greeting[..9].copy_from_slice(b"Tarantula");
    let server = serve(false, move |mut conn: BoxConn| {
        let bytes = fake_greeting.clone();
        async move {
            let _ = conn.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    })
    .await;
    // An SSH banner, shorter than a greeting, then silence: not this, without waiting.
    let ssh = serve(false, move |mut conn: BoxConn| async move {
        let _ = conn.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let cx = support::context(Duration::from_secs(2));
    for server in [&server, &ssh] {
        let mut trace = Trace::new(server.addr);
        let started = std::time::Instant::now();
        let outcome = tarantool::probe(&cx, &server.endpoint(), false, &mut trace).await;
        assert!(
            matches!(&outcome, ProbeOutcome::NotThis { note, .. } if note.starts_with("not a Tarantool greeting")),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}

#[tokio::test]
async fn http_redis_and_silent_ports_are_not_tarantool() {
    let cx = support::context(Duration::from_millis(400));
    // An HTTP server and a Redis both wait for the client: no greeting, so silence.
    let http = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 1024];
        if conn.read(&mut buf).await.is_ok_and(|n| n > 0) {
            let _ = conn
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    })
    .await;
    let redis = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 1024];
        if conn.read(&mut buf).await.is_ok_and(|n| n > 0) {
            let _ = conn.write_all(b"-ERR unknown command\r\n").await;
        }
    })
    .await;
    let silent = serve(false, |conn: BoxConn| async move {
        let _held = conn;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    for server in [&http, &redis, &silent] {
        let mut trace = Trace::new(server.addr);
        let started = std::time::Instant::now();
        let outcome = tarantool::probe(&cx, &server.endpoint(), false, &mut trace).await;
        assert_eq!(outcome, ProbeOutcome::Silent);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            trace.entries()[0].response,
            "no greeting before the timeout"
        );
    }
    // Over TLS: not this protocol, without connecting.
    let mut trace = Trace::new(http.addr);
    let outcome = tarantool::probe(&cx, &http.endpoint(), true, &mut trace).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
    // Through the engine the HTTP server is never taken for Tarantool.
    let outcome = support::probe(&http.endpoint()).await;
    assert!(
        !matches!(&outcome, Outcome::Found(f) if f.service == "tarantool"),
        "{outcome:?}"
    );
}
