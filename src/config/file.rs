//! `ajar.toml`: the settings a team keeps next to its targets, read with the same care as
//! a probe file: an unknown key or a bad value is an error naming the file, line, column
//! and key, and nothing is scanned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::finding::Severity;
use crate::report::Format;
use crate::rules::RuleError;
use crate::rules::error::{Field, Locator};
use crate::triage::accept::{AcceptEntry, RawEntry};

/// The largest config file read.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The keys of ajar.toml as written: the long names of `ajar scan`'s flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    targets: Option<Vec<String>>,
    input: Option<Vec<PathBuf>>,
    exclude: Option<Vec<String>>,
    exclude_file: Option<Vec<PathBuf>>,
    ports: Option<String>,
    concurrency: Option<u32>,
    per_host: Option<u32>,
    rate_limit: Option<u32>,
    timeout: Option<String>,
    probe_timeout: Option<String>,
    max_hosts: Option<u64>,
    verify_tls: Option<bool>,
    ca_file: Option<Vec<PathBuf>>,
    probes: Option<PathBuf>,
    strict: Option<bool>,
    default_credentials: Option<bool>,
    format: Option<String>,
    output: Option<Vec<PathBuf>>,
    fail_on: Option<String>,
    fail_on_new: Option<bool>,
    baseline: Option<PathBuf>,
    scope: Option<Vec<String>>,
    scope_file: Option<PathBuf>,
    accept: Option<Vec<RawEntry>>,
    severity: Option<BTreeMap<String, String>>,
}

/// A validated ajar.toml: every value checked, every path made relative to the file's
/// directory, and the line of each key kept for `ajar config`.
#[derive(Debug, Default, Clone)]
pub struct FileConfig {
    /// The file.
    pub path: PathBuf,
    /// Targets, as on the command line.
    pub targets: Option<Vec<String>>,
    /// Target files (`-i`).
    pub input: Option<Vec<PathBuf>>,
    /// Exclusions (`--exclude`).
    pub exclude: Vec<String>,
    /// Exclusion files (`--exclude-file`).
    pub exclude_file: Vec<PathBuf>,
    /// `-p`.
    pub ports: Option<String>,
    /// `-c`.
    pub concurrency: Option<u32>,
    /// `--per-host`.
    pub per_host: Option<u32>,
    /// `--rate-limit`.
    pub rate_limit: Option<u32>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--probe-timeout`.
    pub probe_timeout: Option<Duration>,
    /// `--max-hosts`.
    pub max_hosts: Option<u64>,
    /// `--verify-tls`.
    pub verify_tls: Option<bool>,
    /// `--ca-file`.
    pub ca_file: Vec<PathBuf>,
    /// `--probes`.
    pub probes: Option<PathBuf>,
    /// `--strict`.
    pub strict: Option<bool>,
    /// `--default-credentials`.
    pub default_credentials: Option<bool>,
    /// `-f`.
    pub format: Option<Format>,
    /// `-o`.
    pub output: Option<Vec<PathBuf>>,
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--fail-on-new`.
    pub fail_on_new: Option<bool>,
    /// `--baseline`.
    pub baseline: Option<PathBuf>,
    /// Scope entries written inline.
    pub scope: Option<Vec<String>>,
    /// A scope file.
    pub scope_file: Option<PathBuf>,
    /// Accepted findings.
    pub accept: Vec<AcceptEntry>,
    /// Severity overrides by check id.
    pub severity: Vec<(String, Severity)>,
    /// The line of each top-level key, for `ajar config`.
    pub lines: BTreeMap<String, usize>,
}

/// Reads and validates `path`.
pub fn load(path: &Path) -> Result<FileConfig, RuleError> {
    let file = path.display().to_string();
    let text = read_bounded(path).map_err(|e| RuleError::io(&file, e))?;
    parse(&file, path, &text)
}

fn read_bounded(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut text = String::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!("larger than {} MiB", MAX_CONFIG_BYTES >> 20));
    }
    Ok(text)
}

