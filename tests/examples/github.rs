//! `examples/github-actions/`: the weekly workflow and the sharded one.

use serde_json::{Value, json};

use super::{ajar_commands, glob, merge_inputs, run_scripts, shell, step, steps, values, yaml};

/// `${{ matrix.shard }}` kept as itself through the shell (no `$` for it to expand).
const SHARD: &str = "MATRIX.SHARD";

/// Owned words, to compare with commands.
fn words<const N: usize>(w: [&str; N]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

/// Every simple command of the job's `run:` scripts, with no variable set.
fn all_commands(job: &Value) -> Vec<Vec<String>> {
    run_scripts(job)
        .iter()
        .flat_map(|s| shell::commands(s, &|_| None))
        .collect()
}

/// The job restores the previous report.json, passes it to `--baseline` only when it
/// exists, gates on new high findings, and saves this run's report.json under the key the
/// next run's restore-keys prefix finds, with SARIF, summary and artifact alongside.
fn assert_gate_and_baseline(job: &Value, key_prefix: &str, subcommand: &str) {
    let restore = step(job, "actions/cache/restore");
    let save = step(job, "actions/cache/save");
    let path = restore["with"]["path"].as_str().expect("restore path");
    assert_eq!(path, "baseline/report.json");
    assert_eq!(save["with"]["path"], path);
    assert_eq!(restore["with"]["restore-keys"], format!("{key_prefix}\n"));
    let key = format!("{key_prefix}${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}");
    assert_eq!(restore["with"]["key"], key.as_str());
    assert_eq!(save["with"]["key"], key.as_str());
    assert_eq!(save["if"], "always() && hashFiles('report.json') != ''");

    // One gate command, seen without a baseline and with it.
    let gates: Vec<Vec<String>> = run_scripts(job)
        .iter()
        .flat_map(|s| ajar_commands(s, "1", 0))
        .collect();
    let baselines: Vec<Vec<String>> = gates.iter().map(|c| values(c, "--baseline")).collect();
    assert_eq!(baselines, [vec![], vec![path.to_string()]]);
    for c in &gates {
        assert_eq!(c[1], subcommand);
        assert_eq!(values(c, "--fail-on"), ["high"]);
        assert_eq!(c.iter().filter(|w| *w == "--fail-on-new").count(), 1);
        assert_eq!(values(c, "-o"), ["ajar.sarif", "report.json", "summary.md"]);
    }
    let all = all_commands(job);
    assert!(all.contains(&words(["[", "-f", path, "]"])), "{all:?}");
    assert!(all.contains(&words(["cp", "report.json", path])), "{all:?}");
    assert!(all.contains(&words(["cat", "summary.md"])), "{all:?}");
    assert!(run_scripts(job).contains(&"cat summary.md >> \"$GITHUB_STEP_SUMMARY\"".to_string()));

    let sarif = step(job, "github/codeql-action/upload-sarif");
    assert_eq!(
        sarif["with"],
        json!({"sarif_file": "ajar.sarif", "category": "ajar"})
    );
    assert_eq!(sarif["if"], "always() && hashFiles('ajar.sarif') != ''");
    let keep = step(job, "actions/upload-artifact");
    assert_eq!(keep["with"]["name"], "ajar-report");
    assert_eq!(keep["with"]["path"], "report.json\nsummary.md\n");
    assert_eq!(keep["if"], "always() && hashFiles('report.json') != ''");
}

/// Triggers, permissions, runner and the versions of the actions: exact.
fn assert_workflow_frame(wf: &Value) {
    assert_eq!(
        wf["on"],
        json!({"schedule": [{"cron": "23 4 * * 1"}], "workflow_dispatch": null})
    );
    assert_eq!(
        wf["permissions"],
        json!({"contents": "read", "security-events": "write"})
    );
    let versions = [
        ("actions/checkout", "v7"),
        ("actions/cache/restore", "v6"),
        ("actions/cache/save", "v6"),
        ("actions/upload-artifact", "v7"),
        ("actions/download-artifact", "v8"),
        ("github/codeql-action/upload-sarif", "v4"),
    ];
    for (name, job) in wf["jobs"].as_object().expect("jobs") {
        assert_eq!(job["runs-on"], json!(["self-hosted", "ajar"]), "job {name}");
        for s in steps(job) {
            if let Some(uses) = s["uses"].as_str() {
                let (action, version) = uses.split_once('@').expect("action@version");
                assert!(
                    versions.contains(&(action, version)),
                    "job {name}: {uses} is not a current major version"
                );
            }
        }
    }
}

#[test]
fn weekly_gates_on_new_findings_and_moves_its_baseline_forward() {
    let Some(files) = yaml() else { return };
    let wf = &files["github-actions/weekly.yml"][0];
    assert_workflow_frame(wf);
    let jobs: Vec<&String> = wf["jobs"].as_object().expect("jobs").keys().collect();
    assert_eq!(jobs, ["scan"]);
    let job = &wf["jobs"]["scan"];
    assert_gate_and_baseline(job, "ajar-baseline-", "scan");
    for c in run_scripts(job)
        .iter()
        .flat_map(|s| ajar_commands(s, "1", 0))
    {
        assert_eq!(&c[..5], ["ajar", "scan", "-q", "-i", "targets.txt"]);
    }
}

#[test]
fn sharded_scans_shards_1_to_n_and_the_merge_reads_every_one() {
    let Some(files) = yaml() else { return };
    let wf = &files["github-actions/sharded.yml"][0];
    assert_workflow_frame(wf);
    let jobs: Vec<&String> = wf["jobs"].as_object().expect("jobs").keys().collect();
    assert_eq!(jobs, ["merge", "scan"]);
    let scan = &wf["jobs"]["scan"];
    assert_eq!(scan["strategy"]["fail-fast"], false);
    let shards: Vec<i64> = scan["strategy"]["matrix"]["shard"]
        .as_array()
        .expect("matrix.shard")
        .iter()
        .map(|v| v.as_i64().expect("a number"))
        .collect();
    let n = shards.len();
    assert_eq!(n, 4);
    assert_eq!(shards, (1..=4).collect::<Vec<i64>>());

    // The scan job: `--shard ${{ matrix.shard }}/N`, one report per shard, and no gate.
    let commands: Vec<Vec<String>> = run_scripts(scan)
        .iter()
        .flat_map(|s| ajar_commands(s, SHARD, 0))
        .collect();
    assert_eq!(commands.len(), 1, "{commands:?}");
    let c = &commands[0];
    assert_eq!(c[1], "scan");
    assert_eq!(values(c, "--shard"), [format!("{SHARD}/{n}")]);
    assert_eq!(values(c, "-o"), [format!("shard-{SHARD}.json")]);
    for gate in ["--fail-on", "--fail-on-new", "--baseline"] {
        assert!(!c.iter().any(|w| w.starts_with(gate)), "shards gate: {c:?}");
    }
    let upload = step(scan, "actions/upload-artifact");
    assert_eq!(upload["if"], "always()");
    assert_eq!(upload["with"]["if-no-files-found"], "error");
    let subst = |text: &Value, k: &str| {
        let text = text.as_str().expect("a string");
        shell::github_expressions(text, &|e| {
            assert_eq!(e, "matrix.shard");
            k.to_string()
        })
    };
    assert_eq!(subst(&upload["with"]["path"], SHARD), values(c, "-o")[0]);

    // The merge job needs the scan and reads every shard-K artifact into one directory.
    let merge = &wf["jobs"]["merge"];
    assert_eq!(merge["needs"], "scan");
    assert_eq!(merge["if"], "${{ !cancelled() }}");
    let download = step(merge, "actions/download-artifact");
    assert_eq!(download["with"]["merge-multiple"], true);
    let pattern = download["with"]["pattern"].as_str().expect("pattern");
    let dir = download["with"]["path"].as_str().expect("path");
    let merges: Vec<Vec<String>> = run_scripts(merge)
        .iter()
        .flat_map(|s| ajar_commands(s, "1", 0))
        .collect();
    assert_eq!(merges.len(), 2, "without and with a baseline: {merges:?}");
    let inputs = merge_inputs(&merges[0]);
    assert_eq!(inputs, ["shards/*.json"]);
    for k in 1..=n {
        let k = k.to_string();
        let name = subst(&upload["with"]["name"], &k);
        assert_eq!(name, format!("shard-{k}"));
        assert!(glob(pattern, &name), "{pattern} misses {name}");
        let file = format!("{dir}/{}", subst(&upload["with"]["path"], &k));
        assert!(
            inputs.iter().any(|g| glob(g, &file)),
            "{inputs:?} miss {file}"
        );
        assert!(
            shell::commands(&run_scripts(merge)[1], &|v| (v == "k").then(|| k.clone()))
                .contains(&words(["[", "!", "-f", &file, "]"])),
            "the merge does not check {file}"
        );
    }
    assert!(
        !glob(pattern, "ajar-report"),
        "{pattern} takes the report too"
    );
    assert_gate_and_baseline(merge, "ajar-sharded-baseline-", "merge");
}
