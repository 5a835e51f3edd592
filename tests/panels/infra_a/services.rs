//! Consul, Prometheus and MinIO: open, protected, and their emulators and look-alikes.

use super::*;

fn consul(leader: Reply, services: Reply, agent: Reply) -> Replay {
    Replay::new()
        .at("/v1/status/leader", leader)
        .at("/v1/catalog/services", services)
        .at("/v1/agent/self", agent)
        .at(&decoy(), fx!("consul", "1.10.3-not-found.http"))
}

#[tokio::test]
async fn consul_1_10_without_acls_is_open_with_services_and_kv_key_count() {
    let mut replay = consul(
        fx!("consul", "1.10.3-leader.http"),
        fx!("consul", "1.10.3-services.http"),
        fx!("consul", "1.10.3-self.http"),
    )
    .at("/v1/kv/?keys", fx!("consul", "1.10.3-kv-keys.http"));
    let found = identified("consul", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "consul-open");
    assert_eq!(found.version.as_deref(), Some("1.10.3"));
    assert_eq!(
        found.summary,
        "Consul 1.10.3 answers without a token: 3 services in the catalog, agent configuration readable"
    );
    assert_eq!(
        inventory(&found),
        (
            "service".into(),
            3,
            2,
            strings(&["consul", "postgresql", "redis"])
        )
    );
    assert_eq!(detail(&found, "kv_keys"), Some("3"));
    assert_eq!(detail(&found, "acl_default_policy"), Some("allow"));
}

#[tokio::test]
async fn consul_1_0_before_the_acl_policy_header_is_open() {
    let mut replay = consul(
        fx!("consul", "1.0.0-leader.http"),
        fx!("consul", "1.0.0-services.http"),
        fx!("consul", "1.0.0-self.http"),
    );
    let found = identified("consul", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("1.0.0"));
    assert_eq!(detail(&found, "kv_keys"), None);
    assert_eq!(inventory(&found).1, 3);
}

#[tokio::test]
async fn consul_acl_deny_with_a_filtered_catalog_is_auth_required_not_open() {
    for services in [
        fx!("consul", "1.16-deny-services.http"),
        fx!("consul", "1.16-deny-services-consul-only.http"),
    ] {
        let mut replay = consul(
            fx!("consul", "1.16-deny-leader.http"),
            services,
            fx!("consul", "1.16-deny-self.http"),
        )
        .at("/v1/kv/?keys", fx!("consul", "1.16-deny-kv-keys.http"));
        let found = identified("consul", &mut replay).await;
        assert_eq!(found.exposure, Some(Exposure::AuthRequired));
        assert_eq!(found.check, "consul-auth-required");
        assert_eq!(found.inventory, None);
        assert_eq!(detail(&found, "acl_default_policy"), Some("deny"));
    }
}

#[tokio::test]
async fn consul_acl_deny_before_1_13_is_auth_required() {
    let mut replay = consul(
        fx!("consul", "1.0.0-leader.http"),
        fx!("consul", "1.0.0-services.http"),
        fx!("consul", "1.0.0-deny-self.http"),
    );
    let found = identified("consul", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.version, None);
}

#[tokio::test]
async fn metersphere_consul_emulator_is_not_consul() {
    let make = || {
        Replay::new()
            .at(
                "/v1/status/leader",
                fx!("consul", "metersphere-leader.http"),
            )
            .at(
                "/v1/catalog/services",
                fx!("consul", "metersphere-services.http"),
            )
            .at("/v1/agent/self", fx!("consul", "metersphere-self.http"))
    };
    assert!(matches!(
        run("consul", &mut make()).await,
        Evaluation::NotThis { .. }
    ));
    assert_no_probe_grants_access(make).await;
}

fn prometheus(buildinfo: Reply, healthy: Reply, targets: Reply) -> Replay {
    Replay::new()
        .at("/api/v1/status/buildinfo", buildinfo)
        .at("/-/healthy", healthy)
        .at("/api/v1/targets?state=active", targets)
        .at(&decoy(), fx!("prometheus", "2.42.0-decoy.http"))
}

#[tokio::test]
async fn prometheus_2_42_without_auth_exposes_targets_and_scrape_pools() {
    let mut replay = prometheus(
        fx!("prometheus", "2.42.0-buildinfo.http"),
        fx!("prometheus", "2.42.0-healthy.http"),
        fx!("prometheus", "2.42.0-targets.http"),
    )
    .at(
        "/api/v1/scrape_pools",
        fx!("prometheus", "2.42.0-scrape-pools.http"),
    );
    let found = identified("prometheus", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "prometheus-open");
    assert_eq!(found.version.as_deref(), Some("2.42.0+ds"));
    assert_eq!(detail(&found, "targets"), Some("2"));
    assert_eq!(
        inventory(&found),
        ("scrape pool".into(), 2, 2, strings(&["node", "prometheus"]))
    );
    assert!(
        replay
            .requests()
            .iter()
            .all(|r| !r.path.contains("/status/config") && !r.path.contains("/query"))
    );
}

