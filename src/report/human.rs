//! `--format human`: a compact table of identified services, most severe first, the
//! endpoints that are unknown, silent or failed, then one summary line such as
//! `2 open (318,000,000 documents, 408 GB), 1 auth-required; by severity: 2 critical, 1 info;
//! 14 endpoints: 10 closed, 1 silent; 2.4 s`. With `-v`, every request sent and what
//! answered follows each entry. Every server-supplied string is escaped first.

use std::io::{self, Write};

use super::{Note, Report, plural};
use crate::finding::{Evidence, Exposure, Finding};
use crate::sanitize::clip;

/// Writes the table (if anything was identified), the other endpoints, and the summary.
pub fn write(out: &mut dyn Write, report: &Report, verbose: bool) -> io::Result<()> {
    let findings = report.sorted_findings();
    if !findings.is_empty() {
        let rows: Vec<[String; 6]> = findings.iter().map(|f| row(f)).collect();
        let header = [
            "SEVERITY", "EXPOSURE", "ENDPOINT", "SERVICE", "VERSION", "WHAT",
        ]
        .map(String::from);
        let mut widths = [0usize; 5];
        for r in std::iter::once(&header).chain(rows.iter()) {
            for (w, cell) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |r: &[String; 6]| {
            let mut line = String::new();
            for (w, cell) in widths.iter().zip(r.iter()) {
                line.push_str(&format!("{cell:<w$}  ", w = *w));
            }
            line.push_str(&r[5]);
            line.trim_end().to_string()
        };
        writeln!(out, "{}", line(&header))?;
        for (r, finding) in rows.iter().zip(&findings) {
            writeln!(out, "{}", line(r))?;
            if verbose {
                if let Some(address) = &finding.address {
                    writeln!(out, "    address {address}")?;
                }
                writeln!(out, "    check {}", clip(&finding.check, 80))?;
                if let Some(fix) = &finding.remediation {
                    writeln!(out, "    fix: {}", clip(fix, 400))?;
                }
                write_evidence(out, &finding.evidence)?;
            }
        }
        writeln!(out)?;
    }
    let lists = [
        ("unknown", &report.unidentified),
        ("silent ", &report.silent),
        ("error  ", &report.errors),
    ];
    for (label, notes) in lists {
        for note in Report::sorted_notes(notes) {
            write_note(out, label, note, verbose)?;
        }
    }
    for f in &report.resolved {
        writeln!(
            out,
            "resolved  {}  {} (was {} in the baseline)",
            clip(&f.endpoint, 80),
            clip(&f.check, 60),
            f.severity
        )?;
    }
    writeln!(out, "{}", summary_line(report))
}

fn write_note(out: &mut dyn Write, label: &str, note: &Note, verbose: bool) -> io::Result<()> {
    let address = note
        .address
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    writeln!(
        out,
        "{label}  {}{address}  {}",
        clip(&note.endpoint, 80),
        clip(&note.note, 160)
    )?;
    if verbose {
        write_evidence(out, &note.evidence)?;
    }
    Ok(())
}

fn write_evidence(out: &mut dyn Write, evidence: &[Evidence]) -> io::Result<()> {
    for e in evidence {
        let probe = if e.probe.is_empty() {
            String::new()
        } else {
            format!("[{}] ", clip(&e.probe, 20))
        };
        writeln!(
            out,
            "    {probe}{} -> {}",
            clip(&e.request, 200),
            clip(&e.response, 300)
        )?;
    }
    Ok(())
}

fn row(f: &Finding) -> [String; 6] {
    let service = match &f.product {
        Some(product) => format!("{} ({})", f.service, clip(product, 30)),
        None => f.service.clone(),
    };
    let endpoint = clip(&f.endpoint_with_path(), 100);
    let endpoint = if f.tls {
        format!("{endpoint} tls")
    } else {
        endpoint
    };
    [
        f.severity.to_string(),
        f.exposure.to_string(),
        endpoint,
        service,
        f.version
            .as_deref()
            .map_or_else(|| "-".to_string(), |v| clip(v, 24)),
        match super::triage_mark(f) {
            Some(mark) => format!("[{mark}] {}", what(f)),
            None => what(f),
        },
    ]
}

/// The WHAT column: inventory for open services, the reason for the others.
fn what(f: &Finding) -> String {
    let Some(inv) = f
        .inventory
        .as_ref()
        .filter(|_| matches!(f.exposure, Exposure::Open | Exposure::DefaultCredentials))
    else {
        return clip(&f.summary, 120);
    };
    let mut text = inventory_totals(inv, &|s| s.to_string());
    let names: Vec<String> = inv
        .items
        .iter()
        .filter(|i| !i.system)
        .take(3)
        .map(|i| clip(&i.name, 40))
        .collect();
    if !names.is_empty() {
        text.push_str(&format!("; e.g. {}", names.join(", ")));
    }
    text
}

/// An inventory's totals for one line: `12 indices (10 user), 3,400 documents, 2.1 MB;
/// personal data: email, phone`. `escape` renders the server-provided parts (the unit and
/// personal-data categories) for the format at hand.
pub fn inventory_totals(
    inv: &crate::finding::Inventory,
    escape: &dyn Fn(&str) -> String,
) -> String {
    let mut parts = vec![format!(
        "{} {} ({} user)",
        group(inv.total_items),
        escape(&unit(&inv.unit, inv.total_items)),
        group(inv.user_items)
    )];
    if let Some(docs) = inv.total_documents {
        parts.push(format!(
            "{} {}",
            group(docs),
            plural(docs, "document", "documents")
        ));
    }
    if let Some(size) = inv.total_size_bytes {
        parts.push(bytes(size));
    }
    let mut line = parts.join(", ");
    let mut cats: Vec<&str> = inv
        .items
        .iter()
        .filter(|i| !i.system)
        .flat_map(|i| i.pii_fields.iter().map(|h| h.category.as_str()))
        .collect();
    cats.sort_unstable();
    cats.dedup();
    if !cats.is_empty() {
        let cats: Vec<String> = cats.iter().map(|c| escape(c)).collect();
        line.push_str(&format!("; personal data: {}", cats.join(", ")));
    }
    line
}

/// An inventory unit, singular or plural by count: `1 index`, `2 indices`.
pub fn unit(unit: &str, count: u64) -> String {
    match (unit, count) {
        (u, 1) => u.to_string(),
        ("index", _) => "indices".into(),
        (other, _) => format!("{other}s"),
    }
}

/// The closing summary line.
pub fn summary_line(report: &Report) -> String {
    let c = &report.counts;
    let exposed = report.exposed();
    let mut open = format!("{} open", c.open);
    if c.open > 0 && (exposed.documents > 0 || exposed.size_bytes > 0) {
        open.push_str(&format!(
            " ({} {}, {})",
            group(exposed.documents),
            plural(exposed.documents, "document", "documents"),
            bytes(exposed.size_bytes)
        ));
    }
    let mut line = format!("{open}, {} auth-required", c.auth_required);
    if c.default_credentials > 0 {
        line.push_str(&format!(", {} default-credentials", c.default_credentials));
    }
    if c.undetermined > 0 {
        line.push_str(&format!(", {} undetermined", c.undetermined));
    }
    let severities: Vec<String> = report
        .by_severity()
        .pairs()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if !severities.is_empty() {
        line.push_str(&format!("; by severity: {}", severities.join(", ")));
    }
    let others: Vec<String> = [
        (c.closed, "closed"),
        (c.unreachable, "unreachable"),
        (c.silent, "silent"),
        (c.unidentified, "unknown"),
        (c.failed, "failed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    line.push_str(&format!(
        "; {} {}",
        group(c.total as u64),
        plural(c.total as u64, "endpoint", "endpoints")
    ));
    if !others.is_empty() {
        line.push_str(&format!(": {}", others.join(", ")));
    }
    if c.unresolved > 0 {
        line.push_str(&format!(
            "; {} {} not resolved",
            c.unresolved,
            plural(c.unresolved as u64, "name", "names")
        ));
    }
    if let Some(shard) = report.shard {
        line.push_str(&format!("; shard {shard}"));
    }
    if let Some(triage) = super::triage_line(report) {
        line.push_str(&format!("; {triage}"));
    }
    line.push_str(&format!("; {}", seconds(report.duration())));
    if report.interrupted {
        line.push_str(&format!(
            " (interrupted after {} of {} endpoints)",
            c.scanned, c.total
        ));
    }
    line
}

/// `2.4 s`, `0.05 s`, `3 min 12 s`.
fn seconds(duration: std::time::Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 0.1 {
        format!("{secs:.2} s")
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!(
            "{} min {} s",
            duration.as_secs() / 60,
            duration.as_secs() % 60
        )
    }
}

/// `318000000` → `318,000,000`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Decimal units, as disk vendors and the issue tracker count: `408 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{EndpointResult, Outcome};
    use std::time::Duration;

    #[test]
    fn formats_numbers() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(318_000_000), "318,000,000");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(408_000_000_000), "408 GB");
        assert_eq!(bytes(90_214), "90.2 kB");
        assert_eq!(bytes(u64::MAX), "18.4 EB");
        assert_eq!(unit("index", 1), "index");
        assert_eq!(unit("index", 2), "indices");
        assert_eq!(unit("database", 0), "databases");
    }

    fn result(endpoint: &str, outcome: Outcome) -> EndpointResult {
        EndpointResult {
            endpoint: endpoint.into(),
            address: None,
            outcome,
            evidence: vec![Evidence::new(
                "GET /",
                "no complete response before the timeout",
            )],
            elapsed: Duration::ZERO,
            extra: false,
        }
    }

    #[test]
    fn lists_silent_apart_sorted_and_summarises_by_kind() {
        let mut report = Report::new(4, 5);
        for r in [
            result("127.0.0.10:9300", Outcome::Silent),
            result("127.0.0.2:9300", Outcome::Silent),
            result(
                "127.0.0.3:80",
                Outcome::Unidentified("http: HTTP 200, text/html".into()),
            ),
            result("127.0.0.4:1", Outcome::Closed),
            result(
                "127.0.0.5:443",
                Outcome::Failed("https: TLS certificate not trusted".into()),
            ),
        ] {
            if let Some(super::super::Recorded::Note(kind, note)) = report.record(r) {
                report.keep_note(kind, note);
            }
        }
        report.finish(false);
        let mut out = Vec::new();
        write(&mut out, &report, true).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "unknown  127.0.0.3:80  http: HTTP 200, text/html");
        assert_eq!(
            lines[1],
            "    GET / -> no complete response before the timeout"
        );
        assert_eq!(
            lines[2],
            "silent   127.0.0.2:9300  accepted the connection but sent nothing before the timeout"
        );
        assert!(lines[4].starts_with("silent   127.0.0.10:9300"), "{text}");
        assert!(
            lines[6].starts_with("error    127.0.0.5:443  https: TLS"),
            "{text}"
        );
        let summary = lines.last().expect("summary");
        assert!(
            summary.starts_with(
                "0 open, 0 auth-required; 5 endpoints: 1 closed, 2 silent, 1 unknown, 1 failed; "
            ),
            "{summary}"
        );
    }
}
