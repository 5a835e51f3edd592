//! Issue 5, "Trustworthy before wider": each test here failed on the probe before the fix
//! (commit 1aff411) unless it says otherwise.
//!
//! - `open` only on proof: an empty or malformed listing, or one the probe could not
//!   confirm, is `undetermined`, never `open`; and a MongoDB whose access could not be
//!   judged is a finding, not a failed endpoint.
//! - Totals from server sizes saturate and the summary quotes the inventory's totals.
//! - Names from the server are validated before they are sent back, over OP_QUERY and
//!   OP_MSG alike.
//! - A listing of many tiny entries keeps only the cap, counted and summed in full.
//!
//! Replies that no MongoDB version sends are [`Canned`]; each says what it stands for.

use std::time::Duration;

use ajar::finding::{Exposure, Finding, Severity};
use ajar::probe::mongodb;
use ajar::probe::trace::Trace;
use ajar::probe::{Limits, ProbeContext, ProbeOutcome};
use bson::{Bson, Document, doc};

use super::{BUILD_INFO, HELLO, LIST_DATABASES, detail, found, response, short_context};
use crate::support::mongo_fake::{
    self, Canned, FakeDb, MongoProfile, Request, assert_read_only, start_recording,
};
use crate::support::{self, FakeServer};

/// The OP_MSG `listCollections` on admin that confirms an empty list (4.0+).
const CONFIRM: &str = "OP_MSG listCollections {listCollections: 1, nameOnly: true, $db: \"admin\"}";

/// Runs the MongoDB probe alone with `cx`; returns its finding with the probe's evidence.
async fn probe_alone(cx: &ProbeContext, server: &FakeServer) -> Finding {
    let mut trace = Trace::new("test");
    let outcome = mongodb::probe(cx, &server.endpoint(), false, &mut trace).await;
    let ProbeOutcome::Found(mut finding) = outcome else {
        panic!("expected a finding, got {outcome:?}");
    };
    finding.evidence = trace.split_off(0);
    *finding
}

/// `{databases: [], totalSize: 0, ok: 1}`: MG-04's shape with nothing listed, which is
/// what some servers with access control answer an unauthenticated caller (services.md).
fn empty_listing() -> Canned {
    Canned::Reply(doc! {"databases": [], "totalSize": 0_i64, "totalSizeMb": 0_i64, "ok": 1.0})
}

// ---- Open only on proof --------------------------------------------------------------

/// The positive case (it passed before too, with a shorter summary): an empty list that
/// `listCollections` on admin confirms with `ok: 1` and a `cursor.firstBatch` array is
/// open (T-13: an empty list returned without auth is open). 7.0.14 (MG-02, MG-04).
#[tokio::test]
async fn empty_list_confirmed_by_list_collections_is_open() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_canned(
        "listDatabases",
        Some("admin"),
        empty_listing(),
    ))
    .await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::Medium)
    );
    assert_eq!(
        finding.summary,
        "no credentials needed: listDatabases lists 0 databases (none visible), and listCollections on admin answered"
    );
    assert_eq!(
        support::requests(&finding),
        [HELLO, BUILD_INFO, LIST_DATABASES, CONFIRM]
    );
    assert_eq!(response(&finding, CONFIRM), "ok 1, 1 collections");
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!((inventory.total_items, inventory.items.len()), (0, 0));
    assert_read_only(&log);
}

