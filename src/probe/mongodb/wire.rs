//! MongoDB wire framing, written from the documented layout (mongodb/specifications
//! `source/message/OP_MSG.md`, the manual's "Legacy Opcodes" page; protocols.md MG-00):
//! the 16-byte `MsgHeader`, OP_MSG with one kind-0 section, legacy OP_QUERY on `db.$cmd`,
//! and the OP_MSG / OP_REPLY answers.
//!
//! Replies come from servers we do not trust. [`read_reply`] checks the header (length cap,
//! opcode, `responseTo`) before reading the body, grows its buffer only as bytes arrive,
//! and never waits past its deadline. Documents stay [`RawDocument`]s: reading a field
//! walks bytes without recursion, so a deeply nested hostile document cannot blow the stack.

use std::io;
use std::ops::Range;

use bson::{Document, RawDocument, RawDocumentBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::net::budget::{Budget, Reservation};

/// OP_REPLY: the answer to an OP_QUERY.
pub const OP_REPLY: i32 = 1;
/// OP_QUERY: legacy query; on `db.$cmd` it runs a command (the only way before 3.6).
pub const OP_QUERY: i32 = 2004;
/// OP_MSG: every command from 3.6 on, the only request opcode (with OP_COMPRESSED) from 5.1.
pub const OP_MSG: i32 = 2013;
/// Length of the `MsgHeader` that starts every message.
pub const HEADER_LEN: usize = 16;
/// OP_QUERY flag bit 2, `SecondaryOk`: lets a replica-set secondary answer.
pub const QUERY_SECONDARY_OK: i32 = 1 << 2;

/// Smallest BSON document: an `int32` length and the terminating zero.
const MIN_DOCUMENT: usize = 5;
/// Smallest OP_MSG: header, `flagBits`, a kind byte and an empty document.
pub const MIN_OP_MSG: usize = HEADER_LEN + 4 + 1 + MIN_DOCUMENT;
/// Smallest OP_REPLY with one document: header, flags, cursor id, start, count, document.
pub const MIN_OP_REPLY: usize = HEADER_LEN + 4 + 8 + 4 + 4 + MIN_DOCUMENT;
/// OP_MSG `flagBits` bit 0: a crc32c checksum follows the sections.
const CHECKSUM_PRESENT: u32 = 1;
/// OP_MSG `flagBits` bit 1: more messages follow without a request (exhaust cursors).
const MORE_TO_COME: u32 = 1 << 1;
/// Bits 0-15 are "required": a reader must fail on ones it does not know (OP_MSG spec).
const REQUIRED_BITS: u32 = 0xffff;
/// OP_REPLY `responseFlags` bit 1: the query failed; the document is `{$err, code}`.
const QUERY_FAILURE: i32 = 1 << 1;
/// Most bytes the body buffer grows by ahead of what has arrived.
const CHUNK: usize = 4096;

/// Why no usable reply came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The peer closed or reset the connection before sending a single byte.
    Closed,
    /// Nothing arrived before the deadline.
    Silent,
    /// Bytes arrived, but they are not a MongoDB reply to our request.
    NotMongo {
        /// What is wrong, for the report: `message length 1347703880`.
        reason: String,
        /// The first bytes received (at most a header's worth), to recognise HTTP and the like.
        head: Vec<u8>,
    },
    /// A socket error other than a close or reset.
    Io(String),
    /// Our own command could not be encoded (a bug, never the server's doing).
    Encode(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Closed => f.write_str("connection closed without a reply"),
            WireError::Silent => f.write_str("no reply before the timeout"),
            WireError::NotMongo { reason, .. } => write!(f, "not MongoDB: {reason}"),
            WireError::Io(e) => write!(f, "socket error: {e}"),
            WireError::Encode(e) => write!(f, "cannot encode the command: {e}"),
        }
    }
}

/// A `MsgHeader`, as read from the first 16 bytes of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `messageLength`: the whole message, header included (signed on the wire).
    pub length: i32,
    /// `requestID` chosen by the sender.
    pub request_id: i32,
    /// `responseTo`: the `requestID` this message answers.
    pub response_to: i32,
    /// `opCode`.
    pub op_code: i32,
}

impl Header {
    /// Reads the four little-endian `int32`s.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Header {
        let int = |at: usize| {
            i32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        Header {
            length: int(0),
            request_id: int(4),
            response_to: int(8),
            op_code: int(12),
        }
    }

