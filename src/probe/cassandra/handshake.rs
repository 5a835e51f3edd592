//! OPTIONS and SUPPORTED: whether the endpoint speaks CQL, over which protocol version, and
//! which product it is. Protocol v4 first; a protocol error naming the version (what
//! Cassandra 2.1 answers a v4 frame with) retries v3 on a new connection, since the server
//! closes the one that carried the error.

use super::conn::{Conn, Stop};
use super::{Judge, describe_error, wire};
use crate::finding::Exposure;
use crate::probe::ProbeOutcome;
use crate::probe::registry::NATIVE;
use crate::sanitize::clip;

/// Which product answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Product {
    /// Apache Cassandra (or a server that says nothing more).
    #[default]
    Cassandra,
    /// DataStax Enterprise: `dse-v1`/`dse-v2` protocol versions or its authenticator.
    Dse,
    /// ScyllaDB: `SCYLLA_*` options in SUPPORTED.
    Scylla,
}

impl Product {
    /// The product name for the finding.
    pub fn name(self) -> &'static str {
        match self {
            Product::Cassandra => "Apache Cassandra",
            Product::Dse => "DataStax Enterprise",
            Product::Scylla => "ScyllaDB",
        }
    }
}

/// What the server said about itself.
#[derive(Debug, Default)]
pub struct Server {
    /// The product.
    pub product: Product,
    /// The protocol version spoken (4 or 3).
    pub protocol: u8,
    /// SUPPORTED's first CQL_VERSION.
    pub cql_version: Option<String>,
    /// SUPPORTED's PROTOCOL_VERSIONS (Cassandra 4.0+, DSE).
    pub protocol_versions: Vec<String>,
    /// ScyllaDB's SCYLLA_NR_SHARDS.
    pub scylla_shards: Option<String>,
    /// The product release, once read from the system tables.
    pub version: Option<String>,
    /// `system.local` release_version when the product's own version differs from it
    /// (ScyllaDB, DSE report a Cassandra-compatible one there).
    pub release_version: Option<String>,
}

impl Server {
    /// The CQL version STARTUP asks for: the server's own, when it looks like one.
    pub fn startup_version(&self) -> String {
        self.cql_version
            .clone()
            .filter(|v| is_version(v))
            .unwrap_or_else(|| "3.0.0".into())
    }