/// An empty list that `listCollections` on admin does not confirm, for any reason other
/// than a refusal for lack of credentials: undetermined, with the evidence and a summary
/// that says what could not be confirmed. Before, each of these was `open`.
#[tokio::test]
async fn empty_list_not_confirmed_is_undetermined() {
    let cases: Vec<(Canned, &str, &str)> = vec![
        (
            // A mongod shutting down (code 11600, mongodb/mongo `error_codes.yml`).
            Canned::Reply(
                doc! {"ok": 0.0, "errmsg": "interrupted at shutdown", "code": 11600, "codeName": "InterruptedAtShutdown"},
            ),
            "ok 0, code 11600 (InterruptedAtShutdown): interrupted at shutdown",
            "failed (code 11600 InterruptedAtShutdown)",
        ),
        (
            // No MongoDB answers listCollections without a cursor.
            Canned::Reply(doc! {"ok": 1.0}),
            "ok 1 with no cursor document: {ok}",
            "answered ok 1 with no cursor document",
        ),
        (
            Canned::Reply(
                doc! {"cursor": {"id": 0_i64, "ns": "admin.$cmd.listCollections"}, "ok": 1.0},
            ),
            "ok 1 with a cursor without a firstBatch array: {cursor, ok}",
            "answered ok 1 with a cursor without a firstBatch array",
        ),
        (
            Canned::Silent,
            "no reply before the timeout",
            "got no answer (no reply before the timeout)",
        ),
        (
            Canned::Close,
            "connection closed without a reply",
            "got no answer (connection closed without a reply)",
        ),
    ];
    for (canned, facts, what) in cases {
        let (server, log) = mongo_fake::start(
            MongoProfile::v7_0()
                .with_canned("listDatabases", Some("admin"), empty_listing())
                .with_canned("listCollections", Some("admin"), canned),
        )
        .await;
        let finding = probe_alone(&short_context(), &server).await;
        assert_eq!(
            (finding.exposure, finding.severity),
            (Exposure::Undetermined, Severity::Low),
            "{what}"
        );
        assert_eq!(
            finding.summary,
            format!(
                "access could not be judged: listDatabases answered an empty list and listCollections on admin, which would confirm it, {what}"
            )
        );
        assert_eq!(
            support::requests(&finding),
            [HELLO, BUILD_INFO, LIST_DATABASES, CONFIRM]
        );
        assert_eq!(
            response(&finding, LIST_DATABASES),
            "ok 1, 0 databases, totalSize 0"
        );
        assert_eq!(response(&finding, CONFIRM), facts);
        assert_eq!(finding.version.as_deref(), Some("7.0.14"));
        assert!(finding.inventory.is_none());
        assert_read_only(&log);
    }
}

/// MongoDB 2.6 (wire version 2, mongodb/specifications `source/wireversion-featurelist.md`)
/// has no `listCollections` (new in 3.0, wire 3), so an empty list cannot be confirmed:
/// undetermined, and nothing more is sent. Like the 3.4 profile it predates OP_MSG and
/// `hello` (MG-00, MG-01). Before, this was `open`.
#[tokio::test]
async fn empty_list_before_3_0_is_undetermined() {
    let profile = MongoProfile {
        version: "2.6.12",
        max_wire: 2,
        ..MongoProfile::v3_4()
    }
    .with_canned("listDatabases", Some("admin"), empty_listing());
    let (server, log) = mongo_fake::start(profile).await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Undetermined, Severity::Low)
    );
    assert_eq!(
        finding.summary,
        "access could not be judged: listDatabases answered an empty list and listCollections on admin, which would confirm it, does not exist before MongoDB 3.0"
    );
    assert_eq!(
        support::requests(&finding),
        [
            HELLO,
            "OP_QUERY admin.$cmd {isMaster: 1}",
            "OP_QUERY admin.$cmd {buildInfo: 1}",
            "OP_QUERY admin.$cmd {listDatabases: 1}",
            "not sent: listCollections",
        ]
    );
    assert_eq!(
        response(&finding, "not sent: listCollections"),
        "listCollections exists from wire version 3 (3.0); this server has 2"
    );
    assert_eq!(finding.version.as_deref(), Some("2.6.12"));
    assert_read_only(&log);
}