    /// Checks that this header starts a reply to `request_id` that we are willing to read:
    /// a length between the opcode's minimum and `max`, the opcode that answers the
    /// request's (`OP_MSG` for OP_MSG, `OP_REPLY` for OP_QUERY), and the right `responseTo`.
    /// Returns the message length.
    pub fn check(&self, request_id: i32, op_code: i32, max: usize) -> Result<usize, String> {
        let length = usize::try_from(self.length).unwrap_or(0);
        if length < MIN_OP_MSG.min(MIN_OP_REPLY) || length > max {
            return Err(format!("message length {}", self.length));
        }
        if self.op_code != op_code {
            return Err(format!(
                "opcode {} in reply to opcode {}",
                self.op_code,
                request_op(op_code)
            ));
        }
        let min = if op_code == OP_MSG {
            MIN_OP_MSG
        } else {
            MIN_OP_REPLY
        };
        if length < min {
            return Err(format!(
                "message length {} for opcode {}",
                self.length, self.op_code
            ));
        }
        if self.response_to != request_id {
            return Err(format!(
                "reply to request {}, expected {request_id}",
                self.response_to
            ));
        }
        Ok(length)
    }
}

/// The request opcode a reply opcode answers, for messages.
fn request_op(reply_op: i32) -> i32 {
    if reply_op == OP_REPLY {
        OP_QUERY
    } else {
        reply_op
    }
}

/// The reply opcode that answers a request opcode.
pub fn reply_op(request_op: i32) -> i32 {
    if request_op == OP_QUERY {
        OP_REPLY
    } else {
        request_op
    }
}

/// A reply that passed framing checks: its opcode, flags and one BSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The header.
    pub header: Header,
    /// OP_MSG `flagBits`, or OP_REPLY `responseFlags`.
    pub flags: u32,
    document: RawDocumentBuf,
    /// The share of the scan's budget a large reply holds while it lives.
    reservation: Reservation,
}

impl Reply {
    /// The reply's opcode: [`OP_MSG`] or [`OP_REPLY`].
    pub fn op_code(&self) -> i32 {
        self.header.op_code
    }

    /// The command reply document (OP_MSG's kind-0 body, OP_REPLY's first document).
    /// Its outer length and terminator are checked; fields are parsed on access.
    pub fn document(&self) -> &RawDocument {
        &self.document
    }

    /// Whether an OP_REPLY set `QueryFailure`: the document is `{$err: …, code: …}`.
    pub fn query_failure(&self) -> bool {
        self.header.op_code == OP_REPLY && (self.flags as i32) & QUERY_FAILURE != 0
    }
}

/// Encodes `command` as an OP_MSG with no flags and one kind-0 section. The command must
/// carry its own `$db`.
pub fn encode_op_msg(request_id: i32, command: &Document) -> Result<Vec<u8>, WireError> {
    let body = command
        .to_vec()
        .map_err(|e| WireError::Encode(e.to_string()))?;
    let length = HEADER_LEN + 4 + 1 + body.len();
    let mut out = Vec::with_capacity(length);
    put_header(&mut out, length, request_id, OP_MSG)?;
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Encodes a legacy OP_QUERY on `namespace` (`admin.$cmd` for a command) that asks for
/// one document (`numberToReturn` -1), as pre-3.6 drivers sent commands.
pub fn encode_op_query(
    request_id: i32,
    flags: i32,
    namespace: &str,
    query: &Document,
) -> Result<Vec<u8>, WireError> {
    if namespace.as_bytes().contains(&0) {
        return Err(WireError::Encode("namespace holds a NUL byte".into()));
    }
    let body = query
        .to_vec()
        .map_err(|e| WireError::Encode(e.to_string()))?;
    let length = HEADER_LEN + 4 + namespace.len() + 1 + 4 + 4 + body.len();
    let mut out = Vec::with_capacity(length);
    put_header(&mut out, length, request_id, OP_QUERY)?;
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(namespace.as_bytes());
    out.push(0);
    out.extend_from_slice(&0i32.to_le_bytes()); // numberToSkip
    out.extend_from_slice(&(-1i32).to_le_bytes()); // numberToReturn: one document, close
    out.extend_from_slice(&body);
    Ok(out)
}

fn put_header(
    out: &mut Vec<u8>,
    length: usize,
    request_id: i32,
    op_code: i32,
) -> Result<(), WireError> {
    let length = i32::try_from(length).map_err(|_| WireError::Encode("message too long".into()))?;
    for field in [length, request_id, 0, op_code] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    Ok(())
}

/// Decodes one whole message (header included) as the reply to request `request_id` sent
/// with opcode `request_op`: checks the header as [`Header::check`] does, then the OP_MSG
/// sections or the OP_REPLY fields.
pub fn decode_reply(
    message: &[u8],
    request_id: i32,
    request_op: i32,
    max: usize,
) -> Result<Reply, String> {
    let header_bytes: &[u8; HEADER_LEN] = message
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| format!("{} bytes, shorter than a header", message.len()))?;
    let header = Header::parse(header_bytes);
    let length = header.check(request_id, reply_op(request_op), max)?;
    if message.len() != length {
        return Err(format!(
            "header says {length} bytes, message has {}",
            message.len()
        ));
    }
    let (flags, document) = match header.op_code {
        OP_MSG => op_msg_body(message)?,
        _ => op_reply_body(message)?,
    };
    let document = RawDocumentBuf::from_bytes(message[document].to_vec())
        .map_err(|e| format!("bad BSON document: {e}"))?;
    Ok(Reply {
        header,
        flags,
        document,
        reservation: Reservation::default(),
    })
}

