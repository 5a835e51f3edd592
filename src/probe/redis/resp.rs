//! RESP2, as much of it as the probe needs: inline-free command encoding (`*1\r\n$4\r\nPING\r\n`)
//! and one bounded reader for the replies PING and INFO get (simple strings, errors, bulk
//! strings). Every read has the exchange's deadline and every buffer a cap checked before it
//! grows, whatever length a server claims.
//!
//! Reply framing from the protocol spec (redis.io/docs/latest/develop/reference/protocol-spec/):
//! `+` simple string, `-` error, `:` integer, `$<len>\r\n<bytes>\r\n` bulk string (`$-1` null),
//! `*` array; every header line ends in CRLF.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::net::BoxStream;

/// Longest header line (simple string, error, bulk length) accepted. Redis's longest
/// error, the protected-mode `-DENIED`, is about 1 KB.
const MAX_LINE: usize = 4096;
/// Bytes read per `read` call.
const CHUNK: usize = 4096;

/// One RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reply {
    /// `+OK`, `+PONG`: the text after `+`.
    Simple(String),
    /// `-NOAUTH Authentication required.`: the text after `-`.
    Error(String),
    /// A bulk string's bytes.
    Bulk(Vec<u8>),
    /// `$-1`.
    Null,
    /// An integer or array reply: its type byte (never the answer to PING or INFO).
    Other(u8),
}

/// Why no reply was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadError {
    /// The server closed the connection before a whole reply.
    Closed,
    /// Nothing (or not all of it) came before the deadline.
    Silent,
    /// A socket error.
    Io(String),
    /// The bytes are not RESP; the first of them, for the note.
    NotResp(Vec<u8>),
    /// A bulk string longer than the cap (its claimed length).
    TooLarge(i64),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("connection closed without a reply"),
            ReadError::Silent => f.write_str("no reply before the timeout"),
            ReadError::Io(e) => write!(f, "socket error: {e}"),
            ReadError::NotResp(head) => write!(
                f,
                "not a RESP reply (first bytes {})",
                crate::sanitize::byte_preview(head, 16)
            ),
            ReadError::TooLarge(len) => write!(f, "a bulk reply of {len} bytes, over the cap"),
        }
    }
}

/// A command as RESP2 sends it: an array of bulk strings.
pub(super) fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A connection and the bytes read past the last reply.
pub(super) struct Conn {
    stream: BoxStream,
    buf: Vec<u8>,
}

impl Conn {
    pub(super) fn new(stream: BoxStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends `command` and reads its reply, bulk strings up to `max` bytes, all before
    /// `deadline`.
    pub(super) async fn call(
        &mut self,
        command: &[u8],
        max: usize,
        deadline: Instant,
    ) -> Result<Reply, ReadError> {
        let written = match tokio::time::timeout_at(deadline, self.stream.write_all(command)).await
        {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(e)),
            Ok(Ok(())) => Ok(()),
        };
        let _ = tokio::time::timeout_at(deadline, self.stream.flush()).await;
        // A server that spoke and hung up on accept (protected mode's `-DENIED`) makes the
        // write fail; what it said is still in the socket, and is the answer.
        match (self.read_reply(max, deadline).await, written) {
            (Ok(reply), _) => Ok(reply),
            (Err(error), Ok(())) => Err(error),
            (Err(_), Err(error)) => Err(error),
        }
    }

    /// Reads more bytes, at most `want`, into the buffer.
    async fn fill(&mut self, want: usize, deadline: Instant) -> Result<(), ReadError> {
        let mut chunk = [0u8; CHUNK];
        let want = want.clamp(1, CHUNK);
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk[..want])).await {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(e)),
            Ok(Ok(0)) => Err(ReadError::Closed),
            Ok(Ok(n)) => {
                self.buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                Ok(())
            }
        }
    }

    async fn read_reply(&mut self, max: usize, deadline: Instant) -> Result<Reply, ReadError> {
        let line_end = loop {
            if let Some(first) = self.buf.first()
                && !matches!(first, b'+' | b'-' | b'$' | b':' | b'*')
            {
                return Err(ReadError::NotResp(self.head()));
            }
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                break pos;
            }
            if self.buf.len() > MAX_LINE {
                return Err(ReadError::NotResp(self.head()));
            }
            self.fill(MAX_LINE, deadline).await?;
        };
        let line =
            String::from_utf8_lossy(self.buf.get(1..line_end).unwrap_or_default()).into_owned();
        let kind = self.buf.first().copied().unwrap_or(0);
        let body_start = line_end.saturating_add(2);
        let reply = match kind {
            b'+' => Reply::Simple(line),
            b'-' => Reply::Error(line),
            b'$' => {
                let len: i64 = line.parse().map_err(|_| ReadError::NotResp(self.head()))?;
                if len == -1 {
                    Reply::Null
                } else if len < 0 {
                    return Err(ReadError::NotResp(self.head()));
                } else if usize::try_from(len).map_or(true, |l| l > max) {
                    return Err(ReadError::TooLarge(len));
                } else {
                    let len = usize::try_from(len).unwrap_or(0);
                    let total = body_start.saturating_add(len).saturating_add(2);
                    while self.buf.len() < total {
                        let missing = total.saturating_sub(self.buf.len());
                        self.fill(missing, deadline).await?;
                    }
                    if self.buf.get(total.saturating_sub(2)..total) != Some(b"\r\n".as_slice()) {
                        return Err(ReadError::NotResp(self.head()));
                    }
                    let body = self
                        .buf
                        .get(body_start..total.saturating_sub(2))
                        .unwrap_or_default()
                        .to_vec();
                    self.buf.drain(..total);
                    return Ok(Reply::Bulk(body));
                }
            }
            other => Reply::Other(other),
        };
        let consumed = body_start.min(self.buf.len());
        self.buf.drain(..consumed);
        Ok(reply)
    }

    fn head(&self) -> Vec<u8> {
        self.buf.iter().take(16).copied().collect()
    }
}

fn io_error(e: std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted
        | std::io::ErrorKind::BrokenPipe
        | std::io::ErrorKind::UnexpectedEof => ReadError::Closed,
        _ => ReadError::Io(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands_as_arrays_of_bulk_strings() {
        assert_eq!(encode(&["PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(encode(&["INFO"]), b"*1\r\n$4\r\nINFO\r\n");
    }
}
