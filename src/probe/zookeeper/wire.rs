//! The ZooKeeper client protocol as the probe speaks it: length-prefixed jute records
//! (zookeeper-jute/src/main/resources/zookeeper.jute), big-endian. Every frame is a 4-byte
//! length and that many bytes; strings and buffers are a 4-byte length and the bytes, -1 for
//! null; vectors a 4-byte count and the items.
//!
//! Requests are built here, replies parsed here; nothing from the server is trusted: every
//! length is checked against what is left before a slice, and counts are never used to
//! allocate.

/// Session timeout asked for, in milliseconds: short, so a session the probe could not close
/// expires soon (the server clamps it to 2..20 ticks, 4 s..40 s by default).
pub const SESSION_TIMEOUT_MS: i32 = 10_000;
/// Opcode of `getChildren` (ZooDefs.OpCode.getChildren).
pub const OP_GET_CHILDREN: i32 = 8;
/// Opcode of `closeSession` (ZooDefs.OpCode.closeSession).
pub const OP_CLOSE_SESSION: i32 = -11;
/// Error code NOAUTH: the ACL of the node denies this session (KeeperException.Code).
pub const ERR_NOAUTH: i32 = -102;
/// Error code SESSIONCLOSEDREQUIRESASLAUTH (3.6+): the server requires authentication of
/// every session (sessionRequireClientSASLAuth, enforce.auth.enabled) and closed this one.
pub const ERR_SESSION_CLOSED_REQUIRE_SASL_AUTH: i32 = -124;
/// A ConnectResponse is 36 bytes, 37 with the `readOnly` flag servers send since 3.4.
pub const CONNECT_RESPONSE_LENGTHS: [usize; 2] = [36, 37];
/// The session password a ConnectResponse carries is 16 bytes.
const PASSWORD_LENGTH: i32 = 16;
/// A reply header: xid, zxid, err.
pub const REPLY_HEADER: usize = 16;
/// Largest reply a server may declare (jute.maxbuffer is 1 MiB by default; it can be set
/// higher): anything longer is not ZooKeeper. Only [`super::MAX_REPLY`] bytes of it are read.
pub const MAX_DECLARED: usize = 64 << 20;

/// The ConnectRequest of a new session: protocolVersion 0, lastZxidSeen 0, timeOut,
/// sessionId 0, a 16-byte zero password, readOnly false.
pub fn connect_request() -> Vec<u8> {
    let mut body = Vec::with_capacity(45);
    body.extend_from_slice(&0i32.to_be_bytes());
    body.extend_from_slice(&0i64.to_be_bytes());
    body.extend_from_slice(&SESSION_TIMEOUT_MS.to_be_bytes());
    body.extend_from_slice(&0i64.to_be_bytes());
    body.extend_from_slice(&PASSWORD_LENGTH.to_be_bytes());
    body.extend_from_slice(&[0u8; 16]);
    body.push(0);
    framed(body)
}

/// `getChildren(path, watch false)` with `xid`: a RequestHeader and a GetChildrenRequest.
pub fn get_children_request(xid: i32, path: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(14 + path.len());
    body.extend_from_slice(&xid.to_be_bytes());
    body.extend_from_slice(&OP_GET_CHILDREN.to_be_bytes());
    let len = i32::try_from(path.len()).unwrap_or(i32::MAX);
    body.extend_from_slice(&len.to_be_bytes());
    body.extend_from_slice(path.as_bytes());
    body.push(0);
    framed(body)
}

/// `closeSession` with `xid`: a RequestHeader alone.
pub fn close_request(xid: i32) -> Vec<u8> {
    let mut body = Vec::with_capacity(8);
    body.extend_from_slice(&xid.to_be_bytes());
    body.extend_from_slice(&OP_CLOSE_SESSION.to_be_bytes());
    framed(body)
}

fn framed(body: Vec<u8>) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(body.len().saturating_add(4));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend(body);
    out
}

/// What a ConnectResponse says (the session password is read past, never kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectResponse {
    /// The negotiated session timeout, in milliseconds.
    pub timeout_ms: i32,
    /// The new session's id.
    pub session_id: i64,
    /// The server's `readOnly` flag (a server in read-only mode), absent before 3.4.
    pub read_only: Option<bool>,
}

