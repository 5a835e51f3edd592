//! MongoDB wire-protocol probe tests: the fake mongod/mongos of `support::mongo_fake`
//! replays each version's documented behaviour (protocols.md section 4) on loopback, and
//! hostile servers check that bad bytes cost neither memory nor time.
//!
//! Tests that go through `support::probe` run the whole per-endpoint engine on a random
//! port, so the HTTP probe speaks first and MongoDB's HTTP notice (MG-07) sends the engine
//! to the MongoDB probe: detection is by protocol, never by port.
//!
//! [`trust`] holds the regression tests of issue 5 ("Trustworthy before wider"): open only
//! on proof, totals that never wrap, names validated before they are sent back, and memory
//! bounded by the caps.

mod trust;

use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::ProbeOutcome;
use ajar::probe::mongodb::{self, wire};
use ajar::probe::registry::NATIVE;
use ajar::probe::trace::Trace;
use ajar::targets::{Endpoint, Protocol};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::mongo_fake::{self, FakeDb, Log, MongoProfile, assert_read_only, entries};
use crate::support::{self, FakeServer, hostile, serve};

/// Two user databases: `shop` (8 MiB, the larger) and `analytics` (2 MiB).
fn user_databases() -> Vec<FakeDb> {
    vec![
        FakeDb::new("analytics", 2_097_152, 50_000, &["events"]).with_index("events", &["ts"]),
        FakeDb::new("shop", 8_388_608, 1_200, &["products", "orders"])
            .with_index("orders", &["placedAt", "status"]),
    ]
}

/// The collections of `user_databases()`, as `listCollections` sorts them.
fn collections_of(db: &str) -> &'static [&'static str] {
    match db {
        "shop" => &["orders", "products"],
        "analytics" => &["events"],
        _ => &[],
    }
}

/// The value of a finding's detail.
fn detail<'a>(finding: &'a Finding, key: &str) -> Option<&'a str> {
    finding
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The response facts recorded for the request `request`.
fn response<'a>(finding: &'a Finding, request: &str) -> &'a str {
    finding
        .evidence
        .iter()
        .find(|e| e.request == request)
        .map(|e| e.response.as_str())
        .unwrap_or_else(|| panic!("no evidence for {request:?} in {:#?}", finding.evidence))
}

/// Inventory rows: (name, size, documents, system, collections).
type Row = (String, Option<u64>, Option<u64>, bool, Vec<String>);

fn rows(finding: &Finding) -> Vec<Row> {
    let inventory = finding.inventory.as_ref().expect("an inventory");
    inventory
        .items
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.size_bytes,
                d.documents,
                d.system,
                d.collections.clone(),
            )
        })
        .collect()
}

fn row(name: &str, size: u64, docs: Option<u64>, system: bool, collections: &[&str]) -> Row {
    (
        name.into(),
        Some(size),
        docs,
        system,
        collections.iter().map(|c| c.to_string()).collect(),
    )
}

/// The rows `user_databases()` gives, user data first and largest first.
fn user_rows() -> Vec<Row> {
    vec![
        row(
            "shop",
            8_388_608,
            Some(1_200),
            false,
            &["orders", "products"],
        ),
        row("analytics", 2_097_152, Some(50_000), false, &["events"]),
    ]
}

fn op_msg(command: &str) -> String {
    format!("OP_MSG {command}")
}

const HELLO: &str = "OP_MSG hello {hello: 1, $db: \"admin\"}";
const BUILD_INFO: &str = "OP_MSG buildInfo {buildInfo: 1, $db: \"admin\"}";
const LIST_DATABASES: &str = "OP_MSG listDatabases {listDatabases: 1, $db: \"admin\"}";

/// The OP_MSG detail requests for one database of `user_databases()` on a 4.0+ server:
/// dbStats, listCollections, then listIndexes per collection.
fn detail_requests(db: &str) -> Vec<String> {
    let mut all = vec![
        format!("OP_MSG dbStats {{dbStats: 1, $db: \"{db}\"}}"),
        format!(
            "OP_MSG listCollections {{listCollections: 1, nameOnly: true, authorizedCollections: true, $db: \"{db}\"}}"
        ),
    ];
    for collection in collections_of(db) {
        all.push(format!(
            "OP_MSG listIndexes {{listIndexes: \"{collection}\", $db: \"{db}\"}}"
        ));
    }
    all
}

/// Every request of an open 4.0+ standalone with `user_databases()`, after the handshake.
fn open_requests_after(handshake: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = handshake.iter().map(|s| s.to_string()).collect();
    all.push(BUILD_INFO.into());
    all.push(LIST_DATABASES.into());
    all.extend(detail_requests("shop"));
    all.extend(detail_requests("analytics"));
    all
}

/// Runs the whole engine and expects a finding.
async fn found(server: &FakeServer) -> Finding {
    support::found(support::probe(&server.endpoint()).await)
}

fn assert_log_has(log: &Log, entry: &str) {
    let all = entries(log);
    assert!(all.iter().any(|e| e == entry), "{entry:?} not in {all:?}");
}

fn assert_log_lacks(log: &Log, entry: &str) {
    let all = entries(log);
    assert!(!all.iter().any(|e| e == entry), "{entry:?} in {all:?}");
}

