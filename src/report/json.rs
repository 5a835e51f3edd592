//! `--format json`: one object with the scan's metadata, counts and every result, written
//! when the scan ends (or is interrupted). The schema is in README.md.

use std::io::{self, Write};

use serde::Serialize;

use super::{BySeverity, Counts, Exposed, Note, Report, TriageSummary};
use crate::finding::Finding;
use crate::targets::shard::Shard;
use crate::time::rfc3339;

/// The top-level JSON object.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    /// `{"name": "ajar", "version": "0.1.0"}`.
    pub tool: Tool,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// Wall time of the scan in milliseconds.
    pub duration_ms: u128,
    /// True when a signal cut the scan short; the results are what was found until then.
    pub interrupted: bool,
    /// Why the run is not a complete picture of its targets (exit code 3); empty when
    /// it is.
    pub incomplete: Vec<String>,
    /// The part of a split scan (`--shard K/N`) this report covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Target lines and arguments given.
    pub targets: usize,
    /// Endpoint counts by outcome.
    pub endpoints: Counts,
    /// Findings by severity.
    pub severities: BySeverity,
    /// Documents and bytes readable without credentials.
    pub exposed: Exposed,
    /// Baseline and accepted-findings counts, when either is in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<&'a TriageSummary>,
    /// One entry per endpoint where a known service answered, most severe first.
    pub results: Vec<&'a Finding>,
    /// Findings of the baseline gone where this run looked (`"baseline": "resolved"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<&'a Finding>,
    /// Findings of the baseline whose endpoint could not be probed this run
    /// (`"baseline": "unverified"`); a later run's baseline still holds them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unverified: Vec<&'a Finding>,
    /// Endpoints that answered with a protocol ajar does not know.
    pub unidentified: Vec<&'a Note>,
    /// Endpoints that accepted the connection and said nothing.
    pub silent: Vec<&'a Note>,
    /// Endpoints that could not be probed, and names that did not resolve.
    pub errors: Vec<&'a Note>,
}

/// The tool that wrote the report.
#[derive(Serialize)]
pub struct Tool {
    /// Always `ajar`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Tool {
    /// This build of ajar.
    pub fn current() -> Tool {
        Tool {
            name: "ajar",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

impl<'a> JsonReport<'a> {
    /// Builds the serialisable view of `report`.
    pub fn from_report(report: &'a Report) -> JsonReport<'a> {
        let finished = report.finished.unwrap_or_else(std::time::SystemTime::now);
        JsonReport {
            tool: Tool::current(),
            started_at: rfc3339(report.started),
            finished_at: rfc3339(finished),
            duration_ms: report.duration().as_millis(),
            interrupted: report.interrupted,
            incomplete: report.incomplete_reasons(),
            shard: report.shard,
            targets: report.targets,
            endpoints: report.counts,
            severities: report.by_severity(),
            exposed: report.exposed(),
            triage: report.triage.as_ref(),
            results: report.sorted_findings(),
            resolved: report.resolved.iter().collect(),
            unverified: report.unverified.iter().collect(),
            unidentified: Report::sorted_notes(&report.unidentified),
            silent: Report::sorted_notes(&report.silent),
            errors: Report::sorted_notes(&report.errors),
        }
    }
}

/// Writes the report as one pretty-printed JSON object and a newline.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    crate::sanitize::to_json_pretty(&mut *out, &JsonReport::from_report(report))?;
    out.write_all(b"\n")
}
