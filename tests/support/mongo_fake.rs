//! A fake mongod / mongos that speaks the real wire protocol: it parses each request's
//! `MsgHeader`, OP_MSG kind-0 body or OP_QUERY fields with `bson`, and answers the way the
//! MongoDB version of its [`MongoProfile`] does. Everything it is asked is logged, so tests
//! can assert what ajar sent (and that it never read or wrote data).
//!
//! Sources for the shapes (see /work/shared/protocols.md section 4): framing MG-00;
//! `hello`/`isMaster` fields MG-02 (`mongodb/docs: source/reference/command/hello.txt`);
//! `buildInfo` MG-03; `listDatabases` MG-04 (`.../command/listDatabases.txt`); the
//! refusals MG-05; OP_QUERY on 5.1+ MG-06 (`mongodb/mongo: src/mongo/rpc/
//! check_allowed_op_query_cmd.cpp`); the HTTP notice MG-07; TLS-only MG-08.
//! Values (hashes, sizes, ids) are examples; the probe must never match on them.
//!
//! Replies no MongoDB version sends (malformed listings, hostile names, stalls after the
//! handshake) are [`Canned`] per command with [`MongoProfile::with_canned`]; each test
//! that uses one says what it stands for. [`start_recording`] also keeps every request
//! with the database and names it carried ([`Request`]), so tests can check what ajar
//! sent back.

use std::sync::{Arc, Mutex};

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BoxConn, FakeServer, serve};

/// What the fake was asked, in order: `OP_MSG listDatabases`, `OP_QUERY isMaster`,
/// `OP_MSG hello (ignored)`, `HTTP GET`.
pub type Log = Arc<Mutex<Vec<String>>>;

/// One request as the fake received it, with the names in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `OP_MSG` or `OP_QUERY`.
    pub op: &'static str,
    /// The command name (the first key).
    pub command: String,
    /// The database: OP_MSG `$db`, or the OP_QUERY namespace without `.$cmd`.
    pub db: String,
    /// The OP_QUERY `fullCollectionName` exactly as sent; `None` for OP_MSG.
    pub namespace: Option<String>,
    /// The command's value when it is a string: the collection of `listIndexes`.
    pub argument: Option<String>,
}

/// Every request a [`start_recording`] fake received, in order.
pub type Requests = Arc<Mutex<Vec<Request>>>;

/// An answer that replaces the profile's own for one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Canned {
    /// Answer with this document.
    Reply(Document),
    /// Never answer, and keep the connection open (a server that stalls).
    Silent,
    /// Close the connection without a reply (a server that dies or drops the client).
    Close,
}

/// Commands a read-only metadata probe may send. Anything else in a log is a test failure.
pub const READ_ONLY_COMMANDS: &[&str] = &[
    "hello",
    "isMaster",
    "ismaster",
    "buildInfo",
    "buildinfo",
    "listDatabases",
    "listCollections",
    "dbStats",
    "listIndexes",
];

/// How a version sizes `sizeOnDisk`/`totalSize` in `listDatabases`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeType {
    /// Up to 4.2: `b.append("sizeOnDisk", static_cast<double>(size))` and
    /// `result.append("totalSize", double(totalSize))` (`mongodb/mongo:
    /// src/mongo/db/commands/list_databases.cpp`, 4.2 branch).
    Double,
    /// Current servers (MG-04: "int64 on current servers"). The exact version of the switch
    /// is unverified; the fake uses it from 4.4.
    Int64,
}

/// How a version words the code-13 refusal (MG-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthText {
    /// ≤3.6: `not authorized on admin to execute command { listDatabases: 1, $db: "admin" }`,
    /// the received command printed by the server (3.6 capture in kbst/mongodb#15; ≤3.4
    /// inferred, without `$db` since OP_QUERY carries the database in the namespace).
    NotAuthorized,
    /// 4.0 to ~7.x: `command listDatabases requires authentication`.
    Lower,
    /// 8.x as observed: `Command listDatabases requires authentication`.
    Upper,
}

/// The server's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// A standalone mongod.
    Standalone,
    /// The primary of replica set `name`.
    Primary(String),
    /// A secondary of replica set `name`.
    Secondary(String),
    /// A mongos router (`msg: "isdbgrid"`).
    Mongos,
}

