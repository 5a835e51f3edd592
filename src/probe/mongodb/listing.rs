//! The `listDatabases` listing, read in two passes over the raw reply so that memory
//! follows the caps, not the server (issue 5):
//!
//! 1. Every entry is checked against the shape MongoDB sends (MG-04): a document with a
//!    non-empty string `name` and, when present, a numeric non-negative `sizeOnDisk`. One
//!    entry that is not makes the whole listing [`Malformed`]: a server that answers so is
//!    not listing databases the way MongoDB does, and its `ok: 1` proves nothing.
//! 2. Every entry is counted and its size summed (saturating: sizes come from the server),
//!    but only the `cap` first in report order are kept: user databases first, largest
//!    first, then by name. A 16 MiB reply of tiny entries holds hundreds of thousands of
//!    them; a bounded heap keeps `cap` and builds an entry only when it makes the cut, and
//!    the result is allocated for exactly what is kept.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;

use bson::{RawArray, RawBsonRef};

use super::bson_read::{Text, count_value, type_name};
use super::names::{NameError, check_db, sendable};
use crate::sanitize::clip;

/// Databases every server has, which say nothing about user data.
const SYSTEM_DATABASES: [&str; 3] = ["admin", "config", "local"];
/// Longest database name kept for display, in characters (after escaping).
const DISPLAY_NAME_MAX: usize = 200;

/// One kept entry of the listing.
#[derive(Debug, Clone)]
pub(super) struct DbEntry {
    /// The name for display and the inventory: escaped and clipped.
    pub(super) name: String,
    /// The exact name when it may be sent back (see [`super::names`]), or why not.
    pub(super) send: Result<String, NameError>,
    /// `sizeOnDisk`, when the server sent it.
    pub(super) size: Option<u64>,
    /// One of [`SYSTEM_DATABASES`].
    pub(super) system: bool,
}

impl DbEntry {
    /// The report order: user databases first, largest first, then by name.
    fn rank(&self) -> (bool, Reverse<u64>, Reverse<u64>, &str) {
        crate::finding::policy::rank(self.system, None, self.size, &self.name)
    }
}

impl PartialEq for DbEntry {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}

impl Eq for DbEntry {}

impl PartialOrd for DbEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DbEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// A well-formed listing: the kept entries and the totals over all of them.
#[derive(Debug)]
pub(super) struct Listing {
    /// At most `cap` entries in report order; `kept.capacity() == kept.len()`.
    pub(super) kept: Vec<DbEntry>,
    /// Entries listed.
    pub(super) total: u64,
    /// Entries that are not system databases.
    pub(super) user: u64,
    /// Sum of every `sizeOnDisk` sent, saturating; `None` when no entry had one.
    pub(super) size: Option<u64>,
    /// Whether a user database has a size or says `empty: false`.
    pub(super) user_not_empty: bool,
}

/// Why a listing is not one MongoDB sends: the first bad entry (1-based) and its fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Malformed {
    /// Position of the first bad entry, from 1.
    pub(super) entry: usize,
    /// What is wrong with it: `is a string, not a document`.
    pub(super) problem: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} {}", self.entry, self.problem)
    }
}

/// The fields of one entry that passed the shape check.
struct Fields<'a> {
    name: Text<'a>,
    size: Option<u64>,
    empty: Option<bool>,
}

