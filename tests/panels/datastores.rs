//! HTTP data stores as data-driven probes (CouchDB, ClickHouse, InfluxDB 1.x/2.x, etcd, Riak,
//! ArangoDB, Neo4j, RethinkDB, Solr, webdis): each product open, protected and next to
//! look-alikes, replayed from `tests/fixtures/panels/<id>/` (origins in each SOURCES.md).
//! Every look-alike is also run against every shipped probe.

use ajar::finding::Exposure::{self, AuthRequired, DefaultCredentials, Open};
use ajar::rules::{
    EvalOptions, Evaluation, Fetched, Fetcher, Identified, Replay, Reply, Request, RuleSet,
    evaluate,
};

macro_rules! fx {
    ($file:literal) => {
        include_str!(concat!("../fixtures/panels/", $file))
    };
}

const OPTS: EvalOptions = EvalOptions {
    default_credentials: false,
    max_items: 1000,
};
const RANGE_BODY: &str = r#"{"key":"AA==","range_end":"AA==","count_only":true}"#;

/// One route of a replayed server: path (`*` for every other path), status, body, headers.
/// A body that starts like JSON gets `content-type: application/json`.
type Route<'a> = (&'a str, u16, &'a str, &'a [(&'a str, &'a str)]);

fn server(routes: &[Route]) -> Replay {
    let mut replay = Replay::new();
    for &(path, status, body, headers) in routes {
        let mut reply = Reply::new(status, body);
        if body.starts_with('{') || body.starts_with('[') {
            reply = reply.header("content-type", "application/json");
        }
        for (name, value) in headers {
            reply = reply.header(name, value);
        }
        replay = if path == "*" {
            replay.otherwise(reply)
        } else {
            replay.at(path, reply)
        };
    }
    replay
}

/// The verdict a probe must give: exposure, check id, version.
type Want = (Option<Exposure>, &'static str, Option<&'static str>);

/// Runs `probe` without default credentials; only GET/HEAD may go out (and etcd's declared
/// read-only range), never with credentials.
async fn found(probe: &str, what: &str, replay: &mut Replay) -> Identified {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let eval = evaluate(rules.get(probe).expect("shipped"), replay, &OPTS).await;
    for r in replay.requests() {
        let range = r.method == "POST" && r.body.as_deref() == Some(RANGE_BODY);
        let range = range && r.path == "/v3/kv/range";
        assert!(
            r.method == "GET" || r.method == "HEAD" || range,
            "{what}: sent {}",
            r.shown
        );
        assert!(
            r.basic_auth.is_none(),
            "{what}: credentials sent: {}",
            r.shown
        );
    }
    match eval {
        Evaluation::Identified(f) => f,
        other => panic!("{what}: {probe} did not identify it: {other:?}"),
    }
}

/// Checks every case's exposure, check id and version; returns the findings in order.
async fn verdicts(probe: &str, cases: Vec<(&str, Replay, Want)>) -> Vec<Identified> {
    let mut out = Vec::new();
    for (what, mut replay, (exposure, check, version)) in cases {
        let f = found(probe, what, &mut replay).await;
        let got = (f.exposure, f.check.as_str(), f.version.as_deref());
        assert_eq!(got, (exposure, check, version), "{what}: {}", f.summary);
        out.push(f);
    }
    out
}

/// The inventory as (name, system) pairs in server order, after its totals.
fn sets<'a>(f: &'a Identified, unit: &str, total: u64, user: u64) -> Vec<(&'a str, bool)> {
    let inv = f.inventory.as_ref().expect("an inventory");
    let got = (
        inv.unit.as_str(),
        inv.total_items,
        inv.user_items,
        inv.truncated,
    );
    assert_eq!(got, (unit, total, user, false));
    inv.items
        .iter()
        .map(|s| (s.name.as_str(), s.system))
        .collect()
}

