//! Runs one [`Rule`] against one base: identify (lazily, short-circuiting), the decoy
//! check, verdicts (credential pairs only under `--default-credentials`), then extractors
//! and the inventory on the replies already fetched.

use std::collections::HashMap;
use std::sync::Arc;

mod request;

use super::extract::{self, clip};
use super::matcher::{Got, Tri, describe, targets, test};
use super::model::{Matcher, Target, Verdict};
use super::{EvalOptions, Evaluation, Fetched, Fetcher, Identified, Request, Rule};
use crate::finding::Exposure;

/// Runs one rule against one base through `fetcher`: identify, decoy check, verdicts,
/// extractors, inventory. Each distinct request is fetched at most once per call.
pub async fn evaluate<F: Fetcher + Send>(
    rule: &Rule,
    fetcher: &mut F,
    options: &EvalOptions,
) -> Evaluation {
    let mut run = Run {
        rule,
        fetcher,
        options,
        cache: HashMap::new(),
        current: HashMap::new(),
        decoy: None,
        jar: Vec::new(),
        base_jar: Vec::new(),
        pair: None,
    };
    run.evaluate().await
}

/// The state of one evaluation.
struct Run<'a, F> {
    rule: &'a Rule,
    fetcher: &'a mut F,
    options: &'a EvalOptions,
    /// Every reply of this call, by the request sent.
    cache: HashMap<Request, Arc<Got>>,
    /// The reply each named request has under the current credential pair.
    current: HashMap<usize, Arc<Got>>,
    decoy: Option<Arc<Got>>,
    /// Cookies set by replies (name, value).
    jar: Vec<(String, String)>,
    /// The jar before credential pairs were tried, restored between pairs.
    base_jar: Vec<(String, String)>,
    /// The credential pair in use, by index.
    pair: Option<usize>,
}

