//! The NATS probe: the client protocol of nats-server (4222), server-first. On accept the
//! server sends `INFO {json}` with its id, version and what it requires of clients
//! (docs.nats.io/reference/reference-protocols/nats-protocol#info).
//!
//! Verdicts:
//! - `auth_required: true` is `auth-required`, and nothing is sent: the server refuses any
//!   client whose CONNECT carries no token, user, NKey or JWT;
//! - `tls_verify: true` (a client certificate required) is `auth-required` too;
//! - otherwise, after the TLS upgrade `tls_required` asks for, the probe sends `CONNECT`
//!   (no credentials) and `PING`: `PONG` is `open` (any client may subscribe to every
//!   subject and read the traffic), `-ERR 'Authorization Violation'` is `auth-required`,
//!   anything else after a well-formed INFO is `undetermined`;
//! - an open server whose INFO says `jetstream: true` is asked for its stream names on the
//!   read-only JetStream API (`jetstream.rs`): names and a count, never a message.
//!
//! Bytes that are no well-formed INFO (no `server_id`, `version` and `max_payload`) are not
//! NATS. Nothing is ever published but the one JetStream API request.

mod jetstream;
pub mod wire;

use std::sync::Arc;

use rustls::pki_types::ServerName;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity};
use crate::net::{BoxStream, ConnectError};
use crate::sanitize::{byte_preview, clip};
use crate::targets::{Endpoint, Host};
use wire::{Conn, Info, Stop, parse_info};

/// Severity of an open server: every subject's messages can be read (and injected).
const SEVERITY: Severity = Severity::High;
/// How the first exchange is recorded: the probe only listens.
const LISTEN: &str = "(connect and listen)";
/// The CONNECT sent to a server that asks for no credentials, and the PING after it.
const CONNECT: &str = r#"CONNECT {"verbose":false,"pedantic":false,"name":"ajar"}"#;
/// nats-server's answer to a CONNECT it does not accept (server/errors.go).
const AUTH_VIOLATION: &str = "-ERR 'Authorization Violation'";
/// Most control lines read while waiting for PONG (asynchronous INFO updates, PINGs).
const MAX_LINES: usize = 16;

/// The NATS probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "nats",
    labels: ["nats", "nats+tls"],
    services: &[ServiceInfo {
        id: "nats",
        name: "NATS (nats-server client port)",
        ports: &[4222],
        check: "server-first INFO: auth_required is auth-required; otherwise CONNECT without credentials and PING: PONG is open, -ERR 'Authorization Violation' auth-required; JetStream stream names when enabled",
        severity: SEVERITY,
        remediation: "Require authentication on the client port (authorization { token, users or nkeys } or decentralized JWT accounts), require TLS (tls { cert_file, key_file }), and listen on private interfaces only (host / -a).",
        references: &[
            "https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_intro",
            "https://docs.nats.io/running-a-nats-service/configuration/securing_nats/tls",
            "https://docs.nats.io/reference/reference-protocols/nats-protocol",
        ],
    }],
    schemes: &[
        Scheme {
            name: "nats",
            probe: "nats",
            default_port: 4222,
            tls: None,
            style: UriStyle::HostList,
            tls_options: &[],
        },
        Scheme {
            name: "tls",
            probe: "nats",
            default_port: 4222,
            tls: Some(true),
            style: UriStyle::HostList,
            tls_options: &[],
        },
    ],
    greeting: Some(wire::is_info),
    answers: Some(wire::is_unknown_operation),
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

/// Probes one endpoint for NATS. Over TLS it first tries TLS from the first byte (a server
/// with `handshake_first`), then, when that handshake fails, plain INFO and the upgrade.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let step = cx.net.timeout;
    let (conn, tls_first) = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => (Conn::new(stream, step), tls),
        Err(ConnectError::Tls(e)) if tls => {
            trace.record(
                "TLS handshake",
                format!("failed ({e}); trying INFO in plain text"),
            );
            match cx.net.connect(&endpoint.host, endpoint.port, false).await {
                Ok(stream) => (Conn::new(stream, step), false),
                Err(e) => return ProbeOutcome::from_connect_error(e),
            }
        }
        Err(e) => return ProbeOutcome::from_connect_error(e),
    };
    Session {
        cx,
        endpoint,
        trace,
        tls: tls_first,
    }
    .run(conn)
    .await
}