fn detail<'a>(f: &'a Identified, name: &str) -> Option<&'a str> {
    f.details
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn couchdb_1_to_3() {
    let v3: &[_] = &[("server", "CouchDB/3.3.3 (Erlang OTP/24)")];
    let v1: &[_] = &[("server", "CouchDB/1.3.1 (Erlang OTP/R15B03)")];
    let (root3, dbs2) = (
        fx!("couchdb/3.3.3-root.json"),
        fx!("couchdb/2.0.0-all-dbs.json"),
    );
    let anonymous = fx!("couchdb/3.3.3-session-anonymous.json");
    let listing = r#"["_replicator","_users","customers"]"#;
    let f = verdicts(
        "couchdb",
        vec![
            (
                "3.x listing",
                server(&[("/", 200, root3, v3), ("/_all_dbs", 200, listing, &[])]),
                (Some(Open), "couchdb-open", Some("3.3.3")),
            ),
            (
                "1.x admin party",
                server(&[
                    ("/", 200, fx!("couchdb/1.3.1-root.json"), v1),
                    ("/_all_dbs", 200, dbs2, &[]),
                    (
                        "/_session",
                        200,
                        fx!("couchdb/1.x-session-admin-party.json"),
                        &[],
                    ),
                ]),
                (Some(Open), "couchdb-admin-party", Some("1.3.1")),
            ),
            // Behind a proxy that drops Server: the vendor object identifies; roles [] is no admin.
            (
                "2.0 listing, no Server",
                server(&[
                    ("/", 200, fx!("couchdb/2.0.0-root.json"), &[]),
                    ("/_all_dbs", 200, dbs2, &[]),
                    ("/_session", 200, anonymous, &[]),
                ]),
                (Some(Open), "couchdb-open", Some("2.0.0")),
            ),
            (
                "3.x default",
                server(&[
                    ("/", 200, root3, v3),
                    ("/_all_dbs", 401, fx!("couchdb/3.3.3-all-dbs-401.json"), v3),
                    ("/_session", 200, anonymous, v3),
                ]),
                (Some(AuthRequired), "couchdb-auth-required", Some("3.3.3")),
            ),
        ],
    )
    .await;
    assert_eq!(
        f[0].summary,
        "CouchDB 3.3.3 lists its 3 databases without credentials"
    );
    let want = [
        ("_replicator", true),
        ("_users", true),
        ("customers", false),
    ];
    assert_eq!(sets(&f[0], "database", 3, 1), want);
    let party = "CouchDB 1.3.1 is in admin party: anonymous callers are server admins; 6 databases";
    assert_eq!(f[1].summary, format!("{party} listed"));
    assert_eq!(
        sets(&f[1], "database", 6, 2)[4..],
        [("passwords", false), ("simpsons", false)]
    );
    assert_eq!(
        f[2].summary,
        "CouchDB 2.0.0 lists its 6 databases without credentials"
    );
    assert!(f[3].inventory.is_none());
}

