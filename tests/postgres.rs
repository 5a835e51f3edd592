//! PostgreSQL probe tests: a fake server on loopback replays the bytes PostgreSQL 15.18
//! sent to the same requests (tests/fixtures/postgres/SOURCES.md), and logs every message
//! the probe sends, so each test also checks that nothing but the StartupMessage, the one
//! catalog query and Terminate (and, under `--default-credentials` only, a password) went
//! out. Tests through `support::probe` run the whole engine on a random port: the HTTP and
//! MongoDB probes go first, and the fake closes on their bytes as PostgreSQL does on a
//! startup packet of impossible length.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::postgres;
use ajar::probe::trace::Trace;
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, hostile, serve};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/postgres/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One backend or frontend message: type byte and body.
type Msg = (u8, Vec<u8>);

/// Splits a captured backend stream into messages.
fn split(bytes: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        let len = u32::from_be_bytes(rest[1..5].try_into().expect("4 bytes")) as usize;
        out.push((rest[0], rest[5..1 + len].to_vec()));
        rest = &rest[1 + len..];
    }
    assert!(rest.is_empty(), "fixture ends inside a message");
    out
}

fn join(messages: &[Msg]) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, body) in messages {
        out.push(*kind);
        out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// What the fake answers: to the startup, to a Query, to each password message in turn.
#[derive(Clone, Default)]
struct Script {
    /// The answer to SSLRequest (`S`, `N`); `None` for a plain-text server.
    ssl: Option<u8>,
    startup: Vec<u8>,
    query: Vec<u8>,
    passwords: Vec<Vec<u8>>,
    /// Answers SCRAM as a honeypot does: a server-first message built on the client's
    /// nonce, then a final message with a wrong signature and AuthenticationOk.
    fake_scram: bool,
}

/// Every message the probe sent: the startup packet as (0, body), then typed messages.
type Log = Arc<Mutex<Vec<Msg>>>;

async fn fake(script: Script) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let script = Arc::new(script);
    let server = serve(false, move |conn| {
        handle(conn, script.clone(), seen.clone())
    })
    .await;
    (server, log)
}

async fn read_startup(conn: &mut BoxConn) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    conn.read_exact(&mut len).await.ok()?;
    let len = u32::from_be_bytes(len) as usize;
    // PostgreSQL closes on a startup packet of impossible length (HTTP, MongoDB, TLS).
    if !(8..=10_000).contains(&len) {
        return None;
    }
    let mut body = vec![0u8; len - 4];
    conn.read_exact(&mut body).await.ok()?;
    Some(body)
}

