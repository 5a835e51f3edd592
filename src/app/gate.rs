//! The end of a run as CI sees it: the triage a run's findings go through (built from the
//! report settings), and the exit code, which is red for findings that reach the gate and
//! for a run that did not look at everything it was asked to.

use std::path::Path;

use super::UsageError;
use super::exit;
use super::output::Lost;
use super::scan::Stopped;
use crate::config::ReportSettings;
use crate::report::Report;
use crate::triage::{Gate, Triage};

/// What the triage decided about the run's findings.
pub struct Judged {
    /// Findings that reached the gate.
    pub failing: usize,
}

/// The triage of `settings`: severity overrides, accepted findings, the baseline and the
/// gate. A baseline that cannot be read stops the run before anything is sent.
pub fn triage(settings: &ReportSettings) -> Result<Triage, UsageError> {
    let mut triage = Triage::new(
        Gate {
            threshold: settings.fail_on,
            only_new: settings.fail_on_new,
        },
        crate::time::today_utc(),
    );
    for (check, severity) in &settings.severity {
        triage.override_severity(check, *severity);
    }
    triage.accept(settings.accept.clone());
    if let Some(path) = &settings.baseline {
        let previous = read_report(path, "--baseline")?;
        triage.with_baseline(path.display().to_string(), previous);
    }
    Ok(triage)
}

/// Reads a JSON report named by `flag`.
pub fn read_report(
    path: &Path,
    flag: &str,
) -> Result<crate::report::stored::StoredReport, UsageError> {
    crate::report::stored::read(path).map_err(|e| UsageError(format!("{flag}: {e}")))
}

/// The exit code of a finished (or stopped) run, saying why on stderr when it is not 0.
/// Order: a lost report (4), a signal (130/143), findings at the gate (1), an incomplete
/// run (3), else 0.
pub fn exit_code(report: &Report, judged: &Judged, stopped: Option<Stopped>, lost: &[Lost]) -> u8 {
    if !lost.is_empty() {
        for l in lost {
            eprintln!("ajar: writing the report to {}: {}", l.name, l.error);
        }
        eprintln!(
            "ajar: the report is lost; the scan found: {}",
            crate::report::human::summary_line(report)
        );
        return exit::REPORT_LOST;
    }
    match stopped {
        Some(Stopped::Interrupt) => {
            eprintln!("ajar: interrupted; the report holds what was found until then");
            return exit::INTERRUPTED;
        }
        Some(Stopped::Terminate) => {
            eprintln!("ajar: terminated; the report holds what was found until then");
            return exit::TERMINATED;
        }
        None => {}
    }
    let incomplete = report.incomplete_reasons();
    if judged.failing > 0 {
        if !incomplete.is_empty() {
            eprintln!("ajar: also incomplete: {}", incomplete.join("; "));
        }
        return exit::FINDINGS;
    }
    if !incomplete.is_empty() {
        eprintln!(
            "ajar: the scan is incomplete ({}); this is not a clean result",
            incomplete.join("; ")
        );
        return exit::INCOMPLETE;
    }
    exit::OK
}
