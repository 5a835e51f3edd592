//! The CQL native protocol, versions 3 and 4 (`doc/native_protocol_v4.spec` in
//! apache/cassandra): the 9-byte frame header, the requests the probe sends (OPTIONS,
//! STARTUP, AUTH_RESPONSE, QUERY) and readers for the bodies it accepts (SUPPORTED,
//! AUTHENTICATE, ERROR, RESULT Rows). Every reader checks each length against what is left
//! before it slices, and caps every count, so no server number allocates anything.

/// Frame header length in versions 3 to 5.
pub const HEADER_LEN: usize = 9;
/// The direction bit of a response frame's version byte.
const RESPONSE: u8 = 0x80;

/// ERROR: `[int code][string message]`.
pub const ERROR: u8 = 0x00;
/// STARTUP: `[string map]` options.
pub const STARTUP: u8 = 0x01;
/// READY: the server needs no authentication.
pub const READY: u8 = 0x02;
/// AUTHENTICATE: `[string]` the authenticator class.
pub const AUTHENTICATE: u8 = 0x03;
/// OPTIONS: asks for SUPPORTED.
pub const OPTIONS: u8 = 0x05;
/// SUPPORTED: `[string multimap]`.
pub const SUPPORTED: u8 = 0x06;
/// QUERY: `[long string]` query and its parameters.
pub const QUERY: u8 = 0x07;
/// RESULT: `[int kind]` and its body.
pub const RESULT: u8 = 0x08;
/// AUTH_CHALLENGE: `[bytes]` a SASL challenge.
pub const AUTH_CHALLENGE: u8 = 0x0E;
/// AUTH_RESPONSE: `[bytes]` a SASL token.
pub const AUTH_RESPONSE: u8 = 0x0F;
/// AUTH_SUCCESS: `[bytes]` the last SASL token.
pub const AUTH_SUCCESS: u8 = 0x10;

/// Protocol error: among others, an unsupported protocol version.
pub const PROTOCOL_ERROR: i32 = 0x000A;
/// Authentication error: bad credentials.
pub const BAD_CREDENTIALS: i32 = 0x0100;
/// Unauthorized: the user may not run the statement.
pub const UNAUTHORIZED: i32 = 0x2100;
/// Invalid: among others, an unknown table (`system_schema` before Cassandra 3.0).
pub const INVALID: i32 = 0x2200;

/// Header flag: compressed body (never asked for, so never accepted).
const FLAG_COMPRESSION: u8 = 0x01;
/// Header flag: a `[uuid]` tracing id opens the body.
const FLAG_TRACING: u8 = 0x02;
/// Header flag: a `[bytes map]` custom payload follows the warnings.
const FLAG_CUSTOM_PAYLOAD: u8 = 0x04;
/// Header flag: a `[string list]` of warnings follows the tracing id.
const FLAG_WARNING: u8 = 0x08;

/// Consistency ONE, enough for the local node's schema tables.
const CONSISTENCY_ONE: u16 = 0x0001;
/// QUERY flag: a `[int]` result page size follows.
const QUERY_PAGE_SIZE: u8 = 0x04;

/// Most entries read from any map, list or column list.
const MAX_ENTRIES: usize = 256;
/// Most nesting of column types (`map<text, frozen<list<...>>>`).
const MAX_TYPE_DEPTH: usize = 8;

/// A response frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The protocol version, without the direction bit.
    pub version: u8,
    /// Header flags.
    pub flags: u8,
    /// The stream id the response answers.
    pub stream: i16,
    /// The opcode.
    pub opcode: u8,
    /// The body length.
    pub length: usize,
}

/// Reads a response header: the direction bit set, a version of 1 to 6, a known response
/// opcode and no compression. `None` for anything else.
pub fn parse_header(bytes: &[u8]) -> Option<Header> {
    let head = bytes.get(..HEADER_LEN)?;
    let version = head[0].checked_sub(RESPONSE)?;
    if !(1..=6).contains(&version) || head[1] & FLAG_COMPRESSION != 0 {
        return None;
    }
    let opcode = head[4];
    if !matches!(
        opcode,
        0x00 | 0x02 | 0x03 | 0x06 | 0x08 | 0x0C | 0x0E | 0x10
    ) {
        return None;
    }
    let length = u32::from_be_bytes([head[5], head[6], head[7], head[8]]);
    Some(Header {
        version,
        flags: head[1],
        stream: i16::from_be_bytes([head[2], head[3]]),
        opcode,
        length: usize::try_from(length).ok()?,
    })
}

/// Whether bytes sent back to another protocol's request are a CQL protocol error: what
/// Cassandra answers an HTTP request line with (`G` read as protocol version 71).
pub fn is_protocol_error(bytes: &[u8]) -> bool {
    let Some(header) = parse_header(bytes) else {
        return false;
    };
    let body = &bytes[HEADER_LEN..];
    header.opcode == ERROR
        && header.length <= 4096
        && body.get(..4) == Some(&PROTOCOL_ERROR.to_be_bytes()[..])
}