/// An endpoint only the MongoDB probe may try (a `mongodb://` target).
fn pinned(server: &FakeServer) -> Endpoint {
    Endpoint {
        protocol: Protocol::Only("mongodb"),
        ..server.endpoint()
    }
}

fn short_context() -> ajar::probe::ProbeContext {
    support::context(Duration::from_millis(400))
}

// ---- Versions ----------------------------------------------------------------------

/// 3.4 (wire 5) knows no OP_MSG: it drops the hello without a word, and the probe asks
/// again with OP_QUERY on a fresh connection, then stays on OP_QUERY.
#[tokio::test]
async fn mongodb_3_4_open_over_op_query() {
    let (server, log) =
        mongo_fake::start(MongoProfile::v3_4().with_databases(user_databases())).await;
    let finding = found(&server).await;
    assert_eq!(finding.service, "mongodb");
    assert_eq!(finding.product.as_deref(), Some("mongod"));
    assert_eq!(finding.version.as_deref(), Some("3.4.24"));
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert!(!finding.tls);
    assert_eq!(detail(&finding, "topology"), Some("standalone"));
    assert_eq!(detail(&finding, "max_wire_version"), Some("5"));
    assert_eq!(
        detail(&finding, "wire_protocol"),
        Some("OP_QUERY (server before 3.6)")
    );
    assert_eq!(
        support::requests(&finding),
        [
            HELLO,
            "OP_QUERY admin.$cmd {isMaster: 1}",
            "OP_QUERY admin.$cmd {buildInfo: 1}",
            "OP_QUERY admin.$cmd {listDatabases: 1}",
            "OP_QUERY shop.$cmd {dbStats: 1}",
            "OP_QUERY shop.$cmd {listCollections: 1}",
            "OP_QUERY shop.$cmd {listIndexes: \"orders\"}",
            "OP_QUERY shop.$cmd {listIndexes: \"products\"}",
            "OP_QUERY analytics.$cmd {dbStats: 1}",
            "OP_QUERY analytics.$cmd {listCollections: 1}",
            "OP_QUERY analytics.$cmd {listIndexes: \"events\"}",
        ]
    );
    assert_eq!(
        response(&finding, "OP_QUERY shop.$cmd {listIndexes: \"orders\"}"),
        "ok 1, 2 indexes, keys: placedAt, status"
    );
    assert_eq!(
        response(&finding, HELLO),
        "no reply within 1.0 s (servers before 3.6 ignore OP_MSG)"
    );
    assert_eq!(
        response(&finding, "OP_QUERY admin.$cmd {isMaster: 1}"),
        "OP_REPLY: ok 1, maxWireVersion 5, ismaster true"
    );
    assert_eq!(
        response(&finding, "OP_QUERY admin.$cmd {listDatabases: 1}"),
        "ok 1, 4 databases, totalSize 10600448"
    );
    let mut expected = user_rows();
    expected.push(row("local", 73_728, None, true, &[]));
    expected.push(row("admin", 40_960, None, true, &[]));
    assert_eq!(rows(&finding), expected);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!((inventory.total_items, inventory.user_items), (4, 2));
    assert_eq!(inventory.total_documents, Some(51_200));
    assert!(!inventory.truncated);
    assert_log_has(&log, "OP_MSG hello (ignored)");
    assert_log_has(&log, "OP_QUERY isMaster");
    assert_log_lacks(&log, "OP_MSG listDatabases");
    assert_read_only(&log);
}

/// 3.4 with `--auth`: code 13 with the pre-4.0 wording, over OP_QUERY.
#[tokio::test]
async fn mongodb_3_4_auth_required() {
    let (server, log) = mongo_fake::start(MongoProfile::v3_4().with_auth()).await;
    let finding = found(&server).await;
    assert_eq!(finding.version.as_deref(), Some("3.4.24"));
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Info)
    );
    assert!(finding.inventory.is_none());
    assert_eq!(
        response(&finding, "OP_QUERY admin.$cmd {listDatabases: 1}"),
        "ok 0, code 13 (Unauthorized): not authorized on admin to execute command { listDatabases: 1 }"
    );
    assert_eq!(
        finding.summary,
        "credentials required: listDatabases refused without them (code 13 Unauthorized)"
    );
    assert_read_only(&log);
}

