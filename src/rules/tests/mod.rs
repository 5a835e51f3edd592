//! Unit tests of the rules engine: compile errors with their places, evaluation over
//! [`Replay`](super::Replay), and rule sets.
//!
//! Reply bodies here are short excerpts of what the products document; each constant says
//! where its shape comes from. They exercise the engine, not a product probe (those have
//! their fixtures under tests/).

mod compile_errors;
mod credentials;
mod evaluate;
mod features;
mod hostile;
mod set;

use super::{EvalOptions, Evaluation, Fetcher, Identified, Replay, Rule, compile, evaluate};

/// The Docker Engine probe of probes/README.md, with a summary that uses both extractors.
pub(super) const DOCKER: &str = r#"
id = "docker-engine"
name = "Docker Engine API"
service = "docker"
ports = [2375, 2376]
severity = "critical"
references = ["https://docs.docker.com/engine/security/protect-access/"]
remediation = "Require TLS client certificates."

[requests.version]
path = "/version"
headers = { Accept = "application/json" }

[requests.containers]
path = "/containers/json?all=1&limit=1000"

[identify]
matchers = [
  { request = "version", status = [200] },
  { request = "version", json = "/ApiVersion", type = "string" },
  { request = "version", json = "/GoVersion", type = "string" },
]

[[verdict]]
exposure = "open"
check = "docker-engine-open"
summary = "Docker Engine {version} answers without credentials: {containers} containers"
matchers = [
  { request = "containers", status = [200] },
  { request = "containers", json = "", type = "array" },
]

[[verdict]]
exposure = "auth-required"
summary = "Docker Engine refuses the API without a client certificate"
matchers = [ { request = "containers", status = [401, 403] } ]

[[extract]]
name = "version"
request = "version"
json = "/Version"

[[extract]]
name = "containers"
request = "containers"
json = ""
count = true

[inventory]
request = "containers"
unit = "container"
items = ""
name = "/Names/0"
"#;

/// `GET /version` of Docker Engine 19.03.12, trimmed from the SystemVersion example of the
/// Docker Engine API reference (docs.docker.com/engine/api/v1.40/, operation SystemVersion).
pub(super) const DOCKER_VERSION: &str = r#"{"Version":"19.03.12","ApiVersion":"1.40","MinAPIVersion":"1.12","GitCommit":"48a66213fe","GoVersion":"go1.13.14","Os":"linux","Arch":"amd64","KernelVersion":"4.19.76-linuxkit","BuildTime":"2020-07-16T22:18:43.000000000+00:00"}"#;

/// `GET /containers/json`: two containers, trimmed from the ContainerList example of the
/// same reference (only the fields the probe reads, plus Image).
pub(super) const DOCKER_CONTAINERS: &str = r#"[{"Id":"8dfafdbc3a40","Names":["/boring_feynman"],"Image":"ubuntu:latest"},{"Id":"9cd87474be90","Names":["/coolName"],"Image":"ubuntu:latest"}]"#;

/// Compiles a test rule, or fails the test with its errors.
pub(super) fn rule(text: &str, file: &str) -> Rule {
    match compile(text, file) {
        Ok(rule) => rule,
        Err(errors) => {
            let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{file} does not compile:\n{}", shown.join("\n"))
        }
    }
}

/// Evaluates on a fresh runtime.
pub(super) fn run(rule: &Rule, replay: &mut Replay, options: &EvalOptions) -> Evaluation {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(evaluate(rule, replay, options))
}

/// The identified result, or fails the test.
pub(super) fn identified(evaluation: Evaluation) -> Identified {
    match evaluation {
        Evaluation::Identified(found) => found,
        other => panic!("expected Identified, got {other:?}"),
    }
}

/// The (method, path) of every request a replay was asked.
pub(super) fn asked(replay: &Replay) -> Vec<String> {
    replay
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The path of the replay's decoy, as a request line.
pub(super) fn decoy_line(replay: &Replay) -> String {
    format!("GET {}", replay.decoy_path())
}
