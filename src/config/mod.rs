//! Settings: ajar.toml ([`mod@file`]) under the command line. A flag given on the command
//! line wins over the file; exclusions and accepted findings from both apply (a flag never
//! drops a safety entry of the file); [`Settings::to_toml`] is what `ajar config` and
//! `--print-config` show, with where each value came from.

pub mod file;
mod show;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use file::FileConfig;

use crate::app::UsageError;
use crate::cli::{ReportArgs, ScanArgs};
use crate::finding::Severity;
use crate::report::Format;
use crate::triage::accept::AcceptEntry;

/// The defaults of the options ajar.toml may set; `--help` shows the same values.
pub mod defaults {
    use std::time::Duration;

    /// `-c`.
    pub const CONCURRENCY: u32 = 512;
    /// `--per-host`.
    pub const PER_HOST: u32 = 16;
    /// `--timeout`.
    pub const TIMEOUT: Duration = Duration::from_secs(3);
    /// `--probe-timeout`.
    pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
    /// `--max-hosts`.
    pub const MAX_HOSTS: u64 = 65_536;
    /// The file read when `--config` is not given, in the working directory.
    pub const CONFIG_FILE: &str = "ajar.toml";
}

/// Finds and reads the config file: `explicit` (which must exist), else `./ajar.toml`
/// when present, unless `skip`.
pub fn find(explicit: Option<&Path>, skip: bool) -> Result<Option<FileConfig>, UsageError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if skip => return Ok(None),
        None => {
            let p = PathBuf::from(defaults::CONFIG_FILE);
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    file::load(&path)
        .map(Some)
        .map_err(|e| UsageError(e.to_string()))
}

/// Where a setting's value came from, for `ajar config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// ajar's default.
    Default,
    /// A line of the config file.
    File(String),
    /// A flag.
    Flag,
}

/// What the report side of a run uses: formats and files, triage and gates.
#[derive(Debug, Clone, Default)]
pub struct ReportSettings {
    /// The format of stdout (when no -o) and of -o files without a known extension.
    pub format: Format,
    /// Report files with their formats.
    pub outputs: Vec<(Format, PathBuf)>,
    /// The previous report to compare with.
    pub baseline: Option<PathBuf>,
    /// Accepted findings from the config and --accept files.
    pub accept: Vec<AcceptEntry>,
    /// Severity overrides by check id.
    pub severity: Vec<(String, Severity)>,
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--fail-on-new`.
    pub fail_on_new: bool,
    /// `-v`.
    pub verbose: bool,
}

impl ReportSettings {
    /// Flags over the file: `-o` given replaces the file's outputs; accepted findings add.
    pub fn resolve(
        args: &ReportArgs,
        file: Option<&FileConfig>,
    ) -> Result<ReportSettings, UsageError> {
        let format = args
            .format
            .or(file.and_then(|f| f.format))
            .unwrap_or(Format::Human);
        let outputs: Vec<PathBuf> = if args.outputs.is_empty() {
            file.and_then(|f| f.output.clone()).unwrap_or_default()
        } else {
            args.outputs.clone()
        };
        let outputs = outputs
            .into_iter()
            .map(|p| {
                // `-o -` (stdout) takes -f, like a file without an extension.
                let f = Format::from_path(&p)
                    .or(args.format)
                    .or(file.and_then(|f| f.format));
                let f = if p.as_os_str() == "-" { f.or(Some(Format::Human)) } else { f };
                f.map(|f| (f, p.clone())).ok_or_else(|| {
                    UsageError(format!(
                        "-o {}: the extension names no format (.json .jsonl .sarif .md .txt); rename it or give -f",
                        p.display()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut accept = file.map(|f| f.accept.clone()).unwrap_or_default();
        for path in &args.accept {
            accept.extend(file::load_accept_file(path).map_err(|e| UsageError(e.to_string()))?);
        }
        let fail_on = args.fail_on.or(file.and_then(|f| f.fail_on));
        let fail_on_new = args.fail_on_new || file.and_then(|f| f.fail_on_new).unwrap_or(false);
        if fail_on_new && fail_on.is_none() {
            return Err(UsageError(
                "--fail-on-new needs --fail-on SEVERITY: the threshold new findings are held to"
                    .into(),
            ));
        }
        let baseline = args
            .baseline
            .clone()
            .or(file.and_then(|f| f.baseline.clone()));
        if let Some(b) = &baseline
            && !b.is_file()
        {
            return Err(UsageError(format!(
                "--baseline {}: no such file (on a first run, leave --baseline out: every finding is new)",
                b.display()
            )));
        }
        Ok(ReportSettings {
            format,
            outputs,
            baseline,
            accept,
            severity: file.map(|f| f.severity.clone()).unwrap_or_default(),
            fail_on,
            fail_on_new,
            verbose: args.verbose,
        })
    }
}

/// Everything `ajar scan` runs with: flags over ajar.toml over the defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Targets given as arguments or in the file.
    pub targets: Vec<String>,
    /// Target files.
    pub inputs: Vec<PathBuf>,
    /// `-p`.
    pub ports: Option<String>,
    /// Exclusions from both.
    pub exclude: Vec<String>,
    /// Exclusion files from both.
    pub exclude_files: Vec<PathBuf>,
    /// Scope entries written in the file.
    pub scope_entries: Option<Vec<String>>,
    /// A scope file (flag over file).
    pub scope_file: Option<PathBuf>,
    /// `--shard`.
    pub shard: Option<crate::targets::shard::Shard>,
    /// `--list`.
    pub list: bool,
    /// `-c`.
    pub concurrency: u32,
    /// `--per-host`.
    pub per_host: u32,
    /// `--rate-limit`.
    pub rate_limit: Option<u32>,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--probe-timeout`.
    pub probe_timeout: Duration,
    /// `--max-hosts`.
    pub max_hosts: u64,
    /// `--verify-tls`.
    pub verify_tls: bool,
    /// `--ca-file`.
    pub ca_files: Vec<PathBuf>,
    /// `--probes`.
    pub probes: Option<PathBuf>,
    /// `--strict`.
    pub strict: bool,
    /// `--default-credentials`.
    pub default_credentials: bool,
    /// `-q`.
    pub quiet: bool,
    /// `--debug`.
    pub debug: bool,
    /// Reports and gates.
    pub report: ReportSettings,
    /// The config file read, if any.
    pub file: Option<FileConfig>,
}

