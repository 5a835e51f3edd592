//! Elasticsearch (1.x to 9.x) and OpenSearch (1.x, 2.x), including Amazon's managed
//! service: recognised from the structure of `GET /` or of the security answer, judged by
//! whether the index list can be read.
//!
//! Requests, all `GET`, none touching documents:
//! 1. `/` (already fetched by the HTTP probe): banner with `version.number`, or a 401/403
//!    from the security layer.
//! 2. `/ajar-<random>`: a real cluster answers 404/400; a honeypot answers its banner.
//! 3. `/_cat/indices?format=json&bytes=b&v`: names, document counts, sizes, health
//!    (1.x without JSON support answers a text table, which is parsed too).
//! 4. `/<biggest user indices>/_mapping`: field names only, to flag personal data.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::http::Site;
use super::{ProbeOutcome, pii};
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity};
use crate::net::http::HttpReply;

/// Which product a banner or a security answer belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Product {
    service: &'static str,
    name: Option<&'static str>,
}

const ELASTICSEARCH: Product = Product {
    service: "elasticsearch",
    name: None,
};
const OPENSEARCH: Product = Product {
    service: "opensearch",
    name: None,
};
const AWS: Product = Product {
    service: "opensearch",
    name: Some("Amazon OpenSearch Service"),
};

/// The `GET /` banner fields ajar reports.
#[derive(Debug, Clone)]
struct Banner {
    product: Product,
    version: String,
    cluster_name: Option<String>,
    node_name: Option<String>,
    build_hash: Option<String>,
}

/// Recognises Elasticsearch or OpenSearch from the `GET /` answer and judges access.
/// Returns `None` when the answer is not theirs.
pub async fn recognise(site: &mut Site<'_>, root: &HttpReply) -> Option<ProbeOutcome> {
    if let Some(product) = security_answer(root) {
        let finding = finding(
            site,
            &product,
            None,
            Exposure::AuthRequired,
            Severity::Info,
            format!("{} demands credentials", display_name(&product)),
        );
        return Some(ProbeOutcome::Found(Box::new(finding)));
    }
    let banner = parse_banner(root)?;
    Some(assess(site, banner).await)
}

/// The security layer's refusal: Elasticsearch security (X-Pack), the OpenSearch security
/// plugin (and Open Distro, Search Guard), or an AWS access policy.
fn security_answer(root: &HttpReply) -> Option<Product> {
    if root.status != 401 && root.status != 403 {
        return None;
    }
    let json = root.json();
    if let Some(error) = json.as_ref().and_then(|j| j.get("error")) {
        let kind = error
            .get("type")
            .or_else(|| error.pointer("/root_cause/0/type"))
            .and_then(Value::as_str);
        let reason = error.get("reason").and_then(Value::as_str).unwrap_or("");
        match kind {
            // The OpenSearch security plugin uses the same envelope; its anonymous and
            // internal users carry its name (`opendistro_security_anonymous`).
            Some("security_exception") if reason.contains("opendistro_security") => {
                return Some(OPENSEARCH);
            }
            Some("security_exception") => return Some(ELASTICSEARCH),
            // ReadonlyREST, a third-party security plugin, refuses in the same envelope.
            Some("forbidden_response") => {
                return Some(Product {
                    service: "elasticsearch",
                    name: Some("ReadonlyREST"),
                });
            }
            _ => {}
        }
    }
    if root.status == 403
        && let Some(message) = json
            .as_ref()
            .and_then(|j| j.get("Message").or_else(|| j.get("message")))
            .and_then(Value::as_str)
        && message.contains("not authorized to perform: es:ESHttp")
    {
        return Some(AWS);
    }
    let realms = root
        .header_all("www-authenticate")
        .join(", ")
        .to_ascii_lowercase();
    if root.status == 401
        && [
            "opensearch security",
            "open distro security",
            "search guard",
        ]
        .iter()
        .any(|realm| realms.contains(&format!("realm=\"{realm}\"")))
    {
        return Some(if realms.contains("search guard") {
            Product {
                service: "elasticsearch",
                name: Some("Search Guard"),
            }
        } else {
            OPENSEARCH
        });
    }
    None
}