/// `listDatabases` answering `ok: 1` with entries MongoDB never sends (MG-04: every entry
/// is a document with a string `name` and a numeric `sizeOnDisk`): the handshake proved
/// MongoDB, the listing is not one, so undetermined. Before, malformed entries were
/// skipped and the rest (or an empty list) was `open`.
#[tokio::test]
async fn malformed_listings_are_undetermined() {
    let shop =
        || Bson::Document(doc! {"name": "shop", "sizeOnDisk": 8_388_608_i64, "empty": false});
    let cases: Vec<(Vec<Bson>, &str)> = vec![
        (
            vec![Bson::String("admin".into()), Bson::String("shop".into())],
            "entry 1 is a string, not a document",
        ),
        (
            vec![shop(), Bson::Int32(7)],
            "entry 2 is an int32, not a document",
        ),
        (
            vec![shop(), Bson::Document(doc! {"sizeOnDisk": 4096_i64})],
            "entry 2 has no name",
        ),
        (
            vec![Bson::Document(doc! {"name": "", "sizeOnDisk": 4096_i64})],
            "entry 1 has an empty name",
        ),
        (
            vec![Bson::Document(doc! {"name": 42, "sizeOnDisk": 4096_i64})],
            "entry 1 has a name that is an int32",
        ),
        (
            vec![Bson::Document(doc! {"name": "shop", "sizeOnDisk": "8 MB"})],
            "entry 1 has a sizeOnDisk that is a string",
        ),
        (
            vec![
                shop(),
                Bson::Document(doc! {"name": "logs", "sizeOnDisk": -1_i64}),
            ],
            "entry 2 has a negative or non-finite sizeOnDisk",
        ),
    ];
    for (databases, why) in cases {
        let listing = doc! {"databases": databases, "totalSize": 8_388_608_i64, "ok": 1.0};
        let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_canned(
            "listDatabases",
            Some("admin"),
            Canned::Reply(listing),
        ))
        .await;
        let finding = found(&server).await;
        assert_eq!(
            (finding.exposure, finding.severity),
            (Exposure::Undetermined, Severity::Low),
            "{why}"
        );
        assert_eq!(
            finding.summary,
            format!(
                "access could not be judged: listDatabases answered ok 1 with a listing MongoDB never sends ({why})"
            )
        );
        assert_eq!(
            support::requests(&finding),
            [HELLO, BUILD_INFO, LIST_DATABASES]
        );
        assert_eq!(
            response(&finding, LIST_DATABASES),
            format!("ok 1, but {why}: not a listing MongoDB sends")
        );
        assert!(finding.inventory.is_none());
        assert_read_only(&log);
    }
}

/// `ok: 1` without a `databases` array (no MongoDB sends that; MG-04): a finding with the
/// version and topology, not an error. Before, it was a `Failed` outcome.
#[tokio::test]
async fn ok_without_databases_array_is_undetermined() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().secondary("rs0").with_canned(
        "listDatabases",
        None,
        Canned::Reply(doc! {"totalSize": 0_i64, "ok": 1.0}),
    ))
    .await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Undetermined, Severity::Low)
    );
    assert_eq!(
        finding.summary,
        "access could not be judged: listDatabases answered ok 1 without a databases array"
    );
    assert_eq!(finding.version.as_deref(), Some("7.0.14"));
    assert_eq!(
        detail(&finding, "topology"),
        Some("replica-set member (secondary)")
    );
    assert_eq!(detail(&finding, "replica_set"), Some("rs0"));
    let list = "OP_MSG listDatabases {listDatabases: 1, $db: \"admin\", $readPreference: {mode: \"primaryPreferred\"}}";
    assert_eq!(
        response(&finding, list),
        "ok 1 without a databases array: {totalSize, ok}"
    );
    assert_read_only(&log);
}

