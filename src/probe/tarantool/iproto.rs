//! IPROTO, Tarantool's binary protocol, as far as the probe speaks it: the 128-byte
//! greeting, one SELECT request, and its reply (doc "Binary protocol": a MessagePack size,
//! a header map with the request type or status code and the sync, a body map with
//! `IPROTO_DATA` or `IPROTO_ERROR_24`).

use super::msgpack::{Reader, put_uint};

/// Size of the greeting: two 64-byte lines.
pub const GREETING_LEN: usize = 128;
/// `IPROTO_REQUEST_TYPE` / the reply's status code (header key 0x00).
const KEY_CODE: u64 = 0x00;
/// `IPROTO_SYNC` (header key 0x01).
const KEY_SYNC: u64 = 0x01;
/// `IPROTO_DATA` (body key 0x30): the tuples of a reply.
const KEY_DATA: u64 = 0x30;
/// `IPROTO_ERROR_24` (body key 0x31): the error message of a reply.
const KEY_ERROR: u64 = 0x31;
/// `IPROTO_SELECT`.
const SELECT: u64 = 1;
/// The reply status bit that marks an error (`IPROTO_TYPE_ERROR`, 0x8000 | error code).
const ERROR_BIT: u64 = 0x8000;
/// Most tuples kept from one reply, whatever the server sends.
const MAX_TUPLES: usize = 10_000;

/// What a greeting says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The version (`2.6.0`), from line 1.
    pub version: String,
    /// `Binary` (IPROTO) or `Lua console`.
    pub protocol: String,
    /// The instance UUID after the protocol, when given (1.6.7+).
    pub uuid: Option<String>,
    /// Characters of the base64 salt on line 2.
    pub salt_len: usize,
}

