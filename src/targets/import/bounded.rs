//! The reader every scanner format is parsed through: it counts bytes against
//! [`MAX_INPUT`] and, per record, against [`MAX_RECORD`], so a parser that buffers one
//! record (quick-xml's event buffer, a JSON object) holds at most that much.

use std::io::{self, BufRead, Read};

use super::{MAX_RECORD, unreadable};
use crate::targets::TargetError;
use crate::targets::input::MAX_INPUT;

/// Which bound a [`Bounded`] reader hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// More than [`MAX_INPUT`] bytes in all.
    Input,
    /// More than [`MAX_RECORD`] bytes since the last [`Bounded::mark`].
    Record,
}

/// A reader that fails (with an I/O error; [`Bounded::limit_error`] then says which
/// bound) once more than [`MAX_INPUT`] bytes were read, or more than [`MAX_RECORD`] since the last
/// [`Bounded::mark`]: parsers that buffer a whole record then hold at most that much.
pub(crate) struct Bounded<R> {
    inner: R,
    total: u64,
    since_mark: usize,
    tripped: Option<Limit>,
}

impl<R: BufRead> Bounded<R> {
    /// Wraps `inner`, counting from zero.
    pub(crate) fn new(inner: R) -> Self {
        Bounded {
            inner,
            total: 0,
            since_mark: 0,
            tripped: None,
        }
    }

    /// Starts a new record: the per-record count restarts.
    pub(crate) fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// The bound that ended the read, if one did.
    #[cfg(test)]
    pub(crate) fn tripped(&self) -> Option<Limit> {
        self.tripped
    }

    /// The message for a tripped bound, naming what a record is in this format.
    pub(crate) fn limit_error(&self, name: &str, record: &str) -> Option<TargetError> {
        self.tripped.map(|limit| {
            let message = match limit {
                Limit::Input => format!(
                    "more than {} MiB of scanner output; split the scan into several files",
                    MAX_INPUT >> 20
                ),
                Limit::Record => format!(
                    "{record} is longer than {} MiB; not the output of a port scanner",
                    MAX_RECORD >> 20
                ),
            };
            unreadable(name, message)
        })
    }
}

impl<R: BufRead> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let limit = if self.total > MAX_INPUT {
            Some(Limit::Input)
        } else if self.since_mark > MAX_RECORD {
            Some(Limit::Record)
        } else {
            None
        };
        if let Some(limit) = limit {
            self.tripped = Some(limit);
            return Err(io::Error::other("input bound reached"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.total = self.total.saturating_add(amount as u64);
        self.since_mark = self.since_mark.saturating_add(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reader_trips_on_records_and_totals() {
        let mut reader = Bounded::new(io::BufReader::new(io::repeat(b'a').take(3 << 20)));
        let mut sink = Vec::new();
        let error = (&mut reader)
            .take(2 << 20)
            .read_to_end(&mut sink)
            .expect_err("record bound");
        assert_eq!(error.kind(), io::ErrorKind::Other);
        assert_eq!(reader.tripped(), Some(Limit::Record));
        assert!(sink.len() <= MAX_RECORD + (64 << 10), "{}", sink.len());
        let message = reader
            .limit_error("big.json", "a JSON object")
            .expect("tripped")
            .to_string();
        assert_eq!(
            message,
            "cannot read big.json: a JSON object is longer than 1 MiB; not the output of a port scanner"
        );
    }
}