/// A connection that fails after a good handshake (the server dies, drops the client or
/// stalls): MongoDB identified, access not judged, so an undetermined finding that keeps
/// what the handshake said. Before, each was a `Failed` outcome.
#[tokio::test]
async fn connection_lost_after_handshake_is_undetermined() {
    let cases: Vec<(&str, Canned, Option<&str>, &str)> = vec![
        (
            "buildInfo",
            Canned::Close,
            None,
            "access could not be judged: buildInfo failed after the handshake (connection closed without a reply)",
        ),
        (
            "listDatabases",
            Canned::Close,
            Some("7.0.14"),
            "access could not be judged: listDatabases failed after the handshake (connection closed without a reply)",
        ),
        (
            "listDatabases",
            Canned::Silent,
            Some("7.0.14"),
            "access could not be judged: listDatabases failed after the handshake (no reply before the timeout)",
        ),
    ];
    for (command, canned, version, summary) in cases {
        let (server, log) =
            mongo_fake::start(MongoProfile::v7_0().with_canned(command, None, canned)).await;
        let finding = probe_alone(&short_context(), &server).await;
        assert_eq!(
            (finding.exposure, finding.severity),
            (Exposure::Undetermined, Severity::Low),
            "{summary}"
        );
        assert_eq!(finding.summary, summary);
        assert_eq!(finding.version.as_deref(), version);
        assert_eq!(detail(&finding, "topology"), Some("standalone"));
        assert_eq!(detail(&finding, "max_wire_version"), Some("21"));
        assert_eq!(
            finding.evidence.last().map(|e| e.request.as_str()),
            Some(if command == "buildInfo" {
                BUILD_INFO
            } else {
                LIST_DATABASES
            })
        );
        assert_read_only(&log);
    }
}

// ---- Numbers never wrap ------------------------------------------------------------

/// Sizes and document counts near `i64::MAX` on several databases: the inventory's totals
/// saturate, the summary quotes them, and nothing panics in this debug build. A 7.0.14
/// sends int64 sizes (MG-04) and int64 `objects` in `dbStats`; the values are hostile.
/// Before, the summary's own `.sum()` overflowed (a panic here, a wrap in release).
#[tokio::test]
async fn sizes_near_i64_max_saturate_in_totals_and_summary() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_databases(vec![
        FakeDb::new("alpha", i64::MAX, i64::MAX, &["a"]),
        FakeDb::new("beta", i64::MAX - 1, i64::MAX, &["b"]),
        FakeDb::new("gamma", i64::MAX - 2, i64::MAX, &["c"]),
    ]))
    .await;
    let finding = found(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    let inventory = finding.inventory.as_ref().expect("inventory");
    let sizes: Vec<(&str, Option<u64>)> = inventory
        .items
        .iter()
        .map(|d| (d.name.as_str(), d.size_bytes))
        .collect();
    let max = i64::MAX as u64;
    assert_eq!(
        sizes,
        [
            ("alpha", Some(max)),
            ("beta", Some(max - 1)),
            ("gamma", Some(max - 2)),
            ("local", Some(73_728)),
            ("admin", Some(40_960)),
            ("config", Some(36_864)),
        ]
    );
    assert_eq!(inventory.total_size_bytes, Some(u64::MAX));
    assert_eq!(inventory.total_documents, Some(u64::MAX));
    assert_eq!((inventory.total_items, inventory.user_items), (6, 3));
    assert_eq!(
        finding.summary,
        "no credentials needed: listDatabases lists 6 databases, 3 with user data, 18.4 EB on disk in all"
    );
    // The server's own totalSize (the fake saturates as an int64 sum would have to).
    assert_eq!(
        response(&finding, LIST_DATABASES),
        format!("ok 1, 6 databases, totalSize {}", i64::MAX)
    );
    assert_read_only(&log);

    // One near-max database: the sum fits, and is exact.
    let (server, _log) = mongo_fake::start(MongoProfile::v7_0().with_databases(vec![FakeDb::new(
        "alpha",
        i64::MAX,
        5,
        &["a"],
    )]))
    .await;
    let finding = found(&server).await;
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(
        inventory.total_size_bytes,
        Some(max + 73_728 + 40_960 + 36_864)
    );
    assert_eq!(
        finding.summary,
        "no credentials needed: listDatabases lists 4 databases, 1 with user data, 9.2 EB on disk in all"
    );
}

// ---- Names validated before they are sent back -------------------------------------

