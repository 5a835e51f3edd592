//! `GET <indices>/_mapping`: field names of the biggest user indices, to flag personal
//! data, and proof that the indices the listing named exist (issue 5: honeypots serve a
//! static index list and fail on its mappings).
//!
//! The answer is a JSON object keyed by index name, `{"idx":{"mappings":{"properties":..}}}`
//! on 7.x+/OpenSearch and `{"idx":{"mappings":{"<type>":{"properties":..}}}}` on 1.x-6.x,
//! read by the bounded visitor in `fields.rs`. This module picks what to ask and judges the
//! answer against the listing.

use super::fields::{self, Answer};
use super::tally::is_verbatim;
use crate::finding::{DataSet, Inventory};
use crate::net::http::HttpReply;
use crate::probe::http::Site;
use crate::sanitize::clip;

/// Longest list of index names in one request. Elasticsearch refuses request lines over
/// 4 KiB (`http.max_initial_line_length`), which would read as "no such index".
const MAX_NAMES_LEN: usize = 3000;

/// One mapping request: which indices, and whether their fields are read for personal
/// data (user indices) or the answer only proves that they exist (a system index, when no
/// user index is listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Request {
    /// `a,b/_mapping`, names percent-encoded.
    pub path: String,
    /// The names asked for, as listed.
    pub names: Vec<String>,
    /// True when the fields are read for personal-data hints.
    pub detailed: bool,
}

/// The indices to ask about: the biggest open user indices (at most `max_detailed`), or
/// else one system index. `None` when the listing names no open index ajar can ask for by
/// its exact name.
pub(super) fn choose(items: &[DataSet], max_detailed: usize) -> Option<Request> {
    let askable = |i: &&DataSet| i.documents.is_some() && is_verbatim(&i.name);
    let mut names: Vec<String> = Vec::new();
    let mut len = 0;
    for item in items.iter().filter(|i| !i.system).filter(askable) {
        if names.len() >= max_detailed {
            break;
        }
        if names.contains(&item.name) {
            continue;
        }
        let encoded = percent_encode(&item.name).len() + 1;
        if len + encoded > MAX_NAMES_LEN {
            break;
        }
        len += encoded;
        names.push(item.name.clone());
    }
    let detailed = !names.is_empty();
    if !detailed {
        // Metadata only. Prefer the ones every version lets a caller name directly.
        let system = || items.iter().filter(|i| i.system).filter(askable);
        let pick = system()
            .find(|i| i.name.starts_with("security-auditlog-"))
            .or_else(|| system().find(|i| i.name.starts_with(".kibana")))
            .or_else(|| system().next())?;
        if percent_encode(&pick.name).len() > MAX_NAMES_LEN {
            return None;
        }
        names.push(pick.name.clone());
    }
    let list: Vec<String> = names.iter().map(|n| percent_encode(n)).collect();
    Some(Request {
        path: format!("{}/_mapping", list.join(",")),
        names,
        detailed,
    })
}

/// Reads the mappings of the biggest user indices (one request, bounded), recording field
/// names that look like personal data and mapping types as collections; with no user index,
/// asks about one system index only to see that it exists. `Err` says how the answer
/// contradicts the listing.
pub(super) async fn read(
    site: &mut Site<'_>,
    inventory: &mut Inventory,
) -> Result<(), Vec<String>> {
    let Some(request) = choose(&inventory.items, site.cx.limits.max_detailed) else {
        return Ok(());
    };
    let reply = match site.get(&request.path).await {
        Ok(reply) => reply,
        Err(error) => {
            site.record(&request.path, format!("{error}: mappings not read"));
            return Ok(());
        }
    };
    let asked = super::count(request.names.len() as u64, "index", "indices");
    match judge(&reply, &request) {
        Check::Disagrees(signals) => {
            site.record(
                &request.path,
                format!("{}: disagrees with the listing", reply.describe()),
            );
            Err(signals)
        }
        Check::Refused(status) => {
            site.record(
                &request.path,
                format!(
                    "{}: mappings refused (HTTP {status}, the security layer); the listing stands",
                    reply.describe()
                ),
            );
            Ok(())
        }
        Check::Unverified(why) => {
            site.record(
                &request.path,
                format!("{}: mappings not read ({why})", reply.describe()),
            );
            Ok(())
        }
        Check::Agrees(answer) => {
            let named = answer.named();
            if !request.detailed {
                site.record(
                    &request.path,
                    format!(
                        "{}: the listed system index exists (metadata only)",
                        reply.describe()
                    ),
                );
                return Ok(());
            }
            let mut flagged = 0;
            for (name, facts) in request.names.iter().zip(answer.indices) {
                if let Some(item) = inventory.items.iter_mut().find(|i| &i.name == name) {
                    flagged += facts.hints.len();
                    item.pii_fields = facts.hints;
                    item.collections = facts.types;
                }
            }
            site.record(
                &request.path,
                format!(
                    "{}: mappings of {named} of {asked} read, {flagged} field names look like personal data",
                    reply.describe()
                ),
            );
            Ok(())
        }
    }
}