/// One request frame of protocol `version` on `stream`.
pub fn frame(version: u8, stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN.saturating_add(body.len()));
    out.extend_from_slice(&[version, 0]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode);
    let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn put_string(out: &mut Vec<u8>, text: &str) {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&text.as_bytes()[..usize::from(len)]);
}

/// The STARTUP body: `{CQL_VERSION: cql_version}`, nothing else (no compression).
pub fn startup(cql_version: &str) -> Vec<u8> {
    let mut body = 1u16.to_be_bytes().to_vec();
    put_string(&mut body, "CQL_VERSION");
    put_string(&mut body, cql_version);
    body
}

/// An AUTH_RESPONSE body: the token as `[bytes]`.
pub fn auth_response(token: &[u8]) -> Vec<u8> {
    let len = i32::try_from(token.len()).unwrap_or(i32::MAX);
    let mut body = len.to_be_bytes().to_vec();
    body.extend_from_slice(token);
    body
}

/// A QUERY body of protocol 3 or 4: the statement, consistency ONE, and a page size so
/// the server never sends more than `page_size` rows at once.
pub fn query(statement: &str, page_size: i32) -> Vec<u8> {
    let len = i32::try_from(statement.len()).unwrap_or(i32::MAX);
    let mut body = len.to_be_bytes().to_vec();
    body.extend_from_slice(statement.as_bytes());
    body.extend_from_slice(&CONSISTENCY_ONE.to_be_bytes());
    body.push(QUERY_PAGE_SIZE);
    body.extend_from_slice(&page_size.to_be_bytes());
    body
}

/// A bounded reader over one frame body.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `body`.
    pub fn new(body: &'a [u8]) -> Reader<'a> {
        Reader { rest: body }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(head)
    }

    fn short(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn int(&mut self) -> Option<i32> {
        let b = self.take(4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Option<String> {
        let len = self.short()?;
        let bytes = self.take(usize::from(len))?;
        String::from_utf8(bytes.to_vec()).ok()
    }

    /// `[bytes]`: `None` inside for a null value (negative length).
    fn bytes(&mut self) -> Option<Option<&'a [u8]>> {
        let len = self.int()?;
        match usize::try_from(len) {
            Ok(n) => self.take(n).map(Some),
            Err(_) => Some(None),
        }
    }

    fn count(&mut self) -> Option<usize> {
        let n = usize::from(self.short()?);
        (n <= MAX_ENTRIES).then_some(n)
    }

    fn string_list(&mut self) -> Option<Vec<String>> {
        let n = self.count()?;
        (0..n).map(|_| self.string()).collect()
    }

    /// Skips what the header flags put before a response's own body.
    fn skip_prefix(&mut self, flags: u8) -> Option<()> {
        if flags & FLAG_TRACING != 0 {
            self.take(16)?;
        }
        if flags & FLAG_WARNING != 0 {
            self.string_list()?;
        }
        if flags & FLAG_CUSTOM_PAYLOAD != 0 {
            for _ in 0..self.count()? {
                self.string()?;
                self.bytes()?;
            }
        }
        Some(())
    }

    /// Skips one column type `[option]`.
    fn option(&mut self, depth: usize) -> Option<u16> {
        if depth > MAX_TYPE_DEPTH {
            return None;
        }
        let id = self.short()?;
        match id {
            0x0000 => {
                self.string()?;
            }
            0x0020 | 0x0022 => {
                self.option(depth.saturating_add(1))?;
            }
            0x0021 => {
                self.option(depth.saturating_add(1))?;
                self.option(depth.saturating_add(1))?;
            }
            0x0030 => {
                self.string()?;
                self.string()?;
                for _ in 0..self.count()? {
                    self.string()?;
                    self.option(depth.saturating_add(1))?;
                }
            }
            0x0031 => {
                for _ in 0..self.count()? {
                    self.option(depth.saturating_add(1))?;
                }
            }
            0x0001..=0x0015 => {}
            _ => return None,
        }
        Some(id)
    }
}

/// The body of a response, past what its flags put first.
pub fn body(flags: u8, body: &[u8]) -> Option<Reader<'_>> {
    let mut reader = Reader::new(body);
    reader.skip_prefix(flags)?;
    Some(reader)
}

/// SUPPORTED: the `[string multimap]` of options, in the server's order.
pub fn parse_supported(mut body: Reader<'_>) -> Option<Vec<(String, Vec<String>)>> {
    let n = body.count()?;
    (0..n)
        .map(|_| Some((body.string()?, body.string_list()?)))
        .collect()
}

/// AUTHENTICATE: the authenticator's class name, a printable Java class name.
pub fn parse_authenticate(mut body: Reader<'_>) -> Option<String> {
    body.string()
        .filter(|name| !name.is_empty() && name.len() <= 200)
        .filter(|name| name.bytes().all(|b| b.is_ascii_graphic()))
}

/// AUTH_CHALLENGE or AUTH_SUCCESS: the token (`None` inside for a null one).
pub fn parse_token<'a>(mut body: Reader<'a>) -> Option<Option<&'a [u8]>> {
    body.bytes()
}

/// ERROR: the code and the message.
pub fn parse_error(mut body: Reader<'_>) -> Option<(i32, String)> {
    Some((body.int()?, body.string()?))
}