/// Checks one array element against the entry shape of MG-04.
fn check(value: Result<RawBsonRef<'_>, bson::error::Error>) -> Result<Fields<'_>, String> {
    let value = value.map_err(|_| "could not be read (malformed BSON)".to_string())?;
    let RawBsonRef::Document(doc) = value else {
        return Err(format!("is {}, not a document", type_name(value)));
    };
    let (mut name, mut size, mut empty) = (None, None, None);
    for element in doc.iter_elements() {
        let element = element.map_err(|_| "could not be read (malformed BSON)".to_string())?;
        let key = element.key().as_str();
        if key == "name" && name.is_none() {
            name = Some(match element.value() {
                Ok(RawBsonRef::String(text)) => Text::Exact(text),
                Ok(other) => return Err(format!("has a name that is {}", type_name(other))),
                Err(_) => match element.value_utf8_lossy() {
                    Ok(bson::RawBson::String(text)) => Text::Lossy(text),
                    _ => return Err("has a name that could not be read".into()),
                },
            });
        } else if key == "sizeOnDisk" && size.is_none() {
            let value = element
                .value()
                .map_err(|_| "has a sizeOnDisk that could not be read".to_string())?;
            size = Some(count_value(value).ok_or_else(|| match value {
                RawBsonRef::Int32(_) | RawBsonRef::Int64(_) | RawBsonRef::Double(_) => {
                    "has a negative or non-finite sizeOnDisk".to_string()
                }
                other => format!("has a sizeOnDisk that is {}", type_name(other)),
            })?);
        } else if key == "empty"
            && empty.is_none()
            && let Ok(RawBsonRef::Boolean(value)) = element.value()
        {
            empty = Some(value);
        }
    }
    match name {
        None => Err("has no name".into()),
        Some(name) if name.as_str().is_empty() => Err("has an empty name".into()),
        Some(name) => Ok(Fields { name, size, empty }),
    }
}

/// Reads a `databases` array, keeping at most `cap` entries (see the module docs).
pub(super) fn read(list: &RawArray, cap: usize) -> Result<Listing, Malformed> {
    let mut entries = 0usize;
    for (index, value) in list.into_iter().enumerate() {
        check(value).map_err(|problem| Malformed {
            entry: index.saturating_add(1),
            problem,
        })?;
        entries = entries.saturating_add(1);
    }

    let cap = cap.min(entries);
    let mut heap: BinaryHeap<DbEntry> = BinaryHeap::with_capacity(cap);
    let mut listing = Listing {
        kept: Vec::new(),
        total: 0,
        user: 0,
        size: None,
        user_not_empty: false,
    };
    for value in list {
        // Every entry passed the check above; the pass is repeated rather than stored.
        let Ok(fields) = check(value) else { continue };
        let system = SYSTEM_DATABASES.contains(&fields.name.as_str());
        let size = fields.size;
        listing.total = listing.total.saturating_add(1);
        if let Some(size) = size {
            listing.size = Some(listing.size.unwrap_or(0).saturating_add(size));
        }
        if !system {
            listing.user = listing.user.saturating_add(1);
            listing.user_not_empty |= size.unwrap_or(0) > 0 || fields.empty == Some(false);
        }
        if cap == 0 {
            continue;
        }
        let build = |fields: &Fields<'_>| DbEntry {
            name: clip(fields.name.as_str(), DISPLAY_NAME_MAX),
            send: sendable(&fields.name, check_db),
            size,
            system,
        };
        if heap.len() < cap {
            heap.push(build(&fields));
            continue;
        }
        let Some(mut worst) = heap.peek_mut() else {
            continue;
        };
        // Decide on (system, size) before building the entry: most entries of a long
        // listing fall short of the cut and cost no allocation.
        let key = (system, Reverse(size.unwrap_or(0)));
        match key.cmp(&(worst.system, Reverse(worst.size.unwrap_or(0)))) {
            Ordering::Greater => {}
            Ordering::Less => *worst = build(&fields),
            Ordering::Equal => {
                let entry = build(&fields);
                if entry < *worst {
                    *worst = entry;
                }
            }
        }
    }
    let mut kept = heap.into_sorted_vec();
    kept.shrink_to_fit();
    listing.kept = kept;
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{Bson, doc};

    fn array(entries: Vec<Bson>) -> bson::RawDocumentBuf {
        bson::RawDocumentBuf::try_from(&doc! {"databases": entries}).expect("encode")
    }

    fn read_doc(doc: &bson::RawDocumentBuf, cap: usize) -> Result<Listing, Malformed> {
        let list = doc.get_array("databases").expect("databases is an array");
        read(list, cap)
    }

    fn db(name: &str, size: i64) -> Bson {
        Bson::Document(doc! {"name": name, "sizeOnDisk": size, "empty": size == 0})
    }

    #[test]
    fn keeps_the_first_entries_in_report_order_and_counts_all() {
        let doc = array(vec![
            db("local", 73_728),
            db("b", 10),
            db("a", 10),
            db("admin", 40_960),
            db("big", 1_000),
            db("zero", 0),
        ]);
        let listing = read_doc(&doc, 3).expect("well formed");
        let names: Vec<&str> = listing.kept.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["big", "a", "b"]);
        assert_eq!(listing.kept.capacity(), 3);
        assert_eq!((listing.total, listing.user), (6, 4));
        assert_eq!(listing.size, Some(73_728 + 10 + 10 + 40_960 + 1_000));
        assert!(listing.user_not_empty);
        let all = read_doc(&doc, 100).expect("well formed");
        let names: Vec<&str> = all.kept.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["big", "a", "b", "zero", "local", "admin"]);
        assert_eq!(all.kept.capacity(), 6);
        assert!(read_doc(&doc, 0).expect("well formed").kept.is_empty());
    }

    #[test]
    fn sums_saturate() {
        let doc = array(vec![
            db("a", i64::MAX),
            db("b", i64::MAX),
            db("c", i64::MAX),
        ]);
        let listing = read_doc(&doc, 2).expect("well formed");
        assert_eq!(listing.size, Some(u64::MAX));
        assert_eq!(listing.total, 3);
    }

    #[test]
    fn refuses_listings_mongodb_never_sends() {
        let cases: Vec<(Bson, &str)> = vec![
            (
                Bson::String("shop".into()),
                "entry 2 is a string, not a document",
            ),
            (Bson::Int32(3), "entry 2 is an int32, not a document"),
            (
                Bson::Document(doc! {"sizeOnDisk": 1}),
                "entry 2 has no name",
            ),
            (
                Bson::Document(doc! {"name": ""}),
                "entry 2 has an empty name",
            ),
            (
                Bson::Document(doc! {"name": 7}),
                "entry 2 has a name that is an int32",
            ),
            (
                Bson::Document(doc! {"name": "x", "sizeOnDisk": "1"}),
                "entry 2 has a sizeOnDisk that is a string",
            ),
            (
                Bson::Document(doc! {"name": "x", "sizeOnDisk": -5_i64}),
                "entry 2 has a negative or non-finite sizeOnDisk",
            ),
            (
                Bson::Document(doc! {"name": "x", "sizeOnDisk": f64::NAN}),
                "entry 2 has a negative or non-finite sizeOnDisk",
            ),
        ];
        for (bad, why) in cases {
            let doc = array(vec![db("shop", 1), bad]);
            let error = read_doc(&doc, 10).expect_err("malformed");
            assert_eq!(error.to_string(), why);
        }
        // Only `name` is required; `nameOnly: true` listings have nothing else (MG-04).
        let doc = array(vec![Bson::Document(doc! {"name": "shop"})]);
        let listing = read_doc(&doc, 10).expect("well formed");
        assert_eq!((listing.size, listing.user_not_empty), (None, false));
        // Any number type is a size (double before 4.4).
        let doc = array(vec![Bson::Document(
            doc! {"name": "shop", "sizeOnDisk": 8.0e6},
        )]);
        assert_eq!(
            read_doc(&doc, 10).expect("well formed").size,
            Some(8_000_000)
        );
    }

    #[test]
    fn names_that_fail_validation_are_kept_but_not_sendable() {
        let doc = array(vec![db("users.customers", 5), db("shop", 4)]);
        let listing = read_doc(&doc, 10).expect("well formed");
        assert_eq!(listing.kept[0].name, "users.customers");
        assert_eq!(listing.kept[0].send, Err(NameError::Forbidden('.')));
        assert_eq!(listing.kept[1].send.as_deref(), Ok("shop"));
        // A control character is escaped for display, and the name is not sent back.
        let doc = array(vec![db("a\u{1b}b", 1)]);
        let listing = read_doc(&doc, 10).expect("well formed");
        assert_eq!(listing.kept[0].name, "a\\u{1b}b");
        assert_eq!(listing.kept[0].send.as_deref(), Ok("a\u{1b}b"));
    }
}
