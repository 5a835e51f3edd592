//! ZooKeeper AdminServer (`zookeeper-admin`): captured 3.8.0, replies derived for 3.5.8 and 3.9.3.

use super::*;

fn zookeeper(srvr: &str, ruok: &str) -> Replay {
    Replay::new()
        .at("/commands/srvr", json(&format!("zookeeper-admin/{srvr}")))
        .at("/commands/ruok", json(&format!("zookeeper-admin/{ruok}")))
        .otherwise(
            Reply::new(404, fx("zookeeper-admin/3.8.0-404.html").as_str())
                .header("content-type", "text/html;charset=iso-8859-1"),
        )
}

#[tokio::test]
async fn zookeeper_3_8_0_admin_server_is_open() {
    let replay = zookeeper("3.8.0-srvr.json", "3.8.0-ruok.json");
    let (found, _) = identified("zookeeper-admin", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "zookeeper-admin-open");
    assert_eq!(found.version.as_deref(), Some("3.8.0"));
    assert_eq!(
        found.summary,
        "ZooKeeper 3.8.0 AdminServer answers without credentials: 8 znodes, standalone, 1 client connections"
    );
    assert_eq!(detail(&found, "znodes"), Some("8"));
    assert_eq!(detail(&found, "mode"), Some("standalone"));
    assert_eq!(detail(&found, "connections"), Some("1"));
}

#[tokio::test]
async fn zookeeper_3_5_and_3_9_replies_are_open() {
    for (srvr, version, znodes, mode) in [
        ("3.5.8-srvr.json", "3.5.8", "5", "standalone"),
        ("3.9.3-follower-srvr.json", "3.9.3", "21", "follower"),
    ] {
        let (found, _) = identified(
            "zookeeper-admin",
            zookeeper(srvr, "3.8.0-ruok.json"),
            &options(),
        )
        .await;
        assert_eq!(found.exposure, Some(Exposure::Open), "{srvr}");
        assert_eq!(found.version.as_deref(), Some(version));
        assert_eq!(detail(&found, "znodes"), Some(znodes));
        assert_eq!(detail(&found, "mode"), Some(mode));
    }
}

#[tokio::test]
async fn zookeeper_not_serving_is_identified_but_undetermined() {
    let replay = zookeeper("3.8.0-not-serving-srvr.json", "3.8.0-not-serving-ruok.json");
    let (found, _) = identified("zookeeper-admin", replay, &options()).await;
    assert_eq!(found.exposure, None);
    assert_eq!(found.check, "zookeeper-admin-undetermined");
    assert_eq!(found.version, None);
}

#[tokio::test]
async fn zookeeper_behind_a_basic_auth_proxy_is_not_identified() {
    let page = fx("zookeeper-admin/nginx-1.22.1-basic-401.html");
    let replay =
        Replay::new().otherwise(Reply::new(401, page.as_str()).header("content-type", "text/html"));
    let (evaluation, _) = run("zookeeper-admin", replay, &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
}

#[tokio::test]
async fn a_server_answering_srvr_everywhere_is_no_open_zookeeper() {
    let srvr = fx("zookeeper-admin/3.8.0-srvr.json");
    let (evaluation, _) = run(
        "zookeeper-admin",
        Replay::new().otherwise(Reply::json(&srvr)),
        &options(),
    )
    .await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(|| Replay::new().otherwise(Reply::json(&srvr))).await;
}
