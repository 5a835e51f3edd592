//! The MQTT probe (Mosquitto, EMQX, HiveMQ, VerneMQ and other brokers): MQTT 3.1.1, then
//! 5.0 when 3.1.1 is refused, over plain TCP (`mqtt://`, 1883) or TLS (`mqtts://`, 8883).
//!
//! 1. CONNECT, protocol level 4, clean session, keep alive 10, a random client id
//!    `ajar-<hex>`, no user name and no password. CONNACK return code 0 accepts the
//!    anonymous client; 4 (bad user name or password) and 5 (not authorized) mean
//!    credentials are required; 2 (identifier rejected) is retried once with an id of
//!    letters and digits only, which 3.1.1 section 3.1.3.1 says every server accepts; 1
//!    (unacceptable protocol level), or a 5.0-format CONNACK with 0x84 (unsupported
//!    protocol version, which a 5.0-only server MAY send, 5.0 section 3.1.2.2), is retried
//!    once with protocol level 5, whose reason codes 0x86 (bad user name or password),
//!    0x87 (not authorized) and 0x8C (bad authentication method) mean credentials are
//!    required. Anything else a broker refuses with is `undetermined`.
//! 2. When accepted: SUBSCRIBE to `#` and `$SYS/#` at QoS 0 (`retained.rs`). `open` only
//!    when SUBACK grants `#` and at least one retained message arrives in the window
//!    (Mosquitto grants `#` to a client its ACL denies every read, then sends nothing):
//!    anonymous clients can then read topics. The finding lists the topics that hold a
//!    retained message (names and payload sizes, never payloads) and the broker version
//!    from `$SYS/broker/version`. A grant with nothing delivered is `undetermined`.
//! 3. DISCONNECT.
//!
//! Never PUBLISH, never a will, never credentials. Sources: the OASIS MQTT 3.1.1 and 5.0
//! standards, and Mosquitto 2.0.11's replies in `tests/fixtures/mqtt/SOURCES.md`.

mod retained;
mod verdict;
mod wire;

use std::time::Duration;

use tokio::time::Instant;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Severity};
use crate::targets::Endpoint;
use verdict::Probe;
use wire::{Conn, ReadError, Version};

/// Longest collection window for retained messages.
const MAX_WINDOW: Duration = Duration::from_secs(1);
/// The window as a fraction of the step timeout: the probe must finish within the quarter
/// timeout an engine gives probes that run side by side after a silence.
const WINDOW_DIVISOR: u32 = 5;

/// The MQTT probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "mqtt",
    labels: ["mqtt", "mqtts"],
    services: &[ServiceInfo {
        id: "mqtt",
        name: "MQTT 3.1.1/5.0 brokers (Mosquitto, EMQX, HiveMQ, VerneMQ)",
        ports: &[1883, 8883],
        check: "CONNECT without user name or password (3.1.1, then 5.0 if refused); open when CONNACK accepts, SUBACK grants # and retained messages arrive, listing retained topic names (never payloads); CONNACK 4/5 or 0x86/0x87 is auth-required",
        severity: Severity::High,
        remediation: "Refuse anonymous clients (Mosquitto: allow_anonymous false with a password_file or an auth plugin; the broker's own authentication elsewhere), restrict topics with ACLs (acl_file), bind listeners to private interfaces, and use TLS (port 8883) for remote clients.",
        references: &[
            "https://mosquitto.org/documentation/authentication-methods/",
            "https://mosquitto.org/man/mosquitto-conf-5.html",
            "https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html",
            "https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html",
        ],
    }],
    schemes: &[
        Scheme {
            name: "mqtt",
            probe: "mqtt",
            default_port: 1883,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
        Scheme {
            name: "mqtts",
            probe: "mqtt",
            default_port: 8883,
            tls: Some(true),
            style: UriStyle::Url,
            tls_options: &[],
        },
    ],
    // Client-first, and brokers close the connection on bytes that are not a CONNECT.
    greeting: None,
    answers: None,
    http_notice: None,
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

/// A client id that differs per run: `ajar-` and 12 hex digits (17 bytes, under the 23
/// every 3.1.1 server must accept), or without the dash for a strict server.
fn client_id(dash: bool) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x616a_6172);
    let hex = hasher.finish() & 0xffff_ffff_ffff;
    if dash {
        format!("ajar-{hex:012x}")
    } else {
        format!("ajar{hex:012x}")
    }
}

