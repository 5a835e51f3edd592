//! The rsync daemon probe (`rsync --daemon`, port 873): a server-first text protocol. On
//! accept the daemon sends `@RSYNCD: <protocol>.<sub>` and, from protocol 31, the digests it
//! can authenticate with; the client answers with its own version line, then either
//! `#list` (the module listing: `name<pad>\t<comment>` lines, then `@RSYNCD: EXIT`) or a
//! module name (clientserver.c `start_daemon`, `rsync_module`, `send_listing`).
//!
//! The probe lists the modules, then asks for each listed one (at most `MAX_MODULES`) on a
//! connection of its own and hangs up on the first answer:
//! - `@RSYNCD: OK` means the module is readable without authentication: `open`; the probe
//!   never sends arguments, so no file is listed or transferred;
//! - `@RSYNCD: AUTHREQD <challenge>` means `auth users` protects it; the challenge is never
//!   answered;
//! - `@ERROR: ...` means refused (`hosts allow`, max connections).
//!
//! Any readable module is `open`; every listed module protected or refused, or none listed
//! at all, is `auth-required` (modules with `list = no` stay hidden).

mod verdict;
mod wire;

use super::registry::{NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Severity};
use crate::sanitize::{byte_preview, clip};
use crate::targets::Endpoint;
use verdict::Judge;
pub use wire::{Access, Greeting, is_greeting, parse_greeting};
use wire::{Lines, valid_name};

/// Most listed modules asked about, one connection each.
const MAX_MODULES: usize = 32;
/// After this many modules gave no answer within the step timeout, the rest are not asked
/// (each would cost another timeout).
const MAX_UNANSWERED: usize = 2;
/// The version line sent: protocol 30 needs no digest negotiation.
const CLIENT_VERSION: &str = "@RSYNCD: 30.0\n";
/// Severity of an open daemon with readable modules.
const SEVERITY: Severity = Severity::High;

/// The rsync probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "rsync",
    labels: ["rsync", "rsync+tls"],
    services: &[ServiceInfo {
        id: "rsync",
        name: "rsync daemon (rsyncd)",
        ports: &[873],
        check: "greeting gives the protocol; #list names the modules, then each module is asked for on its own connection: @RSYNCD: OK (readable without auth) is open, AUTHREQD or @ERROR for every module (or none listed) is auth-required",
        severity: SEVERITY,
        remediation: "Protect every module with `auth users` and a `secrets file` (mode 600), restrict clients with `hosts allow`, hide modules with `list = no`, and bind the daemon to a private address (`address =` in rsyncd.conf).",
        references: &[
            "https://download.samba.org/pub/rsync/rsyncd.conf.5",
            "https://download.samba.org/pub/rsync/rsync.1",
        ],
    }],
    schemes: &[Scheme {
        name: "rsync",
        probe: "rsync",
        default_port: 873,
        tls: Some(false),
        style: UriStyle::Url,
        tls_options: &[],
    }],
    greeting: Some(is_greeting),
    answers: None,
    http_notice: None,
    default_credentials: &[],
    run,
};

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(probe(cx, endpoint, tls, trace))
}

/// Connects and reads the greeting line.
async fn connect(cx: &ProbeContext, endpoint: &Endpoint) -> Result<(Lines, String), ProbeOutcome> {
    let stream = cx
        .net
        .connect(&endpoint.host, endpoint.port, false)
        .await
        .map_err(ProbeOutcome::from_connect_error)?;
    let mut lines = Lines {
        stream,
        step: cx.net.timeout,
        buf: Vec::new(),
        read: 0,
        lines: 0,
    };
    match lines.next().await {
        Ok(line) => Ok((lines, line)),
        Err(why) if why.starts_with("no answer") && lines.buf.is_empty() => {
            Err(ProbeOutcome::Silent)
        }
        Err(why) => Err(not_this(format!("{why}: {}", byte_preview(&lines.buf, 48)))),
    }
}

