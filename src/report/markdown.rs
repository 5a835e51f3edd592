//! `--format markdown`: a report a CI job summary page (`$GITHUB_STEP_SUMMARY`) or a
//! ticket can show as it is: a title with the time and the target count, counts by
//! severity and by exposure, one table row per finding (endpoint, product, version,
//! exposure, severity, what is exposed), then what to do for each check, with its
//! references.
//!
//! Names come from servers, so every server-supplied string goes through [`text`]: control
//! and invisible characters are escaped as in the human format, `&`, `<` and `>` become
//! entities (no HTML reaches the page), and Markdown punctuation (`|`, backticks, `*`,
//! `_`, `[`, `]`, ...) is backslash-escaped, so a hostile name can neither end a table
//! cell nor open a link, an image or a code span. Ordering is that of the other formats:
//! most severe first, then by address.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::human::{group, inventory_totals, summary_line};
use super::{Report, plural};
use crate::finding::{Exposure, Finding};
use crate::sanitize::clip;

/// Data-set names shown per finding in the table.
const NAMES_SHOWN: usize = 3;

/// Characters of one name shown in the table.
const NAME_CHARS: usize = 40;

/// Escapes untrusted text for a Markdown paragraph or table cell, clipped to `max`
/// characters before escaping (see the module documentation).
pub fn text(raw: &str, max: usize) -> String {
    let clipped = clip(raw, max);
    let mut out = String::with_capacity(clipped.len());
    for (i, c) in clipped.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            // `scheme://` would be linked by GitHub's autolinks.
            ':' if clipped[i..].starts_with("://") => out.push_str("\\:"),
            c => out.push(c),
        }
    }
    out
}

/// A reference link: `<https://...>` when it is a plain http(s) URL, else escaped text.
fn link(reference: &str) -> String {
    let plain = (reference.starts_with("https://") || reference.starts_with("http://"))
        && !reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '`'));
    if plain {
        format!("<{reference}>")
    } else {
        text(reference, 300)
    }
}

/// The endpoint cell: `host:port`, an HTTP base path, and `(tls)` over TLS.
fn endpoint(f: &Finding) -> String {
    let cell = text(&f.endpoint_with_path(), 100);
    if f.tls { format!("{cell} (tls)") } else { cell }
}

/// The product cell: the service id and the product detail, if any.
fn product(f: &Finding) -> String {
    match &f.product {
        Some(p) => format!("{} ({})", text(&f.service, 40), text(p, 40)),
        None => text(&f.service, 40),
    }
}

/// The "what is exposed" cell: counts, personal-data categories and the first few user
/// data-set names for open services; the summary for the others.
fn exposed(f: &Finding) -> String {
    let Some(inv) = f
        .inventory
        .as_ref()
        .filter(|_| matches!(f.exposure, Exposure::Open | Exposure::DefaultCredentials))
    else {
        return text(&f.summary, 160);
    };
    let mut cell = inventory_totals(inv, &|s| text(s, 30));
    let users: Vec<_> = inv.items.iter().filter(|i| !i.system).collect();
    if !users.is_empty() {
        let names: Vec<String> = users
            .iter()
            .take(NAMES_SHOWN)
            .map(|i| text(&i.name, NAME_CHARS))
            .collect();
        cell.push_str(&format!("; e.g. {}", names.join(", ")));
        let more = (inv.user_items as usize).max(users.len());
        if more > NAMES_SHOWN {
            cell.push_str(&format!(" and {} more", group((more - NAMES_SHOWN) as u64)));
        }
    }
    cell
}

/// One table row for a finding.
pub fn row(f: &Finding) -> String {
    let version = f
        .version
        .as_deref()
        .map_or_else(|| "-".into(), |v| text(v, 24));
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        endpoint(f),
        product(f),
        version,
        f.exposure,
        f.severity,
        match super::triage_mark(f) {
            Some(mark) => format!("**{}** {}", text(&mark, 60), exposed(f)),
            None => exposed(f),
        }
    )
}

/// Writes the whole report.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let findings = report.sorted_findings();
    let c = &report.counts;
    writeln!(
        out,
        "# ajar scan, {}: {} {}, {} {}\n",
        crate::time::rfc3339(report.started),
        report.targets,
        plural(report.targets as u64, "target", "targets"),
        group(c.total as u64),
        plural(c.total as u64, "endpoint", "endpoints"),
    )?;
    if report.interrupted {
        writeln!(
            out,
            "**Interrupted**: the results are what was found until then.\n"
        )?;
    } else if report.nothing_scanned() {
        writeln!(
            out,
            "**Nothing was scanned**: {}.\n",
            text(&report.why_nothing_scanned(), 300)
        )?;
    } else {
        let incomplete = report.incomplete_reasons();
        if !incomplete.is_empty() {
            writeln!(
                out,
                "**Incomplete**: {}.\n",
                text(&incomplete.join("; "), 300)
            )?;
        }
    }
    writeln!(out, "{}\n", text(&summary_line(report), 1000))?;

    writeln!(out, "| Severity | Findings |\n| --- | ---: |")?;
    for (severity, n) in report.by_severity().pairs() {
        writeln!(out, "| {severity} | {n} |")?;
    }
    writeln!(out, "\n| Exposure | Findings |\n| --- | ---: |")?;
    for (exposure, n) in [
        (Exposure::Open, c.open),
        (Exposure::DefaultCredentials, c.default_credentials),
        (Exposure::Undetermined, c.undetermined),
        (Exposure::AuthRequired, c.auth_required),
    ] {
        writeln!(out, "| {exposure} | {n} |")?;
    }

    writeln!(out, "\n## Findings\n")?;
    if findings.is_empty() {
        writeln!(out, "No known service answered.")?;
    } else {
        write_findings(out, &findings)?;
    }
    write_resolved(out, report)?;
    write_errors(out, report)
}

