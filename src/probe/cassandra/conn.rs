//! One CQL connection: requests written and response frames read within the step
//! timeout, each frame's length checked against [`MAX_FRAME`] before anything is
//! allocated, and responses matched to the stream id of their request.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::wire::{self, HEADER_LEN, Header};
use crate::net::BoxStream;
use crate::sanitize::byte_preview;

/// Largest response frame read: a page of 1000 schema rows of 48-character names is
/// about 100 KiB.
pub const MAX_FRAME: usize = 256 << 10;

/// Why no frame came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Nothing before the step timeout.
    Silent,
    /// The server closed the connection; `true` when it sent nothing at all first.
    Closed(bool),
    /// Bytes that are not a CQL response frame: the first of them.
    NotCql(Vec<u8>),
    /// A well-formed header announcing a body over [`MAX_FRAME`].
    TooLarge(usize),
    /// A response on another stream than the request's.
    WrongStream(i16),
    /// A socket error.
    Io(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Silent => f.write_str("no answer before the timeout"),
            Stop::Closed(true) => f.write_str("connection closed without an answer"),
            Stop::Closed(false) => f.write_str("connection closed in the middle of a frame"),
            Stop::NotCql(head) => {
                write!(f, "not a CQL response frame: {}", byte_preview(head, 24))
            }
            Stop::TooLarge(n) => write!(f, "a frame of {n} bytes, over the {MAX_FRAME} cap"),
            Stop::WrongStream(s) => write!(f, "a response on stream {s}, not the request's"),
            Stop::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// A connection speaking one protocol version.
pub struct Conn {
    stream: BoxStream,
    step: Duration,
    /// The request version byte (3 or 4).
    pub version: u8,
    next_stream: i16,
}

impl Conn {
    /// A connection speaking protocol `version`.
    pub fn new(stream: BoxStream, step: Duration, version: u8) -> Conn {
        Conn {
            stream,
            step,
            version,
            next_stream: 1,
        }
    }

    /// Sends one request and reads its response: the header and the body.
    pub async fn call(&mut self, opcode: u8, body: &[u8]) -> Result<(Header, Vec<u8>), Stop> {
        let stream = self.next_stream;
        self.next_stream = self.next_stream.checked_add(1).unwrap_or(1);
        let request = wire::frame(self.version, stream, opcode, body);
        match tokio::time::timeout(self.step, self.stream.write_all(&request)).await {
            Err(_) => return Err(Stop::Silent),
            Ok(Err(e)) => return Err(Stop::Io(e.to_string())),
            Ok(Ok(())) => {}
        }
        let (header, body) = self.read_frame().await?;
        // A protocol error about the version may come back on stream 0 (the server could
        // not read the request's header as this version).
        if header.stream != stream && !(header.opcode == wire::ERROR && header.stream == 0) {
            return Err(Stop::WrongStream(header.stream));
        }
        Ok((header, body))
    }

    async fn read_frame(&mut self) -> Result<(Header, Vec<u8>), Stop> {
        let mut head = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match tokio::time::timeout(self.step, self.stream.read(&mut head[got..])).await {
                Err(_) if got == 0 => return Err(Stop::Silent),
                Err(_) => return Err(Stop::NotCql(head[..got].to_vec())),
                Ok(Ok(0)) if got == 0 => return Err(Stop::Closed(true)),
                Ok(Ok(0)) => return Err(Stop::NotCql(head[..got].to_vec())),
                Ok(Ok(n)) => got = got.saturating_add(n),
                Ok(Err(e)) => return Err(Stop::Io(e.to_string())),
            }
        }
        let header = wire::parse_header(&head).ok_or_else(|| Stop::NotCql(head.to_vec()))?;
        if header.length > MAX_FRAME {
            return Err(Stop::TooLarge(header.length));
        }
        let mut body = vec![0u8; header.length];
        match tokio::time::timeout(self.step, self.stream.read_exact(&mut body)).await {
            Err(_) => Err(Stop::Silent),
            Ok(Ok(_)) => Ok((header, body)),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(Stop::Closed(false)),
            Ok(Err(e)) => Err(Stop::Io(e.to_string())),
        }
    }
}
