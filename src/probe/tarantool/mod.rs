//! The Tarantool probe: IPROTO, a server-first binary protocol. On accept the server sends
//! a 128-byte greeting (`Tarantool 2.6.0 (Binary) <instance uuid>`, then a base64 salt);
//! the version comes from it. A connection that never authenticates is the `guest` user.
//!
//! The probe sends one request, read-only: `SELECT` on the system view `_vspace` (space id
//! 281), iterator ALL, with a limit. A view shows a user only the spaces it has rights on
//! (doc "Access control": `_v*` system views), so the reply says what guest can reach:
//! - a user space (id 512 and above) in it is `open`: guest was granted access to it; the
//!   space names are listed, nothing is ever selected from a user space;
//! - only system spaces (id below 512) is `auth-required`: guest has no rights on user data
//!   and a login is needed (spaces guest cannot see may exist);
//! - ER_ACCESS_DENIED (code 42) on `_vspace` itself is `auth-required` too (guest lost
//!   even the `public` role);
//! - any other error or an odd reply after a real greeting is `undetermined`.
//!
//! A Lua console greeting (`console.listen`) is Tarantool too, but proving access there
//! would mean sending Lua; the probe sends nothing and reports `undetermined`.

mod iproto;
mod msgpack;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::registry::{NativeProbe, ProbeFuture, ServiceInfo};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity, policy};
use crate::net::BoxStream;
use crate::sanitize::{byte_preview, clip};
use crate::targets::Endpoint;
use iproto::{GREETING_LEN, Greeting, Reply, Space};

/// Largest reply read (bytes); a longer one is read this far and its whole tuples kept.
const MAX_REPLY: usize = 1 << 20;
/// `_vspace`, the system view of spaces filtered by the session user's rights.
const VSPACE: u64 = 281;
/// Spaces with an id below this are system spaces (BOX_SYSTEM_ID_MAX is 511).
const FIRST_USER_SPACE: u64 = 512;
/// Most `_vspace` tuples asked for.
const LIMIT: u64 = 1000;
/// ER_ACCESS_DENIED.
const ACCESS_DENIED: u64 = 42;
/// The sync id of the one request.
const SYNC: u64 = 1;
/// Severity of an open server with user spaces.
const SEVERITY: Severity = Severity::High;
/// The greeting step, as the evidence names it.
const LISTEN: &str = "(connect and listen)";

/// The Tarantool probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "tarantool",
    labels: ["tarantool", "tarantool+tls"],
    services: &[ServiceInfo {
        id: "tarantool",
        name: "Tarantool (IPROTO)",
        ports: &[3301],
        check: "greeting gives the version; as guest, IPROTO SELECT on _vspace (281): a user space (id >= 512) visible is open (names only), only system spaces or access denied is auth-required",
        severity: SEVERITY,
        remediation: "Revoke guest's rights on user spaces (box.schema.user.revoke('guest', 'read', 'space', NAME), and any grant on 'universe'), give applications their own users with passwords, and set box.cfg{listen = ...} to a private interface only.",
        references: &[
            "https://www.tarantool.io/en/doc/latest/admin/access_control/",
            "https://www.tarantool.io/en/doc/latest/dev_guide/internals/box_protocol/",
        ],
    }],
    schemes: &[],
    greeting: Some(iproto::is_greeting),
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

/// Why reading stopped.
enum Stop {
    Silent,
    Closed(String),
}