#[tokio::test]
async fn clickhouse_18_and_22() {
    let (dbs, version) = (
        "/?query=SHOW%20DATABASES%20FORMAT%20JSON",
        "/?query=SELECT%20version()",
    );
    let (ok, not_found) = (
        fx!("clickhouse-http/18.16.1-root.txt"),
        fx!("clickhouse-http/18.16.1-not-found.txt"),
    );
    let name: &[_] = &[("x-clickhouse-server-display-name", "vm")];
    let basic = (
        "www-authenticate",
        r#"Basic realm="ClickHouse server HTTP API""#,
    );
    let refused18: &[_] = &[basic, name[0]];
    let refused22: &[_] = &[
        ("x-clickhouse-server-display-name", "chi-0"),
        ("x-clickhouse-exception-code", "516"),
    ];
    let (body18, body22) = (
        fx!("clickhouse-http/18.16.1-show-databases-401.txt"),
        fx!("clickhouse-http/22.3.12-auth-failed-403.txt"),
    );
    let f = verdicts(
        "clickhouse-http",
        vec![
            (
                "18.16 no password",
                server(&[
                    ("/", 200, ok, &[]),
                    ("*", 404, not_found, &[]),
                    (
                        dbs,
                        200,
                        fx!("clickhouse-http/18.16.1-show-databases.json"),
                        name,
                    ),
                    (version, 200, "18.16.1\n", name),
                ]),
                (Some(Open), "clickhouse-http-open", Some("18.16.1")),
            ),
            (
                "18.16 password",
                server(&[
                    ("/", 200, ok, &[]),
                    ("*", 404, not_found, &[]),
                    (dbs, 401, body18, refused18),
                    (version, 401, body18, refused18),
                ]),
                (Some(AuthRequired), "clickhouse-http-auth-required", None),
            ),
            // Go's 404 for the decoy here: the display-name header identifies on its own.
            (
                "22.3 authentication failed",
                server(&[
                    ("/", 200, ok, &[]),
                    (dbs, 403, body22, refused22),
                    (version, 403, body22, refused22),
                ]),
                (Some(AuthRequired), "clickhouse-http-auth-required", None),
            ),
        ],
    )
    .await;
    let open =
        "ClickHouse 18.16.1 runs queries as the default user without a password: 2 databases";
    assert_eq!(f[0].summary, open);
    assert_eq!(
        sets(&f[0], "database", 2, 1),
        [("default", false), ("system", true)]
    );
}

const PING16: &[(&str, &str)] = &[
    ("request-id", "15f9d66f-ede8-11f1-8001-000000000000"),
    ("x-influxdb-build", "OSS"),
    ("x-influxdb-version", "1.6.7~rc0"),
];
const Q: &str = "/query?q=SHOW%20DATABASES";