/// Parses the `GET /` banner: a JSON object with `version.number` and a cluster name or
/// tagline, as every Elasticsearch and OpenSearch release sends (200, or 503 under a
/// global block in 1.x/2.x). OpenSearch is told by `version.distribution`.
fn parse_banner(root: &HttpReply) -> Option<Banner> {
    if root.status != 200 && root.status != 503 {
        return None;
    }
    let json = root.json()?;
    let version = json.get("version")?;
    let number = version.get("number")?.as_str()?;
    if !json.get("cluster_name").is_some_and(Value::is_string)
        && !json.get("tagline").is_some_and(Value::is_string)
    {
        return None;
    }
    if version.get("lucene_version").is_none() && version.get("distribution").is_none() {
        return None;
    }
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let product = match version.get("distribution").and_then(Value::as_str) {
        Some(d) if d.eq_ignore_ascii_case("opensearch") => OPENSEARCH,
        _ => ELASTICSEARCH,
    };
    Some(Banner {
        product,
        version: number.to_string(),
        cluster_name: text(json.get("cluster_name")),
        node_name: text(json.get("name")),
        build_hash: text(version.get("build_hash")),
    })
}

async fn assess(site: &mut Site<'_>, banner: Banner) -> ProbeOutcome {
    let name = display_name(&banner.product);

    // A real cluster refuses a path that names no index; a honeypot serves its banner.
    let decoy = format!("ajar-{}", random_suffix(site));
    if let Ok(reply) = site.get_small(&decoy).await {
        site.record(&decoy, reply.describe());
        if reply.status == 200 && parse_banner(&reply).is_some() {
            return honeypot("answers its banner on a path that names no index");
        }
    }

    let cat_path = "_cat/indices?format=json&bytes=b&v";
    // The banner alone is readable: a version leak, not an open store.
    let banner_only = |site: &Site<'_>, summary: String| {
        let f = banner_finding(
            site,
            &banner,
            Exposure::AuthRequired,
            Severity::Low,
            summary,
        );
        ProbeOutcome::Found(Box::new(f))
    };
    let cat = match site.get(cat_path).await {
        Ok(reply) => reply,
        Err(error) => {
            site.record(cat_path, error.to_string());
            let summary =
                format!("{name} banner readable; the index list did not come back ({error})");
            return banner_only(site, summary);
        }
    };
    if cat.status >= 300 {
        let what = if cat.status == 401 || cat.status == 403 {
            "refused without credentials"
        } else {
            "not served"
        };
        site.record(cat_path, format!("{}: index list {what}", cat.describe()));
        let summary = format!(
            "{name} banner readable, but the index list is {what} (HTTP {})",
            cat.status
        );
        return banner_only(site, summary);
    }
    let cut = cat.truncated && cat.status == 200;
    let parsed =
        parse_cat_indices(&cat).or_else(|| cut.then(|| parse_cut_cat_indices(&cat.body)).flatten());
    let Some(mut items) = parsed else {
        if cut {
            site.record(cat_path, cat.describe());
            let summary = format!(
                "{name} banner readable; the index list exceeds the {} MiB read cap before its first whole row",
                site.cx.limits.max_body >> 20
            );
            return banner_only(site, summary);
        }
        site.record(cat_path, format!("{}: not an index list", cat.describe()));
        return honeypot("answers the index list with something that is not an index list");
    };
    site.record(
        cat_path,
        format!(
            "{}: {} indices listed without credentials",
            cat.describe(),
            items.len()
        ),
    );
    if items.is_empty()
        && let Some(user) = anonymous_user(site, &banner.product).await
    {
        // Security is on and lets anonymous callers in: an empty list may be a filter
        // on what `user` may see, not an empty cluster.
        let summary = format!(
            "{name} security is on; the anonymous user {user:?} sees no indices (data may exist behind credentials)"
        );
        return banner_only(site, summary);
    }

    sort_items(&mut items);
    let total_items = items.len() as u64;
    let truncated = cut || items.len() > site.cx.limits.max_items;
    items.truncate(site.cx.limits.max_items);
    read_mappings(site, &mut items).await;

    let mut inventory = Inventory {
        unit: "index".into(),
        items,
        total_items,
        truncated,
        ..Inventory::default()
    };
    inventory.recount();
    let severity = open_severity(&inventory);
    let summary = open_summary(name, &inventory);
    let mut f = banner_finding(site, &banner, Exposure::Open, severity, summary);
    f.inventory = Some(inventory);
    ProbeOutcome::Found(Box::new(f))
}

