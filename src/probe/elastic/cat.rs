//! `_cat/indices` answers, read the way the real product writes them and nothing else
//! (issue 5: `open` only on proof), with memory bounded whatever the server sends.
//!
//! ajar asks for `_cat/indices?format=json&bytes=b&v`. Elasticsearch 5.0+ and every
//! OpenSearch answer a JSON array, with a JSON content type, of row objects whose values
//! are strings (null on closed indices): at least `index` and `docs.count`, and `health`
//! or `status` (protocols.md ES-21). Only Elasticsearch 1.x/2.x may answer the `v` text
//! table instead (ES-20): a header line naming at least the `index` and `docs.count`
//! columns, then one row per index. `[]`, or a header alone, is an empty cluster.
//!
//! Both forms are streamed into a [`Tally`]: the JSON array here, through a serde visitor
//! over the body slice (strings borrowed where they have no escapes, no
//! `serde_json::Value`), the text table in `table.rs`, line by line over the body bytes. A
//! body cut at the read cap keeps the whole rows before the cut.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::json::{Cell, KeyOf};
use super::table;
use super::tally::{Row, Tally};
use crate::net::http::HttpReply;

/// What a `_cat/indices` answer turned out to be.
#[derive(Debug)]
pub(super) enum Listing {
    /// A well-formed listing; `cut` when the body ended at the read cap.
    Indices { tally: Tally, cut: bool },
    /// A listing cut at the read cap before its first whole row.
    CutEarly,
    /// Not a listing as the product sends it; says what it is instead.
    Not(String),
}

/// Reads a 2xx `_cat/indices` answer. `text_table` allows the text form (Elasticsearch
/// before 5.0); `max_items` caps the rows kept.
pub(super) fn parse(reply: &HttpReply, text_table: bool, max_items: usize) -> Listing {
    let body = reply.body.as_slice();
    let cut = reply.truncated;
    let Some(first) = body.iter().copied().find(|b| !b.is_ascii_whitespace()) else {
        return Listing::Not(if body.is_empty() {
            format!("an empty body (HTTP {})", reply.status)
        } else {
            "a blank body".into()
        });
    };
    let media = reply.media_type();
    match first {
        b'[' if reply.is_json_type() => parse_json(body, cut, max_items),
        b'[' => Listing::Not(format!(
            "a JSON array without a JSON content type ({})",
            if media.is_empty() { "none" } else { &media }
        )),
        b'{' => Listing::Not("a JSON object, not an array of index rows".into()),
        b'<' => Listing::Not(format!("markup ({})", describe_media(&media))),
        _ if media == "text/plain" && text_table => table::parse_text(body, cut, max_items),
        _ if media == "text/plain" => Listing::Not("a text table".into()),
        _ => Listing::Not(format!(
            "text that is no index list ({})",
            describe_media(&media)
        )),
    }
}

fn describe_media(media: &str) -> &str {
    if media.is_empty() {
        "no content type"
    } else {
        media
    }
}

// ---- the JSON array ----

fn parse_json(body: &[u8], cut: bool, max_items: usize) -> Listing {
    let mut tally = Tally::new(max_items);
    let mut bad = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let rows = Rows {
        tally: &mut tally,
        bad: &mut bad,
    };
    let result = de.deserialize_seq(rows).and_then(|()| de.end());
    match result {
        Ok(()) => Listing::Indices { tally, cut },
        // The body is a prefix of the listing: the rows before the cut are whole.
        Err(e) if e.is_eof() && cut => {
            if tally.rows() == 0 {
                Listing::CutEarly
            } else {
                Listing::Indices { tally, cut: true }
            }
        }
        Err(e) => Listing::Not(bad.unwrap_or_else(|| {
            format!(
                "a JSON array that is no index list ({})",
                crate::sanitize::clip(&e.to_string(), 120)
            )
        })),
    }
}

/// Feeds each row of the array into the tally; the first row that is not an index row
/// stops the parse, and says why in `bad`.
struct Rows<'t> {
    tally: &'t mut Tally,
    bad: &'t mut Option<String>,
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of index rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<JsonRow<'de>>()? {
            match row.check() {
                Ok(row) => self.tally.add(row),
                Err(why) => {
                    let why = format!("a row with {why}");
                    *self.bad = Some(why.clone());
                    return Err(de::Error::custom(why));
                }
            }
        }
        Ok(())
    }
}

/// The cells of one JSON row that ajar reads; the rest are skipped unparsed.
#[derive(Debug, Default)]
struct JsonRow<'a> {
    index: Cell<'a>,
    docs: Cell<'a>,
    size: Cell<'a>,
    health: Cell<'a>,
    status: Cell<'a>,
}