/// A 3.4 replica-set secondary: OP_QUERY carries the `SecondaryOk` flag, without which
/// the fake, like mongod, refuses `listDatabases` with "not master and slaveOk=false".
#[tokio::test]
async fn mongodb_3_4_secondary_gets_secondary_ok_flag() {
    let (server, log) = mongo_fake::start(
        MongoProfile::v3_4()
            .secondary("rs0")
            .with_databases(user_databases()),
    )
    .await;
    let finding = found(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(
        detail(&finding, "topology"),
        Some("replica-set member (secondary)")
    );
    assert_eq!(
        response(
            &finding,
            "OP_QUERY admin.$cmd {listDatabases: 1} (secondaryOk)"
        ),
        "ok 1, 4 databases, totalSize 10600448"
    );
    assert_read_only(&log);
}

/// 3.6.8 (wire 6): OP_MSG but no `hello` yet (3.6.21), so code 59 then `isMaster`; sizes
/// are doubles.
#[tokio::test]
async fn mongodb_3_6_open() {
    let (server, log) =
        mongo_fake::start(MongoProfile::v3_6().with_databases(user_databases())).await;
    let finding = found(&server).await;
    assert_eq!(finding.version.as_deref(), Some("3.6.8"));
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(detail(&finding, "wire_protocol"), Some("OP_MSG"));
    assert_eq!(detail(&finding, "handshake"), Some("isMaster"));
    let is_master = op_msg("isMaster {isMaster: 1, $db: \"admin\"}");
    assert_eq!(
        response(&finding, HELLO),
        "OP_MSG reply: ok 0, code 59 (CommandNotFound): no such command: 'hello'"
    );
    assert_eq!(
        response(&finding, &is_master),
        "OP_MSG reply: ok 1, maxWireVersion 6, ismaster true"
    );
    // Before 4.0 listCollections has no nameOnly/authorizedCollections.
    assert_eq!(
        response(
            &finding,
            "OP_MSG listCollections {listCollections: 1, $db: \"shop\"}"
        ),
        "ok 1, 2 collections: orders, products"
    );
    let mut expected = user_rows();
    expected.push(row("local", 73_728, None, true, &[]));
    expected.push(row("admin", 40_960, None, true, &[]));
    expected.push(row("config", 36_864, None, true, &[]));
    assert_eq!(rows(&finding), expected);
    assert_log_lacks(&log, "OP_QUERY listDatabases");
    assert_read_only(&log);
}

/// 3.6 with `--auth`: the 3.6 wording includes `$db` (MG-05, kbst/mongodb#15).
#[tokio::test]
async fn mongodb_3_6_auth_required() {
    let (server, log) = mongo_fake::start(MongoProfile::v3_6().with_auth()).await;
    let finding = found(&server).await;
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.version.as_deref(), Some("3.6.8"));
    assert_eq!(
        response(&finding, LIST_DATABASES),
        "ok 0, code 13 (Unauthorized): not authorized on admin to execute command { listDatabases: 1, $db: \"admin\" }"
    );
    assert_read_only(&log);
}

/// 4.0.28 (wire 7): `hello` exists (4.0.21+), sizes are still doubles.
#[tokio::test]
async fn mongodb_4_0_open() {
    let (server, log) =
        mongo_fake::start(MongoProfile::v4_0().with_databases(user_databases())).await;
    let finding = found(&server).await;
    assert_eq!(finding.version.as_deref(), Some("4.0.28"));
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(detail(&finding, "max_wire_version"), Some("7"));
    assert_eq!(support::requests(&finding), open_requests_after(&[HELLO]));
    assert_eq!(
        response(&finding, HELLO),
        "OP_MSG reply: ok 1, maxWireVersion 7, isWritablePrimary true"
    );
    assert_eq!(
        response(&finding, &detail_requests("shop")[0]),
        "ok 1, objects 1200, collections 2, dataSize 4194304"
    );
    assert_eq!(rows(&finding)[..2], user_rows()[..]);
    assert_read_only(&log);
}

/// 4.2.0 predates `hello` (4.2.10): CommandNotFound, then `isMaster`, then a verdict.
#[tokio::test]
async fn mongodb_4_2_0_falls_back_to_is_master() {
    let (server, log) =
        mongo_fake::start(MongoProfile::v4_2_0().with_databases(user_databases())).await;
    let finding = found(&server).await;
    assert_eq!(finding.version.as_deref(), Some("4.2.0"));
    assert_eq!(finding.exposure, Exposure::Open);
    let is_master = op_msg("isMaster {isMaster: 1, $db: \"admin\"}");
    assert_eq!(
        support::requests(&finding),
        open_requests_after(&[HELLO, &is_master])
    );
    assert_eq!(
        response(&finding, HELLO),
        "OP_MSG reply: ok 0, code 59 (CommandNotFound): no such command: 'hello'"
    );
    assert_eq!(
        response(&finding, &is_master),
        "OP_MSG reply: ok 1, maxWireVersion 8, ismaster true"
    );
    assert_eq!(detail(&finding, "handshake"), Some("isMaster"));
    assert_log_has(&log, "OP_MSG isMaster");
    assert_read_only(&log);
}

/// 4.4 with `--auth`: "command listDatabases requires authentication".
#[tokio::test]
async fn mongodb_4_4_auth_required() {
    let (server, log) = mongo_fake::start(MongoProfile::v4_4().with_auth()).await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Info)
    );
    assert_eq!(finding.version.as_deref(), Some("4.4.29"));
    assert_eq!(
        support::requests(&finding),
        [HELLO, BUILD_INFO, LIST_DATABASES]
    );
    assert_eq!(response(&finding, BUILD_INFO), "ok 1, version \"4.4.29\"");
    assert_eq!(
        response(&finding, LIST_DATABASES),
        "ok 0, code 13 (Unauthorized): command listDatabases requires authentication"
    );
    assert_read_only(&log);
}

/// 5.0 (wire 13), int64 sizes.
#[tokio::test]
async fn mongodb_5_0_open() {
    let (server, log) =
        mongo_fake::start(MongoProfile::v5_0().with_databases(user_databases())).await;
    let finding = found(&server).await;
    assert_eq!(finding.version.as_deref(), Some("5.0.28"));
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(support::requests(&finding), open_requests_after(&[HELLO]));
    let mut expected = user_rows();
    expected.push(row("local", 73_728, None, true, &[]));
    expected.push(row("admin", 40_960, None, true, &[]));
    expected.push(row("config", 36_864, None, true, &[]));
    assert_eq!(rows(&finding), expected);
    assert_eq!(
        finding
            .inventory
            .as_ref()
            .expect("inventory")
            .total_size_bytes,
        Some(10_637_312)
    );
    assert_read_only(&log);
}

