//! Cassandra / ScyllaDB / DSE probe tests. Debian packages none of them, so fake CQL
//! servers on loopback replay the frames each product sends, built byte for byte by the
//! helpers below from `native_protocol_v4.spec` and from each product's source for the
//! SUPPORTED map, authenticator names and error messages (`tests/fixtures/cassandra/
//! SOURCES.md` says which file of which release each fake follows). Every fake logs the
//! requests it receives, so the tests also check what was (and was not) sent.
//!
//! Like a real server, a fake answers a frame of a version it does not speak (an HTTP
//! request line, another probe's bytes) with a protocol error and closes: the scans run
//! the whole engine on a random port, every other probe first.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::cassandra;
use ajar::probe::trace::Trace;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::cli::{Run, json};
use crate::support::{self, BoxConn, FakeServer, serve};

// Frame builders (native_protocol_v4.spec sections 2, 3 and 4.2).

fn string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&u16::try_from(text.len()).expect("short").to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn int(out: &mut Vec<u8>, n: i32) {
    out.extend_from_slice(&n.to_be_bytes());
}

/// A response frame: version byte with the direction bit, no flags.
fn frame(version: u8, stream: [u8; 2], opcode: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | version, 0, stream[0], stream[1], opcode];
    int(&mut out, i32::try_from(body.len()).expect("length"));
    out.extend_from_slice(body);
    out
}

/// SUPPORTED: `[string multimap]`.
fn supported(options: &[(&str, Vec<String>)]) -> Vec<u8> {
    let mut out = u16::try_from(options.len())
        .expect("n")
        .to_be_bytes()
        .to_vec();
    for (key, values) in options {
        string(&mut out, key);
        out.extend_from_slice(&u16::try_from(values.len()).expect("n").to_be_bytes());
        for v in values {
            string(&mut out, v);
        }
    }
    out
}

/// ERROR: `[int code][string message]`, plus the `[int]` of protocol v4's extra fields
/// where the code carries none (the probe ignores what follows the message).
fn error(code: i32, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    int(&mut out, code);
    string(&mut out, message);
    out
}

