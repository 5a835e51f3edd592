//! MySQL / MariaDB probe tests: fake servers on loopback replay packets captured from
//! Debian's MariaDB 10.11.19 and documented for MySQL 8.0.32 (`tests/fixtures/mysql/`,
//! SOURCES.md), and log every byte the probe sends, so each test also checks what was (and
//! was not) sent.
//!
//! The scans run the whole per-endpoint engine on a random port: the server-first greeting
//! routes the endpoint to the MySQL probe, never the port number.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::mysql::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The packets of a fixture file, one per line.
fn fixture(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/fixtures/mysql/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| hex(l.trim()))
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The packets every connection received, as (sequence id, payload).
type Log = Arc<Mutex<Vec<(u8, Vec<u8>)>>>;

/// A fake server: sends `greeting` on accept, then answers the n-th packet it receives
/// with `replies[n]` (all its packets, in one write); stops reading once HTTP shows up.
async fn fake(greeting: Vec<Vec<u8>>, replies: Vec<Vec<Vec<u8>>>) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let greeting = Arc::new(greeting.concat());
    let replies = Arc::new(replies);
    let server = serve(false, move |conn: BoxConn| {
        let (log, greeting, replies) = (seen.clone(), greeting.clone(), replies.clone());
        async move { session(conn, &greeting, &replies, &log).await }
    })
    .await;
    (server, log)
}

async fn session(mut conn: BoxConn, greeting: &[u8], replies: &[Vec<Vec<u8>>], log: &Log) {
    if conn.write_all(greeting).await.is_err() {
        return;
    }
    for reply in replies.iter().map(Some).chain(std::iter::repeat(None)) {
        let mut head = [0u8; 4];
        if conn.read_exact(&mut head).await.is_err() || head.starts_with(b"GET ") {
            return;
        }
        let len = usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16;
        let mut payload = vec![0u8; len.min(1 << 16)];
        if conn.read_exact(&mut payload).await.is_err() {
            return;
        }
        log.lock().expect("log").push((head[3], payload));
        match reply {
            Some(packets) => {
                if conn.write_all(&packets.concat()).await.is_err() {
                    return;
                }
            }
            None => return,
        }
    }
}

async fn scan(server: &FakeServer, default_credentials: bool) -> Finding {
    let cx = support::context(Duration::from_secs(2)).with_default_credentials(default_credentials);
    support::found(ajar::scan::probe_endpoint(&cx, &server.endpoint()).await)
}

fn detail<'a>(finding: &'a Finding, key: &str) -> Option<&'a str> {
    finding
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn names(finding: &Finding) -> Vec<(&str, bool)> {
    let inventory = finding.inventory.as_ref().expect("an inventory");
    inventory
        .items
        .iter()
        .map(|d| (d.name.as_str(), d.system))
        .collect()
}

/// The login the probe must send: HandshakeResponse41, user root, an empty auth response
/// and the server's plugin, never a password.
fn assert_empty_root_login(packet: &(u8, Vec<u8>), plugin: &str) {
    let (seq, payload) = packet;
    assert_eq!(*seq, 1);
    let caps = u32::from_le_bytes(payload[..4].try_into().expect("caps"));
    assert_ne!(caps & wire::CLIENT_PROTOCOL_41, 0);
    assert_ne!(caps & wire::CLIENT_PLUGIN_AUTH, 0);
    assert_eq!(&payload[8..9], &[45], "charset");
    assert_eq!(&payload[9..32], &[0u8; 23], "filler");
    let mut want = b"root\0\0".to_vec();
    want.extend_from_slice(plugin.as_bytes());
    want.push(0);
    assert_eq!(
        &payload[32..],
        want.as_slice(),
        "user, empty auth response, plugin"
    );
}

const MARIADB_NAMES: [(&str, bool); 5] = [
    ("ajar_probe_shop", false),
    ("information_schema", true),
    ("mysql", true),
    ("performance_schema", true),
    ("sys", true),
];

