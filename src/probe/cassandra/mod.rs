//! The Cassandra / ScyllaDB / DataStax Enterprise probe: the CQL native protocol, version
//! 4 (Cassandra 2.2-5.0, ScyllaDB, DSE), falling back to version 3 (Cassandra 2.1) when
//! the server answers a protocol error about the version. Version 5 is never asked for:
//! it wraps every frame after STARTUP in checksummed segments.
//!
//! What it sends, in order (`native_protocol_v4.spec`):
//! 1. `OPTIONS`: the SUPPORTED map names the CQL and protocol versions; ScyllaDB adds its
//!    `SCYLLA_*` extensions (docs/dev/protocol-extensions.md) and DSE names its
//!    `dse-v1`/`dse-v2` protocol versions. SUPPORTED alone identifies but proves nothing.
//! 2. `STARTUP {CQL_VERSION}`: READY means no authenticator (`AllowAllAuthenticator`, the
//!    default of cassandra.yaml and scylla.yaml); AUTHENTICATE names the authenticator
//!    class, which is `auth-required`. ScyllaDB's `TransitionalAuthenticator` asks for
//!    credentials but lets any client in as anonymous: `undetermined` on a plain scan,
//!    which sends no credentials at all.
//! 3. Only under `--default-credentials`, when the authenticator takes passwords:
//!    AUTH_RESPONSE with the SASL PLAIN token of `cassandra`/`cassandra` (DSE's
//!    authenticator first gets the mechanism name `PLAIN`). AUTH_SUCCESS is
//!    `default-credentials`, an authentication error (0x0100) `auth-required`.
//! 4. When in: `listing` reads keyspace and table names from the schema tables, and the
//!    release from `system.local` (ScyllaDB's from `system.versions`, DSE's from
//!    `dse_version`). A well-formed Rows result naming the `system` keyspace, which every
//!    server has, is what makes a server `open`.
//!
//! Nothing else: no statement reads a user table, and none writes.

mod auth;
mod conn;
mod handshake;
mod listing;
pub mod wire;

use super::registry::{Credential, NativeProbe, ProbeFuture, ServiceInfo};
use super::trace::Trace;
use super::{ProbeContext, ProbeOutcome};
use crate::finding::{Exposure, Finding, Inventory, Severity, policy};
use crate::targets::Endpoint;
use conn::{Conn, Stop};
use handshake::{Product, Server};

/// Severity of an open cluster with user keyspaces.
const SEVERITY: Severity = Severity::High;
/// The superuser every PasswordAuthenticator cluster is created with.
const CASSANDRA: Credential = Credential {
    user: "cassandra",
    password: "cassandra",
};
/// ScyllaDB's authenticator that lets anyone in while authentication is being rolled out.
const TRANSITIONAL: &str = "com.scylladb.auth.TransitionalAuthenticator";
/// DSE's unified authenticator, which starts SASL with the mechanism name.
const DSE_AUTHENTICATOR: &str = "com.datastax.bdp.cassandra.auth.DseAuthenticator";

/// The probe's facts for the registry.
pub static PROBE: NativeProbe = NativeProbe {
    id: "cassandra",
    labels: ["cql", "cql+tls"],
    services: &[
        ServiceInfo {
            id: "cassandra",
            name: "Apache Cassandra 2.1-5.0, DataStax Enterprise (CQL native protocol)",
            ports: &[9042, 9142],
            check: "OPTIONS/SUPPORTED identifies; STARTUP answered READY (no authenticator) then a well-formed Rows result of system_schema.keyspaces is open, AUTHENTICATE <class> auth-required; under --default-credentials cassandra/cassandra over SASL PLAIN: AUTH_SUCCESS is default-credentials",
            severity: SEVERITY,
            remediation: "Set authenticator: PasswordAuthenticator (DSE: authentication_options enabled: true in dse.yaml) and authorizer: CassandraAuthorizer in cassandra.yaml, replace the default cassandra superuser with a role of your own (then drop it or give it a long random password), bind native_transport_address / rpc_address to private interfaces only, and turn on client_encryption_options.",
            references: &[
                "https://cassandra.apache.org/doc/latest/cassandra/managing/operating/security.html",
                "https://docs.datastax.com/en/dse/6.8/securing/configure-dse-authentication.html",
                "https://github.com/apache/cassandra/blob/trunk/doc/native_protocol_v4.spec",
            ],
        },
        ServiceInfo {
            id: "scylladb",
            name: "ScyllaDB (CQL native protocol)",
            ports: &[9042, 9142],
            check: "OPTIONS/SUPPORTED with SCYLLA_* options identifies; STARTUP answered READY then a well-formed Rows result of system_schema.keyspaces is open, AUTHENTICATE <class> auth-required (TransitionalAuthenticator: undetermined, it admits anyone as anonymous); under --default-credentials cassandra/cassandra: AUTH_SUCCESS is default-credentials",
            severity: SEVERITY,
            remediation: "Set authenticator: PasswordAuthenticator and authorizer: CassandraAuthorizer in scylla.yaml (TransitionalAuthenticator only while migrating), replace the default cassandra superuser, listen on private interfaces only (rpc_address), and turn on client_encryption_options.",
            references: &[
                "https://docs.scylladb.com/manual/stable/operating-scylla/security/authentication.html",
                "https://docs.scylladb.com/manual/stable/operating-scylla/security/runtime-authentication.html",
            ],
        },
    ],
    // CQL has no standard URI scheme.
    schemes: &[],
    greeting: None,
    answers: Some(wire::is_protocol_error),
    http_notice: None,
    default_credentials: &[CASSANDRA],
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

/// Probes one endpoint for Cassandra, ScyllaDB or DSE over plain TCP or TLS.
pub async fn probe(
    cx: &ProbeContext,
    endpoint: &Endpoint,
    tls: bool,
    trace: &mut Trace,
) -> ProbeOutcome {
    let mut judge = Judge {
        cx,
        endpoint,
        tls,
        trace,
        server: Server::default(),
        authenticator: None,
    };
    let mut conn = match judge.handshake().await {
        Ok(conn) => conn,
        Err(outcome) => return outcome,
    };
    judge.startup(&mut conn).await
}

/// The verdict on one endpoint that answered OPTIONS with SUPPORTED.
struct Judge<'a> {
    cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    tls: bool,
    trace: &'a mut Trace,
    /// What SUPPORTED said.
    server: Server,
    /// The class AUTHENTICATE named.
    authenticator: Option<String>,
}