/// RESULT Rows with a global table spec and text (varchar, 0x000D) columns, as
/// Cassandra and ScyllaDB return the schema tables.
fn rows(
    keyspace: &str,
    table: &str,
    columns: &[&str],
    values: &[Vec<&str>],
    more: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    int(&mut out, 0x0002);
    int(&mut out, 0x0001 | if more { 0x0002 } else { 0 });
    int(&mut out, i32::try_from(columns.len()).expect("n"));
    if more {
        int(&mut out, 8);
        out.extend_from_slice(&[0xAB; 8]);
    }
    string(&mut out, keyspace);
    string(&mut out, table);
    for c in columns {
        string(&mut out, c);
        out.extend_from_slice(&0x000Du16.to_be_bytes());
    }
    int(&mut out, i32::try_from(values.len()).expect("n"));
    for row in values {
        for v in row {
            int(&mut out, i32::try_from(v.len()).expect("n"));
            out.extend_from_slice(v.as_bytes());
        }
    }
    out
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

const OPTIONS: u8 = 0x05;
const STARTUP: u8 = 0x01;
const AUTH_RESPONSE: u8 = 0x0F;
const QUERY: u8 = 0x07;

/// How the fake lets clients in.
#[derive(Clone, Copy, Debug)]
enum Login {
    /// No authenticator: STARTUP is answered READY.
    Open,
    /// PasswordAuthenticator-like: AUTHENTICATE `class`; these credentials pass.
    Password(&'static str, &'static str, &'static str),
    /// DseAuthenticator: the mechanism name `PLAIN` first, then the credentials.
    DseSasl(&'static str, &'static str),
    /// ScyllaDB's TransitionalAuthenticator: any token logs in (as anonymous).
    Transitional,
}

/// One product and release, as its fake replays it.
#[derive(Clone)]
struct Product {
    /// Request versions it speaks; others get a protocol error and a hang-up.
    versions: &'static [u8],
    /// The response version byte and message of that protocol error, per version asked.
    refusal: fn(u8) -> (u8, String),
    supported: Vec<(&'static str, Vec<String>)>,
    login: Login,
    /// The authentication error message for bad credentials (code 0x0100).
    bad_login: &'static str,
    /// Whether `system_schema` exists (Cassandra 3.0+, ScyllaDB).
    system_schema: bool,
    keyspaces: Vec<&'static str>,
    tables: Vec<(&'static str, &'static str)>,
    release: &'static str,
    /// The product's own version: statement, column and value.
    own_version: Option<(&'static str, &'static str, &'static str)>,
}

/// Cassandra 4.0+ (ProtocolVersion.invalidVersionMessage): the highest supported version
/// answers a version it does not know.
fn cassandra_4_refusal(asked: u8) -> (u8, String) {
    (
        5,
        format!(
            "Invalid or unsupported protocol version ({asked}); supported versions are (3/v3, 4/v4, 5/v5, 6/v6-beta)"
        ),
    )
}

/// Cassandra 3.11, whose SUPPORTED versions are 3, 4 and 5-beta.
fn cassandra_3_refusal(asked: u8) -> (u8, String) {
    (
        4,
        format!(
            "Invalid or unsupported protocol version ({asked}); supported versions are (3/v3, 4/v4, 5/v5-beta)"
        ),
    )
}

/// Cassandra 2.1 (Frame.Decoder): protocol v3 at most.
fn cassandra_21_refusal(asked: u8) -> (u8, String) {
    (
        3,
        format!("Invalid or unsupported protocol version: {asked}"),
    )
}

/// ScyllaDB (transport/server.cc read_frame).
fn scylla_refusal(asked: u8) -> (u8, String) {
    (
        4,
        format!("Invalid or unsupported protocol version: {asked}"),
    )
}

/// DSE 6.8, which adds its own protocol versions 65 and 66.
fn dse_refusal(asked: u8) -> (u8, String) {
    (
        4,
        format!(
            "Invalid or unsupported protocol version ({asked}); supported versions are (3/v3, 4/v4, 5/v5-beta, 65/dse-v1, 66/dse-v2)"
        ),
    )
}

const CASSANDRA_KEYSPACES: [&str; 6] = [
    "system_auth",
    "system_schema",
    "ajar_shop",
    "system_distributed",
    "system",
    "system_traces",
];

fn cassandra_tables() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ajar_shop", "orders"),
        ("ajar_shop", "customers"),
        ("system", "local"),
        ("system", "peers"),
        ("system_auth", "roles"),
        ("system_schema", "keyspaces"),
        ("system_schema", "tables"),
    ]
}

/// Cassandra 3.11.17: OptionsMessage of 3.11 (CQL 3.4.4).
fn cassandra_3_11(login: Login) -> Product {
    Product {
        versions: &[3, 4],
        refusal: cassandra_3_refusal,
        supported: vec![
            ("PROTOCOL_VERSIONS", strings(&["3/v3", "4/v4", "5/v5-beta"])),
            ("COMPRESSION", strings(&["snappy", "lz4"])),
            ("CQL_VERSION", strings(&["3.4.4"])),
        ],
        login,
        bad_login: "Provided username cassandra and/or password are incorrect",
        system_schema: true,
        keyspaces: CASSANDRA_KEYSPACES.to_vec(),
        tables: cassandra_tables(),
        release: "3.11.17",
        own_version: None,
    }
}

/// Cassandra 4.1 and 5.0: CQL 3.4.6 and 3.4.7, protocol v5 final and v6 beta.
fn cassandra_4_plus(release: &'static str, cql: &str, login: Login) -> Product {
    Product {
        versions: &[3, 4, 5],
        refusal: cassandra_4_refusal,
        supported: vec![
            (
                "PROTOCOL_VERSIONS",
                strings(&["3/v3", "4/v4", "5/v5", "6/v6-beta"]),
            ),
            ("COMPRESSION", strings(&["snappy", "lz4"])),
            ("CQL_VERSION", strings(&[cql])),
        ],
        login,
        bad_login: "Provided username cassandra and/or password are incorrect",
        system_schema: true,
        keyspaces: {
            let mut k = CASSANDRA_KEYSPACES.to_vec();
            k.extend(["system_views", "system_virtual_schema"]);
            k
        },
        tables: cassandra_tables(),
        release,
        own_version: None,
    }
}

/// ScyllaDB 5.4.9: make_supported() of transport/server.cc at tag scylla-5.4.9.
fn scylla_5_4(login: Login) -> Product {
    Product {
        versions: &[3, 4],
        refusal: scylla_refusal,
        supported: vec![
            ("COMPRESSION", strings(&["lz4", "snappy"])),
            ("CQL_VERSION", strings(&["3.3.1"])),
            (
                "SCYLLA_LWT_ADD_METADATA_MARK",
                strings(&["LWT_OPTIMIZATION_META_BIT_MASK=2147483648"]),
            ),
            ("SCYLLA_NR_SHARDS", strings(&["2"])),
            (
                "SCYLLA_PARTITIONER",
                strings(&["org.apache.cassandra.dht.Murmur3Partitioner"]),
            ),
            ("SCYLLA_RATE_LIMIT_ERROR", strings(&["ERROR_CODE=61440"])),
            ("SCYLLA_SHARD", strings(&["0"])),
            (
                "SCYLLA_SHARDING_ALGORITHM",
                strings(&["biased-token-round-robin"]),
            ),
            ("SCYLLA_SHARDING_IGNORE_MSB", strings(&["12"])),
            ("SCYLLA_SHARD_AWARE_PORT", strings(&["19042"])),
        ],
        login,
        bad_login: "Username and/or password are incorrect",
        system_schema: true,
        keyspaces: vec![
            "system_auth",
            "system_schema",
            "system_distributed_everywhere",
            "ajar_shop",
            "system",
            "system_distributed",
            "system_traces",
        ],
        tables: cassandra_tables(),
        release: "3.0.8",
        own_version: Some((
            "SELECT version FROM system.versions WHERE key = 'local'",
            "version",
            "5.4.9-0.20240703.cf8e02a1a7c8",
        )),
    }
}

/// DSE 6.8.16: Cassandra 4.0.0.6816 underneath, protocol versions dse-v1 and dse-v2.
fn dse_6_8(login: Login) -> Product {
    Product {
        versions: &[3, 4, 65, 66],
        refusal: dse_refusal,
        supported: vec![
            (
                "PROTOCOL_VERSIONS",
                strings(&["3/v3", "4/v4", "5/v5-beta", "65/dse-v1", "66/dse-v2"]),
            ),
            ("COMPRESSION", strings(&["snappy", "lz4"])),
            ("CQL_VERSION", strings(&["3.4.5"])),
        ],
        login,
        bad_login: "Failed to login. Please re-try.",
        system_schema: true,
        keyspaces: vec![
            "system_auth",
            "dse_security",
            "system_schema",
            "ajar_shop",
            "dse_system",
            "system",
            "system_traces",
        ],
        tables: cassandra_tables(),
        release: "4.0.0.6816",
        own_version: Some((
            "SELECT dse_version FROM system.local",
            "dse_version",
            "6.8.16",
        )),
    }
}

/// Cassandra 2.1.22: protocol v3 at most, CQL 3.2.1, the `system.schema_*` tables.
fn cassandra_2_1() -> Product {
    Product {
        versions: &[1, 2, 3],
        refusal: cassandra_21_refusal,
        supported: vec![
            ("COMPRESSION", strings(&["snappy", "lz4"])),
            ("CQL_VERSION", strings(&["3.2.1"])),
        ],
        login: Login::Open,
        bad_login: "Username and/or password are incorrect",
        system_schema: false,
        keyspaces: vec!["system_auth", "ajar_shop", "system", "system_traces"],
        tables: vec![("ajar_shop", "orders"), ("system", "local")],
        release: "2.1.22",
        own_version: None,
    }
}

/// Every request a fake received, decoded: `OPTIONS v4`, `QUERY v4 SELECT ...`.
type Log = Arc<Mutex<Vec<String>>>;

async fn fake(product: Product) -> (FakeServer, Log) {
    fake_over(false, product).await
}

/// A fake behind TLS (client_encryption_options enabled, optional: false).
async fn fake_over(tls: bool, product: Product) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let product = Arc::new(product);
    let server = serve(tls, move |conn: BoxConn| {
        let (log, product) = (seen.clone(), product.clone());
        async move { session(conn, &product, &log).await }
    })
    .await;
    (server, log)
}

fn read_long_string(body: &[u8]) -> (String, &[u8]) {
    let n = usize::try_from(i32::from_be_bytes(body[..4].try_into().expect("len"))).expect("n");
    (
        String::from_utf8_lossy(&body[4..4 + n]).into_owned(),
        &body[4 + n..],
    )
}

async fn session(mut conn: BoxConn, p: &Product, log: &Log) {
    let mut authed = matches!(p.login, Login::Open);
    let mut dse_started = false;
    loop {
        let mut head = [0u8; 9];
        if conn.read_exact(&mut head).await.is_err() {
            return;
        }
        let (version, stream, opcode) = (head[0], [head[2], head[3]], head[4]);
        if !p.versions.contains(&version) {
            // What the server does with bytes it cannot read as its versions: a protocol
            // error, then it closes the connection.
            let (answer, message) = (p.refusal)(version);
            let reply = frame(answer, stream, 0x00, &error(0x000A, &message));
            log.lock()
                .expect("log")
                .push(format!("(version {version})"));
            let _ = conn.write_all(&reply).await;
            return;
        }
        let len = usize::try_from(u32::from_be_bytes(head[5..9].try_into().expect("len")))
            .expect("len")
            .min(1 << 16);
        let mut body = vec![0u8; len];
        if conn.read_exact(&mut body).await.is_err() {
            return;
        }
        let reply = |opcode: u8, body: &[u8]| frame(version, stream, opcode, body);
        let (entry, answer) = match opcode {
            OPTIONS => (
                format!("OPTIONS v{version}"),
                reply(0x06, &supported(&p.supported)),
            ),
            STARTUP => {
                let entry = format!(
                    "STARTUP v{version} {}",
                    String::from_utf8_lossy(&body[2..]).replace('\0', "")
                );
                let answer = match p.login {
                    Login::Open => reply(0x02, &[]),
                    Login::Password(class, ..) => {
                        let mut b = Vec::new();
                        string(&mut b, class);
                        reply(0x03, &b)
                    }
                    Login::DseSasl(..) => {
                        let mut b = Vec::new();
                        string(&mut b, "com.datastax.bdp.cassandra.auth.DseAuthenticator");
                        reply(0x03, &b)
                    }
                    Login::Transitional => {
                        let mut b = Vec::new();
                        string(&mut b, "com.scylladb.auth.TransitionalAuthenticator");
                        reply(0x03, &b)
                    }
                };
                (entry, answer)
            }
            AUTH_RESPONSE => {
                let token = &body[4..];
                let entry = format!(
                    "AUTH_RESPONSE v{version} {}",
                    String::from_utf8_lossy(token).replace('\0', "\\0")
                );
                let pair = |user: &str, pass: &str| format!("\0{user}\0{pass}").into_bytes();
                let mut null = Vec::new();
                int(&mut null, -1);
                let answer = match p.login {
                    Login::DseSasl(..) if !dse_started && token == b"PLAIN" => {
                        dse_started = true;
                        let mut b = Vec::new();
                        int(&mut b, 11);
                        b.extend_from_slice(b"PLAIN-START");
                        reply(0x0E, &b)
                    }
                    Login::Password(_, user, pass) if token == pair(user, pass) => {
                        authed = true;
                        reply(0x10, &null)
                    }
                    Login::DseSasl(user, pass) if dse_started && token == pair(user, pass) => {
                        authed = true;
                        reply(0x10, &null)
                    }
                    Login::Transitional => {
                        authed = true;
                        reply(0x10, &null)
                    }
                    _ => reply(0x00, &error(0x0100, p.bad_login)),
                };
                (entry, answer)
            }
            QUERY => {
                let (statement, rest) = read_long_string(&body);
                let consistency = u16::from_be_bytes([rest[0], rest[1]]);
                let flags = rest[2];
                let page = i32::from_be_bytes(rest[3..7].try_into().expect("page"));
                let entry = format!(
                    "QUERY v{version} {statement} [consistency {consistency}, flags {flags:#04x}, page {page}]"
                );
                let answer = if authed {
                    answer_query(p, &statement, usize::try_from(page).expect("page"), &reply)
                } else {
                    reply(
                        0x00,
                        &error(0x000A, "Unexpected message QUERY, expecting SASL_RESPONSE"),
                    )
                };
                (entry, answer)
            }
            other => (
                format!("opcode {other}"),
                reply(0x00, &error(0x000A, "unexpected")),
            ),
        };
        log.lock().expect("log").push(entry);
        if conn.write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// One page of rows, and whether more follow.
fn paged(mut values: Vec<Vec<&'static str>>, page: usize) -> (Vec<Vec<&'static str>>, bool) {
    let more = values.len() > page;
    values.truncate(page);
    (values, more)
}

fn answer_query(
    p: &Product,
    statement: &str,
    page: usize,
    reply: &dyn Fn(u8, &[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let paged = |values: Vec<Vec<&'static str>>| paged(values, page);
    let schema = |ks: &'static str| {
        if ks == "system_schema" && !p.system_schema {
            Err(reply(
                0x00,
                &error(0x2200, "Keyspace system_schema does not exist"),
            ))
        } else {
            Ok(ks)
        }
    };
    let result = match statement {
        "SELECT keyspace_name FROM system_schema.keyspaces"
        | "SELECT keyspace_name FROM system.schema_keyspaces" => {
            let (ks, table) = if statement.contains("system_schema") {
                ("system_schema", "keyspaces")
            } else {
                ("system", "schema_keyspaces")
            };
            schema(ks).map(|ks| {
                let (values, more) = paged(p.keyspaces.iter().map(|k| vec![*k]).collect());
                rows(ks, table, &["keyspace_name"], &values, more)
            })
        }
        "SELECT keyspace_name, table_name FROM system_schema.tables" => schema("system_schema")
            .map(|ks| {
                let (values, more) = paged(p.tables.iter().map(|(k, t)| vec![*k, *t]).collect());
                rows(
                    ks,
                    "tables",
                    &["keyspace_name", "table_name"],
                    &values,
                    more,
                )
            }),
        "SELECT keyspace_name, columnfamily_name FROM system.schema_columnfamilies" => {
            let (values, more) = paged(p.tables.iter().map(|(k, t)| vec![*k, *t]).collect());
            Ok(rows(
                "system",
                "schema_columnfamilies",
                &["keyspace_name", "columnfamily_name"],
                &values,
                more,
            ))
        }
        "SELECT release_version FROM system.local" => Ok(rows(
            "system",
            "local",
            &["release_version"],
            &[vec![p.release]],
            false,
        )),
        other => match p.own_version {
            Some((own, column, value)) if own == other => {
                let table = if column == "version" {
                    "versions"
                } else {
                    "local"
                };
                Ok(rows("system", table, &[column], &[vec![value]], false))
            }
            _ => Err(reply(0x00, &error(0x2200, "Undefined column name"))),
        },
    };
    match result {
        Ok(body) => reply(0x08, &body),
        Err(frame) => frame,
    }
}

fn requests(log: &Log) -> Vec<String> {
    log.lock().expect("log").clone()
}

/// The requests the probe itself sent: the fake's log without what the engine's other
/// probes sent before it (each refused as a version the fake does not speak).
fn cql_requests(log: &Log) -> Vec<String> {
    requests(log)
        .into_iter()
        .filter(|r| !r.starts_with("(version"))
        .collect()
}

async fn scan(server: &FakeServer, default_credentials: bool) -> Finding {
    let cx = support::context(Duration::from_secs(2)).with_default_credentials(default_credentials);
    support::found(ajar::scan::probe_endpoint(&cx, &server.endpoint()).await)
}

fn detail<'a>(f: &'a Finding, key: &str) -> Option<&'a str> {
    f.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn items(f: &Finding) -> Vec<(&str, bool, Vec<&str>)> {
    f.inventory
        .as_ref()
        .expect("an inventory")
        .items
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.system,
                d.collections.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

fn evidence(f: &Finding) -> Vec<(&str, &str)> {
    f.evidence
        .iter()
        .map(|e| (e.request.as_str(), e.response.as_str()))
        .collect()
}

const Q_KEYSPACES: &str = "QUERY SELECT keyspace_name FROM system_schema.keyspaces";
const Q_TABLES: &str = "QUERY SELECT keyspace_name, table_name FROM system_schema.tables";
const Q_RELEASE: &str = "QUERY SELECT release_version FROM system.local";

fn sent_queries(version: u8, statements: &[&str]) -> Vec<String> {
    statements
        .iter()
        .map(|s| {
            // The listings ask for a page of 1000 rows, the version reads for one row.
            let page = if s.contains("keyspace_name") { 1000 } else { 1 };
            format!("QUERY v{version} {s} [consistency 1, flags 0x04, page {page}]")
        })
        .collect()
}

const PASSWORD: &str = "org.apache.cassandra.auth.PasswordAuthenticator";

#[tokio::test]
async fn cassandra_3_11_without_authenticator_is_open_with_keyspaces_and_tables() {
    let (server, log) = fake(cassandra_3_11(Login::Open)).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.service.as_str(), f.check.as_str(), f.exposure),
        ("cassandra", "cassandra-open", Exposure::Open)
    );
    assert_eq!(f.severity, Severity::High, "user keyspace with tables");
    assert_eq!(f.product.as_deref(), Some("Apache Cassandra"));
    assert_eq!(f.version.as_deref(), Some("3.11.17"));
    assert_eq!(detail(&f, "protocol_version"), Some("v4"));
    assert_eq!(detail(&f, "cql_version"), Some("3.4.4"));
    assert_eq!(
        detail(&f, "protocol_versions"),
        Some("3/v3, 4/v4, 5/v5-beta")
    );
    assert_eq!(detail(&f, "authenticator"), None);
    assert_eq!(
        f.summary,
        "no authenticator: 6 keyspaces listed without credentials, 1 of them user keyspaces, 7 tables in all"
    );
    assert_eq!(
        items(&f),
        [
            ("ajar_shop", false, vec!["orders", "customers"]),
            ("system", true, vec!["local", "peers"]),
            ("system_auth", true, vec!["roles"]),
            ("system_distributed", true, vec![]),
            ("system_schema", true, vec!["keyspaces", "tables"]),
            ("system_traces", true, vec![]),
        ]
    );
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!(
        (
            inventory.unit.as_str(),
            inventory.total_items,
            inventory.user_items,
            inventory.truncated
        ),
        ("keyspace", 6, 1, false)
    );
    assert_eq!(
        evidence(&f),
        [
            (
                "OPTIONS (protocol v4)",
                "SUPPORTED: PROTOCOL_VERSIONS [3/v3, 4/v4, 5/v5-beta], COMPRESSION [snappy, lz4], CQL_VERSION [3.4.4]"
            ),
            ("STARTUP {CQL_VERSION: 3.4.4}", "READY: no authenticator"),
            (
                Q_KEYSPACES,
                "Rows: 6 keyspaces: ajar_shop, system, system_auth, system_distributed, system_schema, system_traces"
            ),
            (Q_TABLES, "Rows: 7 tables"),
            (Q_RELEASE, "Rows: release_version 3.11.17"),
        ]
    );
    assert!(f.evidence.iter().all(|e| e.probe == "cql"));
    let mut want = vec![
        "OPTIONS v4".to_string(),
        "STARTUP v4 \u{b}CQL_VERSION\u{5}3.4.4".into(),
    ];
    want.extend(sent_queries(
        4,
        &[
            "SELECT keyspace_name FROM system_schema.keyspaces",
            "SELECT keyspace_name, table_name FROM system_schema.tables",
            "SELECT release_version FROM system.local",
        ],
    ));
    assert_eq!(cql_requests(&log), want, "read-only, names only, no login");
}

#[tokio::test]
async fn cassandra_4_1_password_authenticator_is_auth_required_and_a_plain_scan_sends_no_credentials()
 {
    let (server, log) = fake(cassandra_4_plus(
        "4.1.5",
        "3.4.6",
        Login::Password(PASSWORD, "cassandra", "cassandra"),
    ))
    .await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.service.as_str(), f.check.as_str(), f.exposure, f.severity),
        (
            "cassandra",
            "cassandra-auth-required",
            Exposure::AuthRequired,
            Severity::Info
        )
    );
    assert_eq!(f.product.as_deref(), Some("Apache Cassandra"));
    assert_eq!(f.version, None, "the release is only read once in");
    assert_eq!(detail(&f, "authenticator"), Some(PASSWORD));
    assert_eq!(detail(&f, "cql_version"), Some("3.4.6"));
    assert_eq!(
        f.summary,
        format!(
            "the server requires authentication with {PASSWORD} (--default-credentials tries the default superuser cassandra)"
        )
    );
    assert!(f.inventory.is_none());
    assert_eq!(
        evidence(&f)[1],
        (
            "STARTUP {CQL_VERSION: 3.4.6}",
            format!("AUTHENTICATE {PASSWORD}").as_str()
        )
    );
    assert_eq!(
        cql_requests(&log),
        ["OPTIONS v4", "STARTUP v4 \u{b}CQL_VERSION\u{5}3.4.6"],
        "nothing after AUTHENTICATE on a plain scan"
    );
}

