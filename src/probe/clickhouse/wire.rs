//! The ClickHouse native protocol as far as the probe speaks it: the client's Hello and
//! Query, and the server's Hello and Exception, decoded from a byte buffer that may still
//! be incomplete (the packets of a query's answer are in `block`).
//!
//! The client announces [`CLIENT_REVISION`] 54401 and the server writes every packet in
//! the format of that revision (TCPHandler.cpp checks the client's revision before each
//! optional field): the Hello carries timezone, display name and version patch, Progress
//! three counters, a block its block info and no per-column serialization flag, and
//! settings travel in the old binary form (an empty list is one empty string either way).
//! Sources: ClickHouse `src/Core/Protocol.h`, `src/Core/ProtocolDefines.h` (`Defines.h` in
//! 18.16), `src/Server/TCPHandler.cpp`, `src/Interpreters/ClientInfo.cpp`, and the bytes
//! of Debian's clickhouse-server 18.16.1 in `tests/fixtures/clickhouse/`.

/// The revision the probe announces: the first with the version patch in the Hello, and
/// below every format change since (settings as strings 54429, ProfileEvents 54451).
pub const CLIENT_REVISION: u64 = 54401;
/// The client name the probe announces (shown in the server's `system.processes`).
pub const CLIENT_NAME: &str = "ajar";
/// The client version the probe announces, major and minor.
const CLIENT_VERSION: (u64, u64) = (1, 0);

/// Client packet types (`Protocol::Client`).
const CLIENT_HELLO: u64 = 0;
const CLIENT_QUERY: u64 = 1;
const CLIENT_DATA: u64 = 2;

/// Server packet types (`Protocol::Server`).
pub const SERVER_HELLO: u8 = 0;
pub(super) const SERVER_DATA: u64 = 1;
/// The Exception packet: code, name, message, stack trace, nested exception.
pub const SERVER_EXCEPTION: u8 = 2;
pub(super) const SERVER_PROGRESS: u64 = 3;
pub(super) const SERVER_END_OF_STREAM: u64 = 5;
pub(super) const SERVER_PROFILE_INFO: u64 = 6;

/// `QueryProcessingStage::Complete`: the server runs the whole query.
const STAGE_COMPLETE: u64 = 2;
/// Longest name, type or short text field accepted.
pub const MAX_FIELD: usize = 1024;
/// Longest exception message or stack trace accepted.
const MAX_TEXT: usize = 64 << 10;
/// Deepest chain of nested exceptions followed.
const MAX_NESTED: usize = 8;

/// Why a buffer did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// The packet is not complete yet: read more.
    More,
    /// The bytes are not what a ClickHouse server sends.
    Bad(String),
}

pub(super) fn bad<T>(why: impl Into<String>) -> Result<T, Need> {
    Err(Need::Bad(why.into()))
}

