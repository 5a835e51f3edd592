//! Elasticsearch 1.x-8.x, OpenSearch and Amazon OpenSearch Service against the HTTP probe,
//! as an independent spec written from the documented responses in protocols.md sections 1,
//! 2 and 7 (case ids ES-01.., OS-01.., AWS-01, T-..). Banners come from the files in
//! `tests/fixtures/elastic/` (see its SOURCES.md), with names, UUIDs and hashes randomised
//! per run; `_cat/indices` and `_mapping` answers are generated in the documented shapes.
//!
//! The contract: `GET /` (under the base path), a random missing path (404 on a real
//! cluster), `GET _cat/indices?format=json&bytes=b&v`, then `GET <indices>/_mapping` for the
//! biggest user indices; only GETs, never a search or a document.

use std::collections::BTreeSet;
use std::sync::Arc;

use ajar::finding::{DataSet, Exposure, Finding, Outcome, Severity};
use ajar::targets::{Endpoint, TargetSpec, parse_target};
use serde_json::{Value, json};

use crate::support::hostile::{random_u64, tls_or_plain};
use crate::support::http_fake::{Hits, Reply, Routes, http_server, lines, targets};
use crate::support::{self, FakeServer, requests};

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// ES-01: Elasticsearch 1.7.2 `GET /` (real capture).
pub(crate) const ES_01_1_7_2: &str = include_str!("fixtures/elastic/es-01-1.7.2-root.json");
/// ES-02: Elasticsearch 2.4.1 `GET /` (shape from the 2.4.1 source).
pub(crate) const ES_02_2_4_1: &str = include_str!("fixtures/elastic/es-02-2.4.1-root.json");
/// ES-03: Elasticsearch 5.6.16 `GET /` (shape from 5.x MainResponse).
pub(crate) const ES_03_5_6_16: &str = include_str!("fixtures/elastic/es-03-5.6.16-root.json");
/// ES-04: Elasticsearch 6.5.4 `GET /` (real capture).
pub(crate) const ES_04_6_5_4: &str = include_str!("fixtures/elastic/es-04-6.5.4-root.json");
/// ES-04b: Elasticsearch 6.2.4 `GET /`, no build_flavor/build_type.
pub(crate) const ES_04B_6_2_4: &str = include_str!("fixtures/elastic/es-04b-6.2.4-root.json");
/// ES-05: Elasticsearch 7.2.0 `GET /` (real capture).
pub(crate) const ES_05_7_2_0: &str = include_str!("fixtures/elastic/es-05-7.2.0-root.json");
/// ES-05b: Elasticsearch 7.10.2 OSS `GET /`.
pub(crate) const ES_05B_7_10_2_OSS: &str =
    include_str!("fixtures/elastic/es-05b-7.10.2-oss-root.json");
/// ES-05c: Elasticsearch 7.16.2 `GET /` (served with X-elastic-product and Warning).
pub(crate) const ES_05C_7_16_2: &str = include_str!("fixtures/elastic/es-05c-7.16.2-root.json");
/// ES-06: Elasticsearch 8.12.2 `GET /`, security off (real capture).
pub(crate) const ES_06_8_12_2: &str = include_str!("fixtures/elastic/es-06-8.12.2-root.json");
/// OS-01: OpenSearch 2.8.0 `GET /`.
pub(crate) const OS_01_2_8_0: &str = include_str!("fixtures/elastic/os-01-2.8.0-root.json");
/// OS-01b: OpenSearch 1.2.4 `GET /`.
pub(crate) const OS_01B_1_2_4: &str = include_str!("fixtures/elastic/os-01b-1.2.4-root.json");
/// OS-01c: OpenSearch in compatibility mode, reporting 7.10.2.
pub(crate) const OS_01C_COMPAT: &str =
    include_str!("fixtures/elastic/os-01c-2.11.1-compat-root.json");
/// ES-10: 5.x/6.x X-Pack security 401 body.
pub(crate) const ES_10_401: &str = include_str!("fixtures/elastic/es-10-6.x-xpack-401.json");
/// ES-11: 7.x security 401 body.
pub(crate) const ES_11_401: &str = include_str!("fixtures/elastic/es-11-7.x-401.json");
/// ES-12: 8.0-8.14 HTTPS 401 body (three WWW-Authenticate values).
pub(crate) const ES_12_401: &str = include_str!("fixtures/elastic/es-12-8.12-https-401.json");
/// ES-12b: 8.15+ HTTPS 401 body (realm comma).
pub(crate) const ES_12B_401: &str = include_str!("fixtures/elastic/es-12b-8.15-https-401.json");
/// ES-14: wrong credentials 401 body.
pub(crate) const ES_14_401: &str =
    include_str!("fixtures/elastic/es-14-7.x-wrong-credentials-401.json");
/// ES-15: anonymous user without `monitor`, 7.x 403 body.
pub(crate) const ES_15_403_7X: &str = include_str!("fixtures/elastic/es-15-7.x-anonymous-403.json");
/// ES-15: the same on 8.x, with the effective-roles suffix.
pub(crate) const ES_15_403_8X: &str = include_str!("fixtures/elastic/es-15-8.x-anonymous-403.json");
/// AWS-01: Amazon OpenSearch Service IAM denial.
pub(crate) const AWS_01_403: &str = include_str!("fixtures/elastic/aws-01-403.json");
/// AWS-01 (newer domains): with the resource-policy suffix.
pub(crate) const AWS_01_403_POLICY: &str =
    include_str!("fixtures/elastic/aws-01-resource-policy-403.json");
/// T-04: the elastichoney banner, byte for byte.
pub(crate) const T_04_ELASTICHONEY: &str =
    include_str!("fixtures/elastic/t-04-elastichoney-root.json");
/// T-12: a 1.x cluster's 503 under the "state not recovered" global block.
pub(crate) const T_12_BLOCK_1X: &str =
    include_str!("fixtures/elastic/t-12-1.x-cluster-block-503.json");
/// T-12: the same block in the 2.x+ `root_cause` envelope.
pub(crate) const T_12_BLOCK_2X: &str =
    include_str!("fixtures/elastic/t-12-2.x-cluster-block-503.json");

/// ES's default 401 challenge before 8.15 (no comma).
pub(crate) const BASIC_SECURITY: &str = r#"Basic realm="security" charset="UTF-8""#;
/// ES's 401 challenge from 8.15 (elastic/elasticsearch#110906).
pub(crate) const BASIC_SECURITY_815: &str = r#"Basic realm="security", charset="UTF-8""#;

// ---------------------------------------------------------------------------------------
// Randomised example values
// ---------------------------------------------------------------------------------------

/// A random lowercase hex string of `len` characters.
pub(crate) fn random_hex(len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(len);
    s
}

/// A random URL-safe base64 id like a cluster or node UUID (22 characters).
pub(crate) fn random_uuid() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..22)
        .map(|_| ALPHABET[(random_u64() % 64) as usize] as char)
        .collect()
}

/// A random name of ASCII letters, digits and dashes (a header-safe server name).
pub(crate) fn random_ascii_name() -> String {
    let tag = random_hex(6);
    match random_u64() % 3 {
        0 => format!("kibana-{tag}"),
        1 => format!("ip-10-0-{}-{}", random_u64() % 256, random_u64() % 256),
        _ => format!("Kibana-Prod-{tag}"),
    }
}

/// A random cluster or node name; sometimes with spaces, capitals or non-ASCII letters,
/// as operators name things.
pub(crate) fn random_name() -> String {
    let tag = random_hex(6);
    match random_u64() % 6 {
        0 => format!("prod-eu-west-{tag}"),
        1 => format!("Data Lake {tag}"),
        2 => format!("clüster-{tag}"),
        3 => format!("123456789012:search-{tag}"),
        4 => format!("es_{tag}"),
        _ => format!("node-{tag}.internal"),
    }
}

/// A banner as served, with the values a test may assert on.
#[derive(Clone, Debug)]
pub(crate) struct Banner {
    /// The body, with randomised example values.
    pub body: String,
    /// `cluster_name` in the body.
    pub cluster_name: String,
    /// `version.number` in the body.
    pub version: String,
}

/// Replaces the example values of a pretty-printed `GET /` fixture (node name, cluster
/// name, cluster UUID, build hash of the same length) with random ones.
pub(crate) fn vary(fixture: &str) -> Banner {
    let cluster_name = random_name();
    let mut out = String::new();
    for line in fixture.split_inclusive('\n') {
        let key = line.trim_start();
        let indent = &line[..line.len() - key.len()];
        let ending = if line.ends_with('\n') { "\n" } else { "" };
        let comma = if key.trim_end().ends_with(',') {
            ","
        } else {
            ""
        };
        let value_of = |k: &str| -> Option<String> {
            let rest = key.strip_prefix(&format!("\"{k}\" : \""))?;
            Some(rest.split('"').next().unwrap_or_default().to_string())
        };
        let replaced = if value_of("name").is_some() {
            Some(format!("\"name\" : \"{}\"", random_name()))
        } else if value_of("cluster_name").is_some() {
            Some(format!("\"cluster_name\" : \"{cluster_name}\""))
        } else if value_of("cluster_uuid").is_some() {
            Some(format!("\"cluster_uuid\" : \"{}\"", random_uuid()))
        } else {
            value_of("build_hash")
                .map(|old| format!("\"build_hash\" : \"{}\"", random_hex(old.len())))
        };
        match replaced {
            Some(text) => out.push_str(&format!("{indent}{text}{comma}{ending}")),
            None => out.push_str(line),
        }
    }
    let parsed: Value = serde_json::from_str(&out).expect("varied fixture is JSON");
    let version = parsed["version"]["number"]
        .as_str()
        .expect("version.number")
        .to_string();
    Banner {
        body: out,
        cluster_name,
        version,
    }
}

