//! Kibana (4.x to 8.x) and its fork OpenSearch Dashboards: recognised by the name header
//! each puts on every response (`kbn-name`, `osd-name`; Kibana 4-5 also `kbn-version`),
//! judged by whether its API serves data without credentials.
//!
//! `/api/status` alone proves nothing: Kibana 8.9+ answers anonymous callers with a
//! redacted 200, and `status.allowAnonymous` serves the full status on secured instances.
//! So a full status is followed by a saved-objects listing (index-pattern titles only),
//! which only an instance without security answers. The listing is read by a typed visitor
//! that keeps at most `max_items` titles and counts the rest, whatever its size (issue 5).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::ProbeOutcome;
use super::http::Site;
use crate::finding::policy;
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
                let patterns = count(inventory.total_items, "index pattern", "index patterns");
                kibana.record(
                    objects_path,
                    format!(
                        "{}: {patterns} listed without credentials",
                        reply.describe()
                    ),
                );
                return Some(kibana.open(
                    format!(
                        "{} serves its API without credentials ({patterns}); it reads the cluster's data for anyone",
                        flavour.name
                    ),
                    Some(inventory),
                ));
            }
            kibana.record(objects_path, reply.describe());
            // Kibana's full status came back without credentials, but its saved-objects
            // answer is not one Kibana sends: nothing refused, nothing listed.
            Some(kibana.undetermined(
                "the full status is served without credentials, but the saved-objects answer is not a listing Kibana sends",
            ))
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
        let severity = policy::severity(
            Exposure::AuthRequired,
            Severity::High,
            None,
            self.status_public,
        );
        let f = self.finding(
            Exposure::AuthRequired,
            severity,
            format!("{} demands credentials: {why}", self.flavour.name),
        );
        ProbeOutcome::Found(Box::new(f))
    }

    fn undetermined(&self, why: &str) -> ProbeOutcome {
        let f = self.finding(
            Exposure::Undetermined,
            policy::severity(Exposure::Undetermined, Severity::High, None, false),
            format!("{} access could not be judged: {why}", self.flavour.name),
        );
        ProbeOutcome::Found(Box::new(f))
    }

    fn open(&self, summary: String, inventory: Option<Inventory>) -> ProbeOutcome {
        let severity = policy::severity(Exposure::Open, Severity::High, None, false);
        let mut f = self.finding(Exposure::Open, severity, summary);
        f.inventory = inventory;
        ProbeOutcome::Found(Box::new(f))
    }
}

/// The page size ajar asks `_find` for.
const PAGE_SIZE: u64 = 100;

/// `1 index pattern`, `2 index patterns`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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

/// Index-pattern titles from a saved-objects `_find` answer, read by a typed visitor over
/// the body (issue 5: no `serde_json::Value`, whatever its size): at most `max_items` titles
/// are kept, every object is counted. `None` when the answer is no `saved_objects` listing.
fn index_patterns(reply: &HttpReply, max_items: usize) -> Option<Inventory> {
    let mut found = Patterns {
        max: max_items,
        ..Patterns::default()
    };
    let mut de = serde_json::Deserializer::from_slice(&reply.body);
    let result = serde::Deserializer::deserialize_map(&mut de, FindAnswer(&mut found))
        .and_then(|()| de.end());
    let cut = match result {
        Ok(()) => false,
        // Cut at the read cap inside the list: the whole objects before the cut count.
        Err(e) if e.is_eof() && reply.truncated && found.objects > 0 => true,
        Err(_) => return None,
    };
    if !found.listed {
        return None;
    }
    // One page of a real `_find` holds `min(total, per_page)` objects (ajar asks for 100):
    // a page that holds fewer or more than its own total allows is not Kibana's answer.
    if let Some(total) = found.total
        && !cut
        && found.objects != total.min(found.per_page.unwrap_or(PAGE_SIZE))
    {
        return None;
    }
    found.items.shrink_to_fit();
    let total = found.total.unwrap_or(found.objects).max(found.objects);
    Some(Inventory {
        unit: "index-pattern".into(),
        truncated: cut || (found.items.len() as u64) < total,
        items: found.items,
        total_items: total,
        user_items: found.user,
        total_documents: None,
        total_size_bytes: None,
    })
}

/// What the `_find` visitor gathers.
#[derive(Default)]
struct Patterns {
    max: usize,
    items: Vec<DataSet>,
    /// Saved objects listed, kept or not.
    objects: u64,
    /// Titles that are not system patterns (`.`-prefixed), kept or not.
    user: u64,
    /// The answer's own `total`.
    total: Option<u64>,
    /// The answer's own page size.
    per_page: Option<u64>,
    /// A `saved_objects` array was there.
    listed: bool,
}

