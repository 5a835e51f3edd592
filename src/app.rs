//! What the binary does with parsed flags: read the targets (all or nothing), resolve names
//! once, run the engine with a progress bar, stream results into the reporter, and pick an
//! exit code that tells the truth about the run.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Command, ScanArgs};
use crate::finding::{EndpointResult, Exposure, Outcome};
use crate::net::TlsPolicy;
use crate::probe::registry::Registry;
use crate::probe::{Limits, ProbeContext};
use crate::progress::Progress;
use crate::report::{NoteKind, Recorded, Report, Reporter};
use crate::scan::{self, EngineConfig};
use crate::targets::resolve::{SystemResolver, resolve_all};
use crate::targets::{Exclusions, TargetSet, TargetSetBuilder, parse_ports};

/// Exit codes, documented in `--help` and README.
pub mod exit {
    /// The scan finished and nothing reached `--fail-on`.
    pub const OK: u8 = 0;
    /// `--fail-on` matched a finding.
    pub const FINDINGS: u8 = 1;
    /// Usage or input error: nothing was sent.
    pub const USAGE: u8 = 2;
    /// Nothing could be scanned: every target excluded, no name resolved, or every
    /// endpoint failed. A CI gate must not read this as a clean estate.
    pub const NOTHING_SCANNED: u8 = 3;
    /// The report could not be written; the scan ran and its summary went to stderr.
    pub const REPORT_LOST: u8 = 4;
    /// Interrupted by SIGINT (Ctrl-C); the report holds what was found until then.
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM (a cancelled CI job, `timeout`, Kubernetes); the report holds
    /// what was found until then.
    pub const TERMINATED: u8 = 143;
}

/// An error that maps to exit code 2: bad targets, flags or files.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The report could not be written: exit code 4.
#[derive(Debug, thiserror::Error)]
#[error("writing the report: {0}")]
pub struct ReportError(#[source] pub io::Error);

/// Runs one subcommand and returns the process exit code.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Probes(args) => crate::catalog::run(&args),
        Command::Scan(args) => {
            init_logging(args.debug);
            scan_command(*args)
        }
    }
}

/// `--debug` or `RUST_LOG` sends tracing events to stderr; stdout stays the report's.
fn init_logging(debug: bool) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok());
    let filter = match (from_env, debug) {
        (Some(filter), _) => filter,
        (None, true) => Targets::new().with_target("ajar", tracing::Level::DEBUG),
        (None, false) => return,
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}

/// The targets as given, parsed: nothing resolved or sent yet.
pub struct ParsedTargets {
    builder: TargetSetBuilder,
    exclusions: Exclusions,
    ports: Vec<u16>,
}

impl ParsedTargets {
    /// Target lines and arguments given.
    pub fn inputs(&self) -> usize {
        self.builder.inputs()
    }
}

/// Whether stdin is a pipe or a file (`cmd | ajar scan`, `ajar scan < hosts.txt`) rather
/// than a terminal or `/dev/null`, as nuclei decides whether to read targets from it.
fn stdin_has_targets() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        let stdin = io::stdin();
        let Ok(fd) = stdin.as_fd().try_clone_to_owned() else {
            return false;
        };
        File::from(fd)
            .metadata()
            .map(|m| m.file_type().is_fifo() || m.file_type().is_file())
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal;
        !io::stdin().is_terminal()
    }
}

/// Parses every target source; any bad line aborts before a packet is sent.
pub fn parse_targets(args: &ScanArgs, registry: &Registry) -> Result<ParsedTargets, UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let ports = match &args.ports {
        Some(text) => parse_ports(text).map_err(|e| UsageError(format!("--ports: {e}")))?,
        None => registry.default_ports(),
    };
    let exclusions = Exclusions::parse(&args.exclude).map_err(|e| usage(&e))?;
    let mut builder = TargetSetBuilder::new(args.max_hosts);
    for (i, target) in args.targets.iter().enumerate() {
        builder
            .add(&format!("argument {}", i + 1), target)
            .map_err(|e| usage(&e))?;
    }
    let mut inputs = args.inputs.clone();
    let piped = args.targets.is_empty() && inputs.is_empty() && stdin_has_targets();
    if piped {
        inputs.push("-".into());
    }
    for path in &inputs {
        if path.as_os_str() == "-" {
            builder
                .add_reader("stdin", io::stdin().lock())
                .map_err(|e| usage(&e))?;
        } else {
            let name = path.display().to_string();
            let file =
                File::open(path).map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
            builder
                .add_reader(&name, BufReader::with_capacity(64 << 10, file))
                .map_err(|e| usage(&e))?;
        }
    }
    if builder.inputs() == 0 {
        if piped {
            return Err(UsageError(
                "stdin holds no targets (give targets as arguments, or -i FILE)".into(),
            ));
        }
        if !inputs.is_empty() {
            return Err(UsageError("the target files hold no targets".into()));
        }
        builder
            .add("default target", "127.0.0.1")
            .map_err(|e| usage(&e))?;
    }
    Ok(ParsedTargets {
        builder,
        exclusions,
        ports,
    })
}

/// Resolves the names of `parsed` (each once) and builds the endpoint set.
pub async fn build_targets(
    parsed: ParsedTargets,
    timeout: std::time::Duration,
) -> Result<TargetSet, UsageError> {
    let mut names = parsed.builder.names();
    names.extend(parsed.exclusions.names().iter().cloned());
    let resolved = resolve_all(names, &SystemResolver { timeout }).await;
    parsed
        .builder
        .build(&parsed.ports, &parsed.exclusions, &resolved)
        .map_err(|e| UsageError(e.to_string()))
}

