//! Elasticsearch (1.x to 9.x) and OpenSearch (1.x, 2.x), including Amazon's managed
//! service: recognised from the structure of `GET /` or of the security answer, judged by
//! whether the index list can be read, and open only when every signal agrees (issue 5).
//!
//! Requests, all `GET`, none touching documents:
//! 1. `/` (already fetched by the HTTP probe): banner with `version.number`, or a 401/403
//!    from the security layer.
//! 2. `/ajar-<random>`: a real cluster answers 404 (`index_not_found_exception`, 1.x
//!    `IndexMissingException`), never 2xx.
//! 3. `/_cat/indices?format=json&bytes=b&v`: names, document counts, sizes, health, in the
//!    shape the banner's version sends (`cat.rs`).
//! 4. `/<biggest user indices>/_mapping`: field names, to flag personal data, and proof that
//!    the listed indices exist; with no user index, one system index's (`mapping.rs`).
//!
//! A decoy gives itself away when these disagree: a 2xx for an index that does not exist,
//! a body whose `status` field contradicts the HTTP status, a listing the product never
//! sends, listed indices that do not exist. Such an endpoint is no finding. A real service
//! that lets nothing be judged (a cluster block, an error on the listing) is `undetermined`.

mod banner;
mod cat;
mod fields;
mod json;
mod mapping;
mod table;
mod tally;

use std::collections::BTreeSet;

use self::banner::{Banner, Product};
use self::cat::Listing;
use super::ProbeOutcome;
use super::http::Site;
use crate::finding::{Exposure, Finding, Inventory, Severity};
use crate::net::http::HttpReply;

/// The listing request: JSON, sizes in bytes, and the header line for the text table
/// that Elasticsearch before 5.0 may send instead.
const CAT_PATH: &str = "_cat/indices?format=json&bytes=b&v";

/// Recognises Elasticsearch or OpenSearch from the `GET /` answer and judges access.
/// Returns `None` when the answer is not theirs.
pub async fn recognise(site: &mut Site<'_>, root: &HttpReply) -> Option<ProbeOutcome> {
    if let Some(product) = banner::security_answer(root) {
        let finding = finding(
            site,
            &product,
            None,
            Exposure::AuthRequired,
            Severity::Info,
            format!("{} demands credentials", product.display()),
        );
        return Some(ProbeOutcome::Found(Box::new(finding)));
    }
    let banner = banner::parse(root)?;
    if let Some(said) = banner::status_disagrees(root) {
        return Some(decoy(
            &banner,
            &[format!(
                "GET / answers HTTP {} but its banner says status {said}",
                root.status
            )],
        ));
    }
    Some(assess(site, banner).await)
}

