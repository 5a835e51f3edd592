//! What an open (or default-credential) cluster exposes, read from the schema tables:
//! keyspace names, table names per keyspace, and the release. Only names and versions:
//! no statement touches a user table. Each query asks for one page of at most
//! [`MAX_PAGE`] rows, and `system_schema` (Cassandra 3.0+, ScyllaDB) falls back to the
//! `system.schema_*` tables of Cassandra 2.x when the server does not know it.

use super::conn::Conn;
use super::handshake::Product;
use super::{CASSANDRA, Judge, describe_error, wire};
use crate::finding::{DataSet, Exposure, Inventory, policy};
use crate::probe::ProbeOutcome;
use crate::sanitize::clip;

/// Most rows asked for in one page.
const MAX_PAGE: usize = 1000;
/// Most table names kept per keyspace.
const MAX_TABLES: usize = 100;
/// Longest name accepted (Cassandra 5.0 allows 222 characters, earlier releases 48).
const MAX_NAME: usize = 222;

/// The keyspace and table listings, current schema tables first, then Cassandra 2.x's.
const KEYSPACES: [&str; 2] = [
    "SELECT keyspace_name FROM system_schema.keyspaces",
    "SELECT keyspace_name FROM system.schema_keyspaces",
];
const TABLES: [&str; 2] = [
    "SELECT keyspace_name, table_name FROM system_schema.tables",
    "SELECT keyspace_name, columnfamily_name FROM system.schema_columnfamilies",
];
const RELEASE: &str = "SELECT release_version FROM system.local";
const SCYLLA_VERSION: &str = "SELECT version FROM system.versions WHERE key = 'local'";
const DSE_VERSION: &str = "SELECT dse_version FROM system.local";

/// Keyspaces a product creates for itself (Cassandra, ScyllaDB, DSE, OpsCenter).
fn is_system(name: &str) -> bool {
    name == "system"
        || name.starts_with("system_")
        || name.starts_with("dse_")
        || [
            "solr_admin",
            "cfs",
            "cfs_archive",
            "HiveMetaStore",
            "OpsCenter",
        ]
        .contains(&name)
}

/// Why a SELECT gave no rows.
enum Failed {
    /// An ERROR frame: its code and the facts for the evidence.
    Error(i32, String),
    /// Anything else, for the evidence.
    Other(String),
}

impl Failed {
    fn facts(&self) -> &str {
        match self {
            Failed::Error(_, facts) | Failed::Other(facts) => facts,
        }
    }
}

fn valid_name(name: &Option<String>) -> Option<&str> {
    name.as_deref()
        .filter(|n| !n.is_empty() && n.len() <= MAX_NAME && !n.chars().any(char::is_control))
}

