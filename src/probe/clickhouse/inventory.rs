//! The verdict after a Hello: `SHOW DATABASES` decides open or undetermined, and the
//! table names of the user databases fill the inventory (names only).

use std::collections::HashMap;

use super::conn::Conn;
use super::listing::{self, DATABASES, Failure, TABLES, Table};
use super::wire::ServerHello;
use super::{Judge, describe_exception};
use crate::finding::{DataSet, Exposure, Inventory};
use crate::probe::ProbeOutcome;

/// Databases every server has, which hold no user data.
const SYSTEM_DATABASES: &[&str] = &["system", "information_schema", "INFORMATION_SCHEMA"];
/// Most (database, table) pairs read from `system.tables`.
const MAX_TABLES: usize = 10_000;
/// Most table names kept per database.
const MAX_TABLES_PER_DATABASE: usize = 100;
/// What the summaries say the login was.
const LOGGED_IN: &str = "the default user logged in with an empty password";

fn why(failure: Failure) -> String {
    match failure {
        Failure::Refused(e) => describe_exception(&e),
        Failure::Broken(why) => why,
    }
}

impl Judge<'_> {
    /// The server let `default` in: lists the databases, then their tables.
    pub(super) async fn list(
        &mut self,
        conn: &mut Conn,
        server: &ServerHello,
        max_items: usize,
    ) -> ProbeOutcome {
        let request = format!("Query {DATABASES}");
        let mut details = vec![
            ("server_name".to_string(), server.name.clone()),
            ("revision".to_string(), server.revision.to_string()),
        ];
        if let Some(tz) = &server.timezone {
            details.push(("timezone".into(), tz.clone()));
        }
        if let Some(name) = &server.display_name {
            details.push(("display_name".into(), name.clone()));
        }
        let databases = match listing::query(conn, DATABASES, &["name"], max_items).await {
            Ok(table) if table.rows > 0 => table,
            Ok(_) => {
                self.trace
                    .record(&request, "a well-formed answer with no database");
                let summary = format!(
                    "{LOGGED_IN}, but SHOW DATABASES listed no database (ClickHouse always has system)"
                );
                return self.found(Some(server), Exposure::Undetermined, summary, details, None);
            }
            Err(failure) => {
                let why = why(failure);
                self.trace.record(&request, &why);
                let summary = format!("{LOGGED_IN}, but SHOW DATABASES did not list: {why}");
                return self.found(Some(server), Exposure::Undetermined, summary, details, None);
            }
        };
        self.trace.record(
            &request,
            format!(
                "{} rows of column name String{}: {}",
                databases.rows,
                if databases.cut {
                    " (cut at the byte cap)"
                } else {
                    ", EndOfStream"
                },
                databases.first().join(", ")
            ),
        );
        let mut inventory = inventory(&databases);
        let tables = listing::query(conn, TABLES, &["database", "name"], MAX_TABLES).await;
        let request = format!("Query {TABLES}");
        match tables {
            Ok(tables) => {
                let (listed, holding) = add_tables(&mut inventory, &tables);
                self.trace.record(
                    &request,
                    format!(
                        "{} rows of columns database, name String{}: {listed} tables in {holding} databases",
                        tables.rows,
                        if tables.cut { " (cut at the byte cap)" } else { ", EndOfStream" }
                    ),
                );
            }
            // The databases are listed: the verdict stands without table names.
            Err(failure) => self.trace.record(&request, why(failure)),
        }
        inventory.recount();
        let with_tables = inventory
            .items
            .iter()
            .filter(|d| !d.system && !d.collections.is_empty())
            .count();
        let summary = format!(
            "{LOGGED_IN}; {} databases listed, {} of them user databases, {with_tables} with tables",
            inventory.total_items, inventory.user_items
        );
        self.found(
            Some(server),
            Exposure::Open,
            summary,
            details,
            Some(inventory),
        )
    }
}

/// The database names as an inventory: system databases marked, no sizes.
fn inventory(databases: &Table) -> Inventory {
    let items: Vec<DataSet> = databases
        .first()
        .iter()
        .map(|name| DataSet {
            system: SYSTEM_DATABASES.contains(&name.as_str()),
            name: name.clone(),
            ..DataSet::default()
        })
        .collect();
    let kept = items.len() as u64;
    Inventory {
        unit: "database".into(),
        items,
        total_items: databases.rows,
        truncated: databases.cut || databases.rows > kept,
        ..Inventory::default()
    }
}

/// Puts each user database's table names (at most [`MAX_TABLES_PER_DATABASE`]) in its
/// data set; returns how many tables were read and how many databases hold one.
fn add_tables(inventory: &mut Inventory, tables: &Table) -> (usize, usize) {
    let (Some(databases), Some(names)) = (tables.values.first(), tables.values.get(1)) else {
        return (0, 0);
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, item) in inventory.items.iter().enumerate() {
        if !item.system {
            index.insert(item.name.as_str(), i);
        }
    }
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut listed = 0usize;
    for (database, table) in databases.iter().zip(names) {
        listed = listed.saturating_add(1);
        if let Some(&i) = index.get(database.as_str()) {
            found.push((i, table.clone()));
        }
    }
    for (i, table) in found {
        if let Some(item) = inventory.items.get_mut(i)
            && item.collections.len() < MAX_TABLES_PER_DATABASE
        {
            item.collections.push(table);
        }
    }
    // A user database the listing shows no table in is known empty (no table, no row);
    // the severity policy treats one with no amount at all as possibly holding data.
    for item in inventory.items.iter_mut() {
        if !item.system && item.collections.is_empty() && !tables.cut {
            item.documents = Some(0);
        }
    }
    let holding = inventory
        .items
        .iter()
        .filter(|d| !d.collections.is_empty())
        .count();
    (listed, holding)
}
