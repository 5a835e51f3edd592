//! Triage: what a run's findings mean for the operator, after the probes have spoken.
//! Severity overrides per check, accepted findings, the comparison with the previous
//! report (`--baseline`) and the gate (`--fail-on`, `--fail-on-new`) live here, in one
//! place shared by `ajar scan` and `ajar merge`, so a merged report is judged exactly as a
//! single run would be.
//!
//! Each finding is judged as it arrives ([`Triage::judge`]), before any format writes it,
//! so streamed JSONL carries the same marks as the JSON report; what is left of the
//! baseline at the end is what has been resolved ([`Triage::leftovers`]).

pub mod accept;

use std::collections::HashMap;

use crate::finding::{BaselineState, Finding, Severity};
use crate::report::TriageSummary;
use crate::report::stored::StoredReport;
use accept::AcceptEntry;

/// The gate: which findings fail the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gate {
    /// Findings at or above this severity fail the run (`--fail-on`).
    pub threshold: Option<Severity>,
    /// Only new or escalated findings count (`--fail-on-new`, which needs a baseline to
    /// tell; without one, every finding is new).
    pub only_new: bool,
}

/// Everything that judges findings after the probes.
#[derive(Debug, Default)]
pub struct Triage {
    overrides: HashMap<String, Severity>,
    accepted: Vec<AcceptEntry>,
    baseline: Option<Baseline>,
    gate: Gate,
    today: String,
    summary: TriageSummary,
    in_use: bool,
    expired_warned: Vec<String>,
    failed: std::collections::HashSet<String>,
}

/// The previous report's findings, by key, until this run sees them again.
#[derive(Debug)]
struct Baseline {
    /// Findings not seen yet this run, by [`Finding::key`].
    pending: HashMap<String, Finding>,
    /// Keys of the baseline seen this run (a key found twice is judged once).
    seen: HashMap<String, Severity>,
}

impl Triage {
    /// A triage with `gate`, judging dates against `today` (`YYYY-MM-DD`, UTC).
    pub fn new(gate: Gate, today: String) -> Triage {
        Triage {
            gate,
            today,
            ..Triage::default()
        }
    }

    /// Raises or lowers the severity of every finding of `check` (`[severity]` in
    /// ajar.toml), for estates where a check means more or less than ajar's default.
    pub fn override_severity(&mut self, check: &str, severity: Severity) {
        self.overrides.insert(check.to_ascii_lowercase(), severity);
    }

    /// Adds accepted-findings entries.
    pub fn accept(&mut self, entries: Vec<AcceptEntry>) {
        self.in_use |= !entries.is_empty();
        self.accepted.extend(entries);
    }

    /// Compares this run with `previous`, read from `file`.
    pub fn with_baseline(&mut self, file: String, previous: StoredReport) {
        // Findings the previous run could not verify are still findings of the estate.
        let pending = previous
            .results
            .into_iter()
            .chain(previous.unverified)
            .map(|f| (f.key(), f))
            .collect();
        self.in_use = true;
        self.summary.baseline = Some(file);
        self.baseline = Some(Baseline {
            pending,
            seen: HashMap::new(),
        });
    }

    /// Marks one finding (severity override, acceptance, baseline state) and says
    /// whether it fails the gate.
    pub fn judge(&mut self, finding: &mut Finding) -> bool {
        if let Some(severity) = self.overrides.get(&finding.check.to_ascii_lowercase()) {
            finding.severity = *severity;
        }
        finding.triage = Default::default();
        if let Some(entry) = self.accepted.iter().find(|e| e.matches(finding)) {
            let acceptance = entry.acceptance(&self.today);
            if acceptance.expired {
                self.summary.acceptance_expired += 1;
                if !self.expired_warned.contains(&entry.source) {
                    self.expired_warned.push(entry.source.clone());
                    eprintln!(
                        "ajar: the accepted finding at {} expired on {}; it no longer keeps {} {} out of the gate",
                        entry.source,
                        entry.expires,
                        crate::sanitize::clip(&finding.check, 60),
                        crate::sanitize::clip(&finding.endpoint, 80),
                    );
                }
            } else {
                self.summary.accepted += 1;
            }
            finding.triage.accepted = Some(acceptance);
        }
        if let Some(baseline) = self.baseline.as_mut() {
            let key = finding.key();
            let before = baseline
                .pending
                .remove(&key)
                .map(|f| f.severity)
                .or_else(|| baseline.seen.get(&key).copied());
            let state = match before {
                None => BaselineState::New,
                Some(was) if finding.severity > was => BaselineState::Escalated,
                Some(_) => BaselineState::Unchanged,
            };
            if let Some(was) = before {
                baseline.seen.insert(key, was);
                if was != finding.severity {
                    finding.triage.baseline_severity = Some(was);
                }
            }
            match state {
                BaselineState::New => self.summary.new += 1,
                BaselineState::Escalated => self.summary.escalated += 1,
                _ => self.summary.unchanged += 1,
            }
            finding.triage.baseline = Some(state);
        }
        let fails = self.fails(finding);
        if fails {
            self.summary.failing += 1;
        }
        fails
    }

    /// Whether `finding`, already judged, fails the gate.
    pub fn fails(&self, finding: &Finding) -> bool {
        let Some(threshold) = self.gate.threshold else {
            return false;
        };
        let news = finding.triage.baseline.is_none_or(BaselineState::is_news);
        finding.severity >= threshold && !finding.is_accepted() && (!self.gate.only_new || news)
    }

    /// Records an endpoint that could not be probed this run, so its baseline findings
    /// are carried as unverified rather than resolved (kept only with a baseline; the
    /// streamed formats keep no notes of their own).
    pub fn endpoint_failed(&mut self, endpoint: &str) {
        if self.baseline.is_some() {
            self.failed.insert(endpoint.to_string());
        }
    }

