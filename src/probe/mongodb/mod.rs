//! The MongoDB probe: speaks the wire protocol itself (OP_MSG, and OP_QUERY for servers
//! before 3.6), identifies mongod or mongos from the handshake, and judges access on
//! `listDatabases` alone: `hello` and `buildInfo` answer without credentials on every
//! server, so they identify but never prove anything (protocols.md T-05, T-15).
//!
//! What it sends, in order (protocols.md section 4):
//! 1. OP_MSG `{hello: 1, $db: "admin"}`; on a command error (code 59 before 4.4.2, 4.2.10,
//!    4.0.21, 3.6.21) OP_MSG `{isMaster: 1}`. A server that ignores or hangs up on OP_MSG
//!    (before 3.6) gets a new connection and OP_QUERY `admin.$cmd {isMaster: 1}`.
//! 2. `buildInfo` for the version. From wire version 6 (3.6) every command goes as OP_MSG;
//!    below it as OP_QUERY. 5.1+ refuses OP_QUERY commands with code 352, so OP_QUERY is
//!    never used where OP_MSG works (trap T-07).
//! 3. `listDatabases`: a list means open, code 13 means credentials are required. An empty
//!    list is double-checked with `listCollections` on `admin`.
//! 4. When open, `dbStats` and `listCollections` (names only, first batch) for the largest
//!    user databases, up to [`Limits::max_detailed`](super::Limits) of them, and
//!    `listIndexes` for a few of their collections: index keys such as `customer.email`
//!    are field names, metadata that hints at personal data without reading a document.
//!
//! Nothing else: never `find`, `aggregate`, `count` or anything that reads documents, and
//! never a write.

pub mod wire;

use std::time::Duration;

use bson::{Bson, Document, RawArray, RawBsonRef, RawDocument, doc};
use tokio::time::Instant;

use super::trace::Trace;
use super::{ProbeContext, ProbeKind, ProbeOutcome, pii};
use crate::finding::{DataSet, Exposure, Finding, Inventory, PiiHint, Severity};
use crate::net::budget::Budget;
use crate::net::{BoxStream, ConnectError};
use crate::sanitize::clip;
use crate::target::Endpoint;
use wire::{Reply, WireError};

/// Databases every server has, which say nothing about user data.
const SYSTEM_DATABASES: [&str; 3] = ["admin", "config", "local"];
/// Most collection names kept per database.
const MAX_COLLECTIONS: usize = 200;
/// Collections per database whose index keys are listed (`listIndexes`).
const MAX_INDEX_LISTS_PER_DB: usize = 3;
/// `listIndexes` commands per probe, over all databases.
const MAX_INDEX_LISTS: usize = 15;
/// Index key names kept per collection.
const MAX_INDEX_FIELDS: usize = 50;
/// `Unauthorized`: the code of every "requires authentication" answer (MG-05).
const UNAUTHORIZED: i64 = 13;
/// `AuthenticationFailed`.
const AUTHENTICATION_FAILED: i64 = 18;
/// `UnsupportedOpQueryCommand`: 5.1+ refusing a legacy OP_QUERY command (MG-06).
const UNSUPPORTED_OP_QUERY: i64 = 352;
/// OP_MSG exists from wire version 6 (3.6).
const OP_MSG_WIRE_VERSION: i64 = 6;
/// `listCollections` exists from wire version 3 (3.0).
const LIST_COLLECTIONS_WIRE_VERSION: i64 = 3;
/// `nameOnly` and `authorizedCollections` for `listCollections` exist from 4.0 (wire 7).
const NAME_ONLY_WIRE_VERSION: i64 = 7;
/// Detail commands (`dbStats`, `listCollections`) stop being sent once the probe has run
/// this many step timeouts, so a slow server still gets a verdict before the engine's
/// per-endpoint deadline.
const DETAIL_BUDGET_STEPS: u32 = 4;

/// Largest reply accepted to `hello`/`isMaster` (a replica-set member's is under 2 KB).
const HANDSHAKE_MAX_MESSAGE: usize = 64 << 10;

/// Probes one endpoint for MongoDB over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let started = Instant::now();
    let mut probe = Probe {
        cx,
        endpoint,
        tls,
        detail_deadline: started + cx.net.timeout * DETAIL_BUDGET_STEPS,
        index_lists_left: MAX_INDEX_LISTS,
        op_msg: true,
        trace,
    };
    let (mut conn, hello) = match probe.handshake().await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    probe.judge(&mut conn, &hello).await
}

/// One probe run: where it talks to and what it has recorded.
struct Probe<'a> {
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    /// No detail command starts after this.
    detail_deadline: Instant,
    /// `listIndexes` commands still allowed.
    index_lists_left: usize,
    /// Whether the commands after the handshake went as OP_MSG, for the details.
    op_msg: bool,
    /// Where each exchange is recorded as evidence.
    trace: &'a mut Trace,
}

