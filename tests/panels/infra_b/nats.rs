//! NATS server monitoring (`nats-monitoring`): captured 2.9.10 and documented 2.0.0 replies.

use super::*;

fn nats(varz: &str, connz: &str) -> Replay {
    Replay::new()
        .at("/varz", json(&format!("nats-monitoring/{varz}")))
        .at("/connz?limit=1", json(&format!("nats-monitoring/{connz}")))
}

#[tokio::test]
async fn nats_2_9_10_monitoring_is_open_with_counts_only() {
    let replay = nats("2.9.10-varz.json", "2.9.10-connz-limit1.json");
    let (found, replay) = identified("nats-monitoring", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "nats-monitoring-open");
    assert_eq!(found.version.as_deref(), Some("2.9.10"));
    assert_eq!(
        found.summary,
        "NATS 2.9.10 monitoring answers without credentials: 2 client connections, 45 subscriptions"
    );
    assert_eq!(
        found.details,
        vec![
            ("connections".to_string(), "2".to_string()),
            ("subscriptions".to_string(), "45".to_string())
        ]
    );
    assert!(found.inventory.is_none());
    // No client name or address from connz is kept anywhere.
    assert!(!format!("{found:?}").contains("orders-worker"));
    let paths: Vec<String> = replay.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/varz", "/connz?limit=1", "/ajar-3f9c0d2b7a4e"]);
}

#[tokio::test]
async fn nats_2_0_0_documented_replies_are_open() {
    let replay = nats("2.0.0-varz.json", "2.x-docs-connz.json");
    let (found, _) = identified("nats-monitoring", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("2.0.0"));
    assert_eq!(detail(&found, "connections"), Some("2"));
    assert_eq!(detail(&found, "subscriptions"), Some("0"));
}

#[tokio::test]
async fn nats_with_client_auth_still_exposes_monitoring() {
    let replay = nats(
        "2.9.10-client-auth-varz.json",
        "2.9.10-client-auth-connz.json",
    );
    let (found, _) = identified("nats-monitoring", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "nats-monitoring-open");
    assert_eq!(detail(&found, "connections"), Some("0"));
    assert_eq!(detail(&found, "client_auth_required"), Some("true"));
}

#[tokio::test]
async fn nats_behind_a_basic_auth_proxy_is_not_identified() {
    let page = fx("nats-monitoring/nginx-1.22.1-basic-401.html");
    let replay = Replay::new().otherwise(
        Reply::new(401, page.as_str())
            .header("content-type", "text/html")
            .header("www-authenticate", "Basic realm=\"Restricted\""),
    );
    let (evaluation, _) = run("nats-monitoring", replay, &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
}

#[tokio::test]
async fn a_server_answering_varz_everywhere_is_no_open_nats() {
    let varz = fx("nats-monitoring/2.9.10-varz.json");
    let (evaluation, _) = run(
        "nats-monitoring",
        Replay::new().otherwise(Reply::json(&varz)),
        &options(),
    )
    .await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(|| Replay::new().otherwise(Reply::json(&varz))).await;
}