/// 6.0 refuses OP_QUERY `listDatabases` with code 352 (MG-06): the fake does too (checked
/// here by asking it directly), and the probe still gets an open verdict because it only
/// ever used OP_MSG.
#[tokio::test]
async fn mongodb_6_0_open_over_op_msg_only() {
    let (server, log) =
        mongo_fake::start(MongoProfile::v6_0().with_databases(user_databases())).await;
    let finding = found(&server).await;
    assert_eq!(finding.version.as_deref(), Some("6.0.19"));
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(support::requests(&finding), open_requests_after(&[HELLO]));
    assert_log_has(&log, "OP_MSG listDatabases");
    assert!(
        entries(&log).iter().all(|e| !e.starts_with("OP_QUERY")),
        "{:?}",
        entries(&log)
    );

    // What an OP_QUERY-only scanner (nmap, nuclei; MG-09) gets from the same server.
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let query = wire::encode_op_query(9, 0, "admin.$cmd", &bson::doc! {"listDatabases": 1})
        .expect("encode");
    tcp.write_all(&query).await.expect("send");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let reply = wire::read_reply(&mut tcp, 9, wire::OP_QUERY, 1 << 20, deadline, None)
        .await
        .expect("an OP_REPLY");
    assert_eq!(reply.op_code(), wire::OP_REPLY);
    assert_eq!(reply.document().get_i32("code").expect("code"), 352);
    assert_eq!(
        reply.document().get_str("codeName").expect("codeName"),
        "UnsupportedOpQueryCommand"
    );
    assert_read_only(&log);
}

/// 7.0 with `--auth`.
#[tokio::test]
async fn mongodb_7_0_auth_required() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_auth()).await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Info)
    );
    assert_eq!(finding.version.as_deref(), Some("7.0.14"));
    assert_eq!(finding.endpoint, server.endpoint().authority());
    assert_eq!(detail(&finding, "topology"), Some("standalone"));
    assert_eq!(detail(&finding, "max_wire_version"), Some("21"));
    assert_eq!(
        response(&finding, HELLO),
        "OP_MSG reply: ok 1, maxWireVersion 21, isWritablePrimary true"
    );
    assert_eq!(
        response(&finding, LIST_DATABASES),
        "ok 0, code 13 (Unauthorized): command listDatabases requires authentication"
    );
    assert!(finding.inventory.is_none());
    assert_read_only(&log);
}

/// 7.0 open with collections named like records about people: critical.
#[tokio::test]
async fn mongodb_7_0_open_with_personal_data_is_critical() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_databases(vec![
        FakeDb::new("crm", 16_777_216, 90_000, &["users", "customers", "invoices"])
            .with_index("invoices", &["billing.email", "issuedAt"])
            .with_index("users", &["lastLogin"]),
        FakeDb::new("cache", 4096, 0, &["entries"]).with_index("entries", &["expiresAt"]),
    ]))
    .await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::Critical)
    );
    let inventory = finding.inventory.as_ref().expect("inventory");
    let crm = &inventory.items[0];
    assert_eq!(crm.name, "crm");
    assert_eq!(crm.collections, ["customers", "invoices", "users"]);
    let flagged: Vec<(&str, &str)> = crm
        .pii_fields
        .iter()
        .map(|h| (h.field.as_str(), h.category.as_str()))
        .collect();
    assert_eq!(
        flagged,
        [
            ("customers", "people"),
            ("users", "people"),
            ("invoices.billing.email", "email")
        ]
    );
    assert!(inventory.items[1].pii_fields.is_empty());
    assert!(
        finding.summary.contains(
            "collection names suggest personal data: crm.customers, crm.users, crm.invoices.billing.email"
        ),
        "{}",
        finding.summary
    );
    // Collections not flagged by name get their indexes listed first.
    let index_requests: Vec<&str> = support::requests(&finding)
        .into_iter()
        .filter(|r| r.starts_with("OP_MSG listIndexes") && r.contains("crm"))
        .collect();
    assert_eq!(
        index_requests,
        [
            "OP_MSG listIndexes {listIndexes: \"invoices\", $db: \"crm\"}",
            "OP_MSG listIndexes {listIndexes: \"customers\", $db: \"crm\"}",
            "OP_MSG listIndexes {listIndexes: \"users\", $db: \"crm\"}",
        ]
    );
    assert_eq!(
        response(&finding, index_requests[0]),
        "ok 1, 2 indexes, keys: billing.email, issuedAt"
    );
    assert_eq!(
        response(&finding, &detail_requests("crm")[1]),
        "ok 1, 3 collections: customers, invoices, users"
    );
    assert_read_only(&log);
}

/// An open server with only system databases is medium: nothing of the user's is exposed.
#[tokio::test]
async fn mongodb_7_0_open_with_system_databases_only_is_medium() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0()).await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::Medium)
    );
    assert_eq!(
        finding.summary,
        "no credentials needed: listDatabases lists 3 databases (system databases only)"
    );
    // System databases are listed but not described.
    assert_eq!(
        support::requests(&finding),
        [HELLO, BUILD_INFO, LIST_DATABASES]
    );
    assert_read_only(&log);
}

