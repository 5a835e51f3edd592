//! Docker Engine, Docker Registry, Kubernetes API, kubelet, Consul, Prometheus and MinIO:
//! each shipped probe against its product's documented or captured replies (fixture files
//! under `tests/fixtures/panels/<id>/`, sources in each folder's SOURCES.md), replayed with
//! no network. Every test checks the exact verdict, check id, version and inventory, and
//! that only GET/HEAD requests went out; every look-alike is run through all shipped
//! probes, none of which may call it open.

use ajar::finding::Exposure;
use ajar::rules::{EvalOptions, Evaluation, Fetcher, Identified, Replay, Reply, RuleSet, evaluate};

fn options() -> EvalOptions {
    EvalOptions {
        default_credentials: false,
        max_items: 1000,
    }
}

/// A reply from a fixture file: the status line, headers, a blank line, the body as sent.
fn capture(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .expect("fixture starts with a status line");
    lines.fold(Reply::new(status, body), |reply, line| {
        let (name, value) = line.split_once(':').expect("fixture header line");
        reply.header(name.trim(), value.trim())
    })
}

/// The reply recorded in `tests/fixtures/panels/<dir>/<file>`.
macro_rules! fx {
    ($dir:literal, $file:literal) => {
        capture(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/panels/",
            $dir,
            "/",
            $file
        )))
    };
}

/// The path the replay's decoy request asks for.
fn decoy() -> String {
    Replay::new().decoy_path()
}

async fn run(id: &str, replay: &mut Replay) -> Evaluation {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let rule = rules.get(id).expect("the probe is shipped");
    let evaluation = evaluate(rule, replay, &options()).await;
    assert_read_only(replay);
    evaluation
}

async fn identified(id: &str, replay: &mut Replay) -> Identified {
    match run(id, replay).await {
        Evaluation::Identified(found) => found,
        other => panic!("{id} not identified: {other:?}"),
    }
}

/// Without `--default-credentials` only GET and HEAD go out, never with credentials.
fn assert_read_only(replay: &Replay) {
    for request in replay.requests() {
        assert!(
            matches!(request.method.as_str(), "GET" | "HEAD"),
            "{}",
            request.shown
        );
        assert_eq!(request.basic_auth, None, "{}", request.shown);
    }
}

/// The inventory's unit, total, user items and names, sorted by name.
fn inventory(found: &Identified) -> (String, u64, u64, Vec<String>) {
    let inv = found.inventory.as_ref().expect("an inventory");
    let mut names: Vec<String> = inv.items.iter().map(|d| d.name.clone()).collect();
    names.sort();
    (inv.unit.clone(), inv.total_items, inv.user_items, names)
}

fn detail<'a>(found: &'a Identified, name: &str) -> Option<&'a str> {
    found
        .details
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Every path the replay was asked for, sorted (a path asked twice shows twice).
fn paths(replay: &Replay) -> Vec<String> {
    let mut paths: Vec<String> = replay.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    paths
}

fn sorted(paths: &[&str]) -> Vec<String> {
    let mut paths = strings(paths);
    paths.sort();
    paths
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Runs every shipped probe against a fresh copy of `make()`: none may call it open or
/// reachable with default credentials.
async fn assert_no_probe_grants_access(make: impl Fn() -> Replay) {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    for rule in rules.iter() {
        let mut replay = make();
        if let Evaluation::Identified(found) = evaluate(rule, &mut replay, &options()).await {
            assert!(
                !matches!(
                    found.exposure,
                    Some(Exposure::Open | Exposure::DefaultCredentials)
                ),
                "{} calls a look-alike {:?}: {}",
                rule.id,
                found.exposure,
                found.summary
            );
        }
        assert_read_only(&replay);
    }
}

#[test]
fn every_probe_of_this_family_is_shipped_with_its_checks() {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    for id in [
        "docker-engine",
        "docker-registry",
        "kubernetes-api",
        "kubelet",
        "consul",
        "prometheus",
        "minio",
    ] {
        let rule = rules.get(id).expect("the probe is shipped");
        assert!(
            !rule.references.is_empty() && !rule.remediation.is_empty(),
            "{id}"
        );
        let checks = rule.check_ids();
        assert!(
            checks.contains(&format!("{id}-auth-required")),
            "{id}: {checks:?}"
        );
        assert!(checks.contains(&format!("{id}-open")), "{id}: {checks:?}");
    }
}

// After the helpers and `fx!`, which the per-family modules use.
mod containers;
mod kubernetes;
mod services;
