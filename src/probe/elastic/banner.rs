//! Who answered `GET /`: the Elasticsearch or OpenSearch banner, or their security layer's
//! refusal (X-Pack security, the OpenSearch security plugin, Search Guard, ReadonlyREST, an
//! AWS access policy). Recognition is by structure, never by a tagline or the port.

use serde_json::Value;

use crate::net::http::HttpReply;
use crate::sanitize::clip;

/// Which product a banner or a security answer belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Product {
    /// The report's service id.
    pub service: &'static str,
    /// A product name beyond the service, if any.
    pub name: Option<&'static str>,
}

pub(super) const ELASTICSEARCH: Product = Product {
    service: "elasticsearch",
    name: None,
};
pub(super) const OPENSEARCH: Product = Product {
    service: "opensearch",
    name: None,
};
const AWS: Product = Product {
    service: "opensearch",
    name: Some("Amazon OpenSearch Service"),
};

impl Product {
    /// The name humans read in summaries and notes.
    pub(super) fn display(&self) -> &'static str {
        match (self.service, self.name) {
            (_, Some(name)) => name,
            ("opensearch", None) => "OpenSearch",
            _ => "Elasticsearch",
        }
    }
}

/// The `GET /` banner fields ajar reports and judges by.
#[derive(Debug, Clone)]
pub(super) struct Banner {
    /// Elasticsearch or OpenSearch.
    pub product: Product,
    /// `version.number`, clipped.
    pub version: String,
    /// `cluster_name`, clipped.
    pub cluster_name: Option<String>,
    /// `name` (the node), clipped.
    pub node_name: Option<String>,
    /// `version.build_hash`, clipped.
    pub build_hash: Option<String>,
    /// The HTTP status the banner came with: 200, or 503 under a global cluster block.
    pub http_status: u16,
}

impl Banner {
    /// The major version, when `version.number` starts with one.
    pub(super) fn major(&self) -> Option<u32> {
        self.version.split('.').next()?.parse().ok()
    }

    /// Whether this product may answer `_cat/indices` with the `v` text table: only
    /// Elasticsearch before 5.0 (protocols.md ES-20); 5.0+ and OpenSearch honour
    /// `format=json`.
    pub(super) fn may_send_text_table(&self) -> bool {
        self.product.service == "elasticsearch" && self.major().is_some_and(|m| m < 5)
    }

    /// `Elasticsearch 7.2.0`, for notes.
    pub(super) fn label(&self) -> String {
        format!("{} {}", self.product.display(), self.version)
    }
}

/// The security layer's refusal: Elasticsearch security (X-Pack), the OpenSearch security
/// plugin (and Open Distro, Search Guard), ReadonlyREST, or an AWS access policy.
pub(super) fn security_answer(root: &HttpReply) -> Option<Product> {
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
pub(super) fn parse(reply: &HttpReply) -> Option<Banner> {
    if reply.status != 200 && reply.status != 503 {
        return None;
    }
    let json = reply.json()?;
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
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| clip(s, 200));
    let product = match version.get("distribution").and_then(Value::as_str) {
        Some(d) if d.eq_ignore_ascii_case("opensearch") => OPENSEARCH,
        _ => ELASTICSEARCH,
    };
    Some(Banner {
        product,
        version: clip(number, 40),
        cluster_name: text(json.get("cluster_name")),
        node_name: text(json.get("name")),
        build_hash: text(version.get("build_hash")),
        http_status: reply.status,
    })
}

/// A top-level numeric `status` in a (small) JSON body that disagrees with the HTTP
/// status, as a decoy's canned error body does (`200` carrying `"status":404`). Real
/// Elasticsearch writes the status it sends.
pub(super) fn status_disagrees(reply: &HttpReply) -> Option<u64> {
    // Only an object has a top-level `status`; a listing array is not parsed twice.
    let first = reply.body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let said = reply.json()?.get("status")?.as_u64()?;
    (said != u64::from(reply.status)).then_some(said)
}

/// The reason of a cluster block in an error body: 1.x
/// `"ClusterBlockException[blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];]"`,
/// 2.x+ `{"type":"cluster_block_exception","reason":"blocked by: [...];"}`.
pub(super) fn cluster_block(reply: &HttpReply) -> Option<String> {
    let json = reply.json()?;
    let error = json.get("error")?;
    let text = match error {
        Value::String(text) if text.contains("ClusterBlockException") => text.as_str(),
        Value::Object(_) => {
            let kind = error
                .get("type")
                .or_else(|| error.pointer("/root_cause/0/type"))
                .and_then(Value::as_str)?;
            if kind != "cluster_block_exception" {
                return None;
            }
            error
                .get("reason")
                .or_else(|| error.pointer("/root_cause/0/reason"))
                .and_then(Value::as_str)
                .unwrap_or("")
        }
        _ => return None,
    };
    let reason = text
        .split_once("blocked by: [")
        .and_then(|(_, rest)| rest.split_once("];").or_else(|| rest.rsplit_once(']')))
        .map_or("blocked", |(inner, _)| inner);
    Some(clip(reason, 120))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> HttpReply {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "content-type",
            "application/json; charset=UTF-8"
                .parse()
                .expect("static header value"),
        );
        HttpReply {
            status,
            headers,
            body: body.as_bytes().to_vec(),
            truncated: false,
            reservation: Default::default(),
        }
    }

    #[test]
    fn reads_cluster_block_reasons() {
        let v1 = r#"{"error":"ClusterBlockException[blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];]","status":503}"#;
        let v2 = r#"{"error":{"root_cause":[{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"}],"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},"status":503}"#;
        for body in [v1, v2] {
            assert_eq!(
                cluster_block(&reply(503, body)).as_deref(),
                Some("SERVICE_UNAVAILABLE/1/state not recovered / initialized")
            );
            assert_eq!(status_disagrees(&reply(503, body)), None);
            assert_eq!(status_disagrees(&reply(200, body)), Some(503));
        }
        assert_eq!(
            cluster_block(&reply(
                404,
                r#"{"error":"IndexMissingException[[x] missing]","status":404}"#
            )),
            None
        );
        // `status` as cluster health writes it is a colour, not a code.
        assert_eq!(status_disagrees(&reply(200, r#"{"status":"green"}"#)), None);
    }

    #[test]
    fn text_tables_only_before_5_0() {
        let banner = |number: &str, product: Product| Banner {
            product,
            version: number.into(),
            cluster_name: None,
            node_name: None,
            build_hash: None,
            http_status: 200,
        };
        assert!(banner("1.7.2", ELASTICSEARCH).may_send_text_table());
        assert!(banner("2.4.1", ELASTICSEARCH).may_send_text_table());
        assert!(!banner("5.6.16", ELASTICSEARCH).may_send_text_table());
        assert!(!banner("1.2.4", OPENSEARCH).may_send_text_table());
        assert!(!banner("weird", ELASTICSEARCH).may_send_text_table());
    }
}
