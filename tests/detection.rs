//! Detection by protocol on any port, through the registry: a server-first greeting routes
//! straight to its probe, an unknown greeting is named, silence to one probe never ends
//! detection, and a native probe is one registry entry (a test adds its own here).

use std::time::Duration;

use ajar::finding::{Exposure, Finding, Outcome, Severity};
use ajar::probe::registry::{NativeProbe, ProbeFuture, Registry};
use ajar::probe::trace::Trace;
use ajar::probe::{ProbeContext, ProbeOutcome};
use ajar::targets::Endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::support::mongo_fake::{self, MongoProfile};
use crate::support::{FakeServer, context, serve};

/// A server-first protocol of the tests' own: the server greets with `GREETER/1 ready`.
static GREETER: NativeProbe = NativeProbe {
    id: "greeter",
    labels: ["greeter", "greeter+tls"],
    services: &[],
    schemes: &[],
    greeting: Some(|bytes| bytes.starts_with(b"GREETER/1 ")),
    answers: None,
    http_notice: None,
    default_credentials: &[],
    run: run_greeter,
};

fn run_greeter<'a>(
    _cx: &'a ProbeContext,
    endpoint: &'a Endpoint,
    _tls: bool,
    trace: &'a mut Trace,
) -> ProbeFuture<'a> {
    Box::pin(async move {
        trace.record("greeter hello", "ready");
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: endpoint.authority(),
            address: None,
            url: None,
            tls: false,
            service: "greeter".into(),
            check: String::new(),
            product: None,
            version: None,
            exposure: Exposure::AuthRequired,
            severity: Severity::Info,
            summary: "greeted".into(),
            details: Vec::new(),
            evidence: Vec::new(),
            inventory: None,
            remediation: None,
            references: Vec::new(),
        }))
    })
}

fn with_greeter(timeout: Duration) -> ProbeContext {
    let registry = Registry::shipped()
        .expect("shipped probes")
        .with_native(&GREETER);
    context(timeout).with_registry(registry)
}

/// A server that sends `greeting` on accept, then reads and ignores what comes.
async fn greeting_server(greeting: &'static [u8]) -> FakeServer {
    serve(false, move |mut conn| async move {
        let _ = conn.write_all(greeting).await;
        let mut buf = [0u8; 1024];
        while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await
}

async fn detect(cx: &ProbeContext, server: &FakeServer) -> ajar::scan::Detection {
    let deadline = Instant::now() + Duration::from_secs(20);
    ajar::scan::detect(cx, &server.endpoint(), deadline).await
}

#[tokio::test]
async fn a_greeting_routes_to_its_probe_on_any_port() {
    let server = greeting_server(b"GREETER/1 ready\r\n").await;
    let detection = detect(&with_greeter(Duration::from_secs(2)), &server).await;
    let Outcome::Found(finding) = &detection.outcome else {
        panic!("expected the greeter probe's finding, got {detection:?}");
    };
    assert_eq!(finding.service, "greeter");
    // The engine stamped the check id the one place findings are completed.
    assert_eq!(finding.check, "greeter-auth-required");
    let requests: Vec<&str> = finding
        .evidence
        .iter()
        .map(|e| e.request.as_str())
        .collect();
    assert_eq!(requests, ["greeter hello"]);
}

#[tokio::test]
async fn an_unknown_greeting_is_named_and_ends_detection() {
    let server = greeting_server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n").await;
    let detection = detect(&context(Duration::from_secs(2)), &server).await;
    let Outcome::Unidentified(note) = &detection.outcome else {
        panic!("expected unidentified, got {detection:?}");
    };
    assert!(note.contains("speaks first"), "{note}");
    assert!(note.contains("SSH-2.0-OpenSSH_9.2p1"), "{note}");
    assert!(
        detection
            .evidence
            .iter()
            .any(|e| e.probe == "greeting" && e.response.contains("SSH-2.0")),
        "{:?}",
        detection.evidence
    );
}

/// Before: the HTTP probe went first on a port no service owns, heard nothing, and the
/// endpoint was reported silent without the MongoDB probe ever running.
#[tokio::test]
async fn mongodb_silent_to_http_on_a_random_port_is_still_found() {
    let (server, log) = mongo_fake::start(MongoProfile::v7_0().with_silence_to_http()).await;
    let detection = detect(&context(Duration::from_secs(1)), &server).await;
    let Outcome::Found(finding) = &detection.outcome else {
        panic!("expected MongoDB, got {detection:?}");
    };
    assert_eq!(finding.service, "mongodb");
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.check, "mongodb-open");
    assert!(finding.remediation.is_some());
    let log = log.lock().expect("log").clone();
    assert_eq!(
        log.first().map(String::as_str),
        Some("HTTP GET (ignored)"),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_port_silent_to_every_probe_is_silent_with_every_probe_tried() {
    let server = serve(false, |mut conn| async move {
        let mut buf = [0u8; 1024];
        while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
    let detection = detect(&context(Duration::from_millis(400)), &server).await;
    assert_eq!(detection.outcome, Outcome::Silent, "{detection:?}");
    let probes: Vec<&str> = detection
        .evidence
        .iter()
        .map(|e| e.probe.as_str())
        .collect();
    assert!(probes.contains(&"http"), "{probes:?}");
    assert!(probes.contains(&"mongodb"), "{probes:?}");
}