/// Which signal stopped a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    Interrupt,
    Terminate,
}

/// Resolves when SIGINT or SIGTERM arrives, saying which.
async fn stop_signal() -> Stopped {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => Stopped::Interrupt,
                _ = term.recv() => Stopped::Terminate,
            };
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => Stopped::Interrupt,
        Err(_) => std::future::pending().await,
    }
}

fn tls_policy(args: &ScanArgs) -> Result<TlsPolicy, UsageError> {
    if args.verify_tls || !args.ca_file.is_empty() {
        TlsPolicy::verify(&args.ca_file).map_err(|e| UsageError(e.to_string()))
    } else {
        Ok(TlsPolicy::AcceptAny)
    }
}

fn open_output(args: &ScanArgs) -> Result<Box<dyn Write + Send>, UsageError> {
    Ok(match &args.output {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).map_err(|e| {
                UsageError(format!("cannot write {}: {e}", path.display()))
            })?))
        }
        // Buffered: JSONL flushes each line itself; the others write once at the end.
        None => Box::new(BufWriter::new(io::stdout())),
    })
}

fn scan_command(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let registry = crate::catalog::load_registry(args.probes.as_deref(), args.strict)?;
    let parsed = parse_targets(&args, &registry)?;
    let inputs = parsed.inputs();
    let policy = tls_policy(&args)?;
    let out = open_output(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let targets = runtime.block_on(build_targets(parsed, args.timeout))?;
    for name in targets.unresolved() {
        eprintln!(
            "ajar: cannot resolve {}: {}; its targets are skipped",
            crate::sanitize::clip(&name.name, 80),
            crate::sanitize::clip(&name.reason, 120)
        );
    }
    if targets.all_excluded() {
        eprintln!("ajar: the exclusions remove every target; nothing to scan");
    }
    let cx = ProbeContext::for_scan(args.timeout, &policy, Limits::default(), targets.names())?
        .with_registry(registry)
        .with_default_credentials(args.default_credentials);
    let engine = EngineConfig {
        concurrency: args.concurrency as usize,
        per_host: args.per_host as usize,
        rate_limit: args.rate_limit,
        probe_timeout: args.probe_timeout,
    };
    let mut reporter = Reporter::new(args.format, out, args.verbose);
    let mut write_error: Option<io::Error> = None;
    let mut report = Report::new(inputs, targets.len());
    report.note_unresolved(targets.unresolved());
    if !reporter.keeps_results() {
        // Streamed formats get the unresolved names as lines of their own, first.
        for note in report.errors.drain(..) {
            if let Err(e) = reporter.result(&Recorded::Note(NoteKind::Error, note)) {
                write_error.get_or_insert(e);
            }
        }
    }
    let mut progress = Progress::new(targets.len(), args.quiet);
    let stopped = std::cell::Cell::new(None);
    runtime.block_on(async {
        let stop = async {
            stopped.set(Some(stop_signal().await));
        };
        let on_result = |result: EndpointResult| {
            let found = match &result.outcome {
                Outcome::Found(f) => Some(matches!(
                    f.exposure,
                    Exposure::Open | Exposure::DefaultCredentials
                )),
                _ => None,
            };
            progress.endpoint_done(found);
            let Some(recorded) = report.record(result) else {
                return;
            };
            if write_error.is_none()
                && let Err(e) = reporter.result(&recorded)
            {
                write_error = Some(e);
            }
            if reporter.keeps_results() {
                match recorded {
                    Recorded::Finding(finding) => report.keep(*finding),
                    Recorded::Note(kind, note) => report.keep_note(kind, note),
                }
            }
        };
        scan::run(scan::prober(cx), engine, &targets, stop, on_result).await
    });
    progress.finish();
    let stopped = stopped.get();
    report.finish(stopped.is_some());
    // Tasks still draining after a signal are dropped with the runtime, without waiting.
    runtime.shutdown_background();
    tracing::debug!(peak_memory_kib = peak_memory_kib(), "scan finished");
    let written = match write_error {
        Some(e) => Err(e),
        None => reporter.finish(&report),
    };
    if let Err(e) = written {
        if is_broken_pipe(&e) {
            return Ok(ExitCode::from(exit::OK));
        }
        eprintln!("ajar: {:#}", ReportError(e));
        eprintln!(
            "ajar: the report is lost; the scan found: {}",
            crate::report::human::summary_line(&report)
        );
        return Ok(ExitCode::from(exit::REPORT_LOST));
    }
    match stopped {
        Some(Stopped::Interrupt) => {
            eprintln!("ajar: interrupted; the report holds what was found until then");
            return Ok(ExitCode::from(exit::INTERRUPTED));
        }
        Some(Stopped::Terminate) => {
            eprintln!("ajar: terminated; the report holds what was found until then");
            return Ok(ExitCode::from(exit::TERMINATED));
        }
        None => {}
    }
    let failed = args
        .fail_on
        .is_some_and(|threshold| report.worst().is_some_and(|worst| worst >= threshold));
    if failed {
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    if report.nothing_scanned() {
        eprintln!(
            "ajar: nothing could be scanned ({}); this is not a clean result",
            report.why_nothing_scanned()
        );
        return Ok(ExitCode::from(exit::NOTHING_SCANNED));
    }
    Ok(ExitCode::from(exit::OK))
}

fn is_broken_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// The process's peak resident memory (`VmHWM`), for `--debug`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
