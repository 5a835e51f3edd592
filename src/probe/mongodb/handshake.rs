//! The handshake: connect, identify the server, and choose how the commands after it go.
//!
//! OP_MSG `{hello: 1}` first; a command error (code 59 before 4.4.2, 4.2.10, 4.0.21,
//! 3.6.21; MG-01, T-08) gets OP_MSG `{isMaster: 1}`. A server that ignores or hangs up on
//! OP_MSG (before 3.6) gets a new connection and OP_QUERY `admin.$cmd {isMaster: 1}`.
//! From wire version 6 (3.6) every later command goes as OP_MSG; below it as OP_QUERY,
//! which 5.1+ refuses (MG-06, T-07). A reply only counts as MongoDB when it has `ok: 1`, a
//! numeric `maxWireVersion` and a role field: it identifies the server, never its access
//! (T-15). TLS-only ports are recognised by how they end a plain-text attempt (MG-08).

use std::time::Duration;

use bson::{RawDocument, doc};
use tokio::time::Instant;

use super::answer::{Answer, answer};
use super::bson_read::{boolean, integer, keys_text, number, number_text, string};
use super::conn::Conn;
use super::names::DbName;
use super::wire::WireError;
use super::{Probe, ProbeOutcome};
use crate::net::BoxStream;
use crate::sanitize::clip;

/// OP_MSG exists from wire version 6 (3.6).
const OP_MSG_WIRE_VERSION: i64 = 6;
/// Largest reply accepted to `hello`/`isMaster` (a replica-set member's is under 2 KB).
const HANDSHAKE_MAX_MESSAGE: usize = 64 << 10;

/// What the handshake said about the server.
#[derive(Debug, Clone)]
pub(super) struct Hello {
    /// `maxWireVersion`: what the server speaks (MG-02 table).
    pub(super) max_wire: i64,
    /// The `hello` / `isMaster` fields that identify the server role.
    writable: bool,
    secondary: bool,
    arbiter: bool,
    /// The replica set's name, escaped and clipped.
    pub(super) set_name: Option<String>,
    /// `isreplicaset: true` without a `setName`: a member not yet initiated.
    ghost: bool,
    /// A mongos router (`msg: "isdbgrid"`).
    pub(super) mongos: bool,
    /// How the handshake went, for the details: `hello`, `isMaster`, `OP_QUERY isMaster`.
    pub(super) via: &'static str,
}

impl Hello {
    /// Reads a handshake reply; `None` unless it looks like MongoDB: `ok: 1`, a numeric
    /// `maxWireVersion`, and a boolean `isWritablePrimary`/`ismaster` or mongos' `msg`.
    pub(super) fn parse(doc: &RawDocument, via: &'static str) -> Option<Hello> {
        if number(doc, "ok") != Some(1.0) {
            return None;
        }
        let max_wire = integer(doc, "maxWireVersion").filter(|v| (0..=10_000).contains(v))?;
        let writable = boolean(doc, "isWritablePrimary").or_else(|| boolean(doc, "ismaster"));
        let mongos = string(doc, "msg").as_deref() == Some("isdbgrid");
        if writable.is_none() && !mongos {
            return None;
        }
        Some(Hello {
            max_wire,
            writable: writable.unwrap_or(false),
            secondary: boolean(doc, "secondary").unwrap_or(false),
            arbiter: boolean(doc, "arbiterOnly").unwrap_or(false),
            set_name: string(doc, "setName").map(|s| clip(&s, 100)),
            ghost: boolean(doc, "isreplicaset").unwrap_or(false),
            mongos,
            via,
        })
    }

    /// The server's role, for the details: `standalone`, `mongos`,
    /// `replica-set member (secondary)`.
    pub(super) fn topology(&self) -> String {
        if self.mongos {
            return "mongos".into();
        }
        if self.set_name.is_some() || self.ghost {
            let role = if self.writable {
                "primary"
            } else if self.secondary {
                "secondary"
            } else if self.arbiter {
                "arbiter"
            } else if self.set_name.is_none() {
                "not initiated"
            } else {
                "other"
            };
            return format!("replica-set member ({role})");
        }
        "standalone".into()
    }

