//! The bounded inventory of an index listing, filled one row at a time as a parser streams
//! through the body (issue 5, "memory bounded by design").
//!
//! A listing may hold millions of rows; a finding keeps at most `max_items` of them. The
//! rows kept are the biggest ones in report order (user indices first, then by size,
//! then by documents, then by name), held in a heap whose worst row is replaced when a better one
//! comes: its buffer never grows past `max_items`, and a row that does not make the cut
//! costs no allocation. Every row, kept or not, is counted and summed (saturating), so the
//! totals cover the whole listing.

use std::borrow::Cow;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::finding::{DataSet, Inventory};
use crate::sanitize::clip;

/// Longest index name kept, in characters. Elasticsearch caps names at 255 bytes, so a real
/// name is never cut.
pub(super) const MAX_NAME: usize = 255;

/// One row as a listing parser read it, borrowed from the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Row<'a> {
    /// The index name, as the server sent it.
    pub name: &'a str,
    /// `docs.count` (`None` on a closed index).
    pub documents: Option<u64>,
    /// `store.size` in bytes.
    pub size_bytes: Option<u64>,
    /// `health`.
    pub health: Option<&'a str>,
}

/// The biggest rows of a listing and the totals of all of them.
#[derive(Debug)]
pub(super) struct Tally {
    max: usize,
    kept: BinaryHeap<Ranked>,
    rows: u64,
    user: u64,
    documents: Option<u64>,
    size_bytes: Option<u64>,
}

impl Tally {
    /// An empty tally that keeps at most `max` rows.
    pub(super) fn new(max: usize) -> Tally {
        Tally {
            max,
            kept: BinaryHeap::new(),
            rows: 0,
            user: 0,
            documents: None,
            size_bytes: None,
        }
    }

    /// How many rows were added, kept or not.
    pub(super) fn rows(&self) -> u64 {
        self.rows
    }

    /// Counts `row`, and keeps it if it is among the `max` biggest so far.
    pub(super) fn add(&mut self, row: Row<'_>) {
        let system = is_system_index(row.name);
        self.rows = self.rows.saturating_add(1);
        if !system {
            self.user = self.user.saturating_add(1);
        }
        if let Some(documents) = row.documents {
            self.documents = Some(self.documents.unwrap_or(0).saturating_add(documents));
        }
        if let Some(size) = row.size_bytes {
            self.size_bytes = Some(self.size_bytes.unwrap_or(0).saturating_add(size));
        }
        if self.max == 0 {
            return;
        }
        let name = shown_name(row.name);
        if self.kept.len() < self.max {
            if self.kept.len() == self.kept.capacity() {
                // Grow by doubling, but never past the cap.
                let room = self.kept.capacity().max(8).min(self.max - self.kept.len());
                self.kept.reserve_exact(room);
            }
            self.kept.push(Ranked(data_set(name, system, &row)));
            return;
        }
        let Some(mut worst) = self.kept.peek_mut() else {
            return;
        };
        let better = rank(system, row.documents, row.size_bytes, &name) < worst.rank();
        if better {
            *worst = Ranked(data_set(name, system, &row));
        }
    }

    /// The inventory: the kept rows in report order, in a buffer no larger than the cap, and
    /// the totals of every row. `cut` says the body was cut before the listing ended.
    pub(super) fn into_inventory(self, cut: bool) -> Inventory {
        let kept = self.kept.len() as u64;
        let mut items: Vec<DataSet> = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|ranked| ranked.0)
            .collect();
        items.shrink_to_fit();
        Inventory {
            unit: "index".into(),
            items,
            total_items: self.rows,
            user_items: self.user,
            total_documents: self.documents,
            total_size_bytes: self.size_bytes,
            truncated: cut || self.rows > kept,
        }
    }
}

/// A kept row, ordered so that the heap's greatest is the row to drop first.
#[derive(Debug)]
struct Ranked(DataSet);

