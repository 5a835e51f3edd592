//! The `_cat/indices?v` text table that Elasticsearch 1.x/2.x may send instead of JSON
//! (protocols.md ES-20): a header line naming the columns, at least `index` and
//! `docs.count`, then one row per index. Lines are read in place from the body bytes (a
//! lossy UTF-8 view per line, borrowed when valid), cells in one pass without collecting
//! them, rows straight into the [`Tally`].

use super::cat::{Listing, count, parse_size};
use super::tally::{Row, Tally};

/// Reads a text table; `cut` when the body ended at the read cap (the last line is then
/// partial and dropped).
pub(super) fn parse_text(body: &[u8], cut: bool, max_items: usize) -> Listing {
    // A cut body ends inside a line: only the lines before it are whole.
    let body = if cut {
        match body.iter().rposition(|b| *b == b'\n') {
            Some(end) => &body[..end],
            None => return Listing::CutEarly,
        }
    } else {
        body
    };
    let mut lines = body
        .split(|b| *b == b'\n')
        .map(String::from_utf8_lossy)
        .filter(|line| !line.trim().is_empty());
    let Some(header) = lines.next() else {
        return Listing::Not("a blank body".into());
    };
    let Some(table) = Header::read(&header) else {
        return Listing::Not("text whose first line is no index-table header".into());
    };
    let mut tally = Tally::new(max_items);
    for line in lines {
        match table.row(&line) {
            Ok(row) => tally.add(row),
            Err(why) => return Listing::Not(format!("a text table with {why}")),
        }
    }
    if cut && tally.rows() == 0 {
        return Listing::CutEarly;
    }
    Listing::Indices { tally, cut }
}

/// Where the columns ajar reads sit in the `v` header.
#[derive(Debug)]
struct Header {
    columns: usize,
    index: usize,
    docs: usize,
    size: Option<usize>,
    health: Option<usize>,
}

impl Header {
    fn read(line: &str) -> Option<Header> {
        let mut header = Header {
            columns: 0,
            index: usize::MAX,
            docs: usize::MAX,
            size: None,
            health: None,
        };
        for (n, name) in line.split_whitespace().enumerate() {
            header.columns = n + 1;
            match name {
                "index" => header.index = n,
                "docs.count" => header.docs = n,
                "store.size" => header.size = Some(n),
                "health" => header.health = Some(n),
                _ => {}
            }
        }
        (header.index != usize::MAX && header.docs != usize::MAX).then_some(header)
    }

    /// One row, read in a single pass without collecting its cells. A row with fewer
    /// cells than the header is a closed index (`close <index>`: no health, count or size).
    fn row<'l>(&self, line: &'l str) -> Result<Row<'l>, &'static str> {
        let mut cells = 0;
        let (mut name, mut docs, mut size, mut health) = (None, None, None, None);
        let (mut after_status, mut status_next) = (false, None);
        for (n, cell) in line.split_whitespace().enumerate() {
            cells = n + 1;
            if n == self.index {
                name = Some(cell);
            }
            if n == self.docs {
                docs = Some(cell);
            }
            if Some(n) == self.size {
                size = Some(cell);
            }
            if Some(n) == self.health {
                health = Some(cell);
            }
            if after_status && status_next.is_none() {
                status_next = Some(cell);
            } else if !after_status && (cell == "close" || cell == "open") {
                after_status = true;
            }
        }
        if cells == self.columns {
            let name = name.ok_or("a row without an index name")?;
            let documents = docs
                .and_then(count)
                .ok_or("a docs.count that is not a count")?;
            return Ok(Row {
                name,
                documents: Some(documents),
                size_bytes: size.and_then(parse_size),
                health,
            });
        }
        match status_next {
            Some(name) if cells < self.columns => Ok(Row {
                name,
                documents: None,
                size_bytes: None,
                health: None,
            }),
            _ => Err("a row that does not fit its header"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Inventory;

    fn inventory(listing: Listing) -> Inventory {
        match listing {
            Listing::Indices { tally, cut } => tally.into_inventory(cut),
            other => panic!("expected a listing, got {other:?}"),
        }
    }

    const CAP: usize = 1000;

    /// 8 MiB, the default body cap (`Limits::max_body`).
    const EIGHT_MIB: usize = 8 << 20;

    #[test]
    fn eight_mib_text_table_keeps_the_cap() {
        // ES-20 header (1.x columns), then one-letter rows until the body is 8 MiB.
        let mut body = b"index docs.count\n".to_vec();
        let mut rows = 0u64;
        let mut documents = 0u64;
        while body.len() + 4 <= EIGHT_MIB {
            let letter = b'a' + (rows % 26) as u8;
            let docs = rows % 10;
            body.extend_from_slice(&[letter, b' ', b'0' + docs as u8, b'\n']);
            rows += 1;
            documents += docs;
        }
        assert!(rows > 2_000_000, "{rows} rows");
        let inv = inventory(parse_text(&body, false, CAP));
        assert_eq!(inv.items.len(), CAP);
        assert!(inv.items.capacity() <= CAP, "{}", inv.items.capacity());
        assert_eq!(inv.total_items, rows);
        assert_eq!(inv.user_items, rows);
        assert_eq!(inv.total_documents, Some(documents));
        assert!(inv.truncated);
        // Rows with 9 documents have odd row numbers, so odd letters: `b` sorts first.
        assert_eq!(inv.items[0].documents, Some(9), "the biggest first");
        assert_eq!(inv.items[0].name, "b");
    }

    #[test]
    fn parses_text_table_with_closed_index() {
        // Shape from elastic/elasticsearch docs/reference/cat/indices.asciidoc (ES-20).
        let text = "health status index            uuid                   pri rep docs.count docs.deleted store.size pri.store.size\n\
                    yellow open   my-index-000001  u8FNjxh8Rfy_awN11oDKYQ   1   1       1200            0      90214          90214\n\
                           close  old-index        nYFWZEO7TUiOjLQXBaYJpA\n";
        let inv = inventory(parse_text(text.as_bytes(), false, CAP));
        assert_eq!(inv.items.len(), 2);
        assert_eq!(inv.items[0].name, "my-index-000001");
        assert_eq!(
            (inv.items[0].documents, inv.items[0].size_bytes),
            (Some(1200), Some(90214))
        );
        assert_eq!(inv.items[0].health.as_deref(), Some("yellow"));
        assert_eq!(inv.items[1].name, "old-index");
        assert_eq!(inv.items[1].documents, None);
        // Header only: an empty cluster.
        let header = text.lines().next().unwrap_or_default();
        let inv = inventory(parse_text(header.as_bytes(), false, CAP));
        assert_eq!(inv.total_items, 0);
        // Cut inside the second row: the first is whole; cut inside the header: no row.
        let cut = &text.as_bytes()[..text.find("close").unwrap_or(0)];
        let inv = inventory(parse_text(cut, true, CAP));
        assert_eq!((inv.total_items, inv.truncated), (1, true));
        let early = parse_text(b"health status ind", true, CAP);
        assert!(matches!(early, Listing::CutEarly), "{early:?}");
    }
}
