//! One connection's conversation: the StartupMessage, the authentication request and what
//! it means, the optional default login, then (once in) the server's ParameterStatus
//! messages and the one catalog query listing database names.

use super::scram::{MECHANISM, Scram};
use super::wire::{self, Message, WireError};
use super::{DEFAULT_LOGIN, Verdict, not_postgres};
use crate::finding::Exposure;
use crate::net::BoxStream;
use crate::probe::trace::Trace;
use crate::probe::{ProbeContext, ProbeOutcome};
use crate::sanitize::clip;

/// The only query sent: a read-only catalog query for database names.
pub(super) const LIST_DATABASES: &str = "SELECT datname FROM pg_database";
/// Most messages read while waiting for ReadyForQuery after AuthenticationOk (a server
/// sends about a dozen ParameterStatus messages).
const MAX_STARTUP_MESSAGES: usize = 256;

/// The conversation with one server.
pub(super) struct Session<'a> {
    pub(super) cx: &'a ProbeContext,
    pub(super) stream: BoxStream,
    pub(super) trace: &'a mut Trace,
    /// Details of the finding, in order.
    pub(super) details: Vec<(String, String)>,
}

fn found(exposure: Exposure, summary: String) -> Verdict {
    Verdict::Found {
        exposure,
        summary,
        version: None,
        inventory: None,
    }
}

/// An ErrorResponse's severity, SQLSTATE and message, if it is shaped as PostgreSQL's.
pub(super) fn error_parts(body: &[u8]) -> Option<(String, String, String)> {
    let fields = wire::error_fields(body)?;
    let get = |code: u8| {
        fields
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.clone())
    };
    let severity = get(b'V').or_else(|| get(b'S'))?;
    let code =
        get(b'C').filter(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_alphanumeric()))?;
    let message = get(b'M')?;
    Some((severity, code, clip(&message, 300)))
}