// ---------------------------------------------------------------------------------------
// A fake Elasticsearch cluster
// ---------------------------------------------------------------------------------------

/// Wire generations whose answers differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gen {
    /// 1.x: no uuid column, typed mappings, old error bodies.
    V1,
    /// 2.x: typed mappings (`string` fields).
    V2,
    /// 5.x: typed mappings, several types per index.
    V5,
    /// 6.x: one type per index (`doc`/`_doc`).
    V6,
    /// 7.x: typeless mappings.
    V7,
    /// 8.x: typeless, `dataset.size`, chunked cat responses.
    V8,
    /// OpenSearch 1.x/2.x: typeless.
    Os,
}

impl Gen {
    fn typed(self) -> bool {
        matches!(self, Gen::V1 | Gen::V2 | Gen::V5 | Gen::V6)
    }
}

/// One index of the fake cluster.
#[derive(Clone, Debug)]
pub(crate) struct Ix {
    /// Index name.
    pub name: String,
    /// `docs.count` (None: a closed index, shown as null).
    pub docs: Option<u64>,
    /// `store.size` in bytes (None: closed).
    pub bytes: Option<u64>,
    /// `health`.
    pub health: &'static str,
    /// `status`.
    pub status: &'static str,
    /// Mapping types and their `properties` (typeless generations use the first only).
    pub types: Vec<(String, Value)>,
}

/// An open index with documents and a size.
pub(crate) fn ix(name: &str, docs: u64, bytes: u64) -> Ix {
    Ix {
        name: name.into(),
        docs: Some(docs),
        bytes: Some(bytes),
        health: "green",
        status: "open",
        types: Vec::new(),
    }
}

impl Ix {
    /// Sets the properties of the (single) mapping type `_doc`.
    pub fn props(mut self, props: Value) -> Ix {
        self.types = vec![("_doc".into(), props)];
        self
    }

    /// Sets named mapping types (1.x-6.x).
    pub fn typed(mut self, types: &[(&str, Value)]) -> Ix {
        self.types = types
            .iter()
            .map(|(t, p)| (t.to_string(), p.clone()))
            .collect();
        self
    }

    /// Sets the health.
    pub fn health(mut self, health: &'static str) -> Ix {
        self.health = health;
        self
    }

