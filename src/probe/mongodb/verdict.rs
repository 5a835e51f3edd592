//! The verdict after the handshake: `buildInfo` for the version, then `listDatabases`, and
//! for an empty list `listCollections` on `admin` to confirm it (issue 5: `open` only on
//! proof).
//!
//! - A well-formed listing (see [`super::listing`]) with at least one entry: open.
//! - An empty listing: open only when `listCollections` on `admin` answers `ok: 1` with a
//!   `cursor.firstBatch` array; some servers with access control answer an unauthenticated
//!   caller with an empty list (services.md) while others refuse with code 13 (MG-05). A
//!   refusal there is auth-required; any other error, a malformed reply, no answer, or a
//!   server too old for `listCollections` leaves the verdict undetermined.
//! - Code 13/18 (or an `Unauthorized` wrapper, see `CommandError::is_auth`): auth-required.
//! - Any other error, `ok: 1` without a `databases` array, a listing MongoDB never sends, or
//!   a connection that fails after the handshake: undetermined. The handshake proved
//!   MongoDB, so the server is a finding with its evidence, not an error of the scan;
//!   calling it auth-required would hide a server that may well be open, and calling it
//!   open would claim data access nobody saw.

use bson::doc;

use super::answer::{Answer, UNSUPPORTED_OP_QUERY, answer};
use super::bson_read::{array, count, document, keys_text, string};
use super::collections::collections;
use super::conn::Conn;
use super::handshake::Hello;
use super::listing;
use super::names::DbName;
use super::wire::{Reply, WireError};
use super::{LIST_COLLECTIONS_WIRE_VERSION, NAME_ONLY_WIRE_VERSION, Probe, ProbeOutcome};
use crate::sanitize::clip;

/// How every undetermined summary starts.
const NOT_JUDGED: &str = "access could not be judged";