    /// What is left of the baseline once the run is over, as (resolved, unverified).
    /// Unverified: the run was interrupted, the endpoint failed
    /// ([`Triage::endpoint_failed`]) or could not be checked at all (`unchecked`: a name
    /// that did not resolve); these are neither seen nor gone, and are carried so the next
    /// run does not call them new. Resolved: gone where the run looked (`looked`: its
    /// targets, its shard). The rest lies outside this run and is left out.
    pub fn leftovers(
        &mut self,
        interrupted: bool,
        unchecked: impl Fn(&str) -> bool,
        looked: impl Fn(&str) -> bool,
    ) -> (Vec<Finding>, Vec<Finding>) {
        let Some(baseline) = self.baseline.as_mut() else {
            return (Vec::new(), Vec::new());
        };
        let mark = |mut f: Finding, state: BaselineState| {
            f.triage = Default::default();
            f.triage.baseline = Some(state);
            f
        };
        let (mut gone, mut unverified) = (Vec::new(), Vec::new());
        for (_, f) in baseline.pending.drain() {
            if interrupted || self.failed.contains(&f.endpoint) || unchecked(&f.endpoint) {
                unverified.push(mark(f, BaselineState::Unverified));
            } else if looked(&f.endpoint) {
                gone.push(mark(f, BaselineState::Resolved));
            }
        }
        let order = |a: &Finding, b: &Finding| {
            crate::report::endpoint_order(&a.endpoint, &b.endpoint)
                .then_with(|| a.check.cmp(&b.check))
        };
        gone.sort_by(order);
        unverified.sort_by(order);
        self.summary.resolved = gone.len();
        self.summary.unverified = unverified.len();
        (gone, unverified)
    }

    /// The counts for the report, when a baseline or accepted findings are in use.
    pub fn summary(&self) -> Option<TriageSummary> {
        self.in_use.then(|| self.summary.clone())
    }

    /// How many judged findings failed the gate.
    pub fn failing(&self) -> usize {
        self.summary.failing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::stored::{StoredReport, StoredTool};

    fn finding(check: &str, endpoint: &str, severity: Severity) -> Finding {
        Finding::sample(check, endpoint, severity)
    }

    fn stored(results: Vec<Finding>, unverified: Vec<Finding>) -> StoredReport {
        StoredReport {
            tool: StoredTool {
                name: "ajar".into(),
                version: "0.1.0".into(),
            },
            started_at: "2026-12-01T00:00:00.000Z".into(),
            finished_at: "2026-12-01T00:00:01.000Z".into(),
            interrupted: false,
            targets: 1,
            endpoints: Default::default(),
            shard: None,
            results,
            unverified,
            unidentified: Vec::new(),
            silent: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A baseline finding whose endpoint failed is neither resolved nor forgotten: the run
    /// after next, reading this run's report as its baseline, does not call it new.
    #[test]
    fn a_failed_endpoint_carries_its_baseline_findings_forward() {
        let gate = Gate {
            threshold: Some(Severity::High),
            only_new: true,
        };
        let mut first = Triage::new(gate, "2026-12-02".into());
        first.with_baseline(
            "base.json".into(),
            stored(
                vec![
                    finding("redis-open", "127.0.0.1:6379", Severity::High),
                    finding("redis-open", "127.0.0.2:6379", Severity::High),
                    finding("redis-open", "127.0.0.3:6379", Severity::High),
                ],
                Vec::new(),
            ),
        );
        let mut seen = finding("redis-open", "127.0.0.1:6379", Severity::High);
        assert!(!first.judge(&mut seen), "unchanged: not at the gate");
        first.endpoint_failed("127.0.0.2:6379");
        let (resolved, unverified) = first.leftovers(false, |_| false, |e| e != "127.0.0.9:6379");
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].endpoint, "127.0.0.3:6379");
        assert_eq!(resolved[0].triage.baseline, Some(BaselineState::Resolved));
        assert_eq!(unverified.len(), 1);
        assert_eq!(unverified[0].endpoint, "127.0.0.2:6379");
        let summary = first.summary().expect("in use");
        assert_eq!(
            (summary.unchanged, summary.resolved, summary.unverified),
            (1, 1, 1)
        );

        // Next run: .2 answers again with the same finding; it is known, not new.
        let mut next = Triage::new(gate, "2026-12-09".into());
        next.with_baseline("report.json".into(), stored(vec![seen], unverified));
        let mut back = finding("redis-open", "127.0.0.2:6379", Severity::High);
        assert!(!next.judge(&mut back));
        assert_eq!(back.triage.baseline, Some(BaselineState::Unchanged));
        let mut fresh = finding("redis-open", "127.0.0.4:6379", Severity::Critical);
        assert!(next.judge(&mut fresh), "new and high: at the gate");
        assert_eq!(next.failing(), 1);

        // An interrupted run resolves nothing: what it did not see again is unverified.
        let (resolved, unverified) = next.leftovers(true, |_| false, |_| true);
        assert!(resolved.is_empty());
        let left: Vec<&str> = unverified.iter().map(|f| f.endpoint.as_str()).collect();
        assert_eq!(left, ["127.0.0.1:6379"]);
    }

    #[test]
    fn severity_overrides_apply_before_the_gate_and_accepted_findings_stay_out() {
        let mut t = Triage::new(
            Gate {
                threshold: Some(Severity::High),
                only_new: false,
            },
            "2026-12-02".into(),
        );
        t.override_severity("memcached-open", Severity::Critical);
        let mut f = finding("memcached-open", "127.0.0.1:11211", Severity::Medium);
        assert!(t.judge(&mut f));
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            t.summary(),
            None,
            "no baseline, no accepted findings: no triage block"
        );
    }
}
