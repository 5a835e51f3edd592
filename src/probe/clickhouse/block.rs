//! The packets of a query's answer (Data, Progress, ProfileInfo, EndOfStream, Exception)
//! in the format of client revision 54401, and the native blocks of String columns the
//! probe's queries return. Sources: ClickHouse `src/Server/TCPHandler.cpp` (`sendData`,
//! `sendProgress`, `sendProfileInfo`), `src/Core/BlockInfo.cpp`, `src/Formats/NativeWriter.cpp`
//! (`NativeBlockOutputStream.cpp` in 18.16).

use super::wire::{
    Cursor, MAX_FIELD, Need, SERVER_DATA, SERVER_END_OF_STREAM, SERVER_EXCEPTION,
    SERVER_PROFILE_INFO, SERVER_PROGRESS, ServerException, bad, exception,
};

/// The String columns of a query's answer, read within a cap.
#[derive(Debug, Default)]
pub struct Columns {
    /// Each column's values, in server order (at most `max` each).
    pub values: Vec<Vec<String>>,
    /// Rows read in all.
    pub rows: u64,
    /// Most values kept per column.
    pub max: usize,
}

impl Columns {
    /// Empty columns, `count` of them, keeping at most `max` values each.
    pub fn new(count: usize, max: usize) -> Columns {
        Columns {
            values: vec![Vec::new(); count],
            rows: 0,
            max,
        }
    }
}

/// One packet of a query's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A block (the header, rows, or the empty last one): its rows went to the
    /// [`Columns`].
    Data {
        /// Columns in the block: the ones expected, or 0 (the empty last block).
        columns: u64,
    },
    /// Progress counters (read past).
    Progress,
    /// Profile info (read past).
    ProfileInfo,
    /// The end of the answer.
    EndOfStream,
    /// The query failed.
    Exception(ServerException),
}

/// Decodes one packet of a query's answer at the start of `buf`, and how many bytes it
/// took. A Data block must hold the `expect`ed String columns, in order; its values go
/// to `sink` as they are read, so a block cut short still leaves what came.
pub fn packet(buf: &[u8], expect: &[&str], sink: &mut Columns) -> Result<(Packet, usize), Need> {
    let mut c = Cursor::new(buf);
    let packet = match c.varint()? {
        SERVER_DATA => data(&mut c, expect, sink)?,
        kind if kind == u64::from(SERVER_EXCEPTION) => Packet::Exception(exception(&mut c)?),
        SERVER_PROGRESS => {
            for _ in 0..3 {
                c.varint()?;
            }
            Packet::Progress
        }
        SERVER_PROFILE_INFO => {
            c.varint()?; // rows
            c.varint()?; // blocks
            c.varint()?; // bytes
            c.byte()?; // applied limit
            c.varint()?; // rows before limit
            c.byte()?; // calculated rows before limit
            Packet::ProfileInfo
        }
        SERVER_END_OF_STREAM => Packet::EndOfStream,
        other => return bad(format!("packet type {other} in a query's answer")),
    };
    Ok((packet, c.consumed()))
}

/// A Data packet: table name, block info, then no column or the expected String ones.
fn data(c: &mut Cursor<'_>, expect: &[&str], sink: &mut Columns) -> Result<Packet, Need> {
    c.string(MAX_FIELD, "table name")?;
    loop {
        match c.varint()? {
            0 => break,
            1 => {
                c.byte()?; // is_overflows
            }
            2 => {
                c.i32_le()?; // bucket_num
            }
            other => return bad(format!("block info field {other}")),
        }
    }
    let columns = c.varint()?;
    let rows = c.varint()?;
    if columns == 0 && rows == 0 {
        return Ok(Packet::Data { columns });
    }
    if columns != expect.len() as u64 || sink.values.len() != expect.len() {
        return bad(format!("a block of {columns} columns and {rows} rows"));
    }
    for (i, want) in expect.iter().enumerate() {
        let column = c.string(MAX_FIELD, "column name")?;
        let kind = c.string(MAX_FIELD, "column type")?;
        if column != want.as_bytes() || kind != b"String" {
            return bad(format!(
                "column {:?} of type {:?}, not {want} String",
                String::from_utf8_lossy(column),
                String::from_utf8_lossy(kind)
            ));
        }
        for _ in 0..rows {
            let value = c.string(MAX_FIELD, want)?;
            if i == 0 {
                sink.rows = sink.rows.saturating_add(1);
            }
            if let Some(kept) = sink.values.get_mut(i).filter(|v| v.len() < sink.max) {
                kept.push(String::from_utf8_lossy(value).into_owned());
            }
        }
    }
    Ok(Packet::Data { columns })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows block of 18.16.1's answer to SHOW DATABASES
    /// (tests/fixtures/clickhouse/18.16-show-databases.hex, second line).
    const ROWS: &[u8] = b"\x01\x00\x01\x00\x02\xff\xff\xff\xff\x00\x01\x03\x04name\x06String\x0dajar_probe_db\x07default\x06system";

    #[test]
    fn a_whole_block_gives_every_name() {
        let mut sink = Columns::new(1, 10);
        let (packet, used) = packet(ROWS, &["name"], &mut sink).expect("a block");
        assert_eq!((packet, used), (Packet::Data { columns: 1 }, ROWS.len()));
        assert_eq!(sink.values, [vec!["ajar_probe_db", "default", "system"]]);
        assert_eq!(sink.rows, 3);
    }

    #[test]
    fn a_block_cut_short_keeps_the_names_read_and_asks_for_more() {
        let mut sink = Columns::new(1, 10);
        let cut = &ROWS[..ROWS.len() - 3];
        assert_eq!(packet(cut, &["name"], &mut sink), Err(Need::More));
        assert_eq!(sink.values, [vec!["ajar_probe_db", "default"]]);
        assert_eq!(sink.rows, 2);
    }

    #[test]
    fn names_past_the_cap_are_counted_and_other_columns_refused() {
        let mut sink = Columns::new(1, 1);
        packet(ROWS, &["name"], &mut sink).expect("a block");
        assert_eq!((sink.values[0].len(), sink.rows), (1, 3));
        let mut sink = Columns::new(1, 10);
        assert!(matches!(
            packet(ROWS, &["database"], &mut sink),
            Err(Need::Bad(_))
        ));
    }
}
