//! The data-driven HTTP probes of `probes/` on one endpoint: admin panels and the HTTP
//! faces of data stores, judged by [`crate::rules`] with requests sent here.
//!
//! Per base path (the target URL's, or else `/` and each probe's usual mount points),
//! every probe gets its turn, the port's usual owners first, until one identifies its
//! product; each product found under a different base path is a finding of its own. All
//! probes of one base share a reply cache, so thirty probes asking for `/` cost one
//! request, and the `GET /` the HTTP probe already sent is reused.

use std::collections::HashMap;
use std::sync::Arc;

use super::ProbeOutcome;
use super::http::Site;
use crate::finding::policy::{self, CheckInfo};
use crate::finding::{Evidence, Exposure, Finding};
use crate::net::http::{HttpClient, HttpReply, Outgoing};
use crate::rules::{self, EvalOptions, Evaluation, Fetched, Fetcher, Reply, Request, Rule};
use crate::sanitize::clip;

/// Most base paths tried on one endpoint (`/` and the mount points of every probe).
const MAX_BASES: usize = 16;
/// Most replies one base keeps cached; past it, requests are still sent but not kept.
const MAX_CACHED: usize = 256;

/// Runs the data-driven probes on the endpoint of `site`, whose `GET /` answered `root`.
/// `None` when no probe identified its product; the notes of catch-all servers are added to
/// `notes`.
pub async fn recognise(
    site: &mut Site<'_>,
    root: &HttpReply,
    notes: &mut Vec<String>,
) -> Option<ProbeOutcome> {
    let cx = site.cx;
    let rules = cx.registry.rules();
    if rules.is_empty() {
        return None;
    }
    let order = rules.for_port(site.endpoint.port);
    let pinned = site.endpoint.base_path.is_some();
    let bases = bases(&order, pinned);
    let options = EvalOptions {
        default_credentials: cx.default_credentials,
        max_items: cx.limits.max_items,
    };
    let mut findings = Vec::new();
    for base in bases {
        let url = if base == "/" {
            site.base.clone()
        } else {
            match site.base.join(base.trim_start_matches('/')) {
                Ok(url) => url,
                Err(_) => continue,
            }
        };
        let mut fetcher = SiteFetcher {
            http: &cx.http,
            base: &url,
            base_path: url.path().to_string(),
            cache: HashMap::new(),
            log: Vec::new(),
            trace: &mut *site.trace,
            decoy: decoy_path(site.endpoint.port, &base),
        };
        if base == "/" {
            fetcher.seed_root(root);
        }
        for rule in order.iter().filter(|r| pinned || r.mounts.contains(&base)) {
            fetcher.log.clear();
            match rules::evaluate(rule, &mut fetcher, &options).await {
                Evaluation::NotThis { .. } => {}
                Evaluation::CatchAll { note } => {
                    notes.push(format!("{} under {base}: {}", rule.id, clip(&note, 200)));
                }
                Evaluation::Identified(found) => {
                    let evidence = std::mem::take(&mut fetcher.log);
                    findings.push(finding(site, rule, &url, found, evidence));
                    break;
                }
            }
        }
    }
    match findings.len() {
        0 => None,
        1 => findings.pop().map(|f| ProbeOutcome::Found(Box::new(f))),
        _ => Some(ProbeOutcome::FoundSeveral(findings)),
    }
}

/// The base paths to try: the target's own when it named one, else `/` and every mount
/// point of the probes, in probe order, at most [`MAX_BASES`].
fn bases(order: &[&Rule], pinned: bool) -> Vec<String> {
    let mut bases = vec!["/".to_string()];
    if pinned {
        return bases;
    }
    for mount in order.iter().flat_map(|r| r.mounts.iter()) {
        if bases.len() >= MAX_BASES {
            break;
        }
        if !bases.contains(mount) {
            bases.push(mount.clone());
        }
    }
    bases
}

/// A path under `base` that no product serves, different per endpoint and base, so a
/// server cannot learn one fixed decoy and answer it with a 404.
fn decoy_path(port: u16, base: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u16(port);
    hasher.write(base.as_bytes());
    format!("/ajar-{:016x}", hasher.finish())
}

