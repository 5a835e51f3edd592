//! `--format jsonl`: one JSON object per line, tagged by `"type"`. Each finding is written
//! (and flushed) the moment it is known, as `{"type":"result", ...finding}`; the last line
//! is `{"type":"summary", ...}` with the fields of the JSON report minus `results`.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use super::json::JsonReport;
use crate::finding::Finding;

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// Writes one finding as a `result` line and flushes it.
pub fn write_finding(out: &mut dyn Write, finding: &Finding) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &Tagged {
            kind: "result",
            body: finding,
        },
    )?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes the closing `summary` line.
pub fn write_summary(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut summary = JsonReport::from_report(report);
    summary.results.clear();
    let mut value = serde_json::to_value(&summary)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("results");
    }
    serde_json::to_writer(
        &mut *out,
        &Tagged {
            kind: "summary",
            body: &value,
        },
    )?;
    out.write_all(b"\n")
}
