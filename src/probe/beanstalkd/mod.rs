//! The beanstalkd probe: the text protocol of the beanstalkd work queue (11300), which has
//! no authentication at all (doc/protocol.txt). `stats` answers `OK <bytes>` and a YAML
//! dictionary with `version`, `current-jobs-ready` and `total-jobs`; such a well-formed
//! answer is `open`, since any client can then `peek` or `reserve` every job's payload.
//!
//! The inventory comes from `list-tubes` (a YAML list of tube names) and one `stats-tube`
//! per tube (at most [`MAX_TUBES`], sent in one pipelined write) for its ready, delayed,
//! buried and reserved job counts. Never `peek`, `reserve`, `put`, `use` or `kick`: no job
//! is read or changed.
//!
//! Anything else in answer to `stats` (`UNKNOWN_COMMAND` from a proxy, another protocol's
//! bytes, a length that does not match) is not beanstalkd.

mod yaml;

use super::nats::wire::{Conn, Stop};
use super::registry::{NativeProbe, ProbeFuture, ServiceInfo};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::policy;
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity};
use crate::sanitize::{byte_preview, clip};
use crate::targets::Endpoint;

/// Largest YAML body read, checked before reading it (a `stats` body is about 1 KiB, a
/// `list-tubes` of many long names a few tens).
const MAX_BODY: usize = 64 << 10;
/// Most tubes whose counts are asked for.
pub const MAX_TUBES: usize = 100;
/// Severity of an open server with jobs: their payloads are readable by any client.
const SEVERITY: Severity = Severity::High;
/// beanstalkd's answer to a line that is no command of its own (an HTTP request line).
const UNKNOWN_COMMAND: &[u8] = b"UNKNOWN_COMMAND\r\n";

/// The beanstalkd probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "beanstalkd",
    labels: ["beanstalkd", "beanstalkd+tls"],
    services: &[ServiceInfo {
        id: "beanstalkd",
        name: "beanstalkd work queue",
        ports: &[11300],
        check: "text `stats`: a well-formed OK <bytes> YAML dictionary with version, current-jobs-ready and total-jobs is open (beanstalkd has no authentication); tubes from list-tubes and job counts from stats-tube",
        severity: SEVERITY,
        remediation: "beanstalkd has no authentication: listen on loopback or a private interface only (-l 127.0.0.1), and firewall port 11300 from every host that is not a producer or worker.",
        references: &[
            "https://github.com/beanstalkd/beanstalkd/blob/master/doc/protocol.txt",
            "https://manpages.debian.org/bookworm/beanstalkd/beanstalkd.1.en.html",
        ],
    }],
    schemes: &[],
    greeting: None,
    answers: Some(|bytes| bytes.starts_with(UNKNOWN_COMMAND)),
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

/// Why a `OK <bytes>` reply could not be had.
enum Reply {
    /// A line that is not `OK <bytes>`: beanstalkd's own error (`NOT_FOUND`) or foreign.
    Line(Vec<u8>),
    /// `OK` announcing more than [`MAX_BODY`] bytes.
    TooBig(usize),
    /// The read stopped.
    Stop(Stop),
}

/// Reads one reply: `OK <bytes>\r\n`, the body and its `\r\n`.
async fn reply(conn: &mut Conn) -> Result<Vec<u8>, Reply> {
    let line = conn.line().await.map_err(Reply::Stop)?;
    let Some(len) = yaml::ok_len(&line) else {
        return Err(Reply::Line(line));
    };
    if len > MAX_BODY {
        return Err(Reply::TooBig(len));
    }
    let step = conn.step;
    let body = conn.payload(len, step).await.map_err(Reply::Stop)?;
    Ok(body)
}

/// What `stats` says about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// `version`.
    pub version: String,
    /// `current-jobs-ready`.
    pub ready: u64,
    /// `total-jobs`: jobs created since start.
    pub total_jobs: u64,
    /// `current-tubes`.
    pub tubes: Option<u64>,
    /// `current-connections`.
    pub connections: Option<u64>,
}

/// Parses a `stats` body; `None` unless it is a YAML dictionary naming a `version` and
/// numeric `current-jobs-ready` and `total-jobs`.
pub fn parse_stats(body: &[u8]) -> Option<Stats> {
    let pairs = yaml::dict(body)?;
    let version = yaml::text(&pairs, "version").filter(|v| !v.is_empty() && v.len() <= 64)?;
    Some(Stats {
        version: version.to_string(),
        ready: yaml::number(&pairs, "current-jobs-ready")?,
        total_jobs: yaml::number(&pairs, "total-jobs")?,
        tubes: yaml::number(&pairs, "current-tubes"),
        connections: yaml::number(&pairs, "current-connections"),
    })
}

/// Probes one endpoint for beanstalkd.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let stream = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => stream,
        Err(e) => return ProbeOutcome::from_connect_error(e),
    };
    let mut conn = Conn::new(stream, cx.net.timeout);
    if let Err(stop) = conn.send(b"stats\r\n").await {
        trace.record("stats", stop.to_string());
        return ProbeOutcome::Silent;
    }
    let body = match reply(&mut conn).await {
        Ok(body) => body,
        Err(Reply::Stop(Stop::Silent)) => {
            trace.record("stats", "no answer before the timeout");
            return ProbeOutcome::Silent;
        }
        Err(Reply::Stop(stop)) => {
            trace.record("stats", stop.to_string());
            return not_this(format!("no stats answer: {stop}"), false);
        }
        Err(Reply::Line(line)) => {
            let preview = byte_preview(&line, 48);
            trace.record("stats", format!("not an OK reply: {preview}"));
            return not_this(format!("answered stats with {preview}"), true);
        }
        Err(Reply::TooBig(len)) => {
            trace.record("stats", format!("OK {len}: over the {MAX_BODY}-byte cap"));
            return not_this(format!("stats reply of {len} bytes"), true);
        }
    };
    let Some(stats) = parse_stats(&body) else {
        trace.record("stats", "OK, but not a beanstalkd stats dictionary");
        return not_this("OK, but not a beanstalkd stats dictionary".into(), true);
    };
    trace.record(
        "stats",
        format!(
            "OK: version {}, current-jobs-ready {}, total-jobs {}, current-tubes {}, current-connections {}",
            clip(&stats.version, 64),
            stats.ready,
            stats.total_jobs,
            stats.tubes.map_or("-".into(), |t| t.to_string()),
            stats.connections.map_or("-".into(), |c| c.to_string()),
        ),
    );
    let inventory = tubes(&mut conn, trace).await;
    ProbeOutcome::Found(Box::new(finding(endpoint, tls, &stats, inventory)))
}