impl Patterns {
    fn add(&mut self, title: Option<&str>) {
        self.objects = self.objects.saturating_add(1);
        let Some(title) = title else { return };
        let system = title.starts_with('.');
        if !system {
            self.user = self.user.saturating_add(1);
        }
        if self.items.len() >= self.max {
            return;
        }
        if self.items.len() == self.items.capacity() {
            // Grow by doubling, but never past the cap.
            let room = self
                .items
                .capacity()
                .max(8)
                .min(self.max - self.items.len());
            self.items.reserve_exact(room);
        }
        self.items.push(DataSet {
            name: crate::sanitize::clip(title, 255),
            system,
            ..DataSet::default()
        });
    }
}

/// The top-level `{"page":..,"per_page":..,"total":..,"saved_objects":[..]}`.
struct FindAnswer<'p>(&'p mut Patterns);

impl<'de> Visitor<'de> for FindAnswer<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a saved-objects answer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let found = self.0;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                // Kibana writes a count; anything else is no `_find` answer.
                "total" => found.total = map.next_value::<Option<u64>>()?,
                "per_page" => found.per_page = map.next_value::<Option<u64>>()?,
                "saved_objects" => map.next_value_seed(SavedObjects(&mut *found))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `saved_objects` array, each object counted and its title kept while there is room.
struct SavedObjects<'p>(&'p mut Patterns);

impl<'de> DeserializeSeed<'de> for SavedObjects<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SavedObjects<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of saved objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.listed = true;
        while let Some(object) = seq.next_element::<SavedObject<'de>>()? {
            let title = object.attributes.as_ref().and_then(|a| a.title.as_deref());
            self.0.add(title);
        }
        Ok(())
    }
}

/// One saved object: only `attributes.title` is read, the rest skipped unparsed.
#[derive(Deserialize)]
struct SavedObject<'a> {
    #[serde(borrow, default)]
    attributes: Option<Attributes<'a>>,
}

#[derive(Deserialize)]
struct Attributes<'a> {
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str, truncated: bool) -> HttpReply {
        HttpReply {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            truncated,
            reservation: Default::default(),
        }
    }

    #[test]
    fn keeps_at_most_max_titles_and_counts_all() {
        let objects: Vec<String> = (0..30)
            .map(|n| {
                format!(r#"{{"type":"index-pattern","id":"{n}","attributes":{{"title":"t{n:02}-*","fields":"[{{\"name\":\"x\"}}]"}},"references":[]}}"#)
            })
            .collect();
        let body = format!(
            r#"{{"page":1,"per_page":100,"total":30,"saved_objects":[{}]}}"#,
            objects.join(",")
        );
        let inv = index_patterns(&reply(&body, false), 10).expect("a listing");
        assert_eq!(inv.items.len(), 10);
        assert!(inv.items.capacity() <= 10, "{}", inv.items.capacity());
        assert_eq!(
            (inv.total_items, inv.user_items, inv.truncated),
            (30, 30, true)
        );
        assert_eq!(inv.items[9].name, "t09-*");

        // Cut at the read cap: the whole objects before the cut count.
        let cut = &body[..body.find("t12-*").expect("title")];
        let inv = index_patterns(&reply(cut, true), 100).expect("a cut listing");
        assert_eq!(inv.items.len(), 12);
        assert_eq!(inv.total_items, 30);
        assert!(inv.truncated);
    }

    #[test]
    fn what_is_not_a_listing() {
        for body in [
            r#"{"page":1,"total":0}"#,
            r#"{"saved_objects":{}}"#,
            r#"{"total":"many","saved_objects":[]}"#,
            // A page holding fewer objects than its own total and page size allow.
            r#"{"page":1,"per_page":100,"total":18446744073709551615,"saved_objects":[{"attributes":{"title":"a"}}]}"#,
            r#"{"total":5,"saved_objects":[]}"#,
            r#"[]"#,
            "",
            "<html>",
        ] {
            assert!(
                index_patterns(&reply(body, false), 10).is_none(),
                "{body:?}"
            );
        }
        let empty = index_patterns(&reply(r#"{"total":0,"saved_objects":[]}"#, false), 10)
            .expect("an empty listing");
        assert_eq!((empty.total_items, empty.truncated), (0, false));
        // No title: counted, not kept.
        let untitled = index_patterns(
            &reply(r#"{"saved_objects":[{"id":"x","attributes":{}}]}"#, false),
            10,
        )
        .expect("a listing");
        assert_eq!((untitled.total_items, untitled.items.len()), (1, 0));
    }
}
