//! The rsync daemon probe against fake daemons replaying lines captured from rsync 3.5.0
//! (`tests/fixtures/rsync/SOURCES.md`): open when a listed module answers `@RSYNCD: OK`,
//! auth-required when every listed module asks for authentication or is refused, or when
//! none is listed, and nothing at all for other protocols. Every fake records each
//! connection's lines, so the tests also check that the probe sent only its version line
//! and one request per connection: no challenge response, no arguments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajar::finding::{Exposure, Finding, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::rsync;
use ajar::probe::trace::Trace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

const GREETING: &[u8] = include_bytes!("fixtures/rsync/greeting-3.5.0.txt");
const LIST: &[u8] = include_bytes!("fixtures/rsync/list-3.5.0.txt");
const OK: &[u8] = include_bytes!("fixtures/rsync/module-ok-3.5.0.txt");
const AUTHREQD: &[u8] = include_bytes!("fixtures/rsync/module-authreqd-3.5.0.txt");
const UNKNOWN: &[u8] = include_bytes!("fixtures/rsync/module-unknown-3.5.0.txt");
const EXIT: &[u8] = b"@RSYNCD: EXIT\n";

/// Each connection's lines, in order.
type Log = Arc<Mutex<Vec<Vec<String>>>>;

/// How a fake daemon answers: the `#list` reply and each module's; a module not in the
/// map gets the "Unknown module" error, one mapped to `None` gets silence.
#[derive(Clone)]
struct Daemon {
    list: Vec<u8>,
    modules: HashMap<String, Option<Vec<u8>>>,
}

impl Daemon {
    fn new(list: &[u8], modules: &[(&str, Option<&[u8]>)]) -> Daemon {
        Daemon {
            list: list.to_vec(),
            modules: modules
                .iter()
                .map(|(name, reply)| (name.to_string(), reply.map(<[u8]>::to_vec)))
                .collect(),
        }
    }
}

async fn fake(daemon: Daemon) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(false, move |conn: BoxConn| {
        let (daemon, seen) = (daemon.clone(), seen.clone());
        async move { session(conn, &daemon, &seen).await }
    })
    .await;
    (server, log)
}

async fn session(mut conn: BoxConn, daemon: &Daemon, seen: &Log) {
    let index = {
        let mut log = seen.lock().expect("log");
        log.push(Vec::new());
        log.len() - 1
    };
    if conn.write_all(GREETING).await.is_err() {
        return;
    }
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 1024]);
    loop {
        while let Some(end) = buf.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..=end);
            seen.lock().expect("log")[index].push(line.clone());
            if line.starts_with("@RSYNCD: ") {
                continue;
            }
            let reply = if line == "#list" {
                Some(daemon.list.clone())
            } else {
                match daemon.modules.get(&line) {
                    Some(reply) => reply.clone(),
                    None => Some(UNKNOWN.to_vec()),
                }
            };
            match reply {
                Some(reply) => {
                    let _ = conn.write_all(&reply).await;
                }
                None => tokio::time::sleep(Duration::from_secs(3)).await,
            }
        }
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn scan(server: &FakeServer) -> Finding {
    support::found(support::probe(&server.endpoint()).await)
}

fn connections(log: &Log) -> Vec<Vec<String>> {
    log.lock().expect("log").clone()
}

/// Every connection sent the probe's version line and at most one request; `want` lists
/// the requests of the probe's connections (detection's own listening connection sends
/// nothing and is left out).
fn sent_only(log: &Log, want: &[&str]) {
    let mut requests = Vec::new();
    for lines in connections(log).into_iter().filter(|l| !l.is_empty()) {
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], "@RSYNCD: 30.0");
        requests.push(lines[1].clone());
    }
    assert_eq!(requests, want);
}

