//! The MySQL / MariaDB probe: a server-first protocol. The server sends an Initial
//! Handshake v10 on accept (or an ERR packet when it refuses the host); the probe takes the
//! product and version from it.
//!
//! A handshake proves nothing about access: every server sends it before any login. So a
//! plain scan reports `auth-required` (a login is needed to know more) and sends nothing.
//! Under `--default-credentials` the probe logs in as `root` with an empty password (the
//! auth response of every client plugin for an empty password is empty); an OK packet is
//! `default-credentials`, and `SHOW DATABASES` then lists the database names, nothing else.
//! ERR 1045 (access denied) is `auth-required`. No other statement is ever sent.

pub mod wire;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::registry::{Credential, NativeProbe, ProbeFuture, Scheme, ServiceInfo, UriStyle};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity, policy};
use crate::net::{BoxStream, ConnectError};
use crate::targets::Endpoint;
use wire::{Greeting, Handshake, ServerError};

/// Longest reply packet read, checked before allocating.
const MAX_PACKET: usize = 64 << 10;
/// Most bytes of a `SHOW DATABASES` result read in all.
const MAX_RESULT: usize = 1 << 20;
/// Severity of an open (default-credential) server with user databases.
const SEVERITY: Severity = Severity::High;
/// Databases every server has.
const SYSTEM_DATABASES: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];
/// ER_ACCESS_DENIED_ERROR and ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
const ACCESS_DENIED: &[u16] = &[1045, 1698];
/// ER_HOST_IS_BLOCKED and ER_HOST_NOT_PRIVILEGED: the server refuses this client's host.
const HOST_REFUSED: &[u16] = &[1129, 1130];
/// The login tried under `--default-credentials`.
const ROOT: Credential = Credential {
    user: "root",
    password: "",
};

/// The MySQL probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "mysql",
    labels: ["mysql", "mysql+tls"],
    services: &[ServiceInfo {
        id: "mysql",
        name: "MySQL / MariaDB (Initial Handshake v10)",
        ports: &[3306],
        check: "handshake v10 identifies and gives the version (auth-required); under --default-credentials root with an empty password: OK packet then SHOW DATABASES (names only) is default-credentials, ERR 1045 auth-required",
        severity: SEVERITY,
        remediation: "Give every account a password (ALTER USER 'root'@'localhost' IDENTIFIED BY ...; or unix_socket authentication for root), remove anonymous and remote root accounts (mariadb-secure-installation), and bind bind-address to private interfaces only.",
        references: &[
            "https://dev.mysql.com/doc/refman/8.0/en/default-privileges.html",
            "https://mariadb.com/kb/en/mariadb-secure-installation/",
            "https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html",
        ],
    }],
    schemes: &[
        Scheme {
            name: "mysql",
            probe: "mysql",
            default_port: 3306,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
        Scheme {
            name: "mariadb",
            probe: "mysql",
            default_port: 3306,
            tls: Some(false),
            style: UriStyle::Url,
            tls_options: &[],
        },
    ],
    greeting: Some(wire::is_greeting),
    answers: None,
    http_notice: None,
    default_credentials: &[ROOT],
    run,
};

fn run<'a>(
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(probe(cx, endpoint, tls, trace))
}

/// Why an exchange stopped.
enum Stop {
    Silent,
    Closed(String),
    Error(String),
}

/// One connection with the step timeout on every read and write.
struct Conn {
    stream: BoxStream,
    step: Duration,
}

impl Conn {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Stop::Closed(format!("write failed: {e}"))),
            Err(_) => Err(Stop::Silent),
        }
    }

    /// Reads one packet: its sequence id and payload, at most [`MAX_PACKET`] bytes.
    async fn packet(&mut self) -> Result<(u8, Vec<u8>), Stop> {
        let mut head = [0u8; 4];
        self.read_exact(&mut head).await?;
        let (len, seq) = wire::header(&head).unwrap_or((0, 0));
        if len > MAX_PACKET {
            return Err(Stop::Error(format!(
                "a {len}-byte packet, over the {MAX_PACKET}-byte cap"
            )));
        }
        let mut payload = vec![0u8; len];
        self.read_exact(&mut payload).await?;
        Ok((seq, payload))
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.read_exact(buf)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(Stop::Closed("the server closed the connection".into()))
            }
            Ok(Err(e)) => Err(Stop::Closed(format!("read failed: {e}"))),
            Err(_) => Err(Stop::Silent),
        }
    }
}

