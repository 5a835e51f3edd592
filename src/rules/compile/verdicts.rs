//! Compiles `[identify]` and `[[verdict]]`: the two-signal rules, exposures and check ids,
//! which verdicts may read requests with credentials, and summary placeholders.

use super::Cx;
use crate::finding::Exposure;
use crate::rules::error::Field;
use crate::rules::model::{Creds, Extractor, Matcher, Target, Test, Text, Verdict};
use crate::rules::raw::{RawMatcher, RawVerdict};
use crate::rules::template::Template;

/// What a positive, non-status matcher contributes to the two-signal rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// `words`/`regex` on one request's body.
    BodyText(Target),
    /// A header, a JSON test, or tests on several requests.
    Other,
}

impl Cx<'_> {
    fn matchers(&mut self, raws: &[RawMatcher], field: &Field) -> Vec<Matcher> {
        if raws.is_empty() {
            self.err(field, "list at least one matcher");
        }
        let mut out = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            if let Some(m) = self.matcher(raw, &field.idx(i), None) {
                out.push(m);
            }
        }
        out
    }

    /// Whether any matcher reads a request that carries credentials.
    fn uses_credentials(&self, matchers: &[Matcher]) -> bool {
        let mut targets = Vec::new();
        for m in matchers {
            crate::rules::matcher::targets(m, &mut targets);
        }
        targets.iter().any(|t| matches!(t, Target::Named(i) if self.creds.get(*i).is_some_and(|c| *c != Creds::None)))
    }

    pub(super) fn identify(&mut self, raws: &[RawMatcher]) -> Vec<Matcher> {
        let field = Field::top("identify").key("matchers");
        let matchers = self.matchers(raws, &field);
        if matchers.len() != raws.len() {
            return matchers;
        }
        if self.uses_credentials(&matchers) {
            self.err(
                &field,
                "identification may not use a request with `auth` or `login`",
            );
        }
        let signals: Vec<Signal> = matchers.iter().filter_map(signal).collect();
        if signals.len() < 2 {
            self.err(
                &field,
                "identification needs at least two positive matchers that are not `status`",
            );
        } else if let Signal::BodyText(first) = signals[0]
            && signals.iter().all(|s| *s == Signal::BodyText(first))
        {
            self.err(
                &field,
                "identification may not rest on words/regex over one body alone: add a header, \
                 a JSON pointer or a second request",
            );
        }
        matchers
    }

    pub(super) fn verdicts(
        &mut self,
        id: &str,
        raws: &[RawVerdict],
        extractors: &[Extractor],
    ) -> Vec<Verdict> {
        let mut out: Vec<Verdict> = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            let field = Field::top("verdict").idx(i);
            let exposure = match raw.exposure.as_str() {
                "open" => Exposure::Open,
                "auth-required" => Exposure::AuthRequired,
                "default-credentials" => Exposure::DefaultCredentials,
                _ => {
                    self.err(
                        &field.key("exposure"),
                        "use open, auth-required or default-credentials",
                    );
                    continue;
                }
            };
            let check = raw
                .check
                .clone()
                .unwrap_or_else(|| format!("{id}-{}", raw.exposure));
            let check_field = if raw.check.is_some() {
                field.key("check")
            } else {
                field.key("exposure")
            };
            if check.is_empty()
                || !check
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                self.err(
                    &check_field,
                    "a check id is lowercase letters, digits and '-'",
                );
            } else if out.iter().any(|v| v.check == check) || check == format!("{id}-undetermined")
            {
                self.err(
                    &check_field,
                    format!("the check id {check:?} is taken: give this verdict its own `check`"),
                );
            }
            if raw.credentials != (exposure == Exposure::DefaultCredentials) {
                self.err(&field.key("credentials"), "`credentials = true` goes with exposure = \"default-credentials\", and only there");
            }
            let any = match raw.condition.as_deref() {
                None | Some("and") => false,
                Some("or") => true,
                Some(_) => {
                    self.err(&field.key("condition"), "use \"and\" or \"or\"");
                    false
                }
            };
            let mfield = field.key("matchers");
            let matchers = self.matchers(&raw.matchers, &mfield);
            if matchers.len() != raw.matchers.len() {
                continue;
            }
            if matches!(exposure, Exposure::Open | Exposure::DefaultCredentials) {
                let signals = matchers.iter().filter(|m| signal(m).is_some()).count();
                if signals == 0 || (any && signals < matchers.len()) {
                    self.err(
                        &mfield,
                        format!("an {} verdict needs a positive matcher that is not `status` (with condition = \"or\", every matcher)", raw.exposure),
                    );
                }
            }
            let uses = self.uses_credentials(&matchers);
            if raw.credentials && !uses {
                self.err(
                    &mfield,
                    "a credentials verdict reads a request with `auth` or `login`",
                );
            } else if !raw.credentials && uses {
                self.err(
                    &mfield,
                    "only a `credentials = true` verdict may read a request with `auth` or `login`",
                );
            }
            let summary = Template::parse(&raw.summary);
            if raw.summary.trim().is_empty() {
                self.err(&field.key("summary"), "must not be empty");
            }
            for var in summary.vars() {
                let known =
                    extractors.iter().any(|e| e.name == var) || (var == "user" && raw.credentials);
                if !known {
                    self.err(
                        &field.key("summary"),
                        format!(
                            "{{{var}}} names no extractor{}",
                            if raw.credentials { " (nor user)" } else { "" }
                        ),
                    );
                }
            }
            out.push(Verdict {
                exposure,
                check,
                summary,
                any,
                matchers,
                credentials: raw.credentials,
            });
        }
        out
    }
}

/// The signal a matcher gives the two-signal rule: None for status-only and negative ones.
fn signal(m: &Matcher) -> Option<Signal> {
    if m.negative {
        return None;
    }
    match &m.test {
        Test::Status(_) => None,
        Test::Body(Text::Words { .. } | Text::Regex(_)) => Some(Signal::BodyText(m.target)),
        Test::Header { .. } | Test::Json { .. } => Some(Signal::Other),
        Test::All(nested) => combine(nested.iter().filter_map(signal).collect()),
        Test::Any(nested) => {
            let signals: Vec<Signal> = nested.iter().filter_map(signal).collect();
            if signals.len() == nested.len() {
                combine(signals)
            } else {
                None
            }
        }
    }
}

fn combine(signals: Vec<Signal>) -> Option<Signal> {
    let first = *signals.first()?;
    Some(if signals.iter().all(|s| *s == first) {
        first
    } else {
        Signal::Other
    })
}