impl<F: Fetcher + Send> Run<'_, F> {
    async fn evaluate(&mut self) -> Evaluation {
        let rule = self.rule;
        let mut matched = Vec::new();
        for m in &rule.identify {
            self.ensure_matcher(m).await;
            if test(m, &|t| self.got(t)) != Tri::True {
                return Evaluation::NotThis {
                    note: self.failure_note(m),
                };
            }
            matched.push(self.shown(m));
        }
        self.ensure(Target::Decoy).await;
        if let Some(decoy) = self.decoy.clone() {
            let positive: Vec<&Matcher> = rule.identify.iter().filter(|m| !m.negative).collect();
            let lookup = |_| Some(decoy.clone());
            if !positive.is_empty() && positive.iter().all(|m| test(m, &lookup) == Tri::True) {
                return Evaluation::CatchAll {
                    note: format!(
                        "the decoy {} satisfies every identify matcher of {}: the server answers any path alike",
                        decoy.shown, rule.id
                    ),
                };
            }
        }
        let mut decided: Option<(&Verdict, Vec<String>)> = None;
        'verdicts: for verdict in &rule.verdicts {
            if verdict.credentials {
                if !self.options.default_credentials {
                    continue;
                }
                for pair in 0..rule.credentials.len() {
                    self.set_pair(Some(pair));
                    if let Some(held) = self.verdict_holds(verdict).await {
                        decided = Some((verdict, held));
                        break 'verdicts;
                    }
                }
            } else {
                self.set_pair(None);
                if let Some(held) = self.verdict_holds(verdict).await {
                    decided = Some((verdict, held));
                    break;
                }
            }
        }
        if decided.is_none() {
            self.set_pair(None);
        }
        let mut values: Vec<(String, String)> = Vec::new();
        for e in &rule.extractors {
            self.ensure(e.target).await;
            if let Some(value) = self
                .got(e.target)
                .and_then(|g| extract::extract(&e.how, &g))
            {
                values.push((e.name.clone(), value));
            }
        }
        let user = match decided {
            Some((v, _)) if v.credentials => self
                .pair
                .and_then(|p| rule.credentials.get(p))
                .map(|c| clip(&c.user)),
            _ => None,
        };
        let lookup = |name: &str| match name {
            "user" => user.clone(),
            _ => values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
        };
        let version = lookup("version");
        let details = values
            .iter()
            .filter(|(n, _)| n != "version")
            .cloned()
            .collect();
        let (exposure, check, summary) = match &decided {
            Some((v, held)) => {
                matched.extend(held.iter().cloned());
                (
                    Some(v.exposure),
                    v.check.clone(),
                    v.summary.render_or(&lookup, "?"),
                )
            }
            None => {
                let named = match &version {
                    Some(version) => format!("{} {version}", rule.name),
                    None => rule.name.clone(),
                };
                (
                    None,
                    format!("{}-undetermined", rule.id),
                    format!("{named} answers, but no verdict held"),
                )
            }
        };
        let mut inventory = None;
        if let (Some(Exposure::Open | Exposure::DefaultCredentials), Some(spec)) =
            (exposure, &rule.inventory)
        {
            self.ensure(spec.target).await;
            inventory = self
                .got(spec.target)
                .and_then(|g| extract::inventory(spec, &g, self.options.max_items));
        }
        Evaluation::Identified(Identified {
            exposure,
            check,
            summary,
            version,
            details,
            inventory,
            user,
            matched,
        })
    }

    /// Tries one verdict under the current pair; Some(the matchers that held) if it holds.
    async fn verdict_holds(&mut self, verdict: &Verdict) -> Option<Vec<String>> {
        let mut held = Vec::new();
        for m in &verdict.matchers {
            self.ensure_matcher(m).await;
            let ok = test(m, &|t| self.got(t)) == Tri::True;
            if verdict.any && ok {
                return Some(vec![self.shown(m)]);
            }
            if !verdict.any && !ok {
                return None;
            }
            held.push(self.shown(m));
        }
        (!verdict.any).then_some(held)
    }

    /// Switches credential pair: cookies go back to what they were before any login.
    fn set_pair(&mut self, pair: Option<usize>) {
        if self.pair == pair {
            return;
        }
        if self.pair.is_none() {
            self.base_jar = self.jar.clone();
        } else {
            self.jar = self.base_jar.clone();
        }
        self.pair = pair;
        self.current.clear();
    }

    fn got(&self, target: Target) -> Option<Arc<Got>> {
        match target {
            Target::Decoy => self.decoy.clone(),
            Target::Named(i) => self.current.get(&i).cloned(),
        }
    }

    /// `GET /version: json /ApiVersion is a string`.
    fn shown(&self, m: &Matcher) -> String {
        let request = self
            .got(m.target)
            .map(|g| g.shown.clone())
            .unwrap_or_default();
        format!("{request}: {}", describe(m))
    }

    fn failure_note(&self, m: &Matcher) -> String {
        let got = self.got(m.target);
        match got.as_ref().map(|g| &g.fetched) {
            Some(Fetched::Failed(why)) => format!(
                "{}: failed ({why})",
                got.as_ref().map(|g| g.shown.as_str()).unwrap_or("")
            ),
            Some(Fetched::Reply(reply)) => {
                format!("{} does not hold (status {})", self.shown(m), reply.status)
            }
            None => format!("{} does not hold", self.shown(m)),
        }
    }

    async fn ensure_matcher(&mut self, m: &Matcher) {
        let mut needed = Vec::new();
        targets(m, &mut needed);
        for t in needed {
            self.ensure(t).await;
        }
    }

    /// Fetches a target (and the requests its placeholders need) unless already there.
    async fn ensure(&mut self, target: Target) {
        let index = match target {
            Target::Decoy => {
                if self.decoy.is_none() {
                    let request = Request {
                        method: "GET".to_string(),
                        path: self.fetcher.decoy_path(),
                        headers: Vec::new(),
                        body: None,
                        content_type: None,
                        basic_auth: None,
                        max_body: 65_536,
                        send_cookies: false,
                        shown: String::new(),
                    };
                    let shown = format!("GET {}", request.path);
                    let request = Request { shown, ..request };
                    self.decoy = Some(self.send(request).await);
                }
                return;
            }
            Target::Named(i) => i,
        };
        let Some(spec) = self.rule.requests.get(index) else {
            return;
        };
        for i in spec.deps.iter().copied().chain([index]) {
            if self.current.contains_key(&i) {
                continue;
            }
            let got = match self.build(i) {
                Ok(request) => self.send(request).await,
                Err((shown, why)) => Got::new(Fetched::Failed(why), shown),
            };
            self.current.insert(i, got);
        }
    }
}
