//! The `ajar` binary: parse flags, run, map the result to an exit code. Everything else
//! lives in the library.

use std::process::ExitCode;

use ajar::app::{self, exit};
use clap::Parser;

fn main() -> ExitCode {
    let cli = ajar::cli::Cli::parse();
    match app::run(cli.command) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::from(exit::OK),
        Err(error) => {
            // Bad targets, flags or files ([`UsageError`]) and anything that stops the
            // scan from running at all share exit code 2: nothing trustworthy was produced.
            eprintln!("ajar: {error:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

/// A reader that stopped reading (`ajar scan | head`) is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
