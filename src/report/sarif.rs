//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it, so a scheduled job can
//! upload ajar's findings next to a repository's other alerts.
//!
//! One run, one rule per check id that appears (its help carries the remediation and
//! references), one result per finding. A result's level follows its severity
//! (critical/high `error`, medium `warning`, low/info `note`); a rule's
//! `security-severity` is that of its most severe result, since GitHub ranks alerts by the
//! rule. Every result is located at its endpoint as a URI (`tcp://127.0.0.1:6379`, or the
//! HTTP URL probed) with line 1, because GitHub requires a physical location, and carries
//! a fingerprint of its check id and endpoint that stays the same across runs, so an alert
//! is tracked rather than reopened every night.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::Report;
use crate::finding::{BaselineState, Exposure, Finding, Severity};

/// The schema URI written in `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where users learn about the tool (`tool.driver.informationUri`).
pub const INFORMATION_URI: &str = "https://crates.io/crates/ajar";

/// The `partialFingerprints` key; bump the suffix if the fingerprint input ever changes.
pub const FINGERPRINT_KEY: &str = "ajarEndpointCheck/v1";

/// SARIF `level` of a severity: critical/high `error`, medium `warning`, low/info `note`.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score of a severity, as the string number it expects.
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The stable fingerprint of a finding: hex SHA-256 of its check id and endpoint (with an
/// HTTP base path), the same in every run that finds it, whatever else changed.
pub fn fingerprint(f: &Finding) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, f.key().as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The location URI of a finding: the HTTP URL probed, else `tcp://host:port`.
pub fn location_uri(f: &Finding) -> String {
    match &f.url {
        Some(url) => url.clone(),
        None => format!("tcp://{}", f.endpoint),
    }
}

/// The product name of a native service, else the service id (data-driven probes).
fn product_name(service: &str) -> String {
    crate::probe::registry::NATIVE
        .iter()
        .flat_map(|p| p.services.iter())
        .find(|s| s.id == service)
        .map_or_else(|| service.to_string(), |s| s.name.to_string())
}

/// How ajar tells open from protected for a native service, if it is one.
fn check_text(service: &str) -> Option<&'static str> {
    crate::probe::registry::NATIVE
        .iter()
        .flat_map(|p| p.services.iter())
        .find(|s| s.id == service)
        .map(|s| s.check)
}

/// `elasticsearch-open` → `ElasticsearchOpen`: the rule's name for people.
fn rule_name(check: &str) -> String {
    check
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// What a verdict means, in a few words.
fn verdict_words(exposure: Exposure) -> &'static str {
    match exposure {
        Exposure::Open => "answers without credentials and lists its data",
        Exposure::DefaultCredentials => "accepts its well-known default login",
        Exposure::AuthRequired => "is reachable and asks for credentials",
        Exposure::Undetermined => "is reachable, but whether it needs credentials is unclear",
    }
}

/// One rule, from the first (most severe) finding of its check and the worst severity.
fn rule(f: &Finding, worst: Severity) -> Value {
    let product = product_name(&f.service);
    let short = format!("{product} {}", verdict_words(f.exposure));
    let mut full = format!(
        "{short}. ajar identified the service on the network and judged its access from \
         the product's own answers (verdict: {}).",
        f.exposure
    );
    if let Some(check) = check_text(&f.service) {
        full.push_str(&format!(" How it is judged: {check}"));
    }
    let todo = match (&f.remediation, f.exposure) {
        (Some(r), _) => r.clone(),
        (None, Exposure::AuthRequired) => {
            "Nothing is readable without credentials. Keep the service off networks that do \
             not need it and its credentials strong."
                .to_string()
        }
        (None, _) => "Require authentication and restrict who can reach the service.".into(),
    };
    let mut text = todo.clone();
    let mut markdown = todo;
    if !f.references.is_empty() {
        text.push_str("\n\nReferences:");
        markdown.push_str("\n\n**References**\n");
        for r in &f.references {
            text.push_str(&format!("\n- {r}"));
            markdown.push_str(&format!("\n- <{r}>"));
        }
    }
    let mut rule = json!({
        "id": f.check,
        "name": rule_name(&f.check),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": text, "markdown": markdown },
        "defaultConfiguration": { "level": level(worst) },
        "properties": {
            "tags": ["security", "exposure", f.service.as_str(), f.exposure.as_str()],
            "security-severity": security_severity(worst),
        },
    });
    if let Some(uri) = f.references.first() {
        rule["helpUri"] = json!(uri);
    }
    rule
}

/// One result for a finding; `rule_index` is its rule's place in `rules`.
fn result(f: &Finding, rule_index: usize) -> Value {
    let mut properties = json!({
        "service": f.service,
        "exposure": f.exposure.as_str(),
        "severity": f.severity.as_str(),
        "endpoint": f.endpoint,
        "tls": f.tls,
    });
    if let Some(version) = &f.version {
        properties["version"] = json!(version);
    }
    if let Some(product) = &f.product {
        properties["product"] = json!(product);
    }
    let mut result = json!({
        "ruleId": f.check,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": f.summary },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": location_uri(f) },
                "region": { "startLine": 1 },
            },
        }],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint(f) },
        "properties": properties,
    });
    // SARIF's own words for a baseline comparison: new, unchanged, updated (worse).
    if let Some(state) = f.triage.baseline {
        result["baselineState"] = json!(match state {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Escalated => "updated",
            BaselineState::Resolved | BaselineState::Unverified => "absent",
        });
    }
    // An unexpired accepted finding is an external suppression with its justification;
    // an expired one is not suppressed.
    if let Some(accepted) = f.triage.accepted.as_ref().filter(|a| !a.expired) {
        let mut justification = accepted.reason.clone();
        if let Some(expires) = &accepted.expires {
            justification.push_str(&format!(" (accepted until {expires}, {})", accepted.source));
        }
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": justification,
        }]);
    }
    result
}