/// One probe run's state: what it reports with and over which transport.
struct Session<'a> {
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    trace: &'a mut Trace,
    tls: bool,
}

impl Session<'_> {
    async fn run(mut self, mut conn: Conn) -> ProbeOutcome {
        let line = match conn.line().await {
            Ok(line) => line,
            Err(Stop::Silent) => {
                self.trace.record(LISTEN, "no INFO before the timeout");
                return ProbeOutcome::Silent;
            }
            // A port that speaks TLS first hangs up on a client that sends nothing.
            Err(Stop::Closed(bytes)) if bytes.is_empty() && !self.tls => {
                self.trace
                    .record(LISTEN, "connection closed without an INFO");
                return ProbeOutcome::WantsTls("closed the connection without an INFO".into());
            }
            Err(stop) => {
                self.trace.record(LISTEN, stop.to_string());
                return not_this(format!("no NATS INFO: {stop}"));
            }
        };
        let Some(info) = parse_info(&line) else {
            let preview = byte_preview(&line, 48);
            self.trace
                .record(LISTEN, format!("not a NATS INFO line: {preview}"));
            return not_this(format!("not a NATS INFO line: {preview}"));
        };
        self.trace.record(LISTEN, describe(&info));
        if info.auth_required {
            return self.found(
                &info,
                Exposure::AuthRequired,
                "NATS requires authentication (INFO auth_required): no CONNECT sent".into(),
            );
        }
        if info.tls_verify {
            return self.found(
                &info,
                Exposure::AuthRequired,
                "NATS requires a client certificate (INFO tls_verify)".into(),
            );
        }
        if info.tls_required && !self.tls {
            conn = match upgrade(self.cx, &self.endpoint.host, conn).await {
                Ok(conn) => {
                    self.trace
                        .record("TLS upgrade (INFO tls_required)", "handshake done");
                    self.tls = true;
                    conn
                }
                Err(ConnectError::Certificate(e)) => {
                    self.trace.record("TLS upgrade (INFO tls_required)", &e);
                    return ProbeOutcome::Failed(format!(
                        "TLS certificate not trusted (--verify-tls): {e}"
                    ));
                }
                Err(e) => {
                    self.trace
                        .record("TLS upgrade (INFO tls_required)", e.to_string());
                    return self.found(
                        &info,
                        Exposure::Undetermined,
                        format!("NATS requires TLS and the upgrade failed: {e}"),
                    );
                }
            };
        }
        self.connect(conn, info).await
    }

    /// CONNECT without credentials, PING, and the verdict from the answer.
    async fn connect(self, mut conn: Conn, info: Info) -> ProbeOutcome {
        let request = format!("{CONNECT} + PING");
        if let Err(stop) = conn.send(format!("{CONNECT}\r\nPING\r\n").as_bytes()).await {
            self.trace.record(&request, stop.to_string());
            return self.found(
                &info,
                Exposure::Undetermined,
                format!("NATS INFO, then CONNECT could not be sent: {stop}"),
            );
        }
        let mut answer = None;
        for _ in 0..MAX_LINES {
            match conn.line().await {
                Ok(line) if line.eq_ignore_ascii_case(b"PONG") => {
                    answer = Some(Ok(()));
                    break;
                }
                Ok(line) if line.starts_with(b"-ERR") => {
                    answer = Some(Err(String::from_utf8_lossy(&line).into_owned()));
                    break;
                }
                // +OK (verbose), PING, asynchronous INFO: keep reading.
                Ok(_) => {}
                Err(stop) => {
                    answer = Some(Err(stop.to_string()));
                    break;
                }
            }
        }
        match answer {
            Some(Ok(())) => {
                self.trace.record(&request, "PONG");
                self.open(conn, info).await
            }
            Some(Err(text)) if text == AUTH_VIOLATION => {
                self.trace.record(&request, AUTH_VIOLATION);
                self.found(
                    &info,
                    Exposure::AuthRequired,
                    "NATS refuses a CONNECT without credentials (Authorization Violation)".into(),
                )
            }
            Some(Err(text)) => {
                let text = clip(&text, 120);
                self.trace.record(&request, &text);
                self.found(
                    &info,
                    Exposure::Undetermined,
                    format!("NATS INFO, then no PONG to CONNECT and PING: {text}"),
                )
            }
            None => {
                self.trace
                    .record(&request, format!("{MAX_LINES} lines without PONG"));
                self.found(
                    &info,
                    Exposure::Undetermined,
                    "NATS INFO, then no PONG to CONNECT and PING".into(),
                )
            }
        }
    }

    /// An open server, with its JetStream stream names when JetStream is on.
    async fn open(self, mut conn: Conn, info: Info) -> ProbeOutcome {
        let streams = if info.jetstream {
            jetstream::stream_names(&mut conn, self.trace, self.cx.limits.max_items).await
        } else {
            None
        };
        let mut summary =
            "NATS accepts clients without credentials: any client can subscribe to every subject"
                .to_string();
        let mut f = self.finding(&info, Exposure::Open, String::new());
        if let Some(streams) = streams {
            summary.push_str(&format!("; JetStream streams: {}", streams.total));
            let kept = u64::try_from(streams.names.len()).unwrap_or(u64::MAX);
            f.inventory = Some(Inventory {
                unit: "stream".into(),
                items: streams
                    .names
                    .into_iter()
                    .map(|name| DataSet {
                        name,
                        ..DataSet::default()
                    })
                    .collect(),
                total_items: streams.total.max(kept),
                user_items: streams.total.max(kept),
                total_documents: None,
                total_size_bytes: None,
                truncated: streams.total > kept,
            });
        }
        f.summary = summary;
        ProbeOutcome::Found(Box::new(f))
    }

    /// [`Session::finding`] as the probe's outcome.
    fn found(&self, info: &Info, exposure: Exposure, summary: String) -> ProbeOutcome {
        ProbeOutcome::Found(Box::new(self.finding(info, exposure, summary)))
    }

    /// A NATS finding with the INFO facts; open findings are high whatever their
    /// inventory (stream names carry no counts, and live traffic is readable anyway).
    fn finding(&self, info: &Info, exposure: Exposure, summary: String) -> Finding {
        let severity = match exposure {
            Exposure::Open => SEVERITY,
            Exposure::AuthRequired => Severity::Info,
            _ => Severity::Low,
        };
        let mut details = vec![("server_id".to_string(), clip(&info.server_id, 128))];
        if let Some(name) = &info.server_name {
            details.push(("server_name".into(), clip(name, 128)));
        }
        if let Some(go) = &info.go {
            details.push(("go".into(), clip(go, 64)));
        }
        details.push(("max_payload".into(), info.max_payload.to_string()));
        details.push(("jetstream".into(), info.jetstream.to_string()));
        Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "nats".into(),
            check: String::new(),
            product: Some("nats-server".into()),
            version: Some(clip(&info.version, 64)),
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory: None,
            remediation: None,
            references: Vec::new(),
        }
    }
}