/// What the mapping answer says about the listing.
#[derive(Debug)]
pub(super) enum Check {
    /// A mapping object naming some of the requested indices.
    Agrees(Answer),
    /// The security layer refused (401/403): no disagreement, just no field names.
    Refused(u16),
    /// No judgement possible (a server error, an answer past the read cap).
    Unverified(String),
    /// The answer contradicts the listing; each entry says how.
    Disagrees(Vec<String>),
}

/// Judges a mapping answer against the names asked for.
pub(super) fn judge(reply: &HttpReply, request: &Request) -> Check {
    let asked = if request.names.len() == 1 {
        format!("the listed index {:?}", clip(&request.names[0], 80))
    } else {
        format!("the {} listed indices", request.names.len())
    };
    match reply.status {
        401 | 403 | 407 => Check::Refused(reply.status),
        // The server says the indices it just listed do not exist. Another 404 (a proxy's
        // page) says nothing about them.
        404 => match not_found_kind(reply) {
            Some(kind) => Check::Disagrees(vec![format!(
                "the mapping request for {asked} answers HTTP 404 {kind}: the indices it listed do not exist"
            )]),
            None => Check::Unverified("HTTP 404 without an index-not-found error".into()),
        },
        200..=299 => match fields::read(&reply.body, reply.truncated, &request.names) {
            Err(why) => Check::Disagrees(vec![format!(
                "the mapping request for {asked} answers with {why}, not a mapping"
            )]),
            Ok(answer) => {
                let mut signals = Vec::new();
                if let Some(said) = answer.status
                    && said != u64::from(reply.status)
                {
                    signals.push(format!(
                        "the mapping answer says status {said} under HTTP {}",
                        reply.status
                    ));
                }
                if answer.named() == 0 {
                    if answer.cut {
                        return Check::Unverified(
                            "the mapping answer exceeds the read cap before naming an index".into(),
                        );
                    }
                    let what = if answer.banner {
                        "the banner"
                    } else if answer.error {
                        "an error body"
                    } else {
                        "an object naming none of them"
                    };
                    signals.push(format!(
                        "the mapping request for {asked} answers HTTP {} with {what}",
                        reply.status
                    ));
                }
                if signals.is_empty() {
                    Check::Agrees(answer)
                } else {
                    Check::Disagrees(signals)
                }
            }
        },
        other => Check::Unverified(format!("HTTP {other}")),
    }
}

/// `index_not_found_exception` (2.x+) or `IndexMissingException` (1.x), from a small body.
fn not_found_kind(reply: &HttpReply) -> Option<&'static str> {
    let text = if reply.body.len() <= 4096 {
        String::from_utf8_lossy(&reply.body)
    } else {
        return None;
    };
    if text.contains("index_not_found_exception") {
        Some("index_not_found_exception")
    } else if text.contains("IndexMissingException") {
        Some("IndexMissingException")
    } else {
        None
    }
}

/// Percent-encodes an index name for a URL path segment (`,` separates names, so it is
/// encoded too).
pub(super) fn percent_encode(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_open_user_indices_then_one_system_index() {
        let set = |name: &str, system: bool, documents: Option<u64>| DataSet {
            name: name.into(),
            system,
            documents,
            ..DataSet::default()
        };
        let items = vec![
            set("sales%2024", false, Some(9)),
            set("kunden-ü", false, Some(8)),
            set("sales%2024", false, Some(7)),
            set("closed", false, None),
            set("evil\\u{1b}", false, Some(1)),
            set(".kibana_1", true, Some(3)),
        ];
        let request = choose(&items, 25).expect("user indices");
        assert_eq!(request.path, "sales%252024,kunden-%C3%BC/_mapping");
        assert_eq!(request.names, ["sales%2024", "kunden-ü"]);
        assert!(request.detailed);
        assert_eq!(choose(&items, 1).map(|r| r.names.len()), Some(1));

        let system = vec![
            set(".tasks", true, Some(50)),
            set(".kibana_7.16.2_001", true, Some(40)),
        ];
        let request = choose(&system, 25).expect("a system index");
        assert_eq!(request.names, [".kibana_7.16.2_001"]);
        assert!(!request.detailed);
        assert_eq!(choose(&[set("closed", false, None)], 25), None);

        // Long names: the request line stays under Elasticsearch's 4 KiB limit.
        let long: Vec<DataSet> = (0..25)
            .map(|n| set(&format!("{n:02}{}", "x".repeat(250)), false, Some(1)))
            .collect();
        let request = choose(&long, 25).expect("some");
        assert!(
            request.path.len() <= MAX_NAMES_LEN + 10,
            "{}",
            request.path.len()
        );
        assert_eq!(request.names.len(), 11);
    }

    #[test]
    fn percent_encodes_names() {
        assert_eq!(
            percent_encode("sales%2024+ü,x"),
            "sales%252024%2B%C3%BC%2Cx"
        );
    }
}