/// Column type ids of text: `ascii` and `varchar` (`text`).
const TEXT_TYPES: [u16; 2] = [0x0001, 0x000D];

/// A Rows result whose every column is text, as the schema queries return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// The rows: one optional text per column.
    pub rows: Vec<Vec<Option<String>>>,
    /// Whether the server has more pages.
    pub more_pages: bool,
}

/// RESULT of kind Rows (0x0002) with metadata, text columns only, at most `max_rows` rows.
/// `None` for any other result, a type that is not text, or a malformed body.
pub fn parse_rows(mut body: Reader<'_>, max_rows: usize) -> Option<Rows> {
    const ROWS: i32 = 0x0002;
    const GLOBAL_TABLES_SPEC: i32 = 0x0001;
    const HAS_MORE_PAGES: i32 = 0x0002;
    const NO_METADATA: i32 = 0x0004;
    if body.int()? != ROWS {
        return None;
    }
    let flags = body.int()?;
    let column_count = usize::try_from(body.int()?).ok()?;
    if column_count == 0 || column_count > MAX_ENTRIES || flags & NO_METADATA != 0 {
        return None;
    }
    let more_pages = flags & HAS_MORE_PAGES != 0;
    if more_pages {
        body.bytes()?;
    }
    let global = flags & GLOBAL_TABLES_SPEC != 0;
    if global {
        body.string()?;
        body.string()?;
    }
    let mut columns = Vec::with_capacity(column_count);
    for _ in 0..column_count {
        if !global {
            body.string()?;
            body.string()?;
        }
        columns.push(body.string()?);
        if !TEXT_TYPES.contains(&body.option(0)?) {
            return None;
        }
    }
    let row_count = usize::try_from(body.int()?).ok()?;
    if row_count > max_rows {
        return None;
    }
    let mut rows = Vec::with_capacity(row_count);
    for _ in 0..row_count {
        let mut row = Vec::with_capacity(column_count);
        for _ in 0..column_count {
            let value = match body.bytes()? {
                Some(bytes) => Some(String::from_utf8(bytes.to_vec()).ok()?),
                None => None,
            };
            row.push(value);
        }
        rows.push(row);
    }
    body.rest.is_empty().then_some(Rows {
        columns,
        rows,
        more_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        put_string(out, s);
    }

    #[test]
    fn options_frame_is_nine_bytes_of_header() {
        assert_eq!(frame(4, 1, OPTIONS, &[]), [4, 0, 0, 1, 5, 0, 0, 0, 0]);
    }

    #[test]
    fn rows_with_a_global_spec_and_a_null() {
        let mut body = Vec::new();
        body.extend_from_slice(&2i32.to_be_bytes());
        body.extend_from_slice(&1i32.to_be_bytes());
        body.extend_from_slice(&1i32.to_be_bytes());
        string(&mut body, "system_schema");
        string(&mut body, "keyspaces");
        string(&mut body, "keyspace_name");
        body.extend_from_slice(&0x000Du16.to_be_bytes());
        body.extend_from_slice(&2i32.to_be_bytes());
        body.extend_from_slice(&6i32.to_be_bytes());
        body.extend_from_slice(b"system");
        body.extend_from_slice(&(-1i32).to_be_bytes());
        let rows = parse_rows(Reader::new(&body), 10).expect("rows");
        assert_eq!(rows.columns, ["keyspace_name"]);
        assert_eq!(rows.rows, [vec![Some("system".into())], vec![None]]);
        assert!(parse_rows(Reader::new(&body), 1).is_none(), "over the cap");
        assert!(parse_rows(Reader::new(&body[..body.len() - 1]), 10).is_none());
    }

    #[test]
    fn a_protocol_error_is_recognised_as_cql_in_answer_to_other_bytes() {
        let mut body = PROTOCOL_ERROR.to_be_bytes().to_vec();
        string(&mut body, "Invalid or unsupported protocol version (71)");
        let mut reply = vec![0x85, 0, 0x20, 0x2F, ERROR];
        reply.extend_from_slice(&u32::try_from(body.len()).expect("len").to_be_bytes());
        reply.extend_from_slice(&body);
        assert!(is_protocol_error(&reply));
        reply[HEADER_LEN + 3] = 0x0B;
        assert!(!is_protocol_error(&reply), "another error code");
        assert!(!is_protocol_error(b"HTTP/1.1 400 Bad Request\r\n\r\n"));
    }

    #[test]
    fn headers_need_the_response_bit_and_a_response_opcode() {
        assert!(parse_header(&[0x84, 0, 0, 1, 6, 0, 0, 0, 0]).is_some());
        assert!(parse_header(&[0x04, 0, 0, 1, 6, 0, 0, 0, 0]).is_none());
        assert!(parse_header(&[0x84, 0, 0, 1, 7, 0, 0, 0, 0]).is_none());
        assert!(parse_header(&[0x84, 1, 0, 1, 6, 0, 0, 0, 0]).is_none());
        assert!(parse_header(b"HTTP/1.1 400").is_none());
    }
}