impl JsonRow<'_> {
    /// The row as the tally takes it, or what makes it no index row.
    fn check(&self) -> Result<Row<'_>, &'static str> {
        let name = match &self.index {
            Cell::Text(name) if !name.is_empty() => name.as_ref(),
            Cell::Missing => return Err("no index name"),
            _ => return Err("an index name that is not a name"),
        };
        let documents = match &self.docs {
            Cell::Text(text) => Some(count(text).ok_or("a docs.count that is not a count")?),
            Cell::Null => None,
            Cell::Missing => return Err("no docs.count"),
            Cell::Other => return Err("a docs.count that is not a string"),
        };
        let size_bytes = match &self.size {
            Cell::Text(text) => parse_size(text),
            Cell::Null | Cell::Missing => None,
            Cell::Other => return Err("a store.size that is not a string"),
        };
        if matches!((&self.health, &self.status), (Cell::Missing, Cell::Missing)) {
            return Err("neither health nor status");
        }
        let health = match &self.health {
            Cell::Text(text) => Some(text.as_ref()),
            Cell::Null | Cell::Missing => None,
            Cell::Other => return Err("a health that is not a string"),
        };
        if matches!(self.status, Cell::Other) {
            return Err("a status that is not a string");
        }
        Ok(Row {
            name,
            documents,
            size_bytes,
            health,
        })
    }
}

impl<'de> de::Deserialize<'de> for JsonRow<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(JsonRowVisitor)
    }
}

struct JsonRowVisitor;

impl<'de> Visitor<'de> for JsonRowVisitor {
    type Value = JsonRow<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an index row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonRow<'de>, A::Error> {
        let mut row = JsonRow::default();
        while let Some(key) = map.next_key_seed(KeyOf(ROW_KEYS))? {
            let slot = match key {
                Some(0) => &mut row.index,
                Some(1) => &mut row.docs,
                Some(2) => &mut row.size,
                Some(3) => &mut row.health,
                Some(4) => &mut row.status,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value()?;
        }
        Ok(row)
    }
}

const ROW_KEYS: &[&str] = &["index", "docs.count", "store.size", "health", "status"];

// ---- numbers ----