#[tokio::test]
async fn mariadb_plain_scan_reports_auth_required_and_sends_no_login() {
    let (server, log) = fake(fixture("mariadb-10.11-nopass-greeting.hex"), vec![]).await;
    let f = scan(&server, false).await;
    assert_eq!(f.service, "mysql");
    assert_eq!(f.check, "mysql-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.product.as_deref(), Some("MariaDB"));
    assert_eq!(f.version.as_deref(), Some("10.11.19"));
    assert_eq!(
        detail(&f, "server_version"),
        Some("5.5.5-10.11.19-MariaDB-0+deb12u1")
    );
    assert_eq!(detail(&f, "auth_plugin"), Some("mysql_native_password"));
    assert!(f.inventory.is_none());
    assert_eq!(support::requests(&f), ["(connect and listen)"]);
    assert!(
        f.evidence[0]
            .response
            .starts_with("handshake v10: server version")
    );
    assert_eq!(
        *log.lock().expect("log"),
        vec![],
        "a plain scan sends nothing"
    );
}

#[tokio::test]
async fn mariadb_root_without_password_is_default_credentials_with_database_names() {
    let replies = vec![
        fixture("mariadb-10.11-nopass-login-reply.hex"),
        fixture("mariadb-10.11-show-databases.hex"),
    ];
    let (server, log) = fake(fixture("mariadb-10.11-nopass-greeting.hex"), replies).await;
    let f = scan(&server, true).await;
    assert_eq!(f.check, "mysql-default-credentials");
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some("10.11.19"));
    assert_eq!(detail(&f, "user"), Some("root"));
    assert_eq!(names(&f), MARIADB_NAMES);
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(
        (inventory.unit.as_str(), inventory.total_items),
        ("database", 5)
    );
    assert_eq!((inventory.user_items, inventory.truncated), (1, false));
    assert_eq!(
        support::requests(&f),
        [
            "(connect and listen)",
            "HandshakeResponse41 user root, empty password, plugin mysql_native_password",
            "COM_QUERY SHOW DATABASES",
        ]
    );
    assert_eq!(f.evidence[1].response, "OK packet: logged in");
    assert_eq!(
        f.evidence[2].response,
        "result set of 5 rows: ajar_probe_shop, information_schema, mysql, performance_schema, sys"
    );
    // COM_QUIT is sent without waiting for the server: give the fake a moment to read it.
    for _ in 0..100 {
        if log.lock().expect("log").len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = log.lock().expect("log").clone();
    assert_eq!(log.len(), 3, "login, query, quit: {log:?}");
    assert_empty_root_login(&log[0], "mysql_native_password");
    assert_eq!(log[1], (0, b"\x03SHOW DATABASES".to_vec()));
    assert_eq!(log[2], (0, vec![0x01]), "COM_QUIT");
}

#[tokio::test]
async fn mariadb_root_with_password_is_auth_required_on_err_1045() {
    let replies = vec![fixture("mariadb-10.11-auth-login-reply.hex")];
    let (server, log) = fake(fixture("mariadb-10.11-nopass-greeting.hex"), replies).await;
    let f = scan(&server, true).await;
    assert_eq!(f.check, "mysql-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.summary,
        "root with an empty password is refused (ERR 1045)"
    );
    assert_eq!(
        f.evidence[1].response,
        "ERR 1045 (28000): Access denied for user 'root'@'127.0.0.1' (using password: NO)"
    );
    assert!(f.inventory.is_none());
    let log = log.lock().expect("log").clone();
    assert_eq!(log.len(), 1, "no query after a refused login: {log:?}");
    assert_empty_root_login(&log[0], "mysql_native_password");
}

#[tokio::test]
async fn host_not_allowed_err_greeting_is_mysql_auth_required() {
    let (server, log) = fake(fixture("mariadb-10.11-host-not-allowed.hex"), vec![]).await;
    for default_credentials in [false, true] {
        let f = scan(&server, default_credentials).await;
        assert_eq!(f.service, "mysql");
        assert_eq!(f.exposure, Exposure::AuthRequired);
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.version, None);
        assert_eq!(detail(&f, "error_code"), Some("1130"));
        assert_eq!(
            f.evidence[0].response,
            "ERR packet instead of a handshake: ERR 1130: Host '127.0.0.1' is not allowed to connect to this MariaDB server"
        );
    }
    assert_eq!(*log.lock().expect("log"), vec![]);
}