/// Parses the body of a ConnectResponse: protocolVersion 0, a positive timeout, a non-zero
/// session id, a 16-byte password, and a 0/1 `readOnly` byte when present. A timeout or id
/// of 0 is how a server says a session expired, which a new session never is.
pub fn parse_connect_response(body: &[u8]) -> Option<ConnectResponse> {
    if !CONNECT_RESPONSE_LENGTHS.contains(&body.len()) {
        return None;
    }
    let mut r = Reader::new(body);
    let version = r.i32()?;
    let timeout_ms = r.i32()?;
    let session_id = r.i64()?;
    let password = r.i32()?;
    r.skip(16)?;
    let read_only = match r.rest() {
        [] => None,
        [0] => Some(false),
        [1] => Some(true),
        _ => return None,
    };
    (version == 0 && timeout_ms > 0 && session_id != 0 && password == PASSWORD_LENGTH).then_some(
        ConnectResponse {
            timeout_ms,
            session_id,
            read_only,
        },
    )
}

/// A reply header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The xid of the request answered.
    pub xid: i32,
    /// The server's last zxid.
    pub zxid: i64,
    /// 0, or a KeeperException code.
    pub err: i32,
}

/// The reply header at the start of `body`, and what follows it.
pub fn parse_reply_header(body: &[u8]) -> Option<(ReplyHeader, &[u8])> {
    let mut r = Reader::new(body);
    let header = ReplyHeader {
        xid: r.i32()?,
        zxid: r.i64()?,
        err: r.i32()?,
    };
    Some((header, r.rest()))
}

/// The children a GetChildrenResponse names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Children {
    /// The names read, in server order, at most the cap given.
    pub names: Vec<String>,
    /// How many the server says there are.
    pub count: u64,
    /// Whether fewer names than `count` were read (the reply was cut at the read cap, or
    /// the item cap was reached).
    pub truncated: bool,
}

/// Why a GetChildrenResponse is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadChildren {
    /// No count, or a negative one.
    Count,
    /// A name that is empty, not UTF-8, holds `/` or a control character, or is too long.
    Name,
    /// A name's length runs past the end of a reply that was read whole.
    Cut,
    /// Bytes after the last name.
    Trailing,
}

impl std::fmt::Display for BadChildren {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadChildren::Count => "no child count, or a negative one",
            BadChildren::Name => "a child name no znode can have",
            BadChildren::Cut => "a child name runs past the end of the reply",
            BadChildren::Trailing => "bytes after the last child name",
        })
    }
}

/// Longest znode name kept, in bytes (a name is one path component).
const MAX_NAME: usize = 1024;

/// Parses a GetChildrenResponse (`vector<ustring> children`) after the reply header.
/// `whole` says whether the reply was read in full: a cut reply ends at the last whole name.
pub fn parse_children(rest: &[u8], whole: bool, max_items: usize) -> Result<Children, BadChildren> {
    let mut r = Reader::new(rest);
    let count = r.i32().ok_or(BadChildren::Count)?;
    let count = u64::try_from(count).map_err(|_| BadChildren::Count)?;
    let mut names = Vec::new();
    let mut read: u64 = 0;
    while read < count {
        let Some(len) = r.i32() else {
            return if whole {
                Err(BadChildren::Cut)
            } else {
                break_out(names, count)
            };
        };
        let len = usize::try_from(len).map_err(|_| BadChildren::Name)?;
        if len == 0 || len > MAX_NAME {
            return Err(BadChildren::Name);
        }
        let Some(bytes) = r.take(len) else {
            return if whole {
                Err(BadChildren::Cut)
            } else {
                break_out(names, count)
            };
        };
        let name = std::str::from_utf8(bytes).map_err(|_| BadChildren::Name)?;
        if name.contains('/') || name.chars().any(char::is_control) {
            return Err(BadChildren::Name);
        }
        read = read.saturating_add(1);
        if names.len() < max_items {
            names.push(name.to_string());
        }
    }
    if whole && !r.rest().is_empty() {
        return Err(BadChildren::Trailing);
    }
    let truncated = (names.len() as u64) < count;
    Ok(Children {
        names,
        count,
        truncated,
    })
}

