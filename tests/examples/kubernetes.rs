//! `examples/kubernetes/cronjob.yaml`: the Indexed Job of shards and the merge CronJob.

use serde_json::{Value, json};

use super::{
    ajar_commands, container_script, cronjob, glob, merge_inputs, pod, reports_volume, shell,
    values, yaml,
};

/// Non-root, read-only root, no privilege escalation, no capability, bounded resources.
fn assert_locked_down(pod: &Value) {
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["restartPolicy"], "Never");
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["image"], "ghcr.io/OWNER/ajar:0.1.0");
    assert_eq!(
        c["securityContext"],
        json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "privileged": false,
            "capabilities": {"drop": ["ALL"]},
        })
    );
    for side in ["requests", "limits"] {
        let r = c["resources"][side].as_object().expect(side);
        let keys: Vec<&String> = r.keys().collect();
        assert_eq!(keys, ["cpu", "memory"], "{side}");
    }
}

#[test]
fn the_indexed_job_scans_shards_1_to_n_and_the_merge_reads_them() {
    let Some(files) = yaml() else { return };
    let docs = &files["kubernetes/cronjob.yaml"];
    let kinds: Vec<&str> = docs
        .iter()
        .map(|d| d["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "CronJob", "CronJob"]);
    assert_eq!(docs[0]["spec"]["accessModes"], json!(["ReadWriteMany"]));

    let scan = cronjob(docs, "ajar-scan");
    assert_eq!(scan["apiVersion"], "batch/v1");
    assert_eq!(scan["spec"]["schedule"], "0 3 * * 1");
    assert_eq!(scan["spec"]["concurrencyPolicy"], "Forbid");
    let job = &scan["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["completionMode"], "Indexed");
    let n = job["completions"].as_u64().expect("completions") as usize;
    assert_eq!(n, 4);
    assert_eq!(job["parallelism"], n);
    assert_locked_down(pod(scan));

    // The shell arithmetic, evaluated for every index Kubernetes gives (0..N).
    let script = container_script(&pod(scan)["containers"][0]);
    let mut shards = Vec::new();
    let mut written = Vec::new();
    for index in 0..n {
        let commands = ajar_commands(&script, "", index);
        assert_eq!(commands.len(), 1, "{commands:?}");
        let c = &commands[0];
        assert_eq!(c[1], "scan");
        assert!(
            !c.iter().any(|w| w.starts_with("--fail-on")),
            "a shard gates"
        );
        let shard = values(c, "--shard");
        assert_eq!(shard.len(), 1);
        let (k, of) = shard[0].split_once('/').expect("K/N");
        assert_eq!(of, n.to_string());
        shards.push(k.parse::<usize>().expect("K"));
        written.extend(values(c, "-o"));
    }
    assert_eq!(shards, (1..=n).collect::<Vec<usize>>());
    let expected: Vec<String> = (1..=n)
        .map(|k| format!("/reports/shard-{k}.json"))
        .collect();
    assert_eq!(written, expected);

    // The merge mounts the same claim at the same place and reads exactly those files.
    let merge = cronjob(docs, "ajar-merge");
    assert_eq!(merge["apiVersion"], "batch/v1");
    assert_eq!(merge["spec"]["concurrencyPolicy"], "Forbid");
    assert_locked_down(pod(merge));
    let volume = reports_volume(pod(scan));
    assert_eq!(volume, ("/reports".to_string(), "ajar-reports".to_string()));
    assert_eq!(reports_volume(pod(merge)), volume);
    let script = container_script(&pod(merge)["containers"][0]);
    let merges = ajar_commands(&script, "", 0);
    assert_eq!(merges.len(), 2, "without and with a baseline: {merges:?}");
    let baselines: Vec<Vec<String>> = merges.iter().map(|c| values(c, "--baseline")).collect();
    assert_eq!(
        baselines,
        [vec![], vec!["/reports/baseline.json".to_string()]]
    );
    for c in &merges {
        assert_eq!(c[1], "merge");
        assert_eq!(values(c, "--fail-on"), ["high"]);
        assert!(c.contains(&"--fail-on-new".to_string()));
        let inputs = merge_inputs(c);
        assert_eq!(inputs, ["/reports/shard-*.json"]);
        for file in &expected {
            assert!(glob(&inputs[0], file), "{inputs:?} miss {file}");
        }
    }
    // The report becomes the next baseline.
    let all = shell::commands(&script, &|_| None);
    let cp: Vec<String> = ["cp", "/reports/report.json", "/reports/baseline.json"]
        .map(String::from)
        .to_vec();
    assert!(all.contains(&cp), "{all:?}");
}