/// The whole SARIF log of a report: rules by check id, results most severe first.
pub fn log(report: &Report) -> Value {
    let findings = report.sorted_findings();
    // Check id → (first finding, worst severity); sorted by id for a stable rule order.
    let mut checks: BTreeMap<&str, (&Finding, Severity)> = BTreeMap::new();
    for f in &findings {
        checks
            .entry(f.check.as_str())
            .and_modify(|(_, worst)| *worst = (*worst).max(f.severity))
            .or_insert((f, f.severity));
    }
    let index: BTreeMap<&str, usize> = checks.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rules: Vec<Value> = checks.values().map(|(f, worst)| rule(f, *worst)).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| result(f, index.get(f.check.as_str()).copied().unwrap_or(0)))
        .collect();
    let finished = report.finished.unwrap_or_else(std::time::SystemTime::now);
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "ajar",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                },
            },
            "invocations": [{
                "executionSuccessful": !report.interrupted && report.incomplete_reasons().is_empty(),
                "startTimeUtc": crate::time::rfc3339(report.started),
                "endTimeUtc": crate::time::rfc3339(finished),
            }],
            "results": results,
        }],
    })
}

/// Writes the SARIF log as pretty JSON and a newline, server text escaped as in JSON.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    crate::sanitize::to_json_pretty(&mut *out, &log(report))?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: &str, endpoint: &str, severity: Severity, exposure: Exposure) -> Finding {
        Finding {
            triage: Default::default(),
            endpoint: endpoint.into(),
            address: None,
            url: None,
            tls: false,
            service: "redis".into(),
            check: check.into(),
            product: None,
            version: Some("7.2.4".into()),
            exposure,
            severity,
            summary: "INFO keyspace answered".into(),
            details: Vec::new(),
            evidence: Vec::new(),
            inventory: None,
            remediation: Some("Set requirepass.".into()),
            references: vec![
                "https://redis.io/docs/latest/operate/oss_and_stack/management/security/".into(),
            ],
        }
    }

    #[test]
    fn levels_and_scores_follow_severity() {
        let got: Vec<(&str, &str)> = Severity::ALL
            .iter()
            .map(|s| (level(*s), security_severity(*s)))
            .collect();
        assert_eq!(
            got,
            [
                ("note", "0.0"),
                ("note", "3.0"),
                ("warning", "5.5"),
                ("error", "8.0"),
                ("error", "9.5"),
            ]
        );
    }

    #[test]
    fn fingerprint_is_sha256_of_check_and_endpoint() {
        let a = finding(
            "redis-open",
            "127.0.0.1:6379",
            Severity::High,
            Exposure::Open,
        );
        // printf 'redis-open\n127.0.0.1:6379' | sha256sum
        assert_eq!(
            fingerprint(&a),
            "c89eb1af6fcd17e602d511f2938f4be88746f83f39e4501d9d39081e4114d216"
        );
        let mut b = a.clone();
        b.severity = Severity::Critical;
        b.summary = "other".into();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.endpoint = "127.0.0.1:6380".into();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(location_uri(&a), "tcp://127.0.0.1:6379");
    }

    #[test]
    fn one_rule_per_check_at_its_worst_severity() {
        let mut report = Report::new(1, 3);
        report.keep(finding(
            "redis-open",
            "127.0.0.1:2",
            Severity::Medium,
            Exposure::Open,
        ));
        report.keep(finding(
            "redis-open",
            "127.0.0.1:1",
            Severity::High,
            Exposure::Open,
        ));
        let mut auth = finding(
            "redis-auth-required",
            "127.0.0.1:3",
            Severity::Info,
            Exposure::AuthRequired,
        );
        auth.remediation = None;
        auth.references.clear();
        report.keep(auth);
        let log = log(&report);
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(ids, ["redis-auth-required", "redis-open"]);
        assert_eq!(rules[1]["properties"]["security-severity"], "8.0");
        assert_eq!(rules[1]["name"], "RedisOpen");
        assert_eq!(
            rules[1]["helpUri"],
            "https://redis.io/docs/latest/operate/oss_and_stack/management/security/"
        );
        assert!(rules[0].get("helpUri").is_none());
        assert_eq!(rules[0]["properties"]["security-severity"], "0.0");
        let results: Vec<(&str, &str, u64)> = run["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap_or(""),
                    r["level"].as_str().unwrap_or(""),
                    r["ruleIndex"].as_u64().unwrap_or(99),
                )
            })
            .collect();
        assert_eq!(
            results,
            [
                ("redis-open", "error", 1),
                ("redis-open", "warning", 1),
                ("redis-auth-required", "note", 0)
            ]
        );
    }
}
