//! Progress on stderr with indicatif: endpoints done of total and findings so far. Hidden
//! when stderr is not a terminal (CI logs, pipes) or with `-q`, so stdout stays pure data.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The scan's progress bar (a no-op when hidden).
pub struct Progress {
    bar: ProgressBar,
    findings: usize,
    open: usize,
}

impl Progress {
    /// A bar over `total` endpoints, drawn on stderr unless `quiet` or stderr is not a TTY.
    pub fn new(total: usize, quiet: bool) -> Progress {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} endpoints, {msg}",
        ) {
            bar.set_style(style);
        }
        bar.set_message("0 findings");
        Progress {
            bar,
            findings: 0,
            open: 0,
        }
    }

    /// One endpoint finished; `found` tells whether it was a finding and whether open.
    pub fn endpoint_done(&mut self, found: Option<bool>) {
        if let Some(open) = found {
            self.findings += 1;
            self.open += usize::from(open);
            self.bar
                .set_message(format!("{} findings ({} open)", self.findings, self.open));
        }
        self.bar.inc(1);
    }

    /// Removes the bar before the report is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
