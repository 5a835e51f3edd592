//! `ajar probes`: the registry as a user sees it (every native service and data-driven
//! probe, its ports, what decides its verdict and where it comes from), `ajar probes
//! check` for probe files, and the loading of `--probes DIR` shared with `ajar scan`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::app::{UsageError, exit};
use crate::cli::{ProbesAction, ProbesArgs};
use crate::finding::Exposure;
use crate::finding::policy;
use crate::probe::registry::{Registry, UriStyle};
use crate::rules::{self, RuleError, RuleSet};

/// Runs `ajar probes [check FILE...]`.
pub fn run(args: &ProbesArgs) -> anyhow::Result<ExitCode> {
    match &args.action {
        Some(ProbesAction::Check { files }) => Ok(check_files(files)),
        None => {
            let registry = load_registry(args.probes.as_deref(), false)?;
            print_probes(&registry, &mut io::stdout().lock())?;
            Ok(ExitCode::from(exit::OK))
        }
    }
}

/// The shipped probes plus the files of `dir`. A broken file is reported on stderr and
/// skipped, or, under `strict`, stops the run before anything is sent.
pub fn load_registry(dir: Option<&Path>, strict: bool) -> Result<Registry, UsageError> {
    let shipped = RuleSet::shipped().map_err(|errors| {
        UsageError(format!(
            "a shipped probe does not compile (a bug in ajar): {}",
            joined(&errors)
        ))
    })?;
    let Some(dir) = dir else {
        return Ok(Registry::new(shipped));
    };
    let (rules, errors) = RuleSet::with_dir(dir);
    if !errors.is_empty() {
        if strict {
            return Err(UsageError(format!(
                "--strict: {} probe file error(s) in {}:\n{}",
                errors.len(),
                dir.display(),
                lines(&errors)
            )));
        }
        for error in &errors {
            eprintln!("ajar: skipped probe: {error}");
        }
    }
    Ok(Registry::new(rules))
}

fn joined(errors: &[RuleError]) -> String {
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    shown.join("; ")
}

fn lines(errors: &[RuleError]) -> String {
    let shown: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    shown.join("\n")
}

/// Validates probe files (and the `*.toml` of directories), printing each error as
/// `FILE:LINE:COLUMN: FIELD: message` on stdout, and one summary line on stderr.
fn check_files(paths: &[PathBuf]) -> ExitCode {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            match toml_files(path) {
                Ok(found) => files.extend(found),
                Err(e) => {
                    println!(
                        "{}:0:0: (file): cannot read the directory: {e}",
                        path.display()
                    );
                    return ExitCode::from(exit::USAGE);
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut broken = 0usize;
    let mut stdout = io::stdout().lock();
    for file in &files {
        let shown = file.display().to_string();
        let errors = match std::fs::read_to_string(file) {
            Ok(text) => rules::compile(&text, &shown).err().unwrap_or_default(),
            Err(e) => vec![RuleError {
                file: shown.clone(),
                line: 0,
                column: 0,
                field: "(file)".into(),
                message: format!("cannot read it: {e}"),
            }],
        };
        if !errors.is_empty() {
            broken += 1;
        }
        for error in errors {
            let _ = writeln!(stdout, "{error}");
        }
    }
    eprintln!(
        "ajar: {} probe file(s) checked, {} with errors",
        files.len(),
        broken
    );
    if broken > 0 || files.is_empty() {
        ExitCode::from(exit::USAGE)
    } else {
        ExitCode::from(exit::OK)
    }
}

fn toml_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Prints one row per native service and per data-driven probe: its default ports, the URI
/// schemes a target may name it by, and its check ids.
fn print_probes(registry: &Registry, out: &mut dyn Write) -> io::Result<()> {
    let ports = |ports: &[u16]| {
        let shown: Vec<String> = ports.iter().map(u16::to_string).collect();
        shown.join(",")
    };
    let schemes_of = |probe: &str| {
        let names: Vec<String> = registry
            .natives()
            .iter()
            .flat_map(|n| n.schemes.iter())
            .filter(|s| s.probe == probe && !matches!(s.style, UriStyle::Refused(_)))
            .map(|s| format!("{}://", s.name))
            .collect();
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join(",")
        }
    };
    // Probe files run inside the HTTP probe, so they answer to its schemes.
    let http_schemes = schemes_of("http");
    let mut rows: Vec<[String; 6]> = Vec::new();
    for native in registry.natives() {
        for service in native.services {
            let mut exposures = vec![Exposure::Open, Exposure::AuthRequired];
            if !native.default_credentials.is_empty() {
                exposures.push(Exposure::DefaultCredentials);
            }
            let checks: Vec<String> = exposures
                .into_iter()
                .map(|e| policy::check_id(service.id, e))
                .collect();
            rows.push([
                service.id.to_string(),
                ports(service.ports),
                schemes_of(native.id),
                service.name.to_string(),
                format!("native ({})", native.id),
                checks.join(", "),
            ]);
        }
    }
    for rule in registry.rules().iter() {
        rows.push([
            rule.id.clone(),
            ports(&rule.ports),
            http_schemes.clone(),
            rule.name.clone(),
            rule.source.to_string(),
            rule.check_ids().join(", "),
        ]);
    }
    let header = ["PROBE", "PORTS", "SCHEMES", "PRODUCT", "SOURCE", "CHECKS"].map(String::from);
    let width = |col: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2, w3, w4) = (width(0), width(1), width(2), width(3), width(4));
    for row in std::iter::once(&header).chain(rows.iter()) {
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:<w4$}  {}",
            row[0], row[1], row[2], row[3], row[4], row[5]
        )?;
    }
    Ok(())
}