impl Ranked {
    fn rank(&self) -> (bool, Reverse<u64>, Reverse<u64>, &str) {
        let d = &self.0;
        rank(d.system, d.documents, d.size_bytes, &d.name)
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// Report order, smallest first, as every listing has it ([`crate::finding::policy::rank`]).
fn rank(
    system: bool,
    documents: Option<u64>,
    size: Option<u64>,
    name: &str,
) -> (bool, Reverse<u64>, Reverse<u64>, &str) {
    crate::finding::policy::rank(system, documents, size, name)
}

fn data_set(name: Cow<'_, str>, system: bool, row: &Row<'_>) -> DataSet {
    let mut name = name.into_owned();
    name.shrink_to_fit();
    DataSet {
        name,
        documents: row.documents,
        size_bytes: row.size_bytes,
        health: row.health.map(|h| clip(h, 16)),
        system,
        ..DataSet::default()
    }
}

/// The name as reports show it: the server's text when it is printable and at most
/// [`MAX_NAME`] characters (borrowed, the common case), else escaped and clipped exactly as
/// [`clip`] does.
pub(super) fn shown_name(raw: &str) -> Cow<'_, str> {
    let mut chars = 0usize;
    for c in raw.chars() {
        chars += 1;
        if chars > MAX_NAME || needs_escape(c) {
            // Only the first MAX_NAME + 1 characters can show, so a long name costs no
            // more than that to escape.
            let head = raw
                .char_indices()
                .nth(MAX_NAME + 1)
                .map_or(raw, |(at, _)| &raw[..at]);
            return Cow::Owned(clip(head, MAX_NAME));
        }
    }
    Cow::Borrowed(raw)
}

/// Whether a kept name is the server's own text, so that asking for it by name asks for
/// the index the server listed (a clipped or escaped name would not).
pub(super) fn is_verbatim(name: &str) -> bool {
    let clipped = name.ends_with('…') && name.chars().count() == MAX_NAME;
    // Elasticsearch forbids `\` in index names; an escaped name always has one.
    !clipped && !name.contains('\\')
}

/// The characters [`crate::sanitize::escape`] escapes: controls and bidi overrides.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Dot-prefixed indices are system or hidden ones (`.kibana`, `.security-7`,
/// `.opendistro_security`), except data-stream backing indices; OpenSearch's security
/// audit log (`security-auditlog-*`) is system data too.
pub(super) fn is_system_index(name: &str) -> bool {
    // `.ds-*` are the backing indices of data streams: user logs and metrics in 7.9+.
    (name.starts_with('.') && !name.starts_with(".ds-")) || name.starts_with("security-auditlog-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, documents: Option<u64>, size_bytes: Option<u64>) -> Row<'_> {
        Row {
            name,
            documents,
            size_bytes,
            health: Some("green"),
        }
    }

    #[test]
    fn keeps_the_biggest_in_report_order_and_counts_all() {
        let mut tally = Tally::new(3);
        for (name, docs, size) in [
            (".kibana", 9_000, 10),
            ("small", 1, 5),
            ("big", 500, 7),
            ("tie-b", 10, 3),
            ("tie-a", 10, 3),
            ("closed", 0, 0),
        ] {
            tally.add(row(name, Some(docs), Some(size)));
        }
        tally.add(row("gone", None, None));
        let inv = tally.into_inventory(false);
        let names: Vec<&str> = inv.items.iter().map(|i| i.name.as_str()).collect();
        // Largest first, then most documents, then by name.
        assert_eq!(names, ["big", "small", "tie-a"]);
        assert_eq!(inv.items.capacity(), 3);
        assert_eq!(
            (inv.total_items, inv.user_items, inv.truncated),
            (7, 6, true)
        );
        assert_eq!(inv.total_documents, Some(9_521));
        assert_eq!(inv.total_size_bytes, Some(28));
    }

    #[test]
    fn server_numbers_saturate() {
        let mut tally = Tally::new(10);
        tally.add(row("a", Some(u64::MAX), Some(u64::MAX)));
        tally.add(row("b", Some(u64::MAX), Some(1)));
        let inv = tally.into_inventory(false);
        assert_eq!(inv.total_documents, Some(u64::MAX));
        assert_eq!(inv.total_size_bytes, Some(u64::MAX));
        assert!(!inv.truncated);
    }

    #[test]
    fn shown_names_match_clip() {
        let long = "x".repeat(300);
        let long_escaped = format!("{}\u{1b}", "y".repeat(254));
        let samples = [
            "plain",
            "kunden-ü",
            "evil\u{1b}[31m",
            "rtl\u{202e}txt",
            "\u{2066}iso",
            "lrm\u{200e}",
            long.as_str(),
            long_escaped.as_str(),
            "",
        ];
        for s in samples {
            assert_eq!(shown_name(s), clip(s, MAX_NAME), "{s:?}");
        }
        assert!(matches!(shown_name("logs-2024"), Cow::Borrowed(_)));
        assert!(is_verbatim("logs-2024"));
        assert!(!is_verbatim(&shown_name("evil\u{1b}")));
        assert!(!is_verbatim(&shown_name(&long)));
    }

    #[test]
    fn data_streams_are_user_data() {
        assert!(is_system_index(".kibana_1"));
        assert!(!is_system_index(".ds-logs-nginx-2026.11.22-000001"));
        assert!(is_system_index("security-auditlog-2026.11.22"));
    }

    #[test]
    fn zero_cap_keeps_nothing_but_counts() {
        let mut tally = Tally::new(0);
        tally.add(row("a", Some(3), None));
        let inv = tally.into_inventory(false);
        assert!(inv.items.is_empty());
        assert_eq!((inv.total_items, inv.total_documents), (1, Some(3)));
        assert_eq!(inv.total_size_bytes, None);
    }
}
