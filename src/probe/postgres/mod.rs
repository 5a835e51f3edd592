//! The PostgreSQL probe: speaks the frontend/backend protocol 3.0 itself and judges access
//! from the server's answer to a StartupMessage for user `postgres`, database `postgres`.
//!
//! - `AuthenticationOk` with no password asked (a `trust` rule) is the door open; the
//!   verdict is `open` only once the catalog query `SELECT datname FROM pg_database`
//!   (database names only) came back as a well-formed result.
//! - A password request (cleartext, MD5, SASL/SCRAM: `R` codes 3, 5, 10) or another
//!   authentication method is `auth-required`, as is an ErrorResponse from `pg_hba.conf`
//!   refusing the connection (SQLSTATE 28000), reported with its message.
//! - Under `--default-credentials` only, a SCRAM-SHA-256 or cleartext request is answered
//!   with `postgres`/`postgres`; the server's SCRAM signature must check out.
//!
//! Over TLS, the SSLRequest goes first on the plain connection, as libpq does. Nothing else
//! is sent: no row of any table is read and nothing is written. Source of every message
//! format: <https://www.postgresql.org/docs/current/protocol-flow.html>.

mod listing;
mod scram;
mod session;
pub mod wire;

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::registry::{Credential, NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Finding, Inventory, Severity, policy};
use crate::net::{BoxStream, ConnectError};
use crate::sanitize::clip;
use crate::targets::{Endpoint, Host};

/// The service id in reports.
const SERVICE: &str = "postgresql";
/// Severity of an open PostgreSQL with user databases.
const OPEN_SEVERITY: Severity = Severity::High;

/// The PostgreSQL probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "postgresql",
    labels: ["postgresql", "postgresql+tls"],
    services: &[ServiceInfo {
        id: SERVICE,
        name: "PostgreSQL (protocol 3.0)",
        ports: &[5432],
        check: "StartupMessage user postgres: AuthenticationOk without a password is open once SELECT datname FROM pg_database answers; a password request or a pg_hba.conf refusal is auth-required",
        severity: OPEN_SEVERITY,
        remediation: "Replace `trust` rules in pg_hba.conf with scram-sha-256 (password_encryption = scram-sha-256), give the postgres role a strong password, and set listen_addresses to private interfaces only.",
        references: &[
            "https://www.postgresql.org/docs/current/auth-pg-hba-conf.html",
            "https://www.postgresql.org/docs/current/auth-trust.html",
        ],
    }],
    schemes: &[
        Scheme {
            name: "postgres",
            probe: "postgresql",
            default_port: 5432,
            tls: None,
            style: UriStyle::HostList,
            tls_options: &[
                "sslmode=require",
                "sslmode=verify-ca",
                "sslmode=verify-full",
            ],
        },
        Scheme {
            name: "postgresql",
            probe: "postgresql",
            default_port: 5432,
            tls: None,
            style: UriStyle::HostList,
            tls_options: &[
                "sslmode=require",
                "sslmode=verify-ca",
                "sslmode=verify-full",
            ],
        },
    ],
    greeting: None,
    answers: None,
    http_notice: None,
    default_credentials: &[DEFAULT_LOGIN],
    run,
};

/// The login tried under `--default-credentials`: the superuser initdb creates.
const DEFAULT_LOGIN: Credential = Credential {
    user: "postgres",
    password: "postgres",
};

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(probe(cx, endpoint, tls, trace))
}

/// Probes one endpoint for PostgreSQL over plain TCP or TLS (SSLRequest first).
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let stream = match open(cx, endpoint, tls, trace).await {
        Ok(stream) => stream,
        Err(outcome) => return outcome,
    };
    let mut session = session::Session {
        cx,
        stream,
        trace,
        details: Vec::new(),
    };
    let verdict = session.run().await;
    verdict.into_outcome(endpoint, tls, session.details)
}

