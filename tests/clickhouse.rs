//! ClickHouse native protocol tests: fake servers on loopback that decode the client's
//! Hello and Query as ClickHouse does and answer with the bytes of
//! `tests/fixtures/clickhouse/` (captured from Debian's clickhouse-server 18.16.1, or
//! reconstructed for 23.8 from ClickHouse's sources; see SOURCES.md). Each fake logs what
//! it received, so every test also checks that no password and no statement but
//! `SHOW DATABASES` was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::trace::Trace;
use ajar::probe::{Limits, ProbeContext, ProbeOutcome, clickhouse};
use ajar::targets::{Endpoint, Protocol};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// A fixture's bytes: hex files one packet a line, other files as they are.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/clickhouse/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if !name.ends_with(".hex") {
        return bytes;
    }
    let text = String::from_utf8(bytes).expect("hex text");
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What a fake received: the Hello's fields, then each statement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    /// Client name, revision, database, user, password.
    Hello(String, u64, String, String, String),
    /// A Query's statement, with the settings it carried (none expected).
    Query(String, String),
    /// Bytes that are neither.
    Other(Vec<u8>),
}

type Log = Arc<Mutex<Vec<Got>>>;

/// Reads a ClickHouse VarUInt and a String the way the server does (test-side decoder).
struct Reader<'a>(&'a [u8], usize);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.0.get(self.1)?;
        self.1 += 1;
        Some(b)
    }
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.varint()?).ok()?;
        let bytes = self.0.get(self.1..self.1 + len)?;
        self.1 += len;
        Some(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// One client Hello at the head of `buf`: its fields and length.
fn client_hello(buf: &[u8]) -> Option<(Got, usize)> {
    let mut r = Reader(buf, 0);
    if r.varint()? != 0 {
        return None;
    }
    let name = r.string()?;
    let (_major, _minor, revision) = (r.varint()?, r.varint()?, r.varint()?);
    let (database, user, password) = (r.string()?, r.string()?, r.string()?);
    Some((Got::Hello(name, revision, database, user, password), r.1))
}

/// One Query packet (revision 54401: ClientInfo with quota key and patch, settings in
/// the old binary form) and the empty Data block after it.
fn client_query(buf: &[u8]) -> Option<(Got, usize)> {
    let mut r = Reader(buf, 0);
    if r.varint()? != 1 {
        return None;
    }
    r.string()?; // query id
    assert_eq!(r.byte()?, 1, "query kind: initial");
    for _ in 0..3 {
        r.string()?; // initial user, query id, address
    }
    assert_eq!(r.byte()?, 1, "interface: TCP");
    for _ in 0..3 {
        r.string()?; // OS user, host name, client name
    }
    for _ in 0..3 {
        r.varint()?; // version, revision
    }
    r.string()?; // quota key
    r.varint()?; // patch
    let settings = r.string()?;
    assert_eq!(r.varint()?, 2, "stage: complete");
    assert_eq!(r.varint()?, 0, "no compression");
    let sql = r.string()?;
    // The empty block that ends the external tables.
    let block = buf.get(r.1..r.1 + 12)?;
    assert_eq!(block, [2, 0, 1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0]);
    Some((Got::Query(sql, settings), r.1 + 12))
}

/// What a fake answers: the Hello's reply, then each Query's in turn; queries past
/// those are logged and get no answer.
#[derive(Clone)]
struct Script {
    hello: Vec<u8>,
    answers: Vec<Vec<u8>>,
}

/// A fake ClickHouse server. Like 18.16's TCPHandler it answers an HTTP request line
/// with its notice and any other first byte but a Hello with Exception 101.
async fn fake(tls: bool, script: Script) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(tls, move |conn: BoxConn| {
        let (log, script) = (seen.clone(), script.clone());
        async move { session(conn, &script, &log).await }
    })
    .await;
    (server, log)
}