/// When the index list came back empty, asks the security layer who we are: a 200
/// naming a user means security is on and anonymous access is mapped to a role, so the
/// emptiness may only be what that role may see. `None` when security is off (the API
/// is absent or refuses because security is disabled).
async fn anonymous_user(site: &mut Site<'_>, product: &Product) -> Option<String> {
    let (path, key) = if product.service == "opensearch" {
        ("_plugins/_security/authinfo", "user_name")
    } else {
        ("_security/_authenticate", "username")
    };
    let reply = site.get_small(path).await.ok()?;
    let user = (reply.status == 200)
        .then(|| reply.json())
        .flatten()
        .and_then(|json| json.get(key).and_then(Value::as_str).map(str::to_string));
    let facts = match &user {
        Some(user) => format!("{}: authenticated as {user:?}", reply.describe()),
        None => format!("{}: no security user", reply.describe()),
    };
    site.record(path, facts);
    user
}

/// Severity of an open store from what it holds.
pub fn open_severity(inventory: &Inventory) -> Severity {
    if inventory.has_pii() && inventory.has_user_data() {
        Severity::Critical
    } else if inventory.has_user_data() {
        Severity::High
    } else {
        Severity::Medium
    }
}

fn open_summary(name: &str, inventory: &Inventory) -> String {
    let pii: BTreeSet<&str> = inventory
        .items
        .iter()
        .filter(|i| !i.system)
        .flat_map(|i| i.pii_fields.iter().map(|h| h.category.as_str()))
        .collect();
    let mut summary = format!(
        "{name} lists {} indices ({} user) without credentials",
        inventory.total_items, inventory.user_items
    );
    if let Some(docs) = inventory.total_documents {
        summary.push_str(&format!(", {docs} documents"));
    }
    if !pii.is_empty() {
        let cats: Vec<&str> = pii.into_iter().collect();
        summary.push_str(&format!("; personal-data fields: {}", cats.join(", ")));
    }
    summary
}

fn honeypot(why: &str) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!("Elasticsearch look-alike that {why} (likely a honeypot)"),
        hint: None,
        transport_confirmed: true,
        speaks_protocol: true,
    }
}

/// Parses `_cat/indices` as JSON (every value a string, some null on closed indices) or,
/// from servers that ignore `format=json`, as the `v` text table.
fn parse_cat_indices(reply: &HttpReply) -> Option<Vec<DataSet>> {
    if reply.truncated {
        return None;
    }
    if let Some(json) = reply.json() {
        return json.as_array()?.iter().map(cat_row).collect();
    }
    if reply.is_json_type() {
        return None;
    }
    parse_cat_text(&reply.text())
}

/// One `_cat/indices` JSON row; `None` when it is not an index row.
fn cat_row(row: &Value) -> Option<DataSet> {
    let row = row.as_object()?;
    let name = row.get("index")?.as_str()?.to_string();
    Some(DataSet {
        system: is_system_index(&name),
        documents: number(row.get("docs.count")),
        size_bytes: number(row.get("store.size")),
        health: row
            .get("health")
            .and_then(Value::as_str)
            .map(str::to_string),
        name,
        ..DataSet::default()
    })
}

/// The complete rows at the start of a JSON index list cut at the body cap: a cluster
/// with tens of thousands of indices is still open, its inventory marked truncated.
/// `None` unless at least one whole index row came back.
fn parse_cut_cat_indices(body: &[u8]) -> Option<Vec<DataSet>> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[start] != b'[' {
        return None;
    }
    let mut pos = start + 1;
    let mut items = Vec::new();
    loop {
        let mut rows = serde_json::Deserializer::from_slice(&body[pos..]).into_iter::<Value>();
        let Some(Ok(row)) = rows.next() else { break };
        pos += rows.byte_offset();
        items.push(cat_row(&row)?);
        match body[pos..].iter().position(|b| !b.is_ascii_whitespace()) {
            Some(skip) if body[pos + skip] == b',' => pos += skip + 1,
            _ => break,
        }
    }
    (!items.is_empty()).then_some(items)
}

/// The `_cat/indices?v` text table: a header line naming the columns, then one row per
/// index. An empty body (no indices, no header) is an empty list.
fn parse_cat_text(text: &str) -> Option<Vec<DataSet>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Some(Vec::new());
    };
    let columns: Vec<&str> = header.split_whitespace().collect();
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let index_col = col("index")?;
    let (docs_col, size_col, health_col) = (col("docs.count"), col("store.size"), col("health"));
    let mut items = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split_whitespace().collect();
        // Closed indices leave count and size blank, shifting cells; keep the name only.
        let full = cells.len() == columns.len();
        let cell = |i: Option<usize>| i.filter(|_| full).and_then(|i| cells.get(i).copied());
        let name = if full {
            cells.get(index_col)
        } else {
            // A closed index has no health: `close <index> <uuid>`.
            cells
                .iter()
                .position(|c| *c == "close" || *c == "open")
                .and_then(|i| cells.get(i + 1))
        }?
        .to_string();
        items.push(DataSet {
            system: is_system_index(&name),
            documents: cell(docs_col).and_then(|c| c.parse().ok()),
            size_bytes: cell(size_col).and_then(parse_size),
            health: cell(health_col).map(str::to_string),
            name,
            ..DataSet::default()
        });
    }
    Some(items)
}

