//! The files of `examples/` agree with each other and with the CLI: every YAML document
//! parses (Python's PyYAML, as GitHub and kubectl are YAML 1.1/1.2 readers), the shards of
//! the sharded workflow and of the Indexed Job are exactly 1..=N, the merges read exactly
//! the files the shards write, the baseline a run saves is the one the next run reads,
//! every `ajar ...` command line parses with [`ajar::cli::Cli`], and the config and target
//! list name loopback addresses only. Nothing here sends a packet.

mod github;
mod kubernetes;
mod loopback;
mod shell;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use clap::Parser;
use serde_json::Value;

/// The directory checked.
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// The Python with PyYAML: `AJAR_PYTHON` (scripts/test.sh points it at the pinned
/// virtualenv), else `python3` from PATH.
fn python() -> String {
    std::env::var("AJAR_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// PyYAML reads `on:` as the boolean true (YAML 1.1); GitHub means the key "on".
const LOAD: &str = "import json,sys,yaml\n\
def keys(v):\n\
\x20   if isinstance(v,dict): return {('on' if k is True else str(k)):keys(x) for k,x in v.items()}\n\
\x20   if isinstance(v,list): return [keys(x) for x in v]\n\
\x20   return v\n\
out={p:[keys(d) for d in yaml.safe_load_all(open(p))] for p in sys.argv[1:]}\n\
print(json.dumps(out,default=str))\n";

/// Every `.yml`/`.yaml` file under examples/ (path relative to it) with its documents as
/// JSON. `None` when python3 or PyYAML is missing: skipped locally, a failure under CI=true.
fn yaml() -> Option<BTreeMap<String, Vec<Value>>> {
    let probe = Command::new(python())
        .args(["-c", "import yaml"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but python3 with PyYAML is missing: cannot check examples/"
        );
        eprintln!("python3 PyYAML missing: examples/ checks skipped");
        return None;
    }
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(EXAMPLES).to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read examples/") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path);
            }
        }
    }
    let out = Command::new(python())
        .args(["-c", LOAD])
        .args(&files)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "YAML does not parse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: BTreeMap<String, Vec<Value>> =
        serde_json::from_slice(&out.stdout).expect("PyYAML output is JSON");
    let prefix = format!("{EXAMPLES}/");
    Some(
        parsed
            .into_iter()
            .map(|(p, docs)| (p.strip_prefix(&prefix).unwrap_or(&p).to_string(), docs))
            .collect(),
    )
}

/// `*` and `?` globs, as the shell and actions/download-artifact's `pattern` match names.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| glob(&pattern[1..], &text[i..])),
        Some(p) => {
            text.chars().next().is_some_and(|t| p == '?' || p == t) && {
                let (pn, tn) = (p.len_utf8(), text.chars().next().map_or(1, char::len_utf8));
                glob(&pattern[pn..], &text[tn..])
            }
        }
    }
}

/// The values of `flag` in `words`: `--flag VALUE` and `--flag=VALUE`.
fn values(words: &[String], flag: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if w == flag {
            out.extend(words.get(i + 1).cloned());
        } else if let Some(v) = w.strip_prefix(&format!("{flag}=")) {
            out.push(v.to_string());
        }
    }
    out
}

/// The file arguments of `ajar merge ...`: the words after `merge` before the first flag.
fn merge_inputs(words: &[String]) -> Vec<String> {
    words[2..]
        .iter()
        .take_while(|w| !w.starts_with('-'))
        .cloned()
        .collect()
}

/// Assignments `NAME=VALUE` of a script, by name, in order.
fn assignments(script: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in shell::commands(script, &|_| None) {
        if let [word] = c.as_slice()
            && let Some((name, value)) = word.split_once('=')
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            out.entry(name.to_string())
                .or_default()
                .push(value.to_string());
        }
    }
    out
}

/// GitHub expressions as the shell tests see them: `${{ matrix.shard }}` as `shard`,
/// others as a value no CLI accepts.
fn github(shard: &str) -> impl Fn(&str) -> String {
    move |expr: &str| match expr {
        "matrix.shard" => shard.to_string(),
        _ => format!(
            "UNKNOWN-EXPRESSION[{}]",
            expr.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ),
    }
}

/// The `ajar ...` commands of a script, once per value an assigned variable takes in it
/// (`baseline=""`, then `baseline="--baseline F"`), `${{ matrix.shard }}` as `shard` and
/// `JOB_COMPLETION_INDEX` as `index`.
fn ajar_commands(script: &str, shard: &str, index: usize) -> Vec<Vec<String>> {
    let script = shell::github_expressions(script, &github(shard));
    let assigned = assignments(&script);
    let variants = assigned.values().map(Vec::len).max().unwrap_or(1);
    let mut out = Vec::new();
    for v in 0..variants {
        let vars = |name: &str| match name {
            "JOB_COMPLETION_INDEX" => Some(index.to_string()),
            "?" => Some("0".to_string()),
            _ => assigned
                .get(name)
                .and_then(|vals| vals.get(v.min(vals.len() - 1)).cloned()),
        };
        for c in shell::commands(&script, &vars) {
            if c[0] == "ajar" && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The `run:` scripts of a workflow job.
fn run_scripts(job: &Value) -> Vec<String> {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect()
}

/// The steps of a workflow job (none when it has none).
fn steps(job: &Value) -> &[Value] {
    job["steps"].as_array().map_or(&[], Vec::as_slice)
}

/// The one step of `job` using `action` (`owner/name[/path]`, any version).
fn step<'a>(job: &'a Value, action: &str) -> &'a Value {
    let found: Vec<&Value> = steps(job)
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(action))
        })
        .collect();
    assert_eq!(found.len(), 1, "steps using {action}");
    found[0]
}

