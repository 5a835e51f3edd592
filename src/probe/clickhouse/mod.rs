//! The ClickHouse native TCP probe (port 9000, 9440 over TLS): a client-first protocol.
//!
//! 1. Hello as user `default` with an empty password. The package's `users.xml` gives
//!    `default` no password, so an empty one is no credential: it is what every client
//!    sends when none is configured, and a plain scan sends it. The server's Hello (name,
//!    version, revision, time zone, display name) identifies it and means the login
//!    succeeded; an Exception 194 (password required), 193 (wrong password), 516
//!    (authentication failed), 192 (unknown user) or 195 (address not allowed) is
//!    `auth-required`.
//! 2. After a Hello, one read-only Query, `SHOW DATABASES`: `open` only when its answer
//!    comes back as ClickHouse sends it (Data blocks of one `name String` column, then
//!    EndOfStream) with at least one name; any other answer is `undetermined`.
//! 3. When open, the names of the user databases' tables from `system.tables` (columns
//!    `database` and `name`), so the inventory shows which databases hold tables. Names
//!    only, within row and byte caps; then the connection is closed.
//!
//! No password is ever sent, no other statement, and no row of any table. Sources: ClickHouse
//! `src/Core/Protocol.h`, `src/Server/TCPHandler.cpp`, `src/Common/ErrorCodes.cpp`; the
//! Debian clickhouse-server 18.16.1 bytes in `tests/fixtures/clickhouse/SOURCES.md`.

pub mod wire;

mod block;
mod conn;
mod inventory;
mod listing;

use tokio::time::Instant;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Finding, Inventory, Severity, policy};
use crate::sanitize::clip;
use crate::targets::Endpoint;
use conn::{Conn, Stop};
use wire::{HelloReply, Need, ServerException, ServerHello};

/// Largest answer to the Hello read (an 18.16 Exception with its stack trace is ~4 KB).
const MAX_HELLO: usize = 64 << 10;
/// Severity of an open server with user databases.
const SEVERITY: Severity = Severity::High;
/// The user the Hello names.
const USER: &str = "default";
/// Longest server message kept in a summary.
const MAX_MESSAGE: usize = 200;
/// Exception codes that mean the login needs credentials: UNKNOWN_USER,
/// WRONG_PASSWORD, REQUIRED_PASSWORD, IP_ADDRESS_NOT_ALLOWED, AUTHENTICATION_FAILED.
const AUTH_CODES: &[i32] = &[192, 193, 194, 195, 516];
/// How the Hello is shown in evidence.
const HELLO_REQUEST: &str = "Hello: client ajar 1.0, revision 54401, user default, empty password";

/// The ClickHouse native probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "clickhouse",
    labels: ["clickhouse", "clickhouse+tls"],
    services: &[ServiceInfo {
        id: "clickhouse",
        name: "ClickHouse (native TCP protocol)",
        ports: &[9000, 9440],
        check: "native Hello as user default with an empty password: the server's Hello identifies (version), Exception 194/193/516 is auth-required; open when SHOW DATABASES then answers in native Data blocks (names only), with the user databases' table names from system.tables",
        severity: SEVERITY,
        remediation: "Give the default user a password or disable it (users.xml: <password_sha256_hex> for <default>, or users.d/ with <default remove=\"remove\"/>), restrict its <networks> to ::1 and 127.0.0.1, and bind <listen_host> to private interfaces only; use the secure native port (tcp_port_secure, 9440) for remote clients.",
        references: &[
            "https://clickhouse.com/docs/en/operations/settings/settings-users",
            "https://clickhouse.com/docs/en/operations/access-rights",
            "https://clickhouse.com/docs/en/interfaces/tcp",
        ],
    }],
    schemes: &[Scheme {
        name: "clickhouse",
        probe: "clickhouse",
        default_port: 9000,
        tls: Some(false),
        style: UriStyle::Url,
        tls_options: &[],
    }],
    greeting: None,
    answers: Some(wire::is_exception),
    // What the native port writes back to an HTTP request (TCPHandler::receiveHello).
    http_notice: Some("is for clickhouse-client program"),
    default_credentials: &[],
    run,
};

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(probe(cx, endpoint, tls, trace))
}