/// One database the fake holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeDb {
    /// Database name.
    pub name: String,
    /// `sizeOnDisk` in `listDatabases`.
    pub size_on_disk: i64,
    /// `objects` in `dbStats`.
    pub objects: i64,
    /// Collection names for `listCollections`.
    pub collections: Vec<String>,
    /// Secondary indexes, as (collection, key fields); every collection also has `_id_`.
    pub indexes: Vec<(String, Vec<String>)>,
}

impl FakeDb {
    /// A database with a size, a document count and collections.
    pub fn new(name: &str, size_on_disk: i64, objects: i64, collections: &[&str]) -> FakeDb {
        FakeDb {
            name: name.into(),
            size_on_disk,
            objects,
            collections: collections.iter().map(|c| c.to_string()).collect(),
            indexes: Vec::new(),
        }
    }

    /// Adds an index on `fields` to `collection`.
    pub fn with_index(mut self, collection: &str, fields: &[&str]) -> FakeDb {
        self.indexes.push((
            collection.into(),
            fields.iter().map(|f| f.to_string()).collect(),
        ));
        self
    }
}

/// Everything that decides how the fake answers.
#[derive(Debug, Clone)]
pub struct MongoProfile {
    /// `buildInfo.version`.
    pub version: &'static str,
    /// `maxWireVersion` (MG-02 table).
    pub max_wire: i32,
    /// Whether `hello` exists (3.6.21+, 4.0.21+, 4.2.10+, 4.4.2+, 5.0+; MG-01); without it
    /// the answer is code 59 `CommandNotFound`.
    pub hello: bool,
    /// Whether OP_MSG (2013) is understood (3.6+). Before, the fake drops the message
    /// without answering and keeps the connection, as a 3.4 mongod does.
    pub op_msg: bool,
    /// Whether OP_QUERY commands other than the handshake work; 5.1+ answers code 352.
    pub op_query_commands: bool,
    /// Access control on (`--auth`): data commands are refused with code 13.
    pub auth: bool,
    /// With auth on, answer `listDatabases` with `{databases: [], ok: 1}` instead of code 13
    /// (the behaviour services.md describes); `listCollections` is still refused.
    pub empty_list_under_auth: bool,
    /// The refusal wording of this version.
    pub auth_text: AuthText,
    /// `listDatabases` number types.
    pub sizes: SizeType,
    /// Role.
    pub topology: Topology,
    /// The databases.
    pub databases: Vec<FakeDb>,
    /// Overrides the `listDatabases` answer with this error (code, codeName, errmsg).
    pub list_databases_error: Option<(i32, &'static str, &'static str)>,
    /// Canned answers: (command, database or `None` for any, answer). The first match
    /// wins over everything else the profile would answer.
    pub canned: Vec<(String, Option<String>, Canned)>,
    /// Never answer an HTTP request: hold the connection open in silence, as a MongoDB
    /// behind a proxy that forwards only the wire protocol does.
    pub silent_to_http: bool,
}

impl MongoProfile {
    fn base(version: &'static str, max_wire: i32) -> MongoProfile {
        let mut profile = MongoProfile {
            version,
            max_wire,
            hello: true,
            op_msg: true,
            op_query_commands: true,
            auth: false,
            empty_list_under_auth: false,
            auth_text: AuthText::Lower,
            sizes: SizeType::Int64,
            topology: Topology::Standalone,
            databases: Vec::new(),
            list_databases_error: None,
            canned: Vec::new(),
            silent_to_http: false,
        };
        profile.databases = profile.system_databases();
        profile
    }

    /// MongoDB 3.4.24: wire 5, OP_QUERY only (OP_MSG arrived in 3.6), no `hello`, double
    /// sizes, no `config` database on a standalone, `maxWriteBatchSize` 1000 (MG-02).
    pub fn v3_4() -> MongoProfile {
        MongoProfile {
            hello: false,
            op_msg: false,
            auth_text: AuthText::NotAuthorized,
            sizes: SizeType::Double,
            ..MongoProfile::base("3.4.24", 5)
        }
    }

    /// MongoDB 3.6.8: wire 6, OP_MSG, no `hello` (added in 3.6.21), 3.6 refusal text.
    pub fn v3_6() -> MongoProfile {
        MongoProfile {
            hello: false,
            auth_text: AuthText::NotAuthorized,
            sizes: SizeType::Double,
            ..MongoProfile::base("3.6.8", 6)
        }
    }

