//! The MySQL client/server protocol as far as the probe speaks it: packet framing, the
//! Initial Handshake v10 a server sends on accept, the ERR packet a server sends instead
//! when it refuses the host, the login (`HandshakeResponse41`) with an empty password, and
//! the text result set of `SHOW DATABASES`.
//!
//! Every length comes from the server, so each is checked against the bytes at hand before
//! it is used; nothing here panics or allocates more than the caller's cap.

/// `CLIENT_LONG_PASSWORD`.
const CLIENT_LONG_PASSWORD: u32 = 0x0000_0001;
/// `CLIENT_PROTOCOL_41`: the 4.1 protocol (SQL state in ERR packets, 4-byte capabilities).
pub const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
/// `CLIENT_SECURE_CONNECTION`: a length-prefixed auth response.
const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
/// `CLIENT_PLUGIN_AUTH`: the handshake names its auth plugin.
pub const CLIENT_PLUGIN_AUTH: u32 = 0x0008_0000;
/// The protocol version byte of Initial Handshake v10.
pub const HANDSHAKE_V10: u8 = 0x0a;
/// First byte of an ERR packet.
pub const ERR: u8 = 0xff;
/// First byte of an OK packet.
pub const OK: u8 = 0x00;
/// First byte of an auth switch request (and of an EOF packet, when short).
pub const SWITCH_OR_EOF: u8 = 0xfe;
/// First byte of caching_sha2_password's "more data" packet.
pub const MORE_DATA: u8 = 0x01;
/// Longest handshake payload accepted: real ones are about 80-130 bytes.
const MAX_HANDSHAKE: usize = 1024;
/// Longest server version accepted.
const MAX_VERSION: usize = 100;

/// One packet's header: payload length and sequence id.
pub fn header(bytes: &[u8]) -> Option<(usize, u8)> {
    match bytes {
        [a, b, c, seq, ..] => Some((
            usize::from(*a) | usize::from(*b) << 8 | usize::from(*c) << 16,
            *seq,
        )),
        _ => None,
    }
}

/// Frames `payload` as packet `seq`. Payloads here are a few dozen bytes.
pub fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len().min(0xff_ffff);
    let mut out = Vec::with_capacity(len.saturating_add(4));
    out.extend_from_slice(&[len as u8, (len >> 8) as u8, (len >> 16) as u8, seq]);
    out.extend_from_slice(&payload[..len]);
    out
}

/// What the server said on accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// An Initial Handshake v10.
    Handshake(Handshake),
    /// An ERR packet instead of a handshake (host not allowed, too many connections).
    Refused(ServerError),
}

/// The facts of an Initial Handshake v10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The server version string as sent (`5.5.5-10.11.19-MariaDB-0+deb12u1`).
    pub server_version: String,
    /// The connection id.
    pub connection_id: u32,
    /// The server's capability flags (lower and upper halves).
    pub capabilities: u32,
    /// The default auth plugin, when the server names one.
    pub auth_plugin: Option<String>,
}

impl Handshake {
    /// Whether this is MariaDB rather than Oracle MySQL (or another fork).
    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }

    /// The product's release (`10.11.19`): MariaDB's `5.5.5-` replication prefix dropped,
    /// the leading digits and dots kept.
    pub fn release(&self) -> Option<String> {
        let text = self.server_version.as_str();
        let text = match text.strip_prefix("5.5.5-") {
            Some(rest) if self.is_mariadb() => rest,
            _ => text,
        };
        let release: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let release = release.trim_end_matches('.');
        (release.contains('.') && release.starts_with(|c: char| c.is_ascii_digit()))
            .then(|| release.to_string())
    }
}

/// An ERR packet's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// The error number (1045 access denied, 1130 host not allowed).
    pub code: u16,
    /// The SQL state, when sent.
    pub state: Option<String>,
    /// The message, escaped by the caller's trace.
    pub message: String,
}

/// Whether `bytes` (read on accept) start with an Initial Handshake v10 packet or an ERR
/// packet in its place: the registry's greeting test. Only the first packet is judged, and
/// only as far as it arrived.
pub fn is_greeting(bytes: &[u8]) -> bool {
    let Some((len, seq)) = header(bytes) else {
        return false;
    };
    if seq != 0 || !(3..=MAX_HANDSHAKE).contains(&len) {
        return false;
    }
    let body = &bytes[4..bytes.len().min(len.saturating_add(4))];
    match body.first() {
        Some(&HANDSHAKE_V10) => {
            // The version: printable ASCII up to a NUL that must come within the body.
            let rest = &body[1..];
            match rest.iter().position(|&b| b == 0) {
                Some(end) => {
                    end > 0
                        && end <= MAX_VERSION
                        && rest[..end].iter().all(|b| b.is_ascii_graphic())
                        && rest[0].is_ascii_digit()
                }
                None => false,
            }
        }
        Some(&ERR) => match body.get(1..3) {
            Some([lo, hi]) => {
                let code = u16::from_le_bytes([*lo, *hi]);
                // Server error numbers are 1000-1999 and 3000-4999 (MySQL) or up to 1999
                // and 4000s (MariaDB); the message after it is printable text.
                (1000..5000).contains(&code)
                    && body[3..].iter().all(|b| b.is_ascii_graphic() || *b == b' ')
            }
            _ => false,
        },
        _ => false,
    }
}

/// Parses the first packet's payload as a greeting.
pub fn parse_greeting(payload: &[u8]) -> Option<Greeting> {
    match *payload.first()? {
        HANDSHAKE_V10 => parse_handshake(payload).map(Greeting::Handshake),
        ERR => parse_error(payload, false).map(Greeting::Refused),
        _ => None,
    }
}