/// A connection after the handshake, and how commands go over it.
struct Conn {
    stream: BoxStream,
    next_id: i32,
    /// OP_MSG when true, OP_QUERY on `db.$cmd` otherwise.
    op_msg: bool,
    /// Replica-set members are asked with `primaryPreferred` / `SecondaryOk`, as drivers do
    /// on a direct connection, so that a secondary answers instead of refusing.
    secondary_ok: bool,
    max_message: usize,
    /// The scan-wide budget large replies reserve from.
    budget: Budget,
}

impl Conn {
    fn new(stream: BoxStream, op_msg: bool, max_message: usize, budget: Budget) -> Conn {
        Conn {
            stream,
            next_id: 1,
            op_msg,
            secondary_ok: false,
            max_message,
            budget,
        }
    }

    /// Sends `command` to database `db` and reads its reply, all within `timeout`.
    /// Returns the request as evidence text along with the result.
    async fn command(
        &mut self,
        db: &str,
        mut command: Document,
        timeout: Duration,
    ) -> (String, Result<Reply, WireError>) {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let name = command.keys().next().cloned().unwrap_or_default();
        let (text, message) = if self.op_msg {
            command.insert("$db", db);
            if self.secondary_ok {
                command.insert("$readPreference", doc! {"mode": "primaryPreferred"});
            }
            let text = format!("OP_MSG {name} {}", render(&command));
            (text, wire::encode_op_msg(id, &command))
        } else {
            let namespace = format!("{db}.$cmd");
            let flags = if self.secondary_ok {
                wire::QUERY_SECONDARY_OK
            } else {
                0
            };
            let mut text = format!("OP_QUERY {namespace} {}", render(&command));
            if self.secondary_ok {
                text.push_str(" (secondaryOk)");
            }
            (text, wire::encode_op_query(id, flags, &namespace, &command))
        };
        let op = if self.op_msg {
            wire::OP_MSG
        } else {
            wire::OP_QUERY
        };
        let deadline = Instant::now() + timeout;
        let result = match message {
            Err(e) => Err(e),
            Ok(message) => match wire::send(&mut self.stream, &message, deadline).await {
                Err(e) => Err(e),
                Ok(()) => {
                    wire::read_reply(
                        &mut self.stream,
                        id,
                        op,
                        self.max_message,
                        deadline,
                        Some(&self.budget),
                    )
                    .await
                }
            },
        };
        (text, result)
    }
}

/// What the handshake said about the server.
#[derive(Debug, Clone)]
struct Hello {
    max_wire: i64,
    /// The `hello` / `isMaster` fields that identify the server role.
    writable: bool,
    secondary: bool,
    arbiter: bool,
    set_name: Option<String>,
    /// `isreplicaset: true` without a `setName`: a member not yet initiated.
    ghost: bool,
    mongos: bool,
    /// How the handshake went, for the details: `hello`, `isMaster`, `OP_QUERY isMaster`.
    via: &'static str,
}