    /// MongoDB 4.0.28: wire 7, `hello` (4.0.21+), double sizes.
    pub fn v4_0() -> MongoProfile {
        MongoProfile {
            sizes: SizeType::Double,
            ..MongoProfile::base("4.0.28", 7)
        }
    }

    /// MongoDB 4.2.0: wire 8, no `hello` (added in 4.2.10): code 59 then `isMaster`.
    pub fn v4_2_0() -> MongoProfile {
        MongoProfile {
            hello: false,
            sizes: SizeType::Double,
            ..MongoProfile::base("4.2.0", 8)
        }
    }

    /// MongoDB 4.4.29: wire 9, `hello`, `topologyVersion`.
    pub fn v4_4() -> MongoProfile {
        MongoProfile::base("4.4.29", 9)
    }

    /// MongoDB 5.0.28: wire 13; OP_QUERY commands deprecated but still answered.
    pub fn v5_0() -> MongoProfile {
        MongoProfile::base("5.0.28", 13)
    }

    /// MongoDB 6.0.19: wire 17; OP_QUERY refused for all but the handshake (MG-06).
    pub fn v6_0() -> MongoProfile {
        MongoProfile {
            op_query_commands: false,
            ..MongoProfile::base("6.0.19", 17)
        }
    }

    /// MongoDB 7.0.14: wire 21 (MG-02 example and MG-03 `buildInfo`).
    pub fn v7_0() -> MongoProfile {
        MongoProfile {
            op_query_commands: false,
            ..MongoProfile::base("7.0.14", 21)
        }
    }

    /// MongoDB 8.0.4: wire 25, capitalised refusal (`Command listDatabases requires
    /// authentication`, MG-05 "current (8.x as observed)").
    pub fn v8_0() -> MongoProfile {
        MongoProfile {
            op_query_commands: false,
            auth_text: AuthText::Upper,
            ..MongoProfile::base("8.0.4", 25)
        }
    }

    /// Turns access control on.
    /// Holds HTTP requests open in silence instead of sending the MG-07 notice.
    pub fn with_silence_to_http(mut self) -> MongoProfile {
        self.silent_to_http = true;
        self
    }

    pub fn with_auth(mut self) -> MongoProfile {
        self.auth = true;
        self
    }

    /// Adds user databases after the system ones.
    pub fn with_databases(mut self, databases: Vec<FakeDb>) -> MongoProfile {
        self.databases.extend(databases);
        self
    }

    /// Makes this a mongos: `msg: "isdbgrid"`, no `local` database (MG-02, MG-04).
    pub fn mongos(mut self) -> MongoProfile {
        self.topology = Topology::Mongos;
        self.databases = self.system_databases();
        self
    }

    /// Makes this a secondary of replica set `name` (MG-02 replica-set fields).
    pub fn secondary(mut self, name: &str) -> MongoProfile {
        self.topology = Topology::Secondary(name.into());
        self
    }

    /// Access control on, but `listDatabases` answers an empty list instead of code 13.
    pub fn with_empty_list_under_auth(mut self) -> MongoProfile {
        self.auth = true;
        self.empty_list_under_auth = true;
        self
    }

    /// Makes `listDatabases` fail with this error.
    pub fn with_list_databases_error(
        mut self,
        code: i32,
        code_name: &'static str,
        errmsg: &'static str,
    ) -> MongoProfile {
        self.list_databases_error = Some((code, code_name, errmsg));
        self
    }

    /// Answers `command` (on database `db`, or on any when `None`) with `canned` instead.
    pub fn with_canned(mut self, command: &str, db: Option<&str>, canned: Canned) -> MongoProfile {
        self.canned
            .push((command.into(), db.map(str::to_string), canned));
        self
    }

    fn canned_for(&self, command: &str, db: &str) -> Option<&Canned> {
        self.canned
            .iter()
            .find(|(c, d, _)| c == command && d.as_deref().is_none_or(|d| d == db))
            .map(|(_, _, canned)| canned)
    }

    /// The system databases this version and role list.
    fn system_databases(&self) -> Vec<FakeDb> {
        let mut dbs = vec![FakeDb::new("admin", 40_960, 1, &["system.version"])];
        if self.at_least(3, 6) {
            dbs.push(FakeDb::new("config", 36_864, 1, &["system.sessions"]));
        }
        if self.topology != Topology::Mongos {
            dbs.push(FakeDb::new("local", 73_728, 1, &["startup_log"]));
        }
        dbs
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self
            .version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        have >= (major, minor)
    }

