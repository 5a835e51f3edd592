//! The one query sent once in: `SELECT datname FROM pg_database`, a read-only catalog
//! query for database names, and the checks that make its answer proof: a RowDescription
//! with the one column `datname`, single-column DataRows, a CommandComplete `SELECT n`
//! that counts them, ReadyForQuery, and at least one database (every server has
//! `template0`).

use super::Verdict;
use super::session::{LIST_DATABASES, Session, error_parts};
use super::wire;
use crate::finding::policy::sort_items;
use crate::finding::{DataSet, Exposure, Inventory};
use crate::sanitize::clip;

/// Databases PostgreSQL creates itself (initdb): system data sets.
const SYSTEM_DATABASES: &[&str] = &["postgres", "template0", "template1"];

impl Session<'_> {
    /// Runs the catalog query and reads its result: RowDescription `datname`, DataRows,
    /// CommandComplete `SELECT n`, ReadyForQuery. Anything else is no proof.
    pub(super) async fn list_databases(
        &mut self,
        exposure: Exposure,
        version: Option<String>,
    ) -> Verdict {
        if let Some(v) = &version {
            self.details.push(("server_version".into(), v.clone()));
        }
        if let Err(e) = self.send(&wire::query(LIST_DATABASES)).await {
            self.trace.record(LIST_DATABASES, e.to_string());
            return self.unjudged(version, format!("the catalog query failed: {e}"));
        }
        let max_items = self.cx.limits.max_items;
        let mut names: Vec<String> = Vec::new();
        let mut total: u64 = 0;
        let mut described = false;
        let mut tag = None;
        let outcome = loop {
            let message = match self.read().await {
                Ok(m) => m,
                Err(e) => break Err(e.to_string()),
            };
            match message.kind {
                b'T' if !described => match wire::row_fields(&message.body) {
                    Some(fields) if fields == ["datname"] => described = true,
                    _ => break Err("unexpected RowDescription".into()),
                },
                b'D' if described => match wire::single_text_column(&message.body) {
                    Some(name) => {
                        total = total.saturating_add(1);
                        if names.len() < max_items {
                            names.push(clip(&name, 200));
                        }
                    }
                    None => break Err("malformed DataRow".into()),
                },
                b'C' if described && tag.is_none() => {
                    tag = Some(
                        String::from_utf8_lossy(&message.body)
                            .trim_end_matches('\0')
                            .to_string(),
                    );
                }
                b'Z' => break Ok(()),
                b'E' => {
                    break Err(error_parts(&message.body)
                        .map_or("malformed ErrorResponse".into(), |(_, c, m)| {
                            format!("{c} {m}")
                        }));
                }
                b'N' | b'S' => {}
                other => break Err(format!("message type '{}'", char::from(other))),
            }
        };
        let _ = self.send(&wire::terminate()).await;
        let expected_tag = format!("SELECT {total}");
        let result = match outcome {
            Err(why) => Err(why),
            Ok(()) if tag.as_deref() != Some(expected_tag.as_str()) => Err(format!(
                "CommandComplete {:?} does not count {total} rows",
                tag.unwrap_or_default()
            )),
            Ok(()) if total == 0 => {
                Err("no database listed (a server always has template0)".into())
            }
            Ok(()) => Ok(()),
        };
        if let Err(why) = result {
            self.trace
                .record(LIST_DATABASES, format!("no proof: {why}"));
            return self.unjudged(
                version,
                format!("the catalog query did not answer as PostgreSQL does: {why}"),
            );
        }
        self.trace.record(
            LIST_DATABASES,
            format!("{total} database names: {}", clip(&names.join(", "), 300)),
        );
        let mut items: Vec<DataSet> = names
            .into_iter()
            .map(|name| DataSet {
                system: SYSTEM_DATABASES.contains(&name.as_str()),
                name,
                ..DataSet::default()
            })
            .collect();
        sort_items(&mut items);
        let mut inventory = Inventory {
            unit: "database".into(),
            items,
            total_items: total,
            truncated: total > max_items as u64,
            ..Inventory::default()
        };
        inventory.recount();
        let user = inventory.user_items;
        let how = match exposure {
            Exposure::DefaultCredentials => "with the default login postgres",
            _ => "without a password",
        };
        Verdict::Found {
            exposure,
            summary: format!("PostgreSQL lists {total} databases ({user} user) {how}"),
            version,
            inventory: Some(inventory),
        }
    }
}
