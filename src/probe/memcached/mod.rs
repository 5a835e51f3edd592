//! The memcached probe: the text protocol's `stats` command, which every memcached since
//! 1.2 answers with `STAT <name> <value>` lines and `END` (doc/protocol.txt, "General-purpose
//! statistics"). Only counters are read: `version`, `curr_items`, `bytes`,
//! `curr_connections`; never a key or a value.
//!
//! Verdicts:
//! - a well-formed `stats` block (only `STAT` lines, then `END`, naming `version` and
//!   `curr_items`) is `open`: any client can read and write the cache;
//! - `CLIENT_ERROR unauthenticated` is `auth-required`: ASCII authentication (`-Y
//!   authfile`, 1.5.15+) refuses every command before the `set`-based login;
//! - a server that hangs up on text is asked in the binary protocol (`binary.rs`):
//!   SASL-only servers (`-S`) answer binary `stat` with status 0x0020 (auth error), which
//!   is `auth-required`, with the version from binary `version`, allowed before login;
//! - a TLS alert, or a hang-up on text and binary alike, asks the engine for a TLS retry
//!   (memcached `-Z`);
//! - anything else (`ERROR`, a cut or odd block, a block without `version`) is not
//!   memcached, and no finding.
//!
//! Nothing else is sent: no `get`, no `set`, no `lru_crawler metadump`.

mod binary;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::policy;
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity};
use crate::net::BoxStream;
use crate::sanitize::clip;
use crate::targets::Endpoint;
use binary::binary;

/// Largest reply read: a `stats` block of 1.6 is about 3 KiB.
const MAX_REPLY: usize = 64 << 10;
/// The text request, as sent and as recorded.
const STATS: &str = "stats";
/// ASCII authentication's answer to any command before login (proto_text.c).
const UNAUTHENTICATED: &str = "CLIENT_ERROR unauthenticated";

/// The memcached probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "memcached",
    labels: ["memcached", "memcached+tls"],
    services: &[ServiceInfo {
        id: "memcached",
        name: "memcached 1.4-1.6",
        ports: &[11211],
        check: "text `stats`; open on a well-formed STAT ... END block, auth-required on CLIENT_ERROR unauthenticated (-Y) or a binary auth error (SASL, -S)",
        severity: Severity::High,
        remediation: "Listen on private interfaces only (-l 127.0.0.1), turn UDP off (-U 0), and require authentication: ASCII auth (-Y authfile) or SASL (-S) with the binary protocol.",
        references: &[
            "https://github.com/memcached/memcached/wiki/SASLHowto",
            "https://github.com/memcached/memcached/blob/master/doc/protocol.txt",
        ],
    }],
    schemes: &[Scheme {
        name: "memcached",
        probe: "memcached",
        default_port: 11211,
        tls: None,
        style: UriStyle::Url,
        tls_options: &[],
    }],
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

/// Why a reply could not be read.
enum ReadError {
    /// Nothing came back before the step timeout.
    Silent,
    /// The server closed the connection; the bytes it sent first.
    Closed(Vec<u8>),
    /// A socket error.
    Io(String),
}

/// Probes one endpoint for memcached over plain TCP or TLS.
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
    let reply = exchange(&mut stream, b"stats\r\n", step, text_complete).await;
    match reply {
        Err(ReadError::Silent) => {
            trace.record(STATS, "no answer before the timeout");
            ProbeOutcome::Silent
        }
        // A binary-only server (SASL, `-S`) drops a text request, with a reset when the
        // request was not read in full.
        Err(ReadError::Io(e)) => {
            trace.record(STATS, format!("socket error: {e}"));
            binary(cx, endpoint, tls, trace).await
        }
        Err(ReadError::Closed(bytes)) if bytes.is_empty() => {
            trace.record(STATS, "connection closed without an answer");
            binary(cx, endpoint, tls, trace).await
        }
        Err(ReadError::Closed(bytes)) | Ok(bytes) => judge_text(endpoint, tls, trace, &bytes),
    }
}

/// Sends `request` and reads until `complete` says the reply is whole, within the step
/// timeout per read and [`MAX_REPLY`] bytes.
async fn exchange(
    stream: &mut BoxStream,
    request: &[u8],
    step: Duration,
    complete: fn(&[u8]) -> bool,
) -> Result<Vec<u8>, ReadError> {
    match tokio::time::timeout(step, stream.write_all(request)).await {
        Err(_) => return Err(ReadError::Silent),
        Ok(Err(e)) => return Err(ReadError::Io(e.to_string())),
        Ok(Ok(())) => {}
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while reply.len() < MAX_REPLY && !complete(&reply) {
        match tokio::time::timeout(step, stream.read(&mut chunk)).await {
            Err(_) if reply.is_empty() => return Err(ReadError::Silent),
            Err(_) => return Ok(reply),
            Ok(Ok(0)) => return Err(ReadError::Closed(reply)),
            Ok(Ok(n)) => {
                let room = MAX_REPLY.saturating_sub(reply.len());
                reply.extend_from_slice(&chunk[..n.min(room)]);
            }
            Ok(Err(e)) => return Err(ReadError::Io(e.to_string())),
        }
    }
    Ok(reply)
}

/// A text reply is whole at `END` or at the end of an error line.
fn text_complete(reply: &[u8]) -> bool {
    reply == b"END\r\n"
        || reply.ends_with(b"\r\nEND\r\n")
        || (reply.ends_with(b"\r\n") && !reply.starts_with(b"STAT "))
}

/// What a `stats` block says, when it is one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `STAT version`.
    pub version: String,
    /// `STAT curr_items`: items in the cache now.
    pub curr_items: u64,
    /// `STAT bytes`: bytes the items take.
    pub bytes: Option<u64>,
    /// `STAT curr_connections`.
    pub curr_connections: Option<u64>,
}

