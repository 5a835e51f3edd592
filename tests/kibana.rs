//! Kibana 5.x-8.x against the HTTP probe, written from protocols.md section 3 (KB-01..KB-06)
//! and trap T-02. Status bodies come from `tests/fixtures/kibana/` (see its SOURCES.md),
//! with the server name and UUID randomised per run.
//!
//! The contract: Kibana is recognised by its `kbn-name` header; `GET /api/status` gives
//! the version, and only a full status plus a readable
//! `GET /api/saved_objects/_find?type=index-pattern&per_page=100` makes it open.

use ajar::finding::{Exposure, Finding, Severity};
use serde_json::{Value, json};

use crate::elastic::{
    assert_all_under, assert_read_only, assert_read_only_under, endpoint_of, found_with,
    random_ascii_name, random_hex,
};
use crate::support::http_fake::{Hits, Reply, Routes, http_server, lines, targets};
use crate::support::{self, FakeServer, requests};

/// KB-01: Kibana 8.12.2 `/api/status`, v8 format.
const KB_01_8_12_2: &str = include_str!("fixtures/kibana/kb-01-8.12.2-status.json");
/// KB-02: Kibana 7.17.0 `/api/status`, v7 format.
const KB_02_7_17_0: &str = include_str!("fixtures/kibana/kb-02-7.17.0-status.json");
/// KB-02 shape as Kibana 6.8.23 sends it.
const KB_6_8_23: &str = include_str!("fixtures/kibana/kb-6.8.23-status.json");
/// Kibana 5.6.16 `/api/status` with a string `version`.
const KB_5_6_16: &str = include_str!("fixtures/kibana/kb-5.6.16-status.json");
/// KB-03: 8.9+ redacted anonymous status.
const KB_03_REDACTED: &str = include_str!("fixtures/kibana/kb-03-8.9-redacted-status.json");
/// KB-04: 401 body.
const KB_04_401: &str = include_str!("fixtures/kibana/kb-04-401.json");
/// KB-06: the login page.
const KB_06_LOGIN: &str = include_str!("fixtures/kibana/kb-06-8.12.2-login.html");

/// A status body with a random `name` and `uuid`, and that name (the `kbn-name` value,
/// kept to ASCII here; see `kb_non_ascii_server_name_is_still_kibana`).
fn vary_status(fixture: &str) -> (String, String) {
    let mut v: Value = serde_json::from_str(fixture).expect("status fixture is JSON");
    let name = random_ascii_name();
    if v.get("name").is_some() {
        v["name"] = json!(name);
        v["uuid"] = json!(format!(
            "{}-{}-4{}-a{}-{}",
            &random_hex(8),
            &random_hex(4),
            &random_hex(3),
            &random_hex(3),
            &random_hex(12)
        ));
    }
    (v.to_string(), name)
}

/// `_find?type=index-pattern` answer listing `titles` (Kibana saved objects API, 6.0+).
fn saved_objects(titles: &[&str]) -> String {
    let objects: Vec<Value> = titles
        .iter()
        .map(|t| {
            json!({
                "type": "index-pattern",
                "id": format!("{}-{}", random_hex(8), random_hex(12)),
                "attributes": {"title": t, "timeFieldName": "@timestamp"},
                "references": [],
                "managed": false,
                "updated_at": "2024-02-19T12:00:00.000Z",
                "version": "WzEsMV0=",
                "namespaces": ["default"],
                "coreMigrationVersion": "8.8.0",
                "typeMigrationVersion": "8.0.0",
                "score": 0
            })
        })
        .collect();
    json!({"page": 1, "per_page": 100, "total": titles.len(), "saved_objects": objects}).to_string()
}

/// A fake Kibana: every reply carries `kbn-name` (and `kbn-version` for 4.x/5.x).
struct Kibana {
    name: String,
    kbn_version: Option<&'static str>,
    root: Reply,
    status: Reply,
    saved: Reply,
    login: Option<Reply>,
}

