//! The MySQL / MariaDB probe: a server-first protocol. The server sends an Initial
//! Handshake v10 on accept (or an ERR packet when it refuses the host); the probe takes the
//! product and version from it.
//!
//! A handshake proves nothing about access: every server sends it before any login. So a
//! plain scan reports `auth-required` (a login is needed to know more) and sends nothing.
//! Under `--default-credentials` the probe logs in as `root` with an empty password (the
//! auth response of every client plugin for an empty password is empty); an OK packet is
//! `default-credentials`, and `SHOW DATABASES` then lists the database names, nothing else.
//! ERR 1045 (access denied) is `auth-required`. No other statement is ever sent.

pub mod wire;

mod conn;
mod listing;
mod login;

use super::registry::{Credential, NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Finding, Inventory, Severity, policy};
use crate::net::ConnectError;
use crate::targets::Endpoint;
use conn::{Conn, Stop};
use wire::{Greeting, Handshake, ServerError};

/// Longest reply packet read, checked before allocating.
const MAX_PACKET: usize = 64 << 10;
/// Most bytes of a `SHOW DATABASES` result read in all.
const MAX_RESULT: usize = 1 << 20;
/// Severity of an open (default-credential) server with user databases.
const SEVERITY: Severity = Severity::High;
/// Databases every server has.
const SYSTEM_DATABASES: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];
/// ER_ACCESS_DENIED_ERROR and ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
const ACCESS_DENIED: &[u16] = &[1045, 1698];
/// ER_HOST_IS_BLOCKED and ER_HOST_NOT_PRIVILEGED: the server refuses this client's host.
const HOST_REFUSED: &[u16] = &[1129, 1130];
/// The login tried under `--default-credentials`.
const ROOT: Credential = Credential {
    user: "root",
    password: "",
};

/// The MySQL probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "mysql",
    labels: ["mysql", "mysql+tls"],
    services: &[ServiceInfo {
        id: "mysql",
        name: "MySQL / MariaDB (Initial Handshake v10)",
        ports: &[3306],
        check: "handshake v10 identifies and gives the version (auth-required); under --default-credentials root with an empty password: OK packet then SHOW DATABASES (names only) is default-credentials, ERR 1045 auth-required",
        severity: SEVERITY,
        remediation: "Give every account a password (ALTER USER 'root'@'localhost' IDENTIFIED BY ...; or unix_socket authentication for root), remove anonymous and remote root accounts (mariadb-secure-installation), and bind bind-address to private interfaces only.",
        references: &[
            "https://dev.mysql.com/doc/refman/8.0/en/default-privileges.html",
            "https://mariadb.com/kb/en/mariadb-secure-installation/",
            "https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html",
        ],
    }],
    schemes: &[
        Scheme {
            name: "mysql",
            probe: "mysql",
            default_port: 3306,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
        Scheme {
            name: "mariadb",
            probe: "mysql",
            default_port: 3306,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
    ],
    greeting: Some(wire::is_greeting),
    answers: None,
    http_notice: None,
    default_credentials: &[ROOT],
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

/// Probes one endpoint for MySQL or MariaDB. MySQL negotiates TLS inside its own protocol,
/// never from the first byte, so a TLS attempt is not this protocol.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    if tls {
        return not_this("MySQL starts in plain text (TLS is negotiated after the handshake)");
    }
    let stream = match cx.net.connect(&endpoint.host, endpoint.port, false).await {
        Ok(stream) => stream,
        Err(ConnectError::Refused) => return ProbeOutcome::Closed,
        Err(ConnectError::Timeout) => return ProbeOutcome::Unreachable,
        Err(ConnectError::Resolve(e)) => {
            return ProbeOutcome::Failed(format!("cannot resolve: {e}"));
        }
        Err(e) => {
            trace.record("connect", format!("{e:?}"));
            return ProbeOutcome::Unreachable;
        }
    };
    let mut conn = Conn {
        stream,
        step: cx.net.timeout,
    };
    let greeting = match conn.packet().await {
        Ok((0, payload)) => wire::parse_greeting(&payload),
        Ok(_) => None,
        Err(Stop::Silent) => {
            trace.record("(connect and listen)", "no greeting before the timeout");
            return ProbeOutcome::Silent;
        }
        Err(Stop::Closed(why) | Stop::Error(why)) => {
            trace.record("(connect and listen)", &why);
            return not_this(why);
        }
    };
    let handshake = match greeting {
        None => {
            trace.record(
                "(connect and listen)",
                "not a MySQL handshake v10 or ERR packet",
            );
            return not_this("not a MySQL handshake");
        }
        Some(Greeting::Refused(err)) => return refused(endpoint, trace, &err),
        Some(Greeting::Handshake(handshake)) => handshake,
    };
    trace.record("(connect and listen)", describe(&handshake));
    let mut judge = Judge {
        endpoint,
        handshake: &handshake,
        trace,
    };
    if !cx.default_credentials {
        return judge.found(
            Exposure::AuthRequired,
            "the server sent its handshake; a login is needed to list databases (--default-credentials tries root with an empty password)".into(),
            None,
        );
    }
    judge.login(&mut conn, cx.limits.max_items).await
}

