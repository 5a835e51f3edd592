//! The open finding: what the probe reads about the listed databases, within the caps and
//! the detail budget, and how it becomes an [`Inventory`].
//!
//! For the largest user databases, up to [`Limits::max_detailed`](crate::probe::Limits):
//! `dbStats`, `listCollections` (names only, first batch), and `listIndexes` for a few of
//! their collections: index keys such as `customer.email` are field names, metadata that
//! hints at personal data without reading a document. Only names that pass
//! [`super::names`] are sent back; the others are listed and the evidence says why they
//! were skipped.
//!
//! The inventory's totals are the listing's, over every database the server listed (not
//! only the kept ones), and the summary quotes them: one source for each figure.

use bson::doc;
use tokio::time::Instant;

use super::answer::{Answer, answer};
use super::bson_read::count;
use super::collections::{Collection, collections, index_fields};
use super::conn::{Conn, list_indexes};
use super::handshake::Hello;
use super::listing::{DbEntry, Listing};
use super::names::{CollectionName, DbName, NameError};
use super::{LIST_COLLECTIONS_WIRE_VERSION, NAME_ONLY_WIRE_VERSION, Probe, ProbeOutcome};
use crate::finding::{DataSet, Exposure, Inventory, PiiHint, Severity};
use crate::probe::pii;
use crate::report::human::bytes;
use crate::sanitize::clip;

/// Collections per database whose index keys are listed (`listIndexes`).
const MAX_INDEX_LISTS_PER_DB: usize = 3;
/// `listIndexes` commands per probe, over all databases.
pub(super) const MAX_INDEX_LISTS: usize = 15;
/// Skipped names quoted in one evidence entry; the rest are counted.
const MAX_SKIPPED_QUOTED: usize = 5;

/// What `dbStats` and `listCollections` told about one database.
#[derive(Debug, Clone, Default)]
struct DbDetail {
    documents: Option<u64>,
    collections: Vec<String>,
    /// Index key names that look personal, as `collection.field`.
    index_hints: Vec<PiiHint>,
}

/// Names that were not sent back, for one evidence entry.
#[derive(Debug, Default)]
struct Skipped {
    count: usize,
    quoted: Vec<String>,
}

impl Skipped {
    fn add(&mut self, display: &str, why: NameError) {
        self.count = self.count.saturating_add(1);
        if self.quoted.len() < MAX_SKIPPED_QUOTED {
            self.quoted
                .push(format!("\"{}\" ({why})", clip(display, 60)));
        }
    }

    /// `2 collection names not sent back: "$x" (starts with "$"), …`.
    fn facts(&self, what: &str) -> String {
        let plural = if self.count == 1 { "" } else { "s" };
        let mut facts = format!(
            "{} {what} name{plural} not sent back: {}",
            self.count,
            self.quoted.join(", ")
        );
        if self.count > self.quoted.len() {
            facts.push_str(&format!(
                ", … ({} more)",
                self.count.saturating_sub(self.quoted.len())
            ));
        }
        facts
    }
}

