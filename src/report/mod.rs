//! Reports: the scan-level record ([`Report`]) that every endpoint result is folded into,
//! and one module per output format. Reporters write to any `io::Write`, so tests can
//! capture them in a `Vec<u8>`.
//!
//! The JSON schema is documented in README.md ("Report format").

pub mod human;
pub mod json;
pub mod jsonl;

use std::io::{self, Write};
use std::time::SystemTime;

use serde::Serialize;

use crate::finding::{EndpointResult, Exposure, Finding, Outcome, Severity};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A compact table and a summary line, for people.
    Human,
    /// One JSON object with every result, written when the scan ends.
    Json,
    /// One JSON object per line, each result as it is found, then a summary line.
    Jsonl,
}

/// Counts of endpoints by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Endpoints the targets expanded to.
    pub total: usize,
    /// Endpoints whose probing finished.
    pub scanned: usize,
    /// Endpoints where a known service answered.
    pub identified: usize,
    /// Identified services that are open.
    pub open: usize,
    /// Identified services that demand credentials.
    pub auth_required: usize,
    /// Identified services whose access could not be judged.
    pub undetermined: usize,
    /// Ports that refused the connection.
    pub closed: usize,
    /// Endpoints that did not answer the connection attempt in time.
    pub unreachable: usize,
    /// Endpoints that accepted the connection but sent nothing in time.
    pub silent: usize,
    /// Endpoints that answered with something ajar does not know.
    pub unidentified: usize,
    /// Endpoints that could not be probed.
    pub failed: usize,
}

/// An endpoint and a note about it (what it spoke, or what went wrong).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// `host:port`.
    pub endpoint: String,
    /// What happened.
    pub note: String,
}

/// Everything known about a scan so far; formats render it.
#[derive(Debug, Clone)]
pub struct Report {
    /// When the scan started.
    pub started: SystemTime,
    /// When it ended (set by [`Report::finish`]).
    pub finished: Option<SystemTime>,
    /// Target lines and arguments given.
    pub targets: usize,
    /// Endpoint counts.
    pub counts: Counts,
    /// Identified services kept for output, in arrival order (see [`Report::keep`]).
    pub findings: Vec<Finding>,
    /// Endpoints that answered with an unknown protocol.
    pub unidentified: Vec<Note>,
    /// Endpoints that were silent or could not be probed.
    pub errors: Vec<Note>,
    /// True when the scan was interrupted.
    pub interrupted: bool,
    exposed: Exposed,
    worst: Option<Severity>,
}

impl Report {
    /// A fresh report for `targets` inputs expanding to `endpoints` endpoints.
    pub fn new(targets: usize, endpoints: usize) -> Report {
        Report {
            started: SystemTime::now(),
            finished: None,
            targets,
            counts: Counts {
                total: endpoints,
                ..Counts::default()
            },
            findings: Vec::new(),
            unidentified: Vec::new(),
            errors: Vec::new(),
            interrupted: false,
            exposed: Exposed::default(),
            worst: None,
        }
    }

    /// Folds one endpoint result in; returns the finding when it was one.
    ///
    /// The finding is handed back rather than stored: streaming formats write it and drop
    /// it, so a long scan's memory stays flat; the others pass it to [`Report::keep`].
    pub fn record(&mut self, result: EndpointResult) -> Option<Box<Finding>> {
        let c = &mut self.counts;
        c.scanned += 1;
        let note = |note: String| Note {
            endpoint: result.endpoint.clone(),
            note,
        };
        match result.outcome {
            Outcome::Found(finding) => {
                c.identified += 1;
                match finding.exposure {
                    Exposure::Open => c.open += 1,
                    Exposure::AuthRequired => c.auth_required += 1,
                    Exposure::Undetermined => c.undetermined += 1,
                }
                if finding.exposure == Exposure::Open
                    && let Some(inv) = &finding.inventory
                {
                    self.exposed.documents += inv.total_documents.unwrap_or(0);
                    self.exposed.size_bytes += inv.total_size_bytes.unwrap_or(0);
                }
                self.worst = self.worst.max(Some(finding.severity));
                return Some(finding);
            }
            Outcome::Closed => c.closed += 1,
            Outcome::Unreachable => c.unreachable += 1,
            Outcome::Silent => {
                c.silent += 1;
                self.errors.push(note(
                    "accepted the connection but sent nothing before the timeout".into(),
                ));
            }
            Outcome::Unidentified(text) => {
                c.unidentified += 1;
                self.unidentified.push(note(text));
            }
            Outcome::Failed(text) => {
                c.failed += 1;
                self.errors.push(note(text));
            }
        }
        None
    }

    /// Marks the scan finished (or interrupted).
    pub fn finish(&mut self, interrupted: bool) {
        self.finished = Some(SystemTime::now());
        self.interrupted = interrupted;
    }

    /// Findings sorted for output: most severe first, then by endpoint.
    pub fn sorted_findings(&self) -> Vec<&Finding> {
        let mut sorted: Vec<&Finding> = self.findings.iter().collect();
        sorted.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.endpoint.cmp(&b.endpoint))
                .then_with(|| a.service.cmp(&b.service))
        });
        sorted
    }

    /// Stores a finding for formats that render everything at the end.
    pub fn keep(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Documents and bytes exposed by open findings.
    pub fn exposed(&self) -> Exposed {
        self.exposed
    }

    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.worst
    }

    /// Endpoints where no known service answered.
    pub fn without_service(&self) -> usize {
        let c = &self.counts;
        c.closed + c.unreachable + c.silent + c.unidentified + c.failed
    }
}

/// Totals over open findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Exposed {
    /// Documents (rows) readable without credentials.
    pub documents: u64,
    /// Bytes readable without credentials.
    pub size_bytes: u64,
}

/// Writes results in one format: streaming formats write as results arrive, the others
/// when the scan ends.
pub struct Reporter {
    format: Format,
    out: Box<dyn Write + Send>,
}

impl Reporter {
    /// A reporter writing `format` to `out`.
    pub fn new(format: Format, out: Box<dyn Write + Send>) -> Reporter {
        Reporter { format, out }
    }

    /// Whether this format renders findings at the end, so the report must keep them.
    pub fn keeps_findings(&self) -> bool {
        self.format != Format::Jsonl
    }

    /// Called for each new finding as soon as it is known.
    pub fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        match self.format {
            Format::Jsonl => jsonl::write_finding(&mut self.out, finding),
            Format::Human | Format::Json => Ok(()),
        }
    }

    /// Called once at the end (also after an interruption) with the whole report.
    pub fn finish(&mut self, report: &Report) -> io::Result<()> {
        match self.format {
            Format::Human => human::write(&mut self.out, report)?,
            Format::Json => json::write(&mut self.out, report)?,
            Format::Jsonl => jsonl::write_summary(&mut self.out, report)?,
        }
        self.out.flush()
    }
}