impl Judge<'_> {
    /// STARTUP, then the verdict: READY lists, AUTHENTICATE asks for credentials.
    async fn startup(&mut self, conn: &mut Conn) -> ProbeOutcome {
        let cql = self.server.startup_version();
        let request = format!("STARTUP {{CQL_VERSION: {cql}}}");
        let reply = conn.call(wire::STARTUP, &wire::startup(&cql)).await;
        let (header, body) = match reply {
            Ok(reply) => reply,
            Err(stop) => return self.stopped(&request, &stop),
        };
        let Some(reader) = wire::body(header.flags, &body) else {
            return self.malformed(&request, "a malformed frame body");
        };
        match header.opcode {
            wire::READY => {
                self.trace.record(&request, "READY: no authenticator");
                self.list(conn, Exposure::Open).await
            }
            wire::AUTHENTICATE => {
                let Some(class) = wire::parse_authenticate(reader) else {
                    return self.malformed(&request, "a malformed AUTHENTICATE");
                };
                let class = crate::sanitize::clip(&class, 120);
                self.trace.record(&request, format!("AUTHENTICATE {class}"));
                if class == DSE_AUTHENTICATOR {
                    self.server.product = Product::Dse;
                }
                self.authenticator = Some(class);
                self.authenticate(conn).await
            }
            wire::ERROR => {
                let facts = describe_error(reader);
                self.trace.record(&request, &facts);
                self.undetermined(format!("the server refused STARTUP: {facts}"))
            }
            other => self.malformed(&request, &format!("an unexpected opcode 0x{other:02x}")),
        }
    }

    /// After AUTHENTICATE: the verdict of a plain scan, or the default login.
    async fn authenticate(&mut self, conn: &mut Conn) -> ProbeOutcome {
        let class = self.authenticator.clone().unwrap_or_default();
        let takes_passwords = class == TRANSITIONAL
            || class == DSE_AUTHENTICATOR
            || class.ends_with("PasswordAuthenticator");
        if self.cx.default_credentials && takes_passwords {
            return self.login(conn).await;
        }
        if class == TRANSITIONAL {
            return self.undetermined(format!(
                "ScyllaDB asks for credentials with {TRANSITIONAL}, which logs in a correct user and lets any other client in as anonymous: the cluster is in transition to authentication and effectively open (a plain scan sends no credentials; --default-credentials tries the default superuser cassandra)"
            ));
        }
        let hint = if takes_passwords && !self.cx.default_credentials {
            " (--default-credentials tries the default superuser cassandra)"
        } else {
            ""
        };
        self.found(
            Exposure::AuthRequired,
            format!("the server requires authentication with {class}{hint}"),
            None,
        )
    }

    fn stopped(&mut self, request: &str, stop: &Stop) -> ProbeOutcome {
        self.trace.record(request, stop.to_string());
        self.undetermined(format!("after SUPPORTED: {stop}"))
    }

    fn malformed(&mut self, request: &str, what: &str) -> ProbeOutcome {
        self.trace.record(request, what);
        self.undetermined(format!("after SUPPORTED, {what}"))
    }

    fn undetermined(&mut self, summary: String) -> ProbeOutcome {
        self.found(Exposure::Undetermined, summary, None)
    }

    fn found(
        &mut self,
        exposure: Exposure,
        summary: String,
        inventory: Option<Inventory>,
    ) -> ProbeOutcome {
        let server = &self.server;
        let mut details = vec![(
            "protocol_version".to_string(),
            format!("v{}", server.protocol),
        )];
        if let Some(cql) = &server.cql_version {
            details.push(("cql_version".into(), cql.clone()));
        }
        if !server.protocol_versions.is_empty() {
            details.push((
                "protocol_versions".into(),
                server.protocol_versions.join(", "),
            ));
        }
        if let Some(class) = &self.authenticator {
            details.push(("authenticator".into(), class.clone()));
        }
        if let Some(release) = &server.release_version {
            details.push(("release_version".into(), release.clone()));
        }
        if let Some(shards) = &server.scylla_shards {
            details.push(("scylla_nr_shards".into(), shards.clone()));
        }
        if exposure == Exposure::DefaultCredentials {
            details.push(("user".into(), CASSANDRA.user.into()));
        }
        let service = match server.product {
            Product::Scylla => "scylladb",
            _ => "cassandra",
        };
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: service.into(),
            check: String::new(),
            product: Some(server.product.name().into()),
            version: server.version.clone(),
            exposure,
            severity: policy::severity(exposure, SEVERITY, inventory.as_ref(), false),
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }
}

/// An ERROR body for the evidence: `ERROR 0x0100: message`.
fn describe_error(reader: wire::Reader<'_>) -> String {
    match wire::parse_error(reader) {
        Some((code, message)) => {
            format!(
                "ERROR 0x{code:04X}: {}",
                crate::sanitize::clip(&message, 200)
            )
        }
        None => "a malformed ERROR".into(),
    }
}