/// 8.0 with `--auth`: the capitalised wording (MG-05), still decided on code 13.
#[tokio::test]
async fn mongodb_8_0_auth_required() {
    let (server, log) = mongo_fake::start(MongoProfile::v8_0().with_auth()).await;
    let finding = found(&server).await;
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_eq!(finding.version.as_deref(), Some("8.0.4"));
    assert_eq!(detail(&finding, "max_wire_version"), Some("25"));
    assert_eq!(
        response(&finding, LIST_DATABASES),
        "ok 0, code 13 (Unauthorized): Command listDatabases requires authentication"
    );
    assert_read_only(&log);
}

/// mongos: `msg: "isdbgrid"`, no `local`, `shards` in each listDatabases entry.
#[tokio::test]
async fn mongos_open() {
    let (server, log) = mongo_fake::start(
        MongoProfile::v7_0()
            .mongos()
            .with_databases(user_databases()),
    )
    .await;
    let finding = found(&server).await;
    assert_eq!(finding.product.as_deref(), Some("mongos"));
    assert_eq!(detail(&finding, "topology"), Some("mongos"));
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(
        response(&finding, HELLO),
        "OP_MSG reply: ok 1, maxWireVersion 21, isWritablePrimary true, msg \"isdbgrid\""
    );
    // No $readPreference for mongos: primary is the default there.
    assert_eq!(support::requests(&finding), open_requests_after(&[HELLO]));
    let mut expected = user_rows();
    expected.push(row("admin", 40_960, None, true, &[]));
    expected.push(row("config", 36_864, None, true, &[]));
    assert_eq!(rows(&finding), expected);
    assert_read_only(&log);
}

/// A replica-set secondary: every command after the handshake carries `primaryPreferred`,
/// as drivers do on a direct connection; without it the fake refuses `listDatabases`.
#[tokio::test]
async fn replica_set_secondary_open() {
    let (server, log) = mongo_fake::start(
        MongoProfile::v7_0()
            .secondary("rs0")
            .with_databases(user_databases()),
    )
    .await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(finding.product.as_deref(), Some("mongod"));
    assert_eq!(
        detail(&finding, "topology"),
        Some("replica-set member (secondary)")
    );
    assert_eq!(detail(&finding, "replica_set"), Some("rs0"));
    assert_eq!(
        response(&finding, HELLO),
        "OP_MSG reply: ok 1, maxWireVersion 21, isWritablePrimary false, secondary true, setName \"rs0\""
    );
    let list = "OP_MSG listDatabases {listDatabases: 1, $db: \"admin\", $readPreference: {mode: \"primaryPreferred\"}}";
    assert_eq!(
        response(&finding, list),
        "ok 1, 5 databases, totalSize 10637312"
    );
    assert_eq!(rows(&finding)[..2], user_rows()[..]);
    assert_read_only(&log);
}

/// The caps of `Limits`: at most `max_items` databases kept (user data first, largest
/// first), at most `max_detailed` described, at most three collections' indexes listed per
/// database; the rest is counted and marked truncated.
#[tokio::test]
async fn inventory_respects_the_limits() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_databases(vec![
        FakeDb::new("big", 900_000, 10, &["a", "b", "c", "d", "e"]),
        FakeDb::new("medium", 500_000, 20, &["m"]),
        FakeDb::new("small", 100_000, 30, &["s"]),
        FakeDb::new("tiny", 10_000, 40, &["t"]),
    ]))
    .await;
    let limits = ajar::probe::Limits {
        max_items: 3,
        max_detailed: 1,
        ..ajar::probe::Limits::default()
    };
    let cx =
        ajar::probe::ProbeContext::new(Duration::from_secs(2), false, limits).expect("context");
    let mut trace = Trace::new("test");
    let outcome = mongodb::probe(&cx, &server.endpoint(), false, &mut trace).await;
    let ProbeOutcome::Found(mut finding) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    let inventory = finding.inventory.as_ref().expect("inventory");
    let names: Vec<&str> = inventory.items.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["big", "medium", "small"]);
    assert_eq!((inventory.total_items, inventory.truncated), (7, true));
    let documents: Vec<Option<u64>> = inventory.items.iter().map(|d| d.documents).collect();
    assert_eq!(documents, [Some(10), None, None]);
    assert_eq!(inventory.items[0].collections, ["a", "b", "c", "d", "e"]);
    finding.evidence = trace.split_off(0);
    let sent: Vec<&str> = support::requests(&finding)
        .into_iter()
        .filter(|r| r.contains("$db: \"big\"") || r.contains("$db: \"medium\""))
        .collect();
    assert_eq!(
        sent,
        [
            "OP_MSG dbStats {dbStats: 1, $db: \"big\"}",
            "OP_MSG listCollections {listCollections: 1, nameOnly: true, authorizedCollections: true, $db: \"big\"}",
            "OP_MSG listIndexes {listIndexes: \"a\", $db: \"big\"}",
            "OP_MSG listIndexes {listIndexes: \"b\", $db: \"big\"}",
            "OP_MSG listIndexes {listIndexes: \"c\", $db: \"big\"}",
        ]
    );
    assert_read_only(&log);
}