/// Probes one endpoint for MySQL or MariaDB. MySQL negotiates TLS inside its own protocol,
/// never from the first byte, so a TLS attempt is not this protocol.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    if tls {
        return not_this("MySQL starts in plain text (TLS is negotiated after the handshake)");
    }
    let stream = match cx.net.connect(&endpoint.host, endpoint.port, false).await {
        Ok(stream) => stream,
        Err(ConnectError::Refused) => return ProbeOutcome::Closed,
        Err(ConnectError::Timeout) => return ProbeOutcome::Unreachable,
        Err(ConnectError::Resolve(e)) => {
            return ProbeOutcome::Failed(format!("cannot resolve: {e}"));
        }
        Err(e) => {
            trace.record("connect", format!("{e:?}"));
            return ProbeOutcome::Unreachable;
        }
    };
    let mut conn = Conn {
        stream,
        step: cx.net.timeout,
    };
    let greeting = match conn.packet().await {
        Ok((0, payload)) => wire::parse_greeting(&payload),
        Ok(_) => None,
        Err(Stop::Silent) => {
            trace.record("(connect and listen)", "no greeting before the timeout");
            return ProbeOutcome::Silent;
        }
        Err(Stop::Closed(why) | Stop::Error(why)) => {
            trace.record("(connect and listen)", &why);
            return not_this(why);
        }
    };
    let handshake = match greeting {
        None => {
            trace.record(
                "(connect and listen)",
                "not a MySQL handshake v10 or ERR packet",
            );
            return not_this("not a MySQL handshake");
        }
        Some(Greeting::Refused(err)) => return refused(endpoint, trace, &err),
        Some(Greeting::Handshake(handshake)) => handshake,
    };
    trace.record("(connect and listen)", describe(&handshake));
    let mut judge = Judge {
        endpoint,
        handshake: &handshake,
        trace,
    };
    if !cx.default_credentials {
        return judge.found(
            Exposure::AuthRequired,
            "the server sent its handshake; a login is needed to list databases (--default-credentials tries root with an empty password)".into(),
            None,
        );
    }
    judge.login(&mut conn, cx.limits.max_items).await
}

fn not_this(note: impl Into<String>) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: note.into(),
        hint: None,
        transport_confirmed: true,
        speaks_protocol: false,
    }
}

fn describe(h: &Handshake) -> String {
    format!(
        "handshake v10: server version {:?}, auth plugin {}, capabilities 0x{:08x}",
        h.server_version,
        h.auth_plugin.as_deref().unwrap_or("(none named)"),
        h.capabilities
    )
}

fn describe_error(err: &ServerError) -> String {
    match &err.state {
        Some(state) => format!("ERR {} ({state}): {}", err.code, err.message),
        None => format!("ERR {}: {}", err.code, err.message),
    }
}

/// A server that sent ERR in place of its handshake: MySQL, refusing this client.
fn refused(endpoint: &Endpoint, trace: &mut Trace, err: &ServerError) -> ProbeOutcome {
    trace.record(
        "(connect and listen)",
        format!("ERR packet instead of a handshake: {}", describe_error(err)),
    );
    let (exposure, summary) = if HOST_REFUSED.contains(&err.code) {
        (
            Exposure::AuthRequired,
            format!(
                "the server refuses connections from this host (ERR {})",
                err.code
            ),
        )
    } else {
        (
            Exposure::Undetermined,
            format!("the server sent ERR {} instead of its handshake", err.code),
        )
    };
    ProbeOutcome::Found(Box::new(Finding {
        endpoint: endpoint.authority(),
        address: None,
        url: None,
        tls: false,
        service: "mysql".into(),
        check: String::new(),
        product: None,
        version: None,
        exposure,
        severity: policy::severity(exposure, SEVERITY, None, false),
        summary,
        details: vec![("error_code".into(), err.code.to_string())],
        evidence: Vec::new(),
        inventory: None,
        remediation: None,
        references: Vec::new(),
    }))
}

/// The verdict on one server that sent its handshake.
struct Judge<'a> {
    endpoint: &'a Endpoint,
    handshake: &'a Handshake,
    trace: &'a mut Trace,
}