/// Probes one endpoint for Tarantool. IPROTO has no TLS in the community edition, so a TLS
/// attempt is not this protocol.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    if tls {
        // Nothing was exchanged over TLS, so the transport is not confirmed.
        return ProbeOutcome::NotThis {
            note: "Tarantool IPROTO is plain TCP".into(),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        };
    }
    let mut stream = match cx.net.connect(&endpoint.host, endpoint.port, false).await {
        Ok(stream) => stream,
        Err(e) => return ProbeOutcome::from_connect_error(e),
    };
    let step = cx.net.timeout;
    let (bytes, stop) = read_greeting(&mut stream, step).await;
    match stop {
        Some(Stop::Silent) if bytes.is_empty() => {
            trace.record(LISTEN, "no greeting before the timeout");
            return ProbeOutcome::Silent;
        }
        Some(Stop::Closed(why)) if bytes.is_empty() => {
            trace.record(LISTEN, &why);
            return not_this(why);
        }
        _ => {}
    }
    let Some(greeting) = iproto::parse_greeting(&bytes) else {
        let preview = byte_preview(&bytes, 48);
        trace.record(LISTEN, format!("not a Tarantool greeting: {preview}"));
        return not_this(format!("not a Tarantool greeting: {preview}"));
    };
    trace.record(LISTEN, describe(&greeting));
    let mut judge = Judge {
        endpoint,
        greeting: &greeting,
    };
    if greeting.protocol != "Binary" {
        return judge.found(
            Exposure::Undetermined,
            "a Tarantool Lua console: ajar sends no Lua, so access is not judged (a console without a password runs anything as admin)".into(),
            None,
        );
    }
    let request = format!("IPROTO SELECT space {VSPACE} (_vspace) iterator ALL limit {LIMIT}");
    let reply = exchange(&mut stream, step).await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(why) => {
            trace.record(&request, &why);
            return judge.found(Exposure::Undetermined, format!("greeted, then {why}"), None);
        }
    };
    match reply {
        None => {
            trace.record(&request, "not a well-formed IPROTO reply");
            judge.found(
                Exposure::Undetermined,
                "greeted, then sent a reply that is not well-formed IPROTO".into(),
                None,
            )
        }
        Some(Reply::Error { code, message }) => {
            let message = clip(&message, 200);
            trace.record(&request, format!("error {code}: {message}"));
            if code == ACCESS_DENIED {
                judge.found(
                    Exposure::AuthRequired,
                    format!("guest may not read _vspace ({message}): a login is needed"),
                    None,
                )
            } else {
                judge.found(
                    Exposure::Undetermined,
                    format!("_vspace refused with error {code}: {message}"),
                    None,
                )
            }
        }
        Some(Reply::Spaces { spaces, cut }) => {
            judge.spaces(trace, &request, &spaces, cut, cx.limits.max_items)
        }
    }
}

/// Sends the SELECT and reads its reply: `Ok(None)` for bytes that are no IPROTO reply.
async fn exchange(stream: &mut BoxStream, step: Duration) -> Result<Option<Reply>, String> {
    let request = iproto::select(VSPACE, LIMIT, SYNC);
    match tokio::time::timeout(step, stream.write_all(&request)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("write failed: {e}")),
        Err(_) => return Err("the request could not be sent before the timeout".into()),
    }
    let why = |stop| match stop {
        Stop::Silent => "no answer before the timeout".to_string(),
        Stop::Closed(why) => why,
    };
    let mut prefix = [0u8; 5];
    read_exact(stream, &mut prefix[..1], step)
        .await
        .map_err(why)?;
    if prefix[0] != iproto::SIZE_PREFIX {
        return Ok(None);
    }
    read_exact(stream, &mut prefix[1..], step)
        .await
        .map_err(why)?;
    let size = u64::from(u32::from_be_bytes([
        prefix[1], prefix[2], prefix[3], prefix[4],
    ]));
    let cut = size > MAX_REPLY as u64;
    let len = usize::try_from(size).unwrap_or(MAX_REPLY).min(MAX_REPLY);
    let mut packet = vec![0u8; len];
    read_exact(stream, &mut packet, step).await.map_err(why)?;
    Ok(iproto::parse_reply(&packet, SYNC, cut))
}

/// Reads the 128-byte greeting, stopping early once the bytes cannot start one (another
/// protocol's banner is not this, at once) or when the server stops sending.
async fn read_greeting(stream: &mut BoxStream, step: Duration) -> (Vec<u8>, Option<Stop>) {
    const PREFIX: &[u8] = b"Tarantool ";
    let mut bytes = Vec::with_capacity(GREETING_LEN);
    let mut chunk = [0u8; GREETING_LEN];
    while bytes.len() < GREETING_LEN {
        let want = GREETING_LEN.saturating_sub(bytes.len());
        match tokio::time::timeout(step, stream.read(&mut chunk[..want])).await {
            Err(_) => return (bytes, Some(Stop::Silent)),
            Ok(Ok(0)) => {
                let why = "the server closed the connection".to_string();
                return (bytes, Some(Stop::Closed(why)));
            }
            Ok(Ok(n)) => bytes.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return (bytes, Some(Stop::Closed(format!("read failed: {e}")))),
        }
        let common = bytes.len().min(PREFIX.len());
        if bytes[..common] != PREFIX[..common] {
            return (bytes, None);
        }
    }
    (bytes, None)
}

