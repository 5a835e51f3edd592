//! One ClickHouse connection: writes with the step timeout, and reads into one buffer,
//! chunk by chunk, before a deadline and within a byte cap. The protocol has no length
//! prefix, so the caller decodes the buffer after each chunk and asks for more only when
//! a packet is still incomplete.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::net::BoxStream;

/// Most bytes read at once.
const CHUNK: usize = 16 << 10;

/// Why an exchange stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// Nothing (more) came before the deadline.
    Silent,
    /// The server hung up (or the socket failed).
    Closed(String),
    /// The server sent bytes that are not the answer expected, or too many of them.
    Bad(String),
}

impl Stop {
    /// The reason, for evidence and summaries.
    pub(super) fn why(&self) -> String {
        match self {
            Stop::Silent => "no answer before the timeout".into(),
            Stop::Closed(why) | Stop::Bad(why) => why.clone(),
        }
    }
}

/// One connection and the bytes read from it not yet decoded.
pub(super) struct Conn {
    stream: BoxStream,
    step: Duration,
    /// Bytes read and not yet consumed.
    pub(super) buf: Vec<u8>,
    /// Bytes read over the connection's life.
    pub(super) received: usize,
}

impl Conn {
    pub(super) fn new(stream: BoxStream, step: Duration) -> Conn {
        Conn {
            stream,
            step,
            buf: Vec::new(),
            received: 0,
        }
    }

    /// The step timeout.
    pub(super) fn step(&self) -> Duration {
        self.step
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Stop::Closed(format!("write failed: {e}"))),
            Err(_) => Err(Stop::Silent),
        }
    }

    /// Reads one more chunk before `deadline`, unless `cap` bytes are already held.
    pub(super) async fn fill(&mut self, cap: usize, deadline: Instant) -> Result<(), Stop> {
        if self.buf.len() >= cap {
            return Err(Stop::Bad(format!("an answer over the {cap}-byte cap")));
        }
        let room = cap.saturating_sub(self.buf.len()).min(CHUNK);
        let mut chunk = vec![0u8; room];
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) => Err(Stop::Closed(if self.received == 0 {
                "the server closed the connection without answering".into()
            } else {
                "the server closed the connection mid-answer".into()
            })),
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n.min(room)]);
                self.received = self.received.saturating_add(n);
                Ok(())
            }
            Ok(Err(e)) => Err(Stop::Closed(format!("read failed: {e}"))),
            Err(_) => Err(Stop::Silent),
        }
    }

    /// Drops the first `n` bytes of the buffer (a decoded packet).
    pub(super) fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }
}
