//! Reports: the scan-level record ([`Report`]) that every endpoint result is folded into,
//! and one module per output format. Reporters write to any `io::Write`, so tests can
//! capture them in a `Vec<u8>`.
//!
//! The JSON schema is documented in README.md ("Report format").

pub mod human;
pub mod json;
pub mod jsonl;
pub mod markdown;
pub mod sarif;
pub mod stored;
mod triage;

pub use triage::{TriageSummary, triage_line, triage_mark};

use std::cmp::Ordering;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::finding::{EndpointResult, Evidence, Exposure, Finding, Outcome, Severity};
use crate::targets::Unresolved;

/// Output formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A compact table and a summary line, for people.
    #[default]
    Human,
    /// One JSON object with every result, written when the scan ends.
    Json,
    /// One JSON object per line, each result as it is found, then a summary line.
    Jsonl,
    /// SARIF 2.1.0 for GitHub code scanning: one rule per check, one result per finding.
    Sarif,
    /// Markdown for a CI job summary or a ticket: counts, a findings table, what to do.
    Markdown,
}

impl Format {
    /// The format an output file's extension names: `.json`, `.jsonl` (`.ndjson`),
    /// `.sarif` (`.sarif.json`), `.md` (`.markdown`), `.txt`.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "json" if name.ends_with(".sarif.json") => Format::Sarif,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::Jsonl,
            "sarif" => Format::Sarif,
            "md" | "markdown" => Format::Markdown,
            "txt" => Format::Human,
            _ => return None,
        })
    }

    /// The name `-f` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
        }
    }
}

/// Counts of endpoints by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Identified services that let ajar in with a default login.
    pub default_credentials: usize,
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
    /// Host names that did not resolve (their endpoints are not in `total`).
    pub unresolved: usize,
}

/// Findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BySeverity {
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Medium findings.
    pub medium: usize,
    /// Low findings.
    pub low: usize,
    /// Informational findings.
    pub info: usize,
}

impl BySeverity {
    fn add(&mut self, severity: Severity) {
        let slot = match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        };
        *slot += 1;
    }

    /// `(severity, count)` pairs, most severe first.
    pub fn pairs(&self) -> [(Severity, usize); 5] {
        [
            (Severity::Critical, self.critical),
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
            (Severity::Low, self.low),
            (Severity::Info, self.info),
        ]
    }
}

/// An endpoint that is not a finding, with what it spoke or what went wrong, and the
/// exchanges that showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// `host:port` (or the name, for one that did not resolve).
    pub endpoint: String,
    /// The address connected to, when the endpoint was given by name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub address: Option<String>,
    /// What happened.
    pub note: String,
    /// Every request sent and the facts of its answer.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<Evidence>,
}

/// Which list a [`Note`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Answered with something ajar does not know.
    Unidentified,
    /// Accepted the connection, then said nothing.
    Silent,
    /// Could not be probed.
    Error,
}

impl NoteKind {
    /// The JSONL `type` and the human line's label.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Unidentified => "unidentified",
            NoteKind::Silent => "silent",
            NoteKind::Error => "error",
        }
    }
}

