//! The `srvr` four-letter word, for the version only: the one word every ZooKeeper since
//! 3.5.3 answers whatever `4lw.commands.whitelist` says (FourLetterCommands.isEnabled always
//! adds it: zkServer.sh depends on it). It is read-only (server statistics) and asked on a
//! connection of its own after the client protocol identified the server; the server writes
//! its text and closes. Any other word would be answered "`<word>` is not executed because it
//! is not in the whitelist." by default, and is never sent.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::BoxStream;
use crate::sanitize::clip;

/// The word, as sent and as recorded.
pub const SRVR: &str = "srvr";
/// Largest `srvr` answer read: 3.8's is about 250 bytes.
const MAX_SRVR: usize = 4096;
/// What a server whose whitelist lacks a word answers (NIOServerCnxn, NettyServerCnxn).
const NOT_WHITELISTED: &str = "is not executed because it is not in the whitelist";
/// What `srvr` says while the server has not loaded its database or lost its quorum.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// What `srvr` told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Srvr {
    /// `major.minor.patch` from `Zookeeper version: 3.8.0-<commit>, built on ...`.
    pub version: Option<String>,
    /// `Mode:` (standalone, leader, follower, observer, read-only).
    pub mode: Option<String>,
    /// `Node count:`, znodes in the whole tree.
    pub node_count: Option<u64>,
    /// What the evidence says about the answer.
    pub note: String,
}

/// Sends `srvr` on `stream` and reads until the server closes, within `step` per read.
pub async fn ask(mut stream: BoxStream, step: Duration) -> Srvr {
    match tokio::time::timeout(step, stream.write_all(SRVR.as_bytes())).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return unknown(format!("socket error: {e}")),
        Err(_) => return unknown("no answer before the timeout".into()),
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 1024];
    while reply.len() < MAX_SRVR {
        match tokio::time::timeout(step, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => {
                let room = MAX_SRVR.saturating_sub(reply.len());
                reply.extend_from_slice(&chunk[..n.min(room)]);
            }
            Ok(Err(_)) | Err(_) => break,
        }
    }
    if reply.is_empty() {
        return unknown("no answer".into());
    }
    parse(&String::from_utf8_lossy(&reply))
}

fn unknown(note: String) -> Srvr {
    Srvr {
        note: format!("{note}; version unknown"),
        ..Srvr::default()
    }
}

/// Reads `srvr`'s lines. Only a first line `Zookeeper version: N.N.N...` gives a version.
pub fn parse(text: &str) -> Srvr {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim_end();
    if first.contains(NOT_WHITELISTED) {
        return unknown(format!("{:?}", clip(first, 100)));
    }
    if first.starts_with(NOT_SERVING) {
        return unknown("not currently serving requests".into());
    }
    let Some(version) = first
        .strip_prefix("Zookeeper version: ")
        .and_then(leading_version)
    else {
        return unknown(format!("not a srvr answer: {:?}", clip(first, 80)));
    };
    let mut srvr = Srvr {
        version: Some(version),
        ..Srvr::default()
    };
    for line in lines {
        if let Some(mode) = line.strip_prefix("Mode: ") {
            let mode = mode.trim();
            if !mode.is_empty() && mode.len() <= 32 && mode.bytes().all(|b| b.is_ascii_graphic()) {
                srvr.mode = Some(mode.to_string());
            }
        } else if let Some(count) = line.strip_prefix("Node count: ") {
            srvr.node_count = count.trim().parse().ok();
        }
    }
    let mut note = format!(
        "Zookeeper version: {}",
        srvr.version.as_deref().unwrap_or("?")
    );
    if let Some(mode) = &srvr.mode {
        note.push_str(&format!(", Mode: {mode}"));
    }
    if let Some(count) = srvr.node_count {
        note.push_str(&format!(", Node count: {count}"));
    }
    srvr.note = note;
    srvr
}

/// Whether `bytes`, sent in answer to another protocol, are ZooKeeper's: the first four
/// bytes of any request that are a known four-letter word (memcached's `stats` starts with
/// `stat`) get `<word> is not executed because it is not in the whitelist.`, or, for
/// `srvr`, the statistics.
pub fn is_four_letter_answer(bytes: &[u8]) -> bool {
    let refused = bytes
        .get(..4)
        .is_some_and(|w| w.iter().all(u8::is_ascii_lowercase))
        && bytes[4..].starts_with(b" is not executed because it is not in the whitelist.");
    let stats = bytes
        .strip_prefix(b"Zookeeper version: ")
        .is_some_and(|rest| rest.first().is_some_and(u8::is_ascii_digit));
    refused || stats
}

/// `3.8.0` from `3.8.0-${mvngit.commit.id}, built on ...`: three dot-separated numbers.
fn leading_version(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let version = text[..end].trim_end_matches('.');
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = parts.iter().all(|p| !p.is_empty() && p.len() <= 4);
    (parts.len() >= 3 && numeric).then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_other_protocols() {
        assert!(is_four_letter_answer(
            b"stat is not executed because it is not in the whitelist.\n"
        ));
        assert!(is_four_letter_answer(
            b"Zookeeper version: 3.8.0-abc, built on x\n"
        ));
        assert!(!is_four_letter_answer(
            b"STAT is not executed because it is not in the whitelist.\n"
        ));
        assert!(!is_four_letter_answer(b"stat"));
        assert!(!is_four_letter_answer(b"Zookeeper version: x\n"));
        assert!(!is_four_letter_answer(b"-ERR unknown command\r\n"));
    }

    #[test]
    fn versions_and_refusals() {
        let real = "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nMode: standalone\nNode count: 6\n";
        let srvr = parse(real);
        assert_eq!(srvr.version.as_deref(), Some("3.8.0"));
        assert_eq!(srvr.mode.as_deref(), Some("standalone"));
        assert_eq!(srvr.node_count, Some(6));
        assert_eq!(
            srvr.note,
            "Zookeeper version: 3.8.0, Mode: standalone, Node count: 6"
        );
        let refused = parse("srvr is not executed because it is not in the whitelist.\n");
        assert_eq!(refused.version, None);
        assert_eq!(
            refused.note,
            "\"srvr is not executed because it is not in the whitelist.\"; version unknown"
        );
        assert_eq!(parse("Zookeeper version: 3.8\n").version, None);
        assert_eq!(parse("Zookeeper version: x.y.z\n").version, None);
        assert_eq!(parse("HTTP/1.1 400 Bad Request\r\n").version, None);
        assert_eq!(
            parse("This ZooKeeper instance is not currently serving requests\n").note,
            "not currently serving requests; version unknown"
        );
    }
}
