//! Compiles one probe file's text into a [`Rule`]: parses it (unknown fields refused),
//! then validates every rule of `probes/README.md`, collecting every error with its line,
//! column and field rather than stopping at the first.

mod extract;
mod matchers;
mod requests;
mod verdicts;

use std::path::Path;

use super::error::{Field, Locator, RuleError};
use super::model::{Creds, Target};
use super::raw::RawRule;
use super::{Rule, Source};
use crate::finding::Severity;

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
}
