//! `--format jsonl`: one JSON object per line, tagged by `"type"`, each written (and
//! flushed) the moment it is known: `{"type":"result", ...finding}`, and for endpoints
//! that are not findings `{"type":"unidentified"|"silent"|"error", endpoint, note,
//! evidence}`; with `--baseline`, `{"type":"resolved", ...finding}` for each baseline
//! finding gone. The last line is `{"type":"summary", ...}` with the fields of the JSON
//! report minus the lists, so a long scan keeps nothing per endpoint in memory.

use std::io::{self, Write};

use serde::Serialize;

use super::json::{JsonReport, Tool};
use super::{BySeverity, Counts, Exposed, Recorded, Report, TriageSummary};
use crate::targets::shard::Shard;

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// The closing line: the JSON report's metadata and counts.
#[derive(Serialize)]
struct Summary {
    tool: Tool,
    started_at: String,
    finished_at: String,
    duration_ms: u128,
    interrupted: bool,
    incomplete: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<Shard>,
    targets: usize,
    endpoints: Counts,
    severities: BySeverity,
    exposed: Exposed,
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<TriageSummary>,
}

fn line<T: Serialize>(out: &mut dyn Write, kind: &'static str, body: &T) -> io::Result<()> {
    crate::sanitize::to_json_line(&mut *out, &Tagged { kind, body })?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes one finding or note as its line and flushes it.
pub fn write_result(out: &mut dyn Write, recorded: &Recorded) -> io::Result<()> {
    match recorded {
        Recorded::Finding(finding) => line(out, "result", finding.as_ref()),
        Recorded::Note(kind, note) => line(out, kind.as_str(), note),
    }
}

/// Writes a `resolved` line for each baseline finding gone, then the closing `summary`
/// line.
pub fn write_summary(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for finding in &report.resolved {
        line(out, "resolved", finding)?;
    }
    for finding in &report.unverified {
        line(out, "unverified", finding)?;
    }
    let full = JsonReport::from_report(report);
    let summary = Summary {
        tool: full.tool,
        started_at: full.started_at,
        finished_at: full.finished_at,
        duration_ms: full.duration_ms,
        interrupted: full.interrupted,
        incomplete: full.incomplete,
        shard: full.shard,
        targets: full.targets,
        endpoints: full.endpoints,
        severities: full.severities,
        exposed: full.exposed,
        triage: full.triage.cloned(),
    };
    line(out, "summary", &summary)
}
