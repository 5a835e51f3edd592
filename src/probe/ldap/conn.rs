//! One LDAP connection: requests written and replies read as whole LDAPMessages, each read
//! and write under a deadline, each message's claimed size checked against a cap before
//! its bytes are buffered.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::ber::{self, Head};
use crate::net::BoxStream;
use crate::probe::{ProbeContext, ProbeOutcome};

/// The identifier octet of every LDAPMessage.
const SEQUENCE: u8 = 0x30;
/// Bytes read per `read` call.
const CHUNK: usize = 8 << 10;

/// Why no message was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadError {
    /// The server closed the connection before a whole message.
    Closed,
    /// Nothing (or not all of it) came before the deadline.
    Silent,
    /// A socket error.
    Io(String),
    /// The bytes are not a BER SEQUENCE with a definite length; the first of them.
    NotLdap(Vec<u8>),
    /// A message claiming more bytes than the cap (its claimed size).
    TooLarge(usize),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("connection closed without a reply"),
            ReadError::Silent => f.write_str("no reply before the timeout"),
            ReadError::Io(e) => write!(f, "socket error: {e}"),
            ReadError::NotLdap(head) => write!(
                f,
                "not an LDAP message (first bytes {})",
                crate::sanitize::byte_preview(head, 16)
            ),
            ReadError::TooLarge(n) => write!(f, "a message of {n} bytes, over the cap"),
        }
    }
}

/// A connection and the bytes read past the last message.
pub(super) struct Conn {
    stream: BoxStream,
    buf: Vec<u8>,
    max: usize,
}

impl Conn {
    /// A connection whose messages may be at most `max` bytes each.
    pub(super) fn new(stream: BoxStream, max: usize) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            max,
        }
    }

    /// Writes one request before `deadline`.
    pub(super) async fn send(
        &mut self,
        request: &[u8],
        deadline: Instant,
    ) -> Result<(), ReadError> {
        match tokio::time::timeout_at(deadline, self.stream.write_all(request)).await {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(&e)),
            Ok(Ok(())) => {
                let _ = tokio::time::timeout_at(deadline, self.stream.flush()).await;
                Ok(())
            }
        }
    }

    /// Reads the next whole message (its bytes, tag to end) before `deadline`.
    pub(super) async fn next(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        loop {
            // Every LDAPMessage is a SEQUENCE: any other first byte is another protocol.
            if self.buf.first().is_some_and(|&b| b != SEQUENCE) {
                return Err(ReadError::NotLdap(self.head()));
            }
            match ber::head(&self.buf) {
                Head::Invalid => return Err(ReadError::NotLdap(self.head())),
                Head::Sized { total, .. } if total > self.max => {
                    return Err(ReadError::TooLarge(total));
                }
                Head::Sized { total, .. } if self.buf.len() >= total => {
                    let rest = self.buf.split_off(total);
                    return Ok(std::mem::replace(&mut self.buf, rest));
                }
                Head::Sized { total, .. } => {
                    let want = total.saturating_sub(self.buf.len());
                    self.fill(want, deadline).await?;
                }
                Head::Incomplete => self.fill(CHUNK, deadline).await?,
            }
        }
    }

    /// Reads more bytes, at most `want` (and one chunk), into the buffer.
    async fn fill(&mut self, want: usize, deadline: Instant) -> Result<(), ReadError> {
        let mut chunk = vec![0u8; want.clamp(1, CHUNK)];
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(&e)),
            Ok(Ok(0)) => Err(ReadError::Closed),
            Ok(Ok(n)) => {
                self.buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                Ok(())
            }
        }
    }

    /// The first bytes buffered, for notes.
    fn head(&self) -> Vec<u8> {
        self.buf.iter().take(32).copied().collect()
    }

    /// Sends an unbindRequest and closes, without waiting for anything (the server sends no
    /// response to an unbind).
    pub(super) async fn unbind(mut self, request: &[u8], deadline: Instant) {
        let _ = self.send(request, deadline).await;
        let _ = tokio::time::timeout_at(deadline, self.stream.shutdown()).await;
    }
}

/// The first exchange got no LDAP reply.
pub(super) fn read_failure(cx: &ProbeContext, error: ReadError, tls: bool) -> ProbeOutcome {
    match error {
        ReadError::Silent => ProbeOutcome::Silent,
        // An LDAPS-only port drops a plain-text client without a word.
        ReadError::Closed if !tls => {
            ProbeOutcome::WantsTls("closed the connection without answering the bind".into())
        }
        ReadError::NotLdap(head)
            if !tls && matches!(head.as_slice(), [0x15, 0x03, 0x00..=0x04, ..]) =>
        {
            ProbeOutcome::WantsTls("answered plain text with a TLS alert".into())
        }
        ReadError::NotLdap(ref head) => not_ldap(cx, error.to_string(), head),
        ReadError::Io(e) => ProbeOutcome::NotThis {
            note: format!("socket error: {e}"),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        },
        other => not_ldap(cx, other.to_string(), &[]),
    }
}

/// Bytes that are not LDAP; bytes another native protocol answers with hint that probe.
pub(super) fn not_ldap(cx: &ProbeContext, reason: String, head: &[u8]) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!("not LDAP: {reason}"),
        hint: cx
            .registry
            .by_answer(head)
            .filter(|p| p.id != "ldap")
            .map(|p| p.id),
        transport_confirmed: true,
        speaks_protocol: false,
    }
}

fn io_error(e: &std::io::Error) -> ReadError {
    ReadError::Io(e.kind().to_string())
}