fn kjson(status: &str, body: &str) -> Reply {
    Reply::new(status, body)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "cache-control",
            "private, no-cache, no-store, must-revalidate",
        )
        .header("x-content-type-options", "nosniff")
}

fn redirect(to: &str) -> Reply {
    Reply::new("302 Found", "").header("location", to).header(
        "cache-control",
        "private, no-cache, no-store, must-revalidate",
    )
}

fn kb_404() -> Reply {
    kjson(
        "404 Not Found",
        r#"{"statusCode":404,"error":"Not Found","message":"Not Found"}"#,
    )
}

fn kb_401() -> Reply {
    kjson("401 Unauthorized", KB_04_401)
}

impl Kibana {
    fn serve_routes(&self) -> Routes {
        self.routes_under("/")
    }

    /// The routes with every path under `prefix` (Kibana's `server.basePath` behind a proxy).
    fn routes_under(&self, prefix: &str) -> Routes {
        let stamp = |mut r: Reply| {
            r = r.header("kbn-name", &self.name);
            if let Some(v) = self.kbn_version {
                r = r.header("kbn-version", v);
            }
            r
        };
        let mut routes = Routes::new()
            .at(prefix, stamp(self.root.clone()))
            .at(&format!("{prefix}api/status"), stamp(self.status.clone()))
            .at(
                &format!("{prefix}api/saved_objects/_find"),
                stamp(self.saved.clone()),
            )
            .otherwise(stamp(kb_404()));
        if let Some(login) = &self.login {
            routes = routes.at(&format!("{prefix}login"), stamp(login.clone()));
        }
        routes
    }

    async fn serve(&self) -> (FakeServer, Hits) {
        http_server(false, self.serve_routes()).await
    }
}

fn assert_kibana_open(f: &Finding, version: &str, titles: &[&str]) {
    assert_kibana_open_under(f, version, titles, "/");
}

fn assert_kibana_open_under(f: &Finding, version: &str, titles: &[&str], prefix: &str) {
    assert_eq!(f.service, "kibana", "{f:#?}");
    assert_eq!(f.exposure, Exposure::Open, "{f:#?}");
    assert_eq!(f.severity, Severity::High, "{f:#?}");
    assert_eq!(f.version.as_deref(), Some(version), "{f:#?}");
    let inv = f
        .inventory
        .as_ref()
        .expect("an open Kibana has an inventory");
    assert_eq!(inv.unit, "index-pattern");
    let mut got: Vec<&str> = inv.items.iter().map(|i| i.name.as_str()).collect();
    got.sort_unstable();
    let mut want = titles.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "item names are the pattern titles");
    assert_eq!(inv.total_items, titles.len() as u64);
    let reqs = requests(f);
    assert!(
        reqs.iter()
            .any(|r| r.starts_with(&format!("GET {prefix}api/status"))),
        "status in the evidence: {reqs:?}"
    );
    let saved = f
        .evidence
        .iter()
        .find(|e| {
            e.request
                .starts_with(&format!("GET {prefix}api/saved_objects/_find"))
        })
        .unwrap_or_else(|| panic!("saved objects in the evidence: {reqs:?}"));
    assert!(saved.request.contains("type=index-pattern"), "{saved:?}");
    assert!(saved.response.contains("200"), "{saved:?}");
}

fn assert_saved_objects_asked(hits: &Hits) {
    let asked: Vec<String> = targets(hits)
        .into_iter()
        .filter(|t| t.starts_with("/api/saved_objects/_find"))
        .collect();
    assert_eq!(
        asked.len(),
        1,
        "one saved-objects request: {:?}",
        lines(hits)
    );
    assert!(asked[0].contains("type=index-pattern"), "{asked:?}");
}

fn assert_auth_required(f: &Finding) {
    assert_eq!(f.service, "kibana", "{f:#?}");
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
    assert!(
        f.inventory.as_ref().is_none_or(|i| i.items.is_empty()),
        "no inventory without access: {f:#?}"
    );
}

