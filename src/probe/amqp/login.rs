//! One login on a connection that has read Connection.Start: StartOk with a mechanism and
//! its response, then, once the server tunes the connection, TuneOk and Connection.Open of
//! vhost `/`. Connection.OpenOk is the proof that the login reaches the vhost; the probe
//! then closes the connection with reply code 200. Nothing else is ever sent: no channel
//! is opened, so nothing can be declared, published or consumed.

use super::conn::{Conn, Incoming, Stop};
use super::wire::{self, CLOSE, CONNECTION, OPEN_OK, SECURE, TUNE};
use crate::probe::trace::Trace;

/// The vhost every broker has by default.
pub(super) const VHOST: &str = "/";

/// How a login ended.
#[derive(Debug)]
pub(super) enum Login {
    /// Tune, then OpenOk for vhost `/`.
    Opened,
    /// The server refused the login: Connection.Close (403 ACCESS_REFUSED), or a hang-up
    /// (servers that ignore `authentication_failure_close` close the socket).
    Refused(Option<wire::Close>),
    /// The login passed (Tune) but Connection.Open of `/` was refused.
    VhostRefused(Option<wire::Close>),
    /// Anything else: a challenge, a silence, an odd frame.
    Failed(String),
}

/// Logs in with `mechanism` and `response`; `request` is how the evidence names the
/// StartOk (never with a password).
pub(super) async fn login(
    conn: &mut Conn,
    trace: &mut Trace,
    request: &str,
    mechanism: &str,
    response: &[u8],
    locale: &str,
) -> Login {
    let reply = match exchange(conn, &wire::start_ok(mechanism, response, locale)).await {
        Ok(reply) => reply,
        Err(Stop::Closed(bytes)) if bytes.is_empty() => {
            trace.record(request, "the server closed the connection: login refused");
            return Login::Refused(None);
        }
        Err(stop) => {
            let facts = stop.describe();
            trace.record(request, &facts);
            return Login::Failed(facts);
        }
    };
    let tune = match reply {
        Incoming::Method(CONNECTION, TUNE, args) => match wire::parse_tune(&args) {
            Some(tune) => {
                trace.record(
                    request,
                    format!(
                        "Connection.Tune: channel_max {}, frame_max {}, heartbeat {}",
                        tune.channel_max, tune.frame_max, tune.heartbeat
                    ),
                );
                tune
            }
            None => {
                trace.record(request, "a malformed Connection.Tune");
                return Login::Failed("a malformed Connection.Tune".into());
            }
        },
        Incoming::Method(CONNECTION, CLOSE, args) => {
            let close = closed(conn, trace, request, &args).await;
            return Login::Refused(close);
        }
        Incoming::Method(CONNECTION, SECURE, _) => {
            trace.record(
                request,
                "Connection.Secure: a SASL challenge (not answered)",
            );
            return Login::Failed("the server sent a SASL challenge".into());
        }
        other => {
            let facts = describe(&other);
            trace.record(request, &facts);
            return Login::Failed(facts);
        }
    };
    let open = format!("Connection.TuneOk, Connection.Open vhost {VHOST}");
    match exchange(conn, &wire::tune_ok_and_open(&tune, VHOST)).await {
        Ok(Incoming::Method(CONNECTION, OPEN_OK, _)) => {
            trace.record(&open, format!("Connection.OpenOk: vhost {VHOST} is open"));
            let bye = "Connection.Close 200";
            match exchange(conn, &wire::close()).await {
                Ok(Incoming::Method(CONNECTION, wire::CLOSE_OK, _)) => {
                    trace.record(bye, "Connection.CloseOk");
                }
                Ok(other) => trace.record(bye, describe(&other)),
                Err(stop) => trace.record(bye, stop.describe()),
            }
            Login::Opened
        }
        Ok(Incoming::Method(CONNECTION, CLOSE, args)) => {
            Login::VhostRefused(closed(conn, trace, &open, &args).await)
        }
        Ok(other) => {
            let facts = describe(&other);
            trace.record(&open, &facts);
            Login::Failed(facts)
        }
        Err(stop) => {
            let facts = stop.describe();
            trace.record(&open, &facts);
            Login::Failed(facts)
        }
    }
}

async fn exchange(conn: &mut Conn, bytes: &[u8]) -> Result<Incoming, Stop> {
    conn.send(bytes).await?;
    conn.next().await
}

/// Records a server's Connection.Close and answers it with CloseOk, as the protocol asks.
async fn closed(
    conn: &mut Conn,
    trace: &mut Trace,
    request: &str,
    args: &[u8],
) -> Option<wire::Close> {
    let close = wire::parse_close(args);
    match &close {
        Some(c) => trace.record(request, format!("Connection.Close {}: {}", c.code, c.text)),
        None => trace.record(request, "a malformed Connection.Close"),
    }
    // Best effort: the server closes the socket either way.
    let _ = conn.send(&wire::close_ok()).await;
    close
}

/// An unexpected reply for the evidence.
pub(super) fn describe(reply: &Incoming) -> String {
    match reply {
        Incoming::Header(h) => format!("a protocol header: {}", wire::describe_header(h)),
        Incoming::Method(class, method, _) => format!("method {class}.{method}"),
    }
}
