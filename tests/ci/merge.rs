//! `--shard K/N` and `ajar merge`: N runners scan disjoint parts that together are the
//! whole estate, and the merge of their JSON reports has the results and counts of a
//! single run; a shard missing or given twice is not a silent gap.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;

use super::{Scratch, switchable_es};
use crate::cli::open_es;
use crate::support::cli::{Run, closed_port, stderr, stdout};

/// The parts of a report that must be equal between a single run and a merge: every
/// result with its evidence, the counts, severities and exposed totals. The one request
/// that differs by design is the HTTP probe's random canary path (`GET /ajar-<12 hex>`,
/// which tells a catch-all server from a real product): it is written `GET /ajar-*`.
fn comparable(report: &Value) -> Value {
    let mut report = report.clone();
    for result in report["results"].as_array_mut().into_iter().flatten() {
        for e in result["evidence"].as_array_mut().into_iter().flatten() {
            let request = e["request"].as_str().unwrap_or("");
            if let Some(rest) = request.strip_prefix("GET /ajar-")
                && rest.len() == 12
                && rest.bytes().all(|b| b.is_ascii_hexdigit())
            {
                e["request"] = Value::from("GET /ajar-*");
            }
        }
    }
    serde_json::json!({
        "targets": report["targets"],
        "endpoints": report["endpoints"],
        "severities": report["severities"],
        "exposed": report["exposed"],
        "results": report["results"],
        "unidentified": report["unidentified"],
        "silent": report["silent"],
        "errors": report["errors"],
        "incomplete": report["incomplete"],
    })
}

/// Scans `targets.txt` of `dir` as shards 1/3, 2/3 and 3/3, each to `shard-K.EXT`;
/// returns the file names.
async fn scan_shards(dir: &Scratch, ext: &str) -> Vec<String> {
    let mut files = Vec::new();
    for k in 1..=3 {
        let name = format!("shard-{k}.{ext}");
        let out = Run::new(&["scan", "-q", "-i", "targets.txt", "--shard"])
            .arg(format!("{k}/3"))
            .arg("-o")
            .arg(&name)
            .current_dir(&dir.0)
            .output()
            .await;
        assert_eq!(out.status.code(), Some(0), "shard {k}: {}", stderr(&out));
        files.push(name);
    }
    files
}

