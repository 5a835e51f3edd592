//! After an anonymous CONNECT was accepted: one SUBSCRIBE to `#` and `$SYS/#` at QoS 0,
//! its SUBACK, then a short window in which the broker sends the retained message of each
//! matching topic with the RETAIN flag set (3.1.1 section 3.3.1.3, 5.0 section 3.3.1.3).
//! Only topic names are kept, with each payload's size; payloads are skipped unread, the
//! one exception being `$SYS/broker/version` (broker metadata that Mosquitto publishes,
//! `mosquitto version 2.0.11`), read when it is at most [`MAX_VERSION`] bytes. Messages
//! without RETAIN (live traffic) are skipped whole, topic and all.

use std::time::Duration;

use tokio::time::Instant;

use super::wire::{self, Conn, ReadError, Version};
use crate::sanitize::clip;

/// The filters subscribed to: every topic, and the `$SYS` tree `#` does not match
/// (3.1.1 section 4.7.2).
pub(super) const FILTERS: [&str; 2] = ["#", "$SYS/#"];
/// Most distinct retained topics kept; collection stops at this many.
pub(super) const MAX_TOPICS: usize = 200;
/// Most bytes read in the window (retained and live messages together).
const MAX_WINDOW_BYTES: u64 = 1 << 20;
/// Longest topic name kept, in characters.
const MAX_TOPIC_CHARS: usize = 200;
/// Longest `$SYS/broker/version` payload read.
const MAX_VERSION: u32 = 64;
/// The topic whose retained payload names the broker and its version.
const VERSION_TOPIC: &[u8] = b"$SYS/broker/version";

/// One retained topic seen in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Topic {
    /// The topic name, escaped and clipped.
    pub name: String,
    /// Size of its retained payload in bytes (the payload itself is not read).
    pub payload_bytes: u64,
}

/// What the subscription showed.
#[derive(Debug, Default)]
pub(super) struct Retained {
    /// SUBACK's codes, one per filter of [`FILTERS`]; `None` when no SUBACK came.
    pub codes: Option<Vec<u8>>,
    /// Distinct retained topics, in the order they came.
    pub topics: Vec<Topic>,
    /// True when a cap ended the window early.
    pub truncated: bool,
    /// The `$SYS/broker/version` payload, escaped and clipped.
    pub broker_version: Option<String>,
    /// Why the window ended before its time, if it did (the broker hung up, a packet that
    /// made no sense).
    pub ended: Option<String>,
}

/// Whether a SUBACK code grants the subscription (QoS 0, 1 or 2; 0x80 and up refuse).
pub(super) fn granted(code: u8) -> bool {
    code <= 2
}

/// Subscribes and collects retained topic names until `window` after the SUBACK (which
/// must come within `step`).
pub(super) async fn collect(
    conn: &mut Conn,
    version: Version,
    step: Duration,
    window: Duration,
) -> Retained {
    let mut seen = Retained::default();
    let sent = conn
        .send(&wire::subscribe(version, &FILTERS), Instant::now() + step)
        .await;
    if let Err(error) = sent {
        seen.ended = Some(format!("SUBSCRIBE not sent: {error}"));
        return seen;
    }
    let suback_by = Instant::now() + step;
    let mut window_end: Option<Instant> = None;
    let start = conn.read;
    loop {
        let deadline = window_end.unwrap_or(suback_by);
        let budget = MAX_WINDOW_BYTES.saturating_sub(conn.read.saturating_sub(start));
        match next(conn, version, deadline, budget, &mut seen).await {
            Ok(Step::Suback) if window_end.is_none() => {
                window_end = Some(Instant::now() + window);
            }
            Ok(Step::Suback | Step::Other) => {}
            Ok(Step::OverBudget) => {
                seen.truncated = true;
                break;
            }
            Ok(Step::Disconnect) => {
                seen.ended = Some("the broker sent DISCONNECT".into());
                break;
            }
            Err(ReadError::Silent) => break,
            Err(error) => {
                seen.ended = Some(error.to_string());
                break;
            }
        }
        if seen.topics.len() >= MAX_TOPICS || conn.read.saturating_sub(start) >= MAX_WINDOW_BYTES {
            seen.truncated = true;
            break;
        }
    }
    seen
}

/// What one packet of the window was.
enum Step {
    Suback,
    Disconnect,
    /// A packet longer than the bytes left for the window: not read.
    OverBudget,
    Other,
}