/// What a CONNACK code means for the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accepted,
    WrongVersion,
    IdRejected,
    Credentials,
    Refused,
}

fn answer(version: Version, code: u8) -> Answer {
    match (version, code) {
        (_, 0) => Answer::Accepted,
        (Version::V311, 1 | 0x84) => Answer::WrongVersion,
        (Version::V311, 2) | (Version::V5, 0x85) => Answer::IdRejected,
        (Version::V311, 4 | 5) | (Version::V5, 0x86 | 0x87 | 0x8C) => Answer::Credentials,
        _ => Answer::Refused,
    }
}

/// The name of a CONNACK code, for evidence and summaries.
fn code_text(version: Version, code: u8) -> String {
    let name = match (version, code) {
        (_, 0) => "connection accepted",
        (Version::V311, 1) => "unacceptable protocol version",
        (Version::V311, 2) => "identifier rejected",
        (Version::V311, 3) => "server unavailable",
        (Version::V311, 4) => "bad user name or password",
        (Version::V311, 5) => "not authorized",
        (_, 0x84) => "unsupported protocol version",
        (Version::V5, 0x80) => "unspecified error",
        (Version::V5, 0x85) => "client identifier not valid",
        (Version::V5, 0x86) => "bad user name or password",
        (Version::V5, 0x87) => "not authorized",
        (Version::V5, 0x88) => "server unavailable",
        (Version::V5, 0x89) => "server busy",
        (Version::V5, 0x8A) => "banned",
        (Version::V5, 0x8C) => "bad authentication method",
        (Version::V5, 0x9C) => "use another server",
        (Version::V5, 0x9D) => "server moved",
        _ => "unknown code",
    };
    match version {
        Version::V311 => format!("return code {code} ({name})"),
        Version::V5 => format!("reason code 0x{code:02X} ({name})"),
    }
}

/// Probes one endpoint for an MQTT broker over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let mut run = Probe {
        endpoint,
        tls,
        trace,
        history: Vec::new(),
    };
    let step = cx.net.timeout;
    let mut version = Version::V311;
    let mut dash = true;
    for attempt in 0..3 {
        let stream = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
            Ok(stream) => stream,
            Err(error) if attempt == 0 => return ProbeOutcome::from_connect_error(error),
            Err(error) => return run.undetermined(format!("reconnecting: {error}")),
        };
        let mut conn = Conn::new(stream);
        let code = match connack(&mut conn, version, &client_id(dash), step).await {
            Ok(code) => code,
            Err(failure) => {
                run.trace.record(version.connect_text(), failure.note());
                if attempt > 0 {
                    return run.undetermined(failure.note());
                }
                return failure.outcome(tls);
            }
        };
        let text = code_text(version, code);
        run.trace
            .record(version.connect_text(), format!("CONNACK {text}"));
        run.history.push(format!("MQTT {} {text}", version.label()));
        match answer(version, code) {
            Answer::Accepted => {
                let window = (step / WINDOW_DIVISOR).min(MAX_WINDOW);
                let seen = retained::collect(&mut conn, version, step, window).await;
                let sent = conn.send(&wire::DISCONNECT, Instant::now() + step).await;
                let outcome = run.subscribed(version, &seen, window);
                let note = sent.map_or_else(|e| format!("not sent: {e}"), |()| "sent".into());
                run.trace.record("DISCONNECT", note);
                return outcome;
            }
            Answer::WrongVersion => version = Version::V5,
            Answer::IdRejected if dash => dash = false,
            Answer::Credentials => {
                let summary =
                    format!("MQTT broker refuses clients without credentials: CONNACK {text}");
                return run.found(Exposure::AuthRequired, None, None, summary, version);
            }
            Answer::IdRejected | Answer::Refused => {
                return run.undetermined("refuses the anonymous CONNECT".into());
            }
        }
    }
    run.undetermined("refuses every CONNECT tried".into())
}

/// Why no CONNACK could be read.
enum Failure {
    Read(ReadError),
    /// The first bytes of a reply that is not a CONNACK.
    NotConnack(Vec<u8>),
}

impl Failure {
    fn note(&self) -> String {
        match self {
            Failure::Read(error) => error.to_string(),
            Failure::NotConnack(head) => {
                format!("not a CONNACK: {}", crate::sanitize::byte_preview(head, 48))
            }
        }
    }

