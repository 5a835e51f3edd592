//! The binary protocol, asked only when a server hung up on the text `stats`: a SASL-only
//! memcached (`-S`) answers binary `version` before login and refuses binary `stat` with
//! status 0x0020 (auth error). Headers are 24 bytes (doc/protocol-binary.xml); lengths from
//! the server are checked before any slice.

use super::{ReadError, exchange, finding, not_this};
use crate::finding::{Exposure, Severity};
use crate::probe::trace::Trace;
use crate::probe::{ProbeContext, ProbeOutcome};
use crate::targets::Endpoint;

/// Binary protocol: request and response magic bytes.
const BIN_REQUEST: u8 = 0x80;
const BIN_RESPONSE: u8 = 0x81;
/// Binary opcodes: `version` and `stat`.
const OP_VERSION: u8 = 0x0b;
const OP_STAT: u8 = 0x10;
/// Binary status "authentication error" (SASL on, not logged in).
const STATUS_AUTH_ERROR: u16 = 0x0020;
/// Binary header length.
const HEADER: usize = 24;

/// A server that hung up on text: binary `version`, then binary `stat`. Only a SASL auth
/// error to `stat` (after a well-formed binary `version`) identifies memcached here.
pub(super) async fn binary(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let step = cx.net.timeout;
    let mut stream = match cx.net.connect(&endpoint.host, endpoint.port, tls).await {
        Ok(stream) => stream,
        Err(e) => return ProbeOutcome::from_connect_error(e),
    };
    let version = match exchange(&mut stream, &bin_request(OP_VERSION), step, bin_complete).await {
        Ok(reply) => bin_reply(&reply, OP_VERSION),
        // Hung up on text and on binary without a byte: what a TLS-only port (`-Z`) does
        // to plain text, so the engine retries this probe over TLS.
        Err(ReadError::Closed(bytes)) if bytes.is_empty() && !tls => {
            trace.record(
                "binary version (0x80 0x0b)",
                "connection closed without an answer",
            );
            return ProbeOutcome::WantsTls("closed on text and binary requests".into());
        }
        Err(ReadError::Io(e)) if !tls => {
            trace.record("binary version (0x80 0x0b)", format!("socket error: {e}"));
            return ProbeOutcome::WantsTls(format!("closed on text and binary requests: {e}"));
        }
        Err(_) => None,
    };
    let Some((0, body)) = version else {
        trace.record("binary version (0x80 0x0b)", "no binary memcached answer");
        return not_this("closed the connection on a text stats request".into());
    };
    let version = std::str::from_utf8(&body)
        .ok()
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string);
    trace.record(
        "binary version (0x80 0x0b)",
        format!("status 0, version {}", version.as_deref().unwrap_or("?")),
    );
    let stat = match exchange(&mut stream, &bin_request(OP_STAT), step, bin_complete).await {
        Ok(reply) => bin_reply(&reply, OP_STAT),
        Err(_) => None,
    };
    match stat {
        Some((STATUS_AUTH_ERROR, _)) => {
            trace.record("binary stat (0x80 0x10)", "status 0x0020 auth error (SASL)");
            let mut f = finding(endpoint, tls, Exposure::AuthRequired, version);
            f.summary = "memcached requires SASL authentication (-S): stat refused".into();
            f.details.push(("auth".into(), "sasl (-S)".into()));
            ProbeOutcome::Found(Box::new(f))
        }
        other => {
            let status = other.map_or("no well-formed answer".into(), |(s, _)| {
                format!("status {s:#06x}")
            });
            trace.record("binary stat (0x80 0x10)", status.as_str());
            let mut f = finding(endpoint, tls, Exposure::Undetermined, version);
            f.summary = format!("memcached binary protocol only; stat gave {status}");
            f.severity = Severity::Low;
            ProbeOutcome::Found(Box::new(f))
        }
    }
}

/// A binary request header with no key, extras or body.
fn bin_request(opcode: u8) -> [u8; HEADER] {
    let mut header = [0u8; HEADER];
    header[0] = BIN_REQUEST;
    header[1] = opcode;
    header
}

/// A binary reply is whole once its header and declared body are in.
fn bin_complete(reply: &[u8]) -> bool {
    bin_length(reply).is_some_and(|total| reply.len() >= total)
}

fn bin_length(reply: &[u8]) -> Option<usize> {
    let body = reply.get(8..12)?;
    let body = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    HEADER.checked_add(usize::try_from(body).ok()?)
}

/// The status and value of a binary reply to `opcode`, when it is one.
fn bin_reply(reply: &[u8], opcode: u8) -> Option<(u16, Vec<u8>)> {
    if reply.first() != Some(&BIN_RESPONSE) || reply.get(1) != Some(&opcode) {
        return None;
    }
    let total = bin_length(reply)?;
    let key = usize::from(u16::from_be_bytes([*reply.get(2)?, *reply.get(3)?]));
    let extras = usize::from(*reply.get(4)?);
    let status = u16::from_be_bytes([*reply.get(6)?, *reply.get(7)?]);
    let start = HEADER.checked_add(key)?.checked_add(extras)?;
    let value = reply.get(start..total)?;
    Some((status, value.to_vec()))
}
