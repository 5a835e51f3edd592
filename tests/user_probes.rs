//! A user's own probe files, through the binary: dropped into a directory and used with
//! `--probes DIR` (no rebuild), validated by `ajar probes check`, listed by `ajar probes`,
//! refused under `--strict`; several products under one web server's paths; a catch-all
//! server; default credentials only when asked for, and never a password in the output.
//!
//! The product here ("Acme Console") is the tests' own, so these tests depend on the
//! format and the engine, not on any shipped probe.

use std::path::PathBuf;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::cli::{Run, json, stderr, stdout};
use crate::support::http_fake::{Hits, Reply, Routes, http_server, targets};
use crate::support::{FakeServer, serve};

const ACME: &str = r#"# The tests' own product: a console with a JSON health and project API.
id = "acme-console"
name = "Acme Console"
service = "acme"
ports = [18080]
severity = "high"
remediation = "Set auth.enabled = true in acme.yml."

[requests.health]
path = "/api/health"

[requests.projects]
path = "/api/projects"

[identify]
matchers = [
  { request = "health", status = [200] },
  { request = "health", json = "/product", equals = "acme-console" },
  { request = "health", header = "x-acme-version" },
]

[[verdict]]
exposure = "open"
summary = "Acme Console {version} lists {projects} projects without credentials"
matchers = [
  { request = "projects", status = [200] },
  { request = "projects", json = "/projects", type = "array" },
]

[[verdict]]
exposure = "auth-required"
summary = "Acme Console asks for a login"
matchers = [ { request = "projects", status = [401] } ]

[[extract]]
name = "version"
request = "health"
header = "x-acme-version"

[[extract]]
name = "projects"
request = "projects"
json = "/projects"
count = true

[inventory]
request = "projects"
unit = "project"
items = "/projects"
name = "/name"
documents = "/documents"
"#;

/// A probe directory of this test run holding `files` (name, text).
fn probe_dir(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ajar-probes-{}-{}",
        std::process::id(),
        crate::support::hostile::random_u64()
    ));
    std::fs::create_dir_all(&dir).expect("probe dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("probe file");
    }
    dir
}

