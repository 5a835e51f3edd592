//! The NATS client protocol's framing as the probe reads it: CRLF-terminated control lines
//! (`INFO {json}`, `PONG`, `-ERR '...'`, `MSG <subject> <sid> [reply] <bytes>`) and the
//! payload after a `MSG` line, each read within the step timeout and a byte cap
//! (docs.nats.io/reference/reference-protocols/nats-protocol).

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::BoxStream;

/// Longest control line read (an `INFO` with a cluster's `connect_urls` is a few KiB).
pub const MAX_LINE: usize = 64 << 10;

/// Why a line or payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Nothing came back before the step timeout.
    Silent,
    /// The server closed the connection; the bytes it had sent of the unfinished line.
    Closed(Vec<u8>),
    /// No CRLF within [`MAX_LINE`] bytes.
    TooLong,
    /// A payload not followed by its CRLF: the announced length was wrong.
    BadFrame,
    /// A socket error.
    Io(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Silent => f.write_str("no answer before the timeout"),
            Stop::Closed(b) if b.is_empty() => f.write_str("connection closed without an answer"),
            Stop::Closed(b) => write!(
                f,
                "connection closed after {}",
                crate::sanitize::byte_preview(b, 48)
            ),
            Stop::TooLong => write!(f, "no line end within {} KiB", MAX_LINE >> 10),
            Stop::BadFrame => f.write_str("payload not followed by CRLF (length does not match)"),
            Stop::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// One NATS connection: the stream, what was read past the last line, the step timeout.
pub struct Conn {
    /// The plain or TLS stream.
    pub stream: BoxStream,
    /// Bytes read but not consumed yet.
    pub buf: Vec<u8>,
    /// Deadline of each read and write.
    pub step: Duration,
}

impl Conn {
    /// A connection with nothing buffered.
    pub fn new(stream: BoxStream, step: Duration) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            step,
        }
    }

    /// Writes `bytes` within the step timeout.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.write_all(bytes)).await {
            Err(_) => Err(Stop::Silent),
            Ok(Err(e)) => Err(Stop::Io(e.to_string())),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Reads more bytes into the buffer, within `wait`.
    async fn fill(&mut self, wait: Duration) -> Result<(), Stop> {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(wait, self.stream.read(&mut chunk)).await {
            Err(_) => Err(Stop::Silent),
            Ok(Ok(0)) => Err(Stop::Closed(std::mem::take(&mut self.buf))),
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Ok(Err(e)) => Err(Stop::Io(e.to_string())),
        }
    }

    /// The next control line without its CRLF, within the step timeout per read.
    pub async fn line(&mut self) -> Result<Vec<u8>, Stop> {
        self.line_within(self.step).await
    }

    /// The next control line, each read waiting at most `wait`.
    pub async fn line_within(&mut self, wait: Duration) -> Result<Vec<u8>, Stop> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..end].to_vec();
                self.buf.drain(..end.saturating_add(2));
                return Ok(line);
            }
            if self.buf.len() >= MAX_LINE {
                return Err(Stop::TooLong);
            }
            self.fill(wait).await?;
        }
    }

    /// A payload of `len` bytes and its CRLF (after a `MSG` line, or beanstalkd's `OK
    /// <bytes>`); the caller checked `len` against its cap.
    pub async fn payload(&mut self, len: usize, wait: Duration) -> Result<Vec<u8>, Stop> {
        let want = len.saturating_add(2);
        while self.buf.len() < want {
            self.fill(wait).await?;
        }
        if self.buf.get(len..want) != Some(b"\r\n".as_slice()) {
            return Err(Stop::BadFrame);
        }
        let payload = self.buf[..len].to_vec();
        self.buf.drain(..want);
        Ok(payload)
    }
}

/// What an `INFO` line says about the server, as nats-server sends it on accept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// `server_id`: the server's public NKey (`N...`) on 2.x, a hex id on 0.x/1.x.
    pub server_id: String,
    /// `server_name` (2.2+), when different from the id.
    pub server_name: Option<String>,
    /// `version`: the nats-server release.
    pub version: String,
    /// `go`: the Go release it was built with.
    pub go: Option<String>,
    /// `max_payload`: largest message accepted, in bytes.
    pub max_payload: u64,
    /// `auth_required`: the client must authenticate in CONNECT.
    pub auth_required: bool,
    /// `tls_required`: the client must upgrade to TLS right after INFO.
    pub tls_required: bool,
    /// `tls_verify`: the server requires a client certificate.
    pub tls_verify: bool,
    /// `jetstream`: JetStream is enabled (2.2+).
    pub jetstream: bool,
}

