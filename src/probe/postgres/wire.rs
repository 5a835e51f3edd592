//! The PostgreSQL frontend/backend protocol 3.0, as far as the probe speaks it: the
//! SSLRequest, the StartupMessage, a simple Query, SASL responses, and bounded reads of
//! backend messages (a type byte, then a big-endian length that counts itself).
//!
//! Source: <https://www.postgresql.org/docs/current/protocol-message-formats.html>.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::BoxStream;

/// Protocol version 3.0 as the StartupMessage carries it (`196608`).
pub const PROTOCOL_3_0: u32 = 3 << 16;
/// The SSLRequest code (`80877103`).
pub const SSL_REQUEST_CODE: u32 = 80_877_103;
/// Largest backend message accepted, checked before allocating: a startup reply is a few
/// hundred bytes, and one row of a database-name listing is far below this.
pub const MAX_MESSAGE: usize = 64 << 10;

/// Why no message could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// Nothing came before the step timeout.
    Timeout,
    /// The server closed the connection; `read` is how many bytes of a message came first.
    Closed {
        /// Bytes of the message read before the close.
        read: usize,
    },
    /// The bytes are not a backend message: the reason and the first bytes.
    Malformed(String, Vec<u8>),
    /// A socket error.
    Io(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Timeout => f.write_str("no answer before the timeout"),
            WireError::Closed { read: 0 } => f.write_str("connection closed without a reply"),
            WireError::Closed { read } => write!(f, "connection closed after {read} bytes"),
            WireError::Malformed(why, _) => write!(f, "not a PostgreSQL message: {why}"),
            WireError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// One backend message: its type byte and its body (without type and length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The type byte (`R`, `E`, `S`, `Z`, ...).
    pub kind: u8,
    /// The body.
    pub body: Vec<u8>,
}

/// The SSLRequest packet.
pub fn ssl_request() -> Vec<u8> {
    let mut out = 8u32.to_be_bytes().to_vec();
    out.extend_from_slice(&SSL_REQUEST_CODE.to_be_bytes());
    out
}

