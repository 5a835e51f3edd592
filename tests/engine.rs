//! The per-endpoint engine against servers that misbehave across protocols: a TLS
//! attempt that stalls is a note, never "unreachable", and the other probes still run.

use std::time::Duration;

use ajar::finding::Outcome;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{FakeServer, context};

/// A port that hangs up on plain text at once (as a TLS-only port does, ES-13/MG-08) and,
/// offered a TLS ClientHello, reads it and never answers.
async fn tls_staller() -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if matches!(tcp.peek(&mut first).await, Ok(1)) && first[0] == 0x16 {
                    let mut buf = [0u8; 4096];
                    while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
                } else {
                    let _ = tcp.shutdown().await;
                }
            });
        }
    });
    FakeServer { addr }
}

/// Before: the HTTP probe's TLS retry timed out in the handshake, the endpoint was
/// counted "unreachable" (never listed), and the MongoDB probe never ran.
#[tokio::test]
async fn a_stalled_tls_attempt_is_a_note_and_detection_goes_on() {
    let server = tls_staller().await;
    let cx = context(Duration::from_millis(400));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let detection = ajar::scan::detect(&cx, &server.endpoint(), deadline).await;
    let Outcome::Unidentified(note) = &detection.outcome else {
        panic!("expected unidentified, got {:?}", detection.outcome);
    };
    assert!(
        note.contains("https: no TLS answer before the timeout (handshake or request stalled)"),
        "{note}"
    );
    let probes: Vec<&str> = detection
        .evidence
        .iter()
        .map(|e| e.probe.as_str())
        .collect();
    assert!(probes.contains(&"https"), "{probes:?}");
    assert!(
        probes.contains(&"mongodb"),
        "the MongoDB probe got its turn: {probes:?}"
    );
    let stalled = detection
        .evidence
        .iter()
        .find(|e| e.probe == "https" && e.request == "TLS handshake")
        .expect("the stall is in the evidence");
    assert!(stalled.response.contains("no TLS answer"), "{stalled:?}");
}

/// An HTTP server whose response head is too large to read (2,000 headers) spoke HTTP:
/// it is unknown, not "silent" after a pointless TLS retry and MongoDB probe (before: the
/// parse error read as "not HTTP", the TLS retry stalled, and the endpoint was "silent").
#[tokio::test]
async fn an_http_answer_with_a_huge_head_is_unknown_not_silent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                let mut head = String::from("HTTP/1.1 200 OK\r\n");
                for i in 0..2000 {
                    head.push_str(&format!("x-h{i}: {}\r\n", "a".repeat(100)));
                }
                head.push_str("content-length: 0\r\n\r\n");
                let _ = tcp.write_all(head.as_bytes()).await;
                // Then wait, as a server reading the next request would.
                while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let server = FakeServer { addr };
    let cx = context(Duration::from_millis(400));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let detection = ajar::scan::detect(&cx, &server.endpoint(), deadline).await;
    assert_eq!(
        detection.outcome,
        Outcome::Unidentified(
            "http: an HTTP response head too large to read (too many or too long headers)".into()
        )
    );
}

/// A port that hangs up on HTTP at once but holds binary connections open without a word
/// (neither TLS nor MongoDB answers) is not "silent": it hung up on a request. Its notes
/// say what each probe met (before: `silent`, and the notes were dropped).
#[tokio::test]
async fn a_port_that_hangs_up_on_http_and_ignores_the_rest_is_unknown_with_notes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut first = [0u8; 4];
                if matches!(tcp.peek(&mut first).await, Ok(4)) && &first == b"GET " {
                    let _ = tcp.shutdown().await;
                    return;
                }
                let mut buf = [0u8; 4096];
                while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let server = FakeServer { addr };
    let cx = context(Duration::from_millis(300));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let detection = ajar::scan::detect(&cx, &server.endpoint(), deadline).await;
    let Outcome::Unidentified(note) = &detection.outcome else {
        panic!("expected unidentified, got {:?}", detection.outcome);
    };
    assert!(
        note.starts_with("http: connection closed without a response"),
        "{note}"
    );
    assert!(
        note.contains("mongodb: no answer before the timeout"),
        "{note}"
    );
}
