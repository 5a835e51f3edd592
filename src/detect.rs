//! Detection: which protocol one endpoint speaks, on any port, and what its probe made of
//! it. The registry decides the order; this module never names a protocol.
//!
//! 1. A bare TCP connect: a refused port costs one syscall round, where the HTTP client's
//!    connector costs about 2.5 times as much (bench/README.md), and most endpoints of a
//!    scan are closed.
//! 2. When a server-first probe is registered, that connection listens for a greeting
//!    while the first client-first probe runs on its own connection, so listening costs an
//!    HTTP endpoint nothing. Bytes the server sends unasked route straight to the probe
//!    whose greeting they are, or end detection with a note saying what it sent.
//! 3. The port's usual owner (or the registry's first probe) alone. If it decides nothing,
//!    the probe whose protocol its answer was in gets the next turn alone, then every
//!    probe left runs at once, each on its own connection, within one window, raced
//!    against the rest of the greeting wait: the first to find its service ends the
//!    others. A TLS retry of the first probe is one of them. The window is the step
//!    timeout when the server talked or hung up, a quarter of it after a silence (a
//!    server of another protocol answers its first message in milliseconds), so a port
//!    silent to everything costs about one and a quarter timeouts, and a Redis that hangs
//!    up on HTTP is found in milliseconds, not after a stalled TLS retry.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use crate::finding::policy::{self, CheckInfo};
use crate::finding::{Evidence, Finding, Outcome};
use crate::net::{BoxStream, ConnectError};
use crate::probe::registry::NativeProbe;
use crate::probe::trace::Trace;
use crate::probe::{ProbeContext, ProbeOutcome};
use crate::targets::{Endpoint, Transport};

/// What detection made of one endpoint: the outcome and, unless it is a finding (which
/// carries its own), the evidence of every probe tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// What the endpoint turned out to be.
    pub outcome: Outcome,
    /// Every exchange recorded, for outcomes that are not findings.
    pub evidence: Vec<Evidence>,
    /// Further products found on the same endpoint under other base paths, each its own
    /// result.
    pub also: Vec<Finding>,
}

/// Longest wait for a server-first greeting. Such servers greet on accept; the wait runs
/// beside the first probe, so it only delays an endpoint whose first probe got nothing.
const GREETING_WAIT: Duration = Duration::from_secs(2);
/// After the first silence, the later probes run at once within `timeout / SILENCE_WINDOW_DIVISOR`.
const SILENCE_WINDOW_DIVISOR: u32 = 4;
/// Most greeting bytes read.
const GREETING_MAX: usize = 512;

/// Finds out what one endpoint is, before `deadline`. Every exchange is recorded; a
/// finding gets its own probe's, any other outcome all of them.
pub async fn detect(cx: &ProbeContext, endpoint: &Endpoint, deadline: Instant) -> Detection {
    let mut trace = Trace::new(endpoint);
    let found = match tokio::time::timeout_at(deadline, run_probes(cx, endpoint, &mut trace)).await
    {
        Ok(found) => found,
        Err(_) => {
            trace.record("(deadline)", "the endpoint's --probe-timeout ran out");
            Found::One(Outcome::Failed(
                "gave up: the endpoint's --probe-timeout ran out".into(),
            ))
        }
    };
    let (outcome, also) = match found {
        Found::One(outcome) => (outcome, Vec::new()),
        Found::Several(first, rest) => (Outcome::Found(first), rest),
    };
    let evidence = match outcome {
        Outcome::Found(_) => Vec::new(),
        _ => trace.into_evidence(),
    };
    Detection {
        outcome,
        evidence,
        also,
    }
}

enum Found {
    One(Outcome),
    Several(Box<Finding>, Vec<Finding>),
}

/// Stamps check id, remediation, references and item order on a finding: native services
/// from the registry's table, data-driven ones already carry their own.
fn completed(cx: &ProbeContext, mut finding: Finding) -> Finding {
    let service = cx.registry.service(&finding.service);
    let info = CheckInfo {
        open_severity: service.map_or(finding.severity, |s| s.severity),
        remediation: service.map_or("", |s| s.remediation),
        references: service.map_or(&[], |s| s.references),
    };
    policy::complete(&mut finding, &info);
    finding
}

/// The state of detection at one endpoint while probes take turns.
struct Turns {
    notes: Vec<String>,
    /// True once any probe heard something (a reply, a hang-up, a TLS alert).
    heard: bool,
}

impl Turns {
    fn note(&mut self, probe: &NativeProbe, tls: bool, note: impl std::fmt::Display) {
        self.notes.push(format!("{}: {note}", probe.label(tls)));
    }
}

