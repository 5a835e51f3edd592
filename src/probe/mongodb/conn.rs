//! A connection after (or during) the handshake, and how one command goes over it: OP_MSG
//! with `$db`, or legacy OP_QUERY on `<db>.$cmd` for servers before 3.6. The database is a
//! [`DbName`], so only validated names are ever sent, whichever opcode carries them.

use std::time::Duration;

use bson::{Bson, Document, doc};
use tokio::time::Instant;

use super::names::{CollectionName, DbName};
use super::wire::{self, Reply, WireError};
use crate::net::BoxStream;
use crate::net::budget::Budget;
use crate::sanitize::clip;

/// A connection and how commands go over it.
pub(super) struct Conn {
    stream: BoxStream,
    next_id: i32,
    /// OP_MSG when true, OP_QUERY on `db.$cmd` otherwise.
    pub(super) op_msg: bool,
    /// Replica-set members are asked with `primaryPreferred` / `SecondaryOk`, as drivers do
    /// on a direct connection, so that a secondary answers instead of refusing.
    pub(super) secondary_ok: bool,
    pub(super) max_message: usize,
    /// The scan-wide budget large replies reserve from.
    budget: Budget,
}

impl Conn {
    pub(super) fn new(stream: BoxStream, op_msg: bool, max_message: usize, budget: Budget) -> Conn {
        Conn {
            stream,
            next_id: 1,
            op_msg,
            secondary_ok: false,
            max_message,
            budget,
        }
    }

    /// Sends `command` to database `db` and reads its reply, all within `timeout`.
    /// Returns the request as evidence text along with the result.
    pub(super) async fn command(
        &mut self,
        db: DbName<'_>,
        mut command: Document,
        timeout: Duration,
    ) -> (String, Result<Reply, WireError>) {
        let db = db.as_str();
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let name = command.keys().next().cloned().unwrap_or_default();
        let (text, message) = if self.op_msg {
            command.insert("$db", db);
            if self.secondary_ok {
                command.insert("$readPreference", doc! {"mode": "primaryPreferred"});
            }
            let text = format!("OP_MSG {name} {}", render(&command));
            (text, wire::encode_op_msg(id, &command))
        } else {
            let namespace = format!("{db}.$cmd");
            let flags = if self.secondary_ok {
                wire::QUERY_SECONDARY_OK
            } else {
                0
            };
            let mut text = format!("OP_QUERY {namespace} {}", render(&command));
            if self.secondary_ok {
                text.push_str(" (secondaryOk)");
            }
            (text, wire::encode_op_query(id, flags, &namespace, &command))
        };
        let op = if self.op_msg {
            wire::OP_MSG
        } else {
            wire::OP_QUERY
        };
        let deadline = Instant::now() + timeout;
        let result = match message {
            Err(e) => Err(e),
            Ok(message) => match wire::send(&mut self.stream, &message, deadline).await {
                Err(e) => Err(e),
                Ok(()) => {
                    wire::read_reply(
                        &mut self.stream,
                        id,
                        op,
                        self.max_message,
                        deadline,
                        Some(&self.budget),
                    )
                    .await
                }
            },
        };
        (text, result)
    }
}

/// `{listIndexes: <collection>}`: the only command that carries a name the server gave
/// other than `$db`, hence built from a validated [`CollectionName`] only.
pub(super) fn list_indexes(collection: CollectionName<'_>) -> Document {
    doc! {"listIndexes": collection.as_str()}
}

/// Renders one of our own command documents the way the mongo shell shows it:
/// `{hello: 1, $db: "admin"}`.
pub(super) fn render(doc: &Document) -> String {
    let fields: Vec<String> = doc
        .iter()
        .map(|(key, value)| format!("{key}: {}", render_value(value)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn render_value(value: &Bson) -> String {
    match value {
        Bson::Int32(v) => v.to_string(),
        Bson::Int64(v) => v.to_string(),
        Bson::Boolean(v) => v.to_string(),
        Bson::String(v) => format!("{:?}", clip(v, 200)),
        Bson::Document(d) => render(d),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_commands_like_the_shell() {
        assert_eq!(
            render(&doc! {"hello": 1, "$db": "admin"}),
            "{hello: 1, $db: \"admin\"}"
        );
        assert_eq!(
            render(
                &doc! {"listCollections": 1, "nameOnly": true, "$readPreference": {"mode": "primaryPreferred"}}
            ),
            "{listCollections: 1, nameOnly: true, $readPreference: {mode: \"primaryPreferred\"}}"
        );
    }
}
