//! `--format human`: a compact table of identified services, most severe first, then one
//! summary line such as
//! `2 open (318,000,000 documents, 408 GB), 1 auth-required, 14 endpoints without a known service`.
//! Every server-supplied string is escaped before it reaches the terminal.

use std::io::{self, Write};

use super::Report;
use crate::finding::{Exposure, Finding};
use crate::sanitize::clip;

/// Writes the table (if anything was identified), unknown endpoints, and the summary line.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
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
        for r in std::iter::once(&header).chain(rows.iter()) {
            let mut line = String::new();
            for (w, cell) in widths.iter().zip(r.iter()) {
                line.push_str(&format!("{cell:<w$}  ", w = *w));
            }
            line.push_str(&r[5]);
            writeln!(out, "{}", line.trim_end())?;
        }
        writeln!(out)?;
    }
    for note in &report.unidentified {
        writeln!(out, "unknown  {}  {}", note.endpoint, clip(&note.note, 160))?;
    }
    for note in &report.errors {
        writeln!(out, "error    {}  {}", note.endpoint, clip(&note.note, 160))?;
    }
    writeln!(out, "{}", summary_line(report))
}

fn row(f: &Finding) -> [String; 6] {
    let service = match &f.product {
        Some(product) => format!("{} ({})", f.service, clip(product, 30)),
        None => f.service.clone(),
    };
    let endpoint = if f.tls {
        format!("{} tls", f.endpoint)
    } else {
        f.endpoint.clone()
    };
    [
        f.severity.to_string(),
        f.exposure.to_string(),
        endpoint,
        service,
        f.version
            .as_deref()
            .map_or_else(|| "-".to_string(), |v| clip(v, 24)),
        what(f),
    ]
}

/// The WHAT column: inventory for open services, the reason for the others.
fn what(f: &Finding) -> String {
    let Some(inv) = f
        .inventory
        .as_ref()
        .filter(|_| f.exposure == Exposure::Open)
    else {
        return clip(&f.summary, 120);
    };
    let mut parts = vec![format!(
        "{} {} ({} user)",
        group(inv.total_items),
        plural(&inv.unit),
        group(inv.user_items)
    )];
    if let Some(docs) = inv.total_documents {
        parts.push(format!("{} documents", group(docs)));
    }
    if let Some(size) = inv.total_size_bytes {
        parts.push(bytes(size));
    }
    let mut text = parts.join(", ");
    let mut cats: Vec<&str> = inv
        .items
        .iter()
        .filter(|i| !i.system)
        .flat_map(|i| i.pii_fields.iter().map(|h| h.category.as_str()))
        .collect();
    cats.sort_unstable();
    cats.dedup();
    if !cats.is_empty() {
        text.push_str(&format!("; personal data: {}", cats.join(", ")));
    }
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

fn plural(unit: &str) -> String {
    match unit {
        "index" => "indices".into(),
        other => format!("{other}s"),
    }
}

/// The closing summary line.
pub fn summary_line(report: &Report) -> String {
    let c = &report.counts;
    let exposed = report.exposed();
    let mut open = format!("{} open", c.open);
    if c.open > 0 && (exposed.documents > 0 || exposed.size_bytes > 0) {
        open.push_str(&format!(
            " ({} documents, {})",
            group(exposed.documents),
            bytes(exposed.size_bytes)
        ));
    }
    let without = report.without_service();
    let mut line = format!(
        "{open}, {} auth-required, {without} {} without a known service",
        c.auth_required,
        if without == 1 {
            "endpoint"
        } else {
            "endpoints"
        }
    );
    if report.interrupted {
        line.push_str(&format!(
            " (interrupted after {} of {} endpoints)",
            c.scanned, c.total
        ));
    }
    line
}

/// `318000000` → `318,000,000`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Decimal units, as disk vendors and the issue tracker count: `408 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
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

    #[test]
    fn formats_numbers() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(318_000_000), "318,000,000");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(408_000_000_000), "408 GB");
        assert_eq!(bytes(90_214), "90.2 kB");
    }
}
