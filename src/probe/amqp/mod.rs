//! The AMQP 0-9-1 probe (RabbitMQ, and other 0-9-1 brokers such as LavinMQ): a
//! client-first protocol over plain TCP (`amqp://`, 5672) or TLS (`amqps://`, 5671).
//!
//! 1. The probe sends the protocol header `AMQP\0\0\x09\x01`; a 0-9-1 broker answers with
//!    Connection.Start, whose server-properties name the product, version, platform and
//!    cluster, and whose mechanisms list the SASL mechanisms it accepts. A server that
//!    answers with another protocol header (`AMQP\0\1\0\0` and `AMQP\3\1\0\0` are AMQP
//!    1.0: ActiveMQ Artemis, Qpid, Azure Service Bus) is identified and `undetermined`.
//! 2. When ANONYMOUS is offered (RabbitMQ 4.1+ offers it by default, logging such clients
//!    in as `anonymous_login_user`), the probe logs in with it, no credentials sent: Tune,
//!    then Connection.OpenOk for vhost `/`, is `open`. Connection.Close 403 is a refusal.
//! 3. Otherwise, and when ANONYMOUS is refused, a plain scan stops there: `auth-required`,
//!    with the mechanisms named. Under `--default-credentials` the probe logs in with
//!    PLAIN guest/guest (RabbitMQ's default user): OpenOk for `/` is `default-credentials`,
//!    Connection.Close 403 ACCESS_REFUSED (or a hang-up) `auth-required`.
//!
//! Every login closes its connection with Connection.Close 200. AMQP has no way to list
//! queues, so a finding reports the broker's facts and that vhost `/` was opened; no
//! channel is ever opened, and nothing is declared, published or consumed.
//! Sources: `tests/fixtures/amqp/SOURCES.md`.

mod conn;
mod handshake;
mod login;
mod table;
pub mod wire;

use super::registry::{Credential, NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Finding, Severity, policy};
use crate::targets::Endpoint;
use handshake::handshake;
use login::{Login, VHOST};
use wire::Start;

/// Severity of an open broker: whoever opens a vhost can read and publish its messages.
const SEVERITY: Severity = Severity::High;
/// RabbitMQ's default user, tried under `--default-credentials`.
const GUEST: Credential = Credential {
    user: "guest",
    password: "guest",
};
/// How the evidence names the protocol header sent.
const HEADER_REQUEST: &str = "protocol header AMQP\\x00\\x00\\x09\\x01 (AMQP 0-9-1)";