fn le_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The byte range of a BSON document starting at `at` and ending by `end`, checked.
fn document_at(message: &[u8], at: usize, end: usize) -> Result<Range<usize>, String> {
    let len = le_i32(message, at)
        .and_then(|l| usize::try_from(l).ok())
        .ok_or("truncated document length")?;
    let stop = at.checked_add(len).ok_or("document length overflows")?;
    if len < MIN_DOCUMENT || stop > end {
        return Err(format!("document length {len} does not fit the message"));
    }
    RawDocument::from_bytes(&message[at..stop]).map_err(|e| format!("bad BSON document: {e}"))?;
    Ok(at..stop)
}

fn op_msg_body(message: &[u8]) -> Result<(u32, Range<usize>), String> {
    let flags = le_i32(message, HEADER_LEN).ok_or("truncated flagBits")? as u32;
    let unknown = flags & REQUIRED_BITS & !(CHECKSUM_PRESENT | MORE_TO_COME);
    if unknown != 0 {
        return Err(format!(
            "OP_MSG with unknown required flag bits {unknown:#x}"
        ));
    }
    // The crc32c is not verified: TCP/TLS already protect the bytes, and a wrong sum could
    // only make us miss a MongoDB, never invent one.
    let end = if flags & CHECKSUM_PRESENT != 0 {
        message
            .len()
            .checked_sub(4)
            .ok_or("no room for the checksum")?
    } else {
        message.len()
    };
    let mut at = HEADER_LEN + 4;
    let mut body = None;
    while at < end {
        let kind = message[at];
        at += 1;
        match kind {
            0 => {
                if body.is_some() {
                    return Err("OP_MSG with two body sections".into());
                }
                let range = document_at(message, at, end)?;
                at = range.end;
                body = Some(range);
            }
            1 => {
                // A document sequence: int32 size (itself included), identifier, documents.
                // Replies to the commands we send never carry one; skip it whole.
                let size = le_i32(message, at)
                    .and_then(|s| usize::try_from(s).ok())
                    .filter(|s| *s >= 4)
                    .ok_or("bad document sequence size")?;
                at = at
                    .checked_add(size)
                    .filter(|next| *next <= end)
                    .ok_or("document sequence does not fit the message")?;
            }
            other => return Err(format!("OP_MSG section kind {other}")),
        }
    }
    if at != end {
        return Err("OP_MSG sections overrun the message".into());
    }
    let body = body.ok_or("OP_MSG without a body section")?;
    Ok((flags, body))
}

fn op_reply_body(message: &[u8]) -> Result<(u32, Range<usize>), String> {
    let flags = le_i32(message, HEADER_LEN).ok_or("truncated responseFlags")?;
    let returned = le_i32(message, HEADER_LEN + 16).ok_or("truncated numberReturned")?;
    if returned < 1 {
        return Err(format!("OP_REPLY with numberReturned {returned}"));
    }
    let document = document_at(message, HEADER_LEN + 20, message.len())?;
    Ok((flags as u32, document))
}

