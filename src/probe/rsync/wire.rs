//! The rsync daemon's line protocol: the greeting, the answers to a module request, and a
//! line reader bounded in bytes, lines and time.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::BoxStream;

/// Most bytes of one line kept.
const MAX_LINE: usize = 1024;
/// Most bytes read on one connection.
const MAX_READ: usize = 64 << 10;
/// Most lines read on one connection (MOTD lines included).
const MAX_LINES: usize = 1000;

/// Whether `bytes`, sent unasked, start an rsync daemon greeting (`@RSYNCD: ` and a digit).
pub fn is_greeting(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(b"@RSYNCD: ")
        .and_then(|rest| rest.first())
        .is_some_and(u8::is_ascii_digit)
}

/// What the greeting says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The protocol version (`32.0`; `29` before sub-versions).
    pub protocol: String,
    /// The authentication digests offered (protocol 31+), in the daemon's order.
    pub digests: Vec<String>,
}

/// Parses the greeting line (without its newline).
pub fn parse_greeting(line: &str) -> Option<Greeting> {
    let mut words = line.strip_prefix("@RSYNCD: ")?.split(' ');
    let protocol = words.next()?;
    let (major, minor) = protocol.split_once('.').unwrap_or((protocol, "0"));
    let number = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !number(major) || !number(minor) {
        return None;
    }
    let digests: Vec<String> = words.map(str::to_string).collect();
    let word =
        |d: &String| !d.is_empty() && d.len() <= 32 && d.bytes().all(|b| b.is_ascii_alphanumeric());
    if digests.len() > 16 || !digests.iter().all(word) {
        return None;
    }
    Some(Greeting {
        protocol: protocol.to_string(),
        digests,
    })
}

/// How a daemon answered a module request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `@RSYNCD: OK`: readable without authentication.
    Open,
    /// `@RSYNCD: AUTHREQD`: `auth users` protect it.
    AuthRequired,
    /// `@ERROR: ...` (or `@RSYNCD: EXIT`): refused, with the message.
    Refused(String),
    /// No answer that says either (silence, a hang-up, other bytes).
    Unknown(String),
}

/// Reads lines from one connection, within the step timeout and the caps.
pub(super) struct Lines {
    pub(super) stream: BoxStream,
    pub(super) step: Duration,
    pub(super) buf: Vec<u8>,
    pub(super) read: usize,
    pub(super) lines: usize,
}

impl Lines {
    /// The next line without its newline; `Err` says why there is none.
    pub(super) async fn next(&mut self) -> Result<String, String> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).take(end).take(MAX_LINE).collect();
                self.lines = self.lines.saturating_add(1);
                if self.lines > MAX_LINES {
                    return Err(format!("more than {MAX_LINES} lines"));
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.read >= MAX_READ || self.buf.len() > MAX_LINE {
                return Err(format!("over {MAX_READ} bytes or a line over {MAX_LINE}"));
            }
            match tokio::time::timeout(self.step, self.stream.read(&mut chunk)).await {
                Err(_) => return Err("no answer before the timeout".into()),
                Ok(Ok(0)) => return Err("the server closed the connection".into()),
                Ok(Ok(n)) => {
                    self.read = self.read.saturating_add(n);
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Ok(Err(e)) => return Err(format!("read failed: {e}")),
            }
        }
    }

    pub(super) async fn send(&mut self, text: &str) -> Result<(), String> {
        match tokio::time::timeout(self.step, self.stream.write_all(text.as_bytes())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("write failed: {e}")),
            Err(_) => Err("the request could not be sent before the timeout".into()),
        }
    }
}

/// Whether a listing line's first field can be a module name.
pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('@')
        && !name.starts_with('#')
        && !name.chars().any(|c| c.is_control() || c == '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        let g = parse_greeting("@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4").expect("32");
        assert_eq!(g.protocol, "32.0");
        assert_eq!(g.digests, ["sha512", "sha256", "sha1", "md5", "md4"]);
        assert_eq!(
            parse_greeting("@RSYNCD: 29").map(|g| g.protocol),
            Some("29".into())
        );
        assert!(parse_greeting("@RSYNCD: OK").is_none());
        assert!(parse_greeting("@RSYNCD: 31.0 <script>").is_none());
        assert!(parse_greeting("RSYNCD: 31.0").is_none());
        assert!(is_greeting(b"@RSYNCD: 31.0\n"));
        assert!(!is_greeting(b"@RSYNCD: EXIT\n"));
        assert!(!is_greeting(b"SSH-2.0-OpenSSH_9.2\r\n"));
    }

    #[test]
    fn module_names() {
        assert!(valid_name("ajar_open"));
        assert!(valid_name("my files"));
        assert!(!valid_name(""));
        assert!(!valid_name("@RSYNCD: OK"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("a\u{1b}[31m"));
    }
}