#[tokio::test]
async fn cassandra_5_0_default_superuser_is_default_credentials_with_keyspaces() {
    let (server, log) = fake(cassandra_4_plus(
        "5.0.2",
        "3.4.7",
        Login::Password(PASSWORD, "cassandra", "cassandra"),
    ))
    .await;
    let f = scan(&server, true).await;
    assert_eq!(
        (f.service.as_str(), f.check.as_str(), f.exposure, f.severity),
        (
            "cassandra",
            "cassandra-default-credentials",
            Exposure::DefaultCredentials,
            Severity::High
        )
    );
    assert_eq!(f.version.as_deref(), Some("5.0.2"));
    assert_eq!(detail(&f, "user"), Some("cassandra"));
    assert_eq!(
        f.summary,
        "logged in as the default superuser cassandra with its default password: 8 keyspaces listed, 1 of them user keyspaces, 7 tables in all"
    );
    assert_eq!(
        items(&f)[0],
        ("ajar_shop", false, vec!["orders", "customers"])
    );
    assert_eq!(items(&f).len(), 8);
    let ev = evidence(&f);
    assert_eq!(
        ev[2],
        (
            "AUTH_RESPONSE SASL PLAIN user cassandra",
            "AUTH_SUCCESS: logged in"
        )
    );
    assert_eq!(ev[3].0, Q_KEYSPACES);
    let sent = cql_requests(&log);
    assert_eq!(
        sent[2], "AUTH_RESPONSE v4 \\0cassandra\\0cassandra",
        "SASL PLAIN token"
    );
    assert_eq!(sent.len(), 6, "{sent:?}");
}

