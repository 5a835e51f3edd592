//! MQTT control packets as the probe writes and reads them (OASIS MQTT 3.1.1 and 5.0,
//! section 2 "MQTT Control Packet format" and section 3 of each): the CONNECT, SUBSCRIBE
//! and DISCONNECT it sends, the CONNACK and SUBACK it parses, and a connection whose every
//! read and write has a deadline. Lengths come from the server: they are checked before
//! anything is allocated, and payloads are skipped through a scratch buffer, never kept.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::time::Instant;

use crate::net::BoxStream;

/// Fixed-header first byte of a CONNACK (type 2, flags 0).
pub(super) const CONNACK: u8 = 0x20;
/// Fixed-header first byte of a SUBACK (type 9, flags 0).
pub(super) const SUBACK: u8 = 0x90;
/// DISCONNECT with no variable header: normal disconnection in both versions.
pub(super) const DISCONNECT: [u8; 2] = [0xE0, 0x00];
/// Largest CONNACK or SUBACK body read; a v5 CONNACK with every property is well under.
pub(super) const MAX_ACK: u32 = 4096;
/// The packet identifier of the one SUBSCRIBE the probe sends.
pub(super) const SUBSCRIBE_ID: u16 = 1;
/// Keep Alive asked for, in seconds.
const KEEPALIVE: u16 = 10;

/// The protocol version a CONNECT asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    /// MQTT 3.1.1, protocol level 4.
    V311,
    /// MQTT 5.0, protocol level 5.
    V5,
}

impl Version {
    /// The protocol level byte of CONNECT.
    fn level(self) -> u8 {
        match self {
            Version::V311 => 4,
            Version::V5 => 5,
        }
    }

    /// How reports name it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Version::V311 => "3.1.1",
            Version::V5 => "5.0",
        }
    }

    /// The CONNECT as the trace shows it (an operator replays it with `mosquitto_sub -V`).
    pub(super) fn connect_text(self) -> String {
        let start = match self {
            Version::V311 => "clean session",
            Version::V5 => "clean start",
        };
        format!(
            "CONNECT MQTT {} (level {}), {start}, keepalive {KEEPALIVE}, no username or password",
            self.label(),
            self.level()
        )
    }
}

/// The Remaining Length encoding (variable byte integer, at most 4 bytes).
fn put_length(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut digit = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            digit |= 0x80;
        }
        out.push(digit);
        if n == 0 {
            return;
        }
    }
}

/// A length-prefixed UTF-8 string field; the probe's own strings are all short.
fn put_str(out: &mut Vec<u8>, text: &str) {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&text.as_bytes()[..usize::from(len)]);
}

/// One packet: the first byte, the Remaining Length, the body.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    put_length(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// CONNECT with clean session (clean start), no will, no user name, no password.
pub(super) fn connect(version: Version, client_id: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(32);
    put_str(&mut body, "MQTT");
    body.push(version.level());
    body.push(0x02);
    body.extend_from_slice(&KEEPALIVE.to_be_bytes());
    if version == Version::V5 {
        body.push(0); // no properties
    }
    put_str(&mut body, client_id);
    packet(0x10, &body)
}

/// SUBSCRIBE (fixed-header flags 0b0010) to `filters` at QoS 0; in 5.0 the options byte
/// also leaves No Local, Retain As Published and Retain Handling at 0 (send retained).
pub(super) fn subscribe(version: Version, filters: &[&str]) -> Vec<u8> {
    let mut body = SUBSCRIBE_ID.to_be_bytes().to_vec();
    if version == Version::V5 {
        body.push(0);
    }
    for filter in filters {
        put_str(&mut body, filter);
        body.push(0);
    }
    packet(0x82, &body)
}