/// Parses the text of a config file named `file`, found at `path`.
pub fn parse(file: &str, path: &Path, text: &str) -> Result<FileConfig, RuleError> {
    let locator = Locator::new(file, text);
    let raw: Raw = toml::from_str(text).map_err(|e| locator.toml_error(&e))?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let rel = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
    let rel_all = |v: Option<Vec<PathBuf>>| v.map(|v| v.into_iter().map(rel).collect::<Vec<_>>());
    let err = |key: &str, message: String| locator.error(&Field::top(key), message);
    let duration = |key: &str, v: Option<String>| -> Result<Option<Duration>, RuleError> {
        v.map(|t| crate::cli::parse_duration(&t).map_err(|e| err(key, e)))
            .transpose()
    };
    let range = |key: &str, v: Option<u64>, lo: u64, hi: u64| -> Result<(), RuleError> {
        match v {
            Some(n) if n < lo || n > hi => {
                Err(err(key, format!("{n} is out of range ({lo} to {hi})")))
            }
            _ => Ok(()),
        }
    };
    range("concurrency", raw.concurrency.map(u64::from), 1, 20_000)?;
    range("per-host", raw.per_host.map(u64::from), 1, 10_000)?;
    range(
        "rate-limit",
        raw.rate_limit.map(u64::from),
        1,
        u64::from(u32::MAX),
    )?;
    range("max-hosts", raw.max_hosts, 1, crate::cli::MAX_HOSTS)?;
    if let Some(ports) = &raw.ports {
        crate::targets::parse_ports(ports).map_err(|e| err("ports", e))?;
    }
    let format = raw
        .format
        .map(|f| {
            <Format as clap::ValueEnum>::from_str(&f, true).map_err(|_| {
                err(
                    "format",
                    format!("{f:?} is not a format: human, json, jsonl, sarif or markdown"),
                )
            })
        })
        .transpose()?;
    let fail_on = raw
        .fail_on
        .map(|s| s.parse::<Severity>().map_err(|e| err("fail-on", e)))
        .transpose()?;
    if let Some(outputs) = &raw.output {
        for (i, out) in outputs.iter().enumerate() {
            if crate::report::Format::from_path(out).is_none() && format.is_none() {
                return Err(locator.error(
                    &Field::top("output").idx(i),
                    format!(
                        "{}: the extension names no format (.json .jsonl .sarif .md .txt); rename it or set format",
                        out.display()
                    ),
                ));
            }
        }
    }
    let mut severity = Vec::new();
    for (check, value) in raw.severity.unwrap_or_default() {
        let sev = value
            .parse::<Severity>()
            .map_err(|e| locator.error(&Field::top("severity").key(&check), e))?;
        severity.push((check, sev));
    }
    let mut accept = Vec::new();
    for (i, entry) in raw.accept.unwrap_or_default().into_iter().enumerate() {
        let field = Field::top("accept").idx(i);
        let line = locator.error(&field, "").line;
        let source = format!("{file}:{line}");
        accept.push(AcceptEntry::new(entry, source, |key, message| {
            locator.error(&field.key(key), message)
        })?);
    }
    let mut lines = BTreeMap::new();
    if let Some(root) = locator.root() {
        for (key, _) in root.iter() {
            let line = locator.error(&Field::top(key.get_ref()), "").line;
            lines.insert(key.get_ref().to_string(), line);
        }
    }
    Ok(FileConfig {
        path: path.to_path_buf(),
        targets: raw.targets,
        input: rel_all(raw.input),
        exclude: raw.exclude.unwrap_or_default(),
        exclude_file: rel_all(raw.exclude_file).unwrap_or_default(),
        ports: raw.ports,
        concurrency: raw.concurrency,
        per_host: raw.per_host,
        rate_limit: raw.rate_limit,
        timeout: duration("timeout", raw.timeout)?,
        probe_timeout: duration("probe-timeout", raw.probe_timeout)?,
        max_hosts: raw.max_hosts,
        verify_tls: raw.verify_tls,
        ca_file: rel_all(raw.ca_file).unwrap_or_default(),
        probes: raw.probes.map(rel),
        strict: raw.strict,
        default_credentials: raw.default_credentials,
        format,
        output: rel_all(raw.output),
        fail_on,
        fail_on_new: raw.fail_on_new,
        baseline: raw.baseline.map(rel),
        scope: raw.scope,
        scope_file: raw.scope_file.map(rel),
        accept,
        severity,
        lines,
    })
}