/// The AMQP probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "amqp",
    labels: ["amqp", "amqps"],
    services: &[ServiceInfo {
        id: "amqp",
        name: "AMQP 0-9-1 brokers (RabbitMQ)",
        ports: &[5672, 5671],
        check: "protocol header, then Connection.Start (product, version, SASL mechanisms); open when an ANONYMOUS login gets Connection.OpenOk for vhost /, default-credentials when PLAIN guest/guest does (--default-credentials); Connection.Close 403 or PLAIN/AMQPLAIN only is auth-required; an AMQP 1.0 header is undetermined",
        severity: SEVERITY,
        remediation: "Delete the guest user or give it a strong password (rabbitmqctl delete_user guest) and keep loopback_users.guest = true; take ANONYMOUS out of auth_mechanisms (RabbitMQ 4.1+: auth_mechanisms.1 = PLAIN, auth_mechanisms.2 = AMQPLAIN); bind listeners.tcp to private interfaces and use TLS (listeners.ssl) for remote clients.",
        references: &[
            "https://www.rabbitmq.com/docs/access-control",
            "https://www.rabbitmq.com/docs/networking",
            "https://www.rabbitmq.com/resources/specs/amqp0-9-1.pdf",
        ],
    }],
    schemes: &[
        Scheme {
            name: "amqp",
            probe: "amqp",
            default_port: 5672,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
        Scheme {
            name: "amqps",
            probe: "amqp",
            default_port: 5671,
            tls: Some(true),
            style: UriStyle::Url,
            tls_options: &[],
        },
    ],
    greeting: None,
    // A broker answers bytes it cannot read (an HTTP request) with its protocol header,
    // then closes.
    answers: Some(wire::is_header),
    http_notice: None,
    default_credentials: &[GUEST],
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

/// Probes one endpoint for an AMQP 0-9-1 broker over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let (conn, start) = match handshake(cx, endpoint, tls, trace).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let mut judge = Judge {
        endpoint,
        tls,
        start: &start,
        trace,
    };
    let locale = start
        .locales
        .split(' ')
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or("en_US")
        .to_string();
    let mut conn = conn;
    // Set once ANONYMOUS was tried and refused: the refusal closed this connection.
    let mut anonymous = None;
    if start.offers("ANONYMOUS") {
        let request = "Connection.StartOk mechanism ANONYMOUS (no credentials)";
        match login::login(&mut conn, judge.trace, request, "ANONYMOUS", b"", &locale).await {
            Login::Opened => {
                let summary = format!(
                    "{} lets an ANONYMOUS login open vhost {VHOST} without credentials",
                    judge.name()
                );
                return judge.found(Exposure::Open, summary, None);
            }
            Login::Refused(close) => anonymous = Some(close),
            Login::VhostRefused(close) => {
                let summary = format!(
                    "{} accepts an ANONYMOUS login but refuses vhost {VHOST}{}",
                    judge.name(),
                    reason(close.as_ref())
                );
                return judge.found(Exposure::Undetermined, summary, None);
            }
            Login::Failed(why) => {
                let summary = format!("{} offers ANONYMOUS, then: {why}", judge.name());
                return judge.found(Exposure::Undetermined, summary, None);
            }
        }
    }
    let offered = start.mechanisms.join(" ");
    if !cx.default_credentials {
        let summary = match &anonymous {
            Some(close) => format!(
                "{} offers ANONYMOUS but refuses it{}; its other mechanisms need a login",
                judge.name(),
                reason(close.as_ref())
            ),
            None => format!(
                "{} requires a login: SASL mechanisms {offered} (--default-credentials tries guest/guest)",
                judge.name()
            ),
        };
        return judge.found(Exposure::AuthRequired, summary, None);
    }
    if !start.offers("PLAIN") {
        let summary = format!(
            "{} requires a login and offers no PLAIN mechanism for the default user: {offered}",
            judge.name()
        );
        return judge.found(Exposure::AuthRequired, summary, None);
    }
    if anonymous.is_some() {
        conn = match handshake(cx, endpoint, tls, judge.trace).await {
            Ok((c, _)) => c,
            Err(_) => {
                let summary = format!(
                    "{} refused ANONYMOUS, then a second connection for guest failed",
                    judge.name()
                );
                return judge.found(Exposure::Undetermined, summary, None);
            }
        };
    }
    let mut response = vec![0u8];
    response.extend_from_slice(GUEST.user.as_bytes());
    response.push(0);
    response.extend_from_slice(GUEST.password.as_bytes());
    let request = format!("Connection.StartOk mechanism PLAIN, user {}", GUEST.user);
    let name = judge.name();
    match login::login(&mut conn, judge.trace, &request, "PLAIN", &response, &locale).await {
        Login::Opened => judge.found(
            Exposure::DefaultCredentials,
            format!(
                "{name} accepts the default user {} (its well-known password) and opens vhost {VHOST}",
                GUEST.user
            ),
            Some(GUEST.user),
        ),
        Login::Refused(close) => judge.found(
            Exposure::AuthRequired,
            format!(
                "{name} refuses the default user {}{}",
                GUEST.user,
                reason(close.as_ref())
            ),
            None,
        ),
        Login::VhostRefused(close) => judge.found(
            Exposure::Undetermined,
            format!(
                "{name} accepts the default user {} but refuses vhost {VHOST}{}",
                GUEST.user,
                reason(close.as_ref())
            ),
            None,
        ),
        Login::Failed(why) => judge.found(
            Exposure::Undetermined,
            format!("{name}: the login as {} ended with {why}", GUEST.user),
            None,
        ),
    }
}

/// ` (403: ACCESS_REFUSED - ...)` for a summary, or nothing for a hang-up.
fn reason(close: Option<&wire::Close>) -> String {
    close.map_or_else(
        || " (the server closed the connection)".into(),
        |c| format!(" ({}: {})", c.code, c.text),
    )
}

/// The verdict on one broker that sent Connection.Start.
struct Judge<'a> {
    endpoint: &'a Endpoint,
    tls: bool,
    start: &'a Start,
    trace: &'a mut Trace,
}

impl Judge<'_> {
    /// `RabbitMQ 3.10.8`, or a generic name when the broker does not say.
    fn name(&self) -> String {
        let product = self
            .start
            .product
            .as_deref()
            .unwrap_or("an AMQP 0-9-1 broker");
        match &self.start.version {
            Some(version) => format!("{product} {version}"),
            None => product.to_string(),
        }
    }

    fn found(&mut self, exposure: Exposure, summary: String, user: Option<&str>) -> ProbeOutcome {
        let s = self.start;
        let mut details = vec![(
            "amqp_version".to_string(),
            format!("{}-{}", s.major, s.minor),
        )];
        for (key, value) in [("platform", &s.platform), ("cluster_name", &s.cluster_name)] {
            if let Some(value) = value {
                details.push((key.into(), value.clone()));
            }
        }
        details.push(("mechanisms".into(), s.mechanisms.join(" ")));
        details.push(("locales".into(), s.locales.clone()));
        if !s.capabilities.is_empty() {
            details.push(("capabilities".into(), s.capabilities.join(",")));
        }
        if let Some(user) = user {
            details.push(("user".into(), user.into()));
        }
        if matches!(exposure, Exposure::Open | Exposure::DefaultCredentials) {
            details.push(("vhost".into(), VHOST.into()));
        }
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "amqp".into(),
            check: String::new(),
            product: s.product.clone(),
            version: s.version.clone(),
            exposure,
            severity: policy::severity(exposure, SEVERITY, None, false),
            summary,
            details,
            evidence: Vec::new(),
            inventory: None,
            remediation: None,
            references: Vec::new(),
        }))
    }
}
