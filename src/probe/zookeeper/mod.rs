//! The ZooKeeper probe: speaks the client protocol (jute records in `wire`, read off the socket by `frame`) on the client port
//! (2181, and secureClientPort 2281 over TLS) and judges access on the root znode's
//! children. A ConnectResponse identifies ZooKeeper, but every server gives a session to
//! anyone who asks, so it proves nothing about access.
//!
//! What it sends, in order:
//! 1. a ConnectRequest for a new session (sessionId 0, a zero password, timeOut 10 s);
//! 2. `getChildren("/")`, no watch, xid 1 (`listing`): a well-formed list of names that holds
//!    ZooKeeper's own `zookeeper` znode is `open`; NOAUTH (-102, the ACL of `/` denies the
//!    world) and SESSIONCLOSEDREQUIRESASLAUTH (-124: sessionRequireClientSASLAuth in 3.6,
//!    enforce.auth.enabled from 3.7, which answer then close) are `auth-required`, as is a
//!    server that hangs up on the request without a word; anything else is `undetermined`;
//! 3. `closeSession` (op -11, xid 2) while the session is still open, so no session lingers;
//! 4. the four-letter word `srvr` on a connection of its own, for the version (`srvr`).
//!
//! Nothing else: never `getData`, `exists`, a watch, or a write. Only the names of the root
//! znodes are kept, never what they hold.

mod frame;
mod listing;
mod srvr;
mod wire;

use super::registry::{NativeProbe, ProbeFuture, ServiceInfo};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity};
use crate::sanitize::byte_preview;
use crate::targets::Endpoint;
use frame::ReadError;
use listing::Judged;
use wire::ConnectResponse;

/// Most reply bytes read (a root listing of a few thousand names); a longer listing is
/// reported truncated.
pub const MAX_REPLY: usize = 64 << 10;
/// The xids of the two requests.
const LIST_XID: i32 = 1;
const CLOSE_XID: i32 = 2;
/// ZooKeeper's own znode under `/` (quotas, the dynamic configuration), in every release.
const SYSTEM_ZNODE: &str = "zookeeper";
/// How requests are written in the evidence.
const CONNECT: &str =
    "ConnectRequest (protocolVersion 0, sessionId 0, timeOut 10000, readOnly false)";
const LIST: &str = "getChildren / (op 8, xid 1, watch false)";
const CLOSE: &str = "closeSession (op -11, xid 2)";
/// Most child names quoted in the evidence.
const NAMES_QUOTED: usize = 10;

/// The ZooKeeper probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "zookeeper",
    labels: ["zookeeper", "zookeeper+tls"],
    services: &[ServiceInfo {
        id: "zookeeper",
        name: "Apache ZooKeeper 3.4-3.9 (client port)",
        ports: &[2181, 2281],
        check: "ConnectRequest for a new session, then getChildren /: open on a well-formed list of names holding /zookeeper, auth-required on NOAUTH (-102), SESSIONCLOSEDREQUIRESASLAUTH (-124) or a hang-up",
        severity: Severity::High,
        remediation: "Require authentication of every client session (enforce.auth.enabled=true with enforce.auth.schemes=sasl from 3.7, zookeeper.sessionRequireClientSASLAuth=true in 3.6), replace world:anyone ACLs on your znodes, bind clientPortAddress to private interfaces, and prefer secureClientPort (TLS).",
        references: &[
            "https://zookeeper.apache.org/doc/current/zookeeperAdmin.html#sc_authOptions",
            "https://zookeeper.apache.org/doc/current/zookeeperProgrammers.html#sc_ZooKeeperAccessControl",
        ],
    }],
    // ZooKeeper has no URI scheme: clients take `host:port` connect strings.
    schemes: &[],
    greeting: None,
    // To another protocol's bytes ZooKeeper mostly reads a frame length and closes; only
    // bytes that start with a four-letter word get text back.
    answers: Some(srvr::is_four_letter_answer),
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

/// Probes one endpoint for ZooKeeper's client protocol over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let step = cx.net.timeout;
    let mut stream = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => stream,
        Err(e) => return ProbeOutcome::from_connect_error(e),
    };
    let request = wire::connect_request();
    let reply = frame::exchange(
        &mut stream,
        &request,
        step,
        frame::fits_connect_response,
        64,
    );
    let session = match reply.await {
        Ok(frame) => match wire::parse_connect_response(&frame.body) {
            Some(session) => session,
            None => {
                let preview = byte_preview(&frame.body, 48);
                trace.record(CONNECT, format!("not a ConnectResponse: {preview}"));
                return not_this(format!("answered a ConnectRequest with {preview}"));
            }
        },
        Err(error) => return not_connected(error, tls, trace),
    };
    let read_only = match session.read_only {
        Some(true) => ", readOnly true",
        Some(false) => ", readOnly false",
        None => "",
    };
    trace.record(
        CONNECT,
        format!(
            "ConnectResponse: timeOut {} ms, sessionId {:#x}{read_only}",
            session.timeout_ms, session.session_id
        ),
    );
    let judged = listing::judge(cx, &mut stream, trace).await;
    if judged.session_open {
        listing::close(&mut stream, step, judged.whole, trace).await;
    }
    drop(stream);
    let srvr = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => srvr::ask(stream, step).await,
        Err(e) => srvr::Srvr {
            note: format!("{e}; version unknown"),
            ..srvr::Srvr::default()
        },
    };
    trace.record(srvr::SRVR, &srvr.note);
    ProbeOutcome::Found(Box::new(finding(endpoint, tls, &session, judged, srvr)))
}