/// The done-when: merging the three shard reports of a scan equals the single run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_every_shard_equals_the_single_run() {
    let open = [open_es().await, open_es().await, open_es().await];
    let secured = switchable_es(Arc::new(AtomicBool::new(false))).await;
    let mut lines: Vec<String> = open
        .iter()
        .chain(std::iter::once(&secured))
        .map(|s| format!("127.0.0.1:{}", s.addr.port()))
        .collect();
    for _ in 0..4 {
        lines.push(format!("127.0.0.1:{}", closed_port()));
    }
    let dir = Scratch::new("merge");
    dir.write("targets.txt", &(lines.join("\n") + "\n"));

    let single = Run::new(&["scan", "-q", "-i", "targets.txt", "-o", "single.json"])
        .current_dir(&dir.0)
        .output()
        .await;
    assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));

    // The parts are disjoint and cover every endpoint (--list sends nothing).
    let all: BTreeSet<String> = stdout(
        &Run::new(&["scan", "-i", "targets.txt", "--list"])
            .current_dir(&dir.0)
            .output()
            .await,
    )
    .lines()
    .map(String::from)
    .collect();
    assert_eq!(all.len(), lines.len());
    let mut union = BTreeSet::new();
    for k in 1..=3 {
        let part = Run::new(&["scan", "-i", "targets.txt", "--list", "--shard"])
            .arg(format!("{k}/3"))
            .current_dir(&dir.0)
            .output()
            .await;
        assert_eq!(part.status.code(), Some(0), "{}", stderr(&part));
        for line in stdout(&part).lines() {
            assert!(union.insert(line.to_string()), "{line} is in two shards");
        }
    }
    assert_eq!(union, all);

    let shard_files = scan_shards(&dir, "json").await;
    for (k, name) in shard_files.iter().enumerate() {
        let report = dir.read_json(name);
        assert_eq!(
            report["shard"],
            serde_json::json!({"index": k + 1, "count": 3})
        );
    }
    let mut merge = Run::new(&["merge", "-o", "merged.json"]).current_dir(&dir.0);
    for f in &shard_files {
        merge = merge.arg(f.clone());
    }
    let out = merge.output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let single = dir.read_json("single.json");
    let merged = dir.read_json("merged.json");
    assert_eq!(comparable(&merged), comparable(&single));
    assert_eq!(single["endpoints"]["open"], 3);
    assert_eq!(single["endpoints"]["auth_required"], 1);
    assert_eq!(single["endpoints"]["closed"], 4);

    // Shards that streamed JSONL merge the same, and a JSONL report is a baseline too.
    let mut merge = Run::new(&["merge", "-o", "merged-jsonl.json"]).current_dir(&dir.0);
    for name in scan_shards(&dir, "jsonl").await {
        merge = merge.arg(name);
    }
    let out = merge.output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        comparable(&dir.read_json("merged-jsonl.json")),
        comparable(&single)
    );
    let out = Run::new(&[
        "merge",
        "-f",
        "json",
        "--baseline",
        "shard-1.jsonl",
        "shard-1.json",
    ])
    .current_dir(&dir.0)
    .output()
    .await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "a lone shard of 3 is incomplete: {}",
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["triage"]["new"], 0,
        "the same shard, as its own baseline"
    );
    // A JSONL report cut off before its summary line is not a report.
    // (The shard with the most lines: every one holds a summary, some hold results.)
    let cut = (1..=3)
        .map(|k| std::fs::read_to_string(dir.path(&format!("shard-{k}.jsonl"))).expect("jsonl"))
        .max_by_key(|t| t.lines().count())
        .expect("three shards");
    let cut: Vec<&str> = cut.lines().collect();
    assert!(cut.len() >= 2, "four findings are in some shard");
    let truncated = dir.write("cut.jsonl", &(cut[..cut.len() - 1].join("\n") + "\n"));
    let out = Run::new(&["merge"]).arg(truncated).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no summary line"),
        "{}",
        stderr(&out)
    );

    // A shard missing: the merge is incomplete (3); one given twice: refused (2).
    let out = Run::new(&["merge", "-f", "json"])
        .arg(shard_files[0].clone())
        .arg(shard_files[2].clone())
        .current_dir(&dir.0)
        .output()
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a shard is missing from the merge: 2/3"),
        "{}",
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["incomplete"],
        serde_json::json!(["a shard is missing from the merge: 2/3"])
    );
    let out = Run::new(&["merge"])
        .arg(shard_files[0].clone())
        .arg(shard_files[0].clone())
        .current_dir(&dir.0)
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("are both shard 1/3"),
        "{}",
        stderr(&out)
    );
    // A shard that was cut short (SIGTERM in a cancelled job) makes the merge incomplete.
    let mut cut = dir.read_json(&shard_files[1]);
    cut["interrupted"] = Value::from(true);
    let cut_path = dir.write("cut.json", &cut.to_string());
    let out = Run::new(&["merge", "-f", "json"])
        .arg(shard_files[0].clone())
        .arg(cut_path.clone())
        .arg(shard_files[2].clone())
        .current_dir(&dir.0)
        .output()
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{cut_path} was interrupted before it finished")),
        "{}",
        stderr(&out)
    );
    // Something that is not a report.
    let junk = dir.write("junk.json", "{\"hello\": 1}");
    let out = Run::new(&["merge"]).arg(junk).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an ajar JSON report"),
        "{}",
        stderr(&out)
    );
}

/// More parts than endpoints: a part with nothing in it is a finished, clean run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_shard_is_not_an_incomplete_run() {
    let target = format!("127.0.0.1:{}", closed_port());
    let mut codes = Vec::new();
    for k in 1..=4 {
        let out = Run::new(&["scan", "-q", "-f", "json", "--shard"])
            .arg(format!("{k}/4"))
            .arg(target.clone())
            .output()
            .await;
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        codes.push((out.status.code(), report["endpoints"]["total"].as_u64()));
    }
    let scanned = codes.iter().filter(|(_, total)| *total == Some(1)).count();
    assert_eq!(scanned, 1, "{codes:?}");
    assert!(codes.iter().all(|(code, _)| *code == Some(0)), "{codes:?}");
}