/// The finding for an identified product: verdict, severity by the shared policy, the
/// probe's check id, remediation and references, and the evidence of its own requests.
fn finding(
    site: &Site<'_>,
    rule: &Rule,
    url: &url::Url,
    found: rules::Identified,
    mut evidence: Vec<Evidence>,
) -> Finding {
    let exposure = found.exposure.unwrap_or(Exposure::Undetermined);
    let severity = policy::severity(exposure, rule.severity, found.inventory.as_ref(), false);
    let mut f = site.finding(&rule.service, exposure, severity, found.summary);
    f.url = Some(url.to_string());
    f.check = found.check;
    f.product = Some(rule.name.clone());
    f.version = found.version;
    f.details = found.details;
    if let Some(user) = found.user {
        f.details.push(("user".into(), user));
    }
    f.inventory = found.inventory;
    if !found.matched.is_empty() {
        evidence.push(Evidence {
            probe: String::new(),
            request: format!("probe {} ({})", rule.id, rule.source),
            response: clip(&format!("matched: {}", found.matched.join("; ")), 600),
        });
    }
    let label = if site.tls { "https" } else { "http" };
    for e in &mut evidence {
        e.probe = label.to_string();
    }
    f.evidence = evidence;
    let references: Vec<&str> = rule.references.iter().map(String::as_str).collect();
    policy::complete(
        &mut f,
        &CheckInfo {
            open_severity: rule.severity,
            remediation: &rule.remediation,
            references: &references,
        },
    );
    f
}

/// Sends the probes' requests for one base path, with a shared cache, recording every
/// exchange in the endpoint's trace and, per evaluation, in `log` for the finding.
struct SiteFetcher<'a> {
    http: &'a HttpClient,
    base: &'a url::Url,
    base_path: String,
    cache: HashMap<Request, Fetched>,
    log: Vec<Evidence>,
    trace: &'a mut super::trace::Trace,
    decoy: String,
}

impl SiteFetcher<'_> {
    /// Puts the `GET /` the HTTP probe already sent into the cache.
    fn seed_root(&mut self, root: &HttpReply) {
        let request = Request {
            method: "GET".into(),
            path: "/".into(),
            headers: Vec::new(),
            body: None,
            content_type: None,
            basic_auth: None,
            max_body: 64 << 10,
            send_cookies: false,
            shown: "GET /".into(),
        };
        self.cache
            .insert(request, Fetched::Reply(Arc::new(to_reply(root))));
    }

    fn shown(&self, request: &Request) -> String {
        // `shown` is relative to the base: `GET /api/health`; evidence names the full path.
        let base = self.base_path.trim_end_matches('/');
        match request.shown.split_once(' ') {
            Some((method, rest)) => format!("{method} {base}{rest}"),
            None => request.shown.clone(),
        }
    }
}

/// The same request as a cache key, whatever its `max_body` (the biggest cap wins).
fn same(a: &Request, b: &Request) -> bool {
    a.method == b.method
        && a.path == b.path
        && a.headers == b.headers
        && a.body == b.body
        && a.basic_auth == b.basic_auth
}

impl Fetcher for SiteFetcher<'_> {
    async fn fetch(&mut self, request: &Request) -> Fetched {
        let shown = self.shown(request);
        if let Some(cached) = self
            .cache
            .iter()
            .find(|(key, _)| same(key, request) && key.max_body >= request.max_body)
            .map(|(_, fetched)| fetched.clone())
        {
            self.log.push(Evidence::new(shown, facts(&cached)));
            return cached;
        }
        let basic = request
            .basic_auth
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()));
        let outgoing = Outgoing {
            method: &request.method,
            path: &request.path,
            headers: &request.headers,
            body: request.body.as_deref(),
            content_type: request.content_type.as_deref(),
            basic_auth: basic,
            max_body: request.max_body,
        };
        let fetched = match self.http.send(self.base, &outgoing).await {
            Ok(reply) => Fetched::Reply(Arc::new(to_reply(&reply))),
            Err(error) => Fetched::Failed(error.to_string()),
        };
        let facts = facts(&fetched);
        self.trace.record(shown.clone(), facts.clone());
        self.log.push(Evidence::new(shown, facts));
        if self.cache.len() < MAX_CACHED {
            self.cache.insert(request.clone(), fetched.clone());
        }
        fetched
    }

    fn decoy_path(&self) -> String {
        self.decoy.clone()
    }
}

/// The facts evidence shows of a reply: status, type, size and the headers products are
/// told apart by.
fn facts(fetched: &Fetched) -> String {
    let reply = match fetched {
        Fetched::Failed(why) => return clip(why, 200),
        Fetched::Reply(reply) => reply,
    };
    let header = |name: &str| reply.header_value(name);
    let mut facts = format!("HTTP {}", reply.status);
    if let Some(kind) = header("content-type") {
        facts.push_str(&format!(" {}", clip(kind, 60)));
    }
    facts.push_str(&format!(
        ", {} bytes{}",
        reply.body.len(),
        if reply.truncated { " (cut)" } else { "" }
    ));
    for name in ["server", "www-authenticate", "location"] {
        if let Some(value) = header(name) {
            facts.push_str(&format!(", {name}: {}", clip(value, 80)));
        }
    }
    facts
}

/// The reply as the rules engine reads it: lowercase header names, values as text.
fn to_reply(reply: &HttpReply) -> Reply {
    let headers = reply
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Reply {
        status: reply.status,
        headers,
        body: reply.body.clone(),
        truncated: reply.truncated,
    }
}