/// Appends a ClickHouse VarUInt (LEB128).
pub fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a String: its VarUInt length, then the bytes.
pub fn put_string(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The client Hello: name, version, revision, default database (empty: the user's),
/// user, and an empty password (an empty password is not a password: it is what the
/// package's `default` user has).
pub fn hello(user: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    put_varint(&mut out, CLIENT_HELLO);
    put_string(&mut out, CLIENT_NAME);
    put_varint(&mut out, CLIENT_VERSION.0);
    put_varint(&mut out, CLIENT_VERSION.1);
    put_varint(&mut out, CLIENT_REVISION);
    put_string(&mut out, "");
    put_string(&mut out, user);
    put_string(&mut out, "");
    out
}

/// A Query packet for `sql` (no settings, no compression, the whole query), then the
/// empty Data block that ends the (absent) external tables, as every client sends it.
pub fn query(sql: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + sql.len());
    put_varint(&mut out, CLIENT_QUERY);
    put_string(&mut out, ""); // query id: the server makes one
    // ClientInfo (revision 54032 and later).
    out.push(1); // query kind: initial query
    put_string(&mut out, ""); // initial user
    put_string(&mut out, ""); // initial query id
    put_string(&mut out, "0.0.0.0:0"); // initial address
    out.push(1); // interface: TCP
    put_string(&mut out, ""); // OS user
    put_string(&mut out, ""); // client host name
    put_string(&mut out, CLIENT_NAME);
    put_varint(&mut out, CLIENT_VERSION.0);
    put_varint(&mut out, CLIENT_VERSION.1);
    put_varint(&mut out, CLIENT_REVISION);
    put_string(&mut out, ""); // quota key (54060)
    put_varint(&mut out, 0); // version patch (54401)
    put_string(&mut out, ""); // settings: the empty name ends the list
    put_varint(&mut out, STAGE_COMPLETE);
    put_varint(&mut out, 0); // compression: off
    put_string(&mut out, sql);
    // The empty block: Data, no table name, block info, 0 columns, 0 rows.
    put_varint(&mut out, CLIENT_DATA);
    put_string(&mut out, "");
    out.extend_from_slice(&[1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0]);
    out.extend_from_slice(&[0, 0]);
    out
}

/// A read position in a buffer; every read says [`Need::More`] past its end.
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Need> {
        let end = self.pos.checked_add(n).ok_or(Need::More)?;
        let slice = self.buf.get(self.pos..end).ok_or(Need::More)?;
        self.pos = end;
        Ok(slice)
    }

    pub(super) fn byte(&mut self) -> Result<u8, Need> {
        Ok(self.bytes(1)?[0])
    }

    pub(super) fn i32_le(&mut self) -> Result<i32, Need> {
        let b = self.bytes(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A VarUInt of at most 10 bytes.
    pub fn varint(&mut self) -> Result<u64, Need> {
        let mut value = 0u64;
        for i in 0..10u32 {
            let byte = self.byte()?;
            let part = u64::from(byte & 0x7f)
                .checked_shl(7 * i)
                .filter(|shifted| shifted >> (7 * i) == u64::from(byte & 0x7f))
                .ok_or_else(|| Need::Bad("a VarUInt over 64 bits".into()))?;
            value |= part;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        bad("a VarUInt over 10 bytes")
    }

    /// A String of at most `max` bytes, checked before it is taken.
    pub fn string(&mut self, max: usize, what: &str) -> Result<&'a [u8], Need> {
        let len = self.varint()?;
        match usize::try_from(len) {
            Ok(len) if len <= max => self.bytes(len),
            _ => bad(format!("a {len}-byte {what}, over the {max}-byte cap")),
        }
    }

    /// A String that must be printable text (names, versions, time zones).
    fn text(&mut self, max: usize, what: &str) -> Result<String, Need> {
        let bytes = self.string(max, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) if !s.chars().any(char::is_control) => Ok(s.to_string()),
            _ => bad(format!("a {what} that is not printable text")),
        }
    }
}

/// The server's Hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The server's name (`ClickHouse`).
    pub name: String,
    /// Version major.
    pub major: u64,
    /// Version minor.
    pub minor: u64,
    /// The server's protocol revision (54412 for 18.16).
    pub revision: u64,
    /// The server's time zone (revision 54058 and later).
    pub timezone: Option<String>,
    /// The server's display name, its host name unless configured (54372).
    pub display_name: Option<String>,
    /// Version patch (54401).
    pub patch: Option<u64>,
}

impl ServerHello {
    /// `18.16.1`, or `18.16` from a server too old to send the patch.
    pub fn version(&self) -> String {
        match self.patch {
            Some(patch) => format!("{}.{}.{patch}", self.major, self.minor),
            None => format!("{}.{}", self.major, self.minor),
        }
    }
}

/// An Exception packet's first exception (nested ones are read past).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerException {
    /// The error code (194 REQUIRED_PASSWORD, 193 WRONG_PASSWORD, 516 AUTHENTICATION_FAILED).
    pub code: i32,
    /// The exception class (`DB::Exception`).
    pub name: String,
    /// The message, as the server wrote it.
    pub message: String,
}

/// What the server answered the client Hello with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloReply {
    /// Logged in: the server's Hello.
    Hello(ServerHello),
    /// Refused: the login (or the packet) failed.
    Exception(ServerException),
}

