//! Network plumbing shared by every probe: TCP connect and TLS with timeouts, one rustls
//! configuration (certificates unchecked unless `--verify-tls`), and the HTTP client.
//!
//! Probes never open sockets themselves; going through here is what guarantees that every
//! connect and handshake has a deadline.

pub mod budget;
pub mod http;

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::targets::Host;

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
    /// TCP connected but the TLS handshake failed: the port does not speak TLS.
    Tls(String),
    /// The server speaks TLS but its certificate failed `--verify-tls`.
    Certificate(String),
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
            ConnectError::Certificate(e) => {
                write!(f, "TLS certificate not trusted (--verify-tls): {e}")
            }
            ConnectError::TlsTimeout => f.write_str("TLS handshake timed out"),
            ConnectError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// Host names of a scan and the address each is scanned at, resolved once before the
/// first probe (see `targets::resolve`).
pub type Names = Arc<HashMap<Arc<str>, IpAddr>>;

/// How server certificates are treated.
#[derive(Debug, Clone)]
pub enum TlsPolicy {
    /// Any certificate is accepted (you scan your own, often self-signed, infrastructure);
    /// handshake signatures are still checked.
    AcceptAny,
    /// Certificates must chain to these roots (`--verify-tls`, `--ca-file`).
    Verify(Arc<rustls::RootCertStore>),
}

/// Why trust anchors could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    /// A `--ca-file` could not be read.
    #[error("cannot read the CA file {path}: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A `--ca-file` holds no PEM certificate.
    #[error("the CA file {path} holds no PEM certificate (BEGIN CERTIFICATE)")]
    NoCertificates {
        /// The file.
        path: PathBuf,
    },
    /// Neither the system nor `--ca-file` gave a single trust anchor.
    #[error(
        "--verify-tls found no trusted roots on this system (SSL_CERT_FILE, SSL_CERT_DIR or the system store); give --ca-file"
    )]
    NoRoots,
}

/// Largest CA bundle read: the whole Mozilla bundle is about 200 KiB.
const MAX_CA_FILE: u64 = 16 << 20;

impl TlsPolicy {
    /// Verification against the system's roots (`rustls-native-certs`: honours
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus every certificate of `ca_files`.
    pub fn verify(ca_files: &[PathBuf]) -> Result<TlsPolicy, RootsError> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        for error in native.errors {
            tracing::debug!(%error, "system trust store");
        }
        for path in ca_files {
            for cert in read_ca_file(path)? {
                roots.add(cert).map_err(|e| RootsError::Unreadable {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        if roots.is_empty() {
            return Err(RootsError::NoRoots);
        }
        Ok(TlsPolicy::Verify(Arc::new(roots)))
    }
}

/// The certificates of a PEM file, read within [`MAX_CA_FILE`].
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, RootsError> {
    use rustls::pki_types::pem::PemObject;
    let unreadable = |message: String| RootsError::Unreadable {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(|e| unreadable(e.to_string()))?;
    if pem.len() as u64 > MAX_CA_FILE {
        return Err(unreadable(format!(
            "larger than {} MiB; a CA bundle is a few hundred KiB",
            MAX_CA_FILE >> 20
        )));
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(RootsError::NoCertificates {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// Connection settings shared by all probes of a scan.
#[derive(Clone)]
pub struct Net {
    tls: TlsConnector,
    tls_config: Arc<ClientConfig>,
    names: Names,
    /// Deadline for each network step: connect, handshake, one request/response.
    pub timeout: Duration,
}

impl Net {
    /// Builds the shared TLS configuration from `policy`; `names` maps each host name of
    /// the scan to the address it is scanned at.
    pub fn new(timeout: Duration, policy: &TlsPolicy, names: Names) -> Net {
        let tls_config = Arc::new(tls_client_config(policy));
        Net {
            tls: TlsConnector::from(tls_config.clone()),
            tls_config,
            names,
            timeout,
        }
    }

    /// The rustls configuration, for the HTTP client to share.
    pub fn tls_config(&self) -> &ClientConfig {
        &self.tls_config
    }

    /// The names of the scan and their addresses, for the HTTP client to share.
    pub fn names(&self) -> &Names {
        &self.names
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
            // Resolved once before the scan: every probe connects to the same address.
            Host::Name(name) if self.names.contains_key(name) => self
                .names
                .get(name)
                .map(|ip| SocketAddr::new(*ip, port))
                .into_iter()
                .collect(),
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
            Ok(Err(e)) if is_certificate_error(&e) => Err(ConnectError::Certificate(e.to_string())),
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

/// Whether a TLS failure is the certificate's (the server speaks TLS but is not trusted),
/// as rustls reports it inside an `io::Error`.
pub fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    for _ in 0..16 {
        let Some(err) = next else { return false };
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        if let Some(inner) = err.downcast_ref::<io::Error>().and_then(|io| io.get_ref())
            && is_certificate_error(inner)
        {
            return true;
        }
        next = err.source();
    }
    false
}

fn tls_client_config(policy: &TlsPolicy) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3");
    match policy {
        TlsPolicy::Verify(roots) => builder
            .with_root_certificates(roots.clone())
            .with_no_client_auth(),
        TlsPolicy::AcceptAny => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            .with_no_client_auth(),
    }
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