impl Settings {
    /// Resolves `args` over `file`.
    pub fn resolve(args: &ScanArgs, file: Option<FileConfig>) -> Result<Settings, UsageError> {
        let f = file.as_ref();
        let report = ReportSettings::resolve(&args.report, f)?;
        let concat = |a: &[String], b: Option<&Vec<String>>| {
            let mut v = b.cloned().unwrap_or_default();
            v.extend(a.iter().cloned());
            v
        };
        let cli_targets = !args.targets.is_empty() || !args.inputs.is_empty();
        Ok(Settings {
            targets: if cli_targets {
                args.targets.clone()
            } else {
                f.and_then(|f| f.targets.clone()).unwrap_or_default()
            },
            inputs: if cli_targets {
                args.inputs.clone()
            } else {
                f.and_then(|f| f.input.clone()).unwrap_or_default()
            },
            ports: args.ports.clone().or(f.and_then(|f| f.ports.clone())),
            exclude: concat(&args.exclude, f.map(|f| &f.exclude)),
            exclude_files: {
                let mut v = f.map(|f| f.exclude_file.clone()).unwrap_or_default();
                v.extend(args.exclude_file.iter().cloned());
                v
            },
            scope_entries: if args.scope.is_some() {
                None
            } else {
                f.and_then(|f| f.scope.clone())
            },
            scope_file: args.scope.clone().or(f.and_then(|f| f.scope_file.clone())),
            shard: args.shard,
            list: args.list,
            concurrency: args
                .concurrency
                .or(f.and_then(|f| f.concurrency))
                .unwrap_or(defaults::CONCURRENCY),
            per_host: args
                .per_host
                .or(f.and_then(|f| f.per_host))
                .unwrap_or(defaults::PER_HOST),
            rate_limit: args.rate_limit.or(f.and_then(|f| f.rate_limit)),
            timeout: args
                .timeout
                .or(f.and_then(|f| f.timeout))
                .unwrap_or(defaults::TIMEOUT),
            probe_timeout: args
                .probe_timeout
                .or(f.and_then(|f| f.probe_timeout))
                .unwrap_or(defaults::PROBE_TIMEOUT),
            max_hosts: args
                .max_hosts
                .or(f.and_then(|f| f.max_hosts))
                .unwrap_or(defaults::MAX_HOSTS),
            verify_tls: args.verify_tls || f.and_then(|f| f.verify_tls).unwrap_or(false),
            ca_files: {
                let mut v = f.map(|f| f.ca_file.clone()).unwrap_or_default();
                v.extend(args.ca_file.iter().cloned());
                v
            },
            probes: args.probes.clone().or(f.and_then(|f| f.probes.clone())),
            strict: args.strict || f.and_then(|f| f.strict).unwrap_or(false),
            default_credentials: args.default_credentials
                || f.and_then(|f| f.default_credentials).unwrap_or(false),
            quiet: args.quiet,
            debug: args.debug,
            report,
            file,
        })
    }
}