/// Decodes the answer to the client Hello at the start of `buf`, and how many bytes it
/// took.
pub fn hello_reply(buf: &[u8]) -> Result<(HelloReply, usize), Need> {
    let mut c = Cursor::new(buf);
    let reply = server_hello(&mut c)?;
    Ok((reply, c.consumed()))
}

fn server_hello(c: &mut Cursor<'_>) -> Result<HelloReply, Need> {
    match c.byte()? {
        SERVER_HELLO => {}
        SERVER_EXCEPTION => return exception(c).map(HelloReply::Exception),
        other => return bad(format!("packet type {other}, not Hello or Exception")),
    }
    let name = c.text(64, "server name")?;
    if name.is_empty() {
        return bad("an empty server name");
    }
    let major = c.varint()?;
    let minor = c.varint()?;
    let revision = c.varint()?;
    // Every ClickHouse since 2016 has a 54xxx revision; anything else is not its Hello.
    if major > 1000 || minor > 1000 || !(54000..100_000).contains(&revision) {
        return bad(format!(
            "version {major}.{minor} revision {revision}: not a ClickHouse Hello"
        ));
    }
    // Optional fields, each sent when both sides' revisions have it.
    let shared = revision.min(CLIENT_REVISION);
    let timezone = (shared >= 54058)
        .then(|| c.text(MAX_FIELD, "time zone"))
        .transpose()?;
    let display_name = (shared >= 54372)
        .then(|| c.text(MAX_FIELD, "display name"))
        .transpose()?;
    let patch = (shared >= 54401).then(|| c.varint()).transpose()?;
    Ok(HelloReply::Hello(ServerHello {
        name,
        major,
        minor,
        revision,
        timezone,
        display_name,
        patch,
    }))
}

/// The body of an Exception packet (after its type byte).
pub(super) fn exception(c: &mut Cursor<'_>) -> Result<ServerException, Need> {
    let mut first = None;
    for _ in 0..MAX_NESTED {
        let code = c.i32_le()?;
        let name = c.text(MAX_FIELD, "exception name")?;
        if !name.starts_with("DB::") {
            return bad(format!("exception class {name:?}, not ClickHouse's DB::"));
        }
        let message = String::from_utf8_lossy(c.string(MAX_TEXT, "exception message")?);
        c.string(MAX_TEXT, "stack trace")?;
        let nested = c.byte()?;
        first.get_or_insert(ServerException {
            code,
            name,
            message: message.into_owned(),
        });
        match nested {
            0 => return first.ok_or(Need::More),
            1 => continue,
            other => return bad(format!("has_nested byte {other}")),
        }
    }
    bad("nested exceptions too deep")
}

/// Whether `bytes`, sent in answer to another protocol's request, are a ClickHouse
/// Exception packet (18.16 answers unknown bytes with code 101 "Unexpected packet from
/// client", class `DB::NetException`).
pub fn is_exception(bytes: &[u8]) -> bool {
    let mut c = Cursor::new(bytes);
    if c.byte() != Ok(SERVER_EXCEPTION) || c.i32_le().is_err() {
        return false;
    }
    matches!(c.string(64, "exception name"), Ok(name) if name.starts_with(b"DB::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_overlong_ones_fail() {
        for n in [0, 1, 127, 128, 54401, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(Cursor::new(&out).varint(), Ok(n));
        }
        assert_eq!(Cursor::new(&[0x80, 0x80]).varint(), Err(Need::More));
        assert!(matches!(
            Cursor::new(&[0xff; 11]).varint(),
            Err(Need::Bad(_))
        ));
    }

    #[test]
    fn hello_is_revision_54401_user_default_and_no_password() {
        let mut want = vec![0, 4];
        want.extend_from_slice(b"ajar");
        want.extend_from_slice(&[1, 0, 0x81, 0xa9, 0x03, 0, 7]);
        want.extend_from_slice(b"default");
        want.push(0);
        assert_eq!(hello("default"), want);
    }

    #[test]
    fn long_strings_are_refused_before_reading() {
        let mut buf = Vec::new();
        put_varint(&mut buf, 1 << 40);
        assert!(matches!(
            Cursor::new(&buf).string(MAX_FIELD, "name"),
            Err(Need::Bad(_))
        ));
    }
}