/// A protocol 3.0 StartupMessage with these parameters.
pub fn startup(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = PROTOCOL_3_0.to_be_bytes().to_vec();
    for (key, value) in params {
        cstring(&mut body, key);
        cstring(&mut body, value);
    }
    body.push(0);
    let len = u32::try_from(body.len().saturating_add(4)).unwrap_or(u32::MAX);
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// A frontend message: type byte, length, body.
pub fn frontend(kind: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len().saturating_add(4)).unwrap_or(u32::MAX);
    let mut out = vec![kind];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A simple Query message.
pub fn query(sql: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(sql.len().saturating_add(1));
    cstring(&mut body, sql);
    frontend(b'Q', &body)
}

/// The Terminate message.
pub fn terminate() -> Vec<u8> {
    frontend(b'X', &[])
}

fn cstring(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}

/// Writes `bytes` within `timeout`.
pub async fn send(
    stream: &mut BoxStream,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), WireError> {
    match tokio::time::timeout(timeout, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    {
        Err(_) => Err(WireError::Timeout),
        Ok(Err(e)) => Err(WireError::Io(e.to_string())),
        Ok(Ok(())) => Ok(()),
    }
}

/// Reads one byte (the answer to an SSLRequest) within `timeout`.
pub async fn read_byte(stream: &mut BoxStream, timeout: Duration) -> Result<u8, WireError> {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(timeout, stream.read(&mut byte)).await {
        Err(_) => Err(WireError::Timeout),
        Ok(Err(e)) => Err(io_error(e, 0)),
        Ok(Ok(0)) => Err(WireError::Closed { read: 0 }),
        Ok(Ok(_)) => Ok(byte[0]),
    }
}

/// Reads one backend message within `timeout`, refusing a length beyond [`MAX_MESSAGE`]
/// or a type byte that is not a letter before reading its body.
pub async fn read_message(stream: &mut BoxStream, timeout: Duration) -> Result<Message, WireError> {
    let mut head = [0u8; 5];
    match tokio::time::timeout(timeout, read_full(stream, &mut head)).await {
        Err(_) => return Err(WireError::Timeout),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(())) => {}
    }
    let kind = head[0];
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if !kind.is_ascii_alphabetic() {
        return Err(WireError::Malformed(
            format!("message type byte 0x{kind:02x}"),
            head.to_vec(),
        ));
    }
    if !(4..=MAX_MESSAGE).contains(&len) {
        return Err(WireError::Malformed(
            format!("message length {len}"),
            head.to_vec(),
        ));
    }
    let mut body = vec![0u8; len.saturating_sub(4)];
    match tokio::time::timeout(timeout, read_full(stream, &mut body)).await {
        Err(_) => Err(WireError::Timeout),
        Ok(Err(WireError::Closed { read })) => Err(WireError::Closed {
            read: read.saturating_add(5),
        }),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => Ok(Message { kind, body }),
    }
}

async fn read_full(stream: &mut BoxStream, buf: &mut [u8]) -> Result<(), WireError> {
    let mut read = 0usize;
    while read < buf.len() {
        match stream.read(&mut buf[read..]).await {
            Ok(0) => return Err(WireError::Closed { read }),
            Ok(n) => read = read.saturating_add(n),
            Err(e) => return Err(io_error(e, read)),
        }
    }
    Ok(())
}

fn io_error(e: std::io::Error, read: usize) -> WireError {
    match e.kind() {
        std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::BrokenPipe => WireError::Closed { read },
        _ => WireError::Io(e.to_string()),
    }
}

/// The fields of an ErrorResponse or NoticeResponse: each a code byte and a C string,
/// ending with a zero byte. `None` when the body is not shaped so.
pub fn error_fields(body: &[u8]) -> Option<Vec<(u8, String)>> {
    let mut fields = Vec::new();
    let mut rest = body;
    loop {
        let (&code, tail) = rest.split_first()?;
        if code == 0 {
            return tail.is_empty().then_some(fields);
        }
        let end = tail.iter().position(|&b| b == 0)?;
        fields.push((code, String::from_utf8_lossy(&tail[..end]).into_owned()));
        rest = &tail[end.saturating_add(1)..];
    }
}

/// The two C strings of a ParameterStatus body.
pub fn parameter(body: &[u8]) -> Option<(String, String)> {
    let mut parts = body.split(|&b| b == 0);
    let name = parts.next()?;
    let value = parts.next()?;
    // A well-formed body is exactly "name\0value\0".
    if parts.next() != Some(&[][..]) || parts.next().is_some() {
        return None;
    }
    Some((
        String::from_utf8_lossy(name).into_owned(),
        String::from_utf8_lossy(value).into_owned(),
    ))
}

/// The first big-endian `u32` of a body.
pub fn be_u32(body: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = body.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The first big-endian `u16` of a body.
pub fn be_u16(body: &[u8]) -> Option<u16> {
    let bytes: [u8; 2] = body.get(..2)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

/// The one column of a DataRow with a single field, as text; `None` for any other shape
/// (a NULL, more fields, a length past the body).
pub fn single_text_column(body: &[u8]) -> Option<String> {
    if be_u16(body)? != 1 {
        return None;
    }
    let len = usize::try_from(i32::from_be_bytes(body.get(2..6)?.try_into().ok()?)).ok()?;
    let value = body.get(6..6usize.checked_add(len)?)?;
    if body.len() != 6usize.saturating_add(len) {
        return None;
    }
    Some(String::from_utf8_lossy(value).into_owned())
}

/// The field names of a RowDescription.
pub fn row_fields(body: &[u8]) -> Option<Vec<String>> {
    let count = be_u16(body)?;
    let mut rest = body.get(2..)?;
    let mut names = Vec::new();
    for _ in 0..count {
        let end = rest.iter().position(|&b| b == 0)?;
        names.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        // Name, NUL, then table oid, column, type oid, size, modifier, format: 18 bytes.
        rest = rest.get(end.checked_add(19)?..)?;
    }
    rest.is_empty().then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_and_requests_are_framed() {
        assert_eq!(ssl_request(), [0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]);
        let s = startup(&[("user", "postgres")]);
        assert_eq!(&s[..8], &[0, 0, 0, 23, 0, 3, 0, 0]);
        assert_eq!(&s[8..], b"user\0postgres\0\0");
        assert_eq!(query("SELECT 1"), b"Q\0\0\0\x0dSELECT 1\0");
        assert_eq!(terminate(), b"X\0\0\0\x04");
    }

    #[test]
    fn parses_bodies() {
        let e = error_fields(b"SFATAL\0C28000\0Mno pg_hba.conf entry\0\0").expect("fields");
        assert_eq!(e[1], (b'C', "28000".into()));
        assert_eq!(error_fields(b"SFATAL\0C28000"), None);
        assert_eq!(
            parameter(b"server_version\x0015.8\0"),
            Some(("server_version".into(), "15.8".into()))
        );
        assert_eq!(parameter(b"server_version\x0015.8"), None);
        assert_eq!(
            single_text_column(b"\0\x01\0\0\0\x08postgres"),
            Some("postgres".into())
        );
        assert_eq!(single_text_column(b"\0\x01\xff\xff\xff\xff"), None);
        assert_eq!(single_text_column(b"\0\x01\0\0\0\x09postgres"), None);
    }
}
