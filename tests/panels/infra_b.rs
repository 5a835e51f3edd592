//! NATS monitoring, ZooKeeper AdminServer, Hadoop HDFS and YARN, Airflow and RabbitMQ
//! management: each probe against its product's captured or documented replies (fixtures
//! in `tests/fixtures/panels/<id>/`, sources in each folder's SOURCES.md), its protected
//! variants, and look-alikes that no shipped probe may report open.

mod airflow;
mod hadoop;
mod nats;
mod rabbitmq;
mod zookeeper;

use ajar::finding::Exposure;
use ajar::rules::{EvalOptions, Evaluation, Identified, Replay, Reply, RuleSet, evaluate};

fn options() -> EvalOptions {
    EvalOptions {
        default_credentials: false,
        max_items: 1000,
    }
}

fn with_credentials() -> EvalOptions {
    EvalOptions {
        default_credentials: true,
        ..options()
    }
}

/// A fixture file's text, by `<id>/<file>` under tests/fixtures/panels.
fn fx(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/panels/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn json(name: &str) -> Reply {
    Reply::json(&fx(name))
}

/// Runs the shipped probe `id` and returns the evaluation and the requests sent. Without
/// default credentials, asserts that only GET/HEAD went out and none carried credentials.
async fn run(id: &str, mut replay: Replay, opts: &EvalOptions) -> (Evaluation, Replay) {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let rule = rules.get(id).expect("probe is shipped");
    let evaluation = evaluate(rule, &mut replay, opts).await;
    if !opts.default_credentials {
        for r in replay.requests() {
            assert!(
                matches!(r.method.as_str(), "GET" | "HEAD"),
                "{id} sent {}",
                r.shown
            );
            assert!(r.basic_auth.is_none(), "{id} sent credentials: {}", r.shown);
        }
    }
    (evaluation, replay)
}

async fn identified(id: &str, replay: Replay, opts: &EvalOptions) -> (Identified, Replay) {
    match run(id, replay, opts).await {
        (Evaluation::Identified(found), replay) => (found, replay),
        (other, _) => panic!("{id} not identified: {other:?}"),
    }
}

fn detail<'a>(found: &'a Identified, name: &str) -> Option<&'a str> {
    found
        .details
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn names(found: &Identified) -> Vec<&str> {
    let inventory = found.inventory.as_ref().expect("an inventory");
    inventory.items.iter().map(|d| d.name.as_str()).collect()
}

/// Every shipped probe against a look-alike (a fresh replay each): none may call it open or
/// report default credentials, with or without `--default-credentials`.
async fn no_probe_opens(make: impl Fn() -> Replay) {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    assert!(!rules.is_empty());
    for opts in [options(), with_credentials()] {
        for rule in rules.iter() {
            let mut replay = make();
            let evaluation = evaluate(rule, &mut replay, &opts).await;
            if let Evaluation::Identified(found) = &evaluation {
                assert!(
                    !matches!(
                        found.exposure,
                        Some(Exposure::Open | Exposure::DefaultCredentials)
                    ),
                    "{} reports the look-alike as {:?}: {}",
                    rule.id,
                    found.exposure,
                    found.summary
                );
            }
        }
    }
}