async fn read_until<T>(
    conn: &mut BoxConn,
    buf: &mut Vec<u8>,
    parse: fn(&[u8]) -> Option<T>,
) -> Option<T> {
    loop {
        if let Some(found) = parse(buf) {
            return Some(found);
        }
        let mut chunk = [0u8; 4096];
        match conn.read(&mut chunk).await {
            Ok(n) if n > 0 && buf.len() < 65_536 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

async fn session(mut conn: BoxConn, script: &Script, log: &Log) {
    let mut buf = Vec::new();
    let mut first = [0u8; 1];
    if conn.read_exact(&mut first).await.is_err() {
        return;
    }
    buf.push(first[0]);
    match first[0] {
        b'G' | b'P' => {
            let _ = conn.write_all(&fixture("18.16-http-get.txt")).await;
            return;
        }
        0 => {}
        _ => {
            log.lock().expect("log").push(Got::Other(buf.clone()));
            let _ = conn
                .write_all(&fixture("18.16-unexpected-packet.hex"))
                .await;
            return;
        }
    }
    let Some((hello, used)) = read_until(&mut conn, &mut buf, client_hello).await else {
        return;
    };
    log.lock().expect("log").push(hello);
    buf.drain(..used);
    if conn.write_all(&script.hello).await.is_err() {
        return;
    }
    for answer in &script.answers {
        let Some((query, used)) = read_until(&mut conn, &mut buf, client_query).await else {
            return;
        };
        log.lock().expect("log").push(query);
        buf.drain(..used);
        if conn.write_all(answer).await.is_err() {
            return;
        }
    }
    // Anything after the answers is logged: further queries, or other bytes.
    while let Some((query, used)) = read_until(&mut conn, &mut buf, client_query).await {
        log.lock().expect("log").push(query);
        buf.drain(..used);
    }
    if !buf.is_empty() {
        log.lock().expect("log").push(Got::Other(buf));
    }
}

fn script(hello: &str, answers: &[&str]) -> Script {
    Script {
        hello: fixture(hello),
        answers: answers.iter().map(|name| fixture(name)).collect(),
    }
}

fn got(log: &Log) -> Vec<Got> {
    log.lock().expect("log").clone()
}

/// The one Hello the probe must send: client ajar, revision 54401, no database, user
/// default, an empty password.
fn hello_sent() -> Got {
    Got::Hello(
        "ajar".into(),
        54401,
        String::new(),
        "default".into(),
        String::new(),
    )
}

fn show_databases_sent() -> Got {
    Got::Query("SHOW DATABASES".into(), String::new())
}

const TABLES: &str = "SELECT database, name FROM system.tables WHERE database NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA')";

fn tables_sent() -> Got {
    Got::Query(TABLES.into(), String::new())
}

/// The 18.16 answers to SHOW DATABASES and to the table listing.
const OPEN_18_16: &[&str] = &["18.16-show-databases.hex", "18.16-tables.hex"];

fn context(timeout: Duration) -> ProbeContext {
    support::context(timeout)
}

/// Scans the fake as a `clickhouse://` target would (the ClickHouse probe only).
async fn scan(server: &FakeServer) -> Finding {
    let endpoint = Endpoint {
        protocol: Protocol::Only("clickhouse"),
        ..server.endpoint()
    };
    let cx = context(Duration::from_secs(2));
    support::found(ajar::scan::probe_endpoint(&cx, &endpoint).await)
}

/// Runs the ClickHouse probe alone on the fake.
async fn probe_direct(cx: &ProbeContext, server: &FakeServer, tls: bool) -> (ProbeOutcome, Trace) {
    let mut trace = Trace::new(server.addr);
    let outcome = clickhouse::probe(cx, &server.endpoint(), tls, &mut trace).await;
    (outcome, trace)
}

fn evidence(finding: &Finding) -> Vec<(String, String)> {
    finding
        .evidence
        .iter()
        .map(|e| (format!("{} {}", e.probe, e.request), e.response.clone()))
        .collect()
}

fn detail<'a>(finding: &'a Finding, key: &str) -> Option<&'a str> {
    finding
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The databases that hold tables, with their table names.
fn tables(finding: &Finding) -> Vec<(&str, Vec<&str>)> {
    let inventory = finding.inventory.as_ref().expect("an inventory");
    inventory
        .items
        .iter()
        .filter(|d| !d.collections.is_empty())
        .map(|d| {
            (
                d.name.as_str(),
                d.collections.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

fn names(finding: &Finding) -> Vec<(&str, bool)> {
    let inventory = finding.inventory.as_ref().expect("an inventory");
    inventory
        .items
        .iter()
        .map(|d| (d.name.as_str(), d.system))
        .collect()
}

const HELLO_REQUEST: &str =
    "clickhouse Hello: client ajar 1.0, revision 54401, user default, empty password";
const HELLO_18_16: &str =
    "Hello: ClickHouse 18.16.1, revision 54412, time zone Etc/UTC, display name vm";

#[tokio::test]
async fn open_18_16_lists_database_and_table_names_only() {
    let (server, log) = fake(false, script("18.16-hello.hex", OPEN_18_16)).await;
    let f = scan(&server).await;
    assert_eq!(f.service, "clickhouse");
    assert_eq!(f.check, "clickhouse-open");
    assert_eq!(f.exposure, Exposure::Open);
    // A user database with a table: the product's severity for open.
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.product.as_deref(), Some("ClickHouse"));
    assert_eq!(f.version.as_deref(), Some("18.16.1"));
    assert!(!f.tls);
    assert_eq!(detail(&f, "revision"), Some("54412"));
    assert_eq!(detail(&f, "timezone"), Some("Etc/UTC"));
    assert_eq!(detail(&f, "display_name"), Some("vm"));
    assert_eq!(
        f.summary,
        "the default user logged in with an empty password; 3 databases listed, 2 of them user databases, 1 with tables"
    );
    assert_eq!(tables(&f), [("ajar_probe_db", vec!["customers"])]);
    assert_eq!(
        names(&f),
        [
            ("ajar_probe_db", false),
            ("default", false),
            ("system", true)
        ]
    );
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(
        (
            inventory.unit.as_str(),
            inventory.total_items,
            inventory.user_items,
            inventory.truncated
        ),
        ("database", 3, 2, false)
    );
    assert_eq!(
        evidence(&f),
        [
            (HELLO_REQUEST.to_string(), HELLO_18_16.to_string()),
            (
                "clickhouse Query SHOW DATABASES".to_string(),
                "3 rows of column name String, EndOfStream: ajar_probe_db, default, system"
                    .to_string()
            ),
            (
                format!("clickhouse Query {TABLES}"),
                "1 rows of columns database, name String, EndOfStream: 1 tables in 1 databases"
                    .to_string()
            ),
        ]
    );
    assert!(
        f.remediation
            .as_deref()
            .is_some_and(|r| r.contains("users.xml"))
    );
    assert_eq!(
        got(&log),
        [hello_sent(), show_databases_sent(), tables_sent()]
    );
}

#[tokio::test]
async fn newer_server_hello_and_listing_mark_system_databases() {
    let (server, log) = fake(
        false,
        script(
            "23.8-hello.hex",
            &["23.8-show-databases.hex", "23.8-tables.hex"],
        ),
    )
    .await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::Open);
    assert_eq!(f.version.as_deref(), Some("23.8.16"));
    assert_eq!(detail(&f, "revision"), Some("54465"));
    assert_eq!(detail(&f, "display_name"), Some("clickhouse-01"));
    assert_eq!(
        names(&f),
        [
            ("default", false),
            ("shop", false),
            ("INFORMATION_SCHEMA", true),
            ("information_schema", true),
            ("system", true),
        ]
    );
    assert_eq!(
        tables(&f),
        [
            ("default", vec!["events"]),
            ("shop", vec!["customers", "orders"])
        ]
    );
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        got(&log),
        [hello_sent(), show_databases_sent(), tables_sent()]
    );
}

#[tokio::test]
async fn password_required_194_is_auth_required_and_nothing_more_is_sent() {
    let (server, log) = fake(false, script("18.16-password-required.hex", &[])).await;
    let f = scan(&server).await;
    assert_eq!(f.check, "clickhouse-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.version, None);
    assert!(f.inventory.is_none());
    assert_eq!(detail(&f, "error_code"), Some("194"));
    assert_eq!(
        f.summary,
        "the default user needs a password: Exception 194 (DB::Exception: Password required for user default)"
    );
    assert_eq!(
        evidence(&f),
        [(
            HELLO_REQUEST.to_string(),
            "Exception 194: DB::Exception: Password required for user default".to_string()
        )]
    );
    assert!(f.remediation.is_none());
    assert_eq!(got(&log), [hello_sent()]);
}

#[tokio::test]
async fn wrong_password_193_and_authentication_failed_516_are_auth_required() {
    for (file, code, first_line) in [
        (
            "18.16-wrong-password.hex",
            "193",
            "DB::Exception: Wrong password for user default",
        ),
        (
            "23.8-authentication-failed.hex",
            "516",
            "DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name.",
        ),
    ] {
        let (server, log) = fake(false, script(file, &[])).await;
        let f = scan(&server).await;
        assert_eq!(f.exposure, Exposure::AuthRequired, "{file}");
        assert_eq!(detail(&f, "error_code"), Some(code), "{file}");
        assert_eq!(
            f.summary,
            format!("the default user needs a password: Exception {code} ({first_line})"),
            "{file}"
        );
        assert_eq!(got(&log), [hello_sent()], "{file}");
    }
}

#[tokio::test]
async fn an_exception_to_the_query_is_undetermined() {
    let (server, log) = fake(false, script("23.8-hello.hex", &["23.8-access-denied.hex"])).await;
    let f = scan(&server).await;
    assert_eq!(f.check, "clickhouse-undetermined");
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.version.as_deref(), Some("23.8.16"));
    assert!(f.inventory.is_none());
    let why = "Exception 497: DB::Exception: default: Not enough privileges. To execute this query it's necessary to have grant SHOW DATABASES ON *.*";
    assert_eq!(
        f.summary,
        format!(
            "the default user logged in with an empty password, but SHOW DATABASES did not list: {why}"
        )
    );
    assert_eq!(evidence(&f)[1].1, why);
    assert_eq!(got(&log), [hello_sent(), show_databases_sent()]);
}

/// The 18.16 listing with one packet replaced, and the verdict it must get.
async fn listing_variant(packets: Vec<Vec<u8>>) -> Finding {
    let answer = packets.concat();
    let (server, _) = fake(
        false,
        Script {
            hello: fixture("18.16-hello.hex"),
            answers: vec![answer],
        },
    )
    .await;
    scan(&server).await
}

fn listing_packets() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/clickhouse/18.16-show-databases.hex",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    text.lines()
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn listings_not_in_clickhouse_shape_are_undetermined() {
    let mut wrong_type = listing_packets();
    // The rows block with its column typed UInt8 instead of String.
    wrong_type[1] = hex_of("0100010002ffffffff000103046e616d650555496e7438010203");
    let mut two_columns = listing_packets();
    two_columns[1] = hex_of("0100010002ffffffff000201046e616d6506537472696e670161");
    let no_block = vec![hex_of("05")];
    let mut unknown_packet = listing_packets();
    unknown_packet[2] = hex_of("2a");
    let mut empty = listing_packets();
    empty[1] = hex_of("0100010002ffffffff000100046e616d6506537472696e67");
    let mut overlong = listing_packets();
    overlong[1] = hex_of("0100010002ffffffff000101046e616d6506537472696e67ffffffff0f");
    for (packets, why) in [
        (
            wrong_type,
            "column \"name\" of type \"UInt8\", not name String",
        ),
        (two_columns, "a block of 2 columns and 1 rows"),
        (
            no_block,
            "EndOfStream without a block of the expected columns",
        ),
        (unknown_packet, "packet type 42 in a query's answer"),
        (overlong, "a 4294967295-byte name, over the 1024-byte cap"),
    ] {
        let f = listing_variant(packets).await;
        assert_eq!(f.exposure, Exposure::Undetermined, "{why}: {f:?}");
        assert!(f.inventory.is_none(), "{why}");
        assert_eq!(evidence(&f)[1].1, why);
    }
    let f = listing_variant(empty).await;
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(evidence(&f)[1].1, "a well-formed answer with no database");
}

fn hex_of(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn a_hello_then_silence_is_undetermined_within_the_timeout() {
    let (server, log) = fake(
        false,
        Script {
            hello: fixture("18.16-hello.hex"),
            answers: vec![Vec::new()],
        },
    )
    .await;
    let cx = context(Duration::from_millis(400));
    let started = std::time::Instant::now();
    let (outcome, _) = probe_direct(&cx, &server, false).await;
    let ProbeOutcome::Found(f) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded in time"
    );
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(
        f.summary,
        "the default user logged in with an empty password, but SHOW DATABASES did not list: no answer before the timeout"
    );
    assert_eq!(got(&log), [hello_sent(), show_databases_sent()]);
}

#[tokio::test]
async fn names_past_max_items_are_counted_not_kept() {
    let (server, _) = fake(false, script("18.16-hello.hex", OPEN_18_16)).await;
    let limits = Limits {
        max_items: 2,
        ..Limits::default()
    };
    let cx = ProbeContext::new(Duration::from_secs(2), false, limits).expect("context");
    let (outcome, _) = probe_direct(&cx, &server, false).await;
    let ProbeOutcome::Found(f) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(f.exposure, Exposure::Open);
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(names(&f), [("ajar_probe_db", false), ("default", false)]);
    assert_eq!((inventory.total_items, inventory.truncated), (3, true));
}

/// A fake that answers whatever it is sent with `reply` once, then holds the line.
async fn replying(reply: &'static [u8]) -> FakeServer {
    serve(false, move |mut conn: BoxConn| async move {
        let mut chunk = [0u8; 512];
        if matches!(conn.read(&mut chunk).await, Ok(n) if n > 0) {
            let _ = conn.write_all(reply).await;
        }
        while matches!(conn.read(&mut chunk).await, Ok(n) if n > 0) {}
    })
    .await
}

/// Runs the probe alone with a short step, checking it ends well within it.
async fn quick(server: &FakeServer) -> (ProbeOutcome, Trace) {
    let cx = context(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let result = probe_direct(&cx, server, false).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "bounded in time"
    );
    result
}

#[tokio::test]
async fn an_http_server_is_not_clickhouse() {
    let server =
        replying(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
    let (outcome, trace) = quick(&server).await;
    assert_eq!(
        outcome,
        ProbeOutcome::NotThis {
            note: "not ClickHouse: packet type 72, not Hello or Exception".into(),
            hint: Some("http"),
            transport_confirmed: true,
            speaks_protocol: false,
        }
    );
    assert_eq!(trace.entries().len(), 1);
}

#[tokio::test]
async fn a_redis_error_is_not_clickhouse_and_hints_redis() {
    let server = replying(b"-ERR unknown command '\\x00\\x04ajar'\r\n").await;
    let (outcome, _) = quick(&server).await;
    assert_eq!(
        outcome,
        ProbeOutcome::NotThis {
            note: "not ClickHouse: packet type 45, not Hello or Exception".into(),
            hint: Some("redis"),
            transport_confirmed: true,
            speaks_protocol: false,
        }
    );
}

#[tokio::test]
async fn a_hello_with_an_impossible_revision_is_not_clickhouse() {
    // Byte 0, a name and three small numbers: Hello-shaped, but no ClickHouse revision.
    let server = replying(b"\x00\x0aClickHouse\x12\x10\x0c\x07Etc/UTC\x02vm\x01").await;
    let (outcome, _) = quick(&server).await;
    assert_eq!(
        outcome,
        ProbeOutcome::NotThis {
            note: "not ClickHouse: version 18.16 revision 12: not a ClickHouse Hello".into(),
            hint: None,
            transport_confirmed: true,
            speaks_protocol: false,
        }
    );
}

#[tokio::test]
async fn a_silent_port_is_silent() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut sink = [0u8; 64];
        while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let (outcome, trace) = quick(&server).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    assert_eq!(trace.entries()[0].response, "no answer before the timeout");
}

#[tokio::test]
async fn a_hang_up_without_a_byte_wants_tls() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut first = [0u8; 1];
        let _ = conn.read_exact(&mut first).await;
    })
    .await;
    let (outcome, _) = quick(&server).await;
    assert_eq!(
        outcome,
        ProbeOutcome::WantsTls("closed the connection without answering the Hello".into())
    );
}