/// What [`Report::record`] hands back for the reporter to stream.
#[derive(Debug)]
pub enum Recorded {
    /// A finding.
    Finding(Box<Finding>),
    /// An endpoint worth a line that is not a finding.
    Note(NoteKind, Note),
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
    /// Endpoints that accepted the connection and said nothing.
    pub silent: Vec<Note>,
    /// Endpoints that could not be probed, and names that did not resolve.
    pub errors: Vec<Note>,
    /// True when the scan was interrupted.
    pub interrupted: bool,
    /// The part of a split scan this report covers (`--shard K/N`).
    pub shard: Option<crate::targets::shard::Shard>,
    /// How the findings stand against the baseline and accepted findings, when in use.
    pub triage: Option<TriageSummary>,
    /// Findings of the baseline that this run no longer sees where it looked.
    pub resolved: Vec<Finding>,
    /// Findings of the baseline whose endpoint could not be probed this run.
    pub unverified: Vec<Finding>,
    /// Why the run is incomplete beyond what the counts show (shards missing from a
    /// merge).
    pub incomplete: Vec<String>,
    exposed: Exposed,
    worst: Option<Severity>,
    by_severity: BySeverity,
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
            silent: Vec::new(),
            errors: Vec::new(),
            interrupted: false,
            shard: None,
            triage: None,
            resolved: Vec::new(),
            unverified: Vec::new(),
            incomplete: Vec::new(),
            exposed: Exposed::default(),
            worst: None,
            by_severity: BySeverity::default(),
        }
    }

    /// Records the names that did not resolve, one error each.
    pub fn note_unresolved(&mut self, names: &[Unresolved]) {
        self.counts.unresolved += names.len();
        for name in names {
            self.errors.push(Note {
                endpoint: name.name.to_string(),
                address: None,
                note: format!(
                    "cannot resolve: {}",
                    crate::sanitize::clip(&name.reason, 200)
                ),
                evidence: Vec::new(),
            });
        }
    }

    /// Folds one endpoint result in; returns the finding or note it makes, if any.
    ///
    /// Findings are handed back rather than stored: streaming formats write them and drop
    /// them, so a long scan's memory stays flat; the others pass them to [`Report::keep`]
    /// (notes: [`Report::keep_note`]).
    pub fn record(&mut self, result: EndpointResult) -> Option<Recorded> {
        let c = &mut self.counts;
        if !result.extra {
            c.scanned += 1;
        }
        let EndpointResult {
            endpoint,
            address,
            outcome,
            evidence,
            ..
        } = result;
        // The result is consumed: its parts move into the note, nothing is copied.
        let note = |note: String| Note {
            endpoint,
            address,
            note,
            evidence,
        };
        match outcome {
            Outcome::Found(finding) => {
                self.count_finding(&finding);
                Some(Recorded::Finding(finding))
            }
            Outcome::Closed => {
                c.closed += 1;
                None
            }
            Outcome::Unreachable => {
                c.unreachable += 1;
                None
            }
            Outcome::Silent => {
                c.silent += 1;
                Some(Recorded::Note(
                    NoteKind::Silent,
                    note("accepted the connection but sent nothing before the timeout".into()),
                ))
            }
            Outcome::Unidentified(text) => {
                c.unidentified += 1;
                Some(Recorded::Note(NoteKind::Unidentified, note(text)))
            }
            Outcome::Failed(text) => {
                c.failed += 1;
                Some(Recorded::Note(NoteKind::Error, note(text)))
            }
        }
    }

    /// Counts one finding into the identified, exposure, severity and exposed totals.
    pub fn count_finding(&mut self, finding: &Finding) {
        let c = &mut self.counts;
        c.identified += 1;
        match finding.exposure {
            Exposure::Open => c.open += 1,
            Exposure::DefaultCredentials => c.default_credentials += 1,
            Exposure::AuthRequired => c.auth_required += 1,
            Exposure::Undetermined => c.undetermined += 1,
        }
        if finding.exposure == Exposure::Open
            && let Some(inv) = &finding.inventory
        {
            self.exposed.add(
                inv.total_documents.unwrap_or(0),
                inv.total_size_bytes.unwrap_or(0),
            );
        }
        self.worst = self.worst.max(Some(finding.severity));
        self.by_severity.add(finding.severity);
    }

    /// Why the run is not a complete picture of its targets, in words; empty when it is.
    /// An incomplete run is not a green build (exit code 3), even with no finding.
    pub fn incomplete_reasons(&self) -> Vec<String> {
        let mut why = if self.nothing_scanned() {
            vec![format!(
                "nothing could be scanned ({})",
                self.why_nothing_scanned()
            )]
        } else {
            self.shortfalls("could not be probed")
        };
        why.extend(self.incomplete.iter().cloned());
        why
    }

    /// Names that did not resolve and endpoints that failed, counted in words.
    fn shortfalls(&self, failed: &str) -> Vec<String> {
        let c = &self.counts;
        let mut why = Vec::new();
        if c.unresolved > 0 {
            why.push(format!(
                "{} {} did not resolve",
                c.unresolved,
                plural(c.unresolved as u64, "name", "names")
            ));
        }
        if c.failed > 0 {
            why.push(format!(
                "{} {} {failed}",
                c.failed,
                plural(c.failed as u64, "endpoint", "endpoints")
            ));
        }
        why
    }

    /// Marks the scan finished (or interrupted).
    pub fn finish(&mut self, interrupted: bool) {
        self.finished = Some(SystemTime::now());
        self.interrupted = interrupted;
    }

    /// Wall time of the scan so far (or in all, once finished).
    pub fn duration(&self) -> std::time::Duration {
        self.finished
            .unwrap_or_else(SystemTime::now)
            .duration_since(self.started)
            .unwrap_or_default()
    }

    /// Findings sorted for output: most severe first, then by address (numerically),
    /// then by service.
    pub fn sorted_findings(&self) -> Vec<&Finding> {
        let mut sorted: Vec<&Finding> = self.findings.iter().collect();
        sorted.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| endpoint_order(&a.endpoint, &b.endpoint))
                .then_with(|| a.service.cmp(&b.service))
        });
        sorted
    }

    /// Notes sorted by address, numerically.
    pub fn sorted_notes(notes: &[Note]) -> Vec<&Note> {
        let mut sorted: Vec<&Note> = notes.iter().collect();
        sorted.sort_by(|a, b| endpoint_order(&a.endpoint, &b.endpoint));
        sorted
    }

    /// Stores a finding for formats that render everything at the end.
    pub fn keep(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Stores a note for formats that render everything at the end.
    pub fn keep_note(&mut self, kind: NoteKind, note: Note) {
        match kind {
            NoteKind::Unidentified => self.unidentified.push(note),
            NoteKind::Silent => self.silent.push(note),
            NoteKind::Error => self.errors.push(note),
        }
    }

    /// Documents and bytes exposed by open findings.
    pub fn exposed(&self) -> Exposed {
        self.exposed
    }

    /// Findings by severity.
    pub fn by_severity(&self) -> BySeverity {
        self.by_severity
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

    /// True when the run scanned nothing: no endpoint gave any answer, not even a refused
    /// connection, because every target was excluded, no name resolved, or every
    /// endpoint failed. Not a clean result.
    pub fn nothing_scanned(&self) -> bool {
        let c = &self.counts;
        let answered = c.identified + c.closed + c.unreachable + c.silent + c.unidentified;
        // One part of a split scan may hold no endpoint at all when there are more parts
        // than endpoints: nothing was asked of it.
        let empty_shard = self.shard.is_some() && c.total == 0 && c.unresolved == 0;
        !self.interrupted && answered == 0 && !empty_shard
    }

    /// Why [`Report::nothing_scanned`] holds, in words.
    pub fn why_nothing_scanned(&self) -> String {
        let c = &self.counts;
        let mut why = Vec::new();
        if c.total == 0 && c.unresolved == 0 {
            why.push("no endpoint was left to scan".to_string());
        }
        why.extend(self.shortfalls("failed"));
        why.join(", ")
    }
}

/// `one` or `many` by `n`.
pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Orders `host:port` ids by address and port numerically (`127.0.0.2:80` before
/// `127.0.0.10:80`); names sort after addresses, by text.
pub fn endpoint_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<SocketAddr>(), b.parse::<SocketAddr>()) {
        (Ok(x), Ok(y)) => (x.ip(), x.port()).cmp(&(y.ip(), y.port())),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Totals over open findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposed {
    /// Documents (rows) readable without credentials.
    pub documents: u64,
    /// Bytes readable without credentials.
    pub size_bytes: u64,
}

impl Exposed {
    /// Adds one finding's totals; server-supplied numbers saturate, never wrap.
    pub fn add(&mut self, documents: u64, size_bytes: u64) {
        self.documents = self.documents.saturating_add(documents);
        self.size_bytes = self.size_bytes.saturating_add(size_bytes);
    }
}

/// Writes results in one format: streaming formats write as results arrive, the others
/// when the scan ends.
pub struct Reporter {
    format: Format,
    out: Box<dyn Write + Send>,
    verbose: bool,
}

impl Reporter {
    /// A reporter writing `format` to `out`; `verbose` adds evidence to the human format.
    pub fn new(format: Format, out: Box<dyn Write + Send>, verbose: bool) -> Reporter {
        Reporter {
            format,
            out,
            verbose,
        }
    }

    /// Whether this format renders results at the end, so the report must keep them.
    pub fn keeps_results(&self) -> bool {
        self.format != Format::Jsonl
    }

    /// Called for each new finding or note as soon as it is known.
    pub fn result(&mut self, recorded: &Recorded) -> io::Result<()> {
        match self.format {
            Format::Jsonl => jsonl::write_result(&mut self.out, recorded),
            Format::Human | Format::Json | Format::Sarif | Format::Markdown => Ok(()),
        }
    }

    /// Called once at the end (also after an interruption) with the whole report.
    pub fn finish(&mut self, report: &Report) -> io::Result<()> {
        match self.format {
            Format::Human => human::write(&mut self.out, report, self.verbose)?,
            Format::Json => json::write(&mut self.out, report)?,
            Format::Jsonl => jsonl::write_summary(&mut self.out, report)?,
            Format::Sarif => sarif::write(&mut self.out, report)?,
            Format::Markdown => markdown::write(&mut self.out, report)?,
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_endpoints_numerically() {
        let mut ids = vec![
            "127.0.0.10:80",
            "db.internal:1",
            "[::1]:9200",
            "127.0.0.2:9200",
            "127.0.0.2:80",
        ];
        ids.sort_by(|a, b| endpoint_order(a, b));
        assert_eq!(
            ids,
            [
                "127.0.0.2:80",
                "127.0.0.2:9200",
                "127.0.0.10:80",
                "[::1]:9200",
                "db.internal:1"
            ]
        );
    }

    #[test]
    fn a_run_of_unresolved_names_or_failures_scanned_nothing() {
        let mut report = Report::new(2, 0);
        report.note_unresolved(&[Unresolved {
            name: "db.internal".into(),
            reason: "Name or service not known".into(),
        }]);
        report.finish(false);
        assert!(report.nothing_scanned());
        assert_eq!(report.why_nothing_scanned(), "1 name did not resolve");
        assert_eq!(
            report.errors[0].note,
            "cannot resolve: Name or service not known"
        );

        let mut report = Report::new(1, 2);
        for outcome in [Outcome::Failed("x".into()), Outcome::Failed("y".into())] {
            let _ = report.record(EndpointResult {
                endpoint: "127.0.0.1:1".into(),
                address: None,
                outcome,
                evidence: Vec::new(),
                elapsed: std::time::Duration::ZERO,
                extra: false,
            });
        }
        assert!(report.nothing_scanned());
        assert_eq!(report.why_nothing_scanned(), "2 endpoints failed");
        // One refused port is an answer: the run scanned something.
        let _ = report.record(EndpointResult {
            endpoint: "127.0.0.1:2".into(),
            address: None,
            outcome: Outcome::Closed,
            evidence: Vec::new(),
            elapsed: std::time::Duration::ZERO,
            extra: false,
        });
        assert!(!report.nothing_scanned());
    }

    #[test]
    fn exposed_totals_saturate() {
        let mut exposed = Exposed::default();
        exposed.add(u64::MAX - 1, 5);
        exposed.add(10, u64::MAX);
        assert_eq!(
            exposed,
            Exposed {
                documents: u64::MAX,
                size_bytes: u64::MAX
            }
        );
    }
}