impl Probe<'_> {
    /// After the handshake: version, then the verdict from `listDatabases`.
    pub(super) async fn judge(&mut self, conn: &mut Conn, hello: &Hello) -> ProbeOutcome {
        let step = self.step();
        self.op_msg = conn.op_msg;
        let (request, result) = conn
            .command(DbName::ADMIN, doc! {"buildInfo": 1}, step)
            .await;
        let version = match result {
            Ok(reply) => match answer(&reply) {
                Answer::Ok(doc) => {
                    let version = string(doc, "version").map(|v| clip(&v, 40));
                    let facts = match &version {
                        Some(v) => format!("ok 1, version {v:?}"),
                        None => "ok 1, no version".into(),
                    };
                    self.record(request, facts);
                    version
                }
                Answer::Error(error) => {
                    self.record(request, error.describe());
                    None
                }
            },
            Err(error) => return self.lost(hello, None, request, "buildInfo", error),
        };

        let (request, result) = conn
            .command(DbName::ADMIN, doc! {"listDatabases": 1}, step)
            .await;
        let reply = match result {
            Ok(reply) => reply,
            Err(error) => return self.lost(hello, version, request, "listDatabases", error),
        };
        if let Answer::Error(error) = answer(&reply)
            && error.code == Some(UNSUPPORTED_OP_QUERY)
            && !conn.op_msg
        {
            // A server that claims a pre-3.6 wire version yet refuses OP_QUERY: ask once
            // more the modern way rather than judge on a protocol error.
            self.record(request, error.describe());
            conn.op_msg = true;
            self.op_msg = true;
            let (request, result) = conn
                .command(DbName::ADMIN, doc! {"listDatabases": 1}, step)
                .await;
            return match result {
                Ok(reply) => self.verdict(conn, hello, version, request, &reply).await,
                Err(error) => self.lost(hello, version, request, "listDatabases", error),
            };
        }
        self.verdict(conn, hello, version, request, &reply).await
    }

    /// Decides from the `listDatabases` reply (see the module docs).
    async fn verdict(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        version: Option<String>,
        request: String,
        reply: &Reply,
    ) -> ProbeOutcome {
        let doc = match answer(reply) {
            Answer::Error(error) if error.is_auth() => {
                self.record(request, error.describe());
                let summary = format!(
                    "credentials required: listDatabases refused without them ({})",
                    error.short()
                );
                return self.auth_required(hello, version, summary);
            }
            Answer::Error(error) => {
                self.record(request, error.describe());
                let summary = format!(
                    "{NOT_JUDGED}: listDatabases failed ({}), which is not a refusal for lack of credentials",
                    error.short()
                );
                return self.undetermined(hello, version, summary);
            }
            Answer::Ok(doc) => doc,
        };
        let Some(list) = array(doc, "databases") else {
            self.record(
                request,
                format!("ok 1 without a databases array: {{{}}}", keys_text(doc)),
            );
            let summary =
                format!("{NOT_JUDGED}: listDatabases answered ok 1 without a databases array");
            return self.undetermined(hello, version, summary);
        };
        let listing = match listing::read(list, self.cx.limits.max_items) {
            Ok(listing) => listing,
            Err(malformed) => {
                self.record(
                    request,
                    format!("ok 1, but {malformed}: not a listing MongoDB sends"),
                );
                let summary = format!(
                    "{NOT_JUDGED}: listDatabases answered ok 1 with a listing MongoDB never sends ({malformed})"
                );
                return self.undetermined(hello, version, summary);
            }
        };
        let mut facts = format!("ok 1, {} databases", listing.total);
        if let Some(total) = count(doc, "totalSize") {
            facts.push_str(&format!(", totalSize {total}"));
        }
        self.record(request, facts);
        if listing.total == 0
            && let Some(outcome) = self.confirm_empty(conn, hello, &version).await
        {
            return outcome;
        }
        self.open(conn, hello, version, listing).await
    }

    /// Asks `listCollections` on `admin` whether an empty listing is really open. `None`
    /// when it confirms; otherwise the finding it leads to.
    async fn confirm_empty(
        &mut self,
        conn: &mut Conn,
        hello: &Hello,
        version: &Option<String>,
    ) -> Option<ProbeOutcome> {
        let unconfirmed = |what: &str| {
            format!(
                "{NOT_JUDGED}: listDatabases answered an empty list and listCollections on admin, which would confirm it, {what}"
            )
        };
        if hello.max_wire < LIST_COLLECTIONS_WIRE_VERSION {
            self.record(
                "not sent: listCollections",
                format!(
                    "listCollections exists from wire version {LIST_COLLECTIONS_WIRE_VERSION} (3.0); this server has {}",
                    hello.max_wire
                ),
            );
            let summary = unconfirmed("does not exist before MongoDB 3.0");
            return Some(self.undetermined(hello, version.clone(), summary));
        }
        let mut command = doc! {"listCollections": 1};
        if hello.max_wire >= NAME_ONLY_WIRE_VERSION {
            command.insert("nameOnly", true);
        }
        let (request, result) = conn.command(DbName::ADMIN, command, self.step()).await;
        let reply = match result {
            Ok(reply) => reply,
            Err(error) => {
                self.record(request, error.to_string());
                let summary = unconfirmed(&format!("got no answer ({error})"));
                return Some(self.undetermined(hello, version.clone(), summary));
            }
        };
        let doc = match answer(&reply) {
            Answer::Error(error) if error.is_auth() => {
                self.record(request, error.describe());
                let summary = format!(
                    "credentials required: listDatabases answered an empty list and listCollections on admin was refused ({})",
                    error.short()
                );
                return Some(self.auth_required(hello, version.clone(), summary));
            }
            Answer::Error(error) => {
                self.record(request, error.describe());
                let summary = unconfirmed(&format!("failed ({})", error.short()));
                return Some(self.undetermined(hello, version.clone(), summary));
            }
            Answer::Ok(doc) => doc,
        };
        match collections(doc) {
            Some((names, _)) => {
                self.record(request, format!("ok 1, {} collections", names.len()));
                None
            }
            None => {
                let shape = document(doc, "cursor").map_or(
                    "no cursor document",
                    |_| "a cursor without a firstBatch array",
                );
                self.record(
                    request,
                    format!("ok 1 with {shape}: {{{}}}", keys_text(doc)),
                );
                let summary = unconfirmed(&format!("answered ok 1 with {shape}"));
                Some(self.undetermined(hello, version.clone(), summary))
            }
        }
    }

    /// The server is MongoDB (the handshake said so) but the connection failed after it.
    fn lost(
        &mut self,
        hello: &Hello,
        version: Option<String>,
        request: String,
        command: &str,
        error: WireError,
    ) -> ProbeOutcome {
        self.record(request, error.to_string());
        let summary = format!("{NOT_JUDGED}: {command} failed after the handshake ({error})");
        self.undetermined(hello, version, summary)
    }
}