    /// The server-selection spec's rule for a direct connection: every server type but
    /// standalone and mongos gets `primaryPreferred` (OP_MSG) or `SecondaryOk` (OP_QUERY).
    pub(super) fn wants_secondary_ok(&self) -> bool {
        !self.mongos && (self.set_name.is_some() || self.ghost)
    }
}

/// The facts of a handshake reply, for the evidence.
fn hello_facts(prefix: &str, doc: &RawDocument) -> String {
    let mut facts = format!("{prefix}: ok {}", number_text(doc, "ok"));
    if let Some(wire) = integer(doc, "maxWireVersion") {
        facts.push_str(&format!(", maxWireVersion {wire}"));
    }
    for key in ["isWritablePrimary", "ismaster", "secondary", "arbiterOnly"] {
        if let Some(value) = boolean(doc, key) {
            facts.push_str(&format!(", {key} {value}"));
        }
    }
    for key in ["setName", "msg"] {
        if let Some(value) = string(doc, key) {
            facts.push_str(&format!(", {key} {:?}", clip(&value, 60)));
        }
    }
    facts
}

impl Probe<'_> {
    /// Opens the connection the probe's transport asks for.
    async fn connect(&self) -> Result<BoxStream, ProbeOutcome> {
        self.cx
            .net
            .connect(&self.endpoint.host, self.endpoint.port, self.tls)
            .await
            .map_err(ProbeOutcome::from_connect_error)
    }

    /// Connects and identifies the server. The whole handshake of a server that never
    /// answers takes about one step timeout: half for OP_MSG, the rest for OP_QUERY.
    pub(super) async fn handshake(&mut self) -> Result<(Conn, Hello), ProbeOutcome> {
        let step = self.step();
        let deadline = Instant::now() + step;
        // Handshake answers are a few hundred bytes; the full cap is for listings.
        let max = HANDSHAKE_MAX_MESSAGE.min(self.cx.limits.max_message);
        let mut conn = Conn::new(self.connect().await?, true, max, self.cx.budget.clone());
        let (request, result) = conn
            .command(DbName::ADMIN, doc! {"hello": 1}, step / 2)
            .await;
        let first_failure = match result {
            Ok(reply) => {
                if let Some(hello) = Hello::parse(reply.document(), "hello") {
                    self.record(request, hello_facts("OP_MSG reply", reply.document()));
                    return Ok(self.ready(conn, hello));
                }
                let error = match answer(&reply) {
                    Answer::Error(error) if number(reply.document(), "ok") == Some(0.0) => error,
                    _ => return Err(self.not_mongodb_reply(&request, reply.document())),
                };
                // Servers without `hello` (CommandNotFound, code 59) and look-alikes that
                // refuse it still get the legacy name before any verdict (T-08).
                self.record(request, format!("OP_MSG reply: {}", error.describe()));
                let (request, result) = conn
                    .command(DbName::ADMIN, doc! {"isMaster": 1}, step)
                    .await;
                return match result {
                    Ok(reply) => match Hello::parse(reply.document(), "isMaster") {
                        Some(hello) => {
                            self.record(request, hello_facts("OP_MSG reply", reply.document()));
                            Ok(self.ready(conn, hello))
                        }
                        None => Err(self.not_mongodb_reply(&request, reply.document())),
                    },
                    Err(e) => {
                        self.record(request, e.to_string());
                        Err(not_mongodb(
                            format!("refused hello ({}), then {e} to isMaster", error.describe()),
                            &[],
                            true,
                        ))
                    }
                };
            }
            Err(WireError::Closed) => {
                self.record(request, "connection closed without a reply");
                WireError::Closed
            }
            Err(WireError::Silent) => {
                self.record(
                    request,
                    format!(
                        "no reply within {} (servers before 3.6 ignore OP_MSG)",
                        seconds(step / 2)
                    ),
                );
                WireError::Silent
            }
            Err(error) => return Err(self.wire_failure(request, error)),
        };
        drop(conn);
        // Before 3.6 the server does not know OP_MSG: ask again the legacy way, on a fresh
        // connection since the old one may be closed or out of step.
        let mut conn = Conn::new(self.connect().await?, false, max, self.cx.budget.clone());
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(step / 4);
        let (request, result) = conn
            .command(DbName::ADMIN, doc! {"isMaster": 1}, remaining)
            .await;
        match result {
            Ok(reply) => match Hello::parse(reply.document(), "OP_QUERY isMaster") {
                Some(hello) => {
                    self.record(request, hello_facts("OP_REPLY", reply.document()));
                    Ok(self.ready(conn, hello))
                }
                None => Err(self.not_mongodb_reply(&request, reply.document())),
            },
            Err(WireError::Closed) => {
                self.record(request, "connection closed without a reply");
                if self.tls {
                    Err(ProbeOutcome::NotThis {
                        note: "closed the TLS connection without replying to hello or isMaster"
                            .into(),
                        hint: None,
                        transport_confirmed: true,
                        speaks_protocol: false,
                    })
                } else {
                    // A TLS-only mongod reads the first bytes, sees no ClientHello and
                    // hangs up without a word (MG-08).
                    Err(ProbeOutcome::WantsTls(
                        "closed the connection without replying to OP_MSG hello or OP_QUERY isMaster"
                            .into(),
                    ))
                }
            }
            Err(WireError::Silent) => {
                self.record(request, "no reply before the timeout");
                if first_failure == WireError::Closed && !self.tls {
                    Err(ProbeOutcome::WantsTls(
                        "closed the connection on OP_MSG hello, then stayed silent".into(),
                    ))
                } else {
                    Err(ProbeOutcome::Silent)
                }
            }
            Err(error) => Err(self.wire_failure(request, error)),
        }
    }

    /// Sets the connection up for the commands after the handshake.
    fn ready(&self, mut conn: Conn, hello: Hello) -> (Conn, Hello) {
        // A server that answered OP_MSG keeps getting OP_MSG; one found through OP_QUERY
        // moves to OP_MSG only if its wire version says it has it.
        conn.op_msg = conn.op_msg || hello.max_wire >= OP_MSG_WIRE_VERSION;
        conn.secondary_ok = hello.wants_secondary_ok();
        conn.max_message = self.cx.limits.max_message;
        (conn, hello)
    }

    /// A framed reply whose document is not a handshake answer.
    fn not_mongodb_reply(&mut self, request: &str, doc: &RawDocument) -> ProbeOutcome {
        let keys = keys_text(doc);
        self.record(
            request,
            format!("reply without ok:1/maxWireVersion: {{{keys}}}"),
        );
        not_mongodb(
            format!("a wire-protocol reply that is not a MongoDB handshake: {{{keys}}}"),
            &[],
            true,
        )
    }

    /// The handshake got bytes that are not MongoDB, or a socket error.
    fn wire_failure(&mut self, request: String, error: WireError) -> ProbeOutcome {
        self.record(request, error.to_string());
        match error {
            // Many TLS stacks answer a plain-text first record with a TLS alert before
            // hanging up: the port speaks TLS, so ask for a retry over it.
            WireError::NotMongo { head, .. } if !self.tls && is_tls_alert(&head) => {
                ProbeOutcome::WantsTls(format!(
                    "answered plain text with a TLS alert ({})",
                    preview(&head)
                ))
            }
            WireError::NotMongo { reason, head } => not_mongodb(reason, &head, false),
            WireError::Io(e) => ProbeOutcome::NotThis {
                note: format!("socket error: {e}"),
                hint: None,
                transport_confirmed: false,
                speaks_protocol: false,
            },
            other => ProbeOutcome::Failed(format!("mongodb: {other}")),
        }
    }
}

