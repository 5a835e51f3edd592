//! Web admin panels from Debian bookworm, started by `scripts/servers/web.server.sh`:
//! phpMyAdmin 5.2.1 and Adminer 4.8.1 under nginx + php-fpm 8.2 over MariaDB 10.11, and
//! Jupyter Notebook 6.4.12. Each test scans one bare `127.0.0.1:PORT` through the binary,
//! so the probes must find each panel at its usual mount, and asserts the exact verdict.
//!
//! Versions are the upstream ones each product shows without credentials: Adminer `4.8.1`
//! (`<span class="version">`), Jupyter `6.4.12` (`GET /api`), and phpMyAdmin `5.2.1`:
//! Debian's build calls itself `5.2.1deb1+deb12u1` (its `versionSuffix`, in the page's
//! `CommonParams` and in every asset's `?v=5.2.1deb1%2Bdeb12u1`); the report keeps the
//! upstream release, which is what advisories name.

use std::process::Output;

use serde_json::Value;

use crate::real::server;
use crate::support::cli::{Run, json};

/// The service ids in reports (probes `phpmyadmin`, `adminer`, `jupyter-notebook`).
const PMA: &str = "phpmyadmin";
/// Adminer's service id.
const ADMINER: &str = "adminer";
/// Jupyter Notebook's service id (shared with JupyterLab; the check id tells them apart).
const JUPYTER: &str = "jupyter";

/// Debian bookworm's phpmyadmin 4:5.2.1+dfsg-1+deb12u1, as its upstream release.
const PMA_VERSION: &str = "5.2.1";
/// Debian bookworm's adminer 4.8.1-1.
const ADMINER_VERSION: &str = "4.8.1";
/// Debian bookworm's jupyter-notebook 6.4.12-2.2.
const JUPYTER_VERSION: &str = "6.4.12";

/// Databases of the MariaDB behind phpMyAdmin: `ajar_probe_db` (made by the set-up) and
/// the four of a fresh `mariadb-install-db --skip-test-db`.
const DATABASES: [&str; 5] = [
    "ajar_probe_db",
    "information_schema",
    "mysql",
    "performance_schema",
    "sys",
];

/// `ajar scan ADDR -f json --timeout 5s EXTRA...`, checked to have finished cleanly
/// (exit 0: no `--fail-on`) with no endpoint errors; returns the report.
async fn scan(addr: &str, extra: &[&str]) -> Value {
    let mut args = vec!["scan", addr, "-f", "json", "--timeout", "5s"];
    args.extend_from_slice(extra);
    let out: Output = Run::new(&args).output().await;
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "exit status; report {report:#}");
    assert_eq!(report["errors"], Value::Array(vec![]), "report {report:#}");
    report
}

/// The report's findings.
fn results(report: &Value) -> &[Value] {
    report["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no results array in {report:#}"))
}

/// The one finding of the report, which must be of `service`.
fn only<'a>(report: &'a Value, service: &str) -> &'a Value {
    let found = results(report);
    assert_eq!(found.len(), 1, "exactly one finding expected: {report:#}");
    assert_eq!(found[0]["service"], service, "{report:#}");
    &found[0]
}

/// Asserts the verdict of `finding`: exposure, check id (`<probe id>-<exposure>`), version
/// and the URL of the base the panel was found at.
fn assert_verdict(finding: &Value, exposure: &str, check: &str, version: &str, url: &str) {
    assert_eq!(finding["exposure"], exposure, "{finding:#}");
    assert_eq!(finding["check"], check, "{finding:#}");
    assert_eq!(finding["version"], version, "{finding:#}");
    assert_eq!(finding["url"], url, "{finding:#}");
}

