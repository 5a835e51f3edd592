//! RabbitMQ 3.10.8 as Debian bookworm packages it (`rabbitmq-server`), started by
//! `scripts/servers/rabbitmq.server.sh` as two nodes: RABBITMQ_AMQP_GUEST (node
//! `ajar_probe`, the default user guest/guest, which the broker lets in from loopback) and
//! RABBITMQ_AMQP_NOGUEST (node `ajar_noguest`, whose default user is a random name and
//! password, so there is no guest). Both listen on ports no AMQP default owns, so detection
//! finds them by protocol.

use serde_json::Value;

use super::server;
use crate::support::cli::{Run, json, stderr};

/// Scans the real server `name` through the binary (`scan ADDR -f json --timeout 5s`, plus
/// `flags`) and returns its one finding, after checking the fields every finding of these
/// nodes shares. `None` when the server is not running.
async fn scan(name: &str, node: &str, flags: &[&str]) -> Option<Value> {
    let addr = server(name)?;
    let mut run = Run::new(&["scan", &addr, "-f", "json", "--timeout", "5s"]);
    for flag in flags {
        run = run.arg(*flag);
    }
    let out = run.output().await;
    let report = json(&out);
    let results = report["results"].as_array().expect("results");
    let [f] = results.as_slice() else {
        panic!(
            "{name}: one finding expected: {report:#}, stderr {}",
            stderr(&out)
        );
    };
    for list in ["unidentified", "silent", "errors"] {
        assert_eq!(
            report[list],
            serde_json::json!([]),
            "{name}: {list}: {report:#}"
        );
    }
    assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
    assert_eq!(f["service"], "amqp", "{f:#}");
    assert_eq!(f["tls"], false, "{f:#}");
    assert_eq!(f["product"], "RabbitMQ", "{f:#}");
    assert_eq!(f["version"], "3.10.8", "{f:#}");
    let details = &f["details"];
    assert_eq!(details["amqp_version"], "0-9", "{f:#}");
    assert_eq!(details["mechanisms"], "PLAIN AMQPLAIN", "{f:#}");
    assert_eq!(details["locales"], "en_US", "{f:#}");
    assert!(
        details["platform"]
            .as_str()
            .is_some_and(|p| p.starts_with("Erlang/OTP ")),
        "{f:#}"
    );
    // The cluster is named after the node (`ajar_probe@<host name>`).
    assert!(
        details["cluster_name"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("{node}@"))),
        "{f:#}"
    );
    assert!(f["inventory"].is_null(), "{f:#}");
    Some(f.clone())
}

/// The evidence rows as (request, response).
fn evidence(f: &Value) -> Vec<(&str, &str)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["request"].as_str().unwrap_or_default(),
                e["response"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

const HEADER_REQUEST: &str = "protocol header AMQP\\x00\\x00\\x09\\x01 (AMQP 0-9-1)";

fn assert_auth_required(f: &Value) {
    assert_eq!(f["exposure"], "auth-required", "{f:#}");
    assert_eq!(f["check"], "amqp-auth-required", "{f:#}");
    assert_eq!(f["severity"], "info", "{f:#}");
    assert!(f["details"]["user"].is_null(), "{f:#}");
    assert!(f["details"]["vhost"].is_null(), "{f:#}");
}

#[tokio::test]
async fn rabbitmq_plain_scans_are_auth_required_from_connection_start() {
    for (name, node) in [
        ("RABBITMQ_AMQP_GUEST", "ajar_probe"),
        ("RABBITMQ_AMQP_NOGUEST", "ajar_noguest"),
    ] {
        let Some(f) = scan(name, node, &[]).await else {
            return;
        };
        assert_auth_required(&f);
        assert_eq!(
            f["summary"],
            "RabbitMQ 3.10.8 requires a login: SASL mechanisms PLAIN AMQPLAIN (--default-credentials tries guest/guest)",
            "{f:#}"
        );
        let rows = evidence(&f);
        assert_eq!(rows.len(), 1, "the header alone, no login: {f:#}");
        assert_eq!(rows[0].0, HEADER_REQUEST, "{f:#}");
        assert!(
            rows[0]
                .1
                .starts_with("Connection.Start 0-9: product RabbitMQ, version 3.10.8"),
            "{f:#}"
        );
    }
}

#[tokio::test]
async fn rabbitmq_guest_guest_opens_vhost_slash() {
    let Some(f) = scan(
        "RABBITMQ_AMQP_GUEST",
        "ajar_probe",
        &["--default-credentials"],
    )
    .await
    else {
        return;
    };
    assert_eq!(f["exposure"], "default-credentials", "{f:#}");
    assert_eq!(f["check"], "amqp-default-credentials", "{f:#}");
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["details"]["user"], "guest", "{f:#}");
    assert_eq!(f["details"]["vhost"], "/", "{f:#}");
    assert_eq!(
        evidence(&f)[1..],
        [
            (
                "Connection.StartOk mechanism PLAIN, user guest",
                "Connection.Tune: channel_max 2047, frame_max 131072, heartbeat 60"
            ),
            (
                "Connection.TuneOk, Connection.Open vhost /",
                "Connection.OpenOk: vhost / is open"
            ),
            ("Connection.Close 200", "Connection.CloseOk"),
        ],
        "{f:#}"
    );
}

#[tokio::test]
async fn rabbitmq_without_guest_refuses_it() {
    let Some(f) = scan(
        "RABBITMQ_AMQP_NOGUEST",
        "ajar_noguest",
        &["--default-credentials"],
    )
    .await
    else {
        return;
    };
    assert_auth_required(&f);
    assert_eq!(
        evidence(&f)[1],
        (
            "Connection.StartOk mechanism PLAIN, user guest",
            "Connection.Close 403: ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."
        ),
        "{f:#}"
    );
}
