//! NATS server 2.9.10 as Debian bookworm packages it, started by
//! `scripts/servers/nats.server.sh`: NATS_OPEN (no authorization), NATS_TOKEN (`--auth`),
//! NATS_JETSTREAM (JetStream with the stream `ajar_probe_stream` created at setup) and
//! NATS_TLS (`--tls`). Each test scans its server, on its non-default port, as a bare
//! `127.0.0.1:PORT` target through the binary and checks the exact verdict.

use serde_json::Value;

use super::server;

/// Scans `target` (the real server `name`, or a URI for it) and returns its one finding,
/// after checking the report has nothing else; `None` when the server is not running.
async fn scan(name: &str, uri: Option<&str>) -> Option<Value> {
    let addr = server(name)?;
    let target = uri.map_or(addr.clone(), |scheme| format!("{scheme}://{addr}"));
    let (f, _) = super::scan_one(&target, &[]).await;
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "nats", "{f:#}");
    assert_eq!(f["version"], "2.9.10", "{f:#}");
    assert_eq!(f["product"], "nats-server", "{f:#}");
    Some(f.clone())
}

const CONNECT: &str = r#"CONNECT {"verbose":false,"pedantic":false,"name":"ajar"} + PING"#;

#[tokio::test]
async fn nats_without_authorization_is_open() {
    let Some(f) = scan("NATS_OPEN", None).await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "nats-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["tls"], false, "{f:#}");
    assert_eq!(f["evidence"][0]["request"], "(connect and listen)", "{f:#}");
    assert_eq!(f["evidence"][1]["request"], CONNECT, "{f:#}");
    assert_eq!(f["evidence"][1]["response"], "PONG", "{f:#}");
    assert_eq!(f["details"]["jetstream"], "false", "{f:#}");
    assert_eq!(f["details"]["max_payload"], "1048576", "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
}

#[tokio::test]
async fn nats_with_a_token_requires_authentication() {
    let Some(f) = scan("NATS_TOKEN", None).await else {
        return;
    };
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "nats-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    // INFO says auth_required: nothing is sent, so the evidence is the INFO alone.
    let evidence = f["evidence"].as_array().expect("evidence");
    assert_eq!(evidence.len(), 1, "{f:#}");
    assert!(
        evidence[0]["response"]
            .as_str()
            .is_some_and(|r| r.contains("auth_required true")),
        "{f:#}"
    );
}

#[tokio::test]
async fn nats_jetstream_lists_the_stream_created_at_setup() {
    let Some(f) = scan("NATS_JETSTREAM", None).await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["check"], "nats-open", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["details"]["jetstream"], "true", "{f:#}");
    let inventory = &f["inventory"];
    assert_eq!(inventory["unit"], "stream", "{f:#}");
    assert_eq!(inventory["total_items"], 1, "{f:#}");
    assert_eq!(inventory["items"][0]["name"], "ajar_probe_stream", "{f:#}");
    assert_eq!(
        f["evidence"][2]["response"], "stream_names_response: total 1, streams [ajar_probe_stream]",
        "{f:#}"
    );
}

#[tokio::test]
async fn nats_with_tls_required_is_open_after_the_upgrade() {
    let Some(f) = scan("NATS_TLS", None).await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["tls"], true, "{f:#}");
    assert_eq!(
        f["evidence"][1]["request"], "TLS upgrade (INFO tls_required)",
        "{f:#}"
    );
    assert_eq!(f["evidence"][2]["response"], "PONG", "{f:#}");
    // tls:// pins NATS over TLS: the TLS-first attempt fails, then INFO and the upgrade.
    let Some(f) = scan("NATS_TLS", Some("tls")).await else {
        return;
    };
    assert_eq!(f["exposure"], "open", "{f:#}");
    assert_eq!(f["tls"], true, "{f:#}");
    assert_eq!(f["evidence"][0]["request"], "TLS handshake", "{f:#}");
}