/// Asserts that one evidence step sent a request starting with `request` and read an
/// answer starting with `response` (`GET /phpmyadmin/`, `HTTP 200`).
fn assert_evidence(finding: &Value, request: &str, response: &str) {
    let steps = finding["evidence"].as_array().cloned().unwrap_or_default();
    assert!(
        steps.iter().any(|step| {
            step["request"]
                .as_str()
                .is_some_and(|r| r.starts_with(request))
                && step["response"]
                    .as_str()
                    .is_some_and(|r| r.starts_with(response))
        }),
        "no evidence step {request:?} -> {response:?} in {finding:#}"
    );
}

/// The names in the finding's inventory, sorted.
fn inventory_names(finding: &Value) -> Vec<String> {
    let items = finding["inventory"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no inventory in {finding:#}"));
    let mut names: Vec<String> = items
        .iter()
        .filter_map(|item| item["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// phpMyAdmin with `auth_type = 'config'` logs every visitor in as root: the database
/// tree is on its main page without a login, so it is open, with the databases as
/// inventory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phpmyadmin_config_auth_is_open_with_its_databases() {
    let Some(addr) = server("PMA_CONFIG") else {
        return;
    };
    let report = scan(&addr, &[]).await;
    let finding = only(&report, PMA);
    let url = format!("http://{addr}/phpmyadmin/");
    assert_verdict(finding, "open", "phpmyadmin-open", PMA_VERSION, &url);
    let severity = finding["severity"].as_str().unwrap_or_default();
    assert!(
        severity == "high" || severity == "critical",
        "root's SQL console is at least high: {finding:#}"
    );
    assert_eq!(inventory_names(finding), DATABASES);
    assert_eq!(finding["inventory"]["total_items"], 5, "{finding:#}");
    assert_evidence(finding, "GET /phpmyadmin/", "HTTP 200");
}

/// Cookie auth with `AllowNoPassword = false` shows the login form: auth-required, and
/// still so under `--default-credentials` (the target is the URL: Adminer on the same
/// server is the next test's), since phpMyAdmin itself refuses root's empty
/// password ("Login without a password is forbidden by configuration") and root has no
/// other password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phpmyadmin_cookie_auth_requires_a_login_even_with_default_credentials() {
    let Some(addr) = server("PMA_COOKIE") else {
        return;
    };
    let url = format!("http://{addr}/phpmyadmin/");
    for extra in [&[][..], &["--default-credentials"][..]] {
        let report = scan(&url, extra).await;
        let finding = only(&report, PMA);
        let check = "phpmyadmin-auth-required";
        assert_verdict(finding, "auth-required", check, PMA_VERSION, &url);
        assert_eq!(finding["severity"], "info", "{finding:#}");
        assert!(finding["inventory"].is_null(), "{finding:#}");
        assert_evidence(finding, "GET /phpmyadmin/", "HTTP 200");
    }
}

/// One nginx hosting phpMyAdmin at /phpmyadmin/ and Adminer at /adminer/: a scan of the
/// bare host:port reports both products, each at its own URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_web_server_with_phpmyadmin_and_adminer_gives_two_findings() {
    let Some(addr) = server("PMA_COOKIE") else {
        return;
    };
    let report = scan(&addr, &[]).await;
    let found = results(&report);
    assert_eq!(found.len(), 2, "two products, two findings: {report:#}");
    let pma = found
        .iter()
        .find(|f| f["service"] == PMA)
        .unwrap_or_else(|| panic!("no phpMyAdmin finding in {report:#}"));
    let adminer = found
        .iter()
        .find(|f| f["service"] == ADMINER)
        .unwrap_or_else(|| panic!("no Adminer finding in {report:#}"));
    let pma_url = format!("http://{addr}/phpmyadmin/");
    let adminer_url = format!("http://{addr}/adminer/");
    let check = "phpmyadmin-auth-required";
    assert_verdict(pma, "auth-required", check, PMA_VERSION, &pma_url);
    let check = "adminer-auth-required";
    assert_verdict(
        adminer,
        "auth-required",
        check,
        ADMINER_VERSION,
        &adminer_url,
    );
    assert_ne!(pma["url"], adminer["url"]);
}

/// Cookie auth with `AllowNoPassword = true` and root without a password: the login form
/// alone is auth-required; under `--default-credentials` the login as root with an empty
/// password succeeds (302 with the `pmaUser-1` cookie), so default-credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phpmyadmin_root_without_password_is_default_credentials_with_the_flag() {
    let Some(addr) = server("PMA_NOPASS") else {
        return;
    };
    let url = format!("http://{addr}/phpmyadmin/");
    let report = scan(&addr, &[]).await;
    let finding = only(&report, PMA);
    assert_verdict(
        finding,
        "auth-required",
        "phpmyadmin-auth-required",
        PMA_VERSION,
        &url,
    );
    assert_eq!(finding["severity"], "info", "{finding:#}");

    let report = scan(&addr, &["--default-credentials"]).await;
    let finding = only(&report, PMA);
    let check = "phpmyadmin-default-credentials";
    assert_verdict(finding, "default-credentials", check, PMA_VERSION, &url);
    let severity = finding["severity"].as_str().unwrap_or_default();
    assert!(
        severity == "high" || severity == "critical",
        "default credentials are never below high: {finding:#}"
    );
    assert_evidence(finding, "POST /phpmyadmin/", "HTTP 302");
    let text = finding.to_string();
    assert!(
        text.contains("root"),
        "the evidence names the user: {finding:#}"
    );
}

/// Adminer always shows its login form: auth-required. Adminer 4.6.3 and later refuse an
/// empty password ("Adminer does not support accessing a database without a password"),
/// so root's empty password does not make it default-credentials either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adminer_is_auth_required_even_with_default_credentials() {
    let Some(addr) = server("ADMINER") else {
        return;
    };
    let url = format!("http://{addr}/adminer/");
    for extra in [&[][..], &["--default-credentials"][..]] {
        let report = scan(&addr, extra).await;
        let finding = only(&report, ADMINER);
        let check = "adminer-auth-required";
        assert_verdict(finding, "auth-required", check, ADMINER_VERSION, &url);
        assert_eq!(finding["severity"], "info", "{finding:#}");
        assert!(finding["inventory"].is_null(), "{finding:#}");
        assert_evidence(finding, "GET /adminer/", "HTTP 200");
    }
}

