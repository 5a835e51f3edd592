//! One AMQP connection: writes and reads with the step timeout on each, and frames read
//! whole or not at all, every size checked against [`MAX_FRAME`] before it is buffered.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::wire;
use crate::net::BoxStream;

/// Largest frame accepted; RabbitMQ's Connection.Start is about 500 bytes.
pub(super) const MAX_FRAME: usize = 64 << 10;
/// Heartbeat frames skipped while waiting for a method, at most.
const MAX_HEARTBEATS: usize = 4;

/// What the server sent first, or next.
#[derive(Debug)]
pub(super) enum Incoming {
    /// A protocol header: the server does not speak the version asked for.
    Header(Vec<u8>),
    /// A method frame on channel 0: class, method, arguments.
    Method(u16, u16, Vec<u8>),
}

/// Why no frame was read.
#[derive(Debug)]
pub(super) enum Stop {
    /// Nothing at all before the step timeout.
    Silent,
    /// The server hung up (or reset) after sending these bytes.
    Closed(Vec<u8>),
    /// Bytes that are not an AMQP frame or header (or stopped short of one).
    NotAmqp(Vec<u8>),
    /// A frame over the cap, on another channel, or of another type.
    Bad(String),
}

impl Stop {
    /// The stop for the evidence.
    pub(super) fn describe(&self) -> String {
        match self {
            Stop::Silent => "no answer before the timeout".into(),
            Stop::Closed(b) if b.is_empty() => "the server closed the connection".into(),
            Stop::Closed(b) => format!(
                "the server closed the connection after {}",
                crate::sanitize::byte_preview(b, 32)
            ),
            Stop::NotAmqp(b) => format!(
                "not an AMQP frame: {}",
                crate::sanitize::byte_preview(b, 32)
            ),
            Stop::Bad(why) => why.clone(),
        }
    }
}

/// One connection with the step timeout on every read and write.
pub(super) struct Conn {
    stream: BoxStream,
    step: Duration,
    buf: Vec<u8>,
}

impl Conn {
    /// A connection over `stream` whose every read and write waits at most `step`.
    pub(super) fn new(stream: BoxStream, step: Duration) -> Conn {
        Conn {
            stream,
            step,
            buf: Vec::new(),
        }
    }

    /// Writes `bytes` whole; a failed write is a hang-up.
    pub(super) async fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::Closed(Vec::new())),
            Err(_) => Err(Stop::Silent),
        }
    }

    /// Reads the next protocol header or method frame, skipping heartbeats.
    pub(super) async fn next(&mut self) -> Result<Incoming, Stop> {
        for _ in 0..=MAX_HEARTBEATS {
            self.fill(1).await?;
            if self.buf[0] == b'A' {
                self.fill(8).await?;
                return Ok(Incoming::Header(self.buf.drain(..8).collect()));
            }
            self.fill(7).await?;
            let kind = self.buf[0];
            let channel = u16::from_be_bytes([self.buf[1], self.buf[2]]);
            let size = u32::from_be_bytes([self.buf[3], self.buf[4], self.buf[5], self.buf[6]]);
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            if kind != wire::FRAME_METHOD && kind != wire::FRAME_HEARTBEAT {
                return Err(Stop::Bad(format!(
                    "a frame of type {kind} before any method"
                )));
            }
            if size > MAX_FRAME {
                return Err(Stop::Bad(format!(
                    "a {size}-byte frame, over the {MAX_FRAME}-byte cap"
                )));
            }
            let whole = size.saturating_add(8);
            self.fill(whole).await?;
            let frame: Vec<u8> = self.buf.drain(..whole).collect();
            if frame.last() != Some(&wire::FRAME_END) {
                return Err(Stop::Bad("a frame without its 0xCE frame-end octet".into()));
            }
            if kind == wire::FRAME_HEARTBEAT {
                continue;
            }
            if channel != 0 {
                return Err(Stop::Bad(format!("a method frame on channel {channel}")));
            }
            let payload = &frame[7..whole.saturating_sub(1)];
            return match wire::method(payload) {
                Some((class, method, args)) => Ok(Incoming::Method(class, method, args.to_vec())),
                None => Err(Stop::Bad("a method frame shorter than its ids".into())),
            };
        }
        Err(Stop::Bad("only heartbeats, no method".into()))
    }

    /// Reads until `n` bytes are buffered. Bytes that cannot begin an AMQP header or a
    /// method frame stop at once, without waiting for more.
    async fn fill(&mut self, n: usize) -> Result<(), Stop> {
        let mut chunk = [0u8; 4096];
        while self.buf.len() < n {
            if !plausible(&self.buf) {
                return Err(Stop::NotAmqp(std::mem::take(&mut self.buf)));
            }
            // Reading ahead is fine (the buffer carries over), within one frame's worth.
            let room = MAX_FRAME.saturating_add(16).saturating_sub(self.buf.len());
            let want = chunk.len().min(room).max(1);
            match tokio::time::timeout(self.step, self.stream.read(&mut chunk[..want])).await {
                Err(_) if self.buf.is_empty() => return Err(Stop::Silent),
                Err(_) => return Err(Stop::NotAmqp(std::mem::take(&mut self.buf))),
                Ok(Ok(0)) | Ok(Err(_)) => return Err(Stop::Closed(std::mem::take(&mut self.buf))),
                Ok(Ok(got)) => self.buf.extend_from_slice(&chunk[..got]),
            }
        }
        if plausible(&self.buf) {
            Ok(())
        } else {
            Err(Stop::NotAmqp(std::mem::take(&mut self.buf)))
        }
    }
}

/// Whether buffered bytes can still be the start of an AMQP header or of a method or
/// heartbeat frame (a short TLS alert's head is read whole, for the caller to tell).
fn plausible(buf: &[u8]) -> bool {
    match buf.first() {
        None => true,
        Some(b'A') => b"AMQP".starts_with(&buf[..buf.len().min(4)]),
        // A TLS alert (0x15 0x03 ...) is told apart by its first three bytes.
        Some(0x15) => buf.len() < 3,
        Some(&kind) if kind == wire::FRAME_METHOD || kind == wire::FRAME_HEARTBEAT => true,
        Some(_) => false,
    }
}
