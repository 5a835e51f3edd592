//! Reading back a JSON or JSONL report (`-f json`, `-o report.jsonl`, `ajar merge`): the
//! baseline of the next run, and the shards `ajar merge` combines. Only the fields ajar wrote are
//! read; unknown ones are ignored, so a report of a newer ajar still loads.

use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use serde::Deserialize;

use super::{Counts, Note, Report};
use crate::finding::Finding;
use crate::targets::shard::Shard;

/// The largest report read back: far above any real estate's findings, and a bound on
/// what a wrong path (`--baseline /dev/zero`) can cost.
pub const MAX_REPORT_BYTES: u64 = 512 << 20;

/// A JSON report as written by [`super::json`].
#[derive(Debug, Clone, Deserialize)]
pub struct StoredReport {
    /// The tool that wrote it; must be ajar.
    pub tool: StoredTool,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// Whether that run was cut short.
    #[serde(default)]
    pub interrupted: bool,
    /// Target lines and arguments of that run.
    pub targets: usize,
    /// Endpoint counts.
    pub endpoints: Counts,
    /// The part of a split scan, if it was one.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// The findings.
    pub results: Vec<Finding>,
    /// Baseline findings that run could not verify.
    #[serde(default)]
    pub unverified: Vec<Finding>,
    /// Endpoints that spoke an unknown protocol.
    #[serde(default)]
    pub unidentified: Vec<Note>,
    /// Endpoints that said nothing.
    #[serde(default)]
    pub silent: Vec<Note>,
    /// Endpoints that failed, and names that did not resolve.
    #[serde(default)]
    pub errors: Vec<Note>,
}

/// `tool` of a stored report.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredTool {
    /// `ajar`.
    pub name: String,
    /// The version that wrote it.
    pub version: String,
}

/// Reads the JSON report at `path`; the error says what is wrong in one line.
pub fn read(path: &Path) -> Result<StoredReport, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut text = Vec::new();
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if text.len() as u64 > MAX_REPORT_BYTES {
        return Err(format!(
            "{shown} is larger than {} MiB; is it a report?",
            MAX_REPORT_BYTES >> 20
        ));
    }
    let report = if is_jsonl(&text) {
        from_jsonl(&text).map_err(|e| format!("{shown}: {e}"))?
    } else {
        serde_json::from_slice(&text).map_err(|e| {
            format!(
                "{shown}: not an ajar JSON report (write one with -f json or -o report.json): {e}"
            )
        })?
    };
    if report.tool.name != "ajar" {
        return Err(format!(
            "{shown}: written by {:?}, not ajar",
            crate::sanitize::clip(&report.tool.name, 40)
        ));
    }
    Ok(report)
}

/// Whether `text` is `--format jsonl`: its first line is a whole object with a `type`.
fn is_jsonl(text: &[u8]) -> bool {
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(first)
        .is_ok_and(|v| v.get("type").is_some_and(|t| t.is_string()))
}

/// The closing `summary` line of a JSONL report.
#[derive(Deserialize)]
struct SummaryLine {
    tool: StoredTool,
    started_at: String,
    finished_at: String,
    #[serde(default)]
    interrupted: bool,
    targets: usize,
    endpoints: Counts,
    #[serde(default)]
    shard: Option<Shard>,
}

/// A `--format jsonl` report, line by line: results, notes, unverified baseline findings
/// and the summary line, which must be there (a run killed before it wrote one is not a
/// report to build on).
fn from_jsonl(text: &[u8]) -> Result<StoredReport, String> {
    let text = std::str::from_utf8(text).map_err(|_| "a JSONL report is UTF-8 text".to_string())?;
    let (mut results, mut unverified) = (Vec::new(), Vec::new());
    let (mut unidentified, mut silent, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let mut summary: Option<SummaryLine> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |e: serde_json::Error| format!("line {}: not an ajar JSONL line: {e}", i + 1);
        let value: serde_json::Value = serde_json::from_str(line).map_err(bad)?;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_string();
        match kind.as_str() {
            "result" => results.push(serde_json::from_value(value).map_err(bad)?),
            "unverified" => unverified.push(serde_json::from_value(value).map_err(bad)?),
            "unidentified" => unidentified.push(serde_json::from_value(value).map_err(bad)?),
            "silent" => silent.push(serde_json::from_value(value).map_err(bad)?),
            "error" => errors.push(serde_json::from_value(value).map_err(bad)?),
            "summary" => summary = Some(serde_json::from_value(value).map_err(bad)?),
            // Resolved baseline findings are history, not findings of this run.
            _ => {}
        }
    }
    let summary = summary.ok_or_else(|| {
        "the JSONL report has no summary line: the run did not finish writing it".to_string()
    })?;
    Ok(StoredReport {
        tool: summary.tool,
        started_at: summary.started_at,
        finished_at: summary.finished_at,
        interrupted: summary.interrupted,
        targets: summary.targets,
        endpoints: summary.endpoints,
        shard: summary.shard,
        results,
        unverified,
        unidentified,
        silent,
        errors,
    })
}

fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(text).ok()
}

impl Report {
    /// Adds a stored report's endpoints, notes and findings to this one, as if its
    /// endpoints had been scanned here: counts of endpoints add up, findings are counted
    /// again (so severities and exposed totals are recomputed, not trusted), the
    /// earliest start and latest end are kept. `keep` sees each finding first (the
    /// triage of a merge).
    pub fn absorb(&mut self, stored: StoredReport, mut keep: impl FnMut(&mut Finding)) {
        let s = stored.endpoints;
        let c = &mut self.counts;
        c.total += s.total;
        c.scanned += s.scanned;
        c.closed += s.closed;
        c.unreachable += s.unreachable;
        c.silent += s.silent;
        c.unidentified += s.unidentified;
        c.failed += s.failed;
        if let Some(started) = parse_time(&stored.started_at) {
            self.started = self.started.min(started);
        }
        if let Some(finished) = parse_time(&stored.finished_at) {
            self.finished = Some(self.finished.map_or(finished, |f| f.max(finished)));
        }
        self.interrupted |= stored.interrupted;
        for mut finding in stored.results {
            finding.triage = Default::default();
            keep(&mut finding);
            self.count_finding(&finding);
            self.findings.push(finding);
        }
        self.unidentified.extend(stored.unidentified);
        self.silent.extend(stored.silent);
        // Every shard resolves every name: a name that failed is one error, not N.
        for note in stored.errors {
            let unresolved = note.note.starts_with("cannot resolve");
            if unresolved {
                if self
                    .errors
                    .iter()
                    .any(|e| e.endpoint == note.endpoint && e.note == note.note)
                {
                    continue;
                }
                self.counts.unresolved += 1;
            }
            self.errors.push(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_as_written() {
        let t = parse_time("2026-11-22T09:15:00.250Z").expect("parses");
        assert_eq!(crate::time::rfc3339(t), "2026-11-22T09:15:00.250Z");
    }
}
