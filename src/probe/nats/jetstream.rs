//! JetStream's stream names on an open server: one request to the read-only JetStream API
//! subject `$JS.API.STREAM.NAMES`, answered on a private inbox
//! (docs.nats.io/reference/reference-protocols/nats_api_reference). The reply holds names
//! and a total only; no message of any stream is read.

use std::time::Duration;

use serde_json::Value;

use super::wire::{Conn, Stop, parse_msg};
use crate::probe::trace::Trace;
use crate::sanitize::clip;

/// Largest API reply read: 1024 names (the API's page) of up to 255 bytes each.
const MAX_REPLY: usize = 512 << 10;
/// The reply's `type`, as nats-server 2.2+ writes it.
const NAMES_TYPE: &str = "io.nats.jetstream.api.v1.stream_names_response";
/// Longest wait for the API's reply: the server answers in milliseconds when JetStream
/// serves this account, and never when it does not.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// The stream names JetStream listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streams {
    /// `total`: how many streams the account has.
    pub total: u64,
    /// The names, clipped, at most the item cap.
    pub names: Vec<String>,
}

/// A random inbox subject, so the reply cannot be confused with another client's.
fn inbox() -> String {
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("_INBOX.ajar{hex}")
}

/// Asks for the stream names on an open, logged-in connection; `None` (with the reason in
/// the trace) when JetStream gives no well-formed answer in time.
pub async fn stream_names(conn: &mut Conn, trace: &mut Trace, max_items: usize) -> Option<Streams> {
    let inbox = inbox();
    // Subscribe, auto-unsubscribe after one message, then the request with that reply-to.
    let request =
        format!("SUB {inbox} 1\r\nUNSUB 1 1\r\nPUB $JS.API.STREAM.NAMES {inbox} 0\r\n\r\n");
    let shown = format!("SUB {inbox} 1 + UNSUB 1 1 + PUB $JS.API.STREAM.NAMES {inbox} 0");
    if let Err(stop) = conn.send(request.as_bytes()).await {
        trace.record(&shown, stop.to_string());
        return None;
    }
    let wait = conn.step.min(MAX_WAIT);
    let payload = loop {
        let line = match conn.line_within(wait).await {
            Ok(line) => line,
            Err(Stop::Silent) => {
                trace.record(
                    &shown,
                    "no reply on the inbox (JetStream not serving this account)",
                );
                return None;
            }
            Err(stop) => {
                trace.record(&shown, stop.to_string());
                return None;
            }
        };
        let Some(head) = parse_msg(&line) else {
            // Asynchronous INFO updates and PINGs may come first.
            if line.starts_with(b"-ERR") {
                let text = String::from_utf8_lossy(&line).into_owned();
                trace.record(&shown, clip(&text, 120));
                return None;
            }
            continue;
        };
        if head.subject != inbox || head.sid != "1" {
            trace.record(&shown, "a message on another subject");
            return None;
        }
        if head.len > MAX_REPLY {
            trace.record(&shown, format!("reply of {} bytes, over the cap", head.len));
            return None;
        }
        match conn.payload(head.len, wait).await {
            Ok(payload) => break payload,
            Err(stop) => {
                trace.record(&shown, stop.to_string());
                return None;
            }
        }
    };
    match parse_names(&payload, max_items) {
        Ok(streams) => {
            let shown_names: Vec<&str> =
                streams.names.iter().take(10).map(String::as_str).collect();
            trace.record(
                &shown,
                format!(
                    "stream_names_response: total {}, streams [{}]",
                    streams.total,
                    shown_names.join(", ")
                ),
            );
            Some(streams)
        }
        Err(why) => {
            trace.record(&shown, why);
            None
        }
    }
}

/// Parses a `stream_names_response`: its `type`, a `total`, and `streams` (null when there
/// are none). An API error (`{"error":{"code":...}}`) says why.
pub fn parse_names(payload: &[u8], max_items: usize) -> Result<Streams, String> {
    let json: Value =
        serde_json::from_slice(payload).map_err(|_| "reply is not JSON".to_string())?;
    if let Some(error) = json.get("error") {
        let code = error.get("code").and_then(Value::as_u64).unwrap_or(0);
        let text = error
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(format!("JetStream API error {code}: {}", clip(text, 120)));
    }
    if json.get("type").and_then(Value::as_str) != Some(NAMES_TYPE) {
        return Err("not a stream_names_response".into());
    }
    let total = json
        .get("total")
        .and_then(Value::as_u64)
        .ok_or("stream_names_response without a total")?;
    let names = match json.get("streams") {
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .take(max_items)
            .map(|n| clip(n, 200))
            .collect(),
        _ => return Err("stream_names_response without streams".into()),
    };
    Ok(Streams { total, names })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_replies() {
        let one = br#"{"type":"io.nats.jetstream.api.v1.stream_names_response","total":1,"offset":0,"limit":1024,"streams":["orders"]}"#;
        assert_eq!(
            parse_names(one, 10),
            Ok(Streams {
                total: 1,
                names: vec!["orders".into()]
            })
        );
        let none = br#"{"type":"io.nats.jetstream.api.v1.stream_names_response","total":0,"offset":0,"limit":1024,"streams":null}"#;
        assert_eq!(parse_names(none, 10).map(|s| s.total), Ok(0));
        let error = br#"{"type":"io.nats.jetstream.api.v1.stream_names_response","error":{"code":503,"description":"JetStream not enabled for account"}}"#;
        assert_eq!(
            parse_names(error, 10),
            Err("JetStream API error 503: JetStream not enabled for account".into())
        );
        assert!(parse_names(br#"{"total":1,"streams":[]}"#, 10).is_err());
    }
}