#[tokio::test]
async fn a_changed_superuser_password_is_auth_required_on_error_0x0100() {
    let (server, log) = fake(cassandra_4_plus(
        "4.1.5",
        "3.4.6",
        Login::Password(PASSWORD, "cassandra", "s3cret"),
    ))
    .await;
    let f = scan(&server, true).await;
    assert_eq!(
        (f.check.as_str(), f.exposure),
        ("cassandra-auth-required", Exposure::AuthRequired)
    );
    assert_eq!(
        evidence(&f)[2],
        (
            "AUTH_RESPONSE SASL PLAIN user cassandra",
            "ERROR 0x0100: Provided username cassandra and/or password are incorrect"
        )
    );
    assert_eq!(
        f.summary,
        "the default superuser cassandra with its default password is refused (ERROR 0x0100: Provided username cassandra and/or password are incorrect)"
    );
    assert!(
        !cql_requests(&log).iter().any(|r| r.starts_with("QUERY")),
        "no query after a refusal"
    );
    assert!(f.inventory.is_none());
}

#[tokio::test]
async fn scylladb_is_its_own_service_with_its_own_version() {
    let (server, log) = fake(scylla_5_4(Login::Open)).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.service.as_str(), f.check.as_str(), f.exposure, f.severity),
        ("scylladb", "scylladb-open", Exposure::Open, Severity::High)
    );
    assert_eq!(f.product.as_deref(), Some("ScyllaDB"));
    assert_eq!(f.version.as_deref(), Some("5.4.9-0.20240703.cf8e02a1a7c8"));
    assert_eq!(detail(&f, "release_version"), Some("3.0.8"));
    assert_eq!(detail(&f, "cql_version"), Some("3.3.1"));
    assert_eq!(detail(&f, "scylla_nr_shards"), Some("2"));
    assert_eq!(detail(&f, "protocol_versions"), None);
    assert_eq!(
        evidence(&f)[0].1,
        "SUPPORTED: COMPRESSION [lz4, snappy], CQL_VERSION [3.3.1]; 8 SCYLLA_* options"
    );
    let system: Vec<bool> = items(&f).iter().map(|i| i.1).collect();
    assert_eq!(system, [false, true, true, true, true, true, true]);
    assert_eq!(
        evidence(&f).last().copied(),
        Some((
            "QUERY SELECT version FROM system.versions WHERE key = 'local'",
            "Rows: version 5.4.9-0.20240703.cf8e02a1a7c8"
        ))
    );
    assert_eq!(cql_requests(&log).len(), 6);
}

