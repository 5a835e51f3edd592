//! Readers for the two cursor replies the inventory uses, `listCollections` and
//! `listIndexes`: names from `cursor.firstBatch`, bounded in count and length, with each
//! collection name checked for whether it may be sent back (see [`super::names`]).

use bson::RawDocument;

use super::bson_read::{array, document, integer, text};
use super::names::{NameError, check_collection, sendable};
use crate::sanitize::clip;

/// Most collection names kept per database.
const MAX_COLLECTIONS: usize = 200;
/// Index key names kept per collection.
const MAX_INDEX_FIELDS: usize = 50;
/// Longest collection name kept for display, in characters (after escaping).
const DISPLAY_NAME_MAX: usize = 200;

/// A collection name from `listCollections`: for display, and exact when it may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Collection {
    /// Escaped and clipped, for the inventory and the evidence.
    pub(super) display: String,
    /// The exact name when it may be sent in `listIndexes`, or why not.
    pub(super) send: Result<String, NameError>,
}

/// Collection names from `cursor.firstBatch`, sorted, at most [`MAX_COLLECTIONS`]; the
/// flag says whether more exist (a longer batch, or an open cursor). `None` when the reply
/// has no `cursor` document with a `firstBatch` array.
pub(super) fn collections(doc: &RawDocument) -> Option<(Vec<Collection>, bool)> {
    let cursor = document(doc, "cursor")?;
    let batch = array(cursor, "firstBatch")?;
    let mut names = Vec::new();
    let mut more = integer(cursor, "id").is_some_and(|id| id != 0);
    for value in batch {
        let Ok(value) = value else { break };
        let Some(name) = value.as_document().and_then(|d| text(d, "name")) else {
            continue;
        };
        if names.len() >= MAX_COLLECTIONS {
            more = true;
            break;
        }
        names.push(Collection {
            display: clip(name.as_str(), DISPLAY_NAME_MAX),
            send: sendable(&name, check_collection),
        });
    }
    names.sort_by(|a, b| a.display.cmp(&b.display));
    Some((names, more))
}

/// From a `listIndexes` reply: how many indexes, and the key field names of all of them
/// (without `_id` and the internal keys of text and wildcard indexes), in order, unique.
pub(super) fn index_fields(doc: &RawDocument) -> (usize, Vec<String>) {
    let Some(batch) = document(doc, "cursor").and_then(|c| array(c, "firstBatch")) else {
        return (0, Vec::new());
    };
    let mut indexes: usize = 0;
    let mut fields: Vec<String> = Vec::new();
    for value in batch {
        let Ok(value) = value else { break };
        let Some(spec) = value.as_document() else {
            continue;
        };
        indexes = indexes.saturating_add(1);
        let Some(key) = document(spec, "key") else {
            continue;
        };
        for element in key.iter_elements() {
            let Ok(element) = element else { break };
            let field = element.key().as_str();
            let internal = field == "_id" || field.starts_with("_fts") || field.ends_with("$**");
            if internal || fields.len() >= MAX_INDEX_FIELDS || fields.iter().any(|f| f == field) {
                continue;
            }
            fields.push(clip(field, 120));
        }
    }
    (indexes, fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{Bson, Document, doc};

    fn raw(doc: Document) -> bson::RawDocumentBuf {
        bson::RawDocumentBuf::try_from(&doc).expect("encode")
    }

    #[test]
    fn collection_names_are_bounded_and_checked() {
        let batch: Vec<Bson> = ["orders", "$bad", "system.views", "a\u{0}b"]
            .iter()
            .map(|n| Bson::Document(doc! {"name": *n}))
            .chain((0..300).map(|i| Bson::Document(doc! {"name": format!("c{i:03}")})))
            .collect();
        let reply = raw(doc! {"cursor": {"id": 0_i64, "firstBatch": batch}, "ok": 1.0});
        let (names, more) = collections(&reply).expect("a cursor");
        assert_eq!(names.len(), MAX_COLLECTIONS);
        assert!(more);
        let bad: Vec<(&str, NameError)> = names
            .iter()
            .filter_map(|c| c.send.as_ref().err().map(|e| (c.display.as_str(), *e)))
            .collect();
        assert_eq!(
            bad,
            [
                ("$bad", NameError::Reserved("$")),
                ("a\\u{0}b", NameError::Nul),
                ("system.views", NameError::Reserved("system."))
            ]
        );
        assert!(collections(&raw(doc! {"cursor": {"id": 0_i64}, "ok": 1.0})).is_none());
        assert!(collections(&raw(doc! {"ok": 1.0})).is_none());
    }

    #[test]
    fn index_keys_skip_internal_fields() {
        let reply = raw(doc! {"cursor": {"id": 0_i64, "firstBatch": [
            {"v": 2, "key": {"_id": 1}, "name": "_id_"},
            {"v": 2, "key": {"_fts": "text", "_ftsx": 1, "email": 1}, "name": "t"},
            {"v": 2, "key": {"email": 1, "a.$**": 1, "placedAt": -1}, "name": "w"},
            "not a spec",
        ]}, "ok": 1.0});
        assert_eq!(
            index_fields(&reply),
            (3, vec!["email".to_string(), "placedAt".to_string()])
        );
    }
}
