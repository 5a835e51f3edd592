//! Kibana (4.x to 8.x) and its fork OpenSearch Dashboards: recognised by the name header
//! each puts on every response (`kbn-name`, `osd-name`; Kibana 4-5 also `kbn-version`),
//! judged by whether its API serves data without credentials.
//!
//! `/api/status` alone proves nothing: Kibana 8.9+ answers anonymous callers with a
//! redacted 200, and `status.allowAnonymous` serves the full status on secured instances.
//! So a full status is followed by a saved-objects listing (index-pattern titles only),
//! which only an instance without security answers.

use serde_json::Value;

use super::ProbeOutcome;
use super::http::Site;
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity};
use crate::net::http::HttpReply;

/// Which of the two products answered, from its header prefix.
#[derive(Clone, Copy)]
struct Flavour {
    service: &'static str,
    name: &'static str,
    prefix: &'static str,
}

const KIBANA: Flavour = Flavour {
    service: "kibana",
    name: "Kibana",
    prefix: "kbn",
};

/// OpenSearch Dashboards names its header `osd-name` (opensearch-project/OpenSearch-Dashboards:
/// `src/core/server/http/lifecycle_handlers.ts`) and keeps Kibana 7.10's APIs.
const DASHBOARDS: Flavour = Flavour {
    service: "opensearch-dashboards",
    name: "OpenSearch Dashboards",
    prefix: "osd",
};

