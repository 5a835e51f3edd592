//! Every shipped probe at once, through the binary, against servers that look like many
//! products and are none: a catch-all page that names ten products, a honeypot that
//! answers every path with 200 and a JSON object holding every field a probe looks for, an
//! nginx fallback titled like a product, a proxy that asks for Basic credentials
//! everywhere. None may be reported `open` or `default-credentials`, even with
//! `--default-credentials`.

use serde_json::Value;

use crate::support::cli::{Run, json, stderr};
use crate::support::http_fake::{Reply, Routes, http_server};

/// A page naming products the probes look for, as a vendor's landing page or a
/// honeypot's lure does.
const TEN_PRODUCTS: &str = r#"<!DOCTYPE html><html><head><title>phpMyAdmin | Grafana | Jupyter Notebook | Portainer | Adminer | pgAdmin 4 | Mongo Express | Kibana | Cerebro | Redis Commander</title></head>
<body><form method="post" action="index.php"><input name="pma_username"><input name="pma_password"><input type="hidden" name="token" value="0123456789abcdef0123456789abcdef"><input name="auth[driver]"><input name="auth[username]"></form>
<a href="/phpmyadmin/">phpMyAdmin</a> <a href="/adminer/">Adminer</a> Home - Mongo Express, Select or create a notebook, Welcome to CouchDB, Portainer, Grafana v10.2.3, jupyterlab</body></html>"#;

/// One JSON object carrying the fields many probes read (banners, health, listings).
const EVERY_FIELD: &str = r#"{"couchdb":"Welcome","version":"3.3.3","ApiVersion":"1.43","GoVersion":"go1.20","Os":"linux","gitVersion":"v1.29.0","platform":"linux/amd64","etcdserver":"3.5.9","etcdcluster":"3.5.0","repositories":["a","b"],"kind":"PodList","items":[],"database":"ok","status":"success","data":{"version":"2.45.0","activeTargets":[]},"server_id":"N1","go":"go1.20","max_payload":1048576,"dags":[],"total_entries":0,"results":[{"series":[{"values":[["db"]]}]}],"name":"guest","tags":["administrator"]}"#;

fn assert_nothing_open(report: &Value) {
    for f in report["results"].as_array().into_iter().flatten() {
        assert!(
            !matches!(f["exposure"].as_str(), Some("open" | "default-credentials")),
            "a look-alike was called {}: {f:#}",
            f["exposure"]
        );
    }
}

async fn scan_all(routes: Routes) -> Value {
    let (server, _) = http_server(false, routes).await;
    let out = Run::new(&[
        "scan",
        &server.addr.to_string(),
        "-f",
        "json",
        "-q",
        "--timeout",
        "2s",
        "--default-credentials",
    ])
    .output()
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json(&out)
}

#[tokio::test]
async fn a_catch_all_page_naming_ten_products_is_none_of_them() {
    let report = scan_all(Routes::new().otherwise(
        Reply::new("200 OK", TEN_PRODUCTS).header("content-type", "text/html; charset=UTF-8"),
    ))
    .await;
    assert_nothing_open(&report);
}

#[tokio::test]
async fn a_honeypot_answering_every_path_with_every_field_is_none_of_them() {
    let report = scan_all(
        Routes::new().otherwise(
            Reply::json(EVERY_FIELD)
                .header("server", "CouchDB/3.3.3 (Erlang OTP/24)")
                .header("x-influxdb-version", "1.8.10")
                .header("docker-distribution-api-version", "registry/2.0")
                .header("x-consul-knownleader", "true"),
        ),
    )
    .await;
    assert_nothing_open(&report);
}

#[tokio::test]
async fn an_nginx_fallback_titled_like_a_product_is_not_it() {
    let page = "<!DOCTYPE html><html><head><title>Grafana</title></head><body><h1>Welcome to nginx!</h1><p>phpMyAdmin will be here soon.</p></body></html>";
    let report = scan_all(
        Routes::new()
            .at(
                "/",
                Reply::new("200 OK", page)
                    .header("content-type", "text/html")
                    .header("server", "nginx/1.22.1"),
            )
            .otherwise(
                Reply::new("404 Not Found", "<html><center>nginx</center></html>")
                    .header("content-type", "text/html")
                    .header("server", "nginx/1.22.1"),
            ),
    )
    .await;
    assert_nothing_open(&report);
    assert!(
        report["results"].as_array().is_none_or(Vec::is_empty),
        "an nginx page identified as a product: {report:#}"
    );
}

#[tokio::test]
async fn a_proxy_asking_for_basic_credentials_everywhere_is_not_opened_by_guessing() {
    let report = scan_all(
        Routes::new().otherwise(
            Reply::new("401 Unauthorized", "Unauthorized\n")
                .header("www-authenticate", "Basic realm=\"restricted\"")
                .header("content-type", "text/plain"),
        ),
    )
    .await;
    assert_nothing_open(&report);
}