fn health() -> Reply {
    Reply::json(r#"{"product":"acme-console","status":"ok"}"#).header("x-acme-version", "2.1.0")
}

fn projects() -> Reply {
    Reply::json(r#"{"projects":[{"name":"crm","documents":3},{"name":"billing","documents":12}]}"#)
}

async fn acme(routes: Routes) -> (FakeServer, Hits) {
    http_server(false, routes).await
}

async fn scan(dir: &std::path::Path, target: &str, extra: &[&str]) -> std::process::Output {
    let mut run = Run::new(&["scan", target, "-f", "json", "-q", "--timeout", "2s"])
        .arg("--probes")
        .arg(dir.display().to_string());
    for arg in extra {
        run = run.arg(*arg);
    }
    run.output().await
}

fn results(report: &Value) -> Vec<Value> {
    report["results"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_dropped_in_probe_file_finds_its_product_without_a_rebuild() {
    let dir = probe_dir(&[("acme-console.toml", ACME)]);
    let (server, hits) = acme(
        Routes::new()
            .at("/api/health", health())
            .at("/api/projects", projects()),
    )
    .await;
    let out = scan(&dir, &server.addr.to_string(), &[]).await;
    let report = json(&out);
    let results = results(&report);
    assert_eq!(results.len(), 1, "{report:#}");
    let f = &results[0];
    assert_eq!(f["service"], "acme");
    assert_eq!(f["check"], "acme-console-open");
    assert_eq!(f["exposure"], "open");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["version"], "2.1.0");
    assert_eq!(
        f["summary"],
        "Acme Console 2.1.0 lists 2 projects without credentials"
    );
    assert_eq!(f["remediation"], "Set auth.enabled = true in acme.yml.");
    let items: Vec<(String, u64)> = f["inventory"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_string(),
                i["documents"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        items,
        [("billing".to_string(), 12), ("crm".to_string(), 3)],
        "items in report order"
    );
    let requests: Vec<&str> = f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["request"].as_str())
        .collect();
    assert!(requests.contains(&"GET /api/health"), "{requests:?}");
    assert!(requests.contains(&"GET /api/projects"), "{requests:?}");
    // Only GETs, and the decoy was asked for once.
    let lines = crate::support::http_fake::lines(&hits);
    assert!(lines.iter().all(|l| l.starts_with("GET ")), "{lines:?}");
    let decoys = targets(&hits)
        .iter()
        .filter(|t| t.starts_with("/ajar-"))
        .count();
    assert_eq!(decoys, 1, "{lines:?}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn a_protected_console_is_auth_required() {
    let dir = probe_dir(&[("acme-console.toml", ACME)]);
    let (server, _) = acme(
        Routes::new().at("/api/health", health()).at(
            "/api/projects",
            Reply::new("401 Unauthorized", r#"{"error":"login required"}"#)
                .header("content-type", "application/json"),
        ),
    )
    .await;
    let report = json(&scan(&dir, &server.addr.to_string(), &[]).await);
    let results = results(&report);
    assert_eq!(results.len(), 1, "{report:#}");
    assert_eq!(results[0]["check"], "acme-console-auth-required");
    assert_eq!(results[0]["severity"], "info");
    assert!(results[0].get("inventory").is_none());
}

#[tokio::test]
async fn a_server_that_answers_every_path_alike_is_not_the_product() {
    let dir = probe_dir(&[("acme-console.toml", ACME)]);
    // A honeypot: the same product-looking answer for every path, the decoy included.
    let (server, _) = acme(
        Routes::new().otherwise(
            Reply::json(r#"{"product":"acme-console","projects":[]}"#)
                .header("x-acme-version", "2.1.0"),
        ),
    )
    .await;
    let report = json(&scan(&dir, &server.addr.to_string(), &[]).await);
    assert!(results(&report).is_empty(), "{report:#}");
    let note = report["unidentified"][0]["note"]
        .as_str()
        .unwrap_or_default();
    assert!(note.contains("acme-console"), "{note}");
}

/// One web server, two products under their own paths: two results, one endpoint.
#[tokio::test]
async fn two_products_under_two_mount_points_are_two_results() {
    let one = ACME
        .replace(
            "id = \"acme-console\"",
            "id = \"acme-one\"\nmounts = [\"/one/\"]",
        )
        .replace("\"acme-console\" }", "\"acme-one\" }");
    let two = ACME
        .replace(
            "id = \"acme-console\"",
            "id = \"acme-two\"\nmounts = [\"/two/\"]",
        )
        .replace("\"acme-console\" }", "\"acme-two\" }");
    let dir = probe_dir(&[("acme-one.toml", &one), ("acme-two.toml", &two)]);
    let health_of = |product: &str| {
        Reply::json(&format!(r#"{{"product":"{product}","status":"ok"}}"#))
            .header("x-acme-version", "2.1.0")
    };
    let (server, _) = acme(
        Routes::new()
            .at("/one/api/health", health_of("acme-one"))
            .at("/one/api/projects", projects())
            .at("/two/api/health", health_of("acme-two"))
            .at(
                "/two/api/projects",
                Reply::new("401 Unauthorized", "{}").header("content-type", "application/json"),
            ),
    )
    .await;
    let report = json(&scan(&dir, &server.addr.to_string(), &[]).await);
    let mut found: Vec<(String, String)> = results(&report)
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or_default().to_string(),
                f["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    let base = format!("http://{}", server.addr);
    assert_eq!(
        found,
        [
            ("acme-one-open".to_string(), format!("{base}/one/")),
            ("acme-two-auth-required".to_string(), format!("{base}/two/")),
        ],
        "{report:#}"
    );
    assert_eq!(report["endpoints"]["scanned"], 1, "{report:#}");
    assert_eq!(report["endpoints"]["identified"], 2, "{report:#}");
}

const BROKEN: &str = r#"id = "broken-panel"
name = "Broken"
service = "broken"

[requests.root]
path = "/"

[identify]
matchers = [
  { request = "root", status = [200] },
  { request = "root", regex = ["(unclosed"] },
  { request = "nowhere", words = ["x"] },
]
"#;

#[tokio::test]
async fn probes_check_names_file_line_and_field_of_each_error() {
    let dir = probe_dir(&[("broken-panel.toml", BROKEN), ("acme-console.toml", ACME)]);
    let broken = dir.join("broken-panel.toml");
    let out = Run::new(&["probes", "check"])
        .arg(broken.display().to_string())
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    let file = broken.display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{file}:11:")) && l.contains("regex")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{file}:12:")) && l.contains("nowhere")),
        "{text}"
    );
    let good = Run::new(&["probes", "check"])
        .arg(dir.join("acme-console.toml").display().to_string())
        .output()
        .await;
    assert_eq!(good.status.code(), Some(0), "{}", stdout(&good));
}

#[tokio::test]
async fn a_broken_user_probe_is_skipped_or_under_strict_stops_the_scan() {
    let dir = probe_dir(&[("broken-panel.toml", BROKEN), ("acme-console.toml", ACME)]);
    let (server, hits) = acme(
        Routes::new()
            .at("/api/health", health())
            .at("/api/projects", projects()),
    )
    .await;
    let out = scan(&dir, &server.addr.to_string(), &[]).await;
    assert!(
        stderr(&out).contains("skipped probe:") && stderr(&out).contains("broken-panel.toml:"),
        "{}",
        stderr(&out)
    );
    assert_eq!(results(&json(&out))[0]["check"], "acme-console-open");
    let before = targets(&hits).len();
    let strict = scan(&dir, &server.addr.to_string(), &["--strict"]).await;
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
    assert!(
        stderr(&strict).contains("broken-panel.toml:11:"),
        "{}",
        stderr(&strict)
    );
    assert_eq!(targets(&hits).len(), before, "--strict sent nothing");
}

#[tokio::test]
async fn probes_lists_shipped_and_user_probes_with_their_source() {
    let dir = probe_dir(&[("acme-console.toml", ACME)]);
    let out = Run::new(&["probes", "--probes"])
        .arg(dir.display().to_string())
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let acme = text
        .lines()
        .find(|l| l.starts_with("acme-console "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(acme.contains("18080"), "{acme}");
    assert!(acme.contains("acme-console.toml"), "{acme}");
    assert!(acme.contains("acme-console-open"), "{acme}");
    let mongodb = text
        .lines()
        .find(|l| l.starts_with("mongodb "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(mongodb.contains("native"), "{mongodb}");
}

const ACME_LOGIN: &str = r#"id = "acme-login"
name = "Acme Console"
service = "acme"
severity = "high"
remediation = "Change the admin password."

[requests.health]
path = "/api/health"

[requests.me]
path = "/api/me"

[requests.login]
path = "/api/me"
auth = "basic"

[[credentials]]
user = "admin"
password = "s3cret-default"

[identify]
matchers = [
  { request = "health", status = [200] },
  { request = "health", json = "/product", equals = "acme-console" },
  { request = "health", header = "x-acme-version" },
]

[[verdict]]
exposure = "default-credentials"
credentials = true
summary = "Acme Console accepts the default login {user}"
matchers = [
  { request = "login", status = [200] },
  { request = "login", json = "/user", type = "string" },
]

[[verdict]]
exposure = "auth-required"
summary = "Acme Console asks for a login"
matchers = [ { request = "me", status = [401] } ]
"#;

/// A console whose `/api/me` answers 200 only to `Authorization: Basic admin:s3cret-default`;
/// every request head is kept so tests can see which carried credentials.
async fn login_server() -> (FakeServer, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let heads: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let seen = heads.clone();
    let server = serve(false, move |mut conn| {
        let seen = seen.clone();
        async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                    _ => return,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            seen.lock().expect("heads").push(head.clone());
            let target = head.split(' ').nth(1).unwrap_or("/");
            // base64("admin:s3cret-default")
            let authorised = head.lines().any(|line| {
                line.to_ascii_lowercase().starts_with("authorization:")
                    && line.ends_with("Basic YWRtaW46czNjcmV0LWRlZmF1bHQ=")
            });
            let reply = match target {
                "/api/health" => health(),
                "/api/me" if authorised => Reply::json(r#"{"user":"admin","role":"Admin"}"#),
                "/api/me" => Reply::new("401 Unauthorized", r#"{"message":"Unauthorized"}"#)
                    .header("content-type", "application/json"),
                _ => Reply::new("404 Not Found", "not found").header("content-type", "text/plain"),
            };
            let _ = conn.write_all(&reply.to_bytes()).await;
            let _ = conn.shutdown().await;
        }
    })
    .await;
    (server, heads)
}

#[tokio::test]
async fn default_credentials_are_tried_only_when_asked_and_never_shown() {
    let dir = probe_dir(&[("acme-login.toml", ACME_LOGIN)]);
    let (server, heads) = login_server().await;
    let target = server.addr.to_string();

    let plain = json(&scan(&dir, &target, &[]).await);
    assert_eq!(
        results(&plain)[0]["check"],
        "acme-login-auth-required",
        "{plain:#}"
    );
    let sent: Vec<String> = heads.lock().expect("heads").clone();
    assert!(
        sent.iter()
            .all(|h| !h.to_ascii_lowercase().contains("authorization:")),
        "a plain scan logged in: {sent:?}"
    );

    let out = scan(&dir, &target, &["--default-credentials"]).await;
    let report = json(&out);
    let f = &results(&report)[0];
    assert_eq!(f["check"], "acme-login-default-credentials", "{report:#}");
    assert_eq!(f["exposure"], "default-credentials");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["summary"], "Acme Console accepts the default login admin");
    let logins = heads
        .lock()
        .expect("heads")
        .iter()
        .filter(|h| h.to_ascii_lowercase().contains("authorization:"))
        .count();
    assert_eq!(logins, 1, "one attempt per pair and endpoint");
    let text = stdout(&out);
    assert!(
        !text.contains("s3cret-default"),
        "the password leaked: {text}"
    );
    assert!(!text.contains("YWRtaW46czNjcmV0LWRlZmF1bHQ="), "{text}");
}