fn detail<'a>(f: &'a Finding, key: &str) -> Option<&'a str> {
    f.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_module_readable_without_auth_is_open_and_the_locked_one_is_named() {
    let daemon = Daemon::new(
        LIST,
        &[("ajar_open", Some(OK)), ("ajar_locked", Some(AUTHREQD))],
    );
    let (server, log) = fake(daemon).await;
    let f = scan(&server).await;
    assert_eq!(f.service, "rsync");
    assert_eq!(f.check, "rsync-open");
    assert_eq!(f.exposure, Exposure::Open);
    // Module names only, nothing about the files: an unknown amount is not an empty one,
    // so the service's own severity.
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some("32.0"));
    assert_eq!(
        f.summary,
        "1 rsync module readable without authentication: ajar_open"
    );
    assert_eq!(
        f.details,
        [
            ("protocol", "32.0"),
            ("auth_digests", "sha512 sha256 sha1 md5 md4"),
            ("protected_modules", "ajar_locked"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.unit, "module");
    let names: Vec<&str> = inventory.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["ajar_open"]);
    assert!(!inventory.truncated);
    let evidence: Vec<(&str, &str)> = f
        .evidence
        .iter()
        .map(|e| (e.request.as_str(), e.response.as_str()))
        .collect();
    assert_eq!(
        evidence,
        [
            (
                "(connect and listen)",
                "greeting: @RSYNCD: 32.0, digests sha512 sha256 sha1 md5 md4"
            ),
            (
                "@RSYNCD: 30.0, #list",
                "2 modules listed: ajar_open, ajar_locked; 0 other lines (MOTD), then @RSYNCD: EXIT"
            ),
            (
                "@RSYNCD: 30.0, module ajar_open",
                "@RSYNCD: OK: readable without authentication (hung up, no arguments sent)"
            ),
            (
                "@RSYNCD: 30.0, module ajar_locked",
                "@RSYNCD: AUTHREQD: authentication required (challenge not answered)"
            ),
        ]
    );
    sent_only(&log, &["#list", "ajar_open", "ajar_locked"]);
}

#[tokio::test]
async fn every_module_locked_or_refused_is_auth_required() {
    let list = b"ajar_locked    \tajar probe, locked\nbackup         \t\n@RSYNCD: EXIT\n";
    let daemon = Daemon::new(list, &[("ajar_locked", Some(AUTHREQD))]);
    let (server, log) = fake(daemon).await;
    let f = scan(&server).await;
    assert_eq!(f.check, "rsync-auth-required");
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(f.severity, Severity::Info);
    assert!(f.inventory.is_none());
    assert_eq!(detail(&f, "protected_modules"), Some("ajar_locked"));
    assert_eq!(detail(&f, "refused_modules"), Some("backup"));
    assert_eq!(
        f.summary,
        "no listed module is readable without authentication: 1 protected, 1 refused (modules with `list = no` are not listed and were not asked for)"
    );
    assert_eq!(
        f.evidence[3].response,
        "refused: @ERROR: Unknown module 'nope'"
    );
    sent_only(&log, &["#list", "ajar_locked", "backup"]);
}

#[tokio::test]
async fn no_module_listed_is_auth_required_and_says_hidden_ones_may_exist() {
    let (server, log) = fake(Daemon::new(EXIT, &[])).await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::AuthRequired);
    assert_eq!(
        f.summary,
        "the daemon lists no modules (modules with `list = no` are not listed and were not asked for)"
    );
    assert_eq!(
        f.evidence[1].response,
        "0 modules listed: ; 0 other lines (MOTD), then @RSYNCD: EXIT"
    );
    sent_only(&log, &["#list"]);
}

#[tokio::test]
async fn motd_lines_are_counted_not_taken_for_modules() {
    let mut list = b"Welcome to the mirror\n\n".to_vec();
    list.extend_from_slice(LIST);
    let daemon = Daemon::new(
        &list,
        &[("ajar_open", Some(OK)), ("ajar_locked", Some(AUTHREQD))],
    );
    let (server, _) = fake(daemon).await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::Open);
    assert!(
        f.evidence[1]
            .response
            .starts_with("2 modules listed: ajar_open, ajar_locked; 2 other lines (MOTD)"),
        "{}",
        f.evidence[1].response
    );
}

#[tokio::test]
async fn at_most_32_modules_are_asked_for() {
    let mut list = Vec::new();
    for i in 0..40 {
        list.extend_from_slice(format!("m{i:02}            \t\n").as_bytes());
    }
    list.extend_from_slice(EXIT);
    let modules: Vec<(String, Option<&[u8]>)> =
        (0..40).map(|i| (format!("m{i:02}"), Some(OK))).collect();
    let modules: Vec<(&str, Option<&[u8]>)> =
        modules.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let (server, log) = fake(Daemon::new(&list, &modules)).await;
    let f = scan(&server).await;
    assert_eq!(f.exposure, Exposure::Open);
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.items.len(), 32);
    assert!(inventory.truncated);
    assert!(
        f.evidence[1]
            .response
            .starts_with("40 modules listed (the first 32 are asked for)")
    );
    let asked = connections(&log).iter().filter(|l| l.len() == 2).count();
    assert_eq!(asked, 33, "#list and 32 modules");
}

