//! Hadoop HDFS NameNode (`hadoop-hdfs`) and YARN ResourceManager (`hadoop-yarn`): published and documented replies of 2.x and 3.x.

use super::*;

const NNINFO: &str = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo";
const NNSTATUS: &str = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus";
const WEBHDFS_ROOT: &str = "/webhdfs/v1/?op=LISTSTATUS";

fn spnego_401(page: &str) -> Reply {
    Reply::new(401, fx(page).as_str())
        .header("content-type", "text/html; charset=iso-8859-1")
        .header("www-authenticate", "Negotiate")
}

#[tokio::test]
async fn hdfs_2_9_root_listing_is_open_with_names() {
    let replay = Replay::new()
        .at(NNINFO, json("hadoop-hdfs/2.9.2-nninfo.json"))
        .at(NNSTATUS, json("hadoop-hdfs/2.9.2-nnstatus.json"))
        .at(
            WEBHDFS_ROOT,
            json("hadoop-hdfs/2.7-hdp-root-liststatus.json"),
        );
    let (found, _) = identified("hadoop-hdfs", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "hadoop-hdfs-open");
    assert_eq!(found.version.as_deref(), Some("2.9.2"));
    assert_eq!(
        found.summary,
        "HDFS 2.9.2 NameNode lists its file system without credentials (WebHDFS as the default web user): 2 entries at /, 19 files and directories in all"
    );
    assert_eq!(detail(&found, "state"), Some("active"));
    assert_eq!(detail(&found, "kerberos"), Some("false"));
    assert_eq!(names(&found), ["tmp", "user"]);
    let inventory = found.inventory.as_ref().expect("inventory");
    assert_eq!(
        (
            inventory.unit.as_str(),
            inventory.total_items,
            inventory.user_items
        ),
        ("path", 2, 2)
    );
}

#[tokio::test]
async fn hdfs_2_10_on_9870_lists_an_older_style_root() {
    let replay = Replay::new()
        .at(NNINFO, json("hadoop-hdfs/2.10.0-nninfo.json"))
        .at(NNSTATUS, json("hadoop-hdfs/2.x-nnstatus-minimal.json"))
        .at(
            WEBHDFS_ROOT,
            json("hadoop-hdfs/1.x-knox-root-liststatus.json"),
        );
    let (found, _) = identified("hadoop-hdfs", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("2.10.0"));
    assert_eq!(detail(&found, "entries"), Some("4"));
    assert_eq!(detail(&found, "files"), Some("1034"));
    assert_eq!(names(&found), ["apps", "mapred", "tmp", "user"]);
}

#[tokio::test]
async fn hdfs_with_kerberos_webhdfs_is_auth_required() {
    let replay = Replay::new()
        .at(NNINFO, json("hadoop-hdfs/2.9.2-nninfo.json"))
        .at(NNSTATUS, json("hadoop-hdfs/2.9.2-kerberos-nnstatus.json"))
        .at(
            WEBHDFS_ROOT,
            spnego_401("hadoop-hdfs/2.x-jetty6-webhdfs-401.html"),
        );
    let (found, _) = identified("hadoop-hdfs", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "hadoop-hdfs-auth-required");
    assert_eq!(
        found.summary,
        "HDFS 2.9.2 NameNode refuses WebHDFS without credentials (Kerberos: true)"
    );
    assert!(found.inventory.is_none());
}

#[tokio::test]
async fn a_standby_namenode_is_undetermined_not_protected() {
    let standby = Reply::new(403, fx("hadoop-hdfs/3.x-standby-403.json").as_str())
        .header("content-type", "application/json");
    let replay = Replay::new()
        .at(NNINFO, json("hadoop-hdfs/2.9.2-nninfo.json"))
        .at(NNSTATUS, json("hadoop-hdfs/2.9.2-standby-nnstatus.json"))
        .at(WEBHDFS_ROOT, standby);
    let (found, _) = identified("hadoop-hdfs", replay, &options()).await;
    assert_eq!(found.exposure, None);
    assert_eq!(found.check, "hadoop-hdfs-undetermined");
    assert_eq!(detail(&found, "state"), Some("standby"));
}