    fn patch(&self) -> u32 {
        self.version
            .split('.')
            .nth(2)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    fn size(&self, value: i64) -> Bson {
        match self.sizes {
            SizeType::Double => Bson::Double(value as f64),
            SizeType::Int64 => Bson::Int64(value),
        }
    }

    fn set_name(&self) -> Option<&str> {
        match &self.topology {
            Topology::Primary(name) | Topology::Secondary(name) => Some(name),
            _ => None,
        }
    }
}

/// How a command arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    OpMsg,
    OpQuery { secondary_ok: bool },
}

/// Starts a fake over plain TCP.
pub async fn start(profile: MongoProfile) -> (FakeServer, Log) {
    start_on(false, profile).await
}

/// Starts a TLS-only fake with the shared test listener (`serve(true, ..)`): a plain-text
/// client gets whatever rustls sends when the first record is not TLS (an alert), then a
/// closed connection.
pub async fn start_tls(profile: MongoProfile) -> (FakeServer, Log) {
    start_on(true, profile).await
}

/// Starts a fake over plain TCP that also keeps every request with its names.
pub async fn start_recording(profile: MongoProfile) -> (FakeServer, Log, Requests) {
    let requests = Requests::default();
    let (server, log) = start_logged(false, profile, Some(requests.clone())).await;
    (server, log, requests)
}

async fn start_on(tls: bool, profile: MongoProfile) -> (FakeServer, Log) {
    // No request log here: the fleet example runs these for minutes.
    start_logged(tls, profile, None).await
}

async fn start_logged(
    tls: bool,
    profile: MongoProfile,
    requests: Option<Requests>,
) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let shared = Arc::new(profile);
    let handler_log = log.clone();
    let server = serve(tls, move |conn| {
        handle(shared.clone(), handler_log.clone(), requests.clone(), conn)
    })
    .await;
    (server, log)
}

/// Starts a TLS-only fake that behaves exactly as MG-08 describes a `requireTLS` mongod:
/// it reads the first byte, and if it does not start a TLS record it closes the socket
/// without a single byte of reply.
pub async fn start_tls_strict(profile: MongoProfile) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let acceptor = super::tls_acceptor();
    let profile = Arc::new(profile);
    let handler_log = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, profile, log) = (acceptor.clone(), profile.clone(), handler_log.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                // 0x16: a TLS handshake record (the ClientHello).
                if tcp.peek(&mut first).await.ok() != Some(1) || first[0] != 0x16 {
                    log.lock().expect("log").push("plain text refused".into());
                    return;
                }
                if let Ok(stream) = acceptor.accept(tcp).await {
                    handle(profile, log, None, Box::new(stream)).await;
                }
            });
        }
    });
    (FakeServer { addr }, log)
}

/// The log as a list.
pub fn entries(log: &Log) -> Vec<String> {
    log.lock().expect("log").clone()
}

/// The recorded requests as a list.
pub fn requests(requests: &Requests) -> Vec<Request> {
    requests.lock().expect("requests").clone()
}

fn record(requests: &Option<Requests>, request: Request) {
    if let Some(requests) = requests {
        requests.lock().expect("requests").push(request);
    }
}

/// Panics if the log holds anything but handshake and metadata commands.
pub fn assert_read_only(log: &Log) {
    for entry in entries(log) {
        let allowed = entry == "HTTP GET"
            || entry == "plain text refused"
            || entry
                .split_whitespace()
                .nth(1)
                .is_some_and(|name| READ_ONLY_COMMANDS.contains(&name));
        assert!(
            allowed,
            "the probe sent {entry:?}, which is not a read-only metadata command"
        );
    }
}

