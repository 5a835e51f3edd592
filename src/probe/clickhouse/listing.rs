//! `SHOW DATABASES` after a Hello: the answer's Data blocks of one `name String` column,
//! read within the caps, names only. Nothing else is ever queried.

use tokio::time::Instant;

use super::conn::{Conn, Stop};
use super::wire::{self, Names, Need, Packet, ServerException};

/// Most bytes of the answer read in all.
const MAX_RESULT: usize = 1 << 20;
/// The one statement sent: read-only, names only.
pub(super) const STATEMENT: &str = "SHOW DATABASES";

/// The database names a server listed.
#[derive(Debug)]
pub(super) struct Listing {
    /// The names kept, in server order.
    pub(super) names: Vec<String>,
    /// Rows read in all.
    pub(super) rows: u64,
    /// True when the answer was cut at the byte cap.
    pub(super) cut: bool,
}

/// Why no listing came back.
pub(super) enum Failure {
    /// The server answered with an Exception.
    Refused(ServerException),
    /// The answer stopped or was not well-formed.
    Broken(String),
}

/// Sends `SHOW DATABASES` and reads its answer to the EndOfStream packet (or the cap).
pub(super) async fn list(conn: &mut Conn, max_items: usize) -> Result<Listing, Failure> {
    let broken = |stop: Stop| Failure::Broken(stop.why());
    conn.send(&wire::query(STATEMENT)).await.map_err(broken)?;
    // The answer is a few small packets; two steps cover a server that is merely slow.
    let deadline = Instant::now() + conn.step().saturating_mul(2);
    let mut listing = Listing {
        names: Vec::new(),
        rows: 0,
        cut: false,
    };
    let mut column_seen = false;
    loop {
        let mut attempt = Names {
            max: max_items.saturating_sub(listing.names.len()),
            ..Names::default()
        };
        match wire::packet(&conn.buf, &mut attempt) {
            Ok((packet, used)) => {
                conn.consume(used);
                listing.take(attempt);
                match packet {
                    Packet::Data { columns, .. } => column_seen |= columns == 1,
                    Packet::Progress | Packet::ProfileInfo => {}
                    Packet::EndOfStream if column_seen => return Ok(listing),
                    Packet::EndOfStream => {
                        return Err(Failure::Broken(
                            "EndOfStream without a block of the name column".into(),
                        ));
                    }
                    Packet::Exception(e) => return Err(Failure::Refused(e)),
                }
            }
            Err(Need::More) if conn.received >= MAX_RESULT => {
                // Names of a block cut short still came in the column's shape.
                column_seen |= attempt.rows > 0;
                listing.take(attempt);
                listing.cut = true;
                if column_seen {
                    return Ok(listing);
                }
                return Err(Failure::Broken(format!(
                    "no block of the name column in the first {MAX_RESULT} bytes"
                )));
            }
            Err(Need::More) => {
                let cap = MAX_RESULT
                    .saturating_sub(conn.received)
                    .saturating_add(conn.buf.len());
                conn.fill(cap, deadline).await.map_err(broken)?;
            }
            Err(Need::Bad(why)) => return Err(Failure::Broken(why)),
        }
    }
}

impl Listing {
    fn take(&mut self, names: Names) {
        self.names.extend(names.kept);
        self.rows = self.rows.saturating_add(names.rows);
    }
}