#[tokio::test]
async fn prometheus_2_26_with_the_old_health_text_is_open() {
    // 2.26 has no /api/v1/scrape_pools (the replay's 404): no inventory, still open.
    let targets =
        Reply::json(r#"{"status":"success","data":{"activeTargets":[],"droppedTargets":[]}}"#);
    let mut replay = prometheus(
        fx!("prometheus", "2.26.0-buildinfo.http"),
        fx!("prometheus", "2.26.0-healthy.http"),
        targets,
    );
    let found = identified("prometheus", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("2.26.0"));
    assert_eq!(detail(&found, "targets"), Some("0"));
    assert_eq!(found.inventory, None);
}

#[tokio::test]
async fn prometheus_behind_a_proxy_guarding_the_api_is_auth_required() {
    let targets = fx!("prometheus", "2.42.0-basic-auth.http");
    let mut replay = prometheus(
        fx!("prometheus", "2.42.0-buildinfo.http"),
        fx!("prometheus", "2.42.0-healthy.http"),
        targets,
    );
    let found = identified("prometheus", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "prometheus-auth-required");
}

#[tokio::test]
async fn prometheus_basic_auth_and_victoriametrics_are_never_open() {
    // Prometheus' own basic auth answers every path alike; VictoriaMetrics fakes buildinfo.
    let basic = || Replay::new().otherwise(fx!("prometheus", "2.42.0-basic-auth.http"));
    assert!(matches!(
        run("prometheus", &mut basic()).await,
        Evaluation::NotThis { .. }
    ));
    assert_no_probe_grants_access(basic).await;
    let vm = || {
        Replay::new()
            .at(
                "/api/v1/status/buildinfo",
                fx!("prometheus", "vm-buildinfo.http"),
            )
            .at("/-/healthy", fx!("prometheus", "vm-healthy.http"))
    };
    assert!(matches!(
        run("prometheus", &mut vm()).await,
        Evaluation::NotThis { .. }
    ));
    assert_no_probe_grants_access(vm).await;
}

fn minio(root: Reply, live: Reply) -> Replay {
    Replay::new()
        .at("/", root)
        .at("/minio/health/live", live)
        .at(&decoy(), fx!("minio", "2022-decoy-denied.http"))
}

#[tokio::test]
async fn minio_refusing_anonymous_list_buckets_is_auth_required() {
    let mut replay = minio(
        fx!("minio", "2022-root-denied.http"),
        fx!("minio", "2022-health-live.http"),
    );
    let found = identified("minio", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "minio-auth-required");
    assert_eq!(found.version, None);
    assert_eq!(
        found.summary,
        "MinIO refuses to list buckets without a signed request"
    );
}

#[tokio::test]
async fn minio_2020_names_its_release() {
    let mut replay = minio(
        fx!("minio", "2020-07-13-root-denied.http"),
        fx!("minio", "2020-07-13-health-live.http"),
    );
    let found = identified("minio", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(
        found.version.as_deref(),
        Some("RELEASE.2020-07-13T18-09-56Z")
    );
}

#[tokio::test]
async fn minio_listing_buckets_anonymously_is_open() {
    let mut replay = minio(
        fx!("minio", "s3-list-buckets.http"),
        fx!("minio", "2022-health-live.http"),
    );
    let found = identified("minio", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "minio-open");
    assert_eq!(
        found.summary,
        "MinIO lists its 2 buckets to anonymous callers"
    );
    assert_eq!(
        inventory(&found),
        ("bucket".into(), 2, 2, strings(&["backups", "uploads"]))
    );
}

#[tokio::test]
async fn minio_console_and_a_denial_without_health_are_not_open() {
    let console = || Replay::new().otherwise(fx!("minio", "console-index.http"));
    assert!(!matches!(
        run("minio", &mut console()).await,
        Evaluation::Identified(_)
    ));
    assert_no_probe_grants_access(console).await;
    // A server answering MinIO's denial on every path, the health path included.
    let denial = || Replay::new().otherwise(fx!("minio", "2022-root-denied.http"));
    assert!(matches!(
        run("minio", &mut denial()).await,
        Evaluation::NotThis { .. }
    ));
    assert_no_probe_grants_access(denial).await;
}