    fn from_options(options: &[(String, Vec<String>)], protocol: u8) -> Option<Server> {
        let values = |key: &str| options.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let cql_version = values("CQL_VERSION")?.first()?.clone();
        if !is_version(&cql_version) {
            return None;
        }
        let protocol_versions: Vec<String> = values("PROTOCOL_VERSIONS")
            .map(|v| {
                v.iter()
                    .take(16)
                    .filter(|s| s.len() <= 24 && s.bytes().all(|b| b.is_ascii_graphic()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let product = if options.iter().any(|(k, _)| k.starts_with("SCYLLA_")) {
            Product::Scylla
        } else if protocol_versions.iter().any(|v| v.contains("dse")) {
            Product::Dse
        } else {
            Product::Cassandra
        };
        Some(Server {
            product,
            protocol,
            cql_version: Some(cql_version),
            protocol_versions,
            scylla_shards: values("SCYLLA_NR_SHARDS")
                .and_then(|v| v.first())
                .filter(|v| v.len() <= 8 && v.bytes().all(|b| b.is_ascii_digit()))
                .cloned(),
            ..Server::default()
        })
    }

    fn facts(&self, options: &[(String, Vec<String>)]) -> String {
        let shown: Vec<String> = options
            .iter()
            .filter(|(k, _)| !k.starts_with("SCYLLA_"))
            .take(8)
            .map(|(k, v)| format!("{} [{}]", clip(k, 32), clip(&v.join(", "), 80)))
            .collect();
        let scylla = options
            .iter()
            .filter(|(k, _)| k.starts_with("SCYLLA_"))
            .count();
        let mut facts = format!("SUPPORTED: {}", shown.join(", "));
        if scylla > 0 {
            facts.push_str(&format!("; {scylla} SCYLLA_* options"));
        }
        facts
    }
}

/// A CQL or product version: digits and dots, short.
pub(super) fn is_version(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

impl Judge<'_> {
    /// OPTIONS in v4, then v3 when the server refuses v4: a connection and what
    /// SUPPORTED said, or how the probe ends.
    pub(super) async fn handshake(&mut self) -> Result<Conn, ProbeOutcome> {
        for version in [4u8, 3] {
            let stream = self
                .cx
                .net
                .connect(&self.endpoint.host, self.endpoint.port, self.tls)
                .await
                .map_err(ProbeOutcome::from_connect_error)?;
            let mut conn = Conn::new(stream, self.cx.net.timeout, version);
            let request = format!("OPTIONS (protocol v{version})");
            let (header, body) = match conn.call(wire::OPTIONS, &[]).await {
                Ok(reply) => reply,
                Err(stop) => {
                    self.trace.record(&request, stop.to_string());
                    return Err(self.no_cql(stop));
                }
            };
            let Some(reader) = wire::body(header.flags, &body) else {
                self.trace.record(&request, "a malformed frame body");
                return Err(not_cql("a CQL header with a malformed body".into(), &[]));
            };
            match header.opcode {
                wire::SUPPORTED => {
                    let parsed = wire::parse_supported(reader).and_then(|options| {
                        Server::from_options(&options, version).map(|s| (s, options))
                    });
                    let Some((server, options)) = parsed else {
                        self.trace
                            .record(&request, "a SUPPORTED frame without a CQL_VERSION");
                        return Err(not_cql("SUPPORTED without a CQL_VERSION".into(), &[]));
                    };
                    self.trace.record(&request, server.facts(&options));
                    self.server = server;
                    return Ok(conn);
                }
                wire::ERROR => {
                    let error = wire::parse_error(reader);
                    let facts = describe_error(reader);
                    self.trace.record(&request, &facts);
                    let Some((code, message)) = error else {
                        return Err(not_cql("a malformed CQL ERROR".into(), &[]));
                    };
                    let about_version = code == wire::PROTOCOL_ERROR
                        && message.to_ascii_lowercase().contains("version");
                    if about_version && version == 4 {
                        continue;
                    }
                    self.server.protocol = version;
                    let summary = if about_version {
                        format!(
                            "a CQL server that speaks neither protocol v4 nor v3 (Cassandra before 2.1): {facts}"
                        )
                    } else {
                        format!("a CQL server that refused OPTIONS: {facts}")
                    };
                    return Err(self.undetermined(summary));
                }
                other => {
                    self.trace.record(
                        &request,
                        format!("a CQL frame of opcode 0x{other:02x}, not SUPPORTED"),
                    );
                    return Err(not_cql(
                        format!("answered OPTIONS with opcode 0x{other:02x}"),
                        &[],
                    ));
                }
            }
        }
        // Unreachable in practice: v3 always returns above. Kept total without a panic.
        Err(self.found(
            Exposure::Undetermined,
            "a CQL server that refused protocol v4 and v3".into(),
            None,
        ))
    }

    /// How the probe ends when OPTIONS got no CQL frame.
    fn no_cql(&mut self, stop: Stop) -> ProbeOutcome {
        match stop {
            Stop::Silent => ProbeOutcome::Silent,
            // A TLS-only native port (client_encryption_options, optional: false) drops a
            // plain-text client without a word.
            Stop::Closed(true) if !self.tls => {
                ProbeOutcome::WantsTls("closed the connection without answering OPTIONS".into())
            }
            Stop::NotCql(head)
                if !self.tls && matches!(head.as_slice(), [0x15, 0x03, 0x00..=0x04, ..]) =>
            {
                ProbeOutcome::WantsTls("answered plain text with a TLS alert".into())
            }
            Stop::NotCql(head) => not_cql(Stop::NotCql(head.clone()).to_string(), &head),
            Stop::Io(e) => ProbeOutcome::NotThis {
                note: format!("socket error: {e}"),
                hint: None,
                transport_confirmed: false,
                speaks_protocol: false,
            },
            other => not_cql(other.to_string(), &[]),
        }
    }
}

/// Bytes that are not CQL; bytes another native protocol answers with hint that probe.
fn not_cql(reason: String, head: &[u8]) -> ProbeOutcome {
    ProbeOutcome::NotThis {
        note: format!("not CQL: {reason}"),
        hint: NATIVE
            .iter()
            .find(|p| p.id != "cassandra" && p.answers.is_some_and(|answers| answers(head)))
            .map(|p| p.id),
        transport_confirmed: true,
        speaks_protocol: false,
    }
}