async fn read_exact(stream: &mut BoxStream, buf: &mut [u8], step: Duration) -> Result<(), Stop> {
    match tokio::time::timeout(step, stream.read_exact(buf)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(Stop::Closed("the server closed the connection".into()))
        }
        Ok(Err(e)) => Err(Stop::Closed(format!("read failed: {e}"))),
        Err(_) => Err(Stop::Silent),
    }
}

fn describe(g: &Greeting) -> String {
    let mut text = format!("greeting: Tarantool {} ({})", g.version, g.protocol);
    if let Some(uuid) = &g.uuid {
        text.push_str(&format!(", instance {uuid}"));
    }
    if g.protocol == "Binary" {
        text.push_str(&format!(", salt of {} characters", g.salt_len));
    }
    text
}

/// `n` and `word`, with an `s` unless `n` is 1.
fn counted(n: usize, word: &str) -> String {
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

/// The verdict on one server that greeted.
struct Judge<'a> {
    endpoint: &'a Endpoint,
    greeting: &'a Greeting,
}

impl Judge<'_> {
    /// The verdict on the spaces guest sees.
    fn spaces(
        &mut self,
        trace: &mut Trace,
        request: &str,
        spaces: &[Space],
        cut: bool,
        max_items: usize,
    ) -> ProbeOutcome {
        let (user, system): (Vec<&Space>, Vec<&Space>) =
            spaces.iter().partition(|s| s.id >= FIRST_USER_SPACE);
        let more = if cut || spaces.len() as u64 >= LIMIT {
            " (more may exist past the limit)"
        } else {
            ""
        };
        if user.is_empty() {
            trace.record(
                request,
                format!(
                    "OK: {} visible to guest, all system spaces (id < 512){more}",
                    counted(spaces.len(), "space")
                ),
            );
            let summary = "guest sees only system spaces: a login is needed for user data (spaces guest has no rights on are hidden)";
            let mut outcome = self.found(Exposure::AuthRequired, summary.into(), None);
            if let ProbeOutcome::Found(f) = &mut outcome {
                f.details
                    .push(("system_spaces_visible".into(), system.len().to_string()));
            }
            return outcome;
        }
        let names: Vec<String> = user.iter().map(|s| clip(&s.name, 120)).collect();
        trace.record(
            request,
            format!(
                "OK: {} visible to guest, {} (id >= 512){more}: {}",
                counted(spaces.len(), "space"),
                counted(user.len(), "user space"),
                clip(&names.join(", "), 300)
            ),
        );
        let items: Vec<DataSet> = user
            .iter()
            .take(max_items)
            .map(|s| DataSet {
                name: clip(&s.name, 120),
                ..DataSet::default()
            })
            .collect();
        let inventory = Inventory {
            unit: "space".into(),
            truncated: cut || items.len() < user.len() || spaces.len() as u64 >= LIMIT,
            total_items: user.len() as u64,
            user_items: user.len() as u64,
            items,
            total_documents: None,
            total_size_bytes: None,
        };
        let summary = format!(
            "guest (no login) has rights on {}: {}",
            counted(user.len(), "user space"),
            clip(&names.join(", "), 160)
        );
        let mut outcome = self.found(Exposure::Open, summary, Some(inventory));
        if let ProbeOutcome::Found(f) = &mut outcome {
            f.details
                .push(("system_spaces_visible".into(), system.len().to_string()));
            let engines: Vec<&str> = user.iter().filter_map(|s| s.engine.as_deref()).collect();
            if let Some(first) = engines.first() {
                let all_same = engines.iter().all(|e| e == first);
                let engine = if all_same { *first } else { "mixed" };
                f.details.push(("engine".into(), clip(engine, 40)));
            }
        }
        outcome
    }

    fn found(
        &mut self,
        exposure: Exposure,
        summary: String,
        inventory: Option<Inventory>,
    ) -> ProbeOutcome {
        let mut details = vec![("protocol".to_string(), self.greeting.protocol.clone())];
        if let Some(uuid) = &self.greeting.uuid {
            details.push(("instance_uuid".into(), uuid.clone()));
        }
        if self.greeting.protocol == "Binary" {
            details.push(("session_user".into(), "guest".into()));
        }
        let severity = policy::severity(exposure, SEVERITY, inventory.as_ref(), false);
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: false,
            service: "tarantool".into(),
            check: String::new(),
            product: None,
            version: Some(self.greeting.version.clone()),
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }
}