#[tokio::test]
async fn scylladb_transitional_authenticator_is_undetermined_then_admits_anyone() {
    let (server, log) = fake(scylla_5_4(Login::Transitional)).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.service.as_str(), f.check.as_str(), f.exposure, f.severity),
        (
            "scylladb",
            "scylladb-undetermined",
            Exposure::Undetermined,
            Severity::Low
        )
    );
    assert_eq!(
        detail(&f, "authenticator"),
        Some("com.scylladb.auth.TransitionalAuthenticator")
    );
    assert!(
        f.summary.contains("lets any other client in as anonymous"),
        "{}",
        f.summary
    );
    assert!(
        !requests(&log)
            .iter()
            .any(|r| r.starts_with("AUTH_RESPONSE"))
    );
    let f = scan(&server, true).await;
    assert_eq!(
        (f.check.as_str(), f.exposure),
        ("scylladb-default-credentials", Exposure::DefaultCredentials)
    );
    assert_eq!(f.version.as_deref(), Some("5.4.9-0.20240703.cf8e02a1a7c8"));
    assert_eq!(items(&f)[0].0, "ajar_shop");
}

#[tokio::test]
async fn dse_authenticator_is_cassandra_named_dse_and_takes_the_plain_mechanism_first() {
    let (server, log) = fake(dse_6_8(Login::DseSasl("cassandra", "cassandra"))).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.service.as_str(), f.check.as_str(), f.exposure),
        (
            "cassandra",
            "cassandra-auth-required",
            Exposure::AuthRequired
        )
    );
    assert_eq!(f.product.as_deref(), Some("DataStax Enterprise"));
    assert_eq!(
        detail(&f, "authenticator"),
        Some("com.datastax.bdp.cassandra.auth.DseAuthenticator")
    );
    assert_eq!(
        detail(&f, "protocol_versions"),
        Some("3/v3, 4/v4, 5/v5-beta, 65/dse-v1, 66/dse-v2")
    );
    let f = scan(&server, true).await;
    assert_eq!(
        (f.check.as_str(), f.exposure),
        (
            "cassandra-default-credentials",
            Exposure::DefaultCredentials
        )
    );
    assert_eq!(f.version.as_deref(), Some("6.8.16"));
    assert_eq!(detail(&f, "release_version"), Some("4.0.0.6816"));
    let ev = evidence(&f);
    assert_eq!(
        ev[2],
        (
            "AUTH_RESPONSE mechanism PLAIN",
            "AUTH_CHALLENGE PLAIN-START"
        )
    );
    assert_eq!(
        ev[3],
        (
            "AUTH_RESPONSE SASL PLAIN user cassandra",
            "AUTH_SUCCESS: logged in"
        )
    );
    let system: Vec<(&str, bool)> = items(&f).iter().map(|i| (i.0, i.1)).collect();
    assert_eq!(
        system,
        [
            ("ajar_shop", false),
            ("dse_security", true),
            ("dse_system", true),
            ("system", true),
            ("system_auth", true),
            ("system_schema", true),
            ("system_traces", true),
        ]
    );
    let sent = cql_requests(&log);
    assert!(
        sent.contains(&"AUTH_RESPONSE v4 PLAIN".to_string()),
        "{sent:?}"
    );
}

