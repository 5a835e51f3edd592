//! A plain scan never sends a password: every real server `scripts/test.sh` started is put
//! behind a recording TCP relay on its own loopback port, one scan runs over all the relays
//! (bare `host:port` targets, detection by protocol), and every byte ajar sent is searched
//! for a login. The same relays under `--default-credentials` must show logins, so the test
//! can fail: it sees credentials when they are sent.
//!
//! What counts as a login, in ajar's traffic to any server:
//! - every default credential ajar knows (native probes and probe files), as `user:password`,
//!   as its Base64 (HTTP Basic), and as a SASL PLAIN message (`\0user\0password`: AMQP,
//!   CQL, MongoDB and others);
//! - an HTTP `Authorization` header, a form or JSON field named `password` or `username`;
//! - a SCRAM client-first message (`n,,n=`: PostgreSQL, MongoDB), whose proof stands for a
//!   password.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{server, table};
use crate::support::cli::{Run, json, stderr};

/// Most bytes recorded per server (the scan sends far less).
const TAP_CAP: usize = 8 << 20;

/// What one relay recorded: the bytes ajar sent, one entry per connection.
type Streams = Arc<Mutex<Vec<Vec<u8>>>>;

/// A recording relay in front of one real server.
struct Tap {
    /// The relay's own address, which the scan targets.
    addr: SocketAddr,
    /// Client-to-server bytes of each connection.
    sent: Streams,
}

/// Starts a relay to `upstream` on an ephemeral loopback port.
async fn tap(upstream: String) -> Tap {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = listener.local_addr().expect("relay address");
    let sent: Streams = Arc::default();
    let record = sent.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, upstream.clone(), record.clone()));
        }
    });
    Tap { addr, sent }
}