/// KB-01: 8.12.2 with security off; `/` redirects to `/spaces/enter`; status v8 format;
/// saved objects list two index patterns -> open, High.
#[tokio::test]
async fn kb_01_8_12_open_lists_index_patterns() {
    let (status, name) = vary_status(KB_01_8_12_2);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &saved_objects(&["logs-*", "filebeat-*"])),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_kibana_open(&f, "8.12.2", &["logs-*", "filebeat-*"]);
    assert_eq!(f.endpoint, format!("127.0.0.1:{}", server.addr.port()));
    assert!(!f.tls);
    assert_saved_objects_asked(&hits);
    assert_read_only(&hits);
    assert!(
        !targets(&hits)
            .iter()
            .any(|t| t.contains("/api/console") || t.contains("proxy")),
        "never the console proxy: {:?}",
        lines(&hits)
    );
}

/// KB-01 degraded: 503 with the same shape is still a full status; saved objects 200 ->
/// open.
#[tokio::test]
async fn kb_01_503_degraded_status_is_still_open() {
    let (status, name) = vary_status(
        &KB_01_8_12_2
            .replace("\"level\":\"available\"", "\"level\":\"unavailable\"")
            .replace("All services are available", "1 service is unavailable"),
    );
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/app/home"),
        status: kjson("503 Service Unavailable", &status),
        saved: kjson("200 OK", &saved_objects(&["metrics-*"])),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_kibana_open(&f, "8.12.2", &["metrics-*"]);
    assert_read_only(&hits);
}

/// KB-02: 7.17.0, v7 status format -> open.
#[tokio::test]
async fn kb_02_7_17_open() {
    let (status, name) = vary_status(KB_02_7_17_0);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson(
            "200 OK",
            &saved_objects(&["kibana_sample_data_ecommerce", "apm-*"]),
        ),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_kibana_open(&f, "7.17.0", &["kibana_sample_data_ecommerce", "apm-*"]);
    assert_saved_objects_asked(&hits);
    assert_read_only(&hits);
}

/// 6.8.23: `/` redirects to `/app/kibana`; status in the v7 shape -> open.
#[tokio::test]
async fn kb_6_8_open() {
    let (status, name) = vary_status(KB_6_8_23);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/app/kibana"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &saved_objects(&["logstash-*"])),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_kibana_open(&f, "6.8.23", &["logstash-*"]);
    assert_read_only(&hits);
}

/// 5.6.16: `kbn-version` header and a string `version` in the status; no saved-objects
/// API (404). Identified as Kibana 5.6.16 (the exposure of a pre-6.0 Kibana is left to the
/// implementation: the saved-objects proof does not exist there).
#[tokio::test]
async fn kb_5_6_string_version_is_identified() {
    let (status, name) = vary_status(KB_5_6_16);
    let kibana = Kibana {
        name,
        kbn_version: Some("5.6.16"),
        root: redirect("/app/kibana"),
        status: kjson("200 OK", &status),
        saved: kb_404(),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.service, "kibana", "{f:#?}");
    assert_eq!(f.version.as_deref(), Some("5.6.16"), "{f:#?}");
    if f.exposure == Exposure::Open {
        assert!(f.severity >= Severity::Medium, "{f:#?}");
    }
    assert_read_only(&hits);
}

/// An empty saved-objects list read without credentials is still open (T-13).
#[tokio::test]
async fn kb_no_index_patterns_is_still_open() {
    let (status, name) = vary_status(KB_01_8_12_2);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &saved_objects(&[])),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.service, "kibana");
    assert_eq!(f.exposure, Exposure::Open, "{f:#?}");
    assert_eq!(f.version.as_deref(), Some("8.12.2"));
    let inv = f.inventory.as_ref().expect("inventory");
    assert_eq!(inv.unit, "index-pattern");
    assert!(inv.items.is_empty());
    assert_read_only(&hits);
}