/// Bytes that are not a MongoDB reply; bytes another native protocol answers with (an HTTP
/// status line) hint that probe.
/// `framed` is true when the peer did answer in the wire protocol (a well-framed reply to
/// our request id), just not as MongoDB does: then no other protocol is worth trying.
fn not_mongodb(reason: String, head: &[u8], framed: bool) -> ProbeOutcome {
    let mut note = format!("not MongoDB: {reason}");
    if !head.is_empty() {
        note.push_str(&format!(" (first bytes {})", preview(head)));
    }
    ProbeOutcome::NotThis {
        note,
        hint: super::super::registry::NATIVE
            .iter()
            .find(|p| p.answers.is_some_and(|answers| answers(head)))
            .map(|p| p.id),
        transport_confirmed: true,
        speaks_protocol: framed,
    }
}

/// Whether `head` starts a TLS alert record: content type 21, version 3.x.
fn is_tls_alert(head: &[u8]) -> bool {
    matches!(head, [0x15, 0x03, 0x00..=0x04, ..])
}

fn preview(bytes: &[u8]) -> String {
    crate::sanitize::byte_preview(bytes, 16)
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::Document;

    fn raw(doc: Document) -> bson::RawDocumentBuf {
        bson::RawDocumentBuf::try_from(&doc).expect("encode")
    }

    #[test]
    fn accepts_only_mongodb_shaped_handshakes() {
        let ok = raw(doc! {"isWritablePrimary": true, "maxWireVersion": 21, "ok": 1.0});
        let hello = Hello::parse(&ok, "hello").expect("valid");
        assert_eq!(
            (hello.max_wire, hello.topology().as_str()),
            (21, "standalone")
        );
        let legacy = raw(doc! {"ismaster": true, "maxWireVersion": 5_i64, "ok": 1});
        assert!(Hello::parse(&legacy, "isMaster").is_some());
        let mongos =
            raw(doc! {"ismaster": true, "msg": "isdbgrid", "maxWireVersion": 13.0, "ok": 1.0});
        assert_eq!(
            Hello::parse(&mongos, "hello").expect("mongos").topology(),
            "mongos"
        );
        for bad in [
            doc! {"ok": 1.0},
            doc! {"isWritablePrimary": true, "ok": 1.0},
            doc! {"isWritablePrimary": "yes", "maxWireVersion": 21, "ok": 1.0},
            doc! {"isWritablePrimary": true, "maxWireVersion": "21", "ok": 1.0},
            doc! {"isWritablePrimary": true, "maxWireVersion": 21, "ok": 0.0},
            doc! {"isWritablePrimary": true, "maxWireVersion": 21, "ok": "1"},
            doc! {"isWritablePrimary": true, "maxWireVersion": -3, "ok": 1.0},
            doc! {"msg": "hello", "maxWireVersion": 21, "ok": 1.0},
        ] {
            assert!(Hello::parse(&raw(bad.clone()), "hello").is_none(), "{bad}");
        }
    }

    #[test]
    fn names_replica_set_roles() {
        let parse = |d: Document| Hello::parse(&raw(d), "hello").expect("valid");
        let secondary = parse(
            doc! {"isWritablePrimary": false, "secondary": true, "setName": "rs0", "maxWireVersion": 21, "ok": 1.0},
        );
        assert_eq!(secondary.topology(), "replica-set member (secondary)");
        assert!(secondary.wants_secondary_ok());
        let arbiter = parse(
            doc! {"ismaster": false, "secondary": false, "arbiterOnly": true, "setName": "rs0", "maxWireVersion": 8, "ok": 1.0},
        );
        assert_eq!(arbiter.topology(), "replica-set member (arbiter)");
        let ghost =
            parse(doc! {"ismaster": false, "isreplicaset": true, "maxWireVersion": 8, "ok": 1.0});
        assert_eq!(ghost.topology(), "replica-set member (not initiated)");
    }
}