/// A `docs.count`: decimal digits, saturating at `u64::MAX` (a server may send anything).
pub(super) fn count(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// `88.1kb` → 90214 bytes; plain digits are bytes (what `bytes=b` asks for).
pub(super) fn parse_size(text: &str) -> Option<u64> {
    if let Some(bytes) = count(text) {
        return Some(bytes);
    }
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
    // `as` saturates: a huge value becomes u64::MAX, never wraps.
    (value >= 0.0).then(|| (value * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Inventory;

    /// 8 MiB, the default body cap (`Limits::max_body`).
    const EIGHT_MIB: usize = 8 << 20;
    const CAP: usize = 1000;

    fn reply(content_type: &str, body: Vec<u8>, truncated: bool) -> HttpReply {
        let mut headers = reqwest::header::HeaderMap::new();
        if !content_type.is_empty() {
            headers.insert(
                "content-type",
                content_type.parse().expect("static header value"),
            );
        }
        HttpReply {
            status: 200,
            headers,
            body,
            truncated,
            reservation: Default::default(),
        }
    }

    fn inventory(listing: Listing) -> Inventory {
        match listing {
            Listing::Indices { tally, cut } => tally.into_inventory(cut),
            other => panic!("expected a listing, got {other:?}"),
        }
    }

    fn not(listing: Listing) -> String {
        match listing {
            Listing::Not(why) => why,
            other => panic!("expected no listing, got {other:?}"),
        }
    }

    const JSON: &str = "application/json; charset=UTF-8";
    const TEXT: &str = "text/plain; charset=UTF-8";

    #[test]
    fn eight_mib_json_array_keeps_the_cap() {
        let unit = br#"{"health":"green","index":"a","docs.count":"1"},"#;
        let mut body = b"[".to_vec();
        let mut rows = 0u64;
        while body.len() + unit.len() < EIGHT_MIB {
            body.extend_from_slice(unit);
            rows += 1;
        }
        let last = body.len() - 1;
        body[last] = b']';
        assert!(rows > 150_000, "{rows} rows");
        let inv = inventory(parse(&reply(JSON, body, false), false, CAP));
        assert_eq!(inv.items.len(), CAP);
        assert!(inv.items.capacity() <= CAP, "{}", inv.items.capacity());
        assert_eq!(inv.total_items, rows);
        assert_eq!(inv.total_documents, Some(rows));
        assert_eq!(inv.total_size_bytes, None);
        assert!(inv.truncated);
    }

    #[test]
    fn cut_json_keeps_whole_rows() {
        let body = br#" [{"index":"a","docs.count":"5","store.size":"10","health":"green"}, {"index":"b","docs.count":"7","store.size":"20","status":"open"},{"index":"c","docs.c"#;
        let inv = inventory(parse(&reply(JSON, body.to_vec(), true), false, CAP));
        let names: Vec<&str> = inv.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert!(inv.truncated);
        assert_eq!(inv.total_items, 2);
        let early = parse(
            &reply(JSON, br#"[{"index":"aaaaaaaa"#.to_vec(), true),
            false,
            CAP,
        );
        assert!(matches!(early, Listing::CutEarly), "{early:?}");
        // The same prefix, not cut by ajar: the server sent a broken body.
        let broken = parse(
            &reply(JSON, br#"[{"index":"aaaaaaaa"#.to_vec(), false),
            false,
            CAP,
        );
        assert!(matches!(broken, Listing::Not(_)), "{broken:?}");
    }

    #[test]
    fn json_rows_must_be_index_rows() {
        for (body, why) in [
            (
                r#"[{"index":"a","health":"green"}]"#,
                "a row with no docs.count",
            ),
            (
                r#"[{"index":"a","docs.count":12,"health":"green"}]"#,
                "a row with a docs.count that is not a string",
            ),
            (
                r#"[{"index":"a","docs.count":"x","health":"green"}]"#,
                "a row with a docs.count that is not a count",
            ),
            (
                r#"[{"index":"a","docs.count":"1"}]"#,
                "a row with neither health nor status",
            ),
            (
                r#"[{"docs.count":"1","health":"red"}]"#,
                "a row with no index name",
            ),
        ] {
            assert_eq!(
                not(parse(&reply(JSON, body.into(), false), false, CAP)),
                why
            );
        }
        let e = not(parse(&reply(JSON, br#"["a"]"#.to_vec(), false), false, CAP));
        assert!(e.starts_with("a JSON array that is no index list"), "{e}");
        let e = not(parse(&reply(TEXT, br#"[]"#.to_vec(), false), false, CAP));
        assert_eq!(e, "a JSON array without a JSON content type (text/plain)");
    }

    #[test]
    fn closed_indices_and_empty_clusters() {
        let body = br#"[{"health":null,"status":"close","index":"old","docs.count":null,"store.size":null},{"health":"yellow","status":"open","index":"new","docs.count":"1200","store.size":"88.1kb"}]"#;
        let inv = inventory(parse(&reply(JSON, body.to_vec(), false), false, CAP));
        assert_eq!(inv.items[0].name, "new");
        assert_eq!(inv.items[0].size_bytes, Some(90214));
        assert_eq!(inv.items[1].documents, None);
        assert_eq!((inv.total_items, inv.truncated), (2, false));
        let inv = inventory(parse(&reply(JSON, b" [ ]\n".to_vec(), false), false, CAP));
        assert_eq!((inv.total_items, inv.items.len()), (0, 0));
    }

    #[test]
    fn saturates_document_counts() {
        let body = br#"[{"health":"green","index":"a","docs.count":"18446744073709551615"},{"health":"green","index":"b","docs.count":"18446744073709551615"},{"health":"green","index":"c","docs.count":"99999999999999999999999"}]"#;
        let inv = inventory(parse(&reply(JSON, body.to_vec(), false), false, CAP));
        assert_eq!(inv.total_documents, Some(u64::MAX));
        assert_eq!(inv.items[2].documents, Some(u64::MAX));
    }

    #[test]
    fn what_is_not_a_listing() {
        for (ct, body, text_ok, why) in [
            ("", "", true, "an empty body (HTTP 200)"),
            (TEXT, " \r\n\n", true, "a blank body"),
            ("text/html", "<html></html>", true, "markup (text/html)"),
            (
                JSON,
                r#"{"acknowledged":true}"#,
                true,
                "a JSON object, not an array of index rows",
            ),
            (
                TEXT,
                "the index is fine\n",
                true,
                "text whose first line is no index-table header",
            ),
            (
                TEXT,
                "index\n",
                true,
                "text whose first line is no index-table header",
            ),
            (TEXT, "index docs.count\nx 1\n", false, "a text table"),
            (
                TEXT,
                "index docs.count\nx\n",
                true,
                "a text table with a row that does not fit its header",
            ),
            (
                TEXT,
                "index docs.count\nx y\n",
                true,
                "a text table with a docs.count that is not a count",
            ),
            (
                "application/octet-stream",
                "index docs.count\n",
                true,
                "text that is no index list (application/octet-stream)",
            ),
        ] {
            assert_eq!(
                not(parse(&reply(ct, body.into(), false), text_ok, CAP)),
                why,
                "{body:?}"
            );
        }
    }

    #[test]
    fn parses_sizes_and_counts() {
        assert_eq!(parse_size("88100"), Some(88100));
        assert_eq!(parse_size("260b"), Some(260));
        assert_eq!(parse_size("88.1kb"), Some(90214));
        assert_eq!(parse_size("1.5gb"), Some(1_610_612_736));
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("12parsecs"), None);
        assert_eq!(parse_size("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_size("9999999999pb"), Some(u64::MAX));
        assert_eq!(count("18446744073709551616"), Some(u64::MAX));
        assert_eq!(count("-1"), None);
        assert_eq!(count(""), None);
    }

    #[test]
    fn escaped_and_long_names_are_clipped() {
        let long = "n".repeat(10_000);
        let body = format!(
            r#"[{{"health":"green","index":"evil\u001b[31m","docs.count":"2"}},{{"health":"green","index":"{long}","docs.count":"1"}}]"#
        );
        let inv = inventory(parse(&reply(JSON, body.into_bytes(), false), false, CAP));
        assert_eq!(inv.items[0].name, "evil\\u{1b}[31m");
        assert_eq!(inv.items[1].name.chars().count(), 255);
        assert!(inv.items[1].name.ends_with('…'));
    }
}
