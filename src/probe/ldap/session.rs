//! One LDAP session, step by step: the anonymous bind, the rootDSE, the entry counts per
//! naming context, each request recorded as `ldapsearch` would replay it and each answer by
//! its result code, entry counts and the rootDSE facts (never an entry's DN or values).

use tokio::time::Instant;

use super::conn::{Conn, ReadError, not_ldap, read_failure};
use super::message::{self, LdapResult, Scope, Search};
use super::verdict::{self, Count, Facts, RootDse, describe, is_refusal, judge};
use crate::finding::{Exposure, Inventory};
use crate::probe::trace::Trace;
use crate::probe::{ProbeContext, ProbeOutcome};
use crate::sanitize::clip;

/// The size limit asked for, and the most entries counted per naming context.
const SIZE_LIMIT: u32 = 10_000;
/// Most values kept per rootDSE attribute, and the longest value kept (bytes).
const MAX_VALUES: usize = 64;
const MAX_VALUE_LEN: usize = 512;
/// The rootDSE attributes asked for.
const ROOT_ATTRIBUTES: &[&str] = &[
    "namingContexts",
    "vendorName",
    "vendorVersion",
    "supportedLDAPVersion",
    "defaultNamingContext",
    "objectClass",
];
/// How the anonymous bind is recorded.
const BIND: &str = "bindRequest v3 simple, empty name and password (anonymous)";

/// How one request's replies ended.
enum End {
    /// Its final response (bindResponse, searchResDone).
    Done(LdapResult),
    /// An unsolicited notification (message id 0: the notice of disconnection) instead.
    Notice(LdapResult),
    /// Something that is not an LDAP message, or not the response expected; the note.
    Malformed(String),
    /// No (whole) reply.
    Read(ReadError),
    /// ajar stopped counting past [`SIZE_LIMIT`] entries (a server ignoring the limit).
    Capped,
}

/// The replies to one request: how they ended, the entries counted, and the first entry's
/// attributes when asked for.
struct Replies {
    end: End,
    entries: u64,
    first: Option<Vec<(String, Vec<String>)>>,
}

/// One connection's exchanges.
pub(super) struct Session<'a> {
    cx: &'a ProbeContext,
    conn: Conn,
    trace: &'a mut Trace,
    next_id: u32,
}