// ---- TLS ---------------------------------------------------------------------------

/// A TLS-only 7.0 (MG-08) behind the shared TLS listener, which answers plain text with a
/// TLS alert: the plain attempts fail, the TLS retry finds it, and it wants credentials.
#[tokio::test]
async fn tls_only_7_0_found_over_tls() {
    let (server, log) = mongo_fake::start_tls(MongoProfile::v7_0().with_auth()).await;
    let finding = found(&server).await;
    assert!(finding.tls);
    assert_eq!(finding.version.as_deref(), Some("7.0.14"));
    assert_eq!(finding.exposure, Exposure::AuthRequired);
    assert_read_only(&log);

    // The MongoDB probe alone, in plain text: the alert means "retry over TLS".
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert!(
        matches!(&outcome, ProbeOutcome::WantsTls(note) if note.contains("TLS alert")),
        "{outcome:?}"
    );
}

/// A TLS-only mongod exactly as MG-08 has it: plain text gets a closed socket and not one
/// byte. A `mongodb://` target (MongoDB probe only) still ends up found over TLS.
#[tokio::test]
async fn tls_only_silent_close_retried_over_tls() {
    let (server, log) =
        mongo_fake::start_tls_strict(MongoProfile::v7_0().with_databases(user_databases())).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");

    let finding = support::found(support::probe(&pinned(&server)).await);
    assert!(finding.tls);
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(rows(&finding)[..2], user_rows()[..]);
    assert_log_has(&log, "plain text refused");
    assert_read_only(&log);
}

// ---- Verdict edge cases ------------------------------------------------------------

/// services.md: some servers with access control answer an unauthenticated
/// `listDatabases` with an empty list. `listCollections` on admin settles it.
#[tokio::test]
async fn empty_list_with_list_collections_refused_is_auth_required() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_empty_list_under_auth()).await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Info)
    );
    let confirm = "OP_MSG listCollections {listCollections: 1, nameOnly: true, $db: \"admin\"}";
    assert_eq!(
        support::requests(&finding),
        [HELLO, BUILD_INFO, LIST_DATABASES, confirm]
    );
    assert_eq!(
        response(&finding, LIST_DATABASES),
        "ok 1, 0 databases, totalSize 0"
    );
    assert_eq!(
        response(&finding, confirm),
        "ok 0, code 13 (Unauthorized): command listCollections requires authentication"
    );
    assert!(
        finding.summary.contains("empty list"),
        "{}",
        finding.summary
    );
    assert_read_only(&log);
}

/// A `listDatabases` error that is not about credentials leaves access unjudged. The
/// handshake proved MongoDB, so this is a finding (`undetermined`, with the version, the
/// topology and the evidence), not an error of the scan (issue 5; it was a `Failed`
/// outcome before). Code 11600 `InterruptedAtShutdown` is what a mongod shutting down
/// answers (mongodb/mongo: `src/mongo/base/error_codes.yml`).
#[tokio::test]
async fn other_list_databases_error_is_undetermined() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_list_databases_error(
        11600,
        "InterruptedAtShutdown",
        "interrupted at shutdown",
    ))
    .await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Undetermined, Severity::Low)
    );
    assert_eq!(finding.version.as_deref(), Some("7.0.14"));
    assert_eq!(detail(&finding, "topology"), Some("standalone"));
    assert_eq!(
        finding.summary,
        "access could not be judged: listDatabases failed (code 11600 InterruptedAtShutdown), which is not a refusal for lack of credentials"
    );
    assert_eq!(
        support::requests(&finding),
        [HELLO, BUILD_INFO, LIST_DATABASES]
    );
    assert_eq!(
        response(&finding, LIST_DATABASES),
        "ok 0, code 11600 (InterruptedAtShutdown): interrupted at shutdown"
    );
    assert!(finding.inventory.is_none());
    assert_read_only(&log);
}

/// Detection is by protocol: on a random port the HTTP probe goes first, gets MongoDB's
/// HTTP notice (MG-07), and hands over to the MongoDB probe.
#[tokio::test]
async fn found_on_a_non_default_port_through_the_http_notice() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_auth()).await;
    let port = server.addr.port();
    assert!(
        NATIVE
            .iter()
            .flat_map(|p| p.services.iter())
            .all(|s| !s.ports.contains(&port))
    );
    let finding = found(&server).await;
    assert_eq!(finding.service, "mongodb");
    let log = entries(&log);
    assert_eq!(log.first().map(String::as_str), Some("HTTP GET"), "{log:?}");
    assert_eq!(
        log.get(1).map(String::as_str),
        Some("OP_MSG hello"),
        "{log:?}"
    );
}

// ---- Parser fixture ----------------------------------------------------------------

