//! What the binary does with parsed flags: settings from ajar.toml under the flags, then
//! `scan` (targets, engine, reports), `merge` (shard reports into one) or `ajar
//! config`; `output` writes the reports and `gate` picks an exit code that tells the
//! truth about the run.

mod gate;
mod merge;
mod output;
mod scan;

pub use scan::{ParsedTargets, build_targets, parse_targets};

use std::io;
use std::process::ExitCode;

use crate::cli::Command;

/// Exit codes, documented in `--help` and README.
pub mod exit {
    /// The scan finished and nothing reached `--fail-on`.
    pub const OK: u8 = 0;
    /// `--fail-on` matched a finding.
    pub const FINDINGS: u8 = 1;
    /// Usage, config or input error, or a target outside the scope: nothing was sent.
    pub const USAGE: u8 = 2;
    /// The scan is incomplete: a name did not resolve, an endpoint could not be probed,
    /// nothing could be scanned, or (merge) a shard is missing. A CI gate must not read
    /// this as a clean estate.
    pub const INCOMPLETE: u8 = 3;
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
            scan::run(*args)
        }
        Command::Merge(args) => merge::run(&args),
        Command::Config(args) => {
            let file = crate::config::find(args.config.as_deref(), false)?;
            let settings =
                crate::config::Settings::resolve(&crate::cli::ScanArgs::default(), file)?;
            print!("{}", settings.to_toml(None));
            Ok(ExitCode::from(exit::OK))
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