/// Databases no MongoDB would list (its naming restrictions forbid `/\. "$*<>:|?`, NUL,
/// and 64 bytes or more), bigger than the one valid database so they come first, and
/// collections that may not be sent in `listIndexes` (`$…`, `system.…`, NUL, over 255
/// bytes). The names are hostile; the versions' behaviour is MG-00..MG-04.
fn hostile_names(profile: MongoProfile) -> MongoProfile {
    let long_collection = "c".repeat(256);
    profile.with_databases(vec![
        FakeDb::new("users.customers", 9_000_000, 10, &["x"]),
        FakeDb::new("a$b", 8_000_000, 10, &["x"]),
        FakeDb::new("with space", 7_000_000, 10, &["x"]),
        FakeDb::new("nul\0db", 6_000_000, 10, &["x"]),
        FakeDb::new(&"d".repeat(64), 5_000_000, 10, &["x"]),
        FakeDb::new(
            "shop",
            1_000_000,
            10,
            &["orders", "$bad", "system.views", "a\0b", &long_collection],
        ),
    ])
}

/// What the evidence says about the skipped names, in report order.
fn skipped_databases() -> String {
    format!(
        "5 database names not sent back: \"users.customers\" (contains '.'), \"a$b\" (contains '$'), \"with space\" (contains ' '), \"nul\\u{{0}}db\" (contains NUL), \"{}…\" (64 bytes, more than 63)",
        "d".repeat(59)
    )
}

fn skipped_collections() -> String {
    format!(
        "4 collection names not sent back: \"$bad\" (starts with \"$\"), \"a\\u{{0}}b\" (contains NUL), \"{}…\" (256 bytes, more than 255), \"system.views\" (starts with \"system.\")",
        "c".repeat(59)
    )
}

/// Checks that no request carried a name that fails validation: every database is
/// `admin` or `shop`, every OP_QUERY namespace is `<one of them>.$cmd`, and `listIndexes`
/// only ever named `orders`.
fn assert_only_valid_names_sent(sent: &[Request]) {
    assert!(!sent.is_empty());
    for request in sent {
        assert!(
            request.db == "admin" || request.db == "shop",
            "sent a hostile database name back: {request:?}"
        );
        if let Some(namespace) = &request.namespace {
            assert_eq!(namespace, &format!("{}.$cmd", request.db), "{request:?}");
        }
        if request.command == "listIndexes" {
            assert_eq!(request.argument.as_deref(), Some("orders"), "{request:?}");
        }
    }
}