#[tokio::test]
async fn modules_that_never_answer_are_undetermined_never_open() {
    let list = b"ajar_open\t\najar_locked\t\nthird\t\n@RSYNCD: EXIT\n";
    let daemon = Daemon::new(
        list,
        &[
            ("ajar_open", None),
            ("ajar_locked", None),
            ("third", Some(OK)),
        ],
    );
    let (server, log) = fake(daemon).await;
    let cx = support::context(Duration::from_millis(300));
    let mut trace = Trace::new(server.addr);
    let outcome = rsync::probe(&cx, &server.endpoint(), false, &mut trace).await;
    let ProbeOutcome::Found(f) = outcome else {
        panic!("expected a finding: {outcome:?}");
    };
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(
        f.summary,
        "3 modules listed, none answered whether it is readable"
    );
    assert_eq!(
        detail(&f, "unjudged_modules"),
        Some("ajar_open, ajar_locked, third")
    );
    assert!(f.inventory.is_none());
    // After two silent modules the third (which would say OK) is not asked: each silence
    // costs a timeout, and a module not asked is never taken for open.
    assert_eq!(
        trace.entries()[4].response,
        "no verdict: not asked: 2 modules went unanswered before"
    );
    let asked: Vec<String> = connections(&log)
        .iter()
        .filter_map(|l| l.get(1).cloned())
        .collect();
    assert_eq!(asked, ["#list", "ajar_open", "ajar_locked"]);
}

#[tokio::test]
async fn an_endless_line_is_cut_not_buffered() {
    // A listing line that never ends: the reader stops at its caps.
    let mut list = b"ajar_open".to_vec();
    list.extend(std::iter::repeat_n(b'x', 200_000));
    let (server, _) = fake(Daemon::new(&list, &[])).await;
    let cx = support::context(Duration::from_secs(2));
    let mut trace = Trace::new(server.addr);
    let outcome = rsync::probe(&cx, &server.endpoint(), false, &mut trace).await;
    let ProbeOutcome::Found(f) = outcome else {
        panic!("expected a finding: {outcome:?}");
    };
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(f.summary, "#list: over 65536 bytes or a line over 1024");
}

#[tokio::test]
async fn other_protocols_are_not_rsync() {
    let greets = rsync::PROBE.greeting.expect("server-first");
    assert!(greets(GREETING));
    for bytes in [
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".as_slice(),
        b"@RSYNCD: EXIT\n",
        b"@ERROR: max connections (1) reached -- try again later\n",
        b"Tarantool 2.6.0 (Binary) d746a255-564b-44d3-a522-8f66397bf95d  \n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    ] {
        assert!(!greets(bytes), "{bytes:?}");
    }
    let cx = support::context(Duration::from_millis(400));
    // A server-first banner of another protocol: not this, at once.
    let ssh = serve(false, |mut conn: BoxConn| async move {
        let _ = conn.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let mut trace = Trace::new(ssh.addr);
    let outcome = rsync::probe(&cx, &ssh.endpoint(), false, &mut trace).await;
    assert!(
        matches!(&outcome, ProbeOutcome::NotThis { note, .. } if note.starts_with("not an rsync greeting")),
        "{outcome:?}"
    );
    // HTTP and Redis wait for the client, a silent port says nothing: silence.
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
        let outcome = rsync::probe(&cx, &server.endpoint(), false, &mut trace).await;
        assert_eq!(outcome, ProbeOutcome::Silent);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    let mut trace = Trace::new(http.addr);
    let outcome = rsync::probe(&cx, &http.endpoint(), true, &mut trace).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotThis { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_rsync_uri_pins_the_probe_through_the_binary() {
    let daemon = Daemon::new(
        LIST,
        &[("ajar_open", Some(OK)), ("ajar_locked", Some(AUTHREQD))],
    );
    let (server, log) = fake(daemon).await;
    let target = format!("rsync://127.0.0.1:{}", server.addr.port());
    let out = crate::support::cli::Run::new(&["scan", &target, "-f", "json", "--timeout", "5s"])
        .output()
        .await;
    let report = crate::support::cli::json(&out);
    let f = &report["results"][0];
    assert_eq!(f["service"], "rsync", "{report:#}");
    assert_eq!(f["check"], "rsync-open", "{report:#}");
    assert_eq!(
        f["inventory"]["items"][0]["name"], "ajar_open",
        "{report:#}"
    );
    assert_eq!(
        f["details"]["protected_modules"], "ajar_locked",
        "{report:#}"
    );
    assert_eq!(report["results"].as_array().map(Vec::len), Some(1));
    sent_only(&log, &["#list", "ajar_open", "ajar_locked"]);
}
