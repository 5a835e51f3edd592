//! Where reports go: stdout, or one file per `-o` with its format from the extension,
//! and then the human summary on stderr so a person watching the job still sees it. One
//! file that cannot be written does not stop the others.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::UsageError;
use crate::config::ReportSettings;
use crate::report::{Format, Recorded, Report, Reporter};

/// One destination and its reporter.
struct Output {
    /// `stdout`, `stderr` or the file name, for errors.
    name: String,
    reporter: Reporter,
    error: Option<io::Error>,
    stdout: bool,
}

/// Every report of one run.
pub struct Outputs {
    outputs: Vec<Output>,
}

/// A report that could not be written.
#[derive(Debug)]
pub struct Lost {
    /// Where it was going.
    pub name: String,
    /// Why it failed.
    pub error: io::Error,
}

impl Outputs {
    /// Opens every destination of `settings` (files are created now, so a bad path stops
    /// the run before a packet is sent).
    pub fn open(settings: &ReportSettings) -> Result<Outputs, UsageError> {
        let mut outputs = Vec::new();
        if settings.outputs.is_empty() {
            outputs.push(Output {
                name: "stdout".into(),
                // Buffered: JSONL flushes each line itself; the others write once at the end.
                reporter: Reporter::new(
                    settings.format,
                    Box::new(BufWriter::new(io::stdout())),
                    settings.verbose,
                ),
                error: None,
                stdout: true,
            });
        } else {
            for (format, path) in &settings.outputs {
                // `-o -` is stdout, as in curl and ripgrep's tools.
                let stdout = path.as_os_str() == "-";
                let out: Box<dyn Write + Send> = if stdout {
                    Box::new(BufWriter::new(io::stdout()))
                } else {
                    create(path)?
                };
                outputs.push(Output {
                    name: if stdout {
                        "stdout".into()
                    } else {
                        path.display().to_string()
                    },
                    reporter: Reporter::new(*format, out, settings.verbose),
                    error: None,
                    stdout,
                });
            }
            if !outputs.iter().any(|o| o.stdout) {
                outputs.push(Output {
                    name: "stderr".into(),
                    reporter: Reporter::new(Format::Human, Box::new(io::stderr()), false),
                    error: None,
                    stdout: false,
                });
            }
        }
        Ok(Outputs { outputs })
    }

    /// Whether any format renders results at the end, so the report must keep them.
    pub fn keeps_results(&self) -> bool {
        self.outputs.iter().any(|o| o.reporter.keeps_results())
    }

    /// Hands a new finding or note to every streaming format.
    pub fn result(&mut self, recorded: &Recorded) {
        for o in &mut self.outputs {
            if o.error.is_none()
                && let Err(e) = o.reporter.result(recorded)
            {
                o.error = Some(e);
            }
        }
    }

    /// Writes every report; returns those that failed (a reader of stdout that went away,
    /// `ajar scan | head`, is not a failure).
    pub fn finish(mut self, report: &Report) -> Vec<Lost> {
        let mut lost = Vec::new();
        for o in &mut self.outputs {
            let result = match o.error.take() {
                Some(e) => Err(e),
                None => o.reporter.finish(report),
            };
            match result {
                Ok(()) => {}
                Err(e) if o.stdout && e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(error) => lost.push(Lost {
                    name: o.name.clone(),
                    error,
                }),
            }
        }
        lost
    }
}

fn create(path: &PathBuf) -> Result<Box<dyn Write + Send>, UsageError> {
    let file = File::create(path)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    Ok(Box::new(BufWriter::new(file)))
}
