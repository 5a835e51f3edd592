//! The two read-only queries after a Hello, their answers' Data blocks of String columns
//! read within the caps: `SHOW DATABASES` (names), then the names of the user databases'
//! tables from `system.tables`. Nothing else is ever queried, and no row of a table.

use tokio::time::Instant;

use super::block::{self, Columns, Packet};
use super::conn::{Conn, Stop};
use super::wire::{self, Need, ServerException};

/// Most bytes of one answer read.
const MAX_RESULT: usize = 1 << 20;
/// The database listing: read-only, names only.
pub(super) const DATABASES: &str = "SHOW DATABASES";
/// The table listing: names of the tables outside the system databases.
pub(super) const TABLES: &str = "SELECT database, name FROM system.tables WHERE database NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA')";

/// The String columns a query's answer held.
#[derive(Debug)]
pub(super) struct Table {
    /// Each column's values (at most the cap each), in server order.
    pub(super) values: Vec<Vec<String>>,
    /// Rows read in all.
    pub(super) rows: u64,
    /// True when the answer was cut at the byte cap.
    pub(super) cut: bool,
}

impl Table {
    /// The first column's values.
    pub(super) fn first(&self) -> &[String] {
        self.values.first().map_or(&[], Vec::as_slice)
    }
}

/// Why no listing came back.
pub(super) enum Failure {
    /// The server answered with an Exception.
    Refused(ServerException),
    /// The answer stopped or was not well-formed.
    Broken(String),
}

/// Sends `statement` and reads its answer, whose blocks must hold the `expect`ed String
/// columns, to the EndOfStream packet (or the byte cap), keeping at most `max` values per
/// column.
pub(super) async fn query(
    conn: &mut Conn,
    statement: &str,
    expect: &[&str],
    max: usize,
) -> Result<Table, Failure> {
    let broken = |stop: Stop| Failure::Broken(stop.why());
    conn.send(&wire::query(statement)).await.map_err(broken)?;
    // The answer is a few small packets; two steps cover a server that is merely slow.
    let deadline = Instant::now() + conn.step().saturating_mul(2);
    let started = conn.received.saturating_sub(conn.buf.len());
    let mut table = Table {
        values: vec![Vec::new(); expect.len()],
        rows: 0,
        cut: false,
    };
    let mut columns_seen = false;
    loop {
        let kept = table.values.first().map_or(0, Vec::len);
        let mut attempt = Columns::new(expect.len(), max.saturating_sub(kept));
        let read = conn.received.saturating_sub(started);
        match block::packet(&conn.buf, expect, &mut attempt) {
            Ok((packet, used)) => {
                conn.consume(used);
                table.take(attempt);
                match packet {
                    Packet::Data { columns } => columns_seen |= columns > 0,
                    Packet::Progress | Packet::ProfileInfo => {}
                    Packet::EndOfStream if columns_seen => return Ok(table),
                    Packet::EndOfStream => {
                        return Err(Failure::Broken(
                            "EndOfStream without a block of the expected columns".into(),
                        ));
                    }
                    Packet::Exception(e) => return Err(Failure::Refused(e)),
                }
            }
            Err(Need::More) if read >= MAX_RESULT => {
                // Values of a block cut short still came in the columns' shape.
                columns_seen |= attempt.rows > 0;
                table.take(attempt);
                table.cut = true;
                if columns_seen {
                    return Ok(table);
                }
                return Err(Failure::Broken(format!(
                    "no block of the expected columns in the first {MAX_RESULT} bytes"
                )));
            }
            Err(Need::More) => {
                let cap = MAX_RESULT
                    .saturating_sub(read)
                    .saturating_add(conn.buf.len());
                conn.fill(cap, deadline).await.map_err(broken)?;
            }
            Err(Need::Bad(why)) => return Err(Failure::Broken(why)),
        }
    }
}

impl Table {
    fn take(&mut self, columns: Columns) {
        for (kept, new) in self.values.iter_mut().zip(columns.values) {
            kept.extend(new);
        }
        self.rows = self.rows.saturating_add(columns.rows);
    }
}