async fn handle(mut conn: BoxConn, script: Arc<Script>, log: Log) {
    let Some(mut startup) = read_startup(&mut conn).await else {
        return;
    };
    if startup == [4, 0xd2, 0x16, 0x2f] {
        log.lock().expect("log").push((0, startup.clone()));
        let Some(answer) = script.ssl else { return };
        let _ = conn.write_all(&[answer]).await;
        if answer != b'S' {
            return;
        }
        let Ok(tls) = support::tls_acceptor().accept(conn).await else {
            return;
        };
        conn = Box::new(tls);
        let Some(next) = read_startup(&mut conn).await else {
            return;
        };
        startup = next;
    }
    // PostgreSQL ends a startup packet of a protocol it does not speak (another probe's
    // length-prefixed bytes, such as ZooKeeper's ConnectRequest) with FATAL "unsupported
    // frontend protocol" (postmaster.c ProcessStartupPacket): not a startup to log.
    if !startup.starts_with(&[0, 3]) {
        return;
    }
    log.lock().expect("log").push((0, startup));
    let _ = conn.write_all(&script.startup).await;
    let mut passwords = script.passwords.iter();
    let mut nonce = String::new();
    loop {
        let mut head = [0u8; 5];
        if conn.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes(head[1..5].try_into().expect("4 bytes")) as usize;
        let mut body = vec![0u8; len.saturating_sub(4).min(1 << 16)];
        if conn.read_exact(&mut body).await.is_err() {
            return;
        }
        log.lock().expect("log").push((head[0], body.clone()));
        let reply = match head[0] {
            b'Q' => script.query.clone(),
            b'X' => return,
            b'p' if script.fake_scram && nonce.is_empty() => {
                let text = String::from_utf8_lossy(&body).into_owned();
                nonce = text.split("r=").nth(1).unwrap_or_default().to_string();
                let first = format!("r={nonce}srv,s=c2FsdHNhbHQ=,i=4096");
                join(&[(b'R', [&11u32.to_be_bytes()[..], first.as_bytes()].concat())])
            }
            b'p' if script.fake_scram => join(&[
                (b'R', [&12u32.to_be_bytes()[..], b"v=AAAAAAAA"].concat()),
                (b'R', 0u32.to_be_bytes().to_vec()),
            ]),
            b'p' => passwords.next().cloned().unwrap_or_default(),
            _ => return,
        };
        if conn.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// The messages sent, as (type, text) with the startup packet's parameters as text, once
/// the fake has read what the probe wrote last (Terminate goes just before the close).
async fn sent(log: &Log) -> Vec<(char, String)> {
    tokio::time::sleep(Duration::from_millis(150)).await;
    log.lock()
        .expect("log")
        .iter()
        .map(|(kind, body)| {
            let text = match kind {
                0 => body[4..]
                    .split(|&b| b == 0)
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .trim_end()
                    .to_string(),
                _ => String::from_utf8_lossy(body).into_owned(),
            };
            let kind = if *kind == 0 { '0' } else { char::from(*kind) };
            (kind, text)
        })
        .collect()
}

fn startup_sent() -> (char, String) {
    (
        '0',
        "user postgres database postgres application_name ajar".into(),
    )
}

fn responses(finding: &Finding) -> Vec<(&str, &str)> {
    finding
        .evidence
        .iter()
        .map(|e| (e.request.as_str(), e.response.as_str()))
        .collect()
}

fn detail<'a>(finding: &'a Finding, key: &str) -> Option<&'a str> {
    finding
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn names(finding: &Finding) -> Vec<(String, bool)> {
    let inventory = finding.inventory.as_ref().expect("an inventory");
    inventory
        .items
        .iter()
        .map(|d| (d.name.clone(), d.system))
        .collect()
}

const STARTUP: &str = "StartupMessage protocol 3.0 user=postgres database=postgres";
const QUERY: &str = "SELECT datname FROM pg_database";
const VERSION: &str = "15.18 (Debian 15.18-0+deb12u1)";

fn trust() -> Script {
    Script {
        startup: fixture("trust-startup.bin"),
        query: fixture("trust-datname.bin"),
        ..Script::default()
    }
}

#[tokio::test]
async fn trust_is_open_with_database_names() {
    let (server, log) = fake(trust()).await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.service, "postgresql");
    assert_eq!(f.exposure, Exposure::Open);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some(VERSION));
    assert_eq!(
        f.summary,
        "PostgreSQL lists 4 databases (1 user) without a password"
    );
    assert_eq!(detail(&f, "authentication"), Some("none (trust)"));
    assert_eq!(
        names(&f),
        vec![
            ("ajar_probe_db".to_string(), false),
            ("postgres".to_string(), true),
            ("template0".to_string(), true),
            ("template1".to_string(), true),
        ]
    );
    assert_eq!(
        responses(&f),
        vec![
            (STARTUP, "AuthenticationOk (no password asked)"),
            (
                QUERY,
                "4 database names: postgres, ajar_probe_db, template1, template0"
            ),
        ]
    );
    assert_eq!(
        sent(&log).await,
        vec![
            startup_sent(),
            ('Q', format!("{QUERY}\0")),
            ('X', String::new())
        ]
    );
}

/// Derived from trust-datname.bin: the `ajar_probe_db` row dropped, `SELECT 3`.
#[tokio::test]
async fn only_initdb_databases_is_medium() {
    let mut rows = split(&fixture("trust-datname.bin"));
    rows.retain(|(kind, body)| !(*kind == b'D' && body.ends_with(b"ajar_probe_db")));
    for (kind, body) in &mut rows {
        if *kind == b'C' {
            *body = b"SELECT 3\0".to_vec();
        }
    }
    let script = Script {
        query: join(&rows),
        ..trust()
    };
    let (server, _) = fake(script).await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::Open);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.summary,
        "PostgreSQL lists 3 databases (0 user) without a password"
    );
}

