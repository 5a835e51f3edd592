//! Kubernetes API server and kubelet: anonymous access granted, refused or switched off,
//! and servers that only look like them.

use super::*;

fn kubernetes(version: Reply, namespaces: Reply, decoy_reply: Reply) -> Replay {
    Replay::new()
        .at("/version", version)
        .at("/api/v1/namespaces", namespaces)
        .at(&decoy(), decoy_reply)
}

#[tokio::test]
async fn kubernetes_1_18_listing_namespaces_is_open_and_reads_no_secret() {
    let mut replay = kubernetes(
        fx!("kubernetes-api", "1.18.0-version.http"),
        fx!("kubernetes-api", "1.18.0-namespaces.http"),
        fx!("kubernetes-api", "1.18.0-not-found.http"),
    );
    let found = identified("kubernetes-api", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "kubernetes-api-open");
    assert_eq!(found.version.as_deref(), Some("v1.18.0"));
    assert_eq!(
        found.summary,
        "Kubernetes v1.18.0 lists its 4 namespaces to anonymous callers"
    );
    let names = strings(&["default", "kube-node-lease", "kube-public", "kube-system"]);
    assert_eq!(inventory(&found), ("namespace".into(), 4, 0, names));
    assert_eq!(detail(&found, "platform"), Some("linux/amd64"));
    assert_eq!(
        paths(&replay),
        sorted(&["/version", "/api/v1/namespaces", &decoy()])
    );
}

#[tokio::test]
async fn kubernetes_1_31_refusing_system_anonymous_is_auth_required() {
    let mut replay = kubernetes(
        fx!("kubernetes-api", "1.31.12-k3s1-version.http"),
        fx!("kubernetes-api", "1.31-anonymous-forbidden.http"),
        fx!("kubernetes-api", "1.31-anonymous-decoy.http"),
    );
    let found = identified("kubernetes-api", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "kubernetes-api-auth-required");
    assert_eq!(found.version.as_deref(), Some("v1.31.12+k3s1"));
    assert_eq!(found.inventory, None);
}

#[tokio::test]
async fn kubernetes_with_anonymous_auth_off_is_never_open() {
    // Every path, /version too, answers the same 401 Status: indistinguishable from a
    // catch-all, so the probe does not claim it (documented in the probe file).
    let make = || Replay::new().otherwise(fx!("kubernetes-api", "1.18.0-unauthorized.http"));
    assert!(!matches!(
        run("kubernetes-api", &mut make()).await,
        Evaluation::Identified(_)
    ));
    assert_no_probe_grants_access(make).await;
}

#[tokio::test]
async fn kubernetes_honeypot_answering_version_everywhere_is_not_open() {
    let make = || Replay::new().otherwise(fx!("kubernetes-api", "1.18.0-version.http"));
    assert!(!matches!(
        run("kubernetes-api", &mut make()).await,
        Evaluation::Identified(_)
    ));
    assert_no_probe_grants_access(make).await;
}

#[tokio::test]
async fn kubelet_1_8_listing_pods_is_open_with_pod_names_only() {
    let mut replay = Replay::new()
        .at("/pods", fx!("kubelet", "1.8-pods.http"))
        .at("/healthz", fx!("kubelet", "healthz-ok.http"))
        .at(&decoy(), fx!("kubelet", "not-found.http"));
    let found = identified("kubelet", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "kubelet-open");
    assert_eq!(found.version, None);
    assert_eq!(detail(&found, "pods"), Some("2"));
    let names = strings(&["kube-apiserver-my-node-name", "kube-scheduler-bpnn6"]);
    assert_eq!(inventory(&found), ("pod".into(), 2, 2, names));
    assert_eq!(
        paths(&replay),
        sorted(&["/pods", "/healthz", "/metrics", &decoy()])
    );
}

#[tokio::test]
async fn kubelet_read_only_port_with_no_pod_is_open() {
    let mut replay = Replay::new()
        .at("/pods", fx!("kubelet", "1.0-readonly-empty-pods.http"))
        .at("/healthz", fx!("kubelet", "healthz-ok.http"));
    let found = identified("kubelet", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "kubelet-open");
    assert_eq!(found.inventory.as_ref().map_or(0, |i| i.total_items), 0);
}

#[tokio::test]
async fn kubelet_refusing_system_anonymous_is_auth_required() {
    let mut replay = Replay::new()
        .at("/metrics", fx!("kubelet", "1.28-forbidden-metrics.http"))
        .otherwise(fx!("kubelet", "1.28-forbidden-proxy.http"));
    let found = identified("kubelet", &mut replay).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "kubelet-auth-required");
    assert_eq!(found.inventory, None);
}

#[tokio::test]
async fn bare_unauthorized_and_kube_rbac_proxy_are_not_a_kubelet() {
    for reply in [
        fx!("kubelet", "1.28-unauthorized.http"),
        fx!("kubelet", "kube-rbac-proxy-forbidden.http"),
    ] {
        let make = || Replay::new().otherwise(reply.clone());
        assert!(matches!(
            run("kubelet", &mut make()).await,
            Evaluation::NotThis { .. }
        ));
        assert_no_probe_grants_access(make).await;
    }
}
