//! NATS monitoring, ZooKeeper AdminServer, Hadoop HDFS and YARN, Airflow and RabbitMQ
//! management: each probe against its product's captured or documented replies (fixtures
//! in `tests/fixtures/panels/<id>/`, sources in each folder's SOURCES.md), its protected
//! variants, and look-alikes that no shipped probe may report open.

use ajar::finding::Exposure;
use ajar::rules::{EvalOptions, Evaluation, Identified, Replay, Reply, RuleSet, evaluate};

fn options() -> EvalOptions {
    EvalOptions {
        default_credentials: false,
        max_items: 1000,
    }
}

fn with_credentials() -> EvalOptions {
    EvalOptions {
        default_credentials: true,
        ..options()
    }
}

/// A fixture file's text, by `<id>/<file>` under tests/fixtures/panels.
fn fx(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/panels/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn json(name: &str) -> Reply {
    Reply::json(&fx(name))
}

/// Runs the shipped probe `id` and returns the evaluation and the requests sent. Without
/// default credentials, asserts that only GET/HEAD went out and none carried credentials.
async fn run(id: &str, mut replay: Replay, opts: &EvalOptions) -> (Evaluation, Replay) {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let rule = rules.get(id).expect("probe is shipped");
    let evaluation = evaluate(rule, &mut replay, opts).await;
    if !opts.default_credentials {
        for r in replay.requests() {
            assert!(
                matches!(r.method.as_str(), "GET" | "HEAD"),
                "{id} sent {}",
                r.shown
            );
            assert!(r.basic_auth.is_none(), "{id} sent credentials: {}", r.shown);
        }
    }
    (evaluation, replay)
}

async fn identified(id: &str, replay: Replay, opts: &EvalOptions) -> (Identified, Replay) {
    match run(id, replay, opts).await {
        (Evaluation::Identified(found), replay) => (found, replay),
        (other, _) => panic!("{id} not identified: {other:?}"),
    }
}

fn detail<'a>(found: &'a Identified, name: &str) -> Option<&'a str> {
    found
        .details
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn names(found: &Identified) -> Vec<&str> {
    let inventory = found.inventory.as_ref().expect("an inventory");
    inventory.items.iter().map(|d| d.name.as_str()).collect()
}

/// Every shipped probe against a look-alike (a fresh replay each): none may call it open or
/// report default credentials, with or without `--default-credentials`.
async fn no_probe_opens(make: impl Fn() -> Replay) {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    assert!(!rules.is_empty());
    for opts in [options(), with_credentials()] {
        for rule in rules.iter() {
            let mut replay = make();
            let evaluation = evaluate(rule, &mut replay, &opts).await;
            if let Evaluation::Identified(found) = &evaluation {
                assert!(
                    !matches!(
                        found.exposure,
                        Some(Exposure::Open | Exposure::DefaultCredentials)
                    ),
                    "{} reports the look-alike as {:?}: {}",
                    rule.id,
                    found.exposure,
                    found.summary
                );
            }
        }
    }
}

// ---- NATS monitoring ---------------------------------------------------------------------

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

// ---- ZooKeeper AdminServer ---------------------------------------------------------------

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

// ---- Hadoop HDFS -------------------------------------------------------------------------

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

// ---- RabbitMQ management -----------------------------------------------------------------

fn rabbitmq(whoami: Reply) -> Replay {
    let challenge = || {
        Reply::new(401, "")
            .header("www-authenticate", "Basic realm=\"RabbitMQ Management\"")
            .header("server", "Cowboy")
    };
    Replay::new()
        .at(
            "/",
            Reply::new(200, fx("rabbitmq-management/3.10.8-root.html").as_str())
                .header("content-type", "text/html")
                .header("server", "Cowboy"),
        )
        .at_method("GET", "/api/whoami", whoami)
        .at("/api/overview", challenge())
        .otherwise(
            Reply::new(404, fx("rabbitmq-management/3.10.8-404.json").as_str())
                .header("content-type", "application/json"),
        )
}