#[tokio::test]
async fn cassandra_2_1_refuses_v4_and_is_listed_over_v3_from_the_old_schema_tables() {
    let (server, log) = fake(cassandra_2_1()).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.check.as_str(), f.exposure, f.severity),
        ("cassandra-open", Exposure::Open, Severity::High)
    );
    assert_eq!(f.version.as_deref(), Some("2.1.22"));
    assert_eq!(detail(&f, "protocol_version"), Some("v3"));
    let ev = evidence(&f);
    assert_eq!(
        ev[..4],
        [
            (
                "OPTIONS (protocol v4)",
                "ERROR 0x000A: Invalid or unsupported protocol version: 4"
            ),
            (
                "OPTIONS (protocol v3)",
                "SUPPORTED: COMPRESSION [snappy, lz4], CQL_VERSION [3.2.1]"
            ),
            ("STARTUP {CQL_VERSION: 3.2.1}", "READY: no authenticator"),
            (
                "QUERY SELECT keyspace_name FROM system.schema_keyspaces",
                "Rows: 4 keyspaces: ajar_shop, system, system_auth, system_traces"
            ),
        ]
    );
    assert_eq!(
        ev[4],
        (
            "QUERY SELECT keyspace_name, columnfamily_name FROM system.schema_columnfamilies",
            "Rows: 2 tables"
        )
    );
    let sent = cql_requests(&log);
    assert_eq!(
        sent[0], "OPTIONS v3",
        "the v4 OPTIONS is refused as a version"
    );
    assert_eq!(
        sent[2],
        "QUERY v3 SELECT keyspace_name FROM system_schema.keyspaces [consistency 1, flags 0x04, page 1000]"
    );
    assert_eq!(
        sent[3],
        "QUERY v3 SELECT keyspace_name FROM system.schema_keyspaces [consistency 1, flags 0x04, page 1000]"
    );
}