impl Judge<'_> {
    fn found(
        &mut self,
        exposure: Exposure,
        summary: String,
        inventory: Option<Inventory>,
    ) -> ProbeOutcome {
        let h = self.handshake;
        let mut details = vec![("server_version".to_string(), h.server_version.clone())];
        if let Some(plugin) = &h.auth_plugin {
            details.push(("auth_plugin".into(), plugin.clone()));
        }
        if exposure == Exposure::DefaultCredentials {
            details.push(("user".into(), ROOT.user.into()));
        }
        let severity = policy::severity(exposure, SEVERITY, inventory.as_ref(), false);
        ProbeOutcome::Found(Box::new(Finding {
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: false,
            service: "mysql".into(),
            check: String::new(),
            product: Some(if h.is_mariadb() { "MariaDB" } else { "MySQL" }.into()),
            version: h.release(),
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }

    fn undetermined(&mut self, why: String) -> ProbeOutcome {
        self.found(Exposure::Undetermined, why, None)
    }

    /// Logs in as root with an empty password and, when let in, lists the databases.
    async fn login(&mut self, conn: &mut Conn, max_items: usize) -> ProbeOutcome {
        let plugin = self
            .handshake
            .auth_plugin
            .as_deref()
            .filter(|_| self.handshake.capabilities & wire::CLIENT_PLUGIN_AUTH != 0);
        let request = format!(
            "HandshakeResponse41 user root, empty password, plugin {}",
            plugin.unwrap_or("(none)")
        );
        if self.handshake.capabilities & wire::CLIENT_PROTOCOL_41 == 0 {
            self.trace
                .record(&request, "not sent: the server lacks CLIENT_PROTOCOL_41");
            return self.undetermined("a pre-4.1 server: ajar does not log in to it".into());
        }
        let mut reply = match self
            .exchange(conn, 1, &wire::login(ROOT.user, plugin))
            .await
        {
            Ok(reply) => reply,
            Err(why) => return self.stopped(&request, why),
        };
        // An auth switch (to mysql_native_password or caching_sha2_password) and
        // caching_sha2's "fast auth" notice, at most twice each.
        for _ in 0..3 {
            let (seq, payload) = &reply;
            match payload.first() {
                Some(&wire::SWITCH_OR_EOF) => {
                    let Some(to) = wire::switch_plugin(payload) else {
                        self.trace
                            .record(&request, "a malformed auth switch request");
                        return self.undetermined("a malformed auth switch request".into());
                    };
                    let answer: &[u8] = match to.as_str() {
                        "mysql_native_password" => &[],
                        "caching_sha2_password" => &[0],
                        _ => {
                            self.trace.record(&request, format!("auth switch to {to}"));
                            return self.found(
                                Exposure::AuthRequired,
                                format!("root authenticates with {to}, not a password ajar can send empty"),
                                None,
                            );
                        }
                    };
                    self.trace.record(&request, format!("auth switch to {to}"));
                    let next = seq.wrapping_add(1);
                    reply = match self.exchange(conn, next, answer).await {
                        Ok(reply) => reply,
                        Err(why) => return self.stopped("auth switch response (empty)", why),
                    };
                }
                Some(&wire::MORE_DATA) if payload.get(1) == Some(&3) => {
                    reply = match conn.packet().await {
                        Ok(reply) => reply,
                        Err(why) => return self.stopped(&request, why),
                    };
                }
                _ => break,
            }
        }
        let payload = &reply.1;
        match payload.first() {
            Some(&wire::OK) => {
                self.trace.record(&request, "OK packet: logged in");
                self.list(conn, max_items).await
            }
            Some(&wire::ERR) => {
                let err = wire::parse_error(payload, true);
                let facts = err
                    .as_ref()
                    .map_or("a malformed ERR packet".into(), describe_error);
                self.trace.record(&request, &facts);
                match err {
                    Some(err) if ACCESS_DENIED.contains(&err.code) => self.found(
                        Exposure::AuthRequired,
                        format!("root with an empty password is refused (ERR {})", err.code),
                        None,
                    ),
                    _ => self.undetermined(format!("the login ended with {facts}")),
                }
            }
            _ => {
                let facts = format!(
                    "an unexpected reply: {}",
                    crate::sanitize::byte_preview(payload, 32)
                );
                self.trace.record(&request, &facts);
                self.undetermined(format!("the login ended with {facts}"))
            }
        }
    }

    async fn exchange(
        &mut self,
        conn: &mut Conn,
        seq: u8,
        payload: &[u8],
    ) -> Result<(u8, Vec<u8>), Stop> {
        conn.send(&wire::packet(seq, payload)).await?;
        conn.packet().await
    }

    fn stopped(&mut self, request: &str, why: Stop) -> ProbeOutcome {
        let facts = match why {
            Stop::Silent => "no answer before the timeout".to_string(),
            Stop::Closed(why) | Stop::Error(why) => why,
        };
        self.trace.record(request, &facts);
        self.undetermined(format!("after the handshake: {facts}"))
    }

    /// `SHOW DATABASES` after a login: the names, nothing else.
    async fn list(&mut self, conn: &mut Conn, max_items: usize) -> ProbeOutcome {
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