async fn assess(site: &mut Site<'_>, banner: Banner) -> ProbeOutcome {
    let name = banner.product.display();

    let signals = check_decoy_path(site).await;
    if !signals.is_empty() {
        return decoy(&banner, &signals);
    }

    let cat = match site.get(CAT_PATH).await {
        Ok(reply) => reply,
        Err(error) => {
            site.record(CAT_PATH, error.to_string());
            let summary =
                format!("{name} banner readable; the index list did not come back ({error})");
            return undetermined(site, &banner, summary);
        }
    };
    if let Some(said) = banner::status_disagrees(&cat) {
        site.record(
            CAT_PATH,
            format!("{}: body says status {said}", cat.describe()),
        );
        return decoy(
            &banner,
            &[format!(
                "GET {} answers HTTP {} but its body says status {said}",
                site.request_line(CAT_PATH).trim_start_matches("GET "),
                cat.status
            )],
        );
    }
    match cat.status {
        // The security layer (or a proxy asking for credentials) refuses the listing.
        401 | 403 | 407 => {
            site.record(
                CAT_PATH,
                format!("{}: index list refused without credentials", cat.describe()),
            );
            let summary = format!(
                "{name} banner readable, but the index list is refused without credentials (HTTP {})",
                cat.status
            );
            return banner_only(site, &banner, summary);
        }
        200..=299 => {}
        _ => return unserved(site, &banner, &cat),
    }

    let listing = cat::parse(&cat, banner.may_send_text_table(), site.cx.limits.max_items);
    let (tally, cut) = match listing {
        Listing::Indices { tally, cut } => (tally, cut),
        Listing::CutEarly => {
            site.record(
                CAT_PATH,
                format!("{}: cut before its first whole row", cat.describe()),
            );
            let summary = format!(
                "{name} banner readable; the index list exceeds the {} MiB read cap before its first whole row",
                site.cx.limits.max_body >> 20
            );
            return undetermined(site, &banner, summary);
        }
        Listing::Not(what) => {
            site.record(
                CAT_PATH,
                format!("{}: not an index list: {what}", cat.describe()),
            );
            return decoy(
                &banner,
                &[format!(
                    "the index list is {what}, which {} never sends",
                    banner.label()
                )],
            );
        }
    };
    // The listing is in the tally now; free the body (and its share of the read budget).
    let described = cat.describe();
    drop(cat);
    let mut facts = format!(
        "{described}: {} listed without credentials",
        count(tally.rows(), "index", "indices")
    );
    if cut {
        facts.push_str(" (cut at the read cap; the whole rows before it kept)");
    }
    site.record(CAT_PATH, facts);

    if tally.rows() == 0
        && let Some(user) = anonymous_user(site, &banner.product).await
    {
        // Security is on and lets anonymous callers in: an empty list may be a filter
        // on what `user` may see, not an empty cluster.
        let summary = format!(
            "{name} security is on; the anonymous user {user:?} sees no indices (data may exist behind credentials)"
        );
        return banner_only(site, &banner, summary);
    }

    let mut inventory = tally.into_inventory(cut);
    if let Err(signals) = mapping::read(site, &mut inventory).await {
        return decoy(&banner, &signals);
    }
    let severity = open_severity(&inventory);
    let summary = open_summary(name, &inventory, cut);
    let mut f = banner_finding(site, &banner, Exposure::Open, severity, summary);
    f.inventory = Some(inventory);
    ProbeOutcome::Found(Box::new(f))
}

/// A listing answered with an error that is no refusal (404, 5xx): the service is real and
/// asked for no credentials, but access could not be judged. A cluster block (1.x/2.x
/// answer `GET /` with 503 under it) is named as such.
fn unserved(site: &mut Site<'_>, banner: &Banner, cat: &HttpReply) -> ProbeOutcome {
    let name = banner.product.display();
    let block = banner::cluster_block(cat);
    site.record(
        CAT_PATH,
        match &block {
            Some(reason) => format!("{}: cluster block ({reason})", cat.describe()),
            None => format!("{}: index list not served", cat.describe()),
        },
    );
    let status = cat.status;
    let summary = if block.is_some() || banner.http_status == 503 {
        let reason = block.unwrap_or_else(|| "the banner answers HTTP 503".into());
        format!(
            "{name} is under a cluster block ({reason}): nothing asked for credentials, but the index list could not be read (HTTP {status})"
        )
    } else {
        format!(
            "{name} banner readable; nothing asked for credentials, but the index list is not served (HTTP {status})"
        )
    };
    undetermined(site, banner, summary)
}

/// Asks for an index that cannot exist. Real Elasticsearch answers 404 (an error body
/// whose `status` is 404); a 2xx, or a body whose `status` disagrees with the HTTP status,
/// is a decoy's. Returns what disagreed.
async fn check_decoy_path(site: &mut Site<'_>) -> Vec<String> {
    let path = format!("ajar-{}", random_suffix(site));
    let reply = match site.get_small(&path).await {
        Ok(reply) => reply,
        Err(error) => {
            site.record(&path, error.to_string());
            return Vec::new();
        }
    };
    let shown = site.request_line(&path);
    let shown = shown.trim_start_matches("GET ");
    let mut signals = Vec::new();
    if (200..300).contains(&reply.status) {
        let what = if banner::parse(&reply).is_some() {
            " with its banner"
        } else {
            ""
        };
        signals.push(format!(
            "GET {shown} (an index that does not exist) answers HTTP {}{what} where Elasticsearch answers 404",
            reply.status
        ));
    }
    if let Some(said) = banner::status_disagrees(&reply) {
        signals.push(format!(
            "GET {shown} answers HTTP {} but its body says status {said}",
            reply.status
        ));
    }
    let facts = if signals.is_empty() {
        reply.describe()
    } else {
        format!("{}: disagrees with a real cluster", reply.describe())
    };
    site.record(&path, facts);
    signals
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
        .and_then(|json| {
            json.get(key)
                .and_then(serde_json::Value::as_str)
                .map(|u| crate::sanitize::clip(u, 100))
        });
    let facts = match &user {
        Some(user) => format!("{}: authenticated as {user:?}", reply.describe()),
        None => format!("{}: no security user", reply.describe()),
    };
    site.record(path, facts);
    user
}