/// Recognises Kibana or OpenSearch Dashboards from its headers and judges access; `None`
/// when neither.
pub async fn recognise(site: &mut Site<'_>, root: &HttpReply) -> Option<ProbeOutcome> {
    // The name header is the operator's server.name and may not be ASCII: its presence is
    // what identifies the product, so read it lossily.
    let header = |name: String| {
        root.headers
            .get(name.as_str())
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (flavour, _name, kbn_version) = [KIBANA, DASHBOARDS].into_iter().find_map(|f| {
        let name = header(format!("{}-name", f.prefix));
        let version = header(format!("{}-version", f.prefix));
        (name.is_some() || version.is_some()).then_some((f, name, version))
    })?;
    let mut kibana = Kibana {
        site,
        flavour,
        version: kbn_version.map(|v| crate::sanitize::clip(&v, 40)),
        status_public: false,
    };

    let status_path = "api/status";
    let status = match kibana.site.get_small(status_path).await {
        Ok(reply) => reply,
        Err(error) => {
            kibana.record(status_path, error.to_string());
            return Some(kibana.protected("status API did not answer"));
        }
    };
    let verdict = read_status(&status);
    kibana.record(
        status_path,
        format!("{}: {}", status.describe(), verdict.describe()),
    );
    let StatusVerdict::Full { version } = verdict else {
        return Some(kibana.protected(&verdict.describe()));
    };
    if version.is_some() {
        kibana.version = version;
    }
    kibana.status_public = true;

    let objects_path = "api/saved_objects/_find?type=index-pattern&per_page=100&fields=title";
    let objects = kibana.site.get(objects_path).await;
    match objects {
        Ok(reply) if reply.status == 200 => {
            if let Some(inventory) = index_patterns(&reply, kibana.site.cx.limits.max_items) {
                kibana.record(
                    objects_path,
                    format!(
                        "{}: {} index patterns listed without credentials",
                        reply.describe(),
                        inventory.total_items
                    ),
                );
                return Some(kibana.open(
                    format!(
                        "{} serves its API without credentials ({} index patterns); it reads the cluster's data for anyone",
                        flavour.name,
                        inventory.total_items
                    ),
                    Some(inventory),
                ));
            }
            kibana.record(objects_path, reply.describe());
            Some(kibana.protected("saved objects answer is not a listing"))
        }
        // OpenSearch Dashboards numbers restart at 1.0 and always have the API.
        Ok(reply)
            if reply.status == 404
                && flavour.service == KIBANA.service
                && kibana.major() < Some(6) =>
        {
            // Kibana 4.x/5.x have no saved-objects API; with no security plugin their full
            // status is served to everyone and every app is reachable.
            kibana.record(
                objects_path,
                format!("{}: no saved-objects API before 6.0", reply.describe()),
            );
            Some(kibana.open(
                "Kibana serves its full status and apps without credentials (no security plugin)"
                    .into(),
                None,
            ))
        }
        Ok(reply) => {
            kibana.record(
                objects_path,
                format!("{}: saved objects refused", reply.describe()),
            );
            Some(
                kibana.protected(
                    "status is public (status.allowAnonymous) but data needs credentials",
                ),
            )
        }
        Err(error) => {
            kibana.record(objects_path, error.to_string());
            Some(kibana.protected("saved objects did not answer"))
        }
    }
}

struct Kibana<'s, 'a> {
    site: &'s mut Site<'a>,
    flavour: Flavour,
    version: Option<String>,
    /// The full status (version, plugin states) was served anonymously.
    status_public: bool,
}

impl Kibana<'_, '_> {
    /// Records an exchange; the saved-objects request is shown without its `fields` list.
    fn record(&mut self, path: &str, response: impl AsRef<str>) {
        let shown = path.split_once("&fields").map_or(path, |(p, _)| p);
        self.site.record(shown, response);
    }

    fn major(&self) -> Option<u32> {
        self.version.as_deref()?.split('.').next()?.parse().ok()
    }

    fn finding(&self, exposure: Exposure, severity: Severity, summary: String) -> Finding {
        let mut f = self
            .site
            .finding(self.flavour.service, exposure, severity, summary);
        f.version = self.version.clone();
        f
    }

    fn protected(&self, why: &str) -> ProbeOutcome {
        // A public full status leaks version and plugin states: low, not info.
        let severity = if self.status_public {
            Severity::Low
        } else {
            Severity::Info
        };
        let f = self.finding(
            Exposure::AuthRequired,
            severity,
            format!("{} demands credentials: {why}", self.flavour.name),
        );
        ProbeOutcome::Found(Box::new(f))
    }

    fn open(&self, summary: String, inventory: Option<Inventory>) -> ProbeOutcome {
        let mut f = self.finding(Exposure::Open, Severity::High, summary);
        f.inventory = inventory;
        ProbeOutcome::Found(Box::new(f))
    }
}

/// What `/api/status` says about access.
enum StatusVerdict {
    /// The full status: only served without security (or with allowAnonymous).
    Full { version: Option<String> },
    /// A redacted 200 (8.9+ anonymous), a 401, or a redirect to the login page.
    Protected(String),
}

impl StatusVerdict {
    fn describe(&self) -> String {
        match self {
            StatusVerdict::Full { version } => format!(
                "full status{}",
                version
                    .as_deref()
                    .map(|v| format!(", version {v}"))
                    .unwrap_or_default()
            ),
            StatusVerdict::Protected(why) => why.clone(),
        }
    }
}

fn read_status(reply: &HttpReply) -> StatusVerdict {
    match reply.status {
        401 | 403 => {
            return StatusVerdict::Protected(format!("HTTP {} from the status API", reply.status));
        }
        300..=399 => {
            let location = reply.header("location").unwrap_or("");
            return StatusVerdict::Protected(if location.contains("login") {
                "status API redirects to the login page".into()
            } else {
                format!("status API redirects (HTTP {})", reply.status)
            });
        }
        200 | 503 => {}
        other => return StatusVerdict::Protected(format!("status API answered HTTP {other}")),
    }
    let Some(json) = reply.json() else {
        return StatusVerdict::Protected("status API answered something other than JSON".into());
    };
    // 7.x/8.x: version object; 4.x/5.x: version string with buildNum.
    let version = json
        .pointer("/version/number")
        .and_then(Value::as_str)
        .or_else(|| json.get("version").and_then(Value::as_str))
        .map(str::to_string);
    let status = json.get("status");
    let detailed = status.is_some_and(|s| {
        s.get("core").is_some() || s.get("statuses").is_some() || s.get("plugins").is_some()
    }) || json.get("metrics").is_some();
    if version.is_some() && detailed {
        StatusVerdict::Full { version }
    } else {
        StatusVerdict::Protected(
            "redacted status (anonymous callers get only the overall level)".into(),
        )
    }
}

/// Index-pattern titles from a saved-objects `_find` answer.
fn index_patterns(reply: &HttpReply, max_items: usize) -> Option<Inventory> {
    let json = reply.json()?;
    let objects = json.get("saved_objects")?.as_array()?;
    let total = json
        .get("total")
        .and_then(Value::as_u64)
        .unwrap_or(objects.len() as u64);
    let items: Vec<DataSet> = objects
        .iter()
        .filter_map(|o| o.pointer("/attributes/title").and_then(Value::as_str))
        .take(max_items)
        .map(|title| DataSet {
            name: title.to_string(),
            system: title.starts_with('.'),
            ..DataSet::default()
        })
        .collect();
    let mut inventory = Inventory {
        unit: "index-pattern".into(),
        truncated: (items.len() as u64) < total,
        items,
        total_items: total,
        ..Inventory::default()
    };
    inventory.recount();
    inventory.total_documents = None;
    inventory.total_size_bytes = None;
    Some(inventory)
}