/// Whether bytes a server sent unasked begin a NATS `INFO` line (operation names are case
/// insensitive; the server writes `INFO {`).
pub fn is_info(bytes: &[u8]) -> bool {
    bytes.len() >= 6 && bytes[..5].eq_ignore_ascii_case(b"INFO ") && bytes[5] == b'{'
}

/// Whether bytes are nats-server's answer to a line that is no NATS operation (an HTTP
/// request line): `-ERR 'Unknown Protocol Operation'`.
pub fn is_unknown_operation(bytes: &[u8]) -> bool {
    bytes.starts_with(b"-ERR 'Unknown Protocol Operation'")
}

/// Parses an `INFO` line (without CRLF). Well-formed means: `INFO ` then one JSON object
/// with a non-empty `server_id` and `version` and a numeric `max_payload`, which every
/// nats-server sends; anything else is not NATS.
pub fn parse_info(line: &[u8]) -> Option<Info> {
    if !is_info(line) {
        return None;
    }
    let json: Value = serde_json::from_slice(line.get(5..)?).ok()?;
    let obj = json.as_object()?;
    let text = |key: &str, max: usize| {
        obj.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= max)
            .map(str::to_string)
    };
    let flag = |key: &str| obj.get(key).and_then(Value::as_bool).unwrap_or(false);
    let server_id = text("server_id", 128)?;
    let server_name = text("server_name", 128).filter(|n| *n != server_id);
    Some(Info {
        version: text("version", 64)?,
        go: text("go", 64),
        max_payload: obj.get("max_payload").and_then(Value::as_u64)?,
        auth_required: flag("auth_required"),
        tls_required: flag("tls_required") || flag("ssl_required"),
        tls_verify: flag("tls_verify") || flag("ssl_verify"),
        jetstream: flag("jetstream"),
        server_id,
        server_name,
    })
}

/// A `MSG <subject> <sid> [reply-to] <#bytes>` line's subject, sid and payload size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgHead {
    /// The subject the message was delivered on.
    pub subject: String,
    /// The subscription id.
    pub sid: String,
    /// Payload bytes that follow the line.
    pub len: usize,
}

/// Parses a `MSG` line; `None` for any other line.
pub fn parse_msg(line: &[u8]) -> Option<MsgHead> {
    let text = std::str::from_utf8(line).ok()?;
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    let (op, subject, sid, len) = match words.as_slice() {
        [op, subject, sid, len] | [op, subject, sid, _, len] => (*op, *subject, *sid, *len),
        _ => return None,
    };
    if !op.eq_ignore_ascii_case("MSG") {
        return None;
    }
    Some(MsgHead {
        subject: subject.to_string(),
        sid: sid.to_string(),
        len: len.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lines() {
        let line = br#"INFO {"server_id":"NABC","version":"2.9.10","go":"go1.19.8","max_payload":1048576,"auth_required":true}"#;
        let info = parse_info(line).expect("info");
        assert_eq!(info.version, "2.9.10");
        assert!(info.auth_required && !info.tls_required && !info.jetstream);
        assert_eq!(info.max_payload, 1_048_576);
        assert_eq!(info.server_name, None);
        // No max_payload, no version, not an object, not INFO: not NATS.
        assert_eq!(parse_info(br#"INFO {"server_id":"N","version":"1"}"#), None);
        assert_eq!(
            parse_info(br#"INFO {"server_id":"N","max_payload":1}"#),
            None
        );
        assert_eq!(parse_info(b"INFO [1]"), None);
        assert_eq!(parse_info(b"INFO {"), None);
        assert_eq!(parse_info(br#"HELLO {"server_id":"N"}"#), None);
    }

    #[test]
    fn msg_lines() {
        assert_eq!(
            parse_msg(b"MSG _INBOX.a 1 123"),
            Some(MsgHead {
                subject: "_INBOX.a".into(),
                sid: "1".into(),
                len: 123
            })
        );
        assert_eq!(parse_msg(b"MSG a 1 r 7").map(|m| m.len), Some(7));
        assert_eq!(parse_msg(b"MSG a 1 -3"), None);
        assert_eq!(parse_msg(b"PONG"), None);
    }
}
