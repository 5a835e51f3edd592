//! The record of what one endpoint's probes sent and read: every exchange, in order, with
//! the probe and transport it went over. The engine keeps one [`Trace`] per endpoint; a
//! probe [`Trace::record`]s each request as it goes, and the engine hands the entries to the
//! finding (the probe's own) or to the endpoint's result (all of them), so every result,
//! identified or not, carries its evidence.
//!
//! A trace is bounded whatever a server sends: at most [`MAX_ENTRIES`] entries, each side
//! escaped and clipped. Recording is also where `--debug` logs each exchange.

use crate::finding::Evidence;
use crate::sanitize::clip;

/// Most exchanges kept per endpoint; later ones are counted, not kept.
pub const MAX_ENTRIES: usize = 64;
/// Longest request text kept, in characters.
const MAX_REQUEST: usize = 300;
/// Longest response text kept, in characters.
const MAX_RESPONSE: usize = 600;

/// What the probes of one endpoint sent and read.
#[derive(Debug, Default)]
pub struct Trace {
    endpoint: String,
    probe: &'static str,
    entries: Vec<Evidence>,
    dropped: usize,
}

impl Trace {
    /// An empty trace for `endpoint` (`host:port`), named in the debug log. Most endpoints
    /// of a scan are closed ports that record nothing, so the name is only formatted when
    /// debug logging is on.
    pub fn new(endpoint: impl std::fmt::Display) -> Trace {
        let endpoint = if tracing::enabled!(tracing::Level::DEBUG) {
            endpoint.to_string()
        } else {
            String::new()
        };
        Trace {
            endpoint,
            ..Trace::default()
        }
    }

    /// Names the probe and transport that the next entries go over (`https`).
    pub fn set_probe(&mut self, probe: &'static str) {
        self.probe = probe;
    }

    /// Records one request and the facts read from its answer (or why there was none).
    pub fn record(&mut self, request: impl AsRef<str>, response: impl AsRef<str>) {
        let (request, response) = (request.as_ref(), response.as_ref());
        tracing::debug!(
            endpoint = %self.endpoint,
            probe = self.probe,
            "{} -> {}",
            clip(request, MAX_REQUEST),
            clip(response, MAX_RESPONSE)
        );
        if self.entries.len() >= MAX_ENTRIES {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.entries.push(Evidence {
            probe: self.probe.to_string(),
            request: clip(request, MAX_REQUEST),
            response: clip(response, MAX_RESPONSE),
        });
    }

    /// How many entries are kept so far: a mark to [`Trace::split_off`] at later.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends what another trace of the same endpoint recorded (a probe that ran beside
    /// the others), within this trace's cap.
    pub fn absorb(&mut self, other: Trace) {
        for entry in other.into_evidence() {
            if self.entries.len() >= MAX_ENTRIES {
                self.dropped = self.dropped.saturating_add(1);
            } else {
                self.entries.push(entry);
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries recorded since `mark` (one probe run's), taken out of the trace.
    pub fn split_off(&mut self, mark: usize) -> Vec<Evidence> {
        self.entries.split_off(mark.min(self.entries.len()))
    }

    /// Every entry, with a last one saying how many were not kept.
    pub fn into_evidence(mut self) -> Vec<Evidence> {
        if self.dropped > 0 {
            self.entries.push(Evidence {
                probe: self.probe.to_string(),
                request: "…".into(),
                response: format!("{} more exchanges not kept", self.dropped),
            });
        }
        self.entries
    }

    /// The entries recorded so far.
    pub fn entries(&self) -> &[Evidence] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_escaped() {
        let mut trace = Trace::new("127.0.0.1:1");
        trace.set_probe("http");
        trace.record("GET /", "x\u{1b}[31m".repeat(1000));
        assert_eq!(trace.entries()[0].probe, "http");
        assert!(trace.entries()[0].response.chars().count() <= MAX_RESPONSE);
        assert!(!trace.entries()[0].response.contains('\u{1b}'));
        for _ in 0..100 {
            trace.record("GET /", "HTTP 200");
        }
        let mark = 1;
        assert_eq!(trace.split_off(mark).len(), MAX_ENTRIES - 1);
        let all = trace.into_evidence();
        assert_eq!(
            all.last().map(|e| e.response.as_str()),
            Some("37 more exchanges not kept")
        );
    }
}