/// Parses a `stats` reply: only `STAT <name> <value>` lines, then `END`, with `version`
/// and a numeric `curr_items`. Anything else is not memcached's answer.
pub fn parse_stats(reply: &[u8]) -> Option<Stats> {
    let text = std::str::from_utf8(reply).ok()?;
    let body = text.strip_suffix("END\r\n")?;
    let mut stats = Stats::default();
    let (mut version, mut items) = (None, None);
    for line in body.split_terminator("\r\n") {
        let mut words = line.splitn(3, ' ');
        let (Some("STAT"), Some(name), Some(value)) = (words.next(), words.next(), words.next())
        else {
            return None;
        };
        match name {
            "version" => version = Some(value.to_string()),
            "curr_items" => items = Some(value.parse::<u64>().ok()?),
            "bytes" => stats.bytes = value.parse().ok(),
            "curr_connections" => stats.curr_connections = value.parse().ok(),
            _ => {}
        }
    }
    if !body.is_empty() && !body.ends_with("\r\n") {
        return None;
    }
    stats.version = version.filter(|v| !v.is_empty() && v.len() <= 64)?;
    stats.curr_items = items?;
    Some(stats)
}

fn judge_text(endpoint: &Endpoint, tls: bool, trace: &mut Trace, reply: &[u8]) -> ProbeOutcome {
    // A TLS alert record (0x15, version 3.x) in answer to plain text: a TLS port.
    if !tls && reply.starts_with(&[0x15, 0x03]) {
        trace.record(STATS, "TLS alert in answer to plain text");
        return ProbeOutcome::WantsTls("TLS alert in answer to plain text".into());
    }
    let first = first_line(reply);
    if first == UNAUTHENTICATED {
        trace.record(STATS, format!("{first} (ASCII authentication, -Y)"));
        let mut f = finding(endpoint, tls, Exposure::AuthRequired, None);
        f.summary = "memcached requires ASCII authentication (-Y): stats refused".into();
        f.details
            .push(("auth".into(), "ascii (-Y authfile)".into()));
        return ProbeOutcome::Found(Box::new(f));
    }
    let Some(stats) = parse_stats(reply) else {
        trace.record(STATS, format!("not a stats block: {}", clip(&first, 120)));
        return not_this(format!("answered stats with {:?}", clip(&first, 80)));
    };
    let bytes = stats.bytes.map_or("-".into(), |b| b.to_string());
    let conns = stats.curr_connections.map_or("-".into(), |c| c.to_string());
    trace.record(
        STATS,
        format!(
            "STAT block: version {}, curr_items {}, bytes {bytes}, curr_connections {conns}",
            stats.version, stats.curr_items
        ),
    );
    let mut f = finding(endpoint, tls, Exposure::Open, Some(stats.version.clone()));
    f.summary = format!(
        "memcached answers stats without credentials: {} items cached",
        stats.curr_items
    );
    if let Some(c) = stats.curr_connections {
        f.details.push(("curr_connections".into(), c.to_string()));
    }
    f.inventory = Some(Inventory {
        unit: "cache".into(),
        items: vec![DataSet {
            name: "items".into(),
            documents: Some(stats.curr_items),
            size_bytes: stats.bytes,
            ..DataSet::default()
        }],
        total_items: 1,
        user_items: 1,
        total_documents: Some(stats.curr_items),
        total_size_bytes: stats.bytes,
        truncated: false,
    });
    f.severity = policy::severity(Exposure::Open, Severity::High, f.inventory.as_ref(), false);
    ProbeOutcome::Found(Box::new(f))
}

fn first_line(reply: &[u8]) -> String {
    let line = reply.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

fn finding(endpoint: &Endpoint, tls: bool, exposure: Exposure, version: Option<String>) -> Finding {
    let severity = match exposure {
        Exposure::AuthRequired => Severity::Info,
        _ => Severity::Low,
    };
    Finding {
        triage: Default::default(),
        endpoint: endpoint.authority(),
        address: None,
        url: None,
        tls,
        service: "memcached".into(),
        check: String::new(),
        product: None,
        version,
        exposure,
        severity,
        summary: String::new(),
        details: Vec::new(),
        evidence: Vec::new(),
        inventory: None,
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
