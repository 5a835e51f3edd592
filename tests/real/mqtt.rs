//! Mosquitto 2.0.11 as Debian bookworm packages it (`mosquitto`), started by
//! `scripts/servers/mqtt.server.sh`: MQTT_OPEN (allow_anonymous true, one retained message
//! on `ajar/probe/retained` whose random payload is written to the file MQTT_OPEN_PAYLOAD
//! names), MQTT_AUTH (allow_anonymous false with a password_file) and MQTT_TLS (a TLS-only
//! anonymous listener with the test certificate of `tests/fixtures/tls/`) and MQTT_ACL
//! (anonymous, with an empty acl_file that denies every read). Each is scanned
//! through the binary on its own non-default port (no port hint: detection by protocol)
//! and as an `mqtt://` (`mqtts://`) target.

use serde_json::Value;

use super::server;

/// Scans `target` through the binary and returns its one finding, after checking the
/// report has nothing else, with the report's whole text.
async fn scan(target: &str) -> (Value, String) {
    let (f, text) = super::scan_one(target, &[]).await;
    (f, text)
}

/// The requests of a finding's evidence.
fn requests(f: &Value) -> Vec<&str> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["request"].as_str())
        .collect()
}

#[tokio::test]
async fn anonymous_mosquitto_is_open_with_its_retained_topic() {
    let (Some(addr), Some(payload_file)) = (server("MQTT_OPEN"), server("MQTT_OPEN_PAYLOAD"))
    else {
        return;
    };
    let payload = std::fs::read_to_string(&payload_file).expect("the retained payload");
    assert!(payload.starts_with("ajar-retained-payload-"), "{payload}");
    for target in [addr.clone(), format!("mqtt://{addr}")] {
        let (f, text) = scan(&target).await;
        assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
        assert_eq!(
            (
                &f["service"],
                &f["exposure"],
                &f["check"],
                &f["product"],
                &f["version"]
            ),
            (
                &Value::from("mqtt"),
                &Value::from("open"),
                &Value::from("mqtt-open"),
                &Value::from("Mosquitto"),
                &Value::from("2.0.11")
            ),
            "{f:#}"
        );
        // A user topic that holds a retained message: the product's open severity.
        assert_eq!(f["severity"], "high", "{f:#}");
        assert_eq!(f["tls"], false);
        assert_eq!(f["details"]["protocol"], "3.1.1", "{f:#}");
        let items = f["inventory"]["items"].as_array().expect("items");
        assert_eq!(items[0]["name"], "ajar/probe/retained", "{f:#}");
        assert_eq!(items[0]["size_bytes"], payload.len(), "{f:#}");
        assert_eq!(items[0]["system"], false, "{f:#}");
        assert!(
            items
                .iter()
                .any(|i| i["name"] == "$SYS/broker/version" && i["system"] == true),
            "{f:#}"
        );
        assert_eq!(f["inventory"]["user_items"], 1, "{f:#}");
        assert_eq!(
            requests(&f),
            [
                "CONNECT MQTT 3.1.1 (level 4), clean session, keepalive 10, no username or password",
                "SUBSCRIBE # and $SYS/# (QoS 0), retained topic names for 1000 ms, payloads discarded",
                "DISCONNECT"
            ],
            "{f:#}"
        );
        assert_eq!(
            f["evidence"][0]["response"], "CONNACK return code 0 (connection accepted)",
            "{f:#}"
        );
        assert!(
            !text.contains(&payload),
            "the retained payload leaked: {text}"
        );
        assert!(!text.contains("ajar-retained-payload"), "{text}");
    }
}

#[tokio::test]
async fn mosquitto_with_a_password_file_requires_credentials() {
    let Some(addr) = server("MQTT_AUTH") else {
        return;
    };
    let (f, _) = scan(&addr).await;
    assert_eq!(
        (&f["service"], &f["exposure"], &f["check"], &f["severity"]),
        (
            &Value::from("mqtt"),
            &Value::from("auth-required"),
            &Value::from("mqtt-auth-required"),
            &Value::from("info")
        ),
        "{f:#}"
    );
    assert!(f["version"].is_null(), "{f:#}");
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(
        requests(&f),
        ["CONNECT MQTT 3.1.1 (level 4), clean session, keepalive 10, no username or password"],
        "{f:#}"
    );
    assert_eq!(
        f["evidence"][0]["response"], "CONNACK return code 5 (not authorized)",
        "{f:#}"
    );
}

/// The TLS-only listener resets a plain-text CONNECT; detection retries over TLS, and
/// `mqtts://` goes there at once. Only `$SYS` topics hold retained messages here: open,
/// at the severity of system data only.
#[tokio::test]
async fn mosquitto_over_tls_is_found_on_any_port_and_as_mqtts() {
    let Some(addr) = server("MQTT_TLS") else {
        return;
    };
    for target in [addr.clone(), format!("mqtts://{addr}")] {
        let (f, _) = scan(&target).await;
        assert_eq!(
            (
                &f["service"],
                &f["exposure"],
                &f["check"],
                &f["version"],
                &f["tls"]
            ),
            (
                &Value::from("mqtt"),
                &Value::from("open"),
                &Value::from("mqtt-open"),
                &Value::from("2.0.11"),
                &Value::from(true)
            ),
            "{target}: {f:#}"
        );
        assert_eq!(f["severity"], "medium", "{f:#}");
        assert_eq!(f["inventory"]["user_items"], 0, "{f:#}");
        assert_eq!(f["evidence"][0]["probe"], "mqtts", "{f:#}");
        assert_eq!(
            f["evidence"][0]["response"], "CONNACK return code 0 (connection accepted)",
            "{f:#}"
        );
    }
}

/// An empty acl_file: Mosquitto accepts the anonymous client and grants `#`, then delivers
/// nothing. Not open: nothing could be read.
#[tokio::test]
async fn mosquitto_whose_acl_denies_reads_is_undetermined() {
    let Some(addr) = server("MQTT_ACL") else {
        return;
    };
    let (f, _) = scan(&addr).await;
    assert_eq!(
        (&f["service"], &f["exposure"], &f["check"], &f["severity"]),
        (
            &Value::from("mqtt"),
            &Value::from("undetermined"),
            &Value::from("mqtt-undetermined"),
            &Value::from("low")
        ),
        "{f:#}"
    );
    assert!(f["inventory"].is_null(), "{f:#}");
    assert_eq!(
        f["summary"],
        "MQTT broker accepts anonymous MQTT 3.1.1 clients and grants # but sent no retained message within 1000 ms: an ACL may deny reads, or nothing is retained",
        "{f:#}"
    );
    assert_eq!(
        f["evidence"][1]["response"],
        "SUBACK #: granted QoS 0, $SYS/#: granted QoS 0; 0 retained topics (0 outside $SYS)",
        "{f:#}"
    );
}