/// The INFO facts for the evidence.
fn describe(info: &Info) -> String {
    format!(
        "INFO: nats-server {} ({}), auth_required {}, tls_required {}, tls_verify {}, jetstream {}, max_payload {}",
        clip(&info.version, 64),
        clip(info.go.as_deref().unwrap_or("-"), 64),
        info.auth_required,
        info.tls_required,
        info.tls_verify,
        info.jetstream,
        info.max_payload
    )
}

/// The TLS upgrade after a plain INFO with `tls_required`, under the scan's certificate
/// policy, within the step timeout.
async fn upgrade(cx: &ProbeContext, host: &Host, conn: Conn) -> Result<Conn, ConnectError> {
    let name = match host {
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        Host::Name(name) => ServerName::try_from(name.to_string())
            .map_err(|e| ConnectError::Resolve(format!("not a TLS server name: {e}")))?,
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cx.net.tls_config().clone()));
    let step = conn.step;
    match tokio::time::timeout(step, connector.connect(name, conn.stream)).await {
        Err(_) => Err(ConnectError::TlsTimeout),
        Ok(Err(e)) if crate::net::is_certificate_error(&e) => {
            Err(ConnectError::Certificate(e.to_string()))
        }
        Ok(Err(e)) => Err(ConnectError::Tls(e.to_string())),
        Ok(Ok(stream)) => {
            let stream: BoxStream = Box::pin(stream);
            Ok(Conn::new(stream, step))
        }
    }
}

fn not_this(note: String) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note,
        hint: None,
        transport_confirmed: true,
        speaks_protocol: false,
    }
}