/// Derived from trust-datname.bin: CommandComplete says 5 rows where 4 came.
#[tokio::test]
async fn a_row_count_that_does_not_match_is_no_proof() {
    let mut rows = split(&fixture("trust-datname.bin"));
    for (kind, body) in &mut rows {
        if *kind == b'C' {
            *body = b"SELECT 5\0".to_vec();
        }
    }
    let (server, _) = fake(Script {
        query: join(&rows),
        ..trust()
    })
    .await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.inventory, None);
    assert_eq!(
        f.summary,
        "PostgreSQL let ajar in without a password, but the catalog query did not answer as PostgreSQL does: CommandComplete \"SELECT 5\" does not count 4 rows"
    );
}

#[tokio::test]
async fn a_session_that_does_not_start_is_undetermined() {
    let (server, log) = fake(Script {
        startup: fixture("trust-missing-db.bin"),
        ..Script::default()
    })
    .await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(
        f.summary,
        "PostgreSQL let ajar in without a password, but the session did not start: 3D000 database \"ajar_missing_db\" does not exist"
    );
    assert_eq!(sent(&log).await, vec![startup_sent()]);
}

#[tokio::test]
async fn scram_is_auth_required_and_no_password_is_sent() {
    let (server, log) = fake(Script {
        startup: fixture("scram-startup.bin"),
        ..Script::default()
    })
    .await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.version, None);
    assert_eq!(
        f.summary,
        "PostgreSQL asks for credentials: SASL (SCRAM-SHA-256)"
    );
    assert_eq!(
        responses(&f),
        vec![(
            STARTUP,
            "Authentication request: SASL (SCRAM-SHA-256) (R code 10)"
        )]
    );
    assert_eq!(sent(&log).await, vec![startup_sent(), ('X', String::new())]);
}