/// Probes one endpoint for an rsync daemon. The daemon speaks plain TCP (rsync over TLS
/// goes through a separate proxy), so a TLS attempt is not this protocol.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    const LISTEN: &str = "(connect and listen)";
    if tls {
        // Nothing was exchanged over TLS, so the transport is not confirmed.
        return ProbeOutcome::NotThis {
            note: "the rsync daemon speaks plain TCP".into(),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        };
    }
    let (mut conn, first) = match connect(cx, endpoint).await {
        Ok(found) => found,
        Err(outcome) => {
            trace.record(LISTEN, format!("no greeting line: {}", describe(&outcome)));
            return outcome;
        }
    };
    let Some(greeting) = parse_greeting(&first) else {
        trace.record(
            LISTEN,
            format!("not an rsync greeting: {}", clip(&first, 80)),
        );
        return not_this(format!("not an rsync greeting: {:?}", clip(&first, 60)));
    };
    let offered = if greeting.digests.is_empty() {
        String::new()
    } else {
        format!(", digests {}", greeting.digests.join(" "))
    };
    trace.record(
        LISTEN,
        format!("greeting: @RSYNCD: {}{offered}", greeting.protocol),
    );
    let judge = Judge {
        endpoint,
        greeting: &greeting,
    };
    let request = "@RSYNCD: 30.0, #list";
    let listing = match list(&mut conn).await {
        Ok(listing) => listing,
        Err(why) => {
            trace.record(request, &why);
            return judge.found(Exposure::Undetermined, format!("#list: {why}"), Vec::new());
        }
    };
    drop(conn);
    let modules = &listing.modules;
    let cap = if modules.len() > MAX_MODULES {
        format!(" (the first {MAX_MODULES} are asked for)")
    } else {
        String::new()
    };
    let end = if listing.exit {
        "then @RSYNCD: EXIT"
    } else {
        "then a hang-up"
    };
    trace.record(
        request,
        format!(
            "{} listed{cap}: {}; {} (MOTD), {end}",
            counted(modules.len(), "module"),
            clip(&modules.join(", "), 300),
            counted(listing.motd, "other line"),
        ),
    );
    let mut answers = Vec::new();
    let mut unanswered = 0usize;
    for name in modules.iter().take(MAX_MODULES) {
        let access = if unanswered >= MAX_UNANSWERED {
            Access::Unknown(format!(
                "not asked: {MAX_UNANSWERED} modules went unanswered before"
            ))
        } else {
            ask(cx, endpoint, name).await
        };
        if matches!(&access, Access::Unknown(why) if why.starts_with("no answer")) {
            unanswered = unanswered.saturating_add(1);
        }
        let said = match &access {
            Access::Open => {
                "@RSYNCD: OK: readable without authentication (hung up, no arguments sent)"
                    .to_string()
            }
            Access::AuthRequired => {
                "@RSYNCD: AUTHREQD: authentication required (challenge not answered)".to_string()
            }
            Access::Refused(message) => format!("refused: {}", clip(message, 120)),
            Access::Unknown(why) => format!("no verdict: {why}"),
        };
        trace.record(format!("@RSYNCD: 30.0, module {}", clip(name, 80)), said);
        answers.push((name.clone(), access));
    }
    judge.verdict(answers, modules.len())
}

/// Sends `#list` and reads the module names until `@RSYNCD: EXIT` (or, before protocol 25,
/// the end of the connection); also counts the lines that are no module (the MOTD).
async fn list(conn: &mut Lines) -> Result<Listing, String> {
    conn.send(&format!("{CLIENT_VERSION}#list\n")).await?;
    let mut listing = Listing::default();
    loop {
        let line = match conn.next().await {
            Ok(line) => line,
            Err(why) if why.contains("closed") && !listing.modules.is_empty() => break,
            Err(why) => return Err(why),
        };
        if line == "@RSYNCD: EXIT" {
            listing.exit = true;
            break;
        }
        if let Some(message) = line.strip_prefix("@ERROR") {
            return Err(format!("@ERROR{}", clip(message, 120)));
        }
        match line.split_once('\t') {
            Some((name, _comment)) if valid_name(name.trim_end()) => {
                listing.modules.push(name.trim_end().to_string());
            }
            _ => listing.motd = listing.motd.saturating_add(1),
        }
    }
    Ok(listing)
}

/// What `#list` gave.
#[derive(Debug, Default)]
struct Listing {
    /// Module names, in the daemon's order.
    modules: Vec<String>,
    /// Lines that name no module (the MOTD).
    motd: usize,
    /// Whether `@RSYNCD: EXIT` ended it (protocol 25+), not a hang-up.
    exit: bool,
}

/// Asks for one module on a connection of its own and hangs up on the answer.
async fn ask(cx: &ProbeContext, endpoint: &Endpoint, name: &str) -> Access {
    let mut conn = match connect(cx, endpoint).await {
        Ok((conn, first)) if parse_greeting(&first).is_some() => conn,
        Ok(_) => return Access::Unknown("no rsync greeting this time".into()),
        Err(outcome) => return Access::Unknown(describe(&outcome)),
    };
    if let Err(why) = conn.send(&format!("{CLIENT_VERSION}{name}\n")).await {
        return Access::Unknown(why);
    }
    loop {
        let line = match conn.next().await {
            Ok(line) => line,
            Err(why) => return Access::Unknown(why),
        };
        if line == "@RSYNCD: OK" {
            return Access::Open;
        }
        if line.starts_with("@RSYNCD: AUTHREQD ") {
            return Access::AuthRequired;
        }
        if line == "@RSYNCD: EXIT" {
            return Access::Refused(line);
        }
        if line.starts_with("@ERROR") {
            return Access::Refused(line);
        }
        if line.starts_with("@RSYNCD:") {
            return Access::Unknown(format!("unexpected {:?}", clip(&line, 60)));
        }
        // Anything else is the MOTD, which comes before the answer.
    }
}

/// Why a connection gave no greeting, in words.
fn describe(outcome: &ProbeOutcome) -> String {
    match outcome {
        ProbeOutcome::Silent => "no answer before the timeout".into(),
        ProbeOutcome::Closed => "connection refused".into(),
        ProbeOutcome::Unreachable => "no connection before the timeout".into(),
        ProbeOutcome::NotThis { note, .. } | ProbeOutcome::Failed(note) => note.clone(),
        other => format!("{other:?}"),
    }
}

/// `n` and `word`, with an `s` unless `n` is 1.
pub(super) fn counted(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn not_this(note: impl Into<String>) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: note.into(),
        hint: None,
        transport_confirmed: true,
        speaks_protocol: false,
    }
}