/// KB-03 / T-02: 8.9+ with security gives anonymous callers a redacted 200 status; that is
/// auth-required, never open.
#[tokio::test]
async fn kb_03_redacted_status_is_auth_required() {
    let kibana = Kibana {
        name: random_ascii_name(),
        kbn_version: None,
        root: redirect("/login?next=%2F"),
        status: kjson("200 OK", KB_03_REDACTED),
        saved: kb_401(),
        login: Some(
            Reply::new("200 OK", KB_06_LOGIN).header("content-type", "text/html; charset=utf-8"),
        ),
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_auth_required(&f);
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert_read_only(&hits);
}

/// KB-04: 7.x-8.8 with security: `/api/status` is 401.
#[tokio::test]
async fn kb_04_401_is_auth_required() {
    let kibana = Kibana {
        name: random_ascii_name(),
        kbn_version: None,
        root: redirect("/login?next=%2F"),
        status: kb_401(),
        saved: kb_401(),
        login: Some(
            Reply::new("200 OK", KB_06_LOGIN).header("content-type", "text/html; charset=utf-8"),
        ),
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_auth_required(&f);
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.request.starts_with("GET /api/status") && e.response.contains("401")),
        "{:?}",
        f.evidence
    );
    assert_read_only(&hits);
}

/// KB-05: 5.x with X-Pack security: everything redirects to the login page; the version
/// comes from the `kbn-version` header.
#[tokio::test]
async fn kb_05_redirect_to_login_is_auth_required_with_header_version() {
    let kibana = Kibana {
        name: random_ascii_name(),
        kbn_version: Some("5.1.1"),
        root: redirect("/login?next=%2F").header("kbn-xpack-sig", &random_hex(32)),
        status: redirect("/login?next=%2Fapi%2Fstatus").header("kbn-xpack-sig", &random_hex(32)),
        saved: redirect("/login?next=%2Fapi%2Fsaved_objects%2F_find"),
        login: Some(
            Reply::new("200 OK", KB_06_LOGIN).header("content-type", "text/html; charset=utf-8"),
        ),
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_auth_required(&f);
    assert_eq!(f.version.as_deref(), Some("5.1.1"), "{f:#?}");
    assert!(f.severity <= Severity::Low, "{f:#?}");
    assert_read_only(&hits);
}

/// `status.allowAnonymous`: the full status is public but saved objects are 401 ->
/// auth-required, with the version; metadata only, so Low.
#[tokio::test]
async fn kb_anonymous_status_but_saved_objects_401_is_auth_required() {
    let (status, name) = vary_status(KB_01_8_12_2);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/login?next=%2F"),
        status: kjson("200 OK", &status),
        saved: kb_401(),
        login: Some(
            Reply::new("200 OK", KB_06_LOGIN).header("content-type", "text/html; charset=utf-8"),
        ),
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_auth_required(&f);
    assert_eq!(f.version.as_deref(), Some("8.12.2"), "{f:#?}");
    assert_eq!(f.severity, Severity::Low, "{f:#?}");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.request.starts_with("GET /api/saved_objects/_find")
                && e.response.contains("401")),
        "{:?}",
        f.evidence
    );
    assert_saved_objects_asked(&hits);
    assert_read_only(&hits);
}

/// `kbn-name` is `server.name`, which operators may set to any text; Node.js sends Latin-1
/// bytes as they are, so the header value may not be printable ASCII. The header's
/// presence identifies Kibana, whatever its value.
#[tokio::test]
async fn kb_non_ascii_server_name_is_still_kibana() {
    let (status, _) = vary_status(KB_01_8_12_2);
    let kibana = Kibana {
        name: "Kibana Zürich".into(),
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &saved_objects(&["logs-*"])),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_kibana_open(&f, "8.12.2", &["logs-*"]);
    assert_read_only(&hits);
}