#[tokio::test]
async fn hdfs_all_behind_spnego_is_never_open() {
    let make = || Replay::new().otherwise(spnego_401("hadoop-hdfs/2.x-jetty6-webhdfs-401.html"));
    let (evaluation, _) = run("hadoop-hdfs", make(), &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(make).await;
}

#[tokio::test]
async fn the_honeytrap_namenode_emulation_is_no_hdfs() {
    let make = || {
        Replay::new()
            .at(
                NNINFO,
                Reply::new(200, fx("hadoop-hdfs/honeytrap-nninfo.txt").as_str())
                    .header("content-type", "application/json; charset=utf-8"),
            )
            .at(NNSTATUS, json("hadoop-hdfs/honeytrap-nnstatus.json"))
    };
    let (evaluation, _) = run("hadoop-hdfs", make(), &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(make).await;
}

#[tokio::test]
async fn a_canned_namenode_bean_for_every_query_is_no_hdfs() {
    let bean = fx("hadoop-hdfs/2.9.2-nninfo.json");
    let make = || Replay::new().otherwise(Reply::json(&bean));
    let (evaluation, _) = run("hadoop-hdfs", make(), &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(make).await;
}

// ---- Hadoop YARN -------------------------------------------------------------------------

const YARN_APPS: &str = "/ws/v1/cluster/apps?limit=100";

fn yarn(info: &str, metrics: &str, apps: Reply) -> Replay {
    Replay::new()
        .at("/ws/v1/cluster/info", json(&format!("hadoop-yarn/{info}")))
        .at(
            "/ws/v1/cluster/metrics",
            json(&format!("hadoop-yarn/{metrics}")),
        )
        .at(YARN_APPS, apps)
}

#[tokio::test]
async fn yarn_3_answering_dr_who_is_open_and_critical() {
    let replay = yarn(
        "3.x-docs-cluster-info.json",
        "3.x-docs-cluster-metrics.json",
        json("hadoop-yarn/docs-cluster-apps.json"),
    );
    let (found, replay) = identified("hadoop-yarn", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "hadoop-yarn-open");
    assert_eq!(found.version.as_deref(), Some("3.0.0-SNAPSHOT"));
    assert_eq!(
        found.summary,
        "Hadoop YARN 3.0.0-SNAPSHOT ResourceManager answers its REST API as dr.who without credentials (the API that submits applications, i.e. runs code): 0 applications submitted, 0 running, 1 active nodes"
    );
    assert_eq!(detail(&found, "ha_state"), Some("ACTIVE"));
    assert_eq!(names(&found), ["word count", "Sleep job"]);
    assert_eq!(
        found.inventory.as_ref().map(|i| i.unit.as_str()),
        Some("application")
    );
    assert!(
        replay
            .requests()
            .iter()
            .all(|r| !r.path.contains("new-application"))
    );
    let rules = RuleSet::shipped().expect("shipped");
    assert_eq!(
        rules.get("hadoop-yarn").map(|r| r.severity.as_str()),
        Some("critical")
    );
}

#[tokio::test]
async fn yarn_2_with_no_applications_is_open_without_inventory() {
    let replay = yarn(
        "0.23-docs-cluster-info.json",
        "2.x-docs-cluster-metrics.json",
        json("hadoop-yarn/empty-cluster-apps.json"),
    );
    let (found, _) = identified("hadoop-yarn", replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("0.23.1-SNAPSHOT"));
    assert_eq!(detail(&found, "nodes"), Some("1"));
    assert_eq!(detail(&found, "ha_state"), None);
    assert!(found.inventory.is_none());
}

#[tokio::test]
async fn yarn_refusing_its_application_list_is_auth_required() {
    let apps = spnego_401("hadoop-yarn/3.x-jetty9-spnego-401.html");
    let (found, _) = identified(
        "hadoop-yarn",
        yarn(
            "3.x-docs-cluster-info.json",
            "3.x-docs-cluster-metrics.json",
            apps,
        ),
        &options(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "hadoop-yarn-auth-required");
    assert!(found.inventory.is_none());
}

#[tokio::test]
async fn yarn_all_behind_spnego_or_a_cluster_info_catch_all_is_never_open() {
    let page = || spnego_401("hadoop-yarn/3.x-jetty9-spnego-401.html");
    let (evaluation, _) = run("hadoop-yarn", Replay::new().otherwise(page()), &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(|| Replay::new().otherwise(page())).await;
    let info = fx("hadoop-yarn/3.x-docs-cluster-info.json");
    let (evaluation, _) = run(
        "hadoop-yarn",
        Replay::new().otherwise(Reply::json(&info)),
        &options(),
    )
    .await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(|| Replay::new().otherwise(Reply::json(&info))).await;
}