#[tokio::test]
async fn influxdb_1() {
    let basic: &[_] = &[("www-authenticate", r#"Basic realm="InfluxDB""#)];
    let f = verdicts(
        "influxdb",
        vec![
            (
                "no auth",
                server(&[
                    ("/ping", 204, "", PING16),
                    (Q, 200, fx!("influxdb/1.6.7-show-databases.json"), &[]),
                ]),
                (Some(Open), "influxdb-open", Some("1.6.7~rc0")),
            ),
            // A fresh server lists nothing (no "values" at all): an empty list is still open.
            (
                "no auth, empty",
                server(&[
                    ("/ping", 204, "", PING16),
                    (Q, 200, fx!("influxdb/1.6.7-show-databases-empty.json"), &[]),
                ]),
                (Some(Open), "influxdb-open", Some("1.6.7~rc0")),
            ),
            (
                "auth-enabled",
                server(&[
                    ("/ping", 204, "", PING16),
                    (Q, 401, fx!("influxdb/1.6.7-show-databases-401.json"), basic),
                ]),
                (
                    Some(AuthRequired),
                    "influxdb-auth-required",
                    Some("1.6.7~rc0"),
                ),
            ),
        ],
    )
    .await;
    let want = [("telegraf", false), ("sensors", false), ("_internal", true)];
    assert_eq!(sets(&f[0], "database", 3, 2), want);
    // No "values" key: nothing to list, so no inventory (the verdict stays open).
    assert!(f[1].inventory.is_none());
}

fn influx2(health: &'static str, version: &'static str, setup: &'static str) -> Replay {
    server(&[
        ("/health", 200, health, &[]),
        (
            "/ping",
            204,
            "",
            &[("x-influxdb-build", "OSS"), ("x-influxdb-version", version)],
        ),
        ("/api/v2/setup", 200, setup, &[]),
        (
            "/api/v2/buckets?limit=1",
            401,
            fx!("influxdb2/unauthorized-401.json"),
            &[],
        ),
    ])
}

#[tokio::test]
async fn influxdb_2() {
    let (h27, h20) = (
        fx!("influxdb2/2.7.12-health.json"),
        fx!("influxdb2/2.0.4-health.json"),
    );
    let (allowed, done) = (
        fx!("influxdb2/setup-allowed.json"),
        fx!("influxdb2/setup-done.json"),
    );
    let f = verdicts(
        "influxdb2",
        vec![
            (
                "never set up",
                influx2(h27, "v2.7.12", allowed),
                (Some(Open), "influxdb2-open", Some("v2.7.12")),
            ),
            (
                "set up",
                influx2(h20, "2.0.4", done),
                (Some(AuthRequired), "influxdb2-auth-required", Some("2.0.4")),
            ),
        ],
    )
    .await;
    let claim = "was never set up: anyone can create its first admin and take its operator token";
    assert_eq!(f[0].summary, format!("InfluxDB v2.7.12 {claim}"));
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let as_1x = evaluate(
        rules.get("influxdb").expect("influxdb"),
        &mut influx2(h20, "2.0.4", done),
        &OPTS,
    )
    .await;
    assert!(
        matches!(as_1x, Evaluation::NotThis { .. }),
        "a 2.x is no 1.x: {as_1x:?}"
    );
}

#[tokio::test]
async fn etcd_3_4_v3_and_v2() {
    let version = ("/version", 200, fx!("etcd/3.4.23-version.json"), &[][..]);
    let range = |status: u16, body: &'static str| ("/v3/kv/range", status, body, &[][..]);
    let user_empty = range(400, fx!("etcd/3.4.23-v3-range-400-user-empty.json"));
    let count = range(200, fx!("etcd/3.4.23-v3-range-count.json"));
    let want = |check| {
        (
            Some(if check == "etcd-auth-required" {
                AuthRequired
            } else {
                Open
            }),
            check,
            Some("3.4.23"),
        )
    };
    let f = verdicts(
        "etcd",
        vec![
            ("v3 open", server(&[version, count]), want("etcd-open")),
            (
                "v3 open, empty",
                server(&[version, range(200, fx!("etcd/3.4.23-v3-range-empty.json"))]),
                want("etcd-open"),
            ),
            (
                "v3 auth, v2 open",
                server(&[
                    version,
                    user_empty,
                    ("/v2/keys/", 200, fx!("etcd/3.4.23-v2-keys.json"), &[]),
                ]),
                want("etcd-v2-open"),
            ),
            (
                "both auth",
                server(&[
                    version,
                    range(401, fx!("etcd/3.4.23-v3-range-401-invalid-token.json")),
                    ("/v2/keys/", 401, fx!("etcd/3.4.23-v2-keys-401.json"), &[]),
                ]),
                want("etcd-auth-required"),
            ),
            // v2 off (the 3.4 default) answers Go's 404: the v3 refusal decides.
            (
                "v3 auth, v2 off",
                server(&[version, user_empty]),
                want("etcd-auth-required"),
            ),
        ],
    )
    .await;
    assert_eq!(
        f[0].summary,
        "etcd 3.4.23 answers the v3 KV API without credentials"
    );
    assert_eq!(
        (detail(&f[0], "keys"), detail(&f[1], "keys")),
        (Some("3"), None)
    );
    assert_eq!(
        f[2].summary,
        "etcd 3.4.23 lists its v2 key directory without credentials"
    );
    assert!(
        f[2].details.is_empty(),
        "nothing is read from the v2 listing: {:?}",
        f[2].details
    );
    let mut v3 = server(&[version, count]);
    found("etcd", "v3 open", &mut v3).await;
    assert!(
        !v3.requests().iter().any(|r| r.path.starts_with("/v2/")),
        "v2 asked after v3 decided"
    );
}

#[tokio::test]
async fn riak_open_and_secured() {
    let wm: &[_] = &[(
        "server",
        "MochiWeb/1.1 WebMachine/1.10.4 (never breaks eye contact)",
    )];
    let (ping, stats, buckets) = ("/ping", "/stats", "/buckets?buckets=true");
    let upgrade = fx!("riak/2.x-security-426.txt");
    let f = verdicts(
        "riak",
        vec![
            (
                "no security",
                server(&[
                    (ping, 200, "OK", wm),
                    (stats, 200, fx!("riak/1.4.8-stats.json"), wm),
                    (buckets, 200, fx!("riak/buckets.json"), wm),
                ]),
                (Some(Open), "riak-open", Some("1.4.8-0-g7545390")),
            ),
            // Security on: every resource answers 426 over HTTP; the decoy matches no route (404).
            (
                "security over HTTP",
                server(&[
                    (ping, 426, upgrade, wm),
                    (stats, 426, upgrade, wm),
                    (buckets, 426, upgrade, wm),
                ]),
                (Some(AuthRequired), "riak-auth-required", None),
            ),
        ],
    )
    .await;
    assert_eq!(
        f[0].summary,
        "Riak 1.4.8-0-g7545390 lists its 1 buckets without credentials"
    );
    assert_eq!(sets(&f[0], "bucket", 1, 1), [("files", false)]);
}

#[tokio::test]
async fn arangodb_2_and_3() {
    let arango: &[_] = &[("server", "ArangoDB")];
    let refused: &[_] = &[
        ("server", "ArangoDB"),
        ("www-authenticate", r#"Basic, realm="ArangoDB""#),
        (
            "www-authenticate",
            r#"Bearer, token_type="JWT", realm="ArangoDB""#,
        ),
    ];
    let (v, d, no) = (
        "/_api/version",
        "/_api/database",
        fx!("arangodb/unauthorized-401.json"),
    );
    let system_only = r#"{"error":false,"code":200,"result":["_system"]}"#;
    let f = verdicts(
        "arangodb",
        vec![
            (
                "3.11 no auth",
                server(&[
                    (v, 200, fx!("arangodb/3.11.5-version.json"), arango),
                    (d, 200, fx!("arangodb/database-list.json"), arango),
                ]),
                (Some(Open), "arangodb-open", Some("3.11.5")),
            ),
            (
                "2.8 no auth",
                server(&[
                    (v, 200, fx!("arangodb/2.8.9-version.json"), arango),
                    (d, 200, system_only, arango),
                ]),
                (Some(Open), "arangodb-open", Some("2.8.9")),
            ),
            (
                "auth",
                server(&[(v, 401, no, refused), (d, 401, no, refused)]),
                (Some(AuthRequired), "arangodb-auth-required", None),
            ),
        ],
    )
    .await;
    assert_eq!(
        sets(&f[0], "database", 2, 1),
        [("_system", true), ("shop", false)]
    );
    assert_eq!(sets(&f[1], "database", 1, 0), [("_system", true)]);
}

#[tokio::test]
async fn neo4j_3_5_to_5() {
    let basic: &[_] = &[("www-authenticate", r#"Basic realm="Neo4j""#)];
    let (d35, d44, d5) = (
        fx!("neo4j/3.5.12-discovery.json"),
        fx!("neo4j/4.4.0-discovery.json"),
        fx!("neo4j/5.19.0-discovery.json"),
    );
    let f = verdicts(
        "neo4j",
        vec![
            // 3.x keeps its version in the REST root: a summary value, not the finding's version.
            (
                "3.5 auth off",
                server(&[
                    ("/", 200, d35, &[]),
                    ("/db/data/", 200, fx!("neo4j/3.5.12-db-data.json"), &[]),
                ]),
                (Some(Open), "neo4j-open", None),
            ),
            (
                "3.5 auth on",
                server(&[
                    ("/", 200, d35, &[]),
                    (
                        "/db/data/",
                        401,
                        fx!("neo4j/3.5-unauthorized-401.json"),
                        basic,
                    ),
                ]),
                (Some(AuthRequired), "neo4j-auth-required", None),
            ),
            (
                "5 auth on",
                server(&[
                    ("/", 200, d5, &[]),
                    ("*", 401, fx!("neo4j/5.x-unauthorized-401.json"), basic),
                ]),
                (Some(AuthRequired), "neo4j-auth-required", Some("5.19.0")),
            ),
            // No read-only GET proves data access on 4.x/5.x, and /db/data/ is gone (404).
            (
                "4.4 auth off",
                server(&[("/", 200, d44, &[])]),
                (None, "neo4j-undetermined", Some("4.4.0")),
            ),
            (
                "5 auth off",
                server(&[("/", 200, d5, &[])]),
                (None, "neo4j-undetermined", Some("5.19.0")),
            ),
        ],
    )
    .await;
    assert_eq!(
        f[0].summary,
        "Neo4j 3.5.12 serves its REST API (/db/data/) without credentials"
    );
    assert_eq!(detail(&f[2], "edition"), Some("enterprise"));
}

#[tokio::test]
async fn rethinkdb_console_is_open() {
    let html: &[_] = &[("content-type", "text/html; charset=utf-8")];
    let text: &[_] = &[("content-type", "application/text")];
    let console = server(&[
        ("/", 200, fx!("rethinkdb/2.4.4-index.html"), html),
        (
            "/ajax/reql/",
            400,
            fx!("rethinkdb/reql-conn-id-missing.txt"),
            text,
        ),
    ]);
    let f = verdicts(
        "rethinkdb",
        vec![(
            "2.4",
            console,
            (Some(Open), "rethinkdb-open", Some("2.4.4")),
        )],
    )
    .await;
    let open = "RethinkDB 2.4.4 serves its web console and ReQL endpoint without credentials";
    assert_eq!(f[0].summary, open);
    assert!(f[0].inventory.is_none());
}

const CORES: &str = "/solr/admin/cores?action=STATUS&wt=json";
const SYSTEM: &str = "/solr/admin/info/system?wt=json";

/// Solr with blockUnknown: every /solr/ path is 401; the decoy is outside Solr (404).
fn solr_locked() -> Replay {
    let page = fx!("solr/9.x-require-authentication-401.html");
    let basic: &[_] = &[
        ("content-type", "text/html;charset=utf-8"),
        ("www-authenticate", r#"Basic realm="solr""#),
    ];
    server(&[(SYSTEM, 401, page, basic), (CORES, 401, page, basic)])
}

#[tokio::test]
async fn solr_4_to_9() {
    let solr = |system, cores| server(&[(SYSTEM, 200, system, &[]), (CORES, 200, cores, &[])]);
    let f = verdicts(
        "solr",
        vec![
            (
                "9.4",
                solr(
                    fx!("solr/9.4.0-system.json"),
                    fx!("solr/9.4.0-cores-status.json"),
                ),
                (Some(Open), "solr-open", Some("9.4.0")),
            ),
            (
                "6.7 / 4.9",
                solr(
                    fx!("solr/6.7.0-system.json"),
                    fx!("solr/4.9.1-cores-status.json"),
                ),
                (Some(Open), "solr-open", Some("6.7.0")),
            ),
            (
                "basic auth",
                solr_locked(),
                (Some(AuthRequired), "solr-auth-required", None),
            ),
        ],
    )
    .await;
    assert_eq!(
        f[0].summary,
        "Solr 9.4.0 lists its 2 cores without credentials"
    );
    let inv = f[0].inventory.as_ref().expect("cores");
    assert_eq!(
        (inv.total_documents, inv.total_size_bytes),
        (Some(1552), Some(510_847))
    );
    let counts: Vec<_> = inv
        .items
        .iter()
        .map(|s| (s.name.as_str(), s.documents, s.size_bytes))
        .collect();
    assert_eq!(
        counts,
        [
            ("customers", Some(1520), Some(482_133)),
            ("techproducts", Some(32), Some(28_714))
        ]
    );
    assert_eq!(sets(&f[1], "core", 1, 1), [("collection1", false)]);
}

/// Answers requests that carry `pair` from `with`, every other one from `anonymous`: a
/// server that lets one login in (a Replay alone answers by path).
struct ByLogin {
    anonymous: Replay,
    with: Replay,
    pair: (String, String),
}

impl Fetcher for ByLogin {
    fn fetch(&mut self, request: &Request) -> impl std::future::Future<Output = Fetched> + Send {
        let logged_in = request.basic_auth.as_ref() == Some(&self.pair);
        if logged_in {
            self.with.fetch(request)
        } else {
            self.anonymous.fetch(request)
        }
    }

    fn decoy_path(&self) -> String {
        self.anonymous.decoy_path()
    }
}

#[tokio::test]
async fn solr_example_login_is_default_credentials() {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let mut solr = ByLogin {
        anonymous: solr_locked(),
        with: server(&[(CORES, 200, fx!("solr/9.4.0-cores-status.json"), &[])]),
        pair: ("solr".to_string(), "SolrRocks".to_string()),
    };
    let dc = EvalOptions {
        default_credentials: true,
        max_items: 1000,
    };
    let eval = evaluate(rules.get("solr").expect("solr"), &mut solr, &dc).await;
    let Evaluation::Identified(f) = eval else {
        panic!("not identified: {eval:?}")
    };
    let got = (f.exposure, f.check.as_str(), f.user.as_deref());
    assert_eq!(
        got,
        (
            Some(DefaultCredentials),
            "solr-default-credentials",
            Some("solr")
        )
    );
    assert_eq!(
        f.summary,
        "Solr accepts the example login solr from its reference guide"
    );
    let logins = solr.with.requests();
    let asked: Vec<_> = logins
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(asked, [("GET", CORES)]);
    assert!(
        !logins[0].shown.contains("SolrRocks"),
        "{}",
        logins[0].shown
    );
    assert!(
        solr.anonymous
            .requests()
            .iter()
            .all(|r| r.basic_auth.is_none())
    );
}

#[tokio::test]
async fn webdis_open_acl_and_requirepass() {
    let w: &[_] = &[("server", "Webdis")];
    // webdis runs any unknown path as a command: 200 with the Redis error in JSON.
    let unknown = ("*", 200, fx!("webdis/0.1.9-unknown-command.json"), w);
    let (ping, noauth) = (
        fx!("webdis/0.1.9-ping.json"),
        fx!("webdis/0.1.9-ping-noauth.json"),
    );
    let open = || {
        server(&[
            unknown,
            ("/PING", 200, ping, w),
            ("/DBSIZE", 200, fx!("webdis/0.1.9-dbsize.json"), w),
        ])
    };
    let f = verdicts(
        "webdis",
        vec![
            ("open", open(), (Some(Open), "webdis-open", None)),
            (
                "ACL",
                server(&[unknown, ("/PING", 200, ping, w), ("/DBSIZE", 403, "", w)]),
                (Some(AuthRequired), "webdis-auth-required", None),
            ),
            (
                "requirepass",
                server(&[
                    unknown,
                    ("/PING", 200, noauth, w),
                    ("/DBSIZE", 200, fx!("webdis/0.1.9-dbsize-noauth.json"), w),
                ]),
                (Some(AuthRequired), "webdis-auth-required", None),
            ),
        ],
    )
    .await;
    assert_eq!(
        f[0].summary,
        "webdis relays Redis commands without credentials: DBSIZE 3"
    );
    let mut replay = open();
    found("webdis", "open", &mut replay).await;
    let asked: Vec<_> = replay
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| !p.starts_with("/ajar-"))
        .collect();
    assert_eq!(asked, ["/PING", "/DBSIZE"]);
}

/// Runs every shipped probe, with and without default credentials: none may call `replay`
/// open or default-credentials. Returns the probes that identified it (without them).
async fn no_probe_opens(what: &str, replay: &Replay) -> Vec<String> {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let mut identified = Vec::new();
    for rule in rules.iter() {
        for default_credentials in [false, true] {
            let opts = EvalOptions {
                default_credentials,
                max_items: 1000,
            };
            if let Evaluation::Identified(f) = evaluate(rule, &mut replay.clone(), &opts).await {
                let opened = matches!(f.exposure, Some(Open | DefaultCredentials));
                assert!(
                    !opened,
                    "{what}: {} said {:?}: {}",
                    rule.id, f.exposure, f.summary
                );
                if !default_credentials {
                    identified.push(rule.id.clone());
                }
            }
        }
    }
    identified
}

#[tokio::test]
async fn look_alikes_are_not_open() {
    let nginx_401 = "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n\
        <center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n\
        </body>\r\n</html>\r\n";
    let proxy: &[_] = &[
        ("content-type", "text/html"),
        ("www-authenticate", r#"Basic realm="RethinkDB""#),
    ];
    let html: &[_] = &[("content-type", "text/html")];
    let couch3: &[_] = &[("server", "CouchDB/3.3.3 (Erlang OTP/24)")];
    let capi: &[_] = &[("server", "CouchDB/v4.5.1-76-g0d8a1b4")];
    let party = fx!("couchdb/1.x-session-admin-party.json");
    let cases = [
        (
            "couchbase capi",
            server(&[
                ("/", 200, fx!("couchdb/couchbase-4.5-capi-root.json"), capi),
                ("/_all_dbs", 200, r#"["default"]"#, &[]),
            ]),
        ),
        (
            "pouchdb-server",
            server(&[
                ("/", 200, fx!("couchdb/pouchdb-server-4.2.0-root.json"), &[]),
                ("/_all_dbs", 200, r#"["notes"]"#, &[]),
                ("/_session", 200, party, &[]),
            ]),
        ),
        (
            "couchdb honeypot",
            server(&[("*", 200, fx!("couchdb/3.3.3-root.json"), couch3)]),
        ),
        // "Ok.\n" at / and "OK" at /ping with Go's 404 elsewhere, or "Ok.\n" on every path.
        (
            "ok health",
            server(&[("/", 200, "Ok.\n", &[]), ("/ping", 200, "OK", &[])]),
        ),
        ("ok everywhere", server(&[("*", 200, "Ok.\n", &[])])),
        (
            "victoriametrics",
            server(&[
                ("/ping", 204, "", &[]),
                (
                    "/health",
                    200,
                    fx!("influxdb2/victoriametrics-health.json"),
                    &[],
                ),
                (
                    Q,
                    200,
                    fx!("influxdb/victoriametrics-query-show-databases.json"),
                    &[],
                ),
            ]),
        ),
        (
            "nginx solr page",
            server(&[("*", 200, fx!("solr/nginx-solr-admin-page.html"), html)]),
        ),
        (
            "nginx auth before rethinkdb",
            server(&[("*", 401, nginx_401, proxy)]),
        ),
        (
            "rethinkdb page everywhere",
            server(&[("*", 200, fx!("rethinkdb/2.4.4-index.html"), html)]),
        ),
    ];
    for (what, replay) in &cases {
        assert_eq!(
            no_probe_opens(what, replay).await,
            Vec::<String>::new(),
            "{what}"
        );
    }
    // Catch-alls answering every path with one product's discovery document and headers.
    let headers: &[_] = &[
        ("server", "ArangoDB"),
        ("server", "Webdis"),
        ("x-influxdb-version", "v2.7.12"),
    ];
    for body in [
        fx!("etcd/3.4.23-version.json"),
        fx!("neo4j/5.19.0-discovery.json"),
        fx!("arangodb/3.11.5-version.json"),
        fx!("solr/9.4.0-system.json"),
        fx!("webdis/0.1.9-ping.json"),
        fx!("influxdb2/2.7.12-health.json"),
    ] {
        let everywhere = server(&[("*", 200, body, headers)]);
        assert_eq!(
            no_probe_opens(body, &everywhere).await,
            Vec::<String>::new(),
            "{body}"
        );
    }
    // InfluxDB 1.8 also serves /health with name "influxdb": 1.x, refused, and not a 2.x.
    let one_eight = server(&[
        (
            "/ping",
            204,
            "",
            &[
                ("x-influxdb-build", "OSS"),
                ("x-influxdb-version", "1.8.10"),
            ],
        ),
        ("/health", 200, fx!("influxdb2/1.8.10-health.json"), &[]),
        (Q, 401, fx!("influxdb/1.6.7-show-databases-401.json"), &[]),
    ]);
    assert_eq!(
        no_probe_opens("influxdb 1.8", &one_eight).await,
        ["influxdb"]
    );
}
