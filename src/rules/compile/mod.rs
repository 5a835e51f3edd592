//! Compiles one probe file's text into a [`Rule`]: parses it (unknown fields refused),
//! then validates every rule of `probes/README.md`, collecting every error with its line,
//! column and field rather than stopping at the first.

mod matchers;
mod requests;

use std::path::Path;

use super::error::{Field, Locator, RuleError};
use super::model::{
    Credential, Creds, Extraction, Extractor, InventorySpec, Matcher, Target, Test, Text, Verdict,
};
use super::raw::{RawExtract, RawInventory, RawRule, RawVerdict};
use super::template::{Template, is_identifier};
use super::{Rule, Source};
use crate::finding::{Exposure, Severity};

/// Compiles one file's text; `file` names it in errors and its stem must equal the `id`.
/// Every problem found is returned, sorted by place.
pub fn compile(text: &str, file: &str) -> Result<Rule, Vec<RuleError>> {
    let loc = Locator::new(file, text);
    let raw: RawRule = toml::from_str(text).map_err(|e| vec![loc.toml_error(&e)])?;
    let mut cx = Cx {
        loc,
        errors: Vec::new(),
        names: Vec::new(),
        creds: Vec::new(),
    };
    let rule = cx.rule(&raw, file);
    if cx.errors.is_empty() {
        Ok(rule)
    } else {
        let mut errors = cx.errors;
        errors.sort_by_key(|e| (e.line, e.column));
        Err(errors)
    }
}

/// The state of one compilation: where to place errors, and the request names.
pub(super) struct Cx<'a> {
    loc: Locator<'a>,
    errors: Vec<RuleError>,
    /// Request names in file order.
    names: Vec<String>,
    /// How each request (same order) carries credentials.
    creds: Vec<Creds>,
}

/// What a positive, non-status matcher contributes to the two-signal rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// `words`/`regex` on one request's body.
    BodyText(Target),
    /// A header, a JSON test, or tests on several requests.
    Other,
}

