//! Rule sets: shipped probes compile, a directory adds and replaces, broken files and an
//! unreadable directory are errors with places.

use std::path::PathBuf;

use super::*;
use crate::rules::{RuleSet, Source};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ajar-rules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

#[test]
fn every_shipped_probe_compiles() {
    if let Err(errors) = RuleSet::shipped() {
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("shipped probes do not compile:\n{}", shown.join("\n"));
    }
}

#[test]
fn a_directory_adds_probes_and_reports_broken_ones() {
    let dir = temp_dir("dir");
    std::fs::write(dir.join("docker-engine.toml"), DOCKER).expect("write");
    std::fs::write(dir.join("broken.toml"), "id = \"broken\"\nname = 1\n").expect("write");
    std::fs::write(dir.join("notes.txt"), "not a probe").expect("write");
    let (set, errors) = RuleSet::with_dir(&dir);
    let shipped = RuleSet::shipped().map(|s| s.len()).unwrap_or(0);
    let replaced = RuleSet::shipped().is_ok_and(|s| s.get("docker-engine").is_some());
    assert_eq!(set.len(), shipped + usize::from(!replaced));
    let docker = set.get("docker-engine").expect("the dir probe");
    assert_eq!(docker.source, Source::File(dir.join("docker-engine.toml")));
    assert_eq!(
        docker.source.to_string(),
        dir.join("docker-engine.toml").display().to_string()
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].file,
        dir.join("broken.toml").display().to_string()
    );
    assert_eq!((errors[0].line, errors[0].column), (2, 8));
    assert_eq!(errors[0].field, "name");
    assert!(
        set.for_port(2375)
            .first()
            .is_some_and(|r| r.id == "docker-engine")
    );
    assert!(set.ports().contains(&2376));
    let ids: Vec<&str> = set.iter().map(|r| r.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreadable_directory_is_one_error_at_line_zero() {
    let dir = temp_dir("missing").join("absent");
    let (set, errors) = RuleSet::with_dir(&dir);
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (0, 0));
    assert!(errors[0].to_string().starts_with(&format!(
        "{}:0:0: cannot read the probe directory",
        dir.display()
    )));
    assert_eq!(set.len(), RuleSet::shipped().map(|s| s.len()).unwrap_or(0));
}

#[test]
fn rules_say_what_they_can_report() {
    let docker = rule(DOCKER, "docker-engine.toml");
    assert_eq!(
        docker.check_ids(),
        vec![
            "docker-engine-open",
            "docker-engine-auth-required",
            "docker-engine-undetermined"
        ]
    );
    assert!(!docker.has_credentials());
    assert_eq!(docker.mounts, vec!["/"]);
    assert_eq!(docker.severity, crate::finding::Severity::Critical);
    assert_eq!(docker.source, Source::Shipped);
}

#[test]
fn the_format_reference_example_compiles_and_runs() {
    let readme = include_str!("../../../probes/README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("its end");
    let docker = rule(&readme[start..end], "docker-engine.toml");
    let mut replay = Replay::new()
        .at("/version", crate::rules::Reply::json(DOCKER_VERSION))
        .at(
            "/containers/json?all=1&limit=1000",
            crate::rules::Reply::json(DOCKER_CONTAINERS),
        );
    let found = identified(run(&docker, &mut replay, &EvalOptions::default()));
    assert_eq!(found.check, "docker-engine-open");
    assert_eq!(
        found.summary,
        "Docker Engine 19.03.12 answers without credentials: 2 containers"
    );
    assert_eq!(found.inventory.map(|i| i.total_items), Some(2));
}