    /// What the first exchange's failure tells the engine.
    fn outcome(self, tls: bool) -> ProbeOutcome {
        let note = format!("not MQTT: {}", self.note());
        match self {
            Failure::Read(ReadError::Silent) => ProbeOutcome::Silent,
            // A TLS-only listener drops a plain CONNECT, or answers it with a TLS alert.
            Failure::Read(ReadError::Closed) if !tls => {
                ProbeOutcome::WantsTls("closed the connection without answering CONNECT".into())
            }
            Failure::NotConnack(head)
                if !tls && matches!(head.as_slice(), [0x15, 0x03, 0x00..=0x04, ..]) =>
            {
                ProbeOutcome::WantsTls("answered CONNECT with a TLS alert".into())
            }
            Failure::NotConnack(head) => ProbeOutcome::NotThis {
                note,
                hint: crate::probe::registry::NATIVE
                    .iter()
                    .find(|p| p.id != "mqtt" && p.answers.is_some_and(|answers| answers(&head)))
                    .map(|p| p.id),
                transport_confirmed: true,
                speaks_protocol: false,
            },
            Failure::Read(ReadError::Io(_)) => ProbeOutcome::NotThis {
                note,
                hint: None,
                transport_confirmed: false,
                speaks_protocol: false,
            },
            Failure::Read(_) => ProbeOutcome::NotThis {
                note,
                hint: None,
                transport_confirmed: true,
                speaks_protocol: false,
            },
        }
    }
}

/// Sends CONNECT and reads a well-formed CONNACK's code.
async fn connack(
    conn: &mut Conn,
    version: Version,
    client_id: &str,
    step: Duration,
) -> Result<u8, Failure> {
    let deadline = Instant::now() + step;
    conn.send(&wire::connect(version, client_id), deadline)
        .await
        .map_err(Failure::Read)?;
    let first = conn.byte(deadline).await.map_err(Failure::Read)?;
    if first != wire::CONNACK {
        let mut head = vec![first];
        head.extend(conn.peek(Duration::from_millis(50)).await);
        return Err(Failure::NotConnack(head));
    }
    let len = match conn.length(deadline).await {
        Ok(len) if (2..=wire::MAX_ACK).contains(&len) => len,
        _ => return Err(Failure::NotConnack(vec![first])),
    };
    let body = conn
        .exact(len as usize, deadline)
        .await
        .map_err(Failure::Read)?;
    let Some(ack) = wire::parse_connack(&body) else {
        let mut head = vec![first];
        head.extend(body.iter().take(16));
        return Err(Failure::NotConnack(head));
    };
    // A 3.1.1 CONNACK is exactly two bytes; a 5.0-format one to a 3.1.1 CONNECT is only
    // the 0x84 a 5.0-only server may send.
    if version == Version::V311 && ack.v5_format && ack.code != 0x84 {
        return Err(Failure::NotConnack(vec![first, body[0], body[1]]));
    }
    Ok(ack.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_connack_codes_by_version() {
        assert_eq!(answer(Version::V311, 0), Answer::Accepted);
        assert_eq!(answer(Version::V311, 1), Answer::WrongVersion);
        assert_eq!(answer(Version::V311, 0x84), Answer::WrongVersion);
        assert_eq!(answer(Version::V5, 0x84), Answer::Refused);
        assert_eq!(answer(Version::V311, 2), Answer::IdRejected);
        assert_eq!(answer(Version::V5, 0x85), Answer::IdRejected);
        assert_eq!(answer(Version::V311, 4), Answer::Credentials);
        assert_eq!(answer(Version::V311, 5), Answer::Credentials);
        assert_eq!(answer(Version::V5, 0x86), Answer::Credentials);
        assert_eq!(answer(Version::V5, 0x87), Answer::Credentials);
        assert_eq!(answer(Version::V5, 5), Answer::Refused);
        assert_eq!(answer(Version::V311, 0x87), Answer::Refused);
        assert_eq!(answer(Version::V311, 3), Answer::Refused);
        assert_eq!(
            code_text(Version::V5, 0x87),
            "reason code 0x87 (not authorized)"
        );
        assert_eq!(
            code_text(Version::V311, 5),
            "return code 5 (not authorized)"
        );
    }

    #[test]
    fn client_ids_are_short_and_random() {
        let (a, b) = (client_id(true), client_id(true));
        assert_ne!(a, b);
        assert!(a.starts_with("ajar-") && a.len() == 17, "{a}");
        let strict = client_id(false);
        assert!(strict.len() <= 23 && strict.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
