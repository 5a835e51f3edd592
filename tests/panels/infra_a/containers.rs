//! Docker Engine API and Docker Registry v2: open, protected, honeypots and catch-alls.

use super::*;

fn docker(version: Reply, containers: Reply) -> Replay {
    Replay::new()
        .at("/version", version)
        .at("/containers/json?all=1", containers)
        .at("/info", fx!("docker-engine", "1.24-info.http"))
        .at(&decoy(), fx!("docker-engine", "24.0.7-not-found.http"))
}

#[tokio::test]
async fn docker_24_open_lists_container_names_and_counts() {
    let mut replay = docker(
        fx!("docker-engine", "24.0.7-version.http"),
        fx!("docker-engine", "1.24-containers.http"),
    );
    let found = identified("docker-engine", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "docker-engine-open");
    assert_eq!(found.version.as_deref(), Some("24.0.7"));
    assert_eq!(
        found.summary,
        "Docker Engine 24.0.7 (API 1.43) answers without credentials: 2 containers listed"
    );
    assert_eq!(
        inventory(&found),
        (
            "container".into(),
            2,
            2,
            strings(&["/boring_feynman", "/coolName"])
        )
    );
    assert_eq!(detail(&found, "containers_total"), Some("11"));
    assert_eq!(detail(&found, "images"), Some("16"));
    assert_eq!(
        paths(&replay),
        sorted(&["/version", "/containers/json?all=1", "/info", &decoy()])
    );
}

#[tokio::test]
async fn docker_17_with_no_container_is_still_open() {
    let mut replay = docker(
        fx!("docker-engine", "17.03.1-version.http"),
        Reply::json("[]"),
    );
    let found = identified("docker-engine", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("17.03.1-ce"));
    assert_eq!(detail(&found, "api_version"), Some("1.27"));
    assert_eq!(inventory(&found), ("container".into(), 0, 0, vec![]));
}

#[tokio::test]
async fn docker_behind_an_authorization_plugin_is_auth_required() {
    let mut replay = docker(
        fx!("docker-engine", "24.0.7-version.http"),
        fx!("docker-engine", "authz-plugin-denied.http"),
    );
    let found = identified("docker-engine", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "docker-engine-auth-required");
    assert_eq!(found.inventory, None);
}

#[tokio::test]
async fn docker_honeypot_answering_every_path_is_not_docker() {
    let make = || {
        Replay::new()
            .at("/version", fx!("docker-engine", "honeypot-version.http"))
            .otherwise(fx!("docker-engine", "honeypot-any-path.http"))
    };
    assert!(matches!(
        run("docker-engine", &mut make()).await,
        Evaluation::NotThis { .. }
    ));
    assert_no_probe_grants_access(make).await;
}

fn registry(v2: Reply, catalog: Reply) -> Replay {
    Replay::new()
        .at("/v2/", v2)
        .at("/v2/_catalog?n=1000", catalog)
        .at(&decoy(), fx!("docker-registry", "2.8.2-decoy.http"))
}

#[tokio::test]
async fn registry_2_8_without_auth_lists_repositories() {
    let mut replay = registry(
        fx!("docker-registry", "2.8.2-open-v2.http"),
        fx!("docker-registry", "2.8.2-open-catalog.http"),
    );
    let found = identified("docker-registry", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "docker-registry-open");
    assert_eq!(found.version, None);
    assert_eq!(
        found.summary,
        "Docker Registry answers without credentials: 2 repositories in the catalog"
    );
    assert_eq!(
        inventory(&found),
        (
            "repository".into(),
            2,
            2,
            strings(&["library/nginx", "myteam/api"])
        )
    );
}

#[tokio::test]
async fn registry_2_8_with_htpasswd_or_token_auth_is_auth_required() {
    for (v2, catalog) in [
        (
            fx!("docker-registry", "2.8.2-basic-v2.http"),
            fx!("docker-registry", "2.8.2-basic-catalog.http"),
        ),
        (
            fx!("docker-registry", "2.8.2-token-v2.http"),
            fx!("docker-registry", "2.8.2-token-catalog.http"),
        ),
    ] {
        let found = identified("docker-registry", &mut registry(v2, catalog)).await;
        assert_eq!(found.exposure, Some(Exposure::AuthRequired));
        assert_eq!(found.check, "docker-registry-auth-required");
        assert_eq!(found.inventory, None);
    }
}

#[tokio::test]
async fn registry_catch_all_answering_an_empty_object_is_not_open() {
    let make = || {
        Replay::new()
            .otherwise(Reply::json("{}").header("Docker-Distribution-Api-Version", "registry/2.0"))
    };
    assert!(matches!(
        run("docker-registry", &mut make()).await,
        Evaluation::CatchAll { .. }
    ));
    assert_no_probe_grants_access(make).await;
}