impl Session<'_> {
    pub(super) async fn read(&mut self) -> Result<Message, WireError> {
        wire::read_message(&mut self.stream, self.cx.net.timeout).await
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        wire::send(&mut self.stream, bytes, self.cx.net.timeout).await
    }

    /// Sends the StartupMessage and judges the server from its answer.
    pub(super) async fn run(&mut self) -> Verdict {
        let request = "StartupMessage protocol 3.0 user=postgres database=postgres";
        let startup = wire::startup(&[
            ("user", "postgres"),
            ("database", "postgres"),
            ("application_name", "ajar"),
        ]);
        if let Err(e) = self.send(&startup).await {
            self.trace.record(request, e.to_string());
            return Verdict::Other(not_postgres(e.to_string(), false));
        }
        let message = match self.read().await {
            Ok(message) => message,
            Err(e) => {
                self.trace.record(request, e.to_string());
                return Verdict::Other(match e {
                    WireError::Timeout => ProbeOutcome::Silent,
                    WireError::Malformed(..) => not_postgres(e.to_string(), true),
                    _ => not_postgres(e.to_string(), false),
                });
            }
        };
        match (message.kind, wire::be_u32(&message.body)) {
            (b'R', Some(code)) => self.authentication(request, code, &message.body).await,
            (b'E', _) => match error_parts(&message.body) {
                Some(parts) => self.refused(request, parts),
                None => {
                    self.trace
                        .record(request, "ErrorResponse without severity, code and message");
                    Verdict::Other(not_postgres("malformed ErrorResponse".into(), true))
                }
            },
            (kind, _) => {
                let what = format!("message type '{}' before authentication", char::from(kind));
                self.trace.record(request, &what);
                Verdict::Other(not_postgres(what, true))
            }
        }
    }

    /// An Authentication request right after the StartupMessage.
    async fn authentication(&mut self, request: &str, code: u32, body: &[u8]) -> Verdict {
        let method = match (code, body.len()) {
            (0, 4) => {
                self.trace
                    .record(request, "AuthenticationOk (no password asked)");
                self.details
                    .push(("authentication".into(), "none (trust)".into()));
                return self.logged_in(Exposure::Open).await;
            }
            (3, 4) => "cleartext password".to_string(),
            (5, 8) => "MD5 password".to_string(),
            (10, _) => {
                let mechanisms: Vec<String> = body[4..]
                    .split(|&b| b == 0)
                    .filter(|m| !m.is_empty())
                    .map(|m| clip(&String::from_utf8_lossy(m), 40))
                    .collect();
                if mechanisms.is_empty() || body.last() != Some(&0) {
                    self.trace
                        .record(request, "AuthenticationSASL without mechanisms");
                    return Verdict::Other(not_postgres(
                        "malformed AuthenticationSASL".into(),
                        true,
                    ));
                }
                format!("SASL ({})", mechanisms.join(", "))
            }
            (2, 4) => "Kerberos V5".to_string(),
            (7, 4) => "GSSAPI".to_string(),
            (9, 4) => "SSPI".to_string(),
            _ => {
                let what = format!("Authentication code {code} with {} bytes", body.len());
                self.trace.record(request, &what);
                return Verdict::Other(not_postgres(what, true));
            }
        };
        self.trace.record(
            request,
            format!("Authentication request: {method} (R code {code})"),
        );
        self.details.push(("authentication".into(), method.clone()));
        let scram = code == 10 && method.contains(MECHANISM);
        if self.cx.default_credentials && (scram || code == 3) {
            return self.default_login(scram, &method).await;
        }
        let _ = self.send(&wire::terminate()).await;
        found(
            Exposure::AuthRequired,
            format!("PostgreSQL asks for credentials: {method}"),
        )
    }

    /// An ErrorResponse instead of an authentication request.
    fn refused(
        &mut self,
        request: &str,
        (severity, code, message): (String, String, String),
    ) -> Verdict {
        self.trace.record(
            request,
            format!("ErrorResponse {severity} {code}: {message}"),
        );
        self.details.push(("sqlstate".into(), code.clone()));
        if code == "28000" || code == "28P01" {
            let why = if message.contains("pg_hba.conf") {
                "refused by pg_hba.conf"
            } else {
                "refused"
            };
            return found(
                Exposure::AuthRequired,
                format!("PostgreSQL {why}: {message}"),
            );
        }
        found(
            Exposure::Undetermined,
            format!("PostgreSQL answered the startup with an error: {code} {message}"),
        )
    }

    /// Answers a SCRAM-SHA-256 or cleartext request with the default login.
    async fn default_login(&mut self, scram: bool, method: &str) -> Verdict {
        let user = DEFAULT_LOGIN.user;
        let failed = |why: String| {
            found(
                Exposure::AuthRequired,
                format!(
                    "PostgreSQL asks for credentials: {method}; the default login {user} was refused ({why})"
                ),
            )
        };
        if !scram {
            let mut body = DEFAULT_LOGIN.password.as_bytes().to_vec();
            body.push(0);
            if let Err(e) = self.send(&wire::frontend(b'p', &body)).await {
                return failed(e.to_string());
            }
            return self.login_result(None, user, &failed).await;
        }
        let Some(mut exchange) = Scram::new() else {
            return failed("no randomness for a SCRAM nonce".into());
        };
        let first = exchange.client_first();
        let mut body = MECHANISM.as_bytes().to_vec();
        body.push(0);
        let len = i32::try_from(first.len()).unwrap_or(i32::MAX);
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(first.as_bytes());
        let request = format!("SASLInitialResponse {MECHANISM} (user {user})");
        if let Err(e) = self.send(&wire::frontend(b'p', &body)).await {
            self.trace.record(&request, e.to_string());
            return failed(e.to_string());
        }
        let server_first = match self.read().await {
            Ok(m) if m.kind == b'R' && wire::be_u32(&m.body) == Some(11) => {
                String::from_utf8_lossy(&m.body[4..]).into_owned()
            }
            Ok(m) => return self.login_refused(&request, m, &failed),
            Err(e) => {
                self.trace.record(&request, e.to_string());
                return failed(e.to_string());
            }
        };
        self.trace.record(&request, "AuthenticationSASLContinue");
        let last = match exchange.client_final(&server_first, DEFAULT_LOGIN.password) {
            Ok(last) => last,
            Err(why) => return failed(why),
        };
        if let Err(e) = self.send(&wire::frontend(b'p', last.as_bytes())).await {
            return failed(e.to_string());
        }
        self.login_result(Some(&exchange), user, &failed).await
    }

    /// The server's answer to a password or the last SCRAM message.
    async fn login_result(
        &mut self,
        exchange: Option<&Scram>,
        user: &str,
        failed: &(dyn Fn(String) -> Verdict + Sync),
    ) -> Verdict {
        let request = format!("password message (user {user}, password not shown)");
        let mut message = match self.read().await {
            Ok(m) => m,
            Err(e) => {
                self.trace.record(&request, e.to_string());
                return failed(e.to_string());
            }
        };
        if let Some(exchange) = exchange {
            if message.kind != b'R' || wire::be_u32(&message.body) != Some(12) {
                return self.login_refused(&request, message, failed);
            }
            let server_final = String::from_utf8_lossy(&message.body[4..]).into_owned();
            if !exchange.verify_server(&server_final) {
                self.trace.record(
                    &request,
                    "AuthenticationSASLFinal with a wrong server signature",
                );
                return failed("the server's SCRAM signature is wrong".into());
            }
            message = match self.read().await {
                Ok(m) => m,
                Err(e) => return failed(e.to_string()),
            };
        }
        if message.kind == b'R' && message.body == [0, 0, 0, 0] {
            self.trace.record(&request, "AuthenticationOk");
            self.details
                .push(("login".into(), format!("default user {user}")));
            return self.logged_in(Exposure::DefaultCredentials).await;
        }
        self.login_refused(&request, message, failed)
    }

    fn login_refused(
        &mut self,
        request: &str,
        m: Message,
        failed: &(dyn Fn(String) -> Verdict + Sync),
    ) -> Verdict {
        let why = match (m.kind, error_parts(&m.body)) {
            (b'E', Some((_, code, message))) => format!("{code} {message}"),
            (kind, _) => format!("message type '{}'", char::from(kind)),
        };
        self.trace.record(request, format!("ErrorResponse {why}"));
        failed(why)
    }

    /// After AuthenticationOk: the version from ParameterStatus, then the database names.
    async fn logged_in(&mut self, exposure: Exposure) -> Verdict {
        let mut version = None;
        for _ in 0..MAX_STARTUP_MESSAGES {
            let message = match self.read().await {
                Ok(m) => m,
                Err(e) => return self.unjudged(version, format!("after AuthenticationOk: {e}")),
            };
            match message.kind {
                b'S' => {
                    if let Some((name, value)) = wire::parameter(&message.body)
                        && name == "server_version"
                    {
                        version = Some(clip(&value, 60));
                    }
                }
                b'Z' => return self.list_databases(exposure, version).await,
                b'E' => {
                    let why = error_parts(&message.body)
                        .map_or("malformed ErrorResponse".into(), |(_, c, m)| {
                            format!("{c} {m}")
                        });
                    self.trace
                        .record("(session start)", format!("ErrorResponse {why}"));
                    return self.unjudged(version, format!("the session did not start: {why}"));
                }
                _ => {}
            }
        }
        self.unjudged(version, "no ReadyForQuery after AuthenticationOk".into())
    }

    pub(super) fn unjudged(&mut self, version: Option<String>, why: String) -> Verdict {
        Verdict::Found {
            exposure: Exposure::Undetermined,
            summary: format!("PostgreSQL let ajar in without a password, but {why}"),
            version,
            inventory: None,
        }
    }
}