impl<'a> Session<'a> {
    /// A session on a fresh connection; message ids start at 1.
    pub(super) fn new(cx: &'a ProbeContext, conn: Conn, trace: &'a mut Trace) -> Session<'a> {
        Session {
            cx,
            conn,
            trace,
            next_id: 1,
        }
    }

    fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    /// Ends the session with an unbindRequest (which has no response) and closes.
    pub(super) async fn unbind(self, deadline: Instant) {
        let request = message::unbind_request(self.next_id);
        self.trace
            .record("unbindRequest", "sent (LDAP has no response to it)");
        self.conn.unbind(&request, deadline).await;
    }

    /// The seconds the server may spend on a search: the step timeout, at least 1.
    fn time_limit(&self) -> u32 {
        u32::try_from(self.cx.net.timeout.as_secs())
            .unwrap_or(u32::MAX)
            .max(1)
    }

    /// The whole exchange: the outcome, and whether the connection is still in step (the
    /// server spoke LDAP and answered every request in full), so an unbind is in order.
    pub(super) async fn run(&mut self, mut facts: Facts<'_>) -> (ProbeOutcome, bool) {
        let id = self.take_id();
        let bind = self
            .request(
                &message::bind_request(id),
                id,
                message::BIND_RESPONSE,
                false,
            )
            .await;
        let result = match bind.end {
            End::Done(result) => result,
            End::Notice(result) => {
                let why = describe(&result);
                self.trace
                    .record(BIND, format!("notice of disconnection: {why}"));
                let summary = format!(
                    "LDAP server answers an anonymous bind with a notice of disconnection: {why}"
                );
                return (found(&facts, Exposure::Undetermined, None, summary), false);
            }
            End::Read(error) => {
                self.trace.record(BIND, error.to_string());
                return (read_failure(self.cx, error, facts.tls), false);
            }
            // A bind is never answered with entries, so it never reaches the entry cap.
            other @ (End::Malformed(_) | End::Capped) => {
                let why = end_note(&other);
                self.trace.record(BIND, &why);
                return (not_ldap(self.cx, why, &[]), false);
            }
        };
        let shown = describe(&result);
        self.trace.record(BIND, format!("bindResponse {shown}"));
        if result.code != 0 {
            facts.bind_accepted = Some(false);
            let (exposure, summary) = if is_refusal(&result) {
                (
                    Exposure::AuthRequired,
                    format!("LDAP server refuses an anonymous bind: {shown}"),
                )
            } else {
                (
                    Exposure::Undetermined,
                    format!("LDAP server answers an anonymous bind with {shown}"),
                )
            };
            return (found(&facts, exposure, None, summary), true);
        }
        facts.bind_accepted = Some(true);
        let root = match self.root_dse().await {
            Ok(root) => root,
            Err((exposure, summary, in_step)) => {
                return (found(&facts, exposure, None, summary), in_step);
            }
        };
        if root.contexts.is_empty() {
            facts.root = Some(root);
            let summary = "LDAP server accepts an anonymous bind, but its rootDSE names no naming context to search".to_string();
            return (found(&facts, Exposure::Undetermined, None, summary), true);
        }
        let (counts, in_step) = self.count(&root.contexts).await;
        let listed = root.contexts.len();
        facts.root = Some(root);
        (judge(&facts, &counts, listed), in_step)
    }

    /// Reads the rootDSE; on failure the verdict, its summary, and whether still in step.
    async fn root_dse(&mut self) -> Result<RootDse, (Exposure, String, bool)> {
        let id = self.take_id();
        let search = Search {
            base: "",
            scope: Scope::Base,
            size_limit: 0,
            time_limit: self.time_limit(),
            types_only: false,
            attributes: ROOT_ATTRIBUTES,
        };
        let request = format!(
            "ldapsearch -x -b \"\" -s base -l {} \"(objectClass=*)\" {}",
            search.time_limit,
            ROOT_ATTRIBUTES.join(" ")
        );
        let replies = self
            .request(&search.encode(id), id, message::SEARCH_DONE, true)
            .await;
        let accepted = "LDAP server accepts an anonymous bind";
        match replies.end {
            End::Done(result) if result.code == 0 => {
                let root = RootDse::from_attributes(&replies.first.unwrap_or_default());
                self.trace.record(
                    request,
                    format!(
                        "searchResDone success (0) after {}: {}",
                        verdict::entries(replies.entries),
                        root.facts()
                    ),
                );
                Ok(root)
            }
            End::Done(result) => {
                let shown = describe(&result);
                self.trace.record(request, format!("searchResDone {shown}"));
                if is_refusal(&result) {
                    Err((
                        Exposure::AuthRequired,
                        format!("{accepted}, but refuses to read the rootDSE: {shown}"),
                        true,
                    ))
                } else {
                    Err((
                        Exposure::Undetermined,
                        format!("{accepted}, but answers the rootDSE search with {shown}"),
                        true,
                    ))
                }
            }
            other => {
                let why = end_note(&other);
                self.trace.record(request, &why);
                Err((
                    Exposure::Undetermined,
                    format!("{accepted}, then the rootDSE search ended with {why}"),
                    false,
                ))
            }
        }
    }

    /// Counts the entries under each naming context (at most [`super::MAX_CONTEXTS`]),
    /// stopping at the first search that leaves the connection out of step.
    async fn count(&mut self, contexts: &[String]) -> (Vec<(String, Count)>, bool) {
        let mut counts = Vec::new();
        for context in contexts.iter().take(super::MAX_CONTEXTS) {
            let id = self.take_id();
            let search = Search {
                base: context,
                scope: Scope::Subtree,
                size_limit: SIZE_LIMIT,
                time_limit: self.time_limit(),
                types_only: true,
                attributes: &["1.1"],
            };
            let request = format!(
                "ldapsearch -x -b {:?} -s sub -A -z {SIZE_LIMIT} -l {} \"(objectClass=*)\" 1.1",
                clip(context, verdict::MAX_TEXT),
                search.time_limit
            );
            let replies = self
                .request(&search.encode(id), id, message::SEARCH_DONE, false)
                .await;
            let n = replies.entries;
            let (count, response, in_step) = match replies.end {
                End::Done(result) => {
                    let text = format!(
                        "searchResDone {} after {}",
                        describe(&result),
                        verdict::entries(n)
                    );
                    let count = match result.code {
                        0 => Count::Exact(n),
                        3 | 4 => Count::AtLeast(n),
                        _ => Count::Ended { entries: n, result },
                    };
                    (count, text, true)
                }
                End::Capped => (
                    Count::AtLeast(n),
                    format!(
                        "stopped counting after {} (the server ignored the size limit)",
                        verdict::entries(n)
                    ),
                    false,
                ),
                other => {
                    let why = end_note(&other);
                    let text = format!("{why} after {}", verdict::entries(n));
                    (Count::Broken { entries: n, why }, text, false)
                }
            };
            self.trace.record(request, response);
            counts.push((context.clone(), count));
            if !in_step {
                return (counts, false);
            }
        }
        (counts, true)
    }

    /// Sends one request and reads its replies up to the response tagged `done`, counting
    /// search entries (keeping the first one's attributes when `keep_first`), all before one
    /// step timeout.
    async fn request(&mut self, bytes: &[u8], id: u32, done: u8, keep_first: bool) -> Replies {
        let deadline = Instant::now() + self.cx.net.timeout;
        let mut replies = Replies {
            end: End::Capped,
            entries: 0,
            first: None,
        };
        if let Err(error) = self.conn.send(bytes, deadline).await {
            replies.end = End::Read(error);
            return replies;
        }
        loop {
            let frame = match self.conn.next(deadline).await {
                Ok(frame) => frame,
                Err(error) => {
                    replies.end = End::Read(error);
                    return replies;
                }
            };
            let Some(reply) = message::decode_message(&frame) else {
                replies.end = End::Malformed(format!(
                    "a BER SEQUENCE of {} bytes that is not an LDAPMessage",
                    frame.len()
                ));
                return replies;
            };
            if reply.id == 0 && reply.op == message::EXTENDED_RESPONSE {
                replies.end = match message::ldap_result(reply.body) {
                    Some(result) => End::Notice(result),
                    None => End::Malformed("a malformed unsolicited notification".into()),
                };
                return replies;
            }
            if reply.id != i64::from(id) {
                replies.end = End::Malformed(format!(
                    "an LDAP message with id {} in answer to message {id}",
                    reply.id
                ));
                return replies;
            }
            match reply.op {
                op if op == done => {
                    replies.end = match message::ldap_result(reply.body) {
                        Some(result) => End::Done(result),
                        None => End::Malformed(format!("a malformed response (tag {op:#04x})")),
                    };
                    return replies;
                }
                message::SEARCH_ENTRY if done == message::SEARCH_DONE => {
                    replies.entries = replies.entries.saturating_add(1);
                    if keep_first && replies.first.is_none() {
                        match message::entry_attributes(reply.body, MAX_VALUES, MAX_VALUE_LEN) {
                            Some(attributes) => replies.first = Some(attributes),
                            None => {
                                replies.end = End::Malformed("a malformed searchResEntry".into());
                                return replies;
                            }
                        }
                    }
                    if replies.entries > u64::from(SIZE_LIMIT) {
                        replies.end = End::Capped;
                        return replies;
                    }
                }
                message::SEARCH_REFERENCE if done == message::SEARCH_DONE => {}
                op => {
                    replies.end = End::Malformed(format!(
                        "an LDAP message with operation tag {op:#04x} in answer"
                    ));
                    return replies;
                }
            }
        }
    }
}

/// What ended a request other than its response, for evidence and summaries.
fn end_note(end: &End) -> String {
    match end {
        End::Done(result) => describe(result),
        End::Notice(result) => format!("a notice of disconnection: {}", describe(result)),
        End::Malformed(why) => why.clone(),
        End::Read(error) => error.to_string(),
        End::Capped => "the entry cap".into(),
    }
}

fn found(
    facts: &Facts<'_>,
    exposure: Exposure,
    inventory: Option<Inventory>,
    summary: String,
) -> ProbeOutcome {
    ProbeOutcome::Found(facts.finding(exposure, inventory, summary))
}