impl Probe<'_> {
    /// Builds the open finding, after reading per-database metadata within the budget.
    pub(super) async fn open(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        version: Option<String>,
        listing: Listing,
    ) -> ProbeOutcome {
        let Listing {
            kept,
            total,
            user,
            size,
            user_not_empty,
        } = listing;
        let plan = self.plan_details(&kept);
        let mut details: Vec<Option<DbDetail>> = (0..kept.len()).map(|_| None).collect();
        for index in plan {
            if Instant::now() >= self.detail_deadline {
                break;
            }
            let (Some(entry), Some(slot)) = (kept.get(index), details.get_mut(index)) else {
                break;
            };
            let Some(name) = entry
                .send
                .as_deref()
                .ok()
                .and_then(|n| DbName::parse(n).ok())
            else {
                continue;
            };
            match self.describe_database(conn, hello, name).await {
                Some(found) => *slot = Some(found),
                // The connection failed or went silent: its state is unknown, stop here.
                None => break,
            }
        }

        // Exactly as many items as kept: a finding never holds more than its inventory.
        let mut items: Vec<DataSet> = Vec::with_capacity(kept.len());
        for (entry, detail) in kept.into_iter().zip(details) {
            items.push(data_set(entry, detail.unwrap_or_default()));
        }
        let mut inventory = Inventory {
            unit: "database".into(),
            truncated: total > items.len() as u64,
            items,
            total_items: total,
            ..Inventory::default()
        };
        inventory.recount();
        // `recount` sums the kept items; the listing counted and summed every database the
        // server listed, which is what these totals mean once the list is capped.
        inventory.total_items = total;
        inventory.user_items = user;
        inventory.total_size_bytes = size;

        // A user database that reports data, even with no size, is user data.
        let severity = if user_not_empty && !inventory.has_pii() {
            Severity::High
        } else {
            crate::finding::policy::severity(
                Exposure::Open,
                Severity::High,
                Some(&inventory),
                false,
            )
        };
        let summary = open_summary(&inventory);
        ProbeOutcome::Found(Box::new(self.finding(
            hello,
            version,
            Exposure::Open,
            severity,
            summary,
            Some(inventory),
        )))
    }

    /// Which kept databases get described: the first user databases, up to the cap, whose
    /// names may be sent back. Those that may not are recorded in one evidence entry.
    fn plan_details(&mut self, kept: &[DbEntry]) -> Vec<usize> {
        let mut plan = Vec::new();
        let mut skipped = Skipped::default();
        for (index, entry) in kept.iter().enumerate() {
            if plan.len() >= self.cx.limits.max_detailed {
                break;
            }
            if entry.system {
                continue;
            }
            match &entry.send {
                Ok(_) => plan.push(index),
                Err(why) => skipped.add(&entry.name, *why),
            }
        }
        if skipped.count > 0 {
            self.record(
                "not sent: dbStats, listCollections",
                skipped.facts("database"),
            );
        }
        plan
    }

    /// `dbStats` and `listCollections` for one database. `None` when the connection
    /// failed, so the caller stops; command errors just leave the fields empty.
    async fn describe_database(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        db: DbName<'_>,
    ) -> Option<DbDetail> {
        let step = self.step();
        let mut detail = DbDetail::default();
        let (request, result) = conn.command(db, doc! {"dbStats": 1}, step).await;
        match result {
            Ok(reply) => match answer(&reply) {
                Answer::Ok(doc) => {
                    detail.documents = count(doc, "objects");
                    let mut facts = String::from("ok 1");
                    for key in ["objects", "collections", "dataSize"] {
                        if let Some(value) = count(doc, key) {
                            facts.push_str(&format!(", {key} {value}"));
                        }
                    }
                    self.record(request, facts);
                }
                Answer::Error(error) => self.record(request, error.describe()),
            },
            Err(error) => {
                self.record(request, error.to_string());
                return None;
            }
        }
        if hello.max_wire < LIST_COLLECTIONS_WIRE_VERSION {
            return Some(detail);
        }
        let mut command = doc! {"listCollections": 1};
        if hello.max_wire >= NAME_ONLY_WIRE_VERSION {
            command.insert("nameOnly", true);
            command.insert("authorizedCollections", true);
        }
        let (request, result) = conn.command(db, command, step).await;
        let collections = match result {
            Ok(reply) => match answer(&reply) {
                Answer::Ok(doc) => {
                    let (collections, more) = collections(doc).unwrap_or_default();
                    let names: Vec<String> =
                        collections.iter().map(|c| c.display.clone()).collect();
                    let mut facts = format!("ok 1, {} collections", names.len());
                    if more {
                        facts.push_str(" (first batch, more not read)");
                    }
                    if !names.is_empty() {
                        facts.push_str(&format!(": {}", name_list(&names, 10)));
                    }
                    self.record(request, facts);
                    detail.collections = names;
                    collections
                }
                Answer::Error(error) => {
                    self.record(request, error.describe());
                    Vec::new()
                }
            },
            Err(error) => {
                self.record(request, error.to_string());
                return None;
            }
        };
        self.list_indexes(conn, db, &collections, &mut detail)
            .await
            .then_some(detail)
    }

    /// Index keys of a few collections of `db`; those already flagged by name go last, as
    /// their keys add less. Returns false when the connection failed.
    async fn list_indexes(
        &mut self,
        conn: &mut Conn,
        db: DbName<'_>,
        collections: &[Collection],
        detail: &mut DbDetail,
    ) -> bool {
        let mut skipped = Skipped::default();
        let mut candidates: Vec<(&str, CollectionName<'_>)> = Vec::new();
        for collection in collections {
            match collection.send.as_deref().map(CollectionName::parse) {
                Ok(Ok(name)) => candidates.push((&collection.display, name)),
                Ok(Err(why)) | Err(&why) => skipped.add(&collection.display, why),
            }
        }
        if skipped.count > 0 {
            self.record(
                format!("not sent: listIndexes on {}", db.as_str()),
                skipped.facts("collection"),
            );
        }
        candidates.sort_by_key(|(display, _)| pii::classify_collection(display).is_some());
        candidates.truncate(MAX_INDEX_LISTS_PER_DB);
        let step = self.step();
        for (display, collection) in candidates {
            if self.index_lists_left == 0 || Instant::now() >= self.detail_deadline {
                break;
            }
            self.index_lists_left -= 1;
            let (request, result) = conn.command(db, list_indexes(collection), step).await;
            let reply = match result {
                Ok(reply) => reply,
                Err(error) => {
                    self.record(request, error.to_string());
                    return false;
                }
            };
            let doc = match answer(&reply) {
                Answer::Ok(doc) => doc,
                Answer::Error(error) => {
                    self.record(request, error.describe());
                    continue;
                }
            };
            let (indexes, fields) = index_fields(doc);
            let mut facts = format!("ok 1, {indexes} indexes");
            if !fields.is_empty() {
                facts.push_str(&format!(", keys: {}", name_list(&fields, 10)));
            }
            self.record(request, facts);
            for field in fields {
                let path = format!("{display}.{field}");
                if let Some(category) = pii::classify_field(&field)
                    && !detail.index_hints.iter().any(|h| h.field == path)
                {
                    detail.index_hints.push(PiiHint {
                        field: path,
                        category: category.to_string(),
                    });
                }
            }
        }
        true
    }
}