/// Before 3.6 names go into the OP_QUERY namespace: `users.customers` would have become
/// `users.customers.$cmd`. 3.4.24 (MG-00, MG-09 framing).
#[tokio::test]
async fn hostile_names_are_never_sent_back_over_op_query() {
    let (server, log, sent) = start_recording(hostile_names(MongoProfile::v3_4())).await;
    let finding = found(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    assert_only_valid_names_sent(&mongo_fake::requests(&sent));
    assert_eq!(
        support::requests(&finding),
        [
            HELLO,
            "OP_QUERY admin.$cmd {isMaster: 1}",
            "OP_QUERY admin.$cmd {buildInfo: 1}",
            "OP_QUERY admin.$cmd {listDatabases: 1}",
            "not sent: dbStats, listCollections",
            "OP_QUERY shop.$cmd {dbStats: 1}",
            "OP_QUERY shop.$cmd {listCollections: 1}",
            "not sent: listIndexes on shop",
            "OP_QUERY shop.$cmd {listIndexes: \"orders\"}",
        ]
    );
    assert_eq!(
        response(&finding, "not sent: dbStats, listCollections"),
        skipped_databases()
    );
    assert_eq!(
        response(&finding, "not sent: listIndexes on shop"),
        skipped_collections()
    );
    // Still listed in the inventory, escaped and clipped as before.
    let names: Vec<&str> = finding
        .inventory
        .as_ref()
        .expect("inventory")
        .items
        .iter()
        .take(6)
        .map(|d| d.name.as_str())
        .collect();
    let long = "d".repeat(64);
    assert_eq!(
        names,
        [
            "users.customers",
            "a$b",
            "with space",
            "nul\\u{0}db",
            &long,
            "shop"
        ]
    );
    assert_read_only(&log);
}

/// From 3.6 names go into `$db` (and `listIndexes`); the same rules apply. 7.0.14.
#[tokio::test]
async fn hostile_names_are_never_sent_back_over_op_msg() {
    let (server, log, sent) = start_recording(hostile_names(MongoProfile::v7_0())).await;
    let finding = found(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    assert_only_valid_names_sent(&mongo_fake::requests(&sent));
    assert_eq!(
        support::requests(&finding),
        [
            HELLO,
            BUILD_INFO,
            LIST_DATABASES,
            "not sent: dbStats, listCollections",
            "OP_MSG dbStats {dbStats: 1, $db: \"shop\"}",
            "OP_MSG listCollections {listCollections: 1, nameOnly: true, authorizedCollections: true, $db: \"shop\"}",
            "not sent: listIndexes on shop",
            "OP_MSG listIndexes {listIndexes: \"orders\", $db: \"shop\"}",
        ]
    );
    assert_eq!(
        response(&finding, "not sent: dbStats, listCollections"),
        skipped_databases()
    );
    assert_eq!(
        response(&finding, "not sent: listIndexes on shop"),
        skipped_collections()
    );
    let shop = &finding.inventory.as_ref().expect("inventory").items[5];
    assert_eq!(shop.name, "shop");
    assert_eq!(shop.collections.len(), 5);
    assert_read_only(&log);
}

// ---- Memory bounded by the caps ----------------------------------------------------

/// A hostile `listDatabases` of 120,000 tiny entries (about 7 MB, under the 16 MiB cap;
/// each entry has MG-04's shape): only `max_items` are kept, allocated exactly, while all
/// are counted and summed. Before, every entry was collected, and the totals covered only
/// the kept ones.
#[tokio::test]
async fn many_tiny_entries_keep_only_the_cap() {
    const ENTRIES: usize = 120_000;
    let mut databases: Vec<Bson> = Vec::with_capacity(ENTRIES + 2);
    let mut size_sum: u64 = 40_960 + 73_728;
    databases.push(Bson::Document(
        doc! {"name": "admin", "sizeOnDisk": 40_960_i64, "empty": false},
    ));
    databases.push(Bson::Document(
        doc! {"name": "local", "sizeOnDisk": 73_728_i64, "empty": false},
    ));
    for i in 0..ENTRIES {
        let size = (i % 1000) as i64;
        size_sum += size as u64;
        databases.push(Bson::Document(
            doc! {"name": format!("db{i:06}"), "sizeOnDisk": size, "empty": size == 0},
        ));
    }
    let listing: Document = doc! {"databases": databases, "totalSize": size_sum as i64, "ok": 1.0};
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_canned(
        "listDatabases",
        Some("admin"),
        Canned::Reply(listing),
    ))
    .await;
    let limits = Limits {
        max_items: 100,
        max_detailed: 2,
        ..Limits::default()
    };
    let cx = ProbeContext::new(Duration::from_secs(10), false, limits).expect("context");
    let finding = probe_alone(&cx, &server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(inventory.items.len(), 100);
    assert_eq!(inventory.items.capacity(), 100);
    // The largest (size 999: db000999, db001999, …), then by name.
    let expected: Vec<String> = (0..100)
        .map(|k| format!("db{:06}", k * 1000 + 999))
        .collect();
    let names: Vec<&str> = inventory.items.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!(
        (
            inventory.total_items,
            inventory.user_items,
            inventory.truncated
        ),
        (ENTRIES as u64 + 2, ENTRIES as u64, true)
    );
    assert_eq!(inventory.total_size_bytes, Some(size_sum));
    assert_eq!(
        finding.summary,
        "no credentials needed: listDatabases lists 120002 databases, 120000 with user data, 60.1 MB on disk in all"
    );
    assert_eq!(
        response(&finding, LIST_DATABASES),
        format!("ok 1, 120002 databases, totalSize {size_sum}")
    );
    assert_read_only(&log);
}