/// ScyllaDB's PasswordAuthenticator keeps Cassandra's class name; SUPPORTED still names
/// ScyllaDB. DSE refuses a changed superuser password after the PLAIN start.
#[tokio::test]
async fn scylladb_and_dse_with_changed_passwords_are_auth_required() {
    let (server, log) = fake(scylla_5_4(Login::Password(PASSWORD, "cassandra", "x9"))).await;
    let f = scan(&server, true).await;
    assert_eq!(
        (f.check.as_str(), f.exposure, f.severity),
        (
            "scylladb-auth-required",
            Exposure::AuthRequired,
            Severity::Info
        )
    );
    assert_eq!(detail(&f, "authenticator"), Some(PASSWORD));
    assert_eq!(
        evidence(&f)[2].1,
        "ERROR 0x0100: Username and/or password are incorrect"
    );
    assert!(!cql_requests(&log).iter().any(|r| r.starts_with("QUERY")));
    let (server, _) = fake(dse_6_8(Login::DseSasl("cassandra", "x9"))).await;
    let f = scan(&server, true).await;
    assert_eq!(
        (f.check.as_str(), f.exposure, f.product.as_deref()),
        (
            "cassandra-auth-required",
            Exposure::AuthRequired,
            Some("DataStax Enterprise")
        )
    );
    assert_eq!(
        evidence(&f)[3],
        (
            "AUTH_RESPONSE SASL PLAIN user cassandra",
            "ERROR 0x0100: Failed to login. Please re-try."
        )
    );
}

/// READY without a listing in the shape a real server sends never makes `open`.
#[tokio::test]
async fn ready_with_an_odd_or_refused_listing_is_undetermined() {
    let mut odd = cassandra_3_11(Login::Open);
    odd.keyspaces = vec!["ajar_shop"];
    let (server, _) = fake(odd).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.check.as_str(), f.exposure, f.severity),
        (
            "cassandra-undetermined",
            Exposure::Undetermined,
            Severity::Low
        )
    );
    assert_eq!(
        f.summary,
        "STARTUP was answered READY (no authenticator), but the keyspaces were not listed: a Rows result of 1 rows that is not a keyspace listing with the system keyspace"
    );
    assert!(f.inventory.is_none());
    let mut no_schema = cassandra_2_1();
    no_schema.keyspaces = vec![];
    let (server, _) = fake(no_schema).await;
    let f = scan(&server, false).await;
    assert_eq!(f.exposure, Exposure::Undetermined);
    assert_eq!(
        f.version.as_deref(),
        Some("2.1.22"),
        "the version is still read"
    );
}

#[tokio::test]
async fn long_listings_are_paged_and_marked_truncated() {
    let mut many = cassandra_3_11(Login::Open);
    let names: Vec<&'static str> = (0..1200)
        .map(|i| &*Box::leak(format!("ks{i:04}").into_boxed_str()))
        .collect();
    many.keyspaces = vec!["system"];
    many.keyspaces.extend(names);
    let (server, _) = fake(many).await;
    let f = scan(&server, false).await;
    assert_eq!(f.exposure, Exposure::Open);
    let inventory = f.inventory.as_ref().expect("inventory");
    assert_eq!((inventory.total_items, inventory.truncated), (1000, true));
    assert!(
        evidence(&f)[2]
            .1
            .starts_with("Rows: 1000 keyspaces (more pages): ks0000, ks0001")
    );
}

fn context() -> ajar::probe::ProbeContext {
    support::context(Duration::from_secs(1))
}