/// MG-07, as sent since 3.6.3 (85-byte body ending `\r\n`); 2.5.1-3.5.13 end in `\n` (84).
fn http_notice(profile: &MongoProfile) -> Vec<u8> {
    let body = if profile.at_least(3, 6) {
        "It looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n"
    } else {
        "It looks like you are trying to access MongoDB over HTTP on the native driver port.\n"
    };
    format!(
        "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn push(log: &Log, entry: String) {
    log.lock().expect("log").push(entry);
}

async fn handle(
    profile: Arc<MongoProfile>,
    log: Log,
    requests: Option<Requests>,
    mut conn: BoxConn,
) {
    let mut next_id: i32 = 500;
    loop {
        let mut header = [0u8; 16];
        if conn.read_exact(&mut header[..4]).await.is_err() {
            return;
        }
        // mongod looks at the first four bytes for "GET " (MG-07).
        if &header[..4] == b"GET " && profile.silent_to_http {
            push(&log, "HTTP GET (ignored)".into());
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            return;
        }
        if &header[..4] == b"GET " {
            push(&log, "HTTP GET".into());
            // Take in the rest of the request first: closing with unread bytes would make
            // the kernel reset the connection under the client's read.
            let mut rest = [0u8; 8192];
            let _ = conn.read(&mut rest).await;
            let _ = conn.write_all(&http_notice(&profile)).await;
            let _ = conn.shutdown().await;
            return;
        }
        if conn.read_exact(&mut header[4..]).await.is_err() {
            return;
        }
        let int = |at: usize| i32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
        let (length, request_id, op_code) = (int(0), int(4), int(12));
        if !(16..=48_000_000).contains(&length) {
            return;
        }
        let mut body = vec![0u8; length as usize - 16];
        if conn.read_exact(&mut body).await.is_err() {
            return;
        }
        next_id += 1;
        let reply = match op_code {
            2013 => {
                let Some(command) = op_msg_command(&body) else {
                    return;
                };
                let name = command_name(&command);
                if !profile.op_msg {
                    // A 3.4 mongod does not know opcode 2013: it logs and drops it.
                    push(&log, format!("OP_MSG {name} (ignored)"));
                    continue;
                }
                push(&log, format!("OP_MSG {name}"));
                let db = command.get_str("$db").unwrap_or("").to_string();
                record(
                    &requests,
                    Request {
                        op: "OP_MSG",
                        command: name.clone(),
                        db: db.clone(),
                        namespace: None,
                        argument: command.get_str(&name).ok().map(str::to_string),
                    },
                );
                let answer = match profile.canned_for(&name, &db) {
                    Some(Canned::Reply(answer)) => answer.clone(),
                    Some(Canned::Silent) => continue,
                    Some(Canned::Close) => return,
                    None => respond(&profile, &db, &command, Via::OpMsg),
                };
                op_msg_reply(next_id, request_id, &answer)
            }
            2004 => {
                let Some((flags, namespace, command)) = op_query(&body) else {
                    return;
                };
                let name = command_name(&command);
                let Some(db) = namespace.strip_suffix(".$cmd") else {
                    // A query on a collection reads documents: never allowed.
                    push(&log, format!("OP_QUERY find-on-{namespace}"));
                    return;
                };
                push(&log, format!("OP_QUERY {name}"));
                record(
                    &requests,
                    Request {
                        op: "OP_QUERY",
                        command: name.clone(),
                        db: db.to_string(),
                        namespace: Some(namespace.clone()),
                        argument: command.get_str(&name).ok().map(str::to_string),
                    },
                );
                let via = Via::OpQuery {
                    secondary_ok: flags & 4 != 0,
                };
                let answer = if let Some(canned) = profile.canned_for(&name, db) {
                    match canned {
                        Canned::Reply(answer) => answer.clone(),
                        Canned::Silent => continue,
                        Canned::Close => return,
                    }
                } else if !profile.op_query_commands && !op_query_allowed(&name) {
                    // MG-06: 5.1+ answers every other OP_QUERY command with code 352.
                    error(
                        352,
                        "UnsupportedOpQueryCommand",
                        &format!(
                            "Unsupported OP_QUERY command: {name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal"
                        ),
                    )
                } else {
                    respond(&profile, db, &command, via)
                };
                op_reply(next_id, request_id, &answer)
            }
            other => {
                push(&log, format!("opcode {other}"));
                return;
            }
        };
        if conn.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// The handshake commands 5.1+ still takes over OP_QUERY (MG-06).
fn op_query_allowed(name: &str) -> bool {
    [
        "hello",
        "isMaster",
        "ismaster",
        "_isSelf",
        "authenticate",
        "buildinfo",
        "buildInfo",
        "saslStart",
        "saslContinue",
    ]
    .contains(&name)
}

fn command_name(command: &Document) -> String {
    command.keys().next().cloned().unwrap_or_default()
}

/// OP_MSG body: `flagBits`, then the kind-0 section (the only kind the probe sends).
fn op_msg_command(body: &[u8]) -> Option<Document> {
    let flags = u32::from_le_bytes(body.get(0..4)?.try_into().ok()?);
    if flags & 1 != 0 || *body.get(4)? != 0 {
        return None;
    }
    Document::from_reader(body.get(5..)?).ok()
}

/// OP_QUERY body: flags, `fullCollectionName`, `numberToSkip`, `numberToReturn`, query.
fn op_query(body: &[u8]) -> Option<(i32, String, Document)> {
    let flags = i32::from_le_bytes(body.get(0..4)?.try_into().ok()?);
    let rest = body.get(4..)?;
    let nul = rest.iter().position(|b| *b == 0)?;
    let namespace = String::from_utf8(rest[..nul].to_vec()).ok()?;
    let query = rest.get(nul + 1 + 8..)?;
    Some((flags, namespace, Document::from_reader(query).ok()?))
}

fn header(length: usize, request_id: i32, response_to: i32, op_code: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(length);
    for field in [length as i32, request_id, response_to, op_code] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out
}

fn op_msg_reply(request_id: i32, response_to: i32, answer: &Document) -> Vec<u8> {
    let doc = answer.to_vec().expect("encode reply");
    let mut out = header(16 + 5 + doc.len(), request_id, response_to, 2013);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&doc);
    out
}

/// OP_REPLY: `responseFlags` 0 (command errors are `ok: 0` documents, not
/// `QueryFailure`), cursor 0, `startingFrom` 0, one document.
fn op_reply(request_id: i32, response_to: i32, answer: &Document) -> Vec<u8> {
    let doc = answer.to_vec().expect("encode reply");
    let mut out = header(16 + 20 + doc.len(), request_id, response_to, 1);
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0i64.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&1i32.to_le_bytes());
    out.extend_from_slice(&doc);
    out
}

fn error(code: i32, code_name: &str, errmsg: &str) -> Document {
    doc! {"ok": 0.0, "errmsg": errmsg, "code": code, "codeName": code_name}
}

/// The server's own rendering of a command object in messages: `{ listDatabases: 1 }`.
fn server_render(command: &Document) -> String {
    let fields: Vec<String> = command
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Bson::Double(v) if v.fract() == 0.0 => format!("{v:.1}"),
                Bson::String(s) => format!("\"{s}\""),
                Bson::Document(d) => server_render(d),
                other => other.to_string(),
            };
            format!("{key}: {value}")
        })
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