/// A variable byte integer at the head of `bytes`: its value and its size.
pub(super) fn varint(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for (i, &b) in bytes.iter().take(4).enumerate() {
        value |= u32::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// What a CONNACK body says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Connack {
    /// The return code (3.1.1) or reason code (5.0).
    pub code: u8,
    /// True when the body has 5.0's property length after the code.
    pub v5_format: bool,
}

/// Parses a CONNACK body: acknowledge flags with only Session Present possibly set, the
/// code, and in 5.0 a property length that accounts for the rest of the body exactly.
pub(super) fn parse_connack(body: &[u8]) -> Option<Connack> {
    let (&flags, rest) = body.split_first()?;
    let (&code, props) = rest.split_first()?;
    if flags & 0xFE != 0 {
        return None;
    }
    if props.is_empty() {
        return Some(Connack {
            code,
            v5_format: false,
        });
    }
    let (len, size) = varint(props)?;
    let total = usize::try_from(len).ok()?.checked_add(size)?;
    (total == props.len()).then_some(Connack {
        code,
        v5_format: true,
    })
}

/// Parses a SUBACK body for the probe's SUBSCRIBE: its packet identifier, in 5.0 a
/// property length, then one code per filter.
pub(super) fn parse_suback(version: Version, body: &[u8], filters: usize) -> Option<Vec<u8>> {
    let id = body.get(..2)?;
    if id != SUBSCRIBE_ID.to_be_bytes() {
        return None;
    }
    let mut rest = body.get(2..)?;
    if version == Version::V5 {
        let (len, size) = varint(rest)?;
        let skip = usize::try_from(len).ok()?.checked_add(size)?;
        rest = rest.get(skip..)?;
    }
    (rest.len() == filters).then(|| rest.to_vec())
}

/// Why a read or write did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadError {
    /// The deadline passed first.
    Silent,
    /// The server closed the connection (or reset it).
    Closed,
    /// Bytes that cannot be an MQTT packet here.
    Malformed(String),
    /// Any other socket error.
    Io(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Silent => f.write_str("no answer before the timeout"),
            ReadError::Closed => f.write_str("connection closed"),
            ReadError::Malformed(why) => write!(f, "malformed packet: {why}"),
            ReadError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

fn io_error(error: &std::io::Error) -> ReadError {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::UnexpectedEof
        | ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe => ReadError::Closed,
        _ => ReadError::Io(error.to_string()),
    }
}

/// One connection to a broker; every operation ends by its deadline.
pub(super) struct Conn {
    stream: BufReader<BoxStream>,
    /// Bytes read so far, for the collection window's cap.
    pub read: u64,
}

impl Conn {
    /// Wraps a connected stream.
    pub(super) fn new(stream: BoxStream) -> Conn {
        Conn {
            stream: BufReader::with_capacity(8192, stream),
            read: 0,
        }
    }

    /// Writes `bytes` whole before `deadline`.
    pub(super) async fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), ReadError> {
        let inner = self.stream.get_mut();
        let write = async {
            inner.write_all(bytes).await?;
            inner.flush().await
        };
        match tokio::time::timeout_at(deadline, write).await {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(&e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// One byte.
    pub(super) async fn byte(&mut self, deadline: Instant) -> Result<u8, ReadError> {
        match tokio::time::timeout_at(deadline, self.stream.read_u8()).await {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(&e)),
            Ok(Ok(b)) => {
                self.read = self.read.saturating_add(1);
                Ok(b)
            }
        }
    }

    /// Exactly `n` bytes; callers bound `n` before asking.
    pub(super) async fn exact(
        &mut self,
        n: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, ReadError> {
        let mut buf = vec![0u8; n];
        match tokio::time::timeout_at(deadline, self.stream.read_exact(&mut buf)).await {
            Err(_) => Err(ReadError::Silent),
            Ok(Err(e)) => Err(io_error(&e)),
            Ok(Ok(_)) => {
                self.read = self.read.saturating_add(n as u64);
                Ok(buf)
            }
        }
    }

    /// Reads and discards `n` bytes without looking at them.
    pub(super) async fn skip(&mut self, n: u64, deadline: Instant) -> Result<(), ReadError> {
        let mut left = n;
        while left > 0 {
            let fill = tokio::time::timeout_at(deadline, self.stream.fill_buf()).await;
            let available = match fill {
                Err(_) => return Err(ReadError::Silent),
                Ok(Err(e)) => return Err(io_error(&e)),
                Ok(Ok([])) => return Err(ReadError::Closed),
                Ok(Ok(buf)) => buf.len() as u64,
            };
            let take = available.min(left);
            self.stream.consume(usize::try_from(take).unwrap_or(0));
            left = left.saturating_sub(take);
            self.read = self.read.saturating_add(take);
        }
        Ok(())
    }

    /// The rest of a fixed header after its first byte: the Remaining Length.
    pub(super) async fn length(&mut self, deadline: Instant) -> Result<u32, ReadError> {
        let mut bytes = Vec::with_capacity(4);
        loop {
            let b = self.byte(deadline).await?;
            bytes.push(b);
            if b & 0x80 == 0 {
                break;
            }
            if bytes.len() == 4 {
                return Err(ReadError::Malformed(
                    "remaining length longer than 4 bytes".into(),
                ));
            }
        }
        varint(&bytes)
            .map(|(n, _)| n)
            .ok_or_else(|| ReadError::Malformed("remaining length".into()))
    }

    /// A whole fixed header: first byte and Remaining Length.
    pub(super) async fn header(&mut self, deadline: Instant) -> Result<(u8, u32), ReadError> {
        let first = self.byte(deadline).await?;
        Ok((first, self.length(deadline).await?))
    }

    /// What is already buffered after the bytes consumed, waiting at most `wait` for it
    /// (a preview of a non-MQTT reply).
    pub(super) async fn peek(&mut self, wait: Duration) -> Vec<u8> {
        match tokio::time::timeout(wait, self.stream.fill_buf()).await {
            Ok(Ok(buf)) => buf.iter().take(64).copied().collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CONNECT bytes of MQTT 3.1.1 section 3.1 (protocol name, level 4, flags 0x02,
    /// keep alive, client id) and 5.0 section 3.1 (plus a zero property length).
    #[test]
    fn connect_and_subscribe_are_as_the_specs_lay_them_out() {
        assert_eq!(
            connect(Version::V311, "ajar-1"),
            b"\x10\x12\x00\x04MQTT\x04\x02\x00\x0a\x00\x06ajar-1"
        );
        assert_eq!(
            connect(Version::V5, "ajar-1"),
            b"\x10\x13\x00\x04MQTT\x05\x02\x00\x0a\x00\x00\x06ajar-1"
        );
        assert_eq!(
            subscribe(Version::V311, &["#", "$SYS/#"]),
            b"\x82\x0f\x00\x01\x00\x01#\x00\x00\x06$SYS/#\x00"
        );
        assert_eq!(
            subscribe(Version::V5, &["#"]),
            b"\x82\x07\x00\x01\x00\x00\x01#\x00"
        );
        let mut long = Vec::new();
        put_length(&mut long, 321);
        assert_eq!(long, [0xC1, 0x02]);
        assert_eq!(varint(&[0xC1, 0x02]), Some((321, 2)));
        assert_eq!(varint(&[0xFF, 0xFF, 0xFF, 0xFF]), None);
    }

    #[test]
    fn connack_needs_valid_flags_and_an_exact_property_length() {
        let v3 = Connack {
            code: 5,
            v5_format: false,
        };
        assert_eq!(parse_connack(&[0, 5]), Some(v3));
        assert_eq!(parse_connack(&[2, 0]), None);
        assert_eq!(parse_connack(&[0]), None);
        // Mosquitto 2.0.11's 5.0 CONNACK: Receive Maximum 20, Topic Alias Maximum 10.
        let ok = parse_connack(&[0, 0, 6, 0x22, 0, 10, 0x21, 0, 20]);
        assert_eq!(
            ok,
            Some(Connack {
                code: 0,
                v5_format: true
            })
        );
        assert_eq!(parse_connack(&[0, 0x87, 0]).map(|c| c.code), Some(0x87));
        assert_eq!(parse_connack(&[0, 0, 9, 0x22]), None);
    }

    #[test]
    fn suback_must_answer_our_packet_id_with_one_code_per_filter() {
        assert_eq!(
            parse_suback(Version::V311, &[0, 1, 0, 0x80], 2),
            Some(vec![0, 0x80])
        );
        assert_eq!(
            parse_suback(Version::V5, &[0, 1, 0, 0, 0], 2),
            Some(vec![0, 0])
        );
        assert_eq!(parse_suback(Version::V311, &[0, 2, 0, 0], 2), None);
        assert_eq!(parse_suback(Version::V311, &[0, 1, 0], 2), None);
        assert_eq!(parse_suback(Version::V5, &[0, 1, 9, 0, 0], 2), None);
    }
}
