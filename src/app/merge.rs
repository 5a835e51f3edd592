//! `ajar merge`: the JSON or JSONL reports of the shards of one scan (`--shard K/N`) into the
//! report a single run would have written, judged by the same triage and gates. Shards of
//! one scan must be complete (each K of N once); reports without a shard (scans of
//! separate estates) simply add up.

use std::process::ExitCode;

use super::UsageError;
use super::gate::{self, Judged};
use super::output::Outputs;
use crate::cli::MergeArgs;
use crate::config::ReportSettings;
use crate::report::Report;

/// Runs `ajar merge`.
pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let file = crate::config::find(args.report.config.as_deref(), args.report.no_config)?;
    let settings = ReportSettings::resolve(&args.report, file.as_ref())?;
    let mut triage = gate::triage(&settings)?;
    let mut stored = Vec::new();
    for path in &args.reports {
        stored.push((
            path.display().to_string(),
            gate::read_report(path, "merge")?,
        ));
    }
    let mut report = Report::new(0, 0);
    report.finished = None;
    report.started = std::time::SystemTime::now();
    report.incomplete = shard_gaps(&stored)?;
    // Every shard read the same target lines; separate estates add theirs up.
    let all_shards = stored.iter().all(|(_, s)| s.shard.is_some());
    for (_, s) in &stored {
        report.targets = if all_shards {
            report.targets.max(s.targets)
        } else {
            report.targets + s.targets
        };
    }
    for (name, s) in stored {
        if s.interrupted {
            report
                .incomplete
                .push(format!("{name} was interrupted before it finished"));
        }
        report.absorb(s, |finding| {
            triage.judge(finding);
        });
    }
    if report.finished.is_none() {
        report.finished = Some(std::time::SystemTime::now());
    }
    // Notes of every shard are kept: the failed endpoints and the names that did not
    // resolve are what the merged run could not verify.
    let mut unresolved = Vec::new();
    for note in &report.errors {
        if note.note.starts_with("cannot resolve") {
            unresolved.push(note.endpoint.clone());
        } else {
            triage.endpoint_failed(&note.endpoint);
        }
    }
    (report.resolved, report.unverified) = triage.leftovers(
        report.interrupted,
        |e| {
            let host = e.rsplit_once(':').map_or(e, |(h, _)| h);
            unresolved.iter().any(|u| u == host)
        },
        |_| true,
    );
    report.triage = triage.summary();
    let outputs = Outputs::open(&settings)?;
    let lost = outputs.finish(&report);
    Ok(ExitCode::from(gate::exit_code(
        &report,
        &Judged {
            failing: triage.failing(),
        },
        None,
        &lost,
    )))
}

/// Checks the shards of a merge: one N for all, each K at most once. A K given twice is
/// an error (its endpoints would count twice); a K missing makes the merge incomplete.
fn shard_gaps(
    stored: &[(String, crate::report::stored::StoredReport)],
) -> Result<Vec<String>, UsageError> {
    let shards: Vec<(&str, crate::targets::shard::Shard)> = stored
        .iter()
        .filter_map(|(name, s)| s.shard.map(|sh| (name.as_str(), sh)))
        .collect();
    let Some((_, first)) = shards.first() else {
        return Ok(Vec::new());
    };
    if shards.len() != stored.len() {
        return Err(UsageError(
            "merge: some reports are shards (--shard) and some are not; merge the shards of one scan together".into(),
        ));
    }
    let count = first.count;
    let mut seen = vec![None::<&str>; count as usize];
    for (name, shard) in &shards {
        if shard.count != count {
            return Err(UsageError(format!(
                "merge: {name} is shard {shard}, the others are of {count}"
            )));
        }
        let slot = &mut seen[(shard.index - 1) as usize];
        if let Some(other) = slot {
            return Err(UsageError(format!(
                "merge: {other} and {name} are both shard {shard}"
            )));
        }
        *slot = Some(name);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{count}", i + 1))
        .collect();
    Ok(if missing.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{} missing from the merge: {}",
            if missing.len() == 1 {
                "a shard is"
            } else {
                "shards are"
            },
            missing.join(", ")
        )]
    })
}
