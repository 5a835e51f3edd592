//! `SHOW DATABASES` after a login: the one-column text result set read within the caps,
//! names only. Nothing else is ever queried.

use super::conn::{Conn, Stop};
use super::{Judge, MAX_RESULT, SYSTEM_DATABASES, describe_error, wire};
use crate::finding::{DataSet, Exposure, Inventory};
use crate::probe::ProbeOutcome;

impl Judge<'_> {
    /// `SHOW DATABASES` after a login: the names, nothing else.
    pub(super) async fn list(&mut self, conn: &mut Conn, max_items: usize) -> ProbeOutcome {
        const REQUEST: &str = "COM_QUERY SHOW DATABASES";
        let logged_in = "logged in as root with an empty password";
        let mut query = vec![0x03];
        query.extend_from_slice(b"SHOW DATABASES");
        let names = match self.result_names(conn, &query, max_items).await {
            Ok(names) => names,
            Err(why) => {
                self.trace.record(REQUEST, &why);
                return self.found(
                    Exposure::DefaultCredentials,
                    format!("{logged_in}; SHOW DATABASES did not list: {why}"),
                    None,
                );
            }
        };
        let (names, total, truncated) = names;
        self.trace.record(
            REQUEST,
            format!(
                "result set of {total} rows{}: {}",
                if truncated { " (cut)" } else { "" },
                names.join(", ")
            ),
        );
        // COM_QUIT, so the server logs a clean close; its answer does not matter.
        let _ = conn.send(&wire::packet(0, &[0x01])).await;
        let items: Vec<DataSet> = names
            .into_iter()
            .map(|name| DataSet {
                system: SYSTEM_DATABASES.contains(&name.as_str()),
                name,
                ..DataSet::default()
            })
            .collect();
        let user = items.iter().filter(|d| !d.system).count();
        let mut inventory = Inventory {
            unit: "database".into(),
            items,
            total_items: total,
            truncated,
            ..Inventory::default()
        };
        inventory.recount();
        self.found(
            Exposure::DefaultCredentials,
            format!("{logged_in}; {total} databases listed, {user} of them user databases"),
            Some(inventory),
        )
    }

    /// Reads a one-column text result set: the names (at most `max_items`), how many rows
    /// there were, and whether names were left out.
    async fn result_names(
        &mut self,
        conn: &mut Conn,
        query: &[u8],
        max_items: usize,
    ) -> Result<(Vec<String>, u64, bool), String> {
        let fail = |why: Stop| match why {
            Stop::Silent => "no answer before the timeout".to_string(),
            Stop::Closed(why) | Stop::Error(why) => why,
        };
        let (_, first) = self.exchange(conn, 0, query).await.map_err(fail)?;
        if first.first() == Some(&wire::ERR) {
            return Err(wire::parse_error(&first, true)
                .map_or("a malformed ERR packet".into(), |e| describe_error(&e)));
        }
        match wire::lenenc(&first) {
            Some((1, 1)) if first.len() == 1 => {}
            _ => return Err("not a one-column result set".into()),
        }
        let mut read = first.len();
        // The column definition, then EOF (CLIENT_DEPRECATE_EOF is not asked for).
        let (_, column) = conn.packet().await.map_err(fail)?;
        if column.get(..4) != Some(b"\x03def") {
            return Err("a malformed column definition".into());
        }
        let (_, eof) = conn.packet().await.map_err(fail)?;
        if !wire::is_eof(&eof) {
            return Err("no EOF after the column definition".into());
        }
        let mut names = Vec::new();
        let mut total = 0u64;
        loop {
            let (_, row) = conn.packet().await.map_err(fail)?;
            read = read.saturating_add(row.len()).saturating_add(4);
            if wire::is_eof(&row) {
                break;
            }
            if row.first() == Some(&wire::ERR) {
                return Err("the result set ended with an ERR packet".into());
            }
            let name = wire::single_column(&row).ok_or("a malformed row")?;
            let name = std::str::from_utf8(name).map_err(|_| "a name that is not UTF-8")?;
            if name.is_empty() || name.len() > 256 {
                return Err("a database name out of bounds".into());
            }
            total = total.saturating_add(1);
            if names.len() < max_items {
                names.push(name.to_string());
            }
            if read > MAX_RESULT {
                return Ok((names, total, true));
            }
        }
        let truncated = total > names.len() as u64;
        Ok((names, total, truncated))
    }
}