/// Whether an I/O error means the peer hung up: a reset, a broken pipe, or a TLS stream
/// that ended without `close_notify` (rustls reports that as `UnexpectedEof`).
pub fn is_hang_up(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// Writes a whole message before `deadline`.
pub async fn send<S: AsyncWrite + Unpin + ?Sized>(
    stream: &mut S,
    message: &[u8],
    deadline: Instant,
) -> Result<(), WireError> {
    let write = async {
        stream.write_all(message).await?;
        stream.flush().await
    };
    match tokio::time::timeout_at(deadline, write).await {
        Err(_) => Err(WireError::Silent),
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if is_hang_up(&e) => Err(WireError::Closed),
        Ok(Err(e)) => Err(WireError::Io(e.to_string())),
    }
}

/// Reads one reply to request `request_id` sent with opcode `request_op`, all of it
/// before `deadline`. The header is checked
/// before the body is read, so a claimed length above `max` costs nothing, and the body
/// buffer grows with the bytes that actually arrive, not with the length claimed. A
/// message longer than [`Budget::FREE`] first reserves its length from `budget`.
pub async fn read_reply<S: AsyncRead + Unpin + ?Sized>(
    stream: &mut S,
    request_id: i32,
    request_op: i32,
    max: usize,
    deadline: Instant,
    budget: Option<&Budget>,
) -> Result<Reply, WireError> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut header[got..])).await;
        let stopped = match read {
            Ok(Ok(n)) if n > 0 => {
                got += n;
                continue;
            }
            Ok(Ok(_)) => "closed",
            Ok(Err(e)) if is_hang_up(&e) => "closed",
            Ok(Err(e)) if got == 0 => return Err(WireError::Io(e.to_string())),
            Ok(Err(_)) => "failed",
            Err(_) => "went silent",
        };
        if got == 0 {
            return Err(if stopped == "went silent" {
                WireError::Silent
            } else {
                WireError::Closed
            });
        }
        return Err(WireError::NotMongo {
            reason: format!("{got} bytes, then the connection {stopped}"),
            head: header[..got].to_vec(),
        });
    }
    let not_mongo = |reason: String| WireError::NotMongo {
        reason,
        head: header.to_vec(),
    };
    let length = Header::parse(&header)
        .check(request_id, reply_op(request_op), max)
        .map_err(not_mongo)?;
    let reservation = match budget {
        Some(budget) if length > Budget::FREE => {
            match tokio::time::timeout_at(deadline, budget.reserve(length)).await {
                Ok(reservation) => reservation,
                Err(_) => return Err(WireError::Silent),
            }
        }
        _ => Reservation::default(),
    };
    let mut message = Vec::with_capacity(length.min(HEADER_LEN + CHUNK));
    message.extend_from_slice(&header);
    while message.len() < length {
        // Room for at most one more chunk, read in place: memory follows what arrives.
        let start = message.len();
        message.resize(start + (length - start).min(CHUNK), 0);
        let read = tokio::time::timeout_at(deadline, stream.read(&mut message[start..])).await;
        let stopped = match read {
            Ok(Ok(n)) if n > 0 => {
                message.truncate(start + n);
                continue;
            }
            Ok(Ok(_)) => "closed",
            Ok(Err(e)) if is_hang_up(&e) => "closed",
            Ok(Err(_)) => "failed",
            Err(_) => "went silent",
        };
        return Err(not_mongo(format!(
            "a {length}-byte message stopped after {start} bytes: the connection {stopped}"
        )));
    }
    let mut reply = decode_reply(&message, request_id, request_op, max).map_err(not_mongo)?;
    reply.reservation = reservation;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn op_msg_reply(request_id: i32, response_to: i32, flags: u32, sections: &[u8]) -> Vec<u8> {
        let length = (HEADER_LEN + 4 + sections.len()) as i32;
        let mut out = Vec::new();
        for field in [length, request_id, response_to, OP_MSG] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(sections);
        out
    }

    fn kind0(doc: &Document) -> Vec<u8> {
        let mut out = vec![0];
        out.extend(doc.to_vec().expect("encode"));
        out
    }

    /// protocols.md MG-01: the exact bytes of the three requests the scanner sends.
    #[test]
    fn encodes_the_documented_requests() {
        let hello = encode_op_msg(1, &doc! {"hello": 1, "$db": "admin"}).expect("encode");
        assert_eq!(
            hello,
            hex(
                "340000000100000000000000dd07000000000000001f0000001068656c6c6f000100000002246462000600000061646d696e0000"
            )
        );
        let build = encode_op_msg(3, &doc! {"buildInfo": 1, "$db": "admin"}).expect("encode");
        assert_eq!(
            build,
            hex(
                "380000000300000000000000dd070000000000000023000000106275696c64496e666f000100000002246462000600000061646d696e0000"
            )
        );
        let list = encode_op_msg(2, &doc! {"listDatabases": 1, "$db": "admin"}).expect("encode");
        assert_eq!(
            list,
            hex(
                "3c0000000200000000000000dd070000000000000027000000106c697374446174616261736573000100000002246462000600000061646d696e0000"
            )
        );
    }

    /// protocols.md MG-09 shows an OP_QUERY on admin.$cmd; ours differs only in the command
    /// and numberToReturn -1.
    #[test]
    fn encodes_op_query_on_cmd() {
        let query = encode_op_query(7, 0, "admin.$cmd", &doc! {"isMaster": 1}).expect("encode");
        let header = Header::parse(query[..16].try_into().expect("16"));
        assert_eq!(header.length as usize, query.len());
        assert_eq!(
            (header.request_id, header.response_to, header.op_code),
            (7, 0, OP_QUERY)
        );
        assert_eq!(&query[20..31], b"admin.$cmd\0");
        assert_eq!(&query[31..35], &0i32.to_le_bytes());
        assert_eq!(&query[35..39], &(-1i32).to_le_bytes());
        assert!(encode_op_query(1, 0, "a\0b", &doc! {}).is_err());
    }

    #[test]
    fn decodes_op_msg_with_checksum_and_sequence() {
        let mut sections = vec![1];
        sections.extend_from_slice(&9i32.to_le_bytes());
        sections.extend_from_slice(b"docs\0");
        sections.extend(kind0(&doc! {"ok": 1.0}));
        sections.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let msg = op_msg_reply(5, 9, CHECKSUM_PRESENT, &sections);
        let reply = decode_reply(&msg, 9, OP_MSG, 1 << 20).expect("valid");
        assert_eq!(reply.document().get_f64("ok").expect("ok"), 1.0);
    }

    #[test]
    fn rejects_hostile_replies() {
        let good = op_msg_reply(5, 9, 0, &kind0(&doc! {"ok": 1.0}));
        assert!(decode_reply(&good, 9, OP_MSG, 1 << 20).is_ok());
        // Wrong responseTo, too small a cap, wrong opcode.
        assert!(
            decode_reply(&good, 8, OP_MSG, 1 << 20)
                .expect_err("must be refused")
                .contains("reply to request 9")
        );
        assert!(
            decode_reply(&good, 9, OP_MSG, 20)
                .expect_err("must be refused")
                .contains("message length")
        );
        let mut op = good.clone();
        op[12..16].copy_from_slice(&2004i32.to_le_bytes());
        assert!(
            decode_reply(&op, 9, OP_MSG, 1 << 20)
                .expect_err("must be refused")
                .contains("opcode 2004")
        );
        assert!(
            decode_reply(&good, 9, OP_QUERY, 1 << 20)
                .expect_err("must be refused")
                .contains("opcode 2013")
        );
        // Negative and huge lengths.
        let mut neg = good.clone();
        neg[0..4].copy_from_slice(&(-1i32).to_le_bytes());
        assert!(decode_reply(&neg, 9, OP_MSG, 1 << 20).is_err());
        // Unknown required flag, unknown section kind, two bodies, no body.
        assert!(
            decode_reply(
                &op_msg_reply(5, 9, 1 << 4, &kind0(&doc! {})),
                9,
                OP_MSG,
                1 << 20
            )
            .is_err()
        );
        assert!(
            decode_reply(
                &op_msg_reply(5, 9, 0, &[7, 5, 0, 0, 0, 0]),
                9,
                OP_MSG,
                1 << 20
            )
            .is_err()
        );
        let mut two = kind0(&doc! {});
        two.extend(kind0(&doc! {}));
        assert!(decode_reply(&op_msg_reply(5, 9, 0, &two), 9, OP_MSG, 1 << 20).is_err());
        let mut seq = vec![1];
        seq.extend_from_slice(&4i32.to_le_bytes());
        seq.extend_from_slice(&[0; 5]);
        assert!(decode_reply(&op_msg_reply(5, 9, 0, &seq), 9, OP_MSG, 1 << 20).is_err());
        // Document length pointing past the end, or not NUL-terminated.
        let mut long = good.clone();
        long[21..25].copy_from_slice(&1000i32.to_le_bytes());
        assert!(decode_reply(&long, 9, OP_MSG, 1 << 20).is_err());
        let mut unterminated = good.clone();
        let last = unterminated.len() - 1;
        unterminated[last] = 1;
        assert!(decode_reply(&unterminated, 9, OP_MSG, 1 << 20).is_err());
        // OP_REPLY with no document.
        let mut empty = Vec::new();
        for field in [41i32, 5, 9, OP_REPLY, 0, 0, 0, 0, 0] {
            empty.extend_from_slice(&field.to_le_bytes());
        }
        empty.extend_from_slice(&[5, 0, 0, 0, 0]);
        assert!(
            decode_reply(&empty, 9, OP_QUERY, 1 << 20)
                .expect_err("must be refused")
                .contains("numberReturned 0")
        );
        // Truncated input of every length never panics.
        for cut in 0..good.len() {
            assert!(decode_reply(&good[..cut], 9, OP_MSG, 1 << 20).is_err());
        }
    }

    #[test]
    fn decodes_op_reply_query_failure() {
        let doc = doc! {"$err": "not authorized", "code": 13};
        let body = doc.to_vec().expect("encode");
        let mut msg = Vec::new();
        let length = (HEADER_LEN + 20 + body.len()) as i32;
        for field in [length, 5, 9, OP_REPLY, QUERY_FAILURE] {
            msg.extend_from_slice(&field.to_le_bytes());
        }
        msg.extend_from_slice(&0i64.to_le_bytes());
        msg.extend_from_slice(&0i32.to_le_bytes());
        msg.extend_from_slice(&1i32.to_le_bytes());
        msg.extend_from_slice(&body);
        let reply = decode_reply(&msg, 9, OP_QUERY, 1 << 20).expect("valid");
        assert!(reply.query_failure());
        assert_eq!(reply.document().get_i32("code").expect("code"), 13);
    }

    /// `read_reply` over an in-memory stream: closed, silent, partial, oversized, good.
    #[tokio::test]
    async fn reads_replies_and_tells_failures_apart() {
        let soon = || Instant::now() + std::time::Duration::from_millis(50);
        let (mut client, server) = tokio::io::duplex(1 << 16);
        drop(server);
        assert_eq!(
            read_reply(&mut client, 1, OP_MSG, 1 << 20, soon(), None).await,
            Err(WireError::Closed)
        );

        let (mut client, _server) = tokio::io::duplex(1 << 16);
        assert_eq!(
            read_reply(&mut client, 1, OP_MSG, 1 << 20, soon(), None).await,
            Err(WireError::Silent)
        );

        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        server.write_all(b"SSH-2.0-Open").await.expect("write");
        drop(server);
        let Err(WireError::NotMongo { reason, head }) =
            read_reply(&mut client, 1, OP_MSG, 1 << 20, soon(), None).await
        else {
            panic!("expected not-mongo");
        };
        assert_eq!(
            (reason.as_str(), head.as_slice()),
            ("12 bytes, then the connection closed", &b"SSH-2.0-Open"[..])
        );

        let good = op_msg_reply(5, 1, 0, &kind0(&doc! {"ok": 1.0}));
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        server.write_all(&good).await.expect("write");
        let reply = read_reply(&mut client, 1, OP_MSG, 1 << 20, soon(), None)
            .await
            .expect("reply");
        assert_eq!(reply.document().get_f64("ok").expect("ok"), 1.0);
        // The same bytes over a cap smaller than the message are refused on the header.
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        server.write_all(&good[..16]).await.expect("write");
        let error = read_reply(&mut client, 1, OP_MSG, good.len() - 1, soon(), None).await;
        assert!(
            matches!(error, Err(WireError::NotMongo { ref reason, .. }) if reason.starts_with("message length")),
            "{error:?}"
        );
    }
}