/// Reads one packet and adds what it says to `seen`, unless it is longer than `budget`.
async fn next(
    conn: &mut Conn,
    version: Version,
    deadline: Instant,
    budget: u64,
    seen: &mut Retained,
) -> Result<Step, ReadError> {
    let (first, len) = conn.header(deadline).await?;
    if u64::from(len) > budget {
        return Ok(Step::OverBudget);
    }
    match first >> 4 {
        3 => {
            publish(conn, version, first, len, deadline, seen).await?;
            Ok(Step::Other)
        }
        9 if first == wire::SUBACK && seen.codes.is_none() => {
            if len > wire::MAX_ACK {
                return Err(ReadError::Malformed(format!("SUBACK of {len} bytes")));
            }
            let body = conn.exact(len as usize, deadline).await?;
            let codes = wire::parse_suback(version, &body, FILTERS.len())
                .ok_or_else(|| ReadError::Malformed("SUBACK not for our SUBSCRIBE".into()))?;
            seen.codes = Some(codes);
            Ok(Step::Suback)
        }
        14 => Ok(Step::Disconnect),
        _ => {
            conn.skip(u64::from(len), deadline).await?;
            Ok(Step::Other)
        }
    }
}

/// One PUBLISH whose fixed header was read: a retained one's topic name (and payload size)
/// is kept, everything else is skipped unread.
async fn publish(
    conn: &mut Conn,
    version: Version,
    first: u8,
    len: u32,
    deadline: Instant,
    seen: &mut Retained,
) -> Result<(), ReadError> {
    let retain = first & 0x01 == 1;
    let qos = (first >> 1) & 0x03;
    if !retain || qos == 3 {
        return conn.skip(u64::from(len), deadline).await;
    }
    let malformed = || ReadError::Malformed("PUBLISH shorter than its headers".into());
    let head = conn.exact(2, deadline).await?;
    let topic_len = u32::from(u16::from_be_bytes([head[0], head[1]]));
    let mut rest = len.checked_sub(2).ok_or_else(malformed)?;
    rest = rest.checked_sub(topic_len).ok_or_else(malformed)?;
    let topic = conn.exact(topic_len as usize, deadline).await?;
    if qos > 0 {
        rest = rest.checked_sub(2).ok_or_else(malformed)?;
        conn.skip(2, deadline).await?;
    }
    if version == Version::V5 {
        let before = conn.read;
        let props = conn.length(deadline).await?;
        let size = u32::try_from(conn.read.saturating_sub(before)).unwrap_or(u32::MAX);
        rest = rest.checked_sub(size).ok_or_else(malformed)?;
        rest = rest.checked_sub(props).ok_or_else(malformed)?;
        conn.skip(u64::from(props), deadline).await?;
    }
    if topic == VERSION_TOPIC && rest <= MAX_VERSION && seen.broker_version.is_none() {
        let payload = conn.exact(rest as usize, deadline).await?;
        let text = String::from_utf8_lossy(&payload);
        let text = text.trim();
        if !text.is_empty() {
            seen.broker_version = Some(clip(text, MAX_VERSION as usize));
        }
    } else {
        conn.skip(u64::from(rest), deadline).await?;
    }
    if topic.is_empty() {
        return Ok(());
    }
    let name = clip(&String::from_utf8_lossy(&topic), MAX_TOPIC_CHARS);
    if !seen.topics.iter().any(|t| t.name == name) {
        seen.topics.push(Topic {
            name,
            payload_bytes: u64::from(rest),
        });
    }
    Ok(())
}

/// The product and version a `$SYS/broker/version` payload names: Mosquitto's
/// `mosquitto version X` gives (`Mosquitto`, `X`); any other text is kept as the version
/// of an unnamed broker.
pub(super) fn product_version(payload: &str) -> (Option<&'static str>, String) {
    match payload.strip_prefix("mosquitto version ") {
        Some(version) if !version.trim().is_empty() => {
            (Some("Mosquitto"), version.trim().to_string())
        }
        _ => (None, payload.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_mosquitto_from_its_version_payload() {
        assert_eq!(
            product_version("mosquitto version 2.0.11"),
            (Some("Mosquitto"), "2.0.11".to_string())
        );
        assert_eq!(
            product_version("mosquitto version "),
            (None, "mosquitto version ".to_string())
        );
        assert_eq!(product_version("1.2.3"), (None, "1.2.3".to_string()));
        assert!(granted(0) && granted(2) && !granted(0x80) && !granted(0x87));
    }
}