/// The secure native port (9440): plain text gets no Hello, TLS gets the 18.16 answers.
#[tokio::test]
async fn secure_port_wants_tls_then_is_open_over_tls() {
    let (server, log) = fake(true, script("18.16-hello.hex", OPEN_18_16)).await;
    let (outcome, _) = quick(&server).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.service, "clickhouse");
    assert_eq!(f.exposure, Exposure::Open);
    assert!(f.tls);
    assert_eq!(f.evidence[0].probe, "clickhouse+tls");
    assert_eq!(
        names(&f),
        [
            ("ajar_probe_db", false),
            ("default", false),
            ("system", true)
        ]
    );
    assert!(got(&log).contains(&show_databases_sent()));
}

/// Detection on any port: a bare `127.0.0.1:PORT` target. The HTTP probe's GET gets the
/// native port's notice, which sends detection to the ClickHouse probe.
#[tokio::test]
async fn detected_on_a_random_port_through_the_engine() {
    let (server, log) = fake(false, script("18.16-hello.hex", OPEN_18_16)).await;
    let outcome = support::probe(&server.endpoint()).await;
    let Outcome::Found(f) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(f.check, "clickhouse-open");
    assert_eq!(f.version.as_deref(), Some("18.16.1"));
    assert_eq!(f.evidence.len(), 3, "only the ClickHouse probe's exchanges");
    let sent = got(&log);
    assert_eq!(
        sent.iter().filter(|g| **g == show_databases_sent()).count(),
        1
    );
    assert!(sent.iter().all(|g| match g {
        Got::Hello(.., password) => password.is_empty(),
        Got::Query(sql, _) => sql == "SHOW DATABASES" || sql == TABLES,
        Got::Other(_) => true,
    }));
}