/// Kibana behind a proxy at `/kibana/` (`server.basePath`), target
/// `http://127.0.0.1:PORT/kibana/`: every request stays under the prefix.
#[tokio::test]
async fn kb_behind_path_prefix_stays_under_it() {
    let (status, name) = vary_status(KB_02_7_17_0);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/kibana/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &saved_objects(&["logs-*"])),
        login: None,
    };
    let (server, hits) = http_server(false, kibana.routes_under("/kibana/")).await;
    let url = format!("http://127.0.0.1:{}/kibana/", server.addr.port());
    let f = found_with(support::probe(&endpoint_of(&url)).await, &hits);
    assert_kibana_open_under(&f, "7.17.0", &["logs-*"], "/kibana/");
    assert_eq!(f.url.as_deref(), Some(url.as_str()));
    assert_all_under(&hits, "/kibana/");
    assert_read_only_under(&hits, "/kibana/");
}

/// OpenSearch Dashboards, the Kibana 7.10.2 fork: every response carries `osd-name`
/// (opensearch-project/OpenSearch-Dashboards `src/core/server/http/lifecycle_handlers.ts`,
/// `OPENSEARCH_DASHBOARDS_NAME_HEADER`), `/api/status` keeps Kibana 7.10's v7 format (KB-02
/// shape) and the saved-objects API is unchanged. Values are examples.
fn osd(status: Reply, saved: Reply) -> Routes {
    let stamp = |r: Reply| r.header("osd-name", "dashboards-1");
    Routes::new()
        .at("/", stamp(redirect("/app/home")))
        .at("/api/status", stamp(status))
        .at("/api/saved_objects/_find", stamp(saved))
        .otherwise(stamp(kb_404()))
}

const OSD_2_11_STATUS: &str = r#"{"name":"dashboards-1","uuid":"5b2de169-2785-441b-ae8c-186a1936b17d","version":{"number":"2.11.0","build_hash":"4f5c3d2c7e0b4b2fa1f0c0e5a8d3b6c9e1f2a3b4","build_number":6976,"build_snapshot":false},"status":{"overall":{"since":"2024-01-10T10:00:00.000Z","state":"green","title":"Green","nickname":"Looking good","icon":"success","uiColor":"secondary"},"statuses":[{"id":"core:opensearch@2.11.0","message":"OpenSearch is available","since":"2024-01-10T10:00:00.000Z","state":"green","icon":"success","uiColor":"secondary"}]},"metrics":{"last_updated":"2024-01-10T10:00:05.000Z","collection_interval_in_millis":5000}}"#;

#[tokio::test]
async fn opensearch_dashboards_open_and_protected() {
    let routes = osd(
        kjson("200 OK", OSD_2_11_STATUS),
        kjson("200 OK", &saved_objects(&["logs-*", "security-auditlog-*"])),
    );
    let (server, hits) = http_server(false, routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.service.as_str(), f.exposure, f.severity),
        ("opensearch-dashboards", Exposure::Open, Severity::High),
        "{f:#?}"
    );
    assert_eq!(f.version.as_deref(), Some("2.11.0"));
    assert_eq!(f.inventory.as_ref().map(|i| i.total_items), Some(2));
    assert!(
        f.evidence[0].response.contains("osd-name"),
        "{:?}",
        f.evidence
    );
    assert_read_only(&hits);

    // Security plugin on: the status API refuses (hapi's 401 envelope).
    let routes = osd(
        kjson(
            "401 Unauthorized",
            r#"{"statusCode":401,"error":"Unauthorized","message":"Authentication required"}"#,
        ),
        kb_401(),
    );
    let (server, hits) = http_server(false, routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.service.as_str(), f.exposure, f.severity),
        (
            "opensearch-dashboards",
            Exposure::AuthRequired,
            Severity::Info
        ),
        "{f:#?}"
    );

    // A 404 on saved objects is no "pre-6.0 Kibana": Dashboards 2.x is not open on status alone.
    let routes = osd(kjson("200 OK", OSD_2_11_STATUS), kb_404());
    let (server, hits) = http_server(false, routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
}

