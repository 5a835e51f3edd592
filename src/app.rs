//! What the binary does with parsed flags: build the target set (all or nothing), run the
//! engine with a progress bar, stream results into the reporter, and pick the exit code.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Command, ScanArgs};
use crate::finding::{EndpointResult, Exposure, Outcome};
use crate::probe::{self, Limits, ProbeContext, SERVICES};
use crate::progress::Progress;
use crate::report::{Report, Reporter};
use crate::scan::{self, EngineConfig};
use crate::target::{Exclusions, TargetSet, TargetSetBuilder, parse_ports};

/// Exit codes, documented in `--help` and README.
pub mod exit {
    /// The scan finished (whatever it found, unless `--fail-on` matched).
    pub const OK: u8 = 0;
    /// `--fail-on` matched a finding.
    pub const FINDINGS: u8 = 1;
    /// Usage or input error: nothing was scanned.
    pub const USAGE: u8 = 2;
    /// Interrupted by Ctrl-C; the report holds what was found until then.
    pub const INTERRUPTED: u8 = 130;
}

/// An error that maps to exit code 2: bad targets, flags or files.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs one subcommand and returns the process exit code.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Probes => {
            print_probes(&mut io::stdout().lock())?;
            Ok(ExitCode::from(exit::OK))
        }
        Command::Scan(args) => scan_command(args),
    }
}

fn print_probes(out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 4]> = SERVICES
        .iter()
        .map(|service| {
            let ports: Vec<String> = service.ports.iter().map(u16::to_string).collect();
            [
                service.id.to_string(),
                ports.join(","),
                service.name.to_string(),
                service.check.to_string(),
            ]
        })
        .collect();
    let header = ["SERVICE", "PORTS", "PRODUCT", "CHECK"].map(String::from);
    let width = |col: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[col].len())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for row in std::iter::once(&header).chain(rows.iter()) {
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0], row[1], row[2], row[3]
        )?;
    }
    Ok(())
}

/// Parses every target source; any bad line aborts before a packet is sent.
pub fn build_targets(args: &ScanArgs) -> Result<(TargetSet, usize), UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let ports = match &args.ports {
        Some(text) => parse_ports(text).map_err(|e| UsageError(format!("--ports: {e}")))?,
        None => probe::default_ports(),
    };
    let exclusions = Exclusions::parse(&args.exclude).map_err(|e| usage(&e))?;
    let mut builder = TargetSetBuilder::new(args.max_hosts);
    for (i, target) in args.targets.iter().enumerate() {
        builder
            .add(&format!("argument {}", i + 1), target)
            .map_err(|e| usage(&e))?;
    }
    for path in &args.inputs {
        let (name, content) = if path.as_os_str() == "-" {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| UsageError(format!("cannot read stdin: {e}")))?;
            ("stdin".to_string(), text)
        } else {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
            (name, text)
        };
        builder.add_lines(&name, &content).map_err(|e| usage(&e))?;
    }
    if builder.inputs() == 0 {
        if !args.inputs.is_empty() {
            return Err(UsageError("the target files hold no targets".into()));
        }
        builder
            .add("default target", "127.0.0.1")
            .map_err(|e| usage(&e))?;
    }
    let inputs = builder.inputs();
    let set = builder.build(&ports, &exclusions).map_err(|e| usage(&e))?;
    Ok((set, inputs))
}

fn scan_command(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let (targets, inputs) = build_targets(&args)?;
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).map_err(|e| {
                UsageError(format!("cannot write {}: {e}", path.display()))
            })?))
        }
        // Buffered: JSONL flushes each line itself; the others write once at the end.
        None => Box::new(BufWriter::new(io::stdout())),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let limits = Limits::default();
    let engine = EngineConfig {
        concurrency: args.concurrency as usize,
        per_host: args.per_host as usize,
        rate_limit: args.rate_limit,
        probe_timeout: args.probe_timeout,
    };
    let mut reporter = Reporter::new(args.format, out);
    let mut report = Report::new(inputs, targets.len());
    let mut progress = Progress::new(targets.len(), args.quiet);
    let mut write_error: Option<io::Error> = None;
    let stats = runtime.block_on(async {
        let cx = ProbeContext::new(args.timeout, args.verify_tls, limits)?;
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let on_result = |result: EndpointResult| {
            let found = match &result.outcome {
                Outcome::Found(f) => Some(f.exposure == Exposure::Open),
                _ => None,
            };
            progress.endpoint_done(found);
            let Some(finding) = report.record(result) else {
                return;
            };
            if write_error.is_none()
                && let Err(e) = reporter.finding(&finding)
            {
                write_error = Some(e);
            }
            if reporter.keeps_findings() {
                report.keep(*finding);
            }
        };
        anyhow::Ok(scan::run(scan::prober(cx), engine, &targets, stop, on_result).await)
    })?;
    progress.finish();
    report.finish(stats.interrupted);
    // Tasks still draining after Ctrl-C are dropped with the runtime, without waiting.
    runtime.shutdown_background();
    if let Some(e) = write_error {
        return Err(e).context("writing the report");
    }
    reporter.finish(&report).context("writing the report")?;
    if stats.interrupted {
        eprintln!("ajar: interrupted; the report holds what was found until then");
        return Ok(ExitCode::from(exit::INTERRUPTED));
    }
    let failed = args
        .fail_on
        .is_some_and(|threshold| report.worst().is_some_and(|worst| worst >= threshold));
    Ok(ExitCode::from(if failed {
        exit::FINDINGS
    } else {
        exit::OK
    }))
}