fn unauthorized(profile: &MongoProfile, db: &str, command: &Document) -> Document {
    let name = command_name(command);
    let errmsg = match profile.auth_text {
        AuthText::NotAuthorized => format!(
            "not authorized on {db} to execute command {}",
            server_render(command)
        ),
        AuthText::Lower => format!("command {name} requires authentication"),
        AuthText::Upper => format!("Command {name} requires authentication"),
    };
    error(13, "Unauthorized", &errmsg)
}

/// Answers one command as the profile's version would.
fn respond(profile: &MongoProfile, db: &str, command: &Document, via: Via) -> Document {
    let name = command_name(command);
    // listDatabases and listCollections are "opt-in" on secondaries
    // (`AllowedOnSecondary::kOptIn` in list_databases.cpp): without SecondaryOk or a
    // $readPreference other than primary, a secondary refuses them.
    let secondary_ok = match via {
        Via::OpQuery { secondary_ok } => secondary_ok,
        Via::OpMsg => command
            .get_document("$readPreference")
            .ok()
            .and_then(|rp| rp.get_str("mode").ok())
            .is_some_and(|mode| mode != "primary"),
    };
    let secondary = matches!(profile.topology, Topology::Secondary(_));
    let data_command = matches!(
        name.as_str(),
        "listDatabases" | "listCollections" | "dbStats" | "listIndexes"
    );
    if data_command && profile.auth && !(name == "listDatabases" && profile.empty_list_under_auth) {
        return unauthorized(profile, db, command);
    }
    if secondary && !secondary_ok && matches!(name.as_str(), "listDatabases" | "listCollections") {
        return error(
            13435,
            "NotPrimaryNoSecondaryOk",
            "not master and slaveOk=false",
        );
    }
    match name.as_str() {
        "hello" if !profile.hello => error(59, "CommandNotFound", "no such command: 'hello'"),
        "hello" => hello_reply(profile, false),
        "isMaster" | "ismaster" => hello_reply(profile, true),
        "buildInfo" | "buildinfo" => build_info(profile),
        "listDatabases" => {
            if let Some((code, code_name, errmsg)) = profile.list_databases_error {
                return error(code, code_name, errmsg);
            }
            if profile.auth {
                return doc! {"databases": [], "totalSize": profile.size(0), "ok": 1.0};
            }
            list_databases(profile)
        }
        "listCollections" => list_collections(profile, db, command),
        "dbStats" => db_stats(profile, db),
        "listIndexes" => list_indexes(profile, db, command),
        _ => error(59, "CommandNotFound", &format!("no such command: '{name}'")),
    }
}

