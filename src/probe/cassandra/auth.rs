//! The login under `--default-credentials`: SASL PLAIN with `cassandra`/`cassandra`, the
//! superuser every PasswordAuthenticator cluster starts with. DSE's `DseAuthenticator`
//! first takes the mechanism name `PLAIN` and answers AUTH_CHALLENGE `PLAIN-START`; the
//! others take the token at once. The evidence names the user, never the password.

use super::conn::Conn;
use super::{CASSANDRA, DSE_AUTHENTICATOR, Judge, describe_error, wire};
use crate::finding::Exposure;
use crate::probe::ProbeOutcome;

/// DSE's challenge after the mechanism name (DsePlainTextAuthProvider of the drivers).
const PLAIN_START: &[u8] = b"PLAIN-START";

impl Judge<'_> {
    /// Logs in as cassandra/cassandra and, when let in, lists the keyspaces.
    pub(super) async fn login(&mut self, conn: &mut Conn) -> ProbeOutcome {
        let dse = self.authenticator.as_deref() == Some(DSE_AUTHENTICATOR);
        if dse {
            const REQUEST: &str = "AUTH_RESPONSE mechanism PLAIN";
            let reply = conn
                .call(wire::AUTH_RESPONSE, &wire::auth_response(b"PLAIN"))
                .await;
            let (header, body) = match reply {
                Ok(reply) => reply,
                Err(stop) => return self.stopped(REQUEST, &stop),
            };
            let token = wire::body(header.flags, &body).and_then(wire::parse_token);
            if header.opcode != wire::AUTH_CHALLENGE || token != Some(Some(PLAIN_START)) {
                let facts = match header.opcode {
                    wire::ERROR => wire::body(header.flags, &body)
                        .map_or("a malformed ERROR".into(), describe_error),
                    op => format!("opcode 0x{op:02x}, not AUTH_CHALLENGE PLAIN-START"),
                };
                self.trace.record(REQUEST, &facts);
                return self.undetermined(format!(
                    "DseAuthenticator did not start SASL PLAIN: {facts}"
                ));
            }
            self.trace.record(REQUEST, "AUTH_CHALLENGE PLAIN-START");
        }
        let request = format!("AUTH_RESPONSE SASL PLAIN user {}", CASSANDRA.user);
        let mut token = vec![0];
        token.extend_from_slice(CASSANDRA.user.as_bytes());
        token.push(0);
        token.extend_from_slice(CASSANDRA.password.as_bytes());
        let reply = conn
            .call(wire::AUTH_RESPONSE, &wire::auth_response(&token))
            .await;
        let (header, body) = match reply {
            Ok(reply) => reply,
            Err(stop) => return self.stopped(&request, &stop),
        };
        let Some(reader) = wire::body(header.flags, &body) else {
            return self.malformed(&request, "a malformed frame body");
        };
        match header.opcode {
            wire::AUTH_SUCCESS if wire::parse_token(reader).is_some() => {
                self.trace.record(&request, "AUTH_SUCCESS: logged in");
                self.list(conn, Exposure::DefaultCredentials).await
            }
            wire::ERROR => {
                let facts = describe_error(reader);
                self.trace.record(&request, &facts);
                if wire::parse_error(reader).is_some_and(|(code, _)| code == wire::BAD_CREDENTIALS)
                {
                    self.found(
                        Exposure::AuthRequired,
                        format!(
                            "the default superuser cassandra with its default password is refused ({facts})"
                        ),
                        None,
                    )
                } else {
                    self.undetermined(format!("the login ended with {facts}"))
                }
            }
            wire::AUTH_CHALLENGE => {
                self.trace.record(
                    &request,
                    "AUTH_CHALLENGE: the server wants more SASL rounds",
                );
                self.found(
                    Exposure::AuthRequired,
                    "the authenticator answered the PLAIN token with a further challenge".into(),
                    None,
                )
            }
            op => self.malformed(&request, &format!("an unexpected opcode 0x{op:02x}")),
        }
    }
}