fn not_this(note: impl Into<String>) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: note.into(),
        hint: None,
        transport_confirmed: true,
        speaks_protocol: false,
    }
}

fn describe(h: &Handshake) -> String {
    format!(
        "handshake v10: server version {:?}, auth plugin {}, capabilities 0x{:08x}",
        h.server_version,
        h.auth_plugin.as_deref().unwrap_or("(none named)"),
        h.capabilities
    )
}

fn describe_error(err: &ServerError) -> String {
    match &err.state {
        Some(state) => format!("ERR {} ({state}): {}", err.code, err.message),
        None => format!("ERR {}: {}", err.code, err.message),
    }
}

/// A server that sent ERR in place of its handshake: MySQL, refusing this client.
fn refused(endpoint: &Endpoint, trace: &mut Trace, err: &ServerError) -> ProbeOutcome {
    trace.record(
        "(connect and listen)",
        format!("ERR packet instead of a handshake: {}", describe_error(err)),
    );
    let (exposure, summary) = if HOST_REFUSED.contains(&err.code) {
        (
            Exposure::AuthRequired,
            format!(
                "the server refuses connections from this host (ERR {})",
                err.code
            ),
        )
    } else {
        (
            Exposure::Undetermined,
            format!("the server sent ERR {} instead of its handshake", err.code),
        )
    };
    ProbeOutcome::Found(Box::new(Finding {
        triage: Default::default(),
        endpoint: endpoint.authority(),
        address: None,
        url: None,
        tls: false,
        service: "mysql".into(),
        check: String::new(),
        product: None,
        version: None,
        exposure,
        severity: policy::severity(exposure, SEVERITY, None, false),
        summary,
        details: vec![("error_code".into(), err.code.to_string())],
        evidence: Vec::new(),
        inventory: None,
        remediation: None,
        references: Vec::new(),
    }))
}

/// The verdict on one server that sent its handshake.
struct Judge<'a> {
    endpoint: &'a Endpoint,
    handshake: &'a Handshake,
    trace: &'a mut Trace,
}

impl Judge<'_> {
    fn found(
        &mut self,
        exposure: Exposure,
        summary: String,
        inventory: Option<Inventory>,
    ) -> ProbeOutcome {
        let h = self.handshake;
        let mut details = vec![("server_version".to_string(), h.server_version.clone())];
        if let Some(plugin) = &h.auth_plugin {
            details.push(("auth_plugin".into(), plugin.clone()));
        }
        if exposure == Exposure::DefaultCredentials {
            details.push(("user".into(), ROOT.user.into()));
        }
        let severity = policy::severity(exposure, SEVERITY, inventory.as_ref(), false);
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: false,
            service: "mysql".into(),
            check: String::new(),
            product: Some(if h.is_mariadb() { "MariaDB" } else { "MySQL" }.into()),
            version: h.release(),
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }

    fn undetermined(&mut self, why: String) -> ProbeOutcome {
        self.found(Exposure::Undetermined, why, None)
    }
}