/// Probes one endpoint for ClickHouse's native protocol over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let stream = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => stream,
        Err(error) => return ProbeOutcome::from_connect_error(error),
    };
    let mut conn = Conn::new(stream, cx.net.timeout);
    let reply = match hello(&mut conn).await {
        Ok(reply) => reply,
        Err(stop) => {
            trace.record(HELLO_REQUEST, stop.why());
            return not_clickhouse(stop, &conn.buf, tls);
        }
    };
    let mut judge = Judge {
        endpoint,
        tls,
        trace,
    };
    match reply {
        HelloReply::Exception(e) => judge.refused(&e),
        HelloReply::Hello(server) => {
            judge.trace.record(HELLO_REQUEST, describe_hello(&server));
            judge.list(&mut conn, &server, cx.limits.max_items).await
        }
    }
}

/// Sends the Hello and reads the server's answer to it.
async fn hello(conn: &mut Conn) -> Result<HelloReply, Stop> {
    conn.send(&wire::hello(USER)).await?;
    let deadline = Instant::now() + conn.step();
    loop {
        match wire::hello_reply(&conn.buf) {
            Ok((reply, used)) => {
                conn.consume(used);
                return Ok(reply);
            }
            Err(Need::More) => conn.fill(MAX_HELLO, deadline).await?,
            Err(Need::Bad(why)) => return Err(Stop::Bad(format!("not ClickHouse: {why}"))),
        }
    }
}

/// How the probe ends when the Hello got no ClickHouse answer.
fn not_clickhouse(stop: Stop, head: &[u8], tls: bool) -> ProbeOutcome {
    match stop {
        Stop::Silent if head.is_empty() => ProbeOutcome::Silent,
        // A TLS-only port (tcp_port_secure) drops or alerts a plain-text client.
        Stop::Closed(_) if !tls && head.is_empty() => {
            ProbeOutcome::WantsTls("closed the connection without answering the Hello".into())
        }
        _ if !tls && matches!(head, [0x15, 0x03, 0x00..=0x04, ..]) => {
            ProbeOutcome::WantsTls("answered plain text with a TLS alert".into())
        }
        stop => ProbeOutcome::NotThis {
            note: match stop {
                Stop::Silent => format!(
                    "not ClickHouse: {} bytes that are no complete Hello, then silence",
                    head.len()
                ),
                stop => stop.why(),
            },
            hint: super::registry::NATIVE
                .iter()
                .find(|p| p.id != PROBE.id && p.answers.is_some_and(|answers| answers(head)))
                .map(|p| p.id),
            transport_confirmed: !head.is_empty(),
            speaks_protocol: false,
        },
    }
}

fn describe_hello(h: &ServerHello) -> String {
    let mut text = format!("Hello: {} {}, revision {}", h.name, h.version(), h.revision);
    if let Some(tz) = &h.timezone {
        text.push_str(&format!(", time zone {tz}"));
    }
    if let Some(name) = &h.display_name {
        text.push_str(&format!(", display name {name}"));
    }
    text
}

/// `Exception 194: DB::Exception: Password required for user default` (the message
/// starts with the class name; one that does not gets it in front).
fn describe_exception(e: &ServerException) -> String {
    let message = clip(&e.message, MAX_MESSAGE);
    if e.message.starts_with(&e.name) {
        format!("Exception {}: {message}", e.code)
    } else {
        format!("Exception {}: {}: {message}", e.code, e.name)
    }
}

/// The verdict on one server that answered the Hello.
struct Judge<'a> {
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
}

impl Judge<'_> {
    /// The server refused the Hello: a login is needed, or something else went wrong.
    fn refused(&mut self, e: &ServerException) -> ProbeOutcome {
        self.trace.record(HELLO_REQUEST, describe_exception(e));
        // Newer servers add lines of advice after the first; the first says what failed.
        let message = clip(e.message.lines().next().unwrap_or_default(), MAX_MESSAGE);
        let (exposure, summary) = if AUTH_CODES.contains(&e.code) {
            (
                Exposure::AuthRequired,
                format!(
                    "the default user needs a password: Exception {} ({message})",
                    e.code
                ),
            )
        } else {
            (
                Exposure::Undetermined,
                format!(
                    "the server refused the Hello: Exception {} ({message})",
                    e.code
                ),
            )
        };
        let details = vec![("error_code".to_string(), e.code.to_string())];
        self.found(None, exposure, summary, details, None)
    }

    fn found(
        &mut self,
        server: Option<&ServerHello>,
        exposure: Exposure,
        summary: String,
        details: Vec<(String, String)>,
        inventory: Option<Inventory>,
    ) -> ProbeOutcome {
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "clickhouse".into(),
            check: String::new(),
            product: server.map(|s| s.name.clone()),
            version: server.map(ServerHello::version),
            exposure,
            severity: policy::severity(exposure, SEVERITY, inventory.as_ref(), false),
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }
}