#[tokio::test]
async fn md5_is_auth_required_even_with_default_credentials() {
    let (server, log) = fake(Script {
        startup: fixture("md5-startup.bin"),
        ..Script::default()
    })
    .await;
    let cx = support::context(Duration::from_secs(2)).with_default_credentials(true);
    let f = support::found(ajar::scan::probe_endpoint(&cx, &server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.summary, "PostgreSQL asks for credentials: MD5 password");
    assert_eq!(sent(&log).await, vec![startup_sent(), ('X', String::new())]);
}

#[tokio::test]
async fn cleartext_default_login_refused_is_auth_required() {
    let script = Script {
        startup: fixture("password-startup.bin"),
        passwords: vec![fixture("password-refused.bin")],
        ..Script::default()
    };
    // Without --default-credentials no password goes out.
    let (server, log) = fake(script.clone()).await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(
        f.summary,
        "PostgreSQL asks for credentials: cleartext password"
    );
    assert_eq!(sent(&log).await, vec![startup_sent(), ('X', String::new())]);

    let (server, log) = fake(script).await;
    let cx = support::context(Duration::from_secs(2)).with_default_credentials(true);
    let f = support::found(ajar::scan::probe_endpoint(&cx, &server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(
        f.summary,
        "PostgreSQL asks for credentials: cleartext password; the default login postgres was refused (28P01 password authentication failed for user \"pwuser\")"
    );
    assert_eq!(
        sent(&log).await,
        vec![startup_sent(), ('p', "postgres\0".to_string())]
    );
    assert!(f.evidence.iter().all(|e| !e.request.contains("postgres\0")));
}

#[tokio::test]
async fn cleartext_default_login_accepted_is_default_credentials() {
    let trust_startup = split(&fixture("trust-startup.bin"));
    let script = Script {
        startup: fixture("password-startup.bin"),
        // What the server sends after a right password: the trust bytes from AuthenticationOk on.
        passwords: vec![join(&trust_startup)],
        query: fixture("trust-datname.bin"),
        ..Script::default()
    };
    let (server, _) = fake(script).await;
    let cx = support::context(Duration::from_secs(2)).with_default_credentials(true);
    let f = support::found(ajar::scan::probe_endpoint(&cx, &server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::DefaultCredentials);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(detail(&f, "login"), Some("default user postgres"));
    assert_eq!(
        f.summary,
        "PostgreSQL lists 4 databases (1 user) with the default login postgres"
    );
    for e in &f.evidence {
        assert!(!e.response.contains("postgres\0") && !e.request.contains("password:"));
    }
}

/// A server that takes any SCRAM proof and signs wrongly is not a login.
#[tokio::test]
async fn scram_with_a_wrong_server_signature_is_not_a_login() {
    let (server, log) = fake(Script {
        startup: fixture("scram-startup.bin"),
        fake_scram: true,
        ..Script::default()
    })
    .await;
    let cx = support::context(Duration::from_secs(2)).with_default_credentials(true);
    let f = support::found(ajar::scan::probe_endpoint(&cx, &server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(
        f.summary,
        "PostgreSQL asks for credentials: SASL (SCRAM-SHA-256); the default login postgres was refused (the server's SCRAM signature is wrong)"
    );
    let sent = sent(&log).await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent[1].1.starts_with("SCRAM-SHA-256\0"));
    let last = &sent[2].1;
    let proof = last.split("p=").nth(1).expect("a proof");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(proof)
            .expect("base64")
            .len(),
        32
    );
}

#[tokio::test]
async fn no_pg_hba_entry_is_auth_required_with_the_message() {
    let (server, _) = fake(Script {
        startup: fixture("nohba-startup.bin"),
        ..Script::default()
    })
    .await;
    let f = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(detail(&f, "sqlstate"), Some("28000"));
    assert_eq!(
        f.summary,
        "PostgreSQL refused by pg_hba.conf: no pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", database \"postgres\", no encryption"
    );
}

async fn direct(server: &FakeServer, tls: bool) -> (ProbeOutcome, Trace) {
    let cx = support::context(Duration::from_millis(700));
    let mut trace = Trace::new(server.addr);
    let outcome = postgres::probe(&cx, &server.endpoint(), tls, &mut trace).await;
    (outcome, trace)
}

#[tokio::test]
async fn tls_goes_after_an_sslrequest() {
    let (server, log) = fake(Script {
        ssl: Some(b'S'),
        ..trust()
    })
    .await;
    let (outcome, trace) = direct(&server, true).await;
    let ProbeOutcome::Found(f) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(f.exposure, Exposure::Open);
    assert!(f.tls);
    assert_eq!(trace.entries()[0].request, "SSLRequest (code 80877103)");
    assert_eq!(trace.entries()[0].response, "S: the server accepts TLS");
    assert_eq!(sent(&log).await[0], ('0', String::new()));
    assert_eq!(sent(&log).await[1], startup_sent());
}

#[tokio::test]
async fn sslrequest_refused_is_not_a_tls_postgres() {
    let (server, _) = fake(Script {
        ssl: Some(b'N'),
        ..trust()
    })
    .await;
    let (outcome, _) = direct(&server, true).await;
    assert_eq!(
        outcome,
        ProbeOutcome::NotThis {
            note: "not PostgreSQL: SSLRequest answered N (no TLS on this server)".into(),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        }
    );
}

#[tokio::test]
async fn hostile_answers_are_not_postgres() {
    // A length far past the cap, refused before any allocation.
    let mut huge = vec![b'R'];
    huge.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let (server, _) = fake(Script {
        startup: huge,
        ..Script::default()
    })
    .await;
    let (outcome, _) = direct(&server, false).await;
    assert_eq!(
        outcome,
        ProbeOutcome::NotThis {
            note: "not PostgreSQL: not a PostgreSQL message: message length 2147483647".into(),
            hint: None,
            transport_confirmed: true,
            speaks_protocol: false,
        }
    );
    // An unknown authentication code.
    let (server, _) = fake(Script {
        startup: join(&[(b'R', 99u32.to_be_bytes().to_vec())]),
        ..Script::default()
    })
    .await;
    let (outcome, _) = direct(&server, false).await;
    assert!(
        matches!(&outcome, ProbeOutcome::NotThis { note, .. } if note == "not PostgreSQL: Authentication code 99 with 4 bytes"),
        "{outcome:?}"
    );
    // An HTTP answer.
    let (server, _) = fake(Script {
        startup: b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
        ..Script::default()
    })
    .await;
    let (outcome, _) = direct(&server, false).await;
    assert!(
        matches!(
            &outcome,
            ProbeOutcome::NotThis {
                transport_confirmed: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    let silent = hostile::silent().await;
    let (outcome, _) = direct(&silent, false).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
}