/// The registry recognises the native port's answers to other protocols: the HTTP notice
/// and the Exception 101 sent to bytes that are no Hello.
#[tokio::test]
async fn registry_knows_the_native_ports_answers() {
    let registry = context(Duration::from_secs(1)).registry;
    let notice = String::from_utf8(fixture("18.16-http-get.txt")).expect("text");
    assert_eq!(
        registry.by_http_notice(&notice).map(|p| p.id),
        Some("clickhouse")
    );
    assert_eq!(
        registry
            .by_answer(&fixture("18.16-unexpected-packet.hex"))
            .map(|p| p.id),
        Some("clickhouse")
    );
    assert_eq!(
        registry
            .by_answer(b"HTTP/1.0 400 Bad Request\r\n")
            .map(|p| p.id),
        Some("http")
    );
    assert_eq!(registry.by_answer(&fixture("18.16-hello.hex")), None);
    let probe = registry.native("clickhouse").expect("registered");
    assert_eq!(probe.services[0].ports, [9000, 9440]);
    let scheme = registry
        .schemes()
        .into_iter()
        .find(|s| s.name == "clickhouse")
        .expect("scheme");
    assert_eq!((scheme.default_port, scheme.tls), (9000, Some(false)));
}

/// The table listing failing leaves the open verdict on the database names alone.
#[tokio::test]
async fn a_failed_table_listing_keeps_the_open_verdict_without_tables() {
    let (server, log) = fake(
        false,
        script(
            "18.16-hello.hex",
            &["18.16-show-databases.hex", "23.8-access-denied.hex"],
        ),
    )
    .await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::Open);
    // Without the table listing the user database's content is unknown, not empty.
    assert_eq!(f.severity, Severity::High);
    assert!(tables(&f).is_empty());
    assert_eq!(
        evidence(&f)[2],
        (
            format!("clickhouse Query {TABLES}"),
            "Exception 497: DB::Exception: default: Not enough privileges. To execute this query it's necessary to have grant SHOW DATABASES ON *.*".to_string()
        )
    );
    assert_eq!(
        got(&log),
        [hello_sent(), show_databases_sent(), tables_sent()]
    );
}

/// A start of a Hello that never completes: not ClickHouse, within the step timeout.
#[tokio::test]
async fn a_hello_cut_short_then_silence_is_not_clickhouse() {
    let server = replying(b"\x00\x0aClick").await;
    let (outcome, _) = quick(&server).await;
    assert_eq!(
        outcome,
        ProbeOutcome::NotThis {
            note: "not ClickHouse: 7 bytes that are no complete Hello, then silence".into(),
            hint: None,
            transport_confirmed: true,
            speaks_protocol: false,
        }
    );
}