/// Severity of an open store from what it holds, by the shared policy.
pub fn open_severity(inventory: &Inventory) -> Severity {
    crate::finding::policy::severity(Exposure::Open, Severity::High, Some(inventory), false)
}

/// The open summary, from the inventory's own totals (one source for each number).
fn open_summary(name: &str, inventory: &Inventory, cut: bool) -> String {
    let pii: BTreeSet<&str> = inventory
        .items
        .iter()
        .filter(|i| !i.system)
        .flat_map(|i| i.pii_fields.iter().map(|h| h.category.as_str()))
        .collect();
    let mut summary = format!(
        "{name} lists {} ({} user) without credentials",
        count(inventory.total_items, "index", "indices"),
        inventory.user_items
    );
    if let Some(docs) = inventory.total_documents {
        summary.push_str(&format!(", {}", count(docs, "document", "documents")));
    }
    if cut {
        summary.push_str(" (the list was cut at the read cap)");
    }
    if !pii.is_empty() {
        let cats: Vec<&str> = pii.into_iter().collect();
        summary.push_str(&format!("; personal-data fields: {}", cats.join(", ")));
    }
    summary
}

/// `1 index`, `2 indices`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A look-alike whose signals disagree: no finding, and a note saying what disagreed.
fn decoy(banner: &Banner, signals: &[String]) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!(
            "{} look-alike: {} (likely a honeypot or decoy)",
            banner.label(),
            signals.join("; ")
        ),
        hint: None,
        transport_confirmed: true,
        speaks_protocol: true,
    }
}

/// The banner alone is readable and the listing was refused: a version leak, not an open
/// store.
fn banner_only(site: &Site<'_>, banner: &Banner, summary: String) -> ProbeOutcome {
    let f = banner_finding(site, banner, Exposure::AuthRequired, Severity::Low, summary);
    ProbeOutcome::Found(Box::new(f))
}

/// The service is real and asked for no credentials, but no listing could be judged.
fn undetermined(site: &Site<'_>, banner: &Banner, summary: String) -> ProbeOutcome {
    let f = banner_finding(site, banner, Exposure::Undetermined, Severity::Low, summary);
    ProbeOutcome::Found(Box::new(f))
}

/// A decoy index name that differs per endpoint and per run.
fn random_suffix(site: &Site<'_>) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(site.base.as_str().as_bytes());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
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
    use crate::finding::DataSet;

    #[test]
    fn summaries_use_singular_and_plural() {
        let one = Inventory {
            unit: "index".into(),
            items: vec![DataSet {
                name: "orders".into(),
                documents: Some(1),
                ..DataSet::default()
            }],
            total_items: 1,
            user_items: 1,
            total_documents: Some(1),
            ..Inventory::default()
        };
        assert_eq!(
            open_summary("Elasticsearch", &one, false),
            "Elasticsearch lists 1 index (1 user) without credentials, 1 document"
        );
        let many = Inventory {
            total_items: 2,
            total_documents: Some(0),
            ..one
        };
        assert_eq!(
            open_summary("OpenSearch", &many, true),
            "OpenSearch lists 2 indices (1 user) without credentials, 0 documents (the list was cut at the read cap)"
        );
    }
}