/// Reads an accepted-findings file (`--accept FILE`): `[[accept]]` tables only.
pub fn load_accept_file(path: &Path) -> Result<Vec<AcceptEntry>, RuleError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct AcceptFile {
        #[serde(default)]
        accept: Vec<RawEntry>,
    }
    let file = path.display().to_string();
    let text = read_bounded(path).map_err(|e| RuleError::io(&file, e))?;
    let locator = Locator::new(&file, &text);
    let raw: AcceptFile = toml::from_str(&text).map_err(|e| locator.toml_error(&e))?;
    let mut entries = Vec::new();
    for (i, entry) in raw.accept.into_iter().enumerate() {
        let field = Field::top("accept").idx(i);
        let line = locator.error(&field, "").line;
        entries.push(AcceptEntry::new(
            entry,
            format!("{file}:{line}"),
            |key, message| locator.error(&field.key(key), message),
        )?);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<FileConfig, String> {
        parse("ajar.toml", Path::new("/etc/ajar/ajar.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_every_key_with_paths_beside_the_file() {
        let c = parse_text(
            r#"
targets = ["127.0.0.1", "127.0.0.0/28"]
input = ["targets.txt"]
ports = "9200,27017-27019"
concurrency = 64
timeout = "500ms"
fail-on = "high"
fail-on-new = true
output = ["report.json", "/tmp/ajar.sarif"]
scope = ["127.0.0.0/8"]

[severity]
"redis-open" = "critical"

[[accept]]
check = "memcached-open"
endpoint = "127.0.0.1:11211"
reason = "demo cache"
expires = "2027-06-30"
"#,
        )
        .expect("valid");
        assert_eq!(c.input, Some(vec![PathBuf::from("/etc/ajar/targets.txt")]));
        assert_eq!(
            c.output,
            Some(vec![
                PathBuf::from("/etc/ajar/report.json"),
                PathBuf::from("/tmp/ajar.sarif")
            ])
        );
        assert_eq!(c.timeout, Some(Duration::from_millis(500)));
        assert_eq!(c.fail_on, Some(Severity::High));
        assert_eq!(
            c.severity,
            vec![("redis-open".to_string(), Severity::Critical)]
        );
        assert_eq!(c.accept.len(), 1);
        assert_eq!(c.accept[0].source, "ajar.toml:15");
        assert_eq!(c.lines.get("concurrency"), Some(&5));
    }

    #[test]
    fn a_typo_names_file_line_and_key() {
        let e = parse_text("ports = \"9200\"\nconcurency = 8\n").expect_err("unknown key");
        assert!(
            e.starts_with("ajar.toml:2:1: concurency: unknown field `concurency`"),
            "{e}"
        );
        let e = parse_text("\n\ntimeout = \"3 parsecs\"\n").expect_err("bad duration");
        assert!(e.starts_with("ajar.toml:3:1: timeout: "), "{e}");
        let e = parse_text("concurrency = \"many\"\n").expect_err("bad type");
        assert!(
            e.starts_with("ajar.toml:1:15: concurrency: invalid type"),
            "{e}"
        );
        let e = parse_text("concurrency = 0\n").expect_err("out of range");
        assert_eq!(
            e,
            "ajar.toml:1:1: concurrency: 0 is out of range (1 to 20000)"
        );
        let e = parse_text("[severity]\n\"redis-open\" = \"severe\"\n").expect_err("bad severity");
        assert!(
            e.starts_with("ajar.toml:2:1: severity.redis-open: unknown severity"),
            "{e}"
        );
        let e = parse_text(
            "[[accept]]\ncheck = \"redis-open\"\nendpoint = \"127.0.0.1:6379\"\nreason = \"x\"\nexpires = \"next year\"\n",
        )
        .expect_err("bad date");
        assert!(e.starts_with("ajar.toml:5:1: accept[0].expires: "), "{e}");
        let e = parse_text(
            "[[accept]]\ncheck = \"redis-open\"\nendpoint = \"127.0.0.1:6379\"\nreason = \"x\"\n",
        )
        .expect_err("no expiry");
        assert!(e.contains("expires"), "{e}");
        let e = parse_text("output = [\"report.xml\"]\n").expect_err("unknown extension");
        assert!(e.starts_with("ajar.toml:1:11: output[0]: "), "{e}");
    }
}