/// Jupyter Notebook with an empty token and password lists its contents (and runs code
/// for anyone): open, critical, with the notebook the set-up made in the inventory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jupyter_without_token_is_open_and_critical() {
    let Some(addr) = server("JUPYTER_OPEN") else {
        return;
    };
    let report = scan(&addr, &[]).await;
    let finding = only(&report, JUPYTER);
    let url = format!("http://{addr}/");
    let check = "jupyter-notebook-open";
    assert_verdict(finding, "open", check, JUPYTER_VERSION, &url);
    assert_eq!(finding["severity"], "critical", "{finding:#}");
    assert!(
        inventory_names(finding).contains(&"ajar_probe.ipynb".to_string()),
        "{finding:#}"
    );
    assert_evidence(finding, "GET /api/", "HTTP 200");
}

/// Jupyter Notebook with a token answers `GET /api` (its version) but refuses the API
/// behind it with 403: auth-required.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jupyter_with_a_token_is_auth_required() {
    let Some(addr) = server("JUPYTER_TOKEN") else {
        return;
    };
    let report = scan(&addr, &[]).await;
    let finding = only(&report, JUPYTER);
    let url = format!("http://{addr}/");
    let check = "jupyter-notebook-auth-required";
    assert_verdict(finding, "auth-required", check, JUPYTER_VERSION, &url);
    assert_eq!(finding["severity"], "info", "{finding:#}");
    assert!(finding["inventory"].is_null(), "{finding:#}");
    assert_evidence(finding, "GET /api/", "HTTP 403");
}
