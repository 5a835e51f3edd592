//! The LDAP probe: LDAPv3 (RFC 4511) over plain TCP (`ldap://`, 389) or TLS (`ldaps://`,
//! 636), with a hand-written bounded BER codec (`ber`, `message`). Four operations, all read-only:
//!
//! 1. An anonymous simple bind (version 3, empty name, empty password): resultCode 0 means
//!    anonymous clients may go on; inappropriateAuthentication (48, OpenLDAP's `disallow
//!    bind_anon`), invalidCredentials (49), strongerAuthRequired (8) and
//!    confidentialityRequired (13) mean credentials (or TLS) are required.
//! 2. A base-scope search of the rootDSE for `namingContexts`, `vendorName`,
//!    `vendorVersion`, `supportedLDAPVersion`, `defaultNamingContext` and `objectClass`:
//!    the naming contexts to count, and the vendor (OpenLDAP publishes no vendor
//!    attributes; it is named only when the rootDSE's class is `OpenLDAProotDSE`).
//! 3. Under each naming context (at most `MAX_CONTEXTS`), a subtree search asking for no
//!    attributes (`1.1`, types only) with a size and time limit, counting searchResEntry
//!    messages without keeping their DNs: searchResDone success is an exact count,
//!    sizeLimitExceeded (4) or timeLimitExceeded (3) a lower bound.
//! 4. An unbind.
//!
//! Verdicts: entries readable anonymously under a naming context is `open` (inventory: the
//! naming contexts with their entry counts); an anonymous bind refused, or accepted but with
//! no entry readable (insufficientAccessRights, OpenLDAP's `require authc` answering
//! unwillingToPerform "authentication required", or no entries at all) is `auth-required`.
//! No attribute value of any entry is read; no write is ever sent.

mod ber;
mod conn;
mod message;
mod session;
mod verdict;

use tokio::time::Instant;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::Severity;
use crate::targets::Endpoint;
use conn::Conn;
use session::Session;
use verdict::Facts;

/// Largest LDAP message accepted (bytes), checked before buffering: a rootDSE or an entry
/// without attributes is a few hundred bytes.
const MAX_MESSAGE: usize = 64 << 10;
/// Most naming contexts searched.
pub(super) const MAX_CONTEXTS: usize = 8;

const REMEDIATION: &str = "Refuse anonymous access: in OpenLDAP set `disallow bind_anon` and `require authc` (olcDisallows, olcRequires) and give anonymous users no read access in the ACLs (`by anonymous auth`); in 389 Directory Server set nsslapd-allow-anonymous-access to off (or rootdse); in Active Directory leave dsHeuristics' anonymous-access flag unset. Require TLS (ldaps:// or StartTLS) for binds.";

/// The LDAP probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "ldap",
    labels: ["ldap", "ldaps"],
    services: &[ServiceInfo {
        id: "ldap",
        name: "LDAPv3 directories (OpenLDAP, 389 Directory Server, Active Directory, ...)",
        ports: &[389, 636],
        check: "anonymous simple bind, rootDSE search for namingContexts, then a subtree search per naming context asking for no attributes; open when entries are returned anonymously (counts only), auth-required when the bind is refused (48/49/8/13) or no entry is readable (50, 53 \"authentication required\", none returned)",
        severity: Severity::High,
        remediation: REMEDIATION,
        references: &[
            "https://www.openldap.org/doc/admin25/security.html",
            "https://www.openldap.org/doc/admin25/access-control.html",
            "https://www.rfc-editor.org/rfc/rfc4513#section-5.1.1",
        ],
    }],
    schemes: &[
        Scheme {
            name: "ldap",
            probe: "ldap",
            default_port: 389,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
        Scheme {
            name: "ldaps",
            probe: "ldap",
            default_port: 636,
            tls: Some(true),
            style: UriStyle::Url,
            tls_options: &[],
        },
    ],
    greeting: None,
    answers: Some(message::is_disconnection_notice),
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

/// Probes one endpoint for an LDAP server over plain TCP or TLS.
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
    let mut session = Session::new(cx, Conn::new(stream, MAX_MESSAGE), trace);
    let facts = Facts {
        endpoint,
        tls,
        bind_accepted: None,
        root: None,
    };
    let (outcome, in_step) = session.run(facts).await;
    // The server spoke LDAP and the connection is still in step: end the session politely.
    if in_step {
        session.unbind(Instant::now() + cx.net.timeout).await;
    }
    outcome
}
