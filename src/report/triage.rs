//! How findings stand against the operator's records, as the reports show it: the counts
//! of a run's triage and the short marks of the human and Markdown tables.

use serde::{Deserialize, Serialize};

use super::Report;
use crate::finding::Finding;

/// How a run's findings stand against the baseline and the accepted findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageSummary {
    /// The baseline file, when one was given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<String>,
    /// Findings not in the baseline.
    pub new: usize,
    /// Findings in the baseline, no worse.
    pub unchanged: usize,
    /// Findings in the baseline, worse now.
    pub escalated: usize,
    /// Baseline findings gone where this run looked.
    pub resolved: usize,
    /// Baseline findings whose endpoint could not be probed this run.
    #[serde(default)]
    pub unverified: usize,
    /// Findings an unexpired accepted-findings entry keeps out of the gate.
    pub accepted: usize,
    /// Findings whose accepted-findings entry has expired.
    pub acceptance_expired: usize,
    /// Findings that reached the gate (`--fail-on`, `--fail-on-new`).
    pub failing: usize,
}

/// A short mark of a finding's triage for the human and Markdown tables: `new`,
/// `escalated from medium`, `accepted until 2027-06-30`, `acceptance expired 2026-01-31`.
pub fn triage_mark(f: &Finding) -> Option<String> {
    let mut marks = Vec::new();
    match f.triage.baseline {
        Some(crate::finding::BaselineState::New) => marks.push("new".to_string()),
        Some(crate::finding::BaselineState::Escalated) => {
            marks.push(match f.triage.baseline_severity {
                Some(was) => format!("escalated from {was}"),
                None => "escalated".to_string(),
            })
        }
        _ => {}
    }
    if let Some(a) = &f.triage.accepted {
        let until = a.expires.as_deref().unwrap_or("-");
        marks.push(if a.expired {
            format!("acceptance expired {until}")
        } else {
            format!("accepted until {until}")
        });
    }
    (!marks.is_empty()).then(|| marks.join(", "))
}

/// The triage part of a summary line: `baseline: 1 new, 3 unchanged, 1 resolved; 2
/// accepted; 1 failing the gate`, or nothing when no baseline or accepted findings are in
/// use.
pub fn triage_line(report: &Report) -> Option<String> {
    let t = report.triage.as_ref()?;
    let mut parts = Vec::new();
    if t.baseline.is_some() {
        let mut b = format!("baseline: {} new", t.new);
        if t.escalated > 0 {
            b.push_str(&format!(", {} escalated", t.escalated));
        }
        b.push_str(&format!(
            ", {} unchanged, {} resolved",
            t.unchanged, t.resolved
        ));
        parts.push(b);
    }
    if t.accepted > 0 || t.acceptance_expired > 0 {
        let mut a = format!("{} accepted", t.accepted);
        if t.acceptance_expired > 0 {
            a.push_str(&format!(
                " ({} whose acceptance expired)",
                t.acceptance_expired
            ));
        }
        parts.push(a);
    }
    parts.push(format!("{} failing the gate", t.failing));
    Some(parts.join("; "))
}