/// The tubes and their job counts; `None` (with the reason in the trace) when
/// `list-tubes` gives no well-formed list.
async fn tubes(conn: &mut Conn, trace: &mut Trace) -> Option<Inventory> {
    if let Err(stop) = conn.send(b"list-tubes\r\n").await {
        trace.record("list-tubes", stop.to_string());
        return None;
    }
    let names = match reply(conn).await.ok().and_then(|b| yaml::list(&b)) {
        Some(names) => names,
        None => {
            trace.record("list-tubes", "no well-formed tube list");
            return None;
        }
    };
    let listed = u64::try_from(names.len()).unwrap_or(u64::MAX);
    let asked: Vec<String> = names
        .into_iter()
        .filter(|n| yaml::valid_tube(n))
        .take(MAX_TUBES)
        .collect();
    trace.record(
        "list-tubes",
        format!("{listed} tubes: {}", clip(&asked.join(", "), 400)),
    );
    let mut items = Vec::with_capacity(asked.len());
    if !asked.is_empty() {
        let request: String = asked
            .iter()
            .map(|n| format!("stats-tube {n}\r\n"))
            .collect();
        let shown = format!("stats-tube NAME (x{})", asked.len());
        if let Err(stop) = conn.send(request.as_bytes()).await {
            trace.record(&shown, stop.to_string());
        } else {
            let mut facts = Vec::new();
            for name in &asked {
                match reply(conn).await {
                    Ok(body) => {
                        let Some(item) = tube(&body, name) else {
                            facts.push(format!("{name}: not a tube dictionary"));
                            continue;
                        };
                        facts.push(format!("{name}: {} jobs", item.documents.unwrap_or(0)));
                        items.push(item);
                    }
                    // The tube went away since list-tubes (NOT_FOUND).
                    Err(Reply::Line(line)) => {
                        facts.push(format!("{name}: {}", byte_preview(&line, 24)));
                    }
                    Err(Reply::TooBig(len)) => {
                        facts.push(format!("{name}: OK {len} over the cap"));
                        break;
                    }
                    Err(Reply::Stop(stop)) => {
                        facts.push(format!("{name}: {stop}"));
                        break;
                    }
                }
            }
            trace.record(&shown, facts.join("; "));
        }
    }
    let mut inventory = Inventory {
        unit: "tube".into(),
        items,
        total_items: listed,
        user_items: 0,
        total_documents: None,
        total_size_bytes: None,
        truncated: listed > u64::try_from(asked.len()).unwrap_or(u64::MAX),
    };
    inventory.recount();
    Some(inventory)
}

/// One tube's `stats-tube` dictionary as a data set: its jobs now (ready, delayed, buried
/// and reserved); `None` unless it names the tube asked for.
fn tube(body: &[u8], name: &str) -> Option<DataSet> {
    let pairs = yaml::dict(body)?;
    if yaml::text(&pairs, "name") != Some(name) {
        return None;
    }
    let count = |key: &str| yaml::number(&pairs, key);
    let jobs = count("current-jobs-ready")?
        .saturating_add(count("current-jobs-delayed")?)
        .saturating_add(count("current-jobs-buried")?)
        .saturating_add(count("current-jobs-reserved").unwrap_or(0));
    Some(DataSet {
        name: clip(name, 200),
        documents: Some(jobs),
        ..DataSet::default()
    })
}

fn finding(endpoint: &Endpoint, tls: bool, stats: &Stats, inventory: Option<Inventory>) -> Finding {
    let jobs = inventory
        .as_ref()
        .and_then(|i| i.total_documents)
        .unwrap_or(stats.ready);
    let mut details = vec![
        ("current-jobs-ready".to_string(), stats.ready.to_string()),
        ("total-jobs".to_string(), stats.total_jobs.to_string()),
    ];
    if let Some(c) = stats.connections {
        details.push(("current-connections".into(), c.to_string()));
    }
    // Without a tube listing, the server-wide ready count says whether jobs wait.
    let severity = match &inventory {
        Some(inv) => policy::severity(Exposure::Open, SEVERITY, Some(inv), false),
        None if stats.ready > 0 => SEVERITY,
        None => Severity::Medium,
    };
    Finding {
        triage: Default::default(),
        endpoint: endpoint.authority(),
        address: None,
        url: None,
        tls,
        service: "beanstalkd".into(),
        check: String::new(),
        product: None,
        version: Some(clip(&stats.version, 64)),
        exposure: Exposure::Open,
        severity,
        summary: format!(
            "beanstalkd answers stats without credentials (it has none): {jobs} jobs queued, readable by any client"
        ),
        details,
        evidence: Vec::new(),
        inventory,
        remediation: None,
        references: Vec::new(),
    }
}

fn not_this(note: String, transport_confirmed: bool) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note,
        hint: None,
        transport_confirmed,
        speaks_protocol: false,
    }
}