/// The pod spec of a CronJob.
fn pod(cronjob: &Value) -> &Value {
    &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

/// The script a container runs: `command: ["/bin/sh", "-c"]` and the script in `args`.
fn container_script(container: &Value) -> String {
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    let args = container["args"].as_array().expect("args");
    assert_eq!(args.len(), 1, "one script");
    args[0].as_str().expect("script").to_string()
}

/// The one CronJob called `name` among `docs`.
fn cronjob<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "CronJob" && d["metadata"]["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "CronJob {name}");
    found[0]
}

/// Where the `reports` volume of a pod is mounted, and its claim.
fn reports_volume(pod: &Value) -> (String, String) {
    let mount = &pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["name"] == "reports")
        .expect("reports mounted")["mountPath"];
    let volume = &pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "reports")
        .expect("reports volume")["persistentVolumeClaim"]["claimName"];
    (
        mount.as_str().expect("path").into(),
        volume.as_str().expect("claim").into(),
    )
}

#[test]
fn every_yaml_document_under_examples_parses() {
    let Some(files) = yaml() else { return };
    let counts: Vec<(&str, usize)> = files.iter().map(|(p, d)| (p.as_str(), d.len())).collect();
    assert_eq!(
        counts,
        [
            ("github-actions/sharded.yml", 1),
            ("github-actions/weekly.yml", 1),
            ("kubernetes/cronjob.yaml", 3),
        ]
    );
}

/// Every `ajar ...` command line of the examples, by file: `run:` scripts of every job
/// (each `${{ matrix.shard }}` as each shard) and the scripts of every container.
fn every_ajar_command(files: &BTreeMap<String, Vec<Value>>) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, docs) in files {
        for doc in docs {
            let mut scripts = Vec::new();
            if let Some(jobs) = doc["jobs"].as_object() {
                scripts.extend(jobs.values().flat_map(run_scripts));
            }
            if doc["kind"] == "CronJob" {
                let containers = pod(doc)["containers"].as_array().expect("containers");
                scripts.extend(containers.iter().map(container_script));
            }
            for script in &scripts {
                for shard in ["1", "4"] {
                    for c in ajar_commands(script, shard, 3) {
                        let c = (path.clone(), c);
                        if !out.contains(&c) {
                            out.push(c);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Fails until `ajar::cli` has what the examples use: `--config`, `--shard`, `-o` more than
/// once, `--baseline`, `--fail-on-new` and `ajar merge`.
#[test]
fn every_ajar_command_in_the_examples_parses_with_the_cli() {
    let Some(files) = yaml() else { return };
    let commands = every_ajar_command(&files);
    let found: Vec<(&str, &str)> = commands
        .iter()
        .map(|(p, c)| (p.as_str(), c[1].as_str()))
        .collect();
    // Shards 1 and 4, without and with a baseline.
    assert_eq!(
        found,
        [
            ("github-actions/sharded.yml", "merge"),
            ("github-actions/sharded.yml", "merge"),
            ("github-actions/sharded.yml", "scan"),
            ("github-actions/sharded.yml", "scan"),
            ("github-actions/weekly.yml", "scan"),
            ("github-actions/weekly.yml", "scan"),
            ("kubernetes/cronjob.yaml", "scan"),
            ("kubernetes/cronjob.yaml", "merge"),
            ("kubernetes/cronjob.yaml", "merge"),
        ]
    );
    let failures: Vec<String> = commands
        .iter()
        .filter_map(|(path, words)| {
            let unset = words
                .iter()
                .find(|w| w.contains("<unset-") || w.contains("UNKNOWN-EXPRESSION"));
            if let Some(w) = unset {
                return Some(format!("{path}: {words:?}: no sample value for {w}"));
            }
            ajar::cli::Cli::try_parse_from(words)
                .err()
                .map(|e| format!("{path}: {}\n{}", words.join(" "), e.render()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_shell_reader_splits_and_expands_as_sh_does() {
    let vars = |name: &str| match name {
        "i" => Some("2".to_string()),
        "two" => Some("--baseline b.json".to_string()),
        "none" => Some(String::new()),
        _ => None,
    };
    let script = "# a comment\nexec ajar scan 'a b' \"c $two\" $two $none \\\n  --shard $((i + 1))/4 2>&1 >> \"$out\" || code=$?\nif [ -f x ]; then y; fi";
    let got = shell::commands(script, &vars);
    let want: Vec<Vec<&str>> = vec![
        vec![
            "ajar",
            "scan",
            "a b",
            "c --baseline b.json",
            "--baseline",
            "b.json",
            "--shard",
            "3/4",
        ],
        vec!["code=<unset-$?>"],
        vec!["[", "-f", "x", "]"],
        vec!["y"],
        vec!["fi"],
    ];
    assert_eq!(got, want);
    assert_eq!(
        shell::arithmetic("JOB_COMPLETION_INDEX + 1", &|_| Some("3".into())),
        4
    );
    assert_eq!(
        shell::github_expressions("a ${{ matrix.shard }}/4 ${{x}}", &|e| format!("<{e}>")),
        "a <matrix.shard>/4 <x>"
    );
    assert!(glob("shard-*", "shard-12") && !glob("shard-*", "ajar-report"));
}
