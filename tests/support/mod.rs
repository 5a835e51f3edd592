//! Fake servers on loopback for the integration tests: a TCP listener on `127.0.0.1:0`
//! that hands each connection to a handler, optionally behind TLS with the throw-away
//! certificates in `tests/fixtures/tls/` (see its README: a self-signed one, and a leaf
//! signed by a test CA for `--ca-file`), valid for 127.0.0.1 and ::1. [`cli`] runs the
//! `ajar` binary as a user would.

#![allow(dead_code)]

#[cfg(test)]
pub mod cli;
pub mod hostile;
pub mod http_fake;
pub mod mongo_fake;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ajar::finding::{Finding, Outcome};
use ajar::probe::{Limits, ProbeContext};
use ajar::targets::{Endpoint, Host};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

/// A connection as a handler sees it: plain TCP or server-side TLS.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Boxed [`Conn`].
pub type BoxConn = Box<dyn Conn>;

/// A running fake server; it stops when the test's runtime ends.
pub struct FakeServer {
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeServer {
    /// The endpoint ajar should probe, with nothing pinned.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::new(Host::Ip(self.addr.ip()), self.addr.port())
    }
}

/// Starts a server whose every connection is handled by `handler`, over TLS (with the
/// self-signed certificate) when `tls`.
pub async fn serve<F, Fut>(tls: bool, handler: F) -> FakeServer
where
    F: Fn(BoxConn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    serve_with(tls.then(tls_acceptor), handler).await
}

/// Starts a server whose every connection is handled by `handler`, behind `acceptor`'s
/// TLS when given.
pub async fn serve_with<F, Fut>(
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handler: F,
) -> FakeServer
where
    F: Fn(BoxConn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    serve_at([127, 0, 0, 1], acceptor, handler).await
}

/// Starts a server on a chosen loopback address (all of 127.0.0.0/8 is loopback on
/// Linux), port chosen by the kernel.
pub async fn serve_at<F, Fut>(
    ip: [u8; 4],
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handler: F,
) -> FakeServer
where
    F: Fn(BoxConn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    assert_eq!(ip[0], 127, "fake servers listen on loopback only");
    let listener = TcpListener::bind((std::net::Ipv4Addr::from(ip), 0))
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    None => handler(Box::new(tcp)).await,
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            handler(Box::new(stream)).await;
                        }
                    }
                }
            });
        }
    });
    FakeServer { addr }
}

/// The self-signed test certificate as a TLS acceptor.
pub fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    acceptor_from("cert.pem", "key.pem")
}

/// The test CA's leaf certificate as a TLS acceptor: verifiable with `--ca-file ca.pem`.
pub fn signed_tls_acceptor() -> tokio_rustls::TlsAcceptor {
    acceptor_from("leaf.pem", "leaf-key.pem")
}

/// Path of a file in `tests/fixtures/tls/`.
pub fn tls_fixture(name: &str) -> String {
    format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn acceptor_from(cert: &str, key: &str) -> tokio_rustls::TlsAcceptor {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(tls_fixture(cert))
        .expect("certificate file")
        .collect::<Result<_, _>>()
        .expect("parse the certificate");
    let key = PrivateKeyDer::from_pem_file(tls_fixture(key)).expect("key file");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A probe context with a short step timeout, as tests use.
pub fn context(timeout: Duration) -> ProbeContext {
    ProbeContext::new(timeout, false, Limits::default()).expect("context")
}

/// Probes `endpoint` the way a scan does and returns the outcome.
pub async fn probe(endpoint: &Endpoint) -> Outcome {
    ajar::scan::probe_endpoint(&context(Duration::from_secs(2)), endpoint).await
}

/// Unwraps a found finding, with the outcome in the panic message otherwise.
pub fn found(outcome: Outcome) -> Finding {
    match outcome {
        Outcome::Found(finding) => *finding,
        other => panic!("expected a finding, got {other:?}"),
    }
}

/// The requests of a finding's evidence, in order.
pub fn requests(finding: &Finding) -> Vec<&str> {
    finding
        .evidence
        .iter()
        .map(|e| e.request.as_str())
        .collect()
}