/// A count or size that may be a JSON number or a string (`"1200"`, `"88100"`, or with a
/// unit when `bytes=b` was ignored: `"88.1kb"`).
fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok().or_else(|| parse_size(s)),
        _ => None,
    }
}

/// `88.1kb` → 90214 bytes; plain digits are bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().ok()?;
    let scale: f64 = match unit {
        "" | "b" => 1.0,
        "kb" => 1024.0,
        "mb" => 1024f64.powi(2),
        "gb" => 1024f64.powi(3),
        "tb" => 1024f64.powi(4),
        "pb" => 1024f64.powi(5),
        _ => return None,
    };
    (value >= 0.0).then(|| (value * scale).round() as u64)
}

/// Dot-prefixed indices are system or hidden ones (`.kibana`, `.security-7`,
/// `.opendistro_security`), except data-stream backing indices; OpenSearch's security
/// audit log (`security-auditlog-*`) is system data too.
fn is_system_index(name: &str) -> bool {
    // `.ds-*` are the backing indices of data streams: user logs and metrics in 7.9+.
    (name.starts_with('.') && !name.starts_with(".ds-")) || name.starts_with("security-auditlog-")
}

/// User indices first, largest by documents then size; system indices last.
fn sort_items(items: &mut [DataSet]) {
    items.sort_by(|a, b| {
        a.system
            .cmp(&b.system)
            .then(b.documents.unwrap_or(0).cmp(&a.documents.unwrap_or(0)))
            .then(b.size_bytes.unwrap_or(0).cmp(&a.size_bytes.unwrap_or(0)))
            .then(a.name.cmp(&b.name))
    });
}

/// Reads the mappings of the biggest user indices (one request, bounded) and records
/// field names that look like personal data, and mapping types as collections.
async fn read_mappings(site: &mut Site<'_>, items: &mut [DataSet]) {
    let chosen: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.system)
        .map(|(n, _)| n)
        .take(site.cx.limits.max_detailed)
        .collect();
    if chosen.is_empty() {
        return;
    }
    let names: Vec<String> = chosen
        .iter()
        .map(|&n| percent_encode(&items[n].name))
        .collect();
    let path = format!("{}/_mapping", names.join(","));
    let reply = match site.get(&path).await {
        Ok(reply) => reply,
        Err(error) => {
            site.record(&path, error.to_string());
            return;
        }
    };
    let Some(json) = (reply.status == 200).then(|| reply.json()).flatten() else {
        site.record(
            &path,
            format!("{}: mappings not readable", reply.describe()),
        );
        return;
    };
    let mut flagged = 0;
    for &n in &chosen {
        let Some(mappings) = json.get(&items[n].name).and_then(|i| i.get("mappings")) else {
            continue;
        };
        let (fields, types) = mapping_fields(mappings);
        items[n].pii_fields = pii::hints(fields.iter().map(String::as_str), 50);
        items[n].collections = types;
        flagged += items[n].pii_fields.len();
    }
    site.record(
        &path,
        format!(
            "{}: mappings of {} indices read, {flagged} field names look like personal data",
            reply.describe(),
            chosen.len()
        ),
    );
}

/// Field paths of one index's `mappings`, and its mapping type names (1.x-6.x), from
/// `{"properties":...}` (7.x+) or `{"<type>":{"properties":...}}` (older).
fn mapping_fields(mappings: &Value) -> (Vec<String>, Vec<String>) {
    let mut fields = Vec::new();
    let mut types = Vec::new();
    let Some(map) = mappings.as_object() else {
        return (fields, types);
    };
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        walk_properties(props, "", &mut fields, 0);
    } else {
        for (type_name, body) in map {
            if let Some(props) = body.get("properties").and_then(Value::as_object) {
                if type_name != "_default_" && type_name != "_doc" {
                    types.push(type_name.clone());
                }
                walk_properties(props, "", &mut fields, 0);
            }
        }
    }
    fields.sort();
    fields.dedup();
    (fields, types)
}