/// What the ConnectRequest's failure means: silence, a TLS port, or another protocol.
fn not_connected(error: ReadError, tls: bool, trace: &mut Trace) -> ProbeOutcome {
    match error {
        ReadError::Silent => {
            trace.record(CONNECT, "no answer before the timeout");
            ProbeOutcome::Silent
        }
        // A secureClientPort drops plain bytes without a word.
        ReadError::Closed(bytes) if bytes.is_empty() && !tls => {
            trace.record(CONNECT, "connection closed without an answer");
            ProbeOutcome::WantsTls("closed on a ConnectRequest without an answer".into())
        }
        ReadError::Io(e) if !tls => {
            trace.record(CONNECT, format!("socket error: {e}"));
            ProbeOutcome::WantsTls(format!("socket error on a ConnectRequest: {e}"))
        }
        ReadError::Closed(bytes) | ReadError::Foreign(bytes)
            if !tls && bytes.starts_with(&[0x15, 0x03]) =>
        {
            trace.record(CONNECT, "TLS alert in answer to plain text");
            ProbeOutcome::WantsTls("TLS alert in answer to plain text".into())
        }
        ReadError::Closed(bytes) if bytes.is_empty() => {
            trace.record(CONNECT, "connection closed without an answer");
            not_this("closed on a ConnectRequest without an answer".into())
        }
        ReadError::Io(e) => {
            trace.record(CONNECT, format!("socket error: {e}"));
            not_this(format!("socket error on a ConnectRequest: {e}"))
        }
        ReadError::Closed(bytes) | ReadError::Foreign(bytes) => {
            let preview = byte_preview(&bytes, 48);
            trace.record(CONNECT, format!("not a ConnectResponse: {preview}"));
            not_this(format!("answered a ConnectRequest with {preview}"))
        }
    }
}

fn finding(
    endpoint: &Endpoint,
    tls: bool,
    session: &ConnectResponse,
    judged: Judged,
    srvr: srvr::Srvr,
) -> Finding {
    let mut details = vec![(
        "session_timeout_ms".to_string(),
        session.timeout_ms.to_string(),
    )];
    if session.read_only == Some(true) {
        details.push(("read_only".into(), "true".into()));
    }
    if let Some(mode) = &srvr.mode {
        details.push(("mode".into(), mode.clone()));
    }
    if let Some(count) = srvr.node_count {
        details.push(("znodes".into(), count.to_string()));
    }
    let inventory = judged.children.map(|children| {
        let items: Vec<DataSet> = children
            .names
            .into_iter()
            .map(|name| DataSet {
                system: name == SYSTEM_ZNODE,
                name,
                ..DataSet::default()
            })
            .collect();
        let mut inventory = Inventory {
            unit: "znode".into(),
            items,
            total_items: children.count,
            truncated: children.truncated,
            ..Inventory::default()
        };
        inventory.recount();
        inventory
    });
    // Only names are read, so sizes cannot say whether a znode holds data: any znode of
    // the user's own under / is what the product's severity is for; /zookeeper alone (an
    // unused server) is medium.
    let severity = match (judged.exposure, &inventory) {
        (Exposure::Open, Some(inv)) if inv.items.iter().any(|i| !i.system) || inv.truncated => {
            PROBE.services[0].severity
        }
        (Exposure::Open, _) => Severity::Medium,
        (Exposure::AuthRequired, _) => Severity::Info,
        _ => Severity::Low,
    };
    let version = srvr.version;
    let summary = match &version {
        Some(v) => judged
            .summary
            .replacen("ZooKeeper", &format!("ZooKeeper {v}"), 1),
        None => judged.summary,
    };
    Finding {
        triage: Default::default(),
        endpoint: endpoint.authority(),
        address: None,
        url: None,
        tls,
        service: "zookeeper".into(),
        check: String::new(),
        product: None,
        version,
        exposure: judged.exposure,
        severity,
        summary,
        details,
        evidence: Vec::new(),
        inventory,
        remediation: None,
        references: Vec::new(),
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