#[tokio::test]
async fn mysql_8_caching_sha2_root_without_password_lists_databases() {
    let replies = vec![
        fixture("mysql-8.0.32-login-ok.hex"),
        fixture("mariadb-10.11-show-databases.hex"),
    ];
    let (server, log) = fake(fixture("mysql-8.0.32-greeting.hex"), replies).await;
    let f = scan(&server, true).await;
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(f.product.as_deref(), Some("MySQL"));
    assert_eq!(f.version.as_deref(), Some("8.0.32"));
    assert_eq!(detail(&f, "auth_plugin"), Some("caching_sha2_password"));
    assert_eq!(names(&f), MARIADB_NAMES);
    let log = log.lock().expect("log").clone();
    assert_empty_root_login(&log[0], "caching_sha2_password");
}

#[tokio::test]
async fn auth_switch_to_caching_sha2_answers_one_zero_byte() {
    // AuthSwitchRequest (0xfe, plugin name, 20 bytes of scramble and a NUL), reconstructed
    // from https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html
    let mut switch = vec![0xfe];
    switch.extend_from_slice(b"caching_sha2_password\0");
    switch.extend_from_slice(&[0x41; 20]);
    switch.push(0);
    let replies = vec![
        vec![wire::packet(2, &switch)],
        vec![wire::packet(4, &hex("00000002000000"))],
        fixture("mariadb-10.11-show-databases.hex"),
    ];
    let (server, log) = fake(fixture("mariadb-10.11-nopass-greeting.hex"), replies).await;
    let f = scan(&server, true).await;
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(names(&f), MARIADB_NAMES);
    let log = log.lock().expect("log").clone();
    assert_eq!(log[1], (3, vec![0]), "the empty caching_sha2 answer");
}

#[tokio::test]
async fn oversized_or_missing_replies_are_undetermined_not_open() {
    // A login reply announcing 16 MiB: refused before any allocation.
    let huge = vec![vec![0xff, 0xff, 0xff, 0x02, 0x00]];
    let (server, _) = fake(fixture("mariadb-10.11-nopass-greeting.hex"), vec![huge]).await;
    let f = scan(&server, true).await;
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.severity, Severity::Low);
    assert!(
        f.summary.contains("over the 65536-byte cap"),
        "{}",
        f.summary
    );

    // OK, then a result set whose row is not one length-encoded string.
    let mut rows = fixture("mariadb-10.11-show-databases.hex");
    rows[3] = wire::packet(4, &[0x20, b'x']);
    let replies = vec![fixture("mariadb-10.11-nopass-login-reply.hex"), rows];
    let (server, _) = fake(fixture("mariadb-10.11-nopass-greeting.hex"), replies).await;
    let f = scan(&server, true).await;
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert!(f.inventory.is_none(), "no listing from a malformed row");
    assert!(
        f.summary
            .ends_with("SHOW DATABASES did not list: a malformed row"),
        "{}",
        f.summary
    );
}

#[tokio::test]
async fn non_mysql_greetings_are_not_routed_to_mysql() {
    assert!(wire::is_greeting(
        &fixture("mariadb-10.11-nopass-greeting.hex")[0]
    ));
    assert!(wire::is_greeting(&fixture("mysql-8.0.32-greeting.hex")[0]));
    assert!(wire::is_greeting(
        &fixture("mariadb-10.11-host-not-allowed.hex")[0]
    ));
    for bytes in [
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".as_slice(),
        b"220 mail ESMTP Postfix\r\n",
        b"+OK POP3 ready\r\n",
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        &[0x05, 0, 0, 1, 0x0a, b'8', b'.', b'0', 0], // sequence id 1
        &[0x05, 0, 0, 0, 0x0a, b'8', b'.', b'0', b'x'], // version without its NUL
        &[0x04, 0, 0, 0, 0xff, 0x10, 0x00, b'x'],    // ERR with error number 16
    ] {
        assert!(!wire::is_greeting(bytes), "{bytes:?}");
    }
    // An SSH server greeting an unpinned scan is not MySQL.
    let server = serve(false, |mut conn: BoxConn| async move {
        let _ = conn.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let outcome = support::probe(&server.endpoint()).await;
    assert!(
        matches!(&outcome, Outcome::Unidentified(note) if note.contains("SSH-2.0")),
        "{outcome:?}"
    );
}