/// Relays one connection both ways, recording what the client sends.
async fn relay(client: TcpStream, upstream: String, sent: Streams) {
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let slot = {
        let mut streams = sent.lock().expect("tap lock");
        streams.push(Vec::new());
        streams.len() - 1
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let mut buf = [0u8; 8192];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            {
                let mut streams = sent.lock().expect("tap lock");
                let total: usize = streams.iter().map(Vec::len).sum();
                if total.saturating_add(n) <= TAP_CAP {
                    streams[slot].extend_from_slice(&buf[..n]);
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Every default login ajar knows: the native probes' and the shipped probe files'.
fn known_logins() -> Vec<(String, String)> {
    let mut logins: Vec<(String, String)> = ajar::probe::registry::NATIVE
        .iter()
        .flat_map(|p| p.default_credentials.iter())
        .map(|c| (c.user.to_string(), c.password.to_string()))
        .collect();
    let rules = ajar::rules::RuleSet::shipped().expect("shipped probe files compile");
    for rule in rules.iter() {
        logins.extend(
            rule.default_logins()
                .map(|(u, p)| (u.to_string(), p.to_string())),
        );
    }
    logins.sort();
    logins.dedup();
    logins
}

/// The byte patterns that mean "a login was sent", each with what it is.
fn login_markers() -> Vec<(Vec<u8>, String)> {
    let mut markers = Vec::new();
    for (user, password) in known_logins() {
        if password.is_empty() {
            continue;
        }
        let pair = format!("{user}:{password}");
        let basic = base64::engine::general_purpose::STANDARD.encode(&pair);
        markers.push((pair.clone().into_bytes(), format!("{user}'s password")));
        markers.push((basic.into_bytes(), format!("Basic auth of {user}")));
        markers.push((
            format!("\0{user}\0{password}").into_bytes(),
            format!("SASL PLAIN of {user}"),
        ));
    }
    for generic in [
        "authorization:",
        "password=",
        "\"password\"",
        "username=",
        "\"username\"",
        "n,,n=",
    ] {
        markers.push((generic.as_bytes().to_vec(), format!("`{generic}`")));
    }
    markers
}

/// Where in `haystack` (case-insensitively) `needle` occurs.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The logins each server received: server name -> what was found.
fn logins_seen(taps: &BTreeMap<String, Tap>) -> BTreeMap<String, Vec<String>> {
    let markers = login_markers();
    let mut seen = BTreeMap::new();
    for (name, tap) in taps {
        let streams = tap.sent.lock().expect("tap lock");
        let found: Vec<String> = markers
            .iter()
            .filter(|(bytes, _)| streams.iter().any(|s| contains(s, bytes)))
            .map(|(_, what)| what.clone())
            .collect();
        if !found.is_empty() {
            seen.insert(name.clone(), found);
        }
    }
    seen
}

/// Relays in front of every running server, then one scan of them all with `extra` flags.
/// Returns the relays (with what they recorded) and how many findings the scan made.
async fn scan_through_taps(extra: &[&str]) -> (BTreeMap<String, Tap>, usize) {
    let mut taps = BTreeMap::new();
    // Only servers: the table also carries facts for the tests (a payload file's path).
    for (name, addr) in table() {
        if addr.parse::<SocketAddr>().is_ok() {
            taps.insert(name.clone(), tap(addr.clone()).await);
        }
    }
    let targets: Vec<String> = taps.values().map(|t| t.addr.to_string()).collect();
    let mut args = vec!["scan", "-f", "json", "--timeout", "5s", "-q"];
    args.extend_from_slice(extra);
    let mut run = Run::new(&args);
    for t in &targets {
        run = run.arg(t.clone());
    }
    let out = run.output().await;
    let report = json(&out);
    let found = report["results"].as_array().map_or(0, Vec::len);
    assert!(
        found > 0,
        "the scan through the relays found nothing: {report:#}, stderr {}",
        stderr(&out)
    );
    (taps, found)
}

#[tokio::test]
async fn a_plain_scan_sends_no_password_to_any_real_server() {
    // The servers whose default logins ajar knows; under CI=true they must all be up.
    for name in [
        "PG_DEFAULT",
        "MYSQL_NOPASS",
        "PMA_COOKIE",
        "RABBITMQ_AMQP_GUEST",
    ] {
        if server(name).is_none() {
            return;
        }
    }
    let (taps, found) = scan_through_taps(&[]).await;
    let seen = logins_seen(&taps);
    assert!(
        seen.is_empty(),
        "a scan without --default-credentials sent logins ({found} findings): {seen:#?}"
    );
    // Every server was reached through its relay (a server-first one that refuses, such
    // as MySQL or an auth_required NATS, is only read from: its streams stay empty).
    for (name, tap) in &taps {
        let streams = tap.sent.lock().expect("tap lock");
        assert!(
            !streams.is_empty(),
            "{name}: ajar never connected through its relay"
        );
    }
}

#[tokio::test]
async fn with_default_credentials_the_same_relays_see_the_logins() {
    for name in ["PG_DEFAULT", "PMA_COOKIE"] {
        if server(name).is_none() {
            return;
        }
    }
    let (taps, _) = scan_through_taps(&["--default-credentials"]).await;
    let seen = logins_seen(&taps);
    let at = |name: &str| seen.get(name).cloned().unwrap_or_default();
    // RabbitMQ's management API is tried with guest/guest over HTTP Basic, PostgreSQL with
    // postgres/postgres over SCRAM-SHA-256, phpMyAdmin with root and an empty password in
    // its login form (pma_username).
    if server("RABBITMQ_MGMT").is_some() {
        assert!(
            at("RABBITMQ_MGMT").contains(&"Basic auth of guest".to_string()),
            "{seen:#?}"
        );
    }
    assert!(
        at("PG_DEFAULT").contains(&"`n,,n=`".to_string()),
        "{seen:#?}"
    );
    assert!(
        at("PMA_COOKIE").contains(&"`username=`".to_string()),
        "{seen:#?}"
    );
    // AMQP's Connection.StartOk carries guest/guest as SASL PLAIN.
    if server("RABBITMQ_AMQP_GUEST").is_some() {
        assert!(
            at("RABBITMQ_AMQP_GUEST").contains(&"SASL PLAIN of guest".to_string()),
            "{seen:#?}"
        );
    }
}