/// MG-02: the handshake reply, field by field in the server's order.
fn hello_reply(profile: &MongoProfile, legacy: bool) -> Document {
    let writable = !matches!(profile.topology, Topology::Secondary(_));
    let mut d = Document::new();
    if let Some(set) = profile.set_name() {
        if profile.at_least(4, 4) {
            d.insert(
                "topologyVersion",
                doc! {"processId": ObjectId::new(), "counter": 6_i64},
            );
        }
        d.insert(
            "hosts",
            vec!["db-0.example.internal:27017", "db-1.example.internal:27017"],
        );
        d.insert("setName", set);
        d.insert("setVersion", 1);
    }
    d.insert(
        if legacy {
            "ismaster"
        } else {
            "isWritablePrimary"
        },
        writable,
    );
    if let Some(_set) = profile.set_name() {
        d.insert("secondary", !writable);
        d.insert("primary", "db-0.example.internal:27017");
        d.insert(
            "me",
            if writable {
                "db-0.example.internal:27017"
            } else {
                "db-1.example.internal:27017"
            },
        );
        if writable {
            d.insert("electionId", ObjectId::new());
        }
        d.insert(
            "lastWrite",
            doc! {
                "opTime": {"ts": bson::Timestamp { time: 1_714_521_600, increment: 1 }, "t": 3_i64},
                "lastWriteDate": DateTime::now(),
            },
        );
    }
    if profile.topology == Topology::Mongos {
        d.insert("msg", "isdbgrid");
    }
    if profile.at_least(4, 4) && profile.set_name().is_none() {
        d.insert(
            "topologyVersion",
            doc! {"processId": ObjectId::new(), "counter": 0_i64},
        );
    }
    d.insert("maxBsonObjectSize", 16_777_216);
    d.insert("maxMessageSizeBytes", 48_000_000);
    d.insert(
        "maxWriteBatchSize",
        if profile.at_least(3, 6) {
            100_000
        } else {
            1000
        },
    );
    d.insert("localTime", DateTime::now());
    if profile.at_least(3, 6) {
        d.insert("logicalSessionTimeoutMinutes", 30);
    }
    if profile.at_least(4, 2) {
        d.insert("connectionId", 12);
    }
    d.insert("minWireVersion", 0);
    d.insert("maxWireVersion", profile.max_wire);
    d.insert("readOnly", false);
    d.insert("ok", 1.0);
    d
}

