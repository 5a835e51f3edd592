//! How the Redis probe ends when there is no finding: connect failures, replies that are
//! not RESP, and RESP that is not Redis, mapped onto what the engine tries next.

use super::resp::{ReadError, Reply};
use crate::probe::ProbeOutcome;
use crate::sanitize::clip;

/// A reply for the evidence: `+OK`, `a null bulk string`.
pub(super) fn describe(reply: &Reply) -> String {
    match reply {
        Reply::Simple(text) => format!("+{}", clip(text, 60)),
        Reply::Error(text) => format!("-{}", clip(text, super::MAX_ERROR_TEXT)),
        Reply::Bulk(bytes) => format!("a bulk string of {} bytes", bytes.len()),
        Reply::Null => "a null bulk string".into(),
        Reply::Other(kind) => format!("a RESP reply of type {:?}", char::from(*kind)),
    }
}

/// The first exchange got no RESP reply.
pub(super) fn read_failure(error: ReadError, tls: bool) -> ProbeOutcome {
    match error {
        ReadError::Silent => ProbeOutcome::Silent,
        // A TLS-only Redis (tls-port) drops a plain-text client without a word.
        ReadError::Closed if !tls => {
            ProbeOutcome::WantsTls("closed the connection without replying to PING".into())
        }
        ReadError::NotResp(head)
            if !tls && matches!(head.as_slice(), [0x15, 0x03, 0x00..=0x04, ..]) =>
        {
            ProbeOutcome::WantsTls("answered plain text with a TLS alert".into())
        }
        ReadError::NotResp(head) => not_redis(error_note(&head), &head, false),
        ReadError::Io(e) => ProbeOutcome::NotThis {
            note: format!("socket error: {e}"),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        },
        other => not_redis(other.to_string(), &[], false),
    }
}

fn error_note(head: &[u8]) -> String {
    ReadError::NotResp(head.to_vec()).to_string()
}

/// Bytes that are not Redis; bytes another native protocol answers with hint that probe.
/// `framed` is true when the peer answered in RESP, just not as Redis does.
pub(super) fn not_redis(reason: String, head: &[u8], framed: bool) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!("not Redis: {reason}"),
        hint: crate::probe::registry::NATIVE
            .iter()
            .find(|p| p.id != "redis" && p.answers.is_some_and(|answers| answers(head)))
            .map(|p| p.id),
        transport_confirmed: true,
        speaks_protocol: framed,
    }
}