async fn run_probes(cx: &ProbeContext, endpoint: &Endpoint, trace: &mut Trace) -> Found {
    let mut queue = cx.registry.order(endpoint);
    if queue.is_empty() {
        return Found::One(Outcome::Failed(
            "no probe speaks this target's scheme".into(),
        ));
    }
    let stream = match cx.net.connect(&endpoint.host, endpoint.port, false).await {
        Ok(stream) => Some(stream),
        Err(ConnectError::Refused) => return Found::One(Outcome::Closed),
        Err(ConnectError::Timeout) => return Found::One(Outcome::Unreachable),
        Err(ConnectError::Resolve(e)) => {
            trace.record("connect", format!("cannot resolve: {e}"));
            return Found::One(Outcome::Failed(format!("cannot resolve: {e}")));
        }
        // Anything else: let the probes' own exchanges report it.
        Err(_) => None,
    };
    let listen = stream.filter(|_| {
        cx.registry.listens_for_greeting(endpoint) && endpoint.transport != Transport::Tls
    });
    let mut greeting = listen.map(|stream| {
        let wait = cx.net.timeout.min(GREETING_WAIT);
        Box::pin(read_greeting(stream, wait))
    });
    let mut tls_known = match endpoint.transport {
        Transport::Auto => None,
        Transport::Plain => Some(false),
        Transport::Tls => Some(true),
    };
    let mut turns = Turns {
        notes: Vec::new(),
        heard: false,
    };
    // 1. The port's usual owner (or the first in the registry) alone, while the bare
    //    connection listens for a greeting.
    let first = queue[0];
    let first_tls = tls_known.unwrap_or(false);
    let mark = trace.len();
    trace.set_probe(first.label(first_tls));
    let (outcome, mut listening) = match greeting.take() {
        Some(mut listening) => {
            let raced = {
                let run = turn(cx, first, endpoint, first_tls, trace, None);
                tokio::pin!(run);
                tokio::select! {
                    biased;
                    heard = &mut listening => match heard {
                        Some(bytes) => Err(bytes),
                        None => Ok((run.await, None)),
                    },
                    outcome = &mut run => Ok((outcome, Some(listening))),
                }
            };
            match raced {
                Err(bytes) => return greeted(cx, endpoint, trace, &bytes).await,
                Ok(done) => done,
            }
        }
        None => (
            turn(cx, first, endpoint, first_tls, trace, None).await,
            None,
        ),
    };
    if !outcome_may_hide_greeting(&outcome) {
        listening = None;
    }
    let mut rest: Vec<&'static NativeProbe> = queue.split_off(1);
    let mut entries: Vec<(&'static NativeProbe, bool)> = Vec::new();
    let mut window = cx.net.timeout;
    match outcome {
        ProbeOutcome::Found(finding) => {
            let mut finding = completed(cx, *finding);
            let own = trace.split_off(mark);
            if finding.evidence.is_empty() {
                finding.evidence = own;
            }
            return Found::One(Outcome::Found(Box::new(finding)));
        }
        ProbeOutcome::FoundSeveral(findings) => {
            let mut findings = findings.into_iter().map(|f| completed(cx, f));
            if let Some(first) = findings.next() {
                return Found::Several(Box::new(first), findings.collect());
            }
        }
        ProbeOutcome::Closed => return Found::One(Outcome::Closed),
        ProbeOutcome::Unreachable => return Found::One(Outcome::Unreachable),
        ProbeOutcome::Failed(error) => return Found::One(Outcome::Failed(error)),
        ProbeOutcome::Silent => {
            turns.note(first, first_tls, "no answer before the timeout");
            // A server of another protocol answers its first message in milliseconds:
            // the rest share a quarter of the timeout.
            window /= SILENCE_WINDOW_DIVISOR;
        }
        ProbeOutcome::WantsTls(note) => {
            turns.note(first, first_tls, note);
            turns.heard = true;
            if tls_known.is_none() {
                entries.push((first, true));
            }
        }
        ProbeOutcome::NotThis {
            note,
            hint,
            transport_confirmed,
            speaks_protocol,
        } => {
            turns.heard = true;
            if transport_confirmed && tls_known.is_none() {
                tls_known = Some(first_tls);
            }
            turns.note(first, first_tls, note);
            if speaks_protocol {
                rest.clear();
            }
            // 2. The protocol the answer was in gets the next turn, alone.
            if let Some(hint) = hint
                && let Some(pos) = rest.iter().position(|p| p.id == hint)
            {
                let hinted = rest.remove(pos);
                let tls = tls_known.unwrap_or(false);
                let mark = trace.len();
                trace.set_probe(hinted.label(tls));
                match turn(cx, hinted, endpoint, tls, trace, None).await {
                    ProbeOutcome::Found(finding) => {
                        let mut finding = completed(cx, *finding);
                        let own = trace.split_off(mark);
                        if finding.evidence.is_empty() {
                            finding.evidence = own;
                        }
                        return Found::One(Outcome::Found(Box::new(finding)));
                    }
                    ProbeOutcome::FoundSeveral(findings) => {
                        let mut findings = findings.into_iter().map(|f| completed(cx, f));
                        if let Some(first) = findings.next() {
                            return Found::Several(Box::new(first), findings.collect());
                        }
                    }
                    ProbeOutcome::Closed => return Found::One(Outcome::Closed),
                    other => turns.note(hinted, tls, brief(&other)),
                }
            }
        }
    }
    // 3. Every probe left at once, each on its own connection, within one window, raced
    //    against the rest of the greeting wait: the first to find its service decides.
    let tls = tls_known.unwrap_or(false);
    entries.extend(rest.iter().map(|p| (*p, tls)));
    if !entries.is_empty() {
        let limit = Instant::now() + window;
        let retry_tls = tls_known.is_none();
        let raced = {
            let all = side_by_side(cx, endpoint, trace, &entries, retry_tls, limit, &mut turns);
            tokio::pin!(all);
            match listening.as_mut() {
                Some(listening) => tokio::select! {
                    biased;
                    heard = listening => match heard {
                        Some(bytes) => Err(bytes),
                        None => Ok(all.await),
                    },
                    found = &mut all => Ok(found),
                },
                None => Ok(all.await),
            }
        };
        match raced {
            Err(bytes) => return greeted(cx, endpoint, trace, &bytes).await,
            Ok(Some(found)) => return found,
            Ok(None) => {}
        }
    } else if let Some(listening) = listening
        && let Some(bytes) = listening.await
    {
        return greeted(cx, endpoint, trace, &bytes).await;
    }
    if !turns.heard {
        return Found::One(Outcome::Silent);
    }
    turns.notes.dedup();
    Found::One(Outcome::Unidentified(turns.notes.join("; ")))
}

/// A short note for a probe outcome that decided nothing.
fn brief(outcome: &ProbeOutcome) -> String {
    match outcome {
        ProbeOutcome::NotThis { note, .. }
        | ProbeOutcome::WantsTls(note)
        | ProbeOutcome::Failed(note) => note.clone(),
        _ => "no answer before the timeout".to_string(),
    }
}

/// Runs `probes` at once, each with a trace of its own merged into `trace` afterwards, all
/// cut at `limit`; the first to find its service decides and ends the others. A probe whose
/// plain attempt ends as a TLS port ends one is retried over TLS, when `retry_tls`.
async fn side_by_side(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    trace: &mut Trace,
    entries: &[(&'static NativeProbe, bool)],
    retry_tls: bool,
    limit: Instant,
    turns: &mut Turns,
) -> Option<Found> {
    let runs = entries
        .iter()
        .enumerate()
        .map(|(place, &(probe, tls))| async move {
            let mut own = Trace::new(endpoint);
            own.set_probe(probe.label(tls));
            let mut used_tls = tls;
            // Where the attempt that decided begins in `own`: a finding after a TLS retry
            // carries the TLS exchanges only.
            let mut decisive = 0;
            let mut outcome = turn(cx, probe, endpoint, tls, &mut own, Some(limit)).await;
            if retry_tls && !tls && matches!(outcome, ProbeOutcome::WantsTls(_)) {
                own.set_probe(probe.label(true));
                used_tls = true;
                decisive = own.len();
                outcome = turn(cx, probe, endpoint, true, &mut own, Some(limit)).await;
            }
            (place, probe, used_tls, (own, decisive), outcome)
        });
    // A probe that found its service ends the turns at once: no other protocol can be
    // the one on this port, so the rest are not waited for (their exchanges are dropped;
    // a finding carries only its own).
    let mut running: futures_util::stream::FuturesUnordered<_> = runs.collect();
    let mut finished = Vec::with_capacity(entries.len());
    while let Some(result) = futures_util::StreamExt::next(&mut running).await {
        let found = matches!(
            result.4,
            ProbeOutcome::Found(_) | ProbeOutcome::FoundSeveral(_)
        );
        finished.push(result);
        if found {
            break;
        }
    }
    drop(running);
    finished.sort_by_key(|(place, ..)| *place);
    let mut done: Vec<_> = finished
        .into_iter()
        .map(|(_, probe, tls, own, outcome)| (probe, tls, own, outcome))
        .collect();
    let mut decided = None;
    for (probe, tls, (own, decisive), outcome) in done.drain(..) {
        let mark = trace.len().saturating_add(decisive);
        trace.absorb(own);
        if decided.is_some() {
            continue;
        }
        match outcome {
            ProbeOutcome::Found(finding) => {
                let mut finding = completed(cx, *finding);
                let evidence = trace.split_off(mark);
                if finding.evidence.is_empty() {
                    finding.evidence = evidence;
                }
                decided = Some(Found::One(Outcome::Found(Box::new(finding))));
            }
            ProbeOutcome::FoundSeveral(findings) => {
                let mut findings = findings.into_iter().map(|f| completed(cx, f));
                if let Some(first) = findings.next() {
                    decided = Some(Found::Several(Box::new(first), findings.collect()));
                }
            }
            // The port took a TCP connection: a TLS attempt that then hears nothing is a
            // stalled handshake or a server waiting for another protocol.
            ProbeOutcome::Silent | ProbeOutcome::Unreachable | ProbeOutcome::Closed if tls => {
                let note = "no TLS answer before the timeout (handshake or request stalled)";
                trace.set_probe(probe.label(true));
                trace.record("TLS handshake", note);
                turns.note(probe, tls, note);
            }
            ProbeOutcome::Silent | ProbeOutcome::Unreachable | ProbeOutcome::Closed => {
                turns.note(probe, tls, "no answer before the timeout");
            }
            ProbeOutcome::Failed(note) | ProbeOutcome::WantsTls(note) => {
                turns.heard = true;
                turns.note(probe, tls, note);
            }
            ProbeOutcome::NotThis { note, .. } => {
                turns.heard = true;
                turns.note(probe, tls, note);
            }
        }
    }
    decided
}

/// One probe's turn, cut at `limit` (the shared window after a silence) if set.
async fn turn(
    cx: &ProbeContext,
    probe: &NativeProbe,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
    limit: Option<Instant>,
) -> ProbeOutcome {
    let run = (probe.run)(cx, endpoint, tls, trace);
    match limit {
        None => run.await,
        Some(limit) => match tokio::time::timeout_at(limit, run).await {
            Ok(outcome) => outcome,
            Err(_) => {
                trace.record(
                    "(its turn)",
                    "no answer within the window the probes shared",
                );
                ProbeOutcome::Silent
            }
        },
    }
}

/// Whether the first probe's outcome could be what a server-first server's greeting did
/// to it (garbage for HTTP, silence), so the greeting is worth waiting for.
fn outcome_may_hide_greeting(outcome: &ProbeOutcome) -> bool {
    match outcome {
        ProbeOutcome::Silent | ProbeOutcome::WantsTls(_) => true,
        // A hint names the protocol the answer was in: the server answered, it will not
        // greet.
        ProbeOutcome::NotThis {
            speaks_protocol,
            hint,
            ..
        } => !speaks_protocol && hint.is_none(),
        _ => false,
    }
}

/// Reads what a server sends before it is asked anything, within `wait`. `None` when it
/// sent nothing (or hung up without a byte).
async fn read_greeting(mut stream: BoxStream, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; GREETING_MAX];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {
            buf.truncate(n);
            Some(buf)
        }
        _ => None,
    }
}

/// Routes an endpoint that greeted: to the probe whose greeting the bytes are, or to an
/// unidentified outcome that says what the server sent.
async fn greeted(cx: &ProbeContext, endpoint: &Endpoint, trace: &mut Trace, bytes: &[u8]) -> Found {
    let preview = crate::sanitize::byte_preview(bytes, 48);
    trace.set_probe("greeting");
    trace.record(
        "(connect and listen)",
        format!("the server spoke first: {preview}"),
    );
    let Some(probe) = cx.registry.by_greeting(bytes) else {
        return Found::One(Outcome::Unidentified(format!(
            "the server speaks first, in a protocol ajar does not know: {preview}"
        )));
    };
    let mark = trace.len();
    trace.set_probe(probe.label(false));
    match (probe.run)(cx, endpoint, false, trace).await {
        ProbeOutcome::Found(finding) => {
            let mut finding = completed(cx, *finding);
            let own = trace.split_off(mark);
            if finding.evidence.is_empty() {
                finding.evidence = own;
            }
            Found::One(Outcome::Found(Box::new(finding)))
        }
        ProbeOutcome::FoundSeveral(findings) => {
            let mut findings = findings.into_iter().map(|f| completed(cx, f));
            match findings.next() {
                Some(first) => Found::Several(Box::new(first), findings.collect()),
                None => Found::One(Outcome::Unidentified(preview)),
            }
        }
        ProbeOutcome::Closed => Found::One(Outcome::Closed),
        ProbeOutcome::Failed(error) => Found::One(Outcome::Failed(error)),
        ProbeOutcome::NotThis { note, .. } | ProbeOutcome::WantsTls(note) => Found::One(
            Outcome::Unidentified(format!("{}: {note}", probe.label(false))),
        ),
        ProbeOutcome::Silent | ProbeOutcome::Unreachable => Found::One(Outcome::Unidentified(
            format!("{}: greeted, then no answer", probe.label(false)),
        )),
    }
}