/// MG-03.
fn build_info(profile: &MongoProfile) -> Document {
    let mut parts = profile
        .version
        .split('.')
        .map(|p| p.parse::<i32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    doc! {
        "version": profile.version,
        "gitVersion": "3f9a0b6a1b7d3c5e2f4a6b8c0d1e3f5a7b9c1d2e",
        "allocator": "tcmalloc",
        "javascriptEngine": "mozjs",
        "sysInfo": "deprecated",
        "versionArray": [major, minor, profile.patch() as i32, 0],
        "openssl": {"running": "OpenSSL 3.0.2 15 Mar 2022", "compiled": "OpenSSL 3.0.2 15 Mar 2022"},
        "buildEnvironment": {"distmod": "ubuntu2204", "distarch": "x86_64"},
        "bits": 64,
        "debug": false,
        "maxBsonObjectSize": 16_777_216,
        "storageEngines": ["devnull", "wiredTiger"],
        "modules": [],
        "ok": 1.0,
    }
}

/// MG-04.
fn list_databases(profile: &MongoProfile) -> Document {
    // Saturating, as mongod's own `totalSize` is a sum of int64s; tests use sizes near
    // `i64::MAX` and this fake must not panic first.
    let mut total: i64 = 0;
    let databases: Vec<Bson> = profile
        .databases
        .iter()
        .map(|db| {
            total = total.saturating_add(db.size_on_disk);
            let mut entry = doc! {
                "name": db.name.as_str(),
                "sizeOnDisk": profile.size(db.size_on_disk),
                "empty": db.size_on_disk == 0,
            };
            if profile.topology == Topology::Mongos {
                entry.insert("shards", doc! {"shard01": profile.size(db.size_on_disk)});
            }
            Bson::Document(entry)
        })
        .collect();
    let mut reply = doc! {"databases": databases, "totalSize": profile.size(total)};
    if profile.at_least(4, 4) {
        // "Current servers also send totalSizeMb" (MG-04); the first version is unverified.
        reply.insert("totalSizeMb", total / (1024 * 1024));
    }
    reply.insert("ok", 1.0);
    reply
}

fn list_collections(profile: &MongoProfile, db: &str, command: &Document) -> Document {
    let name_only = command.get_bool("nameOnly").unwrap_or(false);
    let collections = profile
        .databases
        .iter()
        .find(|d| d.name == db)
        .map(|d| d.collections.clone())
        .unwrap_or_default();
    let batch: Vec<Bson> = collections
        .iter()
        .map(|name| {
            let mut entry = doc! {"name": name.as_str(), "type": "collection"};
            if !name_only {
                entry.insert("options", doc! {});
                entry.insert("info", doc! {"readOnly": false});
                entry.insert("idIndex", doc! {"v": 2, "key": {"_id": 1}, "name": "_id_"});
            }
            Bson::Document(entry)
        })
        .collect();
    doc! {
        "cursor": {"id": 0_i64, "ns": format!("{db}.$cmd.listCollections"), "firstBatch": batch},
        "ok": 1.0,
    }
}

/// `listIndexes`: the index specs in `cursor.firstBatch`; before 4.4 each spec also
/// carries its `ns`. A missing collection is code 26 `NamespaceNotFound`.
fn list_indexes(profile: &MongoProfile, db: &str, command: &Document) -> Document {
    let collection = command.get_str("listIndexes").unwrap_or("");
    let Some(found) = profile
        .databases
        .iter()
        .find(|d| d.name == db && d.collections.iter().any(|c| c == collection))
    else {
        return error(
            26,
            "NamespaceNotFound",
            &format!("ns does not exist: {db}.{collection}"),
        );
    };
    let ns = format!("{db}.{collection}");
    let spec = |key: Document, name: String| {
        let mut spec = doc! {"v": 2, "key": key, "name": name};
        if !profile.at_least(4, 4) {
            spec.insert("ns", ns.as_str());
        }
        Bson::Document(spec)
    };
    let mut batch = vec![spec(doc! {"_id": 1}, "_id_".into())];
    for (_, fields) in found.indexes.iter().filter(|(c, _)| c == collection) {
        let mut key = Document::new();
        for field in fields {
            key.insert(field.as_str(), 1);
        }
        let name = fields
            .iter()
            .map(|f| format!("{f}_1"))
            .collect::<Vec<_>>()
            .join("_");
        batch.push(spec(key, name));
    }
    doc! {
        "cursor": {"id": 0_i64, "ns": ns.as_str(), "firstBatch": batch},
        "ok": 1.0,
    }
}

fn db_stats(profile: &MongoProfile, db: &str) -> Document {
    let found = profile.databases.iter().find(|d| d.name == db);
    let (collections, objects, size) = found.map_or((0, 0, 0), |d| {
        (d.collections.len() as i32, d.objects, d.size_on_disk)
    });
    // Number types in dbStats vary by version; the fake uses int64 counts from 4.4 (unverified)
    // and doubles for sizes, and the probe accepts any numeric type.
    let objects = if profile.at_least(4, 4) {
        Bson::Int64(objects)
    } else {
        Bson::Int32(objects as i32)
    };
    doc! {
        "db": db,
        "collections": collections,
        "views": 0,
        "objects": objects,
        "avgObjSize": 120.5,
        "dataSize": (size / 2) as f64,
        "storageSize": size as f64,
        "indexes": collections,
        "indexSize": 4096.0,
        "scaleFactor": 1,
        "fsUsedSize": 1.0e10,
        "fsTotalSize": 5.0e10,
        "ok": 1.0,
    }
}