fn break_out(names: Vec<String>, count: u64) -> Result<Children, BadChildren> {
    Ok(Children {
        names,
        count,
        truncated: true,
    })
}

/// A big-endian cursor over a reply.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn i32(&mut self) -> Option<i32> {
        let b = self.take(4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Option<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(i64::from_be_bytes(a))
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_the_documented_layout() {
        let connect = connect_request();
        assert_eq!(connect.len(), 49);
        assert_eq!(&connect[..4], &[0, 0, 0, 45]);
        assert_eq!(&connect[16..20], &10_000i32.to_be_bytes());
        assert_eq!(&connect[28..32], &[0, 0, 0, 16]);
        assert_eq!(
            get_children_request(1, "/"),
            vec![0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 1, b'/', 0]
        );
        assert_eq!(
            close_request(2),
            vec![0, 0, 0, 8, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xf5]
        );
    }

    #[test]
    fn connect_response_checks() {
        let mut body = Vec::new();
        body.extend_from_slice(&0i32.to_be_bytes());
        body.extend_from_slice(&4000i32.to_be_bytes());
        body.extend_from_slice(&7i64.to_be_bytes());
        body.extend_from_slice(&16i32.to_be_bytes());
        body.extend_from_slice(&[9u8; 16]);
        assert_eq!(
            parse_connect_response(&body),
            Some(ConnectResponse {
                timeout_ms: 4000,
                session_id: 7,
                read_only: None
            })
        );
        let mut ro = body.clone();
        ro.push(1);
        assert_eq!(
            parse_connect_response(&ro).map(|c| c.read_only),
            Some(Some(true))
        );
        let mut bad = body.clone();
        bad.push(2);
        assert_eq!(parse_connect_response(&bad), None);
        // An expired session (timeout 0) and a protocol version that is not 0.
        let mut expired = body.clone();
        expired[4..8].copy_from_slice(&0i32.to_be_bytes());
        assert_eq!(parse_connect_response(&expired), None);
        let mut version = body;
        version[3] = 1;
        assert_eq!(parse_connect_response(&version), None);
    }

    fn children(names: &[&str]) -> Vec<u8> {
        let mut out = (names.len() as i32).to_be_bytes().to_vec();
        for name in names {
            out.extend_from_slice(&(name.len() as i32).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        out
    }

    #[test]
    fn children_are_checked_and_bounded() {
        let list = children(&["zookeeper", "kafka"]);
        let parsed = parse_children(&list, true, 10).expect("parsed");
        assert_eq!(parsed.names, ["zookeeper", "kafka"]);
        assert_eq!((parsed.count, parsed.truncated), (2, false));
        let capped = parse_children(&list, true, 1).expect("parsed");
        assert_eq!((capped.names.len(), capped.truncated), (1, true));
        // A reply cut at the read cap keeps the whole names before the cut.
        let cut = parse_children(&list[..list.len() - 2], false, 10).expect("parsed");
        assert_eq!((cut.names.len(), cut.truncated), (1, true));
        assert_eq!(
            parse_children(&list[..list.len() - 2], true, 10),
            Err(BadChildren::Cut)
        );
        let mut trailing = list.clone();
        trailing.push(0);
        assert_eq!(
            parse_children(&trailing, true, 10),
            Err(BadChildren::Trailing)
        );
        assert_eq!(
            parse_children(&children(&["a/b"]), true, 10),
            Err(BadChildren::Name)
        );
        assert_eq!(
            parse_children(&(-1i32).to_be_bytes(), true, 10),
            Err(BadChildren::Count)
        );
        assert_eq!(parse_children(&[0, 0], true, 10), Err(BadChildren::Count));
        // A huge count with no names behind it allocates nothing and is cut.
        assert_eq!(
            parse_children(&i32::MAX.to_be_bytes(), true, 10),
            Err(BadChildren::Cut)
        );
    }
}