impl Hello {
    /// Reads a handshake reply; `None` unless it looks like MongoDB: `ok: 1`, a numeric
    /// `maxWireVersion`, and a boolean `isWritablePrimary`/`ismaster` or mongos' `msg`.
    fn parse(doc: &RawDocument, via: &'static str) -> Option<Hello> {
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

    fn topology(&self) -> String {
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
    fn wants_secondary_ok(&self) -> bool {
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

/// A command's answer: its document when `ok: 1`, or the error it reported.
enum Answer<'a> {
    Ok(&'a RawDocument),
    Error(CommandError),
}

/// A command error: `{ok: 0, errmsg, code, codeName}` (or OP_REPLY's `$err`).
#[derive(Debug, Clone, Default)]
struct CommandError {
    ok: String,
    code: Option<i64>,
    code_name: Option<String>,
    errmsg: Option<String>,
}

impl CommandError {
    fn describe(&self) -> String {
        let mut text = format!("ok {}", self.ok);
        if let Some(code) = self.code {
            text.push_str(&format!(", code {code}"));
            if let Some(name) = &self.code_name {
                text.push_str(&format!(" ({})", clip(name, 60)));
            }
        }
        if let Some(message) = &self.errmsg {
            text.push_str(&format!(": {}", clip(message, 200)));
        }
        text
    }

    /// Whether the server refused for lack of credentials. Decided on the code (13
    /// `Unauthorized`, 18 `AuthenticationFailed`) or code name, as the wording changed
    /// across versions (MG-05, T-14). Front ends that wrap errors in their own code, such
    /// as Atlas' `code: 8000, codeName: "AtlasError"` with errmsg `(Unauthorized) not
    /// authorized on admin …`, are recognised by the message, compared case-insensitively.
    fn is_auth(&self) -> bool {
        if matches!(self.code, Some(UNAUTHORIZED | AUTHENTICATION_FAILED))
            || matches!(
                self.code_name.as_deref(),
                Some("Unauthorized" | "AuthenticationFailed")
            )
        {
            return true;
        }
        let message = self.errmsg.as_deref().unwrap_or("").to_ascii_lowercase();
        [
            "requires authentication",
            "not authorized",
            "unauthorized",
            "not allowed to do action",
        ]
        .iter()
        .any(|phrase| message.contains(phrase))
    }
}

fn answer(reply: &Reply) -> Answer<'_> {
    let doc = reply.document();
    if !reply.query_failure() && number(doc, "ok") == Some(1.0) {
        return Answer::Ok(doc);
    }
    Answer::Error(CommandError {
        ok: number_text(doc, "ok"),
        code: integer(doc, "code"),
        code_name: string(doc, "codeName"),
        errmsg: string(doc, "errmsg").or_else(|| string(doc, "$err")),
    })
}

/// One entry of the `listDatabases` reply.
#[derive(Debug, Clone)]
struct DbEntry {
    name: String,
    size: Option<u64>,
    empty: Option<bool>,
    system: bool,
}

/// What `dbStats` and `listCollections` told about one database.
#[derive(Debug, Clone, Default)]
struct DbDetail {
    documents: Option<u64>,
    collections: Vec<String>,
    /// Index key names that look personal, as `collection.field`.
    index_hints: Vec<PiiHint>,
}

impl Probe<'_> {
    fn record(&mut self, request: impl AsRef<str>, response: impl AsRef<str>) {
        self.trace.record(request, response);
    }

    fn step(&self) -> Duration {
        self.cx.net.timeout
    }

    async fn connect(&self) -> Result<BoxStream, ProbeOutcome> {
        self.cx
            .net
            .connect(&self.endpoint.host, self.endpoint.port, self.tls)
            .await
            .map_err(connect_outcome)
    }

    /// Connects and identifies the server. The whole handshake of a server that never
    /// answers takes about one step timeout: half for OP_MSG, the rest for OP_QUERY.
    async fn handshake(&mut self) -> Result<(Conn, Hello), ProbeOutcome> {
        let step = self.step();
        let deadline = Instant::now() + step;
        // Handshake answers are a few hundred bytes; the full cap is for listings.
        let max = HANDSHAKE_MAX_MESSAGE.min(self.cx.limits.max_message);
        let mut conn = Conn::new(self.connect().await?, true, max, self.cx.budget.clone());
        let (request, result) = conn.command("admin", doc! {"hello": 1}, step / 2).await;
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
                let (request, result) = conn.command("admin", doc! {"isMaster": 1}, step).await;
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
        let (request, result) = conn.command("admin", doc! {"isMaster": 1}, remaining).await;
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

    /// After the handshake: version, then the verdict from `listDatabases`.
    async fn judge(&mut self, conn: &mut Conn, hello: &Hello) -> ProbeOutcome {
        let step = self.step();
        self.op_msg = conn.op_msg;
        let (request, result) = conn.command("admin", doc! {"buildInfo": 1}, step).await;
        let version = match result {
            Ok(reply) => match answer(&reply) {
                Answer::Ok(doc) => {
                    let version = string(doc, "version").map(|v| clip(&v, 40));
                    let facts = match &version {
                        Some(v) => format!("ok 1, version {v:?}"),
                        None => "ok 1, no version".into(),
                    };
                    self.record(request, facts);
                    version
                }
                Answer::Error(error) => {
                    self.record(request, error.describe());
                    None
                }
            },
            Err(error) => return self.failed_after_handshake(request, "buildInfo", error, None),
        };

        let (request, result) = conn.command("admin", doc! {"listDatabases": 1}, step).await;
        let reply = match result {
            Ok(reply) => reply,
            Err(error) => {
                return self.failed_after_handshake(request, "listDatabases", error, version);
            }
        };
        let reply = match answer(&reply) {
            Answer::Error(error) if error.code == Some(UNSUPPORTED_OP_QUERY) && !conn.op_msg => {
                // A server that claims a pre-3.6 wire version yet refuses OP_QUERY: ask
                // once more the modern way rather than judge on a protocol error.
                self.record(request, error.describe());
                conn.op_msg = true;
                self.op_msg = true;
                let (request, result) =
                    conn.command("admin", doc! {"listDatabases": 1}, step).await;
                match result {
                    Ok(reply) => {
                        return self.verdict(conn, hello, version, request, &reply).await;
                    }
                    Err(error) => {
                        return self.failed_after_handshake(
                            request,
                            "listDatabases",
                            error,
                            version,
                        );
                    }
                }
            }
            _ => reply,
        };
        self.verdict(conn, hello, version, request, &reply).await
    }

    /// Decides from the `listDatabases` reply.
    ///
    /// - A `databases` array: open. If empty, `listCollections` on `admin` confirms it,
    ///   since some servers with access control answer an unauthenticated caller with an
    ///   empty list (services.md) while others refuse with code 13 (MG-05).
    /// - Code 13/18 (or an `Unauthorized` wrapper, see [`CommandError::is_auth`]):
    ///   credentials required.
    /// - Any other error: the server is MongoDB but access could not be judged, so the
    ///   probe reports a failure naming the error. Calling it auth-required would hide a
    ///   server that may well be open (a secondary in an odd state, a proxy refusing one
    ///   command), and calling it open would claim data access nobody saw; a failure puts
    ///   it in front of the operator with the server's own words.
    async fn verdict(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        version: Option<String>,
        request: String,
        reply: &Reply,
    ) -> ProbeOutcome {
        let doc = match answer(reply) {
            Answer::Error(error) if error.is_auth() => {
                self.record(request, error.describe());
                let summary = format!(
                    "credentials required: listDatabases refused without them ({})",
                    short_error(&error)
                );
                return self.auth_required(hello, version, summary);
            }
            Answer::Error(error) => {
                self.record(request, error.describe());
                return ProbeOutcome::Failed(format!(
                    "MongoDB {} ({}): listDatabases failed ({}); access could not be judged",
                    version.as_deref().unwrap_or("of unknown version"),
                    hello.topology(),
                    error.describe()
                ));
            }
            Answer::Ok(doc) => doc,
        };
        let Some(list) = array(doc, "databases") else {
            self.record(
                request,
                format!("ok 1 without a databases array: {{{}}}", keys_text(doc)),
            );
            return ProbeOutcome::Failed(format!(
                "MongoDB {}: listDatabases answered ok without a databases array; access could not be judged",
                version.as_deref().unwrap_or("of unknown version")
            ));
        };
        let entries = database_entries(list);
        let mut facts = format!("ok 1, {} databases", entries.len());
        if let Some(total) = count(doc, "totalSize") {
            facts.push_str(&format!(", totalSize {total}"));
        }
        self.record(request, facts);

        if entries.is_empty() && hello.max_wire >= LIST_COLLECTIONS_WIRE_VERSION {
            let mut command = doc! {"listCollections": 1};
            if hello.max_wire >= NAME_ONLY_WIRE_VERSION {
                command.insert("nameOnly", true);
            }
            let (request, result) = conn.command("admin", command, self.step()).await;
            match result {
                Ok(reply) => match answer(&reply) {
                    Answer::Error(error) if error.is_auth() => {
                        self.record(request, error.describe());
                        let summary = format!(
                            "credentials required: listDatabases answered an empty list and listCollections on admin was refused ({})",
                            short_error(&error)
                        );
                        return self.auth_required(hello, version, summary);
                    }
                    Answer::Error(error) => self.record(request, error.describe()),
                    Answer::Ok(doc) => {
                        let names = collection_names(doc);
                        self.record(request, format!("ok 1, {} collections", names.len()));
                    }
                },
                Err(error) => self.record(request, error.to_string()),
            }
        }
        self.open(conn, hello, version, entries).await
    }

    /// Builds the open finding, after reading per-database metadata within the budget.
    async fn open(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        version: Option<String>,
        mut entries: Vec<DbEntry>,
    ) -> ProbeOutcome {
        // User databases first, largest first, then by name: the order of the report.
        entries.sort_by(|a, b| {
            a.system
                .cmp(&b.system)
                .then(b.size.unwrap_or(0).cmp(&a.size.unwrap_or(0)))
                .then(a.name.cmp(&b.name))
        });
        let total = entries.len();
        let user_not_empty = entries
            .iter()
            .any(|e| !e.system && (e.size.unwrap_or(0) > 0 || e.empty == Some(false)));
        entries.truncate(self.cx.limits.max_items);

        let mut details: Vec<Option<DbDetail>> = vec![None; entries.len()];
        let mut detailed = 0;
        for (entry, detail) in entries.iter().zip(details.iter_mut()) {
            if entry.system || detailed >= self.cx.limits.max_detailed {
                continue;
            }
            if Instant::now() >= self.detail_deadline {
                break;
            }
            detailed += 1;
            match self.describe_database(conn, hello, &entry.name).await {
                Some(found) => *detail = Some(found),
                // The connection failed or went silent: its state is unknown, stop here.
                None => break,
            }
        }

        let items: Vec<DataSet> = entries
            .into_iter()
            .zip(details)
            .map(|(entry, detail)| {
                let detail = detail.unwrap_or_default();
                let mut pii_fields: Vec<PiiHint> = detail
                    .collections
                    .iter()
                    .filter_map(|name| {
                        pii::classify_collection(name).map(|category| PiiHint {
                            field: name.clone(),
                            category: category.to_string(),
                        })
                    })
                    .collect();
                pii_fields.extend(detail.index_hints);
                DataSet {
                    name: entry.name,
                    documents: detail.documents,
                    size_bytes: entry.size,
                    health: None,
                    system: entry.system,
                    collections: detail.collections,
                    pii_fields,
                }
            })
            .collect();
        let mut inventory = Inventory {
            unit: "database".into(),
            items,
            total_items: total as u64,
            user_items: 0,
            total_documents: None,
            total_size_bytes: None,
            truncated: total > self.cx.limits.max_items,
        };
        inventory.recount();

        let severity = if inventory.has_pii() {
            Severity::Critical
        } else if user_not_empty
            || inventory.has_user_data()
            || inventory
                .items
                .iter()
                .any(|d| !d.system && !d.collections.is_empty())
        {
            Severity::High
        } else {
            Severity::Medium
        };
        let summary = open_summary(&inventory, total);
        ProbeOutcome::Found(Box::new(self.finding(
            hello,
            version,
            Exposure::Open,
            severity,
            summary,
            Some(inventory),
        )))
    }

    /// `dbStats` and `listCollections` for one database. `None` when the connection
    /// failed, so the caller stops; command errors just leave the fields empty.
    async fn describe_database(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        name: &str,
    ) -> Option<DbDetail> {
        let step = self.step();
        let mut detail = DbDetail::default();
        let (request, result) = conn.command(name, doc! {"dbStats": 1}, step).await;
        match result {
            Ok(reply) => match answer(&reply) {
                Answer::Ok(doc) => {
                    detail.documents = count(doc, "objects");
                    let mut facts = String::from("ok 1");
                    for key in ["objects", "collections", "dataSize"] {
                        if let Some(value) = count(doc, key) {
                            facts.push_str(&format!(", {key} {value}"));
                        }
                    }
                    self.record(request, facts);
                }
                Answer::Error(error) => self.record(request, error.describe()),
            },
            Err(error) => {
                self.record(request, error.to_string());
                return None;
            }
        }
        if hello.max_wire < LIST_COLLECTIONS_WIRE_VERSION {
            return Some(detail);
        }
        let mut command = doc! {"listCollections": 1};
        if hello.max_wire >= NAME_ONLY_WIRE_VERSION {
            command.insert("nameOnly", true);
            command.insert("authorizedCollections", true);
        }
        let (request, result) = conn.command(name, command, step).await;
        match result {
            Ok(reply) => match answer(&reply) {
                Answer::Ok(doc) => {
                    let (names, more) = collection_names_bounded(doc);
                    let mut facts = format!("ok 1, {} collections", names.len());
                    if more {
                        facts.push_str(" (first batch, more not read)");
                    }
                    if !names.is_empty() {
                        facts.push_str(&format!(": {}", name_list(&names, 10)));
                    }
                    self.record(request, facts);
                    detail.collections = names;
                }
                Answer::Error(error) => self.record(request, error.describe()),
            },
            Err(error) => {
                self.record(request, error.to_string());
                return None;
            }
        }
        // Index keys of a few collections; those already flagged by name go last, as
        // their keys add less.
        let mut candidates: Vec<&String> = detail
            .collections
            .iter()
            .filter(|c| !c.starts_with("system."))
            .collect();
        candidates.sort_by_key(|c| pii::classify_collection(c).is_some());
        let candidates: Vec<String> = candidates
            .into_iter()
            .take(MAX_INDEX_LISTS_PER_DB)
            .cloned()
            .collect();
        for collection in candidates {
            if self.index_lists_left == 0 || Instant::now() >= self.detail_deadline {
                break;
            }
            self.index_lists_left -= 1;
            let command = doc! {"listIndexes": collection.as_str()};
            let (request, result) = conn.command(name, command, step).await;
            match result {
                Ok(reply) => match answer(&reply) {
                    Answer::Ok(doc) => {
                        let (indexes, fields) = index_fields(doc);
                        let mut facts = format!("ok 1, {indexes} indexes");
                        if !fields.is_empty() {
                            facts.push_str(&format!(", keys: {}", name_list(&fields, 10)));
                        }
                        self.record(request, facts);
                        for field in fields {
                            let path = format!("{collection}.{field}");
                            if let Some(category) = pii::classify_field(&field)
                                && !detail.index_hints.iter().any(|h| h.field == path)
                            {
                                detail.index_hints.push(PiiHint {
                                    field: path,
                                    category: category.to_string(),
                                });
                            }
                        }
                    }
                    Answer::Error(error) => self.record(request, error.describe()),
                },
                Err(error) => {
                    self.record(request, error.to_string());
                    return None;
                }
            }
        }
        Some(detail)
    }

    fn auth_required(
        &mut self,
        hello: &Hello,
        version: Option<String>,
        summary: String,
    ) -> ProbeOutcome {
        ProbeOutcome::Found(Box::new(self.finding(
            hello,
            version,
            Exposure::AuthRequired,
            Severity::Info,
            summary,
            None,
        )))
    }

    /// The server is MongoDB (the handshake said so) but stopped answering usefully.
    fn failed_after_handshake(
        &mut self,
        request: String,
        command: &str,
        error: WireError,
        version: Option<String>,
    ) -> ProbeOutcome {
        self.record(request, error.to_string());
        ProbeOutcome::Failed(format!(
            "MongoDB {}: {command}: {error}; access could not be judged",
            version.as_deref().unwrap_or("of unknown version")
        ))
    }

    fn finding(
        &mut self,
        hello: &Hello,
        version: Option<String>,
        exposure: Exposure,
        severity: Severity,
        summary: String,
        inventory: Option<Inventory>,
    ) -> Finding {
        let mut details = vec![("topology".to_string(), hello.topology())];
        if let Some(set) = &hello.set_name {
            details.push(("replica_set".into(), set.clone()));
        }
        details.push(("max_wire_version".into(), hello.max_wire.to_string()));
        let protocol = if self.op_msg {
            "OP_MSG"
        } else {
            "OP_QUERY (server before 3.6)"
        };
        details.push(("wire_protocol".into(), protocol.into()));
        details.push(("handshake".into(), hello.via.into()));
        Finding {
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "mongodb".into(),
            product: Some(if hello.mongos { "mongos" } else { "mongod" }.into()),
            version,
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
        }
    }
}

/// Maps a failed connect onto what the engine does next.
fn connect_outcome(error: ConnectError) -> ProbeOutcome {
    match error {
        ConnectError::Refused => ProbeOutcome::Closed,
        ConnectError::Timeout => ProbeOutcome::Unreachable,
        ConnectError::Resolve(e) => ProbeOutcome::Failed(format!("cannot resolve: {e}")),
        e @ (ConnectError::Tls(_) | ConnectError::TlsTimeout) => ProbeOutcome::NotThis {
            note: e.to_string(),
            hint: None,
            transport_confirmed: false,
            speaks_protocol: false,
        },
        e @ ConnectError::Certificate(_) => ProbeOutcome::Failed(e.to_string()),
        ConnectError::Io(e) => ProbeOutcome::Failed(format!("socket error: {e}")),
    }
}

/// Bytes that are not a MongoDB reply; an HTTP status line hints the HTTP probe.
/// `framed` is true when the peer did answer in the wire protocol (a well-framed reply to
/// our request id), just not as MongoDB does: then no other protocol is worth trying.
fn not_mongodb(reason: String, head: &[u8], framed: bool) -> ProbeOutcome {
    let mut note = format!("not MongoDB: {reason}");
    if !head.is_empty() {
        note.push_str(&format!(" (first bytes {})", preview(head)));
    }
    ProbeOutcome::NotThis {
        note,
        hint: head.starts_with(b"HTTP/").then_some(ProbeKind::Http),
        transport_confirmed: true,
        speaks_protocol: framed,
    }
}

/// Whether `head` starts a TLS alert record: content type 21, version 3.x.
fn is_tls_alert(head: &[u8]) -> bool {
    matches!(head, [0x15, 0x03, 0x00..=0x04, ..])
}

/// Printable ASCII as text, the rest as `\xNN`.
fn preview(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(16) {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// The `listDatabases` entries, skipping malformed ones.
fn database_entries(list: &RawArray) -> Vec<DbEntry> {
    let mut entries = Vec::new();
    for value in list {
        let Ok(value) = value else { break };
        let Some(doc) = value.as_document() else {
            continue;
        };
        let Some(name) = string(doc, "name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let system = SYSTEM_DATABASES.contains(&name.as_str());
        entries.push(DbEntry {
            name: clip(&name, 200),
            size: count(doc, "sizeOnDisk"),
            empty: boolean(doc, "empty"),
            system,
        });
    }
    entries
}

fn collection_names(doc: &RawDocument) -> Vec<String> {
    collection_names_bounded(doc).0
}

/// Collection names from `cursor.firstBatch`, sorted, at most [`MAX_COLLECTIONS`]; the
/// flag says whether more exist (a longer batch, or an open cursor).
fn collection_names_bounded(doc: &RawDocument) -> (Vec<String>, bool) {
    let Some(cursor) = document(doc, "cursor") else {
        return (Vec::new(), false);
    };
    let mut names = Vec::new();
    let mut more = integer(cursor, "id").is_some_and(|id| id != 0);
    if let Some(batch) = array(cursor, "firstBatch") {
        for value in batch {
            let Ok(value) = value else { break };
            let Some(name) = value.as_document().and_then(|d| string(d, "name")) else {
                continue;
            };
            if names.len() >= MAX_COLLECTIONS {
                more = true;
                break;
            }
            names.push(clip(&name, 200));
        }
    }
    names.sort();
    (names, more)
}

/// From a `listIndexes` reply: how many indexes, and the key field names of all of them
/// (without `_id` and the internal keys of text and wildcard indexes), in order, unique.
fn index_fields(doc: &RawDocument) -> (usize, Vec<String>) {
    let Some(batch) = document(doc, "cursor").and_then(|c| array(c, "firstBatch")) else {
        return (0, Vec::new());
    };
    let mut indexes = 0;
    let mut fields: Vec<String> = Vec::new();
    for value in batch {
        let Ok(value) = value else { break };
        let Some(spec) = value.as_document() else {
            continue;
        };
        indexes += 1;
        let Some(key) = document(spec, "key") else {
            continue;
        };
        for element in key.iter_elements() {
            let Ok(element) = element else { break };
            let field = element.key().as_str();
            let internal = field == "_id" || field.starts_with("_fts") || field.ends_with("$**");
            if internal || fields.len() >= MAX_INDEX_FIELDS || fields.iter().any(|f| f == field) {
                continue;
            }
            fields.push(clip(field, 120));
        }
    }
    (indexes, fields)
}

fn open_summary(inventory: &Inventory, total: usize) -> String {
    let user = inventory.items.iter().filter(|d| !d.system).count();
    let mut summary = format!("no credentials needed: listDatabases lists {total} databases");
    if user == 0 {
        summary.push_str(if total == 0 {
            " (none visible)"
        } else {
            " (system databases only)"
        });
    } else {
        let size: u64 = inventory
            .items
            .iter()
            .filter(|d| !d.system)
            .filter_map(|d| d.size_bytes)
            .sum();
        summary.push_str(&format!(", {user} with user data"));
        if size > 0 {
            summary.push_str(&format!(" ({} on disk)", crate::report::human::bytes(size)));
        }
    }
    let flagged: Vec<String> = inventory
        .items
        .iter()
        .filter(|d| !d.system)
        .flat_map(|d| {
            d.pii_fields
                .iter()
                .map(move |h| format!("{}.{}", d.name, h.field))
        })
        .collect();
    if !flagged.is_empty() {
        summary.push_str(&format!(
            "; collection names suggest personal data: {}",
            name_list(&flagged, 5)
        ));
    }
    summary
}

fn short_error(error: &CommandError) -> String {
    match (error.code, &error.code_name) {
        (Some(code), Some(name)) => format!("code {code} {}", clip(name, 40)),
        (Some(code), None) => format!("code {code}"),
        (None, _) => clip(error.errmsg.as_deref().unwrap_or("no code"), 80),
    }
}

fn name_list(names: &[String], max: usize) -> String {
    let mut list = names
        .iter()
        .take(max)
        .map(|n| clip(n, 60))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        list.push_str(&format!(", … ({} more)", names.len() - max));
    }
    list
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// Renders one of our own command documents the way the mongo shell shows it:
/// `{hello: 1, $db: "admin"}`.
fn render(doc: &Document) -> String {
    let fields: Vec<String> = doc
        .iter()
        .map(|(key, value)| format!("{key}: {}", render_value(value)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn render_value(value: &Bson) -> String {
    match value {
        Bson::Int32(v) => v.to_string(),
        Bson::Int64(v) => v.to_string(),
        Bson::Boolean(v) => v.to_string(),
        Bson::String(v) => format!("{:?}", clip(v, 200)),
        Bson::Document(d) => render(d),
        other => other.to_string(),
    }
}

/// The top-level keys of a reply, for notes about replies we could not use.
fn keys_text(doc: &RawDocument) -> String {
    let mut keys = Vec::new();
    for element in doc.iter_elements().take(8) {
        let Ok(element) = element else { break };
        keys.push(clip(element.key().as_str(), 40));
    }
    keys.join(", ")
}

/// The first element named `key`, read without recursing; malformed bytes read as absent.
fn field<'a>(doc: &'a RawDocument, key: &str) -> Option<RawBsonRef<'a>> {
    for element in doc.iter_elements() {
        let element = element.ok()?;
        if element.key().as_str() == key {
            return element.value().ok();
        }
    }
    None
}

/// A numeric field of any BSON number type, as `f64`.
fn number(doc: &RawDocument, key: &str) -> Option<f64> {
    match field(doc, key)? {
        RawBsonRef::Double(v) if v.is_finite() => Some(v),
        RawBsonRef::Int32(v) => Some(f64::from(v)),
        RawBsonRef::Int64(v) => Some(v as f64),
        _ => None,
    }
}

/// `ok` and the like as the shell would print them: `1`, `0`, `0.5`, or `missing`.
fn number_text(doc: &RawDocument, key: &str) -> String {
    match number(doc, key) {
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => v.to_string(),
        None => "missing".into(),
    }
}

/// An integral numeric field: int32, int64, or a double with no fraction.
fn integer(doc: &RawDocument, key: &str) -> Option<i64> {
    match field(doc, key)? {
        RawBsonRef::Int32(v) => Some(i64::from(v)),
        RawBsonRef::Int64(v) => Some(v),
        RawBsonRef::Double(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => {
            Some(v as i64)
        }
        _ => None,
    }
}

/// A non-negative size or count of any numeric type (sizes are int64 on current servers
/// and double on old ones, MG-04); fractions are dropped.
fn count(doc: &RawDocument, key: &str) -> Option<u64> {
    match field(doc, key)? {
        RawBsonRef::Int32(v) => u64::try_from(v).ok(),
        RawBsonRef::Int64(v) => u64::try_from(v).ok(),
        RawBsonRef::Double(v) if (0.0..1.8e19).contains(&v) => Some(v as u64),
        _ => None,
    }
}

fn boolean(doc: &RawDocument, key: &str) -> Option<bool> {
    match field(doc, key)? {
        RawBsonRef::Boolean(v) => Some(v),
        _ => None,
    }
}

/// A string field; invalid UTF-8 is replaced rather than failing the whole reply.
fn string(doc: &RawDocument, key: &str) -> Option<String> {
    for element in doc.iter_elements() {
        let element = element.ok()?;
        if element.key().as_str() != key {
            continue;
        }
        if let Ok(RawBsonRef::String(text)) = element.value() {
            return Some(text.to_string());
        }
        return match element.value_utf8_lossy().ok()? {
            bson::RawBson::String(text) => Some(text),
            _ => None,
        };
    }
    None
}

fn document<'a>(doc: &'a RawDocument, key: &str) -> Option<&'a RawDocument> {
    field(doc, key)?.as_document()
}

fn array<'a>(doc: &'a RawDocument, key: &str) -> Option<&'a RawArray> {
    field(doc, key)?.as_array()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn reads_any_numeric_type_and_survives_bad_fields() {
        let d = raw(doc! {"a": 5_i32, "b": 6_i64, "c": 7.9, "d": -1, "e": f64::NAN, "f": "x"});
        assert_eq!(count(&d, "a"), Some(5));
        assert_eq!(count(&d, "b"), Some(6));
        assert_eq!(count(&d, "c"), Some(7));
        assert_eq!(count(&d, "d"), None);
        assert_eq!(count(&d, "e"), None);
        assert_eq!(count(&d, "f"), None);
        assert_eq!(integer(&d, "c"), None);
        // A string with invalid UTF-8 is read lossily instead of failing the reply.
        let mut bytes = raw(doc! {"name": "ab"}).into_bytes();
        let at = bytes.len() - 3;
        bytes[at] = 0xff;
        let bad = bson::RawDocumentBuf::from_bytes(bytes).expect("framing is fine");
        assert_eq!(string(&bad, "name").as_deref(), Some("a\u{fffd}"));
    }

    #[test]
    fn classifies_auth_errors_structurally() {
        let error = |code: Option<i64>, name: Option<&str>, msg: &str| CommandError {
            ok: "0".into(),
            code,
            code_name: name.map(str::to_string),
            errmsg: Some(msg.into()),
        };
        assert!(error(Some(13), None, "anything").is_auth());
        assert!(error(Some(18), None, "").is_auth());
        assert!(error(None, Some("Unauthorized"), "").is_auth());
        assert!(
            error(
                Some(8000),
                Some("AtlasError"),
                "(Unauthorized) not authorized on admin to execute command"
            )
            .is_auth()
        );
        assert!(
            error(
                Some(8000),
                Some("AtlasError"),
                "Command listDatabases requires authentication"
            )
            .is_auth()
        );
        assert!(
            !error(
                Some(13435),
                Some("NotPrimaryNoSecondaryOk"),
                "not master and slaveOk=false"
            )
            .is_auth()
        );
        assert!(
            !error(
                Some(8000),
                Some("AtlasError"),
                "Unallowed argument in listDatabases command: authorizedDatabases"
            )
            .is_auth()
        );
    }

    #[test]
    fn renders_commands_like_the_shell() {
        assert_eq!(
            render(&doc! {"hello": 1, "$db": "admin"}),
            "{hello: 1, $db: \"admin\"}"
        );
        assert_eq!(
            render(
                &doc! {"listCollections": 1, "nameOnly": true, "$readPreference": {"mode": "primaryPreferred"}}
            ),
            "{listCollections: 1, nameOnly: true, $readPreference: {mode: \"primaryPreferred\"}}"
        );
    }
}
