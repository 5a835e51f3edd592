//! The MongoDB probe: speaks the wire protocol itself (OP_MSG, and OP_QUERY for servers
//! before 3.6), identifies mongod or mongos from the handshake, and judges access on
//! `listDatabases`: `hello` and `buildInfo` answer without credentials on every server, so
//! they identify but never prove anything (protocols.md T-05, T-15).
//!
//! What it sends, in order (protocols.md section 4):
//! 1. `handshake`: OP_MSG `{hello: 1, $db: "admin"}`, falling back to `isMaster` and, for
//!    servers before 3.6, to OP_QUERY `admin.$cmd {isMaster: 1}` on a new connection.
//! 2. `verdict`: `buildInfo` for the version, then `listDatabases`. A well-formed list
//!    means open, code 13 means credentials are required, an empty list is double-checked
//!    with `listCollections` on `admin`, and anything else after a successful handshake is
//!    [`Exposure::Undetermined`]: a finding with its evidence, never an error (issue 5).
//! 3. `inventory`: when open, `dbStats` and `listCollections` (names only, first batch)
//!    for the largest user databases, up to [`Limits::max_detailed`](super::Limits) of
//!    them, and `listIndexes` for a few of their collections.
//!
//! Nothing else: never `find`, `aggregate`, `count` or anything that reads documents, and
//! never a write. Names the server gave are sent back only after `names` validated them;
//! listings are read within the caps whatever their size (`listing`); sizes and counts
//! from the server are summed with saturating arithmetic.

pub mod wire;

mod answer;
mod bson_read;
mod collections;
mod conn;
mod handshake;
mod inventory;
mod listing;
mod names;
mod verdict;

use std::time::Duration;

use tokio::time::Instant;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Finding, Inventory, Severity};
use crate::targets::Endpoint;
use handshake::Hello;

/// `listCollections` exists from wire version 3 (3.0).
const LIST_COLLECTIONS_WIRE_VERSION: i64 = 3;
/// `nameOnly` and `authorizedCollections` for `listCollections` exist from 4.0 (wire 7).
const NAME_ONLY_WIRE_VERSION: i64 = 7;
/// Detail commands (`dbStats`, `listCollections`) stop being sent once the probe has run
/// this many step timeouts, so a slow server still gets a verdict before the engine's
/// per-endpoint deadline.
const DETAIL_BUDGET_STEPS: u32 = 4;
/// Severity of an undetermined MongoDB. `low`, not `info`: `info` says the server asked
/// for credentials, which nobody saw here, while `low` is "metadata only is readable",
/// which the handshake and `buildInfo` just showed; and `--fail-on low` then keeps a
/// server nobody could clear from passing as protected.
const UNDETERMINED_SEVERITY: Severity = Severity::Low;

/// The MongoDB probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "mongodb",
    labels: ["mongodb", "mongodb+tls"],
    services: &[ServiceInfo {
        id: "mongodb",
        name: "MongoDB 2.6-8.x (mongod, mongos)",
        ports: &[27017, 27018, 27019],
        check: "hello/isMaster handshake; open when listDatabases returns a well-formed list (an empty one confirmed by listCollections)",
        severity: Severity::High,
        remediation: "Enable access control (security.authorization: enabled) with a user per application, bind net.bindIp to private interfaces only, and require TLS (net.tls.mode: requireTLS).",
        references: &[
            "https://www.mongodb.com/docs/manual/administration/security-checklist/",
            "https://www.mongodb.com/docs/manual/tutorial/configure-scram-client-authentication/",
        ],
    }],
    schemes: &[
        Scheme {
            name: "mongodb",
            probe: "mongodb",
            default_port: 27017,
            tls: None,
            style: UriStyle::HostList,
            tls_options: &["tls=true", "ssl=true"],
        },
        Scheme {
            name: "mongodb+srv",
            probe: "mongodb",
            default_port: 27017,
            tls: Some(true),
            style: UriStyle::Refused(
                "mongodb+srv:// needs a DNS SRV lookup; give the hosts as mongodb://host:port",
            ),
            tls_options: &[],
        },
    ],
    greeting: None,
    answers: None,
    // What mongod sends back to an HTTP request on its driver port.
    http_notice: Some("trying to access MongoDB over HTTP on the native driver port"),
    default_credentials: &[],
    run,
};

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    // Boxed by the registry's signature: the MongoDB future is several KB, and every
    // concurrency slot would otherwise carry it inline.
    Box::pin(probe(cx, endpoint, tls, trace))
}

/// Probes one endpoint for MongoDB over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let started = Instant::now();
    let mut probe = Probe {
        cx,
        endpoint,
        tls,
        detail_deadline: started + cx.net.timeout * DETAIL_BUDGET_STEPS,
        index_lists_left: inventory::MAX_INDEX_LISTS,
        op_msg: true,
        trace,
    };
    let (mut conn, hello) = match probe.handshake().await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    probe.judge(&mut conn, &hello).await
}

/// One probe run: where it talks to and what it has recorded.
struct Probe<'a> {
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    /// No detail command starts after this.
    detail_deadline: Instant,
    /// `listIndexes` commands still allowed.
    index_lists_left: usize,
    /// Whether the commands after the handshake went as OP_MSG, for the details.
    op_msg: bool,
    /// Where each exchange is recorded as evidence.
    trace: &'a mut Trace,
}

impl Probe<'_> {
    fn record(&mut self, request: impl AsRef<str>, response: impl AsRef<str>) {
        self.trace.record(request, response);
    }

    fn step(&self) -> Duration {
        self.cx.net.timeout
    }

    fn auth_required(
        &mut self,
        hello: &Hello,
        version: Option<String>,
        summary: String,
    ) -> ProbeOutcome {
        ProbeOutcome::Found(Box::new(self.finding(
            hello,
            version,
            Exposure::AuthRequired,
            Severity::Info,
            summary,
            None,
        )))
    }

    /// MongoDB, identified by its handshake, whose access could not be judged.
    fn undetermined(
        &mut self,
        hello: &Hello,
        version: Option<String>,
        summary: String,
    ) -> ProbeOutcome {
        ProbeOutcome::Found(Box::new(self.finding(
            hello,
            version,
            Exposure::Undetermined,
            UNDETERMINED_SEVERITY,
            summary,
            None,
        )))
    }

    fn finding(
        &mut self,
        hello: &Hello,
        version: Option<String>,
        exposure: Exposure,
        severity: Severity,
        summary: String,
        inventory: Option<Inventory>,
    ) -> Finding {
        let mut details = vec![("topology".to_string(), hello.topology())];
        if let Some(set) = &hello.set_name {
            details.push(("replica_set".into(), set.clone()));
        }
        details.push(("max_wire_version".into(), hello.max_wire.to_string()));
        let protocol = if self.op_msg {
            "OP_MSG"
        } else {
            "OP_QUERY (server before 3.6)"
        };
        details.push(("wire_protocol".into(), protocol.into()));
        details.push(("handshake".into(), hello.via.into()));
        Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "mongodb".into(),
            check: String::new(),
            product: Some(if hello.mongos { "mongos" } else { "mongod" }.into()),
            version,
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }
    }
}
