//! Network plumbing shared by every probe: TCP connect and TLS with timeouts, one rustls
//! configuration (certificates unchecked unless `--verify-tls`), and the HTTP client.
//!
//! Probes never open sockets themselves; going through here is what guarantees that every
//! connect and handshake has a deadline.

pub mod budget;
pub mod http;

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::target::Host;

/// A connected byte stream, plain or TLS, as the probes see it.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A boxed [`Stream`], so probes need not care which transport they got.
pub type BoxStream = Pin<Box<dyn Stream>>;

/// Why a connection could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The port refused (RST): closed.
    Refused,
    /// No answer to the SYN before the timeout, or no route to the host: filtered or down.
    Timeout,
    /// The host name did not resolve, or the address is unusable.
    Resolve(String),
    /// TCP connected but the TLS handshake failed (the port does not speak TLS, or the
    /// certificate failed `--verify-tls`).
    Tls(String),
    /// TCP connected but the TLS handshake got no answer before the timeout.
    TlsTimeout,
    /// Any other socket error.
    Io(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Refused => f.write_str("connection refused"),
            ConnectError::Timeout => {
                f.write_str("no answer to connect (filtered, down or no route)")
            }
            ConnectError::Resolve(e) => write!(f, "cannot resolve: {e}"),
            ConnectError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            ConnectError::TlsTimeout => f.write_str("TLS handshake timed out"),
            ConnectError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// Connection settings shared by all probes of a scan.
#[derive(Clone)]
pub struct Net {
    tls: TlsConnector,
    tls_config: Arc<ClientConfig>,
    /// Deadline for each network step: connect, handshake, one request/response.
    pub timeout: Duration,
}

impl Net {
    /// Builds the shared TLS configuration; with `verify_tls` false, any certificate is
    /// accepted (you scan your own, often self-signed, infrastructure), while handshake
    /// signatures are still checked.
    pub fn new(timeout: Duration, verify_tls: bool) -> Net {
        let tls_config = Arc::new(tls_client_config(verify_tls));
        Net {
            tls: TlsConnector::from(tls_config.clone()),
            tls_config,
            timeout,
        }
    }

    /// The rustls configuration, for the HTTP client to share.
    pub fn tls_config(&self) -> &ClientConfig {
        &self.tls_config
    }

    /// Connects to `host:port`, then does a TLS handshake when `tls` is set, each step
    /// bounded by the step timeout.
    pub async fn connect(
        &self,
        host: &Host,
        port: u16,
        tls: bool,
    ) -> Result<BoxStream, ConnectError> {
        let addrs: Vec<SocketAddr> = match host {
            Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
            Host::Name(name) => {
                let lookup = tokio::net::lookup_host((name.as_ref(), port));
                tokio::time::timeout(self.timeout, lookup)
                    .await
                    .map_err(|_| ConnectError::Resolve("lookup timed out".into()))?
                    .map_err(|e| ConnectError::Resolve(e.to_string()))?
                    // A name such as `localhost` may give ::1 and 127.0.0.1; a service often
                    // listens on one only. Two tries keep a dead name within two timeouts.
                    .take(2)
                    .collect()
            }
        };
        let mut last = ConnectError::Resolve("no address".into());
        let mut tcp = None;
        for addr in addrs {
            match self.tcp(addr).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let tcp = tcp.ok_or(last)?;
        let _ = tcp.set_nodelay(true);
        if !tls {
            return Ok(Box::pin(tcp));
        }
        let name = server_name(host)?;
        match tokio::time::timeout(self.timeout, self.tls.connect(name, tcp)).await {
            Err(_) => Err(ConnectError::TlsTimeout),
            Ok(Err(e)) => Err(ConnectError::Tls(e.to_string())),
            Ok(Ok(stream)) => Ok(Box::pin(stream)),
        }
    }
}

impl Net {
    /// One TCP connect with the step timeout, its failure sorted.
    async fn tcp(&self, addr: SocketAddr) -> Result<TcpStream, ConnectError> {
        match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
            Err(_) => Err(ConnectError::Timeout),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Err(ConnectError::Refused)
            }
            Ok(Err(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable
                ) =>
            {
                Err(ConnectError::Timeout)
            }
            Ok(Err(e)) => Err(ConnectError::Io(e.to_string())),
            Ok(Ok(tcp)) => Ok(tcp),
        }
    }
}

fn server_name(host: &Host) -> Result<ServerName<'static>, ConnectError> {
    match host {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => ServerName::try_from(name.to_string())
            .map_err(|e| ConnectError::Resolve(format!("not a TLS server name: {e}"))),
    }
}

fn tls_client_config(verify: bool) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3");
    if verify {
        builder
            .with_root_certificates(system_roots())
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            .with_no_client_auth()
    }
}

/// Trust anchors for `--verify-tls`: the system bundle, read once.
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for path in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ] {
        let Ok(pem) = std::fs::read(path) else {
            continue;
        };
        for cert in pem_certificates(&pem) {
            let _ = roots.add(cert);
        }
        if !roots.is_empty() {
            break;
        }
    }
    if let Ok(extra) = std::env::var("AJAR_CA_FILE")
        && let Ok(pem) = std::fs::read(extra)
    {
        for cert in pem_certificates(&pem) {
            let _ = roots.add(cert);
        }
    }
    roots
}

/// Extracts the DER certificates from a PEM bundle.
fn pem_certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// Accepts any server certificate but still checks the handshake signatures, so the TLS
/// session itself is sound. Used unless `--verify-tls`.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
