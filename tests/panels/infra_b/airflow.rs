//! Apache Airflow (`airflow`): captured 2.10.5 and 3.0.6.

use super::*;

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