/// Connects; over TLS sends the SSLRequest and upgrades after the server's `S`.
async fn open(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> Result<BoxStream, ProbeOutcome> {
    let mut stream = cx
        .net
        .connect(&endpoint.host, endpoint.port, false)
        .await
        .map_err(ProbeOutcome::from_connect_error)?;
    if !tls {
        return Ok(stream);
    }
    let step = cx.net.timeout;
    let request = "SSLRequest (code 80877103)";
    if let Err(e) = wire::send(&mut stream, &wire::ssl_request(), step).await {
        trace.record(request, e.to_string());
        return Err(not_postgres(e.to_string(), false));
    }
    match wire::read_byte(&mut stream, step).await {
        Ok(b'S') => trace.record(request, "S: the server accepts TLS"),
        Ok(b'N') => {
            trace.record(request, "N: the server does not accept TLS");
            return Err(not_postgres(
                "SSLRequest answered N (no TLS on this server)".into(),
                false,
            ));
        }
        Ok(other) => {
            trace.record(request, format!("byte 0x{other:02x}"));
            return Err(not_postgres(
                format!("SSLRequest answered 0x{other:02x}"),
                true,
            ));
        }
        Err(wire::WireError::Timeout) => {
            trace.record(request, "no answer before the timeout");
            return Err(ProbeOutcome::Silent);
        }
        Err(e) => {
            trace.record(request, e.to_string());
            return Err(not_postgres(e.to_string(), false));
        }
    }
    let name = server_name(&endpoint.host).map_err(ProbeOutcome::from_connect_error)?;
    let connector = TlsConnector::from(Arc::new(cx.net.tls_config().clone()));
    match tokio::time::timeout(step, connector.connect(name, stream)).await {
        Err(_) => Err(ProbeOutcome::from_connect_error(ConnectError::TlsTimeout)),
        Ok(Err(e)) if crate::net::is_certificate_error(&e) => Err(
            ProbeOutcome::from_connect_error(ConnectError::Certificate(e.to_string())),
        ),
        Ok(Err(e)) => Err(ProbeOutcome::from_connect_error(ConnectError::Tls(
            e.to_string(),
        ))),
        Ok(Ok(tls_stream)) => Ok(Box::pin(tls_stream)),
    }
}

fn server_name(host: &Host) -> Result<ServerName<'static>, ConnectError> {
    match host {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => ServerName::try_from(name.to_string())
            .map_err(|e| ConnectError::Resolve(format!("not a TLS server name: {e}"))),
    }
}

/// Bytes that are not PostgreSQL's; `confirmed` when some answer did come back over the
/// transport used.
fn not_postgres(reason: String, confirmed: bool) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!("not PostgreSQL: {}", clip(&reason, 200)),
        hint: None,
        transport_confirmed: confirmed,
        speaks_protocol: false,
    }
}

/// What the session made of the server.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Judged: exposure, summary, version, inventory.
    Found {
        exposure: Exposure,
        summary: String,
        version: Option<String>,
        inventory: Option<Inventory>,
    },
    /// Not PostgreSQL, or no answer.
    Other(ProbeOutcome),
}

impl Verdict {
    fn into_outcome(
        self,
        endpoint: &Endpoint,
        tls: bool,
        details: Vec<(String, String)>,
    ) -> ProbeOutcome {
        let (exposure, summary, version, inventory) = match self {
            Verdict::Found {
                exposure,
                summary,
                version,
                inventory,
            } => (exposure, summary, version, inventory),
            Verdict::Other(outcome) => return outcome,
        };
        // Names without sizes say nothing of how much a user database holds: as for the
        // data-driven probes, a user database keeps the product's severity, and only a
        // server with nothing but initdb's databases gets the "system data only" medium.
        let counted = inventory
            .as_ref()
            .filter(|inv| inv.items.iter().all(|d| d.system));
        let severity = policy::severity(exposure, OPEN_SEVERITY, counted, false);
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: endpoint.authority(),
            address: None,
            url: None,
            tls,
            service: SERVICE.into(),
            check: String::new(),
            product: Some("PostgreSQL".into()),
            version,
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
}