/// Baseline findings gone since: what the team fixed.
fn write_resolved(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    if report.resolved.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n## Resolved since the baseline\n")?;
    for f in report.resolved.iter().take(ERRORS_SHOWN) {
        writeln!(
            out,
            "- {}: {} (was {})",
            endpoint(f),
            text(&f.check, 80),
            f.severity
        )?;
    }
    if report.resolved.len() > ERRORS_SHOWN {
        writeln!(
            out,
            "- and {} more",
            group((report.resolved.len() - ERRORS_SHOWN) as u64)
        )?;
    }
    Ok(())
}

/// Errors shown at most; the rest are counted.
const ERRORS_SHOWN: usize = 20;

/// The endpoints that could not be probed and the names that did not resolve: a CI
/// reader must see that part of the estate was not checked.
fn write_errors(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    if report.errors.is_empty() {
        return Ok(());
    }
    let errors = Report::sorted_notes(&report.errors);
    writeln!(out, "\n## Not checked\n")?;
    for note in errors.iter().take(ERRORS_SHOWN) {
        writeln!(
            out,
            "- {}: {}",
            text(&note.endpoint, 100),
            text(&note.note, 200)
        )?;
    }
    if errors.len() > ERRORS_SHOWN {
        writeln!(
            out,
            "- and {} more",
            group((errors.len() - ERRORS_SHOWN) as u64)
        )?;
    }
    Ok(())
}

/// The findings table and what to do per check.
fn write_findings(out: &mut dyn Write, findings: &[&Finding]) -> io::Result<()> {
    writeln!(
        out,
        "| Endpoint | Product | Version | Exposure | Severity | What is exposed |\n\
         | --- | --- | --- | --- | --- | --- |"
    )?;
    for f in findings {
        writeln!(out, "{}", row(f))?;
    }

    writeln!(out, "\n## What to do\n")?;
    let mut checks: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        checks.entry(f.check.as_str()).or_default().push(f);
    }
    for (check, list) in checks {
        let first = list[0];
        writeln!(
            out,
            "### {} ({} {})\n",
            text(check, 80),
            list.len(),
            plural(list.len() as u64, "finding", "findings")
        )?;
        let endpoints: Vec<String> = list.iter().take(10).map(|f| endpoint(f)).collect();
        let mut on = endpoints.join(", ");
        if list.len() > 10 {
            on.push_str(&format!(" and {} more", list.len() - 10));
        }
        writeln!(out, "On: {on}\n")?;
        match (&first.remediation, first.exposure) {
            (Some(r), _) => writeln!(out, "{}\n", text(r, 2000))?,
            (None, Exposure::AuthRequired) => writeln!(
                out,
                "Nothing is readable without credentials; keep the service off networks \
                 that do not need it.\n"
            )?,
            (None, _) => writeln!(
                out,
                "Require authentication and restrict who can reach the service.\n"
            )?,
        }
        if !first.references.is_empty() {
            writeln!(out, "References:\n")?;
            for r in &first.references {
                writeln!(out, "- {}", link(r))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_break_a_cell_or_inject_html() {
        assert_eq!(
            text("a|b`c`<img src=x onerror=alert(1)>[x](y)\n", 200),
            "a\\|b\\`c\\`&lt;img src=x onerror=alert(1)&gt;\\[x\\](y)\\\\u{a}"
        );
        assert_eq!(text("logs-2026.11", 200), "logs-2026.11");
        assert_eq!(text("see http://x", 200), "see http\\://x");
        assert_eq!(text("127.0.0.1:9200", 200), "127.0.0.1:9200");
    }

    #[test]
    fn names_that_did_not_resolve_are_listed_as_not_checked() {
        let mut report = Report::new(1, 0);
        report.note_unresolved(&[crate::targets::Unresolved {
            name: "db|<b>x</b>".into(),
            reason: "Name or service not known".into(),
        }]);
        report.finish(false);
        let mut out = Vec::new();
        write(&mut out, &report).expect("write");
        let md = String::from_utf8(out).expect("utf-8");
        assert!(
            md.contains("**Nothing was scanned**: 1 name did not resolve.\n"),
            "{md}"
        );
        assert!(
            md.ends_with(
                "## Findings\n\nNo known service answered.\n\n## Not checked\n\n\
                 - db\\|&lt;b&gt;x&lt;/b&gt;: cannot resolve: Name or service not known\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn references_link_only_plain_urls() {
        assert_eq!(
            link("https://redis.io/docs/security/"),
            "<https://redis.io/docs/security/>"
        );
        assert_eq!(link("https://x/<script>"), "https\\://x/&lt;script&gt;");
    }
}