fn parse_handshake(payload: &[u8]) -> Option<Handshake> {
    let rest = payload.get(1..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    let version = rest.get(..end)?;
    if version.is_empty()
        || version.len() > MAX_VERSION
        || !version.iter().all(u8::is_ascii_graphic)
    {
        return None;
    }
    let server_version = String::from_utf8_lossy(version).into_owned();
    let mut at = 1usize.saturating_add(end).saturating_add(1);
    let id = payload.get(at..at.saturating_add(4))?;
    let connection_id = u32::from_le_bytes([id[0], id[1], id[2], id[3]]);
    at = at.saturating_add(4 + 8);
    // Filler byte, always 0.
    if *payload.get(at)? != 0 {
        return None;
    }
    at = at.saturating_add(1);
    let low = payload.get(at..at.saturating_add(2))?;
    let mut capabilities = u32::from(u16::from_le_bytes([low[0], low[1]]));
    at = at.saturating_add(2);
    let mut auth_plugin = None;
    // Charset, status, upper capabilities, auth data length, 10 reserved: optional in
    // very old servers.
    if let Some(high) = payload.get(at.saturating_add(3)..at.saturating_add(5)) {
        capabilities |= u32::from(u16::from_le_bytes([high[0], high[1]])) << 16;
        let data_len = usize::from(*payload.get(at.saturating_add(5))?);
        at = at.saturating_add(16);
        if capabilities & CLIENT_SECURE_CONNECTION != 0 {
            at = at.saturating_add(data_len.saturating_sub(8).max(13));
        }
        if capabilities & CLIENT_PLUGIN_AUTH != 0
            && let Some(tail) = payload.get(at..)
        {
            let name = tail.split(|&b| b == 0).next().unwrap_or_default();
            if !name.is_empty() && name.len() <= 64 && name.iter().all(u8::is_ascii_graphic) {
                auth_plugin = Some(String::from_utf8_lossy(name).into_owned());
            }
        }
    }
    Some(Handshake {
        server_version,
        connection_id,
        capabilities,
        auth_plugin,
    })
}

/// Parses an ERR packet; `protocol_41` when the client negotiated it (the SQL state
/// marker `#` then follows the code).
pub fn parse_error(payload: &[u8], protocol_41: bool) -> Option<ServerError> {
    if *payload.first()? != ERR {
        return None;
    }
    let code = payload.get(1..3)?;
    let code = u16::from_le_bytes([code[0], code[1]]);
    let mut rest = payload.get(3..)?;
    let mut state = None;
    if protocol_41 && rest.first() == Some(&b'#') && rest.len() >= 6 {
        state = Some(String::from_utf8_lossy(&rest[1..6]).into_owned());
        rest = &rest[6..];
    }
    let message = String::from_utf8_lossy(&rest[..rest.len().min(300)]).into_owned();
    Some(ServerError {
        code,
        state,
        message,
    })
}

/// The login as `user` with an empty password: `HandshakeResponse41` with an empty auth
/// response, naming `plugin` (the server's default) so no switch is needed. Sent as packet 1.
pub fn login(user: &str, plugin: Option<&str>) -> Vec<u8> {
    let mut caps = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
    if plugin.is_some() {
        caps |= CLIENT_PLUGIN_AUTH;
    }
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(&caps.to_le_bytes());
    out.extend_from_slice(&(1u32 << 24).to_le_bytes());
    // utf8mb4_general_ci, then 23 bytes of filler.
    out.push(45);
    out.extend_from_slice(&[0; 23]);
    out.extend_from_slice(user.as_bytes());
    out.push(0);
    // The auth response: empty, as every client plugin sends it for an empty password.
    out.push(0);
    if let Some(plugin) = plugin {
        out.extend_from_slice(plugin.as_bytes());
        out.push(0);
    }
    out
}

/// The plugin an auth switch request asks for.
pub fn switch_plugin(payload: &[u8]) -> Option<String> {
    if *payload.first()? != SWITCH_OR_EOF {
        return None;
    }
    let name = payload.get(1..)?.split(|&b| b == 0).next()?;
    (!name.is_empty() && name.len() <= 64 && name.iter().all(u8::is_ascii_graphic))
        .then(|| String::from_utf8_lossy(name).into_owned())
}

/// A length-encoded integer at the start of `bytes`, and the bytes it took.
pub fn lenenc(bytes: &[u8]) -> Option<(u64, usize)> {
    match *bytes.first()? {
        n @ 0..=0xfa => Some((u64::from(n), 1)),
        0xfc => bytes
            .get(1..3)
            .map(|b| (u64::from(u16::from_le_bytes([b[0], b[1]])), 3)),
        0xfd => bytes.get(1..4).map(|b| {
            (
                u64::from(b[0]) | u64::from(b[1]) << 8 | u64::from(b[2]) << 16,
                4,
            )
        }),
        0xfe => bytes.get(1..9).map(|b| {
            let mut v = [0u8; 8];
            v.copy_from_slice(b);
            (u64::from_le_bytes(v), 9)
        }),
        _ => None,
    }
}

/// Whether a payload is an EOF packet (0xfe and shorter than 9 bytes).
pub fn is_eof(payload: &[u8]) -> bool {
    payload.first() == Some(&SWITCH_OR_EOF) && payload.len() < 9
}

/// The one text column of a result set row: `None` when the row is not a single
/// length-encoded string filling the payload exactly.
pub fn single_column(payload: &[u8]) -> Option<&[u8]> {
    let (len, used) = lenenc(payload)?;
    let len = usize::try_from(len).ok()?;
    let value = payload.get(used..used.checked_add(len)?)?;
    (used.checked_add(len)? == payload.len()).then_some(value)
}
