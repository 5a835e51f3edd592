//! The login under `--default-credentials`: root with an empty password, following an auth
//! switch to mysql_native_password or caching_sha2_password (whose empty-password answers
//! are empty and one zero byte), and judging the server's OK or ERR.

use super::conn::{Conn, Stop};
use super::{ACCESS_DENIED, Judge, ROOT, describe_error, wire};
use crate::finding::Exposure;
use crate::probe::ProbeOutcome;

impl Judge<'_> {
    /// Logs in as root with an empty password and, when let in, lists the databases.
    pub(super) async fn login(&mut self, conn: &mut Conn, max_items: usize) -> ProbeOutcome {
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

    pub(super) async fn exchange(
        &mut self,
        conn: &mut Conn,
        seq: u8,
        payload: &[u8],
    ) -> Result<(u8, Vec<u8>), Stop> {
        conn.send(&wire::packet(seq, payload)).await?;
        conn.packet().await
    }

    pub(super) fn stopped(&mut self, request: &str, why: Stop) -> ProbeOutcome {
        let facts = match why {
            Stop::Silent => "no answer before the timeout".to_string(),
            Stop::Closed(why) | Stop::Error(why) => why,
        };
        self.trace.record(request, &facts);
        self.undetermined(format!("after the handshake: {facts}"))
    }
}