/// protocols.md MG-05: the 4.x auth-required reply as OP_MSG (requestID 77, responseTo 2),
/// 133 bytes, byte for byte.
const MG05_REPLY: &str = "850000004d00000002000000dd070000000000000070000000016f6b000000000000000000026572726d7367002e000000636f6d6d616e64206c6973744461746162617365732072657175697265732061757468656e7469636174696f6e0010636f6465000d00000002636f64654e616d65000d000000556e617574686f72697a65640000";

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn parses_the_documented_auth_required_reply() {
    let bytes = from_hex(MG05_REPLY);
    assert_eq!(bytes.len(), 133);
    let reply = wire::decode_reply(&bytes, 2, wire::OP_MSG, 1 << 20).expect("a valid reply");
    assert_eq!(
        (
            reply.header.length,
            reply.header.request_id,
            reply.header.response_to,
            reply.op_code()
        ),
        (133, 77, 2, wire::OP_MSG)
    );
    assert_eq!(reply.flags, 0);
    let doc = reply.document();
    assert_eq!(doc.get_f64("ok").expect("ok"), 0.0);
    assert_eq!(
        doc.get_str("errmsg").expect("errmsg"),
        "command listDatabases requires authentication"
    );
    assert_eq!(doc.get_i32("code").expect("code"), 13);
    assert_eq!(doc.get_str("codeName").expect("codeName"), "Unauthorized");
    // The same bytes as a reply to another request, or under a smaller cap, are refused.
    assert!(wire::decode_reply(&bytes, 3, wire::OP_MSG, 1 << 20).is_err());
    assert!(wire::decode_reply(&bytes, 2, wire::OP_MSG, 132).is_err());
}

// ---- Hostile servers ---------------------------------------------------------------

/// A server that reads each request header and answers with `reply(request_id)`, then
/// keeps the connection open.
async fn answering(reply: fn(i32) -> Vec<u8>) -> FakeServer {
    serve(false, move |mut conn| async move {
        loop {
            let mut header = [0u8; 16];
            if conn.read_exact(&mut header).await.is_err() {
                return;
            }
            let length = i32::from_le_bytes(header[0..4].try_into().expect("4")) as usize;
            let request_id = i32::from_le_bytes(header[4..8].try_into().expect("4"));
            let mut body = vec![0u8; length.saturating_sub(16).min(1 << 20)];
            if conn.read_exact(&mut body).await.is_err() {
                return;
            }
            if conn.write_all(&reply(request_id)).await.is_err() {
                return;
            }
        }
    })
    .await
}

fn header(length: i32, response_to: i32) -> Vec<u8> {
    [length, 99, response_to, 2013]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect()
}

/// A header that claims about 2 GiB: refused on the header, before any body is awaited.
#[tokio::test]
async fn huge_length_header_is_refused_at_once() {
    let server = answering(|id| header(i32::MAX, id)).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    let ProbeOutcome::NotThis {
        note,
        hint,
        transport_confirmed,
        speaks_protocol,
    } = &outcome
    else {
        panic!("expected not-this, got {outcome:?}");
    };
    assert!(note.contains("message length 2147483647"), "{note}");
    assert_eq!(
        (*hint, *transport_confirmed, *speaks_protocol),
        (None, true, false)
    );
    // Negative lengths too.
    let server = answering(|id| header(i32::MIN, id)).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert!(
        matches!(&outcome, ProbeOutcome::NotThis { note, .. } if note.contains("message length -2147483648")),
        "{outcome:?}"
    );
    // Through the engine: not a MongoDB, and nothing else either.
    let outcome = support::probe(&pinned(&server)).await;
    assert!(matches!(outcome, Outcome::Unidentified(_)), "{outcome:?}");
}

/// A header within the handshake cap (64 KiB) whose body trickles in and stops: the
/// probe gives up at the step timeout, having allocated only what arrived.
#[tokio::test]
async fn body_that_stops_midway_is_refused() {
    let server = answering(|id| {
        let mut bytes = header(60_000, id);
        bytes.extend_from_slice(&[0u8; 100]);
        bytes
    })
    .await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert!(
        matches!(&outcome, ProbeOutcome::NotThis { note, .. }
            if note.contains("a 60000-byte message stopped after 116 bytes")),
        "{outcome:?}"
    );
}

/// Replies after the handshake with a document nested 200,000 levels deep (1.6 MB, under
/// the listing cap; handshake replies have a 64 KiB cap of their own): fields are read
/// without recursion, so the probe neither overflows its stack nor finds a database list.
#[tokio::test]
async fn deeply_nested_document_does_not_overflow() {
    fn deep_reply(id: i32) -> Vec<u8> {
        const DEPTH: usize = 200_000;
        if id == 1 {
            let hello = bson::doc! {"ok": 1.0, "maxWireVersion": 21, "isWritablePrimary": true}
                .to_vec()
                .expect("encode");
            let mut reply = header((16 + 5 + hello.len()) as i32, id);
            reply.extend_from_slice(&[0, 0, 0, 0, 0]);
            reply.extend_from_slice(&hello);
            return reply;
        }
        let prefix = bson::doc! {"ok": 1.0, "maxWireVersion": 21, "isWritablePrimary": true}
            .to_vec()
            .expect("encode");
        // {ok, maxWireVersion, isWritablePrimary, a: {a: {a: … {}}}}
        let fields = &prefix[4..prefix.len() - 1];
        let nested_len = 5 + 8 * DEPTH; // each level: int32, type, "a\0", terminator
        let doc_len = 4 + fields.len() + 3 + nested_len + 1;
        let mut doc = Vec::with_capacity(doc_len);
        doc.extend_from_slice(&(doc_len as i32).to_le_bytes());
        doc.extend_from_slice(fields);
        doc.extend_from_slice(&[0x03, b'a', 0]);
        for level in 0..DEPTH {
            let len = (5 + 8 * (DEPTH - level)) as i32;
            doc.extend_from_slice(&len.to_le_bytes());
            doc.extend_from_slice(&[0x03, b'a', 0]);
        }
        doc.extend_from_slice(&[5, 0, 0, 0, 0]);
        doc.extend(std::iter::repeat_n(0u8, DEPTH + 1));
        let mut reply = header((16 + 5 + doc.len()) as i32, id);
        reply.extend_from_slice(&[0, 0, 0, 0, 0]);
        reply.extend_from_slice(&doc);
        reply
    }
    let server = answering(deep_reply).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    // The handshake passes as MongoDB, but listDatabases has no list: access cannot be
    // judged, and the server is still a finding (it was a `Failed` outcome before issue 5).
    let ProbeOutcome::Found(finding) = &outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    assert_eq!(
        (
            finding.exposure,
            finding.severity,
            finding.version.as_deref()
        ),
        (Exposure::Undetermined, Severity::Low, None)
    );
    assert_eq!(
        finding.summary,
        "access could not be judged: listDatabases answered ok 1 without a databases array"
    );
}