#[tokio::test]
async fn an_http_server_is_not_cql_and_says_so_at_once() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 256];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
    })
    .await;
    let cx = context();
    let started = Instant::now();
    let mut trace = Trace::new("t");
    let outcome = cassandra::probe(&cx, &server.endpoint(), false, &mut trace).await;
    assert!(started.elapsed() < Duration::from_millis(500));
    match outcome {
        ProbeOutcome::NotThis {
            note,
            hint,
            speaks_protocol,
            ..
        } => {
            assert_eq!(note, "not CQL: not a CQL response frame: \"HTTP/1.1 \"");
            assert_eq!(hint, Some("http"));
            assert!(!speaks_protocol);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(trace.entries()[0].request, "OPTIONS (protocol v4)");
}

#[tokio::test]
async fn a_redis_is_not_cql_and_hints_redis() {
    // Redis answers the bytes of an OPTIONS frame with a RESP error line.
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"-ERR unknown command '\\x04', with args beginning with: \r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let cx = context();
    let started = Instant::now();
    let outcome = cassandra::probe(&cx, &server.endpoint(), false, &mut Trace::new("t")).await;
    assert!(started.elapsed() < Duration::from_millis(500));
    match outcome {
        ProbeOutcome::NotThis { hint, .. } => assert_eq!(hint, Some("redis")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_silent_port_is_silent_and_a_hang_up_asks_for_tls() {
    let silent = serve(false, |conn: BoxConn| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(conn);
    })
    .await;
    let cx = context();
    let started = Instant::now();
    let outcome = cassandra::probe(&cx, &silent.endpoint(), false, &mut Trace::new("t")).await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    assert!(started.elapsed() < Duration::from_millis(1500));
    let closing = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 16];
        let _ = conn.read(&mut buf).await;
    })
    .await;
    let outcome =
        cassandra::probe(&context(), &closing.endpoint(), false, &mut Trace::new("t")).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
}

#[tokio::test]
async fn oversized_frames_and_wrong_streams_are_never_open() {
    // A CQL header announcing a 16 MiB SUPPORTED: refused before allocating.
    let huge = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 9];
        let _ = conn.read_exact(&mut buf).await;
        let _ = conn.write_all(&[0x84, 0, 0, 1, 0x06, 0x01, 0, 0, 0]).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    let outcome = cassandra::probe(&context(), &huge.endpoint(), false, &mut Trace::new("t")).await;
    match outcome {
        ProbeOutcome::NotThis { note, .. } => {
            assert_eq!(
                note,
                "not CQL: a frame of 16777216 bytes, over the 262144 cap"
            );
        }
        other => panic!("{other:?}"),
    }
    // A well-formed SUPPORTED, but on stream 7 where the request went on stream 1.
    let elsewhere = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 9];
        let _ = conn.read_exact(&mut buf).await;
        let body = supported(&[("CQL_VERSION", strings(&["3.4.4"]))]);
        let _ = conn.write_all(&frame(4, [0, 7], 0x06, &body)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    let outcome = cassandra::probe(
        &context(),
        &elsewhere.endpoint(),
        false,
        &mut Trace::new("t"),
    )
    .await;
    match outcome {
        ProbeOutcome::NotThis { note, .. } => {
            assert_eq!(note, "not CQL: a response on stream 7, not the request's");
        }
        other => panic!("{other:?}"),
    }
}

/// A server that speaks neither v4 nor v3 (Cassandra 2.0: v1 and v2) is CQL, not judged.
#[tokio::test]
async fn a_server_refusing_v4_and_v3_is_undetermined() {
    let mut old = cassandra_2_1();
    old.versions = &[1, 2];
    old.refusal = |asked| {
        (
            2,
            format!("Invalid or unsupported protocol version: {asked}"),
        )
    };
    let (server, log) = fake(old).await;
    let f = scan(&server, false).await;
    assert_eq!(
        (f.check.as_str(), f.exposure),
        ("cassandra-undetermined", Exposure::Undetermined)
    );
    assert_eq!(detail(&f, "protocol_version"), Some("v3"));
    assert_eq!(
        f.summary,
        "a CQL server that speaks neither protocol v4 nor v3 (Cassandra before 2.1): ERROR 0x000A: Invalid or unsupported protocol version: 3"
    );
    assert_eq!(
        cql_requests(&log),
        Vec::<String>::new(),
        "nothing past OPTIONS"
    );
}

/// A TLS-only native port (9142): the plain attempt is dropped, the TLS retry lists.
#[tokio::test]
async fn a_tls_only_port_is_scanned_over_tls() {
    let (server, _) = fake_over(true, cassandra_4_plus("5.0.2", "3.4.7", Login::Open)).await;
    let f = scan(&server, false).await;
    assert!(f.tls);
    assert_eq!(
        (f.check.as_str(), f.exposure, f.version.as_deref()),
        ("cassandra-open", Exposure::Open, Some("5.0.2"))
    );
    assert_eq!(f.evidence[0].probe, "cql+tls");
}

/// Detection by protocol on any port, through the binary, as a bare `127.0.0.1:PORT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_finds_cassandra_on_a_random_port() {
    let (server, _) = fake(cassandra_4_plus("4.1.5", "3.4.6", Login::Open)).await;
    let addr = format!("127.0.0.1:{}", server.addr.port());
    let out = Run::new(&["scan", &addr, "-f", "json", "--timeout", "5s"])
        .output()
        .await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!("one finding expected: {report:#}");
    };
    assert_eq!(
        (
            &f["endpoint"],
            &f["service"],
            &f["exposure"],
            &f["check"],
            &f["version"]
        ),
        (
            &Value::from(addr.as_str()),
            &Value::from("cassandra"),
            &Value::from("open"),
            &Value::from("cassandra-open"),
            &Value::from("4.1.5")
        ),
        "{f:#}"
    );
    let names: Vec<&str> = f["inventory"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names[0], "ajar_shop", "{f:#}");
    assert_eq!(f["severity"], "high");
    assert!(
        f["remediation"]
            .as_str()
            .expect("remediation")
            .contains("PasswordAuthenticator")
    );
}

/// The probe's one outcome on a non-CQL endpoint through the engine: not a finding.
#[tokio::test]
async fn the_engine_does_not_report_cassandra_for_an_http_server() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 512];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
    })
    .await;
    let outcome = support::probe(&server.endpoint()).await;
    assert!(!matches!(outcome, Outcome::Found(_)), "{outcome:?}");
}
