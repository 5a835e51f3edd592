//! The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it, for the
//! default-credentials check only: the user name travels in the StartupMessage, so the
//! client-first message carries an empty `n=`, and channel binding is not used (`n,,`).
//! The server's final signature is checked, so a server that accepts any proof (a
//! honeypot) is not taken for a real login.
//!
//! Source: <https://www.postgresql.org/docs/current/sasl-authentication.html>.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};

/// The mechanism name.
pub const MECHANISM: &str = "SCRAM-SHA-256";
/// Most PBKDF2 iterations computed for a server (PostgreSQL's default is 4096): bounds
/// the CPU one endpoint can cost.
const MAX_ITERATIONS: u32 = 100_000;

/// One SCRAM exchange in progress.
pub struct Scram {
    nonce: String,
    client_first_bare: String,
    server_signature: Option<Vec<u8>>,
}

impl Scram {
    /// A new exchange with a random nonce; `None` when the system has no randomness.
    pub fn new() -> Option<Scram> {
        let mut raw = [0u8; 18];
        ring::rand::SystemRandom::new().fill(&mut raw).ok()?;
        let nonce = STANDARD.encode(raw);
        Some(Scram {
            client_first_bare: format!("n=,r={nonce}"),
            nonce,
            server_signature: None,
        })
    }

    /// The client-first message.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// The client-final message for the server-first message `server_first`, or why the
    /// server's message is not one SCRAM allows.
    pub fn client_final(&mut self, server_first: &str, password: &str) -> Result<String, String> {
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for part in server_first.split(',') {
            if let Some(v) = part.strip_prefix("r=") {
                nonce = Some(v);
            } else if let Some(v) = part.strip_prefix("s=") {
                salt = STANDARD.decode(v).ok();
            } else if let Some(v) = part.strip_prefix("i=") {
                iterations = v.parse::<u32>().ok();
            }
        }
        let nonce = nonce.ok_or("server-first message without a nonce")?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err("server nonce does not extend ours".into());
        }
        let salt = salt.ok_or("server-first message without a valid salt")?;
        let iterations = iterations
            .filter(|i| (1..=MAX_ITERATIONS).contains(i))
            .and_then(std::num::NonZeroU32::new)
            .ok_or("iteration count missing or out of range")?;
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            password.as_bytes(),
            &mut salted,
        );
        let salted_key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
        let client_key = hmac::sign(&salted_key, b"Client Key");
        let stored = digest::digest(&digest::SHA256, client_key.as_ref());
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let stored_key = hmac::Key::new(hmac::HMAC_SHA256, stored.as_ref());
        let signature = hmac::sign(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(signature.as_ref())
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac::sign(&salted_key, b"Server Key");
        let server_key = hmac::Key::new(hmac::HMAC_SHA256, server_key.as_ref());
        self.server_signature = Some(
            hmac::sign(&server_key, auth_message.as_bytes())
                .as_ref()
                .to_vec(),
        );
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)))
    }

    /// Whether the server-final message proves the server knew the password.
    pub fn verify_server(&self, server_final: &str) -> bool {
        let Some(expected) = &self.server_signature else {
            return false;
        };
        server_final
            .strip_prefix("v=")
            .and_then(|v| STANDARD.decode(v).ok())
            .is_some_and(|sig| &sig == expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's example, with its user name moved out of the message as
    /// PostgreSQL does not use it: the proof changes, so only the shape is checked here
    /// and the full exchange is checked against a real server (tests/real/postgres.rs).
    #[test]
    fn refuses_bad_server_first() {
        let mut s = Scram::new().expect("random");
        assert!(s.client_final("r=other,s=AAAA,i=4096", "p").is_err());
        let ours = s.nonce.clone();
        assert!(
            s.client_final(&format!("r={ours}x,s=AAAA,i=0"), "p")
                .is_err()
        );
        let out = s
            .client_final(&format!("r={ours}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), "p")
            .expect("final");
        assert!(out.starts_with(&format!("c=biws,r={ours}x,p=")));
        assert!(!s.verify_server("v=AAAA"));
    }
}
