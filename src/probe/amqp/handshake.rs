//! The first exchange of every connection: the protocol header out, Connection.Start
//! back. Anything else ends the probe: silence, a TLS port, bytes of another protocol, or an
//! AMQP server of another version (identified, `undetermined`).

use super::conn::{Conn, Incoming, Stop};
use super::wire::{self, Start};
use super::{HEADER_REQUEST, PROBE, SEVERITY};
use crate::finding::{Exposure, Finding, policy};
use crate::probe::trace::Trace;
use crate::probe::{ProbeContext, ProbeOutcome};
use crate::targets::Endpoint;

/// Connects, sends the protocol header and reads Connection.Start. Any other ending is
/// the outcome to return: not this protocol, silence, a TLS port, another AMQP version.
pub(super) async fn handshake(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> Result<(Conn, Start), ProbeOutcome> {
    let stream = cx
        .net
        .connect(&endpoint.host, endpoint.port, tls)
        .await
        .map_err(ProbeOutcome::from_connect_error)?;
    let mut conn = Conn::new(stream, cx.net.timeout);
    let first = match conn.send(wire::HEADER).await {
        Ok(()) => conn.next().await,
        Err(stop) => Err(stop),
    };
    match first {
        Ok(Incoming::Method(wire::CONNECTION, wire::START, args)) => {
            let mut payload = vec![0, 10, 0, 10];
            payload.extend_from_slice(&args);
            match wire::parse_start(&payload) {
                Some(start) => {
                    trace.record(HEADER_REQUEST, describe_start(&start));
                    Ok((conn, start))
                }
                None => {
                    trace.record(HEADER_REQUEST, "a malformed Connection.Start");
                    Err(not_this("a malformed Connection.Start", &[]))
                }
            }
        }
        Ok(Incoming::Method(wire::CONNECTION, wire::CLOSE, args)) => {
            let close = wire::parse_close(&args);
            let facts = match &close {
                Some(c) => format!("Connection.Close {}: {}", c.code, c.text),
                None => "a malformed Connection.Close".into(),
            };
            trace.record(HEADER_REQUEST, &facts);
            Err(other_answer(
                endpoint,
                tls,
                format!("closes the connection before Connection.Start: {facts}"),
                None,
            ))
        }
        Ok(Incoming::Method(class, method, _)) => {
            let facts = format!("method {class}.{method}, not Connection.Start");
            trace.record(HEADER_REQUEST, &facts);
            Err(not_this(facts, &[]))
        }
        Ok(Incoming::Header(header)) => {
            let version = wire::describe_header(&header);
            trace.record(HEADER_REQUEST, format!("a protocol header: {version}"));
            Err(other_answer(
                endpoint,
                tls,
                format!(
                    "answers the 0-9-1 header with its own, {version}: ajar speaks only 0-9-1, so access is not judged"
                ),
                Some(version),
            ))
        }
        Err(stop) => {
            trace.record(HEADER_REQUEST, stop.describe());
            Err(first_failure(stop, tls))
        }
    }
}

/// The first exchange got no AMQP answer.
fn first_failure(stop: Stop, tls: bool) -> ProbeOutcome {
    match stop {
        Stop::Silent => ProbeOutcome::Silent,
        // A TLS-only listener drops plain bytes, or answers them with a TLS alert.
        Stop::Closed(bytes) if bytes.is_empty() && !tls => ProbeOutcome::WantsTls(
            "closed the connection without answering the AMQP protocol header".into(),
        ),
        Stop::Closed(bytes) | Stop::NotAmqp(bytes)
            if !tls && matches!(bytes.as_slice(), [0x15, 0x03, 0x00..=0x04, ..]) =>
        {
            ProbeOutcome::WantsTls("answered plain text with a TLS alert".into())
        }
        Stop::Closed(bytes) | Stop::NotAmqp(bytes) => {
            let note = Stop::NotAmqp(bytes.clone()).describe();
            not_this(note, &bytes)
        }
        Stop::Bad(why) => not_this(why, &[]),
    }
}

/// Bytes that are not AMQP; bytes another native protocol answers with hint that probe.
fn not_this(note: impl Into<String>, head: &[u8]) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!("not AMQP: {}", note.into()),
        hint: crate::probe::registry::NATIVE
            .iter()
            .find(|p| p.id != PROBE.id && p.answers.is_some_and(|answers| answers(head)))
            .map(|p| p.id),
        transport_confirmed: true,
        speaks_protocol: false,
    }
}

/// An AMQP server that sent no Connection.Start: another protocol version, or a close.
fn other_answer(
    endpoint: &Endpoint,
    tls: bool,
    summary: String,
    protocol: Option<String>,
) -> ProbeOutcome {
    let exposure = Exposure::Undetermined;
    ProbeOutcome::Found(Box::new(Finding {
        triage: Default::default(),
        endpoint: endpoint.authority(),
        address: None,
        url: None,
        tls,
        service: "amqp".into(),
        check: String::new(),
        product: None,
        version: None,
        exposure,
        severity: policy::severity(exposure, SEVERITY, None, false),
        summary: format!("an AMQP server {summary}"),
        details: protocol
            .map(|p| ("protocol".to_string(), p))
            .into_iter()
            .collect(),
        evidence: Vec::new(),
        inventory: None,
        remediation: None,
        references: Vec::new(),
    }))
}

fn describe_start(s: &Start) -> String {
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    format!(
        "Connection.Start {}-{}: product {}, version {}, platform {}, cluster_name {}, mechanisms {}, locales {}",
        s.major,
        s.minor,
        or_none(&s.product),
        or_none(&s.version),
        or_none(&s.platform),
        or_none(&s.cluster_name),
        s.mechanisms.join(" "),
        s.locales
    )
}