/// A server that frames its replies correctly but answers no MongoDB handshake (a
/// look-alike): not MongoDB, yet it does speak the wire protocol, so the engine need not
/// try other protocols on the port.
#[tokio::test]
async fn framed_reply_without_handshake_fields_is_a_look_alike() {
    fn reply(id: i32) -> Vec<u8> {
        let doc = bson::doc! {"ok": 1.0, "greeting": "hello"}
            .to_vec()
            .expect("encode");
        let mut bytes = header((16 + 5 + doc.len()) as i32, id);
        bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&doc);
        bytes
    }
    let server = answering(reply).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    let ProbeOutcome::NotThis {
        note,
        speaks_protocol,
        transport_confirmed,
        ..
    } = &outcome
    else {
        panic!("expected not-this, got {outcome:?}");
    };
    assert!(
        note.contains("not a MongoDB handshake: {ok, greeting}"),
        "{note}"
    );
    assert!(*speaks_protocol && *transport_confirmed);
}

/// Random bytes (not HTTP, not TLS, not a sane length).
#[tokio::test]
async fn garbage_is_not_mongodb() {
    let server = hostile::garbage(300).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    let ProbeOutcome::NotThis {
        note,
        hint,
        transport_confirmed,
        ..
    } = &outcome
    else {
        panic!("expected not-this, got {outcome:?}");
    };
    assert!(note.starts_with("not MongoDB: message length"), "{note}");
    assert_eq!((*hint, *transport_confirmed), (None, true));
}

/// An HTTP server on the port: not MongoDB, and the HTTP probe is the one to ask.
#[tokio::test]
async fn http_answer_hints_the_http_probe() {
    let server = serve(false, |mut conn| async move {
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).await;
        let _ = conn
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        let _ = conn.shutdown().await;
    })
    .await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    let ProbeOutcome::NotThis { note, hint, .. } = &outcome else {
        panic!("expected not-this, got {outcome:?}");
    };
    assert_eq!(*hint, Some("http"));
    assert!(note.contains("\"HTTP/1.1 400 Bad"), "{note}");
}

/// A port that accepts and hangs up: that is how a TLS-only port answers plain text, so
/// the probe asks for TLS; over TLS the handshake then fails and nothing is found.
#[tokio::test]
async fn immediate_close_asks_for_tls_then_is_unidentified() {
    let server = hostile::immediate_close().await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        true,
        &mut Trace::new("test"),
    )
    .await;
    assert!(
        matches!(
            outcome,
            ProbeOutcome::NotThis {
                transport_confirmed: false,
                ..
            }
        ),
        "{outcome:?}"
    );
    let outcome = support::probe(&pinned(&server)).await;
    assert!(matches!(outcome, Outcome::Unidentified(_)), "{outcome:?}");
}

/// A port that accepts and never says a word: silent, within about one step timeout in
/// all (half for OP_MSG, the rest for OP_QUERY).
#[tokio::test]
async fn silent_server_is_silent() {
    let server = hostile::silent().await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert_eq!(outcome, ProbeOutcome::Silent);
    let outcome = support::probe(&pinned(&server)).await;
    assert_eq!(outcome, Outcome::Silent);
}

/// A closed port is closed.
#[tokio::test]
async fn closed_port_is_closed() {
    let port = hostile::closed_port().await;
    let endpoint = Endpoint::new(ajar::targets::Host::Ip([127, 0, 0, 1].into()), port);
    let outcome = mongodb::probe(&short_context(), &endpoint, false, &mut Trace::new("test")).await;
    assert_eq!(outcome, ProbeOutcome::Closed);
}

/// A handshake reply claiming 1 MiB: within the listing cap but over the 64 KiB a
/// `hello` answer may take, so it is refused on the header, with no read of its body.
#[tokio::test]
async fn oversized_handshake_reply_is_refused_on_the_header() {
    let server = answering(|id| header(1 << 20, id)).await;
    let outcome = mongodb::probe(
        &short_context(),
        &server.endpoint(),
        false,
        &mut Trace::new("test"),
    )
    .await;
    assert!(
        matches!(&outcome, ProbeOutcome::NotThis { note, .. } if note.contains("message length 1048576")),
        "{outcome:?}"
    );
}