    fn mapping(&self, generation: Gen) -> Value {
        if self.types.is_empty() {
            return json!({ "mappings": {} });
        }
        if generation.typed() {
            let mut types = serde_json::Map::new();
            for (name, props) in &self.types {
                types.insert(name.clone(), json!({ "properties": props }));
            }
            json!({ "mappings": types })
        } else {
            json!({ "mappings": { "properties": self.types[0].1 } })
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string to JSON")
}

fn opt_num(v: Option<u64>) -> String {
    v.map_or_else(|| "null".to_string(), |n| json_str(&n.to_string()))
}

/// `_cat/indices?format=json&bytes=b&v` as `generation` writes it (ES-21): every value is a
/// string, missing values of a closed index are null.
pub(crate) fn cat_json(generation: Gen, indices: &[Ix]) -> String {
    let rows: Vec<String> = indices
        .iter()
        .map(|i| {
            let mut row = vec![
                format!("\"health\":{}", json_str(i.health)),
                format!("\"status\":{}", json_str(i.status)),
                format!("\"index\":{}", json_str(&i.name)),
            ];
            if generation != Gen::V1 {
                row.push(format!("\"uuid\":{}", json_str(&random_uuid())));
            }
            row.push("\"pri\":\"1\"".into());
            row.push("\"rep\":\"1\"".into());
            row.push(format!("\"docs.count\":{}", opt_num(i.docs)));
            row.push(format!(
                "\"docs.deleted\":{}",
                if i.docs.is_some() { "\"0\"" } else { "null" }
            ));
            row.push(format!("\"store.size\":{}", opt_num(i.bytes)));
            row.push(format!(
                "\"pri.store.size\":{}",
                opt_num(i.bytes.map(|b| b / 2))
            ));
            if generation == Gen::V8 {
                row.push(format!(
                    "\"dataset.size\":{}",
                    opt_num(i.bytes.map(|b| b / 2))
                ));
            }
            format!("{{{}}}", row.join(","))
        })
        .collect();
    format!("[{}]", rows.join(","))
}

/// The 1.x `_cat/indices?v&bytes=b` text table (ES-20 layout with the 1.x column set:
/// no uuid), space-aligned, text columns left-aligned and numbers right-aligned.
pub(crate) fn cat_text_1x(indices: &[Ix]) -> String {
    let header = [
        "health",
        "status",
        "index",
        "pri",
        "rep",
        "docs.count",
        "docs.deleted",
        "store.size",
        "pri.store.size",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for i in indices {
        rows.push(vec![
            i.health.into(),
            i.status.into(),
            i.name.clone(),
            "5".into(),
            "1".into(),
            i.docs.map(|d| d.to_string()).unwrap_or_default(),
            "0".into(),
            i.bytes.map(|b| b.to_string()).unwrap_or_default(),
            i.bytes.map(|b| (b / 2).to_string()).unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c <= 2 {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join(" ").trim_end());
        out.push('\n');
    }
    out
}

/// Decodes `%XX` escapes of a path segment (UTF-8); None when malformed.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The 404 a real cluster gives `GET /<missing>` (an index GET), by generation.
pub(crate) fn missing_index(generation: Gen, name: &str) -> Reply {
    let body = if generation == Gen::V1 {
        format!(
            "{{\"error\":{},\"status\":404}}",
            json_str(&format!("IndexMissingException[[{name}] missing]"))
        )
    } else {
        let reason = json_str(&format!("no such index [{name}]"));
        let n = json_str(name);
        let cause = format!(
            "\"type\":\"index_not_found_exception\",\"reason\":{reason},\"resource.type\":\"index_or_alias\",\"resource.id\":{n},\"index_uuid\":\"_na_\",\"index\":{n}"
        );
        format!("{{\"error\":{{\"root_cause\":[{{{cause}}}],{cause}}},\"status\":404}}")
    };
    Reply::new("404 Not Found", body).header("content-type", "application/json; charset=UTF-8")
}

/// A fake cluster: a banner, optionally indices, and the 404s of a real one.
#[derive(Clone)]
pub(crate) struct Cluster {
    /// Wire generation.
    pub generation: Gen,
    /// The `GET /` reply.
    pub banner: Reply,
    /// Path prefix the cluster answers under (`/` or `/es/`).
    pub prefix: String,
    /// Indices; None leaves `_cat/indices` to `cat` or a 404.
    pub indices: Option<Vec<Ix>>,
    /// A `_cat/indices` reply that overrides the generated one.
    pub cat: Option<Reply>,
    /// Headers added to every reply (X-elastic-product, Warning).
    pub headers: Vec<(String, String)>,
    /// Send generated `_cat/indices` chunked.
    pub chunked_cat: bool,
    /// A reply to every `_mapping` request that overrides the generated one.
    pub mapping: Option<Reply>,
}

impl Cluster {
    /// An open cluster of `generation` with `banner` and `indices`.
    pub fn new(generation: Gen, banner: &Banner, indices: Vec<Ix>) -> Cluster {
        Cluster {
            generation,
            banner: Reply::json(&banner.body),
            prefix: "/".into(),
            indices: Some(indices),
            cat: None,
            headers: Vec::new(),
            chunked_cat: generation == Gen::V8,
            mapping: None,
        }
    }

    /// The routes of this cluster.
    pub fn routes(&self) -> Routes {
        let headers = Arc::new(self.headers.clone());
        let with_headers = {
            let headers = headers.clone();
            move |mut reply: Reply| {
                for (k, v) in headers.iter() {
                    reply = reply.header(k, v);
                }
                reply
            }
        };
        let prefix = self.prefix.clone();
        let generation = self.generation;
        let mut routes = Routes::new().at(&prefix, with_headers(self.banner.clone()));
        let cat = match (&self.cat, &self.indices) {
            (Some(reply), _) => Some(reply.clone()),
            (None, Some(indices)) => {
                let reply = Reply::json(&cat_json(generation, indices));
                Some(if self.chunked_cat {
                    reply.chunked(97)
                } else {
                    reply
                })
            }
            (None, None) => None,
        };
        if let Some(cat) = cat {
            routes = routes.at(&format!("{prefix}_cat/indices"), with_headers(cat));
        }
        let indices = Arc::new(self.indices.clone().unwrap_or_default());
        let mapping = self.mapping.clone();
        let with_headers = Arc::new(with_headers);
        routes.handler(move |target| {
            let path = target.split('?').next().unwrap_or(target);
            let Some(rest) = path.strip_prefix(prefix.as_str()) else {
                return Some(with_headers(
                    Reply::new("404 Not Found", "").header("content-type", "text/plain"),
                ));
            };
            let reply = if let (Some(reply), true) = (&mapping, rest.ends_with("_mapping")) {
                reply.clone()
            } else if let Some(list) = rest.strip_suffix("/_mapping") {
                // Elasticsearch decodes the path parameter, then splits it on commas.
                let Some(list) = percent_decode(list) else {
                    return Some(with_headers(missing_index(generation, list)));
                };
                let mut body = serde_json::Map::new();
                for name in list.split(',').map(str::to_string) {
                    match indices.iter().find(|i| i.name == name) {
                        Some(i) => {
                            body.insert(name.clone(), i.mapping(generation));
                        }
                        None => return Some(with_headers(missing_index(generation, &name))),
                    }
                }
                Reply::json(&Value::Object(body).to_string())
            } else if rest == "_mapping" {
                let mut body = serde_json::Map::new();
                for i in indices.iter() {
                    body.insert(i.name.clone(), i.mapping(generation));
                }
                Reply::json(&Value::Object(body).to_string())
            } else if rest.starts_with('_') || rest.contains('/') {
                let uri = json_str(&format!(
                    "no handler found for uri [{path}] and method [GET]"
                ));
                Reply::new("400 Bad Request", format!("{{\"error\":{uri}}}"))
                    .header("content-type", "application/json; charset=UTF-8")
            } else {
                let name = percent_decode(rest).unwrap_or_else(|| rest.to_string());
                missing_index(generation, &name)
            };
            Some(with_headers(reply))
        })
    }

    /// Serves the cluster (over TLS when `tls`).
    pub async fn serve(&self, tls: bool) -> (FakeServer, Hits) {
        http_server(tls, self.routes()).await
    }
}

/// A cluster with security on: every path answers `status` with `body` (the URI in
/// `[...]` echoed as Elasticsearch does) and the given headers.
pub(crate) fn secured(status: &str, body: &str, headers: &[(&str, &str)]) -> Routes {
    let body = body.to_string();
    let status = status.to_string();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Routes::new().handler(move |target| {
        let mut reply = Reply::new(&status, body.replace("[/]", &format!("[{target}]")));
        for (k, v) in &headers {
            reply = reply.header(k, v);
        }
        Some(reply)
    })
}

// ---------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------

/// Every request was a GET, and none searched, fetched documents or sources.
pub(crate) fn assert_read_only(hits: &Hits) {
    assert_read_only_under(hits, "/");
}

/// [`assert_read_only`] for a service under a path prefix (`/es/`, `/kibana/`).
pub(crate) fn assert_read_only_under(hits: &Hits, prefix: &str) {
    let seen = lines(hits);
    assert!(!seen.is_empty(), "the server saw no request");
    for line in &seen {
        assert!(
            line.starts_with("GET "),
            "not a GET: {line:?} (all: {seen:?})"
        );
        let target = line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_ascii_lowercase();
        for word in [
            "_search", "_doc", "_source", "_mget", "_msearch", "_sql", "scroll", "_count",
        ] {
            assert!(
                !target.contains(word),
                "{line:?} touches {word} (all: {seen:?})"
            );
        }
        let path = target.split('?').next().unwrap_or_default();
        let path = path.strip_prefix(prefix).unwrap_or(path);
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // A path a shipped probe file declares is reviewed in that file; any other
        // three-segment path with no `_` endpoint is an Elasticsearch document GET.
        let declared = probe_file_paths()
            .iter()
            .any(|p| !p.is_empty() && p != "/" && format!("/{path}").starts_with(p.as_str()));
        assert!(
            declared || segments.len() < 3 || segments.iter().any(|s| s.starts_with('_')),
            "{line:?} looks like a document GET /index/type/id (all: {seen:?})"
        );
    }
}

/// The paths (lowercase, query cut) of every request the shipped probe files declare.
fn probe_file_paths() -> Vec<String> {
    let rules = ajar::rules::RuleSet::shipped().expect("shipped probes compile");
    rules
        .iter()
        .flat_map(|r| r.requests())
        .map(|(_, path)| {
            let path = path.split('?').next().unwrap_or_default();
            path.to_ascii_lowercase()
        })
        .collect()
}

/// Every request line's target starts with `prefix`.
pub(crate) fn assert_all_under(hits: &Hits, prefix: &str) {
    for target in targets(hits) {
        assert!(
            target.starts_with(prefix),
            "{target:?} is outside the base path {prefix:?} (all: {:?})",
            targets(hits)
        );
    }
}

/// The request targets whose path is `path` (any query).
pub(crate) fn hits_on(hits: &Hits, path: &str) -> usize {
    targets(hits)
        .iter()
        .filter(|t| t.split('?').next() == Some(path))
        .count()
}

/// The finding's inventory item names, in order.
pub(crate) fn item_names(f: &Finding) -> Vec<String> {
    f.inventory
        .as_ref()
        .expect("an open finding has an inventory")
        .items
        .iter()
        .map(|i| i.name.clone())
        .collect()
}

/// The inventory item called `name`.
pub(crate) fn item<'a>(f: &'a Finding, name: &str) -> &'a DataSet {
    f.inventory
        .as_ref()
        .expect("inventory")
        .items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no item {name:?} in {:?}", item_names(f)))
}

/// `(field, category)` pairs of an item.
pub(crate) fn pii(f: &Finding, name: &str) -> BTreeSet<(String, String)> {
    item(f, name)
        .pii_fields
        .iter()
        .map(|h| (h.field.clone(), h.category.clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect()
}

/// Asserts that `item` holds every expected PII pair and flags none of `not_pii`.
pub(crate) fn assert_pii(f: &Finding, name: &str, expected: &[(&str, &str)], not_pii: &[&str]) {
    let got = pii(f, name);
    let missing: Vec<_> = pairs(expected).difference(&got).cloned().collect();
    assert!(
        missing.is_empty(),
        "{name}: missing PII hints {missing:?}; got {got:?}"
    );
    for (field, category) in &got {
        assert!(
            !not_pii.contains(&field.as_str()),
            "{name}: {field:?} flagged as {category:?}, but it is not personal data; got {got:?}"
        );
        assert!(
            !field.ends_with(".keyword") && !field.ends_with(".raw"),
            "{name}: a multi-field sub-field {field:?} is reported; report its parent; got {got:?}"
        );
    }
}

/// The common checks of an open finding.
pub(crate) fn assert_open(
    f: &Finding,
    server: &FakeServer,
    service: &str,
    banner: &Banner,
    severity: Severity,
) {
    assert_eq!(f.exposure, Exposure::Open, "{f:#?}");
    assert_eq!(f.service, service, "{f:#?}");
    assert_eq!(
        f.version.as_deref(),
        Some(banner.version.as_str()),
        "{f:#?}"
    );
    assert_eq!(f.severity, severity, "{f:#?}");
    assert_eq!(f.endpoint, format!("127.0.0.1:{}", server.addr.port()));
    assert!(
        f.details
            .iter()
            .any(|(k, v)| k == "cluster_name" && v == &banner.cluster_name),
        "details lack cluster_name {:?}: {:?}",
        banner.cluster_name,
        f.details
    );
    let inv = f
        .inventory
        .as_ref()
        .expect("an open finding has an inventory");
    assert_eq!(inv.unit, "index");
    assert!(!inv.truncated, "nothing was cut: {inv:#?}");
}

/// Checks items, order, counts and sums against the cluster's indices: user indices by
/// documents descending, then system ones.
pub(crate) fn assert_inventory(f: &Finding, indices: &[Ix]) {
    let inv = f.inventory.as_ref().expect("inventory");
    let names = item_names(f);
    let user_count = indices.iter().filter(|i| !i.name.starts_with('.')).count();
    let leading: BTreeSet<&str> = names.iter().take(user_count).map(String::as_str).collect();
    let user: BTreeSet<&str> = indices
        .iter()
        .filter(|i| !i.name.starts_with('.'))
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(leading, user, "user indices come first: {names:?}");
    let docs_in_order: Vec<u64> = inv
        .items
        .iter()
        .take(user_count)
        .map(|i| i.documents.unwrap_or(0))
        .collect();
    assert!(
        docs_in_order.windows(2).all(|w| w[0] >= w[1]),
        "user indices with most documents first: {names:?} {docs_in_order:?}"
    );
    let all: BTreeSet<&str> = indices.iter().map(|i| i.name.as_str()).collect();
    let got: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(got, all, "every index listed once");
    assert_eq!(names.len(), indices.len(), "no duplicates: {names:?}");
    for i in indices {
        let item = item(f, &i.name);
        assert_eq!(item.documents, i.docs, "{}: documents", i.name);
        assert_eq!(item.size_bytes, i.bytes, "{}: size_bytes", i.name);
        assert_eq!(item.health.as_deref(), Some(i.health), "{}: health", i.name);
        assert_eq!(item.system, i.name.starts_with('.'), "{}: system", i.name);
    }
    assert_eq!(inv.total_items, indices.len() as u64);
    assert_eq!(
        inv.user_items,
        indices.iter().filter(|i| !i.name.starts_with('.')).count() as u64
    );
    let docs: u64 = indices.iter().filter_map(|i| i.docs).sum();
    let bytes: u64 = indices.iter().filter_map(|i| i.bytes).sum();
    if indices.is_empty() {
        assert!(inv.items.is_empty());
        assert!(matches!(inv.total_documents, None | Some(0)), "{inv:?}");
        assert!(matches!(inv.total_size_bytes, None | Some(0)), "{inv:?}");
    } else {
        assert_eq!(inv.total_documents, Some(docs), "total_documents");
        assert_eq!(inv.total_size_bytes, Some(bytes), "total_size_bytes");
    }
}

/// The evidence shows `GET <prefix>` first and the `_cat/indices` request with a 200.
pub(crate) fn assert_evidence(f: &Finding, prefix: &str) {
    let reqs = requests(f);
    let first_path = reqs
        .first()
        .and_then(|r| r.split_whitespace().nth(1))
        .unwrap_or_default();
    assert_eq!(
        first_path, prefix,
        "first evidence is GET {prefix}: {reqs:?}"
    );
    let cat = f
        .evidence
        .iter()
        .find(|e| e.request.starts_with(&format!("GET {prefix}_cat/indices")))
        .unwrap_or_else(|| panic!("no _cat/indices evidence: {reqs:?}"));
    assert!(cat.request.contains("format=json"), "{cat:?}");
    assert!(cat.response.contains("200"), "{cat:?}");
}

/// The outcome is a finding, with the request lines in the panic message otherwise.
pub(crate) fn found_with(outcome: Outcome, hits: &Hits) -> Finding {
    match outcome {
        Outcome::Found(f) => *f,
        other => panic!(
            "expected a finding, got {other:?}; requests: {:?}",
            lines(hits)
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Mappings
// ---------------------------------------------------------------------------------------

fn kw() -> Value {
    json!({"type": "keyword"})
}

fn text_kw() -> Value {
    json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
}

/// A 7.x+ mapping with one field for every PII category, nested objects and multi-fields,
/// next to fields that are not personal.
fn customer_props_7x() -> Value {
    json!({
        "@timestamp": {"type": "date"},
        "name": text_kw(),
        "title": text_kw(),
        "message": {"type": "text"},
        "status": kw(),
        "description": {"type": "text"},
        "shipping_method": kw(),
        "tags": kw(),
        "customer": {"properties": {
            "email": kw(),
            "phone_number": kw(),
            "first_name": text_kw(),
            "lastName": text_kw(),
            "date_of_birth": {"type": "date"},
            "address": {"properties": {
                "street_address": text_kw(),
                "zip": kw()
            }}
        }},
        "payment": {"properties": {
            "credit_card_number": kw(),
            "iban": kw(),
            "amount": {"type": "scaled_float", "scaling_factor": 100}
        }},
        "client_ip": {"type": "ip"},
        "geoip": {"properties": {"location": {"type": "geo_point"}, "city_name": kw()}},
        "account": {"properties": {"password": kw(), "created": {"type": "date"}}},
        "ssn": kw()
    })
}

const CUSTOMER_PII_7X: &[(&str, &str)] = &[
    ("customer.email", "email"),
    ("customer.phone_number", "phone"),
    ("customer.first_name", "name"),
    ("customer.lastName", "name"),
    ("customer.date_of_birth", "birth-date"),
    ("customer.address.street_address", "address"),
    ("customer.address.zip", "address"),
    ("payment.credit_card_number", "financial"),
    ("payment.iban", "financial"),
    ("client_ip", "ip"),
    ("geoip.location", "location"),
    ("account.password", "credential"),
    ("ssn", "government-id"),
];

const NOT_PII: &[&str] = &[
    "@timestamp",
    "timestamp",
    "name",
    "title",
    "message",
    "status",
    "description",
    "shipping_method",
    "tags",
    "payment.amount",
    "account.created",
    "cpu",
    "host.hostname",
    "bytes",
];

/// Application logs: nothing personal.
fn log_props_7x() -> Value {
    json!({
        "@timestamp": {"type": "date"},
        "message": {"type": "text"},
        "name": text_kw(),
        "title": text_kw(),
        "status": kw(),
        "description": {"type": "text"},
        "shipping_method": kw(),
        "host": {"properties": {"hostname": kw()}},
        "bytes": {"type": "long"}
    })
}

// ---------------------------------------------------------------------------------------
// Open clusters, one per version
// ---------------------------------------------------------------------------------------

/// ES-05 (7.2.0): typeless mapping with every PII category -> Critical.
#[tokio::test]
async fn es_7_2_0_open_with_pii_is_critical() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![
        ix("customers", 52_340, 48_213_377)
            .props(customer_props_7x())
            .health("yellow"),
        ix("app-logs-2019.06.20", 1_204_332, 512_338_120).props(log_props_7x()),
        ix(".kibana_1", 12, 61_245),
        ix(".tasks", 3, 20_113),
    ];
    let cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);

    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert!(!f.tls);
    assert_eq!(
        f.url.as_deref(),
        Some(format!("http://127.0.0.1:{}/", server.addr.port()).as_str())
    );
    assert_inventory(&f, &indices);
    assert_eq!(
        item_names(&f)[..2],
        ["app-logs-2019.06.20".to_string(), "customers".to_string()]
    );
    assert_pii(&f, "customers", CUSTOMER_PII_7X, NOT_PII);
    assert_pii(&f, "app-logs-2019.06.20", &[], NOT_PII);
    assert!(
        pii(&f, "app-logs-2019.06.20").is_empty(),
        "{:?}",
        pii(&f, "app-logs-2019.06.20")
    );
    assert_evidence(&f, "/");
    assert_read_only(&hits);
    assert_eq!(hits_on(&hits, "/"), 1, "{:?}", lines(&hits));
    assert_eq!(hits_on(&hits, "/_cat/indices"), 1, "{:?}", lines(&hits));
    let cat = targets(&hits)
        .into_iter()
        .find(|t| t.starts_with("/_cat/indices"))
        .expect("cat request");
    for param in ["format=json", "bytes=b"] {
        assert!(cat.contains(param), "{cat:?} lacks {param}");
    }
    let mapping_requests: Vec<String> = targets(&hits)
        .into_iter()
        .filter(|t| {
            t.split('?')
                .next()
                .unwrap_or_default()
                .ends_with("/_mapping")
        })
        .collect();
    assert!(
        !mapping_requests.is_empty(),
        "no _mapping request: {:?}",
        lines(&hits)
    );
    for t in &mapping_requests {
        assert!(
            !t.contains(".kibana_1") && !t.contains(".tasks"),
            "system index mapped: {t}"
        );
    }
    assert!(
        targets(&hits)
            .iter()
            .any(|t| t != "/" && !t.starts_with("/_cat") && !t.contains("_mapping")),
        "no random-path check (honeypot test) among {:?}",
        lines(&hits)
    );
    assert!(
        lines(&hits).len() <= 8,
        "too many requests: {:?}",
        lines(&hits)
    );
}

/// ES-01 (1.7.2): `"status":200` in the banner, typed mappings with `string` fields and
/// multi-fields; `_cat/indices` JSON without the uuid column.
#[tokio::test]
async fn es_1_7_2_open_typed_mapping_pii_is_critical() {
    let banner = vary(ES_01_1_7_2);
    let string = || json!({"type": "string"});
    let indices = vec![
        ix("users", 8_812, 3_301_222).typed(&[(
            "user",
            json!({
                "email": {"type": "string", "index": "not_analyzed"},
                "password": string(),
                "first_name": {"type": "string", "fields": {"raw": {"type": "string", "index": "not_analyzed"}}},
                "name": string(),
                "created": {"type": "date", "format": "dateOptionalTime"}
            }),
        )]),
        ix("logstash-2015.09.14", 96_000, 70_112_874).typed(&[(
            "logs",
            json!({
                "@timestamp": {"type": "date", "format": "dateOptionalTime"},
                "message": string(),
                "geoip": {"properties": {"location": {"type": "geo_point"}}}
            }),
        )]),
        ix(".kibana", 4, 18_220),
    ];
    let cluster = Cluster::new(Gen::V1, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);

    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert_eq!(f.version.as_deref(), Some("1.7.2"));
    assert_inventory(&f, &indices);
    assert_pii(
        &f,
        "users",
        &[
            ("email", "email"),
            ("password", "credential"),
            ("first_name", "name"),
        ],
        &["name", "created", "user.email", "user.password"],
    );
    assert_pii(
        &f,
        "logstash-2015.09.14",
        &[("geoip.location", "location")],
        &["message", "@timestamp", "logs.geoip.location"],
    );
    assert_evidence(&f, "/");
    assert_read_only(&hits);
}

/// T-12: a 1.x cluster with a global block answers `GET /` with 503 and the same body
/// (`"status" : 503`); that is still Elasticsearch, and open when indices list (a block
/// such as "no master" with reads allowed leaves the listing readable).
#[tokio::test]
async fn es_1_x_503_cluster_block_is_still_open() {
    let banner = vary(&ES_01_1_7_2.replace("\"status\" : 200", "\"status\" : 503"));
    let indices = vec![ix("events", 4_410, 2_991_004).typed(&[(
        "event",
        json!({"@timestamp": {"type": "date"}, "message": {"type": "string"}}),
    )])];
    let mut cluster = Cluster::new(Gen::V1, &banner, indices.clone());
    cluster.banner = Reply::new("503 Service Unavailable", banner.body.clone())
        .header("content-type", "application/json; charset=UTF-8");
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// Issue 5, item 3: Elasticsearch 1.x/2.x under the global block "state not recovered"
/// answers `GET /` with its banner and HTTP 503, and every API with a 503
/// `ClusterBlockException` (T-12 fixtures, 1.x text and the 2.x+ envelope). Nothing asked
/// for credentials, so it is not auth-required: the service is real and its access could
/// not be judged -> Undetermined, Low, saying what it is.
#[tokio::test]
async fn es_1_x_2_x_503_cluster_block_is_undetermined() {
    let es_01 = ES_01_1_7_2.replace("\"status\" : 200", "\"status\" : 503");
    for (fixture, block) in [
        (es_01.as_str(), T_12_BLOCK_1X),
        (ES_02_2_4_1, T_12_BLOCK_1X),
        (ES_02_2_4_1, T_12_BLOCK_2X),
    ] {
        let banner = vary(fixture);
        let mut cluster = Cluster::new(Gen::V1, &banner, Vec::new());
        cluster.banner = Reply::new("503 Service Unavailable", banner.body.clone())
            .header("content-type", "application/json; charset=UTF-8");
        cluster.cat = Some(
            Reply::new("503 Service Unavailable", block)
                .header("content-type", "application/json; charset=UTF-8"),
        );
        let (server, hits) = cluster.serve(false).await;
        let f = found_with(support::probe(&server.endpoint()).await, &hits);
        assert_eq!(
            (f.service.as_str(), f.exposure, f.severity),
            ("elasticsearch", Exposure::Undetermined, Severity::Low),
            "{f:#?}"
        );
        assert_eq!(f.version.as_deref(), Some(banner.version.as_str()));
        assert_eq!(
            f.summary,
            "Elasticsearch is under a cluster block (SERVICE_UNAVAILABLE/1/state not recovered / initialized): nothing asked for credentials, but the index list could not be read (HTTP 503)"
        );
        assert!(f.inventory.is_none(), "{f:#?}");
        let cat = f
            .evidence
            .iter()
            .find(|e| e.request == "GET /_cat/indices?format=json&bytes=b&v")
            .unwrap_or_else(|| panic!("no listing evidence: {:?}", f.evidence));
        assert!(
            cat.response.starts_with("HTTP 503, application/json, ")
                && cat.response.ends_with(
                    ": cluster block (SERVICE_UNAVAILABLE/1/state not recovered / initialized)"
                ),
            "{cat:?}"
        );
        assert_read_only(&hits);
    }
}

/// Issue 5, item 1: a non-auth error on the listing (404: a proxy that passes only `/`;
/// 500) after a readable banner is neither open nor auth-required: Undetermined, Low.
#[tokio::test]
async fn es_cat_indices_error_status_is_undetermined() {
    for status in ["404 Not Found", "500 Internal Server Error"] {
        let banner = vary(ES_05_7_2_0);
        let mut cluster = Cluster::new(Gen::V7, &banner, Vec::new());
        cluster.cat = Some(
            Reply::new(status, "<html><body>error</body></html>")
                .header("content-type", "text/html"),
        );
        let (server, hits) = cluster.serve(false).await;
        let f = found_with(support::probe(&server.endpoint()).await, &hits);
        let code = &status[..3];
        assert_eq!(
            (f.exposure, f.severity),
            (Exposure::Undetermined, Severity::Low),
            "{f:#?}"
        );
        assert_eq!(
            f.summary,
            format!(
                "Elasticsearch banner readable; nothing asked for credentials, but the index list is not served (HTTP {code})"
            )
        );
        let cat = f.evidence.last().expect("evidence");
        assert_eq!(cat.request, "GET /_cat/indices?format=json&bytes=b&v");
        assert_eq!(
            cat.response,
            format!("HTTP {code}, text/html, 31 bytes: index list not served")
        );
        assert_read_only(&hits);
    }
}

/// Issue 5, item 1: a 1.x text table with its header only is a real empty cluster: open,
/// like `[]` (T-13).
#[tokio::test]
async fn es_1_x_text_table_header_only_is_open_and_empty() {
    let banner = vary(&ES_01_1_7_2.replace("1.7.2", "1.3.4"));
    let mut cluster = Cluster::new(Gen::V1, &banner, Vec::new());
    cluster.cat = Some(
        Reply::new("200 OK", cat_text_1x(&[])).header("content-type", "text/plain; charset=UTF-8"),
    );
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Medium);
    assert_inventory(&f, &[]);
    assert_eq!(
        f.summary,
        "Elasticsearch lists 0 indices (0 user) without credentials"
    );
    assert_read_only(&hits);
}

/// Issue 5, item 5: summaries count in English ("1 index", "2 indices"), from the
/// inventory's own totals.
#[tokio::test]
async fn es_summary_says_1_index_and_2_indices() {
    let banner = vary(ES_05B_7_10_2_OSS);
    let one = vec![ix("orders", 1, 330_000).props(log_props_7x())];
    let (server, hits) = Cluster::new(Gen::V7, &banner, one.clone())
        .serve(false)
        .await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_eq!(
        f.summary,
        "Elasticsearch lists 1 index (1 user) without credentials, 1 document"
    );
    let cat = f
        .evidence
        .iter()
        .find(|e| e.request.starts_with("GET /_cat/indices"))
        .expect("listing evidence");
    assert!(
        cat.response
            .ends_with(": 1 index listed without credentials"),
        "{cat:?}"
    );

    let two = vec![ix("orders", 700, 330_000), ix(".kibana", 2, 9_000)];
    let (server, hits) = Cluster::new(Gen::V7, &banner, two).serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        f.summary,
        "Elasticsearch lists 2 indices (1 user) without credentials, 702 documents"
    );
    assert_read_only(&hits);
}

/// Issue 5, item 4: server numbers saturate, never wrap: two indices with `docs.count` at
/// `u64::MAX` add up to `u64::MAX`, in the inventory and in the summary alike.
#[tokio::test]
async fn es_document_counts_saturate() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![
        ix("a", u64::MAX, 10).props(log_props_7x()),
        ix("b", u64::MAX, u64::MAX).props(log_props_7x()),
    ];
    let (server, hits) = Cluster::new(Gen::V7, &banner, indices).serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    let inv = f.inventory.as_ref().expect("inventory");
    assert_eq!(inv.total_documents, Some(u64::MAX));
    assert_eq!(inv.total_size_bytes, Some(u64::MAX));
    assert_eq!(
        f.summary,
        "Elasticsearch lists 2 indices (2 user) without credentials, 18446744073709551615 documents"
    );
    assert_read_only(&hits);
}

/// An early 1.x answers `_cat/indices` with the text/plain table whatever `format` says
/// (ES-20 layout, 1.x columns, no uuid, sizes in bytes): columns are found by header name.
#[tokio::test]
async fn es_1_x_text_cat_indices_is_parsed() {
    let banner = vary(&ES_01_1_7_2.replace("1.7.2", "1.3.4"));
    let indices = vec![
        ix("nginx-access", 250_112, 190_443_002)
            .health("yellow")
            .typed(&[("log", json!({"request": {"type": "string"}}))]),
        ix("metrics", 77, 51_200).typed(&[("m", json!({"cpu": {"type": "float"}}))]),
        ix(".marvel-2014.10.01", 9_000, 4_000_000),
    ];
    let mut cluster = Cluster::new(Gen::V1, &banner, indices.clone());
    cluster.cat = Some(
        Reply::new("200 OK", cat_text_1x(&indices))
            .header("content-type", "text/plain; charset=UTF-8"),
    );
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_eq!(f.version.as_deref(), Some("1.3.4"));
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// ES-02 (2.4.1): typed mapping, camelCase and snake_case names -> Critical.
#[tokio::test]
async fn es_2_4_1_open_pii_is_critical() {
    let banner = vary(ES_02_2_4_1);
    let string = || json!({"type": "string"});
    let indices = vec![
        ix("crm", 120_004, 88_112_340).typed(&[(
            "contact",
            json!({
                "phone_number": string(),
                "lastName": {"type": "string", "fields": {"raw": {"type": "string", "index": "not_analyzed"}}},
                "street_address": string(),
                "zip": string(),
                "title": string(),
                "company": {"properties": {"name": string()}}
            }),
        )]),
        ix(".kibana", 2, 9_876),
    ];
    let cluster = Cluster::new(Gen::V2, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert_inventory(&f, &indices);
    assert_pii(
        &f,
        "crm",
        &[
            ("phone_number", "phone"),
            ("lastName", "name"),
            ("street_address", "address"),
            ("zip", "address"),
        ],
        &["title", "contact.phone_number"],
    );
    assert_read_only(&hits);
}

/// ES-03 (5.6.16): one index with two mapping types; hints come from both types.
#[tokio::test]
async fn es_5_6_16_open_two_mapping_types() {
    let banner = vary(ES_03_5_6_16);
    let indices = vec![
        ix("shop", 31_000, 12_500_000).typed(&[
            (
                "customer",
                json!({"email": {"type": "keyword"}, "dob": {"type": "date"}, "name": {"type": "text"}}),
            ),
            (
                "order",
                json!({"total": {"type": "double"}, "iban": {"type": "keyword"}, "status": {"type": "keyword"}}),
            ),
        ]),
        ix(".watches", 6, 40_000),
    ];
    let cluster = Cluster::new(Gen::V5, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert_inventory(&f, &indices);
    assert_pii(
        &f,
        "shop",
        &[
            ("email", "email"),
            ("dob", "birth-date"),
            ("iban", "financial"),
        ],
        &["name", "total", "status", "customer.email", "order.iban"],
    );
    assert_read_only(&hits);
}

/// ES-04 (6.5.4): the single `_doc` type is not part of field paths.
#[tokio::test]
async fn es_6_5_4_open_doc_type_mapping_pii() {
    let banner = vary(ES_04_6_5_4);
    let indices = vec![
        ix("patients", 4_200, 9_800_000).typed(&[(
            "_doc",
            json!({
                "ssn": {"type": "keyword"},
                "passport_number": {"type": "keyword"},
                "date_of_birth": {"type": "date"},
                "lat": {"type": "float"},
                "customer": {"properties": {"credit_card_number": {"type": "keyword"}}},
                "timestamp": {"type": "date"}
            }),
        )]),
        ix("audit", 12, 8_000).typed(&[("doc", json!({"action": {"type": "keyword"}}))]),
        ix(".monitoring-es-6-2018.12.17", 55_000, 30_000_000),
    ];
    let cluster = Cluster::new(Gen::V6, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert_inventory(&f, &indices);
    assert_pii(
        &f,
        "patients",
        &[
            ("ssn", "government-id"),
            ("passport_number", "government-id"),
            ("date_of_birth", "birth-date"),
            ("lat", "location"),
            ("customer.credit_card_number", "financial"),
        ],
        &["timestamp", "_doc.ssn"],
    );
    assert!(pii(&f, "audit").is_empty());
    assert_read_only(&hits);
}

/// ES-04b (6.2.4, no build_flavor): user documents without personal fields -> High.
#[tokio::test]
async fn es_6_2_without_build_flavor_open_is_high() {
    let banner = vary(ES_04B_6_2_4);
    let indices = vec![
        ix("metrics-2018.04", 5_000, 1_200_000).typed(&[(
            "doc",
            json!({"@timestamp": {"type": "date"}, "cpu": {"type": "float"}, "host": {"properties": {"hostname": {"type": "keyword"}}}}),
        )]),
        ix(".kibana", 1, 4_000),
    ];
    let cluster = Cluster::new(Gen::V6, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_eq!(f.version.as_deref(), Some("6.2.4"));
    assert_inventory(&f, &indices);
    assert!(
        pii(&f, "metrics-2018.04").is_empty(),
        "{:?}",
        pii(&f, "metrics-2018.04")
    );
    assert_read_only(&hits);
}

/// ES-05b (7.10.2 OSS): `build_flavor: oss` is still Elasticsearch.
#[tokio::test]
async fn es_7_10_2_oss_is_elasticsearch() {
    let banner = vary(ES_05B_7_10_2_OSS);
    let indices = vec![ix("orders", 700, 330_000).props(log_props_7x())];
    let cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_eq!(f.version.as_deref(), Some("7.10.2"));
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// ES-05c (7.16.2): X-elastic-product and the security Warning on every answer; only
/// system indices -> Medium.
#[tokio::test]
async fn es_7_16_product_header_only_system_indices_is_medium() {
    let banner = vary(ES_05C_7_16_2);
    let indices = vec![
        ix(".kibana_7.16.2_001", 40, 2_300_000),
        ix(".apm-agent-configuration", 0, 226),
        ix(".geoip_databases", 41, 39_000_000),
        ix(".tasks", 2, 13_000),
    ];
    let mut cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    cluster.headers = vec![
        ("X-elastic-product".into(), "Elasticsearch".into()),
        (
            "Warning".into(),
            "299 Elasticsearch-7.16.2-2b937c44140b6559905130a8650c64dbd0879cfb \"Elasticsearch built-in security features are not enabled. Without authentication, your cluster could be accessible to anyone. See https://www.elastic.co/guide/en/elasticsearch/reference/7.16/security-minimal-setup.html to enable security.\"".into(),
        ),
    ];
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Medium);
    assert_inventory(&f, &indices);
    assert_eq!(f.inventory.as_ref().expect("inventory").user_items, 0);
    assert_read_only(&hits);
    // Issue 5: with no user index, one listed system index is asked about (metadata only),
    // to see that the listing names indices that exist; its fields are not read.
    let mapped: Vec<String> = targets(&hits)
        .into_iter()
        .filter(|t| t.contains("_mapping"))
        .collect();
    assert_eq!(
        mapped,
        ["/.kibana_7.16.2_001/_mapping"],
        "{:?}",
        lines(&hits)
    );
    assert!(
        f.inventory
            .as_ref()
            .expect("inventory")
            .items
            .iter()
            .all(|i| i.pii_fields.is_empty()),
        "{f:#?}"
    );
    let evidence = f
        .evidence
        .iter()
        .find(|e| e.request == "GET /.kibana_7.16.2_001/_mapping")
        .expect("mapping evidence");
    assert!(
        evidence
            .response
            .ends_with(": the listed system index exists (metadata only)"),
        "{evidence:?}"
    );
}

/// ES-06 (8.12.2, security off): `dataset.size`, and `_cat/indices` sent chunked as 8.x
/// does; user data without PII -> High.
#[tokio::test]
async fn es_8_12_2_open_chunked_cat_is_high() {
    let banner = vary(ES_06_8_12_2);
    let indices = vec![
        ix("orders-2024", 1_000_000, 800_000_000).props(log_props_7x()),
        ix("products", 3_400, 2_200_000)
            .props(json!({"sku": kw(), "title": text_kw(), "price": {"type": "double"}})),
        ix(".security-7", 40, 90_000),
    ];
    let cluster = Cluster::new(Gen::V8, &banner, indices.clone());
    assert!(cluster.chunked_cat);
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_inventory(&f, &indices);
    assert_evidence(&f, "/");
    assert_read_only(&hits);
}

/// 8.x open over HTTPS (an operator who kept TLS but switched authentication off): the
/// plain attempt fails the handshake, the TLS retry finds it open.
#[tokio::test]
async fn es_8_open_over_https_reports_tls() {
    let banner = vary(ES_06_8_12_2);
    let indices = vec![ix("tickets", 90, 120_000).props(json!({"email": kw()}))];
    let cluster = Cluster::new(Gen::V8, &banner, indices.clone());
    let (server, hits) = cluster.serve(true).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert!(f.tls, "{f:#?}");
    assert_eq!(
        f.url.as_deref(),
        Some(format!("https://127.0.0.1:{}/", server.addr.port()).as_str())
    );
    assert_inventory(&f, &indices);
    assert_pii(&f, "tickets", &[("email", "email")], &[]);
    assert_read_only(&hits);
}

/// OS-01 (OpenSearch 2.8.0): `version.distribution` makes it OpenSearch.
#[tokio::test]
async fn os_2_8_0_open_is_opensearch() {
    let banner = vary(OS_01_2_8_0);
    let indices = vec![
        ix("app-events", 5, 90_000),
        ix("users", 1_500, 700_000)
            .props(json!({"user": {"properties": {"email": kw(), "name": text_kw()}}})),
        ix(".opendistro_security", 9, 60_000),
        ix(".opensearch-observability", 0, 208),
    ];
    let cluster = Cluster::new(Gen::Os, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "opensearch", &banner, Severity::Critical);
    assert_inventory(&f, &indices);
    assert_pii(&f, "users", &[("user.email", "email")], &[]);
    assert_read_only(&hits);
}

/// OS-01b (OpenSearch 1.2.4) -> opensearch, High without PII.
#[tokio::test]
async fn os_1_2_4_open_is_opensearch() {
    let banner = vary(OS_01B_1_2_4);
    let indices = vec![ix("logs-app", 9_999, 5_000_000).props(log_props_7x())];
    let cluster = Cluster::new(Gen::Os, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "opensearch", &banner, Severity::High);
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// OS-01c / T-11: compatibility mode reports 7.10.2 but `distribution` says OpenSearch.
/// Empty cluster (`[]`) -> still open (T-13), Medium.
#[tokio::test]
async fn os_compat_mode_7_10_2_is_opensearch_and_empty_is_open() {
    let banner = vary(OS_01C_COMPAT);
    let cluster = Cluster::new(Gen::Os, &banner, Vec::new());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "opensearch", &banner, Severity::Medium);
    assert_eq!(f.version.as_deref(), Some("7.10.2"));
    assert_inventory(&f, &[]);
    assert_read_only(&hits);
}

/// T-13: an empty Elasticsearch (`_cat/indices` is `[]`) is open, Medium.
#[tokio::test]
async fn es_empty_cluster_is_open_medium() {
    let banner = vary(ES_05_7_2_0);
    let cluster = Cluster::new(Gen::V7, &banner, Vec::new());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Medium);
    let inv = f.inventory.as_ref().expect("inventory");
    assert!(inv.items.is_empty());
    assert_eq!((inv.total_items, inv.user_items), (0, 0));
    assert_evidence(&f, "/");
    assert_read_only(&hits);
}

/// User indices that exist but hold no documents (an empty index still has a few hundred
/// bytes of store) -> Medium, like an empty cluster.
#[tokio::test]
async fn es_only_empty_user_indices_is_medium() {
    let banner = vary(ES_06_8_12_2);
    let indices = vec![
        ix("customers", 0, 225).props(customer_props_7x()),
        ix("staging", 0, 249).props(log_props_7x()),
        ix(".kibana_8.12.2_001", 12, 60_000),
    ];
    let cluster = Cluster::new(Gen::V8, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Medium);
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// PII field names in an empty index do not make the finding Critical when the only index
/// with documents has none -> High.
#[tokio::test]
async fn es_pii_only_in_empty_index_is_high() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![
        ix("customers-template", 0, 225).props(customer_props_7x()),
        ix("app-logs", 40_000, 20_000_000).props(log_props_7x()),
    ];
    let cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// A closed index lists with null counts (`"docs.count":null`): it is kept, with no
/// documents or size, and the rest still adds up.
#[tokio::test]
async fn es_closed_index_with_null_counts() {
    let banner = vary(ES_05_7_2_0);
    let mut closed = ix("archive-2017", 0, 0);
    closed.docs = None;
    closed.bytes = None;
    closed.status = "close";
    let indices = vec![ix("live", 500, 400_000).props(log_props_7x()), closed];
    let cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_inventory(&f, &indices);
    assert_read_only(&hits);
}

/// The biggest user indices' mappings are read even when their names need escaping in a
/// URL: `%` (a raw `%20` would reach the server as a space) and non-ASCII letters.
#[tokio::test]
async fn es_mapping_request_percent_encodes_index_names() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![
        ix("sales%2024", 9_000, 4_000_000)
            .props(json!({"customer": {"properties": {"email": kw()}}})),
        ix("kunden-ü", 8_000, 3_000_000).props(json!({"telefon": kw(), "phone": kw()})),
        ix("plain", 7_000, 2_000_000).props(json!({"iban": kw()})),
    ];
    let cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert_inventory(&f, &indices);
    assert_pii(&f, "sales%2024", &[("customer.email", "email")], &[]);
    assert_pii(&f, "kunden-ü", &[("phone", "phone")], &[]);
    assert_pii(&f, "plain", &[("iban", "financial")], &[]);
    assert_read_only(&hits);
}

/// Path prefix: a cluster behind a proxy at `/es/`, target `http://127.0.0.1:PORT/es/`.
/// Every request stays under `/es/`, and the finding keeps the URL.
#[tokio::test]
async fn es_behind_path_prefix_stays_under_it() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![
        ix("customers", 100, 90_000).props(customer_props_7x()),
        ix(".kibana", 3, 9_000),
    ];
    let mut cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    cluster.prefix = "/es/".into();
    let (server, hits) = cluster.serve(false).await;
    let url = format!("http://127.0.0.1:{}/es/", server.addr.port());
    let endpoint = endpoint_of(&url);
    assert_eq!(endpoint.base_path(), "/es/");
    let f = found_with(support::probe(&endpoint).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::Critical);
    assert_eq!(f.url.as_deref(), Some(url.as_str()));
    assert_inventory(&f, &indices);
    assert_all_under(&hits, "/es/");
    for r in requests(&f) {
        assert!(
            r.starts_with("GET /es/"),
            "evidence outside the prefix: {r:?}"
        );
    }
    assert_evidence(&f, "/es/");
    assert_read_only_under(&hits, "/es/");
}

/// Parses a URL target into its endpoint.
pub(crate) fn endpoint_of(url: &str) -> Endpoint {
    match parse_target(url).expect("valid target").pop() {
        Some(TargetSpec::Endpoint(e)) => e,
        other => panic!("{url} is not an endpoint: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Security on: never open (T-01, T-14)
// ---------------------------------------------------------------------------------------

async fn assert_auth_required(routes: Routes, tls: bool, service: &str) -> Finding {
    let (server, hits) = http_server(tls, routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
    assert_eq!(f.service, service, "{f:#?}");
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert_eq!(f.version, None, "a 401/403 reveals no version: {f:#?}");
    assert_eq!(f.tls, tls, "{f:#?}");
    assert!(
        f.inventory.as_ref().is_none_or(|i| i.items.is_empty()),
        "no inventory without access: {f:#?}"
    );
    assert!(!f.evidence.is_empty(), "evidence for the verdict");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.response.contains("401") || e.response.contains("403")),
        "the refusal is in the evidence: {:?}",
        f.evidence
    );
    assert_read_only(&hits);
    f
}

fn es_json_401(body: &str, challenges: &[&str], content_type: &str) -> Routes {
    let mut headers: Vec<(&str, &str)> = challenges
        .iter()
        .map(|c| ("WWW-Authenticate", *c))
        .collect();
    headers.push(("content-type", content_type));
    secured("401 Unauthorized", body, &headers)
}

/// ES-10: 5.x/6.x X-Pack, "missing authentication token".
#[tokio::test]
async fn es_10_xpack_401_is_auth_required() {
    let routes = es_json_401(
        ES_10_401,
        &[BASIC_SECURITY],
        "application/json; charset=UTF-8",
    );
    assert_auth_required(routes, false, "elasticsearch").await;
}

/// ES-11: 7.x, "missing authentication credentials".
#[tokio::test]
async fn es_11_7x_401_is_auth_required() {
    let routes = es_json_401(
        ES_11_401,
        &[BASIC_SECURITY],
        "application/json; charset=UTF-8",
    );
    assert_auth_required(routes, false, "elasticsearch").await;
}

/// ES-12: 8.0-8.14 over HTTPS, three challenges, header values as a JSON array.
#[tokio::test]
async fn es_12_8x_https_401_is_auth_required() {
    let routes = es_json_401(
        ES_12_401,
        &[BASIC_SECURITY, r#"Bearer realm="security""#, "ApiKey"],
        "application/json",
    );
    let f = assert_auth_required(routes, true, "elasticsearch").await;
    assert!(f.tls);
}

/// ES-12b: 8.15+ over HTTPS, realm with a comma (T-14).
#[tokio::test]
async fn es_12b_8_15_https_401_is_auth_required() {
    let routes = es_json_401(
        ES_12B_401,
        &[BASIC_SECURITY_815, r#"Bearer realm="security""#, "ApiKey"],
        "application/json",
    );
    assert_auth_required(routes, true, "elasticsearch").await;
}

/// ES-13 / T-06: an HTTPS-only port reads a plaintext request and closes without a byte
/// (replayed exactly: accept, read, close); ajar retries over TLS and finds ES-12.
#[tokio::test]
async fn es_13_https_only_port_retries_tls() {
    let routes = es_json_401(
        ES_12_401,
        &[BASIC_SECURITY, r#"Bearer realm="security""#, "ApiKey"],
        "application/json",
    );
    let (server, hits) = tls_or_plain(Vec::new(), routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert!(f.tls, "found over TLS after the empty plain reply: {f:#?}");
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
    assert_eq!(f.service, "elasticsearch");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.version, None);
    assert_eq!(
        f.url.as_deref(),
        Some(format!("https://127.0.0.1:{}/", server.addr.port()).as_str())
    );
    assert_read_only(&hits);
}

/// ES-14: wrong credentials (as a credential-injecting proxy would cause).
#[tokio::test]
async fn es_14_wrong_credentials_401_is_auth_required() {
    let routes = es_json_401(
        ES_14_401,
        &[BASIC_SECURITY],
        "application/json; charset=UTF-8",
    );
    assert_auth_required(routes, false, "elasticsearch").await;
}

/// ES-15: anonymous enabled without `monitor`: 403 security_exception (7.x and 8.x).
#[tokio::test]
async fn es_15_anonymous_403_is_auth_required() {
    for body in [ES_15_403_7X, ES_15_403_8X] {
        let routes = secured(
            "403 Forbidden",
            body,
            &[("content-type", "application/json; charset=UTF-8")],
        );
        assert_auth_required(routes, false, "elasticsearch").await;
    }
}

/// OS-02: the OpenSearch security plugin's 401 is plain text `Unauthorized`; the realm
/// names the product. Open Distro's realm is judged the same way.
#[tokio::test]
async fn os_02_security_plugin_401_is_opensearch_auth_required() {
    for realm in [
        r#"Basic realm="OpenSearch Security""#,
        r#"Basic realm="Open Distro Security""#,
    ] {
        let routes = secured(
            "401 Unauthorized",
            "Unauthorized",
            &[
                ("WWW-Authenticate", realm),
                ("content-type", "text/plain; charset=UTF-8"),
            ],
        );
        assert_auth_required(routes, false, "opensearch").await;
    }
}

/// AWS-01 / T-16: Amazon OpenSearch Service denies anonymous with a 403 JSON `Message`.
#[tokio::test]
async fn aws_01_iam_403_is_amazon_opensearch_auth_required() {
    for body in [AWS_01_403, AWS_01_403_POLICY] {
        let routes = secured(
            "403 Forbidden",
            body,
            &[("Content-Type", "application/json")],
        );
        let f = assert_auth_required(routes, false, "opensearch").await;
        assert_eq!(
            f.product.as_deref(),
            Some("Amazon OpenSearch Service"),
            "{f:#?}"
        );
    }
}

/// T-16: Elastic Cloud's front door adds `X-Found-*` headers to an ES-12 401.
#[tokio::test]
async fn elastic_cloud_401_is_auth_required() {
    let cluster_id = random_hex(32);
    let routes = secured(
        "401 Unauthorized",
        ES_12_401,
        &[
            ("WWW-Authenticate", BASIC_SECURITY),
            ("WWW-Authenticate", r#"Bearer realm="security""#),
            ("WWW-Authenticate", "ApiKey"),
            ("content-type", "application/json"),
            ("X-Found-Handling-Cluster", &cluster_id),
            ("X-Found-Handling-Instance", "instance-0000000001"),
            ("X-Cloud-Request-Id", "Kx1n7Jq0R8mGm3bcvQ2xJw"),
        ],
    );
    assert_auth_required(routes, true, "elasticsearch").await;
}

// ---------------------------------------------------------------------------------------
// Banner readable, data refused: metadata only (Low)
// ---------------------------------------------------------------------------------------

/// An anonymous user with `monitor` only: `GET /` answers the banner, `_cat/indices` is
/// refused with 403 -> AuthRequired, Low, with the version and cluster name.
#[tokio::test]
async fn es_banner_readable_cat_indices_403_is_auth_required_low() {
    let banner = vary(ES_05C_7_16_2);
    let mut cluster = Cluster::new(Gen::V7, &banner, Vec::new());
    cluster.cat = Some(
        Reply::new(
            "403 Forbidden",
            r#"{"error":{"root_cause":[{"type":"security_exception","reason":"action [indices:monitor/settings/get] is unauthorized for user [_anonymous]"}],"type":"security_exception","reason":"action [indices:monitor/settings/get] is unauthorized for user [_anonymous]"},"status":403}"#,
        )
        .header("content-type", "application/json; charset=UTF-8"),
    );
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
    assert_eq!(f.service, "elasticsearch");
    assert_eq!(f.severity, Severity::Low, "{f:#?}");
    assert_eq!(f.version.as_deref(), Some("7.16.2"));
    assert!(
        f.details
            .iter()
            .any(|(k, v)| k == "cluster_name" && v == &banner.cluster_name),
        "{:?}",
        f.details
    );
    assert!(
        f.inventory.as_ref().is_none_or(|i| i.items.is_empty()),
        "{f:#?}"
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.request.starts_with("GET /_cat/indices") && e.response.contains("403")),
        "{:?}",
        f.evidence
    );
    assert_read_only(&hits);
}

/// The same with a 401 on `_cat/indices` (a proxy that lets only `/` through).
#[tokio::test]
async fn es_banner_readable_cat_indices_401_is_auth_required_low() {
    let banner = vary(ES_06_8_12_2);
    let mut cluster = Cluster::new(Gen::V8, &banner, Vec::new());
    cluster.cat = Some(
        Reply::new(
            "401 Unauthorized",
            ES_12_401.replace("[/]", "[/_cat/indices]"),
        )
        .header("WWW-Authenticate", BASIC_SECURITY)
        .header("content-type", "application/json"),
    );
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
    assert_eq!(f.service, "elasticsearch");
    assert_eq!(f.severity, Severity::Low, "{f:#?}");
    assert_eq!(f.version.as_deref(), Some("8.12.2"));
    assert_read_only(&hits);
}

/// A cluster with more indices than the item cap (1,000 by default): the inventory keeps
/// the cap, says it was cut, and still counts every index; mappings are read for a bounded
/// number of the biggest user indices only.
#[tokio::test]
async fn es_many_indices_are_capped_and_flagged_truncated() {
    let banner = vary(ES_06_8_12_2);
    let mut indices: Vec<Ix> = (0..1_200u64)
        .map(|n| {
            ix(
                &format!("logs-2024.{:02}.{:04}", n % 12 + 1, n),
                1_000 + n,
                50_000 + n,
            )
            .props(log_props_7x())
        })
        .collect();
    indices.push(ix(".kibana_8.12.2_001", 10, 10_000));
    let cluster = Cluster::new(Gen::V8, &banner, indices.clone());
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.exposure, Exposure::Open);
    assert_eq!(f.severity, Severity::High);
    let inv = f.inventory.as_ref().expect("inventory");
    assert!(
        inv.truncated,
        "more indices than the cap: {:?}",
        inv.items.len()
    );
    assert_eq!(inv.total_items, 1_201);
    assert_eq!(inv.items.len(), 1_000);
    assert_eq!(inv.items[0].name, "logs-2024.12.1199", "the biggest first");
    let mapped: usize = targets(&hits)
        .iter()
        .filter_map(|t| {
            t.split('?')
                .next()?
                .strip_suffix("/_mapping")
                .map(str::to_string)
        })
        .map(|list| list.split(',').count())
        .sum();
    assert!((1..=100).contains(&mapped), "{mapped} indices mapped");
    assert_read_only(&hits);
}

/// `_cat/indices` is allowed but `_mapping` is refused (no `view_index_metadata`): still
/// open with user documents (High), just without field-name hints.
#[tokio::test]
async fn es_mapping_refused_is_still_open() {
    let banner = vary(ES_05C_7_16_2);
    let indices = vec![ix("customers", 9_000, 7_000_000).props(customer_props_7x())];
    let mut cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    cluster.mapping = Some(
        Reply::new(
            "403 Forbidden",
            r#"{"error":{"root_cause":[{"type":"security_exception","reason":"action [indices:admin/mappings/get] is unauthorized for user [_anonymous]"}],"type":"security_exception","reason":"action [indices:admin/mappings/get] is unauthorized for user [_anonymous]"},"status":403}"#,
        )
        .header("content-type", "application/json; charset=UTF-8"),
    );
    let (server, hits) = cluster.serve(false).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_open(&f, &server, "elasticsearch", &banner, Severity::High);
    assert_inventory(&f, &indices);
    assert!(pii(&f, "customers").is_empty());
    assert!(
        targets(&hits).iter().any(|t| t.contains("_mapping")),
        "{:?}",
        lines(&hits)
    );
    assert_read_only(&hits);
}

/// Security on with anonymous access mapped to a role without index privileges: ES filters
/// `_cat/indices` to what the caller may see, so it answers `[]`. The `_authenticate` answer
/// (shape from the Elasticsearch security API docs, `security-api-authenticate.asciidoc`:
/// `username`, `roles`, `authentication_realm`) shows the caller is `_anonymous`: an empty
/// list is then no proof of an empty, open cluster -> AuthRequired, Low.
#[tokio::test]
async fn es_anonymous_role_with_empty_index_list_is_not_open() {
    let banner = vary(ES_05C_7_16_2);
    let cluster = Cluster::new(Gen::V7, &banner, Vec::new());
    let routes = cluster.routes().at(
        "/_security/_authenticate",
        Reply::json(
            r#"{"username":"_anonymous","roles":["monitor_only"],"full_name":null,"email":null,"metadata":{"_reserved":true},"enabled":true,"authentication_realm":{"name":"__anonymous","type":"__anonymous"},"lookup_realm":{"name":"__anonymous","type":"__anonymous"},"authentication_type":"anonymous"}"#,
        ),
    );
    let (server, hits) = http_server(false, routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(f.exposure, Exposure::AuthRequired, "{f:#?}");
    assert_eq!(f.severity, Severity::Low, "{f:#?}");
    assert_eq!(f.version.as_deref(), Some("7.16.2"));
    assert!(f.inventory.is_none(), "{f:#?}");
    let last = f.evidence.last().expect("evidence");
    assert_eq!(last.request, "GET /_security/_authenticate");
    assert!(last.response.contains("\"_anonymous\""), "{last:?}");
    assert_read_only(&hits);
}

/// The same for OpenSearch: `_plugins/_security/authinfo` names the anonymous user
/// (`opendistro_security_anonymous`, security plugin `authinfo` REST handler) -> not open.
/// Without the security plugin the path is unknown (404 here) and `[]` stays open.
#[tokio::test]
async fn os_anonymous_role_with_empty_index_list_is_not_open() {
    let banner = vary(OS_01_2_8_0);
    let cluster = Cluster::new(Gen::V7, &banner, Vec::new());
    let routes = cluster.routes().at(
        "/_plugins/_security/authinfo",
        Reply::json(
            r#"{"user":"User [name=opendistro_security_anonymous, backend_roles=[opendistro_security_anonymous_backendrole], requestedTenant=null]","user_name":"opendistro_security_anonymous","user_requested_tenant":null,"remote_address":"127.0.0.1:50000","backend_roles":["opendistro_security_anonymous_backendrole"],"custom_attribute_names":[],"roles":["anon_monitor"],"tenants":{},"principal":null,"peer_certificates":"0","sso_logout_url":null}"#,
        ),
    );
    let (server, hits) = http_server(false, routes).await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.service.as_str(), f.exposure),
        ("opensearch", Exposure::AuthRequired),
        "{f:#?}"
    );
    assert_read_only(&hits);

    let (server, hits) = Cluster::new(Gen::V7, &banner, Vec::new())
        .serve(false)
        .await;
    let f = found_with(support::probe(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.exposure, f.severity),
        (Exposure::Open, Severity::Medium),
        "{f:#?}"
    );
    assert!(
        requests(&f).contains(&"GET /_plugins/_security/authinfo"),
        "{:?}",
        requests(&f)
    );
}

/// Third-party and OpenSearch variants of the security envelope: the OpenSearch security
/// plugin's 403 for its anonymous user (`security_exception`, reason naming
/// `opendistro_security_anonymous`) is OpenSearch; ReadonlyREST's `forbidden_response`
/// 403 (its documented `{"error":{"root_cause":[{"type":"forbidden_response",...}]}}`
/// shape) is Elasticsearch behind ReadonlyREST. Both auth-required, never open.
#[tokio::test]
async fn security_plugin_variants_are_auth_required() {
    let opensearch = r#"{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [cluster:monitor/main] and User [name=opendistro_security_anonymous, backend_roles=[opendistro_security_anonymous_backendrole], requestedTenant=null]"}],"type":"security_exception","reason":"no permissions for [cluster:monitor/main] and User [name=opendistro_security_anonymous, backend_roles=[opendistro_security_anonymous_backendrole], requestedTenant=null]"},"status":403}"#;
    let routes = Routes::new().otherwise(
        Reply::new("403 Forbidden", opensearch)
            .header("content-type", "application/json; charset=UTF-8"),
    );
    let f = assert_auth_required(routes, false, "opensearch").await;
    assert_eq!(f.product, None);

    let ror = r#"{"error":{"root_cause":[{"reason":"forbidden","type":"forbidden_response","due_to":"OPERATION_NOT_ALLOWED"}],"reason":"forbidden","type":"forbidden_response","due_to":"OPERATION_NOT_ALLOWED"},"status":403}"#;
    let routes = Routes::new().otherwise(
        Reply::new("403 Forbidden", ror).header("content-type", "application/json; charset=UTF-8"),
    );
    let f = assert_auth_required(routes, false, "elasticsearch").await;
    assert_eq!(f.product.as_deref(), Some("ReadonlyREST"));
}