/// Collects leaf field paths under `properties`, descending into objects and nested fields.
/// Depth and count are capped: mappings come from the server.
fn walk_properties(props: &Map<String, Value>, prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 20 {
        return;
    }
    for (name, spec) in props {
        if out.len() >= 20_000 {
            return;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        // Objects are reported through their leaves (`customer.address.city`), so a
        // parent and its children do not both count as personal-data fields.
        match spec.get("properties").and_then(Value::as_object) {
            Some(inner) => walk_properties(inner, &path, out, depth + 1),
            None => out.push(path),
        }
    }
}

fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A decoy index name that differs per endpoint and per run.
fn random_suffix(site: &Site<'_>) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(site.base.as_str().as_bytes());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

fn display_name(product: &Product) -> &'static str {
    match (product.service, product.name) {
        (_, Some(name)) => name,
        ("opensearch", None) => "OpenSearch",
        _ => "Elasticsearch",
    }
}

fn banner_finding(
    site: &Site<'_>,
    banner: &Banner,
    exposure: Exposure,
    severity: Severity,
    summary: String,
) -> Finding {
    let mut f = finding(
        site,
        &banner.product,
        Some(banner.version.clone()),
        exposure,
        severity,
        summary,
    );
    let mut details = Vec::new();
    if let Some(cluster) = &banner.cluster_name {
        details.push(("cluster_name".to_string(), cluster.clone()));
    }
    if let Some(node) = &banner.node_name {
        details.push(("node_name".to_string(), node.clone()));
    }
    if let Some(hash) = &banner.build_hash {
        details.push(("build_hash".to_string(), hash.clone()));
    }
    f.details = details;
    f
}

fn finding(
    site: &Site<'_>,
    product: &Product,
    version: Option<String>,
    exposure: Exposure,
    severity: Severity,
    summary: String,
) -> Finding {
    let mut f = site.finding(product.service, exposure, severity, summary);
    f.product = product.name.map(str::to_string);
    f.version = version;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_whole_rows_of_a_cut_index_list() {
        let body = br#" [{"index":"a","docs.count":"5","store.size":"10"}, {"index":"b","docs.count":"7","store.size":"20"},{"index":"c","docs.c"#;
        let items = parse_cut_cat_indices(body).expect("two whole rows");
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(parse_cut_cat_indices(br#"[{"index":"aaaaaaaa"#), None);
        assert_eq!(parse_cut_cat_indices(br#"{"index":"a"}"#), None);
    }

    #[test]
    fn data_streams_are_user_data() {
        assert!(is_system_index(".kibana_1"));
        assert!(!is_system_index(".ds-logs-nginx-2026.11.22-000001"));
        assert!(is_system_index("security-auditlog-2026.11.22"));
        assert_eq!(percent_encode("sales%2024+ü"), "sales%252024%2B%C3%BC");
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("88100"), Some(88100));
        assert_eq!(parse_size("260b"), Some(260));
        assert_eq!(parse_size("88.1kb"), Some(90214));
        assert_eq!(parse_size("1.5gb"), Some(1_610_612_736));
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("12parsecs"), None);
    }

    #[test]
    fn parses_text_table_with_closed_index() {
        // Shape from elastic/elasticsearch docs/reference/cat/indices.asciidoc (ES-20).
        let text = "health status index            uuid                   pri rep docs.count docs.deleted store.size pri.store.size\n\
                    yellow open   my-index-000001  u8FNjxh8Rfy_awN11oDKYQ   1   1       1200            0      90214          90214\n\
                           close  old-index        nYFWZEO7TUiOjLQXBaYJpA\n";
        let items = parse_cat_text(text).expect("table");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name, "my-index-000001");
        assert_eq!(
            (items[0].documents, items[0].size_bytes),
            (Some(1200), Some(90214))
        );
        assert_eq!(items[1].name, "old-index");
        assert_eq!(items[1].documents, None);
        assert_eq!(parse_cat_text("").map(|v| v.len()), Some(0));
    }

    #[test]
    fn walks_typed_and_typeless_mappings() {
        let typed: Value = serde_json::json!({"user":{"properties":{
            "email":{"type":"string"},
            "address":{"properties":{"city":{"type":"string"}}}}}});
        let (fields, types) = mapping_fields(&typed);
        assert_eq!(fields, ["address.city", "email"]);
        assert_eq!(types, ["user"]);
        let typeless: Value = serde_json::json!({"properties":{"geoip":{"properties":{"location":{"type":"geo_point"}}}}});
        assert_eq!(mapping_fields(&typeless).0, ["geoip.location"]);
    }
}