/// Whether `bytes`, sent unasked, start a Tarantool greeting (IPROTO or Lua console).
pub fn is_greeting(bytes: &[u8]) -> bool {
    let line = &bytes[..bytes.len().min(64)];
    line.starts_with(b"Tarantool ")
        && (contains(line, b" (Binary)") || contains(line, b" (Lua console)"))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Parses the 128-byte greeting: line 1 `Tarantool <version> (<protocol>) [<uuid>]`
/// space-padded to 63 bytes and a newline, line 2 the salt (IPROTO) or a help line
/// (console), padded the same way.
pub fn parse_greeting(bytes: &[u8]) -> Option<Greeting> {
    if bytes.len() != GREETING_LEN || bytes[63] != b'\n' || bytes[127] != b'\n' {
        return None;
    }
    let line1 = std::str::from_utf8(&bytes[..63]).ok()?.trim_end();
    let line2 = std::str::from_utf8(&bytes[64..127]).ok()?.trim_end();
    let rest = line1.strip_prefix("Tarantool ")?;
    let (version, rest) = rest.split_once(" (")?;
    let (protocol, rest) = rest.split_once(')')?;
    let version_ok = !version.is_empty()
        && version.len() <= 32
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
    if !version_ok || !matches!(protocol, "Binary" | "Lua console") {
        return None;
    }
    let uuid = rest.trim();
    let uuid = (!uuid.is_empty()).then(|| uuid.to_string());
    if uuid
        .as_deref()
        .is_some_and(|u| u.len() != 36 || !u.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
    {
        return None;
    }
    let salt_len = if protocol == "Binary" {
        let base64 = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
        if line2.len() < 20 || !line2.chars().all(base64) {
            return None;
        }
        line2.len()
    } else {
        0
    };
    Some(Greeting {
        version: version.to_string(),
        protocol: protocol.to_string(),
        uuid,
        salt_len,
    })
}

/// The bytes of `SELECT` on `space`, index 0, iterator ALL, `limit` tuples, with `sync`.
pub fn select(space: u64, limit: u64, sync: u64) -> Vec<u8> {
    let mut packet = vec![0x82];
    put_uint(&mut packet, KEY_CODE);
    put_uint(&mut packet, SELECT);
    put_uint(&mut packet, KEY_SYNC);
    put_uint(&mut packet, sync);
    // Body: SPACE_ID, INDEX_ID 0, LIMIT, OFFSET 0, ITERATOR 2 (ALL), KEY [].
    packet.push(0x86);
    for (key, value) in [
        (0x10, space),
        (0x11, 0),
        (0x12, limit),
        (0x13, 0),
        (0x14, 2),
    ] {
        put_uint(&mut packet, key);
        put_uint(&mut packet, value);
    }
    put_uint(&mut packet, 0x20);
    packet.push(0x90);
    let mut out = vec![0xce];
    out.extend_from_slice(
        &u32::try_from(packet.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&packet);
    out
}

/// The first byte of every reply: its size is a MessagePack uint 32 (`0xce`), as
/// Tarantool always writes it (a fixed 5-byte prefix, so a server can fill it in last).
pub const SIZE_PREFIX: u8 = 0xce;

/// One `_vspace` tuple's identity: `[id, owner, name, engine, ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// Space id; 512 and above are user spaces.
    pub id: u64,
    /// Space name.
    pub name: String,
    /// Storage engine (`memtx`, `vinyl`, `sysview`), when given.
    pub engine: Option<String>,
}

/// A reply, as far as the probe reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Status 0: the tuples read (all, or as many as the cap let in, `cut` then true).
    Spaces { spaces: Vec<Space>, cut: bool },
    /// Status 0x8000 | code, with the message.
    Error { code: u64, message: String },
}

/// Parses a reply to the request with `sync`; `cut` says the packet was longer than what
/// was read. `None` for anything that is not a well-formed IPROTO reply.
pub fn parse_reply(packet: &[u8], sync: u64, cut: bool) -> Option<Reply> {
    let mut r = Reader::new(packet);
    let (mut code, mut seen_sync) = (None, None);
    for _ in 0..r.map()? {
        match r.uint()? {
            KEY_CODE => code = Some(r.uint()?),
            KEY_SYNC => seen_sync = Some(r.uint()?),
            _ => r.skip()?,
        }
    }
    if seen_sync != Some(sync) {
        return None;
    }
    let code = code?;
    if code & ERROR_BIT != 0 {
        let mut message = String::new();
        for _ in 0..r.map()? {
            match r.uint()? {
                KEY_ERROR => message = String::from_utf8_lossy(r.str()?).into_owned(),
                _ => r.skip()?,
            }
        }
        return Some(Reply::Error {
            code: code & !ERROR_BIT,
            message,
        });
    }
    if code != 0 {
        return None;
    }
    let mut spaces = None;
    for _ in 0..r.map()? {
        match r.uint()? {
            KEY_DATA => {
                spaces = Some(tuples(&mut r, cut)?);
                // With a cut packet nothing after the data can be read.
                if spaces.as_ref().is_some_and(|(_, stopped)| *stopped) {
                    break;
                }
            }
            _ => r.skip()?,
        }
    }
    let (spaces, stopped) = spaces?;
    Some(Reply::Spaces {
        spaces,
        cut: stopped,
    })
}

/// The tuples of `IPROTO_DATA`; with a `cut` packet, those read whole before it ends.
fn tuples(r: &mut Reader<'_>, cut: bool) -> Option<(Vec<Space>, bool)> {
    let count = r.array()?;
    let mut spaces = Vec::new();
    for _ in 0..count {
        match space(r) {
            Some(space) if spaces.len() < MAX_TUPLES => spaces.push(space),
            Some(_) => return Some((spaces, true)),
            None if cut => return Some((spaces, true)),
            None => return None,
        }
    }
    Some((spaces, false))
}

fn space(r: &mut Reader<'_>) -> Option<Space> {
    let fields = r.array()?;
    if fields < 3 {
        return None;
    }
    let id = r.uint()?;
    r.uint()?;
    let name = std::str::from_utf8(r.str()?).ok()?.to_string();
    let mut engine = None;
    for i in 3..fields {
        if i == 3 {
            engine = Some(String::from_utf8_lossy(r.str()?).into_owned());
        } else {
            r.skip()?;
        }
    }
    Some(Space { id, name, engine })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greeting(line1: &str, line2: &str) -> Vec<u8> {
        format!("{line1:<63}\n{line2:<63}\n").into_bytes()
    }

    #[test]
    fn greeting_lines_are_checked() {
        let salt = "OTWtA/Ei7xFbtjkSydE7O6PKdRiPEb/zSY3ApJBdpf8=";
        let uuid = "d746a255-564b-44d3-a522-8f66397bf95d";
        let ok = greeting(&format!("Tarantool 2.6.0 (Binary) {uuid}"), salt);
        let g = parse_greeting(&ok).expect("greeting");
        assert_eq!(g.version, "2.6.0");
        assert_eq!(g.uuid.as_deref(), Some(uuid));
        assert_eq!(g.salt_len, 44);
        assert!(is_greeting(&ok));
        assert!(parse_greeting(&ok[..127]).is_none());
        assert!(parse_greeting(&greeting("Tarantool 2.6.0 (Binary) not-a-uuid", salt)).is_none());
        assert!(parse_greeting(&greeting("Tarantool x (Binary)", salt)).is_none());
        assert!(parse_greeting(&greeting("Tarantool 2.6.0 (Binary)", "not base64 !")).is_none());
        assert!(!is_greeting(b"Tarantool is a database"));
        assert!(!is_greeting(b"HTTP/1.1 200 OK\r\n"));
    }

    #[test]
    fn select_request_bytes() {
        // size 0xce + u32 22, header {0: 1, 1: 1}, body {0x10: 281, 0x11: 0, 0x12: 1000,
        // 0x13: 0, 0x14: 2, 0x20: []}.
        let want = [
            0xce, 0, 0, 0, 0x16, 0x82, 0x00, 0x01, 0x01, 0x01, 0x86, 0x10, 0xcd, 0x01, 0x19, 0x11,
            0x00, 0x12, 0xcd, 0x03, 0xe8, 0x13, 0x00, 0x14, 0x02, 0x20, 0x90,
        ];
        assert_eq!(select(281, 1000, 1), want);
    }

    #[test]
    fn reply_sync_must_match() {
        // {0: 0, 1: 2} {0x30: []}: a reply to another request.
        let packet = [0x82, 0x00, 0x00, 0x01, 0x02, 0x81, 0x30, 0x90];
        assert_eq!(
            parse_reply(&packet, 2, false),
            Some(Reply::Spaces {
                spaces: vec![],
                cut: false
            })
        );
        assert_eq!(parse_reply(&packet, 1, false), None);
        // Status 1 (neither OK nor an error) is no reply to a SELECT.
        let odd = [0x82, 0x00, 0x01, 0x01, 0x01, 0x81, 0x30, 0x90];
        assert_eq!(parse_reply(&odd, 1, false), None);
    }
}