/// One inventory row from a kept entry and what was read about it.
fn data_set(entry: DbEntry, detail: DbDetail) -> DataSet {
    let mut pii_fields: Vec<PiiHint> = detail
        .collections
        .iter()
        .filter_map(|name| {
            pii::classify_collection(name).map(|category| PiiHint {
                field: name.clone(),
                category: category.to_string(),
            })
        })
        .collect();
    pii_fields.extend(detail.index_hints);
    DataSet {
        name: entry.name,
        documents: detail.documents,
        size_bytes: entry.size,
        health: None,
        system: entry.system,
        collections: detail.collections,
        pii_fields,
    }
}

/// The summary of an open server, from the inventory's own totals.
fn open_summary(inventory: &Inventory) -> String {
    let (total, user) = (inventory.total_items, inventory.user_items);
    let mut summary = format!("no credentials needed: listDatabases lists {total} databases");
    if total == 0 {
        summary.push_str(" (none visible), and listCollections on admin answered");
    } else if user == 0 {
        summary.push_str(" (system databases only)");
    } else {
        summary.push_str(&format!(", {user} with user data"));
        if let Some(size) = inventory.total_size_bytes.filter(|size| *size > 0) {
            summary.push_str(&format!(", {} on disk in all", bytes(size)));
        }
    }
    let flagged: Vec<String> = inventory
        .items
        .iter()
        .filter(|d| !d.system)
        .flat_map(|d| {
            d.pii_fields
                .iter()
                .map(move |h| format!("{}.{}", d.name, h.field))
        })
        .collect();
    if !flagged.is_empty() {
        summary.push_str(&format!(
            "; collection names suggest personal data: {}",
            name_list(&flagged, 5)
        ));
    }
    summary
}

/// At most `max` names, clipped, then how many more.
fn name_list(names: &[String], max: usize) -> String {
    let mut list = names
        .iter()
        .take(max)
        .map(|n| clip(n, 60))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        list.push_str(&format!(", … ({} more)", names.len() - max));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_quotes_the_inventory_totals() {
        let inventory = Inventory {
            unit: "database".into(),
            items: vec![DataSet {
                name: "a".into(),
                size_bytes: Some(u64::MAX),
                ..DataSet::default()
            }],
            total_items: 4,
            user_items: 3,
            total_size_bytes: Some(u64::MAX),
            ..Inventory::default()
        };
        assert_eq!(
            open_summary(&inventory),
            format!(
                "no credentials needed: listDatabases lists 4 databases, 3 with user data, {} on disk in all",
                bytes(u64::MAX)
            )
        );
    }
}