#[tokio::test]
async fn rabbitmq_3_10_without_credentials_is_auth_required() {
    let (found, replay) = identified(
        "rabbitmq-management",
        rabbitmq(Reply::new(401, "")),
        &options(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "rabbitmq-management-auth-required");
    assert_eq!(found.summary, "RabbitMQ management requires credentials");
    assert_eq!(found.version, None);
    assert!(replay.requests().iter().all(|r| r.path != "/api/whoami"));
}

const RABBITMQ_OVERVIEW_LOGIN: &str = "/api/overview?columns=rabbitmq_version,object_totals.queues,object_totals.connections,queue_totals.messages";

#[tokio::test]
async fn rabbitmq_3_10_accepts_guest_guest_from_loopback() {
    let replay = rabbitmq(json("rabbitmq-management/3.10.8-whoami-guest.json")).at(
        RABBITMQ_OVERVIEW_LOGIN,
        json("rabbitmq-management/3.10.8-overview-columns-guest.json"),
    );
    let (found, replay) = identified("rabbitmq-management", replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "rabbitmq-management-default-credentials");
    assert_eq!(found.user.as_deref(), Some("guest"));
    assert_eq!(found.version.as_deref(), Some("3.10.8"));
    assert_eq!(
        found.summary,
        "RabbitMQ 3.10.8 management accepts the default login guest (administrator): 2 queues, 3 messages"
    );
    assert_eq!(detail(&found, "connections"), Some("0"));
    let sent = replay.requests();
    assert!(sent.iter().all(|r| r.method == "GET"));
    let whoami = sent
        .iter()
        .find(|r| r.path == "/api/whoami")
        .expect("whoami sent");
    assert_eq!(
        whoami.basic_auth,
        Some(("guest".to_string(), "guest".to_string()))
    );
    assert!(
        !whoami.shown.contains("guest:guest")
            && !format!("{found:?}").contains("\"guest\", \"guest\"")
    );
}

#[tokio::test]
async fn rabbitmq_before_3_9_reports_tags_as_a_string() {
    let (found, _) = identified(
        "rabbitmq-management",
        rabbitmq(json("rabbitmq-management/3.8-whoami-guest.json")),
        &with_credentials(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(detail(&found, "tags"), Some("administrator"));
    assert_eq!(found.version, None);
}

#[tokio::test]
async fn rabbitmq_guest_refused_remotely_or_a_wrong_pair_is_auth_required() {
    for body in ["3.x-guest-remote-401.json", "3.10.8-login-failed-401.json"] {
        let refusal = Reply::new(401, fx(&format!("rabbitmq-management/{body}")).as_str())
            .header("content-type", "application/json")
            .header("www-authenticate", "Basic realm=\"RabbitMQ Management\"");
        let (found, _) = identified(
            "rabbitmq-management",
            rabbitmq(refusal),
            &with_credentials(),
        )
        .await;
        assert_eq!(found.exposure, Some(Exposure::AuthRequired), "{body}");
        assert_eq!(found.user, None);
    }
}

#[tokio::test]
async fn a_copy_of_the_rabbitmq_ui_page_everywhere_is_no_rabbitmq() {
    let page = fx("rabbitmq-management/3.10.8-root.html");
    let make = || Replay::new().otherwise(Reply::html(&page));
    let (evaluation, _) = run("rabbitmq-management", make(), &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(make).await;
}

// ---- Apache Airflow ----------------------------------------------------------------------

const AIRFLOW2_DAGS: &str = "/api/v1/dags?limit=100";
const AIRFLOW2_DAGS_LOGIN: &str = "/api/v1/dags?limit=100&only_active=true";

fn problem(status: u16, name: &str) -> Reply {
    Reply::new(status, fx(&format!("airflow/{name}")).as_str())
        .header("content-type", "application/problem+json")
}

/// Airflow 2.10.5 as captured: health and version public, `dags` the anonymous DAG list.
fn airflow2(dags: Reply) -> Replay {
    Replay::new()
        .at("/api/v1/health", json("airflow/2.10.5-health.json"))
        .at("/api/v1/version", json("airflow/2.10.5-version.json"))
        .at(AIRFLOW2_DAGS, dags)
        .otherwise(
            Reply::new(404, fx("airflow/2.10.5-404.html").as_str())
                .header("content-type", "text/html; charset=utf-8"),
        )
}

#[tokio::test]
async fn airflow_2_10_with_a_public_admin_role_is_open() {
    let (found, _) = identified(
        "airflow",
        airflow2(json("airflow/2.10.5-dags.json")),
        &options(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "airflow-open");
    assert_eq!(found.version.as_deref(), Some("2.10.5"));
    assert_eq!(detail(&found, "dags"), Some("68"));
    let inventory = found.inventory.as_ref().expect("inventory");
    assert_eq!(
        (
            inventory.unit.as_str(),
            inventory.total_items,
            inventory.truncated
        ),
        ("dag", 68, false)
    );
    assert_eq!(
        names(&found)[..3],
        [
            "conditional_dataset_and_time_based_timetable",
            "consume_1_and_2_with_dataset_expressions",
            "consume_1_or_2_with_dataset_expressions"
        ]
    );
}

#[tokio::test]
async fn airflow_2_10_refusing_the_dag_list_is_auth_required() {
    for (status, body) in [
        (401, "2.10.5-session-dags-401.json"),
        (403, "2.10.5-no-public-role-dags-403.json"),
    ] {
        let (found, _) = identified("airflow", airflow2(problem(status, body)), &options()).await;
        assert_eq!(found.exposure, Some(Exposure::AuthRequired), "{body}");
        assert_eq!(found.check, "airflow-auth-required");
        assert_eq!(found.version.as_deref(), Some("2.10.5"));
        assert!(found.inventory.is_none());
    }
}

#[tokio::test]
async fn airflow_2_10_quick_start_login_is_default_credentials() {
    let replay = airflow2(problem(401, "2.10.5-session-dags-401.json"))
        .at(AIRFLOW2_DAGS_LOGIN, json("airflow/2.10.5-dags.json"));
    let (found, replay) = identified("airflow", replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "airflow-default-credentials");
    assert_eq!(found.user.as_deref(), Some("airflow"));
    assert_eq!(
        found.summary,
        "Apache Airflow accepts the quick-start login airflow, which can trigger DAG runs (code on the workers)"
    );
    let sent = replay.requests();
    let login = sent
        .iter()
        .find(|r| r.path == AIRFLOW2_DAGS_LOGIN)
        .expect("login sent");
    assert_eq!(
        login.basic_auth,
        Some(("airflow".to_string(), "airflow".to_string()))
    );
    // The engine fetches every branch of an `any` before testing it, so the 3.x token login
    // goes out too (a 404 on 2.x); it is the only POST, and shows no password.
    let posts: Vec<_> = sent.iter().filter(|r| r.method != "GET").collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].method.as_str(), posts[0].path.as_str()),
        ("POST", "/auth/token")
    );
    assert_eq!(posts[0].content_type.as_deref(), Some("application/json"));
    assert!(
        !posts[0].shown.contains("\"password\""),
        "{}",
        posts[0].shown
    );
}

#[tokio::test]
async fn airflow_health_everywhere_or_the_404_page_is_no_airflow() {
    let health = fx("airflow/2.10.5-health.json");
    let (evaluation, _) = run(
        "airflow",
        Replay::new().otherwise(Reply::json(&health)),
        &options(),
    )
    .await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(|| Replay::new().otherwise(Reply::json(&health))).await;
}

/// Airflow 3.0.6 as captured: /api/v1 removed (404 JSON), unknown paths 500 (no UI build).
fn airflow3(dags: Reply) -> Replay {
    let removed = || {
        Reply::new(404, fx("airflow/3.0.6-api-v1-removed-404.json").as_str())
            .header("content-type", "application/json")
    };
    Replay::new()
        .at("/api/v2/monitor/health", json("airflow/3.0.6-health.json"))
        .at("/api/v2/version", json("airflow/3.0.6-version.json"))
        .at("/api/v2/dags?limit=100", dags)
        .at("/api/v1/health", removed())
        .at("/api/v1/version", removed())
        .at(AIRFLOW2_DAGS, removed())
        .at(AIRFLOW2_DAGS_LOGIN, removed())
        .otherwise(
            Reply::new(500, "Internal Server Error")
                .header("content-type", "text/plain; charset=utf-8"),
        )
}

fn bearer_401() -> Reply {
    Reply::new(401, fx("airflow/3.0.6-dags-401.json").as_str())
        .header("content-type", "application/json")
        .header("www-authenticate", "Bearer")
}

#[tokio::test]
async fn airflow_3_0_with_all_admins_is_open() {
    let (found, _) = identified(
        "airflow",
        airflow3(json("airflow/3.0.6-all-admins-dags.json")),
        &options(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "airflow-open");
    // The engine takes one request per extractor and per inventory: the finding's version and
    // the DAG names come from the 2.x API, so a 3.x server shows them as details only.
    assert_eq!(found.version, None);
    assert_eq!(detail(&found, "version_3"), Some("3.0.6"));
    assert_eq!(detail(&found, "dags_3"), Some("78"));
    assert!(found.inventory.is_none());
}

#[tokio::test]
async fn airflow_3_0_without_a_token_is_auth_required() {
    let (found, replay) = identified("airflow", airflow3(bearer_401()), &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "airflow-auth-required");
    assert_eq!(detail(&found, "version_3"), Some("3.0.6"));
    assert!(replay.requests().iter().all(|r| r.path != "/auth/token"));
}

#[tokio::test]
async fn airflow_3_0_token_for_the_quick_start_pair_is_default_credentials() {
    let token = Reply::new(201, fx("airflow/3.0.6-token-201.json").as_str())
        .header("content-type", "application/json");
    let replay = airflow3(bearer_401()).at_method("POST", "/auth/token", token);
    let (found, replay) = identified("airflow", replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "airflow-default-credentials");
    assert_eq!(found.user.as_deref(), Some("airflow"));
    assert!(
        !format!("{found:?}").contains("eyJ"),
        "the token is never kept"
    );
    let sent = replay.requests();
    let login = sent
        .iter()
        .find(|r| r.method == "POST")
        .expect("token login sent");
    assert_eq!(login.path, "/auth/token");
    assert_eq!(
        login.body.as_deref(),
        Some(r#"{"username": "airflow", "password": "airflow"}"#)
    );
    assert!(
        !login.shown.contains("password\": \"airflow"),
        "{}",
        login.shown
    );
}

#[tokio::test]
async fn airflow_3_0_refusing_the_pair_is_auth_required() {
    let refused = Reply::new(401, fx("airflow/3.0.6-token-invalid-401.json").as_str())
        .header("content-type", "application/json");
    let replay = airflow3(bearer_401()).at_method("POST", "/auth/token", refused);
    let (found, _) = identified("airflow", replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.user, None);
}