/// Issue 5, item 4: a saved-objects answer far past 64 KiB (1,500 index patterns, as a
/// hostile or very large instance may send) is read by the typed parser: open, at most
/// 1,000 titles kept (the buffer too), every object counted, marked truncated.
#[tokio::test]
async fn kb_large_saved_objects_listing_is_capped() {
    let (status, name) = vary_status(KB_01_8_12_2);
    let titles: Vec<String> = (0..1_500).map(|n| format!("logs-{n:04}-*")).collect();
    let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
    // One page of 1,500 objects: a page as large as the answer says it is (per_page
    // 10000, Kibana's largest), so it agrees with itself and is judged on its size.
    let body = saved_objects(&refs).replace("\"per_page\":100,", "\"per_page\":10000,");
    assert!(body.contains("\"per_page\":10000"));
    assert!(body.len() > 64 << 10, "{} bytes", body.len());
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &body),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.service.as_str(), f.exposure, f.severity),
        ("kibana", Exposure::Open, Severity::High),
        "{f:#?}"
    );
    assert_eq!(
        f.summary,
        "Kibana serves its API without credentials (1500 index patterns); it reads the cluster's data for anyone"
    );
    let inv = f.inventory.as_ref().expect("inventory");
    assert_eq!(inv.items.len(), 1000);
    assert!(inv.items.capacity() <= 1000, "{}", inv.items.capacity());
    assert_eq!((inv.total_items, inv.user_items), (1500, 1500));
    assert!(inv.truncated);
    assert_eq!(inv.items[0].name, "logs-0000-*");
    assert_read_only(&hits);
}

/// Issue 5, item 5: "1 index pattern", not "1 index patterns".
#[tokio::test]
async fn kb_summary_says_1_index_pattern() {
    let (status, name) = vary_status(KB_02_7_17_0);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson("200 OK", &saved_objects(&["logs-*"])),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_kibana_open(&f, "7.17.0", &["logs-*"]);
    assert_eq!(
        f.summary,
        "Kibana serves its API without credentials (1 index pattern); it reads the cluster's data for anyone"
    );
    let saved = f
        .evidence
        .iter()
        .find(|e| e.request.starts_with("GET /api/saved_objects/_find"))
        .expect("saved objects evidence");
    assert!(
        saved
            .response
            .ends_with(": 1 index pattern listed without credentials"),
        "{saved:?}"
    );
    assert_read_only(&hits);
}

/// A `_find` page that holds fewer objects than its own `total` and `per_page` allow is
/// not an answer Kibana sends (a stub or a decoy): the full status came back without
/// credentials, so the verdict is `undetermined`, never `open` with a total taken on trust
/// (before: "open, 18446744073709551615 index patterns").
#[tokio::test]
async fn kb_find_page_that_contradicts_its_total_is_undetermined() {
    let (status, name) = vary_status(KB_01_8_12_2);
    let kibana = Kibana {
        name,
        kbn_version: None,
        root: redirect("/spaces/enter"),
        status: kjson("200 OK", &status),
        saved: kjson(
            "200 OK",
            r#"{"page":1,"per_page":100,"total":18446744073709551615,"saved_objects":[{"type":"index-pattern","id":"1","attributes":{"title":"logs-*"},"references":[]}]}"#,
        ),
        login: None,
    };
    let (server, hits) = kibana.serve().await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.service.as_str(), f.exposure, f.severity),
        ("kibana", Exposure::Undetermined, Severity::Low),
        "{f:#?}"
    );
    assert_eq!(
        f.summary,
        "Kibana access could not be judged: the full status is served without credentials, but the saved-objects answer is not a listing Kibana sends"
    );
    assert!(f.inventory.is_none());
    assert_read_only(&hits);
}