impl Cx<'_> {
    fn err(&mut self, field: &Field, message: impl Into<String>) {
        let error = self.loc.error(field, message);
        self.errors.push(error);
    }

    /// Resolves a matcher's or extractor's `request` (default: the enclosing one, else the
    /// file's first request).
    fn target(
        &mut self,
        name: Option<&str>,
        inherited: Option<Target>,
        field: &Field,
    ) -> Option<Target> {
        match name {
            Some("decoy") => Some(Target::Decoy),
            Some(name) => match self.names.iter().position(|n| n == name) {
                Some(i) => Some(Target::Named(i)),
                None => {
                    self.err(
                        &field.key("request"),
                        format!("no request named {name:?} in [requests]"),
                    );
                    None
                }
            },
            None if inherited.is_some() => inherited,
            None if !self.names.is_empty() => Some(Target::Named(0)),
            None => {
                self.err(field, "the file has no [requests]: name one with `request`");
                None
            }
        }
    }

    fn rule(&mut self, raw: &RawRule, file: &str) -> Rule {
        if raw.id.is_empty()
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.err(
                &Field::top("id"),
                "an id is lowercase letters, digits and '-'",
            );
        }
        if let Some(stem) = Path::new(file).file_stem().and_then(|s| s.to_str())
            && stem != raw.id
        {
            self.err(
                &Field::top("id"),
                format!("the id must equal the file name: {stem:?}"),
            );
        }
        for (key, value) in [("name", &raw.name), ("service", &raw.service)] {
            if value.trim().is_empty() {
                self.err(&Field::top(key), "must not be empty");
            }
        }
        for (i, port) in raw.ports.iter().enumerate() {
            if *port == 0 || raw.ports[..i].contains(port) {
                self.err(
                    &Field::top("ports").idx(i),
                    "ports are 1 to 65535, each once",
                );
            }
        }
        let mounts = raw.mounts.clone().unwrap_or_else(|| vec!["/".to_string()]);
        for (i, mount) in mounts.iter().enumerate() {
            if !mount.starts_with('/')
                || mount.starts_with("//")
                || mount.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                self.err(
                    &Field::top("mounts").idx(i),
                    "a mount is a path starting with one '/'",
                );
            }
        }
        let severity = match raw.severity.as_deref() {
            None => Severity::High,
            Some(s) => match Severity::ALL.into_iter().find(|sev| sev.as_str() == s) {
                Some(sev) => sev,
                None => {
                    self.err(
                        &Field::top("severity"),
                        "use info, low, medium, high or critical",
                    );
                    Severity::High
                }
            },
        };
        for (i, reference) in raw.references.iter().enumerate() {
            let ok =
                url::Url::parse(reference).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                self.err(
                    &Field::top("references").idx(i),
                    "a reference is an http(s) URL",
                );
            }
        }
        self.names = self.request_order(&raw.requests);
        let has_credentials = !raw.credentials.is_empty();
        let mut requests = self.requests(&self.names.clone(), &raw.requests, has_credentials);
        self.creds = requests.iter().map(|r| r.creds).collect();
        let extractors = self.extractors(&raw.extract);
        self.placeholders(&mut requests, &extractors);
        let identify = self.identify(&raw.identify.matchers);
        let verdicts = self.verdicts(&raw.id, &raw.verdict, &extractors);
        let inventory = raw.inventory.as_ref().and_then(|inv| self.inventory(inv));
        let credentials = self.credentials(raw, &verdicts);
        Rule {
            id: raw.id.clone(),
            name: raw.name.clone(),
            service: raw.service.clone(),
            ports: raw.ports.clone(),
            mounts,
            severity,
            references: raw.references.clone(),
            remediation: raw.remediation.clone(),
            source: Source::Shipped,
            requests,
            identify,
            verdicts,
            extractors,
            inventory,
            credentials,
        }
    }

    fn matchers(&mut self, raws: &[super::raw::RawMatcher], field: &Field) -> Vec<Matcher> {
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
            super::matcher::targets(m, &mut targets);
        }
        targets.iter().any(|t| matches!(t, Target::Named(i) if self.creds.get(*i).is_some_and(|c| *c != Creds::None)))
    }

    fn identify(&mut self, raws: &[super::raw::RawMatcher]) -> Vec<Matcher> {
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

    fn verdicts(
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

    fn extractors(&mut self, raws: &[RawExtract]) -> Vec<Extractor> {
        let mut out: Vec<Extractor> = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            let field = Field::top("extract").idx(i);
            if !is_identifier(&raw.name) || raw.name == "user" || raw.name == "password" {
                self.err(
                    &field.key("name"),
                    "a name is letters, digits, '_' and '-' (not user or password)",
                );
            } else if out.iter().any(|e| e.name == raw.name) {
                self.err(
                    &field.key("name"),
                    format!("another extractor is named {:?}", raw.name),
                );
            }
            let Some(target) = self.target(raw.request.as_deref(), None, &field) else {
                continue;
            };
            if target == Target::Decoy {
                self.err(
                    &field.key("request"),
                    "an extractor reads a request of the file, not the decoy",
                );
            }
            if raw.count && raw.json.is_none() {
                self.err(&field.key("count"), "`count` goes with `json`");
            }
            if raw.group.is_some() && raw.regex.is_none() {
                self.err(&field.key("group"), "`group` goes with `regex`");
            }
            let how = match (&raw.json, &raw.regex, &raw.header) {
                (Some(pointer), None, None) => {
                    if self.pointer(pointer, &field.key("json")).is_none() {
                        continue;
                    }
                    Extraction::Json {
                        pointer: pointer.clone(),
                        count: raw.count,
                    }
                }
                (None, Some(pattern), header) => {
                    let Some(regex) = self.regex(pattern, false, &field.key("regex")) else {
                        continue;
                    };
                    let group = raw.group.unwrap_or(1);
                    if group >= regex.captures_len() {
                        self.err(
                            &field.key("group"),
                            format!(
                                "the regex has {} groups",
                                regex.captures_len().saturating_sub(1)
                            ),
                        );
                        continue;
                    }
                    Extraction::Regex {
                        regex,
                        group,
                        header: header.as_ref().map(|h| h.to_ascii_lowercase()),
                    }
                }
                (None, None, Some(header)) => Extraction::Header(header.to_ascii_lowercase()),
                _ => {
                    self.err(&field, "an extractor takes one of `json`, `regex` (over the body or a `header`) or `header`");
                    continue;
                }
            };
            out.push(Extractor {
                name: raw.name.clone(),
                target,
                how,
            });
        }
        out
    }

    fn inventory(&mut self, raw: &RawInventory) -> Option<InventorySpec> {
        let field = Field::top("inventory");
        let target = self.target(raw.request.as_deref(), None, &field)?;
        if target == Target::Decoy {
            self.err(
                &field.key("request"),
                "the inventory reads a request of the file, not the decoy",
            );
        }
        if raw.unit.trim().is_empty() {
            self.err(&field.key("unit"), "must not be empty");
        }
        self.pointer(&raw.items, &field.key("items"))?;
        self.pointer(&raw.name, &field.key("name"))?;
        for (key, pointer) in [("documents", &raw.documents), ("size", &raw.size)] {
            if let Some(pointer) = pointer {
                self.pointer(pointer, &field.key(key))?;
            }
        }
        Some(InventorySpec {
            target,
            unit: raw.unit.clone(),
            items: raw.items.clone(),
            name: raw.name.clone(),
            documents: raw.documents.clone(),
            size: raw.size.clone(),
            system: raw.system.clone(),
        })
    }

    fn credentials(&mut self, raw: &RawRule, verdicts: &[Verdict]) -> Vec<Credential> {
        let field = Field::top("credentials");
        let mut out = Vec::new();
        for (i, pair) in raw.credentials.iter().enumerate() {
            if pair.user.is_empty() || pair.user.chars().any(|c| c.is_control()) {
                self.err(
                    &field.idx(i).key("user"),
                    "a user name is not empty and has no control characters",
                );
            }
            if pair.password.chars().any(|c| c.is_control()) {
                self.err(
                    &field.idx(i).key("password"),
                    "a password has no control characters",
                );
            }
            out.push(Credential {
                user: pair.user.clone(),
                password: pair.password.clone(),
            });
        }
        let verdict = verdicts.iter().any(|v| v.credentials);
        if !out.is_empty() && !verdict {
            self.err(&field, "no `credentials = true` verdict uses these pairs");
        }
        if out.is_empty() && verdict {
            self.err(
                &Field::top("verdict"),
                "a credentials verdict needs [[credentials]] pairs",
            );
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