impl Judge<'_> {
    /// Lists keyspaces and tables and reads the version, then gives the verdict.
    pub(super) async fn list(&mut self, conn: &mut Conn, exposure: Exposure) -> ProbeOutcome {
        let page = self.cx.limits.max_items.clamp(1, MAX_PAGE);
        let mut modern = true;
        let mut listed = self.select(conn, KEYSPACES[0], page).await;
        if matches!(listed, Err(Failed::Error(wire::INVALID, _))) {
            modern = false;
            listed = self.select(conn, KEYSPACES[1], page).await;
        }
        let statement = KEYSPACES[usize::from(!modern)];
        let rows = match listed {
            Ok(rows) => rows,
            Err(failed) => {
                self.trace.record(query(statement), failed.facts());
                self.read_version(conn).await;
                return self.unlisted(exposure, failed.facts());
            }
        };
        let names: Option<Vec<String>> = rows
            .rows
            .iter()
            .map(|row| valid_name(row.first()?).map(str::to_string))
            .collect();
        let well_formed = rows.columns == ["keyspace_name"]
            && names
                .as_ref()
                .is_some_and(|n| n.iter().any(|name| name == "system"));
        let Some(mut names) = names.filter(|_| well_formed) else {
            let facts = format!(
                "a Rows result of {} rows that is not a keyspace listing with the system keyspace",
                rows.rows.len()
            );
            self.trace.record(query(statement), &facts);
            self.read_version(conn).await;
            return self.unlisted(exposure, &facts);
        };
        names.sort();
        names.dedup();
        let cut = if rows.more_pages { " (more pages)" } else { "" };
        self.trace.record(
            query(statement),
            clip(
                &format!("Rows: {} keyspaces{cut}: {}", names.len(), names.join(", ")),
                500,
            ),
        );
        let mut items: Vec<DataSet> = names
            .into_iter()
            .map(|name| DataSet {
                system: is_system(&name),
                name,
                ..DataSet::default()
            })
            .collect();
        let tables = self.tables(conn, modern, page, &mut items).await;
        self.read_version(conn).await;
        let user = items.iter().filter(|d| !d.system).count();
        let total = items.len();
        policy::sort_items(&mut items);
        let mut inventory = Inventory {
            unit: "keyspace".into(),
            items,
            total_items: total as u64,
            truncated: rows.more_pages,
            ..Inventory::default()
        };
        inventory.recount();
        let tables = tables.map_or(String::new(), |n| format!(", {n} tables in all"));
        let summary = match exposure {
            Exposure::DefaultCredentials => format!(
                "logged in as the default superuser {} with its default password: {total} keyspaces listed, {user} of them user keyspaces{tables}",
                CASSANDRA.user
            ),
            _ => format!(
                "no authenticator: {total} keyspaces listed without credentials, {user} of them user keyspaces{tables}"
            ),
        };
        self.found(exposure, summary, Some(inventory))
    }

    /// The verdict when the keyspaces could not be listed.
    fn unlisted(&mut self, exposure: Exposure, facts: &str) -> ProbeOutcome {
        match exposure {
            Exposure::DefaultCredentials => self.found(
                exposure,
                format!("logged in as the default superuser cassandra with its default password, but the keyspaces were not listed: {facts}"),
                None,
            ),
            _ => self.undetermined(format!(
                "STARTUP was answered READY (no authenticator), but the keyspaces were not listed: {facts}"
            )),
        }
    }

    /// Table names into each keyspace's `collections`; the number of tables, when listed.
    async fn tables(
        &mut self,
        conn: &mut Conn,
        modern: bool,
        page: usize,
        items: &mut [DataSet],
    ) -> Option<usize> {
        let statement = TABLES[usize::from(!modern)];
        let rows = match self.select(conn, statement, page).await {
            Ok(rows) if rows.columns.len() == 2 => rows,
            Ok(rows) => {
                self.trace.record(
                    query(statement),
                    format!("a Rows result of {} columns", rows.columns.len()),
                );
                return None;
            }
            Err(failed) => {
                self.trace.record(query(statement), failed.facts());
                return None;
            }
        };
        let mut count = 0usize;
        for row in &rows.rows {
            let (Some(keyspace), Some(table)) = (
                row.first().and_then(valid_name),
                row.get(1).and_then(valid_name),
            ) else {
                continue;
            };
            count = count.saturating_add(1);
            if let Some(item) = items.iter_mut().find(|d| d.name == keyspace)
                && item.collections.len() < MAX_TABLES
            {
                item.collections.push(table.to_string());
            }
        }
        let cut = if rows.more_pages { " (more pages)" } else { "" };
        self.trace
            .record(query(statement), format!("Rows: {count} tables{cut}"));
        Some(count)
    }

    /// The release: `system.local`'s, then the product's own for ScyllaDB and DSE.
    async fn read_version(&mut self, conn: &mut Conn) {
        let release = self.one_value(conn, RELEASE, "release_version").await;
        let own = match self.server.product {
            Product::Cassandra => {
                self.server.version = release;
                return;
            }
            Product::Scylla => self.one_value(conn, SCYLLA_VERSION, "version").await,
            Product::Dse => self.one_value(conn, DSE_VERSION, "dse_version").await,
        };
        self.server.release_version = release;
        self.server.version = own;
    }

    /// One text value of one row, if it looks like a version.
    async fn one_value(
        &mut self,
        conn: &mut Conn,
        statement: &str,
        column: &str,
    ) -> Option<String> {
        let page = 1;
        match self.select(conn, statement, page).await {
            Ok(rows) => {
                let value = (rows.columns == [column] && rows.rows.len() == 1)
                    .then(|| rows.rows[0].first().cloned().flatten())
                    .flatten()
                    .filter(|v| super::handshake::is_version(v));
                let facts = match &value {
                    Some(v) => format!("Rows: {column} {v}"),
                    None => format!(
                        "a Rows result of {} rows without a {column}",
                        rows.rows.len()
                    ),
                };
                self.trace.record(query(statement), facts);
                value
            }
            Err(failed) => {
                self.trace.record(query(statement), failed.facts());
                None
            }
        }
    }

    /// One QUERY: its Rows, or why there were none.
    async fn select(
        &mut self,
        conn: &mut Conn,
        statement: &str,
        page: usize,
    ) -> Result<wire::Rows, Failed> {
        let page_size = i32::try_from(page).unwrap_or(1);
        let reply = conn
            .call(wire::QUERY, &wire::query(statement, page_size))
            .await;
        let (header, body) = reply.map_err(|stop| Failed::Other(stop.to_string()))?;
        let Some(reader) = wire::body(header.flags, &body) else {
            return Err(Failed::Other("a malformed frame body".into()));
        };
        match header.opcode {
            wire::RESULT => wire::parse_rows(reader, page).ok_or_else(|| {
                Failed::Other("a RESULT that is not a Rows result of text columns".into())
            }),
            wire::ERROR => {
                let code = wire::parse_error(reader).map_or(-1, |(code, _)| code);
                Err(Failed::Error(code, describe_error(reader)))
            }
            op => Err(Failed::Other(format!("an unexpected opcode 0x{op:02x}"))),
        }
    }
}

/// A QUERY as the evidence names it.
fn query(statement: &str) -> String {
    format!("QUERY {statement}")
}
